/* api_guard: total deadlines for the slow parts of an HTTP request, whatever the client's pace.
 *
 * libmicrohttpd's connection timeout measures idleness only: a client that sends one header byte
 * every few seconds holds its connection (and its thread) forever, and a few sources of such
 * clients fill LIM_HTTP_CONNECTIONS (slowloris). MHD has no option for a total deadline, so this
 * module keeps one per connection and a watchdog thread enforces it:
 *   - request line and headers: LIM_HTTP_HEADER_SECS from the accept, or from the end of the
 *     previous response on a kept-alive connection;
 *   - body: LIM_HTTP_BODY_SECS from the end of the headers;
 *   - the response (an event stream lasts as long as the client listens): no deadline.
 * The phases are learnt from MHD's own calls: MHD_OPTION_NOTIFY_CONNECTION (STARTED, CLOSED),
 * MHD_OPTION_URI_LOG_CALLBACK (request line read), the access handler's first call (headers
 * complete) and final call (body complete), and MHD_OPTION_NOTIFY_COMPLETED (response done). A
 * connection that sent nothing of a request (a browser's spare connection, an idle kept-alive one)
 * is closed at the same deadline, but logged at info level, not as a slow client. A connection past
 * its deadline gets shutdown(SHUT_RDWR): MHD's thread for it sees end of file and closes it the
 * normal way, so no MHD state is touched from here.
 *
 * Why shutting down a descriptor number from another thread is safe: the watchdog touches a
 * connection's fd only under the table mutex and only while its entry is in the table; the entry
 * leaves the table under that mutex in the CLOSED notification, and libmicrohttpd calls CLOSED
 * before it closes the socket (MHD_cleanup_connections: join the connection's thread, notify
 * CLOSED, then close; the failed-start path notifies CLOSED before closing too). So the number
 * cannot have been reused for another connection while its entry exists. As a second guard the
 * watchdog checks that the socket's peer is still the entry's peer before it shuts it down. */
#include "api/api_guard.h"
#include "api/api_req.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"
#include "base/lim.h"
#include "base/log.h"

#define API_GUARD_TICK_MS 500   /* how late past its deadline a connection may be cut */

enum api_guard_phase {
    API_GUARD_HEADERS,   /* waiting for a request line and headers */
    API_GUARD_BODY,      /* headers read, body arriving */
    API_GUARD_RESPONSE,  /* the request is complete: no deadline */
    API_GUARD_CUT,       /* shut down by the watchdog; MHD closes it */
};

struct api_guard_conn {
    struct api_guard_conn *prev, *next;
    int fd;
    enum api_guard_phase phase;
    bool started;                       /* the request line of the awaited request was read */
    int64_t deadline_ms;                /* CLOCK_MONOTONIC, for HEADERS and BODY */
    struct sockaddr_storage peer_sa;
    socklen_t peer_len;
    char peer[80];
};

struct api_guard {
    pthread_mutex_t mu;                 /* the list and every entry's phase and deadline */
    pthread_cond_t cv;                  /* stop */
    struct api_guard_conn *head;
    bool stopping;
    pthread_t thread;
};

/* Each phase with a deadline: its length, and what the client did not finish (before and after
 * the request line was read). */
static const struct {
    int secs;
    const char *idle, *slow;
} api_guard_phases[] = {
    [API_GUARD_HEADERS] = {LIM_HTTP_HEADER_SECS, "no request line",
                           "request headers not complete"},
    [API_GUARD_BODY] = {LIM_HTTP_BODY_SECS, "request body not complete",
                        "request body not complete"},
};

/* The socket is still the connection's: same peer address and port. */
static bool api_guard_same_peer(const struct api_guard_conn *e)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(e->fd, (struct sockaddr *)&ss, &len) != 0)
        return false;
    return len == e->peer_len && memcmp(&ss, &e->peer_sa, len) == 0;
}

static void api_guard_sweep(struct api_guard *g)
{
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&g->mu);
    for (struct api_guard_conn *e = g->head; e; e = e->next) {
        if (e->phase > API_GUARD_BODY || now < e->deadline_ms)
            continue;
        struct log_ctx lc = {.peer = e->peer};
        if (e->started)
            log_notice(&lc, "http connection closed: %s within %d s (slow client)",
                       api_guard_phases[e->phase].slow, api_guard_phases[e->phase].secs);
        else
            log_info(&lc, "http connection closed: %s within %d s",
                     api_guard_phases[e->phase].idle, api_guard_phases[e->phase].secs);
        if (api_guard_same_peer(e))
            shutdown(e->fd, SHUT_RDWR);
        e->phase = API_GUARD_CUT;
    }
    pthread_mutex_unlock(&g->mu);
}

static void *api_guard_main(void *arg)
{
    struct api_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += API_GUARD_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        if (g->stopping)
            break;
        pthread_mutex_unlock(&g->mu);
        api_guard_sweep(g);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

struct api_guard *api_guard_start(struct scpd_err *err)
{
    struct api_guard *g = calloc(1, sizeof *g);
    if (g == NULL) {
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory starting the HTTP API");
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&g->mu, NULL);
    int rc = pthread_create(&g->thread, NULL, api_guard_main, g);
    if (rc != 0) {
        scpd_err_set(err, SCPD_E_INTERNAL, "cannot start the HTTP deadline thread: %s",
                     strerror(rc));
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return NULL;
    }
    return g;
}

void api_guard_stop(struct api_guard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stopping = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    /* every MHD daemon has stopped: each connection got its CLOSED, the list is empty */
    while (g->head) {
        struct api_guard_conn *e = g->head;
        g->head = e->next;
        free(e);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

void api_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
    struct api_guard *g = cls;
    struct api_guard_conn *e = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (e == NULL)
            return;
        pthread_mutex_lock(&g->mu);
        if (e->prev)
            e->prev->next = e->next;
        else
            g->head = e->next;
        if (e->next)
            e->next->prev = e->prev;
        pthread_mutex_unlock(&g->mu);
        free(e);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *fdi =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ai =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    e = calloc(1, sizeof *e);
    if (e == NULL || fdi == NULL || ai == NULL || ai->client_addr == NULL) {
        free(e);   /* no deadline for this one; MHD's idle timeout still applies */
        return;
    }
    e->fd = fdi->connect_fd;
    e->peer_len = ai->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                         : sizeof(struct sockaddr_in);
    memcpy(&e->peer_sa, ai->client_addr, e->peer_len);
    api_peer_format(ai->client_addr, e->peer, sizeof e->peer, NULL, 0);
    e->phase = API_GUARD_HEADERS;
    e->deadline_ms = clock_mono_ms() + (int64_t)LIM_HTTP_HEADER_SECS * 1000;
    pthread_mutex_lock(&g->mu);
    e->next = g->head;
    if (g->head)
        g->head->prev = e;
    g->head = e;
    pthread_mutex_unlock(&g->mu);
    *socket_context = e;
}

/* The entry of conn (NULL if its STARTED found no memory). The callers run on the connection's
 * own thread, and CLOSED, which frees the entry, comes after that thread has ended. */
static struct api_guard_conn *api_guard_entry(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Moves the connection of a request into a phase; the deadline, if any, starts now. */
static void api_guard_enter(struct api_guard *g, struct MHD_Connection *conn,
                            enum api_guard_phase phase)
{
    struct api_guard_conn *e = api_guard_entry(conn);
    if (g == NULL || e == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    if (e->phase != API_GUARD_CUT) {
        e->phase = phase;
        e->started = phase != API_GUARD_HEADERS;
        if (phase <= API_GUARD_BODY)
            e->deadline_ms = clock_mono_ms() + (int64_t)api_guard_phases[phase].secs * 1000;
    }
    pthread_mutex_unlock(&g->mu);
}

void *api_guard_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct api_guard *g = cls;
    struct api_guard_conn *e = api_guard_entry(conn);
    if (g != NULL && e != NULL) {
        pthread_mutex_lock(&g->mu);
        e->started = true;
        pthread_mutex_unlock(&g->mu);
    }
    return NULL;   /* the request's context stays NULL until the access handler's first call */
}

void api_guard_headers_done(struct api_guard *g, struct MHD_Connection *conn)
{
    api_guard_enter(g, conn, API_GUARD_BODY);
}

void api_guard_body_done(struct api_guard *g, struct MHD_Connection *conn)
{
    api_guard_enter(g, conn, API_GUARD_RESPONSE);
}

void api_guard_request_done(struct api_guard *g, struct MHD_Connection *conn)
{
    api_guard_enter(g, conn, API_GUARD_HEADERS);
}
