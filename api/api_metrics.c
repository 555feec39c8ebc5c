/* api_metrics: GET /metrics in the Prometheus text exposition format 0.0.4, for Prometheus and
 * Grafana. The exposition is a table: each row is one sample (family, labels, source); rows of a
 * family are adjacent and the family's HELP/TYPE lines are written before its first row. Counters
 * come from stats (names end in _total, as the format's conventions want), gauges from live state.
 * Checked with `promtool check metrics` in tests/integration/test_obs.py. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_obs.h"
#include "ifs/ifs.h"
#include "base/lim.h"
#include "base/scpd.h"
#include "services/aaa.h"
#include "services/stats.h"
#include "store/store.h"
#include "services/trace.h"

typedef uint64_t (*api_metric_fn)(struct scpd *d);

static uint64_t m_sessions_active(struct scpd *d)
{
    int64_t v = stats_sessions_active_get(d->stats);
    return v > 0 ? (uint64_t)v : 0;
}

static uint64_t m_transfers_active(struct scpd *d) { return stats_xfer_count(d->stats); }

static uint64_t m_trace_dropped(struct scpd *d) { return trace_dropped(d->trace); }
static uint64_t m_trace_events(struct scpd *d) { return trace_last_seq(d->trace); }
static uint64_t m_debug_on(struct scpd *d) { return trace_on(d->trace) ? 1 : 0; }

static uint64_t m_scp_enabled(struct scpd *d)
{
    const struct store_snap *snap = store_snapshot(d->store);
    uint64_t v = snap->cfg->scp_enable ? 1 : 0;
    store_snap_release(snap);
    return v;
}

static uint64_t m_subscribers(struct scpd *d) { return api_sse_subscribers(d); }

static uint64_t m_config_version(struct scpd *d) { return store_version(d->store); }

static uint64_t m_start_time(struct scpd *d)
{
    return (uint64_t)(stats_started_ms(d->stats) / 1000);
}

/* File systems: one sample per file system (fs_fn with the row's arg) */
static struct ifs_fs_info fs_info(struct scpd *d, int fs)
{
    struct ifs_fs_info in;
    struct scpd_err err = {0};
    if (ifs_info(d->ifs, (enum ifs_fs)fs, &in, &err) < 0)
        memset(&in, 0, sizeof(in));
    return in;
}
static uint64_t m_fs_size(struct scpd *d, int fs) { return fs_info(d, fs).size; }
static uint64_t m_fs_used(struct scpd *d, int fs) { return fs_info(d, fs).used; }
static uint64_t m_fs_free(struct scpd *d, int fs) { return fs_info(d, fs).free; }

struct api_metric {
    const char *family;
    const char *type;       /* "counter" or "gauge" */
    const char *help;
    const char *labels;     /* "" or `direction="in",result="ok"` */
    int counter;            /* enum stats_counter, or -1 to use fn (or fs_fn) */
    api_metric_fn fn;
    uint64_t (*fs_fn)(struct scpd *d, int arg);
    int arg;
};

#define C(fam, help, labels, c) {fam, "counter", help, labels, c, NULL, NULL, 0}
#define G(fam, help, labels, fn) {fam, "gauge", help, labels, -1, fn, NULL, 0}
#define GA(fam, help, labels, fn, arg) {fam, "gauge", help, labels, -1, NULL, fn, arg}

static const struct api_metric api_metrics[] = {
    C("scpd_sessions_accepted_total", "SSH sessions accepted since start.", "",
      STATS_SESSIONS_ACCEPTED),
    C("scpd_sessions_rejected_total", "SSH sessions rejected by a session limit since start.", "",
      STATS_SESSIONS_REJECTED),
    G("scpd_sessions_active", "SSH sessions open now.", "", m_sessions_active),
    C("scpd_logins_total", "Login attempts (SSH and HTTP) by result since start.",
      "result=\"ok\"", STATS_LOGINS_OK),
    C("scpd_logins_total", NULL, "result=\"failed\"", STATS_LOGINS_FAILED),
    C("scpd_logins_total", NULL, "result=\"blocked\"", STATS_LOGINS_BLOCKED),
    C("scpd_transfers_total", "Finished SCP transfers by direction (in: upload to the device) and "
      "result since start.", "direction=\"in\",result=\"ok\"", STATS_XFER_IN_OK),
    C("scpd_transfers_total", NULL, "direction=\"in\",result=\"failed\"", STATS_XFER_IN_FAILED),
    C("scpd_transfers_total", NULL, "direction=\"out\",result=\"ok\"", STATS_XFER_OUT_OK),
    C("scpd_transfers_total", NULL, "direction=\"out\",result=\"failed\"", STATS_XFER_OUT_FAILED),
    C("scpd_transfer_bytes_total", "File bytes moved by SCP transfers (live transfers included) "
      "by direction since start.", "direction=\"in\"", STATS_BYTES_IN),
    C("scpd_transfer_bytes_total", NULL, "direction=\"out\"", STATS_BYTES_OUT),
    G("scpd_transfers_active", "SCP transfers in progress.", "", m_transfers_active),
    C("scpd_scp_refusals_total", "SCP requests refused before a transfer, by reason, since start.",
      "reason=\"disabled\"", STATS_REFUSED_DISABLED),
    C("scpd_scp_refusals_total", NULL, "reason=\"no-authorization\"", STATS_REFUSED_NO_AUTHZ),
    C("scpd_scp_refusals_total", NULL, "reason=\"privilege\"", STATS_REFUSED_PRIVILEGE),
    C("scpd_scp_refusals_total", NULL, "reason=\"path\"", STATS_REFUSED_PATH),
    C("scpd_scp_refusals_total", NULL, "reason=\"other\"", STATS_REFUSED_OTHER),
    C("scpd_http_requests_total", "HTTP requests served since start.", "", STATS_HTTP_REQUESTS),
    G("scpd_scp_server_enabled", "1 when ip scp server enable is in the running configuration.",
      "", m_scp_enabled),
    G("scpd_debug_scp_enabled", "1 while debug ip scp is on.", "", m_debug_on),
    {"scpd_trace_events_total", "counter", "debug ip scp trace events recorded since start.", "",
     -1, m_trace_events, NULL, 0},
    {"scpd_trace_dropped_total", "counter",
     "debug ip scp trace events dropped from the ring (oldest first) since start.", "", -1,
     m_trace_dropped, NULL, 0},
    G("scpd_event_stream_subscribers", "Event-stream (SSE) subscribers connected now.", "",
      m_subscribers),
    G("scpd_config_version", "Version of the running configuration (one per commit).", "",
      m_config_version),
    G("scpd_start_time_seconds", "Start time of scpd, unix seconds.", "", m_start_time),
    GA("scpd_fs_size_bytes", "Size of a file system (--fs-size, else used plus the free space of "
       "its directory).", "fs=\"bootflash\"", m_fs_size, IFS_FS_BOOTFLASH),
    GA("scpd_fs_size_bytes", NULL, "fs=\"nvram\"", m_fs_size, IFS_FS_NVRAM),
    GA("scpd_fs_used_bytes", "Bytes of the files of a file system.", "fs=\"bootflash\"",
       m_fs_used, IFS_FS_BOOTFLASH),
    GA("scpd_fs_used_bytes", NULL, "fs=\"nvram\"", m_fs_used, IFS_FS_NVRAM),
    GA("scpd_fs_free_bytes", "Bytes one more upload may take on a file system now.",
       "fs=\"bootflash\"", m_fs_free, IFS_FS_BOOTFLASH),
    GA("scpd_fs_free_bytes", NULL, "fs=\"nvram\"", m_fs_free, IFS_FS_NVRAM),
};

/* Per AAA server (TACACS+/RADIUS): one sample per server of the state aaa keeps, labelled
 * protocol and server. */
struct api_aaa_metric {
    const char *family, *type, *help;
    uint64_t (*fn)(const struct aaa_server_state *s);
};
static uint64_t a_requests(const struct aaa_server_state *s) { return s->requests; }
static uint64_t a_accepts(const struct aaa_server_state *s) { return s->accepts; }
static uint64_t a_rejects(const struct aaa_server_state *s) { return s->rejects; }
static uint64_t a_timeouts(const struct aaa_server_state *s) { return s->timeouts; }
static uint64_t a_errors(const struct aaa_server_state *s) { return s->errors; }
static uint64_t a_skipped(const struct aaa_server_state *s) { return s->skipped; }
static uint64_t a_rtt(const struct aaa_server_state *s) { return (uint64_t)s->rtt_ms; }
static uint64_t a_dead(const struct aaa_server_state *s) { return s->dead ? 1 : 0; }

static const struct api_aaa_metric api_aaa_metrics[] = {
    {"scpd_aaa_server_requests_total", "counter", "Requests sent to an AAA server since start.",
     a_requests},
    {"scpd_aaa_server_accepts_total", "counter", "Requests an AAA server accepted (pass).",
     a_accepts},
    {"scpd_aaa_server_rejects_total", "counter", "Requests an AAA server rejected (fail).",
     a_rejects},
    {"scpd_aaa_server_timeouts_total", "counter", "Requests an AAA server did not answer in time.",
     a_timeouts},
    {"scpd_aaa_server_errors_total", "counter", "Requests that failed otherwise (refused, "
     "reset, undecodable reply: wrong key).", a_errors},
    {"scpd_aaa_server_skipped_total", "counter", "Requests not sent because the server was dead.",
     a_skipped},
    {"scpd_aaa_server_rtt_milliseconds", "gauge", "Round-trip time of the last answered request.",
     a_rtt},
    {"scpd_aaa_server_dead", "gauge", "1 while the server is skipped for its deadtime.", a_dead},
};

static void api_aaa_metrics_write(FILE *f, struct scpd *d)
{
    struct aaa_server_state st[LIM_CFG_AAA_SERVERS];
    int n = d->aaa ? aaa_servers_state(d->aaa, st, LIM_CFG_AAA_SERVERS) : 0;
    if (n == 0)
        return;
    for (size_t i = 0; i < sizeof api_aaa_metrics / sizeof api_aaa_metrics[0]; i++) {
        const struct api_aaa_metric *m = &api_aaa_metrics[i];
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->family, m->help, m->family, m->type);
        for (int k = 0; k < n; k++)   /* names are config names: [A-Za-z0-9._@+-], no quoting */
            fprintf(f, "%s{protocol=\"%s\",server=\"%s\"} %" PRIu64 "\n", m->family,
                    st[k].proto, st[k].name, m->fn(&st[k]));
    }
}

int api_h_metrics(struct api_req *r, struct api_resp *resp)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return api_error(resp, 500, "application", "operation-failed", r->path,
                         "out of memory for /metrics");
    const char *fam = "";
    for (size_t i = 0; i < sizeof api_metrics / sizeof api_metrics[0]; i++) {
        const struct api_metric *m = &api_metrics[i];
        if (strcmp(fam, m->family) != 0) {
            fam = m->family;
            fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->family, m->help, m->family, m->type);
        }
        uint64_t v = m->counter >= 0 ? stats_get(r->d->stats, m->counter)
                     : m->fn         ? m->fn(r->d)
                                     : m->fs_fn(r->d, m->arg);
        if (m->labels[0])
            fprintf(f, "%s{%s} %" PRIu64 "\n", m->family, m->labels, v);
        else
            fprintf(f, "%s %" PRIu64 "\n", m->family, v);
    }
    api_aaa_metrics_write(f, r->d);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return api_error(resp, 500, "application", "operation-failed", r->path,
                         "out of memory for /metrics");
    }
    return api_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}
