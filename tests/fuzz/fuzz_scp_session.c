/* Fuzz target of a whole SCP session (scp_session_run over a memory channel) on a real temporary
 * file system: the first input byte picks the command (sink or source, -r, -p, target), the rest
 * is what the client sends. Checks that nothing appears outside the file system's root and that
 * no temporary upload file is left behind. The store is absent (config files fail cleanly). */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz_fs.h"
#include "daemon/scp_session.h"

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
    struct ifs *fs = fuzz_fs("fuzz_scp_session", NULL);
    if (size == 0)
        return 0;
    struct scp_cmd cmd;
    if (scp_cmd_parse(commands[data[0] % (sizeof(commands) / sizeof(commands[0]))], &cmd,
                      &err) < 0)
        abort();
    struct mem m = {.in = data + 1, .len = size - 1, .split = 7};
    struct chan_io io = {.ctx = &m, .read = mem_read, .write = mem_write};
    struct chan_ctx ctx = {.ifs = fs, .sid = 1, .user = "fuzz", .peer = "fuzz:1",
                                  .privilege = 15};
    int status = scp_session_run(&ctx, &cmd, &io);
    if (status != 0 && status != 1)
        abort();
    fuzz_fs_check();
    return 0;
}
