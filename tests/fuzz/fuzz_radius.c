/* Fuzz target of services/radius_proto: arbitrary bytes as the reply to an Access-Request and to
 * an Accounting-Request (the request's id taken from the reply so the parser goes past the header
 * check). Checks what the client relies on: the reply message is NUL-terminated, the privilege is
 * -1 or 0..15, and nothing is accepted without a matching Response Authenticator (a fuzzer cannot
 * make MD5 match, so an accepted reply is a bug). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/radius_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t req[RADIUS_HDR_LEN] = {RADIUS_ACCESS_REQUEST};
    struct radius_reply r;
    if (size >= 2)
        req[1] = data[1];
    for (int code = 0; code < 2; code++) {
        req[0] = code ? RADIUS_ACCT_REQUEST : RADIUS_ACCESS_REQUEST;
        int rc = radius_reply_parse(data, size, req, "secret", &r);
        if (memchr(r.reply_message, '\0', sizeof r.reply_message) == NULL)
            abort();
        if (r.priv_lvl < -1 || r.priv_lvl > 15)
            abort();
        if (rc == RADIUS_OK)
            abort();
    }
    return 0;
}
