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
 * addresses cannot lift a block. */
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
#include "services/trace.h"

#define AAA_ADDR_LEN 64

struct aaa_block {
    char addr[AAA_ADDR_LEN];   /* "" = free slot */
    struct aaa_window win;     /* failure times, monotonic milliseconds */
    int64_t blocked_until;     /* monotonic seconds; 0 = not blocked */
    int64_t touched;
};

struct aaa {
    struct store *st;
    struct stats *stats;
    struct trace *trace;
    pthread_mutex_t mu;
    struct aaa_block *blocks;  /* LIM_BLOCK_SOURCES entries */
    char dummy_hash[160];      /* type 9 hash of a random string: timing cover for unknown users */
};

/* What one method says about one request. */
enum aaa_mres { AAA_M_OK, AAA_M_FAIL, AAA_M_UNAVAILABLE };

/* The state a method needs: the config of this login and the request. */
struct aaa_call {
    struct aaa *a;
    const struct cfg *cfg;
    const struct aaa_req *req;
    const char *password;     /* login only */
    int privilege;            /* authorization: the level granted */
    char why[256];            /* reason of a FAIL / UNAVAILABLE, for logs and refusals */
};

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

/* No TACACS+/RADIUS server can be configured in this release: the method is always unavailable,
 * exactly what IOS does when no server of the group answers. */
static enum aaa_mres aaa_group_unavailable(struct aaa_call *c)
{
    snprintf(c->why, sizeof(c->why), "no server configured for the group");
    return AAA_M_UNAVAILABLE;
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
    {CFG_M_GROUP, "group", aaa_group_unavailable, aaa_group_unavailable},
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

static int aaa_blocked_secs(struct aaa *a, const struct cfg *cfg, const char *addr)
{
    if (cfg->block_secs <= 0 || addr == NULL)
        return 0;
    int64_t now = aaa_now();
    int left = 0;
    pthread_mutex_lock(&a->mu);
    struct aaa_block *b = aaa_block_find(a, addr);
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
    bool started = false;
    pthread_mutex_lock(&a->mu);
    struct aaa_block *b = aaa_block_slot(a, req->peer_addr, now);
    b->touched = now;
    if (aaa_window_fail(&b->win, now_ms, cfg->block_attempts, cfg->block_within) &&
        b->blocked_until <= now) {
        b->blocked_until = now + cfg->block_secs;
        started = true;
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

/* ---- entry points -------------------------------------------------------------------------- */

struct aaa *aaa_new(struct store *st, struct stats *stats, struct trace *trace)
{
    struct aaa *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->blocks = calloc(LIM_BLOCK_SOURCES, sizeof(*a->blocks));
    unsigned char rnd[24];
    char plain[sizeof(rnd) * 2 + 1];
    if (a->blocks == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1)
        goto fail;
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(plain + 2 * i, 3, "%02x", rnd[i]);
    if (secret_hash9(plain, a->dummy_hash, sizeof(a->dummy_hash)) != 0)
        goto fail;
    if (pthread_mutex_init(&a->mu, NULL) != 0)
        goto fail;
    a->st = st;
    a->stats = stats;
    a->trace = trace;
    return a;
fail:
    free(a->blocks);
    free(a);
    return NULL;
}

void aaa_free(struct aaa *a)
{
    if (a == NULL)
        return;
    pthread_mutex_destroy(&a->mu);
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

enum aaa_result aaa_login_password(struct aaa *a, const struct aaa_req *req, const char *password,
                                   struct scpd_err *err)
{
    int blocked;
    const struct store_snap *snap = aaa_begin(a, req, &blocked);
    if (snap == NULL) {
        scpd_err_set(err, SCPD_E_INTERNAL, "authentication failed: configuration unavailable");
        return AAA_ERROR;
    }
    const struct cfg *cfg = snap->cfg;
    enum aaa_result res;
    char why[256];
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
        struct aaa_call c = {.a = a, .cfg = cfg, .req = req, .password = password};
        const struct cfg_mlist *list = cfg->aaa_new_model ? cfg_authn_find(cfg, "default") : NULL;
        const struct aaa_method *used;
        enum aaa_mres r = aaa_walk(&c, list ? list : &aaa_local_only, false, &used);
        how = used ? used->name : "password";
        snprintf(why, sizeof(why), "%s", c.why);
        res = r == AAA_M_OK ? AAA_OK : r == AAA_M_FAIL ? AAA_FAIL : AAA_ERROR;
    }
    res = aaa_login_done(a, cfg, req, how, res, why, err);
    aaa_release(snap);
    return res;
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
            log_info(&lc, "exec authorized (%s), privilege %d", used ? used->name : "?",
                     c.privilege);
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
