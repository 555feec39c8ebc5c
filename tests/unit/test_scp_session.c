/* Unit tests of daemon/scp_session: whole SCP sessions over a memory channel (the client's bytes
 * scripted up front, the server's replies captured) on a real temporary data directory and store:
 * uploads, downloads, -r trees, -p times, running-config merge, invalid config refused with the
 * store unchanged, hostile names, an oversize upload, an upload cut off half-way, symlinks out of
 * the root, the command-line parser, and the trace events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "tests/unit/ifs_fixture.h"
#include "daemon/scp_session.h"
#include "services/stats.h"
#include "services/trace.h"

/* ---- a memory channel ---------------------------------------------------------------------- */

struct mio {
    char errtext[4096];    /* what write_err received */
    char in[1 << 20];
    size_t inlen, inoff;
    size_t chunk;          /* largest read returned (exercises split records) */
    char *out;
    size_t outlen, outcap;
};

static ssize_t mio_read(void *ctx, void *buf, size_t cap)
{
    struct mio *m = ctx;
    size_t n = m->inlen - m->inoff;
    if (n > cap)
        n = cap;
    if (m->chunk && n > m->chunk)
        n = m->chunk;
    memcpy(buf, m->in + m->inoff, n);
    m->inoff += n;
    return (ssize_t)n;
}

static int mio_write(void *ctx, const void *buf, size_t len)
{
    struct mio *m = ctx;
    if (m->outlen + len + 1 > m->outcap) {
        m->outcap = (m->outlen + len + 1) * 2;
        m->out = realloc(m->out, m->outcap);
    }
    memcpy(m->out + m->outlen, buf, len);
    m->outlen += len;
    m->out[m->outlen] = '\0';
    return 0;
}

static int mio_write_err(void *ctx, const void *buf, size_t len)
{
    struct mio *m = ctx;
    size_t have = strlen(m->errtext);
    snprintf(m->errtext + have, sizeof(m->errtext) - have, "%.*s", (int)len, (const char *)buf);
    return 0;
}

static void put(struct mio *m, const void *b, size_t n)
{
    memcpy(m->in + m->inlen, b, n);
    m->inlen += n;
}

static void puts_(struct mio *m, const char *s)
{
    put(m, s, strlen(s));
}

/* A whole file as a well-behaved client sends it: C record, data, status byte. */
static void put_file(struct mio *m, const char *name, const char *content)
{
    char rec[300];
    snprintf(rec, sizeof(rec), "C0644 %zu %s\n", strlen(content), name);
    puts_(m, rec);
    puts_(m, content);
    put(m, "", 1);
}

struct t {
    struct fx *f;
    struct mio *m;
    struct trace *tr;
    struct stats *stats;
    struct chan_ctx ctx;
};

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof(*t));
    t->f = fx_new();
    t->m = calloc(1, sizeof(*t->m));
    t->tr = trace_new(256);
    trace_set(t->tr, true);
    t->stats = stats_new(t->f->st);
    t->ctx = (struct chan_ctx){.ifs = t->f->ifs, .store = t->f->st, .stats = t->stats,
                                      .trace = t->tr, .sid = 7, .user = "tiger",
                                      .peer = "127.0.0.1:5555", .privilege = 15};
    *state = t;
    return t->f ? 0 : -1;
}

static int teardown(void **state)
{
    struct t *t = *state;
    stats_free(t->stats);
    trace_free(t->tr);
    fx_free(t->f);
    free(t->m->out);
    free(t->m);
    free(t);
    return 0;
}

/* Runs "scp ARGS" with the scripted input; returns the exit status. name_checked: the client
 * checks the record name against its request (OpenSSH's scp), as ssh_session tells from the
 * client's banner. */
static int run_client(struct t *t, const char *cmdline, bool name_checked)
{
    struct scp_cmd cmd;
    struct scpd_err err = {0};
    struct chan_io io = {.ctx = t->m, .read = mio_read, .write = mio_write,
                        .write_err = mio_write_err};
    if (scp_cmd_parse(cmdline, &cmd, &err) < 0)
        fail_msg("%s: %s", cmdline, err.msg);
    cmd.name_checked = name_checked;
    t->ctx.ifs = t->f->ifs;
    return scp_session_run(&t->ctx, &cmd, &io);
}

static int run(struct t *t, const char *cmdline)
{
    return run_client(t, cmdline, false);
}

static bool trace_has(struct t *t, const char *text)
{
    struct trace_event ev[256];
    size_t n = trace_read(t->tr, 0, ev, 256, NULL);
    for (size_t i = 0; i < n; i++)
        if (strstr(ev[i].text, text))
            return true;
    return false;
}

/* ---- uploads -------------------------------------------------------------------------------- */

static void test_upload_into_dir(void **state)
{
    struct t *t = *state;
    puts_(t->m, "C0644 5 hello.txt\n");
    put(t->m, "hello\0", 6);
    t->m->chunk = 3;
    assert_int_equal(run(t, "scp -t bootflash:"), 0);
    assert_int_equal(t->m->outlen, 3);
    assert_memory_equal(t->m->out, "\0\0\0", 3);
    char *s = fx_get(t->f, "hello.txt");
    assert_string_equal(s, "hello");
    free(s);
    assert_true(trace_has(t, "start user tiger command scp -t bootflash:"));
    assert_true(trace_has(t, "recv C0644 5 hello.txt"));
    assert_true(trace_has(t, "send <OK>"));
    assert_true(trace_has(t, "end 5 bytes, ok"));
    assert_int_equal(stats_get(t->stats, STATS_XFER_IN_OK), 1);
}

static void test_upload_to_name_with_times(void **state)
{
    struct t *t = *state;
    struct stat sb;
    char p[600];
    puts_(t->m, "T1600000000 0 1600000100 0\nC0600 3 whatever\nabc");
    put(t->m, "", 1);
    assert_int_equal(run(t, "scp -p -t -- 'bootflash:new name.bin'"), 0);
    assert_memory_equal(t->m->out, "\0\0\0\0", 4);
    snprintf(p, sizeof(p), "%s/new name.bin", t->f->boot);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_size, 3);
    assert_int_equal(sb.st_mtime, 1600000000);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_upload_tree(void **state)
{
    struct t *t = *state;
    struct stat sb;
    char p[600];
    puts_(t->m, "T1500000000 0 1500000000 0\nD0755 0 top\nC0644 1 a\nA");
    put(t->m, "", 1);
    puts_(t->m, "D0700 0 sub\nC0644 2 b\nBB");
    put(t->m, "", 1);
    puts_(t->m, "E\nE\n");
    assert_int_equal(run(t, "scp -r -p -t bootflash:"), 0);
    char *s = fx_get(t->f, "top/a");
    assert_string_equal(s, "A");
    free(s);
    s = fx_get(t->f, "top/sub/b");
    assert_string_equal(s, "BB");
    free(s);
    snprintf(p, sizeof(p), "%s/top", t->f->boot);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mtime, 1500000000);   /* set at E, after the contents */
    /* every record acknowledged: start + T + D + C + file + D + C + file + E + E */
    assert_int_equal(t->m->outlen, 10);
}

static void test_running_config_merge(void **state)
{
    struct t *t = *state;
    put_file(t->m, "running-config", "hostname EDGE1\n");
    assert_int_equal(run(t, "scp -t running-config"), 0);
    const struct store_snap *snap = store_snapshot(t->f->st);
    assert_string_equal(snap->cfg->hostname, "EDGE1");
    assert_true(snap->cfg->scp_enable);
    store_snap_release(snap);
}

static void test_invalid_config_refused(void **state)
{
    struct t *t = *state;
    uint64_t v = store_version(t->f->st);
    put_file(t->m, "x.cfg", "hostname X\nip ssh time-out 500\nbogus line\n");
    assert_int_equal(run(t, "scp -t system:running-config"), 1);
    /* start ok, record ok, then one error line naming the lines and reasons */
    assert_memory_equal(t->m->out, "\0\0\x01scp: %Error copying to running-config", 40);
    assert_non_null(strstr(t->m->out + 2, "line 2"));
    assert_non_null(strstr(t->m->out + 2, "line 3"));
    assert_int_equal(t->m->out[t->m->outlen - 1], '\n');
    assert_null(memchr(t->m->out + 2, '\n', t->m->outlen - 3));   /* one line */
    /* the full IOS marker form on the terminal (stderr) */
    assert_non_null(strstr(t->m->errtext, "line 2: ip ssh time-out 500\n"));
    assert_non_null(strstr(t->m->errtext, "^\n% Invalid input detected at '^' marker"));
    assert_int_equal(store_version(t->f->st), v);
    const struct store_snap *snap = store_snapshot(t->f->st);
    assert_string_equal(snap->cfg->hostname, "R1");
    store_snap_release(snap);
}

static void test_startup_config_replace(void **state)
{
    struct t *t = *state;
    put_file(t->m, "startup-config", "hostname BOOT\n");
    assert_int_equal(run(t, "scp -t startup-config"), 0);
    char *text = store_startup_get(t->f->st, NULL, NULL);
    assert_non_null(strstr(text, "hostname BOOT"));
    free(text);
    /* into nvram: under its own name, as scp -O file host:nvram: sends it */
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    put_file(t->m, "startup-config", "hostname NV\n");
    assert_int_equal(run(t, "scp -t nvram:"), 0);
    text = store_startup_get(t->f->st, NULL, NULL);
    assert_non_null(strstr(text, "hostname NV"));
    free(text);
    /* and back with -r: the listing of nvram: holds it */
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    for (int i = 0; i < 8; i++)
        put(t->m, "", 1);
    assert_int_equal(run(t, "scp -r -f nvram:"), 0);
    assert_non_null(strstr(t->m->out, "D0700 0 nvram\nC0644 "));
    assert_non_null(strstr(t->m->out, " startup-config\n"));
    assert_non_null(strstr(t->m->out, "hostname NV\n"));
}

static const struct {
    const char *record;
    const char *why;
} hostile[] = {
    {"C0644 1 ../evil\n", "'/'"},
    {"C0644 1 ..\n", "'..'"},
    {"C0644 1 a/b\n", "'/'"},
    {"C0644 1 /etc/passwd\n", "'/'"},
    {"C0644 1 a\rb\n", "control character"},
    {"C0644 99999999999999999999 x\n", "bad size"},
    {"C0644 -5 x\n", "bad size"},
    {"Cgarbage\n", "bad mode"},
    {"D0755 0 d\n", "without -r"},
    {"\x7f\x45LF\n", "unknown record"},
};

static void test_hostile_records(void **state)
{
    struct t *t = *state;
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        t->m->inlen = t->m->inoff = t->m->outlen = 0;
        puts_(t->m, hostile[i].record);
        puts_(t->m, "x");
        put(t->m, "", 1);
        assert_int_equal(run(t, "scp -t bootflash:"), 1);
        /* \0 to start, then a fatal \2 line with the reason */
        if (t->m->outlen < 3 || t->m->out[1] != 2 || !strstr(t->m->out + 2, hostile[i].why))
            fail_msg("%s: reply '%s'", hostile[i].record, t->m->outlen > 2 ? t->m->out + 2 : "");
    }
    assert_int_equal(fx_entries(t->f->boot), 0);
    assert_int_equal(fx_entries(t->f->outside), 0);
    assert_int_equal(fx_temps(t->f), 0);
}

static void test_depth_bomb(void **state)
{
    struct t *t = *state;
    for (int i = 0; i < LIM_SCP_DEPTH + 5; i++)
        puts_(t->m, "D0755 0 d\n");
    assert_int_equal(run(t, "scp -r -t bootflash:"), 1);
    assert_non_null(strstr(t->m->out + LIM_SCP_DEPTH + 1, "deeper"));
}

static void test_oversize_upload(void **state)
{
    struct t *t = *state;
    struct scpd_err err = {0};
    assert_int_equal(ifs_set_limit(t->f->ifs, "bootflash", 1000, &err), 0);
    /* refused with \1 before any data; the client goes on with the next file */
    puts_(t->m, "C0644 5000 big.bin\nC0644 2 ok.bin\nok");
    put(t->m, "", 1);
    assert_int_equal(run(t, "scp -t bootflash:"), 1);
    assert_memory_equal(t->m->out, "\0\x01scp: %Error copying bootflash:big.bin (not enough space",
                        57);
    char *s = fx_get(t->f, "ok.bin");
    assert_string_equal(s, "ok");
    free(s);
    assert_null(fx_get(t->f, "big.bin"));
    assert_int_equal(fx_temps(t->f), 0);
    /* the refusal is a transfer of its own in the statistics, beside the good one */
    assert_int_equal(stats_get(t->stats, STATS_XFER_IN_FAILED), 1);
    assert_int_equal(stats_get(t->stats, STATS_XFER_IN_OK), 1);
    assert_int_equal(stats_get(t->stats, STATS_REFUSED_OTHER), 1);
}

static void test_cut_off_upload(void **state)
{
    struct t *t = *state;
    fx_put(t->f, "image.bin", "old image");
    puts_(t->m, "C0644 100 image.bin\n0123456789");   /* 10 of 100 bytes, then EOF */
    assert_int_equal(run(t, "scp -t bootflash:"), 1);
    char *s = fx_get(t->f, "image.bin");
    assert_string_equal(s, "old image");
    free(s);
    assert_int_equal(fx_temps(t->f), 0);
    assert_true(trace_has(t, "failed"));
    /* a client that reports an error after the data: not committed either */
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    puts_(t->m, "C0644 3 image.bin\nnew\x01scp: read error\n");
    assert_int_equal(run(t, "scp -t bootflash:"), 1);
    s = fx_get(t->f, "image.bin");
    assert_string_equal(s, "old image");
    free(s);
    assert_int_equal(fx_temps(t->f), 0);
}

/* A write that fails half-way (here: a file size limit): the rest of the data is read to stay in
 * step, the error is the reply after the data, the old file stays and no temporary is left. */
static void test_write_error_mid_file(void **state)
{
    struct t *t = *state;
    struct rlimit old, lim = {.rlim_cur = 300000, .rlim_max = RLIM_INFINITY};
    static char big[400000];
    memset(big, 'z', sizeof(big));
    fx_put(t->f, "w.bin", "old");
    puts_(t->m, "C0644 400000 w.bin\n");
    put(t->m, big, sizeof(big));
    put(t->m, "", 1);
    put_file(t->m, "next.txt", "next");   /* the session goes on */
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old);
    lim.rlim_max = old.rlim_max;
    setrlimit(RLIMIT_FSIZE, &lim);
    int status = run(t, "scp -t bootflash:");
    setrlimit(RLIMIT_FSIZE, &old);
    assert_int_equal(status, 1);
    assert_memory_equal(t->m->out, "\0\0\x01scp: %Error writing bootflash:w.bin (File too large)\n",
                        56);
    assert_memory_equal(t->m->out + 56, "\0\0", 2);
    char *s = fx_get(t->f, "w.bin");
    assert_string_equal(s, "old");
    free(s);
    s = fx_get(t->f, "next.txt");
    assert_string_equal(s, "next");
    free(s);
    assert_int_equal(fx_temps(t->f), 0);
}

/* libssh2 (curl) ends an upload with EOF instead of the status byte, and a download likewise: the
 * data is complete, so both count as done. */
static void test_libssh2_eof_endings(void **state)
{
    struct t *t = *state;
    puts_(t->m, "C0644 4 curl.txt\ndata");
    assert_int_equal(run(t, "scp -t 'bootflash:curl.txt'"), 0);
    char *s = fx_get(t->f, "curl.txt");
    assert_string_equal(s, "data");
    free(s);
    assert_true(trace_has(t, "recv <EOF> after the data"));
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    put(t->m, "\0\0", 2);
    assert_int_equal(run(t, "scp -f bootflash:/curl.txt"), 0);
    assert_memory_equal(t->m->out, "C0644 4 curl.txt\ndata\0", 22);
    /* but not when more was to come: -r with two files, EOF after the first */
    fx_put(t->f, "d1", "");
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    char p[600];
    snprintf(p, sizeof(p), "%s/dir", t->f->boot);
    mkdir(p, 0755);
    fx_put(t->f, "dir/a", "a");
    fx_put(t->f, "dir/b", "b");
    put(t->m, "\0\0\0", 3);   /* start, D, C a; then EOF instead of the ack of a */
    assert_int_equal(run(t, "scp -r -f bootflash:dir"), 1);
}

static void test_symlink_out_of_root(void **state)
{
    struct t *t = *state;
    char link[600];
    snprintf(link, sizeof(link), "%s/out", t->f->boot);
    assert_int_equal(symlink(t->f->outside, link), 0);
    puts_(t->m, "C0644 1 x\nx");
    put(t->m, "", 1);
    assert_int_equal(run(t, "scp -t bootflash:out"), 1);
    assert_non_null(strstr(t->m->out, "symbolic link"));
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    puts_(t->m, "C0644 1 out\n");    /* refused: the client sends no data */
    assert_int_equal(run(t, "scp -t bootflash:"), 1);
    assert_int_equal(t->m->out[0], 0);
    assert_int_equal(t->m->out[1], 1);
    assert_non_null(strstr(t->m->out + 1, "symbolic link"));
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    put(t->m, "\0\0\0\0", 4);
    assert_int_equal(run(t, "scp -r -f bootflash:out"), 1);
    assert_non_null(strstr(t->m->out, "symbolic link"));
    assert_int_equal(fx_entries(t->f->outside), 0);
    assert_true(stats_get(t->stats, STATS_REFUSED_PATH) >= 3);
}

static void test_path_escape_target(void **state)
{
    struct t *t = *state;
    assert_int_equal(run(t, "scp -t ../x"), 1);
    assert_memory_equal(t->m->out, "\x01scp: %Error opening ../x ('..' is not allowed)\n", 48);
    t->m->outlen = 0;
    assert_int_equal(run(t, "scp -t /etc"), 1);
    assert_non_null(strstr(t->m->out, "absolute host path"));
    t->m->outlen = 0;
    assert_int_equal(run(t, "scp -t foo:x"), 1);
    assert_non_null(strstr(t->m->out, "Invalid file system"));
    t->m->outlen = 0;
    assert_int_equal(run(t, "scp -d -t bootflash:nodir"), 1);
    assert_non_null(strstr(t->m->out, "not a directory"));
}

/* ---- downloads ------------------------------------------------------------------------------ */

static void test_download_file(void **state)
{
    struct t *t = *state;
    fx_put(t->f, "cfg.txt", "abcdef");
    put(t->m, "\0\0\0", 3);
    assert_int_equal(run(t, "scp -f bootflash:/cfg.txt"), 0);
    const char want[] = "C0644 6 cfg.txt\nabcdef";
    assert_int_equal(t->m->outlen, sizeof(want));   /* + the \0 after the data */
    assert_memory_equal(t->m->out, want, sizeof(want));
    /* the name is the file's own, without the file system or directories */
    static const char *const reqs[] = {"scp -f bootflash:cfg.txt", "scp -f flash:cfg.txt",
                                       "scp -f cfg.txt", "scp -f bootflash:/./cfg.txt"};
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        t->m->inlen = t->m->inoff = t->m->outlen = 0;
        put(t->m, "\0\0\0", 3);
        assert_int_equal(run(t, reqs[i]), 0);
        assert_memory_equal(t->m->out, "C0644 6 cfg.txt\n", 16);
    }
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    put(t->m, "\0\0\0", 3);
    assert_int_equal(run(t, "scp -f running-config"), 0);
    assert_int_equal(memcmp(t->m->out, "C0644 ", 6), 0);
    assert_non_null(strstr(t->m->out, " running-config\n"));
    /* a client that checks the name gets the last '/'-component of its request, as OpenSSH's
     * scp checks it ("filename does not match request") */
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    put(t->m, "\0\0\0", 3);
    assert_int_equal(run_client(t, "scp -f bootflash:cfg.txt", true), 0);
    assert_memory_equal(t->m->out, "C0644 6 bootflash:cfg.txt\n", 26);
    assert_true(trace_has(t, "send C0644 6 cfg.txt"));
    assert_true(trace_has(t, "recv <OK>"));
}

static void test_download_tree_preserve(void **state)
{
    struct t *t = *state;
    char p[600];
    snprintf(p, sizeof(p), "%s/d", t->f->boot);
    mkdir(p, 0755);
    fx_put(t->f, "d/one", "1");
    fx_put(t->f, "d/two", "22");
    struct timespec ts[2] = {{.tv_sec = 1400000000}, {.tv_sec = 1400000000}};
    snprintf(p, sizeof(p), "%s/d/one", t->f->boot);
    utimensat(AT_FDCWD, p, ts, 0);
    chmod(p, 0640);
    snprintf(p, sizeof(p), "%s/d/two", t->f->boot);
    utimensat(AT_FDCWD, p, ts, 0);
    chmod(p, 0644);
    snprintf(p, sizeof(p), "%s/d", t->f->boot);
    utimensat(AT_FDCWD, p, ts, 0);
    for (int i = 0; i < 20; i++)
        put(t->m, "", 1);
    assert_int_equal(run(t, "scp -r -p -f bootflash:d"), 0);
    const char want[] = "T1400000000 0 1400000000 0\nD0755 0 d\n"
                        "T1400000000 0 1400000000 0\nC0640 1 one\n1\0"
                        "T1400000000 0 1400000000 0\nC0644 2 two\n22\0"
                        "E\n";
    assert_int_equal(t->m->outlen, sizeof(want) - 1);
    assert_memory_equal(t->m->out, want, sizeof(want) - 1);
}

static void test_download_errors(void **state)
{
    struct t *t = *state;
    char p[600];
    put(t->m, "\0", 1);
    assert_int_equal(run(t, "scp -f bootflash:missing"), 1);
    assert_non_null(strstr(t->m->out, "\x01scp: %Error opening bootflash:missing (No such file"));
    snprintf(p, sizeof(p), "%s/d", t->f->boot);
    mkdir(p, 0755);
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    put(t->m, "\0", 1);
    assert_int_equal(run(t, "scp -f bootflash:d"), 1);
    assert_non_null(strstr(t->m->out, "use scp -r"));
    /* the client refuses the file: no data is sent */
    fx_put(t->f, "f", "data");
    t->m->inlen = t->m->inoff = t->m->outlen = 0;
    put(t->m, "\0\x01scp: f: Permission denied\n", 28);
    assert_int_equal(run(t, "scp -f flash:/f"), 1);
    assert_string_equal(t->m->out, "C0644 4 f\n");
}

static void test_download_running_config(void **state)
{
    struct t *t = *state;
    put(t->m, "\0\0\0", 3);
    assert_int_equal(run(t, "scp -f running-config"), 0);
    assert_memory_equal(t->m->out, "C0644 ", 6);
    char *nl = strchr(t->m->out, '\n');
    assert_non_null(nl);
    assert_memory_equal(nl - 15, " running-config", 15);
    assert_non_null(strstr(nl, "Building configuration..."));
    assert_non_null(strstr(nl, "ip scp server enable"));
    /* the announced size is exact */
    unsigned long size = strtoul(t->m->out + 6, NULL, 10);
    assert_int_equal(t->m->outlen - (size_t)(nl + 1 - t->m->out) - 1, size);
}

/* ---- command line and refusals -------------------------------------------------------------- */

static void test_cmd_parse(void **state)
{
    struct scp_cmd c;
    struct scpd_err err = {0};
    assert_int_equal(scp_cmd_parse("scp -t -- 'bootflash:a b'", &c, &err), 0);
    assert_true(c.sink);
    assert_string_equal(c.path, "bootflash:a b");
    assert_int_equal(scp_cmd_parse("scp -v -r -p -t bootflash:", &c, &err), 0);
    assert_true(c.verbose && c.recursive && c.preserve && c.sink && !c.source);
    assert_int_equal(scp_cmd_parse("scp -f \"flash:x \\\"y\\\"\"", &c, &err), 0);
    assert_true(c.source);
    assert_string_equal(c.path, "flash:x \"y\"");
    assert_int_equal(scp_cmd_parse("scp -rpf a\\ b", &c, &err), 0);
    assert_string_equal(c.path, "a b");
    assert_true(c.recursive && c.preserve && c.source);
    assert_int_equal(scp_cmd_parse("/usr/bin/scp -d -t -- -dash", &c, &err), 0);
    assert_string_equal(c.path, "-dash");
    assert_true(c.target_dir);
    /* OpenSSH scp -O and pscp send the path unquoted: the rest of the line, spaces included */
    assert_int_equal(scp_cmd_parse("scp -t bootflash:x  y.txt ", &c, &err), 0);
    assert_string_equal(c.path, "bootflash:x  y.txt");
    assert_int_equal(scp_cmd_parse("scp -t -- -x y", &c, &err), 0);
    assert_string_equal(c.path, "-x y");
    assert_int_equal(scp_cmd_parse("scp -q -t 'it'\\''s'", &c, &err), 0);
    assert_string_equal(c.path, "it's");
    const char *bad[] = {"ls -l", "scp", "scp -t", "scp -x -t a", "scp -t -f a", "scp a",
                         "scp -t 'a' b", "scp -t 'open", "scp -t \"open", "", "scpx -t a",
                         "scp -t a\\"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (scp_cmd_parse(bad[i], &c, &err) == 0)
            fail_msg("'%s' accepted", bad[i]);
    char longcmd[LIM_SCP_COMMAND_LEN + 10];
    memset(longcmd, 'a', sizeof(longcmd));
    memcpy(longcmd, "scp -t ", 7);
    longcmd[sizeof(longcmd) - 1] = '\0';
    assert_int_equal(scp_cmd_parse(longcmd, &c, &err), -1);
}

static void test_refusal(void **state)
{
    struct t *t = *state;
    struct chan_io io = {.ctx = t->m, .read = mio_read, .write = mio_write};
    assert_int_equal(scp_send_refusal(&io, "privilege level 15 required\n(you have 1)"), 0);
    assert_string_equal(t->m->out, "\x01scp: privilege level 15 required?(you have 1)\n");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_upload_into_dir),
        T(test_upload_to_name_with_times),
        T(test_upload_tree),
        T(test_running_config_merge),
        T(test_invalid_config_refused),
        T(test_startup_config_replace),
        T(test_hostile_records),
        T(test_depth_bomb),
        T(test_oversize_upload),
        T(test_cut_off_upload),
        T(test_write_error_mid_file),
        T(test_libssh2_eof_endings),
        T(test_symlink_out_of_root),
        T(test_path_escape_target),
        T(test_download_file),
        T(test_download_tree_preserve),
        T(test_download_errors),
        T(test_download_running_config),
        cmocka_unit_test(test_cmd_parse),
        T(test_refusal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
