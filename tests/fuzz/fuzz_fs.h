/* fuzz_fs: what the whole-session fuzz targets (fuzz_scp_session, fuzz_sftp_session) share: a
 * memory channel that splits some reads, and a real temporary data directory with an ifs on it
 * (in /dev/shm when writable, else /tmp; 1 MiB per file system, a directory "outside" next to fs/
 * for escape attempts), removed at exit. fuzz_fs_check() aborts when anything appeared outside
 * the roots or a temporary upload file was left behind, then puts the file systems back as they
 * were before the input (every input starts from the same state: a crash reproduces from its input
 * alone, and what earlier inputs made does not pile up: the 1 MiB caps bound bytes, not names, and
 * a directory of tens of thousands of empty files made every listing, and so the fuzzer, slow).
 * Header-only (static): each target is one program. */
#ifndef SCPD_FUZZ_FS_H
#define SCPD_FUZZ_FS_H

#include <dirent.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ifs/ifs.h"
#include "base/log.h"

struct mem {
    const uint8_t *in;
    size_t len, off;
    size_t split;      /* reads at odd offsets return at most this many bytes */
};

static ssize_t mem_read(void *ctx, void *buf, size_t cap)
{
    struct mem *m = ctx;
    size_t n = m->len - m->off < cap ? m->len - m->off : cap;
    if (n > m->split && (m->off & 1))
        n = m->split;
    memcpy(buf, m->in + m->off, n);
    m->off += n;
    return (ssize_t)n;
}

static int mem_write(void *ctx, const void *buf, size_t len)
{
    return 0;
}

static char fuzz_root[64], fuzz_outside[128], fuzz_boot[128], fuzz_nvram[128];
static struct ifs *fuzz_ifs;
/* What the target's seed put in bootflash: (fuzz_fs_keep) and how it was then: the reset keeps
 * those entries while they are unchanged and makes them again when an input changed them. */
static const char *fuzz_kept[4];
static struct stat fuzz_kept_st[4];
static void (*fuzz_seed)(const char *boot);

static int fuzz_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static int fuzz_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void fuzz_fs_cleanup(void)
{
    ifs_free(fuzz_ifs);
    nftw(fuzz_root, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct ifs *fuzz_fs_open(void)
{
    struct scpd_err err = {0};
    struct ifs *fs = ifs_open(fuzz_root, NULL, &err);
    if (!fs || ifs_set_limit(fs, "bootflash", 1 << 20, &err) < 0 ||
        ifs_set_limit(fs, "nvram", 1 << 20, &err) < 0)
        abort();
    return fs;
}

static void fuzz_fs_seed(void)
{
    memset(fuzz_kept, 0, sizeof(fuzz_kept));
    if (fuzz_seed)
        fuzz_seed(fuzz_boot);
    for (size_t i = 0; fuzz_kept[i]; i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", fuzz_boot, fuzz_kept[i]);
        if (lstat(path, &fuzz_kept_st[i]) < 0)
            abort();
    }
}

/* The file system of the target called name, made on the first call; seed (or NULL) puts the
 * target's own files in bootflash: (given its path) and names each with fuzz_fs_keep(). */
static struct ifs *fuzz_fs(const char *name, void (*seed)(const char *boot))
{
    if (fuzz_ifs)
        return fuzz_ifs;
    /* tmpfs when there is one: creating and removing files on a disk file system cost more than
     * the session code under test (each file system is capped at 1 MiB, so this stays small) */
    struct stat st;
    const char *tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
                              access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fuzz_root, sizeof(fuzz_root), "%s/%s.XXXXXX", tmp, name);
    if (!mkdtemp(fuzz_root))
        abort();
    snprintf(fuzz_outside, sizeof(fuzz_outside), "%s/outside", fuzz_root);
    snprintf(fuzz_boot, sizeof(fuzz_boot), "%s/fs/bootflash", fuzz_root);
    snprintf(fuzz_nvram, sizeof(fuzz_nvram), "%s/fs/nvram", fuzz_root);
    mkdir(fuzz_outside, 0700);
    log_set_level(LOG_LVL_ERR);
    atexit(fuzz_fs_cleanup);
    fuzz_ifs = fuzz_fs_open();   /* makes fs/bootflash and fs/nvram */
    fuzz_seed = seed;
    fuzz_fs_seed();
    ifs_free(fuzz_ifs);
    fuzz_ifs = fuzz_fs_open();
    return fuzz_ifs;
}

/* Names an entry the seed made in bootflash: (at most 3, static strings). */
static inline void fuzz_fs_keep(const char *name)
{
    for (size_t i = 0; i + 1 < sizeof(fuzz_kept) / sizeof(fuzz_kept[0]); i++)
        if (!fuzz_kept[i]) {
            fuzz_kept[i] = name;
            return;
        }
    abort();
}

static bool fuzz_is_kept(const char *name)
{
    for (size_t i = 0; fuzz_kept[i]; i++)
        if (strcmp(fuzz_kept[i], name) == 0)
            return true;
    return false;
}

/* Whether every seeded entry is still there, as the seed left it. */
static bool fuzz_kept_intact(void)
{
    for (size_t i = 0; fuzz_kept[i]; i++) {
        char path[256];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", fuzz_boot, fuzz_kept[i]);
        if (lstat(path, &st) < 0 || st.st_ino != fuzz_kept_st[i].st_ino ||
            st.st_mode != fuzz_kept_st[i].st_mode || st.st_size != fuzz_kept_st[i].st_size ||
            st.st_mtim.tv_sec != fuzz_kept_st[i].st_mtim.tv_sec ||
            st.st_mtim.tv_nsec != fuzz_kept_st[i].st_mtim.tv_nsec)
            return false;
    }
    return true;
}

/* Removes what the input made in dir (all but the kept names); true when there was any. Aborts on
 * a temporary upload file left behind (one reading of the directory serves both). */
static bool fuzz_sweep(const char *dir, bool keep)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    bool any = false;
    if (!d)
        abort();
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            (keep && fuzz_is_kept(e->d_name)))
            continue;
        if (strncmp(e->d_name, ".scpd-tmp.", 10) == 0)
            abort();
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
        any = true;
    }
    closedir(d);
    return any;
}

static void fuzz_fs_check(void)
{
    if (fuzz_count_entries(fuzz_outside) != 0 ||
        fuzz_count_entries(fuzz_root) != 2)   /* fs and outside */
        abort();
    bool intact = fuzz_kept_intact();
    bool boot = fuzz_sweep(fuzz_boot, intact);
    bool nvram = fuzz_sweep(fuzz_nvram, false);
    if (!intact)
        fuzz_fs_seed();
    if (boot || nvram) {   /* the ifs counted what the input wrote: count again from the start */
        ifs_free(fuzz_ifs);
        fuzz_ifs = fuzz_fs_open();
    }
}

#endif
