/* trace: `debug ip scp`. A runtime switch (not part of the config), a bounded ring of trace
 * events (oldest dropped first, drop count kept) and fan-out to live subscribers that never blocks
 * the caller: a slow subscriber loses events and is told how many.
 * When the switch is off, trace_on() is one relaxed atomic load and nothing else runs: callers
 * write `if (trace_on(t)) trace_emit(t, ...)` so formatting costs nothing when off.
 * Thread-safe. */
#ifndef SCPD_TRACE_H
#define SCPD_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/lim.h"

struct trace;

struct trace_event {
    uint64_t seq;                  /* 1, 2, ... increasing */
    int64_t time_ms;               /* unix milliseconds */
    uint64_t sid;                  /* SSH session id */
    char peer[64];                 /* "127.0.0.1:50412" */
    char text[LIM_TRACE_LINE];     /* "recv C0644 1048576 image.bin", "send <OK>" */
    bool dir_in;                   /* "<-" (from the client) or "->" */
};

/* ring_size 0: LIM_TRACE_RING. NULL when out of memory. Caller frees with trace_free() after
 * every subscriber is gone; NULL is a no-op. */
struct trace *trace_new(size_t ring_size);
void trace_free(struct trace *t);

void trace_set(struct trace *t, bool on);
bool trace_on(const struct trace *t);

/* Records one event (ring + subscribers) when the switch is on; does nothing when off.
 * dir_in: true for "<-" (from the client). peer may be NULL. */
void trace_emit(struct trace *t, uint64_t sid, const char *peer, bool dir_in, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* IOS text form of an event: "Nov 24 10:15:02.123: SCP: [22 <- 127.0.0.1:50412] recv ..." */
int trace_format(const struct trace_event *ev, char *buf, size_t cap);

/* Copies events with seq > since into out (at most max), oldest first. Returns the count;
 * *dropped (if not NULL) gets the ring's total drop count. */
size_t trace_read(struct trace *t, uint64_t since, struct trace_event *out, size_t max,
                  uint64_t *dropped);
uint64_t trace_last_seq(struct trace *t);   /* 0: nothing recorded yet */
uint64_t trace_dropped(struct trace *t);    /* events the ring has dropped since start */

/* Live subscription: a private bounded queue per subscriber. */
struct trace_sub;
struct trace_sub *trace_subscribe(struct trace *t, size_t queue_size);
/* The same, starting with the ring's events after seq since (resume after Last-Event-ID); events
 * no longer in the ring are reported as lost by the first trace_sub_take(). */
struct trace_sub *trace_subscribe_from(struct trace *t, size_t queue_size, uint64_t since);
/* Takes up to max queued events; *lost gets the events dropped for this subscriber since the
 * previous call. Waits up to timeout_ms for the first event (0: no wait). */
size_t trace_sub_take(struct trace_sub *s, struct trace_event *out, size_t max, uint64_t *lost,
                      int timeout_ms);
void trace_unsubscribe(struct trace_sub *s);   /* NULL is a no-op */
size_t trace_subscribers(struct trace *t);

#endif
