/* cli_session: the I/O around the cli module (see cli_session.h). Reads what the peer types in
 * blocks of up to CLI_READ bytes and feeds them to the CLI a line at a time, writing each line's
 * answer (echo, output, next prompt) before the next line runs: an interactive user sees each
 * answer at once, and a script that pastes many `show running-config` lines in one packet makes
 * the session hold one command's output in memory, never all of them.
 *
 * Long operations (a copy) run slice by slice through cli_poll(); between slices the channel is
 * polled without waiting (io->readable), so a Ctrl-C aborts the copy and a closed channel
 * cancels it. Bytes typed meanwhile that are not a Ctrl-C are kept (up to CLI_READ) and run
 * after the operation, as IOS's typeahead. With `terminal monitor` on, the wait for input is cut
 * into CLI_MONITOR_MS slices and the trace lines that arrived are written between them. */
#include "daemon/cli_session.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"

#define CLI_READ 4096        /* typed input arrives in small packets; a paste of commands fits */
#define CLI_MONITOR_MS 100   /* `terminal monitor`: trace lines wait at most this long */

struct cli_io {
    struct cli *c;
    const struct chan_io *io;
    char ahead[CLI_READ];    /* typeahead read during an operation */
    size_t n_ahead;
    bool broken;             /* a write failed or the channel closed */
    bool eof;                /* the peer sent EOF: no more input, output still goes out */
};

/* Writes what the CLI has produced. 0 or -1. */
static int flush(struct cli_io *s)
{
    size_t n;
    const char *out = cli_out(s->c, &n);
    int r = n ? s->io->write(s->io->ctx, out, n) : 0;
    cli_out_clear(s->c);
    if (r < 0)
        s->broken = true;
    return r;
}

/* Runs the operation the CLI started to its end: slices, flushes, and between them a look at
 * the channel for a Ctrl-C (which goes to the CLI at once) or a close (which cancels). Returns
 * what cli_poll returned last (CLI_MORE, CLI_END, -1). */
static int run_busy(struct cli_io *s)
{
    int r = CLI_BUSY;
    while (r == CLI_BUSY) {
        if (flush(s) < 0) {
            cli_abort(s->c);
            return CLI_END;
        }
        int rd = s->io->readable && !s->eof ? s->io->readable(s->io->ctx, 0) : 0;
        if (rd < 0) {
            cli_abort(s->c);
            s->broken = true;
            return CLI_END;
        }
        if (rd > 0) {
            char buf[256];
            size_t room = sizeof(s->ahead) - s->n_ahead;
            ssize_t n = s->io->read(s->io->ctx, buf, room < sizeof(buf) ? room : sizeof(buf));
            if (n < 0) {   /* the channel failed: nothing is left to show the result to */
                cli_abort(s->c);
                s->broken = true;
                return CLI_END;
            }
            if (n == 0) {   /* the peer's input ended (ssh -T < script): the operation goes on */
                s->eof = true;
                continue;
            }
            const char *stop = memchr(buf, 0x03, (size_t)n);
            if (!stop)
                stop = memchr(buf, 0x1e, (size_t)n);
            if (stop) {
                r = cli_feed(s->c, stop, 1);
                continue;
            }
            memcpy(s->ahead + s->n_ahead, buf, (size_t)n);
            s->n_ahead += (size_t)n;
        }
        r = cli_poll(s->c);
    }
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

/* Feeds one read, piece by piece (line_len), flushing after each and running an operation a
 * piece started. Returns what the CLI returned last (CLI_MORE, CLI_END, -1 out of memory). */
static int feed_lines(struct cli_io *s, const char *buf, size_t n)
{
    int r = CLI_MORE;
    for (size_t off = 0, k; off < n && r == CLI_MORE; off += k) {
        k = line_len(buf + off, n - off);
        r = cli_feed(s->c, buf + off, k);
        if (r == CLI_BUSY)
            r = run_busy(s);
        if (r >= 0 && flush(s) < 0)
            break;
    }
    return r;
}

int cli_session_run(const struct cli_env *env, const struct chan_io *io)
{
    struct log_ctx lc = {.sid = env->sid, .user = env->user, .peer = env->peer};
    char buf[CLI_READ];
    struct cli_io s = {.io = io};
    s.c = cli_new(env);
    if (!s.c) {
        log_err(&lc, "cli: out of memory");
        return 1;
    }
    log_info(&lc, "cli: EXEC session started (privilege %d%s)", env->privilege,
             env->pty ? ", terminal" : "");
    int r = cli_start(s.c);
    while (r == CLI_MORE && !s.broken) {
        if (flush(&s) < 0)
            break;
        if (s.n_ahead > 0) {   /* typed during the last operation */
            size_t n = s.n_ahead;
            memcpy(buf, s.ahead, n);
            s.n_ahead = 0;
            r = feed_lines(&s, buf, n);
            continue;
        }
        if (cli_wants_poll(s.c) && io->readable) {
            int rd = io->readable(io->ctx, CLI_MONITOR_MS);
            if (rd < 0)
                break;
            if (rd == 0) {
                r = cli_poll(s.c);
                continue;
            }
        }
        ssize_t n = s.eof ? 0 : io->read(io->ctx, buf, sizeof(buf));
        if (n < 0)
            break;
        r = n == 0 ? cli_eof(s.c) : feed_lines(&s, buf, (size_t)n);
    }
    if (r == CLI_END && !s.broken)
        flush(&s);
    if (r < 0)
        log_err(&lc, "cli: out of memory");
    log_info(&lc, "cli: EXEC session ended");
    cli_free(s.c);
    return r == CLI_END && !s.broken ? 0 : 1;
}

int cli_session_exec(const struct cli_env *env, const char *command, const struct chan_io *io)
{
    struct log_ctx lc = {.sid = env->sid, .user = env->user, .peer = env->peer};
    struct cli_io s = {.io = io};
    s.c = cli_new(env);
    if (!s.c) {
        log_err(&lc, "cli: out of memory");
        return 1;
    }
    int status = cli_exec(s.c, command);
    if (status == CLI_BUSY) {
        int r = run_busy(&s);
        status = r < 0 ? -1 : cli_exec_status(s.c);
    }
    if (status < 0)
        log_err(&lc, "cli: out of memory");
    if (flush(&s) < 0 || status < 0 || s.broken)
        status = 1;
    cli_free(s.c);
    return status;
}
