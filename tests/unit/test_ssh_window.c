/* Unit tests of ssh_window: when a top-up is due (a step, or a quarter of a small window), which
 * round trips count as RTT samples (only those where the peer waited for the adjust), the window
 * asked for (2 x rate x RTT, within the bound, never shrinking), and the budgets of what channels
 * may hold unread. Times are given, never measured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/ssh_window.h"

#define MiB (1u << 20)
#define MS 1000   /* microseconds */

/* The session's part: a top-up gives the peer a whole window past what was received. */
static void topup(struct ssh_win *w, int64_t now)
{
    assert_true(ssh_win_due(w));
    ssh_win_topped_up(w, w->size, now);
}

static void test_first_read_is_a_topup_then_a_quarter_used(void **state)
{
    (void)state;
    struct ssh_win w;
    ssh_win_init(&w, 4 * SSH_WIN_TOPUP_STEP / 2, 16 * MiB, 0);   /* a quarter is half a step */
    assert_true(ssh_win_due(&w));
    topup(&w, 0);
    assert_int_equal(w.edge, 2 * SSH_WIN_TOPUP_STEP);
    assert_int_equal(w.topups, 1);
    assert_false(ssh_win_due(&w));
    ssh_win_received(&w, SSH_WIN_TOPUP_STEP / 2 - 1, true, 1 * MS);
    assert_false(ssh_win_due(&w));
    ssh_win_received(&w, 1, true, 1 * MS);
    assert_true(ssh_win_due(&w));
    /* a top-up that would not move the edge is not one */
    ssh_win_topped_up(&w, SSH_WIN_TOPUP_STEP, 2 * MS);
    assert_int_equal(w.topups, 1);
    /* a peer past the edge (libssh granted more than the model knew) still gets a top-up */
    ssh_win_received(&w, 4 * SSH_WIN_TOPUP_STEP, false, 3 * MS);
    assert_true(ssh_win_due(&w));
}

/* A large window is topped up every SSH_WIN_TOPUP_STEP, not every quarter. */
static void test_large_window_topped_up_by_steps(void **state)
{
    (void)state;
    struct ssh_win w;
    ssh_win_init(&w, 6 * MiB, 6 * MiB, 0);
    topup(&w, 0);
    ssh_win_received(&w, SSH_WIN_TOPUP_STEP - 1, true, 1 * MS);
    assert_false(ssh_win_due(&w));
    ssh_win_received(&w, 1, true, 1 * MS);
    assert_true(ssh_win_due(&w));
    topup(&w, 2 * MS);
    assert_int_equal(w.edge, SSH_WIN_TOPUP_STEP + 6 * MiB);
}

/* A window-limited transfer across a 50 ms RTT on a fast link: each window arrives in a burst,
 * then nothing until the adjust has made the round trip. */
static void test_rtt_sample_when_peer_waited(void **state)
{
    (void)state;
    struct ssh_win w;
    ssh_win_init(&w, 2 * MiB, 16 * MiB, 0);
    topup(&w, 0);                            /* edge 2 MiB */
    int64_t t = 60 * MS;
    ssh_win_received(&w, MiB / 2, true, t);  /* burst starts */
    topup(&w, t);                            /* probe: old edge 2 MiB, sent at t */
    assert_true(w.probing);
    assert_int_equal(w.probe_edge, 2 * MiB);
    ssh_win_received(&w, MiB, true, t + 8 * MS);
    ssh_win_received(&w, MiB / 2, true, t + 16 * MS);   /* caught up with 2 MiB: peer waits */
    assert_true(w.caught_up);
    assert_int_equal(w.rtt_us, 0);
    ssh_win_received(&w, 32768, true, t + 50 * MS);     /* past it, one RTT after the adjust */
    assert_false(w.probing);
    assert_int_equal(w.rtt_us, 50 * MS);
    /* a later, smaller sample wins; a larger one does not */
    topup(&w, t + 60 * MS);
    ssh_win_received(&w, (uint32_t)(w.probe_edge - w.rcvd), true, t + 70 * MS);
    ssh_win_received(&w, 1000, true, t + 60 * MS + 48 * MS);
    assert_int_equal(w.rtt_us, 48 * MS);
}

/* The peer never ran out of credit (the link, not the window, is the limit): the time until
 * bytes pass the old edge says how long the credit lasted, not the RTT. No sample. */
static void test_no_rtt_sample_without_a_wait(void **state)
{
    (void)state;
    struct ssh_win w;
    ssh_win_init(&w, 2 * MiB, 16 * MiB, 0);
    topup(&w, 0);
    ssh_win_received(&w, MiB / 2, true, 1 * MS);
    topup(&w, 1 * MS);
    /* data up to and past the old edge in reads that never left the receiver drained near it */
    ssh_win_received(&w, MiB, true, 3 * MS);
    ssh_win_received(&w, MiB, false, 5 * MS);
    assert_false(w.probing);
    assert_int_equal(w.rtt_us, 0);
    /* without an RTT the window stays */
    assert_int_equal(ssh_win_received(&w, 100000, true, 30 * MS), 2 * MiB);
}

/* With an RTT and a rate, the window asked for is 2 x rate x RTT, clamped to the bound; it only
 * grows. */
static void test_window_follows_bdp_within_bound(void **state)
{
    (void)state;
    struct ssh_win w;
    ssh_win_init(&w, 2 * MiB, 16 * MiB, 0);
    w.rtt_us = 50 * MS;
    w.edge = 64 * MiB;
    /* 40 MB/s over 50 ms: 2 x 40e6 x 0.05 = 4 MB */
    uint32_t want = ssh_win_received(&w, 2000000, true, 50 * MS);
    assert_int_equal(w.rate, 40000000);
    assert_int_equal(want, 4000000);
    ssh_win_set_size(&w, want);
    assert_int_equal(w.size, 4000000);
    /* 500 MB/s: 50 MB asked, the bound gives 16 MiB */
    want = ssh_win_received(&w, 25000000, true, 100 * MS);
    assert_int_equal(want, 16 * MiB);
    ssh_win_set_size(&w, 64 * MiB);
    assert_int_equal(w.size, 16 * MiB);
    /* a slower interval asks for nothing smaller */
    want = ssh_win_received(&w, 1000, true, 150 * MS);
    assert_int_equal(want, 16 * MiB);
    ssh_win_set_size(&w, MiB);
    assert_int_equal(w.size, 16 * MiB);
}

/* A loopback-like channel: the RTT is tiny, so even a fast rate asks for less than the first
 * window, which stays. Rate intervals are at least SSH_WIN_MIN_INTERVAL_US long. */
static void test_lan_keeps_first_window(void **state)
{
    (void)state;
    struct ssh_win w;
    ssh_win_init(&w, SSH_WIN_INITIAL, 16 * MiB, 0);
    w.rtt_us = 200;
    w.edge = 1ull << 40;
    assert_int_equal(ssh_win_received(&w, 1000000, true, 1 * MS), SSH_WIN_INITIAL);
    assert_int_equal(w.rate, 0);   /* 1 ms is shorter than the shortest interval */
    assert_int_equal(ssh_win_received(&w, 2000000, true, SSH_WIN_MIN_INTERVAL_US), SSH_WIN_INITIAL);
    assert_int_equal(w.rate, 600000000);   /* 3 MB in 5 ms; x 2 x 0.2 ms = 240 kB < 2 MiB */
    /* a 10 ms "round trip" (a scheduling stall on a loaded host) grows nothing, even at 600 MB/s */
    w.rtt_us = 10 * MS;
    assert_int_equal(ssh_win_received(&w, 6000000, true, 15 * MS), SSH_WIN_INITIAL);
    assert_int_equal(w.rate, 600000000);
}

static void test_init_clamps_to_bound(void **state)
{
    (void)state;
    struct ssh_win w;
    ssh_win_init(&w, 4 * MiB, MiB, 7);
    assert_int_equal(w.size, MiB);
    assert_int_equal(w.start_us, 7);
}

static void test_budgets(void **state)
{
    (void)state;
    struct ssh_win_budget total = {.cap = 10 * MiB};
    struct ssh_win_budget a = {.cap = 6 * MiB}, b = {.cap = 6 * MiB};
    assert_int_equal(ssh_win_budget_take(&a, &total, 4 * MiB), 4 * MiB);
    /* the session's cap gives part */
    assert_int_equal(ssh_win_budget_take(&a, &total, 4 * MiB), 2 * MiB);
    assert_int_equal(ssh_win_budget_take(&a, &total, 1), 0);
    assert_int_equal(a.used, 6 * MiB);
    /* the total gives what is left; the session keeps only that */
    assert_int_equal(ssh_win_budget_take(&b, &total, 6 * MiB), 4 * MiB);
    assert_int_equal(b.used, 4 * MiB);
    assert_int_equal(total.used, 10 * MiB);
    assert_int_equal(ssh_win_budget_take(&b, &total, 1), 0);
    assert_int_equal(b.used, 4 * MiB);
    ssh_win_budget_give(&a, &total, 6 * MiB);
    assert_int_equal(a.used, 0);
    assert_int_equal(total.used, 4 * MiB);
    assert_int_equal(ssh_win_budget_take(&b, &total, 2 * MiB), 2 * MiB);
    ssh_win_budget_give(&b, &total, 6 * MiB);
    assert_int_equal(total.used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_read_is_a_topup_then_a_quarter_used),
        cmocka_unit_test(test_large_window_topped_up_by_steps),
        cmocka_unit_test(test_rtt_sample_when_peer_waited),
        cmocka_unit_test(test_no_rtt_sample_without_a_wait),
        cmocka_unit_test(test_window_follows_bdp_within_bound),
        cmocka_unit_test(test_lan_keeps_first_window),
        cmocka_unit_test(test_init_clamps_to_bound),
        cmocka_unit_test(test_budgets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
