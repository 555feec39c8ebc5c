/* Unit tests of stats: counters and their names, live transfers with progress, the end of a
 * transfer (counters, bytes, history hand-off), transfer events on the stream ring and listeners,
 * and the security-event fan-out. The store is replaced by a recording store_history_add (a mock
 * inside this unit test only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "base/ring.h"
#include "services/stats.h"
#include "store/store.h"

static pthread_mutex_t hist_mu = PTHREAD_MUTEX_INITIALIZER;
static struct store_xfer hist[8];
static int nhist;

int store_history_add(struct store *st, struct store_xfer *x, struct scpd_err *err)
{
    (void)st;
    (void)err;
    pthread_mutex_lock(&hist_mu);
    if (nhist < 8)
        hist[nhist++] = *x;
    pthread_mutex_unlock(&hist_mu);
    return 0;
}

static int hist_count(void)
{
    pthread_mutex_lock(&hist_mu);
    int n = nhist;
    pthread_mutex_unlock(&hist_mu);
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_counters(void **state)
{
    (void)state;
    struct stats *s = stats_new(NULL);
    assert_non_null(s);
    for (int c = 0; c < STATS_COUNTER_MAX; c++) {
        assert_int_equal(stats_get(s, c), 0);
        const char *name = stats_counter_name(c);
        assert_non_null(name);
        assert_string_not_equal(name, "unknown");
        for (int d = 0; d < c; d++)
            assert_string_not_equal(name, stats_counter_name(d));
    }
    assert_string_equal(stats_counter_name(STATS_COUNTER_MAX), "unknown");
    stats_inc(s, STATS_LOGINS_FAILED, 1);
    stats_inc(s, STATS_LOGINS_FAILED, 2);
    stats_inc(s, STATS_COUNTER_MAX, 5);   /* out of range: ignored */
    assert_int_equal(stats_get(s, STATS_LOGINS_FAILED), 3);
    assert_int_equal(stats_get(s, STATS_LOGINS_OK), 0);
    stats_sessions_active(s, 1);
    stats_sessions_active(s, 1);
    stats_sessions_active(s, -1);
    assert_int_equal(stats_sessions_active_get(s), 1);
    stats_free(s);
    stats_free(NULL);
}

struct counter_arg {
    struct stats *s;
    struct stats_xfer *x;
};

static void *counter_thread(void *p)
{
    struct counter_arg *a = p;
    for (int i = 0; i < 100000; i++) {
        stats_inc(a->s, STATS_HTTP_REQUESTS, 1);
        stats_xfer_progress(a->x, 2);
    }
    return NULL;
}

static void test_counters_concurrent(void **state)
{
    (void)state;
    struct stats *s = stats_new(NULL);
    struct stats_xfer *x = stats_xfer_begin(s, 1, "tiger", "127.0.0.1:1", true, "bootflash:a", 0);
    struct counter_arg a = {s, x};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, counter_thread, &a);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(stats_get(s, STATS_HTTP_REQUESTS), 400000);
    struct stats_xfer_view v;
    assert_int_equal(stats_xfer_list(s, &v, 1), 1);
    assert_int_equal(v.bytes, 800000);
    stats_xfer_end(s, x, "ok", NULL);
    assert_int_equal(stats_get(s, STATS_BYTES_IN), 800000);
    stats_free(s);
}

static void test_xfer_live_and_end(void **state)
{
    (void)state;
    static int fake_store;
    nhist = 0;
    struct stats *s = stats_new((struct store *)(void *)&fake_store);
    struct stats_xfer *up = stats_xfer_begin(s, 7, "tiger", "127.0.0.1:5000", true,
                                             "bootflash:/image.bin", 1000);
    struct stats_xfer *down = stats_xfer_begin(s, 8, "lion", "127.0.0.1:5001", false,
                                               "nvram:startup-config", 50);
    assert_non_null(up);
    assert_non_null(down);
    stats_xfer_progress(up, 300);
    stats_xfer_progress(up, 100);
    stats_xfer_progress(down, 10);
    struct stats_xfer_view v[4];
    size_t n = stats_xfer_list(s, v, 4);
    assert_int_equal(n, 2);
    const struct stats_xfer_view *u = v[0].upload ? &v[0] : &v[1];
    assert_string_equal(u->user, "tiger");
    assert_string_equal(u->peer, "127.0.0.1:5000");
    assert_string_equal(u->path, "bootflash:/image.bin");
    assert_int_equal(u->bytes, 400);
    assert_int_equal(u->size, 1000);
    assert_int_equal(u->sid, 7);
    assert_true(u->start_ms > 0);
    assert_true(v[0].id != v[1].id);
    assert_int_equal(stats_xfer_list(s, v, 1), 1);   /* max respected */

    stats_xfer_progress(up, 600);
    stats_xfer_end(s, up, "ok", NULL);
    stats_xfer_end(s, down, "failed", "connection lost");
    assert_int_equal(stats_xfer_list(s, v, 4), 0);
    assert_int_equal(stats_get(s, STATS_XFER_IN_OK), 1);
    assert_int_equal(stats_get(s, STATS_XFER_OUT_FAILED), 1);
    assert_int_equal(stats_get(s, STATS_XFER_IN_FAILED), 0);
    assert_int_equal(stats_get(s, STATS_BYTES_IN), 1000);
    assert_int_equal(stats_get(s, STATS_BYTES_OUT), 10);

    for (int i = 0; i < 200 && hist_count() < 2; i++)
        sleep_ms(10);
    stats_free(s);   /* flushes anything still pending */
    assert_int_equal(nhist, 2);
    const struct store_xfer *h = strcmp(hist[0].direction, "in") == 0 ? &hist[0] : &hist[1];
    const struct store_xfer *o = h == &hist[0] ? &hist[1] : &hist[0];
    assert_string_equal(h->user, "tiger");
    assert_string_equal(h->peer, "127.0.0.1:5000");
    assert_string_equal(h->path, "bootflash:/image.bin");
    assert_int_equal(h->bytes, 1000);
    assert_int_equal(h->size, 1000);
    assert_string_equal(h->result, "ok");
    assert_string_equal(h->error, "");
    assert_true(h->end_ms >= h->start_ms);
    assert_string_equal(o->direction, "out");
    assert_string_equal(o->result, "failed");
    assert_string_equal(o->error, "connection lost");
    assert_int_equal(o->bytes, 10);
}

static int listener_calls[3];
static void listener(void *arg, const char *kind, const struct stats_xfer_view *v,
                     const char *result, const char *error)
{
    (void)arg;
    (void)v;
    (void)error;
    int i = strcmp(kind, "start") == 0 ? 0 : strcmp(kind, "progress") == 0 ? 1 : 2;
    if (i < 2 || (result && strcmp(result, "ok") == 0))
        __atomic_fetch_add(&listener_calls[i], 1, __ATOMIC_SEQ_CST);
}

static void test_transfer_events(void **state)
{
    (void)state;
    struct stats *s = stats_new(NULL);
    assert_int_equal(stats_listen(s, listener, NULL, 100), 0);
    struct ring *r = stats_stream(s, STATS_STREAM_TRANSFERS);
    assert_non_null(r);
    struct ring_sub *sub = ring_subscribe(r, 64, NULL);
    struct stats_xfer *x = stats_xfer_begin(s, 1, "tiger", "127.0.0.1:9", true, "bootflash:f", 100);
    struct stats_event ev[64];
    uint64_t lost;
    /* start comes promptly, then progress events while the transfer runs */
    size_t n = ring_sub_take(sub, ev, 64, &lost, 5000);
    assert_true(n >= 1);
    assert_string_equal(ev[0].kind, "start");
    assert_string_equal(ev[0].xfer.user, "tiger");
    int progress = 0;
    for (int i = 0; i < 100 && progress < 2; i++) {
        stats_xfer_progress(x, 1);
        n = ring_sub_take(sub, ev, 64, &lost, 100);
        for (size_t k = 0; k < n; k++)
            progress += strcmp(ev[k].kind, "progress") == 0;
    }
    assert_true(progress >= 2);
    stats_xfer_end(s, x, "ok", NULL);
    bool end = false;
    for (int i = 0; i < 50 && !end; i++) {
        n = ring_sub_take(sub, ev, 64, &lost, 100);
        for (size_t k = 0; k < n; k++)
            if (strcmp(ev[k].kind, "end") == 0) {
                end = true;
                assert_string_equal(ev[k].result, "ok");
                assert_true(ev[k].xfer.end_ms > 0);
            }
    }
    assert_true(end);
    /* Listeners run right after the ring push, on the sampler thread. */
    for (int i = 0; i < 500 && __atomic_load_n(&listener_calls[2], __ATOMIC_SEQ_CST) == 0; i++)
        sleep_ms(10);
    assert_int_equal(listener_calls[0], 1);
    assert_true(listener_calls[1] >= 1);
    assert_int_equal(listener_calls[2], 1);
    /* A transfer that ends before the sampler saw it still gets start then end. */
    x = stats_xfer_begin(s, 2, "tiger", "p", false, "bootflash:g", 1);
    stats_xfer_end(s, x, "aborted", "client went away");
    char kinds[64] = "";
    for (int i = 0; i < 50 && !strstr(kinds, "end"); i++) {
        n = ring_sub_take(sub, ev, 64, &lost, 100);
        for (size_t k = 0; k < n; k++)
            if (ev[k].xfer.sid == 2) {
                size_t len = strlen(kinds);
                snprintf(kinds + len, sizeof(kinds) - len, "%s,", ev[k].kind);
            }
    }
    assert_string_equal(kinds, "start,end,");
    assert_int_equal(stats_get(s, STATS_XFER_OUT_FAILED), 1);
    ring_unsubscribe(sub);
    stats_free(s);
}

static void test_security_events(void **state)
{
    (void)state;
    struct stats *s = stats_new(NULL);
    struct ring *r = stats_stream(s, STATS_STREAM_SECURITY);
    stats_security(s, "login-failed", "ssh", "tiger", "127.0.0.1:4000", "bad password");
    stats_security(s, "login-blocked", "http", NULL, "127.0.0.1:4001",
                   "login block-for: 3 failures");
    stats_security(NULL, "ignored", NULL, NULL, NULL, NULL);
    struct stats_event ev[4];
    size_t n = ring_read(r, 0, ev, 4, NULL);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].kind, "login-failed");
    assert_string_equal(ev[0].user, "tiger");
    assert_string_equal(ev[0].detail, "bad password");
    assert_string_equal(ev[0].door, "ssh");
    assert_true(stats_started_ms(s) > 0);
    assert_string_equal(ev[1].user, "");
    assert_string_equal(ev[1].peer, "127.0.0.1:4001");
    assert_int_equal(ev[1].seq, 2);
    assert_null(stats_stream(s, STATS_STREAM_MAX));
    stats_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_counters_concurrent),
        cmocka_unit_test(test_xfer_live_and_end),
        cmocka_unit_test(test_transfer_events),
        cmocka_unit_test(test_security_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
