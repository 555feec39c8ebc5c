/* cfg: the configuration model and the IOS configuration language (docs/config.md).
 * One table of commands drives the parser, the renderer, validation, `no` forms and --check-config.
 * A struct cfg is a plain value: once published by the store it is never modified (readers share it
 * without locks); changes are made on a clone. All functions are thread-safe on distinct objects.
 * Ownership: every struct cfg * and char * returned here is the caller's; free with
 * cfg_free()/free(). */
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
#define CFG_DEFAULT_SSH_LIFETIME LIM_SSH_LIFETIME_SECS
#define CFG_DEFAULT_PRIVILEGE 1
#define CFG_DEFAULT_LOG_BUFFER 65536   /* logging buffered: bytes of log lines kept in memory */
#define CFG_LOG_BUFFER_MIN 4096        /* IOS's range starts here */
#define CFG_LOG_BUFFER_MAX (4 << 20)   /* memory a config line may make the daemon hold */

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

/* A user of `ip ssh pubkey-chain` (`username NAME`), or a remote SSH server whose host key the
 * device trusts for its own copies (`server HOST`): then name is CFG_PKSERVER_PREFIX "HOST". The
 * prefix holds a ':', which no user name may hold, so a login never matches a server's keys
 * (cfg_pkuser_find refuses such names; cfg_pkserver_find is the servers' lookup). */
#define CFG_PKSERVER_PREFIX "server:"
#define CFG_PKSERVER_HOST_MAX (CFG_NAME_MAX - (int)sizeof(CFG_PKSERVER_PREFIX))
struct cfg_pkuser {
    char name[CFG_NAME_MAX];
    int nkeys;
    struct cfg_key keys[LIM_CFG_KEYS_PER_USER];
};

/* ---- network AAA (cfg_aaa.c): TACACS+/RADIUS servers, server groups, accounting lists ---- */
enum cfg_aaa_proto { CFG_AAA_TACACS = 1, CFG_AAA_RADIUS = 2 };
#define CFG_TACACS_PORT 49
#define CFG_RADIUS_AUTH_PORT 1812
#define CFG_RADIUS_ACCT_PORT 1813
#define CFG_AAA_TIMEOUT 5          /* IOS: tacacs-server / radius-server timeout default */
#define CFG_RADIUS_RETRANSMIT 3

struct cfg_aaa_server {
    char name[CFG_NAME_MAX];       /* first: sorted by (proto, name) */
    enum cfg_aaa_proto proto;
    char addr[48];                 /* numeric IPv4 or IPv6 address; "" = none yet */
    bool v6;
    int port;                      /* TACACS+ port / RADIUS auth-port */
    int acct_port;                 /* RADIUS acct-port */
    char key[224];                 /* type-6 text (store/secret.h); "" = no key */
    int timeout;                   /* seconds, 1-1000 */
    int retransmit;                /* RADIUS, 0-100 */
    bool single;                   /* TACACS+ single-connection */
};

struct cfg_aaa_group {
    char name[CFG_NAME_MAX];       /* first: sorted by name */
    enum cfg_aaa_proto proto;
    int deadtime;                  /* minutes, 0-1440; 0 = none */
    int n;
    char server[LIM_CFG_GROUP_SERVERS][CFG_NAME_MAX];
};

enum cfg_acct_kind { CFG_ACCT_EXEC = 1, CFG_ACCT_COMMANDS15 = 2 };
struct cfg_acct {
    char name[CFG_NAME_MAX];       /* first: "default" or a list name; sorted by (kind, name) */
    enum cfg_acct_kind kind;
    bool stop_only;                /* stop-only, else start-stop */
    int n;
    struct cfg_method m[LIM_CFG_METHODS];   /* group methods */
};

/* One entry of a standard access list: permit|deny, address and wildcard (any: 0.0.0.0
 * 255.255.255.255; host: wildcard 0). The address is kept with its wildcard bits cleared. */
struct cfg_ace {
    bool permit;
    uint32_t addr, wild;           /* host byte order */
};

/* ip access-list standard NAME */
struct cfg_acl {
    char name[CFG_NAME_MAX];
    int n;
    struct cfg_ace e[LIM_CFG_ACES];
};

#define CFG_DEFAULT_EXEC_TIMEOUT 600   /* exec-timeout 10 0 (IOS) */
enum { CFG_TI_SSH = 1, CFG_TI_TELNET = 2, CFG_TI_ALL = 4, CFG_TI_NONE = 8 };

/* line vty FIRST LAST: one set of settings for every SSH session (the range is kept as given). */
struct cfg_vty {
    int first, last;                 /* last < 0: no `line vty` block */
    char login_list[CFG_NAME_MAX];   /* login authentication LIST; "": the default list */
    int exec_timeout;                /* seconds an EXEC session may be idle; 0: never */
    int transport;                   /* transport input: 0 not given (SSH allowed), CFG_TI_* bits */
    char access_class[CFG_NAME_MAX]; /* access-class ACL in; "": none */
};

struct cfg {
    char hostname[CFG_NAME_MAX];
    bool aaa_new_model;
    size_t n_authn;  struct cfg_mlist *authn;   /* aaa authentication login lists, sorted by name */
    size_t n_authz;  struct cfg_mlist *authz;   /* aaa authorization exec lists, sorted by name */
    size_t n_users;  struct cfg_user *users;    /* sorted by name (strcmp) */
    size_t n_pkusers; struct cfg_pkuser *pkusers; /* sorted by name */
    int ssh_version;                            /* always 2 */
    bool ssh_version_set;                       /* `ip ssh version 2` given: rendered */
    int ssh_timeout;                            /* 1-120 seconds */
    int ssh_retries;                            /* 0-5 */
    int ssh_lifetime;                           /* ip ssh session-lifetime, seconds */
    bool scp_enable;                            /* ip scp server enable */
    int block_secs, block_attempts, block_within; /* login block-for; block_secs == 0: off */
    /* network AAA (cfg_aaa.c) */
    size_t n_servers; struct cfg_aaa_server *servers; /* sorted by (proto, name) */
    size_t n_groups; struct cfg_aaa_group *groups;    /* sorted by name */
    size_t n_acct; struct cfg_acct *acct;             /* sorted by (kind, name) */
    int rad_dead_time, rad_dead_tries;              /* radius-server dead-criteria; 0 = unset */
    int rad_deadtime;                               /* radius-server deadtime (minutes) */
    enum cfg_secret_type enable_type;           /* enable secret; CFG_SECRET_NONE: none */
    char enable_secret[160];
    bool password_encryption;                   /* service password-encryption */
    char domain_name[CFG_NAME_MAX];             /* ip domain name; "" none */
    struct cfg_vty vty;                         /* line vty */
    int n_acls;  struct cfg_acl acls[LIM_CFG_ACLS]; /* sorted by name */
    char banner_motd[LIM_CFG_BANNER_LEN + 1];   /* text between the delimiters; "" none */
    char banner_login[LIM_CFG_BANNER_LEN + 1];
    bool file_prompt_quiet;                     /* file prompt quiet: copy/delete ask nothing */
    int log_buffer;                             /* logging buffered SIZE (bytes); 0: off */
};

/* Why SSH logins may all fail under c, or NULL: the login list of `line vty` is not defined, or
 * every method of it is a server group (when no server answers, nobody logs in: IOS does the
 * same, and its console is the way back; here `scpd console`). Text into buf. */
const char *cfg_login_warning(const struct cfg *c, char *buf, size_t cap);

/* The access list named name, or NULL. */
const struct cfg_acl *cfg_acl_find(const struct cfg *c, const char *name);
/* Whether acl permits the IPv4 address (host byte order): first match, implicit deny. */
bool cfg_acl_permits(const struct cfg_acl *acl, uint32_t addr);
/* Whether `line vty` lets an SSH connection from the address (text; IPv4 or IPv4-mapped IPv6)
 * in: transport input and access-class. false with *why (static text) when refused. An
 * access-class naming a list that does not exist permits all (IOS). IPv6 sources are not
 * filtered by a standard (IPv4) list. */
bool cfg_vty_admits(const struct cfg *c, const char *addr, const char **why);

/* ---- errors of a whole file ------------------------------------------------------------------ */
struct cfg_error {
    int line;                      /* 1-based line number in the input */
    int column;                    /* 1-based column of the '^' marker */
    char text[LIM_CFG_LINE_LEN];   /* the offending line as given (secrets "<hidden>") */
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

/* ---- life cycle ------------------------------------------------------------------------------ */
struct cfg *cfg_new_default(void);          /* the built-in default: nothing remote enabled */
struct cfg *cfg_clone(const struct cfg *c);
void cfg_free(struct cfg *c);               /* NULL is a no-op */
bool cfg_equal(const struct cfg *a, const struct cfg *b);
/* The parts cfg_equal compares, for the store's row-by-row writes. */
bool cfg_mlist_equal(const struct cfg_mlist *a, const struct cfg_mlist *b);
bool cfg_user_equal(const struct cfg_user *a, const struct cfg_user *b);
bool cfg_pkuser_equal(const struct cfg_pkuser *a, const struct cfg_pkuser *b);
bool cfg_vty_equal(const struct cfg_vty *a, const struct cfg_vty *b);
bool cfg_acl_equal(const struct cfg_acl *a, const struct cfg_acl *b);
bool cfg_acls_equal(const struct cfg *a, const struct cfg *b);

/* ---- applying text --------------------------------------------------------------------------- */
enum cfg_mode {
    CFG_MERGE,    /* lines act as if typed in configuration mode, onto base */
    CFG_REPLACE,  /* the result is exactly the text, onto defaults (base only for secrets) */
};

/* Validates the whole text, then applies it. Returns a new config, or NULL when any line is invalid
 * (errs filled; nothing applied). errs may be NULL. Accepts the rendered form verbatim (the
 * "Building configuration...", "Current configuration : N bytes" header and comments).
 * In both modes a plaintext password, secret or server key that verifies against what base stores
 * for the same user (a type-9 hash, the type a plaintext becomes), the enable secret or the same
 * server keeps base's stored form: setting the same password again is no change (no new version,
 * no new salt, the account's sessions and tokens stay). */
struct cfg *cfg_apply_text(const struct cfg *base, const char *text, size_t len, enum cfg_mode mode,
                           struct cfg_errors *errs);

/* ---- configuration mode at a terminal (the CLI's `configure terminal`) ----------------------- */
/* Lines typed one at a time, as IOS applies them: each works on a copy of the running config it is
 * given and yields the new config (to commit) or an error; the sub-mode (`line vty`, `ip ssh
 * pubkey-chain`...) carries over to the next line. Keywords may be abbreviated where unique. One
 * struct cfg_term per session, one thread at a time. Free with cfg_term_free() (NULL: no-op). */
struct cfg_term;
struct cfg_term *cfg_term_new(void);
void cfg_term_free(struct cfg_term *t);
/* Back to the top mode (`end`, Ctrl-Z); a key-string being typed is dropped. */
void cfg_term_reset(struct cfg_term *t);
/* The prompt of the current mode: "config", "config-pubkey-chain", ...; NULL while the lines of
 * a banner are being typed (IOS shows no prompt then). */
const char *cfg_term_prompt(const struct cfg_term *t);
/* The delimiter of the banner being typed, or NULL. */
const char *cfg_term_banner_delim(const struct cfg_term *t);

enum cfg_term_res {
    CFG_TERM_OK = 0,     /* *next: the new config (caller frees), or NULL if nothing changed */
    CFG_TERM_INVALID,    /* *err filled (column, reason; the line masked); nothing changed */
    CFG_TERM_AMBIGUOUS,  /* a keyword abbreviation fits several commands */
    CFG_TERM_EXIT,       /* `exit` at the top: configuration mode ends */
};
/* base is the running config; a plaintext secret equal to the stored one keeps it (as
 * cfg_apply_text). */
enum cfg_term_res cfg_term_line(struct cfg_term *t, const struct cfg *base, const char *line,
                                size_t len, struct cfg **next, struct cfg_error *err);
/* `?`: calls fn once per keyword that may come next in the current mode (word: the keyword, help:
 * the syntax of a command it starts), or with word NULL for each command whose keywords are all
 * typed (help: its syntax). line[0..len) is what is typed so far. */
void cfg_term_help(const struct cfg_term *t, const char *line, size_t len,
                   void (*fn)(void *arg, const char *word, const char *help), void *arg);

/* ---- rendering ------------------------------------------------------------------------------- */
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
 * built-in default. Secrets are hidden (cfg_hide): a changed secret shows as its line removed and
 * added. Caller frees; NULL if out of memory. */
char *cfg_diff(const struct cfg *from, const struct cfg *to);

/* Config text (lines, or a diff's "+ "/"- " lines) with every secret value shown as "<hidden>",
 * as IOS's `archive log config hidekeys`: `username x secret 9 <hidden>`, ` key 6 <hidden>`.
 * For every message, log line, history entry, stream event and audit entry that carries config
 * text (show running-config keeps the hashes). NULL text: "". Caller frees; NULL if out of
 * memory. */
char *cfg_hide(const char *text);

/* Whether word names a secret value in the configuration language (`password`, `secret`, `key`):
 * the data models' leaves of the same names hold secrets too. */
bool cfg_secret_word(const char *word);

/* ---- lookup (binary search on the sorted arrays) --------------------------------------------- */
const struct cfg_user *cfg_user_find(const struct cfg *c, const char *name);
const struct cfg_pkuser *cfg_pkuser_find(const struct cfg *c, const char *name);
const struct cfg_pkuser *cfg_pkserver_find(const struct cfg *c, const char *host);
bool cfg_pkuser_is_server(const struct cfg_pkuser *u);
const struct cfg_mlist *cfg_authn_find(const struct cfg *c, const char *name);
const struct cfg_mlist *cfg_authz_find(const struct cfg *c, const char *name);
const struct cfg_aaa_server *cfg_server_find(const struct cfg *c, enum cfg_aaa_proto proto,
                                             const char *name);
const struct cfg_aaa_group *cfg_group_find(const struct cfg *c, const char *name);
const struct cfg_acct *cfg_acct_find(const struct cfg *c, enum cfg_acct_kind kind,
                                     const char *name);
/* The network-AAA part of the model (the rows of cfg_aaa.c) equal, and its rendering alone (the
 * store keeps it as that text; caller frees). */
bool cfg_aaa_equal(const struct cfg *a, const struct cfg *b);
char *cfg_aaa_render(const struct cfg *c);

#endif
