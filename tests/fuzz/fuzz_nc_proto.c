/* Fuzz target of daemon/nc_proto and the XML side of model/model_native: the first byte picks
 * the framing (end-of-message or chunked), the rest is fed in two slices through the framer; each
 * message is parsed as a hello and as an rpc (its reply, error or not, is rendered), and as the
 * content of an edit's <config> through libyang into the canonical tree. Checks: a delivered
 * message is NUL-terminated and never over the limit, the framer's buffer stays bounded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/nc_proto.h"
#include "model/model_native.h"

#define FUZZ_MAX 65536

static int on_msg(void *arg, const char *msg, size_t len)
{
    struct nc_err e;
    struct nc_rpc rpc;
    bool b11;
    json_t *tree = NULL;
    struct model_err me;

    if (len > FUZZ_MAX || msg[len] != '\0')
        abort();
    memset(&e, 0, sizeof e);
    nc_hello_parse(msg, len, &b11, &e);
    memset(&e, 0, sizeof e);
    int rc = nc_rpc_parse(msg, len, &rpc, &e);
    char *out = NULL;
    size_t olen = 0;
    FILE *f = open_memstream(&out, &olen);
    if (f != NULL) {
        if (rc < 0)
            nc_reply_error(f, rpc.attrs, &e);
        else
            nc_reply(f, rpc.attrs, "<ok/>", 5);
        fclose(f);
        free(out);
    }
    nc_rpc_free(&rpc);
    memset(&me, 0, sizeof me);
    if (model_native_from_xml(msg, &tree, &me) == 0)
        json_decref(tree);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nc_framer fr;
    char why[256];

    if (size < 1)
        return 0;
    nc_framer_init(&fr, FUZZ_MAX);
    fr.chunked = data[0] & 1;
    size_t half = (size - 1) / 2;
    if (nc_framer_feed(&fr, (const char *)data + 1, half, on_msg, NULL, why, sizeof why) == 0)
        nc_framer_feed(&fr, (const char *)data + 1 + half, size - 1 - half, on_msg, NULL, why,
                       sizeof why);
    if (fr.len > FUZZ_MAX)
        abort();
    nc_framer_free(&fr);
    return 0;
}
