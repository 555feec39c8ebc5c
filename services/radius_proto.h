/* radius_proto: the RADIUS packets scpd sends and the replies it accepts (RFC 2865, 2866, 2869,
 * 3579), with no socket: Access-Request (PAP) with Message-Authenticator first, Accounting-Request,
 * and the reply check: Identifier, length, Response Authenticator, and any Message-Authenticator
 * (HMAC-MD5, RFC 3579 section 3.2), the defences against Blast-RADIUS (CVE-2024-3596). The
 * privilege comes from Cisco-AVPair "shell:priv-lvl=N" or Service-Type. Pure functions,
 * thread-safe; fuzzed by tests/fuzz/fuzz_radius.c.
 *
 * Why not radcli: Debian 12's radcli 1.2.11 adds Message-Authenticator to an Access-Request only
 * when it carries EAP-Message and never checks one in a reply (its Blast-RADIUS fixes came later),
 * so PAP logins through it would have neither defence. */
#ifndef SCPD_RADIUS_PROTO_H
#define SCPD_RADIUS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RADIUS_MAX_PACKET 4096   /* RFC 2865 section 3: 20..4096 octets */
#define RADIUS_HDR_LEN 20

enum radius_code {
    RADIUS_ACCESS_REQUEST = 1, RADIUS_ACCESS_ACCEPT = 2, RADIUS_ACCESS_REJECT = 3,
    RADIUS_ACCT_REQUEST = 4, RADIUS_ACCT_RESPONSE = 5, RADIUS_ACCESS_CHALLENGE = 11,
};
enum radius_attr {
    RADIUS_A_USER_NAME = 1, RADIUS_A_USER_PASSWORD = 2, RADIUS_A_SERVICE_TYPE = 6,
    RADIUS_A_REPLY_MESSAGE = 18, RADIUS_A_VENDOR = 26, RADIUS_A_CALLING_STATION = 31,
    RADIUS_A_NAS_IDENTIFIER = 32, RADIUS_A_ACCT_STATUS = 40, RADIUS_A_ACCT_IN_OCTETS = 42,
    RADIUS_A_ACCT_OUT_OCTETS = 43, RADIUS_A_ACCT_SESSION_ID = 44, RADIUS_A_ACCT_SESSION_TIME = 46,
    RADIUS_A_NAS_PORT_TYPE = 61, RADIUS_A_MESSAGE_AUTH = 80,
};
#define RADIUS_ST_ADMINISTRATIVE 6   /* Service-Type Administrative-User: privilege 15 */
#define RADIUS_ST_NAS_PROMPT 7       /* Service-Type NAS-Prompt-User: privilege 1 */
#define RADIUS_VENDOR_CISCO 9
#define RADIUS_ACCT_START 1
#define RADIUS_ACCT_STOP 2

/* What a request says. */
struct radius_req {
    uint8_t id;
    uint8_t authenticator[16];   /* Access-Request: random (caller's); filled for accounting */
    const char *user;
    const char *password;        /* Access-Request only (hidden per RFC 2865 section 5.2) */
    const char *calling_station; /* the client's address */
    const char *nas_id;          /* "scpd" */
    /* accounting */
    int status;                  /* RADIUS_ACCT_START / _STOP */
    const char *session_id;
    uint32_t session_time, in_octets, out_octets;
};

/* Builders: the whole packet into out (at least RADIUS_MAX_PACKET); its length or -1 (a field too
 * long). access_request puts Message-Authenticator first (RFC 3579, and the Blast-RADIUS advice).
 */
int radius_access_request(uint8_t *out, size_t cap, const struct radius_req *r,
                          const char *secret);
int radius_acct_request(uint8_t *out, size_t cap, struct radius_req *r, const char *secret);

/* A checked reply. */
struct radius_reply {
    uint8_t code;
    int priv_lvl;                /* from Cisco-AVPair shell:priv-lvl=N or Service-Type; -1 none */
    bool has_msg_auth;
    char reply_message[256];
};

enum radius_rc {
    RADIUS_OK = 0,
    RADIUS_E_BAD = -1,           /* malformed, or not the reply to this request (id, code) */
    RADIUS_E_AUTH = -2,          /* Response Authenticator or Message-Authenticator wrong: a
                                  * wrong shared secret, or a forged reply */
};

/* Checks pkt (n bytes) as the reply to the request req_pkt (its id and authenticator). */
int radius_reply_parse(const uint8_t *pkt, size_t n, const uint8_t *req_pkt, const char *secret,
                       struct radius_reply *out);

#endif
