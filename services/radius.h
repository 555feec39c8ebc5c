/* radius: the RADIUS client transport: one request (Access-Request or Accounting-Request, built by
 * services/radius_proto.c) to one server over UDP, sent again `retransmit` times, each wait bounded
 * by the server's timeout. Thread-safe; runs on the caller's thread with a socket of its own, no
 * lock. */
#ifndef SCPD_RADIUS_H
#define SCPD_RADIUS_H

#include <stdbool.h>
#include <stdint.h>

#include "services/tacacs.h" /* struct tacacs_result: the outcome of an exchange, both protocols */

struct radius_target {
    const char *name;
    const char *addr;           /* numeric IPv4 or IPv6 */
    int port;                   /* auth-port or acct-port for this request */
    const char *secret;         /* plaintext (decrypted by the caller) */
    int timeout_ms;             /* per attempt */
    int retransmit;             /* attempts after the first */
    int64_t deadline_ms;        /* monotonic end of the whole request, retransmissions
                                 * included (the login's `ip ssh time-out`); 0: none */
};

/* PAP login: Access-Accept is PASS (priv_lvl from Cisco-AVPair shell:priv-lvl or Service-Type),
 * Access-Reject FAIL, Access-Challenge FAIL (no prompts over a password login), no valid answer
 * DOWN. */
void radius_authen(const struct radius_target *tg, const char *user, const char *password,
                   const char *calling_station, struct tacacs_result *r);

/* One Accounting-Request (status RADIUS_ACCT_START or _STOP). */
struct radius_req;
void radius_acct(const struct radius_target *tg, struct radius_req *req, struct tacacs_result *r);

#endif
