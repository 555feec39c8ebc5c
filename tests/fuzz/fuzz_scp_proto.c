/* Fuzz target of daemon/scp_proto: arbitrary client bytes through the sink and source state
 * machines, split at input-chosen points, with refusals of C/D records chosen by the input.
 * Checks the invariants the session relies on: progress (never stuck with input left), data
 * events inside the fed buffer and never beyond the announced size, depth within LIM_SCP_DEPTH,
 * and validated names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/scp_proto.h"

static void run(const uint8_t *data, size_t size, bool sink, bool recursive)
{
    struct scp_proto p;
    struct scp_event ev;
    size_t off = 0;
    uint64_t announced = 0, got = 0;
    unsigned step = size ? data[0] : 0;
    scp_proto_init(&p, sink, recursive);
    while (off <= size) {
        size_t chunk = 1 + (step % 97);
        size_t end = off + chunk < size ? off + chunk : size;
        size_t used = scp_proto_feed(&p, data + off, end - off, &ev);
        if (used > end - off)
            abort();
        if (ev.type == SCP_EV_DATA) {
            if (ev.data != data + off || ev.len != used || ev.len == 0)
                abort();
            got += ev.len;
            if (got > announced)
                abort();
        }
        if (ev.type == SCP_EV_FILE || ev.type == SCP_EV_DIR) {
            if (scp_proto_check_name(ev.name, strlen(ev.name), NULL, 0) < 0)
                abort();
            if (ev.type == SCP_EV_FILE) {
                announced = ev.size;
                got = 0;
            }
            if (step & 1)
                scp_proto_reject(&p);
        }
        if (!sink && ev.type == SCP_EV_OK)
            scp_proto_expect_status(&p);
        if (p.depth < 0 || p.depth > LIM_SCP_DEPTH)
            abort();
        off += used;
        step = step * 31 + 7;
        if (ev.type == SCP_EV_NONE && (off >= size || p.state == SCP_ST_DONE))
            break;
        if (ev.type == SCP_EV_NONE && used == 0)
            abort();   /* input left, no event, nothing consumed: stuck */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char vis[64], reply[128];
    run(data, size, true, false);
    run(data, size, true, true);
    run(data, size, false, false);
    /* the builders never produce more than one line */
    char msg[64];
    size_t n = size < sizeof(msg) - 1 ? size : sizeof(msg) - 1;
    memcpy(msg, data, n);
    msg[n] = '\0';
    int r = scp_proto_fmt_reply(reply, sizeof(reply), 1, msg);
    if (r <= 0 || memchr(reply, '\n', (size_t)r - 1))
        abort();
    scp_proto_visible(data, size, vis, sizeof(vis));
    return 0;
}
