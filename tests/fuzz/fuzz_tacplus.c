/* Fuzz target of services/tacplus: arbitrary bytes as a reply packet of each type, under a key and
 * without one, with the session id and sequence number taken from the packet itself so the
 * header checks pass and the body parsers are reached. Checks what the client relies on: parsed
 * strings are NUL-terminated within their buffers, the argument count within TACPLUS_MAX_ARGS,
 * and a packet that parses has exactly the length its header says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/tacplus.h"

static void terminated(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tacplus_hdr h;
    uint32_t sid = 0;
    uint8_t seq = 1;
    if (tacplus_hdr_parse(data, size, &h) == TACPLUS_OK) {
        sid = h.session_id;
        seq = (uint8_t)(h.seq - 1);
    }
    static const char *const keys[] = {"", "key"};
    for (int k = 0; k < 2; k++) {
        struct tacplus_authen_reply ar;
        struct tacplus_author_reply au;
        struct tacplus_acct_reply ac;
        int rc = tacplus_authen_reply_parse(data, size, keys[k], sid, seq, &ar);
        terminated(ar.server_msg, sizeof ar.server_msg);
        terminated(ar.data, sizeof ar.data);
        if (rc == TACPLUS_OK && size != TACPLUS_HDR_LEN + (size_t)h.length)
            abort();
        rc = tacplus_author_reply_parse(data, size, keys[k], sid, seq, &au);
        if (au.nargs < 0 || au.nargs > TACPLUS_MAX_ARGS)
            abort();
        for (int i = 0; i < au.nargs; i++)
            terminated(au.args[i], sizeof au.args[i]);
        terminated(au.server_msg, sizeof au.server_msg);
        if (rc == TACPLUS_OK)
            (void)tacplus_arg_value(&au, "priv-lvl");
        rc = tacplus_acct_reply_parse(data, size, keys[k], sid, seq, &ac);
        terminated(ac.server_msg, sizeof ac.server_msg);
        (void)rc;
    }
    return 0;
}
