/* cli_config: configuration mode on the EXEC command line (`configure terminal`), as a vty of IOS
 * offers it. There is no second parser: every line goes to the config language's own table
 * through cfg_term_line() (store/cfg_parse.c), which keeps the sub-mode between lines and accepts
 * the unique abbreviations of its keywords; the CLI adds only what IOS's terminal adds around it:
 * the prompt `HOST(config-line)#`, `do EXEC-COMMAND`, `end` and Ctrl-Z, `exit` at the top, `?`.
 *
 * As at an IOS terminal, each line takes effect when it is entered: one store_commit() per line
 * that changes something, audited as source "cli" with the user and the peer, seen by the next
 * login at once. A line that is refused prints the marker and changes nothing. Lines are never
 * logged as typed (a password may be on them): the log has the masked text of a refused line,
 * the audit log the diff (secrets <hidden>). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/cli_int.h"
#include "store/cfg.h"
#include "store/store.h"

int cli_cmd_configure(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    if (c->env.store == NULL) {
        cli_out_str(c, "%Error: no configuration store on this device\n");
        return 1;
    }
    if (c->cfgt == NULL && (c->cfgt = cfg_term_new()) == NULL) {
        c->oom = true;
        return 1;
    }
    cli_out_str(c, "Enter configuration commands, one per line.  End with CNTL/Z.\n");
    return 0;
}

void cli_config_end(struct cli *c)
{
    cfg_term_free(c->cfgt);
    c->cfgt = NULL;
    /* IOS: %SYS-5-CONFIG_I: Configured from console by USER on vty0 (PEER) */
    log_notice(&c->lc, "cli: %%SYS-5-CONFIG_I: Configured from console by %s on vty (%s)",
               c->env.user ? c->env.user : "", c->env.peer ? c->env.peer : "");
}

static bool word_is(const char *s, size_t n, const char *w)
{
    return n == strlen(w) && strncasecmp(s, w, n) == 0;
}

/* Applies one config line: one commit if it changed something. 0, or 1 refused. */
static int config_apply(struct cli *c, const char *line, size_t len, size_t caret_offset)
{
    struct store_who who = {.user = c->env.user, .source = "cli", .peer = c->env.peer};
    struct cfg_error e;
    struct cfg *next = NULL;
    struct scpd_err err = {0};
    uint64_t ver = 0;
    const struct store_snap *snap = store_snapshot(c->env.store);
    bool banner = cfg_term_banner_delim(c->cfgt) != NULL;
    enum cfg_term_res r = cfg_term_line(c->cfgt, snap->cfg, line, len, &next, &e);
    uint64_t base = snap->version;
    store_snap_release(snap);
    switch (r) {
    case CFG_TERM_EXIT:
        cli_config_end(c);
        return 0;
    case CFG_TERM_AMBIGUOUS:
        cli_out_fmt(c, "%% Ambiguous command:  \"%.*s\"\n", (int)len, line);
        return 1;
    case CFG_TERM_INVALID:
        log_info(&c->lc, "cli: config line refused (%s): %s", e.reason, e.text);
        cli_invalid_at(c, line, len, caret_offset + (size_t)e.column - 1, e.reason);
        return 1;
    case CFG_TERM_OK:
        break;
    }
    const char *delim = cfg_term_banner_delim(c->cfgt);
    if (delim != NULL && !banner) /* IOS's invitation, once, after `banner motd #` */
        cli_out_fmt(c, "Enter TEXT message.  End with the character '%s'.\n", delim);
    if (next == NULL)
        return 0;
    /* expect the version the line was applied to: a change made meanwhile by another door is
     * not overwritten by this line's copy of the config */
    int rc = store_commit(c->env.store, next, base, &who, &ver, &err);
    cfg_free(next);
    if (rc != 0) {
        if (err.code == SCPD_E_CONFLICT)
            cli_out_str(c, "% The configuration was changed by another session meanwhile; "
                           "enter the line again\n");
        else
            cli_out_err(c, &err);
        return 1;
    }
    log_info(&c->lc, "cli: configuration line applied (version %llu)", (unsigned long long)ver);
    char why[256];
    snap = store_snapshot(c->env.store);
    if (cfg_login_warning(snap->cfg, why, sizeof why) != NULL)
        cli_out_fmt(c, "%% Warning: %s\n", why);
    store_snap_release(snap);
    return 0;
}

int cli_config_line(struct cli *c, const char *line, size_t len, size_t caret_offset)
{
    size_t i = 0, w;
    while (i < len && line[i] == ' ')
        i++;
    for (w = i; w < len && line[w] != ' '; w++)
        ;
    if (cfg_term_banner_delim(c->cfgt) != NULL)   /* a banner's text: every line is text */
        return config_apply(c, line, len, caret_offset);
    if (i == len)
        return 0;
    size_t rest = w;   /* the line is not NUL-terminated: count its blanks within len */
    while (rest < len && line[rest] == ' ')
        rest++;
    if (word_is(line + i, w - i, "end") && rest == len) {
        cli_config_end(c);
        return 0;
    }
    /* IOS's configuration-mode commands that act at once and are not configuration lines */
    if (w - i >= 2 && w - i <= 6 && strncasecmp(line + i, "crypto", w - i) == 0)
        return cli_exec_line(c, line, len, caret_offset);
    if (word_is(line + i, w - i, "do")) {   /* an EXEC command from configuration mode */
        while (w < len && line[w] == ' ')
            w++;
        if (w == len) {
            cli_out_str(c, "% Incomplete command.\n\n");
            return 1;
        }
        return cli_exec_line(c, line + w, len - w, caret_offset + w);
    }
    return config_apply(c, line, len, caret_offset);
}

struct help_acc {
    struct cli *c;
    size_t width;
    bool print;
    int n;
};

static void help_one(void *arg, const char *word, const char *help)
{
    struct help_acc *h = arg;
    const char *w = word ? word : "";
    if (!h->print) {
        if (strlen(w) > h->width)
            h->width = strlen(w);
        return;
    }
    h->n++;
    if (word)
        cli_out_fmt(h->c, "  %-*s  %s\n", (int)h->width, word, help);
    else
        cli_out_fmt(h->c, "  %s\n", help);
}

void cli_config_help(struct cli *c)
{
    struct help_acc h = {.c = c};
    size_t lead = 0;   /* the line is not NUL-terminated: stay within len */
    while (lead < c->len && c->line[lead] == ' ')
        lead++;
    bool empty = lead >= c->len;
    if (c->len - lead >= 3 && strncasecmp(c->line + lead, "do ", 3) == 0) {
        cli_out_str(c, "  LINE  Exec Command\n");
        return;
    }
    cfg_term_help(c->cfgt, c->line, c->len, help_one, &h);
    if (h.width < 4)
        h.width = 4;
    h.print = true;
    if (empty)
        cli_out_str(c, "Configure commands:\n");
    cfg_term_help(c->cfgt, c->line, c->len, help_one, &h);
    if (empty) {
        cli_out_fmt(c, "  %-*s  %s\n", (int)h.width, "do", "To run exec commands in config mode");
        cli_out_fmt(c, "  %-*s  %s\n", (int)h.width, "end", "Exit from configure mode");
        cli_out_fmt(c, "  %-*s  %s\n", (int)h.width, "exit", "Exit from the current mode");
        cli_out_fmt(c, "  %-*s  %s\n", (int)h.width, "no", "Negate a command or set its defaults");
    } else if (h.n == 0) {
        cli_out_str(c, "% Unrecognized command\n");
    }
}
