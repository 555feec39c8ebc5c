/* stats: the statistics service (see stats_int.h for its files). Counters are a plain array updated
 * with relaxed atomic adds (a counter read by the API may be a few increments behind; nothing
 * depends on cross-counter consistency). Live transfers sit in a list under one mutex that only
 * begin/end and the sampler take; the per-packet path (stats_xfer_progress, inline in the header)
 * touches nothing but the transfer's own byte count.
 *
 * A sampler thread wakes every STATS_TICK_MS (and at once on begin/end): it computes each live
 * transfer's rate, moves its new bytes into STATS_BYTES_IN/OUT, and publishes "start",
 * "progress" and "end" events to the transfers ring and to stats_listen() listeners. Finished
 * transfers are queued by stats_xfer_end() and written to the store's history by the sampler, so
 * the sqlite write never runs on a transfer thread. Events are collected under the mutex and
 * delivered after releasing it, so a listener may call back into stats. */
#include "services/stats.h"

#include <stdlib.h>

#include "base/ring.h"
#include "services/stats_int.h"

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
    if (stats_remote_start(s) != 0)
        goto fail;
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
    stats_remote_stop(s);
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
    stats_remote_stop(s);
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

