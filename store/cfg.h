/* cfg: the configuration model and the IOS configuration language (docs/config.md).
 * One table of commands drives the parser, the renderer, validation, `no` forms and --check-config.
 * A struct cfg is a plain value: once published by the store it is never modified (readers share it
 * without locks); changes are made on a clone. All functions are thread-safe on distinct objects.
 * Ownership: every struct cfg * and char * returned here is the caller's; free with cfg_free()/free(). */
#ifndef SCPD_CFG_H
#define SCPD_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/lim.h"

#define CFG_NAME_MAX 64        /* hostname, user and list names */
#define CFG_DEFAULT_HOSTNAME "scpd"
#define CFG_DEFAULT_SSH_TIMEOUT 120
#define CFG_DEFAULT_SSH_RETRIES 3
#define CFG_DEFAULT_PRIVILEGE 1

enum cfg_method_kind {
    CFG_M_LOCAL = 1,         /* local user database */
    CFG_M_NONE,              /* no authentication / authorization: always succeeds */
    CFG_M_IF_AUTHENTICATED,  /* authorization only */
    CFG_M_GROUP,             /* group tacacs+ | group radius | group NAME: .group holds the name */
};

struct cfg_method {
    enum cfg_method_kind kind;
    char group[CFG_NAME_MAX]; /* "tacacs+", "radius" or a server-group name (CFG_M_GROUP) */
};

/* A method list: `aaa authentication login NAME m1 m2...` or `aaa authorization exec NAME ...`. */
struct cfg_mlist {
    char name[CFG_NAME_MAX]; /* "default" or a list name */
    int n;
    struct cfg_method m[LIM_CFG_METHODS];
};

/* Secret types kept at rest. Plaintext (password 0/7, secret 0) is hashed to type 9 on input. */
enum cfg_secret_type { CFG_SECRET_NONE = 0, CFG_SECRET_5 = 5, CFG_SECRET_8 = 8, CFG_SECRET_9 = 9 };

struct cfg_user {
    char name[CFG_NAME_MAX];
    int privilege;                 /* 0-15 */
    enum cfg_secret_type secret_type;
    char secret[160];              /* the hash string, e.g. "$9$salt$hash"; "" if none */
};

/* One public key of `ip ssh pubkey-chain`. key-string input is stored as its key-hash. */
struct cfg_key {
    char type[32];                 /* key-hash type, e.g. "ssh-rsa", "ssh-ed25519" */
    char hash[64];                 /* MD5 fingerprint, 32 upper-case hex digits (IOS form) */
    char comment[128];
};

struct cfg_pkuser {
    char name[CFG_NAME_MAX];
    int nkeys;
    struct cfg_key keys[LIM_CFG_KEYS_PER_USER];
};

struct cfg {
    char hostname[CFG_NAME_MAX];
    bool aaa_new_model;
    size_t n_authn;  struct cfg_mlist *authn;   /* aaa authentication login lists, sorted by name */
    size_t n_authz;  struct cfg_mlist *authz;   /* aaa authorization exec lists, sorted by name */
    size_t n_users;  struct cfg_user *users;    /* sorted by name (strcmp) */
    size_t n_pkusers; struct cfg_pkuser *pkusers; /* sorted by name */
    int ssh_version;                            /* always 2 */
    int ssh_timeout;                            /* 1-120 seconds */
    int ssh_retries;                            /* 0-5 */
    bool scp_enable;                            /* ip scp server enable */
    int block_secs, block_attempts, block_within; /* login block-for; block_secs == 0: off */
};

/* ---- errors of a whole file ------------------------------------------------------------------- */
struct cfg_error {
    int line;                      /* 1-based line number in the input */
    int column;                    /* 1-based column of the '^' marker */
    char text[LIM_CFG_LINE_LEN];   /* the offending line as given (secrets masked) */
    char reason[256];              /* "value out of range 1-120" */
};

struct cfg_errors {
    int n;                         /* errors kept in e[] */
    int total;                     /* errors found (may exceed n) */
    struct cfg_error e[LIM_CFG_ERRORS];
};

/* Formats all errors in the IOS marker form of docs/config.md (caller frees), e.g.
 *   line 7: ip ssh time-out 500
 *                           ^
 *   % Invalid input detected at '^' marker: value out of range 1-120  */
char *cfg_errors_format(const struct cfg_errors *errs);
/* The same for one error (caller frees). */
char *cfg_error_format(const struct cfg_error *e);

/* ---- life cycle ------------------------------------------------------------------------------- */
struct cfg *cfg_new_default(void);          /* the built-in default: nothing remote enabled */
struct cfg *cfg_clone(const struct cfg *c);
void cfg_free(struct cfg *c);               /* NULL is a no-op */
bool cfg_equal(const struct cfg *a, const struct cfg *b);
/* The parts cfg_equal compares, for the store's row-by-row writes. */
bool cfg_mlist_equal(const struct cfg_mlist *a, const struct cfg_mlist *b);
bool cfg_user_equal(const struct cfg_user *a, const struct cfg_user *b);
bool cfg_pkuser_equal(const struct cfg_pkuser *a, const struct cfg_pkuser *b);

/* ---- applying text ---------------------------------------------------------------------------- */
enum cfg_mode {
    CFG_MERGE,    /* lines act as if typed in configuration mode, onto base */
    CFG_REPLACE,  /* the result is exactly the text, onto defaults (base ignored) */
};

/* Validates the whole text, then applies it. Returns a new config, or NULL when any line is invalid
 * (errs filled; nothing applied). errs may be NULL. Accepts the rendered form verbatim (the
 * "Building configuration...", "Current configuration : N bytes" header and comments). */
struct cfg *cfg_apply_text(const struct cfg *base, const char *text, size_t len, enum cfg_mode mode,
                           struct cfg_errors *errs);

/* ---- rendering -------------------------------------------------------------------------------- */
struct cfg_render_opts {
    bool all;            /* include defaults (the "all" view) */
    bool header;         /* "Building configuration..." + "Current configuration : N bytes" */
    time_t last_change;  /* 0: no last-change comment */
    const char *last_user;
};

/* Canonical rendering in IOS order (caller frees; *len set if len != NULL). */
char *cfg_render(const struct cfg *c, const struct cfg_render_opts *opts, size_t *len);

/* Line diff of the canonical renderings: "+ line\n" for added, "- line\n" for removed, "" if equal.
 * Order-preserving, linear time (near-minimal on canonical renderings). NULL stands for the
 * built-in default. Secrets appear only as their hashes. Caller frees; NULL if out of memory. */
char *cfg_diff(const struct cfg *from, const struct cfg *to);

/* ---- lookup (binary search on the sorted arrays) ---------------------------------------------- */
const struct cfg_user *cfg_user_find(const struct cfg *c, const char *name);
const struct cfg_pkuser *cfg_pkuser_find(const struct cfg *c, const char *name);
const struct cfg_mlist *cfg_authn_find(const struct cfg *c, const char *name);
const struct cfg_mlist *cfg_authz_find(const struct cfg *c, const char *name);

#endif
