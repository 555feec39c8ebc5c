/* cli: a minimal IOS EXEC command line, as a pure module: bytes typed in, bytes to show out. No
 * socket and no thread of its own: cli_session.c (or a test) feeds what the peer sends and writes
 * what cli_out() holds. It exists so that scripts written for IOS (netmiko's file_transfer:
 * `dir`, `verify /md5`; `show running-config`, `write memory`) work against scpd.
 * One struct cli is one EXEC session; it is used by one thread at a time. */
#ifndef SCPD_CLI_H
#define SCPD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chan_authz;
struct ifs;
struct store;

/* What a session runs with. The strings are the caller's and must outlive the struct cli. */
struct cli_env {
    struct ifs *ifs;        /* NULL: file commands answer with an error */
    struct store *store;    /* NULL: hostname "scpd", config commands answer with an error */
    uint64_t sid;           /* for the log lines */
    const char *user;
    const char *peer;       /* "addr:port" */
    int privilege;          /* from aaa_authorize_exec: 0-15 */
    bool pty;               /* a terminal was requested: echo typed characters, lines end in CRLF */
    int64_t started_ms;     /* the daemon's start (unix ms) for `show version`; 0: not shown */
    const struct chan_authz *authz;   /* re-checked before each command; NULL: never */
};

struct cli;

/* NULL when out of memory. Free with cli_free() (NULL is a no-op). */
struct cli *cli_new(const struct cli_env *env);
void cli_free(struct cli *c);

/* Return values of cli_start, cli_feed and cli_eof. */
#define CLI_MORE 0   /* waiting for more input */
#define CLI_END 1    /* the user left (exit, logout, quit): close the channel with status 0 */

/* The first prompt. CLI_MORE, or -1 when out of memory. */
int cli_start(struct cli *c);
/* Bytes typed by the peer, any split: CR, LF or CRLF end a line (then it runs), BS/DEL erase,
 * ^U erases the line, `?` shows context help, escape sequences and other control bytes are
 * dropped. Runs every complete
 * line; input after `exit` is ignored. CLI_MORE, CLI_END, or -1 when out of memory. */
int cli_feed(struct cli *c, const void *buf, size_t len);
/* The peer closed its side: a last line without a line end still runs. CLI_END or -1. */
int cli_eof(struct cli *c);
/* Runs one command line without prompt or echo (an SSH exec request such as
 * `ssh dev "show running-config"`). Returns 0 when the command succeeded, 1 when it was refused
 * or failed (the exit status for the client), -1 when out of memory. */
int cli_exec(struct cli *c, const char *line);

/* What to send to the peer so far; valid until the next call on c. cli_out_clear() empties it. */
const char *cli_out(const struct cli *c, size_t *len);
void cli_out_clear(struct cli *c);

#endif
