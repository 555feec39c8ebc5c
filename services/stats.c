/* stats: counters are a plain array updated with relaxed atomic adds (a counter read by the API
 * may be a few increments behind; nothing depends on cross-counter consistency). Live transfers
 * sit in a list under one mutex that only begin/end and the sampler take; the per-packet path
 * (stats_xfer_progress, inline in the header) touches nothing but the transfer's own byte count.
 *
 * A sampler thread wakes every STATS_TICK_MS (and at once on begin/end): it computes each live
 * transfer's rate, moves its new bytes into STATS_BYTES_IN/OUT, and publishes "start",
 * "progress" and "end" events to the transfers ring and to stats_listen() listeners. Finished
 * transfers are queued by stats_xfer_end() and written to the store's history by the sampler, so
 * the sqlite write never runs on a transfer thread. Events are collected under the mutex and
 * delivered after releasing it, so a listener may call back into stats. */
#include "services/stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/scpd_err.h"
#include "base/log.h"
#include "base/ring.h"
#include "store/store.h"

#define STATS_TICK_MS 250
#define STATS_LISTENERS 8
#define STATS_EVENT_RING 2048   /* per stream; ~1.9 KiB each */

struct stats_xfer {
    uint64_t bytes;         /* first member: see struct stats_xfer_hot in the header */
    struct stats_xfer_view v;
    /* sampler state, under stats.mu */
    uint64_t counted;       /* bytes already added to STATS_BYTES_IN/OUT */
    uint64_t last_bytes;
    int64_t last_mono_ms;
    int64_t last_progress_ms;
    bool announced;
    char result[16];
    char error[256];
    struct stats_xfer *next, *prev;
};

struct stats_listener {
    stats_xfer_listener fn;
    void *arg;
    int progress_ms;
    int64_t last_progress_ms;
};

struct stats {
    uint64_t counters[STATS_COUNTER_MAX];
    int64_t sessions_active;
    int64_t started_ms;
    struct store *store;
    struct ring *rings[STATS_STREAM_MAX];

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct stats_xfer *live;               /* doubly linked */
    struct stats_xfer *done, **done_tail;  /* FIFO of ended transfers */
    uint64_t next_id;
    struct stats_listener listeners[STATS_LISTENERS];
    int nlisteners;
    bool stopping;
    pthread_t thread;
};

static const char *const stats_names[STATS_COUNTER_MAX] = {
    [STATS_SESSIONS_ACCEPTED] = "sessions-accepted",
    [STATS_SESSIONS_REJECTED] = "sessions-rejected",
    [STATS_LOGINS_OK] = "logins-ok",
    [STATS_LOGINS_FAILED] = "logins-failed",
    [STATS_LOGINS_BLOCKED] = "logins-blocked",
    [STATS_XFER_IN_OK] = "transfers-in-ok",
    [STATS_XFER_IN_FAILED] = "transfers-in-failed",
    [STATS_XFER_OUT_OK] = "transfers-out-ok",
    [STATS_XFER_OUT_FAILED] = "transfers-out-failed",
    [STATS_BYTES_IN] = "bytes-in",
    [STATS_BYTES_OUT] = "bytes-out",
    [STATS_REFUSED_DISABLED] = "refused-disabled",
    [STATS_REFUSED_NO_AUTHZ] = "refused-no-authorization",
    [STATS_REFUSED_PRIVILEGE] = "refused-privilege",
    [STATS_REFUSED_PATH] = "refused-path",
    [STATS_REFUSED_OTHER] = "refused-other",
    [STATS_HTTP_REQUESTS] = "http-requests",
};

const char *stats_counter_name(enum stats_counter c)
{
    return (c >= 0 && c < STATS_COUNTER_MAX) ? stats_names[c] : "unknown";
}

static int64_t stats_clock_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void stats_inc(struct stats *s, enum stats_counter c, uint64_t n)
{
    if (s && c >= 0 && c < STATS_COUNTER_MAX)
        __atomic_fetch_add(&s->counters[c], n, __ATOMIC_RELAXED);
}

uint64_t stats_get(const struct stats *s, enum stats_counter c)
{
    if (!s || c < 0 || c >= STATS_COUNTER_MAX)
        return 0;
    return __atomic_load_n(&s->counters[c], __ATOMIC_RELAXED);
}

void stats_sessions_active(struct stats *s, int delta)
{
    if (s)
        __atomic_fetch_add(&s->sessions_active, (int64_t)delta, __ATOMIC_RELAXED);
}

int64_t stats_sessions_active_get(const struct stats *s)
{
    return s ? __atomic_load_n(&s->sessions_active, __ATOMIC_RELAXED) : 0;
}

int64_t stats_started_ms(const struct stats *s)
{
    return s ? s->started_ms : 0;
}

struct ring *stats_stream(struct stats *s, enum stats_stream which)
{
    return (which >= 0 && which < STATS_STREAM_MAX) ? s->rings[which] : NULL;
}

/* ---- transfers ------------------------------------------------------------------------------ */

struct stats_xfer *stats_xfer_begin(struct stats *s, uint64_t sid, const char *user,
                                    const char *peer, bool upload, const char *path,
                                    uint64_t size)
{
    return stats_xfer_begin_dir(s, sid, user, peer, upload, path, size, NULL);
}

struct stats_xfer *stats_xfer_begin_dir(struct stats *s, uint64_t sid, const char *user,
                                        const char *peer, bool upload, const char *path,
                                        uint64_t size, const char *direction)
{
    struct stats_xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    snprintf(x->v.direction, sizeof(x->v.direction), "%s",
             direction ? direction : upload ? "in" : "out");
    x->v.sid = sid;
    snprintf(x->v.user, sizeof(x->v.user), "%s", user ? user : "");
    snprintf(x->v.peer, sizeof(x->v.peer), "%s", peer ? peer : "");
    snprintf(x->v.path, sizeof(x->v.path), "%s", path ? path : "");
    x->v.upload = upload;
    x->v.size = size;
    x->v.start_ms = stats_clock_ms(CLOCK_REALTIME);
    x->last_mono_ms = stats_clock_ms(CLOCK_MONOTONIC);
    if (!s)
        return x;   /* statistics disabled: progress still has somewhere to go */
    pthread_mutex_lock(&s->mu);
    x->v.id = ++s->next_id;
    x->next = s->live;
    if (s->live)
        s->live->prev = x;
    s->live = x;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return x;
}

/* Moves the transfer's new bytes into the byte counters. Caller holds mu. */
static void stats_count_bytes(struct stats *s, struct stats_xfer *x, uint64_t now_bytes)
{
    if (now_bytes > x->counted) {
        stats_inc(s, x->v.upload ? STATS_BYTES_IN : STATS_BYTES_OUT, now_bytes - x->counted);
        x->counted = now_bytes;
    }
}

void stats_xfer_end(struct stats *s, struct stats_xfer *x, const char *result, const char *error)
{
    if (!x)
        return;
    if (!s) {
        free(x);
        return;
    }
    bool ok = result && strcmp(result, "ok") == 0;
    enum stats_counter c = x->v.upload ? (ok ? STATS_XFER_IN_OK : STATS_XFER_IN_FAILED)
                                       : (ok ? STATS_XFER_OUT_OK : STATS_XFER_OUT_FAILED);
    /* Counted before the hand-off: once queued, x belongs to the sampler thread. */
    stats_inc(s, c, 1);
    pthread_mutex_lock(&s->mu);
    if (x->prev)
        x->prev->next = x->next;
    else
        s->live = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->v.bytes = __atomic_load_n(&x->bytes, __ATOMIC_RELAXED);
    x->v.end_ms = stats_clock_ms(CLOCK_REALTIME);
    stats_count_bytes(s, x, x->v.bytes);
    snprintf(x->result, sizeof(x->result), "%s", result ? result : "failed");
    snprintf(x->error, sizeof(x->error), "%s", error ? error : "");
    x->next = NULL;
    *s->done_tail = x;
    s->done_tail = &x->next;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void stats_view_of(struct stats_xfer *x, struct stats_xfer_view *out)
{
    *out = x->v;
    out->bytes = __atomic_load_n(&x->bytes, __ATOMIC_RELAXED);
}

size_t stats_xfer_list(struct stats *s, struct stats_xfer_view *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    for (struct stats_xfer *x = s->live; x && n < max; x = x->next)
        stats_view_of(x, &out[n++]);
    pthread_mutex_unlock(&s->mu);
    return n;
}

size_t stats_xfer_count(struct stats *s)
{
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    for (struct stats_xfer *x = s->live; x; x = x->next)
        n++;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int stats_listen(struct stats *s, stats_xfer_listener fn, void *arg, int progress_ms)
{
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (s->nlisteners < STATS_LISTENERS) {
        s->listeners[s->nlisteners++] =
            (struct stats_listener){fn, arg, progress_ms > 0 ? progress_ms : 1000, 0};
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void stats_security(struct stats *s, const char *kind, const char *door, const char *user,
                    const char *peer, const char *reason)
{
    if (!s)
        return;
    struct stats_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.time_ms = stats_clock_ms(CLOCK_REALTIME);
    snprintf(ev.kind, sizeof(ev.kind), "%s", kind ? kind : "event");
    snprintf(ev.door, sizeof(ev.door), "%s", door ? door : "");
    snprintf(ev.user, sizeof(ev.user), "%s", user ? user : "");
    snprintf(ev.peer, sizeof(ev.peer), "%s", peer ? peer : "");
    snprintf(ev.detail, sizeof(ev.detail), "%s", reason ? reason : "");
    ring_push(s->rings[STATS_STREAM_SECURITY], &ev);
}

/* ---- sampler -------------------------------------------------------------------------------- */

/* Events gathered under the mutex, delivered after it is released. */
struct stats_batch {
    struct stats_event *ev;
    size_t n, cap;
    bool oom;
};

static void stats_batch_add(struct stats_batch *b, const char *kind, const struct stats_xfer_view *v,
                            const char *result, const char *error, int64_t now)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct stats_event *ev = realloc(b->ev, cap * sizeof(*ev));
        if (!ev) {
            b->oom = true;  /* events are best effort; the history is not affected */
            return;
        }
        b->ev = ev;
        b->cap = cap;
    }
    struct stats_event *e = &b->ev[b->n++];
    memset(e, 0, sizeof(*e));
    e->time_ms = now;
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    e->xfer = *v;
    snprintf(e->result, sizeof(e->result), "%s", result ? result : "");
    snprintf(e->detail, sizeof(e->detail), "%s", error ? error : "");
}

/* One pass over the live list. Caller holds mu. */
static void stats_sample(struct stats *s, struct stats_batch *b, int64_t now, int64_t mono)
{
    for (struct stats_xfer *x = s->live; x; x = x->next) {
        uint64_t bytes = __atomic_load_n(&x->bytes, __ATOMIC_RELAXED);
        stats_count_bytes(s, x, bytes);
        if (!x->announced) {
            x->announced = true;
            x->last_progress_ms = mono;
            struct stats_xfer_view v;
            stats_view_of(x, &v);
            stats_batch_add(b, "start", &v, NULL, NULL, now);
            continue;
        }
        /* A little slack so that a tick arriving a few ms early does not skip a second. */
        if (mono - x->last_progress_ms < STATS_PROGRESS_MS - STATS_TICK_MS / 4)
            continue;
        int64_t dt = mono - x->last_mono_ms;
        if (dt > 0) {
            double inst = (double)(bytes - x->last_bytes) * 1000.0 / (double)dt;
            x->v.rate_bps = x->v.rate_bps > 0 ? 0.5 * x->v.rate_bps + 0.5 * inst : inst;
        }
        x->last_bytes = bytes;
        x->last_mono_ms = mono;
        x->last_progress_ms = mono;
        struct stats_xfer_view v;
        stats_view_of(x, &v);
        stats_batch_add(b, "progress", &v, NULL, NULL, now);
    }
}

static void stats_history(struct stats *s, struct stats_xfer *x)
{
    if (!s->store)
        return;
    struct store_xfer row;
    memset(&row, 0, sizeof(row));
    snprintf(row.user, sizeof(row.user), "%s", x->v.user);
    snprintf(row.peer, sizeof(row.peer), "%s", x->v.peer);
    snprintf(row.direction, sizeof(row.direction), "%s", x->v.direction);
    snprintf(row.path, sizeof(row.path), "%s", x->v.path);
    row.bytes = x->v.bytes;
    row.size = x->v.size;
    row.start_ms = x->v.start_ms;
    row.end_ms = x->v.end_ms;
    snprintf(row.result, sizeof(row.result), "%s", x->result);
    snprintf(row.error, sizeof(row.error), "%s", x->error);
    struct scpd_err err = {0};
    if (store_history_add(s->store, &row, &err) < 0) {
        struct log_ctx ctx = {x->v.sid, x->v.user, x->v.peer};
        log_warn(&ctx, "transfer history: %s", err.msg);
    }
}

static void stats_deliver(struct stats *s, struct stats_batch *b, struct stats_listener *ls, int nls,
                          int64_t mono)
{
    bool progress_due[STATS_LISTENERS];
    for (int i = 0; i < nls; i++)
        progress_due[i] = mono - ls[i].last_progress_ms >= ls[i].progress_ms - STATS_TICK_MS / 4;
    for (size_t i = 0; i < b->n; i++) {
        struct stats_event *e = &b->ev[i];
        ring_push(s->rings[STATS_STREAM_TRANSFERS], e);
        bool progress = strcmp(e->kind, "progress") == 0;
        for (int j = 0; j < nls; j++)
            if (!progress || progress_due[j])
                ls[j].fn(ls[j].arg, e->kind, &e->xfer, e->result[0] ? e->result : NULL,
                         e->detail[0] ? e->detail : NULL);
    }
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < nls && i < s->nlisteners; i++)
        if (progress_due[i])
            s->listeners[i].last_progress_ms = mono;
    pthread_mutex_unlock(&s->mu);
    b->n = 0;
}

static void *stats_thread(void *arg)
{
    struct stats *s = arg;
    struct stats_batch b = {0};
    bool last = false;
    pthread_mutex_lock(&s->mu);
    while (!last) {
        last = s->stopping;
        if (!last && !s->done) {
            struct timespec dl;
            clock_gettime(CLOCK_MONOTONIC, &dl);
            dl.tv_nsec += (long)STATS_TICK_MS * 1000000L;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cv, &s->mu, &dl);
        }
        int64_t now = stats_clock_ms(CLOCK_REALTIME), mono = stats_clock_ms(CLOCK_MONOTONIC);
        stats_sample(s, &b, now, mono);
        struct stats_xfer *done = s->done;
        s->done = NULL;
        s->done_tail = &s->done;
        for (struct stats_xfer *x = done; x; x = x->next) {
            if (!x->announced)
                stats_batch_add(&b, "start", &x->v, NULL, NULL, now);
            stats_batch_add(&b, "end", &x->v, x->result, x->error, now);
        }
        struct stats_listener ls[STATS_LISTENERS];
        int nls = s->nlisteners;
        memcpy(ls, s->listeners, sizeof(ls));
        pthread_mutex_unlock(&s->mu);

        stats_deliver(s, &b, ls, nls, mono);
        while (done) {
            struct stats_xfer *x = done;
            done = x->next;
            stats_history(s, x);
            free(x);
        }
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    free(b.ev);
    return NULL;
}

struct stats *stats_new(struct store *st)
{
    struct stats *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->store = st;
    s->started_ms = stats_clock_ms(CLOCK_REALTIME);
    s->done_tail = &s->done;
    for (int i = 0; i < STATS_STREAM_MAX; i++) {
        s->rings[i] = ring_new(sizeof(struct stats_event), STATS_EVENT_RING);
        if (!s->rings[i])
            goto fail;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, stats_thread, s) != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        goto fail;
    }
    return s;
fail:
    for (int i = 0; i < STATS_STREAM_MAX; i++)
        ring_free(s->rings[i]);
    free(s);
    return NULL;
}

void stats_free(struct stats *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);   /* its last pass writes the pending history */
    while (s->live) {
        struct stats_xfer *x = s->live;
        s->live = x->next;
        free(x);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    for (int i = 0; i < STATS_STREAM_MAX; i++)
        ring_free(s->rings[i]);
    free(s);
}
