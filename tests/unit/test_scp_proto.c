/* Unit tests of daemon/scp_proto: every record form the supported clients send, every rejection
 * (as a table of inputs and expected errors), records split across reads byte by byte, file data
 * handed out without copies, status bytes in both directions, and the record builders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "daemon/scp_proto.h"

/* Feeds all of in; returns the events' types in order (at most max) and the last event in *last. */
static int feed_all(struct scp_proto *p, const char *in, size_t len, enum scp_ev_type *types,
                    int max, struct scp_event *last)
{
    size_t off = 0;
    int n = 0;
    for (;;) {
        size_t used = scp_proto_feed(p, (const uint8_t *)in + off, len - off, last);
        off += used;
        if (last->type == SCP_EV_NONE) {
            if (off >= len || used == 0)
                break;
            continue;
        }
        if (n < max)
            types[n] = last->type;
        n++;
        if (last->type == SCP_EV_ERROR || last->type == SCP_EV_FATAL)
            break;
    }
    return n;
}

static void test_file_record(void **state)
{
    struct scp_proto p;
    struct scp_event ev;
    const char *in = "C0644 5 hello.txt\nhello\0";
    scp_proto_init(&p, true, false);
    size_t used = scp_proto_feed(&p, (const uint8_t *)in, 24, &ev);
    assert_int_equal(used, 18);
    assert_int_equal(ev.type, SCP_EV_FILE);
    assert_int_equal(ev.mode, 0644);
    assert_int_equal(ev.size, 5);
    assert_string_equal(ev.name, "hello.txt");
    assert_string_equal(ev.record, "C0644 5 hello.txt");
    used = scp_proto_feed(&p, (const uint8_t *)in + 18, 6, &ev);
    assert_int_equal(ev.type, SCP_EV_DATA);
    assert_int_equal(used, 5);
    assert_ptr_equal(ev.data, (const uint8_t *)in + 18);   /* no copy */
    used = scp_proto_feed(&p, (const uint8_t *)in + 23, 1, &ev);
    assert_int_equal(used, 0);
    assert_int_equal(ev.type, SCP_EV_DATA_END);
    used = scp_proto_feed(&p, (const uint8_t *)in + 23, 1, &ev);
    assert_int_equal(used, 1);
    assert_int_equal(ev.type, SCP_EV_OK);
    assert_int_equal(p.state, SCP_ST_RECORD);
}

static void test_zero_size_and_spaces(void **state)
{
    struct scp_proto p;
    struct scp_event ev;
    enum scp_ev_type t[8];
    const char in[] = "C0600 0 a b  c\n";
    scp_proto_init(&p, true, false);
    int n = feed_all(&p, in, sizeof(in) - 1, t, 8, &ev);
    assert_int_equal(n, 2);
    assert_int_equal(t[0], SCP_EV_FILE);
    assert_int_equal(t[1], SCP_EV_DATA_END);
    /* the name keeps its spaces */
    scp_proto_init(&p, true, false);
    scp_proto_feed(&p, (const uint8_t *)in, sizeof(in) - 1, &ev);
    assert_string_equal(ev.name, "a b  c");
}

static void test_recursive_tree(void **state)
{
    struct scp_proto p;
    struct scp_event ev;
    enum scp_ev_type t[16];
    const char in[] = "T1700000000 0 1700000001 0\nD0755 0 dir\nC0644 1 f\nx\0E\n";
    scp_proto_init(&p, true, true);
    int n = feed_all(&p, in, sizeof(in) - 1, t, 16, &ev);
    enum scp_ev_type want[] = {SCP_EV_TIME, SCP_EV_DIR, SCP_EV_FILE, SCP_EV_DATA,
                               SCP_EV_DATA_END, SCP_EV_OK, SCP_EV_END};
    assert_int_equal(n, 7);
    for (int i = 0; i < 7; i++)
        assert_int_equal(t[i], want[i]);
    assert_int_equal(p.depth, 0);
}

static void test_time_values(void **state)
{
    struct scp_proto p;
    struct scp_event ev;
    const char in[] = "T1234567890 0 987654321 999999\n";
    scp_proto_init(&p, true, false);
    scp_proto_feed(&p, (const uint8_t *)in, sizeof(in) - 1, &ev);
    assert_int_equal(ev.type, SCP_EV_TIME);
    assert_int_equal(ev.mtime, 1234567890);
    assert_int_equal(ev.atime, 987654321);
}

/* Every rejection: input, flags, and a word the error must contain. */
static const struct {
    const char *in;
    size_t len;      /* 0: strlen */
    bool recursive;
    const char *why;
} bad[] = {
    {"C644 1 x\n", 0, false, "mode"},
    {"C06444 1 x\n", 0, false, "mode"},
    {"C0648 1 x\n", 0, false, "mode"},
    {"C0644  1 x\n", 0, false, "size"},
    {"C0644 -1 x\n", 0, false, "size"},
    {"C0644 +1 x\n", 0, false, "size"},
    {"C0644 01 x\n", 0, false, "size"},
    {"C0644 99999999999999999999 x\n", 0, false, "size"},
    {"C0644 9223372036854775808 x\n", 0, false, "size"},
    {"C0644 1x x\n", 0, false, "size"},
    {"C0644 1\n", 0, false, "size"},
    {"C0644 1 \n", 0, false, "empty"},
    {"C0644 1 a/b\n", 0, false, "'/'"},
    {"C0644 1 /etc/passwd\n", 0, false, "'/'"},
    {"C0644 1 .\n", 0, false, "'.'"},
    {"C0644 1 ..\n", 0, false, "'..'"},
    {"C0644 1 a\rb\n", 0, false, "control"},
    {"C0644 1 a\x7f\n", 0, false, "control"},
    {"C0644 1 a\0b\n", 12, false, "NUL"},
    {"D0755 0 d\n", 0, false, "without -r"},
    {"D0755 0 ..\n", 0, true, "'..'"},
    {"D0755 0 a/b\n", 0, true, "'/'"},
    {"E\n", 0, true, "without a directory"},
    {"Ex\n", 0, true, "bad E"},
    {"T1 0 1\n", 0, false, "T record"},
    {"T1 1000000 1 0\n", 0, false, "T record"},
    {"T-1 0 1 0\n", 0, false, "T record"},
    {"T1 0 1 0 \n", 0, false, "T record"},
    {"T1 0 1 0\nE\n", 0, true, "followed by C or D"},
    {"T1 0 1 0\nT1 0 1 0\n", 0, false, "followed by C or D"},
    {"X\n", 0, false, "unknown record"},
    {"\0", 1, false, "unknown record"},
    {"c0644 1 x\n", 0, false, "unknown record"},
};

static void test_rejections(void **state)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scp_proto p;
        struct scp_event ev;
        enum scp_ev_type t[8];
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].in);
        scp_proto_init(&p, true, bad[i].recursive);
        int n = feed_all(&p, bad[i].in, len, t, 8, &ev);
        if (n == 0 || ev.type != SCP_EV_ERROR || !strstr(ev.msg, bad[i].why))
            fail_msg("case %zu (%s): type %d msg '%s', want error with '%s'", i, bad[i].in,
                     ev.type, ev.msg, bad[i].why);
        assert_int_equal(p.state, SCP_ST_DONE);
        /* nothing more is accepted after an error */
        assert_int_equal(scp_proto_feed(&p, (const uint8_t *)"C0644 1 x\n", 10, &ev), 0);
        assert_int_equal(ev.type, SCP_EV_NONE);
    }
}

static void test_long_name_and_record(void **state)
{
    struct scp_proto p;
    struct scp_event ev;
    enum scp_ev_type t[4];
    char rec[LIM_SCP_RECORD_LEN + 64];
    char name[LIM_NAME_LEN + 2];
    memset(name, 'a', sizeof(name) - 1);
    name[LIM_NAME_LEN] = '\0';                     /* exactly 255: fine */
    snprintf(rec, sizeof(rec), "C0644 0 %s\n", name);
    scp_proto_init(&p, true, false);
    feed_all(&p, rec, strlen(rec), t, 4, &ev);
    assert_int_equal(t[0], SCP_EV_FILE);
    name[LIM_NAME_LEN] = 'a';
    name[LIM_NAME_LEN + 1] = '\0';                 /* 256: too long */
    snprintf(rec, sizeof(rec), "C0644 0 %s\n", name);
    scp_proto_init(&p, true, false);
    feed_all(&p, rec, strlen(rec), t, 4, &ev);
    assert_int_equal(ev.type, SCP_EV_ERROR);
    assert_non_null(strstr(ev.msg, "longer than 255"));
    /* a record without a newline within LIM_SCP_RECORD_LEN */
    memset(rec, 'a', sizeof(rec));
    rec[0] = 'C';
    scp_proto_init(&p, true, false);
    feed_all(&p, rec, sizeof(rec), t, 4, &ev);
    assert_int_equal(ev.type, SCP_EV_ERROR);
    assert_non_null(strstr(ev.msg, "longer than 4096"));
}

static void test_depth_bomb(void **state)
{
    struct scp_proto p;
    struct scp_event ev;
    scp_proto_init(&p, true, true);
    for (int i = 0; i < LIM_SCP_DEPTH; i++) {
        scp_proto_feed(&p, (const uint8_t *)"D0755 0 d\n", 10, &ev);
        assert_int_equal(ev.type, SCP_EV_DIR);
    }
    scp_proto_feed(&p, (const uint8_t *)"D0755 0 d\n", 10, &ev);
    assert_int_equal(ev.type, SCP_EV_ERROR);
    assert_non_null(strstr(ev.msg, "deeper"));
}

static void test_split_byte_by_byte(void **state)
{
    const char in[] = "T1 0 2 0\nC0755 3 run.sh\nabc\0\x01oops\nC0644 0 z\n";
    struct scp_proto p;
    struct scp_event ev;
    enum scp_ev_type seen[16];
    int n = 0;
    char data[8] = {0};
    size_t dl = 0;
    scp_proto_init(&p, true, false);
    size_t off = 0;
    for (size_t end = 0; end <= sizeof(in) - 1; end++) {
        for (;;) {
            off += scp_proto_feed(&p, (const uint8_t *)in + off, end - off, &ev);
            if (ev.type == SCP_EV_NONE)
                break;
            if (ev.type == SCP_EV_DATA) {
                memcpy(data + dl, ev.data, ev.len);
                dl += ev.len;
            }
            if (n < 16)
                seen[n++] = ev.type;
        }
    }
    assert_string_equal(data, "abc");
    enum scp_ev_type want[] = {SCP_EV_TIME, SCP_EV_FILE, SCP_EV_DATA, SCP_EV_DATA,
                               SCP_EV_DATA, SCP_EV_DATA_END, SCP_EV_OK, SCP_EV_WARN,
                               SCP_EV_FILE, SCP_EV_DATA_END};
    assert_int_equal(n, 10);
    for (int k = 0; k < 10; k++)
        assert_int_equal(seen[k], want[k]);
}

static void test_client_messages(void **state)
{
    struct scp_proto p;
    struct scp_event ev;
    /* sink: a warning between records, then a fatal error */
    scp_proto_init(&p, true, false);
    scp_proto_feed(&p, (const uint8_t *)"\x01scp: a: No such file\n", 23, &ev);
    assert_int_equal(ev.type, SCP_EV_WARN);
    assert_string_equal(ev.msg, "scp: a: No such file");
    assert_int_equal(p.state, SCP_ST_RECORD);
    scp_proto_feed(&p, (const uint8_t *)"\x02gone\n", 6, &ev);
    assert_int_equal(ev.type, SCP_EV_FATAL);
    assert_int_equal(p.state, SCP_ST_DONE);
    /* source: statuses only */
    scp_proto_init(&p, false, false);
    scp_proto_feed(&p, (const uint8_t *)"\0", 1, &ev);
    assert_int_equal(ev.type, SCP_EV_OK);
    scp_proto_feed(&p, (const uint8_t *)"\x01x: Permission denied\n", 22, &ev);
    assert_int_equal(ev.type, SCP_EV_WARN);
    assert_int_equal(p.state, SCP_ST_STATUS);
    scp_proto_feed(&p, (const uint8_t *)"C0644 1 x\n", 10, &ev);
    assert_int_equal(ev.type, SCP_EV_ERROR);
    assert_non_null(strstr(ev.msg, "0x43"));
    /* an over-long message */
    char big[LIM_SCP_ERRMSG_LEN + 8];
    memset(big, 'm', sizeof(big));
    big[0] = 1;
    scp_proto_init(&p, false, false);
    size_t off = 0;
    while (off < sizeof(big)) {
        off += scp_proto_feed(&p, (const uint8_t *)big + off, sizeof(big) - off, &ev);
        if (ev.type != SCP_EV_NONE)
            break;
    }
    assert_int_equal(ev.type, SCP_EV_ERROR);
}

static void test_reject_file_and_dir(void **state)
{
    struct scp_proto p;
    struct scp_event ev;
    scp_proto_init(&p, true, true);
    scp_proto_feed(&p, (const uint8_t *)"C0644 100 big\n", 14, &ev);
    assert_int_equal(ev.type, SCP_EV_FILE);
    scp_proto_reject(&p);                 /* refused: the client sends no data */
    scp_proto_feed(&p, (const uint8_t *)"D0755 0 d\n", 10, &ev);
    assert_int_equal(ev.type, SCP_EV_DIR);
    assert_int_equal(p.depth, 1);
    scp_proto_reject(&p);                 /* refused: no contents, no E */
    assert_int_equal(p.depth, 0);
    scp_proto_feed(&p, (const uint8_t *)"E\n", 2, &ev);
    assert_int_equal(ev.type, SCP_EV_ERROR);
}

static void test_builders(void **state)
{
    char b[64];
    assert_int_equal(scp_proto_fmt_file(b, sizeof(b), 0100644, 12, "a.txt"), 15);
    assert_string_equal(b, "C0644 12 a.txt\n");
    assert_int_equal(scp_proto_fmt_dir(b, sizeof(b), 0755, "d"), 10);
    assert_string_equal(b, "D0755 0 d\n");
    assert_int_equal(scp_proto_fmt_time(b, sizeof(b), 5, 6), 9);
    assert_string_equal(b, "T5 0 6 0\n");
    assert_int_equal(scp_proto_fmt_end(b, sizeof(b)), 2);
    assert_int_equal(scp_proto_fmt_file(b, sizeof(b), 0644, 1, "a/b"), -1);
    assert_int_equal(scp_proto_fmt_file(b, sizeof(b), 0644, 1, "x\n"), -1);
    assert_int_equal(scp_proto_fmt_file(b, 8, 0644, 1, "abcdef"), -1);
    assert_int_equal(scp_proto_fmt_reply(b, sizeof(b), 0, NULL), 1);
    assert_int_equal(b[0], 0);
    int n = scp_proto_fmt_reply(b, sizeof(b), 1, "bad\nname");
    assert_int_equal(n, 10);
    assert_memory_equal(b, "\x01" "bad?name\n", 10);
    n = scp_proto_fmt_reply(b, 8, 2, "a long message");
    assert_true(n > 0 && n <= 8);
    assert_int_equal(b[0], 2);
    assert_int_equal(b[n - 1], '\n');
    assert_int_equal(scp_proto_fmt_reply(b, sizeof(b), 3, "x"), -1);
    scp_proto_visible("a\nb\\", 4, b, sizeof(b));
    assert_string_equal(b, "a\\x0ab\\x5c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_record),
        cmocka_unit_test(test_zero_size_and_spaces),
        cmocka_unit_test(test_recursive_tree),
        cmocka_unit_test(test_time_values),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_long_name_and_record),
        cmocka_unit_test(test_depth_bomb),
        cmocka_unit_test(test_split_byte_by_byte),
        cmocka_unit_test(test_client_messages),
        cmocka_unit_test(test_reject_file_and_dir),
        cmocka_unit_test(test_builders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
