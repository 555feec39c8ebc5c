/* Fuzz target of a whole SCP session (scp_session_run over a memory channel) on a real temporary
 * file system: the first input byte picks the command (sink or source, -r, -p, target), the rest
 * is what the client sends. Checks that nothing appears outside the file system's root and that
 * no temporary upload file is left behind. The store is absent (config files fail cleanly). */
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
#include "scp_session.h"

struct mem {
    const uint8_t *in;
    size_t len, off;
};

static ssize_t mem_read(void *ctx, void *buf, size_t cap)
{
    struct mem *m = ctx;
    size_t n = m->len - m->off < cap ? m->len - m->off : cap;
    if (n > 7 && (m->off & 1))
        n = 7;   /* split some reads */
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

static const char *const commands[] = {
    "scp -t bootflash:",       "scp -r -t bootflash:",  "scp -r -p -t bootflash:",
    "scp -t bootflash:f",      "scp -d -t bootflash:d", "scp -t running-config",
    "scp -f bootflash:f",      "scp -r -p -f bootflash:", "scp -r -f bootflash:d",
    "scp -t nvram:",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scpd_err err = {0};
    if (!fs) {
        snprintf(root, sizeof(root), "/tmp/fuzz_scp_session.XXXXXX");
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
    }
    if (size == 0)
        return 0;
    struct scp_cmd cmd;
    if (scp_cmd_parse(commands[data[0] % (sizeof(commands) / sizeof(commands[0]))], &cmd,
                      &err) < 0)
        abort();
    struct mem m = {.in = data + 1, .len = size - 1};
    struct scp_io io = {.ctx = &m, .read = mem_read, .write = mem_write};
    struct scp_session_ctx ctx = {.ifs = fs, .sid = 1, .user = "fuzz", .peer = "fuzz:1",
                                  .privilege = 15};
    int status = scp_session_run(&ctx, &cmd, &io);
    if (status != 0 && status != 1)
        abort();
    if (count_entries(outside, false) != 0 || count_entries(boot, true) != 0 ||
        count_entries(root, false) != 2)   /* fs and outside */
        abort();
    return 0;
}
