/* cli: a minimal IOS EXEC command line (see cli.h).
 *
 * Line discipline. What a vty does for a terminal: printable characters go into the line (and are
 * echoed when the peer asked for a pty: netmiko strips exactly the echo of its command from the
 * output, so the echo is what makes its parsing line up), CR, LF or CRLF end the line, BS and DEL
 * erase one character, ^U the whole line, `?` shows IOS's context help (what may come next, or the
 * keywords completing the word typed) and reprints the line, escape sequences (arrow keys) and
 * every other control byte are dropped. A line longer than LIM_CLI_LINE_LEN is not truncated into
 * a different command: it is refused as a whole when it ends.
 *
 * Configuration mode (`configure terminal`) is cli_config.c: in it, lines go to the config
 * language's own parser; `do` comes back here.
 *
 * Commands. One table (cli_cmds.c; the file commands in cli_fs.c, administration in cli_admin.c):
 * keywords, argument kind, privilege, handler, help texts. The parser matches each word as a
 * case-insensitive prefix of the keywords still possible (IOS abbreviations: `sh run`, `write
 * mem`); a prefix that fits several is ambiguous, one that fits none gets IOS's caret marker under
 * the word. Commands above the user's privilege are not in the parse at all, as in IOS (a level-1
 * user's `dir` is "Invalid input"); the log line says that privilege was the reason. Output follows
 * IOS's formats where a script parses them (`dir`: "Directory of", index/permissions/size/date/name
 * columns, "N bytes total (M bytes free)"; `verify /md5`: "verify /md5 (FS:/path) = HEX"). Every
 * path goes through ifs_resolve(), every config read through the running-config/startup-config
 * virtual files, every save through store_save_config(): the CLI is one more door onto the same
 * parts, not a second way through.
 *
 * Output modifiers. `COMMAND | include|exclude|begin|section|count REGEX` (IOS's, abbreviable like
 * keywords) filters the command's output after it ran: the command's part is parsed alone, so its
 * caret columns stay those of the line; the expression is POSIX extended, without back-references
 * (glibc matches those by backtracking, which a peer could make exponential). */
#include "daemon/cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <regex.h>

#include <openssl/crypto.h>

#include "base/lim.h"
#include "daemon/chan.h"
#include "base/log.h"
#include "daemon/cli_int.h"
#include "store/cfg.h"
#include "store/store.h"

/* ---- output ---------------------------------------------------------------------------------- */

void cli_out_raw(struct cli *c, const char *s, size_t n)
{
    if (c->oom || n == 0)
        return;
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + n)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p) {
            c->oom = true;
            return;
        }
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

void cli_out_text(struct cli *c, const char *s, size_t n)
{
    while (n > 0) {
        const char *nl = c->env.pty ? memchr(s, '\n', n) : NULL;
        size_t k = nl ? (size_t)(nl - s) : n;
        cli_out_raw(c, s, k);
        if (!nl)
            break;
        cli_out_raw(c, "\r\n", 2);
        s += k + 1;
        n -= k + 1;
    }
}

void cli_out_str(struct cli *c, const char *s)
{
    cli_out_text(c, s, strlen(s));
}

void cli_out_fmt(struct cli *c, const char *fmt, ...)
{
    char buf[LIM_CLI_LINE_LEN + 256];   /* a whole line (ambiguous) or a path and more */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    cli_out_text(c, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

int cli_out_err(struct cli *c, const struct scpd_err *err)
{
    cli_out_fmt(c, "%s\n", err->msg);
    return 1;
}

void cli_hostname(struct cli *c, char *buf, size_t cap)
{
    const struct store_snap *snap = c->env.store ? store_snapshot(c->env.store) : NULL;
    snprintf(buf, cap, "%s", snap && snap->cfg->hostname[0] ? snap->cfg->hostname
                                                            : CFG_DEFAULT_HOSTNAME);
    if (snap)
        store_snap_release(snap);
}

/* IOS: '>' in user EXEC (levels 0 and 1), '#' at levels 2-15 (a custom level shows '#' too). */
static void prompt(struct cli *c)
{
    char host[CFG_NAME_MAX];
    if (c->cfgt != NULL && cfg_term_prompt(c->cfgt) == NULL) {
        c->prompt_len = 0;   /* the text lines of a banner: no prompt (IOS) */
        return;
    }
    cli_hostname(c, host, sizeof(host));
    size_t n = strlen(host);
    cli_out_raw(c, host, n);
    if (c->cfgt != NULL) {   /* R1(config-line)# */
        const char *m = cfg_term_prompt(c->cfgt);
        cli_out_raw(c, "(", 1);
        cli_out_raw(c, m, strlen(m));
        cli_out_raw(c, ")", 1);
        n += strlen(m) + 2;
    }
    cli_out_raw(c, c->privilege > 1 ? "#" : ">", 1);
    c->prompt_len = n + 1;
}

/* ---- parsing --------------------------------------------------------------------------------- */

enum parse_result { P_OK = 0, P_INVALID, P_AMBIGUOUS, P_INCOMPLETE };

struct parse {
    enum parse_result res;
    const struct cli_cmd *cmd;
    size_t col;             /* P_INVALID: the caret's column */
    size_t argw;            /* index of the first argument word */
};

static size_t split_words(const char *line, size_t len, struct cli_word *w, size_t max,
                          bool *too_many)
{
    size_t n = 0, i = 0;
    *too_many = false;
    for (;;) {
        while (i < len && line[i] == ' ')
            i++;
        if (i >= len)
            break;
        if (n == max) {
            *too_many = true;
            w[max - 1].col = i;   /* the caret goes under the first word not taken */
            break;
        }
        w[n].s = line + i;
        w[n].col = i;
        while (i < len && line[i] != ' ')
            i++;
        w[n].len = (size_t)(line + i - w[n].s);
        n++;
    }
    return n;
}

static bool prefix_of(const struct cli_word *w, const char *kw)
{
    return w->len <= strlen(kw) && strncasecmp(w->s, kw, w->len) == 0;
}

static void cand_init(bool *cand, int privilege)
{
    for (size_t i = 0; i < cli_ncmds; i++)
        cand[i] = cli_cmds[i].privilege <= privilege;
}

enum narrow_res { N_KEYWORDS, N_ARGS, N_INVALID, N_AMBIGUOUS };

/* Matches words w[0..nw) as keywords, level by level, narrowing cand (the rows still possible): a
 * word that is exactly a keyword wins; otherwise it must be the prefix of exactly one distinct
 * keyword. When no keyword of a level fits, a row whose keywords end there takes the remaining
 * words as its arguments (N_ARGS, *done). *level: the level reached (N_INVALID: the word that
 * fits nothing). N_KEYWORDS: every word was a keyword. */
static enum narrow_res narrow(const struct cli_word *w, size_t nw, bool *cand, size_t *level,
                              const struct cli_cmd **done)
{
    for (size_t k = 0; k < nw; k++) {
        const char *exact = NULL, *match = NULL;
        bool several = false;
        *level = k;
        *done = NULL;
        /* k <= CLI_MAX_KW here: at level CLI_MAX_KW every keyword list has ended, so a
         * candidate is done and the words left are its arguments */
        for (size_t i = 0; i < cli_ncmds; i++) {
            const char *kw = cand[i] ? cli_cmds[i].kw[k] : NULL;
            if (cand[i] && kw == NULL)
                *done = &cli_cmds[i];
            if (kw == NULL || !prefix_of(&w[k], kw))
                continue;
            if (w[k].len == strlen(kw))
                exact = kw;
            else if (match && strcmp(match, kw) != 0)
                several = true;
            else
                match = kw;
        }
        if (several && !exact)
            return N_AMBIGUOUS;
        const char *pick = exact ? exact : match;
        if (pick == NULL)
            return *done ? N_ARGS : N_INVALID;
        for (size_t i = 0; i < cli_ncmds; i++)
            if (cand[i] && (cli_cmds[i].kw[k] == NULL || strcmp(cli_cmds[i].kw[k], pick) != 0))
                cand[i] = false;
    }
    *level = nw;
    return N_KEYWORDS;
}

/* The row whose keywords end at level k, among cand (NULL: none). */
static const struct cli_cmd *ends_at(const bool *cand, size_t k)
{
    for (size_t i = 0; i < cli_ncmds && k <= CLI_MAX_KW; i++)
        if (cand[i] && cli_cmds[i].kw[k] == NULL)
            return &cli_cmds[i];
    return NULL;
}

static struct parse parse_words(const struct cli_word *w, size_t nw, int privilege)
{
    bool cand[CLI_MAX_CMDS];
    struct parse r = {.res = P_OK};
    size_t k = 0;
    const struct cli_cmd *done = NULL;
    cand_init(cand, privilege);
    switch (narrow(w, nw, cand, &k, &done)) {
    case N_AMBIGUOUS:
        r.res = P_AMBIGUOUS;
        break;
    case N_INVALID:
        r.res = P_INVALID;
        r.col = w[k].col;
        break;
    case N_ARGS:
        r.cmd = done;
        r.argw = k;
        break;
    case N_KEYWORDS:
        r.cmd = ends_at(cand, nw);
        r.argw = nw;
        if (r.cmd == NULL)
            r.res = P_INCOMPLETE;
        break;
    }
    return r;
}

/* The arguments after the keywords, checked against the row's kind. */
static struct parse parse_args(struct parse r, const struct cli_word *w, size_t nw, char *arg,
                               size_t cap, long *num)
{
    size_t left = nw - r.argw;
    const struct cli_word *a = &w[r.argw];
    size_t allowed = r.cmd->arg == ARG_NONE ? 0 : 1;
    arg[0] = '\0';
    if (r.cmd->arg == ARG_REST) {   /* the words as typed, from the first to the last */
        size_t n = left ? (size_t)(w[nw - 1].s + w[nw - 1].len - a->s) : 0;
        if (n >= cap) {
            r.res = P_INVALID;
            r.col = a->col;
            return r;
        }
        memcpy(arg, left ? a->s : "", n);
        arg[n] = '\0';
        return r;
    }
    if (left > allowed) {
        r.res = P_INVALID;
        r.col = a[allowed].col;
        return r;
    }
    if (left == 0) {
        if (r.cmd->arg == ARG_NUM || r.cmd->arg == ARG_PATH)
            r.res = P_INCOMPLETE;
        return r;
    }
    if (a->len >= cap) {
        r.res = P_INVALID;
        r.col = a->col;
        return r;
    }
    memcpy(arg, a->s, a->len);
    arg[a->len] = '\0';
    if (r.cmd->arg == ARG_NUM) {
        char *end = NULL;
        long v = -1;
        if (a->len <= 9 && isdigit((unsigned char)arg[0]))
            v = strtol(arg, &end, 10);
        if (!end || *end || v < r.cmd->min || v > r.cmd->max) {
            r.res = P_INVALID;
            r.col = a->col;
            return r;
        }
        *num = v;
    }
    return r;
}

static struct parse parse_line(const char *line, size_t len, int privilege, char *arg, size_t cap,
                               long *num)
{
    struct cli_word w[LIM_CLI_WORDS];
    bool too_many;
    size_t nw = split_words(line, len, w, LIM_CLI_WORDS, &too_many);
    struct parse r = parse_words(w, nw, privilege);
    if (r.res == P_OK)
        r = parse_args(r, w, nw, arg, cap, num);
    if (r.res == P_OK && too_many) {
        r.res = P_INVALID;
        r.col = w[LIM_CLI_WORDS - 1].col;
    }
    return r;
}

/* IOS's marker under column col of the line (in an exec request, with the line above it: no
 * echo put it on the screen). */
void cli_invalid_at(struct cli *c, const char *line, size_t len, size_t col, const char *why)
{
    if (c->exec) {
        cli_out_text(c, line, len);
        cli_out_str(c, "\n");
    }
    for (size_t i = 0; i < col; i++)
        cli_out_raw(c, " ", 1);
    if (why != NULL && why[0] != '\0')
        cli_out_fmt(c, "^\n%% Invalid input detected at '^' marker: %s\n\n", why);
    else
        cli_out_str(c, "^\n% Invalid input detected at '^' marker.\n\n");
}

static void invalid_at(struct cli *c, const char *line, size_t len, size_t col)
{
    cli_invalid_at(c, line, len, col, NULL);
}

static int run_command(struct cli *c, const char *line, size_t len, size_t caret_offset);

/* ---- output modifiers (| include ...) -------------------------------------------------------- */

enum filt_kind { F_INCLUDE, F_EXCLUDE, F_BEGIN, F_SECTION, F_COUNT };

static const struct {
    const char *kw;
    enum filt_kind kind;
} cli_filters[] = {
    {"begin", F_BEGIN}, {"count", F_COUNT}, {"exclude", F_EXCLUDE}, {"include", F_INCLUDE},
    {"section", F_SECTION},
};

struct cli_filter {
    enum filt_kind kind;
    regex_t re;
};

/* Why expression e must not reach glibc's regcomp/regexec, or NULL. Back-references make
 * regexec backtrack; stacked repeats (`s?++++`) and intervals make regcomp's automaton grow
 * exponentially (measured: 14 stacked '+' took over 1 GB); regcomp recurses once per nested
 * group. Bracket expressions are literal. */
static const char *regex_unsafe(const char *e)
{
    bool repeat = false;
    int depth = 0;
    if (strlen(e) > LIM_CLI_REGEX_LEN)
        return "longer than " LIM_STR(LIM_CLI_REGEX_LEN) " characters";
    for (size_t i = 0; e[i] != '\0'; i++) {
        char ch = e[i];
        if (ch == '(' && ++depth > LIM_CLI_REGEX_DEPTH)
            return "groups nested deeper than " LIM_STR(LIM_CLI_REGEX_DEPTH) " levels";
        if (ch == ')' && depth > 0)
            depth--;
        if (ch == '\\') {
            if (e[i + 1] >= '1' && e[i + 1] <= '9')
                return "back-references are not supported";
            if (e[i + 1] != '\0')
                i++;
            repeat = false;
            continue;
        }
        if (ch == '[') {   /* to its closing ']', past a leading '^' or ']' and [:class:] */
            size_t j = i + 1;
            if (e[j] == '^')
                j++;
            if (e[j] == ']')
                j++;
            while (e[j] != '\0' && e[j] != ']') {
                if (e[j] == '[' && (e[j + 1] == ':' || e[j + 1] == '.' || e[j + 1] == '=')) {
                    const char *end = strchr(e + j + 2, e[j + 1]);
                    while (end != NULL && end[1] != ']')
                        end = strchr(end + 1, e[j + 1]);
                    if (end == NULL)
                        return NULL;   /* unbalanced: regcomp says so */
                    j = (size_t)(end - e) + 2;
                    continue;
                }
                j++;
            }
            if (e[j] == '\0')
                return NULL;
            i = j;
            repeat = false;
            continue;
        }
        if (ch == '{')
            return "intervals {n,m} are not supported";
        bool q = ch == '*' || ch == '+' || ch == '?';
        if (q && repeat)
            return "a repeat of a repeat (such as ++ or *?) is not supported";
        repeat = q;
    }
    return NULL;
}

/* Parses what follows the '|' at line[bar]. 0 with f compiled (regfree it), or 1 after writing
 * the reason (a caret under the word, as for commands). */
static int filter_parse(struct cli *c, const char *line, size_t len, size_t bar,
                        size_t caret_offset, struct cli_filter *f)
{
    size_t i = bar + 1, kw_at, kw_len;
    while (i < len && line[i] == ' ')
        i++;
    kw_at = i;
    while (i < len && line[i] != ' ')
        i++;
    kw_len = i - kw_at;
    /* the modifiers' first letters differ, so a word fits one at most (no ambiguity) */
    struct cli_word w = {.s = line + kw_at, .len = kw_len, .col = kw_at};
    const char *pick = NULL;
    for (size_t k = 0; kw_len > 0 && k < sizeof cli_filters / sizeof cli_filters[0]; k++)
        if (prefix_of(&w, cli_filters[k].kw)) {
            pick = cli_filters[k].kw;
            f->kind = cli_filters[k].kind;
        }
    while (i < len && line[i] == ' ')
        i++;
    if (pick == NULL) {
        invalid_at(c, line, len, caret_offset + kw_at);
        return 1;
    }
    if (i == len) {
        cli_out_str(c, "% Incomplete command.\n\n");
        return 1;
    }
    char expr[LIM_CLI_LINE_LEN + 1];
    memcpy(expr, line + i, len - i);
    expr[len - i] = '\0';
    const char *unsafe = regex_unsafe(expr);
    if (unsafe != NULL) {
        cli_out_fmt(c, "%% Invalid regular expression: %s\n", unsafe);
        return 1;
    }
    int rc = regcomp(&f->re, expr, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, &f->re, why, sizeof why);
        cli_out_fmt(c, "%% Invalid regular expression: %s\n", why);
        return 1;
    }
    return 0;
}

/* Keeps the lines of c->out[from..] that f selects (output lines end in "\n" or "\r\n"). */
static void filter_apply(struct cli *c, size_t from, const struct cli_filter *f)
{
    size_t n = c->out_len - from;
    if (n == 0)
        return;   /* nothing to filter (and c->out may still be NULL) */
    char *text = malloc(n + 1);
    if (text == NULL) {
        c->oom = true;
        return;
    }
    memcpy(text, c->out + from, n);
    text[n] = '\0';
    c->out_len = from;
    bool begun = false, in_section = false;
    unsigned long count = 0;
    for (char *p = text; p < text + n;) {
        char *nl = memchr(p, '\n', (size_t)(text + n - p));
        char *end = nl ? nl + 1 : text + n;
        size_t body = (size_t)((nl ? nl : end) - p);
        if (body > 0 && p[body - 1] == '\r')
            body--;
        char keep = p[body];
        p[body] = '\0';   /* regexec wants a string: the line without its end, for a moment */
        bool hit = regexec(&f->re, p, 0, NULL, 0) == 0;
        p[body] = keep;
        bool child = body > 0 && p[0] == ' ';
        bool show = false;
        switch (f->kind) {
        case F_INCLUDE: show = hit; break;
        case F_EXCLUDE: show = !hit; break;
        case F_BEGIN: show = begun = begun || hit; break;
        case F_SECTION:
            /* a matching line and the indented lines under it */
            in_section = hit || (in_section && child);
            show = in_section;
            break;
        case F_COUNT: count += hit; break;
        }
        if (show)
            cli_out_raw(c, p, (size_t)(end - p));
        p = end;
    }
    free(text);
    if (f->kind == F_COUNT)
        cli_out_fmt(c, "Number of lines which match regexp = %lu\n", count);
}

static void log_form(const char *line, size_t len, char *out, size_t cap);

static void log_rejected(struct cli *c, const char *line, size_t len)
{
    char shown[LIM_CLI_LINE_LEN + 16];
    log_form(line, len, shown, sizeof(shown));
    log_info(&c->lc, "cli: rejected: %s", shown);
}

/* Authorization follows the account: before each command the account is re-checked (cheap
 * while the config does not change). A changed level applies at once, with a word to the user;
 * a deleted or re-keyed account ends the session with the reason. 0, or -1 (the session ends). */
static int recheck(struct cli *c)
{
    const struct chan_authz *a = c->env.authz;
    char why[256];
    int level = c->granted;
    if (a == NULL)
        return 0;
    if (a->check(a->arg, &level, why, sizeof(why)) != 0) {
        log_notice(&c->lc, "cli: session ended: %s", why);
        cli_out_fmt(c, "%% %s\n", why);
        c->ended = true;
        return -1;
    }
    if (level != c->granted) {
        log_notice(&c->lc, "cli: privilege level %d -> %d (the account changed)", c->granted,
                   level);
        cli_out_fmt(c, "%% Your privilege level is now %d (username %s privilege %d)\n", level,
                    c->env.user ? c->env.user : "?", level);
        c->granted = level;
        c->privilege = level < 0 ? 0 : level > 15 ? 15 : level;
    }
    return 0;
}

/* Runs one line (already free of control characters). Returns 0, or 1 when refused/failed. */
static int run_line(struct cli *c, const char *line, size_t len, size_t caret_offset)
{
    size_t blank = 0;
    while (blank < len && line[blank] == ' ')
        blank++;
    if (blank < len && recheck(c) < 0)
        return 1;
    if (c->cfgt != NULL)
        return cli_config_line(c, line, len, caret_offset);
    return cli_exec_line(c, line, len, caret_offset);
}

int cli_exec_line(struct cli *c, const char *line, size_t len, size_t caret_offset)
{
    const char *bar = memchr(line, '|', len);
    if (bar != NULL) {
        struct cli_filter f;
        size_t at = (size_t)(bar - line), from;
        if (filter_parse(c, line, len, at, caret_offset, &f) != 0) {
            log_rejected(c, line, len);
            return 1;
        }
        size_t k = 0;
        while (k < at && line[k] == ' ')
            k++;
        if (k == at) {   /* a modifier with no command before it */
            regfree(&f.re);
            invalid_at(c, line, len, caret_offset + at);
            log_rejected(c, line, len);
            return 1;
        }
        from = c->out_len;
        int rc = run_command(c, line, at, caret_offset);
        if (rc == 0)
            filter_apply(c, from, &f);
        regfree(&f.re);
        return rc;
    }
    return run_command(c, line, len, caret_offset);
}

/* The line as it may be logged: a password in a URL (`copy scp://user:PASSWORD@host/f ...`)
 * becomes "*****". */
static void log_form(const char *line, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap;) {
        if (i + 3 <= len && memcmp(line + i, "://", 3) == 0) {
            size_t a = i + 3, end = a, at = 0, colon = 0;
            while (end < len && line[end] != '/' && line[end] != ' ')
                end++;
            for (size_t k = a; k < end; k++)
                if (line[k] == '@')
                    at = k;
            for (size_t k = a; at && k < at && !colon; k++)
                if (line[k] == ':')
                    colon = k;
            if (colon) {
                int n = snprintf(out + o, cap - o, "%.*s*****", (int)(colon + 1 - i), line + i);
                o = n > 0 && (size_t)n < cap - o ? o + (size_t)n : cap - 1;
                i = at;
                continue;
            }
        }
        out[o++] = line[i++];
    }
    out[o] = '\0';
}

/* Runs one command (no output modifier). Returns 0, or 1 when refused/failed. */
static int run_command(struct cli *c, const char *line, size_t len, size_t caret_offset)
{
    char arg[LIM_CLI_LINE_LEN + 1];
    long num = 0;
    size_t lead = 0;
    while (lead < len && line[lead] == ' ')
        lead++;
    if (lead == len)
        return 0;
    char shown[LIM_CLI_LINE_LEN + 16];
    log_form(line + lead, len - lead, shown, sizeof(shown));
    struct parse r = parse_line(line, len, c->privilege, arg, sizeof(arg), &num);
    if (r.res == P_OK) {
        log_info(&c->lc, "cli: %s", shown);
        int rc = r.cmd->run(c, r.cmd, arg[0] ? arg : NULL, num);
        explicit_bzero(arg, sizeof(arg));
        if (r.cmd->privilege >= 15 && c->env.on_command != NULL)
            c->env.on_command(c->env.on_command_arg, shown, r.cmd->privilege);
        return rc;
    }
    /* Why it failed, for the admin reading the log: the command exists at a higher level. */
    char arg2[LIM_CLI_LINE_LEN + 1];
    struct parse all = parse_line(line, len, 15, arg2, sizeof(arg2), &num);
    if (all.res == P_OK && all.cmd->privilege > c->privilege)
        log_notice(&c->lc, "cli: refused (privilege %d, the command needs %d): %s",
                   c->privilege, all.cmd->privilege, shown);
    else
        log_info(&c->lc, "cli: rejected: %s", shown);
    switch (r.res) {
    case P_INVALID:
        invalid_at(c, line, len, caret_offset + r.col);
        break;
    case P_AMBIGUOUS:
        cli_out_fmt(c, "%% Ambiguous command:  \"%.*s\"\n", (int)(len - lead), line + lead);
        break;
    case P_INCOMPLETE:
        cli_out_str(c, "% Incomplete command.\n\n");
        break;
    case P_OK:
        break;
    }
    return 1;
}

/* ---- `?` help -------------------------------------------------------------------------------- */

/* One help line: "  keyword  description", the descriptions aligned at width. */
static void help_line(struct cli *c, const char *name, const char *desc, size_t width)
{
    cli_out_fmt(c, "  %-*s  %s\n", (int)width, name, desc ? desc : "");
}

/* The argument of cmd when args words of it are typed: IOS shows the argument's form, and
 * "<cr>" where the command may end. */
static void help_args(struct cli *c, const struct cli_cmd *cmd, size_t args, bool partial)
{
    char form[32] = "WORD";
    size_t allowed = cmd->arg == ARG_NONE ? 0 : 1;
    if (cmd->arg == ARG_NUM)
        snprintf(form, sizeof(form), "<%ld-%ld>", cmd->min, cmd->max);
    bool rest = cmd->arg == ARG_REST;
    bool arg = rest || args < allowed || (partial && args == allowed && allowed > 0);
    bool cr = !partial && (rest || args >= allowed || cmd->arg == ARG_PATH_OPT);
    if (arg)
        help_line(c, form, cmd->arg_help, strlen(form) > 4 ? strlen(form) : 4);
    if (cr)
        cli_out_str(c, "  <cr>\n");
    if (!arg && !cr)
        cli_out_str(c, "% Unrecognized command\n");
}

/* The keywords possible at level k among cand (those starting with the partial word p, if any),
 * each once, in table order (alphabetical). Returns how many. */
static size_t help_keywords(struct cli *c, const bool *cand, size_t k, const struct cli_word *p)
{
    size_t width = 0, n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cli_ncmds; i++) {
            const char *kw = cand[i] ? cli_cmds[i].kw[k] : NULL;
            bool seen = false;
            if (kw == NULL || (p && !prefix_of(p, kw)))
                continue;
            for (size_t j = 0; j < i && !seen; j++)
                seen = cand[j] && cli_cmds[j].kw[k] && strcmp(cli_cmds[j].kw[k], kw) == 0;
            if (seen)
                continue;
            if (pass == 0) {
                width = strlen(kw) > width ? strlen(kw) : width;
                n++;
            } else if (p) {
                cli_out_fmt(c, "%s  ", kw);   /* completions: IOS lists names only */
            } else {
                help_line(c, kw, cli_cmds[i].help[k], width);
            }
        }
    }
    if (p && n)
        cli_out_str(c, "\n");
    return n;
}

/* `?` typed (IOS context help): what may come next at this point of the line, or the keywords
 * that complete the word under the cursor; then the prompt and the line again. Commands above
 * the user's level are not shown, as they are not accepted. */
static void help(struct cli *c)
{
    if (c->cfgt != NULL) {
        cli_out_str(c, c->env.pty ? "?\n" : "\n");
        cli_config_help(c);
        cli_out_str(c, "\n");
        prompt(c);
        cli_out_raw(c, c->line, c->len);
        return;
    }
    struct cli_word w[LIM_CLI_WORDS];
    bool too_many, cand[CLI_MAX_CMDS];
    size_t nw = split_words(c->line, c->len, w, LIM_CLI_WORDS, &too_many);
    bool partial = c->len > 0 && c->line[c->len - 1] != ' ';
    size_t full = partial ? nw - 1 : nw, k = 0;
    const struct cli_cmd *done = NULL;
    cand_init(cand, c->privilege);
    if (c->env.pty)
        cli_out_raw(c, "?", 1);
    cli_out_str(c, "\n");
    enum narrow_res res = too_many ? N_INVALID : narrow(w, full, cand, &k, &done);
    if (res == N_AMBIGUOUS) {
        cli_out_fmt(c, "%% Ambiguous command:  \"%.*s\"\n", (int)c->len, c->line);
    } else if (res == N_INVALID) {
        cli_out_str(c, "% Unrecognized command\n");
    } else if (res == N_ARGS) {
        help_args(c, done, full - k, partial);
    } else if (!partial) {
        if (k == 0)
            cli_out_str(c, "Exec commands:\n");
        help_keywords(c, cand, k, NULL);
        if ((done = ends_at(cand, k)) != NULL)
            help_args(c, done, 0, false);
    } else if (help_keywords(c, cand, k, &w[full]) == 0) {
        if ((done = ends_at(cand, k)) != NULL && done->arg != ARG_NONE)
            help_args(c, done, 0, true);
        else
            cli_out_str(c, "% Unrecognized command\n");
    }
    cli_out_str(c, "\n");
    prompt(c);
    cli_out_raw(c, c->line, c->len);
}

/* ---- line discipline ------------------------------------------------------------------------- */

/* Gives the pending question its answer. Returns what the answer's handler returned. */
static int answer(struct cli *c, const char *text)
{
    struct cli_question q = c->ask;
    memset(&c->ask, 0, sizeof(c->ask));
    return q.fn(c, q.arg, text);
}

/* What comes after a line ran: the question asked meanwhile, nothing while an operation runs
 * (cli_poll shows the prompt at its end), or the prompt. */
static void next_prompt(struct cli *c)
{
    if (c->ended || c->op.arg)
        return;
    if (c->ask.fn) {
        cli_out_str(c, c->ask.prompt);
        return;
    }
    prompt(c);
}

static void end_of_line(struct cli *c)
{
    if (c->env.pty)
        cli_out_raw(c, "\r\n", 2);
    if (c->pw_tries > 0) {
        cli_enable_password(c, c->overflow ? "" : c->line, c->overflow ? 0 : c->len);
        OPENSSL_cleanse(c->line, sizeof c->line);
        c->len = 0;
        c->overflow = false;
        if (c->pw_tries == 0)
            prompt(c);
        return;
    }
    if (c->confirm_reload) {
        cli_reload_answer(c, c->line, c->overflow ? 0 : c->len);
    } else if (c->overflow) {
        log_notice(&c->lc, "cli: line over %d characters refused", LIM_CLI_LINE_LEN);
        cli_out_str(c,
                    "% Command line too long (limit " LIM_STR(LIM_CLI_LINE_LEN) " characters)\n");
        if (c->ask.fn) {   /* an answer that long is no answer: the question is dropped */
            if (c->ask.drop)
                c->ask.drop(c->ask.arg);
            memset(&c->ask, 0, sizeof(c->ask));
        }
    } else if (c->ask.fn) {
        c->line[c->len] = '\0';
        answer(c, c->line);
        explicit_bzero(c->line, sizeof(c->line));   /* a password was here */
    } else {
        run_line(c, c->line, c->len, c->prompt_len);
    }
    c->len = 0;
    c->overflow = false;
    if (c->pw_tries == 0 && !c->confirm_reload)
        next_prompt(c);
}

void cli_async_begin(struct cli *c)
{
    if (!c->op.arg)
        cli_out_str(c, "\n");
}

void cli_async_end(struct cli *c)
{
    if (c->op.arg || c->ended)
        return;
    next_prompt(c);
    if (!(c->ask.fn && c->ask.secret))
        cli_out_raw(c, c->line, c->len);
}

/* ^C: a question is abandoned, a running operation cancelled, a half-typed line dropped. */
static void interrupt(struct cli *c)
{
    if (c->op.arg) {
        struct cli_op op = c->op;
        memset(&c->op, 0, sizeof(c->op));
        op.cancel(c, op.arg);
        if (c->exec) {
            c->exec_status = 1;
            c->ended = true;
        }
        next_prompt(c);
        return;
    }
    if (c->ask.fn) {
        if (c->ask.drop)
            c->ask.drop(c->ask.arg);
        memset(&c->ask, 0, sizeof(c->ask));
    }
    explicit_bzero(c->line, sizeof(c->line));
    c->len = 0;
    c->overflow = false;
    if (c->env.pty)
        cli_out_raw(c, "^C\r\n", 4);
    next_prompt(c);
}

static void erase(struct cli *c, size_t n)
{
    for (size_t i = 0; i < n && c->len > 0; i++) {
        c->len--;
        if (c->env.pty && c->pw_tries == 0 && !(c->ask.fn && c->ask.secret))
            cli_out_raw(c, "\b \b", 3);
    }
}

static void feed_byte(struct cli *c, unsigned char b)
{
    bool was_cr = c->after_cr;
    c->after_cr = false;
    if (b == 0x03 || b == 0x1e) {   /* ^C, and IOS's escape sequence Ctrl-^ */
        interrupt(c);
        return;
    }
    if (c->op.arg)
        return;   /* typed while an operation runs: IOS holds it; here it is dropped */
    /* ESC [ ... final or ESC O x (arrow and function keys): dropped whole */
    if (c->esc == ESC_START) {
        c->esc = (b == '[' || b == 'O') ? ESC_CSI : ESC_NONE;
        return;
    }
    if (c->esc == ESC_CSI) {
        if (b >= 0x40 && b <= 0x7e)
            c->esc = ESC_NONE;
        return;
    }
    switch (b) {
    case '\r':
        c->after_cr = true;
        end_of_line(c);
        return;
    case '\n':
        if (!was_cr)
            end_of_line(c);
        return;
    case 0x08:
    case 0x7f:
        erase(c, 1);
        return;
    case 0x15:   /* ^U */
        erase(c, c->len);
        return;
    case 0x1b:
        c->esc = ESC_START;
        return;
    case 0x1a:   /* ^Z: IOS runs the line typed so far, then leaves configuration mode */
        if (c->cfgt != NULL) {
            if (c->env.pty)
                cli_out_raw(c, "^Z\r\n", 4);
            if (c->len > 0 && !c->overflow)
                run_line(c, c->line, c->len, c->prompt_len);
            c->len = 0;
            c->overflow = false;
            if (c->cfgt != NULL)
                cli_config_end(c);
            prompt(c);
        }
        return;
    case '?':   /* IOS: always help, never part of a command (but of a password) */
        if (c->pw_tries > 0 || c->ask.fn)
            break;
        help(c);
        return;
    default:
        break;
    }
    if (b < 0x20 || b > 0x7e)
        return;   /* tab, other controls, bytes beyond ASCII: IOS has no use for them here */
    if (c->len >= LIM_CLI_LINE_LEN) {
        if (!c->overflow && c->env.pty)
            cli_out_raw(c, "\a", 1);
        c->overflow = true;
        return;
    }
    c->line[c->len++] = (char)b;
    if (c->env.pty && c->pw_tries == 0 && !(c->ask.fn && c->ask.secret))   /* not echoed */
        cli_out_raw(c, (const char *)&b, 1);
}

/* ---- interface ------------------------------------------------------------------------------- */

struct cli *cli_new(const struct cli_env *env)
{
    struct cli *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->env = *env;
    c->privilege = env->privilege < 0 ? 0 : env->privilege > 15 ? 15 : env->privilege;
    c->granted = env->privilege;
    c->term_length = 24;   /* IOS vty defaults */
    c->term_width = 80;
    c->lc.sid = env->sid;
    c->lc.user = env->user;
    c->lc.peer = env->peer;
    return c;
}

void cli_free(struct cli *c)
{
    if (!c)
        return;
    cfg_term_free(c->cfgt);
    cli_abort(c);
    cli_monitor_stop(c);
    free(c->out);
    explicit_bzero(c->line, sizeof(c->line));
    free(c);
}

int cli_start(struct cli *c)
{
    /* banner motd: the session's first lines, as IOS shows them after a login */
    const struct store_snap *snap = c->env.store ? store_snapshot(c->env.store) : NULL;
    if (snap != NULL) {
        const char *b = snap->cfg->banner_motd;
        b += b[0] == '\n';
        if (b[0] != '\0') {
            cli_out_str(c, b);
            if (b[strlen(b) - 1] != '\n')
                cli_out_str(c, "\n");
        }
        store_snap_release(snap);
    }
    prompt(c);
    return c->oom ? -1 : CLI_MORE;
}

int cli_feed(struct cli *c, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    for (size_t i = 0; i < len && !c->ended; i++)
        feed_byte(c, p[i]);
    if (c->oom)
        return -1;
    return c->ended ? CLI_END : c->op.arg ? CLI_BUSY : CLI_MORE;
}

int cli_eof(struct cli *c)
{
    if (c->op.arg || c->ask.fn) {   /* the peer left mid-question or mid-copy */
        cli_abort(c);
        c->ended = true;
        return c->oom ? -1 : CLI_END;
    }
    if (!c->ended && c->overflow)
        cli_out_str(c,
                    "\n% Command line too long (limit " LIM_STR(LIM_CLI_LINE_LEN) " characters)\n");
    else if (!c->ended && c->len > 0) {
        if (c->env.pty)
            cli_out_raw(c, "\r\n", 2);
        run_line(c, c->line, c->len, c->prompt_len);
    }
    c->ended = true;
    return c->oom ? -1 : CLI_END;
}

int cli_exec(struct cli *c, const char *line)
{
    size_t len = strlen(line);
    int rc;
    if (len > LIM_CLI_LINE_LEN) {
        log_notice(&c->lc, "cli: line over %d characters refused", LIM_CLI_LINE_LEN);
        cli_out_str(c,
                    "% Command line too long (limit " LIM_STR(LIM_CLI_LINE_LEN) " characters)\n");
        rc = 1;
    } else {
        /* the same filter as typed input: nothing but printable ASCII reaches the parser */
        char clean[LIM_CLI_LINE_LEN + 1];
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
            clean[n++] = (line[i] >= 0x20 && line[i] <= 0x7e) ? line[i] : ' ';
        clean[n] = '\0';
        c->exec = true;
        rc = run_line(c, clean, n, 0);
        while (c->ask.fn && !c->oom)   /* no one to answer: the defaults */
            rc = answer(c, "");
    }
    c->exec_status = rc;
    if (c->op.arg && !c->oom)
        return CLI_BUSY;
    c->ended = true;
    return c->oom ? -1 : rc;
}

int cli_exec_status(const struct cli *c)
{
    return c->exec_status;
}

/* ---- questions and long operations ----------------------------------------------------------- */

void cli_ask(struct cli *c, const char *question, bool secret, cli_answer_fn fn, void *arg,
             void (*drop)(void *arg))
{
    c->ask.fn = fn;
    c->ask.arg = arg;
    c->ask.drop = drop;
    c->ask.secret = secret;
    snprintf(c->ask.prompt, sizeof(c->ask.prompt), "%s", question);
}

bool cli_confirmed(const char *a)
{
    while (*a == ' ')
        a++;
    size_t n = strlen(a);
    while (n > 0 && a[n - 1] == ' ')
        n--;
    return n == 0 || (n <= 3 && strncasecmp(a, "yes", n) == 0);
}

size_t cli_split(char *s, char **words, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *w = strtok_r(s, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (n == max)
            return max + 1;
        words[n++] = w;
    }
    return n;
}

void cli_run_op(struct cli *c, int (*step)(struct cli *c, void *arg),
                void (*cancel)(struct cli *c, void *arg), void *arg)
{
    c->op.step = step;
    c->op.cancel = cancel;
    c->op.arg = arg;
}

bool cli_wants_poll(const struct cli *c)
{
    return c->op.arg != NULL || c->monitor != NULL;
}

int cli_poll(struct cli *c)
{
    if (c->monitor)
        cli_monitor_drain(c);
    if (c->op.arg) {
        int rc = c->op.step(c, c->op.arg);
        if (rc != CLI_OP_MORE) {
            memset(&c->op, 0, sizeof(c->op));
            c->exec_status = rc;
            if (c->exec)
                c->ended = true;
            next_prompt(c);
        }
    }
    if (c->oom)
        return -1;
    return c->ended ? CLI_END : c->op.arg ? CLI_BUSY : CLI_MORE;
}

void cli_abort(struct cli *c)
{
    if (c->op.arg) {
        struct cli_op op = c->op;
        memset(&c->op, 0, sizeof(c->op));
        op.cancel(c, op.arg);
        c->exec_status = 1;
    }
    if (c->ask.fn) {
        if (c->ask.drop)
            c->ask.drop(c->ask.arg);
        memset(&c->ask, 0, sizeof(c->ask));
    }
}

const char *cli_out(const struct cli *c, size_t *len)
{
    *len = c->out_len;
    return c->out ? c->out : "";
}

void cli_out_clear(struct cli *c)
{
    c->out_len = 0;
}
