/* store: the configuration store, in sqlite (DIR/scpd.db, the embedded default) or in PostgreSQL
 * shared by several scpd instances (docs/postgresql.md); each creates and migrates its own
 * versioned schema: the running datastore (structured rows), the startup datastore (config text),
 * the audit log, the transfer history and the shared secrets (host keys, master key).
 * Readers take an immutable, reference-counted snapshot of the running config and never wait for a
 * writer. Every change goes through store_commit(): one transaction, all or nothing; the version
 * increments by one per commit; the audit log gets the diff; listeners are told afterwards.
 * Thread-safe: any thread may call any function. */
#ifndef SCPD_STORE_H
#define SCPD_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/cfg.h"
#include "base/scpd_err.h"

struct store;

#define STORE_MAX_LISTENERS 32 /* store_listen() registrations (one per module) */

/* Who made a change (audit log). source: "boot", "scp", "sftp", "api", "cli" or "netconf"
 * (required; any other value is refused with SCPD_E_INTERNAL); user and peer may be NULL. Every
 * function taking a who needs one (not NULL). */
struct store_who {
    const char *user;
    const char *source;
    const char *peer;
    uint64_t session;   /* the writer's session id (0: none); a commit while another session
                         * holds the datastore lock is refused (SCPD_E_LOCKED) */
};

/* An immutable snapshot of the running datastore at one version. */
struct store_snap {
    const struct cfg *cfg;
    uint64_t version;
    time_t changed_at;             /* time of the commit that made this version */
    char changed_by[CFG_NAME_MAX]; /* user of that commit ("" at boot) */
};

/* Opens or creates the store at target: a directory DIR (sqlite in DIR/scpd.db) or a libpq URI
 * "postgresql://..." (PostgreSQL). On a new database the running and startup datastores are
 * loaded from initial (NULL: cfg_new_default()), audited as source "boot". *created tells which.
 * sqlite: one process per data directory: a second store_open() of DIR while one is open fails
 * with SCPD_E_CONFLICT (flock on DIR/scpd.lock). PostgreSQL: any number of instances; commits of
 * the others become live here within a second (listeners are told, on the watcher thread). */
struct store *store_open(const char *target, const struct cfg *initial, bool *created,
                         struct scpd_err *err);
/* 1 if target holds a datastore (this is a later start), 0 if not (no file, or a first start
 * that stopped before its first commit: store_open() will create the content), -1 on error.
 * Changes nothing. */
int store_initialized(const char *target, struct scpd_err *err);
/* True if other processes share the database (PostgreSQL). */
bool store_is_shared(const struct store *st);
void store_close(struct store *st); /* NULL is a no-op; snapshots must be released first */

/* Snapshot of the current running config; release with store_snap_release(). Never blocks on a
 * writer. */
const struct store_snap *store_snapshot(struct store *st);
void store_snap_release(const struct store_snap *snap);
uint64_t store_version(struct store *st);

/* The one commit function: makes next the running config in one transaction. If expect_version is
 * not 0 and differs from the current version, fails with SCPD_E_CONFLICT and changes nothing.
 * The database checks the version too (a conditional write): a commit of another instance in
 * between is SCPD_E_CONFLICT, never a lost update. An unreachable database: SCPD_E_UNAVAILABLE.
 * A commit that changes nothing succeeds without a new version. *new_version (if not NULL) gets
 * the resulting version. The store copies next; the caller keeps ownership. */
int store_commit(struct store *st, const struct cfg *next, uint64_t expect_version,
                 const struct store_who *who, uint64_t *new_version, struct scpd_err *err);

/* Parses text and commits it (merge onto running, or replace). On invalid text returns -1 with
 * errs filled (SCPD_E_INVALID) and the store untouched; text over LIM_CONFIG_FILE_BYTES is
 * refused with SCPD_E_LIMIT (errs untouched). dry_run: validate and compute the diff,
 * commit nothing. *diff (if not NULL) gets cfg_diff() of the change; caller frees. */
int store_apply_text(struct store *st, const char *text, size_t len, enum cfg_mode mode,
                     bool dry_run, uint64_t expect_version, const struct store_who *who,
                     struct cfg_errors *errs, char **diff, struct scpd_err *err);

/* ---- the running datastore's lock (RFC 6241 section 7.5) ------------------------------------
 * Held by one session (a NETCONF <lock>); while it is held every commit of another session, from
 * any door (RESTCONF, CLI, SCP, SFTP), fails with SCPD_E_LOCKED naming the holder. */
/* Takes the lock for session sid (holder: words naming it). SCPD_E_LOCKED when another session
 * holds it, naming that one; SCPD_E_EXISTS when sid holds it already. */
int store_ds_lock(struct store *st, uint64_t sid, const char *holder, struct scpd_err *err);
/* Releases sid's lock; SCPD_E_DENIED when sid does not hold it. */
int store_ds_unlock(struct store *st, uint64_t sid, struct scpd_err *err);
/* Releases the lock if sid holds it (the session ended); no error. */
void store_ds_unlock_session(struct store *st, uint64_t sid);

/* ---- startup datastore (text) ---------------------------------------------------------------- */
/* Copy of the startup config text (caller frees). *saved_at may be NULL. */
char *store_startup_get(struct store *st, time_t *saved_at, struct scpd_err *err);
/* Validates text as a whole config (errs on failure) and stores it as the startup config.
 * Text over LIM_CONFIG_FILE_BYTES: SCPD_E_LIMIT. */
int store_startup_set(struct store *st, const char *text, size_t len, const struct store_who *who,
                      struct cfg_errors *errs, struct scpd_err *err);
/* copy running-config startup-config: renders the running config into the startup datastore. */
int store_save_config(struct store *st, const struct store_who *who, struct scpd_err *err);

/* reload: makes the running config the saved startup config again (a router's reload), one
 * commit audited with who. An unreadable or invalid startup text fails and changes nothing. */
int store_reload(struct store *st, const struct store_who *who, struct scpd_err *err);

/* ---- shared secrets ---------------------------------------------------------------------------
 * Values every instance of a shared store must agree on: the SSH host keys ("hostkey/<file>",
 * daemon/hostkey.c; replaced by `crypto key generate rsa`) and the master key protecting stored
 * secrets (STORE_SECRET_MASTER: the key of type-6 secrets, store/secret.h; base64 text, put by the
 * instance that creates the content, in that transaction; never replaced). Values are text. */
#define STORE_SECRET_MASTER "master-key"
/* The value of name (caller frees), or NULL with SCPD_E_NOTFOUND (or another error). */
char *store_secret_get(struct store *st, const char *name, struct scpd_err *err);
/* Sets name to value unless it has one; returns the value that holds now (value, or the one an
 * earlier or concurrent instance set first). Caller frees. */
char *store_secret_init(struct store *st, const char *name, const char *value,
                        struct scpd_err *err);

/* Replaces (or sets) name's value. The other instances of a shared store are told with an event
 * (store_event_listen) of stream STORE_EVENT_SECRET whose text is the name; their watcher also
 * finds a change it was not told of (a notification lost while it reconnected) within
 * LIM_PG_POLL_MS and sends the event with text "" (some secret changed: read the ones you use).
 * SCPD_E_UNAVAILABLE: unreachable (nothing changed). */
int store_secret_set(struct store *st, const char *name, const char *value, struct scpd_err *err);
#define STORE_EVENT_SECRET "secret"

/* ---- API bearer tokens of a shared store -----------------------------------------------------
 * PostgreSQL keeps the API's bearer tokens so every instance accepts them (api/api_auth.c; sqlite's
 * single instance keeps them in memory: these fail with SCPD_E_INTERNAL there). Only the token's
 * SHA-256 (hash_hex: 64 hex digits) reaches the database. SCPD_E_UNAVAILABLE: unreachable. */
struct store_token {
    char user[CFG_NAME_MAX + 1];
    uint64_t account; /* the account generation the token is bound to */
    int privilege;
    int64_t expires;  /* unix seconds */
};
/* Adds a token; drops the expired ones (now: unix seconds), then the user's oldest beyond
 * per_user - 1 and the oldest of all beyond total - 1, so the new one fits both caps. */
int store_token_add(struct store *st, const char *hash_hex, const struct store_token *t,
                    int64_t now, int per_user, int total, struct scpd_err *err);
/* 1 and *t filled when a token with that hash lives at now; 0 when none; -1 on error. */
int store_token_get(struct store *st, const char *hash_hex, int64_t now, struct store_token *t,
                    struct scpd_err *err);
/* Removes the token (none: not an error). */
int store_token_del(struct store *st, const char *hash_hex, struct scpd_err *err);

/* ---- login block-for of a shared store ------------------------------------------------------
 * PostgreSQL counts the failed logins of every instance, so `login block-for ... attempts N within
 * W` holds for a source whichever instance its attempts reach (services/aaa.c; sqlite's single
 * instance counts in memory: these fail with SCPD_E_INTERNAL there). Times are unix time (the
 * instances' clocks agree, as for tokens). SCPD_E_UNAVAILABLE: unreachable. */
/* Counts one failed login of addr at now_ms. When addr is in a quiet period already, *until_s is
 * its end and nothing is counted; when this failure is the attempts-th within within_s seconds,
 * a quiet period of block_s starts (*started true, *until_s its end); otherwise *until_s is 0. */
int store_block_fail(struct store *st, const char *addr, int64_t now_ms, int attempts,
                     int within_s, int block_s, int64_t *until_s, bool *started,
                     struct scpd_err *err);
/* *until_s: the end of addr's quiet period, or 0 when it has none at now_s. */
int store_block_get(struct store *st, const char *addr, int64_t now_s, int64_t *until_s,
                    struct scpd_err *err);

/* ---- several instances on one shared store -------------------------------------------------
 * With a store of one process (sqlite) these do nothing and say so: store_instance is 0,
 * store_space_set succeeds without a check, events go nowhere. */
/* This instance's number in the shared store (1, 2, ...: given at open, never reused). */
int64_t store_instance(const struct store *st);

/* Space reservations of uploads held in the database, so uploads through different instances
 * cannot together exceed a file system's size. The instance's reservations on fs become total.
 * With check (total grew), that happens only if used() (the bytes the files of fs hold now, read
 * with the reservations of every instance locked) + the reservations of the other live instances
 * + total <= limit; otherwise -1 with SCPD_E_LIMIT and *avail the bytes that were free for
 * this instance's growth. A decrease (check false) never fails for want of space.
 * SCPD_E_UNAVAILABLE when the database cannot be reached (a decrease is then written later by
 * the heartbeat). */
typedef int (*store_used_fn)(void *arg, uint64_t *used);
int store_space_set(struct store *st, const char *fs, uint64_t total, uint64_t limit, bool check,
                    uint64_t grow, store_used_fn used, void *arg, uint64_t *avail,
                    struct scpd_err *err);

/* Events of the streams (transfers, security) carried to the other instances: publish never
 * blocks (queued, sent by the store's watcher, dropped when LIM_PG_EVENT_QUEUE are waiting);
 * listeners are called on the watcher thread with the events of the other instances only (and
 * the watcher's own STORE_EVENT_SECRET, instance 0). A listener ignores the streams it does not
 * know and returns soon: the watcher waits for it.
 * stream: a short word; text: at most LIM_PG_EVENT_BYTES - 64 bytes (longer is dropped). */
void store_event_publish(struct store *st, const char *stream, const char *text);
typedef void (*store_event_fn)(void *arg, int64_t instance, const char *stream, const char *text);
int store_event_listen(struct store *st, store_event_fn fn, void *arg);
/* Removes the listener (fn, arg); when it returns, fn is not running and will not be called. */
void store_event_unlisten(struct store *st, store_event_fn fn, void *arg);

/* ---- listeners ------------------------------------------------------------------------------- */
/* Called after each commit, outside the store's locks, on the committing thread (for a commit of
 * another instance of a shared store: on the store's watcher thread). The snapshot is
 * valid during the call only (take store_snapshot() to keep one). A listener may call any store
 * function. Under concurrent commits listeners may see versions out of order: compare
 * snap->version. At most STORE_MAX_LISTENERS; -1 when full. */
typedef void (*store_listener_fn)(void *arg, const struct store_snap *snap);
int store_listen(struct store *st, store_listener_fn fn, void *arg);

/* ---- audit log ------------------------------------------------------------------------------- */
struct store_audit {
    int64_t id;
    int64_t time; /* unix seconds */
    char user[CFG_NAME_MAX];
    char source[16];
    char peer[64];
    uint64_t version; /* version created by the change (0 for startup-only changes) */
    char target[16];  /* "running" or "startup" */
    char *diff;       /* config lines, "+ ..." / "- ..." */
};
typedef int (*store_audit_fn)(void *arg, const struct store_audit *row); /* non-zero stops */
/* Rows with id > since_id, oldest first, at most limit (0: LIM_AUDIT_ROWS): the first page after
 * since_id. since_id < 0: the newest limit rows instead (still oldest first). */
int store_audit_query(struct store *st, int64_t since_id, int limit, store_audit_fn fn, void *arg,
                      struct scpd_err *err);

/* ---- transfer history ------------------------------------------------------------------------ */
struct store_xfer {
    int64_t id; /* set by store_history_add */
    char user[CFG_NAME_MAX];
    char peer[64];
    char direction[8];       /* "in" (upload to the device) or "out" (download); "pull" and
                              * "push" for copies the device started (copy scp://...) */
    char path[LIM_PATH_LEN]; /* IFS path */
    uint64_t bytes;
    uint64_t size;            /* announced size */
    int64_t start_ms, end_ms; /* unix milliseconds */
    char result[16];          /* "ok", "failed", "aborted", "refused" */
    char error[256];
};
struct store_xfer_filter {
    int64_t since_ms;      /* 0: any; else transfers that ended at or after it */
    const char *user;      /* NULL: any */
    const char *result;    /* NULL: any */
    const char *direction; /* NULL: any */
    int limit;             /* 0: 100 */
};
/* Adds a finished transfer; trims the history to LIM_HISTORY_ROWS / LIM_HISTORY_DAYS. */
int store_history_add(struct store *st, struct store_xfer *x, struct scpd_err *err);
typedef int (*store_xfer_fn)(void *arg, const struct store_xfer *x);
/* Newest first. */
int store_history_query(struct store *st, const struct store_xfer_filter *f, store_xfer_fn fn,
                        void *arg, struct scpd_err *err);

#endif
