/* cfg_aaa: the network-AAA rows of the command table (cfg_cmds.c lists them): `tacacs server`,
 * `radius server` and their sub-modes, `aaa group server`, `radius-server dead-criteria|deadtime`
 * and `aaa accounting exec|commands 15`, as IOS XE writes them.
 *
 * Servers live in one array sorted by (protocol, name), groups and accounting lists in arrays
 * sorted by name; a sub-mode line edits the server or group named in p->block. Server keys are
 * kept only as type 6 (AES-256-GCM under the master key, store/secret.h): `key 0 K` and `key 7 K`
 * are encrypted the moment they are parsed, so neither the model nor any rendering, diff, audit
 * row or API answer holds the key in plaintext. Group membership is not checked against the
 * servers (the rendering puts groups first, as IOS does); an unknown member is skipped at use.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/cfg_int.h"
#include "store/secret.h"

/* ---- lookups --------------------------------------------------------------------------------- */

static int srv_cmp(const struct cfg_aaa_server *s, enum cfg_aaa_proto proto, const char *name)
{
    if (s->proto != proto)
        return (int)s->proto - (int)proto;
    return strcmp(s->name, name);
}

const struct cfg_aaa_server *cfg_server_find(const struct cfg *c, enum cfg_aaa_proto proto,
                                             const char *name)
{
    for (size_t i = 0; c != NULL && name != NULL && i < c->n_servers; i++)
        if (srv_cmp(&c->servers[i], proto, name) == 0)
            return &c->servers[i];
    return NULL;
}

const struct cfg_aaa_group *cfg_group_find(const struct cfg *c, const char *name)
{
    for (size_t i = 0; c != NULL && name != NULL && i < c->n_groups; i++)
        if (strcmp(c->groups[i].name, name) == 0)
            return &c->groups[i];
    return NULL;
}

const struct cfg_acct *cfg_acct_find(const struct cfg *c, enum cfg_acct_kind kind,
                                     const char *name)
{
    for (size_t i = 0; c != NULL && name != NULL && i < c->n_acct; i++)
        if (c->acct[i].kind == kind && strcmp(c->acct[i].name, name) == 0)
            return &c->acct[i];
    return NULL;
}

/* Inserts elem (size bytes) into the sorted array *arr of *n at the position cmp says; returns
 * the new element or NULL (out of memory). */
static void *arr_insert(void **arr, size_t *n, size_t size, size_t at, const void *elem)
{
    char *na = realloc(*arr, (*n + 1) * size);
    if (na == NULL)
        return NULL;
    memmove(na + (at + 1) * size, na + at * size, (*n - at) * size);
    memcpy(na + at * size, elem, size);
    *arr = na;
    (*n)++;
    return na + at * size;
}

static void arr_remove(void *arr, size_t *n, size_t size, size_t at)
{
    char *a = arr;
    memmove(a + at * size, a + (at + 1) * size, (*n - at - 1) * size);
    (*n)--;
}

/* ---- servers --------------------------------------------------------------------------------- */

static enum cfg_aaa_proto mode_proto(enum cfg_pmode m)
{
    return m == CFG_PM_RADIUS ? CFG_AAA_RADIUS : CFG_AAA_TACACS;
}

static struct cfg_aaa_server *srv_cur(struct cfg_pctx *p)
{
    return (struct cfg_aaa_server *)cfg_server_find(p->c, mode_proto(p->mode), p->block);
}

static int server_enter(struct cfg_pctx *p, const struct cfg_line *l, int i,
                        enum cfg_aaa_proto proto)
{
    if (cfg_arg_need(p, l, i, "server name") || cfg_arg_name(p, &l->t[i], "server name") ||
        cfg_arg_end(p, l, i + 1))
        return -1;
    const char *name = l->t[i].s;
    if (cfg_server_find(p->c, proto, name) == NULL) {
        if (p->c->n_servers >= LIM_CFG_AAA_SERVERS)
            return cfg_fail(p, l->t[i].col, "too many AAA servers (at most %d)",
                            LIM_CFG_AAA_SERVERS);
        struct cfg_aaa_server s = {.proto = proto, .timeout = CFG_AAA_TIMEOUT};
        snprintf(s.name, sizeof s.name, "%s", name);
        s.port = proto == CFG_AAA_TACACS ? CFG_TACACS_PORT : CFG_RADIUS_AUTH_PORT;
        s.acct_port = proto == CFG_AAA_RADIUS ? CFG_RADIUS_ACCT_PORT : 0;
        s.retransmit = proto == CFG_AAA_RADIUS ? CFG_RADIUS_RETRANSMIT : 0;
        size_t at = 0;
        while (at < p->c->n_servers && srv_cmp(&p->c->servers[at], proto, name) < 0)
            at++;
        if (!arr_insert((void **)&p->c->servers, &p->c->n_servers, sizeof s, at, &s))
            return cfg_fail(p, l->t[i].col, "out of memory");
    }
    snprintf(p->block, sizeof p->block, "%s", name);
    p->mode = proto == CFG_AAA_TACACS ? CFG_PM_TACACS : CFG_PM_RADIUS;
    return 0;
}

static int server_del(struct cfg_pctx *p, const struct cfg_line *l, int i,
                      enum cfg_aaa_proto proto)
{
    if (cfg_arg_need(p, l, i, "server name") || cfg_arg_name(p, &l->t[i], "server name"))
        return -1;
    const struct cfg_aaa_server *s = cfg_server_find(p->c, proto, l->t[i].s);
    if (s != NULL)
        arr_remove(p->c->servers, &p->c->n_servers, sizeof *s, (size_t)(s - p->c->servers));
    return 0;
}

int cfg_aaa_tacacs(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return server_enter(p, l, i, CFG_AAA_TACACS);
}
int cfg_aaa_tacacs_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return server_del(p, l, i, CFG_AAA_TACACS);
}
int cfg_aaa_radius(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return server_enter(p, l, i, CFG_AAA_RADIUS);
}
int cfg_aaa_radius_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    return server_del(p, l, i, CFG_AAA_RADIUS);
}

/* `address ipv4|ipv6 A` (RADIUS: `[auth-port N] [acct-port N]`): a numeric address, as IOS's
 * server blocks take (a host name would make every login wait for DNS). */
int cfg_aaa_srv_address(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    bool radius = p->mode == CFG_PM_RADIUS;
    int auth = s ? s->port : 0, acct = s ? s->acct_port : 0;
    unsigned char bin[16];
    if (s == NULL)
        return cfg_fail(p, l->t[0].col, "no server selected");
    if (cfg_arg_need(p, l, i, "ipv4 or ipv6"))
        return -1;
    bool v6 = cfg_arg_is(&l->t[i], "ipv6");
    if (!v6 && !cfg_arg_is(&l->t[i], "ipv4"))
        return cfg_fail(p, l->t[i].col, "ipv4 or ipv6 expected");
    if (cfg_arg_need(p, l, i + 1, v6 ? "IPv6 address" : "IPv4 address"))
        return -1;
    const struct cfg_tok *a = &l->t[i + 1];
    if (a->len >= sizeof s->addr || inet_pton(v6 ? AF_INET6 : AF_INET, a->s, bin) != 1)
        return cfg_fail(p, a->col, v6 ? "invalid IPv6 address" : "invalid IPv4 address");
    for (i += 2; radius && i < l->n; i += 2) {
        bool is_auth = cfg_arg_is(&l->t[i], "auth-port");
        if (!is_auth && !cfg_arg_is(&l->t[i], "acct-port"))
            return cfg_fail(p, l->t[i].col, "auth-port or acct-port expected");
        if (cfg_arg_need(p, l, i + 1, "port (0-65535)") ||
            cfg_arg_num(p, &l->t[i + 1], 0, 65535, is_auth ? &auth : &acct))
            return -1;
    }
    if (cfg_arg_end(p, l, i))
        return -1;
    /* the canonical text of the address (e.g. IPv6 compressed) */
    char txt[INET6_ADDRSTRLEN];
    if (inet_ntop(v6 ? AF_INET6 : AF_INET, bin, txt, sizeof txt) == NULL)
        return cfg_fail(p, a->col, "invalid address");
    snprintf(s->addr, sizeof s->addr, "%s", txt);
    s->v6 = v6;
    s->port = auth;
    s->acct_port = acct;
    return 0;
}

int cfg_aaa_srv_address_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    if (s != NULL) {
        s->addr[0] = '\0';
        s->v6 = false;
    }
    return 0;
}

int cfg_aaa_srv_port(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    int v;
    if (s == NULL)
        return cfg_fail(p, l->t[0].col, "no server selected");
    if (cfg_arg_need(p, l, i, "port (1-65535)") || cfg_arg_num(p, &l->t[i], 1, 65535, &v) ||
        cfg_arg_end(p, l, i + 1))
        return -1;
    s->port = v;
    return 0;
}

int cfg_aaa_srv_port_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    if (s != NULL)
        s->port = CFG_TACACS_PORT;
    return 0;
}

/* Whether the server of the config the change is made to (p->ref) stores plain as its key; then
 * s gets that stored text. */
static bool key_kept(struct cfg_pctx *p, struct cfg_aaa_server *s, const char *plain)
{
    const struct cfg_aaa_server *old = p->ref ? cfg_server_find(p->ref, s->proto, s->name) : NULL;
    char was[SECRET6_PLAIN_MAX + 1];
    bool same = false;
    if (old == NULL || old->key[0] == '\0' || secret_decrypt6(old->key, was, sizeof was) != 0)
        return false;
    size_t n = strlen(plain);
    same = strlen(was) == n && CRYPTO_memcmp(was, plain, n) == 0;
    OPENSSL_cleanse(was, sizeof was);
    if (same)
        snprintf(s->key, sizeof s->key, "%s", old->key);
    return same;
}

/* `key [0|6|7] KEY`: one word. 0 (or no type) and 7 are plaintext to the daemon and become type
 * 6 here; a type-6 text is kept as given when it has the form (it may come from a device with
 * another master key: that shows at use, in the log, not as a config error). */
int cfg_aaa_srv_key(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    char plain[SECRET6_PLAIN_MAX + 1], enc[sizeof s->key];
    int given = 0, rc = -1;
    if (s == NULL)
        return cfg_fail(p, l->t[0].col, "no server selected");
    if (cfg_arg_need(p, l, i, "key"))
        return -1;
    const struct cfg_tok *t = &l->t[i];
    if (i + 1 < l->n && t->len == 1 && strchr("067", t->s[0]) != NULL) {
        given = t->s[0] - '0';
        t = &l->t[++i];
    }
    if (cfg_arg_end(p, l, i + 1))
        return -1;
    if (given == 6) {
        if (t->len >= sizeof s->key || secret_check6(t->s) != 0)
            return cfg_fail(p, t->col, "invalid type 6 key");
        snprintf(s->key, sizeof s->key, "%s", t->s);
        return 0;
    }
    if (given == 7) {
        if (secret_decode7(t->s, plain, sizeof plain) != 0)
            return cfg_fail(p, t->col, "invalid type 7 key");
    } else {
        if (t->len > SECRET6_PLAIN_MAX)
            return cfg_fail(p, t->col, "key too long (at most %d characters)",
                            SECRET6_PLAIN_MAX);
        memcpy(plain, t->s, t->len + 1);
    }
    if (plain[0] == '\0' || strlen(plain) > SECRET6_PLAIN_MAX)
        cfg_fail(p, t->col, "key empty or too long (at most %d characters)", SECRET6_PLAIN_MAX);
    else if (key_kept(p, s, plain))
        rc = 0;   /* the same key again: its stored text, not a new nonce (no change) */
    else if (secret_encrypt6(plain, enc, sizeof enc) != 0)
        cfg_fail(p, t->col, "cannot encrypt the key");
    else
        rc = 0, snprintf(s->key, sizeof s->key, "%s", enc);
    OPENSSL_cleanse(plain, sizeof plain);
    return rc;
}

int cfg_aaa_srv_key_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    if (s != NULL)
        s->key[0] = '\0';
    return 0;
}

int cfg_aaa_srv_timeout(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    int v;
    if (s == NULL)
        return cfg_fail(p, l->t[0].col, "no server selected");
    if (cfg_arg_need(p, l, i, "seconds (1-1000)") || cfg_arg_num(p, &l->t[i], 1, 1000, &v) ||
        cfg_arg_end(p, l, i + 1))
        return -1;
    s->timeout = v;
    return 0;
}

int cfg_aaa_srv_timeout_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    if (s != NULL)
        s->timeout = CFG_AAA_TIMEOUT;
    return 0;
}

int cfg_aaa_srv_retransmit(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    int v;
    if (s == NULL)
        return cfg_fail(p, l->t[0].col, "no server selected");
    if (cfg_arg_need(p, l, i, "retries (0-100)") || cfg_arg_num(p, &l->t[i], 0, 100, &v) ||
        cfg_arg_end(p, l, i + 1))
        return -1;
    s->retransmit = v;
    return 0;
}

int cfg_aaa_srv_retransmit_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    if (s != NULL)
        s->retransmit = CFG_RADIUS_RETRANSMIT;
    return 0;
}

int cfg_aaa_srv_single(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    if (s == NULL)
        return cfg_fail(p, l->t[0].col, "no server selected");
    if (cfg_arg_end(p, l, i))
        return -1;
    s->single = true;
    return 0;
}

int cfg_aaa_srv_single_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_server *s = srv_cur(p);
    if (s != NULL)
        s->single = false;
    return 0;
}

static void servers_render(struct cfg_buf *b, const struct cfg *c, enum cfg_aaa_proto proto,
                           bool all)
{
    for (size_t k = 0; k < c->n_servers; k++) {
        const struct cfg_aaa_server *s = &c->servers[k];
        if (s->proto != proto)
            continue;
        cfg_buf_printf(b, "%s server %s\n", proto == CFG_AAA_TACACS ? "tacacs" : "radius",
                       s->name);
        if (s->addr[0] != '\0') {
            cfg_buf_printf(b, " address %s %s", s->v6 ? "ipv6" : "ipv4", s->addr);
            if (proto == CFG_AAA_RADIUS)
                cfg_buf_printf(b, " auth-port %d acct-port %d", s->port, s->acct_port);
            cfg_buf_puts(b, "\n");
        }
        if (s->key[0] != '\0')
            cfg_buf_printf(b, " key 6 %s\n", s->key);
        if (proto == CFG_AAA_TACACS && (all || s->port != CFG_TACACS_PORT))
            cfg_buf_printf(b, " port %d\n", s->port);
        if (all || s->timeout != CFG_AAA_TIMEOUT)
            cfg_buf_printf(b, " timeout %d\n", s->timeout);
        if (proto == CFG_AAA_RADIUS && (all || s->retransmit != CFG_RADIUS_RETRANSMIT))
            cfg_buf_printf(b, " retransmit %d\n", s->retransmit);
        if (s->single)
            cfg_buf_puts(b, " single-connection\n");
    }
}

void cfg_aaa_tacacs_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    servers_render(b, c, CFG_AAA_TACACS, all);
}

void cfg_aaa_radius_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    servers_render(b, c, CFG_AAA_RADIUS, all);
}

/* ---- aaa group server ------------------------------------------------------------------------ */

static struct cfg_aaa_group *grp_cur(struct cfg_pctx *p)
{
    return (struct cfg_aaa_group *)cfg_group_find(p->c, p->block);
}

/* The names `group tacacs+` and `group radius` mean every server of the protocol: a server group
 * cannot take them. */
static int group_name_ok(struct cfg_pctx *p, const struct cfg_tok *t)
{
    if (cfg_arg_name(p, t, "group name"))
        return -1;
    if (cfg_arg_is(t, "tacacs+") || cfg_arg_is(t, "radius"))
        return cfg_fail(p, t->col, "tacacs+ and radius name every server of the protocol");
    return 0;
}

int cfg_aaa_group(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (cfg_arg_need(p, l, i, "tacacs+ or radius"))
        return -1;
    bool rad = cfg_arg_is(&l->t[i], "radius");
    if (!rad && !cfg_arg_is(&l->t[i], "tacacs+"))
        return cfg_fail(p, l->t[i].col, "tacacs+ or radius expected");
    if (cfg_arg_need(p, l, i + 1, "group name") || group_name_ok(p, &l->t[i + 1]) ||
        cfg_arg_end(p, l, i + 2))
        return -1;
    const struct cfg_tok *t = &l->t[i + 1];
    enum cfg_aaa_proto proto = rad ? CFG_AAA_RADIUS : CFG_AAA_TACACS;
    const struct cfg_aaa_group *g = cfg_group_find(p->c, t->s);
    if (g != NULL && g->proto != proto)
        return cfg_fail(p, t->col, "a %s server group of this name exists",
                        g->proto == CFG_AAA_TACACS ? "tacacs+" : "radius");
    if (g == NULL) {
        if (p->c->n_groups >= LIM_CFG_GROUPS)
            return cfg_fail(p, t->col, "too many server groups (at most %d)", LIM_CFG_GROUPS);
        struct cfg_aaa_group ng = {.proto = proto};
        snprintf(ng.name, sizeof ng.name, "%s", t->s);
        size_t at = 0;
        while (at < p->c->n_groups && strcmp(p->c->groups[at].name, t->s) < 0)
            at++;
        if (!arr_insert((void **)&p->c->groups, &p->c->n_groups, sizeof ng, at, &ng))
            return cfg_fail(p, t->col, "out of memory");
    }
    snprintf(p->block, sizeof p->block, "%s", t->s);
    p->mode = CFG_PM_SGROUP;
    return 0;
}

int cfg_aaa_group_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (cfg_arg_need(p, l, i, "tacacs+ or radius") ||
        cfg_arg_need(p, l, i + 1, "group name") || cfg_arg_name(p, &l->t[i + 1], "group name"))
        return -1;
    const struct cfg_aaa_group *g = cfg_group_find(p->c, l->t[i + 1].s);
    if (g != NULL)
        arr_remove(p->c->groups, &p->c->n_groups, sizeof *g, (size_t)(g - p->c->groups));
    return 0;
}

int cfg_aaa_grp_server(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_group *g = grp_cur(p);
    if (g == NULL)
        return cfg_fail(p, l->t[0].col, "no server group selected");
    if (cfg_arg_need(p, l, i, "server name") || cfg_arg_name(p, &l->t[i], "server name") ||
        cfg_arg_end(p, l, i + 1))
        return -1;
    for (int k = 0; k < g->n; k++)
        if (strcmp(g->server[k], l->t[i].s) == 0)
            return 0;
    if (g->n >= LIM_CFG_GROUP_SERVERS)
        return cfg_fail(p, l->t[i].col, "too many servers in the group (at most %d)",
                        LIM_CFG_GROUP_SERVERS);
    snprintf(g->server[g->n++], CFG_NAME_MAX, "%s", l->t[i].s);
    return 0;
}

int cfg_aaa_grp_server_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_group *g = grp_cur(p);
    if (cfg_arg_need(p, l, i, "server name"))
        return -1;
    for (int k = 0; g != NULL && k < g->n; k++)
        if (strcmp(g->server[k], l->t[i].s) == 0) {
            memmove(g->server[k], g->server[k + 1], (size_t)(g->n - k - 1) * CFG_NAME_MAX);
            g->n--;
            break;
        }
    return 0;
}

int cfg_aaa_grp_deadtime(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_group *g = grp_cur(p);
    int v;
    if (g == NULL)
        return cfg_fail(p, l->t[0].col, "no server group selected");
    if (cfg_arg_need(p, l, i, "minutes (1-1440)") || cfg_arg_num(p, &l->t[i], 1, 1440, &v) ||
        cfg_arg_end(p, l, i + 1))
        return -1;
    g->deadtime = v;
    return 0;
}

int cfg_aaa_grp_deadtime_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_aaa_group *g = grp_cur(p);
    if (g != NULL)
        g->deadtime = 0;
    return 0;
}

void cfg_aaa_group_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    for (size_t k = 0; k < c->n_groups; k++) {
        const struct cfg_aaa_group *g = &c->groups[k];
        cfg_buf_printf(b, "aaa group server %s %s\n",
                       g->proto == CFG_AAA_TACACS ? "tacacs+" : "radius", g->name);
        for (int j = 0; j < g->n; j++)
            cfg_buf_printf(b, " server name %s\n", g->server[j]);
        if (g->deadtime > 0)
            cfg_buf_printf(b, " deadtime %d\n", g->deadtime);
    }
}

/* ---- radius-server globals ------------------------------------------------------------------- */

int cfg_aaa_dead_criteria(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int t = 0, n = 0;
    for (; i < l->n; i += 2) {
        bool tm = cfg_arg_is(&l->t[i], "time");
        if (!tm && !cfg_arg_is(&l->t[i], "tries"))
            return cfg_fail(p, l->t[i].col, "time or tries expected");
        if (cfg_arg_need(p, l, i + 1, tm ? "seconds (1-120)" : "tries (1-100)") ||
            cfg_arg_num(p, &l->t[i + 1], 1, tm ? 120 : 100, tm ? &t : &n))
            return -1;
    }
    if (t == 0 && n == 0)
        return cfg_fail(p, l->end_col, "incomplete command: time or tries expected");
    if (t)
        p->c->rad_dead_time = t;
    if (n)
        p->c->rad_dead_tries = n;
    return 0;
}

int cfg_aaa_dead_criteria_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->rad_dead_time = p->c->rad_dead_tries = 0;
    return 0;
}

int cfg_aaa_rad_deadtime(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    int v;
    if (cfg_arg_need(p, l, i, "minutes (1-1440)") || cfg_arg_num(p, &l->t[i], 1, 1440, &v) ||
        cfg_arg_end(p, l, i + 1))
        return -1;
    p->c->rad_deadtime = v;
    return 0;
}

int cfg_aaa_rad_deadtime_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    p->c->rad_deadtime = 0;
    return 0;
}

void cfg_aaa_radglobal_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    if (c->rad_dead_time || c->rad_dead_tries) {
        cfg_buf_puts(b, "radius-server dead-criteria");
        if (c->rad_dead_time)
            cfg_buf_printf(b, " time %d", c->rad_dead_time);
        if (c->rad_dead_tries)
            cfg_buf_printf(b, " tries %d", c->rad_dead_tries);
        cfg_buf_puts(b, "\n");
    }
    if (c->rad_deadtime)
        cfg_buf_printf(b, "radius-server deadtime %d\n", c->rad_deadtime);
}

/* ---- aaa accounting -------------------------------------------------------------------------- */

static enum cfg_acct_kind acct_kind(const struct cfg_line *l, int i)
{
    /* the keywords end at i: ... exec | ... commands 15 */
    return cfg_arg_is(&l->t[i - 1], "15") ? CFG_ACCT_COMMANDS15 : CFG_ACCT_EXEC;
}

int cfg_aaa_acct(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    struct cfg_acct a = {.kind = acct_kind(l, i)};
    if (cfg_arg_need(p, l, i, "list name (default or a name)") ||
        cfg_arg_name(p, &l->t[i], "list name") ||
        cfg_arg_need(p, l, i + 1, "start-stop or stop-only"))
        return -1;
    snprintf(a.name, sizeof a.name, "%s", l->t[i].s);
    const struct cfg_tok *rec = &l->t[i + 1];
    a.stop_only = cfg_arg_is(rec, "stop-only");
    if (!a.stop_only && !cfg_arg_is(rec, "start-stop"))
        return cfg_fail(p, rec->col, "start-stop or stop-only expected");
    if (cfg_arg_need(p, l, i + 2, "group"))
        return -1;
    for (i += 2; i < l->n; i += 2) {
        if (!cfg_arg_is(&l->t[i], "group"))
            return cfg_fail(p, l->t[i].col, "group expected");
        if (a.n == LIM_CFG_METHODS)
            return cfg_fail(p, l->t[i].col, "too many methods (at most %d)", LIM_CFG_METHODS);
        if (cfg_arg_need(p, l, i + 1, "server group name") ||
            cfg_arg_name(p, &l->t[i + 1], "group name"))
            return -1;
        for (int k = 0; k < a.n; k++)
            if (strcmp(a.m[k].group, l->t[i + 1].s) == 0)
                return cfg_fail(p, l->t[i].col, "method given twice");
        a.m[a.n].kind = CFG_M_GROUP;
        snprintf(a.m[a.n++].group, CFG_NAME_MAX, "%s", l->t[i + 1].s);
    }
    struct cfg_acct *old = (struct cfg_acct *)cfg_acct_find(p->c, a.kind, a.name);
    if (old != NULL) {
        *old = a;
        return 0;
    }
    if (p->c->n_acct >= LIM_CFG_LISTS)
        return cfg_fail(p, l->t[0].col, "too many accounting lists (at most %d)", LIM_CFG_LISTS);
    size_t at = 0;
    while (at < p->c->n_acct && (p->c->acct[at].kind < a.kind ||
                                 (p->c->acct[at].kind == a.kind &&
                                  strcmp(p->c->acct[at].name, a.name) < 0)))
        at++;
    if (!arr_insert((void **)&p->c->acct, &p->c->n_acct, sizeof a, at, &a))
        return cfg_fail(p, l->t[0].col, "out of memory");
    return 0;
}

int cfg_aaa_acct_no(struct cfg_pctx *p, const struct cfg_line *l, int i)
{
    if (cfg_arg_need(p, l, i, "list name") || cfg_arg_name(p, &l->t[i], "list name"))
        return -1;
    const struct cfg_acct *a = cfg_acct_find(p->c, acct_kind(l, i), l->t[i].s);
    if (a != NULL)
        arr_remove(p->c->acct, &p->c->n_acct, sizeof *a, (size_t)(a - p->c->acct));
    return 0;
}

void cfg_aaa_acct_render(struct cfg_buf *b, const struct cfg *c, bool all)
{
    for (size_t k = 0; k < c->n_acct; k++) {
        const struct cfg_acct *a = &c->acct[k];
        cfg_buf_printf(b, "aaa accounting %s %s %s",
                       a->kind == CFG_ACCT_EXEC ? "exec" : "commands 15", a->name,
                       a->stop_only ? "stop-only" : "start-stop");
        for (int j = 0; j < a->n; j++)
            cfg_buf_printf(b, " group %s", a->m[j].group);
        cfg_buf_puts(b, "\n");
    }
}

/* ---- the part as a whole --------------------------------------------------------------------- */

bool cfg_aaa_equal(const struct cfg *a, const struct cfg *b)
{
    if (a->n_servers != b->n_servers || a->n_groups != b->n_groups || a->n_acct != b->n_acct ||
        a->rad_dead_time != b->rad_dead_time || a->rad_dead_tries != b->rad_dead_tries ||
        a->rad_deadtime != b->rad_deadtime)
        return false;
    if (a->n_servers + a->n_groups + a->n_acct == 0)
        return true;
    /* the rendering says everything the model holds: compare that */
    char *ra = cfg_aaa_render(a), *rb = cfg_aaa_render(b);
    bool eq = ra != NULL && rb != NULL && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return eq;
}

char *cfg_aaa_render(const struct cfg *c)
{
    struct cfg_buf b = {0};
    cfg_buf_puts(&b, "");
    cfg_aaa_group_render(&b, c, true);
    cfg_aaa_acct_render(&b, c, true);
    cfg_aaa_tacacs_render(&b, c, true);
    cfg_aaa_radglobal_render(&b, c, true);
    cfg_aaa_radius_render(&b, c, true);
    return cfg_buf_take(&b, NULL);
}
