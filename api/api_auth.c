/* api_auth: who is asking. HTTP Basic goes through the one AAA entry point (aaa_login_password,
 * door "http"), so the HTTP door has the same users, secrets, method lists and login block-for
 * accounting as SSH. A bearer token is what the dashboard uses after one Basic login
 * (POST /restconf/operations/scpd:login); it is sent in the Authorization header only, never in a
 * cookie, so a third-party page cannot make the browser use it (no CSRF).
 *
 * Tokens: 256 random bits, handed out once in hex; the table keeps only their SHA-256 and
 * compares with CRYPTO_memcmp. A token lives LIM_TOKEN_TTL_SECS; the table holds at most LIM_TOKENS
 * (the oldest is dropped first). The privilege of a request is read from the running config at the
 * time of the request, so lowering a user's privilege or deleting the user takes effect at once,
 * for tokens too. A token is bound to the account, not to the name: it keeps the account generation
 * of its user (aaa_account_gen, derived from the stored secret hash) and dies when the user is
 * deleted, re-created or given a new password or secret.
 *
 * Where they live: with a shared store (PostgreSQL) in its token table (store_token_*), so every
 * instance behind a load balancer accepts a token any of them issued and a logout on one is
 * refused by all; the caps and the TTL hold the same way. With sqlite (one instance) in the
 * fixed table below. A store that cannot be reached fails the request with 503, naming why. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "services/aaa.h"
#include "services/aaa_grant.h"
#include "store/store.h"
#include "api/api_auth.h"
#include "base/b64.h"
#include "base/lim.h"
#include "base/log.h"
#include "base/scpd.h"
#include "services/sessions.h"

#define TOKEN_BYTES 32

struct token {
    unsigned char hash[SHA256_DIGEST_LENGTH];
    char user[LIM_AUTH_USER_LEN + 1];
    time_t expires;      /* 0: free slot */
    uint64_t serial;     /* issue order: which of a user's tokens is the oldest */
    uint64_t account;    /* aaa_account_gen of the user at issue (0: not a local user) */
    int privilege;       /* the level the login's authorization gave (a user of a TACACS+ or
                          * RADIUS server only: the local database has no level for it) */
};

struct api_tokens {
    pthread_mutex_t mu;
    uint64_t next_serial;
    struct token t[LIM_TOKENS];
};

struct api_tokens *api_tokens_new(void)
{
    struct api_tokens *t = calloc(1, sizeof *t);

    if (t != NULL)
        pthread_mutex_init(&t->mu, NULL);
    return t;
}

void api_tokens_free(struct api_tokens *t)
{
    if (t == NULL)
        return;
    OPENSSL_cleanse(t->t, sizeof t->t);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static void token_hash(const char *tok, unsigned char out[SHA256_DIGEST_LENGTH])
{
    SHA256((const unsigned char *)tok, strlen(tok), out);
}

/* The slot a new token of user takes: that user's oldest when the user already holds
 * LIM_TOKENS_PER_USER live tokens (so logging in over and over only replaces one's own tokens),
 * else a free or expired slot, else the oldest of all (only when LIM_TOKENS / LIM_TOKENS_PER_USER
 * users each hold their full share). The caller holds t->mu. */
static struct token *token_slot(struct api_tokens *t, const char *user, time_t now)
{
    struct token *own = NULL, *free_slot = NULL, *oldest = NULL;
    int mine = 0;
    for (size_t i = 0; i < LIM_TOKENS; i++) {
        struct token *k = &t->t[i];
        if (k->expires <= now) {
            if (free_slot == NULL)
                free_slot = k;
            continue;
        }
        if (strcmp(k->user, user) == 0) {
            mine++;
            if (own == NULL || k->serial < own->serial)
                own = k;
        }
        if (oldest == NULL || k->serial < oldest->serial)
            oldest = k;
    }
    if (mine >= LIM_TOKENS_PER_USER)
        return own;
    return free_slot != NULL ? free_slot : oldest;
}

/* The SHA-256 of tok in hex, as the shared store keeps it. */
static void token_hash_hex(const char *tok, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    token_hash(tok, h);
    for (size_t i = 0; i < sizeof h; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The shared store holding the tokens, or NULL when they live in this process's table. */
static struct store *token_store(const struct scpd *d)
{
    return d != NULL && d->store != NULL && store_is_shared(d->store) ? d->store : NULL;
}

/* Issues a token for user into hex (2*TOKEN_BYTES+1 bytes). -1: no random bytes; -2: the shared
 * store failed (err). */
static int token_issue(struct api_tokens *t, struct store *st, const char *user, uint64_t account,
                       int privilege, char *hex, size_t cap, struct scpd_err *err)
{
    unsigned char raw[TOKEN_BYTES];
    time_t now = time(NULL);

    if (cap < 2 * TOKEN_BYTES + 1 || RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof raw);

    if (st != NULL) {
        struct store_token k = {.account = account, .privilege = privilege,
                                .expires = now + LIM_TOKEN_TTL_SECS};
        char h[2 * SHA256_DIGEST_LENGTH + 1];
        snprintf(k.user, sizeof k.user, "%s", user);
        token_hash_hex(hex, h);
        if (store_token_add(st, h, &k, now, LIM_TOKENS_PER_USER, LIM_TOKENS, err) != 0) {
            OPENSSL_cleanse(hex, cap);
            return -2;
        }
        return 0;
    }
    pthread_mutex_lock(&t->mu);
    struct token *slot = token_slot(t, user, now);
    token_hash(hex, slot->hash);
    snprintf(slot->user, sizeof slot->user, "%s", user);
    slot->expires = now + LIM_TOKEN_TTL_SECS;
    slot->serial = ++t->next_serial;
    slot->account = account;
    slot->privilege = privilege;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

/* The live slot of tok, or NULL; the caller holds t->mu. Every slot is compared, so the time
 * taken does not depend on which one matches. */
static struct token *token_find(struct api_tokens *t, const char *tok, time_t now)
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    struct token *hit = NULL;

    if (strlen(tok) != 2 * TOKEN_BYTES)
        return NULL;
    token_hash(tok, h);
    for (size_t i = 0; i < LIM_TOKENS; i++) {
        struct token *k = &t->t[i];
        if (k->expires > now && CRYPTO_memcmp(k->hash, h, sizeof h) == 0)
            hit = k;
    }
    return hit;
}

/* Finds a live token; copies its user, account generation and privilege. 0 if found, -1 if not,
 * -2 when the shared store failed (err). */
static int token_check(struct api_tokens *t, struct store *st, const char *tok, char *user,
                       size_t cap, uint64_t *account, int *privilege, struct scpd_err *err)
{
    if (st != NULL) {
        struct store_token k;
        char h[2 * SHA256_DIGEST_LENGTH + 1];
        if (strlen(tok) != 2 * TOKEN_BYTES)
            return -1;
        token_hash_hex(tok, h);
        int rc = store_token_get(st, h, time(NULL), &k, err);
        if (rc <= 0)
            return rc < 0 ? -2 : -1;
        snprintf(user, cap, "%s", k.user);
        *account = k.account;
        *privilege = k.privilege;
        return 0;
    }
    pthread_mutex_lock(&t->mu);
    struct token *k = token_find(t, tok, time(NULL));
    if (k != NULL) {
        snprintf(user, cap, "%s", k->user);
        *account = k->account;
        *privilege = k->privilege;
    }
    pthread_mutex_unlock(&t->mu);
    return k != NULL ? 0 : -1;
}

/* -1 when the shared store failed (err). */
static int token_revoke(struct api_tokens *t, struct store *st, const char *tok,
                        struct scpd_err *err)
{
    if (st != NULL) {
        char h[2 * SHA256_DIGEST_LENGTH + 1];
        token_hash_hex(tok, h);
        return store_token_del(st, h, err);
    }
    pthread_mutex_lock(&t->mu);
    struct token *k = token_find(t, tok, time(NULL));
    if (k != NULL)
        memset(k, 0, sizeof *k);
    pthread_mutex_unlock(&t->mu);
    return 0;
}

/* ---- the Authorization header ---------------------------------------------------------------- */

static int unauthorized(struct api_req *r, struct api_resp *resp, const char *why)
{
    /* api.c adds WWW-Authenticate: Basic realm="scpd" to every 401 */
    return api_error(resp, 401, "protocol", "access-denied", NULL, "%s", why), -1;
}

/* Decodes "user:password" of a Basic header into user/pass. 0 or -1. */
static int basic_decode(const char *b64, char *user, size_t ucap, char *pass, size_t pcap)
{
    size_t n = strlen(b64);
    unsigned char buf[3 * ((LIM_AUTH_USER_LEN + LIM_PASSWORD_LEN + 2) / 3 + 2)];
    int len;

    while (n > 0 && (b64[n - 1] == ' ' || b64[n - 1] == '\t'))
        n--;
    int rc = -1;
    len = b64_decode(b64, n, buf, sizeof buf);
    if (len < 0 || memchr(buf, '\0', (size_t)len) != NULL)
        goto out;
    unsigned char *colon = memchr(buf, ':', (size_t)len);
    if (colon == NULL)
        goto out;
    size_t ul = (size_t)(colon - buf), pl = (size_t)len - ul - 1;
    if (ul == 0 || ul >= ucap || pl >= pcap)
        goto out;
    memcpy(user, buf, ul);
    user[ul] = '\0';
    memcpy(pass, colon + 1, pl);
    pass[pl] = '\0';
    rc = 0;
out:
    /* the decoded password must not stay on the stack, whatever was wrong with the header */
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

static int blocked(struct api_req *r, struct api_resp *resp, int secs)
{
    char ra[16];

    snprintf(ra, sizeof ra, "%d", secs > 0 ? secs : 1);
    api_error(resp, 429, "protocol", "access-denied", NULL,
              "logins from %s are blocked for %d more seconds after too many failed logins "
              "(login block-for)", r->peer_addr, secs);
    api_resp_header(resp, "Retry-After", ra);
    return -1;
}

static int auth_basic(struct api_req *r, struct api_resp *resp, const char *b64)
{
    struct scpd *d = r->d;
    char user[LIM_AUTH_USER_LEN + 1], pass[LIM_PASSWORD_LEN + 1];
    struct scpd_err err;
    int secs = 0;

    if (d->aaa == NULL)
        return api_error(resp, 500, "application", "operation-failed", NULL,
                         "authentication is not available (AAA not started)"), -1;
    struct aaa_req pre = {.door = "http", .peer_addr = r->peer_addr, .peer = r->peer, .sid = r->id};
    if (aaa_check_blocked(d->aaa, &pre, &secs))   /* counted and reported as a blocked login */
        return blocked(r, resp, secs);
    if (basic_decode(b64, user, sizeof user, pass, sizeof pass) < 0)
        return unauthorized(r, resp, "malformed Basic credentials (want base64 of user:password, "
                            "user at most 64 and password at most 256 characters)");
    struct aaa_req ar = {.door = "http", .user = user, .peer_addr = r->peer_addr,
                         .peer = r->peer, .sid = r->id};
    scpd_err_clear(&err);
    enum aaa_result res = aaa_login_password(d->aaa, &ar, pass, &err);
    OPENSSL_cleanse(pass, sizeof pass);
    switch (res) {
    case AAA_OK:
        break;
    case AAA_BLOCKED:
        aaa_is_blocked(d->aaa, r->peer_addr, &secs);
        return blocked(r, resp, secs);
    case AAA_ERROR:
        return api_error(resp, 503, "application", "operation-failed", NULL,
                         "authentication unavailable: %s",
                         err.msg[0] ? err.msg : "no login method available"), -1;
    case AAA_FAIL:
    default:
        return unauthorized(r, resp, "authentication failed: wrong user name or password");
    }
    snprintf(r->user, sizeof r->user, "%s", user);
    r->authed = true;
    r->via_token = false;
    r->privilege = aaa_privilege(d->aaa, user);
    /* a user known only to a TACACS+ server: its level is what exec authorization grants */
    if (r->privilege == 0 && aaa_privilege_known(d->aaa, user) == false &&
        aaa_authorize_exec(d->aaa, &ar, &r->privilege, &err) != 0)
        r->privilege = 0;
    sessions_http_seen(d->sessions, r->user, r->peer_addr);
    return 0;
}

/* The account generation of user in the running config (0: no such local user). */
static uint64_t account_now(struct scpd *d, const char *user)
{
    const struct store_snap *snap = d->store != NULL ? store_snapshot(d->store) : NULL;
    if (snap == NULL)
        return 0;
    uint64_t g = aaa_account_gen(snap->cfg, user);
    store_snap_release(snap);
    return g;
}

static int auth_bearer(struct api_req *r, struct api_resp *resp, const char *tok)
{
    struct scpd *d = r->d;
    char user[LIM_AUTH_USER_LEN + 1];
    uint64_t account = 0;
    int priv = 0;
    struct scpd_err err = {0};

    int rc = token_check(r->shared->tokens, token_store(d), tok, user, sizeof user, &account,
                         &priv, &err);
    if (rc == -2)
        return api_error(resp, 503, "application", "operation-failed", NULL,
                         "cannot check the bearer token: %s", err.msg), -1;
    if (rc < 0)
        return unauthorized(r, resp, "invalid or expired bearer token: log in again with "
                            "POST /restconf/operations/scpd:login");
    if (account_now(d, user) != account) {
        struct log_ctx lc = {.sid = r->id, .user = user, .peer = r->peer};
        log_notice(&lc, "http: bearer token refused: the account of %s changed", user);
        return unauthorized(r, resp, "bearer token revoked: the account it was issued to was "
                            "deleted, re-created or given a new secret; log in again with "
                            "POST /restconf/operations/scpd:login");
    }
    snprintf(r->user, sizeof r->user, "%s", user);
    r->authed = true;
    r->via_token = true;
    /* a local user's level is read now (a lowered privilege applies at once); a user known only
     * to a TACACS+/RADIUS server keeps what the server's authorization gave at the token's login
     * (asking the server again on every request would put its round trip on each of them) */
    if (d->aaa == NULL)
        r->privilege = 0;
    else   /* account_now is 0 exactly when user is not a local user */
        r->privilege = account != 0 ? aaa_privilege(d->aaa, user) : priv;
    sessions_http_seen(d->sessions, r->user, r->peer_addr);
    return 0;
}

/* The token of a "Bearer TOKEN" header value into buf (2 * TOKEN_BYTES + 2 bytes), blanks around
 * it trimmed as around Basic credentials; NULL for another scheme. A value too long for a token
 * is cut to one byte more than a token, which token_find refuses by its length. */
#define BEARER_BUF (2 * TOKEN_BYTES + 2)
static const char *bearer_token(const char *h, char buf[BEARER_BUF])
{
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n >= BEARER_BUF)
        n = BEARER_BUF - 1;
    memcpy(buf, h, n);
    buf[n] = '\0';
    return buf;
}

int api_auth_request(struct api_req *r, struct api_resp *resp)
{
    const char *h = api_header(r, MHD_HTTP_HEADER_AUTHORIZATION);

    if (r->authed)
        return 0;
    if (h == NULL)
        return unauthorized(r, resp, "authentication required: use HTTP Basic with a user of the "
                            "login list, or a bearer token from scpd:login");
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Basic ", 6) == 0)
        return auth_basic(r, resp, h + 6);
    char buf[BEARER_BUF];
    if (bearer_token(h, buf) != NULL) {
        int rc = auth_bearer(r, resp, buf);
        OPENSSL_cleanse(buf, sizeof buf);
        return rc;
    }
    return unauthorized(r, resp, "unsupported Authorization scheme (use Basic or Bearer)");
}

/* ---- operations ------------------------------------------------------------------------------ */

/* POST /restconf/operations/scpd:login with Basic credentials -> a bearer token. */
int api_h_login(struct api_req *r, struct api_resp *resp)
{
    char hex[2 * TOKEN_BYTES + 1];

    if (r->via_token)
        return api_error(resp, 403, "protocol", "access-denied", NULL,
                         "scpd:login needs Basic credentials, not a bearer token");
    struct scpd_err err = {0};
    int rc = token_issue(r->shared->tokens, token_store(r->d), r->user, account_now(r->d, r->user),
                         r->privilege, hex, sizeof hex, &err);
    if (rc == -2)
        return api_error(resp, 503, "application", "operation-failed", NULL,
                         "cannot store the token: %s", err.msg);
    if (rc < 0)
        return api_error(resp, 500, "application", "operation-failed", NULL,
                         "cannot create a token (random source failed)");
    struct log_ctx lc = {.sid = r->id, .user = r->user, .peer = r->peer};
    log_info(&lc, "http: bearer token issued");
    json_t *out = json_pack("{s:{s:s,s:s,s:i,s:i}}", "scpd:output", "token", hex, "user",
                            r->user, "privilege", r->privilege, "expires-in",
                            (int)LIM_TOKEN_TTL_SECS);
    OPENSSL_cleanse(hex, sizeof hex);
    return api_json(resp, 200, out);
}

/* POST /restconf/operations/scpd:logout with the bearer token to revoke. */
int api_h_logout(struct api_req *r, struct api_resp *resp)
{
    const char *h = api_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    char buf[BEARER_BUF];
    const char *tok = h != NULL ? bearer_token(h, buf) : NULL;

    if (!r->via_token || tok == NULL)
        return api_error(resp, 400, "protocol", "invalid-value", NULL,
                         "scpd:logout revokes the bearer token it is sent with");
    struct scpd_err err = {0};
    int rc = token_revoke(r->shared->tokens, token_store(r->d), tok, &err);
    OPENSSL_cleanse(buf, sizeof buf);
    if (rc != 0)
        return api_error(resp, 503, "application", "operation-failed", NULL,
                         "cannot revoke the token: %s", err.msg);
    return api_no_content(resp);
}
