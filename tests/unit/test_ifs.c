/* Unit tests of ifs/: the resolver as a table of good and bad paths, file access beneath the root
 * (symlink escapes refused at every position), atomic uploads (commit, abort, nothing left
 * behind, crash leftovers removed at open), the size limit and the space accounting (used bytes
 * after replace/unlink/rename, reservations of concurrent uploads), listings, and the virtual
 * config files on a real store (merge, replace, invalid config refused with the store unchanged).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>

#include "tests/unit/ifs_fixture.h"

static int setup(void **state)
{
    *state = fx_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static const struct {
    const char *in;
    enum ifs_kind kind;
    enum ifs_fs fs;
    const char *rel;
    const char *name;
} good[] = {
    {"bootflash:", IFS_K_DISK, IFS_FS_BOOTFLASH, "", "bootflash:"},
    {"bootflash:/", IFS_K_DISK, IFS_FS_BOOTFLASH, "", "bootflash:"},
    {"bootflash:/dir/file", IFS_K_DISK, IFS_FS_BOOTFLASH, "dir/file", "bootflash:dir/file"},
    {"bootflash:dir/file", IFS_K_DISK, IFS_FS_BOOTFLASH, "dir/file", "bootflash:dir/file"},
    {"bootflash:dir//./file/", IFS_K_DISK, IFS_FS_BOOTFLASH, "dir/file", "bootflash:dir/file"},
    {"flash:image.bin", IFS_K_DISK, IFS_FS_BOOTFLASH, "image.bin", "bootflash:image.bin"},
    {"FLASH:x", IFS_K_DISK, IFS_FS_BOOTFLASH, "x", "bootflash:x"},
    {"nvram:", IFS_K_DISK, IFS_FS_NVRAM, "", "nvram:"},
    {"nvram:notes.txt", IFS_K_DISK, IFS_FS_NVRAM, "notes.txt", "nvram:notes.txt"},
    {"nvram:startup-config", IFS_K_STARTUP, IFS_FS_NVRAM, "", "startup-config"},
    {"nvram:/startup-config", IFS_K_STARTUP, IFS_FS_NVRAM, "", "startup-config"},
    {"startup-config", IFS_K_STARTUP, IFS_FS_NVRAM, "", "startup-config"},
    {"running-config", IFS_K_RUNNING, IFS_FS_SYSTEM, "", "running-config"},
    {"system:running-config", IFS_K_RUNNING, IFS_FS_SYSTEM, "", "running-config"},
    {"bootflash:running-config", IFS_K_DISK, IFS_FS_BOOTFLASH, "running-config",
     "bootflash:running-config"},
    {"file.txt", IFS_K_DISK, IFS_FS_BOOTFLASH, "file.txt", "bootflash:file.txt"},
    {"a b/c d", IFS_K_DISK, IFS_FS_BOOTFLASH, "a b/c d", "bootflash:a b/c d"},
    {".", IFS_K_DISK, IFS_FS_BOOTFLASH, "", "bootflash:"},
    {"", IFS_K_DISK, IFS_FS_BOOTFLASH, "", "bootflash:"},
    {"~", IFS_K_DISK, IFS_FS_BOOTFLASH, "", "bootflash:"},
    {"~/x", IFS_K_DISK, IFS_FS_BOOTFLASH, "x", "bootflash:x"},
    {"/bootflash:x", IFS_K_DISK, IFS_FS_BOOTFLASH, "x", "bootflash:x"},
    {"~/nvram:y", IFS_K_DISK, IFS_FS_NVRAM, "y", "nvram:y"},
    {"/running-config:", IFS_K_DISK, IFS_FS_BOOTFLASH, "", ""},   /* marker: must fail, below */
};

static const struct {
    const char *in;
    enum scpd_errcode code;
    const char *why;
} badp[] = {
    {"foo:x", SCPD_E_INVALID, "Invalid file system"},
    {":x", SCPD_E_INVALID, "Invalid file system"},
    {"tftp://1.2.3.4/x", SCPD_E_INVALID, "Invalid file system"},
    {"/etc/passwd", SCPD_E_DENIED, "absolute host path"},
    {"/", SCPD_E_DENIED, "absolute host path"},
    {"/foo:x", SCPD_E_DENIED, "absolute host path"},
    {"..", SCPD_E_DENIED, "'..'"},
    {"../x", SCPD_E_DENIED, "'..'"},
    {"bootflash:../x", SCPD_E_DENIED, "'..'"},
    {"bootflash:/a/../../x", SCPD_E_DENIED, "'..'"},
    {"nvram:..", SCPD_E_DENIED, "'..'"},
    {"a\nb", SCPD_E_INVALID, "control character"},
    {"bootflash:a\x1b[2J", SCPD_E_INVALID, "control character"},
    {"bootflash:x\x7f", SCPD_E_INVALID, "control character"},
    {"bootflash:.scpd-tmp.123", SCPD_E_DENIED, "reserved"},
    {"system:", SCPD_E_NOTFOUND, "only running-config"},
    {"system:other", SCPD_E_NOTFOUND, "only running-config"},
};

static void test_resolve_table(void **state)
{
    struct ifs_path p;
    struct scpd_err err = {0};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!good[i].name[0]) {
            assert_int_equal(ifs_resolve(good[i].in, &p, &err), -1);
            continue;
        }
        if (ifs_resolve(good[i].in, &p, &err) < 0)
            fail_msg("'%s': %s", good[i].in, err.msg);
        assert_int_equal(p.kind, good[i].kind);
        assert_int_equal(p.fs, good[i].fs);
        assert_string_equal(p.rel, good[i].rel);
        assert_string_equal(p.name, good[i].name);
    }
    for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++) {
        scpd_err_clear(&err);
        if (ifs_resolve(badp[i].in, &p, &err) == 0)
            fail_msg("'%s' resolved to %s", badp[i].in, p.name);
        if (err.code != badp[i].code || !strstr(err.msg, badp[i].why))
            fail_msg("'%s': code %d '%s', want %d '%s'", badp[i].in, err.code, err.msg,
                     badp[i].code, badp[i].why);
        assert_non_null(strstr(err.msg, "%Error opening"));
        assert_null(strchr(err.msg, '\n'));   /* the message is one line */
    }
}

static void test_resolve_lengths(void **state)
{
    struct ifs_path p;
    struct scpd_err err = {0};
    char path[LIM_PATH_LEN + 16], name[LIM_NAME_LEN + 2];
    /* a component of 255 is fine, 256 is not */
    memset(name, 'n', sizeof(name));
    snprintf(path, sizeof(path), "bootflash:%.*s", LIM_NAME_LEN, name);
    assert_int_equal(ifs_resolve(path, &p, &err), 0);
    snprintf(path, sizeof(path), "bootflash:%.*s", LIM_NAME_LEN + 1, name);
    assert_int_equal(ifs_resolve(path, &p, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    /* a whole path of LIM_PATH_LEN is too long */
    for (size_t i = 0; i < sizeof(path) - 1; i++)
        path[i] = i % 100 == 99 ? '/' : 'd';
    path[LIM_PATH_LEN] = '\0';
    assert_int_equal(ifs_resolve(path, &p, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    assert_int_equal(ifs_resolve(NULL, &p, &err), -1);
}

static void test_child(void **state)
{
    struct ifs_path d, c;
    struct scpd_err err = {0};
    assert_int_equal(ifs_resolve("bootflash:dir", &d, &err), 0);
    assert_int_equal(ifs_child(&d, "f.txt", &c, &err), 0);
    assert_string_equal(c.rel, "dir/f.txt");
    assert_string_equal(c.name, "bootflash:dir/f.txt");
    assert_string_equal(ifs_basename(&c), "f.txt");
    assert_int_equal(ifs_child(&d, "..", &c, &err), -1);
    assert_int_equal(ifs_child(&d, "a/b", &c, &err), -1);
    assert_int_equal(ifs_child(&d, "", &c, &err), -1);
    assert_int_equal(ifs_child(&d, "a\nb", &c, &err), -1);
    assert_int_equal(ifs_resolve("running-config", &d, &err), 0);
    assert_int_equal(ifs_child(&d, "x", &c, &err), -1);
    /* a name received for the root of nvram: can be the startup datastore */
    assert_int_equal(ifs_resolve("nvram:", &d, &err), 0);
    assert_int_equal(ifs_child(&d, "startup-config", &c, &err), 0);
    assert_int_equal(c.kind, IFS_K_STARTUP);
    assert_int_equal(ifs_resolve("bootflash:", &d, &err), 0);
    assert_int_equal(ifs_child(&d, "startup-config", &c, &err), 0);
    assert_int_equal(c.kind, IFS_K_DISK);
}

static struct ifs_path P(const char *s)
{
    struct ifs_path p;
    struct scpd_err err = {0};
    if (ifs_resolve(s, &p, &err) < 0)
        fail_msg("%s: %s", s, err.msg);
    return p;
}

static int upload(struct fx *f, const char *path, const char *data, struct scpd_err *err)
{
    struct ifs_path p = P(path);
    struct ifs_writer *w = ifs_write_open(f->ifs, &p, strlen(data), 0644, NULL, err);
    if (!w)
        return -1;
    if (ifs_write(w, data, strlen(data), err) < 0) {
        ifs_write_abort(w);
        return -1;
    }
    return ifs_write_commit(w, NULL, NULL, err);
}

static void test_upload_commit_abort(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    struct ifs_path p = P("bootflash:a.txt");
    assert_int_equal(upload(f, "bootflash:a.txt", "first", &err), 0);
    char *s = fx_get(f, "a.txt");
    assert_string_equal(s, "first");
    free(s);
    /* an aborted replacement leaves the old file and no temporary file */
    struct ifs_writer *w = ifs_write_open(f->ifs, &p, 10, 0644, NULL, &err);
    assert_non_null(w);
    assert_int_equal(ifs_write(w, "12345", 5, &err), 0);
    assert_int_equal(fx_temps(f), 1);
    ifs_write_abort(w);
    assert_int_equal(fx_temps(f), 0);
    s = fx_get(f, "a.txt");
    assert_string_equal(s, "first");
    free(s);
    /* commit with fewer bytes than announced fails and changes nothing */
    w = ifs_write_open(f->ifs, &p, 10, 0644, NULL, &err);
    assert_int_equal(ifs_write(w, "12345", 5, &err), 0);
    assert_int_equal(ifs_write_commit(w, NULL, NULL, &err), -1);
    assert_int_equal(fx_temps(f), 0);
    s = fx_get(f, "a.txt");
    assert_string_equal(s, "first");
    free(s);
    /* more than announced is refused */
    w = ifs_write_open(f->ifs, &p, 2, 0644, NULL, &err);
    assert_int_equal(ifs_write(w, "123", 3, &err), -1);
    ifs_write_abort(w);
    /* replacement with times and a mode restricted to 0755 | 0600 */
    w = ifs_write_open(f->ifs, &p, 6, 04777, NULL, &err);
    assert_int_equal(ifs_write(w, "second", 6, &err), 0);
    int64_t times[2] = {1000000000, 1000000001};
    assert_int_equal(ifs_write_commit(w, times, NULL, &err), 0);
    struct ifs_stat st;
    assert_int_equal(ifs_stat(f->ifs, &p, &st, &err), 0);
    assert_int_equal(st.size, 6);
    assert_int_equal(st.mode, 0755);
    assert_int_equal(st.mtime, 1000000000);
    assert_int_equal(st.atime, 1000000001);
    /* a large upload through the gathering buffer */
    static char big[700000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    p = P("bootflash:big");
    w = ifs_write_open(f->ifs, &p, sizeof(big), 0600, NULL, &err);
    for (size_t off = 0; off < sizeof(big); off += 1000)
        assert_int_equal(
            ifs_write(w, big + off, sizeof(big) - off < 1000 ? sizeof(big) - off : 1000, &err), 0);
    assert_int_equal(ifs_write_commit(w, NULL, NULL, &err), 0);
    s = fx_get(f, "big");
    assert_memory_equal(s, big, sizeof(big));
    free(s);
}

static void test_stale_temps_removed(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    char p[600];
    fx_put(f, ".scpd-tmp.deadbeef", "crash leftover");
    snprintf(p, sizeof(p), "%s/sub", f->boot);
    mkdir(p, 0700);
    fx_put(f, "sub/.scpd-tmp.0123", "crash leftover");
    fx_put(f, "keep", "x");
    assert_int_equal(fx_temps(f), 2);
    ifs_free(f->ifs);
    f->ifs = ifs_open(f->dir, f->st, &err);
    assert_non_null(f->ifs);
    assert_int_equal(fx_temps(f), 0);
    char *s = fx_get(f, "keep");
    assert_string_equal(s, "x");
    free(s);
}

static void test_symlink_escapes(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    struct ifs_stat st;
    char link[600], target[600];
    snprintf(target, sizeof(target), "%s/secret", f->outside);
    FILE *fp = fopen(target, "w");
    fputs("outside", fp);
    fclose(fp);
    snprintf(link, sizeof(link), "%s/dirlink", f->boot);
    assert_int_equal(symlink(f->outside, link), 0);
    snprintf(link, sizeof(link), "%s/filelink", f->boot);
    assert_int_equal(symlink(target, link), 0);

    struct ifs_path p = P("bootflash:dirlink/secret");
    assert_int_equal(ifs_stat(f->ifs, &p, &st, &err), -1);
    assert_int_equal(err.code, SCPD_E_DENIED);
    assert_non_null(strstr(err.msg, "symbolic link"));
    assert_null(ifs_read_open(f->ifs, &p, NULL, &err));
    assert_int_equal(err.code, SCPD_E_DENIED);
    assert_int_equal(upload(f, "bootflash:dirlink/new", "x", &err), -1);
    assert_int_equal(err.code, SCPD_E_DENIED);
    assert_int_equal(upload(f, "bootflash:filelink", "overwrite", &err), -1);
    assert_int_equal(err.code, SCPD_E_DENIED);
    p = P("bootflash:filelink");
    assert_null(ifs_read_open(f->ifs, &p, NULL, &err));
    assert_int_equal(err.code, SCPD_E_DENIED);
    p = P("bootflash:dirlink/sub");
    assert_int_equal(ifs_mkdir(f->ifs, &p, 0755, &err), -1);
    /* nothing changed outside */
    assert_int_equal(fx_entries(f->outside), 1);
    fp = fopen(target, "r");
    char buf[32] = {0};
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    assert_string_equal(buf, "outside");
    /* listings skip symlinks */
    struct ifs_dirent *ents;
    size_t n;
    p = P("bootflash:");
    assert_int_equal(ifs_list(f->ifs, &p, &ents, &n, &err), 0);
    assert_int_equal(n, 0);
    free(ents);
}

static void test_special_files(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    char fifo[600];
    snprintf(fifo, sizeof(fifo), "%s/fifo", f->boot);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    struct ifs_path p = P("bootflash:fifo");
    assert_null(ifs_read_open(f->ifs, &p, NULL, &err));   /* must not hang */
    assert_int_equal(err.code, SCPD_E_DENIED);
}

static void test_list_mkdir_stat(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    struct ifs_stat st;
    struct ifs_path p = P("bootflash:d1");
    assert_int_equal(ifs_mkdir(f->ifs, &p, 0755, &err), 0);
    assert_int_equal(ifs_mkdir(f->ifs, &p, 0755, &err), 0);   /* exists: fine */
    assert_int_equal(upload(f, "bootflash:d1/b", "bb", &err), 0);
    assert_int_equal(upload(f, "bootflash:d1/a", "a", &err), 0);
    p = P("bootflash:d1/a");
    assert_int_equal(ifs_mkdir(f->ifs, &p, 0755, &err), -1);  /* a file of that name */
    p = P("bootflash:d1/missing/x");
    assert_int_equal(upload(f, "bootflash:d1/missing/x", "x", &err), -1);
    assert_int_equal(err.code, SCPD_E_NOTFOUND);
    p = P("bootflash:d1");
    assert_int_equal(ifs_stat(f->ifs, &p, &st, &err), 0);
    assert_true(st.dir);
    struct ifs_dirent *ents;
    size_t n;
    assert_int_equal(ifs_list(f->ifs, &p, &ents, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ents[0].name, "a");
    assert_string_equal(ents[1].name, "b");
    assert_int_equal(ents[1].st.size, 2);
    free(ents);
    p = P("bootflash:nothing");
    assert_int_equal(ifs_stat(f->ifs, &p, &st, &err), -1);
    assert_int_equal(err.code, SCPD_E_NOTFOUND);
    p = P("bootflash:d1/a");
    assert_int_equal(ifs_unlink(f->ifs, &p, &err), 0);
    assert_int_equal(ifs_stat(f->ifs, &p, &st, &err), -1);
    /* uploading onto a directory is refused */
    assert_int_equal(upload(f, "bootflash:d1", "x", &err), -1);
    assert_int_equal(upload(f, "bootflash:", "x", &err), -1);
    /* nvram is its own file system */
    assert_int_equal(upload(f, "nvram:n.txt", "nv", &err), 0);
    char path[600];
    snprintf(path, sizeof(path), "%s/fs/nvram/n.txt", f->dir);
    assert_int_equal(access(path, F_OK), 0);
}

static void test_size_limit(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    uint64_t size, avail;
    assert_int_equal(ifs_space(f->ifs, IFS_FS_BOOTFLASH, &size, &avail, &err), 0);
    assert_true(avail > 0 && size >= avail);
    assert_int_equal(ifs_set_limit(f->ifs, "flash", 100, &err), 0);
    assert_int_equal(upload(f, "bootflash:a", "0123456789012345678901234567890123456789", &err), 0);
    assert_int_equal(ifs_space(f->ifs, IFS_FS_BOOTFLASH, &size, &avail, &err), 0);
    assert_int_equal(size, 100);
    assert_int_equal(avail, 60);
    struct ifs_path p = P("bootflash:b");
    assert_null(ifs_write_open(f->ifs, &p, 61, 0644, NULL, &err));
    assert_int_equal(err.code, SCPD_E_LIMIT);
    assert_non_null(strstr(err.msg, "not enough space"));
    assert_int_equal(fx_temps(f), 0);
    /* nvram has its own size */
    assert_int_equal(
        upload(f, "nvram:x",
               "0123456789012345678901234567890123456789012345678901234567890123456789", &err),
        0);
    assert_int_equal(ifs_set_limit(f->ifs, "running-config", 1, &err), -1);
    assert_int_equal(ifs_set_limit(f->ifs, "bootflash", 0, &err), 0);
    struct ifs_writer *w = ifs_write_open(f->ifs, &p, 61, 0644, NULL, &err);
    assert_non_null(w);
    ifs_write_abort(w);
}

static void test_virtual_files(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    struct ifs_stat st;
    char buf[8192];
    struct ifs_path p = P("running-config");
    struct ifs_reader *r = ifs_read_open(f->ifs, &p, &st, &err);
    assert_non_null(r);
    ssize_t n = ifs_read(r, buf, sizeof(buf) - 1, &err);
    assert_true(n > 0 && (uint64_t)n == st.size);
    buf[n] = '\0';
    ifs_read_close(r);
    assert_non_null(strstr(buf, "Building configuration"));
    assert_non_null(strstr(buf, "hostname R1"));
    assert_non_null(strstr(buf, "ip scp server enable"));
    /* merge */
    struct store_who who = {.user = "tiger", .source = "scp", .peer = "127.0.0.1:1"};
    const char *merge = "hostname R2\n";
    struct ifs_writer *w = ifs_write_open(f->ifs, &p, strlen(merge), 0644, &who, &err);
    assert_int_equal(ifs_write(w, merge, strlen(merge), &err), 0);
    assert_int_equal(ifs_write_commit(w, NULL, NULL, &err), 0);
    const struct store_snap *snap = store_snapshot(f->st);
    assert_string_equal(snap->cfg->hostname, "R2");
    assert_true(snap->cfg->scp_enable);       /* merged, not replaced */
    uint64_t version = snap->version;
    store_snap_release(snap);
    /* invalid config: refused with the parser's errors, store unchanged */
    const char *badcfg = "hostname R3\nip ssh time-out 500\n";
    char *detail = NULL;
    w = ifs_write_open(f->ifs, &p, strlen(badcfg), 0644, &who, &err);
    assert_int_equal(ifs_write(w, badcfg, strlen(badcfg), &err), 0);
    assert_int_equal(ifs_write_commit(w, NULL, &detail, &err), -1);
    assert_int_equal(err.code, SCPD_E_INVALID);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_null(strchr(err.msg, '\n'));
    assert_non_null(detail);
    assert_non_null(strstr(detail, "^"));
    free(detail);
    snap = store_snapshot(f->st);
    assert_string_equal(snap->cfg->hostname, "R2");
    assert_int_equal(snap->version, version);
    store_snap_release(snap);
    /* startup-config: replace, then read back */
    p = P("nvram:startup-config");
    const char *startup = "hostname S1\n";
    w = ifs_write_open(f->ifs, &p, strlen(startup), 0644, &who, &err);
    assert_int_equal(ifs_write(w, startup, strlen(startup), &err), 0);
    assert_int_equal(ifs_write_commit(w, NULL, NULL, &err), 0);
    r = ifs_read_open(f->ifs, &p, &st, &err);
    assert_non_null(r);
    n = ifs_read(r, buf, sizeof(buf) - 1, &err);
    buf[n > 0 ? n : 0] = '\0';
    ifs_read_close(r);
    assert_non_null(strstr(buf, "hostname S1"));
    /* dir nvram: shows startup-config (a disk file of that name is hidden by it) */
    char path[600];
    snprintf(path, sizeof(path), "%s/fs/nvram/startup-config", f->dir);
    FILE *fp = fopen(path, "w");
    fputs("shadowed", fp);
    fclose(fp);
    struct ifs_dirent *ents;
    size_t cnt;
    struct ifs_path nv = P("nvram:");
    assert_int_equal(ifs_list(f->ifs, &nv, &ents, &cnt, &err), 0);
    assert_int_equal(cnt, 1);
    assert_string_equal(ents[0].name, "startup-config");
    assert_true(ents[0].st.virt);
    assert_true(ents[0].st.size > 0);
    free(ents);
    /* a config upload over the limit is refused up front */
    assert_null(ifs_write_open(f->ifs, &p, LIM_CONFIG_FILE_BYTES + 1, 0644, &who, &err));
    assert_int_equal(err.code, SCPD_E_LIMIT);
    /* virtual files are not directories */
    assert_int_equal(ifs_stat(f->ifs, &p, &st, &err), 0);
    assert_true(st.virt);
    assert_false(st.dir);
}

/* ---- uploads of unknown size (SFTP) ---- */

static struct ifs_writer *open_unknown(struct fx *f, const char *path, struct scpd_err *err)
{
    struct ifs_path p = P(path);
    return ifs_write_open(f->ifs, &p, IFS_SIZE_UNKNOWN, 0644, NULL, err);
}

static void test_unknown_size_upload(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    fx_put(f, "u.bin", "old");
    struct ifs_writer *w = open_unknown(f, "bootflash:u.bin", &err);
    assert_non_null(w);
    assert_int_equal(fx_temps(f), 1);
    /* out of order, with a gap filled later; ifs_write appends */
    assert_int_equal(ifs_pwrite(w, "world", 5, 6, &err), 0);
    assert_int_equal(ifs_pwrite(w, "hello ", 6, 0, &err), 0);
    assert_int_equal(ifs_write(w, "!", 1, &err), 0);
    assert_int_equal(ifs_write_size(w), 12);
    char *s = fx_get(f, "u.bin");
    assert_string_equal(s, "old");   /* untouched until the commit */
    free(s);
    assert_int_equal(ifs_write_truncate(w, 11, &err), 0);
    assert_int_equal(ifs_write_commit(w, NULL, NULL, &err), 0);
    s = fx_get(f, "u.bin");
    assert_string_equal(s, "hello world");
    free(s);
    assert_int_equal(fx_temps(f), 0);
    /* aborted: the old file stays, nothing left behind */
    w = open_unknown(f, "bootflash:u.bin", &err);
    assert_int_equal(ifs_pwrite(w, "junk", 4, 0, &err), 0);
    ifs_write_abort(w);
    s = fx_get(f, "u.bin");
    assert_string_equal(s, "hello world");
    free(s);
    assert_int_equal(fx_temps(f), 0);
    /* random-access calls on a known-size upload are a programming error, said so */
    struct ifs_path p = P("bootflash:k");
    w = ifs_write_open(f->ifs, &p, 3, 0644, NULL, &err);
    assert_int_equal(ifs_pwrite(w, "abc", 3, 0, &err), -1);
    assert_int_equal(err.code, SCPD_E_INTERNAL);
    ifs_write_abort(w);
    /* the same checks at open as the known-size path: no directory, no symlink, no missing dir */
    assert_null(open_unknown(f, "bootflash:", &err));
    assert_null(open_unknown(f, "bootflash:nodir/x", &err));
    assert_int_equal(err.code, SCPD_E_NOTFOUND);
    char link[600];
    snprintf(link, sizeof(link), "%s/l", f->boot);
    assert_int_equal(symlink(f->outside, link), 0);
    assert_null(open_unknown(f, "bootflash:l/x", &err));
    assert_int_equal(err.code, SCPD_E_DENIED);
    assert_null(open_unknown(f, "bootflash:l", &err));
    assert_int_equal(err.code, SCPD_E_DENIED);
    assert_int_equal(fx_entries(f->outside), 0);
    assert_int_equal(fx_temps(f), 0);
}

static void test_unknown_size_limit(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    char buf[100];
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(upload(f, "bootflash:keep", "0123456789", &err), 0);
    assert_int_equal(ifs_set_limit(f->ifs, "bootflash", 100, &err), 0);   /* 90 free */
    struct ifs_writer *w = open_unknown(f, "bootflash:keep", &err);
    assert_non_null(w);
    assert_int_equal(ifs_pwrite(w, buf, 90, 0, &err), 0);
    assert_int_equal(ifs_pwrite(w, buf, 1, 90, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    assert_non_null(strstr(err.msg, "not enough space"));
    assert_non_null(strstr(err.msg, "90 bytes free on bootflash:"));
    assert_int_equal(ifs_pwrite(w, buf, 1, UINT64_MAX - 1, &err), -1);   /* no wrap-around */
    assert_int_equal(ifs_write_truncate(w, 91, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    ifs_write_abort(w);
    char *s = fx_get(f, "keep");
    assert_string_equal(s, "0123456789");
    free(s);
    assert_int_equal(fx_temps(f), 0);
    /* config files: LIM_CONFIG_FILE_BYTES, in memory, merged at the commit */
    struct store_who who = {.user = "tiger", .source = "sftp", .peer = "127.0.0.1:2"};
    struct ifs_path rc = P("running-config");
    w = ifs_write_open(f->ifs, &rc, IFS_SIZE_UNKNOWN, 0644, &who, &err);
    assert_non_null(w);
    assert_int_equal(ifs_write_keep(w, &err), 0);   /* no-op: config files start empty */
    assert_int_equal(ifs_write_size(w), 0);
    assert_int_equal(ifs_pwrite(w, "x", 1, LIM_CONFIG_FILE_BYTES, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    assert_int_equal(ifs_pwrite(w, "R9\n", 3, 9, &err), 0);
    assert_int_equal(ifs_pwrite(w, "hostname ", 9, 0, &err), 0);
    assert_int_equal(ifs_write_commit(w, NULL, NULL, &err), 0);
    struct ifs_reader *r = ifs_read_open(f->ifs, &rc, NULL, &err);
    char text[8192];
    ssize_t n = ifs_read(r, text, sizeof(text) - 1, &err);
    ifs_read_close(r);
    assert_true(n > 0);
    text[n] = '\0';
    assert_non_null(strstr(text, "hostname R9"));
}

/* OPEN without TRUNC: the old content shows wherever nothing new was written. */
static void test_unknown_size_keep(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    static const struct {
        const char *steps;   /* w<off><char> write, t<size> truncate */
        const char *want;
        size_t want_len;
    } rows[] = {
        {"w0a w1b w2c t3", "abc", 3},
        {"w0a w1b", "ab23456789", 10},
        {"w5X w0Y", "Y1234X6789", 10},
        {"w0a t12", "a123456789\0\0", 12},
        {"w0a w1b t1 w4Z", "a\0\0\0Z", 5},
        {"", "0123456789", 10},
        {"wAQ", "0123456789Q", 11},   /* A = offset 10: an append */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        fx_put(f, "old.txt", "0123456789");
        struct ifs_writer *w = open_unknown(f, "bootflash:old.txt", &err);
        assert_non_null(w);
        assert_int_equal(ifs_write_keep(w, &err), 0);
        assert_int_equal(ifs_write_size(w), 10);
        /* the old file replaced meanwhile (ifs replaces by rename): what was there at OPEN is
         * what is kept */
        assert_int_equal(upload(f, "bootflash:old.txt", "ZZ", &err), 0);
        for (const char *c = rows[i].steps; *c; c++) {
            if (*c == 'w') {
                uint64_t off = c[1] == 'A' ? 10 : (uint64_t)(c[1] - '0');
                assert_int_equal(ifs_pwrite(w, c + 2, 1, off, &err), 0);
                c += 2;
            } else if (*c == 't') {
                char *e;
                assert_int_equal(ifs_write_truncate(w, strtoul(c + 1, &e, 10), &err), 0);
                c = e - 1;
            }
        }
        assert_int_equal(ifs_write_size(w), rows[i].want_len);
        assert_int_equal(ifs_write_commit(w, NULL, NULL, &err), 0);
        char path[600], got[64];
        snprintf(path, sizeof(path), "%s/old.txt", f->boot);
        FILE *fp = fopen(path, "rb");
        size_t n = fread(got, 1, sizeof(got), fp);
        fclose(fp);
        if (n != rows[i].want_len || memcmp(got, rows[i].want, n) != 0)
            fail_msg("row %zu (%s): got %zu bytes '%.*s'", i, rows[i].steps, n, (int)n, got);
    }
    /* a kept content larger than the space is refused when it has to be copied */
    static char big[4096];
    memset(big, 'b', sizeof(big) - 1);
    fx_put(f, "big", big);   /* put there behind ifs's back: not counted as used */
    assert_int_equal(ifs_set_limit(f->ifs, "bootflash", 4000, &err), 0);
    struct ifs_writer *w = open_unknown(f, "bootflash:big", &err);
    assert_int_equal(ifs_write_keep(w, &err), 0);
    assert_int_equal(ifs_pwrite(w, "x", 1, 5, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    ifs_write_abort(w);
    assert_int_equal(fx_temps(f), 0);
    /* no old file: nothing kept */
    w = open_unknown(f, "bootflash:fresh", &err);
    assert_int_equal(ifs_write_keep(w, &err), 0);
    assert_int_equal(ifs_write_size(w), 0);
    ifs_write_abort(w);
}

/* ---- rename, rmdir ---- */

static int ren(struct fx *f, const char *a, const char *b, bool replace, struct scpd_err *err)
{
    struct ifs_path pa = P(a), pb = P(b);
    return ifs_rename(f->ifs, &pa, &pb, replace, err);
}

/* ---- space accounting ---- */

static struct ifs_fs_info info(struct fx *f, enum ifs_fs which)
{
    struct ifs_fs_info in;
    struct scpd_err err = {0};
    if (ifs_info(f->ifs, which, &in, &err) < 0)
        fail_msg("ifs_info: %s", err.msg);
    return in;
}

/* used is counted once at open and follows every commit, unlink and rename through ifs. */
static void test_space_accounting(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    char host[600];
    static char hundred[101], fifty[51];
    memset(hundred, 'h', 100);
    memset(fifty, 'f', 50);
    fx_put(f, "pre", hundred);
    snprintf(host, sizeof(host), "%s/d", f->boot);
    mkdir(host, 0700);
    fx_put(f, "d/sub", fifty);
    fx_put(f, ".scpd-tmp.crash", hundred);   /* a crash's leftover: removed, not counted */
    ifs_free(f->ifs);
    f->ifs = ifs_open(f->dir, f->st, &err);
    assert_non_null(f->ifs);
    struct ifs_fs_info in = info(f, IFS_FS_BOOTFLASH);
    assert_string_equal(in.name, "bootflash");
    assert_string_equal(in.type, "disk");
    assert_string_equal(in.prefixes[0], "bootflash");
    assert_string_equal(in.prefixes[1], "flash");
    assert_null(in.prefixes[2]);
    assert_true(in.sized && !in.size_set);
    assert_int_equal(in.used, 150);
    assert_int_equal(in.size, in.used + in.free);   /* nothing in flight */
    assert_int_equal(fx_temps(f), 0);

    assert_int_equal(ifs_set_limit(f->ifs, "flash:", 1000, &err), 0);
    in = info(f, IFS_FS_BOOTFLASH);
    assert_true(in.size_set);
    assert_int_equal(in.size, 1000);
    assert_int_equal(in.free, 850);
    assert_int_equal(upload(f, "bootflash:a", hundred, &err), 0);   /* new: +100 */
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).used, 250);
    assert_int_equal(upload(f, "bootflash:a", fifty, &err), 0);     /* replaced: -100 +50 */
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).used, 200);
    struct ifs_path a = P("bootflash:a"), pre = P("bootflash:pre"), b = P("bootflash:d/b");
    assert_int_equal(ifs_unlink(f->ifs, &a, &err), 0);
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).used, 150);
    assert_int_equal(upload(f, "bootflash:d/b", "0123456789", &err), 0);
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).used, 160);
    assert_int_equal(ifs_rename(f->ifs, &pre, &b, false, &err), -1);   /* refused: no change */
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).used, 160);
    assert_int_equal(ifs_rename(f->ifs, &pre, &b, true, &err), 0);    /* b's 10 bytes go */
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).used, 150);
    assert_int_equal(ifs_rename(f->ifs, &b, &pre, false, &err), 0);   /* a move: no change */
    struct ifs_path d = P("bootflash:d"), e = P("bootflash:e");
    assert_int_equal(ifs_rename(f->ifs, &d, &e, false, &err), 0);     /* a directory with sub */
    assert_int_equal(ifs_mkdir(f->ifs, &d, 0755, &err), 0);
    assert_int_equal(ifs_rmdir(f->ifs, &d, &err), 0);
    in = info(f, IFS_FS_BOOTFLASH);
    assert_int_equal(in.used, 150);
    assert_int_equal(in.free, 850);

    /* a known size is reserved at open, given back by the abort */
    struct ifs_path c = P("bootflash:c");
    struct ifs_writer *w = ifs_write_open(f->ifs, &c, 300, 0644, NULL, &err);
    assert_non_null(w);
    in = info(f, IFS_FS_BOOTFLASH);
    assert_int_equal(in.reserved, 300);
    assert_int_equal(in.free, 550);
    assert_int_equal(in.used, 150);
    ifs_write_abort(w);
    in = info(f, IFS_FS_BOOTFLASH);
    assert_int_equal(in.reserved, 0);
    assert_int_equal(in.free, 850);
    /* an unknown size as it grows; a truncate gives back what it cut; the commit counts the rest */
    w = ifs_write_open(f->ifs, &c, IFS_SIZE_UNKNOWN, 0644, NULL, &err);
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).reserved, 0);
    assert_int_equal(ifs_pwrite(w, hundred, 100, 0, &err), 0);
    assert_int_equal(ifs_pwrite(w, hundred, 100, 200, &err), 0);   /* a gap counts too */
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).reserved, 300);
    assert_int_equal(ifs_pwrite(w, "", 0, 600, &err), 0);   /* no data: no growth */
    assert_int_equal(ifs_write_size(w), 300);
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).reserved, 300);
    assert_int_equal(ifs_write_truncate(w, 20, &err), 0);
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).reserved, 20);
    assert_int_equal(ifs_write_commit(w, NULL, NULL, &err), 0);
    in = info(f, IFS_FS_BOOTFLASH);
    assert_int_equal(in.reserved, 0);
    assert_int_equal(in.used, 170);
    /* nvram: its own numbers; system: no size */
    assert_int_equal(info(f, IFS_FS_NVRAM).used, 0);
    assert_false(info(f, IFS_FS_NVRAM).size_set);
    in = info(f, IFS_FS_SYSTEM);
    assert_false(in.sized);
    assert_string_equal(in.type, "opaque");
    uint64_t size;
    assert_int_equal(ifs_space(f->ifs, IFS_FS_SYSTEM, &size, NULL, &err), -1);
    /* the names a size may be set for */
    enum ifs_fs which;
    assert_int_equal(ifs_fs_lookup("FLASH", &which, &err), 0);
    assert_int_equal(which, IFS_FS_BOOTFLASH);
    assert_int_equal(ifs_fs_lookup("nvram:", &which, &err), 0);
    assert_int_equal(which, IFS_FS_NVRAM);
    assert_int_equal(ifs_fs_lookup("system", &which, &err), -1);
    assert_int_equal(ifs_fs_lookup("running-config", &which, &err), -1);
    assert_non_null(strstr(err.msg, "not a disk file system"));
    assert_int_equal(ifs_fs_lookup("", &which, &err), -1);
}

/* OPEN without TRUNC, then a write or truncate out of order that copies the kept content in: the
 * space of the write itself stays reserved (the copy must not give it back), and a copy that
 * fails ends the upload. */
static void test_unknown_size_keep_space(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    static char hundred[101];
    memset(hundred, 'h', 100);
    assert_int_equal(upload(f, "bootflash:k", hundred, &err), 0);   /* used 100 */
    assert_int_equal(ifs_set_limit(f->ifs, "bootflash", 1000, &err), 0);
    struct ifs_writer *w = open_unknown(f, "bootflash:k", &err);
    assert_int_equal(ifs_write_keep(w, &err), 0);
    assert_int_equal(ifs_pwrite(w, "x", 1, 699, &err), 0);   /* out of order: merges */
    struct ifs_fs_info in = info(f, IFS_FS_BOOTFLASH);
    assert_int_equal(in.reserved, 700);
    assert_int_equal(in.free, 200);
    ifs_write_abort(w);
    w = open_unknown(f, "bootflash:k", &err);
    assert_int_equal(ifs_write_keep(w, &err), 0);
    assert_int_equal(ifs_pwrite(w, "y", 1, 0, &err), 0);      /* in order: no merge yet */
    assert_int_equal(ifs_write_truncate(w, 600, &err), 0);     /* merges, then grows */
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).reserved, 600);
    ifs_write_abort(w);
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).reserved, 0);

    /* the copy of the kept content does not fit: refused, and the commit too (it would have
     * replaced the file by the one byte written, the old tail gone) */
    assert_int_equal(ifs_set_limit(f->ifs, "bootflash", 150, &err), 0);   /* 50 free */
    w = open_unknown(f, "bootflash:k", &err);
    assert_int_equal(ifs_write_keep(w, &err), 0);
    assert_int_equal(ifs_pwrite(w, "y", 1, 0, &err), 0);
    assert_int_equal(ifs_write_truncate(w, 50, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    scpd_err_clear(&err);
    assert_int_equal(ifs_pwrite(w, "z", 1, 1, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    scpd_err_clear(&err);
    assert_int_equal(ifs_write_commit(w, NULL, NULL, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    assert_non_null(strstr(err.msg, "bootflash:k"));
    char *s = fx_get(f, "k");
    assert_string_equal(s, hundred);
    free(s);
    in = info(f, IFS_FS_BOOTFLASH);
    assert_int_equal(in.used, 100);
    assert_int_equal(in.reserved, 0);
    assert_int_equal(fx_temps(f), 0);
}

struct racer {
    struct fx *f;
    const char *path;
    pthread_barrier_t *opened;
    int result;             /* 0 committed, -1 refused at open */
    struct scpd_err err;
};

/* Opens a known-size upload of 600 bytes, waits until the other racer has opened too, then
 * writes and commits it. */
static void *race_upload(void *arg)
{
    struct racer *r = arg;
    static char data[600];
    memset(data, 'r', sizeof(data));
    struct ifs_path p = P(r->path);
    struct ifs_writer *w = ifs_write_open(r->f->ifs, &p, sizeof(data), 0644, NULL, &r->err);
    pthread_barrier_wait(r->opened);
    r->result = -1;
    if (w && ifs_write(w, data, sizeof(data), &r->err) == 0 &&
        ifs_write_commit(w, NULL, NULL, &r->err) == 0)
        r->result = 0;
    else if (w)
        fail_msg("%s: %s", r->path, r->err.msg);
    return NULL;
}

/* Two uploads that fit one at a time but not together: the later one is refused, whoever wins. */
static void test_concurrent_writers(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    pthread_barrier_t opened;
    pthread_t th[2];
    struct racer rc[2] = {{.f = f, .path = "bootflash:one"}, {.f = f, .path = "bootflash:two"}};
    assert_int_equal(upload(f, "bootflash:one", "old", &err), 0);
    assert_int_equal(ifs_set_limit(f->ifs, "bootflash", 1000, &err), 0);
    pthread_barrier_init(&opened, NULL, 2);
    for (int i = 0; i < 2; i++) {
        rc[i].opened = &opened;
        assert_int_equal(pthread_create(&th[i], NULL, race_upload, &rc[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&opened);
    assert_int_equal(rc[0].result + rc[1].result, -1);   /* exactly one committed */
    struct racer *lost = rc[0].result ? &rc[0] : &rc[1];
    assert_int_equal(lost->err.code, SCPD_E_LIMIT);
    assert_non_null(strstr(lost->err.msg, "not enough space: 600 bytes needed, 397 free"));
    char *s = fx_get(f, "one");
    assert_true(lost == &rc[0] ? strcmp(s, "old") == 0 : strlen(s) == 600);
    free(s);
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).used, lost == &rc[0] ? 603 : 600);
    assert_int_equal(fx_temps(f), 0);

    /* unknown sizes (SFTP): the write that crosses is refused, the other upload goes on */
    static char buf[300];
    memset(buf, 'u', sizeof(buf));
    struct ifs_path four = P("bootflash:four"), three = P("bootflash:three");
    struct ifs_path one = P("bootflash:one");
    if (lost == &rc[0])
        assert_int_equal(ifs_unlink(f->ifs, &one, &err), 0);   /* the old 3 bytes */
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).free, 400);
    struct ifs_writer *a = ifs_write_open(f->ifs, &four, IFS_SIZE_UNKNOWN, 0644, NULL, &err);
    struct ifs_writer *b = ifs_write_open(f->ifs, &three, IFS_SIZE_UNKNOWN, 0644, NULL, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(ifs_pwrite(a, buf, 250, 0, &err), 0);
    assert_int_equal(ifs_pwrite(b, buf, 100, 0, &err), 0);
    /* a known size does not fit beside them either */
    assert_null(ifs_write_open(f->ifs, &three, 51, 0644, NULL, &err));
    assert_int_equal(err.code, SCPD_E_LIMIT);
    assert_int_equal(ifs_pwrite(b, buf, 51, 100, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    assert_non_null(strstr(err.msg, "the 150 bytes free on bootflash:"));
    assert_int_equal(ifs_pwrite(b, buf, 50, 100, &err), 0);   /* exactly what is left */
    assert_int_equal(info(f, IFS_FS_BOOTFLASH).free, 0);
    ifs_write_abort(b);
    assert_int_equal(ifs_pwrite(a, buf, 150, 250, &err), 0);
    assert_int_equal(ifs_write_commit(a, NULL, NULL, &err), 0);
    struct ifs_fs_info in = info(f, IFS_FS_BOOTFLASH);
    assert_int_equal(in.used, 1000);
    assert_int_equal(in.free, 0);
    assert_int_equal(in.reserved, 0);
    assert_int_equal(fx_temps(f), 0);
}

static void test_rename_rmdir(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    struct ifs_stat st;
    char p[600], target[600];
    fx_put(f, "a", "A");
    fx_put(f, "b", "B");
    snprintf(p, sizeof(p), "%s/d", f->boot);
    mkdir(p, 0755);
    assert_int_equal(ren(f, "a", "d/a2", false, &err), 0);
    char *s = fx_get(f, "d/a2");
    assert_string_equal(s, "A");
    free(s);
    assert_null(fx_get(f, "a"));
    /* an existing target: refused, or replaced when asked (files only) */
    assert_int_equal(ren(f, "b", "d/a2", false, &err), -1);
    assert_int_equal(err.code, SCPD_E_EXISTS);
    assert_int_equal(ren(f, "b", "d", true, &err), -1);
    assert_int_equal(ren(f, "b", "d/a2", true, &err), 0);
    s = fx_get(f, "d/a2");
    assert_string_equal(s, "B");
    free(s);
    assert_int_equal(ren(f, "d/a2", "d/a2", false, &err), 0);
    assert_int_equal(ren(f, "missing", "x", false, &err), -1);
    assert_int_equal(err.code, SCPD_E_NOTFOUND);
    /* directories: moved whole, never into themselves, never across file systems */
    assert_int_equal(ren(f, "d", "e", false, &err), 0);
    assert_int_equal(ren(f, "e", "e/sub", false, &err), -1);
    assert_int_equal(err.code, SCPD_E_INVALID);
    assert_int_equal(ren(f, "e", "nvram:e", false, &err), -1);
    assert_non_null(strstr(err.msg, "same file system"));
    assert_int_equal(ren(f, "e/a2", "nvram:a2", true, &err), -1);
    assert_int_equal(ren(f, "bootflash:", "x", false, &err), -1);
    assert_int_equal(ren(f, "e", "bootflash:", false, &err), -1);
    assert_int_equal(ren(f, "e/a2", "running-config", true, &err), -1);
    assert_int_equal(ren(f, "startup-config", "x", true, &err), -1);
    /* escapes: a symlink at either end or on the way is refused, never followed */
    snprintf(target, sizeof(target), "%s/secret", f->outside);
    FILE *fp = fopen(target, "w");
    fputs("outside", fp);
    fclose(fp);
    snprintf(p, sizeof(p), "%s/dirlink", f->boot);
    assert_int_equal(symlink(f->outside, p), 0);
    snprintf(p, sizeof(p), "%s/filelink", f->boot);
    assert_int_equal(symlink(target, p), 0);
    assert_int_equal(ren(f, "e/a2", "dirlink/stolen", false, &err), -1);
    assert_int_equal(err.code, SCPD_E_DENIED);
    assert_int_equal(ren(f, "dirlink/secret", "got", false, &err), -1);
    assert_int_equal(err.code, SCPD_E_DENIED);
    assert_int_equal(ren(f, "filelink", "got", false, &err), -1);
    assert_int_equal(err.code, SCPD_E_DENIED);
    assert_int_equal(ren(f, "e/a2", "filelink", true, &err), -1);
    assert_int_equal(err.code, SCPD_E_DENIED);
    struct ifs_path dots;
    assert_int_equal(ifs_resolve("bootflash:e/../../outside/secret", &dots, &err), -1);
    assert_int_equal(err.code, SCPD_E_DENIED);
    assert_int_equal(ifs_resolve("../x", &dots, &err), -1);
    assert_int_equal(fx_entries(f->outside), 1);
    s = fx_get(f, "e/a2");
    assert_string_equal(s, "B");
    free(s);
    /* a temporary file's name is neither source nor target */
    assert_int_equal(ifs_resolve("bootflash:.scpd-tmp.1", &dots, &err), -1);

    /* rmdir: empty directories only */
    struct ifs_path e = P("bootflash:e");
    assert_int_equal(ifs_rmdir(f->ifs, &e, &err), -1);
    assert_non_null(strstr(err.msg, "not empty"));
    /* an upload in progress inside keeps it */
    struct ifs_path a2 = P("bootflash:e/a2");
    assert_int_equal(ifs_unlink(f->ifs, &a2, &err), 0);
    struct ifs_path up = P("bootflash:e/up");
    struct ifs_writer *w = ifs_write_open(f->ifs, &up, IFS_SIZE_UNKNOWN, 0644, NULL, &err);
    assert_int_equal(ifs_rmdir(f->ifs, &e, &err), -1);
    ifs_write_abort(w);
    struct ifs_path x = P("bootflash:filelink");
    assert_int_equal(ifs_rmdir(f->ifs, &x, &err), -1);
    assert_int_equal(err.code, SCPD_E_DENIED);
    x = P("bootflash:dirlink");
    assert_int_equal(ifs_rmdir(f->ifs, &x, &err), -1);   /* the link, not the outside directory */
    assert_int_equal(err.code, SCPD_E_DENIED);
    x = P("bootflash:b");
    fx_put(f, "b", "file");
    assert_int_equal(ifs_rmdir(f->ifs, &x, &err), -1);
    assert_int_equal(err.code, SCPD_E_INVALID);
    x = P("nvram:");
    assert_int_equal(ifs_rmdir(f->ifs, &x, &err), -1);
    x = P("running-config");
    assert_int_equal(ifs_rmdir(f->ifs, &x, &err), -1);
    assert_int_equal(ifs_rmdir(f->ifs, &e, &err), 0);
    assert_int_equal(ifs_stat(f->ifs, &e, &st, &err), -1);
    assert_int_equal(err.code, SCPD_E_NOTFOUND);
    snprintf(p, sizeof(p), "%s", f->outside);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(fx_temps(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_table),
        cmocka_unit_test(test_resolve_lengths),
        cmocka_unit_test(test_child),
        cmocka_unit_test_setup_teardown(test_upload_commit_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temps_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_special_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_mkdir_stat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_virtual_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_size_upload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_size_keep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_size_keep_space, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_rmdir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_space_accounting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
