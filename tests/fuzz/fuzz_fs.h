/* fuzz_fs: what the whole-session fuzz targets (fuzz_scp_session, fuzz_sftp_session) share: a
 * memory channel that splits some reads, and a real temporary data directory with an ifs on it
 * (in /dev/shm when writable, else /tmp; 1 MiB per file system, a directory "outside" next to fs/
 * for escape attempts), removed at exit. fuzz_fs_check() aborts when anything appeared outside
 * the roots or a temporary upload file was left behind. Header-only (static): each target is one
 * program. */
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

static char fuzz_root[64], fuzz_outside[128], fuzz_boot[128];
static struct ifs *fuzz_ifs;

static int fuzz_count_entries(const char *dir, bool temps_only)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            (!temps_only || strncmp(e->d_name, ".scpd-tmp.", 10) == 0))
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

/* The file system of the target called name, made on the first call. */
static struct ifs *fuzz_fs(const char *name)
{
    struct scpd_err err = {0};
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
    mkdir(fuzz_outside, 0700);
    log_set_level(LOG_LVL_ERR);
    atexit(fuzz_fs_cleanup);
    fuzz_ifs = ifs_open(fuzz_root, NULL, &err);
    if (!fuzz_ifs || ifs_set_limit(fuzz_ifs, "bootflash", 1 << 20, &err) < 0 ||
        ifs_set_limit(fuzz_ifs, "nvram", 1 << 20, &err) < 0)
        abort();
    return fuzz_ifs;
}

static void fuzz_fs_check(void)
{
    if (fuzz_count_entries(fuzz_outside, false) != 0 || fuzz_count_entries(fuzz_boot, true) != 0 ||
        fuzz_count_entries(fuzz_root, false) != 2)   /* fs and outside */
        abort();
}

#endif
