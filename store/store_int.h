/* store_int: what the files of the store module share. store.c is the backend-independent core
 * (snapshots, the one commit, the running datastore as rows, startup, listeners); store_log.c the
 * audit log and transfer history; store_sqlite.c and store_pg.c are the two backends, each a
 * `struct store_backend` table of functions the core calls (curl's Curl_handler), so the core
 * never names sqlite or libpq. Not for other modules.
 *
 * SQL is written once, in PostgreSQL's placeholder syntax ($1, $2, ...); the sqlite backend turns
 * `$` into `?` (sqlite's numbered ?NNN) when it prepares a statement. Identifiers that are
 * keywords in PostgreSQL ("user", "time") are double-quoted, which sqlite accepts too. */
#ifndef SCPD_STORE_INT_H
#define SCPD_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Statements of the core, compiled once where the backend can (sqlite: prepare_v3 PERSISTENT). */
enum store_stmt {
    ST_SET_PUT,
    ST_MLIST_DEL_KIND,
    ST_MLIST_PUT,
    ST_USER_DEL,
    ST_USER_PUT,
    ST_PKUSER_DEL,
    ST_PKUSER_PUT,
    ST_PKEY_PUT,
    ST_META_GET,
    ST_META_INIT,
    ST_META_CAS,
    ST_META_LOCK,
    ST_AUDIT_PUT,
    ST_STARTUP_GET,
    ST_STARTUP_PUT,
    ST_HIST_PUT,
    ST_HIST_TRIM_ROWS,
    ST_HIST_TRIM_AGE,
    ST_AUDIT_GET,
    ST_AUDIT_NEWEST,
    ST_AUDIT_TRIM,
    ST_SET_ALL,
    ST_MLIST_ALL,
    ST_USER_ALL,
    ST_PKEY_ALL,
    ST_SECRET_GET,
    ST_SECRET_INIT,
    ST_SECRET_SET,
    ST_ACL_DEL_ALL,
    ST_ACL_PUT,
    ST_ACE_PUT,
    ST_ACL_ALL,
    ST__COUNT,
    ST_DYNAMIC = -1 /* the SQL is given with the call (built at run time) */
};
extern const char *const store_sql[ST__COUNT];

/* A bound parameter: text when s is not NULL, else the integer i. */
struct store_val {
    const char *s;
    int64_t i;
};
#define SV_TEXT(x) ((struct store_val){.s = (x)})
#define SV_INT(x) ((struct store_val){.s = NULL, .i = (int64_t)(x)})
#define STORE_MAX_PARAMS 16

/* One result row, valid during the row callback only. */
struct store_row {
    struct store *st;
    void *res;
    int idx;
};
/* Returns 0 to continue, 1 to stop, -1 (with err) to fail the query. */
typedef int (*store_row_fn)(void *arg, const struct store_row *row, struct scpd_err *err);

enum store_tx {
    STORE_TX_READ,  /* one consistent view of every table */
    STORE_TX_WRITE, /* a writer; commits of other writers wait or conflict */
    STORE_TX_INIT,  /* a writer that also excludes other instances creating the first content */
};

/* A backend. Every function but open/initialized is called with db_lock held. Errors: fill err;
 * SCPD_E_UNAVAILABLE when the database cannot be reached (the message names why). */
struct store_backend {
    const char *name;
    bool shared; /* other processes may commit: conflicts refresh, a watcher follows changes */
    int (*open)(struct store *st, const char *target, struct scpd_err *err); /* + migrations */
    void (*close)(struct store *st); /* stops the watcher first; NULL-safe on a half-open st */
    int (*initialized)(const char *target, struct scpd_err *err);
    int (*begin)(struct store *st, enum store_tx tx, struct scpd_err *err);
    int (*commit)(struct store *st, struct scpd_err *err); /* rolls back on failure */
    void (*rollback)(struct store *st);                    /* no-op outside a transaction */
    /* Runs a statement; *changes (if not NULL) gets the rows it changed. */
    int (*exec)(struct store *st, enum store_stmt id, const char *sql, const struct store_val *v,
                int n, int64_t *changes, struct scpd_err *err);
    int (*query)(struct store *st, enum store_stmt id, const char *sql, const struct store_val *v,
                 int n, store_row_fn fn, void *arg, struct scpd_err *err);
    const char *(*col_text)(const struct store_row *r, int col); /* never NULL ("" for NULL) */
    int64_t (*col_int)(const struct store_row *r, int col);
    bool (*col_null)(const struct store_row *r, int col);
    /* Inside a commit's transaction: tell the other instances (NULL: nobody to tell). */
    int (*announce)(struct store *st, uint64_t version, struct scpd_err *err);
    /* After the first load, without db_lock: start following other instances (NULL: none). */
    int (*watch)(struct store *st, struct scpd_err *err);
    /* store_space_set, with db_lock held (NULL: one process, nothing to share) */
    int (*space_set)(struct store *st, const char *fs, uint64_t total, uint64_t limit, bool check,
                     uint64_t grow, store_used_fn used, void *arg, uint64_t *avail,
                     struct scpd_err *err);
    /* store_event_publish, without db_lock (NULL: nobody to tell) */
    void (*publish)(struct store *st, const char *stream, const char *text);
};

extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_pg_backend;

struct store {
    const struct store_backend *be;
    void *bd;                    /* the backend's own state */
    pthread_mutex_t db_lock;     /* the backend connection and every transaction */
    pthread_mutex_t snap_lock;   /* held only to read or swap `cur` and count a reference */
    struct store_snap_impl *cur; /* current snapshot; the store holds one reference */
    pthread_mutex_t lsn_lock;
    int n_listeners;
    struct {
        store_listener_fn fn;
        void *arg;
    } listeners[STORE_MAX_LISTENERS];
    char where[4096];            /* what errors name: the sqlite file or the PostgreSQL host */
    int64_t instance;            /* this instance's number in a shared store; 0: not shared */
    pthread_mutex_t evl_lock;    /* evl, and every call of an event listener */
    struct {
        store_event_fn fn;
        void *arg;
    } evl[STORE_MAX_LISTENERS];
    uint64_t ds_lock_sid;        /* the session holding the running datastore's lock (NETCONF
                                  * <lock>), 0: none; under db_lock */
    char ds_lock_holder[128];    /* "netconf session 7 (admin from 127.0.0.1:5555)" */
    unsigned login_fails;        /* failed logins this instance recorded in the shared table: every
                                  * LOGIN_FAIL_PRUNE_EVERY-th cuts the tables (atomic) */
};

/* Helpers of the core for store_log.c, called with db_lock held. */
int store_exec(struct store *st, enum store_stmt id, const struct store_val *v, int n,
               struct scpd_err *err);
int store_query(struct store *st, enum store_stmt id, const char *sql, const struct store_val *v,
                int n, store_row_fn fn, void *arg, struct scpd_err *err);
const char *store_col_text(const struct store_row *r, int col);
int64_t store_col_int(const struct store_row *r, int col);
/* A row callback for queries of one integer: stores column 0 into *(int64_t *)arg. */
int store_row_int(void *arg, const struct store_row *r, struct scpd_err *err);
bool store_col_null(const struct store_row *r, int col);
/* Inserts one audit row (inside the caller's transaction) and trims the log. */
int store_audit_add(struct store *st, const struct store_who *who, int64_t when, uint64_t version,
                    const char *target, const char *diff, struct scpd_err *err);

/* For the backends' watchers: an event of another instance to the event listeners. */
void store_event_deliver(struct store *st, int64_t instance, const char *stream,
                         const char *text);

/* For the backends' watchers: reloads the running datastore if the database holds a newer
 * version than memory, and tells the listeners as a local commit does. Takes db_lock. */
int store_refresh(struct store *st, struct scpd_err *err);

#endif
