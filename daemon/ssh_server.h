/* ssh_server: the SSH door (libssh 0.10). One accept thread per --ssh-listen address, one thread
 * per session (handshake, authentication through aaa, channels, scp_session). A slow or hostile
 * session never stalls another. Limits of base/lim.h on sessions, channels, time. */
#ifndef SCPD_SSH_SERVER_H
#define SCPD_SSH_SERVER_H

#include "base/scpd_err.h"

struct scpd;
struct ssh_server;

/* Loads the host keys of DIR/keys (made by hostkey_ensure() at start-up; missing keys are an
 * error naming the file), binds every d->opts.ssh_listen address (port 0: a free port; backlog
 * 512; IPv6 as "[::1]:0"), prints "ssh listening on ADDR:PORT" on stdout for each, and serves
 * until stopped. Needs d->store, d->aaa and d->ifs; d->stats and d->trace may be NULL. */
struct ssh_server *ssh_server_start(struct scpd *d, struct scpd_err *err);
/* Stops accepting, lets running transfers finish for a bounded time (10 s), then disconnects the
 * rest, joins every thread and frees everything. */
void ssh_server_stop(struct ssh_server *s);   /* NULL is a no-op */

/* Loads the host key files again (after `crypto key generate rsa`): the next connections use
 * them; sessions already running keep theirs. 0 or -1. */
int ssh_server_reload_hostkeys(struct ssh_server *s, struct scpd_err *err);

#endif
