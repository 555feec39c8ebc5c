/* netconf_notify: RFC 5277 notifications (see netconf_notify.h). The XML follows scpd.yang's
 * notification statements (trace-event, transfer-event, security-event), the same nodes RESTCONF's
 * event streams (api_stream.c) send as JSON; eventTime and the times inside are RFC 3339 UTC. */
#include "daemon/netconf_notify.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/lim.h"
#include "base/ring.h"
#include "daemon/nc_proto.h"
#include "services/stats.h"
#include "services/trace.h"

#define NC_NS_NOTIF "urn:ietf:params:xml:ns:netconf:notification:1.0"
#define NC_NS_SCPD "urn:scpd:yang:scpd"
#define NC_SUB_BATCH 16

enum sub_kind { SUB_TRACE, SUB_TRANSFERS, SUB_SECURITY };

struct nc_sub {
    enum sub_kind kind;
    struct trace_sub *ts;
    struct ring_sub *rs;
};

struct nc_sub *nc_sub_new(const char *stream, struct trace *t, struct stats *st, char *why,
                          size_t cap)
{
    struct nc_sub *s = calloc(1, sizeof *s);

    if (s == NULL) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    if (strcmp(stream, "scp-debug") == 0 && t != NULL) {
        s->kind = SUB_TRACE;
        s->ts = trace_subscribe(t, LIM_NETCONF_NOTIFY_QUEUE);
    } else if ((strcmp(stream, "transfers") == 0 || strcmp(stream, "security") == 0) &&
               st != NULL) {
        bool xfer = strcmp(stream, "transfers") == 0;
        s->kind = xfer ? SUB_TRANSFERS : SUB_SECURITY;
        s->rs = ring_subscribe(stats_stream(st, xfer ? STATS_STREAM_TRANSFERS
                                                     : STATS_STREAM_SECURITY),
                               LIM_NETCONF_NOTIFY_QUEUE, NULL);
    } else {
        snprintf(why, cap, "no stream %s (the streams are scp-debug, transfers and security)",
                 stream);
        free(s);
        return NULL;
    }
    if (s->ts == NULL && s->rs == NULL) {
        snprintf(why, cap, "cannot subscribe to %s", stream);
        free(s);
        return NULL;
    }
    return s;
}

void nc_sub_free(struct nc_sub *s)
{
    if (s == NULL)
        return;
    trace_unsubscribe(s->ts);
    ring_unsubscribe(s->rs);
    free(s);
}

static void rfc3339(FILE *f, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "%s.%03dZ", buf, (int)(ms % 1000));
}

static void leaf(FILE *f, const char *name, const char *v)
{
    fprintf(f, "<%s>", name);
    nc_xml_escape(f, v);
    fprintf(f, "</%s>", name);
}

static void begin(FILE *f, int64_t ms, const char *what)
{
    fputs("<notification xmlns=\"" NC_NS_NOTIF "\"><eventTime>", f);
    rfc3339(f, ms);
    fprintf(f, "</eventTime><%s xmlns=\"" NC_NS_SCPD "\">", what);
}

static void render_trace(FILE *f, const struct trace_event *ev, uint64_t lost)
{
    char line[LIM_TRACE_LINE + 128];
    if (trace_format(ev, line, sizeof line) < 0)
        snprintf(line, sizeof line, "SCP: %s", ev->text);
    begin(f, ev->time_ms, "trace-event");
    fprintf(f, "<seq>%" PRIu64 "</seq><time>", ev->seq);
    rfc3339(f, ev->time_ms);
    fprintf(f, "</time><session-id>%" PRIu64 "</session-id>", ev->sid);
    leaf(f, "peer", ev->peer);
    leaf(f, "text", line);
    if (lost)
        fprintf(f, "<lost>%" PRIu64 "</lost>", lost);
    fputs("</trace-event></notification>", f);
}

static void render_transfer(FILE *f, const struct stats_event *e)
{
    const struct stats_xfer_view *x = &e->xfer;
    begin(f, e->time_ms, "transfer-event");
    leaf(f, "kind", e->kind);
    fprintf(f, "<id>%" PRIu64 "</id>", x->id);
    leaf(f, "user", x->user);
    leaf(f, "peer", x->peer);
    leaf(f, "path", x->path);
    fprintf(f, "<direction>%s</direction><bytes>%" PRIu64 "</bytes>",
            x->upload ? "in" : "out", x->bytes);
    fprintf(f, "<rate>%" PRIu64 "</rate><session-id>%" PRIu64 "</session-id>",
            (uint64_t)(x->rate_bps > 0 ? x->rate_bps : 0), x->sid);
    if (strcmp(e->kind, "end") == 0) {
        fputs("<end-time>", f);
        rfc3339(f, x->end_ms);
        fputs("</end-time>", f);
        leaf(f, "result", e->result);
        if (e->detail[0])
            leaf(f, "error", e->detail);
    }
    fputs("</transfer-event></notification>", f);
}

static void render_security(FILE *f, const struct stats_event *e)
{
    begin(f, e->time_ms, "security-event");
    leaf(f, "kind", e->kind);
    if (e->door[0])
        leaf(f, "door", e->door);
    leaf(f, "user", e->user);
    leaf(f, "peer", e->peer);
    leaf(f, "message", e->detail);
    fputs("</security-event></notification>", f);
}

int nc_sub_pump(struct nc_sub *s, int (*emit)(void *arg, const char *msg, size_t len), void *arg)
{
    union {
        struct trace_event t[NC_SUB_BATCH];
        struct stats_event e[NC_SUB_BATCH];
    } *ev = malloc(sizeof *ev);
    uint64_t lost = 0;
    int total = 0;
    size_t n;

    if (ev == NULL)
        return -1;
    do {
        n = s->ts ? trace_sub_take(s->ts, ev->t, NC_SUB_BATCH, &lost, 0)
                  : ring_sub_take(s->rs, ev->e, NC_SUB_BATCH, &lost, 0);
        for (size_t i = 0; i < n; i++) {
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            if (f == NULL) {
                free(ev);
                return -1;
            }
            if (s->kind == SUB_TRACE)
                render_trace(f, &ev->t[i], i == 0 ? lost : 0);
            else if (s->kind == SUB_TRANSFERS)
                render_transfer(f, &ev->e[i]);
            else
                render_security(f, &ev->e[i]);
            fclose(f);
            int rc = emit(arg, buf, len);
            free(buf);
            if (rc < 0) {
                free(ev);
                return -1;
            }
            total++;
        }
    } while (n == NC_SUB_BATCH);
    free(ev);
    return total;
}
