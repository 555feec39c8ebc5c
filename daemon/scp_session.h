/* scp_session: runs one SCP command (`scp -t ...` sink or `scp -f ...` source) over an abstract
 * byte channel, with the protocol state machine of scp_proto, the IOS File System and the
 * statistics/trace hooks. It knows nothing about SSH: the SSH side passes read/write callbacks
 * over its channel, tests pass a socketpair or memory buffers.
 * Called on the session's own thread; blocks in io->read/io->write only. */
#ifndef SCPD_SCP_SESSION_H
#define SCPD_SCP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/scpd_err.h"
#include "base/lim.h"

struct ifs;
struct store;
struct stats;
struct trace;

/* The channel. read returns bytes read (> 0), 0 at EOF, -1 on error or timeout; it may return
 * fewer bytes than asked. write writes all of len or returns -1. write_err (optional, may be
 * NULL) writes text for the user's terminal outside the protocol stream (the SSH channel's
 * stderr, which scp prints): the full IOS-style parser errors of a refused config upload. */
struct scp_io {
    void *ctx;
    ssize_t (*read)(void *ctx, void *buf, size_t cap);
    int (*write)(void *ctx, const void *buf, size_t len);
    int (*write_err)(void *ctx, const void *buf, size_t len);
    /* optional (NULL: never used): waits up to timeout_ms for input; 1 when read would not
     * block (data or EOF), 0 when nothing came, -1 when the channel failed or must be given up
     * (idle, stop). The CLI uses it to notice a Ctrl-C during a copy and to show `terminal
     * monitor` lines while the user types nothing. */
    int (*readable)(void *ctx, int timeout_ms);
};

/* A parsed exec command line: scp [-r] [-p] [-d] [-v] [-q] (-t | -f) [--] PATH */
struct scp_cmd {
    bool sink;        /* -t: the client uploads to us */
    bool source;      /* -f: the client downloads from us */
    bool recursive;   /* -r */
    bool preserve;    /* -p */
    bool target_dir;  /* -d: the target must be a directory */
    bool verbose;     /* -v */
    char path[LIM_PATH_LEN];  /* unquoted */
};

/* Parses "scp -t -- 'bootflash:a b'" (shell-style quoting as OpenSSH, PuTTY and curl send it).
 * Returns 0, or -1 with err naming what is wrong. */
int scp_cmd_parse(const char *cmdline, struct scp_cmd *out, struct scpd_err *err);

struct scp_session_ctx {
    struct ifs *ifs;
    struct store *store;
    struct stats *stats;
    struct trace *trace;
    uint64_t sid;
    const char *user;
    const char *peer;         /* "addr:port" */
    int privilege;
};

/* Runs the command to the end. Returns the exit status to send to the client (0 ok, 1 error). */
int scp_session_run(const struct scp_session_ctx *ctx, const struct scp_cmd *cmd,
                    const struct scp_io *io);

/* Sends a refusal the client prints ("\1scp: MESSAGE\n"), for refusals before the protocol starts
 * (SCP disabled, authorization, privilege). Returns 0 or -1. */
int scp_send_refusal(const struct scp_io *io, const char *message);

#endif
