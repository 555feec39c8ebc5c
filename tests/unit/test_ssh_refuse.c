/* Unit tests of ssh_refuse: the identification line and the SSH_MSG_DISCONNECT packet a refused
 * connection gets (RFC 4253 6, 11.1): framing, padding, reason, description, refusals of a bad
 * identification or a small buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/ssh_refuse.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks one packet after "ident\r\n" and returns the description's length. */
static size_t check(const uint8_t *b, size_t n, const char *ident, uint32_t reason,
                    const char *text)
{
    size_t il = strlen(ident);
    assert_memory_equal(b, ident, il);
    assert_memory_equal(b + il, "\r\n", 2);
    const uint8_t *p = b + il + 2;
    size_t plen = n - il - 2;
    assert_int_equal(plen % 8, 0);                 /* the whole packet: a multiple of 8 */
    assert_int_equal(be32(p), plen - 4);           /* packet_length excludes itself, no MAC */
    uint8_t pad = p[4];
    assert_true(pad >= 4);
    assert_int_equal(p[5], 1);                     /* SSH_MSG_DISCONNECT */
    assert_int_equal(be32(p + 6), reason);
    size_t tl = be32(p + 10);
    assert_memory_equal(p + 14, text, tl);
    assert_int_equal(be32(p + 14 + tl), 0);        /* language tag "" */
    assert_int_equal(14 + tl + 4 + pad, plen);
    for (size_t i = 0; i < pad; i++)
        assert_int_equal(p[18 + tl + i], 0);
    return tl;
}

static void test_limit_refusal(void **state)
{
    (void)state;
    uint8_t b[SSH_REFUSE_MAX];
    const char *t = "too many unauthenticated SSH sessions (limit 64), try again later";
    size_t n = ssh_refuse_bytes("SSH-2.0-libssh_0.10.6", SSH_REFUSE_TOO_MANY_CONNECTIONS, t, b,
                                sizeof b);
    assert_true(n > 0);
    assert_int_equal(check(b, n, "SSH-2.0-libssh_0.10.6", 5, t), strlen(t));
}

static void test_every_length_pads_right(void **state)
{
    (void)state;
    char t[300];
    for (size_t len = 0; len < sizeof t; len++) {
        memset(t, 'x', len);
        t[len] = '\0';
        uint8_t b[SSH_REFUSE_MAX];
        size_t n = ssh_refuse_bytes("SSH-2.0-x", SSH_REFUSE_HOST_NOT_ALLOWED, t, b, sizeof b);
        assert_true(n > 0);
        /* a description longer than 255 bytes is cut there */
        assert_int_equal(check(b, n, "SSH-2.0-x", 1, t), len < 255 ? len : 255);
    }
}

static void test_bad_ident_or_small_buffer(void **state)
{
    (void)state;
    uint8_t b[SSH_REFUSE_MAX];
    assert_int_equal(ssh_refuse_bytes("SSH-1.99-x", 5, "t", b, sizeof b), 0);
    assert_int_equal(ssh_refuse_bytes("SSH-2.0-x\r\nevil", 5, "t", b, sizeof b), 0);
    char longid[300];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    memcpy(longid, "SSH-2.0-", 8);
    assert_int_equal(ssh_refuse_bytes(longid, 5, "t", b, sizeof b), 0);
    size_t n = ssh_refuse_bytes("SSH-2.0-x", 5, "t", b, sizeof b);
    assert_int_equal(ssh_refuse_bytes("SSH-2.0-x", 5, "t", b, n - 1), 0);
    assert_int_equal(ssh_refuse_bytes("SSH-2.0-x", 5, "t", b, n), n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_refusal),
        cmocka_unit_test(test_every_length_pads_right),
        cmocka_unit_test(test_bad_ident_or_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
