/* ssh_session: one SSH connection from key exchange to disconnect, on its own thread (private to
 * the SSH door: ssh_server.c accepts and counts, ssh_session.c serves). A session is used by its
 * thread only; the server touches a live session's socket only to shut it down at stop, under the
 * server mutex and only while fd_open says the descriptor is still the session's. */
#ifndef SCPD_SSH_SESSION_H
#define SCPD_SSH_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libssh/libssh.h>

#include "base/scpd_err.h"


struct scpd;
struct ssh_server;
struct ssh_win_budget;

struct ssh_conn {
    struct ssh_server *srv;
    struct scpd *d;
    int fd;               /* accepted socket, the session's to close; libssh works on a dup */
    bool fd_open;         /* guarded by the server mutex */
    bool pending;         /* counted among the unauthenticated sessions (server mutex) */
    bool waiting;         /* its source is at LIM_PENDING_PER_SOURCE: waits, unread (mutex) */
    uint64_t sid;
    char peer_addr[64];   /* "127.0.0.1", "::1" */
    char peer[80];        /* "127.0.0.1:50412", "[::1]:50412" */
    char source[64];      /* what the per-source limits count: "127.0.0.1", "2001:db8::/64" */
    pthread_t thread;
    struct ssh_conn *next;
};

/* The session thread's body: serves c to the end, then hands it back with ssh_srv_conn_done(). */
void ssh_sess_main(struct ssh_conn *c);

/* ---- services of ssh_server.c to the session threads ----------------------------------------- */
/* Makes a libssh server session over a duplicate of c->fd with the host keys and algorithms of
 * the server; a waiting connection (see LIM_PENDING_PER_SOURCE) first waits for its turn, unread.
 * libssh closes its duplicate whenever it likes (it does on a peer's EOF or error); c->fd stays
 * open, and names this connection's socket, until the session closes it (ssh_srv_conn_closing
 * first). NULL on failure (c->fd still open). */
ssh_session ssh_srv_new_session(struct ssh_server *s, struct ssh_conn *c, struct scpd_err *err);
/* The budget of what all sessions' channels may hold unread (LIM_SSH_WINDOW_TOTAL). */
struct ssh_win_budget *ssh_srv_window_budget(struct ssh_server *s);
/* Stop requested: sessions that are not transferring end now. */
bool ssh_srv_stopping(const struct ssh_server *s);
/* Grace period over: transfers end too. */
bool ssh_srv_aborting(const struct ssh_server *s);
/* The session authenticated: it no longer counts against LIM_PENDING_HANDSHAKES. */
void ssh_srv_conn_authenticated(struct ssh_server *s, struct ssh_conn *c);
/* The session is about to close its socket (no more shutdown() from the server). */
void ssh_srv_conn_closing(struct ssh_server *s, struct ssh_conn *c);
/* Last call of the session thread: c is queued for join and freed by the server. */
void ssh_srv_conn_done(struct ssh_server *s, struct ssh_conn *c);

#endif
