/* cli_debug: troubleshooting at the EXEC command line, as on an IOS vty: `debug ip scp`,
 * `no debug ip scp`, `undebug all`, `show debugging`, `terminal monitor` (the trace lines of
 * every session appear in this one as they happen: a private bounded subscription to the same
 * trace ring the API streams, drained by cli_poll, so a slow terminal loses lines, counted and
 * shown, and never delays a transfer), `show logging` / `clear logging` (the `logging buffered`
 * ring of base/log), `show ip ssh`, `show clock`, `show users`. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "daemon/cli_int.h"
#include "services/sessions.h"
#include "services/trace.h"
#include "store/cfg.h"
#include "store/store.h"

#define CLI_MONITOR_QUEUE 1024   /* trace lines waiting for one terminal; more are dropped */
#define CLI_MONITOR_TAKE 16      /* taken per call (struct trace_event is ~0.6 KB each) */
#define CLI_MONITOR_LINES 512    /* at most this many per cli_poll, so output stays bounded */

static int need_trace(struct cli *c)
{
    if (c->env.trace)
        return 0;
    cli_out_str(c, "%Error: no trace facility on this device\n");
    return 1;
}

int cli_cmd_debug_scp(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    if (need_trace(c))
        return 1;
    trace_set(c->env.trace, true);
    log_notice(&c->lc, "cli: debug ip scp on");
    cli_out_str(c, "SCP protocol debugging is on\n");
    return 0;
}

/* `no debug ip scp`, `undebug ip scp`, `undebug all`, `no debug all`: the one switch there is. */
int cli_cmd_no_debug_scp(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    bool all = strcmp(cmd->kw[1], "all") == 0 || (cmd->kw[2] && strcmp(cmd->kw[2], "all") == 0);
    if (need_trace(c))
        return 1;
    trace_set(c->env.trace, false);
    log_notice(&c->lc, "cli: debug ip scp off");
    cli_out_str(c, all ? "All possible debugging has been turned off\n"
                       : "SCP protocol debugging is off\n");
    return 0;
}

int cli_cmd_show_debugging(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    if (need_trace(c))
        return 1;
    if (trace_on(c->env.trace))
        cli_out_str(c, "IP:\n  SCP protocol debugging is on\n");
    if (c->monitor)
        cli_out_fmt(c, "Terminal monitor is on for this line (%" PRIu64 " trace lines dropped "
                    "for a slow terminal)\n", c->monitor_lost);
    return 0;
}

int cli_cmd_term_monitor(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    if (need_trace(c) || c->monitor)
        return c->monitor ? 0 : 1;
    c->monitor = trace_subscribe(c->env.trace, CLI_MONITOR_QUEUE);
    if (!c->monitor) {
        cli_out_str(c, "%Error: terminal monitor: out of memory\n");
        return 1;
    }
    c->monitor_lost = 0;
    return 0;
}

void cli_monitor_stop(struct cli *c)
{
    trace_unsubscribe(c->monitor);
    c->monitor = NULL;
}

int cli_cmd_term_no_monitor(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    cli_monitor_stop(c);
    return 0;
}

void cli_monitor_drain(struct cli *c)
{
    struct trace_event ev[CLI_MONITOR_TAKE];
    char line[LIM_TRACE_LINE + 128];
    uint64_t lost = 0;
    size_t total = 0, n;
    bool begun = false;
    while (total < CLI_MONITOR_LINES &&
           (n = trace_sub_take(c->monitor, ev, CLI_MONITOR_TAKE, &lost, 0)) + lost > 0) {
        if (!begun) {
            cli_async_begin(c);
            begun = true;
        }
        if (lost > 0) {
            c->monitor_lost += lost;
            cli_out_fmt(c, "%%SCP: %" PRIu64 " trace lines dropped (the terminal was too slow)\n",
                        lost);
            lost = 0;
        }
        for (size_t i = 0; i < n; i++)
            if (trace_format(&ev[i], line, sizeof(line)) == 0)
                cli_out_fmt(c, "%s\n", line);
        total += n;
        if (n < CLI_MONITOR_TAKE)
            break;
    }
    if (begun)
        cli_async_end(c);
}

/* `show logging`, IOS's layout: the state, then "Log Buffer (N bytes):" and the lines. */
int cli_cmd_show_logging(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    size_t len = 0, size = 0;
    uint64_t logged = 0, dropped = 0;
    char *text = log_buffer_dump(&len, &size, &logged, &dropped);
    cli_out_fmt(c, "Syslog logging: enabled (%" PRIu64 " messages dropped)\n", dropped);
    if (size == 0) {
        cli_out_str(c, "    Buffer logging:  disabled\n");
        free(text);
        return 0;
    }
    cli_out_fmt(c, "    Buffer logging:  level informational, %" PRIu64 " messages logged\n\n"
                "Log Buffer (%zu bytes):\n\n", logged, size);
    if (text)
        cli_out_text(c, text, len);
    free(text);
    return 0;
}

static int clear_logging_answer(struct cli *c, void *arg, const char *a)
{
    if (!cli_confirmed(a))
        return 1;
    log_buffer_clear();
    log_notice(&c->lc, "cli: logging buffer cleared");
    return 0;
}

int cli_cmd_clear_logging(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    cli_ask(c, "Clear logging buffer [confirm]", false, clear_logging_answer, NULL, NULL);
    return 0;
}

int cli_cmd_show_ip_ssh(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    const struct store_snap *snap = c->env.store ? store_snapshot(c->env.store) : NULL;
    int timeout = snap ? snap->cfg->ssh_timeout : CFG_DEFAULT_SSH_TIMEOUT;
    int retries = snap ? snap->cfg->ssh_retries : CFG_DEFAULT_SSH_RETRIES;
    bool scp = snap && snap->cfg->scp_enable;
    if (snap)
        store_snap_release(snap);
    cli_out_fmt(c, "SSH Enabled - version 2.0\n"
                "Authentication methods:publickey,keyboard-interactive,password\n"
                "Authentication timeout: %d secs; Authentication retries: %d\n"
                "Hostkey algorithms:ssh-ed25519,rsa-sha2-512,rsa-sha2-256\n"
                "SCP server: %s\n", timeout, retries, scp ? "enabled" : "disabled");
    return 0;
}

/* IOS: "08:49:27.123 UTC Sat Dec 5 2026" (the device keeps UTC). */
int cli_cmd_show_clock(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    struct timespec ts;
    struct tm tm;
    char a[32], b[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    if (!gmtime_r(&ts.tv_sec, &tm))
        return 1;
    strftime(a, sizeof(a), "%H:%M:%S", &tm);
    strftime(b, sizeof(b), "%a %b %e %Y", &tm);
    cli_out_fmt(c, "%s.%03ld UTC %s\n", a, ts.tv_nsec / 1000000, b);
    return 0;
}

/* `show users`, IOS's columns (Line, User, Host, Idle, Location), with the door each user came
 * through; "*" marks this session. */
int cli_cmd_show_users(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    struct sessions_view *v = calloc(LIM_SESSIONS_TOTAL + SESSIONS_HTTP_MAX, sizeof(*v));
    if (!v) {
        cli_out_str(c, "%Error: out of memory\n");
        return 1;
    }
    size_t n = sessions_list(c->env.sessions, v, LIM_SESSIONS_TOTAL + SESSIONS_HTTP_MAX);
    cli_out_str(c, "    Line       User             Door  Idle       Location\n");
    for (size_t i = 0; i < n; i++) {
        char line[24], idle[16];
        long secs = (long)(v[i].idle_ms / 1000);
        bool me = strcmp(v[i].door, "ssh") == 0 && v[i].sid == c->env.sid;
        if (strcmp(v[i].door, "ssh") == 0)
            snprintf(line, sizeof(line), "vty %" PRIu64, v[i].sid);
        else
            snprintf(line, sizeof(line), "http");
        snprintf(idle, sizeof(idle), "%02ld:%02ld:%02ld", secs / 3600 % 100, secs / 60 % 60,
                 secs % 60);
        cli_out_fmt(c, "%c   %-10s %-16s %-5s %-10s %s\n", me ? '*' : ' ', line, v[i].user,
                    v[i].door, idle, v[i].peer);
    }
    free(v);
    return 0;
}
