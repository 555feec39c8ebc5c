/* tacplus: the TACACS+ packet codec (RFC 8907), client side, with no socket: requests are built
 * into a caller's buffer, replies are parsed from bytes into fields. Bodies are obfuscated with the
 * MD5 pad of RFC 8907 section 4.5 under the shared key. Pure functions, thread-safe; fuzzed by
 * tests/fuzz/fuzz_tacplus.c. */
#ifndef SCPD_TACPLUS_H
#define SCPD_TACPLUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TACPLUS_HDR_LEN 12
#define TACPLUS_MAJOR 0xc
#define TACPLUS_MINOR_DEFAULT 0x0
#define TACPLUS_MINOR_ONE 0x1      /* PAP and CHAP authentication (RFC 8907 section 5.4.2) */

enum tacplus_type { TACPLUS_AUTHEN = 1, TACPLUS_AUTHOR = 2, TACPLUS_ACCT = 3 };
#define TACPLUS_FLAG_UNENCRYPTED 0x01
#define TACPLUS_FLAG_SINGLE 0x04

/* authentication */
#define TACPLUS_AUTHEN_LOGIN 0x01          /* action */
#define TACPLUS_AUTHEN_TYPE_ASCII 0x01
#define TACPLUS_AUTHEN_TYPE_PAP 0x02
#define TACPLUS_AUTHEN_SVC_LOGIN 0x01
#define TACPLUS_AUTHEN_METH_TACACSPLUS 0x06
enum tacplus_authen_status {
    TACPLUS_AUTHEN_PASS = 0x01, TACPLUS_AUTHEN_FAIL = 0x02, TACPLUS_AUTHEN_GETDATA = 0x03,
    TACPLUS_AUTHEN_GETUSER = 0x04, TACPLUS_AUTHEN_GETPASS = 0x05, TACPLUS_AUTHEN_RESTART = 0x06,
    TACPLUS_AUTHEN_ERROR = 0x07, TACPLUS_AUTHEN_FOLLOW = 0x21,
};
#define TACPLUS_REPLY_NOECHO 0x01
#define TACPLUS_CONTINUE_ABORT 0x01

/* authorization */
enum tacplus_author_status {
    TACPLUS_AUTHOR_PASS_ADD = 0x01, TACPLUS_AUTHOR_PASS_REPL = 0x02,
    TACPLUS_AUTHOR_FAIL = 0x10, TACPLUS_AUTHOR_ERROR = 0x11, TACPLUS_AUTHOR_FOLLOW = 0x21,
};

/* accounting */
#define TACPLUS_ACCT_START 0x02
#define TACPLUS_ACCT_STOP 0x04
enum tacplus_acct_status { TACPLUS_ACCT_SUCCESS = 0x01, TACPLUS_ACCT_ERROR = 0x02 };

#define TACPLUS_MAX_ARGS 32         /* attribute-value pairs we send or keep from one reply */
#define TACPLUS_MAX_BODY 65536      /* a reply body larger than this is refused (RFC allows 4 GB:
                                     * a hostile server must not make us allocate that) */

struct tacplus_hdr {
    uint8_t version;                /* major << 4 | minor */
    uint8_t type;
    uint8_t seq;
    uint8_t flags;
    uint32_t session_id;
    uint32_t length;                /* of the body */
};

/* What a request says about the user (START, REQUEST of authorization and accounting). */
struct tacplus_who {
    const char *user;
    const char *port;               /* e.g. "ssh" or "tty0" */
    const char *rem_addr;           /* the client's address */
    uint8_t priv_lvl;
};

/* Parse results. */
enum tacplus_rc {
    TACPLUS_OK = 0,
    TACPLUS_E_SHORT = -1,           /* incomplete: more bytes are needed */
    TACPLUS_E_BAD = -2,             /* not a packet we accept (version, type, lengths, seq) */
    TACPLUS_E_KEY = -3,             /* the body does not decode: most likely a wrong shared key */
};
const char *tacplus_rc_str(int rc);

/* Header of a packet at b (n bytes available): TACPLUS_OK, E_SHORT, or E_BAD (major version or
 * type unknown, body longer than TACPLUS_MAX_BODY). */
int tacplus_hdr_parse(const uint8_t *b, size_t n, struct tacplus_hdr *h);

/* XORs body (h->length bytes) with the pad of RFC 8907 section 4.5: obfuscates and de-obfuscates.
 * An empty key leaves the body unchanged. */
void tacplus_crypt(uint8_t *body, const struct tacplus_hdr *h, const char *key, size_t keylen);

/* Request builders: write a whole packet (header + obfuscated body) into out; return its length,
 * or -1 when cap is too small or a field is longer than its length byte allows. seq is the
 * packet's sequence number (1 for the first packet of a session, then odd). */
int tacplus_authen_start(uint8_t *out, size_t cap, uint32_t sid, uint8_t flags,
                         const char *key, uint8_t authen_type, const struct tacplus_who *w,
                         const uint8_t *data, size_t data_len);
int tacplus_authen_continue(uint8_t *out, size_t cap, uint32_t sid, uint8_t seq, uint8_t flags,
                            const char *key, const char *user_msg, size_t msg_len, bool abort);
int tacplus_author_request(uint8_t *out, size_t cap, uint32_t sid, uint8_t flags,
                           const char *key, const struct tacplus_who *w,
                           const char *const *args, int nargs);
int tacplus_acct_request(uint8_t *out, size_t cap, uint32_t sid, uint8_t flags, const char *key,
                         uint8_t acct_flags, const struct tacplus_who *w,
                         const char *const *args, int nargs);

/* Parsed replies. Strings are NUL-terminated copies (truncated to their buffer). */
struct tacplus_authen_reply {
    uint8_t status, flags;
    char server_msg[256];
    char data[256];
};
struct tacplus_author_reply {
    uint8_t status;
    int nargs;                      /* kept in args (at most TACPLUS_MAX_ARGS) */
    char args[TACPLUS_MAX_ARGS][128];
    char server_msg[256];
};
struct tacplus_acct_reply {
    uint8_t status;
    char server_msg[256];
};

/* Parse a whole reply packet pkt (n bytes: exactly header + body) of the session sid whose last
 * request had sequence number req_seq. The body is de-obfuscated in a copy. */
int tacplus_authen_reply_parse(const uint8_t *pkt, size_t n, const char *key, uint32_t sid,
                               uint8_t req_seq, struct tacplus_authen_reply *r);
int tacplus_author_reply_parse(const uint8_t *pkt, size_t n, const char *key, uint32_t sid,
                               uint8_t req_seq, struct tacplus_author_reply *r);
int tacplus_acct_reply_parse(const uint8_t *pkt, size_t n, const char *key, uint32_t sid,
                             uint8_t req_seq, struct tacplus_acct_reply *r);

/* The value of attribute name ("priv-lvl") in args ("priv-lvl=15" or optional "priv-lvl*15"),
 * or NULL. */
const char *tacplus_arg_value(const struct tacplus_author_reply *r, const char *name);

#endif
