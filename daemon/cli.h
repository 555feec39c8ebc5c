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

struct aaa;
struct chan_authz;
struct ifs;
struct ssh_server;
struct store;
struct stats;
struct trace;
struct sessions;

/* What a session runs with. The strings are the caller's and must outlive the struct cli. */
struct aaa;

struct cli_env {
    struct ifs *ifs;        /* NULL: file commands answer with an error */
    struct store *store;    /* NULL: hostname "scpd", config commands answer with an error */
    uint64_t sid;           /* for the log lines */
    const char *user;
    const char *peer;       /* "addr:port" */
    const char *peer_addr;  /* the address alone (login block-for of `enable`); may be NULL */
    struct aaa *aaa;        /* NULL: `enable` has no secret to check (as without one), and
                             * `show aaa servers` shows the configured servers only */
    struct ssh_server *ssh; /* NULL: `crypto key generate rsa` cannot load the new key */
    const char *data_dir;   /* where the host keys are (crypto key ...); NULL: not offered */
    int privilege;          /* from aaa_authorize_exec: 0-15 */
    bool pty;               /* a terminal was requested: echo typed characters, lines end in CRLF */
    int64_t started_ms;     /* the daemon's start (unix ms) for `show version`; 0: not shown */
    /* called after each level-15 command ran (aaa accounting commands 15); may be NULL */
    void (*on_command)(void *arg, const char *line, int privilege);
    void *on_command_arg;
    struct trace *trace;    /* `debug ip scp`, `terminal monitor`; NULL: those answer an error */
    struct stats *stats;    /* copies from and to remote hosts are counted; may be NULL */
    const char *door;       /* "ssh" (default) */
    const char *client_key; /* the device's own key, for copies to remote hosts (NULL: none) */
    struct sessions *sessions;   /* `show users`; NULL: only this session is known */
    const struct chan_authz *authz;   /* re-checked before each command; NULL: never */
};

struct cli;

/* NULL when out of memory. Free with cli_free() (NULL is a no-op). */
struct cli *cli_new(const struct cli_env *env);
void cli_free(struct cli *c);

/* Return values of cli_start, cli_feed and cli_eof. */
#define CLI_MORE 0   /* waiting for more input */
#define CLI_END 1    /* the user left (exit, logout, quit): close the channel with status 0 */
#define CLI_BUSY 2   /* an operation runs (a copy): call cli_poll() until it returns otherwise,
                      * feeding typed bytes meanwhile (Ctrl-C aborts the operation) */

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
 * or failed (the exit status for the client), -1 when out of memory, or CLI_BUSY (a long
 * operation: see cli_poll). Its questions take their default answer (as after `file prompt
 * quiet`); a question without one (a password) is answered empty, which fails the command. */
int cli_exec(struct cli *c, const char *line);

/* Long operations and live output. A command such as `copy` does not run to its end inside
 * cli_feed: it leaves an operation that cli_poll() advances by one slice (a bounded amount of
 * work, so the caller can read a Ctrl-C or notice a closed channel between slices); cli_feed and
 * cli_exec answer CLI_BUSY while it runs. With `terminal monitor` on, cli_poll() also moves the
 * trace lines that arrived into the output, so the caller calls it every so often while it waits
 * for input (cli_wants_poll()). cli_poll returns CLI_BUSY (call again), CLI_MORE (back at the
 * prompt), CLI_END (the session is over; for cli_exec: the command finished, cli_exec_status()
 * has its status) or -1 (out of memory). */
int cli_poll(struct cli *c);
bool cli_wants_poll(const struct cli *c);
/* The channel closed or the caller gives up: a running operation is cancelled (nothing
 * half-written is left) and a pending question dropped. */
void cli_abort(struct cli *c);
/* The exit status of a cli_exec command that went CLI_BUSY, once cli_poll returned CLI_END. */
int cli_exec_status(const struct cli *c);

/* What to send to the peer so far; valid until the next call on c. cli_out_clear() empties it. */
const char *cli_out(const struct cli *c, size_t *len);
void cli_out_clear(struct cli *c);

#endif
