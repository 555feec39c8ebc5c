/* Unit tests of the TACACS+ codec (services/tacplus.c): known-answer packets made by an
 * independent implementation (Python's hashlib, the pad of RFC 8907 section 4.5), round trips of
 * the builders, and every way a reply is refused (truncated, wrong version, session, sequence,
 * key, lengths). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "services/tacplus.h"

#define SID 0x01020304u

/* authen REPLY GETPASS, NOECHO, "Password: "; session SID, key "key", seq 2 */
static const uint8_t kat_authen[] = {
    0xc0, 0x01, 0x02, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x10, 0xdc, 0x9f,
    0xf3, 0x58, 0xab, 0xc5, 0x28, 0xf3, 0x56, 0xfd, 0x13, 0x7a, 0xbe, 0x77, 0x7b, 0x7d};
/* author RESPONSE PASS_ADD with priv-lvl=15 */
static const uint8_t kat_author[] = {
    0xc0, 0x02, 0x02, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x12, 0xd8, 0x9f, 0xf3,
    0x52, 0xab, 0xc5, 0x73, 0xe2, 0x57, 0xe7, 0x12, 0x38, 0xa0, 0x65, 0x2d, 0x60, 0x10, 0x1c};
/* acct REPLY SUCCESS */
static const uint8_t kat_acct[] = {0xc0, 0x03, 0x02, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00,
                                   0x00, 0x00, 0x05, 0xd9, 0x9e, 0xf3, 0x52, 0xaa};

static void test_known_answers(void **state)
{
    struct tacplus_authen_reply ar;
    assert_int_equal(tacplus_authen_reply_parse(kat_authen, sizeof kat_authen, "key", SID, 1, &ar),
                     TACPLUS_OK);
    assert_int_equal(ar.status, TACPLUS_AUTHEN_GETPASS);
    assert_int_equal(ar.flags, TACPLUS_REPLY_NOECHO);
    assert_string_equal(ar.server_msg, "Password: ");
    struct tacplus_author_reply au;
    assert_int_equal(tacplus_author_reply_parse(kat_author, sizeof kat_author, "key", SID, 1, &au),
                     TACPLUS_OK);
    assert_int_equal(au.status, TACPLUS_AUTHOR_PASS_ADD);
    assert_int_equal(au.nargs, 1);
    assert_string_equal(tacplus_arg_value(&au, "priv-lvl"), "15");
    assert_null(tacplus_arg_value(&au, "priv"));
    struct tacplus_acct_reply ac;
    assert_int_equal(tacplus_acct_reply_parse(kat_acct, sizeof kat_acct, "key", SID, 1, &ac),
                     TACPLUS_OK);
    assert_int_equal(ac.status, TACPLUS_ACCT_SUCCESS);
}

static void test_refusals(void **state)
{
    struct tacplus_authen_reply ar;
    uint8_t p[sizeof kat_authen];
    /* a wrong key: the lengths do not add up */
    assert_int_equal(tacplus_authen_reply_parse(kat_authen, sizeof kat_authen, "kez", SID, 1, &ar),
                     TACPLUS_E_KEY);
    /* truncated header and body */
    assert_int_equal(tacplus_authen_reply_parse(kat_authen, 5, "key", SID, 1, &ar),
                     TACPLUS_E_SHORT);
    assert_int_equal(tacplus_authen_reply_parse(kat_authen, sizeof kat_authen - 1, "key", SID, 1,
                                                &ar), TACPLUS_E_SHORT);
    /* another session, another sequence number, another type */
    assert_int_equal(tacplus_authen_reply_parse(kat_authen, sizeof kat_authen, "key", SID + 1, 1,
                                                &ar), TACPLUS_E_BAD);
    assert_int_equal(tacplus_authen_reply_parse(kat_authen, sizeof kat_authen, "key", SID, 3, &ar),
                     TACPLUS_E_BAD);
    struct tacplus_acct_reply ac;
    assert_int_equal(tacplus_acct_reply_parse(kat_authen, sizeof kat_authen, "key", SID, 1, &ac),
                     TACPLUS_E_BAD);
    /* a major version that is not 0xc */
    memcpy(p, kat_authen, sizeof p);
    p[0] = 0xb0;
    assert_int_equal(tacplus_authen_reply_parse(p, sizeof p, "key", SID, 1, &ar), TACPLUS_E_BAD);
    /* a body length beyond the bound */
    memcpy(p, kat_authen, sizeof p);
    p[8] = 0x7f;
    assert_int_equal(tacplus_authen_reply_parse(p, sizeof p, "key", SID, 1, &ar), TACPLUS_E_BAD);
    /* an unobfuscated reply in a session with a key is refused (could be forged on the path) */
    memcpy(p, kat_authen, sizeof p);
    p[3] = TACPLUS_FLAG_UNENCRYPTED;
    assert_int_equal(tacplus_authen_reply_parse(p, sizeof p, "key", SID, 1, &ar), TACPLUS_E_KEY);
}

/* A builder's packet de-obfuscates to the fields of RFC 8907 section 5.1. */
static void test_authen_start_layout(void **state)
{
    uint8_t p[512];
    struct tacplus_who w = {.user = "alice", .port = "ssh", .rem_addr = "10.0.0.1", .priv_lvl = 1};
    int n = tacplus_authen_start(p, sizeof p, SID, 0, "key", TACPLUS_AUTHEN_TYPE_PAP, &w,
                                 (const uint8_t *)"pw", 2);
    assert_int_equal(n, TACPLUS_HDR_LEN + 8 + 5 + 3 + 8 + 2);
    struct tacplus_hdr h;
    assert_int_equal(tacplus_hdr_parse(p, (size_t)n, &h), TACPLUS_OK);
    assert_int_equal(h.version, 0xc1);   /* PAP: minor version 1 */
    assert_int_equal(h.seq, 1);
    assert_int_equal(h.session_id, SID);
    assert_int_equal(h.length, (uint32_t)n - TACPLUS_HDR_LEN);
    uint8_t *b = p + TACPLUS_HDR_LEN;
    assert_memory_not_equal(b + 8, "alice", 5);   /* obfuscated on the wire */
    tacplus_crypt(b, &h, "key", 3);
    const uint8_t fixed[] = {TACPLUS_AUTHEN_LOGIN, 1, TACPLUS_AUTHEN_TYPE_PAP,
                             TACPLUS_AUTHEN_SVC_LOGIN, 5, 3, 8, 2};
    assert_memory_equal(b, fixed, sizeof fixed);
    assert_memory_equal(b + 8, "alicessh10.0.0.1pw", 18);
    /* ASCII uses minor version 0 */
    n = tacplus_authen_start(p, sizeof p, SID, 0, "key", TACPLUS_AUTHEN_TYPE_ASCII, &w, NULL, 0);
    assert_true(n > 0);
    assert_int_equal(p[0], 0xc0);
}

static void test_acct_and_author_layout(void **state)
{
    uint8_t p[512];
    struct tacplus_who w = {.user = "bob", .port = "ssh", .rem_addr = "::1", .priv_lvl = 15};
    const char *args[] = {"task_id=7", "bytes_in=100"};
    int n = tacplus_acct_request(p, sizeof p, SID, TACPLUS_FLAG_SINGLE, "k", TACPLUS_ACCT_STOP,
                                 &w, args, 2);
    assert_true(n > 0);
    struct tacplus_hdr h;
    assert_int_equal(tacplus_hdr_parse(p, (size_t)n, &h), TACPLUS_OK);
    assert_int_equal(h.type, TACPLUS_ACCT);
    assert_int_equal(h.flags, TACPLUS_FLAG_SINGLE);
    tacplus_crypt(p + TACPLUS_HDR_LEN, &h, "k", 1);
    const uint8_t fixed[] = {TACPLUS_ACCT_STOP, TACPLUS_AUTHEN_METH_TACACSPLUS, 15,
                             TACPLUS_AUTHEN_TYPE_ASCII, TACPLUS_AUTHEN_SVC_LOGIN, 3, 3, 3, 2, 9,
                             12};
    assert_memory_equal(p + TACPLUS_HDR_LEN, fixed, sizeof fixed);
    assert_memory_equal(p + TACPLUS_HDR_LEN + sizeof fixed, "bobssh::1task_id=7bytes_in=100", 30);
    n = tacplus_author_request(p, sizeof p, SID, 0, "k", &w, args, 1);
    assert_int_equal(n, TACPLUS_HDR_LEN + 8 + 1 + 9 + 9);
}

static void test_builder_bounds(void **state)
{
    uint8_t p[64];
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    struct tacplus_who w = {.user = longname, .port = "", .rem_addr = ""};
    uint8_t big[1024];
    /* a field longer than its length byte */
    assert_int_equal(tacplus_authen_start(big, sizeof big, SID, 0, "k", 1, &w, NULL, 0), -1);
    /* the buffer too small */
    w.user = "abc";
    char msg[100];
    memset(msg, 'x', sizeof msg);
    assert_int_equal(tacplus_authen_continue(p, sizeof p, SID, 3, 0, "k", msg, sizeof msg, false),
                     -1);
    assert_true(tacplus_authen_continue(big, sizeof big, SID, 3, 0, "k", msg, sizeof msg, false) >
                0);
    const char *args[TACPLUS_MAX_ARGS + 1] = {0};
    assert_int_equal(tacplus_author_request(big, sizeof big, SID, 0, "k", &w, args,
                                            TACPLUS_MAX_ARGS + 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_authen_start_layout),
        cmocka_unit_test(test_acct_and_author_layout),
        cmocka_unit_test(test_builder_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
