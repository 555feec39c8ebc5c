/* radius: RADIUS over UDP (RFC 2865 section 2.5): the request is sent, then resent unchanged (same
 * Identifier and Authenticator) after each timeout, `retransmit` times. Datagrams that are not a
 * valid reply (another Identifier, a bad authenticator: a wrong secret or a forgery) are dropped
 * and the wait goes on, as RFC 3579 section 3.2 says; if only such datagrams came, the outcome
 * says so ("wrong shared secret?"). The socket is connect()ed, so datagrams from elsewhere are
 * not even seen. */
#include "services/radius.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/clock.h"
#include "services/radius_proto.h"

static int rad_socket(const struct radius_target *tg, struct tacacs_result *r)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, tg->addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)tg->port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, tg->addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)tg->port);
        sl = sizeof *s6;
    } else {
        snprintf(r->why, sizeof r->why, "no address configured");
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        snprintf(r->why, sizeof r->why, "socket: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Sends req (n bytes) and waits for a valid reply into *rep. 0, or -1 with r->why. */
static int rad_exchange(const struct radius_target *tg, const uint8_t *req, size_t n,
                        struct radius_reply *rep, struct tacacs_result *r)
{
    int64_t t0 = clock_mono_ms();
    int fd = rad_socket(tg, r), rc = -1, bad = 0;
    r->outcome = TACACS_DOWN;
    if (fd < 0)
        return -1;
    bool refused = false;
    for (int attempt = 0; attempt <= tg->retransmit && rc != 0 &&
                          (tg->deadline_ms <= 0 || clock_mono_ms() < tg->deadline_ms);
         attempt++) {
        if (send(fd, req, n, 0) != (ssize_t)n) {
            refused = errno == ECONNREFUSED;
            if (!refused)
                break;
        }
        int64_t deadline = clock_mono_ms() + tg->timeout_ms;
        if (tg->deadline_ms > 0 && deadline > tg->deadline_ms)
            deadline = tg->deadline_ms;
        for (;;) {
            int64_t left = deadline - clock_mono_ms();
            if (left <= 0)
                break;
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, (int)left) <= 0)
                continue;
            uint8_t buf[RADIUS_MAX_PACKET];
            ssize_t got = recv(fd, buf, sizeof buf, 0);
            if (got < 0) {
                refused |= errno == ECONNREFUSED;   /* ICMP port unreachable */
                continue;
            }
            int prc = radius_reply_parse(buf, (size_t)got, req, tg->secret, rep);
            if (prc == RADIUS_OK) {
                rc = 0;
                break;
            }
            bad += prc == RADIUS_E_AUTH;
        }
    }
    close(fd);
    r->rtt_ms = clock_mono_ms() - t0;
    if (rc != 0) {
        r->timed_out = !refused && bad == 0;
        snprintf(r->why, sizeof r->why, "%s",
                 bad ? "replies do not authenticate under the shared secret (wrong secret?)"
                 : refused ? "port unreachable (no RADIUS server there)"
                           : "no answer within the timeout (a wrong shared secret makes a "
                             "server drop requests silently)");
    }
    return rc;
}

void radius_authen(const struct radius_target *tg, const char *user, const char *password,
                   const char *calling_station, struct tacacs_result *r)
{
    uint8_t pkt[RADIUS_MAX_PACKET];
    struct radius_req q = {.user = user, .password = password, .calling_station = calling_station,
                           .nas_id = "scpd"};
    struct radius_reply rep;
    memset(r, 0, sizeof *r);
    r->priv_lvl = -1;
    r->outcome = TACACS_DOWN;
    if (RAND_bytes(&q.id, 1) != 1 || RAND_bytes(q.authenticator, 16) != 1) {
        snprintf(r->why, sizeof r->why, "no randomness");
        return;
    }
    int n = radius_access_request(pkt, sizeof pkt, &q, tg->secret);
    if (n < 0) {
        snprintf(r->why, sizeof r->why, "user name or password too long for RADIUS");
        return;
    }
    int rc = rad_exchange(tg, pkt, (size_t)n, &rep, r);
    OPENSSL_cleanse(pkt, sizeof pkt);
    if (rc != 0)
        return;
    if (rep.code == RADIUS_ACCESS_ACCEPT) {
        r->outcome = TACACS_PASS;
        r->priv_lvl = rep.priv_lvl;
    } else {
        r->outcome = TACACS_FAIL;
        snprintf(r->why, sizeof r->why, "%s%s%s",
                 rep.code == RADIUS_ACCESS_CHALLENGE ? "the server asked a challenge"
                                                     : "rejected by the server",
                 rep.reply_message[0] ? ": " : "", rep.reply_message);
    }
}

void radius_acct(const struct radius_target *tg, struct radius_req *q, struct tacacs_result *r)
{
    uint8_t pkt[RADIUS_MAX_PACKET];
    struct radius_reply rep;
    memset(r, 0, sizeof *r);
    r->priv_lvl = -1;
    r->outcome = TACACS_DOWN;
    q->nas_id = "scpd";
    if (RAND_bytes(&q->id, 1) != 1) {
        snprintf(r->why, sizeof r->why, "no randomness");
        return;
    }
    int n = radius_acct_request(pkt, sizeof pkt, q, tg->secret);
    if (n < 0) {
        snprintf(r->why, sizeof r->why, "accounting record too long");
        return;
    }
    if (rad_exchange(tg, pkt, (size_t)n, &rep, r) == 0)
        r->outcome = TACACS_PASS;
}
