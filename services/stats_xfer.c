/* stats_xfer: live transfers (begin, end, the list the API shows) and the sampler thread that
 * computes their rates and publishes "start", "progress" and "end" events (see stats.c's design
 * comment). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ring.h"
#include "services/stats_int.h"

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


/* ---- sampler -------------------------------------------------------------------------------- */

/* Events gathered under the mutex, delivered after it is released. */
struct stats_batch {
    struct stats_event *ev;
    size_t n, cap;
    bool oom;
};

static void stats_batch_add(struct stats_batch *b, const char *kind,
                            const struct stats_xfer_view *v, const char *result, const char *error,
                            int64_t now)
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

static void stats_deliver(struct stats *s, struct stats_batch *b, struct stats_listener *ls,
                          int nls, int64_t mono)
{
    bool progress_due[STATS_LISTENERS];
    for (int i = 0; i < nls; i++)
        progress_due[i] = mono - ls[i].last_progress_ms >= ls[i].progress_ms - STATS_TICK_MS / 4;
    for (size_t i = 0; i < b->n; i++) {
        struct stats_event *e = &b->ev[i];
        ring_push(s->rings[STATS_STREAM_TRANSFERS], e);
        stats_remote_publish(s, STATS_STREAM_TRANSFERS, e);
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

void *stats_thread(void *arg)
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

