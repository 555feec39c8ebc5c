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

/* `password [0|7] PW` or `secret [0|5|8|9] SECRET` from word i; plaintext is hashed to type 9. */
static int parse_secret(struct cfg_pctx *p, const struct cfg_line *l, int i, int *type,
                        char *out, size_t cap)
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
    if (secret_hash9(plain, out, cap) != 0)
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
        if (parse_secret(p, l, i, &type, secret, sizeof secret) != 0)
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

/* ---- ip ssh ---------------------------------------------------------------------------------- */

static int sshver_apply(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int v;
    if (need(p, l, i, "version (2)") || num(p, &l->t[i], 1, 2, &v) || no_more(p, l, i + 1))
        return -1;
    if (v == 1)
        return cfg_fail(p, l->t[i].col, "SSH version 1 is not supported");
    p->c->ssh_version = 2;
    return 0;
}

static int ignore_rest(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return 0;
}

static void sshver_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (all)
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

/* ---- the table ------------------------------------------------------------------------------- */

/* `no` forms of plain settings ignore trailing arguments, as IOS does (`no ip ssh time-out 60`). */
const struct cfg_cmd cfg_cmds[] = {
    {CFG_PM_TOP, {"hostname"}, hostname_apply, hostname_no, hostname_render, 0,
     "hostname NAME"},
    {CFG_PM_TOP, {"aaa", "new-model"}, newmodel_apply, newmodel_no, newmodel_render, 1,
     "aaa new-model"},
    {CFG_PM_TOP, {"aaa", "authentication", "login"}, authn_apply, authn_no, authn_render, 1,
     "aaa authentication login {default|LIST} METHOD..."},
    {CFG_PM_TOP, {"aaa", "authorization", "exec"}, authz_apply, authz_no, authz_render, 1,
     "aaa authorization exec {default|LIST} METHOD..."},
    {CFG_PM_TOP, {"username"}, username_apply, username_no, username_render, 2,
     "username NAME [privilege 0-15] {password [0|7] PW | secret [0|5|8|9] SECRET}"},
    {CFG_PM_TOP, {"ip", "ssh", "version"}, sshver_apply, ignore_rest, sshver_render, 3,
     "ip ssh version 2"},
    {CFG_PM_TOP, {"ip", "ssh", "time-out"}, timeout_apply, timeout_no, timeout_render, 3,
     "ip ssh time-out 1-120"},
    {CFG_PM_TOP, {"ip", "ssh", "authentication-retries"}, retries_apply, retries_no,
     retries_render, 3, "ip ssh authentication-retries 0-5"},
    {CFG_PM_TOP, {"ip", "ssh", "pubkey-chain"}, pkchain_apply, pkchain_no, pkchain_render, 3,
     "ip ssh pubkey-chain"},
    {CFG_PM_PKCHAIN, {"username"}, pkuser_apply, pkuser_no, NULL, 3, " username NAME"},
    {CFG_PM_PKUSER, {"key-string"}, keystring_apply, NULL, NULL, 3, "  key-string"},
    {CFG_PM_PKUSER, {"key-hash"}, keyhash_apply, keyhash_no, NULL, 3,
     "  key-hash TYPE HASH [COMMENT]"},
    {CFG_PM_TOP, {"ip", "scp", "server", "enable"}, scp_apply, scp_no, scp_render, 3,
     "ip scp server enable"},
    {CFG_PM_TOP, {"login", "block-for"}, block_apply, block_no, block_render, 3,
     "login block-for SECS attempts N within SECS"},
};
const size_t cfg_ncmds = sizeof cfg_cmds / sizeof cfg_cmds[0];
