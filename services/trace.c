/* trace: `debug ip scp`. The switch is one atomic flag read with a relaxed load, so the transfer
 * path pays one load per call site while tracing is off (callers test trace_on() before building
 * any argument). When on, trace_emit() formats the text once into a fixed-size event and pushes it
 * through the shared ring (base/ring.c): bounded history for ?since= readers, and per-subscriber
 * queues that drop rather than block. Timestamps are UTC like the log (the device clock). */
#include "services/trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/ring.h"

struct trace {
    uint32_t on;            /* read and written with __atomic builtins */
    struct ring *ring;
};

struct trace_sub {
    struct ring_sub *rs;
};

struct trace *trace_new(size_t ring_size)
{
    struct trace *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ring = ring_new(sizeof(struct trace_event), ring_size ? ring_size : LIM_TRACE_RING);
    if (!t->ring) {
        free(t);
        return NULL;
    }
    return t;
}

void trace_free(struct trace *t)
{
    if (!t)
        return;
    ring_free(t->ring);
    free(t);
}

void trace_set(struct trace *t, bool on)
{
    __atomic_store_n(&t->on, on ? 1u : 0u, __ATOMIC_RELAXED);
}

bool trace_on(const struct trace *t)
{
#ifdef SCPD_BENCH_NO_OBS
    /* The benchmark's baseline build (make bench-trace): tracing compiled out. */
    (void)t;
    return false;
#else
    return t && __atomic_load_n(&t->on, __ATOMIC_RELAXED) != 0;
#endif
}

void trace_emit(struct trace *t, uint64_t sid, const char *peer, bool dir_in, const char *fmt, ...)
{
    if (!trace_on(t))
        return;
    struct trace_event ev;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ev.seq = 0;
    ev.time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    ev.sid = sid;
    ev.dir_in = dir_in;
    snprintf(ev.peer, sizeof(ev.peer), "%s", peer ? peer : "-");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(ev.text, sizeof(ev.text), "(unformattable trace)");
    /* Peer-supplied names end up here: keep one event on one line. */
    for (char *p = ev.text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    ring_push(t->ring, &ev);
}

int trace_format(const struct trace_event *ev, char *buf, size_t cap)
{
    time_t sec = (time_t)(ev->time_ms / 1000);
    struct tm tm;
    char stamp[32];
    if (!gmtime_r(&sec, &tm) || strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm) == 0)
        return -1;
    int n = snprintf(buf, cap, "%s.%03d: SCP: [%llu %s %s] %s", stamp, (int)(ev->time_ms % 1000),
                     (unsigned long long)ev->sid, ev->dir_in ? "<-" : "->", ev->peer, ev->text);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

size_t trace_read(struct trace *t, uint64_t since, struct trace_event *out, size_t max,
                  uint64_t *dropped)
{
    return ring_read(t->ring, since, out, max, dropped);
}

uint64_t trace_last_seq(struct trace *t) { return ring_last_seq(t->ring); }
uint64_t trace_dropped(struct trace *t) { return ring_dropped(t->ring); }

static struct trace_sub *trace_sub_new(struct trace *t, size_t queue_size, const uint64_t *since)
{
    struct trace_sub *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->rs = ring_subscribe(t->ring, queue_size, since);
    if (!s->rs) {
        free(s);
        return NULL;
    }
    return s;
}

struct trace_sub *trace_subscribe(struct trace *t, size_t queue_size)
{
    return trace_sub_new(t, queue_size, NULL);
}

struct trace_sub *trace_subscribe_from(struct trace *t, size_t queue_size, uint64_t since)
{
    return trace_sub_new(t, queue_size, &since);
}

size_t trace_sub_take(struct trace_sub *s, struct trace_event *out, size_t max, uint64_t *lost,
                      int timeout_ms)
{
    return ring_sub_take(s->rs, out, max, lost, timeout_ms);
}

void trace_unsubscribe(struct trace_sub *s)
{
    if (!s)
        return;
    ring_unsubscribe(s->rs);
    free(s);
}

size_t trace_subscribers(struct trace *t) { return ring_subscribers(t->ring); }
