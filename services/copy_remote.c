/* copy_remote: copies the device starts to and from a remote SSH server (see copy.h), with
 * libssh's client.
 *
 * SCP is spoken over an exec channel, as OpenSSH's scp does (libssh's ssh_scp_* API is
 * deprecated): a pull runs `scp -f PATH` on the remote and answers its C record, a push runs
 * `scp -t PATH` and sends one. SFTP uses libssh's sftp_* calls. The local end is the IOS File
 * System: a pull writes an atomic upload of the size the remote announced (so a full file system
 * refuses it before any data moves, and a failure or a cancel leaves nothing), a push reads
 * through ifs like any download.
 *
 * Steps are bounded in time: a read from the remote waits RCOPY_SLICE_MS at most, so the CLI can
 * notice a Ctrl-C between steps; LIM_RCOPY_IDLE_SECS of silence fails the copy. The remote's
 * host key is checked against the running config's pubkey-chain before anything is sent. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "base/clock.h"
#include "base/log.h"
#include "services/copy_int.h"
#include "services/stats.h"
#include "services/trace.h"
#include "store/cfg.h"
#include "store/store.h"

#define RCOPY_SLICE_MS 500          /* longest wait for the remote inside one step */
#define RCOPY_LINE 1024             /* a C record or an error line from the remote */
#define RCOPY_SFTP_CHUNK (64u << 10) /* one SFTP read/write (OpenSSH serves up to 255 KiB) */

/* Device-initiated copies running now, all sessions together (LIM_RCOPY_CONCURRENT). One
 * counter for the process: the limit is on the device's outgoing connections. */
static int rcopy_active;

enum phase { PH_DATA = 0, PH_TRAILER, PH_DONE };

struct remote_job {
    struct copy_job base;
    bool pull, sftp, slot, ended;
    enum phase phase;
    ssh_session s;
    ssh_channel ch;
    sftp_session sf;
    sftp_file f;
    struct ifs_reader *r;
    struct ifs_writer *w;
    struct stats *stats;
    struct stats_xfer *x;
    struct trace *trace;
    uint64_t sid;
    char remote[LIM_URL_HOST_LEN + 8];   /* "host:port" */
    char url[LIM_URL_LEN + 16];          /* for messages; the password masked */
    char local[LIM_PATH_LEN];
    int64_t last_io_ms;
    unsigned char *buf;
};

#define TRACE(j, in, ...)                                                                      \
    do {                                                                                       \
        if ((j)->trace && trace_on((j)->trace))                                                \
            trace_emit((j)->trace, (j)->sid, (j)->remote, in, __VA_ARGS__);                   \
    } while (0)

static int fail_ssh(struct remote_job *j, struct scpd_err *err, const char *what)
{
    return scpd_err_set(err, SCPD_E_IO, "%%Error copying %s (%s: %s)", j->url, what,
                        j->s ? ssh_get_error(j->s) : "no session");
}

/* ---- host key and login ---------------------------------------------------------------------- */

static void hex_upper(const unsigned char *h, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02X", h[i]);
}

/* The remote's key against `ip ssh pubkey-chain` / `server HOST`: 0, or -1 with the reason, the
 * fingerprints and the configuration that would trust the key. */
static int check_host_key(struct remote_job *j, struct store *st, const char *host,
                          struct scpd_err *err)
{
    ssh_key key = NULL;
    unsigned char *md5 = NULL, *sha = NULL;
    size_t md5_len = 0, sha_len = 0;
    char *sha_text = NULL, md5_hex[33] = "";
    int rc = -1;
    if (ssh_get_server_publickey(j->s, &key) != SSH_OK ||
        ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_MD5, &md5, &md5_len) != 0 ||
        md5_len != 16 ||
        ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &sha, &sha_len) != 0) {
        fail_ssh(j, err, "cannot read the remote host key");
        goto out;
    }
    hex_upper(md5, 16, md5_hex);
    sha_text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, sha, sha_len);
    const char *type = ssh_key_type_to_char(ssh_key_type(key));
    const struct store_snap *snap = st ? store_snapshot(st) : NULL;
    const struct cfg_pkuser *known = snap ? cfg_pkserver_find(snap->cfg, host) : NULL;
    bool match = false;
    for (int i = 0; known && i < known->nkeys && !match; i++)
        match = strcmp(known->keys[i].hash, md5_hex) == 0 && strcmp(known->keys[i].type, type) == 0;
    bool had = known && known->nkeys > 0;
    if (snap)
        store_snap_release(snap);
    TRACE(j, true, "host key %s %s (%s)%s", type, md5_hex, sha_text ? sha_text : "",
          match ? " known" : had ? " CHANGED" : " unknown");
    if (match) {
        rc = 0;
        goto out;
    }
    scpd_err_set(err, SCPD_E_DENIED,
                 "%%Error copying %s (the host key of %s is %s: %s MD5 %s, %s).\n"
                 "If it is right, trust it with:\n"
                 "  ip ssh pubkey-chain\n   server %s\n    key-hash %s %s",
                 j->url, host, had ? "NOT the one configured (it CHANGED)" : "not known", type,
                 md5_hex, sha_text ? sha_text : "", host, type, md5_hex);
out:
    ssh_string_free_char(sha_text);
    ssh_clean_pubkey_hash(&md5);
    ssh_clean_pubkey_hash(&sha);
    ssh_key_free(key);
    return rc;
}

static int login(struct remote_job *j, const char *client_key, const char *password,
                 struct scpd_err *err)
{
    if (client_key) {
        ssh_key priv = NULL;
        if (ssh_pki_import_privkey_file(client_key, NULL, NULL, NULL, &priv) == SSH_OK) {
            int r = ssh_userauth_publickey(j->s, NULL, priv);
            ssh_key_free(priv);
            if (r == SSH_AUTH_SUCCESS)
                return 0;
        }
    }
    if (password && password[0] && ssh_userauth_password(j->s, NULL, password) == SSH_AUTH_SUCCESS)
        return 0;
    return scpd_err_set(err, SCPD_E_DENIED, "%%Error copying %s (login refused by the remote: "
                        "%s)", j->url, password && password[0] ? "wrong user or password, and "
                        "the device's key is not authorized" : "no password given, and the "
                        "device's key is not authorized");
}

static int connect_remote(struct remote_job *j, const struct copy_ctx *ctx,
                          const struct copy_url *u, const char *password, struct scpd_err *err)
{
    long timeout = LIM_RCOPY_CONNECT_SECS;
    int port = u->port;
    bool no = false;
    int nodelay = 1;   /* SFTP waits for each reply: Nagle + delayed ACK cost ~40 ms a request */
    j->s = ssh_new();
    if (!j->s)
        return scpd_err_set(err, SCPD_E_NOMEM, "%%Error copying: out of memory");
    /* nothing from the daemon's environment (~/.ssh/config, known_hosts) takes part */
    if (ssh_options_set(j->s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
        ssh_options_set(j->s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") < 0 ||
        ssh_options_set(j->s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") < 0 ||
        ssh_options_set(j->s, SSH_OPTIONS_HOST, u->host) < 0 ||
        ssh_options_set(j->s, SSH_OPTIONS_PORT, &port) < 0 ||
        ssh_options_set(j->s, SSH_OPTIONS_USER, u->user) < 0 ||
        ssh_options_set(j->s, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
        ssh_options_set(j->s, SSH_OPTIONS_NODELAY, &nodelay) < 0)
        return fail_ssh(j, err, "bad options");
    TRACE(j, false, "%s connect %s", j->pull ? "pull" : "push", j->url);
    if (ssh_connect(j->s) != SSH_OK)
        return fail_ssh(j, err, "cannot connect");
    if (check_host_key(j, ctx->store, u->host, err) < 0 ||
        login(j, ctx->client_key, password, err) < 0)
        return -1;
    timeout = LIM_RCOPY_IDLE_SECS;   /* from now on: how long a blocking write may wait */
    ssh_options_set(j->s, SSH_OPTIONS_TIMEOUT, &timeout);
    TRACE(j, true, "login ok user %s", u->user);
    return 0;
}

/* ---- SCP over an exec channel
 * -------------------------------------------------------------------- */

/* Reads up to n bytes (at least one unless the slice passes). >0, 0 (nothing yet), -1. */
static int ch_read(struct remote_job *j, void *buf, size_t n, struct scpd_err *err)
{
    int r = ssh_channel_read_timeout(j->ch, buf, (uint32_t)(n > COPY_BUF ? COPY_BUF : n), 0,
                                     RCOPY_SLICE_MS);
    int64_t now = clock_mono_ms();
    if (r > 0) {
        j->last_io_ms = now;
        return r;
    }
    if (r == SSH_ERROR || ssh_channel_is_eof(j->ch) || !ssh_channel_is_open(j->ch))
        return scpd_err_set(err, SCPD_E_IO, "%%Error copying %s (the connection to %s closed "
                            "after %" PRIu64 " of %" PRIu64 " bytes)", j->url, j->remote,
                            j->base.done, j->base.size);
    if (now - j->last_io_ms > (int64_t)LIM_RCOPY_IDLE_SECS * 1000)
        return scpd_err_set(err, SCPD_E_LIMIT, "%%Error copying %s (nothing from %s for %d "
                            "seconds)", j->url, j->remote, LIM_RCOPY_IDLE_SECS);
    return 0;
}

/* Reads exactly n bytes, waiting up to the idle limit. 0 or -1. */
static int ch_read_all(struct remote_job *j, void *buf, size_t n, struct scpd_err *err)
{
    char *p = buf;
    while (n > 0) {
        int r = ch_read(j, p, n, err);
        if (r < 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int ch_write(struct remote_job *j, const void *buf, size_t n, struct scpd_err *err)
{
    if (n > 0 && ssh_channel_write(j->ch, buf, (uint32_t)n) != (int)n)
        return fail_ssh(j, err, "cannot send");
    j->last_io_ms = clock_mono_ms();
    return 0;
}

/* What the remote sent, made fit for a trace, a log and an admin's terminal: a control byte or a
 * byte outside ASCII becomes '?' (a C1 control such as 0x9b starts an escape on some terminals). */
static void printable(char *line, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f)
            line[i] = '?';
}

/* One SCP line of the remote (a record, or "\1message" / "\2message"), without its newline. */
static int read_line(struct remote_job *j, char *line, size_t cap, size_t *len,
                     struct scpd_err *err)
{
    size_t n = 0;
    for (;;) {
        char ch;
        if (ch_read_all(j, &ch, 1, err) < 0)
            return -1;
        if (ch == '\n')
            break;
        if (n + 1 >= cap)
            return scpd_err_set(err, SCPD_E_LIMIT, "%%Error copying %s (a line from the remote "
                                "is too long)", j->url);
        line[n++] = ch;
    }
    line[n] = '\0';
    *len = n;
    return 0;
}

/* The remote's answer to a record: "\0" fine, "\1..."/"\2..." its error. */
static int read_ack(struct remote_job *j, struct scpd_err *err)
{
    char ch, line[RCOPY_LINE];
    size_t n = 0;
    if (ch_read_all(j, &ch, 1, err) < 0)
        return -1;
    if (ch == 0)
        return 0;
    if (read_line(j, line, sizeof(line), &n, err) < 0)
        return -1;
    printable(line, n);
    TRACE(j, true, "recv error %s", line);
    return scpd_err_set(err, SCPD_E_IO, "%%Error copying %s (the remote says: %s)", j->url,
                        line[0] ? line : (ch == 1 || ch == 2 ? "error" : "protocol error"));
}

/* 'PATH' for the remote's shell. */
static int quote(const char *path, char *out, size_t cap)
{
    size_t o = 0;
    if (cap < 3)
        return -1;
    out[o++] = '\'';
    for (const char *p = path; *p; p++) {
        if (o + 5 >= cap)
            return -1;
        if (*p == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *p;
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
    return 0;
}

static int scp_open(struct remote_job *j, const struct copy_ctx *ctx, const struct copy_url *u,
                    const struct ifs_path *local, struct scpd_err *err)
{
    char cmd[LIM_PATH_LEN * 4 + 32], q[LIM_PATH_LEN * 4 + 8];
    if (quote(u->path, q, sizeof(q)) < 0)
        return scpd_err_set(err, SCPD_E_LIMIT, "%%Error copying %s (path too long)", j->url);
    snprintf(cmd, sizeof(cmd), "scp %s %s", j->pull ? "-f" : "-t", q);
    j->ch = ssh_channel_new(j->s);
    if (!j->ch || ssh_channel_open_session(j->ch) != SSH_OK ||
        ssh_channel_request_exec(j->ch, cmd) != SSH_OK)
        return fail_ssh(j, err, "cannot start scp on the remote");
    TRACE(j, false, "exec %s", cmd);
    j->last_io_ms = clock_mono_ms();
    if (j->pull) {
        char line[RCOPY_LINE];
        size_t n = 0;
        unsigned mode;
        uint64_t size;
        if (ch_write(j, "", 1, err) < 0)
            return -1;
        for (;;) {   /* a T record (times) may come first; it is answered and skipped */
            char first;
            if (ch_read_all(j, &first, 1, err) < 0)
                return -1;
            if (first == 1 || first == 2) {
                if (read_line(j, line, sizeof(line), &n, err) < 0)
                    return -1;
                printable(line, n);
                TRACE(j, true, "recv error %s", line);
                return scpd_err_set(err, SCPD_E_NOTFOUND, "%%Error opening %s (the remote "
                                    "says: %s)", j->url, line);
            }
            line[0] = first;
            if (read_line(j, line + 1, sizeof(line) - 1, &n, err) < 0)
                return -1;
            n++;
            if (first != 'T')
                break;
            if (ch_write(j, "", 1, err) < 0)
                return -1;
        }
        printable(line, n);
        TRACE(j, true, "recv %s", line);
        if (line[0] == 'D')
            return scpd_err_set(err, SCPD_E_INVALID, "%%Error opening %s (a directory: copy "
                                "copies files)", j->url);
        if (copy_scp_c_record(line, n, &mode, &size, err) < 0)
            return -1;
        j->base.size = size;
        struct store_who who = {.user = ctx->user, .source = ctx->source, .peer = j->remote};
        j->w = ifs_write_open(ctx->ifs, local, size, 0644, &who, err);
        if (!j->w)
            return -1;
        return ch_write(j, "", 1, err);
    }
    /* push: the remote's ready byte, our C record, its answer */
    const char *slash = strrchr(u->path, '/');
    const char *name = slash ? slash + 1 : u->path;
    if (!*name)
        name = ifs_basename(local);
    char rec[LIM_NAME_LEN + 64];
    int rl = snprintf(rec, sizeof(rec), "C0644 %" PRIu64 " %s\n", j->base.size, name);
    if (rl < 0 || (size_t)rl >= sizeof(rec) || strchr(name, '\n'))
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error copying %s (bad file name)", j->url);
    if (read_ack(j, err) < 0)
        return -1;
    TRACE(j, false, "send %.*s", rl - 1, rec);
    if (ch_write(j, rec, (size_t)rl, err) < 0 || read_ack(j, err) < 0)
        return -1;
    return 0;
}

/* ---- SFTP ------------------------------------------------------------------------------------ */

static int sftp_fail(struct remote_job *j, struct scpd_err *err, const char *what)
{
    int code = j->sf ? sftp_get_error(j->sf) : 0;
    const char *why = code == SSH_FX_NO_SUCH_FILE ? "no such file"
                    : code == SSH_FX_PERMISSION_DENIED ? "permission denied"
                    : code == SSH_FX_EOF ? "end of file" : ssh_get_error(j->s);
    TRACE(j, true, "sftp error %s: %s", what, why);
    return scpd_err_set(err, code == SSH_FX_NO_SUCH_FILE ? SCPD_E_NOTFOUND : SCPD_E_IO,
                        "%%Error copying %s (%s: %s)", j->url, what, why);
}

static int sftp_start(struct remote_job *j, const struct copy_ctx *ctx, const struct copy_url *u,
                      const struct ifs_path *local, struct scpd_err *err)
{
    j->sf = sftp_new(j->s);
    if (!j->sf || sftp_init(j->sf) != SSH_OK)
        return sftp_fail(j, err, "cannot start SFTP on the remote");
    j->f = sftp_open(j->sf, u->path, j->pull ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!j->f)
        return sftp_fail(j, err, j->pull ? "cannot open the remote file"
                                          : "cannot create the remote file");
    TRACE(j, false, "sftp open %s", u->path);
    if (!j->pull)
        return 0;
    sftp_attributes a = sftp_fstat(j->f);
    if (!a)
        return sftp_fail(j, err, "cannot read the remote file's size");
    bool dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
    j->base.size = a->size;
    sftp_attributes_free(a);
    if (dir)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error opening %s (a directory: copy copies "
                            "files)", j->url);
    TRACE(j, true, "recv size %" PRIu64, j->base.size);
    struct store_who who = {.user = ctx->user, .source = ctx->source, .peer = j->remote};
    j->w = ifs_write_open(ctx->ifs, local, j->base.size, 0644, &who, err);
    return j->w ? 0 : -1;
}

/* ---- steps ----------------------------------------------------------------------------------- */

static void end_stats(struct remote_job *j, const char *result, const char *error)
{
    if (j->ended)
        return;
    j->ended = true;
    TRACE(j, false, "end %" PRIu64 " bytes, %s%s%s", j->base.done, result, error ? ": " : "",
          error ? error : "");
    if (j->x)
        stats_xfer_end(j->stats, j->x, result, error);
    j->x = NULL;
}

static int pull_data(struct remote_job *j, size_t budget, struct scpd_err *err)
{
    size_t moved = 0;
    while (moved < budget && j->base.done < j->base.size) {
        uint64_t left = j->base.size - j->base.done;
        size_t want = left < COPY_BUF ? (size_t)left : COPY_BUF;
        ssize_t n;
        if (j->sftp) {
            n = sftp_read(j->f, j->buf, want < RCOPY_SFTP_CHUNK ? want : RCOPY_SFTP_CHUNK);
            if (n <= 0)
                return sftp_fail(j, err, "read failed");
            j->last_io_ms = clock_mono_ms();
        } else {
            n = ch_read(j, j->buf, want, err);
            if (n < 0)
                return -1;
            if (n == 0)
                return COPY_MORE;   /* nothing in this slice: let the caller look around */
        }
        if (ifs_write(j->w, j->buf, (size_t)n, err) < 0)
            return -1;
        j->base.done += (uint64_t)n;
        if (j->x)
            stats_xfer_progress(j->x, (uint64_t)n);
        moved += (size_t)n;
    }
    return j->base.done < j->base.size ? COPY_MORE : 0;
}

static int push_data(struct remote_job *j, size_t budget, struct scpd_err *err)
{
    size_t moved = 0;
    while (moved < budget && j->base.done < j->base.size) {
        ssize_t n = ifs_read(j->r, j->buf, j->sftp ? RCOPY_SFTP_CHUNK : COPY_BUF, err);
        if (n < 0)
            return -1;
        if (n == 0 || j->base.done + (uint64_t)n > j->base.size)
            return scpd_err_set(err, SCPD_E_IO, "%%Error copying: the source changed during "
                                "the copy");
        if (j->sftp) {
            if (sftp_write(j->f, j->buf, (size_t)n) != n)
                return sftp_fail(j, err, "write failed");
        } else if (ch_write(j, j->buf, (size_t)n, err) < 0) {
            return -1;
        }
        j->base.done += (uint64_t)n;
        if (j->x)
            stats_xfer_progress(j->x, (uint64_t)n);
        moved += (size_t)n;
    }
    return j->base.done < j->base.size ? COPY_MORE : 0;
}

/* After the data: SCP's end-of-file handshake (the remote's status byte and ours), SFTP's close;
 * then a pull is committed (validated, for a config target). */
static int trailer(struct remote_job *j, struct scpd_err *err)
{
    if (j->sftp) {
        int r = sftp_close(j->f);
        j->f = NULL;
        if (r != SSH_OK)
            return sftp_fail(j, err, "close failed");
    } else if (j->pull) {
        if (read_ack(j, err) < 0 || ch_write(j, "", 1, err) < 0)
            return -1;
    } else {
        if (ch_write(j, "", 1, err) < 0 || read_ack(j, err) < 0)
            return -1;
    }
    if (j->pull) {
        struct ifs_writer *w = j->w;
        j->w = NULL;
        return ifs_write_commit(w, NULL, &j->base.detail, err) < 0 ? -1 : 0;
    }
    return 0;
}

static int remote_step(struct copy_job *base, size_t budget, struct scpd_err *err)
{
    struct remote_job *j = (struct remote_job *)base;
    int rc = 0;
    if (j->phase == PH_DATA) {
        rc = j->pull ? pull_data(j, budget, err) : push_data(j, budget, err);
        if (rc == 0)
            j->phase = PH_TRAILER;
    }
    if (rc == 0 && j->phase == PH_TRAILER) {
        rc = trailer(j, err);
        j->phase = PH_DONE;
    }
    if (rc == COPY_MORE)
        return COPY_MORE;
    if (rc < 0) {
        ifs_write_abort(j->w);
        j->w = NULL;
        end_stats(j, "failed", err->msg);
        return -1;
    }
    end_stats(j, "ok", NULL);
    return 0;
}

static void remote_free(struct copy_job *base)
{
    struct remote_job *j = (struct remote_job *)base;
    ifs_write_abort(j->w);   /* a pull not committed leaves nothing */
    ifs_read_close(j->r);
    end_stats(j, "aborted", "interrupted before the end");
    if (j->f)
        sftp_close(j->f);
    if (j->sf)
        sftp_free(j->sf);
    if (j->ch) {
        ssh_channel_close(j->ch);
        ssh_channel_free(j->ch);
    }
    if (j->s) {
        ssh_disconnect(j->s);
        ssh_free(j->s);
    }
    free(j->buf);
    if (j->slot)
        __atomic_fetch_sub(&rcopy_active, 1, __ATOMIC_RELAXED);
}

struct copy_job *copy_start_remote(const struct copy_ctx *ctx, const struct copy_url *u,
                                   const char *password, bool pull, const struct ifs_path *local,
                                   struct scpd_err *err)
{
    struct remote_job *j = calloc(1, sizeof(*j));
    if (!j) {
        scpd_err_set(err, SCPD_E_NOMEM, "%%Error copying: out of memory");
        return NULL;
    }
    j->base.step = remote_step;
    j->base.free = remote_free;
    j->pull = pull;
    j->sftp = u->scheme == COPY_SFTP;
    j->stats = ctx->stats;
    j->trace = ctx->trace;
    j->sid = ctx->sid;
    snprintf(j->remote, sizeof(j->remote), "%s:%d", u->host, u->port);
    copy_url_format(u, j->url, sizeof(j->url));
    snprintf(j->local, sizeof(j->local), "%s", local->name);
    if (__atomic_add_fetch(&rcopy_active, 1, __ATOMIC_RELAXED) > LIM_RCOPY_CONCURRENT) {
        __atomic_fetch_sub(&rcopy_active, 1, __ATOMIC_RELAXED);
        scpd_err_set(err, SCPD_E_LIMIT, "%%Error copying %s (%d copies to or from remote hosts "
                     "run already; try again when one has ended)", j->url, LIM_RCOPY_CONCURRENT);
        free(j);
        return NULL;
    }
    j->slot = true;
    j->ended = true;   /* no statistics until the transfer really starts */
    j->buf = malloc(COPY_BUF);
    if (!j->buf) {
        scpd_err_set(err, SCPD_E_NOMEM, "%%Error copying: out of memory");
        goto fail;
    }
    if (!ctx->store) {   /* no pubkey-chain to check the remote against: nothing is sent */
        scpd_err_set(err, SCPD_E_INTERNAL, "%%Error copying %s (no configuration store: no "
                     "known host keys)", j->url);
        goto fail;
    }
    if (!u->host[0] || !u->user[0] || !u->path[0]) {
        scpd_err_set(err, SCPD_E_INVALID, "%%Error copying %s (host, user and path are needed)",
                     j->url);
        goto fail;
    }
    if (!pull) {
        struct ifs_stat st;
        j->r = ifs_read_open(ctx->ifs, local, &st, err);
        if (!j->r)
            goto fail;
        if (st.dir) {
            scpd_err_set(err, SCPD_E_INVALID, "%%Error opening %s (Is a directory)", local->name);
            goto fail;
        }
        j->base.size = st.size;
    }
    if (connect_remote(j, ctx, u, password, err) < 0 ||
        (j->sftp ? sftp_start(j, ctx, u, local, err) : scp_open(j, ctx, u, local, err)) < 0)
        goto fail;
    j->ended = false;
    j->x = stats_xfer_begin_dir(ctx->stats, ctx->sid, ctx->user, j->remote, pull, local->name,
                                j->base.size, pull ? "pull" : "push");
    j->last_io_ms = clock_mono_ms();
    return &j->base;
fail:
    {
        struct log_ctx lc = {.sid = ctx->sid, .user = ctx->user, .peer = ctx->peer};
        log_notice(&lc, "copy %s %s %s refused: %s", pull ? "from" : "to", j->url, local->name,
                   err->msg);
    }
    copy_free(&j->base);
    return NULL;
}
