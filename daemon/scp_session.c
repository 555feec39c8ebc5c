/* scp_session: one SCP command over an abstract channel (see scp_session.h).
 *
 * The wire protocol is scp_proto's (no I/O there); this file does the I/O around it: it reads the
 * channel into one 256 KiB buffer, feeds it to the state machine, and acts on each event through
 * the IOS File System (atomic uploads, listings, virtual config files), replying \0 or an error
 * line that names the reason. Downloads are sent in 256 KiB writes from one buffer. Both buffers
 * are allocated once per session; nothing is allocated per chunk, and a file is fsync'd once.
 *
 * Error policy (what OpenSSH's scp expects): a refusal of one file or directory is a \1 line and
 * the client goes on with the next one; a protocol violation is a \2 line and the end of the
 * session. The exit status is 1 when anything was refused or failed.
 * Every protocol step is traced when `debug ip scp` is on; statistics see every transfer. */
#include "daemon/scp_session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ifs/ifs.h"
#include "base/log.h"
#include "daemon/scp_proto.h"
#include "services/stats.h"
#include "store/store.h"
#include "services/trace.h"

#define SCP_BUF (256u << 10)   /* channel reads and writes; see docs/libssh.md */

struct dirlevel {
    struct ifs_path path;
    bool has_time;
    int64_t mtime, atime;
};

struct sess {
    const struct chan_ctx *ctx;
    const struct scp_cmd *cmd;
    const struct chan_io *io;
    struct scp_proto proto;
    struct scp_event ev;
    uint8_t *in;             /* channel input: inlen bytes, in[off..len) not yet parsed */
    size_t incap, off, len;
    uint8_t *buf;            /* source: file data out (SCP_BUF) */
    uint64_t bytes;          /* file data moved */
    int errors;              /* refusals and failures sent */
    bool security_sent;      /* a denied path was reported on the security stream */
    bool dead;               /* channel broken, protocol violation or client gave up */
    bool eof;                /* the client closed its side */
    bool eof_ok;             /* ... right after a complete file: not an error (libssh2) */
    struct log_ctx lc;
    char result[16];
    char lasterr[256];
};

static const char *nz(const char *s)
{
    return s ? s : "";
}

#define TRACE(s, in, ...)                                                                        \
    do {                                                                                         \
        if ((s)->ctx->trace && trace_on((s)->ctx->trace))                                        \
            trace_emit((s)->ctx->trace, (s)->ctx->sid, nz((s)->ctx->peer), in, __VA_ARGS__);     \
    } while (0)

/* ---- command line --------------------------------------------------------------------------- */

/* Next shell word of *pp into out (POSIX quoting: '...', "..." with \ escapes, \x). Returns 1 for a
 * word, 0 at the end, -1 on an unterminated quote or an over-long word. */
static int shell_word(const char **pp, char *out, size_t cap)
{
    const char *s = *pp;
    size_t o = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return 0;
    while (*s && *s != ' ' && *s != '\t') {
        char c = *s++;
        if (c == '\'') {
            while (*s && *s != '\'') {
                if (o + 1 >= cap)
                    return -1;
                out[o++] = *s++;
            }
            if (*s++ != '\'')
                return -1;
            continue;
        }
        if (c == '"') {
            while (*s && *s != '"') {
                if (*s == '\\' && s[1] && strchr("\"\\$`", s[1]))
                    s++;
                if (o + 1 >= cap)
                    return -1;
                out[o++] = *s++;
            }
            if (*s++ != '"')
                return -1;
            continue;
        }
        if (c == '\\') {
            if (*s == '\0')
                return -1;
            c = *s++;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    *pp = s;
    return 1;
}

static const struct {
    char flag;
    size_t offset;
} scp_flags[] = {
    {'t', offsetof(struct scp_cmd, sink)},
    {'f', offsetof(struct scp_cmd, source)},
    {'r', offsetof(struct scp_cmd, recursive)},
    {'p', offsetof(struct scp_cmd, preserve)},
    {'d', offsetof(struct scp_cmd, target_dir)},
    {'v', offsetof(struct scp_cmd, verbose)},
    {'q', SIZE_MAX},   /* quiet: accepted, nothing to do on the server side */
};

static int parse_flags(const char *w, struct scp_cmd *out, struct scpd_err *err)
{
    for (const char *c = w + 1; *c; c++) {
        size_t i, nflags = sizeof(scp_flags) / sizeof(scp_flags[0]);
        for (i = 0; i < nflags && scp_flags[i].flag != *c; i++)
            ;
        if (i == nflags)
            return scpd_err_set(err, SCPD_E_INVALID, "unsupported option -%c", *c);
        if (scp_flags[i].offset != SIZE_MAX)
            *(bool *)((char *)out + scp_flags[i].offset) = true;
    }
    return 0;
}

int scp_cmd_parse(const char *cmdline, struct scp_cmd *out, struct scpd_err *err)
{
    char word[LIM_PATH_LEN];
    const char *s = cmdline;
    bool have_path = false, opts_done = false;
    int r = 0;
    memset(out, 0, sizeof(*out));
    if (!cmdline || strlen(cmdline) >= LIM_SCP_COMMAND_LEN)
        return scpd_err_set(err, SCPD_E_LIMIT, "command line too long");
    r = shell_word(&s, word, sizeof(word));
    const char *base = r > 0 ? strrchr(word, '/') : NULL;
    if (r <= 0 || strcmp(base ? base + 1 : word, "scp") != 0)
        return scpd_err_set(err, SCPD_E_INVALID, "only scp commands are accepted here");
    for (;;) {
        const char *at = s + strspn(s, " \t");
        /* OpenSSH scp -O and pscp send the remote path as typed, unquoted (a shell would split
         * it). There is no shell here and only one path: unquoted text after the options is the
         * path verbatim, spaces included, as IOS reads it. */
        if (opts_done && !have_path && *at && !strpbrk(at, "'\"\\")) {
            size_t n = strlen(at);
            while (n && (at[n - 1] == ' ' || at[n - 1] == '\t'))
                n--;
            if (n >= sizeof(out->path))
                return scpd_err_set(err, SCPD_E_LIMIT, "path too long");
            memcpy(out->path, at, n);
            out->path[n] = '\0';
            have_path = true;
            break;
        }
        if ((r = shell_word(&s, word, sizeof(word))) <= 0)
            break;
        if (!opts_done && strcmp(word, "--") == 0) {
            opts_done = true;
        } else if (!opts_done && word[0] == '-' && word[1] != '\0') {
            if (parse_flags(word, out, err) < 0)
                return -1;
        } else if (!opts_done && !have_path) {
            /* the first non-option word: re-read from its start as the path */
            opts_done = true;
            s = at;
        } else if (have_path) {
            return scpd_err_set(err, SCPD_E_INVALID, "more than one path (quote a path "
                                                     "with spaces)");
        } else {
            snprintf(out->path, sizeof(out->path), "%s", word);
            have_path = true;
            opts_done = true;
        }
    }
    if (!have_path && r < 0)
        return scpd_err_set(err, SCPD_E_INVALID, "bad quoting or path too long");
    if (out->sink == out->source)
        return scpd_err_set(err, SCPD_E_INVALID, "exactly one of -t and -f is required");
    if (!have_path)
        return scpd_err_set(err, SCPD_E_INVALID, "no path given");
    return 0;
}

/* ---- sending -------------------------------------------------------------------------------- */

static int send_raw(struct sess *s, const void *buf, size_t len)
{
    if (s->dead) {
        s->eof_ok = false;   /* more was to be sent after the client left */
        return -1;
    }
    if (s->io->write(s->io->ctx, buf, len) < 0) {
        s->dead = true;
        snprintf(s->lasterr, sizeof(s->lasterr), "connection lost while sending");
        return -1;
    }
    return 0;
}

static int send_ok(struct sess *s)
{
    TRACE(s, false, "send <OK>");
    return send_raw(s, "", 1);
}

/* Sends "\1scp: MSG\n" (type 1, the client continues) or \2 (fatal). */
__attribute__((format(printf, 3, 4)))
static int send_error(struct sess *s, int type, const char *fmt, ...)
{
    char msg[LIM_SCP_ERRMSG_LEN - 8], line[LIM_SCP_ERRMSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char full[LIM_SCP_ERRMSG_LEN];
    snprintf(full, sizeof(full), "scp: %s", msg);
    int n = scp_proto_fmt_reply(line, sizeof(line), type, full);
    s->errors++;
    snprintf(s->lasterr, sizeof(s->lasterr), "%.200s", msg);
    TRACE(s, false, "send <%s> %s", type == 2 ? "FATAL" : "ERR", msg);
    log_info(&s->lc, "scp: refused: %s", msg);
    if (type == 2)
        s->proto.state = SCP_ST_DONE;
    int r = n > 0 ? send_raw(s, line, (size_t)n) : -1;
    if (type == 2)
        s->dead = true;
    return r;
}

static int send_record(struct sess *s, const char *rec, int n)
{
    if (n < 0) {
        send_error(s, 1, "cannot describe a file in the protocol");
        return -1;
    }
    TRACE(s, false, "send %.*s", n > 0 ? n - 1 : 0, rec);
    return send_raw(s, rec, (size_t)n);
}

/* Authorization follows the account: each file and directory is re-checked (ctx->authz). A user
 * no longer allowed gets a fatal error line with the reason and the session ends. true: go on. */
static bool still_allowed(struct sess *s)
{
    const struct chan_authz *a = s->ctx->authz;
    char why[256];
    int level = s->ctx->privilege;
    if (a == NULL || a->check(a->arg, &level, why, sizeof(why)) == 0)
        return true;
    send_error(s, 2, "%s", why);
    return false;
}

/* ---- receiving ------------------------------------------------------------------------------ */

/* Next protocol event into s->ev. Returns 1, 0 at EOF, -1 on a read error. */
static int next_event(struct sess *s)
{
    for (;;) {
        size_t used = scp_proto_feed(&s->proto, s->in + s->off, s->len - s->off, &s->ev);
        s->off += used;
        if (s->ev.type != SCP_EV_NONE)
            return 1;
        if (s->proto.state == SCP_ST_DONE)
            return 0;
        if (s->off < s->len)
            continue;
        ssize_t n = s->io->read(s->io->ctx, s->in, s->incap);
        if (n <= 0) {
            if (n < 0)
                snprintf(s->lasterr, sizeof(s->lasterr), "connection lost while receiving");
            return n < 0 ? -1 : 0;
        }
        s->off = 0;
        s->len = (size_t)n;
    }
}

/* Traces a client status event; returns 0 for OK, 1 for a warning, -1 for fatal/EOF/error. */
static int client_status(struct sess *s, int r)
{
    if (r <= 0) {
        s->dead = true;
        s->eof = r == 0;
        if (!s->lasterr[0])
            snprintf(s->lasterr, sizeof(s->lasterr), "connection closed by the client");
        if (s->eof)
            TRACE(s, true, "recv <EOF>");
        return -1;
    }
    switch (s->ev.type) {
    case SCP_EV_OK:
        TRACE(s, true, "recv <OK>");
        return 0;
    case SCP_EV_WARN:
        TRACE(s, true, "recv <ERR> %s", s->ev.msg);
        s->errors++;
        snprintf(s->lasterr, sizeof(s->lasterr), "client: %.200s", s->ev.msg);
        return 1;
    case SCP_EV_FATAL:
        TRACE(s, true, "recv <FATAL> %s", s->ev.msg);
        snprintf(s->lasterr, sizeof(s->lasterr), "client: %.200s", s->ev.msg);
        s->dead = true;
        return -1;
    default:
        TRACE(s, true, "recv <PROTOCOL ERROR> %s", s->ev.msg);
        send_error(s, 2, "%s", s->ev.msg);
        return -1;
    }
}

static int wait_status(struct sess *s)
{
    scp_proto_expect_status(&s->proto);
    return client_status(s, next_event(s));
}

static void refusal_count(struct sess *s, const struct scpd_err *e)
{
    if (!s->ctx->stats)
        return;
    stats_inc(s->ctx->stats,
              e->code == SCPD_E_DENIED || e->code == SCPD_E_INVALID ? STATS_REFUSED_PATH
                                                                    : STATS_REFUSED_OTHER,
              1);
    /* A denied path ('..', a host path, a symlink out of the root) is an attempt to leave the
     * file system: a security event, once per session (a -r tree would repeat it per file).
     * Bad names, sizes and full disks are mistakes, not attacks: counted only. */
    if (e->code == SCPD_E_DENIED && !s->security_sent) {
        s->security_sent = true;
        stats_security(s->ctx->stats, "refused", "ssh", s->ctx->user, s->ctx->peer, e->msg);
    }
}

static struct stats_xfer *xfer_begin(struct sess *s, bool upload, const char *path, uint64_t size)
{
    if (!s->ctx->stats)
        return NULL;
    return stats_xfer_begin(s->ctx->stats, s->ctx->sid, nz(s->ctx->user), nz(s->ctx->peer),
                            upload, path, size);
}

static void xfer_end(struct sess *s, struct stats_xfer *x, const char *result, const char *error)
{
    if (s->ctx->stats && x)
        stats_xfer_end(s->ctx->stats, x, result, error);
}

/* A refused transfer still goes to the history, with the reason. */
static void xfer_refused(struct sess *s, bool upload, const char *path, uint64_t size,
                         const struct scpd_err *e)
{
    refusal_count(s, e);
    xfer_end(s, xfer_begin(s, upload, path, size), "refused", e->msg);
}

/* ---- sink: the client uploads --------------------------------------------------------------- */

struct sink {
    struct ifs_path target;
    bool target_dir;
    struct dirlevel *stack;          /* [LIM_SCP_DEPTH + 1]; stack[d] is the directory at depth d */
    bool has_time;                   /* a T record for the next C or D */
    int64_t mtime, atime;
    struct ifs_writer *w;            /* the file being received */
    struct ifs_path wpath;
    struct stats_xfer *x;
    uint64_t got;
    bool in_file;                    /* between an accepted C and the client's status */
    bool write_failed;
    char werr[512];
};

/* Destination of a C or D record at the current depth (the D's own depth already counted). */
static int sink_dest(struct sess *s, struct sink *k, const char *name, int depth,
                     struct ifs_path *out, struct scpd_err *err)
{
    if (depth == 0) {
        if (!k->target_dir) {
            *out = k->target;
            return 0;
        }
        return ifs_child(&k->target, name, out, err);
    }
    return ifs_child(&k->stack[depth].path, name, out, err);
}

static void sink_file(struct sess *s, struct sink *k)
{
    struct scpd_err err = {0};
    struct store_who who = {.user = s->ctx->user, .source = "scp", .peer = s->ctx->peer};
    TRACE(s, true, "recv %s", s->ev.record);
    k->wpath.name[0] = '\0';
    if (!still_allowed(s))
        return;
    if (sink_dest(s, k, s->ev.name, s->proto.depth, &k->wpath, &err) == 0)
        k->w = ifs_write_open(s->ctx->ifs, &k->wpath, s->ev.size, s->ev.mode, &who, &err);
    if (!k->w) {
        xfer_refused(s, true, k->wpath.name[0] ? k->wpath.name : s->ev.name, s->ev.size, &err);
        scp_proto_reject(&s->proto);
        k->has_time = false;
        send_error(s, 1, "%s", err.msg);
        return;
    }
    k->in_file = true;
    k->write_failed = false;
    k->got = 0;
    k->x = xfer_begin(s, true, k->wpath.name, s->ev.size);
    send_ok(s);
}

static void sink_data(struct sess *s, struct sink *k)
{
    struct scpd_err err = {0};
    k->got += s->ev.len;
    s->bytes += s->ev.len;
    if (k->x)
        stats_xfer_progress(k->x, s->ev.len);
    if (k->write_failed)
        return;
    if (ifs_write(k->w, s->ev.data, s->ev.len, &err) < 0) {
        /* keep reading the rest of the file to stay in step, then report */
        k->write_failed = true;
        snprintf(k->werr, sizeof(k->werr), "%s", err.msg);
        ifs_write_abort(k->w);
        k->w = NULL;
    }
}

/* The client's status after the data: commit, or discard and say why. */
static void sink_file_done(struct sess *s, struct sink *k, int status)
{
    struct scpd_err err = {0};
    char *detail = NULL;
    int64_t times[2] = {k->mtime, k->atime};
    k->in_file = false;
    if (status != 0) {
        ifs_write_abort(k->w);
        k->w = NULL;
        xfer_end(s, k->x, "aborted", s->lasterr);
        k->x = NULL;
        k->has_time = false;
        if (status > 0)
            send_error(s, 1, "%s not changed: the client reported an error", k->wpath.name);
        return;
    }
    if (k->write_failed) {
        xfer_end(s, k->x, "failed", k->werr);
        k->x = NULL;
        k->has_time = false;
        send_error(s, 1, "%s", k->werr);
        return;
    }
    int r = ifs_write_commit(k->w, k->has_time ? times : NULL, &detail, &err);
    k->w = NULL;
    k->has_time = false;
    if (r < 0) {
        if (detail) {
            log_info(&s->lc, "scp: %s refused:\n%s", k->wpath.name, detail);
            /* the \1 line below is one line; the marker form goes to the terminal beside it */
            if (s->io->write_err)
                s->io->write_err(s->io->ctx, detail, strlen(detail));
        }
        free(detail);
        xfer_end(s, k->x, "failed", err.msg);
        k->x = NULL;
        send_error(s, 1, "%s", err.msg);
        return;
    }
    xfer_end(s, k->x, "ok", NULL);
    k->x = NULL;
    log_info(&s->lc, "scp: received %s (%llu bytes)", k->wpath.name, (unsigned long long)k->got);
    send_ok(s);
}

static void sink_dir(struct sess *s, struct sink *k)
{
    struct scpd_err err = {0};
    int depth = s->proto.depth;     /* already increased for this D */
    if (!still_allowed(s))
        return;
    struct dirlevel *lvl = &k->stack[depth];
    TRACE(s, true, "recv %s", s->ev.record);
    if (depth == 1 && !k->target_dir && k->target.kind == IFS_K_DISK)
        lvl->path = k->target;      /* scp -r dir host:newname creates newname */
    else if (sink_dest(s, k, s->ev.name, depth - 1, &lvl->path, &err) < 0)
        goto refuse;
    if (ifs_mkdir(s->ctx->ifs, &lvl->path, s->ev.mode, &err) < 0)
        goto refuse;
    lvl->has_time = k->has_time;
    lvl->mtime = k->mtime;
    lvl->atime = k->atime;
    k->has_time = false;
    send_ok(s);
    return;
refuse:
    refusal_count(s, &err);
    scp_proto_reject(&s->proto);
    k->has_time = false;
    send_error(s, 1, "%s", err.msg);
}

static void sink_end(struct sess *s, struct sink *k)
{
    struct scpd_err err = {0};
    struct dirlevel *lvl = &k->stack[s->proto.depth + 1];
    TRACE(s, true, "recv E");
    if (lvl->has_time &&
        ifs_set_times(s->ctx->ifs, &lvl->path, lvl->mtime, lvl->atime, &err) < 0) {
        send_error(s, 1, "%s", err.msg);
        return;
    }
    send_ok(s);
}

static void sink_time(struct sess *s, struct sink *k)
{
    TRACE(s, true, "recv %s", s->ev.record);
    k->has_time = true;
    k->mtime = s->ev.mtime;
    k->atime = s->ev.atime;
    send_ok(s);
}

static int sink_start(struct sess *s, struct sink *k)
{
    struct scpd_err err = {0};
    struct ifs_stat st;
    if (ifs_resolve(s->cmd->path, &k->target, &err) < 0)
        goto refuse;
    if (ifs_stat(s->ctx->ifs, &k->target, &st, &err) == 0)
        k->target_dir = st.dir;
    else if (err.code != SCPD_E_NOTFOUND)
        goto refuse;
    if (s->cmd->target_dir && !k->target_dir) {
        scpd_err_set(&err, SCPD_E_INVALID, "%%Error: %s is not a directory", k->target.name);
        goto refuse;
    }
    k->stack[0].path = k->target;
    return send_ok(s);
refuse:
    xfer_refused(s, true, s->cmd->path, 0, &err);
    send_error(s, 1, "%s", err.msg);
    return -1;
}

static void sink_run(struct sess *s)
{
    struct sink k = {0};
    k.stack = calloc(LIM_SCP_DEPTH + 2, sizeof(*k.stack));
    if (!k.stack) {
        send_error(s, 2, "out of memory");
        return;
    }
    if (sink_start(s, &k) < 0)
        goto out;
    while (!s->dead) {
        int r = next_event(s);
        if (r == 0 && k.in_file && s->proto.state == SCP_ST_STATUS) {
            /* every announced byte arrived, then EOF without the status byte: libssh2 (curl)
             * uploads end this way; the data is complete, so it is committed */
            TRACE(s, true, "recv <EOF> after the data");
            sink_file_done(s, &k, 0);
            break;
        }
        if (r <= 0) {
            if (k.in_file || s->proto.depth > 0 || s->proto.state != SCP_ST_RECORD) {
                snprintf(s->lasterr, sizeof(s->lasterr), "%s",
                         r < 0 ? "connection lost" : "connection closed in the middle of a file");
                s->errors++;
            }
            break;
        }
        switch (s->ev.type) {
        case SCP_EV_FILE:
            sink_file(s, &k);
            break;
        case SCP_EV_DIR:
            sink_dir(s, &k);
            break;
        case SCP_EV_END:
            sink_end(s, &k);
            break;
        case SCP_EV_TIME:
            sink_time(s, &k);
            break;
        case SCP_EV_DATA:
            sink_data(s, &k);
            break;
        case SCP_EV_DATA_END:
            TRACE(s, true, "recv data %llu bytes", (unsigned long long)k.got);
            break;
        case SCP_EV_OK:
        case SCP_EV_WARN:
        case SCP_EV_FATAL:
            if (k.in_file)
                sink_file_done(s, &k, client_status(s, 1));
            else
                client_status(s, 1);   /* a message between files: noted, no reply */
            break;
        case SCP_EV_ERROR:
            TRACE(s, true, "recv %s", s->ev.record[0] ? s->ev.record : "<bad input>");
            if (s->ctx->stats)
                stats_inc(s->ctx->stats, STATS_REFUSED_OTHER, 1);
            send_error(s, 2, "%s", s->ev.msg);
            break;
        case SCP_EV_NONE:
            break;
        }
    }
out:
    if (k.in_file || k.w) {
        ifs_write_abort(k.w);
        xfer_end(s, k.x, "aborted", s->lasterr[0] ? s->lasterr : "session ended");
    }
    free(k.stack);
}

/* ---- source: the client downloads ----------------------------------------------------------- */

static const char *send_name(const struct ifs_path *p)
{
    const char *b = ifs_basename(p);
    return b[0] ? b : (p->fs == IFS_FS_NVRAM ? "nvram" : "bootflash");
}

/* The name of the top-level C record: the file's own name, without file system or directories
 * ("x" for "bootflash:x", "g.txt" for "flash:sub/g.txt"), which is what a client may create
 * locally (a ':' is no file name on Windows). One exception: OpenSSH's scp (since 8.0, see its
 * scp.c sink()) refuses a file whose name is not the last '/'-component of the path it asked for
 * ("filename does not match request"), and for "bootflash:x" that component is the whole string:
 * so for a client that checks (cmd->name_checked) and without -r (when it checks) the name is
 * taken from the request as the client wrote it. */
static const char *request_name(const struct sess *s, const struct ifs_path *p)
{
    const char *slash = strrchr(s->cmd->path, '/');
    const char *b = slash ? slash + 1 : s->cmd->path;
    if (s->cmd->name_checked && !s->cmd->recursive &&
        scp_proto_check_name(b, strlen(b), NULL, 0) == 0)
        return b;
    return send_name(p);
}

/* Sends T (with -p) and the C or D record, and waits for the client's answer: 0 go on, 1 the client
 * refused this one (skip it), -1 the session is over. */
static int source_header(struct sess *s, const char *name, const struct ifs_stat *st)
{
    char rec[LIM_SCP_RECORD_LEN];
    int r;
    if (s->cmd->preserve) {
        if (send_record(s, rec, scp_proto_fmt_time(rec, sizeof(rec), st->mtime, st->atime)) < 0)
            return -1;
        if ((r = wait_status(s)) != 0)
            return r;
    }
    int n = st->dir ? scp_proto_fmt_dir(rec, sizeof(rec), st->mode, name)
                    : scp_proto_fmt_file(rec, sizeof(rec), st->mode, st->size, name);
    if (send_record(s, rec, n) < 0)
        return s->dead ? -1 : 1;
    return wait_status(s);
}

static void source_file(struct sess *s, const struct ifs_path *p, const char *name)
{
    struct scpd_err err = {0};
    struct ifs_stat st;
    struct ifs_reader *rd = ifs_read_open(s->ctx->ifs, p, &st, &err);
    uint64_t sent = 0;
    if (rd && !still_allowed(s)) {
        ifs_read_close(rd);
        return;
    }
    if (!rd) {
        xfer_refused(s, false, p->name, 0, &err);
        send_error(s, 1, "%s", err.msg);
        return;
    }
    if (source_header(s, name, &st) != 0) {
        ifs_read_close(rd);
        return;
    }
    struct stats_xfer *x = xfer_begin(s, false, p->name, st.size);
    bool read_failed = false;
    while (sent < st.size && !s->dead) {
        size_t want = st.size - sent < SCP_BUF ? (size_t)(st.size - sent) : SCP_BUF;
        ssize_t n = read_failed ? 0 : ifs_read(rd, s->buf, want, &err);
        if (n <= 0) {
            /* the file shrank or failed: the size was promised, so pad with zeros and say so */
            read_failed = true;
            n = (ssize_t)want;
            memset(s->buf, 0, want);
        }
        if (send_raw(s, s->buf, (size_t)n) < 0)
            break;
        sent += (uint64_t)n;
        s->bytes += (uint64_t)n;
        if (x)
            stats_xfer_progress(x, (uint64_t)n);
    }
    ifs_read_close(rd);
    if (s->dead) {
        xfer_end(s, x, "aborted", s->lasterr);
        return;
    }
    TRACE(s, false, "send data %llu bytes", (unsigned long long)sent);
    if (read_failed)
        send_error(s, 1, "%s: read error or file changed while sending", p->name);
    else
        send_ok(s);
    int r = wait_status(s);
    if (r < 0 && s->eof && !read_failed) {
        /* libssh2 (curl) reads the data and closes without the final status byte */
        s->eof_ok = true;
        s->lasterr[0] = '\0';
        r = 0;
    }
    if (r == 0 && !read_failed) {
        xfer_end(s, x, "ok", NULL);
        log_info(&s->lc, "scp: sent %s (%llu bytes)", p->name, (unsigned long long)sent);
    } else {
        xfer_end(s, x, "failed", read_failed ? "read error" : s->lasterr);
    }
}

static void source_dir(struct sess *s, const struct ifs_path *p, const struct ifs_stat *st,
                       int depth, const char *name)
{
    struct scpd_err err = {0};
    struct ifs_dirent *ents = NULL;
    size_t n = 0;
    char rec[8];
    if (!still_allowed(s))
        return;
    if (depth >= LIM_SCP_DEPTH) {
        send_error(s, 1, "%s: directories nested deeper than %d levels", p->name, LIM_SCP_DEPTH);
        return;
    }
    if (ifs_list(s->ctx->ifs, p, &ents, &n, &err) < 0) {
        send_error(s, 1, "%s", err.msg);
        return;
    }
    if (source_header(s, name, st) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct ifs_path child;
        if (s->dead) {
            s->eof_ok = false;   /* the client left with entries still to send */
            break;
        }
        if (ifs_child(p, ents[i].name, &child, &err) < 0) {
            send_error(s, 1, "%s", err.msg);
            continue;
        }
        if (ents[i].st.dir)
            source_dir(s, &child, &ents[i].st, depth + 1, ents[i].name);
        else
            source_file(s, &child, ents[i].name);
    }
    if (send_record(s, rec, scp_proto_fmt_end(rec, sizeof(rec))) == 0)
        wait_status(s);
out:
    free(ents);
}

static void source_run(struct sess *s)
{
    struct scpd_err err = {0};
    struct ifs_path p;
    struct ifs_stat st;
    /* the client (sink) starts with a \0 */
    if (wait_status(s) != 0)
        return;
    if (ifs_resolve(s->cmd->path, &p, &err) < 0 || ifs_stat(s->ctx->ifs, &p, &st, &err) < 0) {
        xfer_refused(s, false, s->cmd->path, 0, &err);
        send_error(s, 1, "%s", err.msg);
        return;
    }
    if (st.dir && !s->cmd->recursive) {
        send_error(s, 1, "%%Error opening %s (is a directory; use scp -r)", p.name);
        return;
    }
    if (st.dir)
        source_dir(s, &p, &st, 0, request_name(s, &p));
    else
        source_file(s, &p, request_name(s, &p));
}

/* ---- entry points --------------------------------------------------------------------------- */

int scp_session_run(const struct chan_ctx *ctx, const struct scp_cmd *cmd,
                    const struct chan_io *io)
{
    struct sess *s = calloc(1, sizeof(*s));
    if (!s)
        return 1;
    s->ctx = ctx;
    s->cmd = cmd;
    s->io = io;
    s->lc = (struct log_ctx){.sid = ctx->sid, .user = ctx->user, .peer = ctx->peer};
    scp_proto_init(&s->proto, cmd->sink, cmd->recursive);
    TRACE(s, true, "start user %s command scp%s%s%s%s %s %s", nz(ctx->user),
          cmd->recursive ? " -r" : "", cmd->preserve ? " -p" : "", cmd->target_dir ? " -d" : "",
          cmd->verbose ? " -v" : "", cmd->sink ? "-t" : "-f", cmd->path);
    log_info(&s->lc, "scp: %s %s", cmd->sink ? "upload to" : "download of", cmd->path);
    /* the source only reads status bytes from the client */
    s->incap = cmd->sink ? SCP_BUF : LIM_SCP_ERRMSG_LEN;
    s->in = malloc(s->incap);
    s->buf = cmd->sink ? NULL : malloc(SCP_BUF);
    if (!s->in || (!cmd->sink && !s->buf)) {
        send_error(s, 2, "out of memory");
    } else if (cmd->sink) {
        sink_run(s);
    } else {
        source_run(s);
    }
    int status = (s->errors || (s->dead && !s->eof_ok)) ? 1 : 0;
    TRACE(s, false, "end %llu bytes, %s%s%s", (unsigned long long)s->bytes,
          status ? "failed" : "ok", s->lasterr[0] ? ": " : "", s->lasterr);
    log_info(&s->lc, "scp: end, %llu bytes, %s%s%s", (unsigned long long)s->bytes,
             status ? "failed" : "ok", s->lasterr[0] ? ": " : "", s->lasterr);
    free(s->in);
    free(s->buf);
    free(s);
    return status;
}

int scp_send_refusal(const struct chan_io *io, const char *message)
{
    char full[LIM_SCP_ERRMSG_LEN], line[LIM_SCP_ERRMSG_LEN];
    snprintf(full, sizeof(full), "scp: %s", nz(message));
    int n = scp_proto_fmt_reply(line, sizeof(line), 1, full);
    if (n < 0)
        return -1;
    return io->write(io->ctx, line, (size_t)n);
}
