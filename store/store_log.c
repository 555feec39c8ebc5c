/* store_log: the two append-only logs of the store, the audit log (one row per committed change,
 * written by store.c inside the commit's transaction) and the transfer history (one row per
 * finished transfer, bounded by LIM_HISTORY_ROWS and LIM_HISTORY_DAYS, trimmed on insert).
 * Queries copy the rows out under the store's lock and call the callback after releasing it, so
 * a callback may use the store. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static void copy_col(char *dst, size_t cap, sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* ---- audit log ------------------------------------------------------------------------------- */

int store_audit_query(struct store *st, int64_t since_id, int limit, store_audit_fn fn, void *arg,
                      struct scpd_err *err)
{
    if (limit <= 0 || limit > LIM_AUDIT_ROWS)
        limit = LIM_AUDIT_ROWS;
    struct store_audit *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    pthread_mutex_lock(&st->db_lock);
    sqlite3_stmt *q = store_stmt(st, since_id < 0 ? ST_AUDIT_NEWEST : ST_AUDIT_GET);
    if (since_id >= 0)
        sqlite3_bind_int64(q, 1, since_id);
    sqlite3_bind_int(q, 2, limit);
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_audit *p = realloc(rows, ncap * sizeof(*rows));
            if (!p) {
                rc = scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
                break;
            }
            rows = p;
            cap = ncap;
        }
        struct store_audit *a = &rows[n];
        memset(a, 0, sizeof(*a));
        a->id = sqlite3_column_int64(q, 0);
        a->time = sqlite3_column_int64(q, 1);
        copy_col(a->user, sizeof(a->user), q, 2);
        copy_col(a->source, sizeof(a->source), q, 3);
        copy_col(a->peer, sizeof(a->peer), q, 4);
        a->version = (uint64_t)sqlite3_column_int64(q, 5);
        copy_col(a->target, sizeof(a->target), q, 6);
        const unsigned char *d = sqlite3_column_text(q, 7);
        if (!(a->diff = strdup(d ? (const char *)d : ""))) {
            rc = scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
            break;
        }
        n++;
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = store_sql_err(st, err, "reading the audit log");
    sqlite3_reset(q);
    pthread_mutex_unlock(&st->db_lock);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && fn(arg, &rows[i]) != 0)
            rc = 1; /* stopped by the callback: not an error, but deliver nothing more */
        free(rows[i].diff);
    }
    free(rows);
    return rc < 0 ? -1 : 0;
}

/* ---- transfer history ------------------------------------------------------------------------ */

int store_history_add(struct store *st, struct store_xfer *x, struct scpd_err *err)
{
    int rc = -1;
    int64_t cutoff = x->end_ms - (int64_t)LIM_HISTORY_DAYS * 86400 * 1000;
    pthread_mutex_lock(&st->db_lock);
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        store_sql_err(st, err, "transfer history");
        goto out;
    }
    sqlite3_stmt *q = store_stmt(st, ST_HIST_PUT);
    sqlite3_bind_text(q, 1, x->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, x->peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, x->direction, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, x->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)x->bytes);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)x->size);
    sqlite3_bind_int64(q, 7, x->start_ms);
    sqlite3_bind_int64(q, 8, x->end_ms);
    sqlite3_bind_text(q, 9, x->result, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 10, x->error, -1, SQLITE_STATIC);
    int ok = sqlite3_step(q) == SQLITE_DONE;
    int64_t id = sqlite3_last_insert_rowid(st->db);
    if (ok) {
        q = store_stmt(st, ST_HIST_TRIM_ROWS);
        sqlite3_bind_int(q, 1, LIM_HISTORY_ROWS);
        ok = sqlite3_step(q) == SQLITE_DONE;
    }
    if (ok) {
        q = store_stmt(st, ST_HIST_TRIM_AGE);
        sqlite3_bind_int64(q, 1, cutoff);
        ok = sqlite3_step(q) == SQLITE_DONE;
    }
    if (!ok || sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        store_sql_err(st, err, "transfer history");
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        goto out;
    }
    x->id = id;
    rc = 0;
out:
    pthread_mutex_unlock(&st->db_lock);
    return rc;
}

/* The filters of a history query: a clause each, used when the filter field is set. */
enum hf_type { HF_MS, HF_STR };
static const struct {
    const char *clause;
    size_t off;
    enum hf_type type;
} hist_filters[] = {
    {"end_ms >= ?", offsetof(struct store_xfer_filter, since_ms), HF_MS},
    {"user = ?", offsetof(struct store_xfer_filter, user), HF_STR},
    {"result = ?", offsetof(struct store_xfer_filter, result), HF_STR},
    {"direction = ?", offsetof(struct store_xfer_filter, direction), HF_STR},
};
#define N_HIST_FILTERS (sizeof(hist_filters) / sizeof(hist_filters[0]))
#define STORE_HIST_PAGE 64 /* history rows read per lock hold (see store_history_query) */

/* True if filter i is set in f; its value goes to *str or *ms. */
static bool hist_filter_set(const struct store_xfer_filter *f, size_t i, const char **str,
                            int64_t *ms)
{
    const char *p = (const char *)f + hist_filters[i].off;
    if (hist_filters[i].type == HF_MS) {
        int64_t v;
        memcpy(&v, p, sizeof(v));
        if (ms)
            *ms = v;
        return v != 0;
    }
    const char *s;
    memcpy(&s, p, sizeof(s));
    if (str)
        *str = s;
    return s != NULL;
}

/* Reads up to max rows with id < before (newest first) into rows; *n gets the count. Called with
 * the database lock held. */
static int hist_page(struct store *st, const char *sql, const struct store_xfer_filter *f,
                     int64_t before, int max, struct store_xfer *rows, size_t *n,
                     struct scpd_err *err)
{
    sqlite3_stmt *q = NULL;
    int rc = 0, s, b = 1;
    *n = 0;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return store_sql_err(st, err, "reading the transfer history");
    for (size_t i = 0; i < N_HIST_FILTERS; i++) {
        const char *str;
        int64_t ms;
        if (!hist_filter_set(f, i, &str, &ms))
            continue;
        if (hist_filters[i].type == HF_MS)
            sqlite3_bind_int64(q, b++, ms);
        else
            sqlite3_bind_text(q, b++, str, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(q, b++, before);
    sqlite3_bind_int(q, b, max);
    while ((s = sqlite3_step(q)) == SQLITE_ROW && *n < (size_t)max) {
        struct store_xfer *x = &rows[(*n)++];
        x->id = sqlite3_column_int64(q, 0);
        copy_col(x->user, sizeof(x->user), q, 1);
        copy_col(x->peer, sizeof(x->peer), q, 2);
        copy_col(x->direction, sizeof(x->direction), q, 3);
        copy_col(x->path, sizeof(x->path), q, 4);
        x->bytes = (uint64_t)sqlite3_column_int64(q, 5);
        x->size = (uint64_t)sqlite3_column_int64(q, 6);
        x->start_ms = sqlite3_column_int64(q, 7);
        x->end_ms = sqlite3_column_int64(q, 8);
        copy_col(x->result, sizeof(x->result), q, 9);
        copy_col(x->error, sizeof(x->error), q, 10);
    }
    if (s != SQLITE_DONE && s != SQLITE_ROW)
        rc = store_sql_err(st, err, "reading the transfer history");
    sqlite3_finalize(q);
    return rc;
}

/* Rows go to fn a page at a time (STORE_HIST_PAGE rows, ~90 KB), read under the database lock and
 * handed over outside it: a query for LIM_HISTORY_ROWS rows neither allocates room for all of them
 * nor holds the lock while the caller works. Pages continue below the last id seen, so rows added
 * meanwhile (higher ids) do not shift them. */
int store_history_query(struct store *st, const struct store_xfer_filter *f, store_xfer_fn fn,
                        void *arg, struct scpd_err *err)
{
    static const struct store_xfer_filter none = {0};
    if (!f)
        f = &none;
    char sql[512];
    size_t pos = (size_t)snprintf(sql, sizeof(sql),
                                  "SELECT id, user, peer, direction, path, bytes, size, start_ms,"
                                  " end_ms, result, error FROM history WHERE ");
    for (size_t i = 0; i < N_HIST_FILTERS; i++) {
        if (hist_filter_set(f, i, NULL, NULL))
            pos += (size_t)snprintf(sql + pos, sizeof(sql) - pos, "%s AND ",
                                    hist_filters[i].clause);
    }
    snprintf(sql + pos, sizeof(sql) - pos, "id < ? ORDER BY id DESC LIMIT ?");
    int left = f->limit <= 0 ? 100 : f->limit > LIM_HISTORY_ROWS ? LIM_HISTORY_ROWS : f->limit;

    struct store_xfer *rows = calloc(STORE_HIST_PAGE, sizeof(*rows));
    if (rows == NULL)
        return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    int64_t before = INT64_MAX;
    int rc = 0;
    bool more = true;
    while (more && left > 0) {
        int max = left < STORE_HIST_PAGE ? left : STORE_HIST_PAGE;
        size_t n = 0;
        pthread_mutex_lock(&st->db_lock);
        rc = hist_page(st, sql, f, before, max, rows, &n, err);
        pthread_mutex_unlock(&st->db_lock);
        if (rc < 0)
            break;
        more = n == (size_t)max;
        left -= (int)n;
        for (size_t i = 0; i < n; i++) {
            if (fn(arg, &rows[i]) != 0) {
                more = false;
                break;
            }
        }
        if (n > 0)
            before = rows[n - 1].id;
    }
    free(rows);
    return rc;
}
