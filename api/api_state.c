/* api_state: the operational resources of scpd.yang that observability owns:
 *   GET  /restconf/data/scpd:scp-state             counters, sessions, live transfers (with rate
 *                                                   and ETA) and the recent history
 *   GET  /restconf/data/scpd:scp-state/transfers   the history, filtered by user=, result=,
 *                                                   direction=, since=, limit=
 *   GET  /restconf/data/scpd:debug, GET/PUT .../scpd:debug/scp   the `debug ip scp` switch
 *   GET  /restconf/data/scpd:debug/traces?since=SEQ&limit=N      the trace ring
 * Everything is read from stats, trace and the store at request time; nothing is cached here.
 * The switch is runtime state like an IOS debug command: it is not part of the configuration, so
 * it does not go through store_commit and does not survive a restart (it is logged instead). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_obs.h"
#include "base/log.h"
#include "base/scpd.h"
#include "services/stats.h"
#include "store/store.h"
#include "services/trace.h"

#define API_OBS_HISTORY_DEFAULT 100  /* rows when no limit= is given */
#define API_OBS_DEBUG_TRACES 100     /* newest trace events shown inside GET scpd:debug */
#define API_OBS_XFER_MAX (LIM_SESSIONS_TOTAL * LIM_CHANNELS_PER_SESSION)

/* ---- shared JSON forms ----------------------------------------------------------------------- */

json_t *api_obs_u64(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return json_string(buf);
}

void api_obs_time(int64_t ms, char *buf, size_t cap)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    char base[24];
    if (!gmtime_r(&sec, &tm) || strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, cap, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(buf, cap, "%s.%03dZ", base, (int)(ms % 1000));
}

static void api_obs_set_time(json_t *o, const char *key, int64_t ms)
{
    char t[40];
    api_obs_time(ms, t, sizeof t);
    json_object_set_new(o, key, json_string(t));
}

json_t *api_obs_xfer_json(const struct stats_xfer_view *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", api_obs_u64(v->id));
    json_object_set_new(o, "session-id", api_obs_u64(v->sid));
    json_object_set_new(o, "user", api_json_text(v->user));
    json_object_set_new(o, "peer", api_json_text(v->peer));
    json_object_set_new(o, "direction", json_string(v->direction));
    json_object_set_new(o, "path", api_json_text(v->path));
    json_object_set_new(o, "bytes", api_obs_u64(v->bytes));
    json_object_set_new(o, "size", api_obs_u64(v->size));
    api_obs_set_time(o, "start-time", v->start_ms);
    uint64_t rate = v->rate_bps > 0 ? (uint64_t)v->rate_bps : 0;
    json_object_set_new(o, "rate", api_obs_u64(rate));
    if (rate > 0 && v->size > v->bytes)
        json_object_set_new(o, "eta",
                            json_integer((json_int_t)((v->size - v->bytes + rate - 1) / rate)));
    return o;
}

/* A finished transfer (history). */
static json_t *api_obs_history_json(const struct store_xfer *x)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", api_obs_u64((uint64_t)x->id));
    json_object_set_new(o, "user", api_json_text(x->user));
    json_object_set_new(o, "peer", api_json_text(x->peer));
    json_object_set_new(o, "direction", json_string(x->direction));
    json_object_set_new(o, "path", api_json_text(x->path));
    json_object_set_new(o, "bytes", api_obs_u64(x->bytes));
    json_object_set_new(o, "size", api_obs_u64(x->size));
    api_obs_set_time(o, "start-time", x->start_ms);
    api_obs_set_time(o, "end-time", x->end_ms);
    json_object_set_new(o, "result", json_string(x->result));
    if (x->error[0])
        json_object_set_new(o, "error", api_json_text(x->error));
    return o;
}

json_t *api_obs_trace_json(const struct trace_event *ev)
{
    char line[LIM_TRACE_LINE + 128];
    if (trace_format(ev, line, sizeof line) < 0)
        snprintf(line, sizeof line, "SCP: %s", ev->text);
    json_t *o = json_object();
    json_object_set_new(o, "seq", api_obs_u64(ev->seq));
    api_obs_set_time(o, "time", ev->time_ms);
    json_object_set_new(o, "session-id", api_obs_u64(ev->sid));
    json_object_set_new(o, "peer", api_json_text(ev->peer));
    json_object_set_new(o, "text", api_json_text(line));
    return o;
}

/* ---- scp-state ------------------------------------------------------------------------------- */

static json_t *api_obs_counters(struct scpd *d)
{
    json_t *c = json_object();
    for (int i = 0; i < STATS_COUNTER_MAX; i++)
        json_object_set_new(c, stats_counter_name(i), api_obs_u64(stats_get(d->stats, i)));
    json_object_set_new(c, "trace-drops", api_obs_u64(trace_dropped(d->trace)));
    return c;
}

static json_t *api_obs_active(struct scpd *d)
{
    json_t *list = json_array();
    struct stats_xfer_view *v = calloc(API_OBS_XFER_MAX, sizeof(*v));
    if (!v)
        return list;
    size_t n = stats_xfer_list(d->stats, v, API_OBS_XFER_MAX);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, api_obs_xfer_json(&v[i]));
    free(v);
    return list;
}

/* since= as yang:date-and-time ("2026-11-24T10:15:02Z", fraction and offset allowed) or as
 * unix seconds. Returns unix milliseconds, or -1. */
static int64_t api_obs_parse_since(const char *s)
{
    char *end;
    if (isdigit((unsigned char)s[0]) && strchr(s, '-') == NULL) {
        unsigned long long v = strtoull(s, &end, 10);
        return (*end == '\0' && v < 100000000000ULL) ? (int64_t)v * 1000 : -1;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    int64_t ms = (int64_t)timegm(&tm) * 1000;
    if (*p == '.') {
        int scale = 100;
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
            ms += scale > 0 ? (*p - '0') * scale : 0;
    }
    if (*p == 'Z' || *p == 'z')
        return p[1] == '\0' ? ms : -1;
    int hh, mm;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2 && strlen(p) == 6) {
        int64_t off = ((int64_t)hh * 60 + mm) * 60000;
        return *p == '+' ? ms - off : ms + off;
    }
    return -1;
}

/* Query parameters of the history. Returns 0, or -1 with a 400 in resp. */
static int api_obs_history_filter(const struct api_req *r, struct store_xfer_filter *f,
                                  struct api_resp *resp)
{
    static const char *const results[] = {"ok", "failed", "aborted", "refused", NULL};
    static const char *const directions[] = {"in", "out", "pull", "push", NULL};
    static const struct {
        const char *name;
        const char *const *allowed;
    } enums[] = {{"result", results}, {"direction", directions}};

    memset(f, 0, sizeof *f);
    f->limit = API_OBS_HISTORY_DEFAULT;
    f->user = api_query(r, "user");
    for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++) {
        const char *v = api_query(r, enums[i].name);
        if (!v)
            continue;
        const char *const *a = enums[i].allowed;
        while (*a && strcmp(*a, v) != 0)
            a++;
        if (!*a) {
            api_error(resp, 400, "protocol", "invalid-value", NULL, "%s=%s is not valid (use %s)",
                      enums[i].name, v, i == 0 ? "ok, failed, aborted or refused" : "in or out");
            return -1;
        }
        if (i == 0)
            f->result = v;
        else
            f->direction = v;
    }
    const char *since = api_query(r, "since");
    if (since) {
        f->since_ms = api_obs_parse_since(since);
        if (f->since_ms < 0) {
            api_error(resp, 400, "protocol", "invalid-value", NULL,
                      "since=%s is not a date-and-time (2026-11-24T10:15:02Z) or unix seconds",
                      since);
            return -1;
        }
    }
    const char *limit = api_query(r, "limit");
    if (limit) {
        char *end;
        long v = strtol(limit, &end, 10);
        if (*end != '\0' || v < 1 || v > LIM_HISTORY_ROWS) {
            api_error(resp, 400, "protocol", "invalid-value", NULL,
                      "limit=%s must be a number from 1 to %d", limit, LIM_HISTORY_ROWS);
            return -1;
        }
        f->limit = (int)v;
    }
    return 0;
}

static int api_obs_history_row(void *arg, const struct store_xfer *x)
{
    json_array_append_new(arg, api_obs_history_json(x));
    return 0;
}

/* The history as {"transfer":[...]}; NULL with resp filled on error. */
static json_t *api_obs_history(struct api_req *r, struct api_resp *resp)
{
    struct store_xfer_filter f;
    if (api_obs_history_filter(r, &f, resp) < 0)
        return NULL;
    json_t *list = json_array();
    struct scpd_err err = {0};
    if (store_history_query(r->d->store, &f, api_obs_history_row, list, &err) < 0) {
        json_decref(list);
        api_error_from(resp, &err, r->path);
        return NULL;
    }
    return json_pack("{s:o}", "transfer", list);
}

int api_h_scp_state(struct api_req *r, struct api_resp *resp)
{
    struct scpd *d = r->d;
    json_t *hist = api_obs_history(r, resp);
    if (!hist)
        return 0;
    const struct store_snap *snap = store_snapshot(d->store);
    bool enabled = snap->cfg->scp_enable;
    store_snap_release(snap);
    int64_t up_ms = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    up_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - stats_started_ms(d->stats);
    json_t *st = json_object();
    json_object_set_new(st, "enabled", json_boolean(enabled));
    json_object_set_new(st, "sessions-active",
                        json_integer((json_int_t)stats_sessions_active_get(d->stats)));
    json_object_set_new(st, "uptime", api_obs_u64(up_ms > 0 ? (uint64_t)up_ms / 1000 : 0));
    json_object_set_new(st, "counters", api_obs_counters(d));
    json_object_set_new(st, "active-transfer", api_obs_active(d));
    json_object_set_new(st, "transfers", hist);
    return api_json(resp, 200, json_pack("{s:o}", "scpd:scp-state", st));
}

int api_h_scp_history(struct api_req *r, struct api_resp *resp)
{
    json_t *hist = api_obs_history(r, resp);
    if (!hist)
        return 0;
    return api_json(resp, 200, json_pack("{s:o}", "scpd:transfers", hist));
}

/* ---- debug ip scp ---------------------------------------------------------------------------- */

/* Trace events after since, oldest first, at most limit, as a JSON list. */
static json_t *api_obs_traces(struct trace *t, uint64_t since, size_t limit)
{
    enum { BATCH = 128 };
    json_t *list = json_array();
    struct trace_event *ev = malloc(BATCH * sizeof(*ev));
    if (!ev)
        return list;
    size_t total = 0, n;
    while (total < limit &&
           (n = trace_read(t, since, ev, limit - total < BATCH ? limit - total : BATCH, NULL)) >
               0) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, api_obs_trace_json(&ev[i]));
        since = ev[n - 1].seq;
        total += n;
    }
    free(ev);
    return list;
}

/* scpd:debug holds configuration (the scp switch) and state (traces, config false): content=
 * (RFC 8040 section 4.8.1, its value checked by api.c) picks one or both. */
int api_h_debug(struct api_req *r, struct api_resp *resp)
{
    struct trace *t = r->d->trace;
    const char *content = api_query(r, "content");
    json_t *dbg = json_object();
    if (content == NULL || strcmp(content, "nonconfig") != 0)
        json_object_set_new(dbg, "scp", json_boolean(trace_on(t)));
    if (content == NULL || strcmp(content, "config") != 0) {
        uint64_t last = trace_last_seq(t);
        uint64_t since = last > API_OBS_DEBUG_TRACES ? last - API_OBS_DEBUG_TRACES : 0;
        json_object_set_new(dbg, "traces",
                            json_pack("{s:o,s:o}", "dropped", api_obs_u64(trace_dropped(t)),
                                      "trace", api_obs_traces(t, since, API_OBS_DEBUG_TRACES)));
    }
    return api_json(resp, 200, json_pack("{s:o}", "scpd:debug", dbg));
}

int api_h_debug_scp(struct api_req *r, struct api_resp *resp)
{
    struct trace *t = r->d->trace;
    if (r->method != API_PUT)
        return api_json(resp, 200, json_pack("{s:b}", "scpd:scp", trace_on(t)));
    json_t *v = r->json ? json_object_get(r->json, "scpd:scp") : NULL;
    if (!v && r->json)
        v = json_object_get(r->json, "scp");
    if (!json_is_boolean(v) || json_object_size(r->json) != 1)
        return api_error(resp, 400, "protocol", "invalid-value", r->path,
                         "send {\"scpd:scp\": true} or {\"scpd:scp\": false}");
    bool on = json_is_true(v);
    trace_set(t, on);
    struct log_ctx lc = {.sid = r->id, .user = r->user, .peer = r->peer};
    log_notice(&lc, "debug ip scp %s", on ? "on: SCP protocol debugging is on"
                                          : "off: SCP protocol debugging is off");
    return api_no_content(resp);
}

int api_h_debug_traces(struct api_req *r, struct api_resp *resp)
{
    uint64_t since = 0;
    size_t limit = LIM_TRACE_RING;
    const char *s = api_query(r, "since");
    const char *l = api_query(r, "limit");
    char *end;
    if (s) {
        since = strtoull(s, &end, 10);
        if (!isdigit((unsigned char)s[0]) || *end != '\0')
            return api_error(resp, 400, "protocol", "invalid-value", NULL,
                             "since=%s must be a trace sequence number", s);
    }
    if (l) {
        long v = strtol(l, &end, 10);
        if (*end != '\0' || v < 1 || v > LIM_TRACE_RING)
            return api_error(resp, 400, "protocol", "invalid-value", NULL,
                             "limit=%s must be a number from 1 to %d", l, LIM_TRACE_RING);
        limit = (size_t)v;
    }
    struct trace *t = r->d->trace;
    json_t *out =
        json_pack("{s:{s:o,s:o}}", "scpd:traces", "dropped", api_obs_u64(trace_dropped(t)), "trace",
                  api_obs_traces(t, since, limit));
    return api_json(resp, 200, out);
}
