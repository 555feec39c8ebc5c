/* store_int: what the files of the store module share (store.c: open, migrations, datastores,
 * commit; store_log.c: audit log and transfer history). Not for other modules. */
#ifndef SCPD_STORE_INT_H
#define SCPD_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"

/* Prepared statements, compiled once at open (sqlite3_prepare_v3 PERSISTENT). */
enum store_stmt {
    ST_SET_PUT,
    ST_MLIST_DEL_KIND,
    ST_MLIST_PUT,
    ST_USER_DEL,
    ST_USER_PUT,
    ST_PKUSER_DEL,
    ST_PKUSER_PUT,
    ST_PKEY_PUT,
    ST_META_PUT,
    ST_AUDIT_PUT,
    ST_STARTUP_GET,
    ST_STARTUP_PUT,
    ST_HIST_PUT,
    ST_HIST_TRIM_ROWS,
    ST_HIST_TRIM_AGE,
    ST_AUDIT_GET,
    ST_AUDIT_NEWEST,
    ST_AUDIT_TRIM,
    ST__COUNT
};

struct store {
    sqlite3 *db;
    pthread_mutex_t db_lock;     /* the connection and every transaction; writers only */
    pthread_mutex_t snap_lock;   /* held only to read or swap `cur` and count a reference */
    struct store_snap_impl *cur; /* current snapshot; the store holds one reference */
    sqlite3_stmt *stmt[ST__COUNT];
    pthread_mutex_t lsn_lock;
    int n_listeners;
    struct {
        store_listener_fn fn;
        void *arg;
    } listeners[STORE_MAX_LISTENERS];
    int lock_fd;                 /* flock on DIR/scpd.lock: one process per data directory */
    uint64_t ds_lock_sid;        /* the session holding the running datastore's lock (NETCONF
                                  * <lock>), 0: none; under db_lock */
    char ds_lock_holder[128];    /* "netconf session 7 (admin from 127.0.0.1:5555)" */
    char path[4096];
};

/* Resets and clears bindings of a cached statement and returns it. */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt which);
/* Fills err from the connection's last error with a context prefix; returns -1. */
int store_sql_err(struct store *st, struct scpd_err *err, const char *what);
/* Inserts one audit row (inside the caller's transaction). */
int store_audit_add(struct store *st, const struct store_who *who, int64_t when, uint64_t version,
                    const char *target, const char *diff, struct scpd_err *err);

#endif
