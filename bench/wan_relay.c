/* wan_relay: a TCP relay that makes loopback look like a WAN link for `make bench-wan`.
 *
 *   wan_relay --connect HOST:PORT [--listen ADDR:PORT] [--rtt-ms MS] [--rate-mbit MBIT]
 *             [--queue-kib KIB]
 *
 * It listens (default 127.0.0.1:0; the bound port is printed as "PORT N" on stdout), and relays
 * each accepted connection to --connect. Each direction is one link with a bandwidth cap (default
 * 1000 Mbit/s) and a one-way delay of RTT/2 (default 50 ms RTT): a chunk read at time t leaves the
 * link's queue at max(t, end of the previous chunk) + size/rate and is written out RTT/2 later. The
 * link's queue holds at most --queue-kib (default one bandwidth-delay product); beyond it the relay
 * stops reading, so the sender's loopback TCP sees back-pressure.
 *
 * What it models: the round trips and the bandwidth that SSH's channel windows and the SFTP
 * client's requests in flight meet. What it does not: TCP over a real WAN (both legs are loopback
 * TCP with their own small RTT, so no congestion control, no loss, no slow start). Each direction
 * runs a reader and a writer thread; chunks are at most 64 KiB (0.5 ms at 1 Gbit/s). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RELAY_CHUNK (64 * 1024)
#define RELAY_HOLD_MAX (256ll << 20)   /* per direction, whatever the writer's back-pressure */

struct relay_opts {
    char listen_host[256], listen_port[16];
    char connect_host[256], connect_port[16];
    double rtt_ms, rate_mbit;
    long long queue_bytes;
};

struct chunk {
    struct chunk *next;
    int64_t release_ns;
    size_t len;      /* 0: end of stream */
    char data[];
};

struct dir {
    int src, dst;
    const struct relay_opts *o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct chunk *head, *tail;
    long long held;          /* bytes queued, not yet written */
    int64_t busy_until_ns;   /* the link is serializing until then */
    bool writer_failed;
    struct conn *conn;
};

struct conn {
    struct dir d[2];
    pthread_mutex_t mu;
    int done;   /* directions finished */
    int fd_a, fd_b;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t_ns)
{
    struct timespec ts = {.tv_sec = t_ns / 1000000000, .tv_nsec = t_ns % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static int64_t ser_ns(const struct relay_opts *o, size_t len)
{
    return (int64_t)((double)len * 8.0 * 1000.0 / o->rate_mbit);   /* 1 Mbit/s = 1 bit/us */
}

static void conn_dir_done(struct conn *c)
{
    pthread_mutex_lock(&c->mu);
    int done = ++c->done;
    pthread_mutex_unlock(&c->mu);
    if (done == 4) {   /* both readers and both writers */
        close(c->fd_a);
        close(c->fd_b);
        for (int i = 0; i < 2; i++) {
            pthread_mutex_destroy(&c->d[i].mu);
            pthread_cond_destroy(&c->d[i].cv);
        }
        pthread_mutex_destroy(&c->mu);
        free(c);
    }
}

static void *reader(void *arg)
{
    struct dir *d = arg;
    const struct relay_opts *o = d->o;
    int64_t delay = (int64_t)(o->rtt_ms * 1e6 / 2);
    int64_t qlimit = ser_ns(o, (size_t)o->queue_bytes);
    for (;;) {
        /* the link's queue and the relay's memory are bounded: stop reading when full */
        pthread_mutex_lock(&d->mu);
        while (d->held >= RELAY_HOLD_MAX && !d->writer_failed)
            pthread_cond_wait(&d->cv, &d->mu);
        int64_t busy = d->busy_until_ns;
        bool failed = d->writer_failed;
        pthread_mutex_unlock(&d->mu);
        if (failed)
            break;
        int64_t now = now_ns();
        if (busy - now > qlimit)
            sleep_until(busy - qlimit);
        struct chunk *ch = malloc(sizeof(*ch) + RELAY_CHUNK);
        if (ch == NULL)
            break;
        ssize_t n = recv(d->src, ch->data, RELAY_CHUNK, 0);
        if (n < 0 && errno == EINTR) {
            free(ch);
            continue;
        }
        ch->len = n > 0 ? (size_t)n : 0;
        ch->next = NULL;
        now = now_ns();
        pthread_mutex_lock(&d->mu);
        int64_t start = d->busy_until_ns > now ? d->busy_until_ns : now;
        d->busy_until_ns = start + ser_ns(o, ch->len);
        ch->release_ns = d->busy_until_ns + delay;
        if (d->tail)
            d->tail->next = ch;
        else
            d->head = ch;
        d->tail = ch;
        d->held += (long long)ch->len;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        if (n <= 0)
            break;   /* the end-of-stream marker is queued: the writer half-closes after the data */
    }
    conn_dir_done(d->conn);
    return NULL;
}

static void *writer(void *arg)
{
    struct dir *d = arg;
    for (;;) {
        pthread_mutex_lock(&d->mu);
        while (d->head == NULL)
            pthread_cond_wait(&d->cv, &d->mu);
        struct chunk *ch = d->head;
        d->head = ch->next;
        if (d->head == NULL)
            d->tail = NULL;
        pthread_mutex_unlock(&d->mu);
        sleep_until(ch->release_ns);
        bool eos = ch->len == 0, ok = true;
        for (size_t off = 0; off < ch->len;) {
            ssize_t n = send(d->dst, ch->data + off, ch->len - off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                ok = false;
                break;
            }
            off += (size_t)n;
        }
        pthread_mutex_lock(&d->mu);
        d->held -= (long long)ch->len;
        if (!ok)
            d->writer_failed = true;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        free(ch);
        if (eos || !ok) {
            shutdown(d->dst, SHUT_WR);
            if (!ok)
                shutdown(d->src, SHUT_RD);   /* wakes the reader */
            break;
        }
    }
    /* drop what is left (a failed write) */
    pthread_mutex_lock(&d->mu);
    while (d->head) {
        struct chunk *ch = d->head;
        d->head = ch->next;
        free(ch);
    }
    d->tail = NULL;
    pthread_mutex_unlock(&d->mu);
    conn_dir_done(d->conn);
    return NULL;
}

static int dial(const struct relay_opts *o)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(o->connect_host, o->connect_port, &hints, &ai) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        fd = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen) == 0)
            break;
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static void start_conn(const struct relay_opts *o, int a)
{
    int b = dial(o);
    if (b < 0) {
        fprintf(stderr, "wan_relay: cannot connect to %s:%s: %s\n", o->connect_host,
                o->connect_port, strerror(errno));
        close(a);
        return;
    }
    int one = 1;
    setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(a);
        close(b);
        return;
    }
    c->fd_a = a;
    c->fd_b = b;
    pthread_mutex_init(&c->mu, NULL);
    for (int i = 0; i < 2; i++) {
        struct dir *d = &c->d[i];
        d->src = i == 0 ? a : b;
        d->dst = i == 0 ? b : a;
        d->o = o;
        d->conn = c;
        pthread_mutex_init(&d->mu, NULL);
        pthread_cond_init(&d->cv, NULL);
    }
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    for (int i = 0; i < 2; i++) {
        pthread_t t;
        if (pthread_create(&t, &at, reader, &c->d[i]) != 0 ||
            pthread_create(&t, &at, writer, &c->d[i]) != 0) {
            fprintf(stderr, "wan_relay: cannot start threads\n");
            exit(1);
        }
    }
    pthread_attr_destroy(&at);
}

static int split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= hcap || strlen(colon + 1) >= pcap)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    snprintf(port, pcap, "%s", colon + 1);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: wan_relay --connect HOST:PORT [--listen ADDR:PORT] [--rtt-ms MS] "
                    "[--rate-mbit MBIT] [--queue-kib KIB]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct relay_opts o = {.rtt_ms = 50, .rate_mbit = 1000, .queue_bytes = -1};
    snprintf(o.listen_host, sizeof(o.listen_host), "127.0.0.1");
    snprintf(o.listen_port, sizeof(o.listen_port), "0");
    bool have_connect = false;
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            usage();
        if (strcmp(argv[i], "--connect") == 0) {
            if (split_hostport(v, o.connect_host, sizeof(o.connect_host), o.connect_port,
                               sizeof(o.connect_port)) != 0)
                usage();
            have_connect = true;
        } else if (strcmp(argv[i], "--listen") == 0) {
            if (split_hostport(v, o.listen_host, sizeof(o.listen_host), o.listen_port,
                               sizeof(o.listen_port)) != 0)
                usage();
        } else if (strcmp(argv[i], "--rtt-ms") == 0) {
            o.rtt_ms = atof(v);
        } else if (strcmp(argv[i], "--rate-mbit") == 0) {
            o.rate_mbit = atof(v);
        } else if (strcmp(argv[i], "--queue-kib") == 0) {
            o.queue_bytes = atoll(v) * 1024;
        } else {
            usage();
        }
    }
    if (!have_connect || o.rtt_ms < 0 || o.rate_mbit <= 0)
        usage();
    if (o.queue_bytes < 0)   /* one bandwidth-delay product, at least 256 KiB */
        o.queue_bytes = (long long)(o.rate_mbit * 1e6 / 8 * o.rtt_ms / 1000);
    if (o.queue_bytes < 256 * 1024)
        o.queue_bytes = 256 * 1024;
    signal(SIGPIPE, SIG_IGN);

    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
    if (getaddrinfo(o.listen_host, o.listen_port, &hints, &ai) != 0) {
        fprintf(stderr, "wan_relay: bad listen address\n");
        return 1;
    }
    int ls = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ls < 0 || bind(ls, ai->ai_addr, ai->ai_addrlen) != 0 || listen(ls, 128) != 0) {
        fprintf(stderr, "wan_relay: cannot listen: %s\n", strerror(errno));
        return 1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(ls, (struct sockaddr *)&ss, &sl);
    int port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                        : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    printf("PORT %d\n", port);
    fflush(stdout);
    for (;;) {
        int a = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (a < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
                continue;
            fprintf(stderr, "wan_relay: accept: %s\n", strerror(errno));
            return 1;
        }
        start_conn(&o, a);
    }
}
