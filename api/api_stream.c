/* api_stream: RFC 8040 section 6 event streams over Server-Sent Events.
 *   GET /restconf/data/ietf-restconf-monitoring:restconf-state[/streams]   discovery (6.2)
 *       (its capabilities, RFC 8040 section 9.1, come from api.c: api_capabilities_json)
 *   GET /restconf/streams/{scp-debug,transfers,security}                    text/event-stream
 * Each stream is a row of api_streams[]: the ring it reads (the trace ring or one of stats'
 * event rings, all base/ring.c underneath) and the JSON notification body of one event.
 * A subscriber gets its own bounded queue in that ring; the pushing side (a transfer thread,
 * the stats sampler, aaa) never waits for it: a slow reader loses its oldest events and is told
 * how many (an SSE comment, and "lost" in scpd:trace-event). Every event carries `id: SEQ`; a
 * reconnect with Last-Event-ID resumes from the ring where the events are still there.
 * The connection has its own thread (MHD thread per connection): the content callback blocks on
 * the subscription for at most API_SSE_WAIT_MS at a time, checks the daemon's stopping flag, and
 * writes a keep-alive comment after API_SSE_KEEPALIVE_MS of silence (which also finds vanished
 * clients and keeps the connection inside LIM_HTTP_TIMEOUT_SECS). It never returns 0 bytes,
 * which MHD would busy-loop on. Subscribers are bounded by LIM_HTTP_SSE_CLIENTS in total. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_handlers.h"
#include "api/api_obs.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/ring.h"
#include "base/scpd.h"
#include "services/stats.h"
#include "services/trace.h"

#define API_SSE_WAIT_MS 250
#define API_SSE_KEEPALIVE_MS 5000
/* Events queued per subscriber before it starts losing them: a few seconds of a busy daemon,
 * bounded in memory (LIM_HTTP_SSE_CLIENTS subscribers of ~2 KiB records at most ~32 MiB). */
#define API_SSE_QUEUE_TRACE 512
#define API_SSE_QUEUE_EVENTS 256
#define API_SSE_BATCH 64
#define API_SSE_RETRY_MS 2000  /* reconnect delay suggested to EventSource-style clients */

struct api_sse;

struct api_stream_def {
    const char *name;
    const char *description;
    size_t esz;
    /* subscribe (since: NULL or Last-Event-ID) / take / notification member of one event */
    int (*subscribe)(struct api_sse *s, const uint64_t *since);
    size_t (*take)(struct api_sse *s, void *out, size_t max, uint64_t *lost, int timeout_ms);
    json_t *(*body)(const void *ev, uint64_t lost);
};

struct api_sse {
    struct scpd *d;
    struct api_shared *shared; /* holds one event-stream slot, given back by api_sse_free */
    char user[LIM_AUTH_USER_LEN + 1]; /* whose slot it is */
    const struct api_stream_def *def;
    struct trace_sub *ts;
    struct ring_sub *rs;
    char *out;
    size_t len, off, cap;
    int64_t last_write_ms;
    void *ev;               /* API_SSE_BATCH records of def->esz */
};

/* ---- the streams ----------------------------------------------------------------------------- */

static int sse_sub_trace(struct api_sse *s, const uint64_t *since)
{
    s->ts = since ? trace_subscribe_from(s->d->trace, API_SSE_QUEUE_TRACE, *since)
                  : trace_subscribe(s->d->trace, API_SSE_QUEUE_TRACE);
    return s->ts ? 0 : -1;
}

static size_t sse_take_trace(struct api_sse *s, void *out, size_t max, uint64_t *lost, int ms)
{
    return trace_sub_take(s->ts, out, max, lost, ms);
}

static json_t *sse_body_trace(const void *ev, uint64_t lost)
{
    json_t *o = api_obs_trace_json(ev);
    if (lost)
        json_object_set_new(o, "lost", api_obs_u64(lost));
    return json_pack("{s:o}", "scpd:trace-event", o);
}

static int sse_sub_ring(struct api_sse *s, enum stats_stream which, const uint64_t *since)
{
    s->rs = ring_subscribe(stats_stream(s->d->stats, which), API_SSE_QUEUE_EVENTS, since);
    return s->rs ? 0 : -1;
}

static int sse_sub_xfer(struct api_sse *s, const uint64_t *since)
{
    return sse_sub_ring(s, STATS_STREAM_TRANSFERS, since);
}

static int sse_sub_security(struct api_sse *s, const uint64_t *since)
{
    return sse_sub_ring(s, STATS_STREAM_SECURITY, since);
}

static size_t sse_take_ring(struct api_sse *s, void *out, size_t max, uint64_t *lost, int ms)
{
    return ring_sub_take(s->rs, out, max, lost, ms);
}

static json_t *sse_body_xfer(const void *p, uint64_t lost)
{
    const struct stats_event *e = p;
    json_t *o = api_obs_xfer_json(&e->xfer);
    json_object_set_new(o, "kind", json_string(e->kind));
    if (strcmp(e->kind, "end") == 0) {
        char t[40];
        api_obs_time(e->xfer.end_ms, t, sizeof t);
        json_object_set_new(o, "end-time", json_string(t));
        json_object_set_new(o, "result", json_string(e->result));
        if (e->detail[0])
            json_object_set_new(o, "error", api_json_text(e->detail));
    }
    return json_pack("{s:o}", "scpd:transfer-event", o);
}

static json_t *sse_body_security(const void *p, uint64_t lost)
{
    const struct stats_event *e = p;
    /* the user of a failed login is whatever the client sent */
    json_t *o = json_pack("{s:s,s:o,s:o,s:o}", "kind", e->kind, "user", api_json_text(e->user),
                          "peer", api_json_text(e->peer), "message", api_json_text(e->detail));
    if (e->door[0])
        json_object_set_new(o, "door", json_string(e->door));
    return json_pack("{s:o}", "scpd:security-event", o);
}

static const struct api_stream_def api_streams[] = {
    {"scp-debug", "debug ip scp: one trace line per SCP protocol step (scpd:trace-event)",
     sizeof(struct trace_event), sse_sub_trace, sse_take_trace, sse_body_trace},
    {"transfers", "Start, progress (every 500 ms) and end of every transfer (scpd:transfer-event)",
     sizeof(struct stats_event), sse_sub_xfer, sse_take_ring, sse_body_xfer},
    {"security", "Login failures, blocks and refusals (scpd:security-event)",
     sizeof(struct stats_event), sse_sub_security, sse_take_ring, sse_body_security},
};
#define API_NSTREAMS (sizeof api_streams / sizeof api_streams[0])

/* ---- discovery (RFC 8040 section 6.2, ietf-restconf-monitoring) ------------------------------ */

static json_t *api_stream_entry(struct api_req *r, const struct api_stream_def *def)
{
    const char *host = api_header(r, "Host");
    bool host_ok = host && *host && strlen(host) < 256;
    for (const char *p = host; host_ok && *p; p++)
        host_ok = isalnum((unsigned char)*p) || strchr(".-:[]_", *p);
    const union MHD_ConnectionInfo *tls =
        r->conn ? MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) : NULL;
    char loc[400], created[40];
    snprintf(loc, sizeof loc, "%s://%s/restconf/streams/%s",
             tls && tls->tls_session ? "https" : "http", host_ok ? host : "localhost", def->name);
    api_obs_time(stats_started_ms(r->d->stats), created, sizeof created);
    return json_pack("{s:s,s:s,s:b,s:s,s:[{s:s,s:s}]}", "name", def->name, "description",
                     def->description, "replay-support", 1, "replay-log-creation-time", created,
                     "access", "encoding", "json", "location", loc);
}

int api_h_restconf_state(struct api_req *r, struct api_resp *resp)
{
    int n = api_rest_count(r);
    const char *want = NULL;
    if (n >= 1 && strcmp(api_rest(r, 0), "capabilities") == 0) {
        json_t *caps = api_capabilities_json();
        if (n == 1)
            return api_json(resp, 200,
                            json_pack("{s:o}", "ietf-restconf-monitoring:capabilities", caps));
        if (n == 2 && strcmp(api_rest(r, 1), "capability") == 0) {
            json_t *list = json_incref(json_object_get(caps, "capability"));
            json_decref(caps);
            return api_json(resp, 200,
                            json_pack("{s:o}", "ietf-restconf-monitoring:capability", list));
        }
        json_decref(caps);
        goto missing;
    }
    if (n >= 1 && strcmp(api_rest(r, 0), "streams") != 0)
        goto missing;
    if (n == 2) {
        want = api_rest(r, 1);
        if (strncmp(want, "stream=", 7) != 0)
            goto missing;
        want += 7;
    } else if (n > 2) {
        goto missing;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < API_NSTREAMS; i++)
        if (!want || strcmp(want, api_streams[i].name) == 0)
            json_array_append_new(list, api_stream_entry(r, &api_streams[i]));
    if (want) {
        if (json_array_size(list) == 0) {
            json_decref(list);
            goto missing;
        }
        return api_json(resp, 200, json_pack("{s:o}", "ietf-restconf-monitoring:stream", list));
    }
    json_t *streams = json_pack("{s:o}", "stream", list);
    if (n == 1)
        return api_json(resp, 200, json_pack("{s:o}", "ietf-restconf-monitoring:streams", streams));
    return api_json(resp, 200, json_pack("{s:{s:o,s:o}}", "ietf-restconf-monitoring:restconf-state",
                                         "capabilities", api_capabilities_json(),
                                         "streams", streams));
missing:
    return api_error(resp, 404, "protocol", "invalid-value", r->path, "no such resource %s",
                     r->path);
}

/* ---- the event-stream response --------------------------------------------------------------- */

static int api_sse_put(struct api_sse *s, const char *text, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 8192;
        while (cap < s->len + n)
            cap *= 2;
        char *p = realloc(s->out, cap);
        if (!p)
            return -1;
        s->out = p;
        s->cap = cap;
    }
    memcpy(s->out + s->len, text, n);
    s->len += n;
    return 0;
}

static int api_sse_putf(struct api_sse *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int api_sse_putf(struct api_sse *s, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -1;
    return api_sse_put(s, buf, (size_t)n);
}

/* One event as an RFC 8040 notification: "id: SEQ\ndata: {...}\n\n". */
static int api_sse_event(struct api_sse *s, const void *ev, uint64_t lost)
{
    uint64_t seq;
    int64_t time_ms;
    memcpy(&seq, ev, sizeof seq);   /* both record types start with seq, time_ms */
    memcpy(&time_ms, (const char *)ev + sizeof seq, sizeof time_ms);
    char t[40];
    api_obs_time(time_ms, t, sizeof t);
    json_t *n = json_pack("{s:s}", "eventTime", t);
    json_object_update_new(n, s->def->body(ev, lost));
    json_t *msg = json_pack("{s:o}", "ietf-restconf:notification", n);
    char *text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(msg);
    if (!text)
        return -1;
    int rc = api_sse_putf(s, "id: %" PRIu64 "\ndata: ", seq);
    if (rc == 0)
        rc = api_sse_put(s, text, strlen(text));
    if (rc == 0)
        rc = api_sse_put(s, "\n\n", 2);
    free(text);
    return rc;
}

static ssize_t api_sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct api_sse *s = cls;
    for (;;) {
        if (s->off < s->len) {
            size_t n = s->len - s->off < max ? s->len - s->off : max;
            memcpy(buf, s->out + s->off, n);
            s->off += n;
            if (s->off == s->len)
                s->off = s->len = 0;
            s->last_write_ms = clock_mono_ms();
            return (ssize_t)n;
        }
        if (__atomic_load_n(&s->d->stopping, __ATOMIC_RELAXED))
            return MHD_CONTENT_READER_END_OF_STREAM;
        uint64_t lost = 0;
        size_t n = s->def->take(s, s->ev, API_SSE_BATCH, &lost, API_SSE_WAIT_MS);
        if (lost && api_sse_putf(s, ": lost %" PRIu64 " events (slow reader)\n\n", lost) < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        for (size_t i = 0; i < n; i++)
            if (api_sse_event(s, (const char *)s->ev + i * s->def->esz, i == 0 ? lost : 0) < 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        if (s->len == 0 && clock_mono_ms() - s->last_write_ms >= API_SSE_KEEPALIVE_MS &&
            api_sse_putf(s, ": keep-alive\n\n") < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

static void api_sse_free(void *cls)
{
    struct api_sse *s = cls;
    if (!s)
        return;
    trace_unsubscribe(s->ts);
    ring_unsubscribe(s->rs);
    if (s->shared)
        api_sse_release(s->shared, s->user);
    free(s->ev);
    free(s->out);
    free(s);
}

size_t api_sse_subscribers(struct scpd *d)
{
    return trace_subscribers(d->trace) +
           ring_subscribers(stats_stream(d->stats, STATS_STREAM_TRANSFERS)) +
           ring_subscribers(stats_stream(d->stats, STATS_STREAM_SECURITY));
}

int api_h_stream(struct api_req *r, struct api_resp *resp)
{
    /* The row is /restconf/streams/ + one segment: the stream's name. */
    const char *name = r->nsegs == 3 ? r->segs[2] : "";
    const struct api_stream_def *def = NULL;
    for (size_t i = 0; i < API_NSTREAMS && !def; i++)
        if (strcmp(name, api_streams[i].name) == 0)
            def = &api_streams[i];
    if (!def)
        return api_error(resp, 404, "protocol", "invalid-value", r->path,
                         "no event stream %s (streams: scp-debug, transfers, security)", name);
    uint64_t since = 0;
    const char *last = api_header(r, "Last-Event-ID");
    bool resume = false;
    if (last && *last) {
        char *end;
        since = strtoull(last, &end, 10);
        resume = isdigit((unsigned char)last[0]) && *end == '\0';
    }
    int full = api_sse_reserve(r->shared, r->user);
    if (full == API_SSE_USER_FULL)
        return api_error(resp, 429, "application", "resource-denied", r->path,
                         "too many event-stream subscribers for user %s (at most %d per user); "
                         "close one and retry", r->user, LIM_HTTP_SSE_PER_USER);
    if (full != 0)
        return api_error(resp, 503, "application", "resource-denied", r->path,
                         "too many event-stream subscribers (at most %d); close one and retry",
                         LIM_HTTP_SSE_CLIENTS);
    struct api_sse *s = calloc(1, sizeof(*s));
    if (!s) {
        api_sse_release(r->shared, r->user);
        goto oom;
    }
    s->shared = r->shared;
    snprintf(s->user, sizeof s->user, "%s", r->user);
    if (!(s->ev = malloc(API_SSE_BATCH * def->esz)))
        goto oom;
    s->d = r->d;
    s->def = def;
    s->last_write_ms = clock_mono_ms();
    if (def->subscribe(s, resume ? &since : NULL) < 0 ||
        api_sse_putf(s, ": scpd event stream %s\nretry: %d\n\n", def->name, API_SSE_RETRY_MS) < 0)
        goto oom;
    api_resp_stream(resp, "text/event-stream", api_sse_read, s, api_sse_free);
    return 0;
oom:
    api_sse_free(s);
    return api_error(resp, 500, "application", "operation-failed", r->path,
                     "out of memory for the event stream");
}
