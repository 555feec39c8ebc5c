/* scp_proto: the rcp/scp wire protocol as a byte-driven state machine (see scp_proto.h).
 *
 * The protocol has no specification beyond rcp's and OpenSSH's scp.c; what the clients we support
 * send (OpenSSH scp -O, PuTTY pscp, libssh2 as used by curl, paramiko's scp.py):
 *   C<mode> <size> <name>\n    a file follows: <size> bytes, then one status byte from the sender
 *   D<mode> 0 <name>\n         a directory begins (only with -r)
 *   E\n                        the directory ends
 *   T<mtime> 0 <atime> 0\n     times of the next C or D (with -p; microseconds are always 0)
 *   \0 | \1msg\n | \2msg\n     status: ok, error (the peer continues), fatal error
 * <mode> is four octal digits (%04o), <size> plain decimal. We accept exactly those forms and
 * reject everything else with the reason: a peer-controlled line never reaches a file system call
 * unvalidated. Records are dispatched from a table keyed by their first byte.
 *
 * Input is consumed incrementally: a record may arrive split across reads, file data is handed out
 * as pointers into the caller's buffer (no copy), and at most one event completes per call. */
#include "daemon/scp_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void ev_reset(struct scp_event *ev)
{
    ev->type = SCP_EV_NONE;
    ev->data = NULL;
    ev->len = 0;
    ev->record[0] = '\0';
}

__attribute__((format(printf, 3, 4)))
static void ev_error(struct scp_proto *p, struct scp_event *ev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ev->type = SCP_EV_ERROR;
    vsnprintf(ev->msg, sizeof(ev->msg), fmt, ap);
    va_end(ap);
    p->state = SCP_ST_DONE;
}

void scp_proto_init(struct scp_proto *p, bool sink, bool recursive)
{
    memset(p, 0, offsetof(struct scp_proto, line));
    p->sink = sink;
    p->recursive = recursive;
    p->state = sink ? SCP_ST_RECORD : SCP_ST_STATUS;
    p->last = SCP_EV_NONE;
}

void scp_proto_reject(struct scp_proto *p)
{
    if (p->state == SCP_ST_DONE)
        return;
    if (p->last == SCP_EV_FILE && p->state == SCP_ST_DATA) {
        p->remaining = 0;
        p->state = SCP_ST_RECORD;
    } else if (p->last == SCP_EV_DIR && p->depth > 0) {
        p->depth--;
    }
    p->last = SCP_EV_NONE;
}

void scp_proto_expect_status(struct scp_proto *p)
{
    if (p->state != SCP_ST_DONE)
        p->state = SCP_ST_STATUS;
}

/* ---- field parsers ------------------------------------------------------------------------- */

/* Decimal without sign, without leading zeros (except "0"), at most max. */
static int parse_dec(const char **pp, uint64_t max, uint64_t *out)
{
    const char *s = *pp;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *pp = s;
    *out = v;
    return 0;
}

static int parse_mode(const char **pp, unsigned *mode)
{
    const char *s = *pp;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '7')
            return -1;
        v = v * 8 + (unsigned)(s[i] - '0');
    }
    *pp = s + 4;
    *mode = v;
    return 0;
}

static int expect_space(const char **pp)
{
    if (**pp != ' ')
        return -1;
    (*pp)++;
    return 0;
}

int scp_proto_check_name(const char *name, size_t len, char *why, size_t whycap)
{
    const char *reason = NULL;
    if (len == 0)
        reason = "empty file name";
    else if (len > LIM_NAME_LEN)
        reason = "file name longer than 255 bytes";
    else if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        reason = "file name '.' or '..' not allowed";
    else if (memchr(name, '/', len))
        reason = "file name contains '/'";
    else {
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)name[i];
            if (c < 0x20 || c == 0x7f) {
                reason = "file name contains a control character";
                break;
            }
        }
    }
    if (!reason)
        return 0;
    if (why && whycap)
        snprintf(why, whycap, "%s", reason);
    return -1;
}

/* ---- the record table ---------------------------------------------------------------------- */

/* Each handler parses rec (the line after its type byte, NUL-terminated, no newline) into ev.
 * Returns 0, or -1 after ev_error(). */
typedef int (*record_fn)(struct scp_proto *p, const char *rec, size_t len, struct scp_event *ev);

static int rec_name(struct scp_proto *p, const char *s, size_t len, struct scp_event *ev)
{
    char why[64];
    if (scp_proto_check_name(s, len, why, sizeof(why)) < 0) {
        ev_error(p, ev, "protocol error: %s", why);
        return -1;
    }
    memcpy(ev->name, s, len);
    ev->name[len] = '\0';
    return 0;
}

static int rec_file_or_dir(struct scp_proto *p, const char *rec, size_t len, struct scp_event *ev,
                           bool dir)
{
    const char *s = rec;
    uint64_t size;
    if (parse_mode(&s, &ev->mode) < 0 || expect_space(&s) < 0) {
        ev_error(p, ev, "protocol error: %s", "bad mode (expected 4 octal digits)");
        return -1;
    }
    if (parse_dec(&s, SCP_SIZE_MAX, &size) < 0 || expect_space(&s) < 0) {
        ev_error(p, ev, "protocol error: %s", "bad size (expected a decimal number below 2^63)");
        return -1;
    }
    if (rec_name(p, s, len - (size_t)(s - rec), ev) < 0)
        return -1;
    ev->size = dir ? 0 : size;
    return 0;
}

static int rec_file(struct scp_proto *p, const char *rec, size_t len, struct scp_event *ev)
{
    if (rec_file_or_dir(p, rec, len, ev, false) < 0)
        return -1;
    ev->type = SCP_EV_FILE;
    p->remaining = ev->size;
    p->state = SCP_ST_DATA;
    return 0;
}

static int rec_dir(struct scp_proto *p, const char *rec, size_t len, struct scp_event *ev)
{
    if (!p->recursive) {
        ev_error(p, ev, "protocol error: %s", "received a directory without -r");
        return -1;
    }
    if (p->depth >= LIM_SCP_DEPTH) {
        ev_error(p, ev, "protocol error: directories nested deeper than %d levels", LIM_SCP_DEPTH);
        return -1;
    }
    if (rec_file_or_dir(p, rec, len, ev, true) < 0)
        return -1;
    ev->type = SCP_EV_DIR;
    p->depth++;
    return 0;
}

static int rec_end(struct scp_proto *p, const char *rec, size_t len, struct scp_event *ev)
{
    if (len != 0) {
        ev_error(p, ev, "protocol error: %s", "bad E record");
        return -1;
    }
    if (p->depth == 0) {
        ev_error(p, ev, "protocol error: %s", "E record without a directory");
        return -1;
    }
    p->depth--;
    ev->type = SCP_EV_END;
    return 0;
}

static int rec_time(struct scp_proto *p, const char *rec, size_t len, struct scp_event *ev)
{
    const char *s = rec;
    uint64_t mt, mu, at, au;
    if (parse_dec(&s, INT64_MAX, &mt) < 0 || expect_space(&s) < 0 ||
        parse_dec(&s, 999999, &mu) < 0 || expect_space(&s) < 0 ||
        parse_dec(&s, INT64_MAX, &at) < 0 || expect_space(&s) < 0 ||
        parse_dec(&s, 999999, &au) < 0 || *s != '\0') {
        ev_error(p, ev, "protocol error: %s", "bad T record (expected T<mtime> 0 <atime> 0)");
        return -1;
    }
    ev->mtime = (int64_t)mt;
    ev->atime = (int64_t)at;
    ev->type = SCP_EV_TIME;
    return 0;
}

static const struct {
    char type;
    bool after_time;   /* allowed right after a T record */
    record_fn fn;
} scp_records[] = {
    {'C', true, rec_file},
    {'D', true, rec_dir},
    {'E', false, rec_end},
    {'T', false, rec_time},
};

static void record_dispatch(struct scp_proto *p, struct scp_event *ev)
{
    const char *line = (const char *)p->line;
    size_t len = p->linelen;
    scp_proto_visible(line, len, ev->record, sizeof(ev->record));
    if (memchr(line, '\0', len)) {
        ev_error(p, ev, "protocol error: %s", "NUL byte in a record");
        return;
    }
    for (size_t i = 0; i < sizeof(scp_records) / sizeof(scp_records[0]); i++) {
        if (scp_records[i].type != line[0])
            continue;
        if (p->have_time && !scp_records[i].after_time) {
            ev_error(p, ev, "protocol error: %s", "a T record must be followed by C or D");
            return;
        }
        if (scp_records[i].fn(p, line + 1, len - 1, ev) < 0)
            return;
        p->have_time = ev->type == SCP_EV_TIME;
        p->last = ev->type;
        return;
    }
    ev_error(p, ev, "protocol error: unknown record '%s'", ev->record);
}

static bool record_known(uint8_t c)
{
    for (size_t i = 0; i < sizeof(scp_records) / sizeof(scp_records[0]); i++)
        if ((uint8_t)scp_records[i].type == c)
            return true;
    return false;
}

/* ---- line assembly ------------------------------------------------------------------------- */

/* Appends input up to and including a newline. Returns bytes used; *done when the line is whole
 * (newline stripped, NUL-terminated). A line longer than limit is an error. */
static size_t line_take(struct scp_proto *p, const uint8_t *in, size_t len, size_t limit,
                        bool *done, bool *overflow)
{
    const uint8_t *nl = memchr(in, '\n', len);
    size_t n = nl ? (size_t)(nl - in) + 1 : len;
    *done = false;
    *overflow = false;
    if (p->linelen + n > limit) {
        *overflow = true;
        return n;
    }
    memcpy(p->line + p->linelen, in, n);
    p->linelen += n;
    if (nl) {
        p->linelen--;            /* drop the newline */
        p->line[p->linelen] = '\0';
        *done = true;
    }
    return n;
}

/* A \1 or \2 message line completed: WARN or FATAL. */
static void msg_done(struct scp_proto *p, struct scp_event *ev)
{
    scp_proto_visible(p->line, p->linelen, ev->msg, sizeof(ev->msg));
    if (p->msgtype == 2) {
        ev->type = SCP_EV_FATAL;
        p->state = SCP_ST_DONE;
    } else {
        ev->type = SCP_EV_WARN;
        /* after a failed file the sink expects the next record */
        if (p->sink)
            p->state = SCP_ST_RECORD;
    }
    p->in_msg = false;
    p->linelen = 0;
}

static size_t feed_line(struct scp_proto *p, const uint8_t *in, size_t len, struct scp_event *ev)
{
    size_t used = 0;
    bool done, overflow;
    if (len == 0)
        return 0;
    if (!p->in_msg && p->linelen == 0) {
        uint8_t c = in[0];
        if (c == 1 || c == 2) {
            p->in_msg = true;
            p->msgtype = c;
            used = 1;
        } else if (p->state == SCP_ST_STATUS) {
            if (c == 0) {
                ev->type = SCP_EV_OK;
                if (p->sink)
                    p->state = SCP_ST_RECORD;
                return 1;
            }
            ev_error(p, ev, "protocol error: byte 0x%02x instead of a status", c);
            return 1;
        } else if (!record_known(c)) {
            ev_error(p, ev, "protocol error: unknown record type 0x%02x", c);
            return 1;
        }
    }
    size_t limit = p->in_msg ? LIM_SCP_ERRMSG_LEN - 1 : LIM_SCP_RECORD_LEN - 1;
    used += line_take(p, in + used, len - used, limit, &done, &overflow);
    if (overflow) {
        ev_error(p, ev, "protocol error: %s",
                 p->in_msg ? "status message too long" : "record longer than 4096 bytes");
        return used;
    }
    if (!done)
        return used;
    if (p->in_msg) {
        msg_done(p, ev);
        return used;
    }
    record_dispatch(p, ev);
    p->linelen = 0;
    return used;
}

size_t scp_proto_feed(struct scp_proto *p, const uint8_t *in, size_t len, struct scp_event *ev)
{
    ev_reset(ev);
    switch (p->state) {
    case SCP_ST_DATA:
        if (p->remaining == 0) {
            ev->type = SCP_EV_DATA_END;
            p->state = SCP_ST_STATUS;
            return 0;
        }
        if (len == 0)
            return 0;
        ev->type = SCP_EV_DATA;
        ev->data = in;
        ev->len = len < p->remaining ? len : (size_t)p->remaining;
        p->remaining -= ev->len;
        return ev->len;
    case SCP_ST_RECORD:
    case SCP_ST_STATUS:
        return feed_line(p, in, len, ev);
    case SCP_ST_DONE:
        break;
    }
    return 0;
}

/* ---- building what the server sends -------------------------------------------------------- */

int scp_proto_fmt_reply(char *buf, size_t cap, int type, const char *msg)
{
    if (type == 0) {
        if (cap < 1)
            return -1;
        buf[0] = '\0';
        return 1;
    }
    if ((type != 1 && type != 2) || cap < 3)
        return -1;
    size_t n = 0, room = cap - 2;    /* type byte and newline */
    if (room > LIM_SCP_ERRMSG_LEN - 2)
        room = LIM_SCP_ERRMSG_LEN - 2;
    buf[n++] = (char)type;
    for (const char *m = msg ? msg : ""; *m && n <= room; m++) {
        unsigned char c = (unsigned char)*m;
        buf[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    buf[n++] = '\n';
    return (int)n;
}

static int fmt_checked(char *buf, size_t cap, int r)
{
    return (r < 0 || (size_t)r >= cap) ? -1 : r;
}

int scp_proto_fmt_file(char *buf, size_t cap, unsigned mode, uint64_t size, const char *name)
{
    if (scp_proto_check_name(name, strlen(name), NULL, 0) < 0 || size > SCP_SIZE_MAX)
        return -1;
    return fmt_checked(buf, cap, snprintf(buf, cap, "C%04o %llu %s\n", mode & 07777u,
                                          (unsigned long long)size, name));
}

int scp_proto_fmt_dir(char *buf, size_t cap, unsigned mode, const char *name)
{
    if (scp_proto_check_name(name, strlen(name), NULL, 0) < 0)
        return -1;
    return fmt_checked(buf, cap, snprintf(buf, cap, "D%04o 0 %s\n", mode & 07777u, name));
}

int scp_proto_fmt_end(char *buf, size_t cap)
{
    return fmt_checked(buf, cap, snprintf(buf, cap, "E\n"));
}

int scp_proto_fmt_time(char *buf, size_t cap, int64_t mtime, int64_t atime)
{
    if (mtime < 0)
        mtime = 0;
    if (atime < 0)
        atime = 0;
    return fmt_checked(buf, cap, snprintf(buf, cap, "T%lld 0 %lld 0\n", (long long)mtime,
                                          (long long)atime));
}

void scp_proto_visible(const void *src, size_t len, char *dst, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = src;
    size_t o = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != 0x7f && c != '\\') {
            if (o + 1 >= cap)
                break;
            dst[o++] = (char)c;
        } else {
            if (o + 4 >= cap)
                break;
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    dst[o] = '\0';
}
