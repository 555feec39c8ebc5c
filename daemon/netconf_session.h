/* netconf_session: serves the SSH "netconf" subsystem (RFC 6241 over RFC 6242, base:1.0 and
 * base:1.1) over an abstract byte channel: hello, then one rpc-reply per rpc. The data is the
 * Cisco-IOS-XE-native model of model/model_native (the same translation RESTCONF uses), every
 * change one store_commit audited as source "netconf". The lock is the store's datastore lock,
 * so the other doors see it; it is released when the session ends.
 * Called on the SSH session's thread; blocks in io->read/io->write only. */
#ifndef SCPD_NETCONF_SESSION_H
#define SCPD_NETCONF_SESSION_H

#include "daemon/chan.h"

/* Runs the session until <close-session>, EOF, a framing error, or kill-session. Returns the exit
 * status for the channel (0, or 1 after a protocol violation). ctx->sid is the session-id. */
int netconf_session_run(const struct chan_ctx *ctx, const struct chan_io *io);

#endif
