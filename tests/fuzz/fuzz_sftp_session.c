/* Fuzz target of a whole SFTP session (sftp_session_run over a memory channel) on a real temporary
 * file system with a symlink pointing out of bootflash:. The input is what the client sends
 * (handles are predictable: slot and generation, so the seeds reach READ, WRITE and CLOSE).
 * Checks that nothing appears outside the file system's root, that no temporary upload file is
 * left behind and that the session ends with status 0 or 1. The store is absent (config files
 * fail cleanly). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_fs.h"
#include "daemon/sftp_session.h"

static void seed(const char *boot)
{
    char link[160];
    snprintf(link, sizeof(link), "%s/out", boot);
    if (symlink(fuzz_outside, link) < 0)
        abort();
    fuzz_fs_keep("out");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ifs *fs = fuzz_fs("fuzz_sftp_session", seed);
    struct mem m = {.in = data, .len = size, .split = 11};
    struct chan_io io = {.ctx = &m, .read = mem_read, .write = mem_write};
    struct chan_ctx ctx = {
        .ifs = fs, .sid = 1, .user = "fuzz", .peer = "fuzz:1", .privilege = 15};
    int status = sftp_session_run(&ctx, &io);
    if (status != 0 && status != 1)
        abort();
    fuzz_fs_check();
    return 0;
}
