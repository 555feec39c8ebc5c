/* ifs: file access beneath the roots of the disk file systems, and atomic uploads.
 *
 * Every access starts at the file system's root descriptor (opened once by ifs_open) and walks the
 * resolved relative path one component at a time with openat(O_DIRECTORY | O_NOFOLLOW); the last
 * component is opened with O_NOFOLLOW or inspected with fstatat(AT_SYMLINK_NOFOLLOW). A symlink
 * anywhere in the path is therefore refused, never followed, whatever it points to, and no path
 * string is ever handed to the kernel relative to the host's root or working directory. Together
 * with the resolver (no "..", no empty component) that keeps every access beneath the root.
 * Where the kernel offers openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), directories are opened
 * with it in one call, the kernel enforcing the same rule.
 *
 * Uploads go to a temporary file (IFS_TMP_PREFIX + random, O_EXCL, mode 0600) in the target's own
 * directory, so the final renameat() is atomic on the same file system. Data is gathered into
 * IFS_IO_CHUNK writes, fsync'd once at the end, renamed over the target, and the directory fsync'd.
 * Every failure path unlinks the temporary file; ifs_open() removes those a crash left behind.
 * An upload of unknown size (SFTP: no size is ever announced, writes come at any offset) uses the
 * same temporary file with pwrite instead of the gathering buffer, bounded at each write by the
 * space free at open, so data is written once, into the target's file system, and counted against
 * its size as it arrives. Its "keep the old content" mode (OPEN without TRUNC) holds the old file
 * open and copies its tail in lazily, because the common client (OpenSSH) rewrites all of it.
 * Renames are one renameat between two directories opened by the same walk, so both ends stay
 * beneath the root; a directory is never replaced.
 * The virtual files running-config and startup-config are handled by ifs_config.c. */
#include "ifs/ifs_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "base/clock.h"
#include "base/log.h"
#include "store/store.h"

struct ifs_reader {
    int fd;            /* disk file, or -1 for generated text in mem */
    char *mem;
    size_t len, off;
};

struct ifs_writer {
    struct ifs *fs;
    struct ifs_path path;
    int dirfd, fd;     /* disk only */
    char tmp[64];
    uint64_t size, got;
    unsigned mode;
    uint8_t *buf;      /* disk: gathering buffer; virtual: the whole text */
    size_t len, cap;
    char user[64], peer[64], source[16];
    /* size IFS_SIZE_UNKNOWN: random access, no gathering (virtual: buf grows, len is the size) */
    bool grow;
    uint64_t end;               /* disk: the temporary file's size */
    uint64_t limit;             /* the free bytes a refusal names */
    uint64_t resv, disk;        /* disk: space reserved for this upload; the part of it written */
    int oldfd;                  /* ifs_write_keep: the old file, until its content is merged */
    uint64_t old_size, seq_end; /* ... its size; everything written is [0, seq_end) until then */
    struct scpd_err failed;     /* see writer_fail */
};

/* ---- errors --------------------------------------------------------------------------------- */

static int sys_error(struct scpd_err *err, const struct ifs_path *p, const char *what, int e)
{
    enum scpd_errcode code = SCPD_E_IO;
    if (e == ENOENT)
        code = SCPD_E_NOTFOUND;
    else if (e == EEXIST)
        code = SCPD_E_EXISTS;
    else if (e == ENOSPC || e == EDQUOT || e == EFBIG)
        code = SCPD_E_LIMIT;
    else if (e == EACCES || e == EPERM)
        code = SCPD_E_DENIED;
    else if (e == ENOMEM)
        code = SCPD_E_NOMEM;
    else if (e == EISDIR || e == ENOTDIR || e == ENOTEMPTY)
        code = SCPD_E_INVALID;
    return scpd_err_set(err, code, "%%Error %s %s (%s)", what, p->name, strerror(e));
}

static int symlink_error(struct scpd_err *err, const struct ifs_path *p)
{
    return scpd_err_set(err, SCPD_E_DENIED, "%%Error opening %s (symbolic links are not followed)",
                        p->name);
}

/* A failure that left the upload half changed (part of a chunk written, the kept old content
 * given up half copied) ends it: kept here, it is repeated by every later write, truncate and the
 * commit, so what was left cannot be committed. A refusal that changed nothing (the space check
 * before a write) is not one: the client may go on with a smaller write. */
static int writer_fail(struct ifs_writer *w, struct scpd_err *err)
{
    if (err && err->code != SCPD_E_OK)
        w->failed = *err;
    else
        scpd_err_set(&w->failed, SCPD_E_IO, "%%Error writing %s (an earlier write failed)",
                     w->path.name);
    return -1;
}

static int writer_failed(const struct ifs_writer *w, struct scpd_err *err)
{
    return w->failed.code != SCPD_E_OK ? scpd_err_set(err, w->failed.code, "%s", w->failed.msg)
                                       : 0;
}

/* ---- walking -------------------------------------------------------------------------------- */

/* A new open file description of a root (not dup(): that would share the directory offset with
 * every other reader of the same root). */
static int reopen_root(struct ifs *fs, enum ifs_fs which)
{
    return openat(fs->rootfd[which], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Where the kernel has openat2 (Linux 5.6+), the whole directory path is opened in one call with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: the kernel itself keeps it beneath the root. Any failure
 * (including ENOSYS on older kernels, remembered) falls back to the component walk below, which is
 * authoritative for the error message. */
static int open_beneath(struct ifs *fs, const struct ifs_path *p, size_t upto)
{
#ifdef SYS_openat2
    static int unavailable;
    char rel[LIM_PATH_LEN];
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    if (upto == 0 || upto >= sizeof(rel) || __atomic_load_n(&unavailable, __ATOMIC_RELAXED))
        return -1;
    memcpy(rel, p->rel, upto);
    rel[upto] = '\0';
    int fd = (int)syscall(SYS_openat2, fs->rootfd[p->fs], rel, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS)
        __atomic_store_n(&unavailable, 1, __ATOMIC_RELAXED);
    return fd;
#else
    (void)fs;
    (void)p;
    (void)upto;
    return -1;
#endif
}

/* Opens the directory formed by the first upto bytes of p->rel (0: the root). Returns a new
 * descriptor or -1. */
static int walk_dir(struct ifs *fs, const struct ifs_path *p, size_t upto, struct scpd_err *err)
{
    char comp[LIM_NAME_LEN + 1];
    int fast = open_beneath(fs, p, upto);
    if (fast >= 0)
        return fast;
    int cur = reopen_root(fs, p->fs);
    size_t i = 0;
    if (cur < 0)
        return sys_error(err, p, "opening", errno);
    while (i < upto) {
        size_t n = strcspn(p->rel + i, "/");
        if (n > upto - i)
            n = upto - i;
        memcpy(comp, p->rel + i, n);
        comp[n] = '\0';
        int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            int e = errno;
            struct stat sb;
            if (fstatat(cur, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
                symlink_error(err, p);
            else
                sys_error(err, p, "opening", e == ELOOP ? ENOTDIR : e);
            close(cur);
            return -1;
        }
        close(cur);
        cur = next;
        i += n + 1;
    }
    return cur;
}

/* Opens the directory holding p's last component; *leaf points at that component in p->rel. */
static int open_parent(struct ifs *fs, const struct ifs_path *p, const char **leaf,
                       struct scpd_err *err)
{
    const char *slash = strrchr(p->rel, '/');
    *leaf = slash ? slash + 1 : p->rel;
    return walk_dir(fs, p, slash ? (size_t)(slash - p->rel) : 0, err);
}

static bool is_root(const struct ifs_path *p)
{
    return p->kind == IFS_K_DISK && p->rel[0] == '\0';
}

static void fill_stat(const struct stat *sb, struct ifs_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->dir = S_ISDIR(sb->st_mode);
    st->mode = sb->st_mode & 07777;
    st->size = st->dir ? 0 : (uint64_t)sb->st_size;
    st->mtime = sb->st_mtim.tv_sec;
    st->atime = sb->st_atim.tv_sec;
}

/* fstatat of the last component; symlinks and special files refused. */
static int stat_leaf(int dirfd, const char *leaf, const struct ifs_path *p, struct stat *sb,
                     struct scpd_err *err)
{
    if (fstatat(dirfd, leaf, sb, AT_SYMLINK_NOFOLLOW) < 0)
        return sys_error(err, p, "opening", errno);
    if (S_ISLNK(sb->st_mode))
        return symlink_error(err, p);
    if (!S_ISREG(sb->st_mode) && !S_ISDIR(sb->st_mode))
        return scpd_err_set(err, SCPD_E_DENIED, "%%Error opening %s (not a regular file)",
                            p->name);
    return 0;
}

/* A file about to be unlinked or replaced while its file system's accounting mutex is held is
 * opened first and closed after the mutex: the last reference then goes at that close(), which
 * frees the blocks of a large file (long on some file systems) while the uploads that count their
 * writes under the mutex go on, not inside unlinkat/renameat with them waiting. -1 if it cannot be
 * opened (the removal then frees the blocks itself, as without this). */
static int hold_open(int dirfd, const char *leaf)
{
    return openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

static void hold_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* ---- open, free, space ---------------------------------------------------------------------- */

/* Calls fn for every regular file below fd, at any depth, never following a symlink (consumes
 * fd). Iterative: an explicit stack holds one open directory stream per level (its descriptor and
 * libc's buffer, nothing per entry), and each level is opened with openat from its parent's
 * descriptor, so neither the C stack nor the length of a path bounds the depth. A directory that
 * cannot be opened (out of descriptors, say) is skipped with a warning, as its files cannot be
 * reached; the rest of the walk goes on. Returns how many were skipped (0: every file seen). */
typedef void (*walk_fn)(void *arg, int dirfd, const char *name, const struct stat *sb);

static size_t walk_files(int fd, walk_fn fn, void *arg)
{
    DIR **stack = NULL;
    size_t depth = 0, cap = 0, skipped = 0;
    for (;;) {
        if (fd >= 0 && depth == cap) {   /* grow the stack before the push */
            size_t ncap = cap ? 2 * cap : 16;
            DIR **grown = realloc(stack, ncap * sizeof(*stack));
            if (grown) {
                stack = grown;
                cap = ncap;
            }
        }
        if (fd >= 0) {   /* push the directory just opened */
            DIR *d = depth < cap ? fdopendir(fd) : NULL;
            if (d) {
                stack[depth++] = d;
            } else {
                close(fd);
                skipped++;
            }
            fd = -1;
        }
        if (depth == 0)
            break;
        DIR *d = stack[depth - 1];
        struct dirent *de = readdir(d);
        if (!de) {
            closedir(d);
            depth--;
            continue;
        }
        struct stat sb;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(sb.st_mode)) {
            fn(arg, dirfd(d), de->d_name, &sb);
        } else if (S_ISDIR(sb.st_mode)) {
            fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0)
                skipped++;
        }
    }
    free(stack);
    if (skipped)
        log_msg(LOG_LVL_WARN, NULL, "file system walk: %zu directories could not be opened; "
                "the files below them are not counted in the used space", skipped);
    return skipped;
}

struct open_walk {
    uint64_t used;
    bool shared;
    time_t now;
};

/* The walk of ifs_open: removes the temporary upload files a crash left behind and adds up the
 * sizes of the others (the used bytes of the space accounting). In a directory shared by
 * instances a temporary file may be another instance's upload in flight: only one untouched for
 * LIM_IFS_TMP_STALE_SECS is a leftover (an upload in flight writes, or is timed out, sooner).
 * The instances that keep running reap such leftovers too (reap_stale), so the upload files of an
 * instance killed mid-transfer do not wait for a restart. */
static void open_walk(void *arg, int dirfd, const char *name, const struct stat *sb)
{
    struct open_walk *w = arg;
    if (strncmp(name, IFS_TMP_PREFIX, sizeof(IFS_TMP_PREFIX) - 1) != 0)
        w->used += (uint64_t)sb->st_size;
    else if (!w->shared || w->now - sb->st_mtime > LIM_IFS_TMP_STALE_SECS)
        unlinkat(dirfd, name, 0);
}

static void used_walk_fn(void *arg, int dirfd, const char *name, const struct stat *sb)
{
    if (strncmp(name, IFS_TMP_PREFIX, sizeof(IFS_TMP_PREFIX) - 1) != 0)
        *(uint64_t *)arg += (uint64_t)sb->st_size;
}

int ifs_used_walk(struct ifs *fs, enum ifs_fs which, uint64_t *used)
{
    *used = 0;
    int dup = reopen_root(fs, which);
    return dup >= 0 && walk_files(dup, used_walk_fn, used) == 0 ? 0 : -1;
}

/* With a shared directory: at most every LIM_IFS_REAP_SECS, on the thread of an upload that
 * starts, removes the stale temporary files of every disk file system (those of an instance that
 * was killed). One walk at a time: the first thread past the deadline moves it. */
static void reap_stale(struct ifs *fs)
{
    static const enum ifs_fs disks[] = {IFS_FS_BOOTFLASH, IFS_FS_NVRAM};
    int64_t now = clock_mono_ms(), due = __atomic_load_n(&fs->next_reap_ms, __ATOMIC_RELAXED);
    if (!fs->shared || now < due ||
        !__atomic_compare_exchange_n(&fs->next_reap_ms, &due, now + LIM_IFS_REAP_SECS * 1000,
                                     false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    for (size_t i = 0; i < sizeof(disks) / sizeof(disks[0]); i++) {
        struct open_walk w = {.shared = true, .now = time(NULL)};
        int dup = reopen_root(fs, disks[i]);
        if (dup >= 0)
            walk_files(dup, open_walk, &w);
    }
}

static int mkdir_open(const char *path, struct scpd_err *err)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return scpd_err_set(err, SCPD_E_IO, "cannot create %s: %s", path, strerror(errno));
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return scpd_err_set(err, SCPD_E_IO, "cannot open %s: %s", path, strerror(errno));
    return fd;
}

struct ifs *ifs_open(const char *data_dir, struct store *st, struct scpd_err *err)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/fs", data_dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        scpd_err_set(err, SCPD_E_INVALID, "data directory path too long");
        return NULL;
    }
    return ifs_open_at(path, false, st, err);
}

struct ifs *ifs_open_at(const char *fs_dir, bool shared, struct store *st, struct scpd_err *err)
{
    static const enum ifs_fs disks[] = {IFS_FS_BOOTFLASH, IFS_FS_NVRAM};
    char path[4096];
    struct ifs *fs = calloc(1, sizeof(*fs));
    if (!fs) {
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
        return NULL;
    }
    fs->st = st;
    fs->shared = shared;
    fs->next_reap_ms = clock_mono_ms() + LIM_IFS_REAP_SECS * 1000;
    ifs_acct_init(fs);
    for (int i = 0; i < IFS_FS_COUNT; i++)
        fs->rootfd[i] = -1;
    int top = mkdir_open(fs_dir, err);
    if (top < 0)
        goto fail;
    close(top);
    for (size_t i = 0; i < sizeof(disks) / sizeof(disks[0]); i++) {
        int n = snprintf(path, sizeof(path), "%s/%s", fs_dir, ifs_fs_name(disks[i]));
        if (n < 0 || (size_t)n >= sizeof(path)) {
            scpd_err_set(err, SCPD_E_INVALID, "file system directory path too long");
            goto fail;
        }
        fs->rootfd[disks[i]] = mkdir_open(path, err);
        if (fs->rootfd[disks[i]] < 0)
            goto fail;
        int dup = reopen_root(fs, disks[i]);
        struct open_walk w = {.shared = shared, .now = time(NULL)};
        if (dup >= 0)
            walk_files(dup, open_walk, &w);
        fs->acct[disks[i]].used = w.used;
    }
    return fs;
fail:
    ifs_free(fs);
    return NULL;
}

void ifs_free(struct ifs *fs)
{
    if (!fs)
        return;
    for (int i = 0; i < IFS_FS_COUNT; i++)
        if (fs->rootfd[i] >= 0)
            close(fs->rootfd[i]);
    ifs_acct_destroy(fs);
    free(fs);
}

/* ---- metadata ------------------------------------------------------------------------------- */

int ifs_stat(struct ifs *fs, const struct ifs_path *p, struct ifs_stat *st, struct scpd_err *err)
{
    struct stat sb;
    const char *leaf;
    if (p->kind != IFS_K_DISK) {
        size_t len;
        int64_t mtime = 0;
        char *text = ifs_cfg_text(fs, p->kind, &len, &mtime, err);
        if (!text)
            return -1;
        free(text);
        memset(st, 0, sizeof(*st));
        st->virt = true;
        st->mode = 0644;
        st->size = len;
        st->mtime = st->atime = mtime;
        return 0;
    }
    if (is_root(p)) {
        if (fstat(fs->rootfd[p->fs], &sb) < 0)
            return sys_error(err, p, "opening", errno);
        fill_stat(&sb, st);
        return 0;
    }
    int dirfd = open_parent(fs, p, &leaf, err);
    if (dirfd < 0)
        return -1;
    int r = stat_leaf(dirfd, leaf, p, &sb, err);
    close(dirfd);
    if (r == 0)
        fill_stat(&sb, st);
    return r;
}

static int dirent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ifs_dirent *)a)->name, ((const struct ifs_dirent *)b)->name);
}

static bool listable(const struct ifs_path *dir, const char *name)
{
    /* at the root, a virtual file's name belongs to the virtual file */
    for (size_t i = 0; !dir->rel[0] && ifs_root_virtual(dir->fs, i); i++)
        if (strcmp(name, ifs_root_virtual(dir->fs, i)) == 0)
            return false;
    size_t n = strlen(name);
    if (n == 0 || n > LIM_NAME_LEN || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    if (strncmp(name, IFS_TMP_PREFIX, sizeof(IFS_TMP_PREFIX) - 1) == 0)
        return false;
    for (const char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

static int grow(struct ifs_dirent **v, size_t cnt, size_t *cap)
{
    if (cnt < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    struct ifs_dirent *nv = realloc(*v, ncap * sizeof(**v));
    if (!nv)
        return -1;
    *v = nv;
    *cap = ncap;
    return 0;
}

/* The virtual files at a root (startup-config in nvram:), as IOS's dir shows them. Those that
 * cannot be read (no store) are left out. */
static int list_virtuals(struct ifs *fs, const struct ifs_path *dir, struct ifs_dirent **v,
                         size_t *cnt, size_t *cap)
{
    const char *name;
    for (size_t i = 0; !dir->rel[0] && (name = ifs_root_virtual(dir->fs, i)) != NULL; i++) {
        struct ifs_path p;
        struct ifs_stat st;
        struct scpd_err e = {0};
        if (ifs_child(dir, name, &p, &e) < 0 || ifs_stat(fs, &p, &st, &e) < 0)
            continue;
        if (grow(v, *cnt, cap) < 0)
            return -1;
        snprintf((*v)[*cnt].name, sizeof((*v)[*cnt].name), "%s", name);
        (*v)[*cnt].st = st;
        (*cnt)++;
    }
    return 0;
}

int ifs_list(struct ifs *fs, const struct ifs_path *dir, struct ifs_dirent **out, size_t *n,
             struct scpd_err *err)
{
    struct ifs_dirent *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    *out = NULL;
    *n = 0;
    if (dir->kind != IFS_K_DISK)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: %s is not a directory", dir->name);
    int fd = walk_dir(fs, dir, strlen(dir->rel), err);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return sys_error(err, dir, "reading", errno);
    }
    while ((de = readdir(d)) != NULL) {
        struct stat sb;
        if (!listable(dir, de->d_name))
            continue;
        if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
            continue;
        if (grow(&v, cnt, &cap) < 0) {
            free(v);
            closedir(d);
            return scpd_err_set(err, SCPD_E_NOMEM, "out of memory listing %s", dir->name);
        }
        snprintf(v[cnt].name, sizeof(v[cnt].name), "%s", de->d_name);
        fill_stat(&sb, &v[cnt].st);
        cnt++;
    }
    closedir(d);
    if (list_virtuals(fs, dir, &v, &cnt, &cap) < 0) {
        free(v);
        return scpd_err_set(err, SCPD_E_NOMEM, "out of memory listing %s", dir->name);
    }
    if (cnt)
        qsort(v, cnt, sizeof(*v), dirent_cmp);
    *out = v;
    *n = cnt;
    return 0;
}

int ifs_mkdir(struct ifs *fs, const struct ifs_path *p, unsigned mode, struct scpd_err *err)
{
    const char *leaf;
    struct stat sb;
    if (p->kind != IFS_K_DISK)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: cannot create directory %s", p->name);
    if (is_root(p))
        return 0;
    int dirfd = open_parent(fs, p, &leaf, err);
    if (dirfd < 0)
        return -1;
    int r = 0;
    if (mkdirat(dirfd, leaf, 0700) == 0) {
        /* the mode the client asked for, not the daemon's umask */
        int fd = openat(dirfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fchmod(fd, (mode & 0755) | 0700) < 0)
            r = sys_error(err, p, "creating", errno);
        if (fd >= 0)
            close(fd);
    } else {
        if (errno != EEXIST)
            r = sys_error(err, p, "creating", errno);
        else if (stat_leaf(dirfd, leaf, p, &sb, err) < 0)
            r = -1;
        else if (!S_ISDIR(sb.st_mode))
            r = scpd_err_set(err, SCPD_E_EXISTS, "%%Error creating %s (a file of that name exists)",
                             p->name);
    }
    close(dirfd);
    return r;
}

int ifs_set_times(struct ifs *fs, const struct ifs_path *p, int64_t mtime, int64_t atime,
                  struct scpd_err *err)
{
    struct timespec ts[2] = {{.tv_sec = atime}, {.tv_sec = mtime}};
    const char *leaf;
    if (p->kind != IFS_K_DISK)
        return 0;   /* generated content has no times of its own to set */
    if (is_root(p))
        return futimens(fs->rootfd[p->fs], ts) < 0 ? sys_error(err, p, "setting times of", errno)
                                                    : 0;
    int dirfd = open_parent(fs, p, &leaf, err);
    if (dirfd < 0)
        return -1;
    int r = 0;
    if (utimensat(dirfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
        r = sys_error(err, p, "setting times of", errno);
    close(dirfd);
    return r;
}

int ifs_unlink(struct ifs *fs, const struct ifs_path *p, struct scpd_err *err)
{
    const char *leaf;
    struct stat sb;
    if (p->kind != IFS_K_DISK || is_root(p))
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error deleting %s (not a file)", p->name);
    int dirfd = open_parent(fs, p, &leaf, err);
    if (dirfd < 0)
        return -1;
    struct ifs_acct *a = &fs->acct[p->fs];
    int hold = -1;
    /* the size taken off used is the size of what was removed: no commit in between */
    pthread_mutex_lock(&a->mu);
    int r = stat_leaf(dirfd, leaf, p, &sb, err);
    if (r == 0 && S_ISDIR(sb.st_mode))
        r = scpd_err_set(err, SCPD_E_INVALID, "%%Error deleting %s (is a directory)", p->name);
    if (r == 0)
        hold = hold_open(dirfd, leaf);
    if (r == 0 && unlinkat(dirfd, leaf, 0) < 0)
        r = sys_error(err, p, "deleting", errno);
    if (r == 0)
        ifs_acct_settle(a, 0, (uint64_t)sb.st_size, 0, 0);
    pthread_mutex_unlock(&a->mu);
    hold_close(hold);
    close(dirfd);
    return r;
}

int ifs_rmdir(struct ifs *fs, const struct ifs_path *p, struct scpd_err *err)
{
    const char *leaf;
    struct stat sb;
    if (p->kind != IFS_K_DISK || is_root(p))
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error removing %s (not a directory)", p->name);
    int dirfd = open_parent(fs, p, &leaf, err);
    if (dirfd < 0)
        return -1;
    int r = stat_leaf(dirfd, leaf, p, &sb, err);
    if (r == 0 && !S_ISDIR(sb.st_mode))
        r = scpd_err_set(err, SCPD_E_INVALID, "%%Error removing %s (not a directory)", p->name);
    if (r == 0 && unlinkat(dirfd, leaf, AT_REMOVEDIR) < 0) {
        if (errno == ENOTEMPTY || errno == EEXIST)
            r = scpd_err_set(err, SCPD_E_INVALID,
                             "%%Error removing %s (directory not empty, or an upload into it is "
                             "in progress)",
                             p->name);
        else
            r = sys_error(err, p, "removing", errno);
    }
    if (r == 0)
        fsync(dirfd);
    close(dirfd);
    return r;
}

/* renameat2(RENAME_NOREPLACE) where the kernel and file system have it, so a target created
 * between the check and the rename is not replaced; else (ENOSYS, EINVAL) a plain renameat after
 * the check. */
static int rename_noreplace(int fromdir, const char *from, int todir, const char *to)
{
#ifdef SYS_renameat2
    static int unavailable;
    if (!__atomic_load_n(&unavailable, __ATOMIC_RELAXED)) {
        if (syscall(SYS_renameat2, fromdir, from, todir, to, 1u /* RENAME_NOREPLACE */) == 0)
            return 0;
        if (errno != ENOSYS && errno != EINVAL)
            return -1;
        __atomic_store_n(&unavailable, 1, __ATOMIC_RELAXED);
    }
#endif
    return renameat(fromdir, from, todir, to);
}

static int rename_check(const struct ifs_path *a, const struct ifs_path *b, struct scpd_err *err)
{
    size_t n = strlen(a->rel);
    if (a->kind != IFS_K_DISK || b->kind != IFS_K_DISK)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error renaming %s to %s (%s cannot be renamed)",
                            a->name, b->name, a->kind != IFS_K_DISK ? a->name : b->name);
    if (is_root(a) || is_root(b))
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error renaming %s to %s (a file system root)",
                            a->name, b->name);
    if (a->fs != b->fs)
        return scpd_err_set(err, SCPD_E_INVALID,
                            "%%Error renaming %s to %s (not on the same file system: copy it, "
                            "then delete it)",
                            a->name, b->name);
    if (strncmp(a->rel, b->rel, n) == 0 && b->rel[n] == '/')
        return scpd_err_set(err, SCPD_E_INVALID,
                            "%%Error renaming %s to %s (a directory cannot move into itself)",
                            a->name, b->name);
    return 0;
}

int ifs_rename(struct ifs *fs, const struct ifs_path *from, const struct ifs_path *to,
               bool replace, struct scpd_err *err)
{
    const char *fleaf, *tleaf;
    struct stat fsb, tsb;
    struct ifs_acct *a = NULL;   /* locked while set */
    int fdir = -1, tdir = -1, hold = -1, r = -1;
    if (rename_check(from, to, err) < 0)
        return -1;
    if ((fdir = open_parent(fs, from, &fleaf, err)) < 0 || stat_leaf(fdir, fleaf, from, &fsb, err))
        goto out;
    if (strcmp(from->rel, to->rel) == 0) {
        r = 0;
        goto out;
    }
    if ((tdir = open_parent(fs, to, &tleaf, err)) < 0)
        goto out;
    /* a replaced file's size leaves used: no commit between the fstatat and the renameat */
    a = &fs->acct[to->fs];
    pthread_mutex_lock(&a->mu);
    bool exists = fstatat(tdir, tleaf, &tsb, AT_SYMLINK_NOFOLLOW) == 0;
    if (!exists && errno != ENOENT) {
        sys_error(err, to, "opening", errno);
        goto out;
    }
    if (exists && S_ISLNK(tsb.st_mode)) {
        symlink_error(err, to);
        goto out;
    }
    if (exists && (!replace || S_ISDIR(tsb.st_mode) || S_ISDIR(fsb.st_mode) ||
                   !S_ISREG(tsb.st_mode))) {
        scpd_err_set(err, SCPD_E_EXISTS, "%%Error renaming %s to %s (%s exists%s)", from->name,
                     to->name, to->name,
                     S_ISDIR(tsb.st_mode) ? " and is a directory" : "");
        goto out;
    }
    if (exists)
        hold = hold_open(tdir, tleaf);
    if ((exists ? renameat(fdir, fleaf, tdir, tleaf) : rename_noreplace(fdir, fleaf, tdir, tleaf)) <
        0) {
        if (errno == EEXIST || errno == ENOTEMPTY)
            scpd_err_set(err, SCPD_E_EXISTS, "%%Error renaming %s to %s (%s exists)", from->name,
                         to->name, to->name);
        else
            sys_error(err, from, "renaming", errno);
        goto out;
    }
    if (exists)
        ifs_acct_settle(a, 0, (uint64_t)tsb.st_size, 0, 0);
    pthread_mutex_unlock(&a->mu);
    a = NULL;
    fsync(tdir);
    fsync(fdir);
    r = 0;
out:
    if (a)
        pthread_mutex_unlock(&a->mu);
    hold_close(hold);
    if (fdir >= 0)
        close(fdir);
    if (tdir >= 0)
        close(tdir);
    return r;
}

/* ---- reading -------------------------------------------------------------------------------- */

struct ifs_reader *ifs_read_open(struct ifs *fs, const struct ifs_path *p, struct ifs_stat *st,
                                 struct scpd_err *err)
{
    struct ifs_reader *r = calloc(1, sizeof(*r));
    struct stat sb;
    const char *leaf;
    if (!r) {
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
        return NULL;
    }
    r->fd = -1;
    if (p->kind != IFS_K_DISK) {
        int64_t mtime = 0;
        r->mem = ifs_cfg_text(fs, p->kind, &r->len, &mtime, err);
        if (!r->mem)
            goto fail;
        if (st) {
            memset(st, 0, sizeof(*st));
            st->virt = true;
            st->mode = 0644;
            st->size = r->len;
            st->mtime = st->atime = mtime;
        }
        return r;
    }
    if (is_root(p)) {
        scpd_err_set(err, SCPD_E_INVALID, "%%Error opening %s (is a directory)", p->name);
        goto fail;
    }
    int dirfd = open_parent(fs, p, &leaf, err);
    if (dirfd < 0)
        goto fail;
    /* O_NONBLOCK: opening a FIFO someone placed here must not hang the session */
    r->fd = openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (r->fd < 0) {
        if (errno == ELOOP)
            symlink_error(err, p);
        else
            sys_error(err, p, "opening", errno);
        close(dirfd);
        goto fail;
    }
    close(dirfd);
    if (fstat(r->fd, &sb) < 0) {
        sys_error(err, p, "opening", errno);
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        scpd_err_set(err, S_ISDIR(sb.st_mode) ? SCPD_E_INVALID : SCPD_E_DENIED,
                     "%%Error opening %s (%s)", p->name,
                     S_ISDIR(sb.st_mode) ? "is a directory" : "not a regular file");
        goto fail;
    }
    fcntl(r->fd, F_SETFL, 0);
    posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (st)
        fill_stat(&sb, st);
    return r;
fail:
    ifs_read_close(r);
    return NULL;
}

ssize_t ifs_read(struct ifs_reader *r, void *buf, size_t cap, struct scpd_err *err)
{
    if (r->fd < 0) {
        size_t n = r->len - r->off < cap ? r->len - r->off : cap;
        memcpy(buf, r->mem + r->off, n);
        r->off += n;
        return (ssize_t)n;
    }
    for (;;) {
        ssize_t n = read(r->fd, buf, cap);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return scpd_err_set(err, SCPD_E_IO, "%%Error reading file (%s)", strerror(errno));
    }
}

void ifs_read_close(struct ifs_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->mem);
    free(r);
}

/* ---- writing -------------------------------------------------------------------------------- */

static void copy_who(struct ifs_writer *w, const struct store_who *who)
{
    snprintf(w->user, sizeof(w->user), "%s", who && who->user ? who->user : "");
    snprintf(w->peer, sizeof(w->peer), "%s", who && who->peer ? who->peer : "");
    snprintf(w->source, sizeof(w->source), "%s", who && who->source ? who->source : "scp");
}

static int create_temp(struct ifs_writer *w, struct scpd_err *err)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            rnd = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)w ^ (uint64_t)attempt;
        snprintf(w->tmp, sizeof(w->tmp), IFS_TMP_PREFIX "%016llx", (unsigned long long)rnd);
        w->fd = openat(w->dirfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600);
        if (w->fd >= 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    w->tmp[0] = '\0';
    return sys_error(err, &w->path, "creating", errno);
}

/* The size of the regular file an upload to p would replace (0: none), for the space error. */
static uint64_t replaced_size(struct ifs *fs, const struct ifs_path *p)
{
    const char *leaf;
    struct stat sb;
    uint64_t size = 0;
    int dirfd = open_parent(fs, p, &leaf, NULL);
    if (dirfd < 0)
        return 0;
    if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode))
        size = (uint64_t)sb.st_size;
    close(dirfd);
    return size;
}

/* The space of a shared file system could not be reserved (the store is unreachable). */
static int space_unavailable(const struct ifs_path *p, const struct scpd_err *why,
                             struct scpd_err *err)
{
    return scpd_err_set(err, why->code, "%%Error copying %s (the space of %s: is shared by the "
                        "instances and cannot be reserved now: %s)", p->name, ifs_fs_name(p->fs),
                        why->msg);
}

static int open_disk_writer(struct ifs_writer *w, struct scpd_err *err)
{
    const struct ifs_path *p = &w->path;
    const char *leaf;
    struct stat sb;
    uint64_t avail;
    if (is_root(p))
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error opening %s (is a directory)", p->name);
    /* a known size is reserved whole now; an unknown one as it grows (writer_need) */
    struct scpd_err why = {0};
    if (ifs_acct_reserve(w->fs, p->fs, w->grow ? 0 : w->size, &avail, &why) < 0) {
        if (why.code != SCPD_E_OK)
            return space_unavailable(p, &why, err);
        /* uploads are atomic: the old file stays whole until the new one is complete, so its
         * space is not free during the upload; say so, or the admin cannot see why */
        uint64_t old = replaced_size(w->fs, p);
        if (old > 0)
            return scpd_err_set(err, SCPD_E_LIMIT,
                                "%%Error copying %s (not enough space: %llu bytes needed, %llu "
                                "free on %s:; the %llu-byte file it replaces is kept until the "
                                "new one is complete: delete it first to use its space)",
                                p->name, (unsigned long long)w->size,
                                (unsigned long long)avail, ifs_fs_name(p->fs),
                                (unsigned long long)old);
        return scpd_err_set(err, SCPD_E_LIMIT,
                            "%%Error copying %s (not enough space: %llu bytes needed, %llu free "
                            "on %s:)",
                            p->name, (unsigned long long)w->size, (unsigned long long)avail,
                            ifs_fs_name(p->fs));
    }
    w->limit = avail;
    w->resv = w->grow ? 0 : w->size;
    w->dirfd = open_parent(w->fs, p, &leaf, err);
    if (w->dirfd < 0)
        return -1;
    if (fstatat(w->dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(sb.st_mode))
            return symlink_error(err, p);
        if (S_ISDIR(sb.st_mode))
            return scpd_err_set(err, SCPD_E_INVALID, "%%Error opening %s (is a directory)",
                                p->name);
        if (!S_ISREG(sb.st_mode))
            return scpd_err_set(err, SCPD_E_DENIED, "%%Error opening %s (not a regular file)",
                                p->name);
    } else if (errno != ENOENT) {
        return sys_error(err, p, "opening", errno);
    }
    if (create_temp(w, err) < 0)
        return -1;
    if (w->grow)
        return 0;   /* random access: every write goes straight to the file */
    w->cap = w->size < IFS_IO_CHUNK ? (size_t)w->size : IFS_IO_CHUNK;
    if (w->cap && !(w->buf = malloc(w->cap)))
        return scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
    return 0;
}

struct ifs_writer *ifs_write_open(struct ifs *fs, const struct ifs_path *p, uint64_t size,
                                  unsigned mode, const struct store_who *who,
                                  struct scpd_err *err)
{
    struct ifs_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
        return NULL;
    }
    w->fs = fs;
    w->path = *p;
    w->dirfd = w->fd = w->oldfd = -1;
    w->size = size;
    w->mode = mode;
    w->grow = size == IFS_SIZE_UNKNOWN;
    copy_who(w, who);
    if (p->kind == IFS_K_DISK)
        reap_stale(fs);
    if (p->kind != IFS_K_DISK && w->grow) {
        w->limit = LIM_CONFIG_FILE_BYTES;
        if (!(w->buf = malloc(1))) {   /* the commit's terminating NUL */
            scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
            goto fail;
        }
        return w;
    }
    if (p->kind != IFS_K_DISK) {
        if (size > LIM_CONFIG_FILE_BYTES) {
            scpd_err_set(err, SCPD_E_LIMIT, "%%Error copying %s (config file larger than %u bytes)",
                         p->name, LIM_CONFIG_FILE_BYTES);
            goto fail;
        }
        w->cap = (size_t)size;
        if (!(w->buf = malloc(w->cap + 1))) {
            scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
            goto fail;
        }
        return w;
    }
    if (open_disk_writer(w, err) < 0)
        goto fail;
    return w;
fail:
    ifs_write_abort(w);
    return NULL;
}

static int write_all(struct ifs_writer *w, const void *buf, size_t len, struct scpd_err *err)
{
    const uint8_t *b = buf;
    ifs_acct_written(w->fs, w->path.fs, w->disk, w->disk + len);
    w->disk += len;   /* counted up front: a failed write ends in the abort, which settles it */
    while (len) {
        ssize_t n = write(w->fd, b, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSPC || errno == EDQUOT)
                scpd_err_set(err, SCPD_E_LIMIT, "%%Error writing %s (no space left on %s:)",
                             w->path.name, ifs_fs_name(w->path.fs));
            else
                sys_error(err, &w->path, "writing", errno);
            return writer_fail(w, err);
        }
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

int ifs_write(struct ifs_writer *w, const void *buf, size_t len, struct scpd_err *err)
{
    if (w->grow)
        return ifs_pwrite(w, buf, len, ifs_write_size(w), err);
    if (writer_failed(w, err) < 0)
        return -1;
    if (len > w->size - w->got)
        return scpd_err_set(err, SCPD_E_LIMIT, "%%Error writing %s (more data than announced)",
                            w->path.name);
    w->got += len;
    if (w->path.kind != IFS_K_DISK) {
        memcpy(w->buf + w->len, buf, len);
        w->len += len;
        return 0;
    }
    /* big chunks go straight to the file; small ones are gathered into IFS_IO_CHUNK writes */
    if (w->len == 0 && len >= w->cap)
        return write_all(w, buf, len, err);
    while (len) {
        size_t n = w->cap - w->len < len ? w->cap - w->len : len;
        memcpy(w->buf + w->len, buf, n);
        w->len += n;
        buf = (const uint8_t *)buf + n;
        len -= n;
        if (w->len == w->cap) {
            int r = write_all(w, w->buf, w->len, err);
            w->len = 0;
            if (r < 0)
                return -1;
        }
    }
    return 0;
}

/* ---- uploads of unknown size ---- */

static int not_random(struct ifs_writer *w, struct scpd_err *err)
{
    return scpd_err_set(err, SCPD_E_INTERNAL, "%%Error writing %s (not an upload of unknown size)",
                        w->path.name);
}

static int limit_error(struct ifs_writer *w, struct scpd_err *err)
{
    if (w->path.kind != IFS_K_DISK)
        return scpd_err_set(err, SCPD_E_LIMIT,
                            "%%Error writing %s (config file larger than %u bytes)", w->path.name,
                            LIM_CONFIG_FILE_BYTES);
    return scpd_err_set(err, SCPD_E_LIMIT,
                        "%%Error writing %s (not enough space: the file would exceed the %llu "
                        "bytes free on %s:)",
                        w->path.name, (unsigned long long)w->limit, ifs_fs_name(w->path.fs));
}

/* An upload of unknown size is about to reach end bytes: reserves the growth, or refuses it. */
static int writer_need(struct ifs_writer *w, uint64_t end, struct scpd_err *err)
{
    uint64_t avail;
    if (w->path.kind != IFS_K_DISK)
        return end > LIM_CONFIG_FILE_BYTES ? limit_error(w, err) : 0;
    if (end <= w->resv)
        return 0;
    uint64_t ahead = ifs_acct_ahead(w->fs, w->path.fs);
    uint64_t want = end > UINT64_MAX - ahead ? end : end + ahead;
    struct scpd_err why = {0};
    if (ifs_acct_reserve(w->fs, w->path.fs, want - w->resv, &avail, &why) == 0) {
        w->resv = want;
        return 0;
    }
    if (why.code == SCPD_E_OK && want != end &&
        ifs_acct_reserve(w->fs, w->path.fs, end - w->resv, &avail, &why) == 0) {
        w->resv = end;
        return 0;
    }
    if (why.code != SCPD_E_OK)
        return space_unavailable(&w->path, &why, err);
    w->limit = w->resv + avail;
    return limit_error(w, err);
}

/* The temporary file of an upload of unknown size is w->end bytes now; a shrink gives back the
 * reservation above it (nothing old is left to copy in once it has been cut or merged). */
static void writer_settle_end(struct ifs_writer *w)
{
    if (w->path.kind != IFS_K_DISK)
        return;
    ifs_acct_written(w->fs, w->path.fs, w->disk, w->end);
    w->disk = w->end;
    /* what was reserved ahead (a shared store) stays: the next writes need it */
    uint64_t ahead = ifs_acct_ahead(w->fs, w->path.fs);
    uint64_t keep = w->end > UINT64_MAX - ahead ? w->end : w->end + ahead;
    if (w->resv > keep && w->oldfd < 0) {
        struct ifs_acct *a = &w->fs->acct[w->path.fs];
        pthread_mutex_lock(&a->mu);
        ifs_acct_settle(a, 0, 0, w->resv - keep, 0);
        pthread_mutex_unlock(&a->mu);
        w->resv = keep;
    }
}

/* Room for the virtual file's text up to end (and its NUL). */
static int text_reserve(struct ifs_writer *w, uint64_t end, struct scpd_err *err)
{
    if (end + 1 <= w->cap)
        return 0;
    size_t ncap = w->cap > 4096 ? w->cap : 4096;
    while (ncap < end + 1)
        ncap *= 2;
    if (ncap > (size_t)LIM_CONFIG_FILE_BYTES + 1)
        ncap = (size_t)LIM_CONFIG_FILE_BYTES + 1;
    uint8_t *nb = realloc(w->buf, ncap);
    if (!nb)
        return scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
    w->buf = nb;
    w->cap = ncap;
    return 0;
}

static int pwrite_all(struct ifs_writer *w, const uint8_t *b, size_t len, uint64_t off,
                      struct scpd_err *err)
{
    while (len) {
        ssize_t n = pwrite(w->fd, b, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == ENOSPC || errno == EDQUOT || errno == EFBIG))
            scpd_err_set(err, SCPD_E_LIMIT, "%%Error writing %s (no space left on %s:)",
                         w->path.name, ifs_fs_name(w->path.fs));
        else if (n <= 0)
            sys_error(err, &w->path, "writing", n < 0 ? errno : EIO);
        if (n <= 0)
            return writer_fail(w, err);
        b += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/* Copies the old file's [from, old_size) to the same offsets of the temporary file: in the
 * kernel (copy_file_range: no round trip through user space, a reflink where the file system
 * shares extents), else through a buffer. */
static int copy_range(struct ifs_writer *w, uint64_t from, struct scpd_err *err)
{
    bool kernel = true;
    uint8_t *buf = NULL;
    int r = 0;
    while (from < w->old_size && r == 0) {
        size_t want = w->old_size - from < (1u << 30) ? (size_t)(w->old_size - from) : 1u << 30;
        loff_t in = (loff_t)from, out = (loff_t)from;
        ssize_t n = -1;
        if (kernel) {
            n = copy_file_range(w->oldfd, &in, w->fd, &out, want, 0);
            if (n < 0 && errno != EINTR && errno != ENOSPC && errno != EDQUOT && errno != EFBIG)
                kernel = false;   /* EXDEV, ENOSYS, EOPNOTSUPP, EINVAL: copy it ourselves */
            if (n < 0 && (errno == EINTR || !kernel))
                continue;
        } else {
            if (!buf && !(buf = malloc(IFS_IO_CHUNK)))
                return scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
            n = pread(w->oldfd, buf, want < IFS_IO_CHUNK ? want : IFS_IO_CHUNK, (off_t)from);
            if (n < 0 && errno == EINTR)
                continue;
            if (n > 0)
                r = pwrite_all(w, buf, (size_t)n, from, err);
        }
        if (n < 0 && (errno == ENOSPC || errno == EDQUOT || errno == EFBIG))
            r = limit_error(w, err);
        else if (n < 0)
            r = sys_error(err, &w->path, "copying the old content of", errno);
        else if (n == 0)
            break;   /* the old file shrank under us: what it had is what is kept */
        from += n > 0 ? (uint64_t)n : 0;
    }
    free(buf);
    return r;
}

/* The kept old content, if it can still show (see ifs_write_keep). */
static int merge_old(struct ifs_writer *w, struct scpd_err *err)
{
    int r = 0;
    if (w->oldfd < 0)
        return 0;
    if (w->old_size > w->seq_end) {
        if ((r = writer_need(w, w->old_size, err)) == 0 &&
            (r = copy_range(w, w->seq_end, err)) == 0 && w->old_size > w->end)
            w->end = w->old_size;
    }
    close(w->oldfd);
    w->oldfd = -1;
    if (r < 0)
        return writer_fail(w, err);   /* the old content is gone from the upload */
    writer_settle_end(w);
    return 0;
}

void ifs_write_set_mode(struct ifs_writer *w, unsigned mode)
{
    w->mode = mode;
}

uint64_t ifs_write_size(const struct ifs_writer *w)
{
    if (!w->grow)
        return w->got;
    return w->oldfd >= 0 && w->old_size > w->end ? w->old_size : w->end;
}

int ifs_write_keep(struct ifs_writer *w, struct scpd_err *err)
{
    struct stat sb;
    if (!w->grow)
        return not_random(w, err);
    if (w->path.kind != IFS_K_DISK || w->oldfd >= 0 || w->end)
        return 0;   /* config files are merge/replace input: they start empty */
    /* O_NONBLOCK: a FIFO placed there must not hang the session (it is refused below) */
    int fd = openat(w->dirfd, ifs_basename(&w->path),
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ELOOP)
        return symlink_error(err, &w->path);
    if (fd < 0)
        return errno == ENOENT ? 0 : sys_error(err, &w->path, "opening", errno);
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return scpd_err_set(err, SCPD_E_DENIED, "%%Error opening %s (not a regular file)",
                            w->path.name);
    }
    w->oldfd = fd;
    w->old_size = (uint64_t)sb.st_size;
    w->seq_end = 0;
    return 0;
}

int ifs_pwrite(struct ifs_writer *w, const void *buf, size_t len, uint64_t off,
               struct scpd_err *err)
{
    if (!w->grow)
        return not_random(w, err);
    if (writer_failed(w, err) < 0)
        return -1;
    if (len == 0)
        return 0;   /* as pwrite(2): no data extends nothing (nor reserves up to off) */
    /* the kept old content stays [seq_end, old_size) only while writes come in order; merged
     * first, as the merge gives back the reservation above the file's end */
    if (w->oldfd >= 0 && off != w->seq_end && merge_old(w, err) < 0)
        return -1;
    if (writer_need(w, len > UINT64_MAX - off ? UINT64_MAX : off + len, err) < 0)
        return -1;
    if (w->path.kind != IFS_K_DISK) {
        if (text_reserve(w, off + len, err) < 0)
            return -1;
        if (off > w->len)
            memset(w->buf + w->len, 0, (size_t)(off - w->len));
        memcpy(w->buf + off, buf, len);
        if (off + len > w->len)
            w->len = (size_t)(off + len);
    } else if (pwrite_all(w, buf, len, off, err) < 0) {
        return -1;
    }
    if (off + len > w->end)
        w->end = off + len;
    if (w->oldfd >= 0 && off == w->seq_end)
        w->seq_end += len;
    w->got += len;
    writer_settle_end(w);
    return 0;
}

int ifs_write_truncate(struct ifs_writer *w, uint64_t size, struct scpd_err *err)
{
    if (!w->grow)
        return not_random(w, err);
    if (writer_failed(w, err) < 0)
        return -1;
    if (w->oldfd >= 0 && size <= w->seq_end) {
        close(w->oldfd);   /* the old content is cut away: nothing to merge */
        w->oldfd = -1;
    }
    /* merged before the reservation for size, which the merge's settling would give back */
    if (merge_old(w, err) < 0 || writer_need(w, size, err) < 0)
        return -1;
    if (w->path.kind != IFS_K_DISK) {
        if (text_reserve(w, size, err) < 0)
            return -1;
        if (size > w->len)
            memset(w->buf + w->len, 0, (size_t)(size - w->len));
        w->len = (size_t)size;
    } else if (ftruncate(w->fd, (off_t)size) < 0) {
        return errno == ENOSPC || errno == EFBIG ? limit_error(w, err)
                                                 : sys_error(err, &w->path, "writing", errno);
    }
    w->end = size;
    writer_settle_end(w);
    return 0;
}

static int commit_disk(struct ifs_writer *w, const int64_t *times, struct scpd_err *err)
{
    const char *leaf = ifs_basename(&w->path);
    struct stat sb, osb;
    if (w->len && write_all(w, w->buf, w->len, err) < 0)
        return -1;
    w->len = 0;
    if (fchmod(w->fd, (w->mode & 0755) | 0600) < 0)
        return sys_error(err, &w->path, "writing", errno);
    if (times) {
        struct timespec ts[2] = {{.tv_sec = times[1]}, {.tv_sec = times[0]}};
        if (futimens(w->fd, ts) < 0)
            return sys_error(err, &w->path, "setting times of", errno);
    }
    if (fsync(w->fd) < 0 || fstat(w->fd, &sb) < 0)
        return sys_error(err, &w->path, "writing", errno);
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) < 0)
        return sys_error(err, &w->path, "writing", errno);
    /* the replaced file's size leaves used with the rename: no unlink or commit in between */
    struct ifs_acct *a = &w->fs->acct[w->path.fs];
    pthread_mutex_lock(&a->mu);
    uint64_t old = fstatat(w->dirfd, leaf, &osb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(osb.st_mode)
                       ? (uint64_t)osb.st_size
                       : 0;
    int hold = old ? hold_open(w->dirfd, leaf) : -1;
    if (renameat(w->dirfd, w->tmp, w->dirfd, leaf) < 0) {
        int e = errno;
        pthread_mutex_unlock(&a->mu);
        hold_close(hold);
        return sys_error(err, &w->path, "writing", e);
    }
    ifs_acct_settle(a, (uint64_t)sb.st_size, old, w->resv, w->disk);
    pthread_mutex_unlock(&a->mu);
    hold_close(hold);
    w->resv = w->disk = 0;
    w->tmp[0] = '\0';    /* the temporary file is the target now */
    fsync(w->dirfd);
    return 0;
}

int ifs_write_commit(struct ifs_writer *w, const int64_t *times, char **detail,
                     struct scpd_err *err)
{
    int r;
    if (detail)
        *detail = NULL;
    if (writer_failed(w, err) < 0 || (w->grow && merge_old(w, err) < 0)) {
        r = -1;
    } else if (!w->grow && w->got != w->size) {
        r = scpd_err_set(err, SCPD_E_INVALID, "%%Error writing %s (%llu of %llu bytes received)",
                         w->path.name, (unsigned long long)w->got, (unsigned long long)w->size);
    } else if (w->path.kind != IFS_K_DISK) {
        struct store_who who = {.user = w->user, .source = w->source, .peer = w->peer};
        w->buf[w->len] = '\0';
        r = ifs_cfg_commit(w->fs, w->path.kind, (const char *)w->buf, w->len, &who, detail, err);
    } else {
        r = commit_disk(w, times, err);
    }
    ifs_write_abort(w);
    return r;
}

void ifs_write_abort(struct ifs_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->oldfd >= 0)
        close(w->oldfd);
    if (w->dirfd >= 0) {
        if (w->tmp[0])
            unlinkat(w->dirfd, w->tmp, 0);
        close(w->dirfd);
    }
    if (w->path.kind == IFS_K_DISK && (w->resv || w->disk)) {
        struct ifs_acct *a = &w->fs->acct[w->path.fs];
        pthread_mutex_lock(&a->mu);
        ifs_acct_settle(a, 0, 0, w->resv, w->disk);
        pthread_mutex_unlock(&a->mu);
    }
    /* config text may hold password 0 lines, also past len after a truncate (SFTP) */
    if (w->path.kind != IFS_K_DISK && w->buf)
        explicit_bzero(w->buf, w->cap > w->len ? w->cap : w->len);
    free(w->buf);
    free(w);
}
