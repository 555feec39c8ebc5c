/* Fuzz target of daemon/sftp_proto: arbitrary client bytes framed and parsed as a stream of SFTP
 * packets, every path string through the SFTP -> IFS mapping and back, and every message through
 * a reply builder with a small buffer. Checks the invariants the session relies on: framing never
 * claims more than it was given or more than LIM_SFTP_PACKET, parsed strings lie inside their
 * packet and within their limits, a mapped path's canonical SFTP form maps back to the same file,
 * and a builder either appends one whole packet or leaves the buffer as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ifs/ifs.h"
#include "daemon/sftp_proto.h"

static void inside(const struct sftp_str *s, const uint8_t *pkt, size_t len)
{
    if (s->len && (s->p < pkt || s->p + s->len > pkt + len))
        abort();
}

static void path_roundtrip(const struct sftp_str *s)
{
    char path[LIM_PATH_LEN], real[LIM_PATH_LEN + 16];
    struct ifs_path p, back;
    struct scpd_err err = {0};
    if (sftp_proto_cstr(s, path, sizeof(path), &err) < 0 || sftp_proto_path(path, &p, &err) < 0)
        return;
    for (const char *c = p.rel; p.kind == IFS_K_DISK && *c;) { /* no ".." component */
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.')
            abort();
        c += n + (c[n] == '/');
    }
    if (sftp_proto_realname(&p, real, sizeof(real)) < 0)
        return;
    if (sftp_proto_path(real, &back, &err) < 0 || back.kind != p.kind ||
        strcmp(back.name, p.name) != 0)
        abort();
}

static void reply(const struct sftp_req *q)
{
    uint8_t buf[96];
    char msg[64];
    struct sftp_out o;
    size_t n = q->path.len < sizeof(msg) - 1 ? q->path.len : sizeof(msg) - 1;
    memcpy(msg, q->path.p ? (const char *)q->path.p : "", n);
    msg[n] = '\0';
    sftp_out_init(&o, buf, sizeof(buf));
    sftp_out_status(&o, q->id, 1, "x");
    size_t before = o.len;
    if (sftp_out_status(&o, q->id, 4, msg) < 0) {
        if (o.len != before)
            abort();
    } else if (o.len - before != 4 + 1 + 4 + 4 + 4 + strlen(msg) + 4) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    struct scpd_err err = {0};
    while (off < size) {
        size_t plen = 0;
        int r = sftp_proto_frame(data + off, size - off, &plen, &err);
        if (r <= 0)
            break;
        if (plen > size - off || plen < 5 || plen > (size_t)LIM_SFTP_PACKET + 4)
            abort();
        struct sftp_req q;
        const uint8_t *pkt = data + off;
        r = sftp_proto_parse(pkt, plen, &q, &err);
        if (r == 0) {
            inside(&q.path, pkt, plen);
            inside(&q.path2, pkt, plen);
            inside(&q.handle, pkt, plen);
            inside(&q.data, pkt, plen);
            inside(&q.ext, pkt, plen);
            if (q.path.len >= LIM_PATH_LEN || q.handle.len > LIM_SFTP_HANDLE_LEN ||
                (q.type == SFTP_WRITE && q.data.len > LIM_SFTP_DATA))
                abort();
            path_roundtrip(&q.path);
            path_roundtrip(&q.path2);
            struct sftp_str ext[2];
            if (q.type == SFTP_EXTENDED && sftp_proto_ext_paths(&q, ext, 2, &err) == 0) {
                inside(&ext[0], pkt, plen);
                inside(&ext[1], pkt, plen);
                path_roundtrip(&ext[0]);
                path_roundtrip(&ext[1]);
            }
            reply(&q);
        }
        off += plen;
    }
    return 0;
}
