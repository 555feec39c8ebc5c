/* aaa_grant: see aaa_grant.h. */
#include "services/aaa_grant.h"

#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "store/store.h"

uint64_t aaa_account_gen(const struct cfg *cfg, const char *user)
{
    const struct cfg_user *u = user ? cfg_user_find(cfg, user) : NULL;
    if (u == NULL)
        return 0;
    unsigned char buf[sizeof u->name + sizeof u->secret + 16];
    unsigned char md[SHA256_DIGEST_LENGTH];
    int n = snprintf((char *)buf, sizeof buf, "%s%c%d%c%s", u->name, 0, (int)u->secret_type, 0,
                     u->secret);
    if (n < 0 || (size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    SHA256(buf, (size_t)n, md);
    uint64_t g = 0;
    for (int i = 0; i < 8; i++)
        g = g << 8 | md[i];
    return g ? g : 1;
}

int aaa_grant_account(struct store *st, const char *user, struct aaa_grant *g,
                      struct scpd_err *err)
{
    memset(g, 0, sizeof *g);
    snprintf(g->user, sizeof g->user, "%s", user ? user : "");
    const struct store_snap *snap = store_snapshot(st);
    if (snap == NULL)
        return scpd_err_set(err, SCPD_E_INTERNAL, "authorization failed: configuration "
                            "unavailable");
    g->account = aaa_account_gen(snap->cfg, g->user);
    g->version = snap->version;
    store_snap_release(snap);
    return 0;
}

int aaa_grant_take(struct aaa *a, struct store *st, const struct aaa_req *req,
                   struct aaa_grant *g, struct scpd_err *err)
{
    if (aaa_grant_account(st, req->user, g, err) != 0)
        return -1;
    return aaa_authorize_exec(a, req, &g->privilege, err);
}

int aaa_grant_check_account(struct store *st, struct aaa_grant *g, struct scpd_err *err)
{
    if (store_version(st) == g->version)
        return 0;
    const struct store_snap *snap = store_snapshot(st);
    if (snap == NULL)
        return scpd_err_set(err, SCPD_E_INTERNAL, "access revoked: configuration unavailable");
    uint64_t gen = aaa_account_gen(snap->cfg, g->user);
    g->version = snap->version;
    store_snap_release(snap);
    if (g->account != 0 && gen == 0)
        return scpd_err_set(err, SCPD_E_DENIED, "access revoked: user %s was deleted", g->user);
    if (g->account != 0 && gen != g->account)
        return scpd_err_set(err, SCPD_E_DENIED, "access revoked: the secret of user %s changed "
                            "(log in again)", g->user);
    return 0;
}

int aaa_grant_check(struct aaa *a, struct store *st, const struct aaa_req *req,
                    struct aaa_grant *g, bool *changed, struct scpd_err *err)
{
    if (changed)
        *changed = false;
    if (store_version(st) == g->version)
        return 0;
    if (aaa_grant_check_account(st, g, err) != 0)
        return -1;
    int privilege = 0;
    struct scpd_err e = {0};
    if (aaa_authorize_exec(a, req, &privilege, &e) != 0)
        return scpd_err_set(err, SCPD_E_DENIED, "access revoked: %s", e.msg);
    if (changed)
        *changed = privilege != g->privilege;
    g->privilege = privilege;
    return 0;
}
