/* tacacs: the TACACS+ client transport: one exchange (authentication, authorization or an
 * accounting record) with one server over TCP, non-blocking, bounded by the server's timeout; the
 * packets are services/tacplus.c's. With single-connection (RFC 8907 section 4.3) an idle
 * connection the server agreed to keep is reused by the next exchange.
 * Thread-safe: exchanges run on the caller's thread; the pool's mutex is held only to take or
 * return an idle connection, never during network I/O. */
#ifndef SCPD_TACACS_H
#define SCPD_TACACS_H

#include <stdbool.h>
#include <stdint.h>

#include "services/tacplus.h"

struct tacacs;

struct tacacs *tacacs_new(void);
void tacacs_free(struct tacacs *t);   /* closes idle connections; NULL is a no-op */

struct tacacs_target {
    const char *name;        /* the config's server name, for messages */
    const char *addr;        /* numeric IPv4 or IPv6 address */
    int port;
    const char *key;         /* plaintext shared key (decrypted by the caller), "" for none */
    int timeout_ms;          /* the whole exchange, connect included */
    bool single;             /* single-connection */
};

enum tacacs_outcome {
    TACACS_PASS,             /* authenticated / authorized / record accepted */
    TACACS_FAIL,             /* the server said no */
    TACACS_DOWN,             /* no answer: refused, timed out, broken or undecodable reply */
    TACACS_PROMPT,           /* authentication waits for the user's answer to .prompt */
};

struct tacacs_result {
    enum tacacs_outcome outcome;
    bool timed_out;          /* DOWN because the timeout ran out */
    int priv_lvl;            /* authorization: the server's priv-lvl, -1 if it sent none */
    int64_t rtt_ms;          /* time of the exchange */
    char why[320];           /* reason of FAIL / DOWN (server message or transport error) */
    char prompt[256];        /* PROMPT: the server's prompt (GETDATA/GETPASS server_msg) */
    bool echo;               /* PROMPT: the answer may be shown as typed (GETDATA without NOECHO) */
};

/* ASCII login (RFC 8907 section 5.4.2.1): START with the user, the password answers GETPASS
 * (and GETDATA), the user GETUSER. */
void tacacs_authen(struct tacacs *t, const struct tacacs_target *tg, const struct tacplus_who *w,
                   const char *password, struct tacacs_result *r);
/* The same, for a client that can ask its user: a prompt after the password's (a one-time
 * password) ends the call with outcome TACACS_PROMPT, the prompt in r, and the dialogue kept in
 * *conv (connection open); anything else leaves *conv NULL. */
struct tacacs_conv;
void tacacs_authen_conv(struct tacacs *t, const struct tacacs_target *tg,
                        const struct tacplus_who *w, const char *password,
                        struct tacacs_result *r, struct tacacs_conv **conv);
/* Sends answer to the prompt of cv and reads on, bounded by timeout_ms; *next as above (at most
 * LIM_TACACS_PROMPTS prompts in one login). cv is spent: free it with tacacs_conv_free. */
void tacacs_authen_next(struct tacacs_conv *cv, const char *answer, int timeout_ms,
                        struct tacacs_result *r, struct tacacs_conv **next);
void tacacs_conv_free(struct tacacs_conv *cv);   /* closes its connection; NULL is a no-op */
/* Authorization REQUEST with args ("service=shell", "cmd*"); PASS_ADD/PASS_REPL is PASS with
 * priv_lvl from the reply's priv-lvl; FAIL is FAIL; ERROR and FOLLOW are DOWN. */
void tacacs_author(struct tacacs *t, const struct tacacs_target *tg, const struct tacplus_who *w,
                   const char *const *args, int nargs, struct tacacs_result *r);
/* One accounting record (acct_flags TACPLUS_ACCT_START or _STOP). */
void tacacs_acct(struct tacacs *t, const struct tacacs_target *tg, const struct tacplus_who *w,
                 uint8_t acct_flags, const char *const *args, int nargs, struct tacacs_result *r);

#endif
