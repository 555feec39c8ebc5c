/* cfg: the configuration model as a value: life cycle, equality, lookups, the line diff of two
 * renderings and the error report. Parsing lives in cfg_parse.c, the command table in cfg_cmds.c,
 * the rendering driver in cfg_render.c.
 *
 * The model keeps its collections as arrays sorted by name, so lookups are binary searches and a
 * 10,000-user configuration costs one qsort when it is built, not one memmove per insertion.
 * Strings inside the model are always NUL-terminated and compared with strcmp (never memcmp of
 * whole structs: bytes after a NUL are not part of the value).
 */
#include "store/cfg.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/cfg_int.h"

/* ---- buffer ---------------------------------------------------------------------------------- */

static bool buf_reserve(struct cfg_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *np = realloc(b->p, cap);
    if (np == NULL) {
        b->oom = true;
        return false;
    }
    b->p = np;
    b->cap = cap;
    return true;
}

void cfg_buf_add(struct cfg_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void cfg_buf_puts(struct cfg_buf *b, const char *s)
{
    cfg_buf_add(b, s, strlen(s));
}

void cfg_buf_printf(struct cfg_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        cfg_buf_add(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *cfg_buf_take(struct cfg_buf *b, size_t *len)
{
    if (!b->oom && !buf_reserve(b, 0))
        b->oom = true;
    if (b->oom) {
        free(b->p);
        b->p = NULL;
        b->len = b->cap = 0;
        return NULL;
    }
    char *p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

/* Back to the defaults, freeing the arrays. */
static void cfg_reset(struct cfg *c)
{
    free(c->authn);
    free(c->authz);
    free(c->users);
    free(c->pkusers);
    free(c->servers);
    free(c->groups);
    free(c->acct);
    memset(c, 0, sizeof *c);
    snprintf(c->hostname, sizeof c->hostname, "%s", CFG_DEFAULT_HOSTNAME);
    c->ssh_version = 2;
    c->ssh_timeout = CFG_DEFAULT_SSH_TIMEOUT;
    c->ssh_retries = CFG_DEFAULT_SSH_RETRIES;
    c->vty.last = -1;
    c->vty.exec_timeout = CFG_DEFAULT_EXEC_TIMEOUT;
    c->log_buffer = CFG_DEFAULT_LOG_BUFFER;
    c->ssh_lifetime = CFG_DEFAULT_SSH_LIFETIME;
}

struct cfg *cfg_new_default(void)
{
    struct cfg *c = calloc(1, sizeof *c);
    if (c != NULL)
        cfg_reset(c);
    return c;
}

void cfg_free(struct cfg *c)
{
    if (c == NULL)
        return;
    free(c->authn);
    free(c->authz);
    free(c->users);
    free(c->pkusers);
    free(c->servers);
    free(c->groups);
    free(c->acct);
    free(c);
}

static void *dup_array(const void *p, size_t n, size_t size, bool *fail)
{
    if (n == 0)
        return NULL;
    void *q = malloc(n * size);
    if (q == NULL)
        *fail = true;
    else
        memcpy(q, p, n * size);
    return q;
}

struct cfg *cfg_clone(const struct cfg *c)
{
    struct cfg *d = malloc(sizeof *d);
    bool fail = false;
    if (d == NULL || c == NULL) {
        free(d);
        return NULL;
    }
    *d = *c;
    d->authn = dup_array(c->authn, c->n_authn, sizeof *c->authn, &fail);
    d->authz = dup_array(c->authz, c->n_authz, sizeof *c->authz, &fail);
    d->users = dup_array(c->users, c->n_users, sizeof *c->users, &fail);
    d->pkusers = dup_array(c->pkusers, c->n_pkusers, sizeof *c->pkusers, &fail);
    d->servers = dup_array(c->servers, c->n_servers, sizeof *c->servers, &fail);
    d->groups = dup_array(c->groups, c->n_groups, sizeof *c->groups, &fail);
    d->acct = dup_array(c->acct, c->n_acct, sizeof *c->acct, &fail);
    if (fail) {
        cfg_free(d);
        return NULL;
    }
    return d;
}

/* ---- equality -------------------------------------------------------------------------------- */

bool cfg_mlist_equal(const struct cfg_mlist *a, const struct cfg_mlist *b)
{
    if (strcmp(a->name, b->name) != 0 || a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++) {
        if (a->m[i].kind != b->m[i].kind)
            return false;
        if (a->m[i].kind == CFG_M_GROUP && strcmp(a->m[i].group, b->m[i].group) != 0)
            return false;
    }
    return true;
}

bool cfg_user_equal(const struct cfg_user *a, const struct cfg_user *b)
{
    return strcmp(a->name, b->name) == 0 && a->privilege == b->privilege &&
           a->secret_type == b->secret_type && strcmp(a->secret, b->secret) == 0;
}

bool cfg_pkuser_equal(const struct cfg_pkuser *a, const struct cfg_pkuser *b)
{
    if (strcmp(a->name, b->name) != 0 || a->nkeys != b->nkeys)
        return false;
    for (int i = 0; i < a->nkeys; i++)
        if (strcmp(a->keys[i].type, b->keys[i].type) != 0 ||
            strcmp(a->keys[i].hash, b->keys[i].hash) != 0 ||
            strcmp(a->keys[i].comment, b->keys[i].comment) != 0)
            return false;
    return true;
}

bool cfg_vty_equal(const struct cfg_vty *a, const struct cfg_vty *b)
{
    return a->first == b->first && a->last == b->last &&
           strcmp(a->login_list, b->login_list) == 0 && a->exec_timeout == b->exec_timeout &&
           a->transport == b->transport && strcmp(a->access_class, b->access_class) == 0;
}

bool cfg_acl_equal(const struct cfg_acl *a, const struct cfg_acl *b)
{
    if (strcmp(a->name, b->name) != 0 || a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++)
        if (a->e[i].permit != b->e[i].permit || a->e[i].addr != b->e[i].addr ||
            a->e[i].wild != b->e[i].wild)
            return false;
    return true;
}

bool cfg_acls_equal(const struct cfg *a, const struct cfg *b)
{
    if (a->n_acls != b->n_acls)
        return false;
    for (int i = 0; i < a->n_acls; i++)
        if (!cfg_acl_equal(&a->acls[i], &b->acls[i]))
            return false;
    return true;
}

const char *cfg_login_warning(const struct cfg *c, char *buf, size_t cap)
{
    if (!c->aaa_new_model)
        return NULL;
    const char *name = c->vty.login_list[0] ? c->vty.login_list : "default";
    const struct cfg_mlist *l = cfg_authn_find(c, name);
    if (l == NULL) {
        if (strcmp(name, "default") == 0)
            return NULL;   /* no default list: the local database */
        snprintf(buf, cap, "login authentication list %s (line vty) is not defined: SSH logins "
                 "will fail", name);
        return buf;
    }
    for (int i = 0; i < l->n; i++)
        if (l->m[i].kind != CFG_M_GROUP)
            return NULL;
    snprintf(buf, cap, "every method of login list %s is a server group: when no server "
             "answers, SSH logins fail (add `local` last; `scpd console` is the way back)", name);
    return buf;
}

const struct cfg_acl *cfg_acl_find(const struct cfg *c, const char *name)
{
    for (int i = 0; c != NULL && name != NULL && i < c->n_acls; i++)
        if (strcmp(c->acls[i].name, name) == 0)
            return &c->acls[i];
    return NULL;
}

bool cfg_acl_permits(const struct cfg_acl *acl, uint32_t addr)
{
    for (int i = 0; i < acl->n; i++)
        if ((addr & ~acl->e[i].wild) == acl->e[i].addr)
            return acl->e[i].permit;
    return false;
}

bool cfg_vty_admits(const struct cfg *c, const char *addr, const char **why)
{
    const struct cfg_vty *v = &c->vty;
    if (v->transport != 0 && !(v->transport & (CFG_TI_SSH | CFG_TI_ALL))) {
        *why = "line vty: transport input does not allow ssh";
        return false;
    }
    const struct cfg_acl *acl = v->access_class[0] ? cfg_acl_find(c, v->access_class) : NULL;
    if (acl == NULL)
        return true;
    if (strncmp(addr, "::ffff:", 7) == 0)
        addr += 7;
    struct in_addr in;
    if (inet_pton(AF_INET, addr, &in) != 1)
        return true;
    if (cfg_acl_permits(acl, ntohl(in.s_addr)))
        return true;
    *why = "line vty: access-class denies this source";
    return false;
}

bool cfg_equal(const struct cfg *a, const struct cfg *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (strcmp(a->hostname, b->hostname) != 0 || a->aaa_new_model != b->aaa_new_model ||
        a->ssh_version != b->ssh_version || a->ssh_version_set != b->ssh_version_set ||
        a->ssh_timeout != b->ssh_timeout || a->ssh_retries != b->ssh_retries ||
        a->ssh_lifetime != b->ssh_lifetime || a->scp_enable != b->scp_enable ||
        a->block_secs != b->block_secs || a->block_attempts != b->block_attempts ||
        a->block_within != b->block_within || a->enable_type != b->enable_type ||
        strcmp(a->enable_secret, b->enable_secret) != 0 ||
        a->password_encryption != b->password_encryption ||
        strcmp(a->domain_name, b->domain_name) != 0 || !cfg_vty_equal(&a->vty, &b->vty) ||
        a->n_acls != b->n_acls || strcmp(a->banner_motd, b->banner_motd) != 0 ||
        strcmp(a->banner_login, b->banner_login) != 0 ||
        a->file_prompt_quiet != b->file_prompt_quiet || a->log_buffer != b->log_buffer ||
        a->n_authn != b->n_authn || a->n_authz != b->n_authz || a->n_users != b->n_users ||
        a->n_pkusers != b->n_pkusers)
        return false;
    for (size_t i = 0; i < a->n_authn; i++)
        if (!cfg_mlist_equal(&a->authn[i], &b->authn[i]))
            return false;
    for (size_t i = 0; i < a->n_authz; i++)
        if (!cfg_mlist_equal(&a->authz[i], &b->authz[i]))
            return false;
    for (size_t i = 0; i < a->n_users; i++)
        if (!cfg_user_equal(&a->users[i], &b->users[i]))
            return false;
    for (size_t i = 0; i < a->n_pkusers; i++)
        if (!cfg_pkuser_equal(&a->pkusers[i], &b->pkusers[i]))
            return false;
    return cfg_aaa_equal(a, b) && cfg_acls_equal(a, b);
}

/* ---- sorting and lookups --------------------------------------------------------------------- */

/* Every element type starts with its name (char name[CFG_NAME_MAX]). */
static int by_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

void cfg_sort_users(struct cfg *c)
{
    if (c->n_users > 1)
        qsort(c->users, c->n_users, sizeof *c->users, by_name);
}

void cfg_sort_pkusers(struct cfg *c)
{
    if (c->n_pkusers > 1)
        qsort(c->pkusers, c->n_pkusers, sizeof *c->pkusers, by_name);
}

void cfg_sort_mlists(struct cfg_mlist *l, size_t n)
{
    if (n > 1)
        qsort(l, n, sizeof *l, by_name);
}

const struct cfg_user *cfg_user_find(const struct cfg *c, const char *name)
{
    if (c == NULL || name == NULL || c->n_users == 0)
        return NULL;
    return bsearch(name, c->users, c->n_users, sizeof *c->users, by_name);
}

const struct cfg_pkuser *cfg_pkuser_find(const struct cfg *c, const char *name)
{
    if (c == NULL || name == NULL || c->n_pkusers == 0 || strchr(name, ':') != NULL)
        return NULL;
    return bsearch(name, c->pkusers, c->n_pkusers, sizeof *c->pkusers, by_name);
}

const struct cfg_pkuser *cfg_pkserver_find(const struct cfg *c, const char *host)
{
    char name[CFG_NAME_MAX];
    if (c == NULL || host == NULL || c->n_pkusers == 0 ||
        snprintf(name, sizeof name, CFG_PKSERVER_PREFIX "%s", host) >= (int)sizeof name)
        return NULL;
    return bsearch(name, c->pkusers, c->n_pkusers, sizeof *c->pkusers, by_name);
}

bool cfg_pkuser_is_server(const struct cfg_pkuser *u)
{
    return strncmp(u->name, CFG_PKSERVER_PREFIX, sizeof(CFG_PKSERVER_PREFIX) - 1) == 0;
}

const struct cfg_mlist *cfg_authn_find(const struct cfg *c, const char *name)
{
    if (c == NULL || name == NULL || c->n_authn == 0)
        return NULL;
    return bsearch(name, c->authn, c->n_authn, sizeof *c->authn, by_name);
}

const struct cfg_mlist *cfg_authz_find(const struct cfg *c, const char *name)
{
    if (c == NULL || name == NULL || c->n_authz == 0)
        return NULL;
    return bsearch(name, c->authz, c->n_authz, sizeof *c->authz, by_name);
}

/* ---- errors ---------------------------------------------------------------------------------- */

/* One error in the IOS marker form: the line, a '^' under the column, the reason. */
static void error_put(struct cfg_buf *b, const struct cfg_error *e)
{
    char prefix[32];
    int pl = snprintf(prefix, sizeof prefix, "line %d: ", e->line);
    if (pl < 0 || (size_t)pl >= sizeof prefix)
        pl = 0;
    cfg_buf_printf(b, "%s%s\n", prefix, e->text);
    for (int k = 0; k < pl + e->column - 1; k++)
        cfg_buf_add(b, " ", 1);
    cfg_buf_printf(b, "^\n%% Invalid input detected at '^' marker: %s\n", e->reason);
}

char *cfg_error_format(const struct cfg_error *e)
{
    struct cfg_buf b = {0};
    error_put(&b, e);
    return cfg_buf_take(&b, NULL);
}

char *cfg_errors_format(const struct cfg_errors *errs)
{
    struct cfg_buf b = {0};
    cfg_buf_puts(&b, "");
    for (int i = 0; errs != NULL && i < errs->n; i++)
        error_put(&b, &errs->e[i]);
    if (errs != NULL && errs->total > errs->n)
        cfg_buf_printf(&b, "%% %d more errors not shown\n", errs->total - errs->n);
    return cfg_buf_take(&b, NULL);
}

/* ---- diff ------------------------------------------------------------------------------------ */

/* An order-preserving line diff that runs in linear time. Canonical renderings are sorted within
 * each section and almost every line is unique, so a greedy walk is near-minimal: when the two
 * current lines differ, a line that no longer occurs on the other side is removed/added first;
 * when both still occur later (a move), the old one is removed. A general LCS would cost
 * O(n*m) on two 10,000-user configurations. */
struct dline {
    const char *s;
    size_t n;
};

struct dcount {
    const char *s;
    size_t n;
    size_t left[2]; /* occurrences not yet passed in from (0) and to (1) */
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t split_lines(const char *t, struct dline **out)
{
    size_t n = 0, cap = 0;
    struct dline *v = NULL;
    while (t != NULL && *t) {
        const char *e = strchr(t, '\n');
        size_t len = e ? (size_t)(e - t) : strlen(t);
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct dline *nv = realloc(v, cap * sizeof *v);
            if (nv == NULL) {
                free(v);
                *out = NULL;
                return SIZE_MAX;
            }
            v = nv;
        }
        v[n].s = t;
        v[n].n = len;
        n++;
        t = e ? e + 1 : t + len;
    }
    *out = v;
    return n;
}

static struct dcount *count_slot(struct dcount *tab, size_t mask, const struct dline *l)
{
    size_t i = (size_t)hash_bytes(l->s, l->n) & mask;
    while (tab[i].s != NULL && (tab[i].n != l->n || memcmp(tab[i].s, l->s, l->n) != 0))
        i = (i + 1) & mask;
    if (tab[i].s == NULL) {
        tab[i].s = l->s;
        tab[i].n = l->n;
    }
    return &tab[i];
}

char *cfg_diff(const struct cfg *from, const struct cfg *to)
{
    struct cfg_render_opts o = {0};
    struct cfg *def = (from == NULL || to == NULL) ? cfg_new_default() : NULL;
    char *ta = cfg_render(from ? from : def, &o, NULL), *tb = cfg_render(to ? to : def, &o, NULL);
    char *res = NULL;
    struct dline *a = NULL, *b = NULL;
    struct dcount *tab = NULL;
    struct cfg_buf out = {0};
    size_t na, nb, cap = 16;
    if (ta == NULL || tb == NULL)
        goto done;
    na = split_lines(ta, &a);
    nb = split_lines(tb, &b);
    if (na == SIZE_MAX || nb == SIZE_MAX)
        goto done;
    while (cap < 2 * (na + nb))
        cap *= 2;
    tab = calloc(cap, sizeof *tab);
    if (tab == NULL)
        goto done;
    for (size_t i = 0; i < na; i++)
        count_slot(tab, cap - 1, &a[i])->left[0]++;
    for (size_t j = 0; j < nb; j++)
        count_slot(tab, cap - 1, &b[j])->left[1]++;
    cfg_buf_puts(&out, "");
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        struct dcount *ca = i < na ? count_slot(tab, cap - 1, &a[i]) : NULL;
        struct dcount *cb = j < nb ? count_slot(tab, cap - 1, &b[j]) : NULL;
        if (ca != NULL && ca == cb) {
            ca->left[0]--;
            ca->left[1]--;
            i++, j++;
        } else if (ca != NULL && (cb == NULL || ca->left[1] == 0 || cb->left[0] != 0)) {
            cfg_buf_add(&out, "- ", 2);
            cfg_hide_add(&out, a[i].s, a[i].n);
            cfg_buf_add(&out, "\n", 1);
            ca->left[0]--;
            i++;
        } else {
            cfg_buf_add(&out, "+ ", 2);
            cfg_hide_add(&out, b[j].s, b[j].n);
            cfg_buf_add(&out, "\n", 1);
            cb->left[1]--;
            j++;
        }
    }
    res = cfg_buf_take(&out, NULL);
done:
    free(out.p);
    free(tab);
    free(a);
    free(b);
    free(ta);
    free(tb);
    cfg_free(def);
    return res;
}
