/* sftp_session: the SFTP subsystem over an abstract channel (see sftp_session.h).
 *
 * Shape (OpenSSH's sftp-server): a table maps each request type to one short handler that takes
 * the parsed request (sftp_proto) and appends exactly one reply to the output buffer. The loop
 * reads the channel in slices of at most 256 KiB into one input buffer, handles every whole
 * packet in it in order, and hands the batch of replies to one channel write before it blocks
 * again; so OpenSSH's pipelined READs and WRITEs cost one write per batch, a DATA reply is never
 * split, and nothing is allocated per request: both buffers start small (an idle or browsing
 * session costs little) and grow once to full size at the first large packet or reply; file data
 * is read straight into the output buffer and written straight from the input buffer.
 *
 * Files. Every path goes through sftp_proto_path() into the one resolver, ifs_resolve(), and every
 * access through ifs (no host path is opened here). Downloads read an ifs reader sequentially; a
 * READ at another offset skips forward or reopens (clients read in order; this only costs when one
 * does not). Uploads must be atomic (docs/ifs.md) but SFTP never announces a size: a write handle
 * is an ifs upload of unknown size (IFS_SIZE_UNKNOWN), so each WRITE goes once, with pwrite at
 * the client's offset, into the temporary file in the target directory, bounded by the file
 * system's size as it grows; OPEN without TRUNC keeps the old content (ifs_write_keep); CLOSE
 * commits (fsync, rename). Until CLOSE the target is untouched; a session that ends without
 * CLOSE, or a failed WRITE, removes the temporary file and leaves the target as it was.
 * running-config and startup-config are written the same way: CLOSE merges (running) or replaces
 * (startup) through the store, audited as source "sftp", and an invalid file is refused with the
 * parser's errors on the channel's stderr. RENAME and RMDIR are ifs_rename and ifs_rmdir.
 *
 * Every non-data request is traced when `debug ip scp` is on (data requests are summed up at
 * CLOSE, so tracing a 1 GiB transfer does not flood the ring); every transfer is a statistics
 * transfer from OPEN to CLOSE. */
#include "daemon/sftp_session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ifs/ifs.h"
#include "base/log.h"
#include "daemon/sftp_proto.h"
#include "services/stats.h"
#include "store/store.h"
#include "store/cfg.h"
#include "services/trace.h"

#define SFTP_SLICE (256u << 10) /* channel read; docs/libssh.md */
#define SFTP_IN_CAP (2 * ((size_t)LIM_SFTP_PACKET + 4))
#define SFTP_REPLY_MAX ((size_t)LIM_SFTP_DATA + 1024) /* the largest reply (DATA) */
#define SFTP_OUT_CAP (2 * SFTP_REPLY_MAX)
#define SFTP_SMALL_CAP (64u << 10)  /* both buffers until a large packet or reply needs more */
#define SFTP_REPLY_SMALL (8u << 10) /* every reply but DATA and NAME fits in this */
#define SFTP_NAMES_ROOM (32u << 10) /* what a READDIR reply gets */
#define SFTP_NAMES_MAX 128          /* entries per READDIR reply */
#define SFTP_HANDLE_LEN 8           /* slot and generation, 4 bytes each */

enum hkind { H_FREE = 0, H_READ, H_WRITE, H_DIR };

struct handle {
    enum hkind kind;
    uint32_t gen;
    struct ifs_path path;
    struct ifs_stat st; /* at open (H_READ: the size being served) */
    struct stats_xfer *x;
    uint64_t bytes;        /* data moved through the handle */
    uint32_t ops;          /* READ/WRITE requests */
    struct ifs_reader *rd; /* H_READ */
    uint64_t pos;
    struct ifs_writer *w; /* H_WRITE: the upload (NULL once a WRITE failed) */
    unsigned mode;
    bool append, has_times, failed;
    int64_t mtime, atime;
    char ferr[512];          /* why a WRITE failed */
    struct ifs_dirent *ents; /* H_DIR */
    size_t n, next;
};

struct sess {
    const struct chan_ctx *ctx;
    const struct chan_io *io;
    struct log_ctx lc;
    uint8_t *in; /* channel input: in[off..len) not handled yet */
    size_t off, len, incap;
    struct sftp_out out; /* its buffer is ours: SFTP_SMALL_CAP, then SFTP_OUT_CAP */
    struct handle h[LIM_SFTP_HANDLES];
    uint32_t gen;
    bool inited, dead, violation;
    uint64_t bytes;
    char lasterr[256];
};

typedef void (*sftp_handler)(struct sess *s, const struct sftp_req *q);

static const char *nz(const char *s)
{
    return s ? s : "";
}

#define TRACE(s, in, ...)                                                                          \
    do {                                                                                           \
        if ((s)->ctx->trace && trace_on((s)->ctx->trace))                                          \
            trace_emit((s)->ctx->trace, (s)->ctx->sid, nz((s)->ctx->peer), in,                     \
                       "sftp " __VA_ARGS__);                                                       \
    } while (0)

/* ---- replies ----------------------------------------------------------------------------------
 */

static const char *const status_names[] = {
    "OK",          "EOF",           "NO_SUCH_FILE",    "PERMISSION_DENIED", "FAILURE",
    "BAD_MESSAGE", "NO_CONNECTION", "CONNECTION_LOST", "OP_UNSUPPORTED",
};

static void status(struct sess *s, uint32_t id, uint32_t code, const char *msg)
{
    TRACE(s, false, "send STATUS %s%s%s", code < 9 ? status_names[code] : "?",
          msg && msg[0] ? " " : "", nz(msg));
    /* a missing file is routine (clients probe their targets with STAT) */
    if (code == SFTP_FX_NO_SUCH_FILE)
        log_debug(&s->lc, "sftp: request %u: %s", id, nz(msg));
    else if (code != SFTP_FX_OK && code != SFTP_FX_EOF)
        log_info(&s->lc, "sftp: request %u refused: %s", id, nz(msg));
    sftp_out_status(&s->out, id, code, msg);
}

static void ok(struct sess *s, uint32_t id)
{
    status(s, id, SFTP_FX_OK, "");
}

/* An ifs error as an SFTP status: the code the client understands, the message IOS would show. */
static void status_err(struct sess *s, uint32_t id, const struct scpd_err *e)
{
    uint32_t code = SFTP_FX_FAILURE;
    if (e->code == SCPD_E_NOTFOUND)
        code = SFTP_FX_NO_SUCH_FILE;
    else if (e->code == SCPD_E_DENIED)
        code = SFTP_FX_PERMISSION_DENIED;
    status(s, id, code, e->msg[0] ? e->msg : "%Error (no reason given)");
}

__attribute__((format(printf, 4, 5))) static void statusf(struct sess *s, uint32_t id,
                                                          uint32_t code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    status(s, id, code, msg);
}

static void unsupported(struct sess *s, uint32_t id, const char *what)
{
    if (s->ctx->stats)
        stats_inc(s->ctx->stats, STATS_REFUSED_OTHER, 1);
    statusf(s, id, SFTP_FX_OP_UNSUPPORTED, "%%Error: %s", what);
}

static int flush(struct sess *s)
{
    if (s->out.len == 0 || s->dead)
        return s->dead ? -1 : 0;
    if (s->io->write(s->io->ctx, s->out.buf, s->out.len) < 0) {
        s->dead = true;
        snprintf(s->lasterr, sizeof(s->lasterr), "connection lost while sending");
        return -1;
    }
    s->out.len = 0;
    return 0;
}

/* Room for need bytes at the end of the output buffer, for a reply or as scratch space: flushes,
 * and the first time a large reply needs it, grows the buffer to its full size (an idle or
 * browsing session keeps small buffers). -1 when the channel or memory failed. */
static int out_reserve(struct sess *s, size_t need)
{
    if (sftp_out_room(&s->out) >= need)
        return 0;
    if (flush(s) < 0)
        return -1;
    if (s->out.cap >= need)
        return 0;
    uint8_t *nb = realloc(s->out.buf, SFTP_OUT_CAP);
    if (!nb)
        return -1;
    s->out.buf = nb;
    s->out.cap = SFTP_OUT_CAP;
    return 0;
}

/* ---- attributes ---------------------------------------------------------------------------------
 */

static uint32_t clamp_time(int64_t t)
{
    return t < 0 ? 0 : t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static void to_attrs(const struct ifs_stat *st, struct sftp_attrs *a)
{
    memset(a, 0, sizeof(*a));
    a->flags = SFTP_ATTR_SIZE | SFTP_ATTR_PERMISSIONS | SFTP_ATTR_ACMODTIME;
    a->size = st->size;
    a->perm = (st->dir ? S_IFDIR : S_IFREG) | (st->mode & 07777);
    a->atime = clamp_time(st->atime);
    a->mtime = clamp_time(st->mtime);
}

/* ---- paths and handles --------------------------------------------------------------------------
 */

/* An SFTP session lives long (an open sftp prompt): `no ip scp server enable` applies to its
 * next request that names a path, not only to the next login. Transfers already open go on, as an
 * SCP transfer in progress does. */
static bool scp_still_enabled(struct sess *s)
{
    if (!s->ctx->store)
        return true;
    const struct store_snap *snap = store_snapshot(s->ctx->store);
    bool on = snap && snap->cfg->scp_enable;
    if (snap)
        store_snap_release(snap);
    return on;
}

/* The request's path resolved; on failure the reply is sent and -1 returned. */
static int resolve(struct sess *s, const struct sftp_req *q, const struct sftp_str *str,
                   struct ifs_path *p)
{
    char path[LIM_PATH_LEN];
    struct scpd_err err = {0};
    if (!scp_still_enabled(s)) {
        if (s->ctx->stats)
            stats_inc(s->ctx->stats, STATS_REFUSED_DISABLED, 1);
        status(s, q->id, SFTP_FX_PERMISSION_DENIED,
               "SCP server is disabled (ip scp server enable)");
        return -1;
    }
    if (sftp_proto_cstr(str, path, sizeof(path), &err) == 0 && sftp_proto_path(path, p, &err) == 0)
        return 0;
    if (s->ctx->stats && err.code != SCPD_E_NOTFOUND)
        stats_inc(s->ctx->stats, STATS_REFUSED_PATH, 1);
    status_err(s, q->id, &err);
    return -1;
}

static struct handle *handle_new(struct sess *s, uint32_t id, enum hkind kind,
                                 const struct ifs_path *p)
{
    for (int i = 0; i < LIM_SFTP_HANDLES; i++) {
        struct handle *h = &s->h[i];
        if (h->kind != H_FREE)
            continue;
        memset(h, 0, sizeof(*h));
        h->kind = kind;
        h->gen = ++s->gen;
        h->path = *p;
        return h;
    }
    if (s->ctx->stats)
        stats_inc(s->ctx->stats, STATS_REFUSED_OTHER, 1);
    statusf(s, id, SFTP_FX_FAILURE, "%%Error: too many open files (limit %d per session)",
            LIM_SFTP_HANDLES);
    return NULL;
}

static void handle_reply(struct sess *s, uint32_t id, const struct handle *h)
{
    uint8_t b[SFTP_HANDLE_LEN];
    uint32_t slot = (uint32_t)(h - s->h);
    memcpy(b, &slot, 4);
    memcpy(b + 4, &h->gen, 4);
    TRACE(s, false, "send HANDLE %u", slot);
    sftp_out_handle(&s->out, id, b, sizeof(b));
}

/* The handle of a request, of one of the kinds in mask (1 << kind); else the reply is sent. */
static struct handle *handle_get(struct sess *s, const struct sftp_req *q, unsigned mask)
{
    uint32_t slot, gen;
    if (q->handle.len == SFTP_HANDLE_LEN) {
        memcpy(&slot, q->handle.p, 4);
        memcpy(&gen, q->handle.p + 4, 4);
        if (slot < LIM_SFTP_HANDLES && s->h[slot].kind != H_FREE && s->h[slot].gen == gen) {
            if (mask & (1u << s->h[slot].kind))
                return &s->h[slot];
            statusf(s, q->id, SFTP_FX_FAILURE, "%%Error: %s is not open for %s",
                    s->h[slot].path.name, sftp_proto_type_name(q->type));
            return NULL;
        }
    }
    statusf(s, q->id, SFTP_FX_FAILURE, "%%Error: invalid handle");
    return NULL;
}

static void xfer_end(struct sess *s, struct handle *h, const char *result, const char *error)
{
    if (s->ctx->stats && h->x)
        stats_xfer_end(s->ctx->stats, h->x, result, error);
    h->x = NULL;
}

static struct stats_xfer *xfer_begin(struct sess *s, bool upload, const struct ifs_path *p,
                                     uint64_t size)
{
    if (!s->ctx->stats)
        return NULL;
    return stats_xfer_begin(s->ctx->stats, s->ctx->sid, nz(s->ctx->user), nz(s->ctx->peer), upload,
                            p->name, size);
}

/* Releases a handle without committing anything (CLOSE of a read or dir handle, session end). */
static void handle_free(struct sess *s, struct handle *h, const char *why)
{
    if (h->kind == H_READ) {
        bool done = h->pos >= h->st.size;
        xfer_end(s, h, done ? "ok" : "aborted", done ? NULL : why);
        ifs_read_close(h->rd);
    } else if (h->kind == H_WRITE) {
        xfer_end(s, h, "aborted", why);
    }
    ifs_write_abort(h->w);
    free(h->ents);
    memset(h, 0, sizeof(*h));
}

/* ---- INIT, REALPATH, STAT -----------------------------------------------------------------------
 */

static void do_init(struct sess *s, const struct sftp_req *q)
{
    static const char *const names[] = {"limits@openssh.com", "statvfs@openssh.com",
                                        "posix-rename@openssh.com"};
    static const char *const values[] = {"1", "2", "1"};
    TRACE(s, true, "recv INIT version %u", q->id);
    s->inited = true;
    sftp_out_version(&s->out, names, values, sizeof(names) / sizeof(names[0]));
    TRACE(s, false, "send VERSION %d", SFTP_VERSION);
}

static void do_realpath(struct sess *s, const struct sftp_req *q)
{
    struct ifs_path p;
    char real[LIM_PATH_LEN + 16];
    struct sftp_attrs a = {0};
    TRACE(s, true, "recv REALPATH %.*s", (int)q->path.len, (const char *)q->path.p);
    if (resolve(s, q, &q->path, &p) < 0)
        return;
    if (sftp_proto_realname(&p, real, sizeof(real)) < 0) {
        statusf(s, q->id, SFTP_FX_FAILURE, "%%Error: %s has no SFTP path", p.name);
        return;
    }
    TRACE(s, false, "send NAME %s", real);
    sftp_out_name_begin(&s->out, q->id);
    sftp_out_name_add(&s->out, real, real, &a);
    sftp_out_name_end(&s->out);
}

/* STAT and LSTAT: the same, as ifs never follows a symlink (it refuses them). */
static void do_stat(struct sess *s, const struct sftp_req *q)
{
    struct ifs_path p;
    struct ifs_stat st;
    struct sftp_attrs a;
    struct scpd_err err = {0};
    TRACE(s, true, "recv %s %.*s", sftp_proto_type_name(q->type), (int)q->path.len,
          (const char *)q->path.p);
    if (resolve(s, q, &q->path, &p) < 0)
        return;
    if (ifs_stat(s->ctx->ifs, &p, &st, &err) < 0) {
        status_err(s, q->id, &err);
        return;
    }
    to_attrs(&st, &a);
    TRACE(s, false, "send ATTRS %s size %llu", p.name, (unsigned long long)st.size);
    sftp_out_attrs(&s->out, q->id, &a);
}

static void do_fstat(struct sess *s, const struct sftp_req *q)
{
    struct sftp_attrs a;
    struct handle *h = handle_get(s, q, 1u << H_READ | 1u << H_WRITE | 1u << H_DIR);
    if (!h)
        return;
    struct ifs_stat st = h->st;
    if (h->kind == H_WRITE) {
        st.size = h->w ? ifs_write_size(h->w) : 0;
        st.mode = h->mode;
    }
    to_attrs(&st, &a);
    TRACE(s, true, "recv FSTAT %s", h->path.name);
    sftp_out_attrs(&s->out, q->id, &a);
}

/* ---- SETSTAT, FSETSTAT --------------------------------------------------------------------------
 */

/* ifs has no chmod: asking for the mode a file already has is fine, another one is refused. */
static int mode_check(struct sess *s, uint32_t id, const struct sftp_attrs *a,
                      const struct ifs_stat *st, const struct ifs_path *p)
{
    if (!(a->flags & SFTP_ATTR_PERMISSIONS) || (a->perm & 07777) == (st->mode & 07777))
        return 0;
    unsupported(s, id, "changing the mode of an existing file is not supported");
    return -1;
}

static void do_setstat(struct sess *s, const struct sftp_req *q)
{
    struct ifs_path p;
    struct ifs_stat st;
    struct scpd_err err = {0};
    const struct sftp_attrs *a = &q->attrs;
    TRACE(s, true, "recv SETSTAT %.*s flags 0x%x", (int)q->path.len, (const char *)q->path.p,
          a->flags);
    if (resolve(s, q, &q->path, &p) < 0)
        return;
    if (ifs_stat(s->ctx->ifs, &p, &st, &err) < 0) {
        status_err(s, q->id, &err);
        return;
    }
    if (a->flags & SFTP_ATTR_SIZE && a->size != st.size) {
        unsupported(s, q->id, "changing the size of a file is not supported (upload it again)");
        return;
    }
    if (mode_check(s, q->id, a, &st, &p) < 0)
        return;
    /* owner and group: IOS file systems have none; ignored */
    if ((a->flags & SFTP_ATTR_ACMODTIME) &&
        ifs_set_times(s->ctx->ifs, &p, a->mtime, a->atime, &err) < 0) {
        status_err(s, q->id, &err);
        return;
    }
    ok(s, q->id);
}

static void do_fsetstat(struct sess *s, const struct sftp_req *q)
{
    struct scpd_err err = {0};
    const struct sftp_attrs *a = &q->attrs;
    struct handle *h = handle_get(s, q, 1u << H_READ | 1u << H_WRITE);
    if (!h)
        return;
    TRACE(s, true, "recv FSETSTAT %s flags 0x%x", h->path.name, a->flags);
    if (h->kind == H_READ) {
        if (a->flags & SFTP_ATTR_SIZE && a->size != h->st.size) {
            unsupported(s, q->id, "changing the size of a file open for reading");
            return;
        }
        if (mode_check(s, q->id, a, &h->st, &h->path) < 0)
            return;
        if ((a->flags & SFTP_ATTR_ACMODTIME) &&
            ifs_set_times(s->ctx->ifs, &h->path, a->mtime, a->atime, &err) < 0) {
            status_err(s, q->id, &err);
            return;
        }
        ok(s, q->id);
        return;
    }
    /* an upload in progress: the size now, everything else at CLOSE */
    if (a->flags & SFTP_ATTR_SIZE) {
        if (h->failed) {
            status(s, q->id, SFTP_FX_FAILURE, h->ferr);
            return;
        }
        if (ifs_write_truncate(h->w, a->size, &err) < 0) {
            status_err(s, q->id, &err);
            return;
        }
    }
    if (a->flags & SFTP_ATTR_PERMISSIONS)
        h->mode = a->perm & 07777;
    if (a->flags & SFTP_ATTR_ACMODTIME) {
        h->has_times = true;
        h->mtime = a->mtime;
        h->atime = a->atime;
    }
    ok(s, q->id);
}

/* ---- OPEN
 * ----------------------------------------------------------------------------------------- */

static void open_read(struct sess *s, const struct sftp_req *q, const struct ifs_path *p)
{
    struct scpd_err err = {0};
    struct ifs_stat st;
    struct ifs_reader *rd = ifs_read_open(s->ctx->ifs, p, &st, &err);
    if (!rd) {
        if (s->ctx->stats && (err.code == SCPD_E_DENIED || err.code == SCPD_E_INVALID))
            stats_inc(s->ctx->stats, STATS_REFUSED_PATH, 1);
        status_err(s, q->id, &err);
        return;
    }
    struct handle *h = handle_new(s, q->id, H_READ, p);
    if (!h) {
        ifs_read_close(rd);
        return;
    }
    h->rd = rd;
    h->st = st;
    h->x = xfer_begin(s, false, p, st.size);
    log_info(&s->lc, "sftp: download of %s (%llu bytes)", p->name, (unsigned long long)st.size);
    handle_reply(s, q->id, h);
}

/* The directory an upload goes to must exist: say so at OPEN, not after all the data. */
static int parent_check(struct sess *s, const struct ifs_path *p, struct scpd_err *err)
{
    struct ifs_path parent = *p;
    struct ifs_stat st;
    char *slash = strrchr(parent.rel, '/');
    if (p->kind != IFS_K_DISK)
        return 0;
    if (slash)
        *slash = '\0';
    else
        parent.rel[0] = '\0';
    if (ifs_stat(s->ctx->ifs, &parent, &st, err) < 0)
        return scpd_err_set(err, err->code, "%%Error opening %s (%s)", p->name,
                            err->code == SCPD_E_NOTFOUND ? "no such directory" : err->msg);
    if (!st.dir)
        return scpd_err_set(err, SCPD_E_NOTFOUND, "%%Error opening %s (not a directory)", p->name);
    return 0;
}

static void open_write(struct sess *s, const struct sftp_req *q, const struct ifs_path *p)
{
    struct scpd_err err = {0};
    struct ifs_stat st;
    struct store_who who = {.user = s->ctx->user, .source = "sftp", .peer = s->ctx->peer};
    bool exists = ifs_stat(s->ctx->ifs, p, &st, &err) == 0;
    if (!exists && err.code != SCPD_E_NOTFOUND) {
        status_err(s, q->id, &err);
        return;
    }
    if (exists && st.dir) {
        statusf(s, q->id, SFTP_FX_FAILURE, "%%Error opening %s (is a directory)", p->name);
        return;
    }
    if (!exists && !(q->pflags & SFTP_FXF_CREAT)) {
        status_err(s, q->id, &err);
        return;
    }
    if (!exists && parent_check(s, p, &err) < 0) {
        status_err(s, q->id, &err);
        return;
    }
    if (exists && (q->pflags & SFTP_FXF_CREAT) && (q->pflags & SFTP_FXF_EXCL)) {
        statusf(s, q->id, SFTP_FX_FAILURE, "%%Error opening %s (file exists)", p->name);
        return;
    }
    struct handle *h = handle_new(s, q->id, H_WRITE, p);
    if (!h)
        return;
    h->append = q->pflags & SFTP_FXF_APPEND;
    h->mode = q->attrs.flags & SFTP_ATTR_PERMISSIONS ? q->attrs.perm & 07777
              : exists                               ? st.mode
                                                     : 0644;
    h->st = exists ? st : (struct ifs_stat){.mode = h->mode};
    h->w = ifs_write_open(s->ctx->ifs, p, IFS_SIZE_UNKNOWN, h->mode, &who, &err);
    /* without TRUNC what the client does not overwrite stays (config files start empty) */
    if (!h->w ||
        (exists && !(q->pflags & SFTP_FXF_TRUNC) && ifs_write_keep(h->w, &err) < 0)) {
        if (s->ctx->stats && (err.code == SCPD_E_DENIED || err.code == SCPD_E_LIMIT))
            stats_inc(s->ctx->stats, err.code == SCPD_E_DENIED ? STATS_REFUSED_PATH
                                                                : STATS_REFUSED_OTHER, 1);
        handle_free(s, h, NULL);
        status_err(s, q->id, &err);
        return;
    }
    h->x = xfer_begin(s, true, p, 0);
    log_info(&s->lc, "sftp: upload to %s", p->name);
    handle_reply(s, q->id, h);
}

static void do_open(struct sess *s, const struct sftp_req *q)
{
    struct ifs_path p;
    uint32_t f = q->pflags;
    TRACE(s, true, "recv OPEN %.*s%s%s%s%s%s%s", (int)q->path.len, (const char *)q->path.p,
          f & SFTP_FXF_READ ? " read" : "", f & SFTP_FXF_WRITE ? " write" : "",
          f & SFTP_FXF_APPEND ? " append" : "", f & SFTP_FXF_CREAT ? " creat" : "",
          f & SFTP_FXF_TRUNC ? " trunc" : "", f & SFTP_FXF_EXCL ? " excl" : "");
    if (resolve(s, q, &q->path, &p) < 0)
        return;
    if ((f & SFTP_FXF_READ) && (f & SFTP_FXF_WRITE))
        unsupported(s, q->id,
                    "opening a file for reading and writing at once is not supported "
                    "(uploads replace the file when it is closed)");
    else if (f & SFTP_FXF_WRITE)
        open_write(s, q, &p);
    else if (f & SFTP_FXF_READ)
        open_read(s, q, &p);
    else
        statusf(s, q->id, SFTP_FX_FAILURE, "%%Error opening %s (neither read nor write asked)",
                p.name);
}

/* ---- READ, WRITE
 * ---------------------------------------------------------------------------------- */

/* Positions the reader at off: forward by reading into scratch, backward by reopening. */
static int read_seek(struct sess *s, struct handle *h, uint64_t off, uint8_t *scratch,
                     struct scpd_err *err)
{
    if (off < h->pos) {
        struct ifs_reader *rd = ifs_read_open(s->ctx->ifs, &h->path, NULL, err);
        if (!rd)
            return -1;
        ifs_read_close(h->rd);
        h->rd = rd;
        h->pos = 0;
    }
    while (h->pos < off) {
        uint64_t want = off - h->pos < LIM_SFTP_DATA ? off - h->pos : LIM_SFTP_DATA;
        ssize_t n = ifs_read(h->rd, scratch, (size_t)want, err);
        if (n <= 0)
            return n < 0 ? -1 : 0;
        h->pos += (uint64_t)n;
    }
    return 0;
}

static void do_read(struct sess *s, const struct sftp_req *q)
{
    struct scpd_err err = {0};
    uint8_t *dst;
    struct handle *h = handle_get(s, q, 1u << H_READ);
    if (!h)
        return;
    size_t want = q->len < LIM_SFTP_DATA ? q->len : LIM_SFTP_DATA;
    /* ifs replaces files by rename, so an open file keeps the size it had at OPEN */
    if (q->offset >= h->st.size || want == 0) {
        status(s, q->id, SFTP_FX_EOF, "");
        return;
    }
    /* skipping to another offset reads through the reply's room in LIM_SFTP_DATA steps */
    if (out_reserve(s, 13 + (q->offset != h->pos ? LIM_SFTP_DATA : want)) < 0 ||
        sftp_out_data_begin(&s->out, q->id, &dst, want) < 0) {
        statusf(s, q->id, SFTP_FX_FAILURE, "%%Error: out of memory");
        return;
    }
    if (q->offset != h->pos && read_seek(s, h, q->offset, dst, &err) < 0) {
        sftp_out_cancel(&s->out);
        status_err(s, q->id, &err);
        return;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = ifs_read(h->rd, dst + got, want - got, &err);
        if (n < 0) {
            sftp_out_cancel(&s->out);
            status_err(s, q->id, &err);
            return;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got == 0) {
        sftp_out_cancel(&s->out);
        status(s, q->id, SFTP_FX_EOF, "");
        return;
    }
    sftp_out_data_end(&s->out, got);
    h->pos += got;
    h->bytes += got;
    h->ops++;
    s->bytes += got;
    if (h->x)
        stats_xfer_progress(h->x, got);
}

/* OpenSSH's sftp and scp show only the status code of a failed WRITE or CLOSE ("Failure"): the
 * reason goes to the channel's stderr too, which they print. */
static void tell_user(struct sess *s, const char *msg)
{
    char line[600];
    int n = snprintf(line, sizeof(line), "%s\r\n", msg);
    if (s->io->write_err && n > 0)
        s->io->write_err(s->io->ctx, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void do_write(struct sess *s, const struct sftp_req *q)
{
    struct handle *h = handle_get(s, q, 1u << H_WRITE);
    if (!h)
        return;
    size_t len = q->data.len;
    struct scpd_err err = {0};
    if (h->failed) {
        status(s, q->id, SFTP_FX_FAILURE, h->ferr);
        return;
    }
    uint64_t off = h->append ? ifs_write_size(h->w) : q->offset;
    if (ifs_pwrite(h->w, q->data.p, len, off, &err) < 0) {
        /* the upload is over: its temporary file goes now, not at CLOSE (space, a dead client) */
        snprintf(h->ferr, sizeof(h->ferr), "%s", err.msg);
        h->failed = true;
        ifs_write_abort(h->w);
        h->w = NULL;
        if (s->ctx->stats && err.code == SCPD_E_LIMIT)
            stats_inc(s->ctx->stats, STATS_REFUSED_OTHER, 1);
        tell_user(s, err.msg);
        status_err(s, q->id, &err);
        return;
    }
    h->bytes += len;
    h->ops++;
    s->bytes += len;
    if (h->x)
        stats_xfer_progress(h->x, len);
    sftp_out_status(&s->out, q->id, SFTP_FX_OK, ""); /* data requests are traced at CLOSE */
}

/* ---- CLOSE
 * ------------------------------------------------------------------------------------------ */

/* The one atomic upload path's commit. 0, or -1 with err (and *detail). */
static int commit(struct handle *h, char **detail, struct scpd_err *err)
{
    int64_t times[2] = {h->mtime, h->atime};
    struct ifs_writer *w = h->w;
    h->w = NULL; /* the commit frees it, whatever the outcome */
    ifs_write_set_mode(w, h->mode);
    return ifs_write_commit(w, h->has_times ? times : NULL, detail, err);
}

static void close_write(struct sess *s, const struct sftp_req *q, struct handle *h)
{
    struct scpd_err err = {0};
    char *detail = NULL;
    TRACE(s, true, "recv CLOSE %s: %llu bytes in %u writes", h->path.name,
          (unsigned long long)h->bytes, h->ops);
    if (h->failed) {
        xfer_end(s, h, "failed", h->ferr);
        status(s, q->id, SFTP_FX_FAILURE, h->ferr);
        handle_free(s, h, NULL);
        return;
    }
    uint64_t size = ifs_write_size(h->w);
    if (commit(h, &detail, &err) < 0) {
        if (detail) {
            log_info(&s->lc, "sftp: %s refused:\n%s", h->path.name, detail);
            if (s->io->write_err)
                s->io->write_err(s->io->ctx, detail, strlen(detail));
        }
        if (!detail)
            tell_user(s, err.msg);
        free(detail);
        xfer_end(s, h, "failed", err.msg);
        status_err(s, q->id, &err);
        handle_free(s, h, NULL);
        return;
    }
    xfer_end(s, h, "ok", NULL);
    log_info(&s->lc, "sftp: received %s (%llu bytes)", h->path.name, (unsigned long long)size);
    ok(s, q->id);
    handle_free(s, h, NULL);
}

static void do_close(struct sess *s, const struct sftp_req *q)
{
    struct handle *h = handle_get(s, q, 1u << H_READ | 1u << H_WRITE | 1u << H_DIR);
    if (!h)
        return;
    if (h->kind == H_WRITE) {
        close_write(s, q, h);
        return;
    }
    if (h->kind == H_READ) {
        TRACE(s, true, "recv CLOSE %s: %llu bytes in %u reads", h->path.name,
              (unsigned long long)h->bytes, h->ops);
        if (h->pos >= h->st.size)
            log_info(&s->lc, "sftp: sent %s (%llu bytes)", h->path.name,
                     (unsigned long long)h->bytes);
    } else {
        TRACE(s, true, "recv CLOSE %s", h->path.name);
    }
    handle_free(s, h, "closed before the end of the file");
    ok(s, q->id);
}

/* ---- directories
 * ------------------------------------------------------------------------------------ */

static int dirent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ifs_dirent *)a)->name, ((const struct ifs_dirent *)b)->name);
}

/* Puts name into the listing h of SFTP directory dir when dir/name is what IFS path ifs names (in
 * "/" but not in "/bootflash", where "bootflash" is an ordinary name), with its attributes; an
 * entry of that name read from the directory gives way, as the name resolves to what is added. */
static int add_entry(struct sess *s, struct handle *h, const char *dir, const char *name,
                     const char *ifs)
{
    char joined[LIM_PATH_LEN + 40];
    struct ifs_path p, want;
    struct scpd_err e = {0};
    int r = snprintf(joined, sizeof(joined), "%s/%s", dir, name);
    if (r < 0 || (size_t)r >= sizeof(joined) || sftp_proto_path(joined, &p, &e) < 0 ||
        ifs_resolve(ifs, &want, &e) < 0 || p.kind != want.kind || strcmp(p.name, want.name) != 0)
        return 0;
    struct ifs_dirent *v = realloc(h->ents, (h->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    h->ents = v;
    size_t k;
    for (k = 0; k < h->n && strcmp(v[k].name, name) != 0; k++)
        ;
    if (ifs_stat(s->ctx->ifs, &p, &v[k].st, &e) < 0)
        return 0;   /* no store: not shown */
    snprintf(v[k].name, sizeof(v[k].name), "%s", name);
    if (k == h->n)
        h->n++;
    return 0;
}

/* The home "/" also shows what its first names reach (docs/scp.md, SFTP paths): the virtual
 * files that live there (/running-config, /startup-config) and, as directories, the disk file
 * systems under each of their names (/bootflash, /flash, /nvram), so a client that browses from
 * "/" finds them. */
static int add_root_virtuals(struct sess *s, struct handle *h, const char *dir)
{
    static const char *const names[] = {"running-config", "startup-config"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (add_entry(s, h, dir, names[i], names[i]) < 0)
            return -1;
    for (int fs = 0; fs < IFS_FS_COUNT; fs++) {
        struct ifs_fs_info in;
        struct scpd_err e = {0};
        if (ifs_describe(s->ctx->ifs, (enum ifs_fs)fs, &in, &e) < 0 || !in.sized)
            continue;   /* virtual files only (system:): not a directory to browse */
        for (size_t i = 0; i < sizeof(in.prefixes) / sizeof(in.prefixes[0]) && in.prefixes[i];
             i++) {
            char ifs[40];
            snprintf(ifs, sizeof(ifs), "%s:", in.prefixes[i]);
            if (add_entry(s, h, dir, in.prefixes[i], ifs) < 0)
                return -1;
        }
    }
    if (h->n > 1)   /* an empty listing may have no array at all (qsort wants one) */
        qsort(h->ents, h->n, sizeof(*h->ents), dirent_cmp);
    return 0;
}

static void do_opendir(struct sess *s, const struct sftp_req *q)
{
    struct ifs_path p;
    struct scpd_err err = {0};
    struct ifs_dirent *ents = NULL;
    size_t n = 0;
    TRACE(s, true, "recv OPENDIR %.*s", (int)q->path.len, (const char *)q->path.p);
    if (resolve(s, q, &q->path, &p) < 0)
        return;
    if (ifs_list(s->ctx->ifs, &p, &ents, &n, &err) < 0) {
        status_err(s, q->id, &err);
        return;
    }
    struct handle *h = handle_new(s, q->id, H_DIR, &p);
    if (!h) {
        free(ents);
        return;
    }
    h->ents = ents;
    h->n = n;
    h->st.dir = true;
    h->st.mode = 0755;
    char dir[LIM_PATH_LEN];
    if (p.fs == IFS_FS_BOOTFLASH && p.rel[0] == '\0' &&
        (sftp_proto_cstr(&q->path, dir, sizeof(dir), &err) < 0 ||
         add_root_virtuals(s, h, dir) < 0)) {
        handle_free(s, h, NULL);
        statusf(s, q->id, SFTP_FX_FAILURE, "%%Error: out of memory");
        return;
    }
    handle_reply(s, q->id, h);
}

static void do_readdir(struct sess *s, const struct sftp_req *q)
{
    char longname[LIM_NAME_LEN + 128];
    struct sftp_attrs a;
    struct handle *h = handle_get(s, q, 1u << H_DIR);
    if (!h)
        return;
    if (h->next >= h->n) {
        TRACE(s, false, "send STATUS EOF (%s: %zu entries)", h->path.name, h->n);
        sftp_out_status(&s->out, q->id, SFTP_FX_EOF, "");
        return;
    }
    int64_t now = (int64_t)time(NULL);
    if (out_reserve(s, SFTP_NAMES_ROOM) < 0) {
        statusf(s, q->id, SFTP_FX_FAILURE, "%%Error: out of memory");
        return;
    }
    sftp_out_name_begin(&s->out, q->id);
    for (int k = 0; k < SFTP_NAMES_MAX && h->next < h->n; k++, h->next++) {
        const struct ifs_dirent *e = &h->ents[h->next];
        to_attrs(&e->st, &a);
        if (sftp_proto_longname(longname, sizeof(longname), e->name, &a, now) < 0 ||
            sftp_out_name_add(&s->out, e->name, longname, &a) < 0)
            break;
    }
    sftp_out_name_end(&s->out);
}

static void do_mkdir(struct sess *s, const struct sftp_req *q)
{
    struct ifs_path p;
    struct ifs_stat st;
    struct scpd_err err = {0};
    TRACE(s, true, "recv MKDIR %.*s", (int)q->path.len, (const char *)q->path.p);
    if (resolve(s, q, &q->path, &p) < 0)
        return;
    if (ifs_stat(s->ctx->ifs, &p, &st, &err) == 0) {
        statusf(s, q->id, SFTP_FX_FAILURE, "%%Error creating %s (%s exists)", p.name,
                st.dir ? "a directory of that name" : "a file of that name");
        return;
    }
    unsigned mode = q->attrs.flags & SFTP_ATTR_PERMISSIONS ? q->attrs.perm & 07777 : 0755;
    if (ifs_mkdir(s->ctx->ifs, &p, mode, &err) < 0) {
        status_err(s, q->id, &err);
        return;
    }
    log_info(&s->lc, "sftp: created directory %s", p.name);
    ok(s, q->id);
}

static void do_remove(struct sess *s, const struct sftp_req *q)
{
    struct ifs_path p;
    struct scpd_err err = {0};
    TRACE(s, true, "recv REMOVE %.*s", (int)q->path.len, (const char *)q->path.p);
    if (resolve(s, q, &q->path, &p) < 0)
        return;
    if (ifs_unlink(s->ctx->ifs, &p, &err) < 0) {
        status_err(s, q->id, &err);
        return;
    }
    log_info(&s->lc, "sftp: deleted %s", p.name);
    ok(s, q->id);
}

static void do_rmdir(struct sess *s, const struct sftp_req *q)
{
    struct ifs_path p;
    struct scpd_err err = {0};
    TRACE(s, true, "recv RMDIR %.*s", (int)q->path.len, (const char *)q->path.p);
    if (resolve(s, q, &q->path, &p) < 0)
        return;
    if (ifs_rmdir(s->ctx->ifs, &p, &err) < 0) {
        status_err(s, q->id, &err);
        return;
    }
    log_info(&s->lc, "sftp: removed directory %s", p.name);
    ok(s, q->id);
}

/* RENAME within a file system: one renameat beneath its root (ifs_rename), so the new name
 * appears complete or not at all (WinSCP uploads to NAME.filepart and renames it). SFTP v3
 * refuses an existing target; posix-rename@openssh.com (replace) overwrites a file. */
static void rename_file(struct sess *s, const struct sftp_req *q, const struct sftp_str *from,
                        const struct sftp_str *to, bool replace)
{
    struct ifs_path a, b;
    struct scpd_err err = {0};
    TRACE(s, true, "recv RENAME %.*s %.*s%s", (int)from->len, (const char *)from->p, (int)to->len,
          (const char *)to->p, replace ? " (replace)" : "");
    if (resolve(s, q, from, &a) < 0 || resolve(s, q, to, &b) < 0)
        return;
    if (a.kind == IFS_K_DISK && b.kind == IFS_K_DISK && a.fs != b.fs) {
        unsupported(s, q->id, "rename across file systems is not supported (copy the file)");
        return;
    }
    if (ifs_rename(s->ctx->ifs, &a, &b, replace, &err) < 0) {
        status_err(s, q->id, &err);
        return;
    }
    log_info(&s->lc, "sftp: renamed %s to %s", a.name, b.name);
    ok(s, q->id);
}

static void do_rename(struct sess *s, const struct sftp_req *q)
{
    rename_file(s, q, &q->path, &q->path2, false);
}

/* ---- what the IOS File System does not offer
 * -------------------------------------------------------- */

static void do_links(struct sess *s, const struct sftp_req *q)
{
    TRACE(s, true, "recv %s %.*s", sftp_proto_type_name(q->type), (int)q->path.len,
          (const char *)q->path.p);
    unsupported(s, q->id, "symbolic links are not supported on this device");
}

/* ---- extensions
 * ------------------------------------------------------------------------------------- */

static void ext_limits(struct sess *s, const struct sftp_req *q)
{
    sftp_out_limits(&s->out, q->id, LIM_SFTP_PACKET, LIM_SFTP_DATA, LIM_SFTP_DATA,
                    LIM_SFTP_HANDLES);
}

/* The n path arguments of an extension; on failure the reply is sent. */
static int ext_paths(struct sess *s, const struct sftp_req *q, struct sftp_str *out, size_t n)
{
    struct scpd_err err = {0};
    if (sftp_proto_ext_paths(q, out, n, &err) == 0)
        return 0;
    status(s, q->id, err.code == SCPD_E_LIMIT ? SFTP_FX_FAILURE : SFTP_FX_BAD_MESSAGE, err.msg);
    return -1;
}

static void ext_posix_rename(struct sess *s, const struct sftp_req *q)
{
    struct sftp_str a[2];
    if (ext_paths(s, q, a, 2) == 0)
        rename_file(s, q, &a[0], &a[1], true);
}

static void ext_statvfs(struct sess *s, const struct sftp_req *q)
{
    struct sftp_str path;
    struct ifs_path p;
    struct scpd_err err = {0};
    uint64_t size, avail;
    if (ext_paths(s, q, &path, 1) < 0 || resolve(s, q, &path, &p) < 0)
        return;
    if (ifs_space(s->ctx->ifs, p.kind == IFS_K_DISK ? p.fs : IFS_FS_NVRAM, &size, &avail, &err) <
        0) {
        status_err(s, q->id, &err);
        return;
    }
    sftp_out_statvfs(&s->out, q->id, size, avail);
}

static const struct {
    const char *name;
    sftp_handler fn;
} sftp_extensions[] = {
    {"limits@openssh.com", ext_limits},
    {"statvfs@openssh.com", ext_statvfs},
    {"posix-rename@openssh.com", ext_posix_rename},
};

static void do_extended(struct sess *s, const struct sftp_req *q)
{
    TRACE(s, true, "recv EXTENDED %.*s", (int)q->ext.len, (const char *)q->ext.p);
    for (size_t i = 0; i < sizeof(sftp_extensions) / sizeof(sftp_extensions[0]); i++) {
        const char *name = sftp_extensions[i].name;
        if (strlen(name) == q->ext.len && memcmp(name, q->ext.p, q->ext.len) == 0) {
            sftp_extensions[i].fn(s, q);
            return;
        }
    }
    statusf(s, q->id, SFTP_FX_OP_UNSUPPORTED, "%%Error: extension %.*s is not supported",
            (int)(q->ext.len > 64 ? 64 : q->ext.len), (const char *)q->ext.p);
}

/* ---- dispatch
 * --------------------------------------------------------------------------------------- */

static const struct {
    uint8_t type;
    sftp_handler fn;
} sftp_handlers[] = {
    {SFTP_OPEN, do_open},         {SFTP_CLOSE, do_close},     {SFTP_READ, do_read},
    {SFTP_WRITE, do_write},       {SFTP_LSTAT, do_stat},      {SFTP_STAT, do_stat},
    {SFTP_FSTAT, do_fstat},       {SFTP_SETSTAT, do_setstat}, {SFTP_FSETSTAT, do_fsetstat},
    {SFTP_OPENDIR, do_opendir},   {SFTP_READDIR, do_readdir}, {SFTP_REMOVE, do_remove},
    {SFTP_MKDIR, do_mkdir},       {SFTP_RMDIR, do_rmdir},     {SFTP_REALPATH, do_realpath},
    {SFTP_RENAME, do_rename},     {SFTP_READLINK, do_links},  {SFTP_SYMLINK, do_links},
    {SFTP_EXTENDED, do_extended},
};

static void violation(struct sess *s, const char *msg)
{
    TRACE(s, true, "recv <PROTOCOL ERROR> %s", msg);
    log_notice(&s->lc, "sftp: protocol error, closing: %s", msg);
    snprintf(s->lasterr, sizeof(s->lasterr), "%s", msg);
    if (s->ctx->stats)
        stats_inc(s->ctx->stats, STATS_REFUSED_OTHER, 1);
    s->violation = true;
    s->dead = true;
}

/* Authorization follows the account: each request is re-checked (ctx->authz, cheap while the
 * config does not change). A user no longer allowed gets the reason in a PERMISSION_DENIED
 * status (sftp and paramiko print it) and the session ends: open uploads are discarded. */
static bool still_allowed(struct sess *s, const struct sftp_req *q)
{
    const struct chan_authz *a = s->ctx->authz;
    char why[256];
    int level = s->ctx->privilege;
    if (a == NULL || a->check(a->arg, &level, why, sizeof(why)) == 0)
        return true;
    TRACE(s, true, "recv %s refused: %s", sftp_proto_type_name(q->type), why);
    log_notice(&s->lc, "sftp: %s", why);
    status(s, q->id, SFTP_FX_PERMISSION_DENIED, why);
    snprintf(s->lasterr, sizeof(s->lasterr), "%s", why);
    flush(s);   /* the reason reaches the client before the session ends */
    s->dead = true;
    return false;
}

static void handle_packet(struct sess *s, const uint8_t *pkt, size_t len)
{
    struct sftp_req q;
    struct scpd_err err = {0};
    int r = sftp_proto_parse(pkt, len, &q, &err);
    if (!s->inited || q.type == SFTP_INIT) {
        if (r == 0 && q.type == SFTP_INIT && !s->inited)
            do_init(s, &q);
        else
            violation(s, s->inited ? "second INIT" : "the first packet is not INIT");
        return;
    }
    if (r == 0 && !still_allowed(s, &q))
        return;
    if (r < 0) {
        TRACE(s, true, "recv %s <bad> %s", sftp_proto_type_name(q.type), err.msg);
        status(s, q.id, err.code == SCPD_E_LIMIT ? SFTP_FX_FAILURE : SFTP_FX_BAD_MESSAGE, err.msg);
        return;
    }
    for (size_t i = 0; i < sizeof(sftp_handlers) / sizeof(sftp_handlers[0]); i++) {
        if (sftp_handlers[i].type == q.type) {
            sftp_handlers[i].fn(s, &q);
            return;
        }
    }
    TRACE(s, true, "recv type %u", q.type);
    statusf(s, q.id, SFTP_FX_OP_UNSUPPORTED, "%%Error: request type %u is not supported", q.type);
}

/* The loop of the file comment. */
static void serve(struct sess *s)
{
    struct scpd_err err = {0};
    for (;;) {
        size_t plen = 0;
        int r;
        while ((r = sftp_proto_frame(s->in + s->off, s->len - s->off, &plen, &err)) == 1) {
            if (sftp_out_room(&s->out) < SFTP_REPLY_SMALL && flush(s) < 0)
                return;
            handle_packet(s, s->in + s->off, plen);
            s->off += plen;
            plen = 0;
            if (s->dead)
                return;
        }
        if (r < 0) {
            violation(s, err.msg);
            return;
        }
        /* the pending packet needs need bytes in all: make room, moving it to the front when the
         * buffer's end is near, growing the buffer once for the first large packet */
        size_t need = plen ? plen : 4;
        if (s->off == s->len) {
            s->off = s->len = 0;
        } else if (s->off + need > s->incap || s->incap - s->len < s->incap / 4) {
            memmove(s->in, s->in + s->off, s->len - s->off);
            s->len -= s->off;
            s->off = 0;
        }
        if (need > s->incap) {
            uint8_t *nb = realloc(s->in, SFTP_IN_CAP);
            if (!nb) {
                violation(s, "out of memory");
                return;
            }
            s->in = nb;
            s->incap = SFTP_IN_CAP;
        }
        if (flush(s) < 0)
            return;
        size_t want = s->incap - s->len < SFTP_SLICE ? s->incap - s->len : SFTP_SLICE;
        ssize_t n = s->io->read(s->io->ctx, s->in + s->len, want);
        if (n <= 0) {
            if (n < 0)
                snprintf(s->lasterr, sizeof(s->lasterr), "connection lost while receiving");
            return;
        }
        s->len += (size_t)n;
    }
}

int sftp_session_run(const struct chan_ctx *ctx, const struct chan_io *io)
{
    struct sess *s = calloc(1, sizeof(*s));
    if (!s)
        return 1;
    s->ctx = ctx;
    s->io = io;
    s->lc = (struct log_ctx){.sid = ctx->sid, .user = ctx->user, .peer = ctx->peer};
    s->incap = SFTP_SMALL_CAP;
    s->in = malloc(s->incap);
    uint8_t *out = malloc(SFTP_SMALL_CAP);
    TRACE(s, true, "start user %s subsystem sftp", nz(ctx->user));
    log_info(&s->lc, "sftp: session start");
    if (s->in && out) {
        sftp_out_init(&s->out, out, SFTP_SMALL_CAP);
        serve(s);
        flush(s);
    } else {
        snprintf(s->lasterr, sizeof(s->lasterr), "out of memory");
    }
    int open_files = 0;
    for (int i = 0; i < LIM_SFTP_HANDLES; i++) {
        if (s->h[i].kind == H_FREE)
            continue;
        open_files += s->h[i].kind == H_WRITE;
        handle_free(s, &s->h[i], "session ended before CLOSE");
    }
    if (open_files)
        log_info(&s->lc, "sftp: %d upload(s) not closed: discarded, targets unchanged", open_files);
    TRACE(s, false, "end %llu bytes, %s%s%s", (unsigned long long)s->bytes,
          s->violation ? "failed" : "ok", s->lasterr[0] ? ": " : "", s->lasterr);
    log_info(&s->lc, "sftp: end, %llu bytes%s%s", (unsigned long long)s->bytes,
             s->lasterr[0] ? ", " : "", s->lasterr);
    int rc = s->violation ? 1 : 0;
    free(s->in);
    free(s->out.buf ? s->out.buf : out);
    free(s);
    return rc;
}
