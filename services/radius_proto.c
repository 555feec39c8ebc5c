/* radius_proto: RADIUS packets, bytes in and fields out (see the header for what and why).
 *
 * Access-Request (RFC 2865 section 4.1): Message-Authenticator first (zeros, then HMAC-MD5 over
 * the whole packet under the secret, RFC 3579 section 3.2), User-Name, User-Password hidden with
 * the MD5 chain of section 5.2, NAS-Identifier, Calling-Station-Id, NAS-Port-Type Virtual.
 * Accounting-Request (RFC 2866 section 3): its Request Authenticator is MD5 over the packet with
 * 16 zero octets in its place, then the secret.
 *
 * A reply is accepted only when its Identifier and code answer our request, its length and every
 * attribute's length are consistent, its Response Authenticator (MD5 of code, id, length, our
 * Request Authenticator, the attributes, the secret) matches, and a Message-Authenticator, when
 * present, is exactly one, 16 octets, and matches. Comparisons use CRYPTO_memcmp. */
#include "services/radius_proto.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define RADIUS_PW_MAX 128   /* RFC 2865 section 5.2: at most 128 octets */

struct rw {
    uint8_t *p;
    size_t cap, len;
    bool over;
};

static void rw_attr(struct rw *w, uint8_t type, const void *v, size_t n)
{
    if (n > 253 || w->len + 2 + n > w->cap || w->len + 2 + n > RADIUS_MAX_PACKET) {
        w->over = true;
        return;
    }
    w->p[w->len] = type;
    w->p[w->len + 1] = (uint8_t)(n + 2);
    if (n)
        memcpy(w->p + w->len + 2, v, n);
    w->len += 2 + n;
}

static void rw_str(struct rw *w, uint8_t type, const char *s)
{
    if (s != NULL && s[0] != '\0')
        rw_attr(w, type, s, strlen(s));
}

static void rw_int(struct rw *w, uint8_t type, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    rw_attr(w, type, b, 4);
}

static int md5(uint8_t out[16], const void *a, size_t an, const void *b, size_t bn)
{
    unsigned int len = 16;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1 &&
             EVP_DigestUpdate(c, a, an) == 1 && (bn == 0 || EVP_DigestUpdate(c, b, bn) == 1) &&
             EVP_DigestFinal_ex(c, out, &len) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

static int hmac_md5(uint8_t out[16], const char *secret, const uint8_t *p, size_t n)
{
    unsigned int len = 16;
    return HMAC(EVP_md5(), secret, (int)strlen(secret), p, n, out, &len) ? 0 : -1;
}

static void rw_header(struct rw *w, uint8_t code, uint8_t id, const uint8_t *auth)
{
    if (w->cap < RADIUS_HDR_LEN) {
        w->over = true;
        return;
    }
    w->p[0] = code;
    w->p[1] = id;
    memcpy(w->p + 4, auth, 16);
    w->len = RADIUS_HDR_LEN;
}

static void rw_len(struct rw *w)
{
    w->p[2] = (uint8_t)(w->len >> 8);
    w->p[3] = (uint8_t)w->len;
}

/* User-Password, hidden (RFC 2865 section 5.2). */
static void rw_password(struct rw *w, const char *pw, const char *secret, const uint8_t *ra)
{
    uint8_t buf[RADIUS_PW_MAX], b[16];
    size_t n = strlen(pw), padded = n == 0 ? 16 : (n + 15) / 16 * 16;
    size_t sl = strlen(secret);
    if (n > RADIUS_PW_MAX) {
        w->over = true;
        return;
    }
    memset(buf, 0, sizeof buf);
    memcpy(buf, pw, n);
    const uint8_t *prev = ra;
    for (size_t i = 0; i < padded; i += 16) {
        uint8_t sp[256 + 16];
        if (sl > 256) {
            w->over = true;
            break;
        }
        memcpy(sp, secret, sl);
        memcpy(sp + sl, prev, 16);
        md5(b, sp, sl + 16, NULL, 0);
        OPENSSL_cleanse(sp, sizeof sp);
        for (size_t k = 0; k < 16; k++)
            buf[i + k] ^= b[k];
        prev = buf + i;
    }
    rw_attr(w, RADIUS_A_USER_PASSWORD, buf, padded);
    OPENSSL_cleanse(buf, sizeof buf);
}

int radius_access_request(uint8_t *out, size_t cap, const struct radius_req *r,
                          const char *secret)
{
    struct rw w = {out, cap, 0, false};
    static const uint8_t zero[16];
    rw_header(&w, RADIUS_ACCESS_REQUEST, r->id, r->authenticator);
    rw_attr(&w, RADIUS_A_MESSAGE_AUTH, zero, 16);   /* first: the Blast-RADIUS advice */
    rw_str(&w, RADIUS_A_USER_NAME, r->user);
    rw_password(&w, r->password ? r->password : "", secret, r->authenticator);
    rw_str(&w, RADIUS_A_NAS_IDENTIFIER, r->nas_id);
    rw_str(&w, RADIUS_A_CALLING_STATION, r->calling_station);
    rw_int(&w, RADIUS_A_NAS_PORT_TYPE, 5);          /* Virtual */
    if (w.over)
        return -1;
    rw_len(&w);
    uint8_t mac[16];
    if (hmac_md5(mac, secret, out, w.len) != 0)
        return -1;
    memcpy(out + RADIUS_HDR_LEN + 2, mac, 16);
    return (int)w.len;
}

int radius_acct_request(uint8_t *out, size_t cap, struct radius_req *r, const char *secret)
{
    struct rw w = {out, cap, 0, false};
    static const uint8_t zero[16];
    rw_header(&w, RADIUS_ACCT_REQUEST, r->id, zero);
    rw_int(&w, RADIUS_A_ACCT_STATUS, (uint32_t)r->status);
    rw_str(&w, RADIUS_A_ACCT_SESSION_ID, r->session_id);
    rw_str(&w, RADIUS_A_USER_NAME, r->user);
    rw_str(&w, RADIUS_A_NAS_IDENTIFIER, r->nas_id);
    rw_str(&w, RADIUS_A_CALLING_STATION, r->calling_station);
    rw_int(&w, RADIUS_A_NAS_PORT_TYPE, 5);
    if (r->status == RADIUS_ACCT_STOP) {
        rw_int(&w, RADIUS_A_ACCT_SESSION_TIME, r->session_time);
        rw_int(&w, RADIUS_A_ACCT_IN_OCTETS, r->in_octets);
        rw_int(&w, RADIUS_A_ACCT_OUT_OCTETS, r->out_octets);
    }
    if (w.over)
        return -1;
    rw_len(&w);
    if (md5(r->authenticator, out, w.len, secret, strlen(secret)) != 0)
        return -1;
    memcpy(out + 4, r->authenticator, 16);
    return (int)w.len;
}

/* ---- replies --------------------------------------------------------------------------------- */

static bool code_answers(uint8_t req, uint8_t rep)
{
    if (req == RADIUS_ACCESS_REQUEST)
        return rep == RADIUS_ACCESS_ACCEPT || rep == RADIUS_ACCESS_REJECT ||
               rep == RADIUS_ACCESS_CHALLENGE;
    return req == RADIUS_ACCT_REQUEST && rep == RADIUS_ACCT_RESPONSE;
}

/* "shell:priv-lvl=N" (Cisco-AVPair, vendor 9 type 1) -> N, else -1. */
static int cisco_priv(const uint8_t *v, size_t n)
{
    static const char key[] = "shell:priv-lvl=";
    size_t kl = sizeof key - 1;
    if (n <= kl || n > kl + 2 || memcmp(v, key, kl) != 0)
        return -1;
    int p = 0;
    for (size_t i = kl; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        p = p * 10 + (v[i] - '0');
    }
    return p <= 15 ? p : -1;
}

/* Cisco-AVPairs inside one Vendor-Specific value (vendor id, then sub-attributes). */
static int vsa_priv(const uint8_t *v, size_t n)
{
    if (n < 4 || v[0] != 0 || v[1] != 0 || v[2] != 0 || v[3] != RADIUS_VENDOR_CISCO)
        return -1;
    int priv = -1;
    for (size_t o = 4; o + 2 <= n && v[o + 1] >= 2 && o + v[o + 1] <= n; o += v[o + 1])
        if (v[o] == 1) {
            int p = cisco_priv(v + o + 2, (size_t)v[o + 1] - 2);
            if (p >= 0)
                priv = p;
        }
    return priv;
}

int radius_reply_parse(const uint8_t *pkt, size_t n, const uint8_t *req_pkt, const char *secret,
                       struct radius_reply *out)
{
    memset(out, 0, sizeof *out);
    out->priv_lvl = -1;
    if (n < RADIUS_HDR_LEN || n > RADIUS_MAX_PACKET)
        return RADIUS_E_BAD;
    size_t len = (size_t)pkt[2] << 8 | pkt[3];
    /* octets beyond Length are padding (RFC 2865 section 3); fewer is malformed */
    if (len < RADIUS_HDR_LEN || len > n || pkt[1] != req_pkt[1] ||
        !code_answers(req_pkt[0], pkt[0]))
        return RADIUS_E_BAD;
    out->code = pkt[0];
    int st_priv = -1, avp_priv = -1;
    size_t ma_at = 0;
    for (size_t o = RADIUS_HDR_LEN; o < len;) {
        if (o + 2 > len || pkt[o + 1] < 2 || o + pkt[o + 1] > len)
            return RADIUS_E_BAD;
        const uint8_t *v = pkt + o + 2;
        size_t vl = (size_t)pkt[o + 1] - 2;
        switch (pkt[o]) {
        case RADIUS_A_MESSAGE_AUTH:
            if (vl != 16 || ma_at != 0)
                return RADIUS_E_BAD;
            ma_at = o;
            break;
        case RADIUS_A_SERVICE_TYPE:
            if (vl == 4 && v[0] == 0 && v[1] == 0 && v[2] == 0)
                st_priv = v[3] == RADIUS_ST_ADMINISTRATIVE ? 15
                          : v[3] == RADIUS_ST_NAS_PROMPT   ? 1
                                                           : st_priv;
            break;
        case RADIUS_A_VENDOR: {
            int p = vsa_priv(v, vl);
            if (p >= 0)
                avp_priv = p;
            break;
        }
        case RADIUS_A_REPLY_MESSAGE: {
            size_t k = vl < sizeof out->reply_message - 1 ? vl : sizeof out->reply_message - 1;
            for (size_t i = 0; i < k; i++)
                out->reply_message[i] = v[i] < 0x20 || v[i] == 0x7f ? '?' : (char)v[i];
            out->reply_message[k] = '\0';
            break;
        }
        }
        o += (size_t)pkt[o + 1];
    }
    /* Response Authenticator: MD5(code id length RequestAuth attributes secret) */
    uint8_t buf[RADIUS_MAX_PACKET], calc[16];
    memcpy(buf, pkt, len);
    memcpy(buf + 4, req_pkt + 4, 16);
    if (md5(calc, buf, len, secret, strlen(secret)) != 0 || CRYPTO_memcmp(calc, pkt + 4, 16) != 0)
        return RADIUS_E_AUTH;
    if (ma_at != 0) {
        /* over the reply with the Request Authenticator in its place and the MA zeroed */
        memset(buf + ma_at + 2, 0, 16);
        if (hmac_md5(calc, secret, buf, len) != 0 || CRYPTO_memcmp(calc, pkt + ma_at + 2, 16) != 0)
            return RADIUS_E_AUTH;
        out->has_msg_auth = true;
    }
    out->priv_lvl = avp_priv >= 0 ? avp_priv : st_priv;
    return RADIUS_OK;
}
