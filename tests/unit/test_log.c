/* Unit tests of the log line's escaping: what a peer puts into a user name, a peer string or a
 * message reaches stderr and the `logging buffered` ring with C0 controls, DEL, C1 controls (as
 * code points and as raw bytes) and invalid UTF-8 escaped, and valid UTF-8 kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/log.h"

/* The text of the one line logged for user and msg, after "] " and without its newline. */
static char *logged(const char *user, const char *msg)
{
    size_t len, size;
    uint64_t logged_n, dropped;
    log_buffer_clear();
    struct log_ctx ctx = {.sid = 7, .user = user, .peer = "127.0.0.1:1"};
    log_msg(LOG_LVL_ERR, &ctx, "%s", msg);
    char *all = log_buffer_dump(&len, &size, &logged_n, &dropped);
    assert_non_null(all);
    assert_int_equal(logged_n, 1);
    assert_non_null(strchr(all, '\n'));
    assert_ptr_equal(strchr(all, '\n'), all + len - 1);   /* one line, whatever the input */
    all[len - 1] = '\0';
    char *body = strstr(all, "[sid=7 user=");
    assert_non_null(body);
    memmove(all, body, strlen(body) + 1);
    return all;
}

static void expect(const char *user, const char *msg, const char *want)
{
    char *got = logged(user, msg);
    assert_string_equal(got, want);
    free(got);
}

static void test_controls_and_invalid_utf8_escaped(void **state)
{
    (void)state;
    log_buffer_size(4096);
    /* C0 and DEL */
    expect("a\nb", "x\ry\x1b[2Jz\x7f",
           "[sid=7 user=a\\x0ab peer=127.0.0.1:1] x\\x0dy\\x1b[2Jz\\x7f");
    /* C1 as code points (U+0085 NEL, U+009B CSI) and as raw bytes */
    expect("\xc2\x85root", "a\xc2\x9b" "2Jb\x9b\x80",
           "[sid=7 user=\\u0085root peer=127.0.0.1:1] a\\u009b2Jb\\x9b\\x80");
    /* invalid UTF-8: a lone lead byte, an overlong '/', a surrogate, beyond U+10FFFF, 0xff */
    expect("u", "\xc3(\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xff",
           "[sid=7 user=u peer=127.0.0.1:1] "
           "\\xc3(\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80\\xff");
    /* a sequence cut at the end of the string */
    expect("u", "ok\xe2\x82", "[sid=7 user=u peer=127.0.0.1:1] ok\\xe2\\x82");
    /* valid UTF-8 stays, U+00A0 (just above C1) included; a backslash is escaped */
    expect("jos\xc3\xa9", "\xc2\xa0\xe2\x82\xac\xf0\x9f\x98\x80 a\\x41",
           "[sid=7 user=jos\xc3\xa9 peer=127.0.0.1:1] "
           "\xc2\xa0\xe2\x82\xac\xf0\x9f\x98\x80 a\\x5cx41");
    log_buffer_size(0);
}

static void test_escape_never_cut(void **state)
{
    (void)state;
    log_buffer_size(8192);
    char msg[1400];
    memset(msg, '\x01', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    char *got = logged("u", msg);
    size_t n = strlen(got);
    assert_true(n > 1000);
    /* the line ends in a whole escape */
    size_t tail = strlen("[sid=7 user=u peer=127.0.0.1:1] ");
    assert_int_equal((n - tail) % 4, 0);
    assert_string_equal(got + n - 4, "\\x01");
    free(got);
    log_buffer_size(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_controls_and_invalid_utf8_escaped),
        cmocka_unit_test(test_escape_never_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
