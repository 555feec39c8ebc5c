/* sftp_session: serves the SSH "sftp" subsystem (SFTP version 3) over an abstract byte channel,
 * with the packet format of sftp_proto, the IOS File System for every file access and the
 * statistics/trace hooks of the SCP side. It knows nothing about SSH: the SSH side passes the
 * same read/write callbacks and session context as for SCP (struct chan_io, struct
 * chan_ctx), after the same authorization. Tests pass a socketpair or memory buffers.
 * Called on the session's own thread; blocks in io->read/io->write only. */
#ifndef SCPD_SFTP_SESSION_H
#define SCPD_SFTP_SESSION_H

#include "daemon/chan.h"

/* Serves requests until the client closes the channel. Open uploads that were not closed are
 * discarded (the target stays as it was). Returns the exit status to send (0, or 1 after a
 * protocol violation ended the session). */
int sftp_session_run(const struct chan_ctx *ctx, const struct chan_io *io);

#endif
