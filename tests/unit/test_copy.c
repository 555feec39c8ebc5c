/* Unit tests of services/copy (the copy engine of the CLI's `copy` and the API's copy RPC) and of
 * its pure parsers: the URLs of device-initiated copies and the SCP C record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "services/copy.h"
#include "tests/unit/ifs_fixture.h"

static int parse(const char *s, struct copy_url *u, struct scpd_err *err)
{
    memset(err, 0, sizeof(*err));
    return copy_url_parse(s, strlen(s), u, err);
}

static void test_url_good(void **state)
{
    (void)state;
    struct copy_url u;
    struct scpd_err err;
    assert_int_equal(parse("scp://admin:s%40cret@files.example.com:2222/dir/a%20b.bin", &u, &err),
                     0);
    assert_int_equal(u.scheme, COPY_SCP);
    assert_string_equal(u.user, "admin");
    assert_true(u.has_password);
    assert_string_equal(u.password, "s@cret");
    assert_string_equal(u.host, "files.example.com");
    assert_int_equal(u.port, 2222);
    assert_string_equal(u.path, "dir/a b.bin");
    char shown[256];
    copy_url_format(&u, shown, sizeof(shown));
    assert_string_equal(shown, "scp://admin:*****@files.example.com:2222/dir/a b.bin");
    /* what was percent-decoded is shown encoded again: no raw byte outside ASCII reaches a
     * message, a log or a terminal (fuzz_cli found "Writing scp://..." echoing one) */
    assert_int_equal(parse("scp://j%C3%A9@h/caf%C3%A9%d7%25x", &u, &err), 0);
    assert_string_equal(u.path, "caf\xc3\xa9\xd7%x");
    copy_url_format(&u, shown, sizeof(shown));
    assert_string_equal(shown, "scp://j%C3%A9@h:22/caf%C3%A9%D7%25x");
    char tiny[12];   /* an escape that does not fit is left out whole */
    copy_url_format(&u, tiny, sizeof(tiny));
    assert_string_equal(tiny, "scp://j%C3");

    assert_int_equal(parse("SFTP://u@10.1.2.3//abs/file", &u, &err), 0);
    assert_int_equal(u.scheme, COPY_SFTP);
    assert_int_equal(u.port, 22);
    assert_false(u.has_password);
    assert_string_equal(u.path, "/abs/file");
    /* parts left out are asked for by the CLI */
    assert_int_equal(parse("scp:", &u, &err), 0);
    assert_string_equal(u.host, "");
    assert_int_equal(parse("scp://host", &u, &err), 0);
    assert_string_equal(u.host, "host");
    assert_string_equal(u.user, "");
    assert_string_equal(u.path, "");
    /* a raw '@' in the password: the last '@' ends the user part */
    assert_int_equal(parse("scp://u:p@w@h/f", &u, &err), 0);
    assert_string_equal(u.password, "p@w");
    assert_string_equal(u.host, "h");
    /* "..." and "a..b" are names, not ".." */
    assert_int_equal(parse("scp://u@h/a..b/.../c", &u, &err), 0);
    assert_true(copy_is_url("Scp:x") && copy_is_url("sftp:") && !copy_is_url("bootflash:x"));
}

static void test_url_bad(void **state)
{
    (void)state;
    static const struct {
        const char *url, *words;
    } cases[] = {
        {"ftp://u@h/f", "only scp:// and sftp://"},
        {"scp:/h/f", "'//' expected"},
        {"scp://u@h/../etc/shadow", "'..' is not allowed"},
        {"scp://u@h/a/..", "'..' is not allowed"},
        {"scp://u@h/a/%2e%2e/b", "'..' is not allowed"},
        {"scp://u@h:0/f", "port 0 is not a valid port"},
        {"scp://u@h:65536/f", "port 65536 is not a valid port"},
        {"scp://u@h:/f", "port must be a number"},
        {"scp://u@h:22x/f", "port must be a number"},
        {"scp://u@[::1]/f", "IPv6 addresses are not supported"},
        {"scp://u@fe80::1/f", "IPv6 addresses are not supported"},
        {"scp://u@h%41/f", "invalid character in host name"},
        {"scp://u@-h/f", "invalid host name"},
        {"scp://u@h/a%00b", "NUL or control character"},
        {"scp://u@h/a%0ab", "NUL or control character"},
        {"scp://u@h/a%zz", "two hex digits"},
        {"scp://u@h/a%4", "two hex digits"},
        {"scp://u%3ax@h/f", "invalid character ':' in the user name"},
        {"scp://u\x01@h/f", "NUL or control character"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct copy_url u;
        struct scpd_err err;
        if (parse(cases[i].url, &u, &err) == 0 || strstr(err.msg, cases[i].words) == NULL)
            fail_msg("%s: got '%s', wanted '%s'", cases[i].url, err.msg, cases[i].words);
    }
    /* a NUL byte inside the given length, and the length limits */
    struct copy_url u;
    struct scpd_err err = {0};
    assert_int_equal(copy_url_parse("scp://u@h/a\0b", 13, &u, &err), -1);
    assert_non_null(strstr(err.msg, "NUL byte"));
    char big[LIM_URL_LEN + 16];
    memset(big, 'a', sizeof(big));
    memcpy(big, "scp://u@h/", 10);
    assert_int_equal(copy_url_parse(big, sizeof(big), &u, &err), -1);
    assert_non_null(strstr(err.msg, "longer than"));
    char host[LIM_URL_HOST_LEN + 40];
    memset(host, 'h', sizeof(host));
    memcpy(host, "scp://", 6);
    memcpy(host + sizeof(host) - 3, "/f", 3);
    assert_int_equal(parse(host, &u, &err), -1);
    assert_non_null(strstr(err.msg, "host name too long"));
}

static void test_c_record(void **state)
{
    (void)state;
    unsigned mode = 0;
    uint64_t size = 0;
    struct scpd_err err = {0};
    const char *ok = "C0644 268435456 big.bin";
    assert_int_equal(copy_scp_c_record(ok, strlen(ok), &mode, &size, &err), 0);
    assert_int_equal(mode, 0644);
    assert_true(size == 268435456u);
    const char *bad[] = {"D0755 0 dir", "C0648 1 x", "C0644 x y", "C0644 1", "C0644 1 ",
                         "C0644 99999999999999999999999 x", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(copy_scp_c_record(bad[i], strlen(bad[i]), &mode, &size, &err), -1);
}

/* A local copy, step by step, and one abandoned half-way: nothing of it is left. */
static void test_local_copy_and_abandon(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_non_null(f);
    size_t n = 3u << 20;
    char *data = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    data[n] = '\0';
    fx_put(f, "src.bin", data);
    struct copy_plan p;
    struct scpd_err err = {0};
    struct store_who who = {.user = "tiger", .source = "cli", .peer = "127.0.0.1:1"};
    assert_int_equal(copy_plan(f->ifs, "bootflash:src.bin", "flash:", &p, &err), -1);
    assert_non_null(strstr(err.msg, "same file"));   /* into its own directory: itself */
    assert_int_equal(copy_plan(f->ifs, "bootflash:src.bin", "nvram:dst.bin", &p, &err), 0);
    assert_false(p.dst_exists);
    struct copy_job *j = copy_start(f->ifs, f->st, &p, &who, &err);
    assert_non_null(j);
    assert_int_equal(copy_step(j, 1u << 20, &err), COPY_MORE);   /* abandoned after 1 MiB */
    copy_free(j);
    assert_int_equal(fx_temps(f), 0);
    j = copy_start(f->ifs, f->st, &p, &who, &err);
    int rc;
    while ((rc = copy_step(j, 1u << 20, &err)) == COPY_MORE)
        ;
    assert_int_equal(rc, 0);
    assert_true(copy_bytes(j) == n && copy_size(j) == n);
    copy_free(j);
    char path[400];
    snprintf(path, sizeof(path), "%s/fs/nvram/dst.bin", f->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true((size_t)st.st_size == n);
    /* a directory as source, a missing source */
    assert_int_equal(copy_plan(f->ifs, "bootflash:", "nvram:x", &p, &err), -1);
    assert_int_equal(copy_plan(f->ifs, "bootflash:none", "nvram:x", &p, &err), -1);
    /* an invalid config onto running-config: refused whole at the commit, with its errors */
    fx_put(f, "bad.cfg", "hostname OK\nbogus line\n");
    assert_int_equal(copy_plan(f->ifs, "bootflash:bad.cfg", "running-config", &p, &err), 0);
    j = copy_start(f->ifs, f->st, &p, &who, &err);
    assert_non_null(j);
    assert_int_equal(copy_step(j, 1u << 20, &err), -1);
    assert_non_null(copy_detail(j));
    assert_non_null(strstr(copy_detail(j), "bogus"));
    copy_free(j);
    char *back = fx_get(f, "src.bin");
    assert_non_null(back);
    assert_memory_equal(back, data, 64);   /* fx_get reads a bounded prefix */
    free(back);
    assert_true(fx_entries(f->boot) >= 2);
    free(data);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_good),
        cmocka_unit_test(test_url_bad),
        cmocka_unit_test(test_c_record),
        cmocka_unit_test(test_local_copy_and_abandon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
