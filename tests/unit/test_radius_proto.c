/* Unit tests of the RADIUS codec (services/radius_proto.c): replies made by an independent
 * implementation (Python's hashlib/hmac: RFC 2865 Response Authenticator, RFC 3579
 * Message-Authenticator) are accepted and refused exactly as they should be; the Access-Request
 * carries Message-Authenticator first and its HMAC checks; User-Password hides and unhides; the
 * accounting Request Authenticator is the RFC 2866 one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "services/radius_proto.h"

#define SECRET "xyzzy"

/* the request these replies answer: id 7, authenticator 00 01 .. 0f */
static uint8_t req[RADIUS_HDR_LEN];

/* Access-Accept: Message-Authenticator, Cisco-AVPair shell:priv-lvl=15, Reply-Message hello */
static const uint8_t accept_ma[] = {
    0x02, 0x07, 0x00, 0x46, 0xaa, 0xbb, 0x14, 0x1b, 0x47, 0x00, 0xff, 0x13, 0xc1, 0x6a, 0x6e,
    0xdc, 0x86, 0xee, 0x37, 0x71, 0x50, 0x12, 0x18, 0x79, 0xb4, 0xc4, 0x1a, 0x2d, 0x3c, 0xb0,
    0x61, 0x14, 0xe1, 0x1d, 0x85, 0xf7, 0x75, 0xa1, 0x1a, 0x19, 0x00, 0x00, 0x00, 0x09, 0x01,
    0x13, 0x73, 0x68, 0x65, 0x6c, 0x6c, 0x3a, 0x70, 0x72, 0x69, 0x76, 0x2d, 0x6c, 0x76, 0x6c,
    0x3d, 0x31, 0x35, 0x12, 0x07, 0x68, 0x65, 0x6c, 0x6c, 0x6f};
/* Access-Reject, no attributes */
static const uint8_t reject[] = {0x03, 0x07, 0x00, 0x14, 0xd2, 0x13, 0xcc, 0x41, 0xe7, 0xba,
                                 0xd5, 0x3f, 0x3a, 0x15, 0x34, 0x4c, 0xc9, 0x90, 0x23, 0x71};

/* Response Authenticator right, Message-Authenticator wrong: what a Blast-RADIUS forgery (an MD5
 * collision on the Response Authenticator) looks like */
static const uint8_t forged_ma[] = {
    0x02, 0x07, 0x00, 0x3f, 0xee, 0x8d, 0xe3, 0x41, 0x89, 0xd8, 0xe8, 0xdf, 0x1e, 0x3b, 0x19,
    0xa2, 0xb4, 0x58, 0x8b, 0xf4, 0x50, 0x12, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x1a, 0x19, 0x00, 0x00, 0x00, 0x09, 0x01,
    0x13, 0x73, 0x68, 0x65, 0x6c, 0x6c, 0x3a, 0x70, 0x72, 0x69, 0x76, 0x2d, 0x6c, 0x76, 0x6c,
    0x3d, 0x31, 0x35};

static int setup(void **state)
{
    req[0] = RADIUS_ACCESS_REQUEST;
    req[1] = 7;
    for (int i = 0; i < 16; i++)
        req[4 + i] = (uint8_t)i;
    return 0;
}

static void test_known_replies(void **state)
{
    struct radius_reply r;
    assert_int_equal(radius_reply_parse(accept_ma, sizeof accept_ma, req, SECRET, &r), RADIUS_OK);
    assert_int_equal(r.code, RADIUS_ACCESS_ACCEPT);
    assert_int_equal(r.priv_lvl, 15);
    assert_true(r.has_msg_auth);
    assert_string_equal(r.reply_message, "hello");
    assert_int_equal(radius_reply_parse(reject, sizeof reject, req, SECRET, &r), RADIUS_OK);
    assert_int_equal(r.code, RADIUS_ACCESS_REJECT);
    assert_int_equal(r.priv_lvl, -1);
    assert_false(r.has_msg_auth);
}

static void test_refused_replies(void **state)
{
    struct radius_reply r;
    uint8_t p[sizeof accept_ma];
    /* wrong secret: the Response Authenticator fails */
    assert_int_equal(radius_reply_parse(accept_ma, sizeof accept_ma, req, "other", &r),
                     RADIUS_E_AUTH);
    /* a changed attribute (the privilege, as Blast-RADIUS would) */
    memcpy(p, accept_ma, sizeof p);
    p[sizeof p - 10] = '9';   /* a byte of the Cisco-AVPair */
    assert_int_equal(radius_reply_parse(p, sizeof p, req, SECRET, &r), RADIUS_E_AUTH);
    /* the Message-Authenticator alone changed (Response Authenticator recomputed would be needed
     * to get past the first check: here the first check fails, as it must) */
    memcpy(p, accept_ma, sizeof p);
    p[25] ^= 1;
    assert_int_equal(radius_reply_parse(p, sizeof p, req, SECRET, &r), RADIUS_E_AUTH);
    /* the Response Authenticator right and the Message-Authenticator wrong */
    assert_int_equal(radius_reply_parse(forged_ma, sizeof forged_ma, req, SECRET, &r),
                     RADIUS_E_AUTH);
    /* another identifier, a code that does not answer an Access-Request, bad lengths */
    memcpy(p, accept_ma, sizeof p);
    p[1] = 8;
    assert_int_equal(radius_reply_parse(p, sizeof p, req, SECRET, &r), RADIUS_E_BAD);
    memcpy(p, accept_ma, sizeof p);
    p[0] = RADIUS_ACCT_RESPONSE;
    assert_int_equal(radius_reply_parse(p, sizeof p, req, SECRET, &r), RADIUS_E_BAD);
    assert_int_equal(radius_reply_parse(accept_ma, 19, req, SECRET, &r), RADIUS_E_BAD);
    memcpy(p, accept_ma, sizeof p);
    p[3] = 0xff;   /* Length beyond the datagram */
    assert_int_equal(radius_reply_parse(p, sizeof p, req, SECRET, &r), RADIUS_E_BAD);
    memcpy(p, accept_ma, sizeof p);
    p[21] = 17;    /* Message-Authenticator of the wrong size */
    assert_int_equal(radius_reply_parse(p, sizeof p, req, SECRET, &r), RADIUS_E_BAD);
}

static void test_access_request(void **state)
{
    uint8_t p[RADIUS_MAX_PACKET];
    struct radius_req q = {.id = 9, .user = "alice", .password = "a-password-of-21-char",
                           .calling_station = "10.1.2.3", .nas_id = "scpd"};
    for (int i = 0; i < 16; i++)
        q.authenticator[i] = (uint8_t)(0xa0 + i);
    int n = radius_access_request(p, sizeof p, &q, SECRET);
    assert_true(n > RADIUS_HDR_LEN);
    assert_int_equal(p[0], RADIUS_ACCESS_REQUEST);
    assert_int_equal(p[1], 9);
    assert_int_equal((p[2] << 8) | p[3], n);
    /* Message-Authenticator first, HMAC-MD5 over the packet with it zeroed */
    assert_int_equal(p[20], RADIUS_A_MESSAGE_AUTH);
    assert_int_equal(p[21], 18);
    uint8_t z[RADIUS_MAX_PACKET], mac[16];
    unsigned int ml = 16;
    memcpy(z, p, (size_t)n);
    memset(z + 22, 0, 16);
    HMAC(EVP_md5(), SECRET, 5, z, (size_t)n, mac, &ml);
    assert_memory_equal(mac, p + 22, 16);
    /* User-Password: 32 octets (21 padded), unhidden with the MD5 chain */
    size_t o = 38;
    assert_int_equal(p[o], RADIUS_A_USER_NAME);
    o += p[o + 1];
    assert_int_equal(p[o], RADIUS_A_USER_PASSWORD);
    assert_int_equal(p[o + 1], 2 + 32);
    uint8_t plain[32], b[16], sp[5 + 16];
    const uint8_t *prev = q.authenticator;
    for (int i = 0; i < 32; i += 16) {
        unsigned int bl = 16;
        memcpy(sp, SECRET, 5);
        memcpy(sp + 5, prev, 16);
        EVP_Digest(sp, sizeof sp, b, &bl, EVP_md5(), NULL);
        for (int k = 0; k < 16; k++)
            plain[i + k] = p[o + 2 + i + k] ^ b[k];
        prev = p + o + 2 + i;
    }
    assert_memory_equal(plain, "a-password-of-21-char\0\0\0\0\0\0\0\0\0\0\0", 32);
    /* too long a password */
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    q.password = big;
    assert_int_equal(radius_access_request(p, sizeof p, &q, SECRET), -1);
}

static void test_acct_request(void **state)
{
    uint8_t p[RADIUS_MAX_PACKET];
    struct radius_req q = {.id = 3, .user = "bob", .status = RADIUS_ACCT_STOP,
                           .session_id = "0000002A", .session_time = 5, .in_octets = 1000,
                           .out_octets = 20, .nas_id = "scpd"};
    int n = radius_acct_request(p, sizeof p, &q, SECRET);
    assert_true(n > 0);
    /* RFC 2866: MD5(code id length 16 zero octets attributes secret) */
    uint8_t z[RADIUS_MAX_PACKET + 5], md[16];
    unsigned int ml = 16;
    memcpy(z, p, (size_t)n);
    memset(z + 4, 0, 16);
    memcpy(z + n, SECRET, 5);
    EVP_Digest(z, (size_t)n + 5, md, &ml, EVP_md5(), NULL);
    assert_memory_equal(md, p + 4, 16);
    assert_memory_equal(q.authenticator, p + 4, 16);
    /* an Accounting-Response to it checks against its authenticator */
    uint8_t resp[RADIUS_HDR_LEN] = {RADIUS_ACCT_RESPONSE, 3, 0, RADIUS_HDR_LEN};
    uint8_t buf[RADIUS_HDR_LEN + 5];
    memcpy(buf, resp, 4);
    memcpy(buf + 4, p + 4, 16);
    memcpy(buf + 20, SECRET, 5);
    EVP_Digest(buf, sizeof buf, resp + 4, &ml, EVP_md5(), NULL);
    struct radius_reply r;
    assert_int_equal(radius_reply_parse(resp, sizeof resp, p, SECRET, &r), RADIUS_OK);
    assert_int_equal(r.code, RADIUS_ACCT_RESPONSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_known_replies, setup),
        cmocka_unit_test_setup(test_refused_replies, setup),
        cmocka_unit_test(test_access_request),
        cmocka_unit_test(test_acct_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
