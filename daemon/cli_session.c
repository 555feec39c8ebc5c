/* cli_session: the I/O around the cli module (see cli_session.h). Reads what the peer types in
 * blocks of up to CLI_READ bytes and feeds them to the CLI a line at a time, writing each line's
 * answer (echo, output, next prompt) before the next line runs: an interactive user sees each
 * answer at once, and a script that pastes many `show running-config` lines in one packet makes
 * the session hold one command's output in memory, never all of them. */
#include "daemon/cli_session.h"

#include <stdio.h>

#include "base/log.h"

#define CLI_READ 4096   /* typed input arrives in small packets; a paste of commands fits */

/* Writes what the CLI has produced. 0 or -1. */
static int flush(struct cli *c, const struct chan_io *io)
{
    size_t n;
    const char *out = cli_out(c, &n);
    int r = n ? io->write(io->ctx, out, n) : 0;
    cli_out_clear(c);
    return r;
}

/* Length of the first piece of p[0..n) that makes output: up to a line end (CR or LF) or a `?`
 * (help reprints the help, the prompt and the line: a read of 4096 `?` after a full line would
 * otherwise hold ~11 MB before one flush), or n. The LF of a CRLF lands in the next piece, which
 * is fine: the CLI remembers the CR. */
static size_t line_len(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n' || p[i] == '?')
            return i + 1;
    return n;
}

/* Feeds one read, piece by piece (line_len), flushing after each. Returns what cli_feed returned
 * last (CLI_MORE, CLI_END, -1 out of memory); *broken when a write failed. */
static int feed_lines(struct cli *c, const struct chan_io *io, const char *buf, size_t n,
                      bool *broken)
{
    int r = CLI_MORE;
    for (size_t off = 0, k; off < n && r == CLI_MORE; off += k) {
        k = line_len(buf + off, n - off);
        r = cli_feed(c, buf + off, k);
        if (r >= 0 && flush(c, io) < 0) {
            *broken = true;
            break;
        }
    }
    return r;
}

int cli_session_run(const struct cli_env *env, const struct chan_io *io)
{
    struct log_ctx lc = {.sid = env->sid, .user = env->user, .peer = env->peer};
    char buf[CLI_READ];
    bool broken = false;
    struct cli *c = cli_new(env);
    if (!c) {
        log_err(&lc, "cli: out of memory");
        return 1;
    }
    log_info(&lc, "cli: EXEC session started (privilege %d%s)", env->privilege,
             env->pty ? ", terminal" : "");
    int r = cli_start(c);
    while (r == CLI_MORE && !broken) {
        if (flush(c, io) < 0)
            break;
        ssize_t n = io->read(io->ctx, buf, sizeof(buf));
        if (n < 0)
            break;
        r = n == 0 ? cli_eof(c) : feed_lines(c, io, buf, (size_t)n, &broken);
    }
    if (r == CLI_END && !broken && flush(c, io) < 0)
        broken = true;
    if (r < 0)
        log_err(&lc, "cli: out of memory");
    log_info(&lc, "cli: EXEC session ended");
    cli_free(c);
    return r == CLI_END && !broken ? 0 : 1;
}

int cli_session_exec(const struct cli_env *env, const char *command, const struct chan_io *io)
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
