/* tacacs: TACACS+ exchanges over TCP (RFC 8907), on the calling thread.
 *
 * Each exchange has one deadline, now + the server's timeout: the non-blocking connect, every
 * write and every read wait in poll() for what is left of it, so a silent server costs at most
 * its timeout and never more. Nothing here holds a lock during I/O: the pool of idle
 * single-connection sockets is a small array under a mutex from which an exchange takes a socket
 * (or opens a new one) and to which it returns it when the server agreed to keep it open (the
 * SINGLE_CONNECT flag in its first reply, section 4.3). A reused socket the server has closed in
 * the meantime fails at once; the exchange is then retried once on a fresh connection.
 *
 * Outcomes: the server's PASS and FAIL are final; everything else (refused, timed out, reset, a
 * reply that does not decode, ERROR, FOLLOW) is DOWN, which the AAA walk treats as "this server is
 * unavailable". A reply that does not decode under the key is said so ("wrong shared key?"). */
#include "services/tacacs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/clock.h"
#include "base/lim.h"

#define TACACS_POOL 16               /* idle single-connection sockets kept, all servers */
#define TACACS_PKT_MAX (TACPLUS_HDR_LEN + 4096)   /* our requests are small */

struct tacacs_idle {
    int fd;                          /* -1: free slot */
    char addr[48];
    int port;
};

struct tacacs {
    pthread_mutex_t mu;
    struct tacacs_idle idle[TACACS_POOL];
};

struct tacacs *tacacs_new(void)
{
    struct tacacs *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t);
        return NULL;
    }
    for (int i = 0; i < TACACS_POOL; i++)
        t->idle[i].fd = -1;
    return t;
}

void tacacs_free(struct tacacs *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < TACACS_POOL; i++)
        if (t->idle[i].fd >= 0)
            close(t->idle[i].fd);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static int pool_take(struct tacacs *t, const struct tacacs_target *tg)
{
    int fd = -1;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < TACACS_POOL; i++)
        if (t->idle[i].fd >= 0 && t->idle[i].port == tg->port &&
            strcmp(t->idle[i].addr, tg->addr) == 0) {
            fd = t->idle[i].fd;
            t->idle[i].fd = -1;
            break;
        }
    pthread_mutex_unlock(&t->mu);
    return fd;
}

static void pool_give(struct tacacs *t, const struct tacacs_target *tg, int fd)
{
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < TACACS_POOL; i++)
        if (t->idle[i].fd < 0) {
            t->idle[i].fd = fd;
            t->idle[i].port = tg->port;
            snprintf(t->idle[i].addr, sizeof t->idle[i].addr, "%s", tg->addr);
            fd = -1;
            break;
        }
    pthread_mutex_unlock(&t->mu);
    if (fd >= 0)
        close(fd);
}

/* ---- I/O against a deadline ------------------------------------------------------------------ */

struct tx {
    const struct tacacs_target *tg;
    struct tacacs_result *r;
    int64_t deadline;
    int fd;
    bool reused;                     /* fd came from the pool */
    bool keep;                       /* the server agreed to single-connection */
    bool fresh;                      /* do not take a pooled connection (retry after a stale one) */
    uint32_t sid;
};

__attribute__((format(printf, 3, 4))) static int tx_down(struct tx *x, bool timeout,
                                                          const char *fmt, ...)
{
    va_list ap;
    x->r->outcome = TACACS_DOWN;
    x->r->timed_out = timeout;
    va_start(ap, fmt);
    vsnprintf(x->r->why, sizeof x->r->why, fmt, ap);
    va_end(ap);
    return -1;
}

/* Waits for events on the socket until the deadline: 0, or -1 (outcome set). */
static int tx_wait(struct tx *x, short events, const char *what)
{
    for (;;) {
        int64_t left = x->deadline - clock_mono_ms();
        if (left <= 0)
            return tx_down(x, true, "no answer within the timeout (%s)", what);
        struct pollfd p = {.fd = x->fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return tx_down(x, false, "poll: %s", strerror(errno));
    }
}

static int tx_connect(struct tx *x)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, x->tg->addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)x->tg->port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, x->tg->addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)x->tg->port);
        sl = sizeof *s6;
    } else {
        return tx_down(x, false, "no address configured");
    }
    x->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (x->fd < 0)
        return tx_down(x, false, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(x->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(x->fd, (struct sockaddr *)&ss, sl) != 0) {
        if (errno != EINPROGRESS)
            return tx_down(x, false, "connect: %s", strerror(errno));
        if (tx_wait(x, POLLOUT, "connect") != 0)
            return -1;
        int e = 0;
        socklen_t el = sizeof e;
        if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0)
            return tx_down(x, false, "connect: %s", strerror(e ? e : errno));
    }
    return 0;
}

static int tx_send(struct tx *x, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(x->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (tx_wait(x, POLLOUT, "send") != 0)
                return -1;
        } else {
            return tx_down(x, false, "send: %s", strerror(errno));
        }
    }
    return 0;
}

static int tx_recv_n(struct tx *x, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t rd = recv(x->fd, p, n, 0);
        if (rd > 0) {
            p += rd;
            n -= (size_t)rd;
        } else if (rd < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (tx_wait(x, POLLIN, "reply") != 0)
                return -1;
        } else {
            return tx_down(x, false, "%s", rd == 0 ? "connection closed by the server (wrong "
                                                     "shared key, or the client is not allowed)"
                                                   : strerror(errno));
        }
    }
    return 0;
}

/* Reads one whole reply packet into *pkt (malloc'ed), its length in *n. */
static int tx_recv(struct tx *x, uint8_t **pkt, size_t *n)
{
    uint8_t h[TACPLUS_HDR_LEN];
    struct tacplus_hdr hdr;
    *pkt = NULL;
    if (tx_recv_n(x, h, sizeof h) != 0)
        return -1;
    int rc = tacplus_hdr_parse(h, sizeof h, &hdr);
    if (rc != TACPLUS_OK)
        return tx_down(x, false, "reply: %s", tacplus_rc_str(rc));
    uint8_t *p = malloc(TACPLUS_HDR_LEN + (size_t)hdr.length);
    if (p == NULL)
        return tx_down(x, false, "%s", "out of memory");
    memcpy(p, h, sizeof h);
    if (tx_recv_n(x, p + TACPLUS_HDR_LEN, hdr.length) != 0) {
        free(p);
        return -1;
    }
    if (hdr.seq == 2 && (hdr.flags & TACPLUS_FLAG_SINGLE))
        x->keep = x->tg->single;
    *pkt = p;
    *n = TACPLUS_HDR_LEN + (size_t)hdr.length;
    return 0;
}

/* Opens (or reuses) the connection for a new session. */
static int tx_begin(struct tacacs *t, struct tx *x)
{
    x->fd = -1;
    x->keep = false;
    x->reused = false;
    if (RAND_bytes((unsigned char *)&x->sid, sizeof x->sid) != 1)
        return tx_down(x, false, "%s", "no randomness for the session id");
    if (x->tg->single && !x->fresh && (x->fd = pool_take(t, x->tg)) >= 0) {
        x->reused = true;
        x->keep = true;
        return 0;
    }
    return tx_connect(x);
}

static void tx_end(struct tacacs *t, struct tx *x, bool ok)
{
    if (x->fd < 0)
        return;
    if (ok && x->keep && x->r->outcome != TACACS_DOWN)
        pool_give(t, x->tg, x->fd);
    else
        close(x->fd);
    x->fd = -1;
}

static uint8_t tx_flags(const struct tx *x)
{
    return x->tg->single ? TACPLUS_FLAG_SINGLE : 0;
}

static void tx_key_down(struct tx *x, int rc)
{
    tx_down(x, false, "%s", rc == TACPLUS_E_KEY ? "reply does not decode under the shared key "
                                                  "(wrong key?)"
                                                : tacplus_rc_str(rc));
}

/* ---- the three exchanges --------------------------------------------------------------------- */

/* Runs body(x) once, and once more on a fresh connection if a reused one had gone stale. */
static void tx_run(struct tacacs *t, const struct tacacs_target *tg, struct tacacs_result *r,
                   int (*body)(struct tx *x, void *arg), void *arg)
{
    int64_t t0 = clock_mono_ms();
    struct tx x = {.tg = tg, .r = r, .deadline = t0 + tg->timeout_ms, .fd = -1};
    memset(r, 0, sizeof *r);
    r->priv_lvl = -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        memset(r, 0, sizeof *r);
        r->priv_lvl = -1;
        if (tx_begin(t, &x) != 0) {
            tx_end(t, &x, false);
            break;
        }
        int rc = body(&x, arg);
        bool stale = rc != 0 && x.reused && !r->timed_out;
        tx_end(t, &x, rc == 0);
        if (!stale)
            break;
        x.fresh = true;
    }
    r->rtt_ms = clock_mono_ms() - t0;
}

struct authen_arg {
    const struct tacplus_who *w;
    const char *password;
    struct tacacs_conv **conv;       /* non-NULL: a further prompt suspends the dialogue here */
};

/* A login dialogue suspended at a server's prompt: the connection and what the next CONTINUE
 * needs. The strings the target points to are copies (cleansed at the end). */
struct tacacs_conv {
    int fd;
    uint32_t sid;
    uint8_t seq;                     /* of the next CONTINUE */
    int prompts;                     /* prompts passed on so far */
    struct tacacs_target tg;
    char name[64], addr[48], key[256], user[256];
    struct tacplus_who w;
};

static struct tacacs_conv *conv_new(struct tx *x, const struct tacplus_who *w, uint8_t seq)
{
    struct tacacs_conv *cv = calloc(1, sizeof *cv);
    if (cv == NULL)
        return NULL;
    cv->fd = x->fd;
    cv->sid = x->sid;
    cv->seq = seq;
    cv->tg = *x->tg;
    snprintf(cv->name, sizeof cv->name, "%s", x->tg->name ? x->tg->name : "");
    snprintf(cv->addr, sizeof cv->addr, "%s", x->tg->addr ? x->tg->addr : "");
    snprintf(cv->key, sizeof cv->key, "%s", x->tg->key ? x->tg->key : "");
    snprintf(cv->user, sizeof cv->user, "%s", w->user ? w->user : "");
    cv->tg.name = cv->name;
    cv->tg.addr = cv->addr;
    cv->tg.key = cv->key;
    cv->tg.single = false;           /* the connection ends with the dialogue */
    cv->w = *w;
    cv->w.user = cv->user;
    cv->w.port = "";                 /* only the START carries them */
    cv->w.rem_addr = "";
    return cv;
}

void tacacs_conv_free(struct tacacs_conv *cv)
{
    if (cv == NULL)
        return;
    if (cv->fd >= 0)
        close(cv->fd);
    OPENSSL_cleanse(cv, sizeof *cv);
    free(cv);
}

/* The dialogue from the request in pkt (n bytes, sequence number seq) on: sends it, reads the
 * reply, answers GETUSER with the user and the first GETPASS/GETDATA with the password. A further
 * prompt (a one-time password after the password) is handed to the caller when it can pass it on
 * (a->conv), else it fails the login. */
static int authen_dialogue(struct tx *x, struct authen_arg *a, uint8_t *pkt, int n, uint8_t seq,
                           bool pass_sent)
{
    const char *key = x->tg->key;
    uint8_t *rep = NULL;
    size_t rn;
    struct tacplus_authen_reply ar;

    /* a bounded dialogue: at most a few CONTINUEs (user, password) per call */
    for (int round = 0; round < 4; round++) {
        if (tx_send(x, pkt, (size_t)n) != 0 || tx_recv(x, &rep, &rn) != 0)
            return -1;
        int rc = tacplus_authen_reply_parse(rep, rn, key, x->sid, seq, &ar);
        free(rep);
        if (rc != TACPLUS_OK) {
            tx_key_down(x, rc);
            return -1;
        }
        const char *answer = NULL;
        switch (ar.status) {
        case TACPLUS_AUTHEN_PASS:
            x->r->outcome = TACACS_PASS;
            return 0;
        case TACPLUS_AUTHEN_FAIL:
            x->r->outcome = TACACS_FAIL;
            snprintf(x->r->why, sizeof x->r->why, "rejected by the server%s%s",
                     ar.server_msg[0] ? ": " : "", ar.server_msg);
            return 0;
        case TACPLUS_AUTHEN_GETUSER:
            answer = a->w->user;
            break;
        case TACPLUS_AUTHEN_GETPASS:
        case TACPLUS_AUTHEN_GETDATA:
            if (!pass_sent) {
                answer = a->password;   /* the password answers the first prompt */
                pass_sent = true;
                break;
            }
            if (a->conv != NULL) {
                /* a further prompt goes to the user: GETPASS never echoes, GETDATA unless the
                 * server set NOECHO (RFC 8907 section 5.4.2.1) */
                *a->conv = conv_new(x, a->w, (uint8_t)(seq + 2));
                if (*a->conv == NULL)
                    return tx_down(x, false, "%s", "out of memory");
                x->fd = -1;             /* kept open by the conversation */
                x->r->outcome = TACACS_PROMPT;
                x->r->echo = ar.status == TACPLUS_AUTHEN_GETDATA &&
                             !(ar.flags & TACPLUS_REPLY_NOECHO);
                snprintf(x->r->prompt, sizeof x->r->prompt, "%s",
                         ar.server_msg[0] ? ar.server_msg : "Response: ");
                return 0;
            }
            x->r->outcome = TACACS_FAIL;
            snprintf(x->r->why, sizeof x->r->why, "the server asked for more than a password "
                     "(a password login cannot answer%s%.150s: log in with keyboard-interactive)",
                     ar.server_msg[0] ? " " : "", ar.server_msg);
            return 0;
        default:
            return tx_down(x, false, "server answered %s", ar.status == TACPLUS_AUTHEN_ERROR
                                                                ? "ERROR" : "FOLLOW/RESTART");
        }
        seq = (uint8_t)(seq + 2);
        n = tacplus_authen_continue(pkt, TACACS_PKT_MAX, x->sid, seq, tx_flags(x), key, answer,
                                    strlen(answer), false);
        if (n < 0)
            return tx_down(x, false, "%s", "answer too long");
    }
    return tx_down(x, false, "%s", "too many prompts from the server");
}

static int authen_body(struct tx *x, void *argp)
{
    struct authen_arg *a = argp;
    uint8_t pkt[TACACS_PKT_MAX];
    int n = tacplus_authen_start(pkt, sizeof pkt, x->sid, tx_flags(x), x->tg->key,
                                 TACPLUS_AUTHEN_TYPE_ASCII, a->w, NULL, 0);
    if (n < 0)
        return tx_down(x, false, "%s", "request too long");
    int rc = authen_dialogue(x, a, pkt, n, 1, false);
    OPENSSL_cleanse(pkt, sizeof pkt);
    return rc;
}

void tacacs_authen(struct tacacs *t, const struct tacacs_target *tg, const struct tacplus_who *w,
                   const char *password, struct tacacs_result *r)
{
    struct authen_arg a = {w, password, NULL};
    tx_run(t, tg, r, authen_body, &a);
}

void tacacs_authen_conv(struct tacacs *t, const struct tacacs_target *tg,
                        const struct tacplus_who *w, const char *password,
                        struct tacacs_result *r, struct tacacs_conv **conv)
{
    struct authen_arg a = {w, password, conv};
    *conv = NULL;
    tx_run(t, tg, r, authen_body, &a);
}

void tacacs_authen_next(struct tacacs_conv *cv, const char *answer, int timeout_ms,
                        struct tacacs_result *r, struct tacacs_conv **next)
{
    int64_t t0 = clock_mono_ms();
    struct tx x = {.tg = &cv->tg, .r = r, .deadline = t0 + timeout_ms, .fd = cv->fd,
                   .sid = cv->sid};
    struct authen_arg a = {&cv->w, "", next};
    uint8_t pkt[TACACS_PKT_MAX];

    memset(r, 0, sizeof *r);
    r->priv_lvl = -1;
    *next = NULL;
    cv->fd = -1;                     /* x owns it now */
    if (cv->prompts + 1 >= LIM_TACACS_PROMPTS)
        a.conv = NULL;               /* enough prompts: a further one fails the login */
    int n = tacplus_authen_continue(pkt, sizeof pkt, cv->sid, cv->seq, 0, cv->key, answer,
                                    strlen(answer), false);
    if (n < 0)
        tx_down(&x, false, "%s", "answer too long");
    else
        authen_dialogue(&x, &a, pkt, n, cv->seq, true);
    OPENSSL_cleanse(pkt, sizeof pkt);
    if (*next != NULL)
        (*next)->prompts = cv->prompts + 1;
    if (x.fd >= 0)
        close(x.fd);
    r->rtt_ms = clock_mono_ms() - t0;
}

struct req_arg {
    const struct tacplus_who *w;
    const char *const *args;
    int nargs;
    uint8_t acct_flags;
};

static int author_body(struct tx *x, void *argp)
{
    struct req_arg *a = argp;
    uint8_t pkt[TACACS_PKT_MAX], *rep = NULL;
    size_t rn;
    struct tacplus_author_reply ar;
    int n = tacplus_author_request(pkt, sizeof pkt, x->sid, tx_flags(x), x->tg->key, a->w,
                                   a->args, a->nargs);
    if (n < 0)
        return tx_down(x, false, "%s", "request too long");
    if (tx_send(x, pkt, (size_t)n) != 0 || tx_recv(x, &rep, &rn) != 0)
        return -1;
    int rc = tacplus_author_reply_parse(rep, rn, x->tg->key, x->sid, 1, &ar);
    free(rep);
    if (rc != TACPLUS_OK) {
        tx_key_down(x, rc);
        return -1;
    }
    if (ar.status == TACPLUS_AUTHOR_PASS_ADD || ar.status == TACPLUS_AUTHOR_PASS_REPL) {
        const char *pl = tacplus_arg_value(&ar, "priv-lvl");
        x->r->outcome = TACACS_PASS;
        if (pl != NULL && pl[0] >= '0' && pl[0] <= '9' && strlen(pl) <= 2 && atoi(pl) <= 15)
            x->r->priv_lvl = atoi(pl);
        return 0;
    }
    if (ar.status == TACPLUS_AUTHOR_FAIL) {
        x->r->outcome = TACACS_FAIL;
        snprintf(x->r->why, sizeof x->r->why, "refused by the server%s%s",
                 ar.server_msg[0] ? ": " : "", ar.server_msg);
        return 0;
    }
    return tx_down(x, false, "server answered %s", ar.status == TACPLUS_AUTHOR_ERROR ? "ERROR"
                                                                                     : "FOLLOW");
}

void tacacs_author(struct tacacs *t, const struct tacacs_target *tg, const struct tacplus_who *w,
                   const char *const *args, int nargs, struct tacacs_result *r)
{
    struct req_arg a = {w, args, nargs, 0};
    tx_run(t, tg, r, author_body, &a);
}

static int acct_body(struct tx *x, void *argp)
{
    struct req_arg *a = argp;
    uint8_t pkt[TACACS_PKT_MAX], *rep = NULL;
    size_t rn;
    struct tacplus_acct_reply ar;
    int n = tacplus_acct_request(pkt, sizeof pkt, x->sid, tx_flags(x), x->tg->key,
                                 a->acct_flags, a->w, a->args, a->nargs);
    if (n < 0)
        return tx_down(x, false, "%s", "request too long");
    if (tx_send(x, pkt, (size_t)n) != 0 || tx_recv(x, &rep, &rn) != 0)
        return -1;
    int rc = tacplus_acct_reply_parse(rep, rn, x->tg->key, x->sid, 1, &ar);
    free(rep);
    if (rc != TACPLUS_OK) {
        tx_key_down(x, rc);
        return -1;
    }
    if (ar.status == TACPLUS_ACCT_SUCCESS) {
        x->r->outcome = TACACS_PASS;
        return 0;
    }
    x->r->outcome = TACACS_FAIL;
    snprintf(x->r->why, sizeof x->r->why, "record refused by the server%s%s",
             ar.server_msg[0] ? ": " : "", ar.server_msg);
    return 0;
}

void tacacs_acct(struct tacacs *t, const struct tacacs_target *tg, const struct tacplus_who *w,
                 uint8_t acct_flags, const char *const *args, int nargs, struct tacacs_result *r)
{
    struct req_arg a = {w, args, nargs, acct_flags};
    tx_run(t, tg, r, acct_body, &a);
}
