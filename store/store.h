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

/* Who made a change (audit log). source: "boot", "scp", "sftp", "api" or "cli" (required; any
 * other value is refused with SCPD_E_INTERNAL); user and peer may be NULL. Every function taking a
 * who needs one (not NULL). */
struct store_who {
    const char *user;
    const char *source;
    const char *peer;
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

/* ---- startup datastore (text) -----------------------------------------------------------------
 */
/* Copy of the startup config text (caller frees). *saved_at may be NULL. */
char *store_startup_get(struct store *st, time_t *saved_at, struct scpd_err *err);
/* Validates text as a whole config (errs on failure) and stores it as the startup config.
 * Text over LIM_CONFIG_FILE_BYTES: SCPD_E_LIMIT. */
int store_startup_set(struct store *st, const char *text, size_t len, const struct store_who *who,
                      struct cfg_errors *errs, struct scpd_err *err);
/* copy running-config startup-config: renders the running config into the startup datastore. */
int store_save_config(struct store *st, const struct store_who *who, struct scpd_err *err);

/* ---- shared secrets ---------------------------------------------------------------------------
 * Values every instance of a shared store must agree on, set once and never replaced: the SSH
 * host keys ("hostkey/<file>", daemon/hostkey.c) and the master key protecting stored secrets
 * ("master-key": the hook for type-6 keys; base64 text). Values are text. */
/* The value of name (caller frees), or NULL with SCPD_E_NOTFOUND (or another error). */
char *store_secret_get(struct store *st, const char *name, struct scpd_err *err);
/* Sets name to value unless it has one; returns the value that holds now (value, or the one an
 * earlier or concurrent instance set first). Caller frees. */
char *store_secret_init(struct store *st, const char *name, const char *value,
                        struct scpd_err *err);

/* ---- listeners --------------------------------------------------------------------------------
 */
/* Called after each commit, outside the store's locks, on the committing thread (for a commit of
 * another instance of a shared store: on the store's watcher thread). The snapshot is
 * valid during the call only (take store_snapshot() to keep one). A listener may call any store
 * function. Under concurrent commits listeners may see versions out of order: compare
 * snap->version. At most STORE_MAX_LISTENERS; -1 when full. */
typedef void (*store_listener_fn)(void *arg, const struct store_snap *snap);
int store_listen(struct store *st, store_listener_fn fn, void *arg);

/* ---- audit log --------------------------------------------------------------------------------
 */
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
/* Rows with id > since_id, oldest first, at most limit (0: LIM_AUDIT_ROWS). */
int store_audit_query(struct store *st, int64_t since_id, int limit, store_audit_fn fn, void *arg,
                      struct scpd_err *err);

/* ---- transfer history -------------------------------------------------------------------------
 */
struct store_xfer {
    int64_t id; /* set by store_history_add */
    char user[CFG_NAME_MAX];
    char peer[64];
    char direction[8];       /* "in" (upload to the device) or "out" (download) */
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
