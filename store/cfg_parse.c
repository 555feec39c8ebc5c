/* cfg_parse: applying configuration text. One pass over the lines builds the new config on a
 * private working copy while collecting every error; the copy is returned only if no line failed,
 * so a bad file changes nothing (unlike IOS, which applies line by line).
 *
 * Each line is split into words and matched against the command table (cfg_cmds.c) in the current
 * mode; a line that no command of a sub-mode accepts is retried in the parent mode, as IOS exits a
 * sub-mode implicitly. Keywords must be given in full (IOS's unique abbreviations such as
 * "usern" are not accepted: the files we read are renderings and scripts, not typing).
 *
 * Users and pubkey-chain users are kept during the pass in append-only arrays with a hash index
 * (deleted entries are tombstoned), then compacted and sorted once at the end: a 10,000-user file
 * costs O(n log n), not a memmove per line.
 */
#include "store/cfg.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "store/cfg_int.h"

/* ---- name index ------------------------------------------------------------------------------ */

#define SLOT_EMPTY (-1)
#define SLOT_DEAD (-2)

struct name_index {
    int32_t *slot;
    size_t cap;     /* power of two */
    size_t used;    /* live + dead slots */
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* Elements are records starting with char name[CFG_NAME_MAX], stride bytes apart. */
static const char *elem_name(const void *base, size_t stride, int32_t i)
{
    return (const char *)base + (size_t)i * stride;
}

static int32_t idx_find(const struct name_index *x, const void *base, size_t stride,
                        const char *name)
{
    if (x->cap == 0)
        return -1;
    for (size_t i = (size_t)fnv(name) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
        int32_t s = x->slot[i];
        if (s == SLOT_EMPTY)
            return -1;
        if (s >= 0 && strcmp(elem_name(base, stride, s), name) == 0)
            return s;
    }
}

static int idx_rebuild(struct name_index *x, const void *base, size_t stride, size_t n,
                       size_t want)
{
    size_t cap = 64;
    while (cap < 2 * want)
        cap *= 2;
    int32_t *slot = malloc(cap * sizeof *slot);
    if (slot == NULL)
        return -1;
    memset(slot, 0xff, cap * sizeof *slot); /* SLOT_EMPTY */
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        const char *nm = elem_name(base, stride, (int32_t)k);
        if (nm[0] == '\0')
            continue; /* deleted */
        size_t i = (size_t)fnv(nm) & (cap - 1);
        while (slot[i] != SLOT_EMPTY)
            i = (i + 1) & (cap - 1);
        slot[i] = (int32_t)k;
        used++;
    }
    free(x->slot);
    x->slot = slot;
    x->cap = cap;
    x->used = used;
    return 0;
}

/* Adds element k (not yet indexed; elements 0..k-1 are). */
static int idx_add(struct name_index *x, const void *base, size_t stride, int32_t k)
{
    if (2 * (x->used + 1) > x->cap && idx_rebuild(x, base, stride, (size_t)k, x->used + 1) != 0)
        return -1;
    size_t i = (size_t)fnv(elem_name(base, stride, k)) & (x->cap - 1);
    while (x->slot[i] >= 0)
        i = (i + 1) & (x->cap - 1);
    if (x->slot[i] == SLOT_EMPTY)
        x->used++;
    x->slot[i] = k;
    return 0;
}

static void idx_del(struct name_index *x, const void *base, size_t stride, const char *name)
{
    if (x->cap == 0)
        return;
    for (size_t i = (size_t)fnv(name) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
        int32_t s = x->slot[i];
        if (s == SLOT_EMPTY)
            return;
        if (s >= 0 && strcmp(elem_name(base, stride, s), name) == 0) {
            x->slot[i] = SLOT_DEAD;
            return;
        }
    }
}

/* ---- working copy ---------------------------------------------------------------------------- */

struct cfg_work {
    struct cfg *c;
    size_t cap_users, cap_pkusers;
    size_t live_users, live_pkusers;
    struct name_index ux, px;
    char cur_pk[CFG_NAME_MAX];  /* pubkey-chain user being configured */
};

static int work_init(struct cfg_work *w, struct cfg *c)
{
    memset(w, 0, sizeof *w);
    w->c = c;
    w->cap_users = w->live_users = c->n_users;
    w->cap_pkusers = w->live_pkusers = c->n_pkusers;
    if (idx_rebuild(&w->ux, c->users, sizeof *c->users, c->n_users, c->n_users) != 0 ||
        idx_rebuild(&w->px, c->pkusers, sizeof *c->pkusers, c->n_pkusers, c->n_pkusers) != 0)
        return -1;
    return 0;
}

static void work_fini(struct cfg_work *w)
{
    free(w->ux.slot);
    free(w->px.slot);
}

/* Drops tombstoned entries and sorts; the arrays become the model's sorted arrays. */
static void work_finish(struct cfg_work *w)
{
    struct cfg *c = w->c;
    size_t k = 0;
    for (size_t i = 0; i < c->n_users; i++)
        if (c->users[i].name[0] != '\0')
            c->users[k++] = c->users[i];
    c->n_users = k;
    k = 0;
    for (size_t i = 0; i < c->n_pkusers; i++)
        if (c->pkusers[i].name[0] != '\0')
            c->pkusers[k++] = c->pkusers[i];
    c->n_pkusers = k;
    cfg_sort_users(c);
    cfg_sort_pkusers(c);
    cfg_sort_mlists(c->authn, c->n_authn);
    cfg_sort_mlists(c->authz, c->n_authz);
}

static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, nc * size);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = nc;
    return true;
}

struct cfg_user *cfg_work_user(struct cfg_pctx *p, const char *name, bool create, int col)
{
    struct cfg_work *w = p->w;
    struct cfg *c = w->c;
    int32_t i = idx_find(&w->ux, c->users, sizeof *c->users, name);
    if (i >= 0)
        return &c->users[i];
    if (!create)
        return NULL;
    if (w->live_users >= LIM_CFG_USERS) {
        cfg_fail(p, col, "too many users (at most %d)", LIM_CFG_USERS);
        return NULL;
    }
    if (!grow((void **)&c->users, &w->cap_users, c->n_users, sizeof *c->users)) {
        cfg_fail(p, col, "out of memory");
        return NULL;
    }
    struct cfg_user *u = &c->users[c->n_users];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", name);
    u->privilege = CFG_DEFAULT_PRIVILEGE;
    if (idx_add(&w->ux, c->users, sizeof *c->users, (int32_t)c->n_users) != 0) {
        cfg_fail(p, col, "out of memory");
        return NULL;
    }
    c->n_users++;
    w->live_users++;
    return u;
}

void cfg_work_user_del(struct cfg_pctx *p, const char *name)
{
    struct cfg_work *w = p->w;
    struct cfg *c = w->c;
    int32_t i = idx_find(&w->ux, c->users, sizeof *c->users, name);
    if (i < 0)
        return;
    idx_del(&w->ux, c->users, sizeof *c->users, name);
    OPENSSL_cleanse(&c->users[i], sizeof c->users[i]);
    w->live_users--;
}

struct cfg_pkuser *cfg_work_pkuser(struct cfg_pctx *p, const char *name, bool create, int col)
{
    struct cfg_work *w = p->w;
    struct cfg *c = w->c;
    int32_t i = idx_find(&w->px, c->pkusers, sizeof *c->pkusers, name);
    if (i >= 0)
        return &c->pkusers[i];
    if (!create)
        return NULL;
    if (w->live_pkusers >= LIM_CFG_USERS) {
        cfg_fail(p, col, "too many pubkey-chain users (at most %d)", LIM_CFG_USERS);
        return NULL;
    }
    if (!grow((void **)&c->pkusers, &w->cap_pkusers, c->n_pkusers, sizeof *c->pkusers)) {
        cfg_fail(p, col, "out of memory");
        return NULL;
    }
    struct cfg_pkuser *u = &c->pkusers[c->n_pkusers];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", name);
    if (idx_add(&w->px, c->pkusers, sizeof *c->pkusers, (int32_t)c->n_pkusers) != 0) {
        cfg_fail(p, col, "out of memory");
        return NULL;
    }
    c->n_pkusers++;
    w->live_pkusers++;
    return u;
}

struct cfg_pkuser *cfg_work_pkuser_cur(struct cfg_pctx *p)
{
    return cfg_work_pkuser(p, p->w->cur_pk, false, 0);
}

void cfg_work_pkuser_set_cur(struct cfg_pctx *p, const char *name)
{
    snprintf(p->w->cur_pk, sizeof p->w->cur_pk, "%s", name);
}

void cfg_work_pkuser_del(struct cfg_pctx *p, const char *name)
{
    struct cfg_work *w = p->w;
    struct cfg *c = w->c;
    int32_t i = idx_find(&w->px, c->pkusers, sizeof *c->pkusers, name);
    if (i < 0)
        return;
    idx_del(&w->px, c->pkusers, sizeof *c->pkusers, name);
    c->pkusers[i].name[0] = '\0';
    w->live_pkusers--;
}

void cfg_work_pkuser_clear(struct cfg_pctx *p)
{
    struct cfg_work *w = p->w;
    struct cfg *c = w->c;
    for (size_t i = 0; i < c->n_pkusers; i++)
        c->pkusers[i].name[0] = '\0';
    w->live_pkusers = 0;
    idx_rebuild(&w->px, c->pkusers, sizeof *c->pkusers, c->n_pkusers, 0);
}

/* ---- errors ---------------------------------------------------------------------------------- */

int cfg_fail(struct cfg_pctx *p, int col, const char *fmt, ...)
{
    va_list ap;
    p->err_col = col;
    va_start(ap, fmt);
    vsnprintf(p->err_reason, sizeof p->err_reason, fmt, ap);
    va_end(ap);
    return -1;
}

static void add_error(struct cfg_errors *errs, int lineno, const char *raw, int col,
                      const char *reason)
{
    if (errs == NULL)
        return;
    errs->total++;
    if (errs->n >= LIM_CFG_ERRORS)
        return;
    struct cfg_error *e = &errs->e[errs->n++];
    e->line = lineno;
    e->column = col < 1 ? 1 : col;
    cfg_hide_typed(raw, e->text, sizeof e->text, &e->column);
    snprintf(e->reason, sizeof e->reason, "%s", reason);
}

/* Errors of a key are found at its `exit` but belong to its key-string line: order by line. */
static void sort_errors(struct cfg_errors *errs)
{
    for (int i = 1; errs != NULL && i < errs->n; i++)
        for (int j = i; j > 0 && errs->e[j - 1].line > errs->e[j].line; j--) {
            struct cfg_error t = errs->e[j];
            errs->e[j] = errs->e[j - 1];
            errs->e[j - 1] = t;
        }
}

/* ---- lines ----------------------------------------------------------------------------------- */

/* Splits l->buf into words. -1 with the column of the offending character on a control character,
 * a non-ASCII byte or too many words. */
static int tokenize(struct cfg_line *l, size_t n, int *col, const char **why)
{
    size_t first = strspn(l->buf, " \t");
    bool comment = first < n && l->buf[first] == '!';
    l->n = 0;
    l->end_col = (int)n + 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)l->buf[i];
        if (ch == '\t' || (comment && ch >= 0x80))
            continue; /* comments may be UTF-8; they are not kept */
        if (ch < 0x20 || ch == 0x7f) {
            *col = (int)i + 1;
            *why = "control character in line";
            return -1;
        }
        if (ch >= 0x80) {
            *col = (int)i + 1;
            *why = "non-ASCII character in line";
            return -1;
        }
    }
    for (size_t i = 0; i < n;) {
        while (i < n && (l->buf[i] == ' ' || l->buf[i] == '\t'))
            l->buf[i++] = '\0';
        if (i >= n)
            break;
        if (l->n == CFG_MAX_TOKENS) {
            *col = (int)i + 1;
            *why = "too many words in line";
            return -1;
        }
        struct cfg_tok *t = &l->t[l->n++];
        t->s = l->buf + i;
        t->col = (int)i + 1;
        while (i < n && l->buf[i] != ' ' && l->buf[i] != '\t')
            i++;
        t->len = (size_t)(l->buf + i - t->s);
    }
    if (n < sizeof l->buf)
        l->buf[n] = '\0';
    /* trailing blanks do not move the "incomplete command" marker */
    if (l->n > 0)
        l->end_col = l->t[l->n - 1].col + (int)l->t[l->n - 1].len + 1;
    return 0;
}

static bool tok_is(const struct cfg_tok *t, const char *w)
{
    return strcmp(t->s, w) == 0;
}

/* Number of leading keywords of cmd matched by the words from index from. */
static int kw_match(const struct cfg_cmd *cmd, const struct cfg_line *l, int from)
{
    int k = 0;
    while (k < 4 && cmd->kw[k] != NULL && from + k < l->n && tok_is(&l->t[from + k], cmd->kw[k]))
        k++;
    return k;
}

static int kw_count(const struct cfg_cmd *cmd)
{
    int k = 0;
    while (k < 4 && cmd->kw[k] != NULL)
        k++;
    return k;
}

static const struct cfg_mode_info *mode_info(enum cfg_pmode m)
{
    for (size_t i = 0; i < cfg_nmodes; i++)
        if (cfg_modes[i].mode == m)
            return &cfg_modes[i];
    return &cfg_modes[0];
}

static enum cfg_pmode parent_mode(enum cfg_pmode m)
{
    return mode_info(m)->parent;
}

/* Interprets one command line in mode p->mode or its parents. 0, or -1 with p->err_* set: the
 * error of the command that got furthest into the line, else the longest keyword match. */
static int dispatch(struct cfg_pctx *p, const struct cfg_line *l)
{
    bool neg = tok_is(&l->t[0], "no");
    int from = neg ? 1 : 0, best_col = -1, part_k = -1, part_col = 0;
    char best_reason[sizeof p->err_reason] = "";
    const char *part_reason = "unknown command";
    const struct cfg_cmd *part_cmd = NULL;
    enum cfg_pmode start = p->mode;

    if (neg && l->n == 1)
        return cfg_fail(p, l->end_col, "incomplete command");
    for (enum cfg_pmode m = start;; m = parent_mode(m)) {
        for (size_t i = 0; i < cfg_ncmds; i++) {
            const struct cfg_cmd *cmd = &cfg_cmds[i];
            if (cmd->mode != m)
                continue;
            int k = kw_match(cmd, l, from), need = kw_count(cmd);
            if (k < need) {
                if (k > part_k) {
                    part_k = k;
                    part_cmd = cmd;
                    bool more = from + k < l->n;
                    part_col = more ? l->t[from + k].col : l->end_col;
                    part_reason = more ? "unknown command or keyword" : "incomplete command";
                } else if (k == part_k) {
                    part_cmd = NULL; /* more than one command continues here */
                }
                continue;
            }
            int rc, col;
            if (neg && cmd->no == NULL) {
                rc = cfg_fail(p, l->t[0].col, "this command has no 'no' form");
            } else {
                p->mode = m;
                p->err_col = 0;
                rc = neg ? cmd->no(p, l, from + need) : cmd->apply(p, l, from + need);
                if (rc == 0)
                    return 0;
                p->mode = start;
            }
            col = p->err_col;
            if (col > best_col) {
                best_col = col;
                snprintf(best_reason, sizeof best_reason, "%s", p->err_reason);
            }
        }
        if (m == CFG_PM_TOP)
            break;
    }
    if (best_col >= 0)
        return cfg_fail(p, best_col, "%s", best_reason);
    if (part_cmd != NULL && part_k > 0 && from + part_k >= l->n)
        return cfg_fail(p, part_col, "%s: %s%s", part_reason, neg ? "no " : "",
                        part_cmd->help + strspn(part_cmd->help, " "));
    return cfg_fail(p, part_col, "%s", part_reason);
}

static bool is_header(const struct cfg_line *l)
{
    if (l->n == 2 && tok_is(&l->t[0], "Building") && tok_is(&l->t[1], "configuration..."))
        return true;
    if (l->n == 5 && tok_is(&l->t[0], "Current") && tok_is(&l->t[1], "configuration") &&
        tok_is(&l->t[2], ":") && tok_is(&l->t[4], "bytes")) {
        for (const char *s = l->t[3].s; *s; s++)
            if (*s < '0' || *s > '9')
                return false;
        return l->t[3].len > 0 && l->t[3].len <= 10;
    }
    return false;
}

struct cfg *cfg_apply_text(const struct cfg *base, const char *text, size_t len, enum cfg_mode mode,
                           struct cfg_errors *errs)
{
    struct cfg *c = (mode == CFG_MERGE && base != NULL) ? cfg_clone(base) : cfg_new_default();
    struct cfg_work w;
    struct cfg_pctx p = {0};
    struct cfg_line *l = malloc(sizeof *l);
    int nerr = 0, lineno = 0, ks_line = 0;
    bool ended = false, header_ok = true, ks_bad = false;
    char ks_raw[LIM_CFG_LINE_LEN + 1] = "";

    if (errs != NULL)
        memset(errs, 0, sizeof *errs);
    if (c == NULL || l == NULL || work_init(&w, c) != 0) {
        add_error(errs, 0, "", 1, "out of memory");
        free(l);
        cfg_free(c);
        return NULL;
    }
    p.w = &w;
    p.c = c;
    p.ref = base;
    p.mode = CFG_PM_TOP;
    if (text == NULL)
        len = 0;

    for (size_t pos = 0; pos < len;) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n > 0 && s[n - 1] == '\r')
            n--; /* CRLF files */
        size_t keep = n > LIM_CFG_LINE_LEN ? LIM_CFG_LINE_LEN : n;
        memcpy(l->raw, s, keep);
        l->raw[keep] = '\0';
        for (size_t i = 0; i < keep; i++)
            if (l->raw[i] == '\0')
                l->raw[i] = '?'; /* rejected by tokenize(); shown in the error text */
        if (n > LIM_CFG_LINE_LEN) {
            char why[64];
            snprintf(why, sizeof why, "line too long (at most %d characters)", LIM_CFG_LINE_LEN);
            add_error(errs, lineno, l->raw, LIM_CFG_LINE_LEN, why);
            nerr++;
            continue;
        }
        memcpy(l->buf, s, n);
        l->buf[n] = '\0';
        if (p.mode == CFG_PM_BANNER) {   /* text lines, as they are */
            if (cfg_banner_data(&p, l->raw) != 0) {
                add_error(errs, lineno, l->raw, p.err_col, p.err_reason);
                nerr++;
                p.mode = CFG_PM_TOP;
            }
            continue;
        }
        int col = 0;
        const char *why = NULL;
        if (tokenize(l, n, &col, &why) != 0) {
            add_error(errs, lineno, l->raw, col, why);
            nerr++;
            continue;
        }
        if (l->n == 0 || l->t[0].s[0] == '!')
            continue;
        if (ended) {
            add_error(errs, lineno, l->raw, l->t[0].col, "text after 'end'");
            nerr++;
            continue;
        }
        if (p.mode == CFG_PM_KEYSTRING) {
            bool at_exit = l->n == 1 && tok_is(&l->t[0], "exit");
            /* after a bad data line, the key as a whole is not reported again */
            int rc = at_exit ? cfg_keystring_end(&p, ks_bad ? -1 : l->t[0].col)
                             : cfg_keystring_data(&p, l);
            ks_bad |= rc != 0;
            if (rc != 0) {
                /* a bad key is reported on its key-string line; data errors on their own line */
                int ecol = at_exit ? (int)strspn(ks_raw, " \t") + 1 : p.err_col;
                add_error(errs, at_exit ? ks_line : lineno, at_exit ? ks_raw : l->raw, ecol,
                          p.err_reason);
                nerr++;
                if (at_exit)
                    p.mode = CFG_PM_PKUSER;
            }
            continue;
        }
        if (header_ok && is_header(l))
            continue;
        header_ok = false;
        if (tok_is(&l->t[0], "end")) {
            if (l->n > 1) {
                add_error(errs, lineno, l->raw, l->t[1].col, "unexpected word after 'end'");
                nerr++;
            }
            ended = true;
            p.mode = CFG_PM_TOP;
            continue;
        }
        if (tok_is(&l->t[0], "exit")) {
            if (l->n > 1) {
                add_error(errs, lineno, l->raw, l->t[1].col, "unexpected word after 'exit'");
                nerr++;
            } else if (p.mode == CFG_PM_TOP) {
                add_error(errs, lineno, l->raw, l->t[0].col, "'exit' outside a sub-mode");
                nerr++;
            } else {
                p.mode = parent_mode(p.mode);
            }
            continue;
        }
        p.err_col = 0;
        if (dispatch(&p, l) != 0) {
            add_error(errs, lineno, l->raw, p.err_col, p.err_reason);
            nerr++;
        } else if (p.mode == CFG_PM_KEYSTRING || p.mode == CFG_PM_BANNER) {
            ks_line = lineno;   /* where an unended key-string or banner is reported */
            ks_bad = false;
            snprintf(ks_raw, sizeof ks_raw, "%s", l->raw);
        }
    }
    if (p.mode == CFG_PM_BANNER) {
        add_error(errs, ks_line, ks_raw, (int)strspn(ks_raw, " \t") + 1,
                  "banner not ended by its delimiter");
        nerr++;
    }
    if (p.mode == CFG_PM_KEYSTRING && !ks_bad) {
        add_error(errs, ks_line, ks_raw, (int)strspn(ks_raw, " \t") + 1,
                  "key-string not ended by 'exit'");
        cfg_keystring_end(&p, -1);
        nerr++;
    }
    free(l);
    free(p.ks.p);
    free(p.banner.p);
    sort_errors(errs);
    if (nerr > 0) {
        work_fini(&w);
        for (size_t i = 0; i < c->n_users; i++)
            OPENSSL_cleanse(c->users[i].secret, sizeof c->users[i].secret);
        cfg_free(c);
        return NULL;
    }
    work_finish(&w);
    work_fini(&w);
    return c;
}

/* ---- configuration mode at a terminal: one line at a time ----------------------------------- */

/* What survives between lines: the parse context (mode, the block being configured, the text of
 * a key-string or a banner being typed) and the pubkey-chain user. Each line runs on a fresh copy
 * of the running config it is given, so a line that fails leaves nothing behind, and one that
 * works is one commit. */
struct cfg_term {
    struct cfg_pctx p;          /* .w and .c are set for the time of one line only */
    char cur_pk[CFG_NAME_MAX];
};

struct cfg_term *cfg_term_new(void)
{
    struct cfg_term *t = calloc(1, sizeof *t);
    if (t != NULL)
        t->p.mode = CFG_PM_TOP;
    return t;
}

void cfg_term_free(struct cfg_term *t)
{
    if (t == NULL)
        return;
    free(t->p.ks.p);
    free(t->p.banner.p);
    free(t);
}

const char *cfg_term_prompt(const struct cfg_term *t)
{
    return mode_info(t->p.mode)->prompt;
}

const char *cfg_term_banner_delim(const struct cfg_term *t)
{
    return t->p.mode == CFG_PM_BANNER ? t->p.bdelim : NULL;
}

void cfg_term_reset(struct cfg_term *t)
{
    t->p.mode = CFG_PM_TOP;
    t->cur_pk[0] = '\0';
    t->p.block[0] = '\0';
    t->p.ks.len = 0;
    t->p.banner.len = 0;
}

static bool kw_prefix(const struct cfg_tok *t, const char *kw)
{
    return t->len <= strlen(kw) && strncasecmp(t->s, kw, t->len) == 0;
}

/* IOS's unique abbreviations of the table's keywords (`usern`, `ip ssh time 60`, `aaa new`): the
 * leading words of l are replaced by the keywords they abbreviate, level by level among the rows
 * of mode m (as the EXEC parser narrows its table). A word that is a keyword exactly wins; one
 * that abbreviates two keywords is ambiguous (-1, *col its column); one that abbreviates none is
 * left for dispatch() to report. Returns how many words were keywords of m's rows (0: none). */
static int expand_in(enum cfg_pmode m, struct cfg_line *l, int from, int *col)
{
    bool cand[512];
    size_t nc = cfg_ncmds < 512 ? cfg_ncmds : 512;
    int k = 0;
    for (size_t i = 0; i < nc; i++)
        cand[i] = cfg_cmds[i].mode == m;
    for (; k < 4 && from + k < l->n; k++) {
        const char *exact = NULL, *pick = NULL;
        bool several = false;
        struct cfg_tok *t = &l->t[from + k];
        for (size_t i = 0; i < nc; i++) {
            const char *kw = cand[i] ? cfg_cmds[i].kw[k] : NULL;
            if (kw == NULL || !kw_prefix(t, kw))
                continue;
            if (t->len == strlen(kw))
                exact = kw;
            else if (pick != NULL && strcmp(pick, kw) != 0)
                several = true;
            else
                pick = kw;
        }
        if (exact != NULL)
            pick = exact;
        else if (several) {
            *col = t->col;
            return -1;
        }
        if (pick == NULL)
            break;
        t->s = pick;
        t->len = strlen(pick);
        for (size_t i = 0; i < nc; i++)
            if (cand[i] && (cfg_cmds[i].kw[k] == NULL || strcmp(cfg_cmds[i].kw[k], pick) != 0))
                cand[i] = false;
    }
    return k;
}

/* Expands in the current mode, else in its parents (the implicit exit). 0, or -1 ambiguous. */
static int expand(enum cfg_pmode m, struct cfg_line *l, int *col)
{
    int from = l->n > 0 && tok_is(&l->t[0], "no") ? 1 : 0;
    for (;; m = parent_mode(m)) {
        int k = expand_in(m, l, from, col);
        if (k != 0)
            return k < 0 ? -1 : 0;
        if (m == CFG_PM_TOP)
            return 0;
    }
}

static enum cfg_term_res term_error(struct cfg_error *err, const char *raw, int col,
                                    const char *reason)
{
    if (err != NULL) {
        memset(err, 0, sizeof *err);
        err->line = 1;
        err->column = col < 1 ? 1 : col;
        cfg_hide_typed(raw, err->text, sizeof err->text, &err->column);
        snprintf(err->reason, sizeof err->reason, "%s", reason);
    }
    return CFG_TERM_INVALID;
}

enum cfg_term_res cfg_term_line(struct cfg_term *t, const struct cfg *base, const char *line,
                                size_t len, struct cfg **next, struct cfg_error *err)
{
    struct cfg_line *l = malloc(sizeof *l);
    struct cfg_pctx *p = &t->p;
    struct cfg_work w;
    struct cfg *c = NULL;
    enum cfg_term_res res = CFG_TERM_OK;
    int col = 0, rc;
    const char *why = NULL;
    bool banner_open = p->mode == CFG_PM_BANNER;

    *next = NULL;
    if (l == NULL)
        return term_error(err, "", 1, "out of memory");
    if (len > LIM_CFG_LINE_LEN) {
        snprintf(l->raw, sizeof l->raw, "%.*s", LIM_CFG_LINE_LEN, line);
        res = term_error(err, l->raw, LIM_CFG_LINE_LEN, "line too long");
        goto out;
    }
    memcpy(l->raw, line, len);
    l->raw[len] = '\0';
    memcpy(l->buf, line, len);
    l->buf[len] = '\0';
    if (!banner_open && tokenize(l, len, &col, &why) != 0) {
        res = term_error(err, l->raw, col, why);
        goto out;
    }
    if (!banner_open && (l->n == 0 || l->t[0].s[0] == '!'))
        goto out;
    bool at_exit = !banner_open && l->n == 1 && strcasecmp(l->t[0].s, "exit") == 0;
    if (p->mode == CFG_PM_KEYSTRING && !at_exit) {
        if (cfg_keystring_data(p, l) != 0)
            res = term_error(err, l->raw, p->err_col, p->err_reason);
        goto out;
    }
    if (at_exit && p->mode != CFG_PM_KEYSTRING) {
        if (p->mode == CFG_PM_TOP)
            res = CFG_TERM_EXIT;
        else
            p->mode = parent_mode(p->mode);
        goto out;
    }
    if (!at_exit && !banner_open && expand(p->mode, l, &col) != 0) {
        res = CFG_TERM_AMBIGUOUS;
        goto out;
    }
    if ((c = cfg_clone(base)) == NULL || work_init(&w, c) != 0) {
        if (c != NULL)
            work_fini(&w);
        res = term_error(err, l->raw, 1, "out of memory");
        goto out;
    }
    enum cfg_pmode start = p->mode;
    p->w = &w;
    p->c = c;
    p->ref = base;
    snprintf(w.cur_pk, sizeof w.cur_pk, "%s", t->cur_pk);
    rc = at_exit ? cfg_keystring_end(p, 1) : banner_open ? cfg_banner_data(p, l->raw)
                                                         : dispatch(p, l);
    if (at_exit)
        p->ks.len = 0;
    p->w = NULL;
    p->c = NULL;
    p->ref = NULL;
    if (rc != 0) {
        /* a bad key is reported on the `exit` that ends it and dropped; a bad banner line
         * drops the banner being typed */
        res = term_error(err, l->raw, at_exit || banner_open ? 1 : p->err_col, p->err_reason);
        p->mode = at_exit ? CFG_PM_PKUSER : banner_open ? CFG_PM_TOP : start;
        p->banner.len = 0;
        work_fini(&w);
        goto out;
    }
    snprintf(t->cur_pk, sizeof t->cur_pk, "%s", w.cur_pk);
    work_finish(&w);
    work_fini(&w);
    /* a banner's first line or its text lines change nothing until the closing delimiter */
    if (p->mode != CFG_PM_BANNER) {
        *next = c;
        c = NULL;
    }
out:
    if (c != NULL) {
        for (size_t i = 0; i < c->n_users; i++)
            OPENSSL_cleanse(c->users[i].secret, sizeof c->users[i].secret);
        cfg_free(c);
    }
    OPENSSL_cleanse(l, sizeof *l);
    free(l);
    return res;
}

void cfg_term_help(const struct cfg_term *t, const char *line, size_t len,
                   void (*fn)(void *arg, const char *word, const char *help), void *arg)
{
    struct cfg_line *l = malloc(sizeof *l);
    int col = 0;
    const char *why = NULL;
    if (l == NULL)
        return;
    if (len > LIM_CFG_LINE_LEN)
        len = LIM_CFG_LINE_LEN;
    memcpy(l->buf, line, len);
    l->buf[len] = '\0';
    if (tokenize(l, len, &col, &why) != 0) {
        free(l);
        return;
    }
    bool partial = len > 0 && line[len - 1] != ' ';
    int from = l->n > 0 && tok_is(&l->t[0], "no") && !(partial && l->n == 1) ? 1 : 0;
    int full = partial ? l->n - 1 : l->n;
    const char *seen[512];
    size_t nseen = 0;
    for (size_t i = 0; i < cfg_ncmds; i++) {
        const struct cfg_cmd *cmd = &cfg_cmds[i];
        int need = kw_count(cmd), k = from;
        if (cmd->mode != t->p.mode || (from == 1 && cmd->no == NULL))
            continue;
        while (k < full && k - from < need && kw_prefix(&l->t[k], cmd->kw[k - from]))
            k++;
        if (k < full && k - from < need)
            continue;
        const char *help = cmd->help + strspn(cmd->help, " ");
        if (k - from >= need) {
            fn(arg, NULL, help); /* the keywords are typed: the command's form */
            continue;
        }
        const char *kw = cmd->kw[k - from];
        if (partial && k == full && !kw_prefix(&l->t[full], kw))
            continue;
        bool dup = false;
        for (size_t j = 0; j < nseen && !dup; j++)
            dup = strcmp(seen[j], kw) == 0;
        if (dup || nseen == sizeof seen / sizeof seen[0])
            continue;
        seen[nseen++] = kw;
        fn(arg, kw, help);
    }
    free(l);
}
