/* stats_int: the state of the statistics service, shared by its files: stats.c (counters, start
 * and stop), stats_xfer.c (live transfers and the sampler thread that publishes their events),
 * stats_history.c (rows of finished transfers) and stats_security.c (security events). Private to
 * services/stats*.c; the rest of the program uses stats.h. */
#ifndef SCPD_STATS_INT_H
#define SCPD_STATS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "services/stats.h"

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

/* CLOCK_REALTIME (shown to people) or CLOCK_MONOTONIC (rates, ticks) in milliseconds. */
static inline int64_t stats_clock_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The events of the other instances of a shared store (stats_remote.c): start (before the
 * first transfer) and stop (before the rings go); publish sends one event of this instance. */
int stats_remote_start(struct stats *s);
void stats_remote_stop(struct stats *s);
void stats_remote_publish(struct stats *s, enum stats_stream which, const struct stats_event *e);

/* The sampler thread (stats_xfer.c), started by stats_new() with s as its argument. */
void *stats_thread(void *arg);
/* Writes the history row of a finished transfer (stats_history.c); on the sampler thread. */
void stats_history(struct stats *s, struct stats_xfer *x);

#endif
