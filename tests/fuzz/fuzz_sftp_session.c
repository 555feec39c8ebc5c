/* Fuzz target of a whole SFTP session (sftp_session_run over a memory channel) on a real temporary
 * file system with a symlink pointing out of bootflash:. The input is what the client sends
 * (handles are predictable: slot and generation, so the seeds reach READ, WRITE and CLOSE).
 * Checks that nothing appears outside the file system's root, that no temporary upload file is
 * left behind and that the session ends with status 0 or 1. The store is absent (config files
 * fail cleanly). */
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ifs.h"
#include "log.h"
#include "sftp_session.h"

struct mem {
    const uint8_t *in;
    size_t len, off;
};

static ssize_t mem_read(void *ctx, void *buf, size_t cap)
{
    struct mem *m = ctx;
    size_t n = m->len - m->off < cap ? m->len - m->off : cap;
    if (n > 11 && (m->off & 1))
        n = 11; /* split some reads */
    memcpy(buf, m->in + m->off, n);
    m->off += n;
    return (ssize_t)n;
}

static int mem_write(void *ctx, const void *buf, size_t len)
{
    return 0;
}

static char root[64], outside[128], boot[128];
static struct ifs *fs;

static int count_entries(const char *dir, bool temps_only)
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

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void cleanup(void)
{
    ifs_free(fs);
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scpd_err err = {0};
    char link[160];
    if (!fs) {
        snprintf(root, sizeof(root), "/tmp/fuzz_sftp_session.XXXXXX");
        if (!mkdtemp(root))
            abort();
        snprintf(outside, sizeof(outside), "%s/outside", root);
        snprintf(boot, sizeof(boot), "%s/fs/bootflash", root);
        mkdir(outside, 0700);
        log_set_level(LOG_LVL_ERR);
        atexit(cleanup);
        fs = ifs_open(root, NULL, &err);
        if (!fs || ifs_set_limit(fs, "bootflash", 1 << 20, &err) < 0 ||
            ifs_set_limit(fs, "nvram", 1 << 20, &err) < 0)
            abort();
        snprintf(link, sizeof(link), "%s/out", boot);
        if (symlink(outside, link) < 0)
            abort();
    }
    struct mem m = {.in = data, .len = size};
    struct scp_io io = {.ctx = &m, .read = mem_read, .write = mem_write};
    struct scp_session_ctx ctx = {
        .ifs = fs, .sid = 1, .user = "fuzz", .peer = "fuzz:1", .privilege = 15};
    int status = sftp_session_run(&ctx, &io);
    if (status != 0 && status != 1)
        abort();
    if (count_entries(outside, false) != 0 || count_entries(boot, true) != 0 ||
        count_entries(root, false) != 2) /* fs and outside */
        abort();
    return 0;
}
