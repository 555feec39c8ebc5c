/* Fuzz target of the EXEC command line (cli, through cli_session) on a real temporary file system
 * holding one file: the first input byte picks the privilege (0, 1, 15), whether a pty was
 * requested and how the input is split into reads; the rest is what the peer types. Then the same
 * bytes run once as an exec command. Checks that the interactive output never carries a control
 * byte other than CR, LF, BS and BEL (nothing the peer typed reaches the terminal raw), that a
 * session always ends cleanly, and that nothing appears outside the file system's root. There is
 * no store: config commands fail cleanly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/cli_session.h"
#include "tests/fuzz/fuzz_fs.h"

static int check_write(void *ctx, const void *buf, size_t len)
{
    const unsigned char *o = buf;
    for (size_t i = 0; i < len; i++)
        if ((o[i] < 0x20 || o[i] > 0x7e) && o[i] != '\r' && o[i] != '\n' && o[i] != '\b' &&
            o[i] != '\a')
            abort();
    return 0;
}

static void seed(const char *boot)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/f", boot);
    FILE *fp = fopen(p, "w");
    if (!fp)
        abort();
    fputs("hello\n", fp);
    fclose(fp);
    fuzz_fs_keep("f");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int levels[] = {0, 1, 15};
    struct ifs *fs = fuzz_fs("fuzz_cli", seed);
    if (size == 0)
        return 0;
    struct cli_env env = {.ifs = fs, .sid = 1, .user = "fuzz", .peer = "fuzz:1",
                          .privilege = levels[data[0] % 3], .pty = (data[0] & 4) != 0};
    struct mem m = {.in = data + 1, .len = size - 1, .split = 1 + (data[0] >> 4)};
    struct chan_io io = {.ctx = &m, .read = mem_read, .write = check_write};
    if (cli_session_run(&env, &io) != 0)
        abort();   /* EOF or exit, nothing else, can end a session over a working channel */

    char *line = malloc(size);
    if (!line)
        return 0;
    memcpy(line, data + 1, size - 1);
    line[size - 1] = '\0';
    io.write = mem_write;
    int status = cli_session_exec(&env, line, &io);
    if (status != 0 && status != 1)
        abort();
    free(line);
    fuzz_fs_check();
    return 0;
}
