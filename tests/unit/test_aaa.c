/* Unit tests of services/aaa.c against a real store: the login list walk (the IOS rule: the next
 * method only when the current one is unavailable), local users and secrets, login without
 * aaa new-model, exec authorization and its refusal messages, public keys of ip ssh pubkey-chain,
 * login block-for per source address, and a config change applying to the next login. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "services/aaa.h"
#include "store/cfg.h"
#include "base/ring.h"
#include "services/stats.h"
#include "store/store.h"
#include "tests/unit/tmpdir.h"

static const struct store_who WHO = {.user = "test", .source = "api", .peer = "127.0.0.1:1"};

struct fx {
    char dir[256];
    struct store *st;
    struct stats *stats;
    struct aaa *aaa;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_aaa.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    struct scpd_err err;
    bool created;
    f->st = store_open(f->dir, NULL, &created, &err);
    if (!f->st)
        return -1;
    f->stats = stats_new(f->st);
    f->aaa = aaa_new(f->st, f->stats, NULL);
    if (!f->aaa || !f->stats)
        return -1;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    aaa_free(f->aaa);
    stats_free(f->stats);
    store_close(f->st);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

/* Makes text the whole running config. */
static void config(struct fx *f, const char *text)
{
    struct cfg_errors *errs = calloc(1, sizeof(*errs));
    struct scpd_err err;
    int rc = store_apply_text(f->st, text, strlen(text), CFG_REPLACE, false, 0, &WHO, errs, NULL,
                              &err);
    if (rc != 0) {
        char *m = cfg_errors_format(errs);
        fprintf(stderr, "config rejected: %s\n%s\n", err.msg, m ? m : "");
        free(m);
    }
    free(errs);
    assert_int_equal(rc, 0);
}

static enum aaa_result login_from(struct fx *f, const char *addr, const char *user,
                                  const char *pw)
{
    char peer[80];
    snprintf(peer, sizeof(peer), "%s:40000", addr);
    struct aaa_req req = {.door = "ssh", .user = user, .peer_addr = addr, .peer = peer, .sid = 1};
    struct scpd_err err;
    return aaa_login_password(f->aaa, &req, pw, &err);
}

static enum aaa_result login(struct fx *f, const char *user, const char *pw)
{
    return login_from(f, "192.0.2.1", user, pw);
}

static int authz(struct fx *f, const char *user, int *priv, char *msg, size_t cap)
{
    struct aaa_req req = {.door = "ssh", .user = user, .peer_addr = "192.0.2.1",
                          .peer = "192.0.2.1:40000", .sid = 1};
    struct scpd_err err = {0};
    int rc = aaa_authorize_exec(f->aaa, &req, priv, &err);
    snprintf(msg, cap, "%s", rc == 0 ? "" : err.msg);
    return rc;
}

#define BASE "aaa new-model\n" \
             "username tiger privilege 15 password 0 lab\n" \
             "username pleb privilege 14 secret 0 pw\n"

static void t_local_login(void **state)
{
    struct fx *f = *state;
    config(f, BASE "aaa authentication login default local\n");
    assert_int_equal(login(f, "tiger", "lab"), AAA_OK);
    assert_int_equal(login(f, "tiger", "Lab"), AAA_FAIL);
    assert_int_equal(login(f, "tiger", ""), AAA_FAIL);
    assert_int_equal(login(f, "nobody", "lab"), AAA_FAIL);
    assert_int_equal(login(f, "pleb", "pw"), AAA_OK);
    assert_int_equal(stats_get(f->stats, STATS_LOGINS_OK), 2);
    assert_int_equal(stats_get(f->stats, STATS_LOGINS_FAILED), 3);
}

static void t_no_new_model_uses_local(void **state)
{
    struct fx *f = *state;
    /* Method lists are inactive without aaa new-model: `none` would let anyone in. */
    config(f, "username tiger privilege 15 password 0 lab\n");
    assert_int_equal(login(f, "tiger", "lab"), AAA_OK);
    assert_int_equal(login(f, "tiger", "x"), AAA_FAIL);
    int priv = -1;
    char msg[512];
    assert_int_equal(authz(f, "tiger", &priv, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "aaa new-model"));
}

static void t_default_list_without_login_line(void **state)
{
    struct fx *f = *state;
    config(f, BASE);   /* aaa new-model, no `aaa authentication login default`: local */
    assert_int_equal(login(f, "tiger", "lab"), AAA_OK);
    assert_int_equal(login(f, "tiger", "nope"), AAA_FAIL);
}

static void t_fallback_only_when_unavailable(void **state)
{
    struct fx *f = *state;
    /* tacacs+ is unavailable (no server): local decides. */
    config(f, BASE "aaa authentication login default group tacacs+ local\n");
    assert_int_equal(login(f, "tiger", "lab"), AAA_OK);
    assert_int_equal(login(f, "tiger", "bad"), AAA_FAIL);
    /* local rejects: none is never reached (IOS rule). */
    config(f, BASE "aaa authentication login default local none\n");
    assert_int_equal(login(f, "tiger", "bad"), AAA_FAIL);
    assert_int_equal(login(f, "nobody", "x"), AAA_FAIL);
    /* group radius then none: none decides. */
    config(f, BASE "aaa authentication login default group radius none\n");
    assert_int_equal(login(f, "anyone", "x"), AAA_OK);
    /* every method unavailable */
    config(f, BASE "aaa authentication login default group tacacs+ group radius\n");
    assert_int_equal(login(f, "tiger", "lab"), AAA_ERROR);
}

static void t_empty_local_database_is_unavailable(void **state)
{
    struct fx *f = *state;
    config(f, "aaa new-model\naaa authentication login default local none\n");
    assert_int_equal(login(f, "who", "ever"), AAA_OK);
    config(f, "aaa new-model\naaa authentication login default local\n");
    assert_int_equal(login(f, "who", "ever"), AAA_ERROR);
}

static void t_authorization(void **state)
{
    struct fx *f = *state;
    int priv = -1;
    char msg[512];
    config(f, BASE "aaa authentication login default local\n");
    assert_int_equal(authz(f, "tiger", &priv, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "aaa authorization exec is not configured"));

    config(f, BASE "aaa authorization exec default local\n");
    assert_int_equal(authz(f, "tiger", &priv, msg, sizeof(msg)), 0);
    assert_int_equal(priv, 15);
    assert_int_equal(authz(f, "pleb", &priv, msg, sizeof(msg)), 0);
    assert_int_equal(priv, 14);
    assert_int_equal(authz(f, "ghost", &priv, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "ghost"));

    config(f, BASE "aaa authorization exec default group tacacs+ if-authenticated\n");
    assert_int_equal(authz(f, "tiger", &priv, msg, sizeof(msg)), 0);
    assert_int_equal(priv, 15);
    assert_int_equal(authz(f, "ghost", &priv, msg, sizeof(msg)), 0);
    assert_int_equal(priv, 1);

    config(f, BASE "aaa authorization exec default group tacacs+\n");
    assert_int_equal(authz(f, "tiger", &priv, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "no authorization method available"));
}

static void t_privilege(void **state)
{
    struct fx *f = *state;
    config(f, BASE);
    assert_int_equal(aaa_privilege(f->aaa, "tiger"), 15);
    assert_int_equal(aaa_privilege(f->aaa, "pleb"), 14);
    assert_int_equal(aaa_privilege(f->aaa, "ghost"), 0);
}

static void t_block_for(void **state)
{
    struct fx *f = *state;
    config(f, BASE "aaa authentication login default local\n"
              "login block-for 100 attempts 3 within 100\n");
    int left = 0;
    assert_false(aaa_is_blocked(f->aaa, "192.0.2.1", &left));
    assert_int_equal(login(f, "tiger", "x1"), AAA_FAIL);
    assert_int_equal(login(f, "tiger", "x2"), AAA_FAIL);
    assert_false(aaa_is_blocked(f->aaa, "192.0.2.1", &left));
    assert_int_equal(login(f, "ghost", "x3"), AAA_FAIL);
    assert_true(aaa_is_blocked(f->aaa, "192.0.2.1", &left));
    assert_true(left > 0 && left <= 100);
    /* the right password is refused during the quiet period, from that source only */
    assert_int_equal(login(f, "tiger", "lab"), AAA_BLOCKED);
    assert_int_equal(login_from(f, "192.0.2.2", "tiger", "lab"), AAA_OK);
    assert_true(stats_get(f->stats, STATS_LOGINS_BLOCKED) >= 1);
    /* removing block-for ends the quiet period at once */
    config(f, BASE "aaa authentication login default local\n");
    assert_false(aaa_is_blocked(f->aaa, "192.0.2.1", &left));
    assert_int_equal(login(f, "tiger", "lab"), AAA_OK);
}

/* login block-for counts N failures within any W seconds (a sliding window), not within a window
 * fixed at the first failure. Times are given, so nothing waits. */
static void t_block_window_slides(void **state)
{
    (void)state;
    struct aaa_window w = {0};
    const int64_t s = 1000;
    /* attempts 3 within 100: a lone early failure, then three close together 100 s later */
    assert_false(aaa_window_fail(&w, 0, 3, 100));
    assert_false(aaa_window_fail(&w, 90 * s, 3, 100));
    assert_false(aaa_window_fail(&w, 110 * s, 3, 100));   /* 0, 90, 110: span 110 s */
    assert_true(aaa_window_fail(&w, 120 * s, 3, 100));    /* 90, 110, 120: span 30 s */
    /* the quiet period starts with an empty window */
    assert_false(aaa_window_fail(&w, 121 * s, 3, 100));
    assert_false(aaa_window_fail(&w, 122 * s, 3, 100));
    assert_true(aaa_window_fail(&w, 123 * s, 3, 100));
    /* the edge: exactly W apart is not within W */
    memset(&w, 0, sizeof(w));
    assert_false(aaa_window_fail(&w, 0, 2, 10));
    assert_false(aaa_window_fail(&w, 10 * s, 2, 10));
    assert_true(aaa_window_fail(&w, 10 * s + 9999, 2, 10));
    /* a steady trickle slower than N per W never blocks, however long it goes on */
    memset(&w, 0, sizeof(w));
    for (int i = 0; i < 1000; i++)
        assert_false(aaa_window_fail(&w, (int64_t)i * 51 * s, 3, 100));
    /* attempts 1: every failure */
    memset(&w, 0, sizeof(w));
    assert_true(aaa_window_fail(&w, 5, 1, 1));
}

/* attempts N beyond LIM_BLOCK_FAIL_TIMES: memory stays bounded, the count is sampled (exact at
 * multiples of ceil(N / LIM_BLOCK_FAIL_TIMES)). */
static void t_block_window_large_n(void **state)
{
    (void)state;
    struct aaa_window w = {0};
    const int n = 4 * LIM_BLOCK_FAIL_TIMES;   /* every 4th failure recorded */
    for (int i = 0; i < n - 1; i++)
        assert_false(aaa_window_fail(&w, i, n, 60));
    assert_true(aaa_window_fail(&w, n, n, 60));
    /* n failures spread wider than the window: none blocks */
    memset(&w, 0, sizeof(w));
    for (int i = 0; i < 10 * n; i++)
        assert_false(aaa_window_fail(&w, (int64_t)i * 1000, n, n / 2));
}

/* Every failed or blocked login is an event on the security stream, with door, user, peer and
 * the reason; a successful one is not. */
static void t_security_events(void **state)
{
    struct fx *f = *state;
    config(f, BASE "aaa authentication login default local\n"
              "login block-for 100 attempts 2 within 100\n");
    struct ring *r = stats_stream(f->stats, STATS_STREAM_SECURITY);
    uint64_t since = ring_last_seq(r);
    assert_int_equal(login(f, "tiger", "lab"), AAA_OK);
    struct aaa_req http = {.door = "http", .user = "ghost", .peer_addr = "192.0.2.9",
                           .peer = "192.0.2.9:8000", .sid = 2};
    struct scpd_err err;
    assert_int_equal(aaa_login_password(f->aaa, &http, "x", &err), AAA_FAIL);
    assert_int_equal(login(f, "tiger", "bad"), AAA_FAIL);
    assert_int_equal(login(f, "tiger", "bad"), AAA_FAIL);     /* 2 within 100: the block starts */
    assert_int_equal(login(f, "tiger", "lab"), AAA_BLOCKED);
    struct aaa_req pre = {.door = "ssh", .peer_addr = "192.0.2.1", .peer = "192.0.2.1:1"};
    assert_true(aaa_check_blocked(f->aaa, &pre, NULL));
    struct aaa_req other = {.door = "ssh", .peer_addr = "192.0.2.2", .peer = "192.0.2.2:1"};
    assert_false(aaa_check_blocked(f->aaa, &other, NULL));

    struct stats_event ev[16];
    size_t n = ring_read(r, since, ev, 16, NULL);
    assert_int_equal(n, 6);
    assert_string_equal(ev[0].kind, "login-failed");
    assert_string_equal(ev[0].door, "http");
    assert_string_equal(ev[0].user, "ghost");
    assert_string_equal(ev[0].peer, "192.0.2.9:8000");
    assert_string_equal(ev[0].detail, "unknown user");
    assert_string_equal(ev[1].kind, "login-failed");
    assert_string_equal(ev[1].door, "ssh");
    assert_string_equal(ev[1].user, "tiger");
    assert_string_equal(ev[1].detail, "wrong password");
    assert_string_equal(ev[2].kind, "login-failed");
    assert_string_equal(ev[3].kind, "login-blocked");
    assert_non_null(strstr(ev[3].detail, "2 failed logins within 100 s"));
    assert_string_equal(ev[4].kind, "login-blocked");
    assert_string_equal(ev[4].user, "tiger");
    assert_non_null(strstr(ev[4].detail, "blocked for"));
    assert_string_equal(ev[5].kind, "login-blocked");
    assert_string_equal(ev[5].user, "");
    assert_string_equal(ev[5].peer, "192.0.2.1:1");
}

static void t_block_table_bounded(void **state)
{
    struct fx *f = *state;
    config(f, BASE "aaa authentication login default local\n"
              "login block-for 100 attempts 1 within 100\n");
    assert_int_equal(login_from(f, "198.51.100.1", "tiger", "x"), AAA_FAIL);
    assert_true(aaa_is_blocked(f->aaa, "198.51.100.1", NULL));
    /* many other sources fail once each: the table stays bounded and keeps the early block */
    char addr[64];
    for (int i = 0; i < LIM_BLOCK_SOURCES + 10; i += 97) {
        snprintf(addr, sizeof(addr), "10.%d.%d.1", i / 256, i % 256);
        assert_int_equal(login_from(f, addr, "ghost", ""), AAA_FAIL);
    }
    assert_true(aaa_is_blocked(f->aaa, "198.51.100.1", NULL));
}

static void t_config_change_applies_to_next_login(void **state)
{
    struct fx *f = *state;
    config(f, BASE "aaa authentication login default local\n");
    assert_int_equal(login(f, "lion", "roar"), AAA_FAIL);
    const char *add = "username lion privilege 15 password 0 roar\n";
    struct scpd_err err;
    assert_int_equal(store_apply_text(f->st, add, strlen(add), CFG_MERGE, false, 0, &WHO, NULL,
                                      NULL, &err), 0);
    assert_int_equal(login(f, "lion", "roar"), AAA_OK);
}

static void t_pubkey(void **state)
{
    struct fx *f = *state;
    config(f, BASE "ip ssh pubkey-chain\n"
              " username tiger\n"
              "  key-hash ssh-ed25519 2AE2B4F52DFE7B6F5C43734862CB7DC9\n"
              " exit\n"
              "exit\n");
    struct aaa_req req = {.door = "ssh", .user = "tiger", .peer_addr = "192.0.2.1",
                          .peer = "192.0.2.1:1", .sid = 1};
    struct scpd_err err;
    assert_true(aaa_pubkey_acceptable(f->aaa, &req, "2AE2B4F52DFE7B6F5C43734862CB7DC9"));
    assert_false(aaa_pubkey_acceptable(f->aaa, &req, "00E2B4F52DFE7B6F5C43734862CB7DC9"));
    assert_int_equal(aaa_login_pubkey(f->aaa, &req, "ssh-ed25519",
                                      "2AE2B4F52DFE7B6F5C43734862CB7DC9", &err), AAA_OK);
    assert_int_equal(aaa_login_pubkey(f->aaa, &req, "ssh-ed25519",
                                      "00E2B4F52DFE7B6F5C43734862CB7DC9", &err), AAA_FAIL);
    struct aaa_req other = req;
    other.user = "pleb";
    assert_false(aaa_pubkey_acceptable(f->aaa, &other, "2AE2B4F52DFE7B6F5C43734862CB7DC9"));
    assert_int_equal(aaa_login_pubkey(f->aaa, &other, "ssh-ed25519",
                                      "2AE2B4F52DFE7B6F5C43734862CB7DC9", &err), AAA_FAIL);
}

static void t_overlong_input(void **state)
{
    struct fx *f = *state;
    config(f, BASE "aaa authentication login default local\n");
    char big[LIM_PASSWORD_LEN + 10];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(login(f, "tiger", big), AAA_FAIL);
    assert_int_equal(login(f, big, "lab"), AAA_FAIL);
    assert_int_equal(login(f, "", "lab"), AAA_FAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_local_login, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(t_no_new_model_uses_local, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(t_default_list_without_login_line, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(t_fallback_only_when_unavailable, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(t_empty_local_database_is_unavailable, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(t_authorization, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(t_privilege, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(t_block_for, fx_setup, fx_teardown),
        cmocka_unit_test(t_block_window_slides),
        cmocka_unit_test_setup_teardown(t_security_events, fx_setup, fx_teardown),
        cmocka_unit_test(t_block_window_large_n),
        cmocka_unit_test_setup_teardown(t_block_table_bounded, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(t_config_change_applies_to_next_login, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(t_pubkey, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(t_overlong_input, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
