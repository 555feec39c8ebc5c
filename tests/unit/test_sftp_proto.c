/* Unit tests of daemon/sftp_proto: framing (partial, whole, back to back, bad lengths), every
 * request type parsed from hand-built packets, malformed packets as a table of inputs and
 * expected errors, the reply builders byte for byte (and all-or-nothing when the buffer is full),
 * the ls -l line, and the SFTP <-> IFS path mapping as a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ifs/ifs.h"
#include "daemon/sftp_proto.h"

/* ---- a packet builder -------------------------------------------------------------------------
 */

struct pk {
    uint8_t b[LIM_SFTP_PACKET + 64];
    size_t len;
};

static void pk_u8(struct pk *p, uint8_t v)
{
    p->b[p->len++] = v;
}

static void pk_u32(struct pk *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        pk_u8(p, (uint8_t)(v >> (8 * i)));
}

static void pk_u64(struct pk *p, uint64_t v)
{
    pk_u32(p, (uint32_t)(v >> 32));
    pk_u32(p, (uint32_t)v);
}

static void pk_bytes(struct pk *p, const void *d, size_t n)
{
    pk_u32(p, (uint32_t)n);
    memcpy(p->b + p->len, d, n);
    p->len += n;
}

static void pk_str(struct pk *p, const char *s)
{
    pk_bytes(p, s, strlen(s));
}

static void pk_begin(struct pk *p, uint8_t type, uint32_t id)
{
    p->len = 0;
    pk_u32(p, 0);
    pk_u8(p, type);
    pk_u32(p, id);
}

static void pk_end(struct pk *p)
{
    uint32_t n = (uint32_t)(p->len - 4);
    p->b[0] = (uint8_t)(n >> 24);
    p->b[1] = (uint8_t)(n >> 16);
    p->b[2] = (uint8_t)(n >> 8);
    p->b[3] = (uint8_t)n;
}

static int parse(struct pk *p, struct sftp_req *q, struct scpd_err *err)
{
    size_t plen = 0;
    assert_int_equal(sftp_proto_frame(p->b, p->len, &plen, err), 1);
    assert_int_equal(plen, p->len);
    return sftp_proto_parse(p->b, p->len, q, err);
}

static bool str_is(const struct sftp_str *s, const char *want)
{
    return s->len == strlen(want) && memcmp(s->p, want, s->len) == 0;
}

/* ---- framing ----------------------------------------------------------------------------------
 */

static void test_frame(void **state)
{
    struct pk p;
    struct scpd_err err = {0};
    size_t plen = 0;
    pk_begin(&p, SFTP_REALPATH, 7);
    pk_str(&p, ".");
    pk_end(&p);
    for (size_t n = 0; n < p.len; n++)
        assert_int_equal(sftp_proto_frame(p.b, n, &plen, &err), 0);
    assert_int_equal(sftp_proto_frame(p.b, p.len, &plen, &err), 1);
    assert_int_equal(plen, p.len);
    /* two packets back to back: the first is framed alone */
    memcpy(p.b + p.len, p.b, p.len);
    assert_int_equal(sftp_proto_frame(p.b, 2 * p.len, &plen, &err), 1);
    assert_int_equal(plen, p.len);

    uint8_t zero[8] = {0, 0, 0, 0, 1};
    assert_int_equal(sftp_proto_frame(zero, sizeof(zero), &plen, &err), -1);
    uint8_t huge[8] = {0, 0x10, 0, 0, 1};
    assert_int_equal(sftp_proto_frame(huge, sizeof(huge), &plen, &err), -1);
    assert_non_null(strstr(err.msg, "out of range"));
    uint32_t max = LIM_SFTP_PACKET;
    uint8_t edge[5] = {(uint8_t)(max >> 24), (uint8_t)(max >> 16), (uint8_t)(max >> 8),
                       (uint8_t)max, 3};
    assert_int_equal(sftp_proto_frame(edge, sizeof(edge), &plen, &err), 0); /* wait for it */
}

/* ---- requests ---------------------------------------------------------------------------------
 */

static void test_init(void **state)
{
    struct pk p;
    struct sftp_req q;
    struct scpd_err err = {0};
    pk_begin(&p, SFTP_INIT, 3);
    pk_str(&p, "some-ext@example.com"); /* a newer client's extension pairs: ignored */
    pk_str(&p, "1");
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), 0);
    assert_int_equal(q.type, SFTP_INIT);
    assert_int_equal(q.id, 3);
}

static void test_open(void **state)
{
    struct pk p;
    struct sftp_req q;
    struct scpd_err err = {0};
    pk_begin(&p, SFTP_OPEN, 42);
    pk_str(&p, "bootflash:x.bin");
    pk_u32(&p, SFTP_FXF_WRITE | SFTP_FXF_CREAT | SFTP_FXF_TRUNC);
    pk_u32(&p, SFTP_ATTR_SIZE | SFTP_ATTR_UIDGID | SFTP_ATTR_PERMISSIONS | SFTP_ATTR_ACMODTIME |
                   SFTP_ATTR_EXTENDED);
    pk_u64(&p, 1234);
    pk_u32(&p, 1000);
    pk_u32(&p, 100);
    pk_u32(&p, 0100640);
    pk_u32(&p, 1600000000);
    pk_u32(&p, 1600000100);
    pk_u32(&p, 1);
    pk_str(&p, "k@x");
    pk_str(&p, "v");
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), 0);
    assert_int_equal(q.type, SFTP_OPEN);
    assert_int_equal(q.id, 42);
    assert_true(str_is(&q.path, "bootflash:x.bin"));
    assert_int_equal(q.pflags, SFTP_FXF_WRITE | SFTP_FXF_CREAT | SFTP_FXF_TRUNC);
    assert_int_equal(q.attrs.size, 1234);
    assert_int_equal(q.attrs.uid, 1000);
    assert_int_equal(q.attrs.gid, 100);
    assert_int_equal(q.attrs.perm, 0100640);
    assert_int_equal(q.attrs.atime, 1600000000);
    assert_int_equal(q.attrs.mtime, 1600000100);
}

static void test_read_write(void **state)
{
    struct pk p;
    struct sftp_req q;
    struct scpd_err err = {0};
    pk_begin(&p, SFTP_READ, 5);
    pk_bytes(&p, "\1\2\3\4\5\6\7\10", 8);
    pk_u64(&p, 0x100000000ull);
    pk_u32(&p, 32768);
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), 0);
    assert_int_equal(q.handle.len, 8);
    assert_int_equal(q.offset, 0x100000000ull);
    assert_int_equal(q.len, 32768);

    static uint8_t data[LIM_SFTP_DATA];
    memset(data, 'z', sizeof(data));
    pk_begin(&p, SFTP_WRITE, 6);
    pk_bytes(&p, "h", 1);
    pk_u64(&p, 77);
    pk_bytes(&p, data, sizeof(data));
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), 0);
    assert_int_equal(q.offset, 77);
    assert_int_equal(q.data.len, LIM_SFTP_DATA);
    assert_ptr_equal(q.data.p, p.b + p.len - LIM_SFTP_DATA); /* in place, not copied */
}

/* The requests with simple fields, one row each. */
static void test_simple_requests(void **state)
{
    static const struct {
        uint8_t type;
        bool handle; /* a handle instead of a path */
        bool two;    /* a second path */
        bool attrs;
    } rows[] = {
        {SFTP_CLOSE, true, false, false},     {SFTP_LSTAT, false, false, false},
        {SFTP_FSTAT, true, false, false},     {SFTP_SETSTAT, false, false, true},
        {SFTP_FSETSTAT, true, false, true},   {SFTP_OPENDIR, false, false, false},
        {SFTP_READDIR, true, false, false},   {SFTP_REMOVE, false, false, false},
        {SFTP_MKDIR, false, false, true},     {SFTP_RMDIR, false, false, false},
        {SFTP_REALPATH, false, false, false}, {SFTP_STAT, false, false, false},
        {SFTP_RENAME, false, true, false},    {SFTP_READLINK, false, false, false},
        {SFTP_SYMLINK, false, true, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct pk p;
        struct sftp_req q;
        struct scpd_err err = {0};
        pk_begin(&p, rows[i].type, (uint32_t)i + 100);
        pk_str(&p, rows[i].handle ? "HANDLE" : "/a/b");
        if (rows[i].two)
            pk_str(&p, "/c");
        if (rows[i].attrs) {
            pk_u32(&p, SFTP_ATTR_ACMODTIME);
            pk_u32(&p, 1);
            pk_u32(&p, 2);
        }
        pk_end(&p);
        assert_int_equal(parse(&p, &q, &err), 0);
        assert_int_equal(q.type, rows[i].type);
        assert_int_equal(q.id, i + 100);
        assert_true(
            str_is(rows[i].handle ? &q.handle : &q.path, rows[i].handle ? "HANDLE" : "/a/b"));
        if (rows[i].two)
            assert_true(str_is(&q.path2, "/c"));
        if (rows[i].attrs)
            assert_int_equal(q.attrs.mtime, 2);
        assert_string_not_equal(sftp_proto_type_name(rows[i].type), "TYPE-?");
        /* every proper prefix of the body is malformed, never a crash or a read past the end */
        for (size_t cut = 9; cut < p.len; cut++) {
            struct pk t = p;
            t.len = cut;
            pk_end(&t);
            int r = sftp_proto_parse(t.b, t.len, &q, &err);
            if (rows[i].attrs && cut == p.len)
                continue;
            assert_int_equal(r, -1);
            assert_int_equal(q.id, i + 100);
        }
    }
}

static void test_extended_and_unknown(void **state)
{
    struct pk p;
    struct sftp_req q;
    struct scpd_err err = {0};
    pk_begin(&p, SFTP_EXTENDED, 9);
    pk_str(&p, "statvfs@openssh.com");
    pk_str(&p, "/");
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), 0);
    assert_true(str_is(&q.ext, "statvfs@openssh.com"));
    assert_int_equal(q.data.len, 5);

    pk_begin(&p, 77, 1234);
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), 1);
    assert_int_equal(q.type, 77);
    assert_int_equal(q.id, 1234);
    assert_string_equal(sftp_proto_type_name(77), "TYPE-?");
}

static void test_malformed(void **state)
{
    struct pk p;
    struct sftp_req q;
    struct scpd_err err = {0};
    char longpath[LIM_PATH_LEN + 1];
    uint8_t handle[LIM_SFTP_HANDLE_LEN + 1] = {0};
    memset(longpath, 'a', LIM_PATH_LEN);
    longpath[LIM_PATH_LEN] = '\0';

    /* a string that claims more than the packet holds */
    pk_begin(&p, SFTP_STAT, 1);
    pk_u32(&p, 1000);
    pk_u8(&p, 'x');
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), -1);
    assert_non_null(strstr(err.msg, "malformed STAT"));

    /* a string length near 2^32 must not wrap */
    pk_begin(&p, SFTP_STAT, 1);
    pk_u32(&p, 0xFFFFFFFFu);
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), -1);

    pk_begin(&p, SFTP_STAT, 2);
    pk_str(&p, longpath);
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);

    pk_begin(&p, SFTP_CLOSE, 3);
    pk_bytes(&p, handle, sizeof(handle));
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), -1);
    assert_non_null(strstr(err.msg, "handle longer"));

    /* an attrs extension count far beyond the packet */
    pk_begin(&p, SFTP_SETSTAT, 4);
    pk_str(&p, "x");
    pk_u32(&p, SFTP_ATTR_EXTENDED);
    pk_u32(&p, 0x7FFFFFFF);
    pk_end(&p);
    assert_int_equal(parse(&p, &q, &err), -1);

    /* a WRITE with more data than LIM_SFTP_DATA (inside a legal packet) */
    static uint8_t data[LIM_SFTP_DATA + 1];
    pk_begin(&p, SFTP_WRITE, 5);
    pk_bytes(&p, "", 0);
    pk_u64(&p, 0);
    pk_bytes(&p, data, sizeof(data));
    pk_end(&p);
    assert_int_equal(sftp_proto_parse(p.b, p.len, &q, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);

    /* no id at all */
    uint8_t bare[] = {0, 0, 0, 1, SFTP_STAT};
    assert_int_equal(sftp_proto_parse(bare, sizeof(bare), &q, &err), -1);
    assert_int_equal(q.id, 0);
}

static void test_cstr(void **state)
{
    char buf[16];
    struct scpd_err err = {0};
    struct sftp_str s = {(const uint8_t *)"ab\0cd", 5};
    assert_int_equal(sftp_proto_cstr(&s, buf, sizeof(buf), &err), -1);
    assert_non_null(strstr(err.msg, "NUL"));
    s = (struct sftp_str){(const uint8_t *)"abcdefghijklmnop", 16};
    assert_int_equal(sftp_proto_cstr(&s, buf, sizeof(buf), &err), -1);
    s.len = 15;
    assert_int_equal(sftp_proto_cstr(&s, buf, sizeof(buf), &err), 0);
    assert_string_equal(buf, "abcdefghijklmno");
}

/* ---- replies ----------------------------------------------------------------------------------
 */

static void test_status_bytes(void **state)
{
    uint8_t buf[64];
    struct sftp_out o;
    sftp_out_init(&o, buf, sizeof(buf));
    assert_int_equal(sftp_out_status(&o, 0x01020304, SFTP_FX_NO_SUCH_FILE, "no"), 0);
    static const uint8_t want[] = {0, 0, 0, 19, 101, 1,   2,   3, 4, 0, 0, 0,
                                   2, 0, 0, 0,  2,   'n', 'o', 0, 0, 0, 0};
    assert_int_equal(o.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
}

static void test_builders_all_or_nothing(void **state)
{
    uint8_t buf[40];
    struct sftp_out o;
    uint8_t *dst;
    sftp_out_init(&o, buf, sizeof(buf));
    assert_int_equal(sftp_out_status(&o, 1, SFTP_FX_OK, ""), 0); /* 21 bytes */
    size_t before = o.len;
    assert_int_equal(sftp_out_status(&o, 2, SFTP_FX_FAILURE, "a message that does not fit"), -1);
    assert_int_equal(o.len, before);
    assert_int_equal(sftp_out_data_begin(&o, 3, &dst, 10), -1);
    assert_int_equal(o.len, before);
    assert_int_equal(sftp_out_data_begin(&o, 3, &dst, 6), 0);
    memcpy(dst, "abc", 3);
    sftp_out_data_end(&o, 3);
    assert_int_equal(o.len, before + 16);
    assert_memory_equal(buf + before, "\0\0\0\x0c\x67\0\0\0\3\0\0\0\3abc", 16);
    sftp_out_init(&o, buf, sizeof(buf));
    assert_int_equal(sftp_out_data_begin(&o, 3, &dst, 6), 0);
    sftp_out_cancel(&o);
    assert_int_equal(o.len, 0);
}

static void test_name_and_version(void **state)
{
    uint8_t buf[512];
    struct sftp_out o;
    struct sftp_attrs a = {
        .flags = SFTP_ATTR_SIZE | SFTP_ATTR_PERMISSIONS, .size = 5, .perm = S_IFREG | 0644};
    sftp_out_init(&o, buf, sizeof(buf));
    assert_int_equal(sftp_out_name_begin(&o, 9), 0);
    assert_int_equal(sftp_out_name_add(&o, "a", "la", &a), 0);
    assert_int_equal(sftp_out_name_add(&o, "b", "lb", &a), 0);
    sftp_out_name_end(&o);
    /* header 4+1+4, count 4, two entries of 4+1 + 4+2 + 4+8+4 */
    assert_int_equal(o.len, 13 + 2 * 27);
    assert_int_equal(buf[12], 2);                   /* the count */
    assert_int_equal(buf[3], (uint8_t)(o.len - 4)); /* the length */

    static const char *const names[] = {"limits@openssh.com"};
    static const char *const values[] = {"1"};
    sftp_out_init(&o, buf, sizeof(buf));
    assert_int_equal(sftp_out_version(&o, names, values, 1), 0);
    assert_int_equal(buf[4], SFTP_VERSION_REPLY);
    assert_int_equal(buf[8], 3);
    assert_int_equal(o.len, 9 + 4 + 18 + 4 + 1);

    sftp_out_init(&o, buf, sizeof(buf));
    assert_int_equal(sftp_out_limits(&o, 1, 1, 2, 3, 4), 0);
    assert_int_equal(o.len, 9 + 32);
    assert_int_equal(buf[o.len - 1], 4);
}

static void test_longname(void **state)
{
    char line[300];
    struct sftp_attrs a = {.perm = S_IFDIR | 0755, .size = 4096, .mtime = 1700000000};
    assert_int_equal(sftp_proto_longname(line, sizeof(line), "dir", &a, 1700000000 + 60), 0);
    assert_string_equal(line, "drwxr-xr-x    2 0        0                4096 Nov 14 22:13 dir");
    a = (struct sftp_attrs){.perm = S_IFREG | 0600, .size = 7, .mtime = 1500000000};
    assert_int_equal(sftp_proto_longname(line, sizeof(line), "old", &a, 1700000000), 0);
    assert_string_equal(line, "-rw-------    1 0        0                   7 Jul 14  2017 old");
    assert_int_equal(sftp_proto_longname(line, 10, "old", &a, 1700000000), -1);
}

/* ---- paths ------------------------------------------------------------------------------------
 */

static void test_path_mapping(void **state)
{
    static const struct {
        const char *sftp;
        const char *name; /* ifs_path.name, or NULL for an error */
        enum ifs_kind kind;
        const char *real;       /* sftp_proto_realname(), NULL: not checked */
        enum scpd_errcode code; /* for errors */
    } rows[] = {
        {"/", "bootflash:", IFS_K_DISK, "/", 0},
        {".", "bootflash:", IFS_K_DISK, "/", 0},
        {"", "bootflash:", IFS_K_DISK, "/", 0},
        {"/a/b", "bootflash:a/b", IFS_K_DISK, "/a/b", 0},
        {"a//./b/", "bootflash:a/b", IFS_K_DISK, "/a/b", 0},
        {"/a/../b", "bootflash:b", IFS_K_DISK, "/b", 0},
        {"/running-config", "running-config", IFS_K_RUNNING, "/running-config", 0},
        {"running-config", "running-config", IFS_K_RUNNING, "/running-config", 0},
        {"/startup-config", "startup-config", IFS_K_STARTUP, "/startup-config", 0},
        {"/nvram:/startup-config", "startup-config", IFS_K_STARTUP, "/startup-config", 0},
        {"/system:running-config", "running-config", IFS_K_RUNNING, "/running-config", 0},
        {"bootflash:x.bin", "bootflash:x.bin", IFS_K_DISK, "/x.bin", 0},
        {"/bootflash:x.bin", "bootflash:x.bin", IFS_K_DISK, "/x.bin", 0},
        {"flash:/d/x", "bootflash:d/x", IFS_K_DISK, "/d/x", 0},
        {"/some/cwd/nvram:x", "nvram:x", IFS_K_DISK, "/nvram:/x", 0},
        {"//bootflash:c1.bin", "bootflash:c1.bin", IFS_K_DISK, "/c1.bin", 0}, /* curl /~/ */
        {"/nvram:", "nvram:", IFS_K_DISK, "/nvram:", 0},
        {"/nvram:/..", "bootflash:", IFS_K_DISK, "/", 0},
        {"/nvram:/d/../x", "nvram:x", IFS_K_DISK, "/nvram:/x", 0},
        {"/bootflash:/running-config", "bootflash:running-config", IFS_K_DISK,
         "/bootflash:/running-config", 0},
        {"/a:b", "bootflash:a:b", IFS_K_DISK, "/a:b", 0},      /* not a file system: a name */
        {"~/~/v", "bootflash:~/~/v", IFS_K_DISK, "/~/~/v", 0}, /* "~" is a name here */
        {"/~", "bootflash:~", IFS_K_DISK, "/~", 0},
        {"/bootflash:nvram:x", "bootflash:nvram:x", IFS_K_DISK, "/bootflash:nvram:x", 0},
        {"/bootflash/image.bin", "bootflash:image.bin", IFS_K_DISK, "/image.bin", 0},
        {"/flash/d/x", "bootflash:d/x", IFS_K_DISK, "/d/x", 0},
        {"/nvram", "nvram:", IFS_K_DISK, "/nvram:", 0},
        {"nvram/startup-config", "startup-config", IFS_K_STARTUP, "/startup-config", 0},
        {"/system/running-config", "running-config", IFS_K_RUNNING, "/running-config", 0},
        {"/bootflash/bootflash/x", "bootflash:bootflash/x", IFS_K_DISK, "/bootflash:/bootflash/x",
         0}, /* only the first name */
        {"/d/nvram/x", "bootflash:d/nvram/x", IFS_K_DISK, "/d/nvram/x", 0},
        {"/nvram/..", "bootflash:", IFS_K_DISK, "/", 0},
        {"/..", NULL, 0, NULL, SCPD_E_DENIED},
        {"../../etc/passwd", NULL, 0, NULL, SCPD_E_DENIED},
        {"/a/../../etc/passwd", NULL, 0, NULL, SCPD_E_DENIED},
        {"/nvram:/../..", NULL, 0, NULL, SCPD_E_DENIED},
        {"/a\x01z", NULL, 0, NULL, SCPD_E_INVALID},
        {"/.scpd-tmp.x", NULL, 0, NULL, SCPD_E_DENIED},
        {"/system:x", NULL, 0, NULL, SCPD_E_NOTFOUND},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct ifs_path p, back;
        struct scpd_err err = {0};
        char real[LIM_PATH_LEN + 16];
        int r = sftp_proto_path(rows[i].sftp, &p, &err);
        if (!rows[i].name) {
            if (r != -1 || err.code != rows[i].code)
                fail_msg("%s: expected error %d, got %d (%s)", rows[i].sftp, rows[i].code, err.code,
                         r == 0 ? p.name : err.msg);
            continue;
        }
        if (r != 0)
            fail_msg("%s: %s", rows[i].sftp, err.msg);
        assert_string_equal(p.name, rows[i].name);
        assert_int_equal(p.kind, rows[i].kind);
        assert_int_equal(sftp_proto_realname(&p, real, sizeof(real)), 0);
        assert_string_equal(real, rows[i].real);
        /* the canonical form maps back to the same file */
        assert_int_equal(sftp_proto_path(real, &back, &err), 0);
        assert_string_equal(back.name, p.name);
        assert_int_equal(back.kind, p.kind);
    }
}

/* A refused path is quoted with its control characters as '?': a client cannot put a newline
 * or a terminal escape into a status message, a log line or a trace. */
static void test_path_messages_visible(void **state)
{
    static const struct {
        const char *sftp;
        enum scpd_errcode code;
        const char *shown;
    } rows[] = {
        {"/../\x1b[2Jx\n", SCPD_E_DENIED, "?[2Jx?"},
        {"a/../../e\ntc/\x1b", SCPD_E_DENIED, "e?tc/?"},
        {"/nvram:/../../\x1b]0;t\x07", SCPD_E_DENIED, "?]0;t?"},
        {"/d/x\n\x1b", SCPD_E_INVALID, "x??"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct ifs_path p;
        struct scpd_err err = {0};
        assert_int_equal(sftp_proto_path(rows[i].sftp, &p, &err), -1);
        assert_int_equal(err.code, rows[i].code);
        for (const char *c = err.msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                fail_msg("row %zu: control character 0x%02x in \"%s\"", i, (unsigned char)*c,
                         err.msg);
        if (strstr(err.msg, rows[i].shown) == NULL)
            fail_msg("row %zu: \"%s\" not in \"%s\"", i, rows[i].shown, err.msg);
    }
}

static void test_path_too_long(void **state)
{
    char path[LIM_PATH_LEN + 8];
    struct ifs_path p;
    struct scpd_err err = {0};
    memset(path, 'a', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    assert_int_equal(sftp_proto_path(path, &p, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    for (size_t i = 0; i + 2 < sizeof(path); i += 2)
        path[i + 1] = '/';
    path[LIM_PATH_LEN - 101] = '\0'; /* room for "bootflash:" in the canonical name */
    assert_int_equal(sftp_proto_path(path, &p, &err), 0); /* short components, long path */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_open),
        cmocka_unit_test(test_read_write),
        cmocka_unit_test(test_simple_requests),
        cmocka_unit_test(test_extended_and_unknown),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_cstr),
        cmocka_unit_test(test_status_bytes),
        cmocka_unit_test(test_builders_all_or_nothing),
        cmocka_unit_test(test_name_and_version),
        cmocka_unit_test(test_longname),
        cmocka_unit_test(test_path_mapping),
        cmocka_unit_test(test_path_messages_visible),
        cmocka_unit_test(test_path_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
