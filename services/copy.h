/* copy: one copy of a file of the IOS File System onto another place of it, done in slices: the
 * engine behind the CLI's `copy` and the API's Cisco-IOS-XE-rpc:copy, so both doors go one way.
 * The source is read through ifs (a file, running-config, startup-config); the target is written
 * as any upload (atomic, space reserved up front, a config validated whole at the commit: onto
 * running-config a merge, onto startup-config a replace); running-config onto startup-config is
 * the store's one save. A job belongs to one thread; separate jobs run in parallel. */
#ifndef SCPD_COPY_H
#define SCPD_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/lim.h"
#include "base/scpd_err.h"
#include "ifs/ifs.h"

struct store;
struct store_who;

struct copy_plan {
    struct ifs_path src, dst;
    bool dst_exists;       /* a file is there already (IOS asks before it is overwritten) */
    bool save;             /* running-config onto startup-config: store_save_config */
};

/* Resolves src and dst through ifs_resolve. A directory target (bootflash:, nvram:dir) takes the
 * source's file name. Refused (-1, err naming the path and the reason): a missing source, a
 * directory as source, the same file at both ends, a directory in the way of the target. */
int copy_plan(struct ifs *ifs, const char *src, const char *dst, struct copy_plan *out,
              struct scpd_err *err);
/* dst of a plan replaced by name (after IOS's "Destination filename [x]?" got another answer);
 * dst_exists updated. */
int copy_plan_retarget(struct ifs *ifs, struct copy_plan *p, const char *dst, struct scpd_err *err);

struct copy_job;
/* Opens both ends (the target's space is reserved now). who names the user, door and peer in the
 * audit of config changes. NULL with err on failure (nothing changed). */
struct copy_job *copy_start(struct ifs *ifs, struct store *st, const struct copy_plan *p,
                            const struct store_who *who, struct scpd_err *err);
#define COPY_MORE 1
/* Moves up to budget bytes. COPY_MORE; 0: done, the target is in place; -1: failed, nothing
 * changed (err; a refused config's parser errors in copy_detail()). */
int copy_step(struct copy_job *j, size_t budget, struct scpd_err *err);
uint64_t copy_bytes(const struct copy_job *j);   /* copied so far */
uint64_t copy_size(const struct copy_job *j);    /* of the source */
const char *copy_detail(const struct copy_job *j);   /* NULL or the parser's errors */
/* Frees j; an unfinished copy is abandoned and its target left as it was. NULL is a no-op. */
void copy_free(struct copy_job *j);

/* ---- device-initiated copies: URLs (copy_url.c, pure) --------------------------------------- */

enum copy_scheme { COPY_SCP = 0, COPY_SFTP };

/* scp://[USER[:PASSWORD]@]HOST[:PORT]/PATH (and sftp://): what IOS's copy takes. Missing parts
 * are empty (the CLI asks for them, as IOS does). user and password are percent-decoded; path is
 * what follows the host's '/', decoded, given to the remote as is (relative to the login
 * directory; "//abs" for an absolute one). */
struct copy_url {
    enum copy_scheme scheme;
    char user[LIM_AUTH_USER_LEN + 1];
    char password[LIM_PASSWORD_LEN + 1];
    bool has_password;
    char host[LIM_URL_HOST_LEN + 1];
    int port;                          /* 22 unless given */
    char path[LIM_PATH_LEN];
};

/* Whether s names a remote place ("scp:" or "sftp:", any case). */
bool copy_is_url(const char *s);
/* Parses s[0..len) (len: NUL bytes in it are refused). Refused with a clear reason (SCPD_E_INVALID
 * or SCPD_E_LIMIT): other schemes, IPv6 literals, port 0 or out of range, a ".." component, NUL
 * or control characters, anything longer than its limit. Pure. */
int copy_url_parse(const char *s, size_t len, struct copy_url *out, struct scpd_err *err);
/* Checks a host name or address given at IOS's "Address or name of remote host []?" prompt (the
 * same rules as in a URL). Pure. */
int copy_url_host_ok(const char *host, struct scpd_err *err);
/* A URL for messages and logs: the password replaced by "*****" (never shown or logged); '%',
 * control bytes and bytes outside ASCII in the user name and path percent-encoded. */
void copy_url_format(const struct copy_url *u, char *buf, size_t cap);

/* ---- device-initiated copies: the client (copy_remote.c) -------------------------------------
 * libssh's client, SCP over an exec channel (`scp -f` / `scp -t`) or SFTP. The remote's host key
 * must be in `ip ssh pubkey-chain` / `server HOST` / `key-hash TYPE MD5`: an unknown or changed
 * key is refused with its fingerprint and the line that would trust it. Authentication: the
 * device's own Ed25519 key (client_key), then the password if one was given. A pull lands like
 * any upload (atomic, space reserved from the remote's size, nothing visible before the commit,
 * nothing left by a failure or copy_free); statistics (history direction "pull"/"push", peer the
 * remote), traces (`debug ip scp`). Bounded: LIM_RCOPY_CONNECT_SECS to connect and log in,
 * LIM_RCOPY_IDLE_SECS without a byte, LIM_RCOPY_CONCURRENT copies at once. */
struct stats;
struct trace;
struct copy_ctx {
    struct ifs *ifs;
    struct store *store;       /* known hosts (the running config), audit of config targets */
    struct stats *stats;       /* may be NULL */
    struct trace *trace;       /* may be NULL */
    uint64_t sid;
    const char *user, *peer, *source;   /* who asked: user, "addr:port", "cli"/"api" */
    const char *client_key;    /* the device's private key file (NULL: password only) */
};
/* pull: url -> local; else local -> url. password may be "" (key only). Connects, checks the host
 * key, logs in and opens both ends before it returns (blocking, bounded); then copy_step moves
 * the data (a step waits at most about half a second for the remote, so a caller can cancel
 * between steps). NULL with err (the target unchanged). */
struct copy_job *copy_start_remote(const struct copy_ctx *ctx, const struct copy_url *url,
                                   const char *password, bool pull, const struct ifs_path *local,
                                   struct scpd_err *err);

/* Parses an SCP C record ("C0644 1048576 name\n" without the newline) sent by a remote source.
 * Pure. */
int copy_scp_c_record(const char *line, size_t len, unsigned *mode, uint64_t *size,
                      struct scpd_err *err);

#endif
