/* sftp_proto: SFTP v3 packets in and out, and the SFTP <-> IFS path mapping (see sftp_proto.h).
 *
 * Parsing is table-driven: each request type has a row with its name and a field string ("pfa":
 * path, pflags, attrs), and one loop reads the fields through a small checked reader whose every
 * getter fails when the packet is too short, so a malformed request can never read past its
 * packet. Strings are bounded twice: by the bytes left in the packet and by the limit of their
 * kind (paths LIM_PATH_LEN, handles LIM_SFTP_HANDLE_LEN, data LIM_SFTP_DATA).
 * Reply builders append whole packets to a fixed buffer or nothing, so a reply is never split and
 * the session can hand a batch of replies to one channel write. */
#include "daemon/sftp_proto.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "ifs/ifs.h"

/* ---- reading --------------------------------------------------------------------------------- */

struct rd {
    const uint8_t *p;
    size_t len, off;
};

static int rd_u8(struct rd *r, uint8_t *v)
{
    if (r->len - r->off < 1)
        return -1;
    *v = r->p[r->off++];
    return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
    if (r->len - r->off < 4)
        return -1;
    const uint8_t *b = r->p + r->off;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    r->off += 4;
    return 0;
}

static int rd_u64(struct rd *r, uint64_t *v)
{
    uint32_t hi, lo;
    if (r->len - r->off < 8)
        return -1;
    rd_u32(r, &hi);
    rd_u32(r, &lo);
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

static int rd_str(struct rd *r, struct sftp_str *s)
{
    uint32_t n;
    if (rd_u32(r, &n) < 0 || n > r->len - r->off)
        return -1;
    s->p = r->p + r->off;
    s->len = n;
    r->off += n;
    return 0;
}

static int rd_attrs(struct rd *r, struct sftp_attrs *a)
{
    memset(a, 0, sizeof(*a));
    if (rd_u32(r, &a->flags) < 0)
        return -1;
    if ((a->flags & SFTP_ATTR_SIZE) && rd_u64(r, &a->size) < 0)
        return -1;
    if ((a->flags & SFTP_ATTR_UIDGID) && (rd_u32(r, &a->uid) < 0 || rd_u32(r, &a->gid) < 0))
        return -1;
    if ((a->flags & SFTP_ATTR_PERMISSIONS) && rd_u32(r, &a->perm) < 0)
        return -1;
    if ((a->flags & SFTP_ATTR_ACMODTIME) && (rd_u32(r, &a->atime) < 0 || rd_u32(r, &a->mtime) < 0))
        return -1;
    if (a->flags & SFTP_ATTR_EXTENDED) {
        uint32_t n;
        struct sftp_str k, v;
        if (rd_u32(r, &n) < 0)
            return -1;
        /* each pair takes at least 8 bytes, so this loop ends with the packet */
        for (uint32_t i = 0; i < n; i++)
            if (rd_str(r, &k) < 0 || rd_str(r, &v) < 0)
                return -1;
    }
    return 0;
}

/* ---- request table ----------------------------------------------------------------------------
 * Field codes: p path, q second path, h handle, f pflags, o offset, l length, d data, a attrs,
 * e extension name followed by its raw data (the rest of the packet, in req->data). */
static const struct {
    uint8_t type;
    const char *name;
    const char *fields;
} sftp_requests[] = {
    {SFTP_OPEN, "OPEN", "pfa"},       {SFTP_CLOSE, "CLOSE", "h"},
    {SFTP_READ, "READ", "hol"},       {SFTP_WRITE, "WRITE", "hod"},
    {SFTP_LSTAT, "LSTAT", "p"},       {SFTP_FSTAT, "FSTAT", "h"},
    {SFTP_SETSTAT, "SETSTAT", "pa"},  {SFTP_FSETSTAT, "FSETSTAT", "ha"},
    {SFTP_OPENDIR, "OPENDIR", "p"},   {SFTP_READDIR, "READDIR", "h"},
    {SFTP_REMOVE, "REMOVE", "p"},     {SFTP_MKDIR, "MKDIR", "pa"},
    {SFTP_RMDIR, "RMDIR", "p"},       {SFTP_REALPATH, "REALPATH", "p"},
    {SFTP_STAT, "STAT", "p"},         {SFTP_RENAME, "RENAME", "pq"},
    {SFTP_READLINK, "READLINK", "p"}, {SFTP_SYMLINK, "SYMLINK", "pq"},
    {SFTP_EXTENDED, "EXTENDED", "e"},
};
#define N_REQUESTS (sizeof(sftp_requests) / sizeof(sftp_requests[0]))

const char *sftp_proto_type_name(uint8_t type)
{
    static const char *const unknown[] = {"INIT", "TYPE-?"};
    if (type == SFTP_INIT)
        return unknown[0];
    for (size_t i = 0; i < N_REQUESTS; i++)
        if (sftp_requests[i].type == type)
            return sftp_requests[i].name;
    return unknown[1];
}

int sftp_proto_frame(const uint8_t *buf, size_t len, size_t *pkt_len, struct scpd_err *err)
{
    if (len < 4)
        return 0;
    uint32_t n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    if (n == 0 || n > LIM_SFTP_PACKET)
        return scpd_err_set(err, SCPD_E_LIMIT, "sftp: packet length %u out of range (1-%u)", n,
                            LIM_SFTP_PACKET);
    *pkt_len = (size_t)n + 4;
    return len - 4 < n ? 0 : 1;
}

static int field(struct rd *r, char code, struct sftp_req *q, struct scpd_err *err)
{
    switch (code) {
    case 'p':
    case 'q': {
        struct sftp_str *s = code == 'p' ? &q->path : &q->path2;
        if (rd_str(r, s) < 0)
            return -1;
        if (s->len >= LIM_PATH_LEN)
            return scpd_err_set(err, SCPD_E_LIMIT, "path longer than %d bytes", LIM_PATH_LEN - 1);
        return 0;
    }
    case 'h':
        if (rd_str(r, &q->handle) < 0)
            return -1;
        if (q->handle.len > LIM_SFTP_HANDLE_LEN)
            return scpd_err_set(err, SCPD_E_INVALID, "handle longer than %d bytes",
                                LIM_SFTP_HANDLE_LEN);
        return 0;
    case 'f':
        return rd_u32(r, &q->pflags);
    case 'o':
        return rd_u64(r, &q->offset);
    case 'l':
        return rd_u32(r, &q->len);
    case 'd':
        if (rd_str(r, &q->data) < 0)
            return -1;
        if (q->data.len > LIM_SFTP_DATA)
            return scpd_err_set(err, SCPD_E_LIMIT, "write of %u bytes exceeds %u", q->data.len,
                                LIM_SFTP_DATA);
        return 0;
    case 'a':
        return rd_attrs(r, &q->attrs);
    case 'e':
        if (rd_str(r, &q->ext) < 0)
            return -1;
        q->data.p = r->p + r->off;
        q->data.len = (uint32_t)(r->len - r->off);
        r->off = r->len;
        return 0;
    default:
        return scpd_err_set(err, SCPD_E_INTERNAL, "sftp: bad field table");
    }
}

int sftp_proto_parse(const uint8_t *pkt, size_t len, struct sftp_req *req, struct scpd_err *err)
{
    struct rd r = {.p = pkt, .len = len, .off = 4};
    memset(req, 0, sizeof(*req));
    if (len < 5 || len > (size_t)LIM_SFTP_PACKET + 4 || rd_u8(&r, &req->type) < 0)
        return scpd_err_set(err, SCPD_E_INVALID, "sftp: packet too short");
    if (rd_u32(&r, &req->id) < 0)
        return scpd_err_set(err, SCPD_E_INVALID, "sftp: %s without %s",
                            sftp_proto_type_name(req->type),
                            req->type == SFTP_INIT ? "a version" : "a request id");
    if (req->type == SFTP_INIT)
        return 0; /* extension pairs of a newer client are ignored, as the draft allows */
    size_t i;
    for (i = 0; i < N_REQUESTS && sftp_requests[i].type != req->type; i++)
        ;
    if (i == N_REQUESTS)
        return 1;
    scpd_err_clear(err);
    for (const char *f = sftp_requests[i].fields; *f; f++) {
        if (field(&r, *f, req, err) < 0) {
            if (err && err->code == SCPD_E_OK)
                scpd_err_set(err, SCPD_E_INVALID, "sftp: malformed %s request",
                             sftp_requests[i].name);
            return -1;
        }
    }
    return 0;
}

int sftp_proto_ext_paths(const struct sftp_req *req, struct sftp_str *out, size_t n,
                         struct scpd_err *err)
{
    struct rd r = {.p = req->data.p, .len = req->data.len, .off = 0};
    for (size_t i = 0; i < n; i++) {
        if (rd_str(&r, &out[i]) < 0)
            return scpd_err_set(err, SCPD_E_INVALID, "sftp: malformed %.*s request",
                                (int)(req->ext.len > 64 ? 64 : req->ext.len),
                                (const char *)req->ext.p);
        if (out[i].len >= LIM_PATH_LEN)
            return scpd_err_set(err, SCPD_E_LIMIT, "path longer than %d bytes", LIM_PATH_LEN - 1);
    }
    return 0;
}

int sftp_proto_cstr(const struct sftp_str *s, char *buf, size_t cap, struct scpd_err *err)
{
    if (s->len >= cap)
        return scpd_err_set(err, SCPD_E_LIMIT, "path longer than %zu bytes", cap - 1);
    if (s->len && memchr(s->p, '\0', s->len))
        return scpd_err_set(err, SCPD_E_INVALID, "NUL byte in a path");
    if (s->len)
        memcpy(buf, s->p, s->len);
    buf[s->len] = '\0';
    return 0;
}

/* ---- writing ----------------------------------------------------------------------------------
 */

void sftp_out_init(struct sftp_out *o, uint8_t *buf, size_t cap)
{
    memset(o, 0, sizeof(*o));
    o->buf = buf;
    o->cap = cap;
}

static void be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* The put_* helpers fail (without writing) when the buffer is full; a builder that sees a failure
 * rolls back to the start of its packet. */
static int put(struct sftp_out *o, const void *p, size_t n)
{
    if (o->cap - o->len < n)
        return -1;
    if (n)
        memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

static int put_u8(struct sftp_out *o, uint8_t v)
{
    return put(o, &v, 1);
}

static int put_u32(struct sftp_out *o, uint32_t v)
{
    uint8_t b[4];
    be32(b, v);
    return put(o, b, 4);
}

static int put_u64(struct sftp_out *o, uint64_t v)
{
    return put_u32(o, (uint32_t)(v >> 32)) < 0 ? -1 : put_u32(o, (uint32_t)v);
}

static int put_str(struct sftp_out *o, const void *p, size_t n)
{
    if (n > UINT32_MAX || o->cap - o->len < 4 + n)
        return -1;
    put_u32(o, (uint32_t)n);
    return put(o, p, n);
}

static int put_cstr(struct sftp_out *o, const char *s)
{
    return put_str(o, s, strlen(s));
}

static int put_attrs(struct sftp_out *o, const struct sftp_attrs *a)
{
    uint32_t f = a->flags & ~SFTP_ATTR_EXTENDED;
    if (put_u32(o, f) < 0)
        return -1;
    if ((f & SFTP_ATTR_SIZE) && put_u64(o, a->size) < 0)
        return -1;
    if ((f & SFTP_ATTR_UIDGID) && (put_u32(o, a->uid) < 0 || put_u32(o, a->gid) < 0))
        return -1;
    if ((f & SFTP_ATTR_PERMISSIONS) && put_u32(o, a->perm) < 0)
        return -1;
    if ((f & SFTP_ATTR_ACMODTIME) && (put_u32(o, a->atime) < 0 || put_u32(o, a->mtime) < 0))
        return -1;
    return 0;
}

/* Starts a packet: length placeholder, type and (unless VERSION) the id. */
static int begin(struct sftp_out *o, uint8_t type, uint32_t id, bool with_id)
{
    o->mark = o->len;
    if (put_u32(o, 0) < 0 || put_u8(o, type) < 0 || (with_id && put_u32(o, id) < 0)) {
        o->len = o->mark;
        return -1;
    }
    return 0;
}

static int end(struct sftp_out *o, int r)
{
    if (r < 0) {
        o->len = o->mark;
        return -1;
    }
    be32(o->buf + o->mark, (uint32_t)(o->len - o->mark - 4));
    return 0;
}

int sftp_out_version(struct sftp_out *o, const char *const *ext_names,
                     const char *const *ext_values, size_t n)
{
    if (begin(o, SFTP_VERSION_REPLY, SFTP_VERSION, true) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        r = put_cstr(o, ext_names[i]) < 0 || put_cstr(o, ext_values[i]) < 0 ? -1 : 0;
    return end(o, r);
}

int sftp_out_status(struct sftp_out *o, uint32_t id, uint32_t code, const char *msg)
{
    if (begin(o, SFTP_STATUS, id, true) < 0)
        return -1;
    return end(
        o, put_u32(o, code) < 0 || put_cstr(o, msg ? msg : "") < 0 || put_cstr(o, "") < 0 ? -1 : 0);
}

int sftp_out_handle(struct sftp_out *o, uint32_t id, const void *handle, uint32_t len)
{
    if (begin(o, SFTP_HANDLE, id, true) < 0)
        return -1;
    return end(o, put_str(o, handle, len));
}

int sftp_out_attrs(struct sftp_out *o, uint32_t id, const struct sftp_attrs *a)
{
    if (begin(o, SFTP_ATTRS, id, true) < 0)
        return -1;
    return end(o, put_attrs(o, a));
}

int sftp_out_data_begin(struct sftp_out *o, uint32_t id, uint8_t **dst, size_t max)
{
    if (max > UINT32_MAX || o->cap - o->len < 13 + max)
        return -1;
    begin(o, SFTP_DATA, id, true);
    put_u32(o, 0); /* the data length, set by sftp_out_data_end() */
    *dst = o->buf + o->len;
    return 0;
}

void sftp_out_data_end(struct sftp_out *o, size_t n)
{
    be32(o->buf + o->len - 4, (uint32_t)n);
    o->len += n;
    end(o, 0);
}

void sftp_out_cancel(struct sftp_out *o)
{
    o->len = o->mark;
}

int sftp_out_name_begin(struct sftp_out *o, uint32_t id)
{
    if (begin(o, SFTP_NAME, id, true) < 0)
        return -1;
    o->count = 0;
    o->count_at = o->len;
    if (put_u32(o, 0) < 0) {
        o->len = o->mark;
        return -1;
    }
    return 0;
}

int sftp_out_name_add(struct sftp_out *o, const char *name, const char *longname,
                      const struct sftp_attrs *a)
{
    size_t at = o->len;
    if (put_cstr(o, name) < 0 || put_cstr(o, longname) < 0 || put_attrs(o, a) < 0) {
        o->len = at;
        return -1;
    }
    o->count++;
    return 0;
}

void sftp_out_name_end(struct sftp_out *o)
{
    be32(o->buf + o->count_at, o->count);
    end(o, 0);
}

static int ext_reply(struct sftp_out *o, uint32_t id, const uint64_t *v, size_t n)
{
    if (begin(o, SFTP_EXTENDED_REPLY, id, true) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        r = put_u64(o, v[i]);
    return end(o, r);
}

int sftp_out_limits(struct sftp_out *o, uint32_t id, uint64_t packet, uint64_t read, uint64_t write,
                    uint64_t handles)
{
    const uint64_t v[] = {packet, read, write, handles};
    return ext_reply(o, id, v, 4);
}

int sftp_out_statvfs(struct sftp_out *o, uint32_t id, uint64_t size, uint64_t avail)
{
    /* bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax */
    const uint64_t v[] = {1024, 1024, size / 1024, avail / 1024, avail / 1024, 0, 0,
                          0,    0,    0,           LIM_NAME_LEN};
    return ext_reply(o, id, v, sizeof(v) / sizeof(v[0]));
}

int sftp_proto_longname(char *buf, size_t cap, const char *name, const struct sftp_attrs *a,
                        int64_t now)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char mode[11] = "----------";
    unsigned p = a->perm;
    static const char bits[] = "rwxrwxrwx";
    mode[0] = S_ISDIR(p) ? 'd' : '-';
    for (int i = 0; i < 9; i++)
        if (p & (0400u >> i))
            mode[1 + i] = bits[i];
    time_t t = (time_t)a->mtime;
    struct tm tm;
    char when[16];
    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    /* as ls: the time of day for the last six months, the year otherwise */
    if ((int64_t)a->mtime > now - 180 * 86400 && (int64_t)a->mtime <= now + 86400)
        snprintf(when, sizeof(when), "%s %2d %02d:%02d", months[tm.tm_mon % 12], tm.tm_mday,
                 tm.tm_hour, tm.tm_min);
    else
        snprintf(when, sizeof(when), "%s %2d  %4d", months[tm.tm_mon % 12], tm.tm_mday,
                 tm.tm_year + 1900);
    int n = snprintf(buf, cap, "%s %4u %-8u %-8u %12llu %s %s", mode, S_ISDIR(p) ? 2u : 1u, a->uid,
                     a->gid, (unsigned long long)a->size, when, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ---- paths ------------------------------------------------------------------------------------
 */

/* Whether name (n bytes) names a file system of the IFS. The resolver's own table decides (only
 * an unknown file system is SCPD_E_INVALID for a bare "name:"), so there is no second list here. */
static bool known_fs(const char *name, size_t n)
{
    char probe[32];
    struct ifs_path p;
    struct scpd_err e = {0};
    if (n == 0 || n + 2 > sizeof(probe) || memchr(name, ':', n))
        return false;
    memcpy(probe, name, n);
    probe[n] = ':';
    probe[n + 1] = '\0';
    return !(ifs_resolve(probe, &p, &e) < 0 && e.code == SCPD_E_INVALID);
}

/* A component "FS:rest" with a known FS: *plen gets the length of FS. */
static bool fs_prefix(const char *c, size_t n, size_t *plen)
{
    const char *colon = memchr(c, ':', n);
    if (!colon || !known_fs(c, (size_t)(colon - c)))
        return false;
    *plen = (size_t)(colon - c);
    return true;
}

struct pbuild {
    char fs[32]; /* "" (bootflash: as home) or the prefix as written */
    char rel[LIM_PATH_LEN];
    size_t len;
};

/* Whether the last component of b->rel is "..", one the mapping could not take back. */
static bool ends_up(const struct pbuild *b)
{
    return b->len >= 2 && b->rel[b->len - 1] == '.' && b->rel[b->len - 2] == '.' &&
           (b->len == 2 || b->rel[b->len - 3] == '/');
}

/* Adds one component. ".." takes back the name before it, or leaves an IOS file system for the
 * home ("/nvram:/.." is "/"); with nothing to take back it stays in the path, and the resolver
 * refuses it: what is beneath a root is the resolver's decision, not this mapping's. No message
 * here quotes the path (the resolver's messages show it with control characters as '?'). */
static int push(struct pbuild *b, const char *c, size_t n, struct scpd_err *err)
{
    if (n == 0 || (n == 1 && c[0] == '.'))
        return 0;
    if (n == 2 && c[0] == '.' && c[1] == '.' && !ends_up(b)) {
        if (b->len > 0) {
            while (b->len > 0 && b->rel[b->len - 1] != '/')
                b->len--;
            if (b->len > 0)
                b->len--; /* the separator */
            return 0;
        }
        if (b->fs[0]) {
            b->fs[0] = '\0';
            return 0;
        }
    }
    if (b->len + 1 + n >= sizeof(b->rel))
        return scpd_err_set(err, SCPD_E_LIMIT, "%%Error opening path (longer than %d bytes)",
                            LIM_PATH_LEN - 1);
    if (b->len)
        b->rel[b->len++] = '/';
    memcpy(b->rel + b->len, c, n);
    b->len += n;
    return 0;
}

int sftp_proto_path(const char *sftp_path, struct ifs_path *out, struct scpd_err *err)
{
    struct pbuild b = {.len = 0};
    char ifs[LIM_PATH_LEN + 40];
    const char *s = sftp_path;
    if (strlen(s) >= LIM_PATH_LEN)
        return scpd_err_set(err, SCPD_E_LIMIT, "%%Error opening path (longer than %d bytes)",
                            LIM_PATH_LEN - 1);
    while (*s) {
        size_t n = strcspn(s, "/"), plen;
        if (fs_prefix(s, n, &plen)) {
            snprintf(b.fs, sizeof(b.fs), "%.*s", (int)plen, s);
            b.len = 0;
            if (push(&b, s + plen + 1, n - plen - 1, err) < 0)
                return -1;
        } else if (!b.fs[0] && b.len == 0 && known_fs(s, n)) {
            snprintf(b.fs, sizeof(b.fs), "%.*s", (int)n, s); /* "/nvram/x" as "nvram:x" */
        } else if (push(&b, s, n, err) < 0) {
            return -1;
        }
        s += n + (s[n] == '/');
    }
    b.rel[b.len] = '\0';
    int r;
    if (b.fs[0])
        r = snprintf(ifs, sizeof(ifs), "%s:/%s", b.fs, b.rel);
    else if (b.len == 0)
        r = snprintf(ifs, sizeof(ifs), "bootflash:");
    else if (strpbrk(b.rel, "/:") || strcmp(b.rel, "~") == 0)
        /* spelled out: the resolver would read "a:b" as a file system and drop a leading "~" */
        r = snprintf(ifs, sizeof(ifs), "bootflash:/%s", b.rel);
    else /* one name at the home, bootflash:, where the bare virtual file names also live */
        r = snprintf(ifs, sizeof(ifs), "%s", b.rel);
    if (r < 0 || (size_t)r >= sizeof(ifs))
        return scpd_err_set(err, SCPD_E_LIMIT, "%%Error opening path (too long)");
    return ifs_resolve(ifs, out, err);
}

/* Whether buf maps back to p. */
static bool same_file(const char *buf, const struct ifs_path *p)
{
    struct ifs_path back;
    struct scpd_err e = {0};
    return sftp_proto_path(buf, &back, &e) == 0 && back.kind == p->kind &&
           strcmp(back.name, p->name) == 0;
}

int sftp_proto_realname(const struct ifs_path *p, char *buf, size_t cap)
{
    int fsl = (int)strcspn(p->name, ":"); /* "nvram" of "nvram:x" */
    int r;
    if (p->kind == IFS_K_RUNNING)
        r = snprintf(buf, cap, "/running-config");
    else if (p->kind == IFS_K_STARTUP)
        r = snprintf(buf, cap, "/startup-config");
    else if (p->fs == IFS_FS_BOOTFLASH)
        r = snprintf(buf, cap, "/%s", p->rel);
    else
        r = snprintf(buf, cap, "/%.*s:%s%s", fsl, p->name, p->rel[0] ? "/" : "", p->rel);
    if (r < 0 || (size_t)r >= cap)
        return -1;
    if (p->kind != IFS_K_DISK || same_file(buf, p))
        return 0;
    /* a name that reads as a virtual file or a file system ("running-config", "nvram:x") needs
     * its own file system spelled out, the first name in the same component as the prefix */
    r = snprintf(buf, cap, "/%.*s:/%s", fsl, p->name, p->rel);
    if (r > 0 && (size_t)r < cap && same_file(buf, p))
        return 0;
    r = snprintf(buf, cap, "/%.*s:%s", fsl, p->name, p->rel);
    return r > 0 && (size_t)r < cap && same_file(buf, p) ? 0 : -1;
}
