/* ssh_server: the listening side of the SSH door.
 *
 * Design. The daemon opens its listen sockets itself (libssh's ssh_bind_listen uses a backlog of
 * 10) and hands each accepted descriptor to libssh with ssh_bind_accept_fd. One accept thread per
 * --ssh-listen address; one thread per session (ssh_session.c) runs the key exchange,
 * authentication, channels and the SCP transfer with blocking I/O, so a slow handshake, an
 * authentication round trip (scrypt) or a stalled reader costs its own thread only.
 *
 * The accept thread enforces the session limits of base/lim.h before any byte is read: sessions in
 * total, per source, and unauthenticated sessions in total and per source. A source is an IPv4
 * address or an IPv6 /64 (an IPv4-mapped address counts as IPv4). A source at its share of
 * unauthenticated sessions (LIM_PENDING_PER_SOURCE) does not take more of the pool: its further
 * connections wait, unread, for its turn (bounded by LIM_PENDING_WAITING and the longest
 * `ip ssh time-out`), so one source holding idle connections stalls nobody but itself, and a burst
 * of logins from one host is served a few at a time. A refused connection is closed at once,
 * logged with the reason and counted (sessions-rejected).
 *
 * Finished session threads queue themselves on a zombie list; accept threads join them as they
 * go, ssh_server_stop joins the rest. Stop: wake the accept threads through a pipe, let sessions
 * that are transferring finish for SSH_STOP_GRACE_SECS, then shut their sockets down so every
 * blocked read or write returns, join every thread and free everything. */
#include "daemon/ssh_server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "daemon/hostkey.h"
#include "base/clock.h"
#include "base/lim.h"
#include "base/log.h"
#include "base/scpd.h"
#include "daemon/ssh_refuse.h"
#include "daemon/ssh_session.h"
#include "daemon/ssh_window.h"
#include "services/stats.h"
#include "store/cfg.h"
#include "store/store.h"

#define SSH_LISTEN_BACKLOG 512
/* The identification libssh announces (it sets no custom banner here): a refusal says the same */
#define SSH_SRV_IDENT "SSH-2.0-libssh_" SSH_STRINGIFY(LIBSSH_VERSION)
#define SSH_STOP_GRACE_SECS 10     /* running transfers may finish within this at stop */
#define SSH_WAIT_TURN_SECS                                                                         \
    120 /* a waiting connection's longest wait: the longest                                        \
         * ip ssh time-out (its own negotiation deadline runs meanwhile) */

/* Algorithms: modern only (docs/scp.md "SSH"). The client's preference order picks among these. */
#define SSH_KEX "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256," \
                "ecdh-sha2-nistp384,ecdh-sha2-nistp521"
#define SSH_CIPHERS "aes128-gcm@openssh.com,aes256-gcm@openssh.com," \
                    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"
/* Encrypt-then-MAC first; plain hmac-sha2 stays for libssh2 (curl) and paramiko, which have no
 * etm MACs. No hmac-sha1. */
#define SSH_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com," \
                 "hmac-sha2-256,hmac-sha2-512"
#define SSH_HOSTKEY_ALGS "ssh-ed25519,rsa-sha2-512,rsa-sha2-256"
#define SSH_USERKEY_ALGS "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
                         "ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"

struct ssh_listener {
    struct ssh_server *srv;
    int fd;
    char addr[80];          /* printed form, "127.0.0.1:2222" */
    pthread_t thread;
    bool running;
    int linger_fd[LIM_REFUSED_LINGER];         /* refused, told why, half-closed (-1: free) */
    int64_t linger_until[LIM_REFUSED_LINGER];  /* clock_mono_ms deadline of each */
};

struct ssh_server {
    struct scpd *d;
    ssh_bind bind;
    pthread_mutex_t bind_mu;   /* ssh_bind_accept_fd is not safe on one bind from two threads */
    struct ssh_listener ls[SCPD_MAX_LISTEN];
    int nls;
    int stop_pipe[2];

    pthread_mutex_t mu;        /* everything below */
    pthread_cond_t cv;         /* a session ended */
    struct ssh_conn *live;
    struct ssh_conn *zombies;
    int nlive, npending, nwaiting;
    uint64_t next_sid;
    int stopping, aborting;    /* read without the mutex by sessions: __atomic */
    struct ssh_win_budget window_budget;   /* receive windows of all sessions (ssh_window.h) */
};

/* Unauthenticated sessions of a source (server mutex held). */
static int ssh_srv_source_pending(const struct ssh_server *s, const char *source)
{
    int n = 0;
    for (const struct ssh_conn *e = s->live; e; e = e->next)
        n += e->pending && strcmp(e->source, source) == 0;
    return n;
}

/* A waiting connection waits for a handshake slot of its source (and of the pool). */
static int ssh_srv_wait_turn(struct ssh_server *s, struct ssh_conn *c, struct scpd_err *err)
{
    struct timespec deadline;   /* the condition variable's clock: CLOCK_MONOTONIC */
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += SSH_WAIT_TURN_SECS;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    while (c->waiting) {
        if (s->stopping) {
            rc = scpd_err_set(err, SCPD_E_LIMIT, "server is stopping");
        } else if (s->npending < LIM_PENDING_HANDSHAKES &&
                   ssh_srv_source_pending(s, c->source) < LIM_PENDING_PER_SOURCE) {
            c->pending = true;
            s->npending++;
        } else if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == ETIMEDOUT) {
            rc = scpd_err_set(err, SCPD_E_LIMIT, "ssh connection waited %d s for one of the "
                              "unauthenticated sessions of %s to end", SSH_WAIT_TURN_SECS,
                              c->source);
        } else {
            continue;
        }
        c->waiting = false;
        s->nwaiting--;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- services for ssh_session.c ----------------------------------------------------------- */

struct ssh_win_budget *ssh_srv_window_budget(struct ssh_server *s)
{
    return &s->window_budget;
}

bool ssh_srv_stopping(const struct ssh_server *s)
{
    return __atomic_load_n(&s->stopping, __ATOMIC_RELAXED) != 0;
}

bool ssh_srv_aborting(const struct ssh_server *s)
{
    return __atomic_load_n(&s->aborting, __ATOMIC_RELAXED) != 0;
}

ssh_session ssh_srv_new_session(struct ssh_server *s, struct ssh_conn *c, struct scpd_err *err)
{
    if (ssh_srv_wait_turn(s, c, err) != 0)
        return NULL;
    /* libssh closes the descriptor it was given on its own (a peer's EOF or error), and that
     * number may be another connection's or a file's a moment later. So it gets a duplicate:
     * c->fd stays this socket's until the session closes it, for TCP_QUICKACK, the graceful
     * close and the stop's shutdown(). */
    int lfd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
    if (lfd < 0) {
        scpd_err_set(err, SCPD_E_INTERNAL, "cannot start an SSH session: %s", strerror(errno));
        return NULL;
    }
    ssh_session ses = ssh_new();
    if (ses == NULL) {
        close(lfd);
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory for an SSH session");
        return NULL;
    }
    pthread_mutex_lock(&s->bind_mu);
    int rc = ssh_bind_accept_fd(s->bind, ses, lfd);
    if (rc != SSH_OK)
        scpd_err_set(err, SCPD_E_INTERNAL, "cannot start an SSH session: %s",
                     ssh_get_error(s->bind));
    pthread_mutex_unlock(&s->bind_mu);
    if (rc != SSH_OK) {
        /* The session may already own lfd: then ssh_free() closes it. */
        bool owned = ssh_get_fd(ses) == lfd;
        ssh_free(ses);
        if (!owned)
            close(lfd);
        return NULL;
    }
    return ses;
}

void ssh_srv_conn_authenticated(struct ssh_server *s, struct ssh_conn *c)
{
    pthread_mutex_lock(&s->mu);
    if (c->pending) {
        c->pending = false;
        s->npending--;
        pthread_cond_broadcast(&s->cv);   /* a waiting connection of its source may go on */
    }
    pthread_mutex_unlock(&s->mu);
}

void ssh_srv_conn_closing(struct ssh_server *s, struct ssh_conn *c)
{
    pthread_mutex_lock(&s->mu);
    c->fd_open = false;
    pthread_mutex_unlock(&s->mu);
}

void ssh_srv_conn_done(struct ssh_server *s, struct ssh_conn *c)
{
    pthread_mutex_lock(&s->mu);
    for (struct ssh_conn **p = &s->live; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    if (c->pending)
        s->npending--;
    if (c->waiting)
        s->nwaiting--;
    s->nlive--;
    c->next = s->zombies;
    s->zombies = c;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->d->stats)
        stats_sessions_active(s->d->stats, -1);
}

/* Joins and frees the session threads that have ended. */
static void ssh_srv_reap(struct ssh_server *s)
{
    pthread_mutex_lock(&s->mu);
    struct ssh_conn *z = s->zombies;
    s->zombies = NULL;
    pthread_mutex_unlock(&s->mu);
    while (z) {
        struct ssh_conn *next = z->next;
        pthread_join(z->thread, NULL);
        free(z);
        z = next;
    }
}

/* ---- accepting ---------------------------------------------------------------------------- */

static void *ssh_srv_session_thread(void *arg)
{
    struct ssh_conn *c = arg;
    ssh_sess_main(c);
    return NULL;
}

static void ssh_srv_format_peer(const struct sockaddr_storage *ss, char *addr, size_t acap,
                                char *peer, size_t pcap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    snprintf(addr, acap, "%s", host);
    snprintf(peer, pcap, ss->ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

/* The source the per-source limits count: the IPv4 address (also when IPv4-mapped), or the /64
 * of an IPv6 address, as one host on a LAN gets a /64 and can use all of it. */
static void ssh_srv_format_source(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
        snprintf(out, cap, "%s", host);
    } else if (ss->ss_family == AF_INET6) {
        struct in6_addr a = ((const struct sockaddr_in6 *)ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a)) {
            inet_ntop(AF_INET, &a.s6_addr[12], host, sizeof(host));
            snprintf(out, cap, "%s", host);
        } else {
            memset(&a.s6_addr[8], 0, 8);
            inet_ntop(AF_INET6, &a, host, sizeof(host));
            snprintf(out, cap, "%s/64", host);
        }
    } else {
        snprintf(out, cap, "%s", host);
    }
}

/* Admission under the limits; on success c is live and counted. Returns NULL or the reason. */
static const char *ssh_srv_admit(struct ssh_server *s, struct ssh_conn *c)
{
    const char *why = NULL;
    pthread_mutex_lock(&s->mu);
    int same = 0, same_pending = 0;
    for (struct ssh_conn *e = s->live; e; e = e->next) {
        bool is_same = strcmp(e->source, c->source) == 0;
        same += is_same;
        same_pending += is_same && e->pending;
    }
    bool wait = same_pending >= LIM_PENDING_PER_SOURCE;
    if (s->stopping)
        why = "server is stopping";
    else if (s->nlive >= LIM_SESSIONS_TOTAL)
        why = "too many SSH sessions (limit " LIM_STR(LIM_SESSIONS_TOTAL) ")";
    else if (same >= LIM_SESSIONS_PER_SOURCE)
        why = "too many SSH sessions from this source (limit "
              LIM_STR(LIM_SESSIONS_PER_SOURCE) ")";
    else if (wait && s->nwaiting >= LIM_PENDING_WAITING)
        why = "too many unauthenticated SSH sessions from this source (limit "
              LIM_STR(LIM_PENDING_PER_SOURCE) ") and too many connections waiting for their "
              "turn (limit " LIM_STR(LIM_PENDING_WAITING) ")";
    else if (!wait && s->npending >= LIM_PENDING_HANDSHAKES)
        why = "too many unauthenticated SSH sessions (limit "
              LIM_STR(LIM_PENDING_HANDSHAKES) ")";
    if (why == NULL) {
        c->sid = ++s->next_sid;
        c->pending = !wait;
        c->waiting = wait;
        c->fd_open = true;
        s->npending += !wait;
        s->nwaiting += wait;
        s->nlive++;
        c->next = s->live;
        s->live = c;
    }
    pthread_mutex_unlock(&s->mu);
    return why;
}

/* A connection refused before the key exchange is told why (docs/limits.md): our identification
 * line and one SSH_MSG_DISCONNECT, in one non-blocking send that is never retried, so a peer that
 * reads nothing cannot stall the accept loop. Then the connection is half-closed and its input
 * read and dropped for a moment (LIM_REFUSED_LINGER_MS): a close with the client's version string
 * unread would reset the connection, and the client would see the reset, not the reason. */
static void ssh_srv_refuse(struct ssh_listener *l, int fd, uint32_t reason, const char *text)
{
    uint8_t buf[SSH_REFUSE_MAX];
    size_t n = ssh_refuse_bytes(SSH_SRV_IDENT, reason, text, buf, sizeof buf);
    if (n > 0)   /* a short or failed send changes nothing: the connection is closed next */
        (void)send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    for (int i = 0; i < LIM_REFUSED_LINGER; i++)
        if (l->linger_fd[i] < 0) {
            l->linger_fd[i] = fd;
            l->linger_until[i] = clock_mono_ms() + LIM_REFUSED_LINGER_MS;
            return;
        }
    close(fd);   /* all slots taken: closed now, the client may see a reset */
}

/* Reads and drops what the lingering connections sent; closes those at EOF or past their time.
 * stop: close them all. */
static void ssh_srv_linger(struct ssh_listener *l, const struct pollfd *pf, bool stop)
{
    int64_t now = clock_mono_ms();
    for (int i = 0; i < LIM_REFUSED_LINGER; i++) {
        if (l->linger_fd[i] < 0)
            continue;
        bool done = stop || now >= l->linger_until[i];
        if (!done && pf != NULL && pf[i].fd == l->linger_fd[i] && pf[i].revents) {
            char sink[4096];
            ssize_t r = recv(l->linger_fd[i], sink, sizeof sink, MSG_DONTWAIT);
            done = r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR);
        }
        if (done) {
            close(l->linger_fd[i]);
            l->linger_fd[i] = -1;
        }
    }
}

static void ssh_srv_accept_one(struct ssh_listener *l)
{
    struct ssh_server *s = l->srv;
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(ss);
    int fd = accept4(l->fd, (struct sockaddr *)&ss, &slen, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            log_warn(NULL, "ssh accept on %s: %s", l->addr, strerror(errno));
        if (errno == EMFILE || errno == ENFILE)
            poll(NULL, 0, 100);   /* out of descriptors: do not spin */
        return;
    }
    /* Delayed ACKs cost ~40 ms per protocol round trip (docs/libssh.md). */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));

    struct ssh_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    c->srv = s;
    c->d = s->d;
    c->fd = fd;
    ssh_srv_format_peer(&ss, c->peer_addr, sizeof(c->peer_addr), c->peer, sizeof(c->peer));
    ssh_srv_format_source(&ss, c->source, sizeof(c->source));
    struct log_ctx lc = {.peer = c->peer};
    /* line vty: access-class and transport input, before any byte of SSH (IOS refuses the TCP
     * connection of a source the access-class denies) */
    const char *why = NULL;
    const struct store_snap *snap = s->d->store ? store_snapshot(s->d->store) : NULL;
    bool admitted = snap == NULL || cfg_vty_admits(snap->cfg, c->peer_addr, &why);
    if (!admitted) {
        char reason[160];
        snprintf(reason, sizeof reason, "%s%s%s", why,
                 snap->cfg->vty.access_class[0] && strstr(why, "access-class") ? " " : "",
                 strstr(why, "access-class") ? snap->cfg->vty.access_class : "");
        log_warn(&lc, "ssh connection refused: %s", reason);
        if (s->d->stats) {
            stats_inc(s->d->stats, STATS_SESSIONS_REJECTED, 1);
            stats_security(s->d->stats, "connection-refused", "ssh", NULL, c->peer, reason);
        }
        bool acl = strstr(why, "access-class") != NULL;
        ssh_srv_refuse(l, fd, acl ? SSH_REFUSE_HOST_NOT_ALLOWED : SSH_REFUSE_SERVICE_NOT_AVAILABLE,
                       acl ? "SSH connection not permitted by access-class"
                           : "SSH not permitted by line vty transport input");
        store_snap_release(snap);
        free(c);
        return;
    }
    if (snap != NULL)
        store_snap_release(snap);
    why = ssh_srv_admit(s, c);
    if (why) {
        log_warn(&lc, "ssh connection refused: %s", why);
        if (s->d->stats)
            stats_inc(s->d->stats, STATS_SESSIONS_REJECTED, 1);
        char text[256];
        bool stopping = strncmp(why, "too many", 8) != 0;
        snprintf(text, sizeof text, "%s, try again later", why);
        ssh_srv_refuse(l, fd,
                       stopping ? SSH_REFUSE_BY_APPLICATION : SSH_REFUSE_TOO_MANY_CONNECTIONS,
                       text);
        free(c);
        return;
    }
    if (c->waiting)
        log_info(&lc, "ssh connection waits: %d unauthenticated sessions from %s (limit "
                 LIM_STR(LIM_PENDING_PER_SOURCE) ")", LIM_PENDING_PER_SOURCE, c->source);
    if (s->d->stats) {
        stats_inc(s->d->stats, STATS_SESSIONS_ACCEPTED, 1);
        stats_sessions_active(s->d->stats, 1);
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1u << 20);   /* I/O buffers are on the heap */
    int rc = pthread_create(&c->thread, &attr, ssh_srv_session_thread, c);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        log_err(&lc, "ssh: cannot start a session thread: %s", strerror(rc));
        pthread_mutex_lock(&s->mu);
        for (struct ssh_conn **p = &s->live; *p; p = &(*p)->next)
            if (*p == c) {
                *p = c->next;
                break;
            }
        s->nlive--;
        s->npending -= c->pending;
        s->nwaiting -= c->waiting;
        pthread_mutex_unlock(&s->mu);
        if (s->d->stats)
            stats_sessions_active(s->d->stats, -1);
        close(fd);
        free(c);
    }
}

static void *ssh_srv_accept_thread(void *arg)
{
    struct ssh_listener *l = arg;
    struct ssh_server *s = l->srv;
    /* the listener, the stop pipe, then the refused connections that linger */
    struct pollfd pf[2 + LIM_REFUSED_LINGER];
    pf[0] = (struct pollfd){.fd = l->fd, .events = POLLIN};
    pf[1] = (struct pollfd){.fd = s->stop_pipe[0], .events = POLLIN};
    for (int i = 0; i < LIM_REFUSED_LINGER; i++)
        l->linger_fd[i] = -1;
    while (!ssh_srv_stopping(s)) {
        bool lingering = false;
        for (int i = 0; i < LIM_REFUSED_LINGER; i++) {
            pf[2 + i] = (struct pollfd){.fd = l->linger_fd[i], .events = POLLIN};
            lingering |= l->linger_fd[i] >= 0;
        }
        int n = poll(pf, 2 + LIM_REFUSED_LINGER, lingering ? 100 : 1000);
        ssh_srv_linger(l, n > 0 ? pf + 2 : NULL, false);
        ssh_srv_reap(s);
        if (n < 0 && errno != EINTR) {
            log_err(NULL, "ssh poll on %s: %s", l->addr, strerror(errno));
            break;
        }
        if (n > 0 && (pf[1].revents & POLLIN))
            break;
        if (n > 0 && (pf[0].revents & POLLIN))
            ssh_srv_accept_one(l);
    }
    ssh_srv_linger(l, NULL, true);
    return NULL;
}

/* ---- listening ---------------------------------------------------------------------------- */

/* Splits "HOST:PORT" or "[V6]:PORT". */
static int ssh_srv_split(const char *spec, char *host, size_t hcap, char *port, size_t pcap,
                         struct scpd_err *err)
{
    const char *colon;
    size_t hlen;
    const char *h = spec;
    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');
        if (close_br == NULL || close_br[1] != ':')
            goto bad;
        h = spec + 1;
        hlen = (size_t)(close_br - h);
        colon = close_br + 1;
    } else {
        colon = strrchr(spec, ':');
        if (colon == NULL || memchr(spec, ':', (size_t)(colon - spec)))
            goto bad;
        hlen = (size_t)(colon - spec);
    }
    if (hlen == 0 || hlen >= hcap || strlen(colon + 1) == 0 || strlen(colon + 1) >= pcap ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        goto bad;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    snprintf(port, pcap, "%s", colon + 1);
    return 0;
bad:
    return scpd_err_set(err, SCPD_E_INVALID, "invalid --ssh-listen address '%s' (expected "
                        "HOST:PORT or [IPV6]:PORT)", spec);
}

static int ssh_srv_listen_one(struct ssh_server *s, const char *spec, struct scpd_err *err)
{
    char host[INET6_ADDRSTRLEN + 1], port[8];
    if (ssh_srv_split(spec, host, sizeof(host), port, sizeof(port), err) != 0)
        return -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0)
        return scpd_err_set(err, SCPD_E_INVALID, "--ssh-listen %s: %s", spec, gai_strerror(gai));
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        scpd_err_set(err, SCPD_E_IO, "--ssh-listen %s: socket: %s", spec, strerror(errno));
        goto fail;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SSH_LISTEN_BACKLOG) != 0) {
        scpd_err_set(err, SCPD_E_IO, "--ssh-listen %s: %s", spec, strerror(errno));
        goto fail;
    }
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &slen) != 0) {
        scpd_err_set(err, SCPD_E_IO, "--ssh-listen %s: getsockname: %s", spec, strerror(errno));
        goto fail;
    }
    struct ssh_listener *l = &s->ls[s->nls];
    char addr[64];
    ssh_srv_format_peer(&ss, addr, sizeof(addr), l->addr, sizeof(l->addr));
    l->srv = s;
    l->fd = fd;
    s->nls++;
    freeaddrinfo(ai);
    /* The contract with tests and scripts (docs/overview.md): one line per listener. */
    fprintf(stdout, "ssh listening on %s\n", l->addr);
    fflush(stdout);
    log_info(NULL, "ssh listening on %s", l->addr);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return -1;
}

static int ssh_srv_bind_setup(struct ssh_server *s, struct scpd_err *err)
{
    s->bind = ssh_bind_new();
    if (s->bind == NULL)
        return scpd_err_set(err, SCPD_E_NOMEM, "out of memory (ssh_bind_new)");
    bool no = false;
    /* The daemon's behaviour must not depend on /etc/libssh/libssh_server.config. */
    if (ssh_bind_options_set(s->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK)
        return scpd_err_set(err, SCPD_E_INTERNAL, "libssh: %s", ssh_get_error(s->bind));
    const char *dir = s->d->opts.data_dir ? s->d->opts.data_dir : "./var";
    for (int t = 0; t < HOSTKEY__COUNT; t++) {
        char path[4096];
        struct stat st;
        if (hostkey_path(dir, (enum hostkey_type)t, path, sizeof(path), err) != 0)
            return -1;
        if (stat(path, &st) != 0)
            return scpd_err_set(err, SCPD_E_NOTFOUND, "SSH host key %s: %s (host keys are "
                                "created in DIR/keys at start-up)", path, strerror(errno));
        if (ssh_bind_options_set(s->bind, SSH_BIND_OPTIONS_HOSTKEY, path) != SSH_OK)
            return scpd_err_set(err, SCPD_E_INVALID, "SSH host key %s cannot be loaded: %s", path,
                                ssh_get_error(s->bind));
    }
    static const struct {
        enum ssh_bind_options_e opt;
        const char *val;
    } algs[] = {
        {SSH_BIND_OPTIONS_KEY_EXCHANGE, SSH_KEX},
        {SSH_BIND_OPTIONS_CIPHERS_C_S, SSH_CIPHERS},
        {SSH_BIND_OPTIONS_CIPHERS_S_C, SSH_CIPHERS},
        {SSH_BIND_OPTIONS_HMAC_C_S, SSH_MACS},
        {SSH_BIND_OPTIONS_HMAC_S_C, SSH_MACS},
        {SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, SSH_HOSTKEY_ALGS},
        {SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, SSH_USERKEY_ALGS},
    };
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (ssh_bind_options_set(s->bind, algs[i].opt, algs[i].val) != SSH_OK)
            return scpd_err_set(err, SCPD_E_INTERNAL, "libssh rejects algorithms '%s': %s",
                                algs[i].val, ssh_get_error(s->bind));
    return 0;
}

static void ssh_srv_free(struct ssh_server *s)
{
    for (int i = 0; i < s->nls; i++)
        if (s->ls[i].fd >= 0)
            close(s->ls[i].fd);
    if (s->bind)
        ssh_bind_free(s->bind);
    if (s->stop_pipe[0] >= 0)
        close(s->stop_pipe[0]);
    if (s->stop_pipe[1] >= 0)
        close(s->stop_pipe[1]);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->bind_mu);
    free(s);
}

struct ssh_server *ssh_server_start(struct scpd *d, struct scpd_err *err)
{
    struct ssh_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
        return NULL;
    }
    s->d = d;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    s->window_budget.cap = LIM_SSH_WINDOW_TOTAL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->bind_mu, NULL);
    /* deadlines on the monotonic clock: a wall-clock step neither cuts nor stretches a wait */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pipe2(s->stop_pipe, O_CLOEXEC) != 0) {
        scpd_err_set(err, SCPD_E_IO, "pipe: %s", strerror(errno));
        goto fail;
    }
    if (ssh_srv_bind_setup(s, err) != 0)
        goto fail;
    if (d->opts.n_ssh_listen == 0) {
        scpd_err_set(err, SCPD_E_INVALID, "no --ssh-listen address");
        goto fail;
    }
    for (int i = 0; i < d->opts.n_ssh_listen && i < SCPD_MAX_LISTEN; i++)
        if (ssh_srv_listen_one(s, d->opts.ssh_listen[i], err) != 0)
            goto fail;
    for (int i = 0; i < s->nls; i++) {
        int rc = pthread_create(&s->ls[i].thread, NULL, ssh_srv_accept_thread, &s->ls[i]);
        if (rc != 0) {
            scpd_err_set(err, SCPD_E_INTERNAL, "cannot start the ssh accept thread: %s",
                         strerror(rc));
            ssh_server_stop(s);
            return NULL;
        }
        s->ls[i].running = true;
    }
    return s;
fail:
    ssh_srv_free(s);
    return NULL;
}

/* Waits until no session is live or the monotonic deadline passes. */
static void ssh_srv_wait_sessions(struct ssh_server *s, const struct timespec *deadline)
{
    pthread_mutex_lock(&s->mu);
    while (s->nlive > 0) {
        if (deadline == NULL) {
            pthread_cond_wait(&s->cv, &s->mu);
        } else if (pthread_cond_timedwait(&s->cv, &s->mu, deadline) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

void ssh_server_stop(struct ssh_server *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&s->cv);   /* waiting connections give up */
    pthread_mutex_unlock(&s->mu);
    ssize_t w = write(s->stop_pipe[1], "x", 1);
    (void)w;
    for (int i = 0; i < s->nls; i++)
        if (s->ls[i].running)
            pthread_join(s->ls[i].thread, NULL);

    struct timespec deadline;   /* the condition variable's clock: CLOCK_MONOTONIC */
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += SSH_STOP_GRACE_SECS;
    ssh_srv_wait_sessions(s, &deadline);

    pthread_mutex_lock(&s->mu);
    if (s->nlive > 0) {
        log_notice(NULL, "ssh stop: %d session(s) still running after %d s, disconnecting",
                   s->nlive, SSH_STOP_GRACE_SECS);
        __atomic_store_n(&s->aborting, 1, __ATOMIC_RELAXED);
        for (struct ssh_conn *c = s->live; c; c = c->next)
            if (c->fd_open)
                shutdown(c->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&s->mu);
    ssh_srv_wait_sessions(s, NULL);
    ssh_srv_reap(s);
    ssh_srv_free(s);
    ssh_finalize();
}

int ssh_server_reload_hostkeys(struct ssh_server *s, struct scpd_err *err)
{
    const char *dir = s->d->opts.data_dir ? s->d->opts.data_dir : "./var";
    char path[4096];
    int rc = 0;
    /* under the bind's lock: ssh_bind_accept_fd copies the keys into each new session */
    pthread_mutex_lock(&s->bind_mu);
    for (int t = 0; t < HOSTKEY__COUNT && rc == 0; t++) {
        if (hostkey_path(dir, (enum hostkey_type)t, path, sizeof(path), err) != 0)
            rc = -1;
        else if (ssh_bind_options_set(s->bind, SSH_BIND_OPTIONS_HOSTKEY, path) != SSH_OK)
            rc = scpd_err_set(err, SCPD_E_INVALID, "SSH host key %s cannot be loaded: %s", path,
                              ssh_get_error(s->bind));
    }
    pthread_mutex_unlock(&s->bind_mu);
    return rc;
}
