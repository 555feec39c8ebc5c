/* cli_cmds: the EXEC command line's one table (keywords, argument, privilege, handler, help) and
 * its system commands (terminal, show version/privilege, write, enable, exit). The file commands
 * are in cli_fs.c; the engine that parses lines against this table is cli.c. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/lim.h"
#include "base/scpd.h"
#include "services/aaa.h"
#include "daemon/cli_int.h"
#include "services/aaa.h"
#include "store/cfg.h"
#include "store/store.h"

static int cmd_term_length(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    c->term_length = (int)num;
    return 0;
}

static int cmd_term_width(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    c->term_width = (int)num;
    return 0;
}

static int cmd_show_terminal(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    cli_out_fmt(c, "Length: %d lines, Width: %d columns\n", c->term_length, c->term_width);
    return 0;
}

static int cmd_show_privilege(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    cli_out_fmt(c, "Current privilege level is %d\n", c->privilege);
    return 0;
}

/* `show aaa servers`, after IOS's: each configured TACACS+/RADIUS server with what it answered
 * since start (services/aaa.c counts; a server not asked yet shows zeros). */
static int cmd_show_aaa_servers(struct cli *c, const struct cli_cmd *cmd, const char *arg,
                                long num)
{
    struct aaa_server_state st[LIM_CFG_AAA_SERVERS];
    int n = c->env.aaa ? aaa_servers_state(c->env.aaa, st, LIM_CFG_AAA_SERVERS) : 0;
    const struct store_snap *snap = c->env.store ? store_snapshot(c->env.store) : NULL;
    if (snap == NULL) {
        cli_out_str(c, "%Error: no configuration store on this device\n");
        return 1;
    }
    const struct cfg *cfg = snap->cfg;
    if (cfg->n_servers == 0)
        cli_out_str(c, "No AAA servers configured (tacacs server / radius server)\n");
    for (size_t i = 0; i < cfg->n_servers; i++) {
        const struct cfg_aaa_server *s = &cfg->servers[i];
        bool tac = s->proto == CFG_AAA_TACACS;
        struct aaa_server_state z = {0};
        const struct aaa_server_state *e = &z;
        for (int k = 0; k < n; k++)
            if (strcmp(st[k].name, s->name) == 0 &&
                strcmp(st[k].proto, tac ? "tacacs+" : "radius") == 0)
                e = &st[k];
        cli_out_fmt(c, "%s: id %zu, name %s, host %s", tac ? "TACACS+" : "RADIUS", i + 1, s->name,
                    s->addr[0] ? s->addr : "(none)");
        if (tac)
            cli_out_fmt(c, ", port %d\n", s->port);
        else
            cli_out_fmt(c, ", auth-port %d, acct-port %d\n", s->port, s->acct_port);
        cli_out_fmt(c, "     State: current %s\n", e->dead ? "DEAD" : "UP");
        cli_out_fmt(c, "     Requests %" PRIu64 ", timeouts %" PRIu64 ", errors %" PRIu64
                    ", skipped while dead %" PRIu64 "\n", e->requests, e->timeouts, e->errors,
                    e->skipped);
        cli_out_fmt(c, "     Response: accept %" PRIu64 ", reject %" PRIu64 ", time %" PRId64
                    "ms\n", e->accepts, e->rejects, e->rtt_ms);
    }
    store_snap_release(snap);
    return 0;
}

static void uptime_part(char *buf, size_t cap, size_t *o, long v, const char *unit, bool always)
{
    if ((v == 0 && !always) || *o >= cap)
        return;
    int r = snprintf(buf + *o, cap - *o, "%s%ld %s%s", *o ? ", " : "", v, unit, v == 1 ? "" : "s");
    if (r > 0)
        *o += (size_t)r;
}

static int cmd_show_version(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    cli_out_str(c, "scpd, the Secure Copy server of an IOS XE device, Version " SCPD_VERSION "\n");
    if (c->env.started_ms > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        long mins = now_ms > c->env.started_ms ? (long)((now_ms - c->env.started_ms) / 60000) : 0;
        char host[CFG_NAME_MAX], up[128];
        size_t o = 0;
        cli_hostname(c, host, sizeof(host));
        up[0] = '\0';
        uptime_part(up, sizeof(up), &o, mins / (7 * 24 * 60), "week", false);
        uptime_part(up, sizeof(up), &o, mins / (24 * 60) % 7, "day", false);
        uptime_part(up, sizeof(up), &o, mins / 60 % 24, "hour", false);
        uptime_part(up, sizeof(up), &o, mins % 60, "minute", true);
        cli_out_fmt(c, "%s uptime is %s\n", host, up);
    }
    return 0;
}

/* `write [memory]`: the one save of the store (as the API's cisco-ia:save-config and `copy
 * running-config startup-config`), audited with source "cli"; IOS asks nothing here. */
static int cmd_save(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    struct scpd_err err = {0};
    struct store_who who = {.user = c->env.user, .source = "cli", .peer = c->env.peer};
    if (!c->env.store) {
        cli_out_str(c, "%Error: no configuration store on this device\n");
        return 1;
    }
    cli_out_str(c, "Building configuration...\n");
    if (store_save_config(c->env.store, &who, &err) < 0) {
        cli_out_err(c, &err);
        return 1;
    }
    cli_out_str(c, "[OK]\n");
    return 0;
}

/* At level 15 there is nothing to gain. Below it IOS asks for the `enable secret` (three tries,
 * not echoed); without one, the answer is IOS's own for a line without a password. Each wrong
 * answer is a failed login for AAA (counters, login block-for, security events). */
static int cmd_enable(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    if (c->privilege >= 15)
        return 0;
    if (c->env.aaa == NULL || !aaa_enable_configured(c->env.aaa)) {
        cli_out_str(c, "% No password set\n");
        return 1;
    }
    if (c->exec) {   /* an exec request cannot answer a prompt */
        cli_out_str(c, "% Password required: use an interactive session\n");
        return 1;
    }
    cli_out_str(c, "Password: ");
    c->pw_tries = 3;
    return 0;
}

static int cmd_exit(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    c->ended = true;
    return 0;
}


#define H_CLEAR "Reset functions"
#define H_DEBUG "Debugging functions (see also 'undebug')"
#define H_EXIT "Exit from the EXEC"
#define H_NO "Negate a command or set its defaults"
#define H_SHOW "Show running system information"
#define H_TERM "Set terminal line parameters"
#define H_UNDEBUG "Disable debugging functions (see also 'debug')"
#define H_VERIFY "Verify a file"
#define H_WRITE "Write running configuration to memory"
#define H_FILE "File to verify, then optionally the expected hash (bootflash:/image.bin HASH)"
/* Alphabetical: `?` lists keywords in table order. The rows of issue 12 (copy, file management,
 * debugging) are marked with a trailing "i12" comment to keep merges with other rows easy. */
const struct cli_cmd cli_cmds[] = {
    /* configuration mode and the device administration of IOS's AAA/SSH templates (issue 11:
     * cli_config.c, cli_admin.c) */
    {{"configure", "terminal"}, ARG_NONE, 0, 0, 15, cli_cmd_configure,
     {"Enter configuration mode", "Configure from the terminal"}, NULL},
    {{"crypto", "key", "generate", "rsa"}, ARG_NONE, 0, 0, 15, cli_cmd_crypto_gen,
     {"Encryption module", "Long term key operations", "Generate new keys",
      "Generate RSA keys"}, NULL},
    {{"crypto", "key", "generate", "rsa", "modulus"}, ARG_NUM, 2048, 4096, 15,
     cli_cmd_crypto_gen, {"Encryption module", "Long term key operations", "Generate new keys",
      "Generate RSA keys", "Provide number of modulus bits on the command line"},
     "Number of bits in the modulus"},
    {{"disable"}, ARG_NONE, 0, 0, 0, cli_cmd_disable, {"Turn off privileged commands"}, NULL},
    {{"show", "crypto", "key", "mypubkey", "rsa"}, ARG_NONE, 0, 0, 15, cli_cmd_show_mypubkey,
     {"Show running system information", "Encryption module", "Show long term public keys",
      "Show public keys associated with this router", "Show RSA public keys"}, NULL},
    {{"reload"}, ARG_NONE, 0, 0, 15, cli_cmd_reload, {"Halt and perform a cold restart"}, NULL},
    /* the rest, alphabetical */
    {{"clear", "logging"}, ARG_NONE, 0, 0, 15, cli_cmd_clear_logging,
     {H_CLEAR, "Clear logging buffer"}, NULL},                                          /* i12 */
    {{"copy"}, ARG_REST, 0, 0, 15, cli_cmd_copy, {"Copy from one file to another"},
     "SOURCE DESTINATION (bootflash:x, nvram:x, running-config, startup-config)"},      /* i12 */
    {{"debug", "ip", "scp"}, ARG_NONE, 0, 0, 15, cli_cmd_debug_scp,
     {H_DEBUG, "IP information", "Secure Copy"}, NULL},                                 /* i12 */
    {{"delete"}, ARG_REST, 0, 0, 15, cli_cmd_delete, {"Delete a file"},
     "[/force] [/recursive] FS:PATH"},                                                  /* i12 */
    {{"dir"}, ARG_PATH_OPT, 0, 0, 15, cli_cmd_dir, {"List files on a filesystem"},
     "Directory or file name (bootflash:, flash:, nvram:, running-config)"},
    {{"dir", "/recursive"}, ARG_PATH_OPT, 0, 0, 15, cli_cmd_dir,
     {"List files on a filesystem", "List files recursively"}, "Directory name"},       /* i12 */
    {{"enable"}, ARG_NONE, 0, 0, 0, cmd_enable, {"Turn on privileged commands"}, NULL},
    {{"exit"}, ARG_NONE, 0, 0, 0, cmd_exit, {H_EXIT}, NULL},
    {{"logout"}, ARG_NONE, 0, 0, 0, cmd_exit, {H_EXIT}, NULL},
    {{"mkdir"}, ARG_PATH, 0, 0, 15, cli_cmd_mkdir, {"Create new directory"},
     "Directory name (bootflash:dir)"},                                                 /* i12 */
    {{"more"}, ARG_REST, 0, 0, 15, cli_cmd_more, {"Display the contents of a file"},
     "[/binary] FS:PATH"},                                                              /* i12 */
    {{"no", "debug", "all"}, ARG_NONE, 0, 0, 15, cli_cmd_no_debug_scp,
     {H_NO, H_DEBUG, "Disable all debugging"}, NULL},                                   /* i12 */
    {{"no", "debug", "ip", "scp"}, ARG_NONE, 0, 0, 15, cli_cmd_no_debug_scp,
     {H_NO, H_DEBUG, "IP information", "Secure Copy"}, NULL},                           /* i12 */
    {{"quit"}, ARG_NONE, 0, 0, 0, cmd_exit, {H_EXIT}, NULL},
    {{"show", "aaa", "servers"}, ARG_NONE, 0, 0, 15, cmd_show_aaa_servers,
     {H_SHOW, "Show AAA values", "Show the TACACS+ and RADIUS servers and their counters"}, NULL},
    {{"rename"}, ARG_REST, 0, 0, 15, cli_cmd_rename, {"Rename a file"},
     "FS:FROM FS:TO"},                                                                  /* i12 */
    {{"rmdir"}, ARG_PATH, 0, 0, 15, cli_cmd_rmdir, {"Remove existing directory"},
     "Directory name (bootflash:dir)"},                                                 /* i12 */
    {{"show", "clock"}, ARG_NONE, 0, 0, 1, cli_cmd_show_clock,
     {H_SHOW, "Display the system clock"}, NULL},                                       /* i12 */
    {{"show", "debugging"}, ARG_NONE, 0, 0, 15, cli_cmd_show_debugging,
     {H_SHOW, "State of each debugging option"}, NULL},                                 /* i12 */
    {{"show", "file", "information"}, ARG_PATH, 0, 0, 15, cli_cmd_show_file_info,
     {H_SHOW, "Show file system information", "List file information"},
     "File name (bootflash:x)"},                                                        /* i12 */
    {{"show", "file", "systems"}, ARG_NONE, 0, 0, 15, cli_cmd_show_fs,
     {H_SHOW, "Show file system information", "List filesystems"}, NULL},
    {{"show", "ip", "ssh"}, ARG_NONE, 0, 0, 15, cli_cmd_show_ip_ssh,
     {H_SHOW, "IP information", "Information on SSH"}, NULL},                           /* i12 */
    {{"show", "logging"}, ARG_NONE, 0, 0, 15, cli_cmd_show_logging,
     {H_SHOW, "Show the contents of logging buffers"}, NULL},                           /* i12 */
    {{"show", "privilege"}, ARG_NONE, 0, 0, 1, cmd_show_privilege,
     {H_SHOW, "Show current privilege level"}, NULL},
    {{"show", "running-config"}, ARG_NONE, 0, 0, 15, cli_cmd_show_running,
     {H_SHOW, "Current operating configuration"}, NULL},
    {{"show", "running-config", "all"}, ARG_NONE, 0, 0, 15, cli_cmd_show_running_all,
     {H_SHOW, "Current operating configuration", "Configuration with defaults"}, NULL}, /* i12 */
    {{"show", "startup-config"}, ARG_NONE, 0, 0, 15, cli_cmd_show_startup,
     {H_SHOW, "Contents of startup configuration"}, NULL},
    {{"show", "terminal"}, ARG_NONE, 0, 0, 1, cmd_show_terminal,
     {H_SHOW, "Display terminal configuration parameters"}, NULL},
    {{"show", "users"}, ARG_NONE, 0, 0, 1, cli_cmd_show_users,
     {H_SHOW, "Display information about terminal lines"}, NULL},                      /* i12 */
    {{"show", "version"}, ARG_NONE, 0, 0, 1, cmd_show_version,
     {H_SHOW, "System hardware and software status"}, NULL},
    {{"terminal", "length"}, ARG_NUM, 0, 512, 1, cmd_term_length,
     {H_TERM, "Set number of lines on a screen"}, "Number of lines on screen (0 for no pausing)"},
    {{"terminal", "monitor"}, ARG_NONE, 0, 0, 15, cli_cmd_term_monitor,
     {H_TERM, "Copy debug output to the current terminal line"}, NULL},                 /* i12 */
    {{"terminal", "no", "monitor"}, ARG_NONE, 0, 0, 15, cli_cmd_term_no_monitor,
     {H_TERM, "Negate a command or set its defaults",
      "Copy debug output to the current terminal line"}, NULL},                         /* i12 */
    {{"terminal", "width"}, ARG_NUM, 0, 512, 1, cmd_term_width,
     {H_TERM, "Set width of the display terminal"}, "Number of characters on a screen line"},
    {{"undebug", "all"}, ARG_NONE, 0, 0, 15, cli_cmd_no_debug_scp,
     {H_UNDEBUG, "Disable all debugging"}, NULL},                                       /* i12 */
    {{"undebug", "ip", "scp"}, ARG_NONE, 0, 0, 15, cli_cmd_no_debug_scp,
     {H_UNDEBUG, "IP information", "Secure Copy"}, NULL},                               /* i12 */
    {{"verify", "/md5"}, ARG_REST, 0, 0, 15, cli_cmd_verify,
     {H_VERIFY, "MD5 signature"}, H_FILE},
    {{"verify", "/sha512"}, ARG_REST, 0, 0, 15, cli_cmd_verify,
     {H_VERIFY, "SHA-512 signature"}, H_FILE},                                          /* i12 */
    {{"write"}, ARG_NONE, 0, 0, 15, cmd_save, {H_WRITE}, NULL},
    {{"write", "memory"}, ARG_NONE, 0, 0, 15, cmd_save, {H_WRITE, "Write to NV memory"}, NULL},
};
const size_t cli_ncmds = sizeof(cli_cmds) / sizeof(cli_cmds[0]);
_Static_assert(sizeof(cli_cmds) / sizeof(cli_cmds[0]) <= CLI_MAX_CMDS, "raise CLI_MAX_CMDS");
