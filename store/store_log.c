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

static void copy_col(char *dst, size_t cap, const struct store_row *q, int col)
{
    snprintf(dst, cap, "%s", store_col_text(q, col));
}

/* ---- audit log ------------------------------------------------------------------------------- */

struct audit_rows {
    struct store_audit *rows;
    size_t n, cap;
};

static int audit_row(void *arg, const struct store_row *q, struct scpd_err *err)
{
    struct audit_rows *r = arg;
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 16;
        struct store_audit *p = realloc(r->rows, ncap * sizeof(*r->rows));
        if (!p)
            return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        r->rows = p;
        r->cap = ncap;
    }
    struct store_audit *a = &r->rows[r->n];
    memset(a, 0, sizeof(*a));
    a->id = store_col_int(q, 0);
    a->time = store_col_int(q, 1);
    copy_col(a->user, sizeof(a->user), q, 2);
    copy_col(a->source, sizeof(a->source), q, 3);
    copy_col(a->peer, sizeof(a->peer), q, 4);
    a->version = (uint64_t)store_col_int(q, 5);
    copy_col(a->target, sizeof(a->target), q, 6);
    if (!(a->diff = strdup(store_col_text(q, 7))))
        return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    r->n++;
    return 0;
}

int store_audit_query(struct store *st, int64_t since_id, int limit, store_audit_fn fn, void *arg,
                      struct scpd_err *err)
{
    if (limit <= 0 || limit > LIM_AUDIT_ROWS)
        limit = LIM_AUDIT_ROWS;
    struct audit_rows r = {0};
    struct store_val v[2] = {SV_INT(since_id), SV_INT(limit)};
    pthread_mutex_lock(&st->db_lock);
    int rc = (since_id < 0 ? store_query(st, ST_AUDIT_NEWEST, NULL, v + 1, 1, audit_row, &r, err)
                           : store_query(st, ST_AUDIT_GET, NULL, v, 2, audit_row, &r, err)) < 0
                 ? -1
                 : 0;
    pthread_mutex_unlock(&st->db_lock);
    for (size_t i = 0; i < r.n; i++) {
        if (rc == 0 && fn(arg, &r.rows[i]) != 0)
            rc = 1; /* stopped by the callback: not an error, but deliver nothing more */
        free(r.rows[i].diff);
    }
    free(r.rows);
    return rc < 0 ? -1 : 0;
}

/* ---- transfer history ------------------------------------------------------------------------ */

int store_history_add(struct store *st, struct store_xfer *x, struct scpd_err *err)
{
    int rc = -1;
    int64_t cutoff = x->end_ms - (int64_t)LIM_HISTORY_DAYS * 86400 * 1000, id = 0;
    struct store_val v[10] = {SV_TEXT(x->user),      SV_TEXT(x->peer),   SV_TEXT(x->direction),
                              SV_TEXT(x->path),      SV_INT(x->bytes),   SV_INT(x->size),
                              SV_INT(x->start_ms),   SV_INT(x->end_ms),  SV_TEXT(x->result),
                              SV_TEXT(x->error)};
    pthread_mutex_lock(&st->db_lock);
    if (st->be->begin(st, STORE_TX_WRITE, err) != 0)
        goto out;
    if (store_query(st, ST_HIST_PUT, NULL, v, 10, store_row_int, &id, err) < 0 ||
        store_exec(st, ST_HIST_TRIM_ROWS, &SV_INT(LIM_HISTORY_ROWS), 1, err) != 0 ||
        store_exec(st, ST_HIST_TRIM_AGE, &SV_INT(cutoff), 1, err) != 0 ||
        st->be->commit(st, err) != 0) {
        st->be->rollback(st);
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
    {"end_ms >= ", offsetof(struct store_xfer_filter, since_ms), HF_MS},
    {"\"user\" = ", offsetof(struct store_xfer_filter, user), HF_STR},
    {"result = ", offsetof(struct store_xfer_filter, result), HF_STR},
    {"direction = ", offsetof(struct store_xfer_filter, direction), HF_STR},
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

struct hist_rows {
    struct store_xfer *rows;
    size_t n, max;
};

static int hist_row(void *arg, const struct store_row *q, struct scpd_err *err)
{
    struct hist_rows *h = arg;
    if (h->n >= h->max)
        return 1;
    struct store_xfer *x = &h->rows[h->n++];
    x->id = store_col_int(q, 0);
    copy_col(x->user, sizeof(x->user), q, 1);
    copy_col(x->peer, sizeof(x->peer), q, 2);
    copy_col(x->direction, sizeof(x->direction), q, 3);
    copy_col(x->path, sizeof(x->path), q, 4);
    x->bytes = (uint64_t)store_col_int(q, 5);
    x->size = (uint64_t)store_col_int(q, 6);
    x->start_ms = store_col_int(q, 7);
    x->end_ms = store_col_int(q, 8);
    copy_col(x->result, sizeof(x->result), q, 9);
    copy_col(x->error, sizeof(x->error), q, 10);
    return 0;
}

/* Reads up to max rows with id < before (newest first) into rows; *n gets the count. Called with
 * the database lock held. */
static int hist_page(struct store *st, const char *sql, const struct store_xfer_filter *f,
                     int64_t before, int max, struct store_xfer *rows, size_t *n,
                     struct scpd_err *err)
{
    struct store_val v[N_HIST_FILTERS + 2];
    int b = 0;
    for (size_t i = 0; i < N_HIST_FILTERS; i++) {
        const char *str;
        int64_t ms;
        if (!hist_filter_set(f, i, &str, &ms))
            continue;
        v[b++] = hist_filters[i].type == HF_MS ? SV_INT(ms) : SV_TEXT(str);
    }
    v[b++] = SV_INT(before);
    v[b++] = SV_INT(max);
    struct hist_rows h = {.rows = rows, .max = (size_t)max};
    int rc = store_query(st, ST_DYNAMIC, sql, v, b, hist_row, &h, err) < 0 ? -1 : 0;
    *n = h.n;
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
                                  "SELECT id, \"user\", peer, direction, path, bytes, size,"
                                  " start_ms, end_ms, result, error FROM history WHERE ");
    int np = 0;
    for (size_t i = 0; i < N_HIST_FILTERS; i++) {
        if (!hist_filter_set(f, i, NULL, NULL))
            continue;
        pos += (size_t)snprintf(sql + pos, sizeof(sql) - pos, "%s$%d AND ",
                                hist_filters[i].clause, ++np);
    }
    snprintf(sql + pos, sizeof(sql) - pos, "id < $%d ORDER BY id DESC LIMIT $%d", np + 1, np + 2);
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
