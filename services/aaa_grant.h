/* aaa_grant: what a login was granted, kept by a door for the life of a session or token and
 * re-checked against the running config at each operation (authorization follows the account).
 * The check is cheap while the config does not change (one version number compared); when it
 * moved, the account is looked up again: a user deleted, re-created or given a new secret loses
 * the grant, a changed privilege level is reported. Not locked: one grant is used by one thread.
 * The account generation is derived from the stored secret hash (a new hash has a new salt), so it
 * needs no storage and means the same after a restart. */
#ifndef SCPD_AAA_GRANT_H
#define SCPD_AAA_GRANT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/lim.h"
#include "base/scpd_err.h"
#include "services/aaa.h"

struct cfg;
struct store;

struct aaa_grant {
    char user[LIM_AUTH_USER_LEN + 1];
    uint64_t account;   /* aaa_account_gen() at the grant; 0: not in the local database */
    int privilege;      /* current level (updated by aaa_grant_check) */
    uint64_t version;   /* config version of the last check */
};

/* The generation of user's account in cfg: a hash of the name and the stored secret, never 0;
 * 0 when cfg has no such user. Deleting and re-creating the user, or setting a new password or
 * secret (a new salt), changes it; a privilege change does not. */
uint64_t aaa_account_gen(const struct cfg *cfg, const char *user);

/* Fills g with user's account only (privilege 0), for a session that watches its login's account.
 * 0, or -1 with err when the config cannot be read. */
int aaa_grant_account(struct store *st, const char *user, struct aaa_grant *g,
                      struct scpd_err *err);

/* The account half of aaa_grant_check: -1 with err when the account of g was deleted,
 * re-created or given a new secret since the grant; else 0. */
int aaa_grant_check_account(struct store *st, struct aaa_grant *g, struct scpd_err *err);

/* Runs aaa_authorize_exec for req->user and fills g. 0, or -1 with err (the refusal). */
int aaa_grant_take(struct aaa *a, struct store *st, const struct aaa_req *req,
                   struct aaa_grant *g, struct scpd_err *err);

/* Re-checks g if the config version moved since the last check. 0: still granted (g->privilege
 * is the current level; *changed, if not NULL, tells whether it moved); -1 with err naming the
 * reason ("access revoked: user tiger was deleted") when the account is gone or changed or exec
 * authorization no longer allows the user. */
int aaa_grant_check(struct aaa *a, struct store *st, const struct aaa_req *req,
                    struct aaa_grant *g, bool *changed, struct scpd_err *err);

#endif
