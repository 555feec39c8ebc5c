/* cli_session: the I/O around the cli module (see cli_session.h). Reads what the peer types in
 * blocks of up to CLI_READ bytes, feeds them to the CLI and writes what it answers after each
 * block, so an interactive user sees the echo and the output of each line at once, and a script
 * that sends several lines in one packet gets all the answers in one write. */
#include "cli_session.h"

#include <stdio.h>

#include "log.h"

#define CLI_READ 4096   /* typed input arrives in small packets; a paste of commands fits */

/* Writes what the CLI has produced. 0 or -1. */
static int flush(struct cli *c, const struct scp_io *io)
{
    size_t n;
    const char *out = cli_out(c, &n);
    int r = n ? io->write(io->ctx, out, n) : 0;
    cli_out_clear(c);
    return r;
}

int cli_session_run(const struct cli_env *env, const struct scp_io *io)
{
    struct log_ctx lc = {.sid = env->sid, .user = env->user, .peer = env->peer};
    char buf[CLI_READ];
    struct cli *c = cli_new(env);
    int status = 1, r;
    if (!c) {
        log_err(&lc, "cli: out of memory");
        return 1;
    }
    log_info(&lc, "cli: EXEC session started (privilege %d%s)", env->privilege,
             env->pty ? ", terminal" : "");
    r = cli_start(c);
    for (;;) {
        if (r < 0) {
            log_err(&lc, "cli: out of memory");
            break;
        }
        if (flush(c, io) < 0)
            break;
        if (r == CLI_END) {
            status = 0;
            break;
        }
        ssize_t n = io->read(io->ctx, buf, sizeof(buf));
        if (n < 0)
            break;
        r = n == 0 ? cli_eof(c) : cli_feed(c, buf, (size_t)n);
    }
    log_info(&lc, "cli: EXEC session ended");
    cli_free(c);
    return status;
}

int cli_session_exec(const struct cli_env *env, const char *command, const struct scp_io *io)
{
    struct log_ctx lc = {.sid = env->sid, .user = env->user, .peer = env->peer};
    struct cli *c = cli_new(env);
    if (!c) {
        log_err(&lc, "cli: out of memory");
        return 1;
    }
    int status = cli_exec(c, command);
    if (status < 0)
        log_err(&lc, "cli: out of memory");
    if (flush(c, io) < 0 || status < 0)
        status = 1;
    cli_free(c);
    return status;
}
