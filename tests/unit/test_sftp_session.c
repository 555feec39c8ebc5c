/* Unit tests of daemon/sftp_session: whole SFTP sessions over a socketpair (the session on a
 * thread, the test as the client, request by request) on a real temporary data directory and
 * store: uploads (out of order, atomic at CLOSE, discarded without CLOSE), pipelined and
 * out-of-order downloads, running-config both ways and an invalid one refused with the store
 * unchanged, listings, directories, the operations the IFS does not offer, path escapes and
 * symlinks, the handle limit, the space limit, protocol violations, extensions, statistics and
 * trace events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "tests/unit/ifs_fixture.h"
#include "daemon/sftp_proto.h"
#include "daemon/sftp_session.h"
#include "services/stats.h"
#include "store/store.h"
#include "services/trace.h"

/* ---- the channel: one end of a socketpair ------------------------------------------------------
 */

struct chan {
    int fd;
    char err[8192]; /* what write_err received (the channel's stderr) */
    size_t errlen;
};

static ssize_t ch_read(void *ctx, void *buf, size_t cap)
{
    struct chan *c = ctx;
    ssize_t n;
    while ((n = read(c->fd, buf, cap)) < 0 && errno == EINTR)
        ;
    return n;
}

static int ch_write(void *ctx, const void *buf, size_t len)
{
    struct chan *c = ctx;
    const char *p = buf;
    while (len) {
        ssize_t n = write(c->fd, p, len);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int ch_write_err(void *ctx, const void *buf, size_t len)
{
    struct chan *c = ctx;
    size_t n = len < sizeof(c->err) - 1 - c->errlen ? len : sizeof(c->err) - 1 - c->errlen;
    memcpy(c->err + c->errlen, buf, n);
    c->errlen += n;
    c->err[c->errlen] = '\0';
    return 0;
}

struct t {
    struct fx *f;
    struct trace *tr;
    struct stats *stats;
    struct chan_ctx ctx;
    struct chan server;
    struct chan_io io;
    int cfd; /* the client's end */
    pthread_t th;
    int rc;
    bool running;
    uint32_t id;
};

static void *server_main(void *arg)
{
    struct t *t = arg;
    t->rc = sftp_session_run(&t->ctx, &t->io);
    close(t->server.fd);
    return NULL;
}

static void start(struct t *t)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    t->server.fd = sv[0];
    t->cfd = sv[1];
    t->io = (struct chan_io){
        .ctx = &t->server, .read = ch_read, .write = ch_write, .write_err = ch_write_err};
    assert_int_equal(pthread_create(&t->th, NULL, server_main, t), 0);
    t->running = true;
}

/* Closes the client's end and waits for the session; returns its exit status. */
static int stop(struct t *t)
{
    if (!t->running)
        return t->rc;
    shutdown(t->cfd, SHUT_WR);
    pthread_join(t->th, NULL);
    close(t->cfd);
    t->running = false;
    return t->rc;
}

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof(*t));
    t->f = fx_new();
    t->tr = trace_new(1024);
    trace_set(t->tr, true);
    t->stats = stats_new(t->f->st);
    t->ctx = (struct chan_ctx){.ifs = t->f->ifs,
                                      .store = t->f->st,
                                      .stats = t->stats,
                                      .trace = t->tr,
                                      .sid = 9,
                                      .user = "tiger",
                                      .peer = "127.0.0.1:6000",
                                      .privilege = 15};
    *state = t;
    start(t);
    return t->f ? 0 : -1;
}

static int teardown(void **state)
{
    struct t *t = *state;
    stop(t);
    stats_free(t->stats);
    trace_free(t->tr);
    fx_free(t->f);
    free(t);
    return 0;
}

/* ---- the client -------------------------------------------------------------------------------
 */

struct msg {
    uint8_t b[LIM_SFTP_PACKET + 64];
    size_t len, off;
};

static void m_u8(struct msg *m, uint8_t v)
{
    m->b[m->len++] = v;
}

static void m_u32(struct msg *m, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        m_u8(m, (uint8_t)(v >> (8 * i)));
}

static void m_u64(struct msg *m, uint64_t v)
{
    m_u32(m, (uint32_t)(v >> 32));
    m_u32(m, (uint32_t)v);
}

static void m_bytes(struct msg *m, const void *p, size_t n)
{
    m_u32(m, (uint32_t)n);
    memcpy(m->b + m->len, p, n);
    m->len += n;
}

static void m_str(struct msg *m, const char *s)
{
    m_bytes(m, s, strlen(s));
}

/* Starts a request; returns its id. */
static uint32_t m_begin(struct t *t, struct msg *m, uint8_t type)
{
    m->len = 0;
    m_u32(m, 0);
    m_u8(m, type);
    m_u32(m, ++t->id);
    return t->id;
}

static void m_send(struct t *t, struct msg *m)
{
    uint32_t n = (uint32_t)(m->len - 4);
    m->b[0] = (uint8_t)(n >> 24);
    m->b[1] = (uint8_t)(n >> 16);
    m->b[2] = (uint8_t)(n >> 8);
    m->b[3] = (uint8_t)n;
    struct chan c = {.fd = t->cfd};
    assert_int_equal(ch_write(&c, m->b, m->len), 0);
}

static void read_full(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            fail_msg("the session closed the channel");
        p += r;
        n -= (size_t)r;
    }
}

static uint32_t g_u32(struct msg *m)
{
    assert_true(m->len - m->off >= 4);
    const uint8_t *b = m->b + m->off;
    m->off += 4;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t g_u64(struct msg *m)
{
    uint64_t hi = g_u32(m);
    return hi << 32 | g_u32(m);
}

/* A string into buf (NUL-terminated, truncated to cap); returns its length. */
static size_t g_str(struct msg *m, char *buf, size_t cap)
{
    uint32_t n = g_u32(m);
    assert_true(n <= m->len - m->off);
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(buf, m->b + m->off, k);
    buf[k] = '\0';
    m->off += n;
    return n;
}

/* Reads one reply; returns its type; m->off points after the id. */
static uint8_t m_recv(struct t *t, struct msg *m, uint32_t want_id)
{
    uint8_t h[4];
    read_full(t->cfd, h, 4);
    uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    assert_true(n >= 5 && n <= sizeof(m->b));
    read_full(t->cfd, m->b, n);
    m->len = n;
    m->off = 1;
    uint8_t type = m->b[0];
    if (type != SFTP_VERSION_REPLY)
        assert_int_equal(g_u32(m), want_id);
    return type;
}

struct status {
    uint32_t code;
    char msg[512];
};

/* The reply must be a STATUS. */
static struct status expect_status(struct t *t, uint32_t id)
{
    struct msg *m = calloc(1, sizeof(*m));
    struct status st = {0};
    assert_int_equal(m_recv(t, m, id), SFTP_STATUS);
    st.code = g_u32(m);
    g_str(m, st.msg, sizeof(st.msg));
    free(m);
    return st;
}

static void init(struct t *t)
{
    struct msg *m = calloc(1, sizeof(*m));
    m->len = 0;
    m_u32(m, 0);
    m_u8(m, SFTP_INIT);
    m_u32(m, 3);
    m_send(t, m);
    assert_int_equal(m_recv(t, m, 0), SFTP_VERSION_REPLY);
    assert_int_equal(g_u32(m), 3);
    char name[64], value[16];
    g_str(m, name, sizeof(name));
    g_str(m, value, sizeof(value));
    assert_string_equal(name, "limits@openssh.com");
    free(m);
}

struct handle {
    uint8_t b[LIM_SFTP_HANDLE_LEN];
    size_t len;
};

/* OPEN or OPENDIR: 0 with the handle, or the failure status code (msg into *st if given). */
static uint32_t open_(struct t *t, uint8_t type, const char *path, uint32_t pflags, uint32_t perm,
                      struct handle *h, struct status *st)
{
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, type);
    m_str(m, path);
    if (type == SFTP_OPEN) {
        m_u32(m, pflags);
        m_u32(m, perm ? SFTP_ATTR_PERMISSIONS : 0);
        if (perm)
            m_u32(m, perm);
    }
    m_send(t, m);
    uint8_t rt = m_recv(t, m, id);
    uint32_t code = 0;
    if (rt == SFTP_HANDLE) {
        char tmp[LIM_SFTP_HANDLE_LEN + 1];
        h->len = g_str(m, tmp, sizeof(tmp));
        memcpy(h->b, tmp, h->len);
    } else {
        assert_int_equal(rt, SFTP_STATUS);
        code = g_u32(m);
        struct status s = {.code = code};
        g_str(m, s.msg, sizeof(s.msg));
        if (st)
            *st = s;
        assert_int_not_equal(code, SFTP_FX_OK);
    }
    free(m);
    return code;
}

static uint32_t open_file(struct t *t, const char *path, uint32_t pflags, struct handle *h)
{
    return open_(t, SFTP_OPEN, path, pflags, 0, h, NULL);
}

static uint32_t req_write(struct t *t, const struct handle *h, uint64_t off, const void *d,
                          size_t n)
{
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, SFTP_WRITE);
    m_bytes(m, h->b, h->len);
    m_u64(m, off);
    m_bytes(m, d, n);
    m_send(t, m);
    free(m);
    return id;
}

static uint32_t do_write(struct t *t, const struct handle *h, uint64_t off, const char *d)
{
    return expect_status(t, req_write(t, h, off, d, strlen(d))).code;
}

static uint32_t req_handle(struct t *t, uint8_t type, const struct handle *h)
{
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, type);
    m_bytes(m, h->b, h->len);
    m_send(t, m);
    free(m);
    return id;
}

static struct status do_close(struct t *t, const struct handle *h)
{
    return expect_status(t, req_handle(t, SFTP_CLOSE, h));
}

static uint32_t req_read(struct t *t, const struct handle *h, uint64_t off, uint32_t len)
{
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, SFTP_READ);
    m_bytes(m, h->b, h->len);
    m_u64(m, off);
    m_u32(m, len);
    m_send(t, m);
    free(m);
    return id;
}

/* The reply of a READ: bytes into out (-1 for EOF). */
static long read_reply(struct t *t, uint32_t id, char *out, size_t cap)
{
    struct msg *m = calloc(1, sizeof(*m));
    long r;
    uint8_t type = m_recv(t, m, id);
    if (type == SFTP_STATUS) {
        assert_int_equal(g_u32(m), SFTP_FX_EOF);
        r = -1;
    } else {
        assert_int_equal(type, SFTP_DATA);
        r = (long)g_str(m, out, cap);
    }
    free(m);
    return r;
}

/* A path request with no further fields (STAT, REMOVE, RMDIR, ...): the STATUS. */
static struct status path_req(struct t *t, uint8_t type, const char *path)
{
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, type);
    m_str(m, path);
    if (type == SFTP_MKDIR)
        m_u32(m, 0);
    if (type == SFTP_RENAME)
        m_str(m, "/other");
    m_send(t, m);
    free(m);
    return expect_status(t, id);
}

/* STAT: 0 with the attributes, or the status code. */
static uint32_t stat_(struct t *t, const char *path, struct sftp_attrs *a)
{
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, SFTP_STAT), code = 0;
    m_str(m, path);
    m_send(t, m);
    uint8_t type = m_recv(t, m, id);
    if (type == SFTP_ATTRS) {
        memset(a, 0, sizeof(*a));
        a->flags = g_u32(m);
        assert_true(a->flags & SFTP_ATTR_SIZE);
        a->size = g_u64(m);
        assert_true(a->flags & SFTP_ATTR_PERMISSIONS);
        a->perm = g_u32(m);
        assert_true(a->flags & SFTP_ATTR_ACMODTIME);
        a->atime = g_u32(m);
        a->mtime = g_u32(m);
    } else {
        assert_int_equal(type, SFTP_STATUS);
        code = g_u32(m);
    }
    free(m);
    return code;
}

static void realpath_(struct t *t, const char *path, char *out, size_t cap)
{
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, SFTP_REALPATH);
    m_str(m, path);
    m_send(t, m);
    assert_int_equal(m_recv(t, m, id), SFTP_NAME);
    assert_int_equal(g_u32(m), 1);
    g_str(m, out, cap);
    free(m);
}

/* The names of a directory (READDIR until EOF), space-separated, and the longname of the first. */
static void list_dir(struct t *t, const char *path, char *names, size_t cap, char *first_long)
{
    struct handle h;
    struct msg *m = calloc(1, sizeof(*m));
    names[0] = '\0';
    first_long[0] = '\0';
    assert_int_equal(open_(t, SFTP_OPENDIR, path, 0, 0, &h, NULL), 0);
    for (;;) {
        uint32_t id = req_handle(t, SFTP_READDIR, &h);
        uint8_t type = m_recv(t, m, id);
        if (type == SFTP_STATUS) {
            assert_int_equal(g_u32(m), SFTP_FX_EOF);
            break;
        }
        assert_int_equal(type, SFTP_NAME);
        uint32_t count = g_u32(m);
        for (uint32_t i = 0; i < count; i++) {
            char name[300], lname[400];
            g_str(m, name, sizeof(name));
            g_str(m, lname, sizeof(lname));
            assert_int_equal(g_u32(m),
                             SFTP_ATTR_SIZE | SFTP_ATTR_PERMISSIONS | SFTP_ATTR_ACMODTIME);
            g_u64(m);
            g_u32(m);
            g_u32(m);
            g_u32(m);
            if (!first_long[0])
                snprintf(first_long, 400, "%s", lname);
            size_t have = strlen(names);
            snprintf(names + have, cap - have, "%s%s", have ? " " : "", name);
        }
    }
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
    free(m);
}

static bool trace_has(struct t *t, const char *text)
{
    struct trace_event *ev = calloc(1024, sizeof(*ev));
    size_t n = trace_read(t->tr, 0, ev, 1024, NULL);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = strstr(ev[i].text, text) != NULL;
    free(ev);
    return found;
}

static int trace_count(struct t *t, const char *text)
{
    struct trace_event *ev = calloc(1024, sizeof(*ev));
    size_t n = trace_read(t->tr, 0, ev, 1024, NULL);
    int count = 0;
    for (size_t i = 0; i < n; i++)
        count += strstr(ev[i].text, text) != NULL;
    free(ev);
    return count;
}

static char *cfg_text(struct t *t)
{
    struct ifs_path p;
    struct scpd_err err = {0};
    struct ifs_stat st;
    assert_int_equal(ifs_resolve("running-config", &p, &err), 0);
    struct ifs_reader *r = ifs_read_open(t->f->ifs, &p, &st, &err);
    assert_non_null(r);
    char *buf = calloc(1, st.size + 1);
    assert_int_equal(ifs_read(r, buf, st.size, &err), (ssize_t)st.size);
    ifs_read_close(r);
    return buf;
}

/* ---- tests -------------------------------------------------------------------------------------
 */

static void test_upload_atomic_out_of_order(void **state)
{
    struct t *t = *state;
    struct handle h;
    init(t);
    fx_put(t->f, "x.bin", "old content");
    assert_int_equal(open_(t, SFTP_OPEN, "/x.bin", SFTP_FXF_WRITE | SFTP_FXF_CREAT | SFTP_FXF_TRUNC,
                           0600, &h, NULL),
                     0);
    /* pipelined, the second block first */
    uint32_t a = req_write(t, &h, 6, "world", 5);
    uint32_t b = req_write(t, &h, 0, "hello ", 6);
    assert_int_equal(expect_status(t, a).code, SFTP_FX_OK);
    assert_int_equal(expect_status(t, b).code, SFTP_FX_OK);
    /* nothing visible before CLOSE, but the live transfer shows the bytes as they arrive */
    char *s = fx_get(t->f, "x.bin");
    assert_string_equal(s, "old content");
    free(s);
    struct stats_xfer_view v[2];
    assert_int_equal(stats_xfer_list(t->stats, v, 2), 1);
    assert_true(v[0].upload);
    assert_int_equal(v[0].bytes, 11);
    assert_string_equal(v[0].path, "bootflash:x.bin");
    /* times through FSETSTAT, applied at CLOSE */
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, SFTP_FSETSTAT);
    m_bytes(m, h.b, h.len);
    m_u32(m, SFTP_ATTR_ACMODTIME);
    m_u32(m, 1500000000);
    m_u32(m, 1600000000);
    m_send(t, m);
    free(m);
    assert_int_equal(expect_status(t, id).code, SFTP_FX_OK);
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
    s = fx_get(t->f, "x.bin");
    assert_string_equal(s, "hello world");
    free(s);
    struct sftp_attrs at;
    assert_int_equal(stat_(t, "bootflash:x.bin", &at), 0);
    assert_int_equal(at.size, 11);
    assert_int_equal(at.perm & 0777, 0600);
    assert_int_equal(at.mtime, 1600000000);
    assert_int_equal(fx_temps(t->f), 0);
    assert_int_equal(stop(t), 0);
    assert_int_equal(stats_get(t->stats, STATS_XFER_IN_OK), 1);
    assert_true(trace_has(t, "sftp recv OPEN /x.bin write creat trunc"));
    assert_true(trace_has(t, "sftp recv CLOSE bootflash:x.bin: 11 bytes in 2 writes"));
    /* data requests are summed up at CLOSE, not traced one by one: OK for FSETSTAT and CLOSE */
    assert_int_equal(trace_count(t, "sftp send STATUS OK"), 2);
}

static void test_upload_without_close_discarded(void **state)
{
    struct t *t = *state;
    struct handle h;
    init(t);
    fx_put(t->f, "keep.txt", "keep");
    assert_int_equal(open_file(t, "keep.txt", SFTP_FXF_WRITE | SFTP_FXF_CREAT | SFTP_FXF_TRUNC, &h),
                     0);
    assert_int_equal(do_write(t, &h, 0, "half of a new fi"), SFTP_FX_OK);
    assert_int_equal(open_file(t, "new.txt", SFTP_FXF_WRITE | SFTP_FXF_CREAT, &h), 0);
    assert_int_equal(do_write(t, &h, 0, "never closed"), SFTP_FX_OK);
    assert_int_equal(stop(t), 0); /* the client goes away */
    char *s = fx_get(t->f, "keep.txt");
    assert_string_equal(s, "keep");
    free(s);
    assert_null(fx_get(t->f, "new.txt"));
    assert_int_equal(fx_temps(t->f), 0);
    assert_int_equal(stats_get(t->stats, STATS_XFER_IN_FAILED), 2);
}

static void test_open_flags(void **state)
{
    struct t *t = *state;
    struct handle h;
    struct status st;
    init(t);
    fx_put(t->f, "f.txt", "hello world");
    /* without TRUNC the rest of the file stays */
    assert_int_equal(open_file(t, "f.txt", SFTP_FXF_WRITE, &h), 0);
    assert_int_equal(do_write(t, &h, 0, "HELLO"), SFTP_FX_OK);
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
    char *s = fx_get(t->f, "f.txt");
    assert_string_equal(s, "HELLO world");
    free(s);
    /* APPEND writes at the end whatever the offset */
    assert_int_equal(open_file(t, "f.txt", SFTP_FXF_WRITE | SFTP_FXF_APPEND, &h), 0);
    assert_int_equal(do_write(t, &h, 0, "!"), SFTP_FX_OK);
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
    s = fx_get(t->f, "f.txt");
    assert_string_equal(s, "HELLO world!");
    free(s);
    assert_int_equal(
        open_(t, SFTP_OPEN, "f.txt", SFTP_FXF_WRITE | SFTP_FXF_CREAT | SFTP_FXF_EXCL, 0, &h, &st),
        SFTP_FX_FAILURE);
    assert_non_null(strstr(st.msg, "file exists"));
    assert_int_equal(open_file(t, "missing", SFTP_FXF_WRITE, &h), SFTP_FX_NO_SUCH_FILE);
    assert_int_equal(open_file(t, "missing", SFTP_FXF_READ, &h), SFTP_FX_NO_SUCH_FILE);
    assert_int_equal(open_(t, SFTP_OPEN, "nodir/x", SFTP_FXF_WRITE | SFTP_FXF_CREAT, 0, &h, &st),
                     SFTP_FX_NO_SUCH_FILE);
    assert_non_null(strstr(st.msg, "no such directory"));
    assert_int_equal(open_file(t, "f.txt", SFTP_FXF_READ | SFTP_FXF_WRITE, &h),
                     SFTP_FX_OP_UNSUPPORTED);
    assert_int_equal(open_file(t, "/", SFTP_FXF_READ, &h), SFTP_FX_FAILURE);
    assert_int_equal(open_file(t, "/", SFTP_FXF_WRITE | SFTP_FXF_CREAT, &h), SFTP_FX_FAILURE);
    /* uploads go to the target's file system only: $TMPDIR is never touched */
    char tmpdir[600];
    snprintf(tmpdir, sizeof(tmpdir), "%s/tmpdir", t->f->dir);
    assert_int_equal(mkdir(tmpdir, 0700), 0);
    setenv("TMPDIR", tmpdir, 1);
    assert_int_equal(open_file(t, "n.txt", SFTP_FXF_WRITE | SFTP_FXF_CREAT, &h), 0);
    assert_int_equal(do_write(t, &h, 0, "new"), SFTP_FX_OK);
    assert_int_equal(fx_entries(tmpdir), 0);
    assert_int_equal(fx_temps(t->f), 1); /* in bootflash:, next to its target */
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
    unsetenv("TMPDIR");
    assert_int_equal(fx_entries(tmpdir), 0);
    s = fx_get(t->f, "n.txt");
    assert_string_equal(s, "new");
    free(s);
}

static uint32_t fsetstat_size(struct t *t, const struct handle *h, uint64_t size)
{
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, SFTP_FSETSTAT);
    m_bytes(m, h->b, h->len);
    m_u32(m, SFTP_ATTR_SIZE);
    m_u64(m, size);
    m_send(t, m);
    free(m);
    return expect_status(t, id).code;
}

/* Without TRUNC the old content shows where nothing new was written, whatever the order. */
static void test_open_without_trunc(void **state)
{
    struct t *t = *state;
    struct handle h;
    char got[64];
    size_t n;
    init(t);
    static const struct {
        const char *steps; /* w<off><char> write, s<size> FSETSTAT size */
        const char *want;
        size_t want_len;
    } rows[] = {
        {"w0a w1b w2c s3", "abc", 3},      /* OpenSSH scp: writes, then the size */
        {"w0a w1b", "ab23456789", 10},     /* a partial overwrite keeps the rest */
        {"w5X w0Y", "Y1234X6789", 10},     /* out of order */
        {"w0a s12", "a123456789\0\0", 12}, /* extended */
        {"w0a w1b s1 w4Z", "a\0\0\0Z", 5}, /* cut, then written past the cut */
        {"", "0123456789", 10},            /* nothing written */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        fx_put(t->f, "old.txt", "0123456789");
        assert_int_equal(open_file(t, "old.txt", SFTP_FXF_WRITE | SFTP_FXF_CREAT, &h), 0);
        for (const char *c = rows[i].steps; *c; c++) {
            if (*c == 'w') {
                char d[2] = {c[2], 0};
                assert_int_equal(do_write(t, &h, (uint64_t)(c[1] - '0'), d), SFTP_FX_OK);
                c += 2;
            } else if (*c == 's') {
                char *e;
                unsigned long v = strtoul(c + 1, &e, 10);
                assert_int_equal(fsetstat_size(t, &h, v), SFTP_FX_OK);
                c = e - 1;
            }
        }
        assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
        char path[600];
        snprintf(path, sizeof(path), "%s/old.txt", t->f->boot);
        FILE *fp = fopen(path, "rb");
        n = fread(got, 1, sizeof(got), fp);
        fclose(fp);
        if (n != rows[i].want_len || memcmp(got, rows[i].want, n) != 0)
            fail_msg("row %zu (%s): got %zu bytes '%.*s'", i, rows[i].steps, n, (int)n, got);
    }
}

static void test_download_pipelined(void **state)
{
    struct t *t = *state;
    struct handle h;
    char *content = malloc(100001), *got = calloc(1, 100001 + 8192);
    for (int i = 0; i < 100000; i++)
        content[i] = (char)('a' + i % 26);
    content[100000] = '\0';
    fx_put(t->f, "d.bin", content);
    init(t);
    assert_int_equal(open_file(t, "bootflash:d.bin", SFTP_FXF_READ, &h), 0);
    /* as OpenSSH: many READs outstanding, past the end too */
    uint32_t ids[8];
    for (int i = 0; i < 8; i++)
        ids[i] = req_read(t, &h, (uint64_t)i * 16384, 16384);
    long total = 0;
    for (int i = 0; i < 8; i++) {
        long n = read_reply(t, ids[i], got + i * 16384, 16385);
        if (i < 6)
            assert_int_equal(n, i < 6 && i * 16384 + 16384 <= 100000 ? 16384 : 100000 - i * 16384);
        else if (i == 6)
            assert_int_equal(n, 100000 - 6 * 16384);
        else
            assert_int_equal(n, -1);
        if (n > 0)
            total += n;
    }
    assert_int_equal(total, 100000);
    assert_memory_equal(got, content, 100000);
    /* out of order: back to the start, then forward */
    memset(got, 0, 100);
    assert_int_equal(read_reply(t, req_read(t, &h, 10, 5), got, 100), 5);
    assert_memory_equal(got, content + 10, 5);
    assert_int_equal(read_reply(t, req_read(t, &h, 99990, 100), got, 100), 10);
    assert_memory_equal(got, content + 99990, 10);
    /* a READ larger than the limit is answered short */
    assert_int_equal(read_reply(t, req_read(t, &h, 0, 1u << 30), got, 100001), 100000);
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
    assert_int_equal(stop(t), 0);
    assert_int_equal(stats_get(t->stats, STATS_XFER_OUT_OK), 1);
    free(content);
    free(got);
}

/* Full-size WRITEs and READs, pipelined: the buffers grow from their small start. */
static void test_large_packets(void **state)
{
    struct t *t = *state;
    struct handle h;
    enum { N = 3 };
    uint8_t *data = malloc((size_t)N * LIM_SFTP_DATA);
    char *got = malloc(LIM_SFTP_DATA + 1);
    uint32_t ids[N + 1];
    for (size_t i = 0; i < (size_t)N * LIM_SFTP_DATA; i++)
        data[i] = (uint8_t)(i * 7 + i / 4093);
    init(t);
    assert_int_equal(open_file(t, "big.bin", SFTP_FXF_WRITE | SFTP_FXF_CREAT | SFTP_FXF_TRUNC, &h),
                     0);
    for (int i = 0; i < N; i++)
        ids[i] = req_write(t, &h, (uint64_t)i * LIM_SFTP_DATA, data + (size_t)i * LIM_SFTP_DATA,
                           LIM_SFTP_DATA);
    for (int i = 0; i < N; i++)
        assert_int_equal(expect_status(t, ids[i]).code, SFTP_FX_OK);
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
    assert_int_equal(open_file(t, "big.bin", SFTP_FXF_READ, &h), 0);
    for (int i = 0; i <= N; i++)
        ids[i] = req_read(t, &h, (uint64_t)i * LIM_SFTP_DATA, LIM_SFTP_DATA);
    for (int i = 0; i < N; i++) {
        assert_int_equal(read_reply(t, ids[i], got, LIM_SFTP_DATA + 1), LIM_SFTP_DATA);
        assert_memory_equal(got, data + (size_t)i * LIM_SFTP_DATA, LIM_SFTP_DATA);
    }
    assert_int_equal(read_reply(t, ids[N], got, LIM_SFTP_DATA + 1), -1);
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
    assert_int_equal(stop(t), 0);
    free(data);
    free(got);
}

static int last_audit(void *arg, const struct store_audit *row)
{
    struct store_audit *last = arg;
    free(last->diff);
    *last = *row;
    last->diff = strdup(row->diff ? row->diff : "");
    return 0;
}

static void test_running_config(void **state)
{
    struct t *t = *state;
    struct handle h;
    char buf[8192];
    init(t);
    assert_int_equal(open_file(t, "/running-config", SFTP_FXF_READ, &h), 0);
    long n = read_reply(t, req_read(t, &h, 0, sizeof(buf) - 1), buf, sizeof(buf));
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "ip scp server enable"));
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);

    /* an upload merges */
    assert_int_equal(
        open_file(t, "running-config", SFTP_FXF_WRITE | SFTP_FXF_CREAT | SFTP_FXF_TRUNC, &h), 0);
    assert_int_equal(do_write(t, &h, 0, "hostname SFTP-R2\n"), SFTP_FX_OK);
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
    char *text = cfg_text(t);
    assert_non_null(strstr(text, "hostname SFTP-R2"));
    assert_non_null(strstr(text, "username tiger"));
    free(text);
    /* audited as the SFTP door, with the user and peer */
    struct scpd_err err = {0};
    struct store_audit last = {0};
    assert_int_equal(store_audit_query(t->f->st, 0, 0, last_audit, &last, &err), 0);
    assert_string_equal(last.source, "sftp");
    assert_string_equal(last.user, "tiger");
    assert_string_equal(last.peer, "127.0.0.1:6000");
    assert_non_null(strstr(last.diff, "hostname SFTP-R2"));
    free(last.diff);

    /* an invalid one is refused, the store untouched, the reasons on stderr */
    char *before = cfg_text(t);
    assert_int_equal(
        open_file(t, "system:running-config", SFTP_FXF_WRITE | SFTP_FXF_CREAT | SFTP_FXF_TRUNC, &h),
        0);
    assert_int_equal(do_write(t, &h, 0, "hostname OK\nip ssh time-out 500\n"), SFTP_FX_OK);
    struct status st = do_close(t, &h);
    assert_int_equal(st.code, SFTP_FX_FAILURE);
    assert_non_null(strstr(st.msg, "invalid configuration, nothing changed"));
    char *after = cfg_text(t);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(stop(t), 0);
    assert_non_null(strstr(t->server.err, "time-out"));
}

static void test_listing_and_dirs(void **state)
{
    struct t *t = *state;
    char names[4096], first[400], real[LIM_PATH_LEN];
    init(t);
    /* bootflash: by another name while it is empty: no file, no name of "/" (fuzz_sftp_session
     * found the empty listing sorted with a NULL array under UBSan) */
    list_dir(t, "/flash:./.", names, sizeof(names), first);
    assert_string_equal(names, "");
    fx_put(t->f, "b.txt", "bb");
    fx_put(t->f, "a.txt", "a");
    assert_int_equal(path_req(t, SFTP_MKDIR, "/sub").code, SFTP_FX_OK);
    struct status st = path_req(t, SFTP_MKDIR, "/sub");
    assert_int_equal(st.code, SFTP_FX_FAILURE);
    assert_non_null(strstr(st.msg, "exists"));
    list_dir(t, "/", names, sizeof(names), first);
    assert_string_equal(names,
                        "a.txt b.txt bootflash flash nvram running-config startup-config sub");
    assert_non_null(strstr(first, "-rw-"));
    assert_non_null(strstr(first, " 1 "));
    assert_non_null(strstr(first, " a.txt"));
    list_dir(t, "/nvram:", names, sizeof(names), first);
    assert_string_equal(names, "startup-config");
    list_dir(t, "/sub", names, sizeof(names), first);
    assert_string_equal(names, "");
    realpath_(t, ".", real, sizeof(real));
    assert_string_equal(real, "/");
    realpath_(t, "/nvram:/..", real, sizeof(real));
    assert_string_equal(real, "/");
    realpath_(t, "/x/nvram:", real, sizeof(real));
    assert_string_equal(real, "/nvram:");
    realpath_(t, "sub/../a.txt", real, sizeof(real));
    assert_string_equal(real, "/a.txt");
    struct sftp_attrs a;
    assert_int_equal(stat_(t, "/sub", &a), 0);
    assert_true(S_ISDIR(a.perm));
    assert_int_equal(path_req(t, SFTP_REMOVE, "/a.txt").code, SFTP_FX_OK);
    assert_int_equal(stat_(t, "/a.txt", &a), SFTP_FX_NO_SUCH_FILE);
    assert_int_equal(path_req(t, SFTP_REMOVE, "/sub").code, SFTP_FX_FAILURE);
    assert_int_equal(path_req(t, SFTP_REMOVE, "/running-config").code, SFTP_FX_FAILURE);
    /* RMDIR: empty directories only, never a file, a root or a virtual file */
    fx_put(t->f, "sub/f", "f");
    st = path_req(t, SFTP_RMDIR, "/sub");
    assert_int_equal(st.code, SFTP_FX_FAILURE);
    assert_non_null(strstr(st.msg, "not empty"));
    assert_int_equal(path_req(t, SFTP_REMOVE, "/sub/f").code, SFTP_FX_OK);
    assert_int_equal(path_req(t, SFTP_RMDIR, "/b.txt").code, SFTP_FX_FAILURE);
    assert_int_equal(path_req(t, SFTP_RMDIR, "/").code, SFTP_FX_FAILURE);
    assert_int_equal(path_req(t, SFTP_RMDIR, "/nvram:").code, SFTP_FX_FAILURE);
    assert_int_equal(path_req(t, SFTP_RMDIR, "/running-config").code, SFTP_FX_FAILURE);
    assert_int_equal(path_req(t, SFTP_RMDIR, "/../sub").code, SFTP_FX_PERMISSION_DENIED);
    assert_int_equal(path_req(t, SFTP_RMDIR, "/missing").code, SFTP_FX_NO_SUCH_FILE);
    assert_int_equal(path_req(t, SFTP_RMDIR, "/sub").code, SFTP_FX_OK);
    assert_int_equal(stat_(t, "/sub", &a), SFTP_FX_NO_SUCH_FILE);
    assert_int_equal(path_req(t, SFTP_READLINK, "/b.txt").code, SFTP_FX_OP_UNSUPPORTED);
    assert_int_equal(path_req(t, SFTP_OPENDIR, "/b.txt").code, SFTP_FX_FAILURE);
}

static struct status rename_(struct t *t, const char *from, const char *to, bool posix)
{
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, posix ? SFTP_EXTENDED : SFTP_RENAME);
    if (posix)
        m_str(m, "posix-rename@openssh.com");
    m_str(m, from);
    m_str(m, to);
    m_send(t, m);
    free(m);
    return expect_status(t, id);
}

static void test_rename(void **state)
{
    struct t *t = *state;
    struct status st;
    struct sftp_attrs a;
    char link[600];
    init(t);
    fx_put(t->f, "img.filepart", "image data");
    fx_put(t->f, "other.txt", "other");
    assert_int_equal(path_req(t, SFTP_MKDIR, "/d").code, SFTP_FX_OK);
    assert_int_equal(rename_(t, "/img.filepart", "/d/img.bin", false).code, SFTP_FX_OK);
    char *s = fx_get(t->f, "d/img.bin");
    assert_string_equal(s, "image data");
    free(s);
    assert_null(fx_get(t->f, "img.filepart"));
    /* SFTP v3: an existing target is refused; posix-rename replaces it */
    st = rename_(t, "/other.txt", "/d/img.bin", false);
    assert_int_equal(st.code, SFTP_FX_FAILURE);
    assert_non_null(strstr(st.msg, "exists"));
    assert_int_equal(rename_(t, "other.txt", "bootflash:d/img.bin", true).code, SFTP_FX_OK);
    s = fx_get(t->f, "d/img.bin");
    assert_string_equal(s, "other");
    free(s);
    assert_int_equal(rename_(t, "/d/img.bin", "/d/img.bin", false).code, SFTP_FX_OK);
    assert_int_equal(rename_(t, "/missing", "/x", false).code, SFTP_FX_NO_SUCH_FILE);
    /* directories move too (one renameat), not into themselves nor over a directory */
    assert_int_equal(rename_(t, "/d", "/e", false).code, SFTP_FX_OK);
    assert_int_equal(rename_(t, "/e", "/e/f", false).code, SFTP_FX_FAILURE);
    assert_int_equal(path_req(t, SFTP_MKDIR, "/d").code, SFTP_FX_OK);
    assert_int_equal(rename_(t, "/e", "/d", true).code, SFTP_FX_FAILURE);
    assert_int_equal(rename_(t, "/e/img.bin", "/d", true).code, SFTP_FX_FAILURE);
    assert_int_equal(rename_(t, "/e", "/d/e", false).code, SFTP_FX_OK);
    s = fx_get(t->f, "d/e/img.bin");
    assert_string_equal(s, "other");
    free(s);
    assert_int_equal(rename_(t, "/d/e", "/nvram:e", false).code, SFTP_FX_OP_UNSUPPORTED);
    assert_int_equal(rename_(t, "/d/e/img.bin", "/d/img.bin", false).code, SFTP_FX_OK);
    assert_int_equal(rename_(t, "/d/img.bin", "/nvram:img.bin", false).code,
                     SFTP_FX_OP_UNSUPPORTED);
    assert_int_equal(rename_(t, "/", "/x", false).code, SFTP_FX_FAILURE);
    assert_int_equal(rename_(t, "/d/img.bin", "/running-config", true).code, SFTP_FX_FAILURE);
    assert_int_equal(rename_(t, "/d/img.bin", "/../x", false).code, SFTP_FX_PERMISSION_DENIED);
    snprintf(link, sizeof(link), "%s/lnk", t->f->boot);
    assert_int_equal(symlink(t->f->outside, link), 0);
    assert_int_equal(rename_(t, "/d/img.bin", "/lnk/x", false).code, SFTP_FX_PERMISSION_DENIED);
    assert_int_equal(rename_(t, "/lnk", "/lnk2", false).code, SFTP_FX_PERMISSION_DENIED);
    assert_int_equal(fx_entries(t->f->outside), 0);
    assert_int_equal(stat_(t, "/d/img.bin", &a), 0);
    assert_int_equal(fx_temps(t->f), 0);
}

static void test_escapes_and_symlinks(void **state)
{
    struct t *t = *state;
    struct handle h;
    struct sftp_attrs a;
    struct status st;
    char link[600], target[600];
    init(t);
    snprintf(target, sizeof(target), "%s/secret", t->f->outside);
    FILE *fp = fopen(target, "w");
    fputs("secret\n", fp);
    fclose(fp);
    snprintf(link, sizeof(link), "%s/out", t->f->boot);
    assert_int_equal(symlink(t->f->outside, link), 0);
    snprintf(link, sizeof(link), "%s/pw", t->f->boot);
    assert_int_equal(symlink(target, link), 0);

    assert_int_equal(stat_(t, "../../etc/passwd", &a), SFTP_FX_PERMISSION_DENIED);
    assert_int_equal(open_(t, SFTP_OPEN, "/../secret", SFTP_FXF_READ, 0, &h, &st),
                     SFTP_FX_PERMISSION_DENIED);
    assert_non_null(strstr(st.msg, "('..' is not allowed)"));
    assert_int_equal(stat_(t, "/etc/passwd", &a), SFTP_FX_NO_SUCH_FILE); /* bootflash:etc/.. */
    assert_int_equal(open_(t, SFTP_OPEN, "/out/secret", SFTP_FXF_READ, 0, &h, &st),
                     SFTP_FX_PERMISSION_DENIED);
    assert_non_null(strstr(st.msg, "symbolic links are not followed"));
    assert_int_equal(open_file(t, "/pw", SFTP_FXF_READ, &h), SFTP_FX_PERMISSION_DENIED);
    assert_int_equal(open_file(t, "/out/evil", SFTP_FXF_WRITE | SFTP_FXF_CREAT, &h),
                     SFTP_FX_PERMISSION_DENIED);
    assert_int_equal(open_file(t, "/pw", SFTP_FXF_WRITE | SFTP_FXF_CREAT | SFTP_FXF_TRUNC, &h),
                     SFTP_FX_PERMISSION_DENIED);
    assert_int_equal(path_req(t, SFTP_REMOVE, "/pw").code, SFTP_FX_PERMISSION_DENIED);
    assert_int_equal(path_req(t, SFTP_OPENDIR, "/out").code, SFTP_FX_PERMISSION_DENIED);
    char names[1024], first[400];
    list_dir(t, "/", names, sizeof(names), first);
    assert_null(strstr(names, "pw")); /* symlinks are not listed */
    /* a NUL in a path */
    struct msg *m = calloc(1, sizeof(*m));
    uint32_t id = m_begin(t, m, SFTP_STAT);
    m_bytes(m, "a\0b", 3);
    m_send(t, m);
    free(m);
    assert_int_equal(expect_status(t, id).code, SFTP_FX_FAILURE);
    assert_int_equal(stop(t), 0);
    assert_int_equal(fx_entries(t->f->outside), 1);
    assert_true(stats_get(t->stats, STATS_REFUSED_PATH) >= 3);
}

/* `no ip scp server enable` reaches a session already open: new paths are refused, the upload
 * in progress finishes. */
static void test_scp_disabled_mid_session(void **state)
{
    struct t *t = *state;
    struct handle h;
    struct sftp_attrs a;
    struct scpd_err err = {0};
    struct store_who who = {.user = "admin", .source = "api", .peer = "127.0.0.1:1"};
    static const char off[] = "no ip scp server enable\n";
    init(t);
    assert_int_equal(open_file(t, "up.txt", SFTP_FXF_WRITE | SFTP_FXF_CREAT, &h), 0);
    assert_int_equal(
        store_apply_text(t->f->st, off, strlen(off), CFG_MERGE, false, 0, &who, NULL, NULL, &err),
        0);
    struct status st = path_req(t, SFTP_OPENDIR, "/");
    assert_int_equal(st.code, SFTP_FX_PERMISSION_DENIED);
    assert_string_equal(st.msg, "SCP server is disabled (ip scp server enable)");
    assert_int_equal(stat_(t, "/", &a), SFTP_FX_PERMISSION_DENIED);
    assert_int_equal(do_write(t, &h, 0, "finishes"), SFTP_FX_OK);
    assert_int_equal(do_close(t, &h).code, SFTP_FX_OK);
    char *got = fx_get(t->f, "up.txt");
    assert_string_equal(got, "finishes");
    free(got);
    assert_int_equal(stop(t), 0);
    assert_int_equal(stats_get(t->stats, STATS_REFUSED_DISABLED), 2);
}

static void test_handle_limit_and_bad_handles(void **state)
{
    struct t *t = *state;
    struct handle h[LIM_SFTP_HANDLES + 1];
    struct status st;
    init(t);
    for (int i = 0; i < LIM_SFTP_HANDLES; i++)
        assert_int_equal(open_(t, SFTP_OPENDIR, "/", 0, 0, &h[i], NULL), 0);
    assert_int_equal(open_(t, SFTP_OPENDIR, "/", 0, 0, &h[LIM_SFTP_HANDLES], &st), SFTP_FX_FAILURE);
    assert_non_null(strstr(st.msg, "too many open files"));
    assert_int_equal(do_close(t, &h[3]).code, SFTP_FX_OK);
    /* a closed handle is stale, even when its slot is reused */
    assert_int_equal(do_close(t, &h[3]).code, SFTP_FX_FAILURE);
    assert_int_equal(open_(t, SFTP_OPENDIR, "/", 0, 0, &h[LIM_SFTP_HANDLES], NULL), 0);
    assert_int_equal(do_close(t, &h[3]).code, SFTP_FX_FAILURE);
    struct handle junk = {.len = 3, .b = "abc"};
    assert_int_equal(do_close(t, &junk).code, SFTP_FX_FAILURE);
    /* a directory handle is not a file handle */
    st = expect_status(t, req_read(t, &h[0], 0, 10));
    assert_int_equal(st.code, SFTP_FX_FAILURE);
    assert_non_null(strstr(st.msg, "not open for READ"));
    assert_int_equal(stop(t), 0);
}

static void test_space_limit(void **state)
{
    struct t *t = *state;
    struct handle h;
    struct scpd_err err = {0};
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(ifs_set_limit(t->f->ifs, "bootflash", 2000, &err), 0);
    init(t);
    assert_int_equal(open_file(t, "big", SFTP_FXF_WRITE | SFTP_FXF_CREAT, &h), 0);
    assert_int_equal(do_write(t, &h, 0, "small"), SFTP_FX_OK);
    uint32_t id = req_write(t, &h, 5, big, strlen(big));
    struct status st = expect_status(t, id);
    assert_int_equal(st.code, SFTP_FX_FAILURE);
    assert_non_null(strstr(st.msg, "not enough space"));
    assert_non_null(strstr(st.msg, "bootflash:big"));
    assert_int_equal(fx_temps(t->f), 0); /* gone at the failed WRITE, not only at CLOSE */
    assert_int_equal(do_write(t, &h, 0, "more"), SFTP_FX_FAILURE);
    st = do_close(t, &h);
    assert_int_equal(st.code, SFTP_FX_FAILURE);
    assert_null(fx_get(t->f, "big"));
    assert_int_equal(fx_temps(t->f), 0);
    /* replacing a file: the old one stays whole; a size beyond the limit is refused too */
    fx_put(t->f, "old", "old content");
    assert_int_equal(open_file(t, "old", SFTP_FXF_WRITE | SFTP_FXF_TRUNC, &h), 0);
    assert_int_equal(do_write(t, &h, 0, "new"), SFTP_FX_OK);
    assert_int_equal(fsetstat_size(t, &h, 5000), SFTP_FX_FAILURE);
    assert_int_equal(expect_status(t, req_write(t, &h, 1990, big, 100)).code, SFTP_FX_FAILURE);
    assert_int_equal(do_close(t, &h).code, SFTP_FX_FAILURE);
    char *s = fx_get(t->f, "old");
    assert_string_equal(s, "old content");
    free(s);
    assert_int_equal(fx_temps(t->f), 0);
    assert_int_equal(stop(t), 0);
    assert_int_equal(stats_get(t->stats, STATS_XFER_IN_FAILED), 2);
}

static void test_extensions_and_unknown(void **state)
{
    struct t *t = *state;
    struct msg *m = calloc(1, sizeof(*m));
    init(t);
    uint32_t id = m_begin(t, m, SFTP_EXTENDED);
    m_str(m, "limits@openssh.com");
    m_send(t, m);
    assert_int_equal(m_recv(t, m, id), SFTP_EXTENDED_REPLY);
    assert_int_equal(g_u64(m), LIM_SFTP_PACKET);
    assert_int_equal(g_u64(m), LIM_SFTP_DATA);
    assert_int_equal(g_u64(m), LIM_SFTP_DATA);
    assert_int_equal(g_u64(m), LIM_SFTP_HANDLES);
    id = m_begin(t, m, SFTP_EXTENDED);
    m_str(m, "statvfs@openssh.com");
    m_str(m, "/nvram:");
    m_send(t, m);
    assert_int_equal(m_recv(t, m, id), SFTP_EXTENDED_REPLY);
    assert_int_equal(g_u64(m), 1024);
    id = m_begin(t, m, SFTP_EXTENDED);
    m_str(m, "statvfs@openssh.com");
    m_u32(m, 1000); /* a path longer than the packet */
    m_send(t, m);
    assert_int_equal(expect_status(t, id).code, SFTP_FX_BAD_MESSAGE);
    id = m_begin(t, m, SFTP_EXTENDED);
    m_str(m, "copy-data");
    m_send(t, m);
    assert_int_equal(expect_status(t, id).code, SFTP_FX_OP_UNSUPPORTED);
    id = m_begin(t, m, 99);
    m_send(t, m);
    assert_int_equal(expect_status(t, id).code, SFTP_FX_OP_UNSUPPORTED);
    id = m_begin(t, m, SFTP_STAT); /* malformed: no path */
    m_send(t, m);
    assert_int_equal(expect_status(t, id).code, SFTP_FX_BAD_MESSAGE);
    free(m);
    assert_int_equal(stop(t), 0);
}

static void test_violations(void **state)
{
    struct t *t = *state;
    struct msg *m = calloc(1, sizeof(*m));
    /* the first packet must be INIT */
    m_begin(t, m, SFTP_STAT);
    m_str(m, "/");
    m_send(t, m);
    pthread_join(t->th, NULL);
    t->running = false;
    close(t->cfd);
    assert_int_equal(t->rc, 1);
    assert_true(trace_has(t, "the first packet is not INIT"));
    /* a length beyond the limit after a good start */
    start(t);
    init(t);
    uint8_t bad[5] = {0x7f, 0xff, 0xff, 0xff, 1};
    struct chan c = {.fd = t->cfd};
    assert_int_equal(ch_write(&c, bad, sizeof(bad)), 0);
    pthread_join(t->th, NULL);
    t->running = false;
    close(t->cfd);
    assert_int_equal(t->rc, 1);
    /* a second INIT */
    start(t);
    init(t);
    m->len = 0;
    m_u32(m, 0);
    m_u8(m, SFTP_INIT);
    m_u32(m, 3);
    m_send(t, m);
    pthread_join(t->th, NULL);
    t->running = false;
    close(t->cfd);
    assert_int_equal(t->rc, 1);
    free(m);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upload_atomic_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_without_close_discarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_without_trunc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download_pipelined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_packets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_running_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listing_and_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes_and_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scp_disabled_mid_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handle_limit_and_bad_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_space_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extensions_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_violations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
