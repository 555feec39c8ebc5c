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
#include "daemon/chan.h"

struct ifs;
struct store;
struct stats;
struct trace;

/* A parsed exec command line: scp [-r] [-p] [-d] [-v] [-q] (-t | -f) [--] PATH */
struct scp_cmd {
    bool sink;        /* -t: the client uploads to us */
    bool source;      /* -f: the client downloads from us */
    bool recursive;   /* -r */
    bool preserve;    /* -p */
    bool target_dir;  /* -d: the target must be a directory */
    bool verbose;     /* -v */
    char path[LIM_PATH_LEN];  /* unquoted */
    /* Not from the command line: set by the caller when the client checks the name of a
     * top-level C record against the last '/'-component of its request (OpenSSH's scp since 8.0,
     * without -r or -T: "filename does not match request"); see scp_session.c, request_name. */
    bool name_checked;
};

/* Parses "scp -t -- 'bootflash:a b'" (shell-style quoting as OpenSSH, PuTTY and curl send it).
 * Returns 0, or -1 with err naming what is wrong. */
int scp_cmd_parse(const char *cmdline, struct scp_cmd *out, struct scpd_err *err);


/* Runs the command to the end. Returns the exit status to send to the client (0 ok, 1 error). */
int scp_session_run(const struct chan_ctx *ctx, const struct scp_cmd *cmd,
                    const struct chan_io *io);

/* Sends a refusal the client prints ("\1scp: MESSAGE\n"), for refusals before the protocol starts
 * (SCP disabled, authorization, privilege). Returns 0 or -1. */
int scp_send_refusal(const struct chan_io *io, const char *message);

#endif
