/* cli_cmds: the EXEC command line's one table (keywords, argument, privilege, handler, help) and
 * its system commands (terminal, show version/privilege, write, enable, exit). The file commands
 * are in cli_fs.c; the engine that parses lines against this table is cli.c. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "base/scpd.h"
#include "daemon/cli_int.h"
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

/* `copy running-config startup-config` and `write [memory]`: the one save of the store (as the
 * API's cisco-ia:save-config), audited with source "cli". No "Destination filename
 * [startup-config]?" question: this device behaves as IOS with `file prompt quiet`, so scripts
 * that do not answer prompts (netmiko's send_command) do not hang. */
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

/* At level 15 there is nothing to gain. Below it IOS asks for the enable password; this release
 * has no enable secret, so the answer is IOS's own for a line without one. */
static int cmd_enable(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    if (c->privilege >= 15)
        return 0;
    cli_out_str(c, "% No password set (this device has no enable secret: log in as a user with "
               "privilege 15)\n");
    return 1;
}

static int cmd_exit(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    c->ended = true;
    return 0;
}


#define H_EXIT "Exit from the EXEC"
#define H_SHOW "Show running system information"
#define H_TERM "Set terminal line parameters"
#define H_WRITE "Write running configuration to memory"
const struct cli_cmd cli_cmds[] = {
    {{"copy", "running-config", "startup-config"}, ARG_NONE, 0, 0, 15, cmd_save,
     {"Copy from one file to another", "Copy from current system configuration",
      "Copy to startup configuration"}, NULL},
    {{"dir"}, ARG_PATH_OPT, 0, 0, 15, cli_cmd_dir, {"List files on a filesystem"},
     "Directory or file name (bootflash:, flash:, nvram:, running-config)"},
    {{"enable"}, ARG_NONE, 0, 0, 0, cmd_enable, {"Turn on privileged commands"}, NULL},
    {{"exit"}, ARG_NONE, 0, 0, 0, cmd_exit, {H_EXIT}, NULL},
    {{"logout"}, ARG_NONE, 0, 0, 0, cmd_exit, {H_EXIT}, NULL},
    {{"quit"}, ARG_NONE, 0, 0, 0, cmd_exit, {H_EXIT}, NULL},
    {{"show", "file", "systems"}, ARG_NONE, 0, 0, 15, cli_cmd_show_fs,
     {H_SHOW, "Show file system information", "List filesystems"}, NULL},
    {{"show", "privilege"}, ARG_NONE, 0, 0, 1, cmd_show_privilege,
     {H_SHOW, "Show current privilege level"}, NULL},
    {{"show", "running-config"}, ARG_NONE, 0, 0, 15, cli_cmd_show_running,
     {H_SHOW, "Current operating configuration"}, NULL},
    {{"show", "startup-config"}, ARG_NONE, 0, 0, 15, cli_cmd_show_startup,
     {H_SHOW, "Contents of startup configuration"}, NULL},
    {{"show", "terminal"}, ARG_NONE, 0, 0, 1, cmd_show_terminal,
     {H_SHOW, "Display terminal configuration parameters"}, NULL},
    {{"show", "version"}, ARG_NONE, 0, 0, 1, cmd_show_version,
     {H_SHOW, "System hardware and software status"}, NULL},
    {{"terminal", "length"}, ARG_NUM, 0, 512, 1, cmd_term_length,
     {H_TERM, "Set number of lines on a screen"}, "Number of lines on screen (0 for no pausing)"},
    {{"terminal", "width"}, ARG_NUM, 0, 512, 1, cmd_term_width,
     {H_TERM, "Set width of the display terminal"}, "Number of characters on a screen line"},
    {{"verify", "/md5"}, ARG_PATH, 0, 0, 15, cli_cmd_verify_md5,
     {"Verify a file", "MD5 signature"}, "File to verify (bootflash:/image.bin)"},
    {{"write"}, ARG_NONE, 0, 0, 15, cmd_save, {H_WRITE}, NULL},
    {{"write", "memory"}, ARG_NONE, 0, 0, 15, cmd_save, {H_WRITE, "Write to NV memory"}, NULL},
};
const size_t cli_ncmds = sizeof(cli_cmds) / sizeof(cli_cmds[0]);
_Static_assert(sizeof(cli_cmds) / sizeof(cli_cmds[0]) <= CLI_MAX_CMDS, "raise CLI_MAX_CMDS");
