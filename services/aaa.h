/* aaa: the one AAA entry point for SSH and HTTP logins (docs/config.md "AAA").
 * Authentication walks the login method list of the running config (the `default` list for SSH
 * and HTTP); authorization runs `aaa authorization exec`; `login block-for` is tracked per source
 * address. Method lists are data: `local`, `none`, `group tacacs+` and `group NAME` (TACACS+
 * servers, services/tacacs.h); `aaa accounting exec` sends start/stop records per channel.
 * Thread-safe. Reads the config from the store snapshot current at the time of each call, so a
 * config change applies to the next login without a restart. */
#ifndef SCPD_AAA_H
#define SCPD_AAA_H

#include <stdbool.h>
#include <stdint.h>

#include "base/scpd_err.h"
#include "base/lim.h"

struct store;
struct stats;
struct trace;

struct aaa;

struct aaa *aaa_new(struct store *st, struct stats *stats, struct trace *trace);
void aaa_free(struct aaa *a);

enum aaa_result {
    AAA_OK = 0,
    AAA_FAIL,        /* wrong user or password / key */
    AAA_BLOCKED,     /* the source address is in a login block-for quiet period */
    AAA_ERROR,       /* every method unavailable */
    AAA_CONTINUE,    /* aaa_login_kbdint: the server asks the user something more */
};

/* Where the login comes from: "ssh" or "http". peer_addr is the address without the port. */
struct aaa_req {
    const char *door;
    const char *user;
    const char *peer_addr;
    const char *peer;        /* "addr:port" for logs */
    uint64_t sid;
    int64_t deadline_ms;     /* monotonic end of the whole login (SSH: `ip ssh time-out` from the
                              * connection's start), bounding every server round trip; 0: none
                              * (each round trip is then bounded by ip ssh time-out alone) */
};

/* Password (or keyboard-interactive answer) through the login list. Counts failures towards
 * login block-for and the statistics; logs and traces the outcome (never the password); each
 * failure, block and refusal while blocked is a security event (stats_security). */
enum aaa_result aaa_login_password(struct aaa *a, const struct aaa_req *req, const char *password,
                                   struct scpd_err *err);

/* Keyboard-interactive: as aaa_login_password, the first answer being the password, but a
 * TACACS+ server's further prompt (a one-time password after the password) is passed on: the
 * result is AAA_CONTINUE with the server's prompt in *p and the dialogue in *conv; the next call,
 * with *conv as it was left, sends the user's answer to the same server. *conv is NULL again when
 * the result is final; a login abandoned halfway frees it with aaa_conv_free. A continued
 * dialogue is the decided method: the server's FAIL is a failed login, its silence AAA_ERROR. */
struct aaa_conv;
struct aaa_prompt {
    char text[256];
    bool echo;
};
enum aaa_result aaa_login_kbdint(struct aaa *a, const struct aaa_req *req, const char *answer,
                                 struct aaa_conv **conv, struct aaa_prompt *p,
                                 struct scpd_err *err);
void aaa_conv_free(struct aaa_conv *cv);   /* NULL is a no-op */

/* Public key: key_type as in the key-hash ("ssh-rsa", "ssh-ed25519"), md5_hex the upper-case hex
 * MD5 of the key blob. Only keys of `ip ssh pubkey-chain` for that user match. */
enum aaa_result aaa_login_pubkey(struct aaa *a, const struct aaa_req *req, const char *key_type,
                                 const char *md5_hex, struct scpd_err *err);

/* The public-key probe (no signature yet): true if the key is in `ip ssh pubkey-chain` for
 * req->user and the source is not blocked. No side effects: nothing counted, nothing logged. */
bool aaa_pubkey_acceptable(struct aaa *a, const struct aaa_req *req, const char *md5_hex);

/* True while peer_addr is blocked by login block-for. A query: nothing counted or reported. */
bool aaa_is_blocked(struct aaa *a, const char *peer_addr, int *secs_left);

/* The check a door makes before asking for credentials: true while req->peer_addr is blocked,
 * with *secs_left (may be NULL); the refusal is then counted (logins-blocked), logged and
 * reported on the security stream. req->user may be NULL (not known yet). */
bool aaa_check_blocked(struct aaa *a, const struct aaa_req *req, int *secs_left);

/* Authorization for an EXEC shell (required for SCP). On success *privilege gets the user's
 * level. On refusal err->msg names the reason, e.g. "AAA authorization is not configured
 * (aaa new-model / aaa authorization exec)". */
int aaa_authorize_exec(struct aaa *a, const struct aaa_req *req, int *privilege,
                       struct scpd_err *err);

/* `enable` at the EXEC: password against `enable secret`. Counted, logged, blocked and reported
 * exactly as a failed login (the same counters, login block-for, security events). AAA_ERROR
 * when no enable secret is configured (err says so). */
enum aaa_result aaa_enable(struct aaa *a, const struct aaa_req *req, const char *password,
                           struct scpd_err *err);
/* True when `enable secret` is configured. */
bool aaa_enable_configured(struct aaa *a);

/* Privilege of a user from the local database (0 if unknown). Used by the HTTP door. */
int aaa_privilege(struct aaa *a, const char *user);
/* True if user is in the local database. */
bool aaa_privilege_known(struct aaa *a, const char *user);

/* Per-server state of network AAA (TACACS+/RADIUS), for the API, /metrics and the CLI. */
struct aaa_server_state {
    char proto[8];               /* "tacacs+" or "radius"; name "" = unused entry */
    char name[64];
    uint64_t requests, accepts, rejects, timeouts, errors, skipped, answers;
    int64_t rtt_ms, rtt_sum_ms;  /* last and total round-trip of the answered requests */
    bool dead;
    int64_t dead_until_ms;       /* monotonic */
};
/* Copies the state of at most cap servers into out; returns how many. */
int aaa_servers_state(struct aaa *a, struct aaa_server_state *out, int cap);

/* Accounting of one EXEC session (a channel running scp, sftp or the shell), by the list
 * `aaa accounting exec default`. start sends the START record (not for stop-only) and fills acct;
 * stop sends the STOP record with elapsed_time, bytes_in, bytes_out. Without the list both do
 * nothing. Run on the caller's thread; a dead or slow server costs at most its timeout. */
struct aaa_acct {
    bool on;
    uint32_t task_id;
    int64_t start_ms;            /* monotonic */
    int64_t start_time;          /* wall clock, seconds */
    char protocol[8];            /* scp, sftp, shell */
    int privilege;
};
void aaa_acct_start(struct aaa *a, const struct aaa_req *req, const char *protocol,
                    int privilege, struct aaa_acct *acct);
void aaa_acct_stop(struct aaa *a, const struct aaa_req *req, struct aaa_acct *acct,
                   uint64_t bytes_in, uint64_t bytes_out);

/* `aaa accounting commands 15 default ...`: one STOP record (TACACS+ servers; RADIUS has no
 * command accounting) per command, with cmd=COMMAND and priv-lvl. The CLI calls it for each
 * level-15 command it runs; aaa itself (a store listener registered by aaa_new, so free aaa only
 * after the doors have stopped) for each configuration change of any door, one record per changed
 * line (`no LINE` for a removed one). Nothing without the list. false when the record could not
 * be sent (no server of the list answered). */
bool aaa_acct_command(struct aaa *a, const struct aaa_req *req, int privilege, const char *cmd);

/* The sliding window of `login block-for ... attempts N within W` for one source: a pure value
 * (no clock, no lock), used by aaa under its mutex and by unit tests with their own times.
 * Zero-initialised = no failures. */
struct aaa_window {
    int64_t t_ms[LIM_BLOCK_FAIL_TIMES];   /* ring of (sampled) failure times */
    int n;                                /* entries in t_ms */
    int head;                             /* next write position */
    int unsampled;                        /* failures since the last sample (N > the ring) */
};
/* Records one failure at now_ms; true when it makes N failures within any W seconds (the window
 * is then emptied: the quiet period starts). For N <= LIM_BLOCK_FAIL_TIMES this is exact; above,
 * every ceil(N / LIM_BLOCK_FAIL_TIMES)-th failure is recorded, so the count is exact to within
 * that many failures. */
bool aaa_window_fail(struct aaa_window *w, int64_t now_ms, int attempts, int within_secs);

#endif
