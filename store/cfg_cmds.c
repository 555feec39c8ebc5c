/* cfg_cmds: the command table of the configuration language (docs/config.md) and, per command, how
 * its arguments are parsed and applied, what its `no` form does and how it renders.
 *
 * Adding a command is adding a row (and its three small functions); the parser (cfg_parse.c), the
 * renderer (cfg_render.c), --check-config and the API all go through this table. Row order is
 * rendering order; `section` groups rows between "!" lines.
 *
 * Every apply function checks all its arguments before it changes anything, so a line that fails
 * in a sub-mode can be retried in the parent mode on an unchanged working copy. Reasons never quote
 * the offending word (it could be a password); the marker points at it instead.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/b64.h"
#include "store/cfg_int.h"
#include "store/secret.h"

/* ---- argument helpers ------------------------------------------------------------------------ */

static int need(struct cfg_pctx *p, const struct cfg_line *l, int i, const char *what)
{
    if (i < l->n)
        return 0;
    return cfg_fail(p, l->end_col, "incomplete command: %s expected", what);
}

static int no_more(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (i >= l->n)
        return 0;
    return cfg_fail(p, l->t[i].col, "unexpected input");
}

static int num(struct cfg_pctx *p, const struct cfg_tok *t, int lo, int hi, int *out)
{
    long v = 0;
    if (t->len == 0 || t->len > 9)
        return t->len > 9 && strspn(t->s, "0123456789") == t->len
                   ? cfg_fail(p, t->col, "value out of range %d-%d", lo, hi)
                   : cfg_fail(p, t->col, "number expected (%d-%d)", lo, hi);
    for (size_t i = 0; i < t->len; i++) {
        if (t->s[i] < '0' || t->s[i] > '9')
            return cfg_fail(p, t->col, "number expected (%d-%d)", lo, hi);
        v = v * 10 + (t->s[i] - '0');
    }
    if (v < lo || v > hi)
        return cfg_fail(p, t->col, "value out of range %d-%d", lo, hi);
    *out = (int)v;
    return 0;
}

static bool is(const struct cfg_tok *t, const char *w)
{
    return strcmp(t->s, w) == 0;
}

/* User, list and group names: letters, digits and . _ - @ + (safe in logs, paths and JSON). */
static int name_ok(struct cfg_pctx *p, const struct cfg_tok *t, const char *what)
{
    if (t->len >= CFG_NAME_MAX)
        return cfg_fail(p, t->col, "%s too long (at most %d characters)", what, CFG_NAME_MAX - 1);
    for (size_t i = 0; i < t->len; i++) {
        char ch = t->s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || strchr("._-@+", ch) != NULL;
        if (!ok)
            return cfg_fail(p, t->col + (int)i, "invalid character in %s", what);
    }
    return 0;
}

int cfg_arg_need(struct cfg_pctx *p, const struct cfg_line *l, int i, const char *what)
{
    return need(p, l, i, what);
}
int cfg_arg_end(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return no_more(p, l, i);
}
int cfg_arg_num(struct cfg_pctx *p, const struct cfg_tok *t, int lo, int hi, int *out)
{
    return num(p, t, lo, hi, out);
}
int cfg_arg_name(struct cfg_pctx *p, const struct cfg_tok *t, const char *what)
{
    return name_ok(p, t, what);
}
bool cfg_arg_is(const struct cfg_tok *t, const char *w)
{
    return is(t, w);
}

/* ---- hostname -------------------------------------------------------------------------------- */

/* RFC 1123 labels, as IOS enforces: a letter first, letters, digits and hyphens, no hyphen last. */
static int hostname_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (need(p, l, i, "host name") || no_more(p, l, i + 1))
        return -1;
    const struct cfg_tok *t = &l->t[i];
    if (t->len >= CFG_NAME_MAX)
        return cfg_fail(p, t->col, "host name too long (at most %d characters)", CFG_NAME_MAX - 1);
    for (size_t k = 0; k < t->len; k++) {
        char ch = t->s[k];
        bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        bool ok = alpha || (k > 0 && ((ch >= '0' && ch <= '9') || ch == '-'));
        if (!ok)
            return cfg_fail(p, t->col + (int)k,
                            "invalid host name: a letter, then letters, digits and hyphens");
    }
    if (t->s[t->len - 1] == '-')
        return cfg_fail(p, t->col + (int)t->len - 1, "invalid host name: must not end with '-'");
    snprintf(p->c->hostname, sizeof p->c->hostname, "%s", t->s);
    return 0;
}

static int hostname_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    snprintf(p->c->hostname, sizeof p->c->hostname, "%s", CFG_DEFAULT_HOSTNAME);
    return 0;
}

static void hostname_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    cfg_buf_printf(b, "hostname %s\n", c->hostname);
}

/* ---- enable secret, service password-encryption ---------------------------------------------- */

static int parse_secret(struct cfg_pctx *p, const struct cfg_line *l, int i, int *type,
                        char *out, size_t cap, const char *keep);

/* `enable secret [0|5|8|9] S`: kept as a hash like a user's secret (plaintext becomes type 9). */
static int enable_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    char secret[sizeof p->c->enable_secret];
    int type = 0;
    const char *keep = p->ref && p->ref->enable_type == CFG_SECRET_9 ? p->ref->enable_secret
                                                                      : NULL;
    if (parse_secret(p, l, i - 1, &type, secret, sizeof secret, keep) != 0)
        return -1;
    p->c->enable_type = (enum cfg_secret_type)type;
    snprintf(p->c->enable_secret, sizeof p->c->enable_secret, "%s", secret);
    OPENSSL_cleanse(secret, sizeof secret);
    return 0;
}

static int enable_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->enable_type = CFG_SECRET_NONE;
    OPENSSL_cleanse(p->c->enable_secret, sizeof p->c->enable_secret);
    return 0;
}

static void enable_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->enable_type != CFG_SECRET_NONE)
        cfg_buf_printf(b, "enable secret %d %s\n", (int)c->enable_type, c->enable_secret);
}

/* Secrets are always kept hashed here, so the service has nothing left to encrypt; it is kept
 * and shown because IOS templates carry it (and `no` of it is what IOS shows by default). */
static int pwenc_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (no_more(p, l, i))
        return -1;
    p->c->password_encryption = true;
    return 0;
}

static int pwenc_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (no_more(p, l, i))
        return -1;
    p->c->password_encryption = false;
    return 0;
}

static void pwenc_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->password_encryption)
        cfg_buf_puts(b, "service password-encryption\n");
    else if (all)
        cfg_buf_puts(b, "no service password-encryption\n");
}

/* ---- aaa ------------------------------------------------------------------------------------- */

static int newmodel_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (no_more(p, l, i))
        return -1;
    p->c->aaa_new_model = true;
    return 0;
}

static int newmodel_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (no_more(p, l, i))
        return -1;
    p->c->aaa_new_model = false;
    return 0;
}

static void newmodel_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->aaa_new_model)
        cfg_buf_puts(b, "aaa new-model\n");
    else if (all)
        cfg_buf_puts(b, "no aaa new-model\n");
}

/* Methods of a list; if-authenticated only for authorization. */
static int parse_methods(struct cfg_pctx *p, const struct cfg_line *l, int i, bool authz,
                         struct cfg_mlist *ml)
{
    ml->n = 0;
    if (need(p, l, i, "method"))
        return -1;
    for (; i < l->n; i++) {
        const struct cfg_tok *t = &l->t[i];
        struct cfg_method m = {0};
        if (ml->n == LIM_CFG_METHODS)
            return cfg_fail(p, t->col, "too many methods (at most %d)", LIM_CFG_METHODS);
        if (is(t, "local")) {
            m.kind = CFG_M_LOCAL;
        } else if (is(t, "none")) {
            m.kind = CFG_M_NONE;
        } else if (authz && is(t, "if-authenticated")) {
            m.kind = CFG_M_IF_AUTHENTICATED;
        } else if (is(t, "group")) {
            if (need(p, l, i + 1, "server group name") || name_ok(p, &l->t[i + 1], "group name"))
                return -1;
            m.kind = CFG_M_GROUP;
            snprintf(m.group, sizeof m.group, "%s", l->t[++i].s);
        } else {
            return cfg_fail(p, t->col,
                            authz ? "unknown method (local, if-authenticated, none, group NAME)"
                                  : "unknown method (local, none, group NAME)");
        }
        for (int k = 0; k < ml->n; k++)
            if (ml->m[k].kind == m.kind && strcmp(ml->m[k].group, m.group) == 0)
                return cfg_fail(p, t->col, "method given twice");
        ml->m[ml->n++] = m;
    }
    return 0;
}

static int mlist_set(struct cfg_pctx *p, const struct cfg_line *l, int i, bool authz)
{
    struct cfg_mlist ml;
    struct cfg_mlist **arr = authz ? &p->c->authz : &p->c->authn;
    size_t *n = authz ? &p->c->n_authz : &p->c->n_authn;
    memset(&ml, 0, sizeof ml);
    if (need(p, l, i, "list name (default or a name)") || name_ok(p, &l->t[i], "list name") ||
        parse_methods(p, l, i + 1, authz, &ml))
        return -1;
    snprintf(ml.name, sizeof ml.name, "%s", l->t[i].s);
    for (size_t k = 0; k < *n; k++)
        if (strcmp((*arr)[k].name, ml.name) == 0) {
            (*arr)[k] = ml;
            return 0;
        }
    if (*n >= LIM_CFG_LISTS)
        return cfg_fail(p, l->t[i].col, "too many method lists (at most %d)", LIM_CFG_LISTS);
    struct cfg_mlist *na = realloc(*arr, (*n + 1) * sizeof *na);
    if (na == NULL)
        return cfg_fail(p, l->t[i].col, "out of memory");
    na[(*n)++] = ml;
    *arr = na;
    return 0;
}

/* `no aaa authentication login NAME [methods]`: IOS ignores the methods of a `no` line. */
static int mlist_del(struct cfg_pctx *p, const struct cfg_line *l, int i, bool authz)
{
    struct cfg_mlist *arr = authz ? p->c->authz : p->c->authn;
    size_t *n = authz ? &p->c->n_authz : &p->c->n_authn;
    if (need(p, l, i, "list name") || name_ok(p, &l->t[i], "list name"))
        return -1;
    for (size_t k = 0; k < *n; k++)
        if (strcmp(arr[k].name, l->t[i].s) == 0) {
            memmove(&arr[k], &arr[k + 1], (*n - k - 1) * sizeof *arr);
            (*n)--;
            break;
        }
    return 0;
}

static int authn_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return mlist_set(p, l, i, false);
}
static int authn_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return mlist_del(p, l, i, false);
}
static int authz_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return mlist_set(p, l, i, true);
}
static int authz_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return mlist_del(p, l, i, true);
}

static void mlists_render(struct cfg_buf *b, const char *prefix, const struct cfg_mlist *arr,
                          size_t n)
{
    static const char *const kind[] = {[CFG_M_LOCAL] = "local", [CFG_M_NONE] = "none",
                                       [CFG_M_IF_AUTHENTICATED] = "if-authenticated",
                                       [CFG_M_GROUP] = "group"};
    for (size_t k = 0; k < n; k++) {
        cfg_buf_printf(b, "%s %s", prefix, arr[k].name);
        for (int j = 0; j < arr[k].n; j++) {
            const struct cfg_method *m = &arr[k].m[j];
            unsigned kd = (unsigned)m->kind;
            cfg_buf_printf(b, " %s", kd < sizeof kind / sizeof *kind && kind[kd] ? kind[kd] : "?");
            if (m->kind == CFG_M_GROUP)
                cfg_buf_printf(b, " %s", m->group);
        }
        cfg_buf_puts(b, "\n");
    }
}

static void authn_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    mlists_render(b, "aaa authentication login", c->authn, c->n_authn);
}

static void authz_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    mlists_render(b, "aaa authorization exec", c->authz, c->n_authz);
}

/* ---- username -------------------------------------------------------------------------------- */

/* The rest of the line from word i, without trailing blanks (a password may contain spaces). */
static size_t rest_of_line(const struct cfg_line *l, int i, const char **s)
{
    *s = l->raw + l->t[i].col - 1;
    size_t n = strlen(*s);
    while (n > 0 && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t'))
        n--;
    return n;
}

/* `password [0|7] PW` or `secret [0|5|8|9] SECRET` from word i; plaintext is hashed to type 9,
 * unless it verifies against keep (the stored type-9 hash of the same account in the config the
 * change is made to, or NULL): then keep is the result, so the same password written again is no
 * change. Only type 9 is kept, the type a plaintext becomes: a type 5 hash is renewed. */
static int parse_secret(struct cfg_pctx *p, const struct cfg_line *l, int i, int *type,
                        char *out, size_t cap, const char *keep)
{
    bool pw = is(&l->t[i], "password");
    char plain[LIM_PASSWORD_LEN];
    int rc = -1;
    i++;
    if (need(p, l, i, pw ? "password" : "secret"))
        return -1;
    const struct cfg_tok *t = &l->t[i];
    bool typed = i + 1 < l->n && t->len == 1 && strchr(pw ? "07" : "0589", t->s[0]) != NULL;
    int given = typed ? t->s[0] - '0' : 0;
    if (typed)
        t = &l->t[++i];
    if (given == 5 || given == 8 || given == 9) {
        if (no_more(p, l, i + 1))
            return -1;
        if (secret_check_format(given, t->s) != 0 || t->len >= cap)
            return cfg_fail(p, t->col, "invalid type %d secret (expected $%c$...)", given,
                            given == 5 ? '1' : '0' + given);
        snprintf(out, cap, "%s", t->s);
        *type = given;
        return 0;
    }
    if (given == 7) {
        if (no_more(p, l, i + 1))
            return -1;
        if (secret_decode7(t->s, plain, sizeof plain) != 0)
            return cfg_fail(p, t->col, "invalid type 7 password");
    } else {
        const char *s = t->s;
        /* password text runs to the end of the line; a secret is one word */
        size_t n = pw ? rest_of_line(l, i, &s) : t->len;
        if (!pw && no_more(p, l, i + 1))
            return -1;
        if (n >= sizeof plain)
            return cfg_fail(p, t->col, "%s too long (at most %d characters)",
                            pw ? "password" : "secret", LIM_PASSWORD_LEN - 1);
        memcpy(plain, s, n);
        plain[n] = '\0';
    }
    if (keep != NULL && keep[0] != '\0' && strlen(keep) < cap &&
        secret_verify(9, keep, plain) == 1)
        rc = 0, *type = 9, snprintf(out, cap, "%s", keep);
    else if (secret_hash9(plain, out, cap) != 0)
        cfg_fail(p, t->col, "cannot hash the %s", pw ? "password" : "secret");
    else
        rc = 0, *type = 9;
    OPENSSL_cleanse(plain, sizeof plain);
    return rc;
}

static int username_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int priv = -1, type = 0;
    char secret[sizeof p->c->users[0].secret] = "";
    if (need(p, l, i, "user name") || name_ok(p, &l->t[i], "user name"))
        return -1;
    const struct cfg_tok *name = &l->t[i++];
    if (i < l->n && is(&l->t[i], "privilege")) {
        if (need(p, l, i + 1, "privilege level (0-15)") || num(p, &l->t[i + 1], 0, 15, &priv))
            return -1;
        i += 2;
    }
    if (i >= l->n) {
        if (priv < 0)
            return cfg_fail(p, l->end_col, "incomplete command: privilege, password or secret "
                                           "expected");
    } else if (is(&l->t[i], "password") || is(&l->t[i], "secret")) {
        const struct cfg_user *old = p->ref ? cfg_user_find(p->ref, name->s) : NULL;
        const char *keep = old && old->secret_type == CFG_SECRET_9 ? old->secret : NULL;
        if (parse_secret(p, l, i, &type, secret, sizeof secret, keep) != 0)
            return -1;
    } else {
        return cfg_fail(p, l->t[i].col, priv < 0 ? "privilege, password or secret expected"
                                                 : "password or secret expected");
    }
    struct cfg_user *u = cfg_work_user(p, name->s, true, name->col);
    if (u == NULL)
        return -1;
    if (priv >= 0)
        u->privilege = priv;
    if (type != 0) {
        u->secret_type = (enum cfg_secret_type)type;
        snprintf(u->secret, sizeof u->secret, "%s", secret);
    }
    return 0;
}

/* `no username NAME [...]` deletes the user whatever follows, as IOS does. */
static int username_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (need(p, l, i, "user name") || name_ok(p, &l->t[i], "user name"))
        return -1;
    cfg_work_user_del(p, l->t[i].s);
    return 0;
}

static void username_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    for (size_t k = 0; k < c->n_users; k++) {
        const struct cfg_user *u = &c->users[k];
        cfg_buf_printf(b, "username %s", u->name);
        /* a user without secret keeps "privilege N" even at 1: `username NAME` alone is invalid */
        if (u->privilege != CFG_DEFAULT_PRIVILEGE || u->secret_type == CFG_SECRET_NONE || all)
            cfg_buf_printf(b, " privilege %d", u->privilege);
        if (u->secret_type != CFG_SECRET_NONE)
            cfg_buf_printf(b, " secret %d %s", (int)u->secret_type, u->secret);
        cfg_buf_puts(b, "\n");
    }
}

/* ---- ip domain name ------------------------------------------------------------------------- */

/* A DNS name: labels of letters, digits and hyphens separated by dots (RFC 1123). */
static int domain_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (need(p, l, i, "domain name") || no_more(p, l, i + 1))
        return -1;
    const struct cfg_tok *t = &l->t[i];
    if (t->len >= CFG_NAME_MAX)
        return cfg_fail(p, t->col, "domain name too long (at most %d characters)",
                        CFG_NAME_MAX - 1);
    for (size_t k = 0; k < t->len; k++) {
        char ch = t->s[k];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                  || ch == '-' || (ch == '.' && k > 0 && k + 1 < t->len && t->s[k - 1] != '.');
        if (!ok)
            return cfg_fail(p, t->col + (int)k, "invalid domain name");
    }
    snprintf(p->c->domain_name, sizeof p->c->domain_name, "%s", t->s);
    return 0;
}

static int domain_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->domain_name[0] = '\0';
    return 0;
}

static void domain_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->domain_name[0] != '\0')
        cfg_buf_printf(b, "ip domain name %s\n", c->domain_name);
}

/* ---- ip ssh ---------------------------------------------------------------------------------- */

static int sshver_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int v;
    if (need(p, l, i, "version (2)") || num(p, &l->t[i], 1, 2, &v) || no_more(p, l, i + 1))
        return -1;
    if (v == 1)
        return cfg_fail(p, l->t[i].col, "SSH version 1 is not supported");
    p->c->ssh_version = 2;
    p->c->ssh_version_set = true;
    return 0;
}

static int sshver_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->ssh_version_set = false;
    return 0;
}

static void sshver_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    /* only when given: the "all" view must parse back to the same config */
    if (c->ssh_version_set)
        cfg_buf_puts(b, "ip ssh version 2\n");
}

static int timeout_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int v;
    if (need(p, l, i, "seconds (1-120)") || num(p, &l->t[i], 1, 120, &v) || no_more(p, l, i + 1))
        return -1;
    p->c->ssh_timeout = v;
    return 0;
}

static int timeout_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->ssh_timeout = CFG_DEFAULT_SSH_TIMEOUT;
    return 0;
}

static void timeout_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (all || c->ssh_timeout != CFG_DEFAULT_SSH_TIMEOUT)
        cfg_buf_printf(b, "ip ssh time-out %d\n", c->ssh_timeout);
}

/* ip ssh session-lifetime SECONDS: the longest an SSH session may last, busy or not (an account's
 * access is re-checked at each operation; this bounds what a forgotten session can hold). */
static int lifetime_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int v;
    if (need(p, l, i, "seconds (1-" LIM_STR(LIM_SSH_LIFETIME_MAX_SECS) ")") ||
        num(p, &l->t[i], 1, LIM_SSH_LIFETIME_MAX_SECS, &v) || no_more(p, l, i + 1))
        return -1;
    p->c->ssh_lifetime = v;
    return 0;
}

static int lifetime_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->ssh_lifetime = CFG_DEFAULT_SSH_LIFETIME;
    return 0;
}

static void lifetime_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (all || c->ssh_lifetime != CFG_DEFAULT_SSH_LIFETIME)
        cfg_buf_printf(b, "ip ssh session-lifetime %d\n", c->ssh_lifetime);
}

static int retries_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int v;
    if (need(p, l, i, "retries (0-5)") || num(p, &l->t[i], 0, 5, &v) || no_more(p, l, i + 1))
        return -1;
    p->c->ssh_retries = v;
    return 0;
}

static int retries_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->ssh_retries = CFG_DEFAULT_SSH_RETRIES;
    return 0;
}

static void retries_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (all || c->ssh_retries != CFG_DEFAULT_SSH_RETRIES)
        cfg_buf_printf(b, "ip ssh authentication-retries %d\n", c->ssh_retries);
}

/* ---- ip ssh pubkey-chain --------------------------------------------------------------------- */

static int pkchain_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (no_more(p, l, i))
        return -1;
    p->mode = CFG_PM_PKCHAIN;
    return 0;
}

static int pkchain_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (no_more(p, l, i))
        return -1;
    cfg_work_pkuser_clear(p);
    return 0;
}

/* IOS prints the chain as nested blocks; sub-mode lines are indented one more space per level. */
static void pkchain_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->n_pkusers == 0)
        return;
    cfg_buf_puts(b, "ip ssh pubkey-chain\n");
    for (size_t k = 0; k < c->n_pkusers; k++) {
        const struct cfg_pkuser *u = &c->pkusers[k];
        if (cfg_pkuser_is_server(u))
            cfg_buf_printf(b, " server %s\n", u->name + sizeof(CFG_PKSERVER_PREFIX) - 1);
        else
            cfg_buf_printf(b, " username %s\n", u->name);
        for (int j = 0; j < u->nkeys; j++) {
            cfg_buf_printf(b, "  key-hash %s %s", u->keys[j].type, u->keys[j].hash);
            if (u->keys[j].comment[0] != '\0')
                cfg_buf_printf(b, " %s", u->keys[j].comment);
            cfg_buf_puts(b, "\n");
        }
    }
}

static int pkuser_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (need(p, l, i, "user name") || name_ok(p, &l->t[i], "user name") || no_more(p, l, i + 1))
        return -1;
    if (cfg_work_pkuser(p, l->t[i].s, true, l->t[i].col) == NULL)
        return -1;
    cfg_work_pkuser_set_cur(p, l->t[i].s);
    p->mode = CFG_PM_PKUSER;
    return 0;
}

static int pkuser_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (need(p, l, i, "user name") || name_ok(p, &l->t[i], "user name") || no_more(p, l, i + 1))
        return -1;
    cfg_work_pkuser_del(p, l->t[i].s);
    return 0;
}

/* `server HOST` (IOS: the known host keys of the device's SSH client, for `copy scp://`): a
 * host name or IPv4 address (IPv6 literals are not taken by the copy URLs either). */
static int pkserver_name(struct cfg_pctx *p, const struct cfg_line *l, int i, char *name)
{
    if (need(p, l, i, "server name or address") || no_more(p, l, i + 1))
        return -1;
    const struct cfg_tok *t = &l->t[i];
    if (t->len > (size_t)CFG_PKSERVER_HOST_MAX)
        return cfg_fail(p, t->col, "server name too long (at most %d characters)",
                        CFG_PKSERVER_HOST_MAX);
    size_t ok = strspn(t->s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
    if (t->s[0] == '-' || t->s[0] == '.')
        ok = 0;
    if (ok != t->len || t->s[0] == '-' || t->s[0] == '.')
        return cfg_fail(p, t->col + (int)ok, "invalid server name (a host name or IPv4 address)");
    snprintf(name, CFG_NAME_MAX, CFG_PKSERVER_PREFIX "%s", t->s);
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return 0;
}

static int pkserver_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    char name[CFG_NAME_MAX];
    if (pkserver_name(p, l, i, name) || cfg_work_pkuser(p, name, true, l->t[i].col) == NULL)
        return -1;
    cfg_work_pkuser_set_cur(p, name);
    p->mode = CFG_PM_PKUSER;
    return 0;
}

static int pkserver_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    char name[CFG_NAME_MAX];
    if (pkserver_name(p, l, i, name))
        return -1;
    cfg_work_pkuser_del(p, name);
    return 0;
}

/* Adds (or replaces, same hash) a key of the current pubkey-chain user. */
static int key_add(struct cfg_pctx *p, const struct cfg_key *k, int col)
{
    struct cfg_pkuser *u = cfg_work_pkuser_cur(p);
    if (u == NULL)
        return cfg_fail(p, col, "no pubkey-chain user selected");
    for (int j = 0; j < u->nkeys; j++)
        if (strcmp(u->keys[j].hash, k->hash) == 0) {
            u->keys[j] = *k;
            return 0;
        }
    if (u->nkeys >= LIM_CFG_KEYS_PER_USER)
        return cfg_fail(p, col, "too many keys for this user (at most %d)", LIM_CFG_KEYS_PER_USER);
    u->keys[u->nkeys++] = *k;
    return 0;
}

static int keytype_ok(struct cfg_pctx *p, const struct cfg_tok *t)
{
    if (t->len >= sizeof ((struct cfg_key *)0)->type)
        return cfg_fail(p, t->col, "key type too long");
    for (size_t i = 0; i < t->len; i++)
        if (strchr("abcdefghijklmnopqrstuvwxyz0123456789-@.", t->s[i]) == NULL)
            return cfg_fail(p, t->col + (int)i, "invalid key type (e.g. ssh-rsa, ssh-ed25519)");
    return 0;
}

/* TYPE HASH at words i, i+1: the hash upper-cased into k. */
static int keyhash_parse(struct cfg_pctx *p, const struct cfg_line *l, int i, struct cfg_key *k)
{
    if (need(p, l, i, "key type") || keytype_ok(p, &l->t[i]) ||
        need(p, l, i + 1, "key hash (32 hex digits)"))
        return -1;
    const struct cfg_tok *h = &l->t[i + 1];
    if (h->len != 32 || strspn(h->s, "0123456789abcdefABCDEF") != 32)
        return cfg_fail(p, h->col, "key hash must be 32 hex digits (MD5)");
    memset(k, 0, sizeof *k);
    snprintf(k->type, sizeof k->type, "%s", l->t[i].s);
    for (int j = 0; j < 32; j++)
        k->hash[j] = (h->s[j] >= 'a' && h->s[j] <= 'f') ? (char)(h->s[j] - 32) : h->s[j];
    return 0;
}

static int keyhash_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_key k;
    if (keyhash_parse(p, l, i, &k))
        return -1;
    if (i + 2 < l->n) {
        const char *s;
        size_t n = rest_of_line(l, i + 2, &s), o = 0;
        if (n >= sizeof k.comment)
            return cfg_fail(p, l->t[i + 2].col, "key comment too long (at most %zu characters)",
                            sizeof k.comment - 1);
        /* words of the comment joined by single spaces: the canonical form */
        for (int j = i + 2; j < l->n; j++) {
            if (o > 0)
                k.comment[o++] = ' ';
            memcpy(k.comment + o, l->t[j].s, l->t[j].len);
            o += l->t[j].len;
        }
        k.comment[o] = '\0';
    }
    return key_add(p, &k, l->t[i].col);
}

static int keyhash_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_key k;
    if (keyhash_parse(p, l, i, &k))
        return -1;
    struct cfg_pkuser *u = cfg_work_pkuser_cur(p);
    for (int j = 0; u != NULL && j < u->nkeys; j++)
        if (strcmp(u->keys[j].hash, k.hash) == 0) {
            memmove(&u->keys[j], &u->keys[j + 1], (size_t)(u->nkeys - j - 1) * sizeof k);
            u->nkeys--;
            break;
        }
    return 0;
}

static int keystring_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (no_more(p, l, i))
        return -1;
    p->ks.len = 0;
    p->ks.oom = false;
    p->mode = CFG_PM_KEYSTRING;
    return 0;
}

int cfg_keystring_data(struct cfg_pctx *p, const struct cfg_line *l)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    for (int j = 0; j < l->n; j++) {
        const struct cfg_tok *t = &l->t[j];
        size_t ok = strspn(t->s, b64);
        if (ok != t->len)
            return cfg_fail(p, t->col + (int)ok, "invalid character in key-string (base64)");
        if (p->ks.len + t->len > LIM_CFG_KEYSTRING_LEN)
            return cfg_fail(p, t->col, "key-string too long (at most %d characters)",
                            LIM_CFG_KEYSTRING_LEN);
        cfg_buf_add(&p->ks, t->s, t->len);
        if (p->ks.oom)
            return cfg_fail(p, t->col, "out of memory");
    }
    return 0;
}

/* Ends a key-string (col < 0: end of file, just leave the mode). The blob is the SSH wire form of
 * the key (RFC 4253 6.6): a string naming its type first. IOS stores it as key-hash TYPE MD5. */
int cfg_keystring_end(struct cfg_pctx *p, int col)
{
    unsigned char *blob = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    struct cfg_key k;
    int rc = -1;
    size_t n = p->ks.len;
    p->mode = CFG_PM_PKUSER;
    if (col < 0)
        return 0;
    col = 1;
    blob = malloc(n / 4 * 3 + 1);
    if (blob == NULL)
        return cfg_fail(p, col, "out of memory");
    int dl = b64_decode(p->ks.p, n, blob, n / 4 * 3 + 1);
    if (dl < 0) {
        cfg_fail(p, col, "key-string is not valid base64");
        goto out;
    }
    size_t bl = (size_t)dl;
    size_t tl = bl >= 4 ? ((size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
                           (size_t)blob[2] << 8 | blob[3])
                        : 0;
    memset(&k, 0, sizeof k);
    if (bl < 4 || tl == 0 || tl >= sizeof k.type || tl > bl - 4) {
        cfg_fail(p, col, "key-string is not an SSH public key");
        goto out;
    }
    for (size_t i = 0; i < tl; i++) {
        char ch = (char)blob[4 + i];
        if (strchr("abcdefghijklmnopqrstuvwxyz0123456789-@.", ch) == NULL || ch == '\0') {
            cfg_fail(p, col, "key-string is not an SSH public key");
            goto out;
        }
        k.type[i] = ch;
    }
    if (EVP_Digest(blob, bl, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16) {
        cfg_fail(p, col, "cannot hash the key");
        goto out;
    }
    for (unsigned i = 0; i < 16; i++)
        snprintf(k.hash + 2 * i, 3, "%02X", md[i]);
    rc = key_add(p, &k, col);
out:
    free(blob);
    return rc;
}

/* ---- ip scp server enable, login block-for --------------------------------------------------- */

static int scp_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (no_more(p, l, i))
        return -1;
    p->c->scp_enable = true;
    return 0;
}

static int scp_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (no_more(p, l, i))
        return -1;
    p->c->scp_enable = false;
    return 0;
}

static void scp_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->scp_enable)
        cfg_buf_puts(b, "ip scp server enable\n");
    else if (all)
        cfg_buf_puts(b, "no ip scp server enable\n");
}

/* IOS: login block-for <1-65535> attempts <1-65535> within <1-65535>. */
static int block_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int secs, tries, within;
    if (need(p, l, i, "seconds (1-65535)") || num(p, &l->t[i], 1, 65535, &secs) ||
        need(p, l, i + 1, "'attempts'"))
        return -1;
    if (!is(&l->t[i + 1], "attempts"))
        return cfg_fail(p, l->t[i + 1].col, "'attempts' expected");
    if (need(p, l, i + 2, "attempts (1-65535)") || num(p, &l->t[i + 2], 1, 65535, &tries) ||
        need(p, l, i + 3, "'within'"))
        return -1;
    if (!is(&l->t[i + 3], "within"))
        return cfg_fail(p, l->t[i + 3].col, "'within' expected");
    if (need(p, l, i + 4, "seconds (1-65535)") || num(p, &l->t[i + 4], 1, 65535, &within) ||
        no_more(p, l, i + 5))
        return -1;
    p->c->block_secs = secs;
    p->c->block_attempts = tries;
    p->c->block_within = within;
    return 0;
}

static int block_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->block_secs = p->c->block_attempts = p->c->block_within = 0;
    return 0;
}

static void block_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->block_secs > 0)
        cfg_buf_printf(b, "login block-for %d attempts %d within %d\n", c->block_secs,
                       c->block_attempts, c->block_within);
}


/* ---- line vty ------------------------------------------------------------------------------- */

/* `line vty FIRST [LAST]`: one set of vty settings serves every SSH session; blocks for several
 * ranges (`line vty 0 4`, `line vty 5 15`) widen the range and share the settings. */
static int vty_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int first, last;
    if (need(p, l, i, "first line (0-" LIM_STR(LIM_CFG_VTY_LAST) ")") ||
        num(p, &l->t[i], 0, LIM_CFG_VTY_LAST, &first))
        return -1;
    last = first;
    if (i + 1 < l->n && (num(p, &l->t[i + 1], first, LIM_CFG_VTY_LAST, &last) ||
                         no_more(p, l, i + 2)))
        return -1;
    struct cfg_vty *v = &p->c->vty;
    if (v->last < 0) {
        v->first = first;
        v->last = last;
    } else {
        v->first = first < v->first ? first : v->first;
        v->last = last > v->last ? last : v->last;
    }
    p->mode = CFG_PM_LINE;
    return 0;
}

/* `no line vty ...`: back to the defaults (IOS keeps vty 0 4; so does the daemon, unfiltered). */
static int vty_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    memset(&p->c->vty, 0, sizeof p->c->vty);
    p->c->vty.last = -1;
    p->c->vty.exec_timeout = CFG_DEFAULT_EXEC_TIMEOUT;
    return 0;
}

static void vty_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    const struct cfg_vty *v = &c->vty;
    if (v->last < 0)
        return;
    cfg_buf_printf(b, "line vty %d %d\n", v->first, v->last);
    if (v->access_class[0] != '\0')
        cfg_buf_printf(b, " access-class %s in\n", v->access_class);
    if (v->exec_timeout != CFG_DEFAULT_EXEC_TIMEOUT || all)
        cfg_buf_printf(b, " exec-timeout %d %d\n", v->exec_timeout / 60, v->exec_timeout % 60);
    if (v->login_list[0] != '\0')
        cfg_buf_printf(b, " login authentication %s\n", v->login_list);
    if (v->transport != 0) {
        cfg_buf_puts(b, " transport input");
        if (v->transport & CFG_TI_ALL)
            cfg_buf_puts(b, " all");
        if (v->transport & CFG_TI_NONE)
            cfg_buf_puts(b, " none");
        if (v->transport & CFG_TI_SSH)
            cfg_buf_puts(b, " ssh");
        if (v->transport & CFG_TI_TELNET)
            cfg_buf_puts(b, " telnet");
        cfg_buf_puts(b, "\n");
    }
}

static int loginauth_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (need(p, l, i, "list name (default or a name)") || name_ok(p, &l->t[i], "list name") ||
        no_more(p, l, i + 1))
        return -1;
    /* `login authentication default` is what no list means: shown as nothing */
    snprintf(p->c->vty.login_list, sizeof p->c->vty.login_list, "%s",
             is(&l->t[i], "default") ? "" : l->t[i].s);
    return 0;
}

static int loginauth_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->vty.login_list[0] = '\0';
    return 0;
}

/* exec-timeout MINUTES [SECONDS] (IOS: 0-35791, 0-2147483); 0 0 never times out. */
static int exectimeout_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int m, sec = 0;
    if (need(p, l, i, "minutes (0-35791)") || num(p, &l->t[i], 0, 35791, &m))
        return -1;
    if (i + 1 < l->n && (num(p, &l->t[i + 1], 0, 59, &sec) || no_more(p, l, i + 2)))
        return -1;
    p->c->vty.exec_timeout = m * 60 + sec;
    return 0;
}

static int exectimeout_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->vty.exec_timeout = CFG_DEFAULT_EXEC_TIMEOUT;
    return 0;
}

static int transport_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    static const struct { const char *w; int bit; } kinds[] = {
        {"all", CFG_TI_ALL}, {"none", CFG_TI_NONE}, {"ssh", CFG_TI_SSH}, {"telnet", CFG_TI_TELNET},
    };
    int bits = 0;
    if (need(p, l, i, "protocol (ssh, telnet, all, none)"))
        return -1;
    for (; i < l->n; i++) {
        int bit = 0;
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            if (is(&l->t[i], kinds[k].w))
                bit = kinds[k].bit;
        if (bit == 0)
            return cfg_fail(p, l->t[i].col, "unknown protocol (ssh, telnet, all, none)");
        if ((bits & bit) || ((bit | bits) & (CFG_TI_ALL | CFG_TI_NONE) && bits != 0))
            return cfg_fail(p, l->t[i].col, "protocol given twice or with all/none");
        bits |= bit;
    }
    p->c->vty.transport = bits;
    return 0;
}

static int transport_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->vty.transport = 0;
    return 0;
}

static int accessclass_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (need(p, l, i, "access list name") || name_ok(p, &l->t[i], "access list name") ||
        need(p, l, i + 1, "'in'"))
        return -1;
    if (!is(&l->t[i + 1], "in"))
        return cfg_fail(p, l->t[i + 1].col, "'in' expected (only incoming connections are "
                                            "filtered)");
    if (no_more(p, l, i + 2))
        return -1;
    snprintf(p->c->vty.access_class, sizeof p->c->vty.access_class, "%s", l->t[i].s);
    return 0;
}

static int accessclass_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->vty.access_class[0] = '\0';
    return 0;
}

/* ---- ip access-list standard ---------------------------------------------------------------- */

static struct cfg_acl *acl_get(struct cfg_pctx *p, const char *name, bool create, int col)
{
    struct cfg *c = p->c;
    int k = 0;
    while (k < c->n_acls && strcmp(c->acls[k].name, name) < 0)
        k++;
    if (k < c->n_acls && strcmp(c->acls[k].name, name) == 0)
        return &c->acls[k];
    if (!create)
        return NULL;
    if (c->n_acls >= LIM_CFG_ACLS) {
        cfg_fail(p, col, "too many access lists (at most %d)", LIM_CFG_ACLS);
        return NULL;
    }
    memmove(&c->acls[k + 1], &c->acls[k], (size_t)(c->n_acls - k) * sizeof c->acls[0]);
    memset(&c->acls[k], 0, sizeof c->acls[k]);
    snprintf(c->acls[k].name, sizeof c->acls[k].name, "%s", name);
    c->n_acls++;
    return &c->acls[k];
}

static int nacl_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (need(p, l, i, "access list name") || name_ok(p, &l->t[i], "access list name") ||
        no_more(p, l, i + 1))
        return -1;
    if (acl_get(p, l->t[i].s, true, l->t[i].col) == NULL)
        return -1;
    snprintf(p->block, sizeof p->block, "%s", l->t[i].s);
    p->mode = CFG_PM_NACL;
    return 0;
}

static int nacl_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg *c = p->c;
    if (need(p, l, i, "access list name") || name_ok(p, &l->t[i], "access list name"))
        return -1;
    struct cfg_acl *a = acl_get(p, l->t[i].s, false, 0);
    if (a != NULL) {
        int k = (int)(a - c->acls);
        memmove(&c->acls[k], &c->acls[k + 1], (size_t)(c->n_acls - k - 1) * sizeof c->acls[0]);
        c->n_acls--;
    }
    return 0;
}

static void addr_text(char *buf, size_t cap, uint32_t a)
{
    snprintf(buf, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void nacl_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    for (int k = 0; k < c->n_acls; k++) {
        const struct cfg_acl *a = &c->acls[k];
        cfg_buf_printf(b, "ip access-list standard %s\n", a->name);
        for (int j = 0; j < a->n; j++) {
            const struct cfg_ace *e = &a->e[j];
            char ad[16], wd[16];
            cfg_buf_printf(b, " %s", e->permit ? "permit" : "deny");
            addr_text(ad, sizeof ad, e->addr);
            addr_text(wd, sizeof wd, e->wild);
            if (e->wild == 0xffffffffu)
                cfg_buf_puts(b, " any\n");
            else if (e->wild == 0)
                cfg_buf_printf(b, " %s\n", ad);
            else
                cfg_buf_printf(b, " %s %s\n", ad, wd);
        }
    }
}

static int ipv4(struct cfg_pctx *p, const struct cfg_tok *t, uint32_t *out)
{
    struct in_addr in;
    if (t->len > 15 || strspn(t->s, "0123456789.") != t->len || inet_pton(AF_INET, t->s, &in) != 1)
        return cfg_fail(p, t->col, "IPv4 address expected (A.B.C.D)");
    *out = ntohl(in.s_addr);
    return 0;
}

/* permit|deny {any | host A.B.C.D | A.B.C.D [WILDCARD]} from word i. */
static int ace_parse(struct cfg_pctx *p, const struct cfg_line *l, int i, struct cfg_ace *e)
{
    memset(e, 0, sizeof *e);
    if (need(p, l, i, "source (any, host A.B.C.D or A.B.C.D [WILDCARD])"))
        return -1;
    if (is(&l->t[i], "any")) {
        e->wild = 0xffffffffu;
        return no_more(p, l, i + 1);
    }
    if (is(&l->t[i], "host")) {
        if (need(p, l, i + 1, "host address") || ipv4(p, &l->t[i + 1], &e->addr))
            return -1;
        return no_more(p, l, i + 2);
    }
    if (ipv4(p, &l->t[i], &e->addr))
        return -1;
    if (i + 1 < l->n && (ipv4(p, &l->t[i + 1], &e->wild) || no_more(p, l, i + 2)))
        return -1;
    e->addr &= ~e->wild;   /* IOS keeps the address masked by its wildcard */
    return 0;
}

static int ace_apply(struct cfg_pctx *p, const struct cfg_line *l, int i, bool permit)
{
    struct cfg_ace e;
    if (ace_parse(p, l, i, &e))
        return -1;
    e.permit = permit;
    struct cfg_acl *a = acl_get(p, p->block, false, 0);
    if (a == NULL)
        return cfg_fail(p, l->t[0].col, "no access list selected");
    for (int j = 0; j < a->n; j++)
        if (a->e[j].permit == e.permit && a->e[j].addr == e.addr && a->e[j].wild == e.wild)
            return 0;   /* IOS: an entry given twice is kept once */
    if (a->n >= LIM_CFG_ACES)
        return cfg_fail(p, l->t[0].col, "too many entries (at most %d)", LIM_CFG_ACES);
    a->e[a->n++] = e;
    return 0;
}

static int ace_del(struct cfg_pctx *p, const struct cfg_line *l, int i, bool permit)
{
    struct cfg_ace e;
    if (ace_parse(p, l, i, &e))
        return -1;
    struct cfg_acl *a = acl_get(p, p->block, false, 0);
    for (int j = 0; a != NULL && j < a->n; j++)
        if (a->e[j].permit == permit && a->e[j].addr == e.addr && a->e[j].wild == e.wild) {
            memmove(&a->e[j], &a->e[j + 1], (size_t)(a->n - j - 1) * sizeof e);
            a->n--;
            break;
        }
    return 0;
}

static int permit_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return ace_apply(p, l, i, true);
}
static int permit_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return ace_del(p, l, i, true);
}
static int deny_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return ace_apply(p, l, i, false);
}
static int deny_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return ace_del(p, l, i, false);
}

/* ---- banner motd|login DELIM text DELIM ----------------------------------------------------- */

/* The text runs from after the delimiter (the first character after the keyword, or IOS's
 * rendering "^C") to its next occurrence, over as many lines as it takes. Stored as typed
 * between the delimiters (line ends included) and rendered with "^C", as IOS shows it; a text
 * holding "^C" could not be read back, so it is refused. */
static int banner_add(struct cfg_pctx *p, const char *s, size_t n, int col)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)s[k];
        if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch >= 0x7f)
            return cfg_fail(p, col + (int)k, "banner text must be printable ASCII");
        if (ch == '^' && k + 1 < n && s[k + 1] == 'C')
            return cfg_fail(p, col + (int)k, "banner text must not contain ^C");
    }
    if (p->banner.len + n > LIM_CFG_BANNER_LEN)
        return cfg_fail(p, col, "banner too long (at most %d characters)", LIM_CFG_BANNER_LEN);
    cfg_buf_add(&p->banner, s, n);
    return p->banner.oom ? cfg_fail(p, col, "out of memory") : 0;
}

/* Text s (one raw line or the rest of the first one): 1 when the delimiter ended the banner. */
static int banner_take(struct cfg_pctx *p, const char *s, int col)
{
    const char *end = strstr(s, p->bdelim);
    size_t n = end ? (size_t)(end - s) : strlen(s);
    if (banner_add(p, s, n, col) != 0)
        return -1;
    if (end == NULL)
        return banner_add(p, "\n", 1, col) != 0 ? -1 : 0;
    char *dst = p->blogin ? p->c->banner_login : p->c->banner_motd;
    snprintf(dst, LIM_CFG_BANNER_LEN + 1, "%s", p->banner.len ? p->banner.p : "");
    p->banner.len = 0;
    p->mode = CFG_PM_TOP;
    return 1;
}

int cfg_banner_data(struct cfg_pctx *p, const char *raw)
{
    return banner_take(p, raw, 1) < 0 ? -1 : 0;
}

static int banner_start(struct cfg_pctx *p, const struct cfg_line *l, int i, bool login)
{
    if (need(p, l, i, "delimiting character and the text"))
        return -1;
    const char *s = l->raw + l->t[i].col - 1;
    size_t dl = strncmp(s, "^C", 2) == 0 ? 2 : 1;
    memcpy(p->bdelim, s, dl);
    p->bdelim[dl] = '\0';
    p->blogin = login;
    p->banner.len = 0;
    p->banner.oom = false;
    p->mode = CFG_PM_BANNER;
    if (banner_take(p, s + dl, l->t[i].col + (int)dl) < 0) {
        p->mode = CFG_PM_TOP;
        return -1;
    }
    return 0;
}

static int motd_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return banner_start(p, l, i, false);
}
static int login_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return banner_start(p, l, i, true);
}
static int motd_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->banner_motd[0] = '\0';
    return 0;
}
static int login_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->banner_login[0] = '\0';
    return 0;
}

static void banner_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->banner_login[0] != '\0')
        cfg_buf_printf(b, "banner login ^C%s^C\n", c->banner_login);
    if (c->banner_motd[0] != '\0')
        cfg_buf_printf(b, "banner motd ^C%s^C\n", c->banner_motd);
}

/* ---- file prompt quiet, logging buffered (issue 12: the EXEC copy and show logging) ---------- */

/* IOS: `file prompt [alert|noisy|quiet]`; only quiet changes anything here (no questions from
 * copy and delete), alert is the default, noisy is taken as alert. */
static int fprompt_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (i < l->n && !is(&l->t[i], "quiet") && !is(&l->t[i], "alert") && !is(&l->t[i], "noisy"))
        return cfg_fail(p, l->t[i].col, "'alert', 'noisy' or 'quiet' expected");
    if (i < l->n && no_more(p, l, i + 1))
        return -1;
    p->c->file_prompt_quiet = i < l->n && is(&l->t[i], "quiet");
    return 0;
}

static int fprompt_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->file_prompt_quiet = false;
    return 0;
}

static void fprompt_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->file_prompt_quiet)
        cfg_buf_puts(b, "file prompt quiet\n");
    else if (all)
        cfg_buf_puts(b, "file prompt alert\n");
}

/* IOS: logging buffered [SIZE] (4096-...); no logging buffered: off. */
static int logbuf_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int v = CFG_DEFAULT_LOG_BUFFER;
    if (i < l->n && (num(p, &l->t[i], CFG_LOG_BUFFER_MIN, CFG_LOG_BUFFER_MAX, &v) ||
                     no_more(p, l, i + 1)))
        return -1;
    p->c->log_buffer = v;
    return 0;
}

static int logbuf_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->log_buffer = 0;
    return 0;
}

static void logbuf_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->log_buffer == 0)
        cfg_buf_puts(b, "no logging buffered\n");
    else if (all || c->log_buffer != CFG_DEFAULT_LOG_BUFFER)
        cfg_buf_printf(b, "logging buffered %d\n", c->log_buffer);
}

/* ---- the table ------------------------------------------------------------------------------- */

/* `no` forms of plain settings ignore trailing arguments, as IOS does (`no ip ssh time-out 60`). */
const struct cfg_cmd cfg_cmds[] = {
    {CFG_PM_TOP, {"service", "password-encryption"}, pwenc_apply, pwenc_no, pwenc_render, 0,
     "service password-encryption"},
    {CFG_PM_TOP, {"hostname"}, hostname_apply, hostname_no, hostname_render, 0,
     "hostname NAME"},
    {CFG_PM_TOP, {"enable", "secret"}, enable_apply, enable_no, enable_render, 0,
     "enable secret [0|5|8|9] SECRET"},
    {CFG_PM_TOP, {"aaa", "new-model"}, newmodel_apply, newmodel_no, newmodel_render, 1,
     "aaa new-model"},
    /* network AAA (cfg_aaa.c): server groups render before the lists that name them */
    {CFG_PM_TOP, {"aaa", "group", "server"}, cfg_aaa_group, cfg_aaa_group_no,
     cfg_aaa_group_render, 1, "aaa group server {tacacs+|radius} NAME"},
    {CFG_PM_SGROUP, {"server", "name"}, cfg_aaa_grp_server, cfg_aaa_grp_server_no, NULL, 1,
     " server name NAME"},
    {CFG_PM_SGROUP, {"deadtime"}, cfg_aaa_grp_deadtime, cfg_aaa_grp_deadtime_no, NULL, 1,
     " deadtime 1-1440"},
    {CFG_PM_TOP, {"aaa", "authentication", "login"}, authn_apply, authn_no, authn_render, 1,
     "aaa authentication login {default|LIST} METHOD..."},
    {CFG_PM_TOP, {"aaa", "authorization", "exec"}, authz_apply, authz_no, authz_render, 1,
     "aaa authorization exec {default|LIST} METHOD..."},
    {CFG_PM_TOP, {"aaa", "accounting", "exec"}, cfg_aaa_acct, cfg_aaa_acct_no,
     cfg_aaa_acct_render, 1, "aaa accounting exec {default|LIST} {start-stop|stop-only} "
     "group GROUP..."},
    {CFG_PM_TOP, {"aaa", "accounting", "commands", "15"}, cfg_aaa_acct, cfg_aaa_acct_no, NULL, 1,
     "aaa accounting commands 15 {default|LIST} {start-stop|stop-only} group GROUP..."},
    {CFG_PM_TOP, {"username"}, username_apply, username_no, username_render, 2,
     "username NAME [privilege 0-15] {password [0|7] PW | secret [0|5|8|9] SECRET}"},
    {CFG_PM_TOP, {"ip", "domain", "name"}, domain_apply, domain_no, domain_render, 3,
     "ip domain name NAME"},
    {CFG_PM_TOP, {"ip", "ssh", "version"}, sshver_apply, sshver_no, sshver_render, 3,
     "ip ssh version 2"},
    {CFG_PM_TOP, {"ip", "ssh", "time-out"}, timeout_apply, timeout_no, timeout_render, 3,
     "ip ssh time-out 1-120"},
    {CFG_PM_TOP, {"ip", "ssh", "authentication-retries"}, retries_apply, retries_no,
     retries_render, 3, "ip ssh authentication-retries 0-5"},
    {CFG_PM_TOP, {"ip", "ssh", "session-lifetime"}, lifetime_apply, lifetime_no, lifetime_render,
     3, "ip ssh session-lifetime 1-" LIM_STR(LIM_SSH_LIFETIME_MAX_SECS)},
    {CFG_PM_TOP, {"ip", "ssh", "pubkey-chain"}, pkchain_apply, pkchain_no, pkchain_render, 3,
     "ip ssh pubkey-chain"},
    {CFG_PM_PKCHAIN, {"username"}, pkuser_apply, pkuser_no, NULL, 3, " username NAME"},
    {CFG_PM_PKCHAIN, {"server"}, pkserver_apply, pkserver_no, NULL, 3, " server HOST"}, /* i12 */
    {CFG_PM_PKUSER, {"key-string"}, keystring_apply, NULL, NULL, 3, "  key-string"},
    {CFG_PM_PKUSER, {"key-hash"}, keyhash_apply, keyhash_no, NULL, 3,
     "  key-hash TYPE HASH [COMMENT]"},
    {CFG_PM_TOP, {"ip", "scp", "server", "enable"}, scp_apply, scp_no, scp_render, 3,
     "ip scp server enable"},
    {CFG_PM_TOP, {"login", "block-for"}, block_apply, block_no, block_render, 3,
     "login block-for SECS attempts N within SECS"},
    /* network AAA servers (cfg_aaa.c); sub-mode rows of both server kinds share functions */
    {CFG_PM_TOP, {"tacacs", "server"}, cfg_aaa_tacacs, cfg_aaa_tacacs_no, cfg_aaa_tacacs_render,
     4, "tacacs server NAME"},
    {CFG_PM_TACACS, {"address"}, cfg_aaa_srv_address, cfg_aaa_srv_address_no, NULL, 4,
     " address {ipv4|ipv6} ADDRESS"},
    {CFG_PM_TACACS, {"port"}, cfg_aaa_srv_port, cfg_aaa_srv_port_no, NULL, 4, " port 1-65535"},
    {CFG_PM_TACACS, {"key"}, cfg_aaa_srv_key, cfg_aaa_srv_key_no, NULL, 4, " key [0|6|7] KEY"},
    {CFG_PM_TACACS, {"timeout"}, cfg_aaa_srv_timeout, cfg_aaa_srv_timeout_no, NULL, 4,
     " timeout 1-1000"},
    {CFG_PM_TACACS, {"single-connection"}, cfg_aaa_srv_single, cfg_aaa_srv_single_no, NULL, 4,
     " single-connection"},
    {CFG_PM_TOP, {"radius-server", "dead-criteria"}, cfg_aaa_dead_criteria,
     cfg_aaa_dead_criteria_no, cfg_aaa_radglobal_render, 5,
     "radius-server dead-criteria time 1-120 tries 1-100"},
    {CFG_PM_TOP, {"radius-server", "deadtime"}, cfg_aaa_rad_deadtime, cfg_aaa_rad_deadtime_no,
     NULL, 5, "radius-server deadtime 1-1440"},
    {CFG_PM_TOP, {"radius", "server"}, cfg_aaa_radius, cfg_aaa_radius_no, cfg_aaa_radius_render,
     5, "radius server NAME"},
    {CFG_PM_RADIUS, {"address"}, cfg_aaa_srv_address, cfg_aaa_srv_address_no, NULL, 5,
     " address {ipv4|ipv6} ADDRESS [auth-port 0-65535] [acct-port 0-65535]"},
    {CFG_PM_RADIUS, {"key"}, cfg_aaa_srv_key, cfg_aaa_srv_key_no, NULL, 5, " key [0|6|7] KEY"},
    {CFG_PM_RADIUS, {"timeout"}, cfg_aaa_srv_timeout, cfg_aaa_srv_timeout_no, NULL, 5,
     " timeout 1-1000"},
    {CFG_PM_RADIUS, {"retransmit"}, cfg_aaa_srv_retransmit, cfg_aaa_srv_retransmit_no, NULL, 5,
     " retransmit 0-100"},
    {CFG_PM_TOP, {"ip", "access-list", "standard"}, nacl_apply, nacl_no, nacl_render, 4,
     "ip access-list standard NAME"},
    {CFG_PM_NACL, {"permit"}, permit_apply, permit_no, NULL, 4,
     " permit {any | host A.B.C.D | A.B.C.D [WILDCARD]}"},
    {CFG_PM_NACL, {"deny"}, deny_apply, deny_no, NULL, 4,
     " deny {any | host A.B.C.D | A.B.C.D [WILDCARD]}"},
    {CFG_PM_TOP, {"banner", "login"}, login_apply, login_no, banner_render, 5,
     "banner login DELIM TEXT DELIM"},
    {CFG_PM_TOP, {"banner", "motd"}, motd_apply, motd_no, NULL, 5,
     "banner motd DELIM TEXT DELIM"},
    {CFG_PM_TOP, {"line", "vty"}, vty_apply, vty_no, vty_render, 6, "line vty FIRST [LAST]"},
    {CFG_PM_LINE, {"access-class"}, accessclass_apply, accessclass_no, NULL, 6,
     " access-class NAME in"},
    {CFG_PM_LINE, {"exec-timeout"}, exectimeout_apply, exectimeout_no, NULL, 6,
     " exec-timeout MINUTES [SECONDS]"},
    {CFG_PM_LINE, {"login", "authentication"}, loginauth_apply, loginauth_no, NULL, 6,
     " login authentication {default|LIST}"},
    {CFG_PM_LINE, {"transport", "input"}, transport_apply, transport_no, NULL, 6,
     " transport input {ssh|telnet|all|none}..."},
    /* issue 12: copy/delete prompts, the log buffer of `show logging` */
    {CFG_PM_TOP, {"file", "prompt"}, fprompt_apply, fprompt_no, fprompt_render, 4,
     "file prompt [alert|noisy|quiet]"},
    {CFG_PM_TOP, {"logging", "buffered"}, logbuf_apply, logbuf_no, logbuf_render, 4,
     "logging buffered [4096-4194304]"},
};
const size_t cfg_ncmds = sizeof cfg_cmds / sizeof cfg_cmds[0];

/* The rows above with a secret argument (as typed: `username x secret 9 <hidden>`). */
const struct cfg_secret cfg_secrets[] = {
    {{"username"}, {"password", "secret"}, 2},   /* after the user name */
    {{"enable", "secret"}, {"secret"}, 1},
    {{"key"}, {"key"}, 0},                       /* tacacs server / radius server */
};
const size_t cfg_nsecrets = sizeof cfg_secrets / sizeof cfg_secrets[0];

/* IOS's prompts of these sub-modes (configuration mode at a terminal: `R1(config-pubkey-key)#`). */
const struct cfg_mode_info cfg_modes[] = {
    {CFG_PM_TOP, CFG_PM_TOP, "config"},
    {CFG_PM_PKCHAIN, CFG_PM_TOP, "config-pubkey-chain"},
    {CFG_PM_PKUSER, CFG_PM_PKCHAIN, "config-pubkey-key"},
    {CFG_PM_KEYSTRING, CFG_PM_PKUSER, "config-pubkey"},
    {CFG_PM_LINE, CFG_PM_TOP, "config-line"},
    {CFG_PM_NACL, CFG_PM_TOP, "config-std-nacl"},
    {CFG_PM_BANNER, CFG_PM_TOP, NULL},   /* text lines: no prompt, as in IOS */
    {CFG_PM_TACACS, CFG_PM_TOP, "config-server-tacacs"},
    {CFG_PM_RADIUS, CFG_PM_TOP, "config-radius-server"},
    {CFG_PM_SGROUP, CFG_PM_TOP, "config-sg"},
};
const size_t cfg_nmodes = sizeof cfg_modes / sizeof cfg_modes[0];
