/* aaa: authentication, authorization and login block-for, for every door (SSH and HTTP).
 *
 * Design. Each call takes the store snapshot current at that moment, so a config change applies
 * to the next login without a restart and a login never sees half a change. Method lists are
 * walked through one table (aaa_methods[]): each method answers OK, FAIL or UNAVAILABLE, and the
 * walk goes on to the next method only on UNAVAILABLE, never after a FAIL (the IOS rule of
 * docs/config.md: with `group tacacs+ local`, `local` is a fallback for an outage only). Without
 * `aaa new-model` the lists are inactive and logins check the local user database.
 *
 * Timing. A password is always verified against some hash, even for an unknown user or a user
 * without a secret (a dummy type-9 hash made at start), so the response time does not tell an
 * attacker which user names exist.
 *
 * login block-for keeps one entry per source address in a fixed table (LIM_BLOCK_SOURCES) under a
 * mutex. Each entry holds a true sliding window (aaa_window_fail): the times of the last N
 * failures (at most LIM_BLOCK_FAIL_TIMES, sampled beyond), and N failures within any W seconds
 * start the quiet period, however the failures fall relative to the first one. When the table is
 * full the least recently touched entry that is not blocking is reused, so an attacker cycling
 * addresses cannot lift a block. With a shared store (PostgreSQL, several instances) the database
 * counts every instance's failures and holds the quiet periods (store_block_fail): its answer
 * decides, the table caches it (a source not blocked is asked again after AAA_SHARED_BLOCK_MS, so
 * a block started on one instance holds on all within a second) and decides alone while the
 * database cannot be reached.
 *
 * Network AAA. `group tacacs+` (every TACACS+ server, in the config's order), `group radius` and
 * `group NAME` (an `aaa group server` block) walk their servers one by one (aaa_group_run): a
 * server that answers decides (accept or reject, never the next server); one that is refused,
 * times out or answers something undecodable is skipped, and when it has a deadtime (the group's
 * `deadtime`, `radius-server deadtime` for RADIUS) it is marked dead and not asked again until the
 * deadtime has passed, so one dead server does not add its timeout to every login. The group is
 * unavailable (the next method is tried) only when no server answered. The exchanges run on the
 * caller's thread (the session's own); `mu` guards the per-server state and is never held across
 * network I/O. Each exchange is bounded by the server's timeout, itself capped at `ip ssh
 * time-out`. Server keys are decrypted (type 6) only for the exchange and cleansed after. */
#include "services/aaa.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "store/cfg.h"
#include "base/clock.h"
#include "base/lim.h"
#include "base/log.h"
#include "store/secret.h"
#include "services/stats.h"
#include "store/store.h"
#include "services/radius.h"
#include "services/radius_proto.h"
#include "services/tacacs.h"
#include "services/trace.h"

#include <openssl/crypto.h>

#define AAA_ADDR_LEN 64
#define AAA_SHARED_BLOCK_MS 1000   /* a source found unblocked in the shared store: asked again */

struct aaa_block {
    char addr[AAA_ADDR_LEN];   /* "" = free slot */
    struct aaa_window win;     /* failure times, monotonic milliseconds */
    int64_t blocked_until;     /* monotonic seconds; 0 = not blocked */
    int64_t touched;
    int64_t shared_ms;         /* monotonic ms of the shared store's last answer; 0 = never */
};

struct aaa {
    struct store *st;
    struct stats *stats;
    struct trace *trace;
    pthread_mutex_t mu;
    struct aaa_block *blocks;  /* LIM_BLOCK_SOURCES entries */
    struct tacacs *tac;
    struct aaa_server_state srv[LIM_CFG_AAA_SERVERS];   /* under mu; name "" = free */
    struct aaa_rad_priv *rad_priv;   /* under mu: LIM_AAA_RADIUS_SESSIONS entries */
    uint32_t task_id;          /* __atomic: accounting task ids */
    struct cfg *last_cfg;      /* under mu: the config of the last commit (commands accounting) */
    uint64_t last_version;     /* under mu: its version */
    char dummy_hash[160];      /* type 9 hash of a random string: timing cover for unknown users */
};

/* What one method says about one request. */
enum aaa_mres { AAA_M_OK, AAA_M_FAIL, AAA_M_UNAVAILABLE, AAA_M_PROMPT };

/* The state a method needs: the config of this login and the request. */
struct aaa_call {
    struct aaa *a;
    const struct cfg *cfg;
    const struct aaa_req *req;
    const char *password;     /* login only */
    int privilege;            /* authorization: the level granted */
    const struct cfg_method *method;   /* the method being run (its group name) */
    char used[CFG_NAME_MAX + 80];      /* group methods: "group G, server S" that decided */
    char why[512];            /* reason of a FAIL / UNAVAILABLE, for logs and refusals */
    struct tacacs_conv **conv;         /* login: non-NULL when the user can answer prompts */
    struct aaa_prompt *prompt;         /* AAA_M_PROMPT: the server's prompt */
    const struct cfg_aaa_server *conv_srv;   /* AAA_M_PROMPT: the server asking */
};

/* A keyboard-interactive login waiting for the answer to a TACACS+ server's prompt. */
struct aaa_conv {
    struct tacacs_conv *tc;
    char server[CFG_NAME_MAX];
    char how[CFG_NAME_MAX + 100];
};

void aaa_conv_free(struct aaa_conv *cv)
{
    if (cv == NULL)
        return;
    tacacs_conv_free(cv->tc);
    free(cv);
}

/* The time one round trip with s may take: the server's timeout, within what is left of the
 * login (req->deadline_ms), or within ip ssh time-out when the door gave no deadline. 0: the
 * login's time has run out. */
static int aaa_timeout_ms(const struct cfg *cfg, const struct aaa_req *req,
                          const struct cfg_aaa_server *s)
{
    int64_t ms = (int64_t)(s != NULL && s->timeout > 0 ? s->timeout : CFG_AAA_TIMEOUT) * 1000;
    if (req->deadline_ms > 0) {
        int64_t left = req->deadline_ms - clock_mono_ms();
        if (left < ms)
            ms = left > 0 ? left : 0;
    } else if (cfg->ssh_timeout > 0 && ms > (int64_t)cfg->ssh_timeout * 1000) {
        ms = (int64_t)cfg->ssh_timeout * 1000;   /* ip ssh time-out bounds a login */
    }
    return (int)ms;
}

static void aaa_release(const struct store_snap *snap)
{
    if (snap)
        store_snap_release(snap);
}

static int64_t aaa_now(void)
{
    return clock_mono_ms() / 1000;
}

static struct log_ctx aaa_logctx(const struct aaa_req *req)
{
    struct log_ctx lc = {.sid = req->sid, .user = req->user, .peer = req->peer};
    return lc;
}

static void aaa_count(struct aaa *a, enum stats_counter c)
{
    if (a->stats)
        stats_inc(a->stats, c, 1);
}

/* One event on the `security` stream (stats_security tolerates a NULL stats). */
static void aaa_security(struct aaa *a, const char *kind, const struct aaa_req *req,
                         const char *reason)
{
    stats_security(a->stats, kind, req->door ? req->door : "ssh", req->user, req->peer, reason);
}

/* ---- methods ------------------------------------------------------------------------------- */

/* Spends the time of a real verification when there is nothing real to verify. */
static void aaa_spend_verify(struct aaa *a, const char *password)
{
    (void)secret_verify(CFG_SECRET_9, a->dummy_hash, password);
}

static enum aaa_mres aaa_login_local(struct aaa_call *c)
{
    /* IOS: an empty local database is "no such user database": the next method is tried. */
    if (c->cfg->n_users == 0) {
        aaa_spend_verify(c->a, c->password);
        snprintf(c->why, sizeof(c->why), "no local user database");
        return AAA_M_UNAVAILABLE;
    }
    const struct cfg_user *u = cfg_user_find(c->cfg, c->req->user);
    if (u == NULL || u->secret_type == CFG_SECRET_NONE || u->secret[0] == '\0') {
        aaa_spend_verify(c->a, c->password);
        snprintf(c->why, sizeof(c->why), "%s",
                 u ? "user has no password" : "unknown user");
        return AAA_M_FAIL;
    }
    int r = secret_verify((int)u->secret_type, u->secret, c->password);
    if (r == 1)
        return AAA_M_OK;
    snprintf(c->why, sizeof(c->why), "%s", r < 0 ? "stored secret is malformed" : "wrong password");
    return AAA_M_FAIL;
}

static enum aaa_mres aaa_login_none(struct aaa_call *c)
{
    return AAA_M_OK;
}

/* ---- network AAA: server groups ------------------------------------------------------------- */

enum aaa_op { AAA_OP_LOGIN, AAA_OP_AUTHZ, AAA_OP_ACCT };

/* The state of (proto, name), made on first use; an entry of a server no longer configured is
 * reused when the table is full. Under mu. */
static struct aaa_server_state *aaa_srv_state(struct aaa *a, const struct cfg *cfg,
                                              const struct cfg_aaa_server *s)
{
    struct aaa_server_state *free_e = NULL;
    const char *proto = s->proto == CFG_AAA_TACACS ? "tacacs+" : "radius";
    for (int i = 0; i < LIM_CFG_AAA_SERVERS; i++) {
        struct aaa_server_state *e = &a->srv[i];
        if (e->name[0] && strcmp(e->name, s->name) == 0 && strcmp(e->proto, proto) == 0)
            return e;
        if (free_e == NULL && (e->name[0] == '\0' ||
                               !cfg_server_find(cfg, strcmp(e->proto, "tacacs+") == 0
                                                         ? CFG_AAA_TACACS : CFG_AAA_RADIUS,
                                                e->name)))
            free_e = e;
    }
    if (free_e == NULL)
        free_e = &a->srv[0];
    memset(free_e, 0, sizeof(*free_e));
    snprintf(free_e->name, sizeof(free_e->name), "%s", s->name);
    snprintf(free_e->proto, sizeof(free_e->proto), "%s", proto);
    return free_e;
}

/* The servers of group method `group` in the order they are asked, and the deadtime (minutes) of
 * the group. */
static int aaa_group_servers(const struct cfg *cfg, const char *group,
                             const struct cfg_aaa_server **out, int *deadtime)
{
    int n = 0;
    *deadtime = 0;
    if (strcmp(group, "tacacs+") == 0 || strcmp(group, "radius") == 0) {
        enum cfg_aaa_proto p = group[0] == 't' ? CFG_AAA_TACACS : CFG_AAA_RADIUS;
        if (p == CFG_AAA_RADIUS)
            *deadtime = cfg->rad_deadtime;
        for (size_t i = 0; i < cfg->n_servers && n < LIM_CFG_AAA_SERVERS; i++)
            if (cfg->servers[i].proto == p)
                out[n++] = &cfg->servers[i];
        return n;
    }
    const struct cfg_aaa_group *g = cfg_group_find(cfg, group);
    if (g == NULL)
        return -1;
    *deadtime = g->deadtime ? g->deadtime : g->proto == CFG_AAA_RADIUS ? cfg->rad_deadtime : 0;
    for (int i = 0; i < g->n && n < LIM_CFG_AAA_SERVERS; i++) {
        const struct cfg_aaa_server *s = cfg_server_find(cfg, g->proto, g->server[i]);
        if (s != NULL)
            out[n++] = s;
    }
    return n;
}

/* What one exchange needs beyond the call: the accounting record (TACACS+ attribute-value
 * pairs, and the same as fields for RADIUS). */
struct aaa_exchange {
    enum aaa_op op;
    uint8_t acct_flags;
    const char *const *args;
    int nargs;
    const struct aaa_acct *acct;
    uint64_t bytes_in, bytes_out;
};

/* RADIUS authorizes in its Access-Accept: the level it gave a login is kept for the exec
 * authorizations of the same session (door, sid, user), the least recently used entry reused. */
struct aaa_rad_priv {
    char door[8];
    uint64_t sid;
    char user[LIM_AUTH_USER_LEN + 1];
    int priv;
    int64_t used_ms;          /* 0 = free */
};

static void aaa_rad_priv_put(struct aaa *a, const struct aaa_req *req, int priv)
{
    const char *door = req->door ? req->door : "ssh";
    struct aaa_rad_priv *victim = NULL;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < LIM_AAA_RADIUS_SESSIONS; i++) {
        struct aaa_rad_priv *e = &a->rad_priv[i];
        if (e->used_ms && e->sid == req->sid && strcmp(e->door, door) == 0 &&
            strcmp(e->user, req->user) == 0) {
            victim = e;
            break;
        }
        if (victim == NULL || e->used_ms < victim->used_ms)
            victim = e;
    }
    snprintf(victim->door, sizeof(victim->door), "%s", door);
    snprintf(victim->user, sizeof(victim->user), "%s", req->user);
    victim->sid = req->sid;
    victim->priv = priv;
    victim->used_ms = clock_mono_ms();
    pthread_mutex_unlock(&a->mu);
}

static int aaa_rad_priv_get(struct aaa *a, const struct aaa_req *req)
{
    const char *door = req->door ? req->door : "ssh";
    int priv = -1;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < LIM_AAA_RADIUS_SESSIONS; i++) {
        struct aaa_rad_priv *e = &a->rad_priv[i];
        if (e->used_ms && e->sid == req->sid && strcmp(e->door, door) == 0 &&
            req->user != NULL && strcmp(e->user, req->user) == 0) {
            priv = e->priv;
            e->used_ms = clock_mono_ms();
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return priv;
}

/* One RADIUS exchange (login or accounting) with s, key already decrypted. */
static void aaa_radius_ask(struct aaa_call *c, const struct cfg_aaa_server *s,
                           const struct aaa_exchange *x, const char *key, int timeout_ms,
                           struct tacacs_result *r)
{
    struct radius_target tg = {.name = s->name, .addr = s->addr, .secret = key,
                               .timeout_ms = timeout_ms, .retransmit = s->retransmit,
                               .deadline_ms = c->req->deadline_ms};
    const char *peer = c->req->peer_addr ? c->req->peer_addr : "";
    if (x->op == AAA_OP_LOGIN) {
        tg.port = s->port;
        radius_authen(&tg, c->req->user, c->password ? c->password : "", peer, r);
        return;
    }
    char sid[32];
    snprintf(sid, sizeof(sid), "%08X", x->acct->task_id);
    struct radius_req q = {.user = c->req->user, .calling_station = peer, .session_id = sid,
                           .status = x->acct_flags == TACPLUS_ACCT_START ? RADIUS_ACCT_START
                                                                        : RADIUS_ACCT_STOP};
    if (q.status == RADIUS_ACCT_STOP) {
        /* 32-bit counters (RFC 2866 5.3); Acct-*-Gigawords are not sent */
        q.session_time = (uint32_t)((clock_mono_ms() - x->acct->start_ms) / 1000);
        q.in_octets = (uint32_t)x->bytes_in;
        q.out_octets = (uint32_t)x->bytes_out;
    }
    tg.port = s->acct_port;
    radius_acct(&tg, &q, r);
}

/* One exchange with server s. True when the login's deadline, not the server's own timeout,
 * bounded it (or left no time to ask at all): a time-out then is the login's, not the server's. */
static bool aaa_server_ask(struct aaa_call *c, const struct cfg_aaa_server *s,
                           const struct aaa_exchange *x, struct tacacs_result *r)
{
    char key[SECRET6_PLAIN_MAX + 1] = "";
    memset(r, 0, sizeof(*r));
    r->outcome = TACACS_DOWN;
    if (s->key[0] != '\0' && secret_decrypt6(s->key, key, sizeof(key)) != 0) {
        snprintf(r->why, sizeof(r->why), "its key 6 does not decrypt under this device's master "
                 "key (enter it again as key 0)");
        return false;
    }
    int timeout = aaa_timeout_ms(c->cfg, c->req, s);
    bool cut = c->req->deadline_ms > 0 &&
               timeout < (s->timeout > 0 ? s->timeout : CFG_AAA_TIMEOUT) * 1000;
    if (timeout <= 0) {
        r->timed_out = true;
        snprintf(r->why, sizeof(r->why), "not asked: the login's time (ip ssh time-out %d s) has "
                 "run out", c->cfg->ssh_timeout);
        OPENSSL_cleanse(key, sizeof(key));
        return true;
    }
    if (s->proto == CFG_AAA_RADIUS) {
        aaa_radius_ask(c, s, x, key, timeout, r);
        OPENSSL_cleanse(key, sizeof(key));
        return cut;
    }
    struct tacacs_target tg = {.name = s->name, .addr = s->addr, .port = s->port, .key = key,
                               .timeout_ms = timeout, .single = s->single};
    struct tacplus_who w = {.user = c->req->user, .port = c->req->door ? c->req->door : "ssh",
                            .rem_addr = c->req->peer_addr ? c->req->peer_addr : "",
                            .priv_lvl = (uint8_t)(c->privilege > 0 ? c->privilege : 1)};
    static const char *const shell[] = {"service=shell", "cmd*"};
    switch (x->op) {
    case AAA_OP_LOGIN:
        if (c->conv != NULL)
            tacacs_authen_conv(c->a->tac, &tg, &w, c->password ? c->password : "", r, c->conv);
        else
            tacacs_authen(c->a->tac, &tg, &w, c->password ? c->password : "", r);
        break;
    case AAA_OP_AUTHZ:
        tacacs_author(c->a->tac, &tg, &w, shell, 2, r);
        break;
    case AAA_OP_ACCT:
        tacacs_acct(c->a->tac, &tg, &w, x->acct_flags, x->args, x->nargs, r);
        break;
    }
    OPENSSL_cleanse(key, sizeof(key));
    return cut;
}

/* Counts the outcome of an exchange with s; marks it dead or alive. Logs and reports the
 * transitions. */
static void aaa_server_outcome(struct aaa_call *c, const struct cfg_aaa_server *s, int deadtime,
                               const struct tacacs_result *r)
{
    struct aaa *a = c->a;
    int64_t now = clock_mono_ms();
    bool died = false, revived = false;
    pthread_mutex_lock(&a->mu);
    struct aaa_server_state *e = aaa_srv_state(a, c->cfg, s);
    e->requests++;
    if (r->outcome == TACACS_DOWN) {
        if (r->timed_out)
            e->timeouts++;
        else
            e->errors++;
        if (deadtime > 0 && !e->dead) {
            e->dead = died = true;
            e->dead_until_ms = now + (int64_t)deadtime * 60000;
        }
    } else {
        if (r->outcome == TACACS_PASS)
            e->accepts++;
        else if (r->outcome == TACACS_FAIL)
            e->rejects++;           /* a prompt is neither: the answer decides */
        e->rtt_ms = r->rtt_ms;
        e->rtt_sum_ms += r->rtt_ms;
        e->answers++;
        if (e->dead)
            revived = true;
        e->dead = false;
        e->dead_until_ms = 0;
    }
    pthread_mutex_unlock(&a->mu);
    struct log_ctx lc = aaa_logctx(c->req);
    const char *proto = s->proto == CFG_AAA_TACACS ? "tacacs" : "radius";
    if (r->outcome == TACACS_DOWN)
        log_warn(&lc, "%s server %s (%s port %d): %s", proto, s->name, s->addr, s->port, r->why);
    if (died || revived) {
        char why[512];
        if (died)
            snprintf(why, sizeof(why), "%s server %s is dead for %d min: %s", proto, s->name,
                     deadtime, r->why);
        else
            snprintf(why, sizeof(why), "%s server %s is alive again", proto, s->name);
        log_warn(&lc, "%s", why);
        stats_security(a->stats, died ? "aaa-server-dead" : "aaa-server-alive",
                       c->req->door ? c->req->door : "ssh", c->req->user, c->req->peer, why);
    }
}

/* True (and skipped) while s is dead; a server whose deadtime has passed is asked again. */
static bool aaa_server_skip(struct aaa_call *c, const struct cfg_aaa_server *s)
{
    struct aaa *a = c->a;
    bool skip = false;
    pthread_mutex_lock(&a->mu);
    struct aaa_server_state *e = aaa_srv_state(a, c->cfg, s);
    if (e->dead && e->dead_until_ms > clock_mono_ms()) {
        skip = true;
        e->skipped++;
    }
    pthread_mutex_unlock(&a->mu);
    return skip;
}

/* Walks the servers of the group named by method m (IOS order and semantics, see the head). */
static enum aaa_mres aaa_group_run(struct aaa_call *c, const char *group,
                                   const struct aaa_exchange *x)
{
    const struct cfg_aaa_server *srv[LIM_CFG_AAA_SERVERS];
    int deadtime, n = aaa_group_servers(c->cfg, group, srv, &deadtime), asked = 0, dead = 0;
    if (n < 0) {
        snprintf(c->why, sizeof(c->why), "no server group %s (aaa group server)", group);
        return AAA_M_UNAVAILABLE;
    }
    if (n == 0) {
        snprintf(c->why, sizeof(c->why), "no server configured for group %s", group);
        return AAA_M_UNAVAILABLE;
    }
    struct tacacs_result r = {0};
    if (srv[0]->proto == CFG_AAA_RADIUS && x->op == AAA_OP_AUTHZ) {
        int priv = aaa_rad_priv_get(c->a, c->req);
        if (priv < 0) {
            snprintf(c->why, sizeof(c->why), "group %s: no RADIUS login in this session to take "
                     "the privilege from", group);
            return AAA_M_UNAVAILABLE;
        }
        snprintf(c->used, sizeof(c->used), "group %s, from the Access-Accept", group);
        c->privilege = priv;
        return AAA_M_OK;
    }
    for (int i = 0; i < n; i++) {
        if (aaa_server_skip(c, srv[i])) {
            dead++;
            continue;
        }
        asked++;
        if (aaa_server_ask(c, srv[i], x, &r) && r.outcome == TACACS_DOWN && r.timed_out) {
            /* the login's time ran out, not the server: neither counted nor marked dead (a
             * client timing its password could not make a server look dead), and the servers
             * after it have no time left either */
            snprintf(c->why, sizeof(c->why), "group %s: the login's time (ip ssh time-out %d s) "
                     "has run out at server %s", group, c->cfg->ssh_timeout, srv[i]->name);
            return AAA_M_UNAVAILABLE;
        }
        aaa_server_outcome(c, srv[i], deadtime, &r);
        if (r.outcome == TACACS_DOWN)
            continue;
        snprintf(c->used, sizeof(c->used), "group %s, server %s", group, srv[i]->name);
        if (r.outcome == TACACS_PROMPT) {
            snprintf(c->prompt->text, sizeof(c->prompt->text), "%s", r.prompt);
            c->prompt->echo = r.echo;
            c->conv_srv = srv[i];
            return AAA_M_PROMPT;
        }
        if (r.outcome == TACACS_FAIL) {
            snprintf(c->why, sizeof(c->why), "%s: %s", srv[i]->name, r.why);
            return AAA_M_FAIL;
        }
        if (x->op == AAA_OP_AUTHZ)
            c->privilege = r.priv_lvl >= 0 ? r.priv_lvl : CFG_DEFAULT_PRIVILEGE;
        if (x->op == AAA_OP_LOGIN && srv[i]->proto == CFG_AAA_RADIUS)
            aaa_rad_priv_put(c->a, c->req, r.priv_lvl >= 0 ? r.priv_lvl : CFG_DEFAULT_PRIVILEGE);
        return AAA_M_OK;
    }
    if (asked == 0)
        snprintf(c->why, sizeof(c->why), "every server of group %s is dead (deadtime)", group);
    else
        snprintf(c->why, sizeof(c->why), "no server of group %s answered%s (last: %s)", group,
                 dead ? ", the others are dead" : "", r.why);
    return AAA_M_UNAVAILABLE;
}

static enum aaa_mres aaa_group_login(struct aaa_call *c)
{
    struct aaa_exchange x = {.op = AAA_OP_LOGIN};
    return aaa_group_run(c, c->method->group, &x);
}

static enum aaa_mres aaa_group_authz(struct aaa_call *c)
{
    struct aaa_exchange x = {.op = AAA_OP_AUTHZ};
    return aaa_group_run(c, c->method->group, &x);
}

static enum aaa_mres aaa_authz_local(struct aaa_call *c)
{
    const struct cfg_user *u = cfg_user_find(c->cfg, c->req->user);
    if (u == NULL) {
        snprintf(c->why, sizeof(c->why), "user %s is not in the local database", c->req->user);
        return AAA_M_FAIL;
    }
    c->privilege = u->privilege;
    return AAA_M_OK;
}

/* none and if-authenticated grant the EXEC shell; the level is the user's local privilege when the
 * user is known, else the IOS default level 1. */
static enum aaa_mres aaa_authz_grant(struct aaa_call *c)
{
    const struct cfg_user *u = cfg_user_find(c->cfg, c->req->user);
    c->privilege = u ? u->privilege : CFG_DEFAULT_PRIVILEGE;
    return AAA_M_OK;
}

struct aaa_method {
    enum cfg_method_kind kind;
    const char *name;
    enum aaa_mres (*login)(struct aaa_call *c);   /* NULL: not valid in a login list */
    enum aaa_mres (*authz)(struct aaa_call *c);   /* NULL: not valid in an authorization list */
};

static const struct aaa_method aaa_methods[] = {
    {CFG_M_LOCAL, "local", aaa_login_local, aaa_authz_local},
    {CFG_M_NONE, "none", aaa_login_none, aaa_authz_grant},
    {CFG_M_IF_AUTHENTICATED, "if-authenticated", NULL, aaa_authz_grant},
    {CFG_M_GROUP, "group", aaa_group_login, aaa_group_authz},
};

static const struct aaa_method *aaa_method_find(enum cfg_method_kind kind)
{
    for (size_t i = 0; i < sizeof(aaa_methods) / sizeof(aaa_methods[0]); i++)
        if (aaa_methods[i].kind == kind)
            return &aaa_methods[i];
    return NULL;
}

/* The list used when none is configured: the local database (IOS without a default list). */
static const struct cfg_mlist aaa_local_only = {.name = "default", .n = 1,
                                                .m = {{.kind = CFG_M_LOCAL}}};

/* Walks list with the login (authz == false) or authorization functions. *used gets the method
 * that decided. */
static enum aaa_mres aaa_walk(struct aaa_call *c, const struct cfg_mlist *list, bool authz,
                              const struct aaa_method **used)
{
    enum aaa_mres r = AAA_M_UNAVAILABLE;
    *used = NULL;
    for (int i = 0; i < list->n && i < LIM_CFG_METHODS; i++) {
        const struct aaa_method *m = aaa_method_find(list->m[i].kind);
        enum aaa_mres (*fn)(struct aaa_call *) = m ? (authz ? m->authz : m->login) : NULL;
        if (fn == NULL)
            continue;   /* not meaningful in this kind of list: as if absent */
        *used = m;
        c->method = &list->m[i];
        c->used[0] = '\0';
        r = fn(c);
        if (r != AAA_M_UNAVAILABLE)
            break;
    }
    return r;
}

/* ---- login block-for ----------------------------------------------------------------------- */

static struct aaa_block *aaa_block_find(struct aaa *a, const char *addr)
{
    for (size_t i = 0; i < LIM_BLOCK_SOURCES; i++)
        if (a->blocks[i].addr[0] && strcmp(a->blocks[i].addr, addr) == 0)
            return &a->blocks[i];
    return NULL;
}

static struct aaa_block *aaa_block_slot(struct aaa *a, const char *addr, int64_t now)
{
    struct aaa_block *b = aaa_block_find(a, addr), *victim = NULL;
    if (b)
        return b;
    for (size_t i = 0; i < LIM_BLOCK_SOURCES; i++) {
        struct aaa_block *e = &a->blocks[i];
        if (e->addr[0] == '\0') {
            victim = e;
            break;
        }
        if (e->blocked_until > now)
            continue;
        if (victim == NULL || e->touched < victim->touched)
            victim = e;
    }
    if (victim == NULL)   /* every entry is blocking: reuse the one ending first */
        for (size_t i = 0; i < LIM_BLOCK_SOURCES; i++)
            if (victim == NULL || a->blocks[i].blocked_until < victim->blocked_until)
                victim = &a->blocks[i];
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
    return victim;
}

static int64_t aaa_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The shared store's quiet period of addr (unix seconds until_s, 0: none), cached in the table
 * (a->mu held): its end in monotonic seconds. */
static void aaa_block_cache(struct aaa *a, const char *addr, int64_t until_s, int64_t wall_s)
{
    int64_t now = aaa_now();
    struct aaa_block *b = aaa_block_slot(a, addr, now);
    b->touched = now;
    b->shared_ms = clock_mono_ms();
    if (until_s > wall_s && now + (until_s - wall_s) > b->blocked_until)
        b->blocked_until = now + (until_s - wall_s);
}

static int aaa_blocked_secs(struct aaa *a, const struct cfg *cfg, const char *addr)
{
    if (cfg->block_secs <= 0 || addr == NULL)
        return 0;
    int64_t now = aaa_now();
    int left = 0;
    bool ask = false;
    pthread_mutex_lock(&a->mu);
    struct aaa_block *b = aaa_block_find(a, addr);
    if (!(b && b->blocked_until > now) && store_instance(a->st) != 0)
        ask = b == NULL || b->shared_ms == 0 ||
              clock_mono_ms() - b->shared_ms >= AAA_SHARED_BLOCK_MS;
    pthread_mutex_unlock(&a->mu);
    if (ask) {   /* without the lock: a database round trip */
        int64_t until_s = 0, wall_s = aaa_wall_ms() / 1000;
        struct scpd_err err = {0};
        if (store_block_get(a->st, addr, wall_s, &until_s, &err) == 0) {
            pthread_mutex_lock(&a->mu);
            aaa_block_cache(a, addr, until_s, wall_s);
            pthread_mutex_unlock(&a->mu);
        }   /* unreachable: the table alone decides (the store logs its outage) */
    }
    pthread_mutex_lock(&a->mu);
    b = aaa_block_find(a, addr);
    if (b && b->blocked_until > now) {
        /* A shorter quiet period configured since the block started applies at once. */
        int64_t end = b->blocked_until;
        if (end - now > cfg->block_secs)
            end = now + cfg->block_secs;
        left = (int)(end - now);
    }
    pthread_mutex_unlock(&a->mu);
    return left;
}

bool aaa_window_fail(struct aaa_window *w, int64_t now_ms, int attempts, int within_secs)
{
    if (attempts <= 0 || within_secs <= 0)
        return false;
    /* k failures per recorded time, m recorded times for N: k = 1, m = N when N fits */
    int k = (attempts + LIM_BLOCK_FAIL_TIMES - 1) / LIM_BLOCK_FAIL_TIMES;
    int m = (attempts + k - 1) / k;
    if (++w->unsampled < k)
        return false;
    w->unsampled = 0;
    w->t_ms[w->head] = now_ms;
    w->head = (w->head + 1) % LIM_BLOCK_FAIL_TIMES;
    if (w->n < LIM_BLOCK_FAIL_TIMES)
        w->n++;
    if (w->n < m)
        return false;
    /* the m-th most recent time: N failures ago */
    int64_t oldest = w->t_ms[(w->head - m + LIM_BLOCK_FAIL_TIMES) % LIM_BLOCK_FAIL_TIMES];
    if (now_ms - oldest >= (int64_t)within_secs * 1000)
        return false;
    memset(w, 0, sizeof(*w));
    return true;
}

/* Counts one failed login of addr; starts the quiet period when the threshold is reached. */
static void aaa_block_fail(struct aaa *a, const struct cfg *cfg, const struct aaa_req *req)
{
    if (cfg->block_secs <= 0 || cfg->block_attempts <= 0 || req->peer_addr == NULL)
        return;
    int64_t now_ms = clock_mono_ms(), now = now_ms / 1000;
    bool started = false, shared_started = false;
    int shared = -1;   /* 0: the shared store counted it; -1: no shared store, or unreachable */
    int64_t until_s = 0, wall_ms = aaa_wall_ms();
    if (store_instance(a->st) != 0) {
        struct scpd_err err = {0};
        shared = store_block_fail(a->st, req->peer_addr, wall_ms, cfg->block_attempts,
                                  cfg->block_within, cfg->block_secs, &until_s, &shared_started,
                                  &err);
    }
    pthread_mutex_lock(&a->mu);
    struct aaa_block *b = aaa_block_slot(a, req->peer_addr, now);
    b->touched = now;
    if (aaa_window_fail(&b->win, now_ms, cfg->block_attempts, cfg->block_within) &&
        b->blocked_until <= now && shared != 0) {
        b->blocked_until = now + cfg->block_secs;
        started = true;
    }
    if (shared == 0) {   /* the database saw every instance's failures: it decides */
        aaa_block_cache(a, req->peer_addr, until_s, wall_ms / 1000);
        started = shared_started;
    }
    pthread_mutex_unlock(&a->mu);
    if (started) {
        struct log_ctx lc = aaa_logctx(req);
        char why[200];
        snprintf(why, sizeof(why), "login block-for: %d failed logins within %d s from %s, logins "
                 "from it are refused for %d s", cfg->block_attempts, cfg->block_within,
                 req->peer_addr, cfg->block_secs);
        log_warn(&lc, "%s", why);
        aaa_security(a, "login-blocked", req, why);
    }
}

bool aaa_is_blocked(struct aaa *a, const char *peer_addr, int *secs_left)
{
    const struct store_snap *snap = store_snapshot(a->st);
    int left = snap ? aaa_blocked_secs(a, snap->cfg, peer_addr) : 0;
    aaa_release(snap);
    if (secs_left)
        *secs_left = left;
    return left > 0;
}

bool aaa_check_blocked(struct aaa *a, const struct aaa_req *req, int *secs_left)
{
    int left = 0;
    bool blocked = aaa_is_blocked(a, req->peer_addr, &left);
    if (secs_left)
        *secs_left = left;
    if (!blocked)
        return false;
    char why[200];
    snprintf(why, sizeof(why), "logins from %s are blocked for %d more seconds (login block-for)",
             req->peer_addr, left);
    struct log_ctx lc = aaa_logctx(req);
    aaa_count(a, STATS_LOGINS_BLOCKED);
    log_notice(&lc, "%s connection refused: %s", req->door ? req->door : "ssh", why);
    aaa_security(a, "login-blocked", req, why);
    return true;
}

/* ---- command accounting ---------------------------------------------------------------------- */

bool aaa_acct_command(struct aaa *a, const struct aaa_req *req, int privilege, const char *cmd)
{
    bool ok = true;
    const struct store_snap *snap = store_snapshot(a->st);
    if (snap == NULL)
        return false;
    const struct cfg *cfg = snap->cfg;
    const struct cfg_acct *list = cfg->aaa_new_model && privilege == 15
                                      ? cfg_acct_find(cfg, CFG_ACCT_COMMANDS15, "default")
                                      : NULL;
    if (list != NULL) {
        struct aaa_acct ac = {.task_id = __atomic_add_fetch(&a->task_id, 1, __ATOMIC_RELAXED),
                              .privilege = privilege, .start_ms = clock_mono_ms()};
        char task[32], line[LIM_CFG_LINE_LEN + 8], now[40];
        snprintf(task, sizeof(task), "task_id=%u", ac.task_id);
        snprintf(now, sizeof(now), "stop_time=%lld", (long long)time(NULL));
        snprintf(line, sizeof(line), "cmd=%s", cmd);
        const char *args[] = {task, now, "timezone=UTC", "service=shell", "priv-lvl=15", line};
        struct aaa_call c = {.a = a, .cfg = cfg, .req = req, .privilege = privilege};
        struct aaa_exchange x = {.op = AAA_OP_ACCT, .acct_flags = TACPLUS_ACCT_STOP,
                                 .args = args, .nargs = 6, .acct = &ac};
        enum aaa_mres r = AAA_M_UNAVAILABLE;
        struct log_ctx lc = aaa_logctx(req);
        for (int i = 0; i < list->n && r == AAA_M_UNAVAILABLE; i++) {
            const struct cfg_aaa_server *srv[LIM_CFG_AAA_SERVERS];
            int dt, n = aaa_group_servers(cfg, list->m[i].group, srv, &dt);
            if (n > 0 && srv[0]->proto != CFG_AAA_TACACS)
                continue;   /* RADIUS: no command accounting */
            r = aaa_group_run(&c, list->m[i].group, &x);
        }
        ok = r == AAA_M_OK;
        if (!ok)
            log_warn(&lc, "command accounting task_id=%u not recorded: %s", ac.task_id,
                     c.why[0] ? c.why : "no TACACS+ group in the list");
    }
    aaa_release(snap);
    return ok;
}

/* A commit (any door): one command record per changed line of the rendering, when the commands
 * list is configured. The config of the last commit is kept (a clone, under mu) only while the
 * list exists, so the list costs nothing when absent; the commit that adds it is not recorded. */
static void aaa_on_commit(void *arg, const struct store_snap *snap)
{
    struct aaa *a = arg;
    const struct cfg *cfg = snap->cfg;
    bool on = cfg->aaa_new_model && cfg_acct_find(cfg, CFG_ACCT_COMMANDS15, "default") != NULL;
    struct cfg *mine = on ? cfg_clone(cfg) : NULL, *prev = NULL;
    pthread_mutex_lock(&a->mu);
    if (snap->version > a->last_version) {   /* concurrent commits may arrive out of order */
        a->last_version = snap->version;
        prev = a->last_cfg;
        a->last_cfg = mine;
        mine = NULL;
    }
    pthread_mutex_unlock(&a->mu);
    char *diff = on && prev ? cfg_diff(prev, cfg) : NULL;
    struct aaa_req req = {.door = "config", .user = snap->changed_by, .peer = "",
                          .peer_addr = ""};
    for (char *l = diff; l != NULL && *l;) {
        char *e = strchr(l, '\n'), cmd[LIM_CFG_LINE_LEN + 4];
        if (e != NULL)
            *e = '\0';
        if ((l[0] == '+' || l[0] == '-') && l[1] == ' ' && l[2] != '!') {
            snprintf(cmd, sizeof(cmd), "%s%s", l[0] == '-' ? "no " : "",
                     l + 2 + strspn(l + 2, " "));
            /* the first unrecorded line ends the walk: an unreachable server costs one timeout
             * per commit, not one per changed line */
            if (!aaa_acct_command(a, &req, 15, cmd))
                break;
        }
        l = e ? e + 1 : l + strlen(l);
    }
    free(diff);
    cfg_free(prev);
    cfg_free(mine);
}

/* ---- entry points -------------------------------------------------------------------------- */

struct aaa *aaa_new(struct store *st, struct stats *stats, struct trace *trace)
{
    struct aaa *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->blocks = calloc(LIM_BLOCK_SOURCES, sizeof(*a->blocks));
    a->rad_priv = calloc(LIM_AAA_RADIUS_SESSIONS, sizeof(*a->rad_priv));
    unsigned char rnd[24];
    char plain[sizeof(rnd) * 2 + 1];
    if (a->blocks == NULL || a->rad_priv == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1)
        goto fail;
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(plain + 2 * i, 3, "%02x", rnd[i]);
    if (secret_hash9(plain, a->dummy_hash, sizeof(a->dummy_hash)) != 0)
        goto fail;
    if ((a->tac = tacacs_new()) == NULL)
        goto fail;
    if (pthread_mutex_init(&a->mu, NULL) != 0)
        goto fail;
    if (st != NULL) {
        const struct store_snap *s0 = store_snapshot(st);
        if (s0 != NULL) {
            a->last_version = s0->version;
            a->last_cfg = cfg_clone(s0->cfg);
        }
        aaa_release(s0);
        if (store_listen(st, aaa_on_commit, a) != 0) {
            cfg_free(a->last_cfg);
            pthread_mutex_destroy(&a->mu);
            goto fail;
        }
    }
    a->st = st;
    a->stats = stats;
    a->trace = trace;
    return a;
fail:
    tacacs_free(a->tac);
    free(a->rad_priv);
    free(a->blocks);
    free(a);
    return NULL;
}

void aaa_free(struct aaa *a)
{
    if (a == NULL)
        return;
    pthread_mutex_destroy(&a->mu);
    cfg_free(a->last_cfg);
    tacacs_free(a->tac);
    free(a->rad_priv);
    free(a->blocks);
    free(a);
}

/* Outcome of a login: counters, block-for, one log line, one trace event. */
static enum aaa_result aaa_login_done(struct aaa *a, const struct cfg *cfg,
                                      const struct aaa_req *req, const char *how,
                                      enum aaa_result res, const char *why, struct scpd_err *err)
{
    struct log_ctx lc = aaa_logctx(req);
    const char *door = req->door ? req->door : "ssh";
    switch (res) {
    case AAA_OK:
        aaa_count(a, STATS_LOGINS_OK);
        log_info(&lc, "%s login ok (%s)", door, how);
        scpd_err_clear(err);
        break;
    case AAA_FAIL:
        aaa_count(a, STATS_LOGINS_FAILED);
        log_notice(&lc, "%s login failed (%s): %s", door, how, why);
        aaa_security(a, "login-failed", req, why);
        aaa_block_fail(a, cfg, req);   /* after: a block it starts is the next event */
        scpd_err_set(err, SCPD_E_DENIED, "authentication failed");
        break;
    case AAA_ERROR:
        aaa_count(a, STATS_LOGINS_FAILED);
        log_warn(&lc, "%s login failed (%s): no authentication method available: %s", door, how,
                 why);
        scpd_err_set(err, SCPD_E_DENIED, "authentication failed: no authentication method "
                     "available (%s)", why);
        aaa_security(a, "login-failed", req, err ? err->msg : why);
        break;
    case AAA_BLOCKED:
        aaa_count(a, STATS_LOGINS_BLOCKED);
        log_notice(&lc, "%s login refused: %s", door, why);
        aaa_security(a, "login-blocked", req, why);
        scpd_err_set(err, SCPD_E_DENIED, "%s", why);
        break;
    case AAA_CONTINUE:   /* not an outcome: aaa_login_kbdint returns it before this */
        break;
    }
    if (a->trace && trace_on(a->trace))
        trace_emit(a->trace, req->sid, req->peer, true, "%s login %s user %s (%s)%s%s", door,
                   res == AAA_OK ? "ok" : res == AAA_BLOCKED ? "blocked" : "failed",
                   req->user ? req->user : "", how, res == AAA_OK ? "" : ": ",
                   res == AAA_OK ? "" : why);
    return res;
}

/* Common start of a login: the snapshot and the block-for check. Returns the snapshot (caller
 * releases) or NULL when the store gave none. */
static const struct store_snap *aaa_begin(struct aaa *a, const struct aaa_req *req, int *blocked)
{
    const struct store_snap *snap = store_snapshot(a->st);
    *blocked = snap ? aaa_blocked_secs(a, snap->cfg, req->peer_addr) : 0;
    return snap;
}

/* A login with a password through the list; with conv, a TACACS+ prompt after the password
 * ends it as AAA_CONTINUE (the dialogue in *conv, nothing counted yet). */
static enum aaa_result aaa_login_run(struct aaa *a, const struct aaa_req *req,
                                     const char *password, struct aaa_conv **conv,
                                     struct aaa_prompt *prompt, struct scpd_err *err)
{
    int blocked;
    const struct store_snap *snap = aaa_begin(a, req, &blocked);
    if (snap == NULL) {
        scpd_err_set(err, SCPD_E_INTERNAL, "authentication failed: configuration unavailable");
        return AAA_ERROR;
    }
    const struct cfg *cfg = snap->cfg;
    enum aaa_result res;
    char why[512], how_buf[CFG_NAME_MAX + 100];
    const char *how = "password";
    if (blocked) {
        snprintf(why, sizeof(why), "logins from %s are blocked for %d more seconds "
                 "(login block-for)", req->peer_addr, blocked);
        res = AAA_BLOCKED;
    } else if (req->user == NULL || req->user[0] == '\0' ||
               strlen(req->user) > LIM_AUTH_USER_LEN || password == NULL ||
               strlen(password) > LIM_PASSWORD_LEN) {
        aaa_spend_verify(a, "");
        snprintf(why, sizeof(why), "user name or password too long or empty");
        res = AAA_FAIL;
    } else {
        struct tacacs_conv *tc = NULL;
        struct aaa_call c = {.a = a, .cfg = cfg, .req = req, .password = password,
                             .conv = conv != NULL ? &tc : NULL, .prompt = prompt};
        /* SSH logins use the list of `line vty` (login authentication LIST), else default */
        bool vty = req->door == NULL || strcmp(req->door, "ssh") == 0;
        const char *name = vty && cfg->vty.login_list[0] ? cfg->vty.login_list : "default";
        const struct cfg_mlist *list = cfg->aaa_new_model ? cfg_authn_find(cfg, name) : NULL;
        if (list == NULL && cfg->aaa_new_model && strcmp(name, "default") != 0) {
            aaa_spend_verify(a, password);
            snprintf(why, sizeof(why), "login authentication list %s (line vty) is not defined",
                     name);
            res = AAA_ERROR;
        } else {
            const struct aaa_method *used;
            enum aaa_mres r = aaa_walk(&c, list ? list : &aaa_local_only, false, &used);
            snprintf(how_buf, sizeof(how_buf), "%s",
                     c.used[0] ? c.used
                     : used    ? used->name
                               : "password");
            how = how_buf;
            snprintf(why, sizeof(why), "%s", c.why);
            res = r == AAA_M_OK ? AAA_OK : r == AAA_M_FAIL ? AAA_FAIL : AAA_ERROR;
            if (r == AAA_M_PROMPT) {
                *conv = calloc(1, sizeof(**conv));
                if (*conv != NULL) {
                    (*conv)->tc = tc;
                    snprintf((*conv)->server, sizeof((*conv)->server), "%s", c.conv_srv->name);
                    snprintf((*conv)->how, sizeof((*conv)->how), "%s", how);
                    aaa_release(snap);
                    return AAA_CONTINUE;
                }
                tacacs_conv_free(tc);
                snprintf(why, sizeof(why), "out of memory");
            }
        }
    }
    res = aaa_login_done(a, cfg, req, how, res, why, err);
    aaa_release(snap);
    return res;
}

enum aaa_result aaa_login_password(struct aaa *a, const struct aaa_req *req, const char *password,
                                   struct scpd_err *err)
{
    return aaa_login_run(a, req, password, NULL, NULL, err);
}

enum aaa_result aaa_login_kbdint(struct aaa *a, const struct aaa_req *req, const char *answer,
                                 struct aaa_conv **conv, struct aaa_prompt *p,
                                 struct scpd_err *err)
{
    struct aaa_conv *cv = *conv;
    if (cv == NULL)
        return aaa_login_run(a, req, answer, conv, p, err);
    *conv = NULL;
    /* login block-for was checked when the login started (its password) */
    const struct store_snap *snap = store_snapshot(a->st);
    if (snap == NULL) {
        aaa_conv_free(cv);
        scpd_err_set(err, SCPD_E_INTERNAL, "authentication failed: configuration unavailable");
        return AAA_ERROR;
    }
    const struct cfg *cfg = snap->cfg;
    const struct cfg_aaa_server *s = cfg_server_find(cfg, CFG_AAA_TACACS, cv->server);
    struct tacacs_result r = {0};
    struct tacacs_conv *next = NULL;
    char why[512];
    enum aaa_result res;
    int timeout = aaa_timeout_ms(cfg, req, s);
    if (answer == NULL || strlen(answer) > LIM_PASSWORD_LEN) {
        snprintf(why, sizeof(why), "answer too long");
        res = AAA_FAIL;
    } else if (timeout <= 0) {
        snprintf(why, sizeof(why), "the login's time (ip ssh time-out %d s) has run out",
                 cfg->ssh_timeout);
        res = AAA_ERROR;
    } else {
        tacacs_authen_next(cv->tc, answer, timeout, &r, &next);
        if (s != NULL) {
            struct aaa_call c = {.a = a, .cfg = cfg, .req = req};
            aaa_server_outcome(&c, s, 0, &r);
        }
        if (r.outcome == TACACS_PROMPT && next != NULL) {
            tacacs_conv_free(cv->tc);
            cv->tc = next;
            snprintf(p->text, sizeof(p->text), "%s", r.prompt);
            p->echo = r.echo;
            *conv = cv;
            aaa_release(snap);
            return AAA_CONTINUE;
        }
        snprintf(why, sizeof(why), "%s: %s", cv->server, r.why);
        res = r.outcome == TACACS_PASS ? AAA_OK : r.outcome == TACACS_FAIL ? AAA_FAIL : AAA_ERROR;
    }
    res = aaa_login_done(a, cfg, req, cv->how, res, why, err);
    aaa_conv_free(cv);
    aaa_release(snap);
    return res;
}

enum aaa_result aaa_enable(struct aaa *a, const struct aaa_req *req, const char *password,
                           struct scpd_err *err)
{
    int blocked;
    const struct store_snap *snap = aaa_begin(a, req, &blocked);
    if (snap == NULL) {
        scpd_err_set(err, SCPD_E_INTERNAL, "enable failed: configuration unavailable");
        return AAA_ERROR;
    }
    const struct cfg *cfg = snap->cfg;
    enum aaa_result res = AAA_FAIL;
    char why[256] = "wrong enable secret";
    if (blocked) {
        snprintf(why, sizeof(why), "logins from %s are blocked for %d more seconds "
                 "(login block-for)", req->peer_addr, blocked);
        res = AAA_BLOCKED;
    } else if (cfg->enable_type == CFG_SECRET_NONE) {
        snprintf(why, sizeof(why), "no enable secret is configured");
        res = AAA_ERROR;
    } else if (password == NULL || strlen(password) > LIM_PASSWORD_LEN) {
        aaa_spend_verify(a, "");
    } else {
        int r = secret_verify((int)cfg->enable_type, cfg->enable_secret, password);
        if (r == 1)
            res = AAA_OK;
        else if (r < 0)
            snprintf(why, sizeof(why), "stored enable secret is malformed");
    }
    res = aaa_login_done(a, cfg, req, "enable", res, why, err);
    aaa_release(snap);
    return res;
}

bool aaa_enable_configured(struct aaa *a)
{
    const struct store_snap *snap = store_snapshot(a->st);
    bool on = snap != NULL && snap->cfg->enable_type != CFG_SECRET_NONE;
    if (snap != NULL)
        aaa_release(snap);
    return on;
}

/* The key-hash entries of user that equal md5_hex (upper-case hex; compared without case since
 * the hash is public). */
static bool aaa_key_listed(const struct cfg *cfg, const char *user, const char *md5_hex)
{
    const struct cfg_pkuser *pk = user ? cfg_pkuser_find(cfg, user) : NULL;
    if (pk == NULL || md5_hex == NULL)
        return false;
    for (int i = 0; i < pk->nkeys && i < LIM_CFG_KEYS_PER_USER; i++)
        if (strcasecmp(pk->keys[i].hash, md5_hex) == 0)
            return true;
    return false;
}

bool aaa_pubkey_acceptable(struct aaa *a, const struct aaa_req *req, const char *md5_hex)
{
    int blocked;
    const struct store_snap *snap = aaa_begin(a, req, &blocked);
    bool ok = snap && !blocked && aaa_key_listed(snap->cfg, req->user, md5_hex);
    aaa_release(snap);
    return ok;
}

enum aaa_result aaa_login_pubkey(struct aaa *a, const struct aaa_req *req, const char *key_type,
                                 const char *md5_hex, struct scpd_err *err)
{
    int blocked;
    const struct store_snap *snap = aaa_begin(a, req, &blocked);
    if (snap == NULL) {
        scpd_err_set(err, SCPD_E_INTERNAL, "authentication failed: configuration unavailable");
        return AAA_ERROR;
    }
    char why[256] = "";
    enum aaa_result res = AAA_OK;
    if (blocked) {
        snprintf(why, sizeof(why), "logins from %s are blocked for %d more seconds "
                 "(login block-for)", req->peer_addr, blocked);
        res = AAA_BLOCKED;
    } else if (!aaa_key_listed(snap->cfg, req->user, md5_hex)) {
        snprintf(why, sizeof(why), "%s key %s is not in ip ssh pubkey-chain for this user",
                 key_type ? key_type : "public", md5_hex ? md5_hex : "?");
        res = AAA_FAIL;
    }
    res = aaa_login_done(a, snap->cfg, req, "publickey", res, why, err);
    aaa_release(snap);
    return res;
}

int aaa_authorize_exec(struct aaa *a, const struct aaa_req *req, int *privilege,
                       struct scpd_err *err)
{
    const struct store_snap *snap = store_snapshot(a->st);
    if (snap == NULL)
        return scpd_err_set(err, SCPD_E_INTERNAL, "authorization failed: configuration "
                            "unavailable");
    const struct cfg *cfg = snap->cfg;
    struct log_ctx lc = aaa_logctx(req);
    struct scpd_err e = {0};
    int rc = -1;
    const struct cfg_mlist *list = cfg->aaa_new_model ? cfg_authz_find(cfg, "default") : NULL;
    if (!cfg->aaa_new_model) {
        scpd_err_set(&e, SCPD_E_DENIED, "authorization failed: AAA is not enabled "
                     "(aaa new-model), so exec authorization is not configured");
    } else if (list == NULL) {
        scpd_err_set(&e, SCPD_E_DENIED, "authorization failed: aaa authorization exec is not "
                     "configured");
    } else {
        struct aaa_call c = {.a = a, .cfg = cfg, .req = req};
        const struct aaa_method *used;
        enum aaa_mres r = aaa_walk(&c, list, true, &used);
        if (r == AAA_M_OK) {
            *privilege = c.privilege;
            rc = 0;
            log_info(&lc, "exec authorized (%s), privilege %d",
                     c.used[0] ? c.used : used ? used->name : "?", c.privilege);
        } else if (r == AAA_M_FAIL) {
            scpd_err_set(&e, SCPD_E_DENIED, "authorization failed: %s", c.why);
        } else {
            scpd_err_set(&e, SCPD_E_DENIED, "authorization failed: no authorization method "
                         "available (%s)", c.why[0] ? c.why : "empty list");
        }
    }
    if (rc != 0) {
        log_notice(&lc, "%s", e.msg);
        if (err)
            *err = e;
    }
    if (a->trace && trace_on(a->trace))
        trace_emit(a->trace, req->sid, req->peer, false, "exec authorization %s%s%s",
                   rc == 0 ? "granted" : "refused", rc == 0 ? "" : ": ", e.msg);
    aaa_release(snap);
    return rc;
}

bool aaa_privilege_known(struct aaa *a, const char *user)
{
    const struct store_snap *snap = store_snapshot(a->st);
    bool known = snap != NULL && user != NULL && cfg_user_find(snap->cfg, user) != NULL;
    aaa_release(snap);
    return known;
}

int aaa_privilege(struct aaa *a, const char *user)
{
    const struct store_snap *snap = store_snapshot(a->st);
    if (snap == NULL || user == NULL) {
        aaa_release(snap);
        return 0;
    }
    const struct cfg_user *u = cfg_user_find(snap->cfg, user);
    int p = u ? u->privilege : 0;
    aaa_release(snap);
    return p;
}

/* ---- network AAA: state and accounting ------------------------------------------------------- */

int aaa_servers_state(struct aaa *a, struct aaa_server_state *out, int cap)
{
    int n = 0;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < LIM_CFG_AAA_SERVERS && n < cap; i++)
        if (a->srv[i].name[0] != '\0') {
            out[n] = a->srv[i];
            if (out[n].dead && out[n].dead_until_ms <= clock_mono_ms())
                out[n].dead = false;   /* its deadtime is over: it will be asked again */
            n++;
        }
    pthread_mutex_unlock(&a->mu);
    return n;
}

/* Sends one record through the exec accounting list: to the first server of each group that
 * answers, the next group only when one is unavailable (as logins). */
static void aaa_acct_send(struct aaa *a, const struct aaa_req *req, struct aaa_acct *ac,
                          uint8_t flags, const char *const *args, int nargs, uint64_t bytes_in,
                          uint64_t bytes_out)
{
    const struct store_snap *snap = store_snapshot(a->st);
    if (snap == NULL)
        return;
    const struct cfg_acct *list = snap->cfg->aaa_new_model
                                      ? cfg_acct_find(snap->cfg, CFG_ACCT_EXEC, "default")
                                      : NULL;
    struct log_ctx lc = aaa_logctx(req);
    if (list != NULL && !(flags == TACPLUS_ACCT_START && list->stop_only)) {
        struct aaa_call c = {.a = a, .cfg = snap->cfg, .req = req, .privilege = ac->privilege};
        struct aaa_exchange x = {.op = AAA_OP_ACCT, .acct_flags = flags, .args = args,
                                 .nargs = nargs, .acct = ac, .bytes_in = bytes_in,
                                 .bytes_out = bytes_out};
        enum aaa_mres r = AAA_M_UNAVAILABLE;
        for (int i = 0; i < list->n && r == AAA_M_UNAVAILABLE; i++)
            r = aaa_group_run(&c, list->m[i].group, &x);
        if (r == AAA_M_OK)
            log_info(&lc, "accounting %s record task_id=%u sent (%s)",
                     flags == TACPLUS_ACCT_START ? "start" : "stop", ac->task_id, c.used);
        else
            log_warn(&lc, "accounting %s record task_id=%u not recorded: %s",
                     flags == TACPLUS_ACCT_START ? "start" : "stop", ac->task_id, c.why);
    }
    aaa_release(snap);
}

void aaa_acct_start(struct aaa *a, const struct aaa_req *req, const char *protocol,
                    int privilege, struct aaa_acct *ac)
{
    memset(ac, 0, sizeof(*ac));
    ac->on = true;
    ac->task_id = __atomic_add_fetch(&a->task_id, 1, __ATOMIC_RELAXED);
    ac->start_ms = clock_mono_ms();
    ac->start_time = (int64_t)time(NULL);
    ac->privilege = privilege;
    snprintf(ac->protocol, sizeof(ac->protocol), "%s", protocol);
    char task[32], start[40], proto[24];
    snprintf(task, sizeof(task), "task_id=%u", ac->task_id);
    snprintf(start, sizeof(start), "start_time=%lld", (long long)ac->start_time);
    snprintf(proto, sizeof(proto), "protocol=%s", ac->protocol);
    const char *args[] = {task, start, "timezone=UTC", "service=shell", proto};
    aaa_acct_send(a, req, ac, TACPLUS_ACCT_START, args, 5, 0, 0);
}

void aaa_acct_stop(struct aaa *a, const struct aaa_req *req, struct aaa_acct *ac,
                   uint64_t bytes_in, uint64_t bytes_out)
{
    if (!ac->on)
        return;
    ac->on = false;
    char task[32], start[40], stop[40], proto[24], el[40], bin[40], bout[40];
    snprintf(task, sizeof(task), "task_id=%u", ac->task_id);
    snprintf(start, sizeof(start), "start_time=%lld", (long long)ac->start_time);
    snprintf(stop, sizeof(stop), "stop_time=%lld", (long long)time(NULL));
    snprintf(proto, sizeof(proto), "protocol=%s", ac->protocol);
    snprintf(el, sizeof(el), "elapsed_time=%lld",
             (long long)((clock_mono_ms() - ac->start_ms) / 1000));
    snprintf(bin, sizeof(bin), "bytes_in=%llu", (unsigned long long)bytes_in);
    snprintf(bout, sizeof(bout), "bytes_out=%llu", (unsigned long long)bytes_out);
    const char *args[] = {task, start, stop, "timezone=UTC", "service=shell", proto, el, bin,
                          bout};
    aaa_acct_send(a, req, ac, TACPLUS_ACCT_STOP, args, 9, bytes_in, bytes_out);
}
