/* cli_session: an EXEC session (the SSH "shell" request) or one EXEC command (an "exec" request
 * that is not scp) over an abstract byte channel, driving the pure cli module. It knows nothing
 * about SSH: ssh_session.c passes read/write callbacks over its channel (struct chan_io), tests
 * pass memory buffers. Called on the session's own thread; blocks in io->read/io->write only. */
#ifndef SCPD_CLI_SESSION_H
#define SCPD_CLI_SESSION_H

#include "daemon/cli.h"
#include "daemon/chan.h"

/* Serves an interactive session until the user leaves (exit/logout/quit), the peer closes its
 * side, or the channel fails (io->read gives up on idle or stop). Returns the exit status to send:
 * 0, or 1 when the channel failed or memory ran out. */
int cli_session_run(const struct cli_env *env, const struct chan_io *io);

/* Runs one command line and returns its exit status (0 done, 1 refused or failed). */
int cli_session_exec(const struct cli_env *env, const char *command, const struct chan_io *io);

#endif
