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
    /* optional (NULL: never used): waits up to timeout_ms for input; 1 when read would not
     * block (data or EOF), 0 when nothing came, -1 when the channel failed or must be given up
     * (idle, stop). The CLI uses it to notice a Ctrl-C during a copy and to show `terminal
     * monitor` lines while the user types nothing. */
    int (*readable)(void *ctx, int timeout_ms);
    /* Optional (may be NULL): read as read does, but give up after timeout_ms with -2 when
     * nothing came (NETCONF sends its notifications meanwhile). */
    ssize_t (*read_wait)(void *ctx, void *buf, size_t cap, int timeout_ms);
};

/* Authorization follows the account: the protocol calls check before each operation (an SFTP
 * request, an SCP file, a CLI command). 0: still allowed, *privilege the account's current level
 * (it may have changed); -1: no longer allowed, why says so in words for the user ("access
 * revoked: user tiger was deleted"), and the protocol tells the user and ends. Cheap while the
 * config does not change (a version number compared). */
struct chan_authz {
    int (*check)(void *arg, int *privilege, char *why, size_t cap);
    void *arg;
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
    const struct chan_authz *authz;   /* NULL: not re-checked (tests) */
};

#endif
