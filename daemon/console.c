/* console: the console line of this device (see console.h).
 *
 * Why: a router always has a way in that does not go through AAA, its console port; an SSH-only
 * daemon whose AAA was changed to refuse everyone (`aaa authentication login default group
 * tacacs+` with no server) would otherwise be recoverable only by deleting its data directory.
 * The console is a Unix socket in the data directory: who can open it can already read the
 * store, so it grants nothing new; it is created 0600 and a connecting process must run as the
 * daemon's user or root (SO_PEERCRED), which is checked again on every connection.
 *
 * Protocol: the client sends one line, "pty" (a terminal: echo, CRLF) or "raw" (a script), then
 * bytes both ways; the server runs cli_session_run() at privilege 15 as user "console". One
 * thread accepts; each session has its own thread (at most LIM_CONSOLE_SESSIONS); console_stop()
 * ends the sessions at their next read slice and joins every thread. */
#include "daemon/console.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/lim.h"
#include "base/log.h"
#include "daemon/cli_session.h"
#include "services/stats.h"

#define CONSOLE_SOCK "console.sock"
#define CONSOLE_SLICE_MS 500   /* read slices: how soon a session notices the stop */

struct console_sess {
    struct console *con;
    int fd;
    pthread_t th;
    bool used;
    int done;          /* __atomic: the thread has finished (its slot can be joined) */
};

struct console {
    struct scpd *d;
    int lfd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    pthread_t accept_th;
    int stop;          /* __atomic */
    struct console_sess sess[LIM_CONSOLE_SESSIONS];
};

static bool stopping(struct console *con)
{
    return __atomic_load_n(&con->stop, __ATOMIC_RELAXED) != 0;
}

static ssize_t con_read(void *ctx, void *buf, size_t cap)
{
    struct console_sess *s = ctx;
    for (;;) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (stopping(s->con))
            return -1;
        int r = poll(&p, 1, CONSOLE_SLICE_MS);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r > 0) {
            ssize_t n = read(s->fd, buf, cap);
            if (n < 0 && errno == EINTR)
                continue;
            return n;
        }
    }
}

static int con_write(void *ctx, const void *buf, size_t len)
{
    struct console_sess *s = ctx;
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The client's first line: "pty" or "raw". */
static int read_hello(struct console_sess *s, bool *pty)
{
    char line[16];
    size_t n = 0;
    while (n < sizeof line) {
        char ch;
        ssize_t r = con_read(s, &ch, 1);
        if (r <= 0)
            return -1;
        if (ch == '\n') {
            line[n] = '\0';
            *pty = strcmp(line, "pty") == 0;
            return *pty || strcmp(line, "raw") == 0 ? 0 : -1;
        }
        line[n++] = ch;
    }
    return -1;
}

static void *sess_main(void *arg)
{
    struct console_sess *s = arg;
    struct scpd *d = s->con->d;
    struct log_ctx lc = {.user = "console", .peer = "console"};
    bool pty = false;
    if (read_hello(s, &pty) == 0) {
        struct chan_io io = {.ctx = s, .read = con_read, .write = con_write};
        struct cli_env env = {.ifs = d->ifs, .store = d->store, .user = "console",
                              .peer = "console", .peer_addr = NULL, .aaa = d->aaa,
                              .ssh = d->ssh, .data_dir = d->opts.data_dir,
                              .privilege = 15, .pty = pty,
                              .started_ms = d->stats ? stats_started_ms(d->stats) : 0};
        log_notice(&lc, "console: session started (privilege 15, no AAA)");
        cli_session_run(&env, &io);
        log_notice(&lc, "console: session ended");
    }
    close(s->fd);
    __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Joins the sessions that have ended, so their slots can be reused. */
static void reap(struct console *con, bool all)
{
    for (int i = 0; i < LIM_CONSOLE_SESSIONS; i++) {
        struct console_sess *s = &con->sess[i];
        if (s->used && (all || __atomic_load_n(&s->done, __ATOMIC_ACQUIRE))) {
            pthread_join(s->th, NULL);
            s->used = false;
        }
    }
}

static bool peer_allowed(int fd, unsigned *uid_out)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
        return false;
    *uid_out = (unsigned)cr.uid;
    return cr.uid == geteuid() || cr.uid == 0;
}

static void *accept_main(void *arg)
{
    struct console *con = arg;
    while (!stopping(con)) {
        struct pollfd p = {.fd = con->lfd, .events = POLLIN};
        if (poll(&p, 1, CONSOLE_SLICE_MS) <= 0)
            continue;
        int fd = accept4(con->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        unsigned uid = 0;
        reap(con, false);
        if (!peer_allowed(fd, &uid)) {
            log_warn(NULL, "console: connection of uid %u refused (not the daemon's user)", uid);
            close(fd);
            continue;
        }
        int slot = -1;
        for (int i = 0; i < LIM_CONSOLE_SESSIONS && slot < 0; i++)
            if (!con->sess[i].used)
                slot = i;
        if (slot < 0) {
            static const char busy[] = "% Console busy (" LIM_STR(LIM_CONSOLE_SESSIONS)
                                       " sessions)\r\n";
            (void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
            close(fd);
            continue;
        }
        struct console_sess *s = &con->sess[slot];
        *s = (struct console_sess){.con = con, .fd = fd, .used = true};
        if (pthread_create(&s->th, NULL, sess_main, s) != 0) {
            s->used = false;
            close(fd);
        }
    }
    return NULL;
}

struct console *console_start(struct scpd *d, struct scpd_err *err)
{
    struct console *con = calloc(1, sizeof *con);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (con == NULL) {
        scpd_err_set(err, SCPD_E_NOMEM, "console: out of memory");
        return NULL;
    }
    con->d = d;
    con->lfd = -1;
    int n = snprintf(con->path, sizeof con->path, "%s/%s", d->opts.data_dir, CONSOLE_SOCK);
    if (n < 0 || (size_t)n >= sizeof con->path) {
        scpd_err_set(err, SCPD_E_LIMIT, "console: the data directory path is too long for a "
                     "Unix socket (%zu bytes at most)", sizeof con->path - sizeof CONSOLE_SOCK - 1);
        goto fail;
    }
    memcpy(sa.sun_path, con->path, (size_t)n + 1);
    /* one daemon per data directory (the store's lock): a socket left here is a dead one's */
    unlink(con->path);
    con->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (con->lfd < 0 || bind(con->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        chmod(con->path, 0600) != 0 || listen(con->lfd, LIM_CONSOLE_SESSIONS) != 0) {
        scpd_err_set(err, SCPD_E_IO, "console: cannot listen on %s: %s", con->path,
                     strerror(errno));
        goto fail;
    }
    if (pthread_create(&con->accept_th, NULL, accept_main, con) != 0) {
        scpd_err_set(err, SCPD_E_NOMEM, "console: cannot start its thread");
        unlink(con->path);
        goto fail;
    }
    log_info(NULL, "console listening on %s", con->path);
    return con;
fail:
    if (con->lfd >= 0)
        close(con->lfd);
    free(con);
    return NULL;
}

void console_stop(struct console *con)
{
    if (con == NULL)
        return;
    __atomic_store_n(&con->stop, 1, __ATOMIC_RELAXED);
    pthread_join(con->accept_th, NULL);
    reap(con, true);
    close(con->lfd);
    unlink(con->path);
    free(con);
}

/* ---- the client ------------------------------------------------------------------------------ */

static int relay(int sfd, bool tty)
{
    char buf[4096];
    bool in_open = true;
    for (;;) {
        struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        if (poll(p, in_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (p[0].revents) {
            ssize_t n = read(sfd, buf, sizeof buf);
            if (n <= 0)
                return n == 0 ? 0 : 1;
            for (ssize_t o = 0; o < n;) {
                ssize_t w = write(1, buf + o, (size_t)(n - o));
                if (w <= 0)
                    return 1;
                o += w;
            }
        }
        if (in_open && p[1].revents) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n <= 0) {
                in_open = false;
                shutdown(sfd, SHUT_WR);   /* the CLI sees end of input and ends the session */
                continue;
            }
            if (send(sfd, buf, (size_t)n, MSG_NOSIGNAL) != n)
                return 1;
        }
    }
    (void)tty;
}

int console_client(int argc, char **argv)
{
    const char *dir = "./var";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strncmp(argv[i], "--data-dir=", 11) == 0)
            dir = argv[i] + 11;
        else {
            fprintf(stderr, "usage: scpd console [--data-dir DIR]\n");
            return 2;
        }
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, CONSOLE_SOCK);
    if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
        fprintf(stderr, "scpd console: data directory path too long\n");
        return 1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "scpd console: cannot connect to %s: %s (is scpd running with "
                        "--data-dir %s, as this user?)\n", sa.sun_path, strerror(errno), dir);
        return 1;
    }
    bool tty = isatty(0) == 1;
    struct termios saved, raw;
    if (tty && tcgetattr(0, &saved) == 0) {
        raw = saved;
        /* the CLI echoes and edits, as a router's console does; ^Z and ^C are its bytes too */
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
        raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &raw);
    } else {
        tty = false;
    }
    int rc = send(fd, tty ? "pty\n" : "raw\n", 4, MSG_NOSIGNAL) == 4 ? relay(fd, tty) : 1;
    if (tty)
        tcsetattr(0, TCSANOW, &saved);
    close(fd);
    return rc;
}
