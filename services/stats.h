/* stats: counters since start, live transfers with progress, the hand-off of finished transfers
 * to the store's history, and the event fan-out of the `transfers` and `security` streams. The
 * per-packet path is stats_xfer_progress(): one relaxed atomic add on the transfer's own counter,
 * no lock. Starting and ending a transfer take a short mutex (list membership). Thread-safe. */
#ifndef SCPD_STATS_H
#define SCPD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/lim.h"

struct store;
struct stats;

enum stats_counter {
    STATS_SESSIONS_ACCEPTED = 0,
    STATS_SESSIONS_REJECTED,      /* over a session limit */
    STATS_LOGINS_OK,
    STATS_LOGINS_FAILED,
    STATS_LOGINS_BLOCKED,
    STATS_XFER_IN_OK,
    STATS_XFER_IN_FAILED,
    STATS_XFER_OUT_OK,
    STATS_XFER_OUT_FAILED,
    STATS_BYTES_IN,
    STATS_BYTES_OUT,
    STATS_REFUSED_DISABLED,       /* ip scp server enable missing */
    STATS_REFUSED_NO_AUTHZ,       /* no aaa new-model / authorization exec */
    STATS_REFUSED_PRIVILEGE,      /* privilege < 15 */
    STATS_REFUSED_PATH,           /* path outside its file system, bad name */
    STATS_REFUSED_OTHER,
    STATS_HTTP_REQUESTS,
    STATS_COUNTER_MAX
};
/* Stable names for the API and /metrics: "sessions-accepted", ... */
const char *stats_counter_name(enum stats_counter c);

/* st may be NULL (no history). Starts the sampler thread (rates, progress events, history
 * writes). NULL when out of memory or threads. Caller frees with stats_free() after the SSH and
 * HTTP sides have stopped and before the store is closed; NULL is a no-op. */
struct stats *stats_new(struct store *st);
void stats_free(struct stats *s);

void stats_inc(struct stats *s, enum stats_counter c, uint64_t n);
uint64_t stats_get(const struct stats *s, enum stats_counter c);
void stats_sessions_active(struct stats *s, int delta);   /* gauge */
int64_t stats_sessions_active_get(const struct stats *s);

/* A live transfer. */
struct stats_xfer;
struct stats_xfer *stats_xfer_begin(struct stats *s, uint64_t sid, const char *user,
                                    const char *peer, bool upload, const char *path,
                                    uint64_t size);
/* The same for a copy the device itself starts (copy scp://...): direction "pull" (into the
 * device, counted as an upload) or "push", in the history instead of "in"/"out"; peer is the
 * remote host. */
struct stats_xfer *stats_xfer_begin_dir(struct stats *s, uint64_t sid, const char *user,
                                        const char *peer, bool upload, const char *path,
                                        uint64_t size, const char *direction);
static inline void stats_xfer_progress(struct stats_xfer *x, uint64_t n);
/* Ends a transfer: moves it to the history (store) and the counters. result "ok"/"failed"/...
 * ("ok" counts as STATS_XFER_*_OK, anything else as *_FAILED). STATS_BYTES_IN/OUT are kept here
 * from the progress of every transfer: callers do not add them. x is freed; error may be NULL. */
void stats_xfer_end(struct stats *s, struct stats_xfer *x, const char *result, const char *error);

struct stats_xfer_view {
    uint64_t id, sid;
    char user[64], peer[64], path[LIM_PATH_LEN];
    bool upload;
    char direction[8];        /* "in", "out"; "pull", "push" for copies the device started */
    uint64_t bytes, size;
    int64_t start_ms;
    double rate_bps;          /* bytes per second over the last interval */
    int64_t end_ms;           /* end events only */
};
/* Copies up to max live transfers into out; returns the count. */
size_t stats_xfer_list(struct stats *s, struct stats_xfer_view *out, size_t max);
size_t stats_xfer_count(struct stats *s);   /* live transfers now */

/* Transfer events for streams: called on begin, at most every progress_ms while active, and on
 * end (kind "start", "progress", "end"). Runs on a stats thread, never on the transfer path. */
typedef void (*stats_xfer_listener)(void *arg, const char *kind, const struct stats_xfer_view *v,
                                    const char *result, const char *error);
int stats_listen(struct stats *s, stats_xfer_listener fn, void *arg, int progress_ms);

/* ---- event streams ---------------------------------------------------------------------------
 * Two rings of struct stats_event (base/ring.h) feed the API's event streams:
 *   STATS_STREAM_TRANSFERS: kind "start", "progress" (every STATS_PROGRESS_MS per transfer),
 *                           "end" (with result, error);
 *   STATS_STREAM_SECURITY:  what stats_security() reports. */
#define STATS_PROGRESS_MS 500
enum stats_stream { STATS_STREAM_TRANSFERS = 0, STATS_STREAM_SECURITY, STATS_STREAM_MAX };
struct stats_event {
    uint64_t seq;             /* first member: the ring's sequence number */
    int64_t time_ms;
    char kind[24];
    struct stats_xfer_view xfer;     /* transfers stream */
    char result[16];
    char user[64], peer[64];         /* security stream */
    char door[8];                    /* security stream: "ssh", "http" */
    char detail[256];                /* transfers: error; security: reason */
};
struct ring;
struct ring *stats_stream(struct stats *s, enum stats_stream which);

/* The security-event fan-out for aaa and ssh: one call per login failure, block, refusal.
 * kind: "login-failed", "login-blocked" or "refused" (the scpd.yang security-event kinds);
 * door: "ssh" or "http"; user/peer may be NULL; reason: words a person can act on.
 * Never blocks (a ring push); does not touch the counters (use stats_inc for those). */
void stats_security(struct stats *s, const char *kind, const char *door, const char *user,
                    const char *peer, const char *reason);

/* Unix milliseconds of stats_new() (the daemon's start, for uptime). */
int64_t stats_started_ms(const struct stats *s);

/* ---- inline fast path --------------------------------------------------------------------- */
struct stats_xfer_hot {
    uint64_t bytes;           /* first member of struct stats_xfer (stats.c); updated atomically */
};
static inline void stats_xfer_progress(struct stats_xfer *x, uint64_t n)
{
#ifdef SCPD_BENCH_NO_OBS
    /* The benchmark's baseline build (make bench-trace): no per-packet accounting at all. */
    (void)x;
    (void)n;
#else
    __atomic_fetch_add(&((struct stats_xfer_hot *)(void *)x)->bytes, n, __ATOMIC_RELAXED);
#endif
}

#endif
