/* Unit tests of trace and its ring: the switch, the IOS text form, wrap-around with drop count,
 * reads since a sequence number, subscribers that lose events without blocking the emitter, and
 * resume after a Last-Event-ID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/ring.h"
#include "services/trace.h"

static void test_off_by_default_records_nothing(void **state)
{
    (void)state;
    struct trace *t = trace_new(8);
    assert_non_null(t);
    assert_false(trace_on(t));
    trace_emit(t, 1, "127.0.0.1:1", true, "recv C0644 %d %s", 5, "a.bin");
    struct trace_event ev[4];
    assert_int_equal(trace_read(t, 0, ev, 4, NULL), 0);
    assert_int_equal(trace_last_seq(t), 0);
    trace_set(t, true);
    assert_true(trace_on(t));
    trace_emit(t, 1, "127.0.0.1:1", true, "recv C0644 %d %s", 5, "a.bin");
    assert_int_equal(trace_read(t, 0, ev, 4, NULL), 1);
    assert_string_equal(ev[0].text, "recv C0644 5 a.bin");
    trace_set(t, false);
    trace_emit(t, 1, "127.0.0.1:1", false, "send <OK>");
    assert_int_equal(trace_read(t, 0, ev, 4, NULL), 1);
    trace_free(t);
    assert_false(trace_on(NULL));
}

static void test_format_ios_style(void **state)
{
    (void)state;
    struct trace_event ev = {.seq = 1, .sid = 22, .dir_in = true};
    /* 2026-11-24 10:15:02.123 UTC */
    ev.time_ms = 1795515302123LL;
    snprintf(ev.peer, sizeof(ev.peer), "127.0.0.1:50412");
    snprintf(ev.text, sizeof(ev.text), "recv C0644 1048576 image.bin");
    char buf[256];
    assert_int_equal(trace_format(&ev, buf, sizeof(buf)), 0);
    assert_string_equal(
        buf, "Nov 24 10:15:02.123: SCP: [22 <- 127.0.0.1:50412] recv C0644 1048576 image.bin");
    ev.dir_in = false;
    snprintf(ev.text, sizeof(ev.text), "send <OK>");
    ev.time_ms += 1;
    assert_int_equal(trace_format(&ev, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "Nov 24 10:15:02.124: SCP: [22 -> 127.0.0.1:50412] send <OK>");
    assert_int_equal(trace_format(&ev, buf, 10), -1);   /* truncation is an error */
}

static void test_control_chars_escaped(void **state)
{
    (void)state;
    struct trace *t = trace_new(4);
    trace_set(t, true);
    trace_emit(t, 3, NULL, true, "recv C0644 1 %s", "evil\nname\x1b");
    struct trace_event ev;
    assert_int_equal(trace_read(t, 0, &ev, 1, NULL), 1);
    assert_string_equal(ev.text, "recv C0644 1 evil?name?");
    assert_string_equal(ev.peer, "-");
    trace_free(t);
}

static void test_ring_wrap_and_drop_count(void **state)
{
    (void)state;
    struct trace *t = trace_new(4);
    trace_set(t, true);
    for (int i = 1; i <= 10; i++)
        trace_emit(t, 1, "p", true, "event %d", i);
    struct trace_event ev[16];
    uint64_t dropped = 0;
    size_t n = trace_read(t, 0, ev, 16, &dropped);
    assert_int_equal(n, 4);
    assert_int_equal(dropped, 6);
    assert_int_equal(trace_dropped(t), 6);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ev[i].seq, 7 + i);
        char want[32];
        snprintf(want, sizeof(want), "event %zu", 7 + i);
        assert_string_equal(ev[i].text, want);
    }
    assert_int_equal(trace_last_seq(t), 10);
    trace_free(t);
}

static void test_read_since(void **state)
{
    (void)state;
    struct trace *t = trace_new(8);
    trace_set(t, true);
    for (int i = 1; i <= 6; i++)
        trace_emit(t, 1, "p", true, "e%d", i);
    struct trace_event ev[8];
    size_t n = trace_read(t, 4, ev, 8, NULL);
    assert_int_equal(n, 2);
    assert_int_equal(ev[0].seq, 5);
    assert_int_equal(ev[1].seq, 6);
    assert_int_equal(trace_read(t, 6, ev, 8, NULL), 0);
    assert_int_equal(trace_read(t, 99, ev, 8, NULL), 0);
    n = trace_read(t, 0, ev, 3, NULL);   /* max respected, oldest first */
    assert_int_equal(n, 3);
    assert_int_equal(ev[0].seq, 1);
    /* After a wrap, since older than the ring returns what is left. */
    for (int i = 7; i <= 12; i++)
        trace_emit(t, 1, "p", true, "e%d", i);
    n = trace_read(t, 2, ev, 8, NULL);
    assert_int_equal(n, 8);
    assert_int_equal(ev[0].seq, 5);
    assert_int_equal(ev[7].seq, 12);
    trace_free(t);
}

static void test_subscriber_loses_oldest_and_is_told(void **state)
{
    (void)state;
    struct trace *t = trace_new(64);
    trace_set(t, true);
    struct trace_sub *fast = trace_subscribe(t, 32);
    struct trace_sub *slow = trace_subscribe(t, 3);
    assert_non_null(fast);
    assert_non_null(slow);
    for (int i = 1; i <= 10; i++)
        trace_emit(t, 1, "p", true, "e%d", i);   /* never blocks although slow is full */
    struct trace_event ev[32];
    uint64_t lost = 99;
    size_t n = trace_sub_take(slow, ev, 32, &lost, 0);
    assert_int_equal(n, 3);
    assert_int_equal(lost, 7);
    assert_int_equal(ev[0].seq, 8);
    assert_int_equal(ev[2].seq, 10);
    n = trace_sub_take(fast, ev, 32, &lost, 0);
    assert_int_equal(n, 10);
    assert_int_equal(lost, 0);
    /* The loss is reported once. */
    trace_emit(t, 1, "p", true, "e11");
    n = trace_sub_take(slow, ev, 32, &lost, 100);
    assert_int_equal(n, 1);
    assert_int_equal(lost, 0);
    /* Nothing queued: a timed wait returns empty. */
    n = trace_sub_take(slow, ev, 32, &lost, 20);
    assert_int_equal(n, 0);
    trace_unsubscribe(slow);
    trace_unsubscribe(fast);
    trace_unsubscribe(NULL);
    trace_free(t);
}

static void test_subscribe_from_resumes(void **state)
{
    (void)state;
    struct trace *t = trace_new(4);
    trace_set(t, true);
    for (int i = 1; i <= 6; i++)
        trace_emit(t, 1, "p", true, "e%d", i);   /* ring holds 3..6 */
    struct trace_event ev[16];
    uint64_t lost;
    struct trace_sub *s = trace_subscribe_from(t, 16, 4);
    trace_emit(t, 1, "p", true, "e7");
    size_t n = trace_sub_take(s, ev, 16, &lost, 0);
    assert_int_equal(n, 3);
    assert_int_equal(ev[0].seq, 5);
    assert_int_equal(ev[2].seq, 7);
    assert_int_equal(lost, 0);
    trace_unsubscribe(s);
    /* Resuming from before the ring's oldest event reports the gap as lost. */
    s = trace_subscribe_from(t, 16, 1);
    n = trace_sub_take(s, ev, 16, &lost, 0);
    assert_int_equal(n, 4);   /* 4..7 */
    assert_int_equal(ev[0].seq, 4);
    assert_int_equal(lost, 2); /* 2 and 3 */
    trace_unsubscribe(s);
    /* Resuming from the newest event replays nothing. */
    s = trace_subscribe_from(t, 16, 7);
    assert_int_equal(trace_sub_take(s, ev, 16, &lost, 0), 0);
    assert_int_equal(lost, 0);
    trace_unsubscribe(s);
    trace_free(t);
}

static void test_ring_generic(void **state)
{
    (void)state;
    struct rec {
        uint64_t seq;
        int v;
    } r, out[4];
    assert_null(ring_new(4, 4));
    assert_null(ring_new(sizeof(r), 0));
    struct ring *g = ring_new(sizeof(r), 2);
    struct ring_sub *s = ring_subscribe(g, 1, NULL);
    assert_int_equal(ring_subscribers(g), 1);
    r.v = 10;
    assert_int_equal(ring_push(g, &r), 1);
    assert_int_equal(r.seq, 1);
    r.v = 11;
    ring_push(g, &r);
    r.v = 12;
    ring_push(g, &r);
    uint64_t lost;
    assert_int_equal(ring_sub_take(s, out, 4, &lost, 0), 1);
    assert_int_equal(out[0].v, 12);
    assert_int_equal(lost, 2);
    assert_int_equal(ring_read(g, 0, out, 4, NULL), 2);
    assert_int_equal(out[0].v, 11);
    assert_int_equal(ring_dropped(g), 1);
    ring_unsubscribe(s);
    assert_int_equal(ring_subscribers(g), 0);
    ring_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_by_default_records_nothing),
        cmocka_unit_test(test_format_ios_style),
        cmocka_unit_test(test_control_chars_escaped),
        cmocka_unit_test(test_ring_wrap_and_drop_count),
        cmocka_unit_test(test_read_since),
        cmocka_unit_test(test_subscriber_loses_oldest_and_is_told),
        cmocka_unit_test(test_subscribe_from_resumes),
        cmocka_unit_test(test_ring_generic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
