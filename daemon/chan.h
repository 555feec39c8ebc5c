/* chan: what the SSH door hands to each of its protocols (SCP, SFTP, the EXEC CLI): the channel
 * as an abstract byte stream (struct chan_io: SSH passes callbacks over its channel, tests a
 * socketpair or memory buffers) and who runs on it with which parts of the daemon
 * (struct chan_ctx). Neither knows SSH. */
#ifndef SCPD_CHAN_H
#define SCPD_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ifs;
struct store;
struct stats;
struct trace;

/* The channel. read returns bytes read (> 0), 0 at EOF, -1 on error or timeout; it may return
 * fewer bytes than asked. write writes all of len or returns -1. write_err (optional, may be
 * NULL) writes text for the user's terminal outside the protocol stream (the SSH channel's
 * stderr, which scp prints): the full IOS-style parser errors of a refused config upload. */
struct chan_io {
    void *ctx;
    ssize_t (*read)(void *ctx, void *buf, size_t cap);
    int (*write)(void *ctx, const void *buf, size_t len);
    int (*write_err)(void *ctx, const void *buf, size_t len);
};

/* Who runs on the channel (from the login and exec authorization) and the parts of the daemon the
 * protocol may use; the strings are the session's and outlive the protocol's run. */
struct chan_ctx {
    struct ifs *ifs;
    struct store *store;
    struct stats *stats;
    struct trace *trace;
    uint64_t sid;
    const char *user;
    const char *peer;         /* "addr:port" */
    int privilege;
};

#endif
