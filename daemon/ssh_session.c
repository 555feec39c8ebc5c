/* ssh_session: one SSH connection on its own thread, from key exchange to disconnect.
 *
 * Phases.
 *  1. Key exchange, non-blocking, polled against the `ip ssh time-out` deadline (libssh keeps
 *     none) and the stop flag.
 *  2. Event loop (ssh_event_dopoll in short slices): libssh runs the callbacks below, which only
 *     record state (docs/libssh.md: writing inside a callback polls the whole event
 *     recursively). Authentication goes through aaa: password and public key by the server
 *     callbacks, keyboard-interactive by the message callback (libssh has no server callback for
 *     it). Failures count against `ip ssh authentication-retries N`: the Nth failed attempt
 *     ends the connection (0, IOS's "no retry", allows one attempt); a source in a `login
 *     block-for` quiet period is disconnected with a message naming the reason.
 *  3. A channel request (exec, shell, subsystem) recorded by a callback is served after the poll
 *     returns: the session leaves the event and the request runs with blocking channel I/O on this
 *     thread. `scp -t/-f` goes through authorization (scp enable, aaa authorization exec,
 *     privilege 15) and then scp_session_run(); every refusal is an SCP error line that scp
 *     prints, then exit status 1, EOF, close. The "sftp" subsystem goes through the same
 *     authorization (ssh_authorize_copy) and then sftp_session_run(); its refusals go to stderr.
 *     A shell request is an IOS EXEC session (cli_session_run: a minimal CLI for netmiko and
 *     scripts) and an exec request that is not scp runs as one EXEC command (`ssh dev "show
 *     running-config"`); both need only `aaa authorization exec` (ssh_authorize_cli), as an IOS
 *     vty does, and their refusal goes to stderr. Unknown subsystems are refused on stderr.
 *
 * Data path (measured, docs/libssh.md): reads ask for at most SSH_READ_MAX (256 KiB; larger
 * counts make libssh grow the window on almost every read), writes go through as the SCP layer
 * hands them (it writes in 256 KiB or larger blocks), TCP_QUICKACK is set again before each read.
 * Nothing is allocated per packet. */
#include "daemon/ssh_session.h"

#include <stdarg.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "services/aaa.h"
#include "services/aaa_grant.h"
#include "store/cfg.h"
#include "daemon/cli_session.h"
#include "base/clock.h"
#include "base/lim.h"
#include "base/log.h"
#include "daemon/scp_session.h"
#include "daemon/netconf_session.h"
#include "daemon/sftp_session.h"
#include "daemon/ssh_window.h"
#include "base/scpd.h"
#include "services/sessions.h"
#include "services/stats.h"
#include "store/store.h"
#include "services/trace.h"

#define SSH_READ_MAX (256u * 1024)   /* see the file comment */
#define SSH_READ_SPINS 32             /* receives in a row before a read waits (ssh_io_read) */
#define SSH_POLL_MS 200               /* event slice: deadlines and stop are checked this often */
#define SSH_IO_SLICE_MS 1000          /* blocking read/write slice: idle and abort checks */
#define SSH_SCP_PRIVILEGE 15
#define SSH_LINGER_MS 2000           /* waiting for the client to close after our disconnect */
/* A revoked account with channels running: each channel's next operation is refused by its own
 * protocol with the reason (an SFTP status, an SCP error line, a CLI message); a channel that makes
 * none within this time is told on its stream and the session ends with the reason. */
#define SSH_REVOKE_GRACE_MS 1000
/* libssh 0.10's WINDOWBASE (channels.c grow_window): any window adjust it sends leaves the peer at
 * least this much credit past the bytes libssh holds unread. */
#define SSH_LIBSSH_WINDOW_BASE 1280000u

enum ssh_req { SSH_REQ_NONE = 0, SSH_REQ_EXEC, SSH_REQ_SHELL, SSH_REQ_SUBSYSTEM };

struct ssh_sess;

struct ssh_chan {
    struct ssh_sess *ss;
    ssh_channel ch;                        /* NULL: free slot */
    struct ssh_channel_callbacks_struct cb;
    enum ssh_req req;
    bool served;
    bool too_long;                         /* exec command over LIM_SCP_COMMAND_LEN */
    bool idle_ends_at_stop;                /* sftp, cli: a silent channel is an idle prompt */
    bool pty;                              /* a pty was requested: the CLI echoes */
    int idle_secs;                         /* idle limit: LIM_SSH_IDLE_SECS, a shell's
                                            * exec-timeout (line vty); 0: none */
    bool copy;                             /* a copy door (scp, sftp): needs privilege 15 */
    bool told;                             /* the client has the reason of the channel's end */
    struct aaa_grant grant;                /* what the channel's authorization granted */
    struct chan_authz authz;               /* re-checks grant (ssh_chan_recheck) */
    pthread_t thread;                      /* serves the request (ssh_chan_thread) */
    bool started;                          /* thread runs or awaits its join */
    bool finished;                         /* thread is done: join, then release the slot */
    char cmd[LIM_SCP_COMMAND_LEN + 1];     /* exec command or subsystem name */
    uint64_t bytes_in, bytes_out;          /* channel data, for aaa accounting */
    struct aaa_acct acct;                  /* the exec accounting record of this channel */
    /* receive window (see "Receive window" below) */
    bool win_started;
    bool win_on;                           /* false: libssh's own window (no budget left) */
    struct ssh_win win;
    size_t win_budget;                     /* bytes held of the session's and the total budget */
    uint8_t *rx;                           /* what a top-up read took from libssh, handed out */
    uint32_t rx_cap, rx_off, rx_len;       /* before the next read */
};

struct ssh_sess {
    struct ssh_conn *c;
    ssh_session s;
    ssh_event ev;
    struct ssh_server_callbacks_struct scb;
    bool authenticated;
    bool banner_sent;                      /* banner login went out (ssh_send_banner) */
    char user[LIM_AUTH_USER_LEN + 1];      /* the authenticated user */
    char kbd_user[LIM_AUTH_USER_LEN + 1];  /* user of a keyboard-interactive exchange */
    struct aaa_conv *kbd_conv;             /* its TACACS+ dialogue waiting for an answer */
    int failures;
    int retries;                           /* ip ssh authentication-retries at connect */
    int timeout;                           /* ip ssh time-out at connect */
    int64_t deadline_ms;                   /* end of negotiation + authentication */
    int64_t last_io_ms;                    /* idle accounting (set through ssh_touch) */
    int sess_slot;                         /* in d->sessions (show users); -1: not listed */
    int64_t born_ms;                       /* the connection's start */
    int lifetime;                          /* ip ssh session-lifetime at connect, seconds */
    struct aaa_grant grant;                /* the login's account, re-checked each slice */
    bool granted;                          /* grant holds the account (set at login) */
    struct ssh_win_budget win_budget;      /* receive windows of this session's channels */
    char kill_msg[256];                    /* set: disconnect with this reason */
    char revoke_msg[200];                  /* set: the account was revoked (ssh_should_end) */
    int64_t revoke_ms;                     /* when: the channels' grace starts */
    struct ssh_chan chans[LIM_CHANNELS_PER_SESSION];
    /* Threads (see "Channels" in the file comment): mu guards the libssh session and everything
     * above that callbacks or channel threads touch. */
    pthread_mutex_t mu;                    /* recursive: a refusal may lock inside a locked path */
    pthread_cond_t cv; /* broadcast after libssh processed input (CLOCK_MONOTONIC) */
    int cv_waiters;                        /* channel threads waiting on cv */
    pthread_cond_t loop_cv;                /* the session thread's wait while channels run */
    bool loop_waiting;                     /* it waits on loop_cv */
    bool loop_due;                         /* something for it: a request, a channel done, a kill */
    bool polling;                          /* one thread polls the socket; the others wait on cv */
    bool wake_sent;                        /* a byte is in wake[] for the poller */
    int wake[2];                           /* pipe: interrupts the poller's poll() */
    int active;                            /* channel threads running */
    bool ending;                           /* the session ends: channel threads give up */
};

/* A byte moved: idle time starts again (here and in `show users`). */
static void ssh_touch(struct ssh_sess *ss)
{
    pthread_mutex_lock(&ss->mu);   /* recursive: callers may hold it */
    ss->last_io_ms = clock_mono_ms();
    pthread_mutex_unlock(&ss->mu);
    sessions_touch(ss->c->d->sessions, ss->sess_slot);
}

/* Delayed ACKs cost ~40 ms per protocol round trip (docs/libssh.md): Linux clears TCP_QUICKACK
 * by itself, so it is set again before each wait. */
static void ssh_quickack(const struct ssh_sess *ss)
{
    int one = 1;
    setsockopt(ss->c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static struct log_ctx ssh_lc(const struct ssh_sess *ss)
{
    struct log_ctx lc = {.sid = ss->c->sid, .user = ss->user[0] ? ss->user : NULL,
                         .peer = ss->c->peer};
    return lc;
}

static void ssh_count(struct ssh_sess *ss, enum stats_counter ctr)
{
    if (ss->c->d->stats)
        stats_inc(ss->c->d->stats, ctr, 1);
}

/* A refusal of an authenticated user: counted and reported on the security stream. */
static void ssh_refusal(struct ssh_sess *ss, enum stats_counter ctr, const char *msg)
{
    ssh_count(ss, ctr);
    stats_security(ss->c->d->stats, "refused", "ssh", ss->user[0] ? ss->user : NULL, ss->c->peer,
                   msg);
}

/* Tells the session thread (ssh_loop) that it has something to do; ss->mu held. Data moving on a
 * channel does not wake it: with a transfer running that would cost a futex round per packet. */
static void ssh_wake_loop(struct ssh_sess *ss)
{
    ss->loop_due = true;
    if (ss->loop_waiting)
        pthread_cond_signal(&ss->loop_cv);
}

static void ssh_kill(struct ssh_sess *ss, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ssh_kill(struct ssh_sess *ss, const char *fmt, ...)
{
    if (ss->kill_msg[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ss->kill_msg, sizeof(ss->kill_msg), fmt, ap);
    va_end(ap);
    ssh_wake_loop(ss);
    /* A doomed session answers no further login attempt: libssh replies "failure, try again" to
     * whatever the password and public-key callbacks deny, and requests already in flight would
     * be answered while the disconnect is flushed. Without the callbacks they reach
     * ssh_cb_message, which drops them unanswered. */
    ss->scb.auth_password_function = NULL;
    ss->scb.auth_pubkey_function = NULL;
}

/* ---- authentication callbacks --------------------------------------------------------------- */

static struct aaa_req ssh_aaa_req(const struct ssh_sess *ss, const char *user)
{
    /* before the login, every AAA round trip is bounded by what is left of ip ssh time-out */
    struct aaa_req r = {.door = "ssh", .user = user, .peer_addr = ss->c->peer_addr,
                        .peer = ss->c->peer, .sid = ss->c->sid,
                        .deadline_ms = ss->authenticated ? 0 : ss->deadline_ms};
    return r;
}

static void ssh_grant_login(struct ssh_sess *ss);

/* Books the outcome of one attempt; returns the libssh answer. */
static int ssh_auth_outcome(struct ssh_sess *ss, const char *user, enum aaa_result res,
                            const struct scpd_err *err)
{
    if (res == AAA_OK) {
        snprintf(ss->user, sizeof(ss->user), "%s", user);
        ss->authenticated = true;
        /* a keyboard-interactive dialogue left halfway for another method: its TACACS+
         * connection and key go now, not at the end of the session */
        aaa_conv_free(ss->kbd_conv);
        ss->kbd_conv = NULL;
        ss->kbd_user[0] = '\0';
        ssh_grant_login(ss);
        ssh_srv_conn_authenticated(ss->c->srv, ss->c);
        ss->sess_slot = sessions_ssh_add(ss->c->d->sessions, ss->c->sid, ss->user, ss->c->peer);
        return SSH_AUTH_SUCCESS;
    }
    if (res == AAA_BLOCKED) {
        ssh_kill(ss, "%% Login refused: %s", err->msg);
        return SSH_AUTH_DENIED;
    }
    /* N failed attempts, then the disconnect; 0 (IOS: no retry) still allows the one attempt */
    int allowed = ss->retries > 0 ? ss->retries : 1;
    if (++ss->failures >= allowed)
        ssh_kill(ss, "%% Too many authentication failures: %d failed attempts "
                 "(ip ssh authentication-retries %d)", ss->failures, ss->retries);
    return SSH_AUTH_DENIED;
}

/* ---- authorization follows the account ------------------------------------------------------- */

/* The account of the login, kept to notice a delete, re-create or new secret while the session is
 * open (ssh_sess_revoked). Its exec authorization is not the point here: each channel takes its
 * own grant. */
static void ssh_grant_login(struct ssh_sess *ss)
{
    struct scpd *d = ss->c->d;
    ss->granted = d->store != NULL && aaa_grant_account(d->store, ss->user, &ss->grant, NULL) == 0;
}

static bool ssh_lifetime_over(const struct ssh_sess *ss, char *why, size_t cap)
{
    if (clock_mono_ms() - ss->born_ms < (int64_t)ss->lifetime * 1000)
        return false;
    snprintf(why, cap, "Session lifetime of %d seconds reached (ip ssh session-lifetime)",
             ss->lifetime);
    return true;
}

/* The session's account was deleted, re-created or re-keyed: true with the reason. Only the
 * account is compared here (a version number while the config does not move). */
static bool ssh_sess_revoked(struct ssh_sess *ss, char *why, size_t cap)
{
    struct scpd_err err = {0};
    if (!ss->granted || aaa_grant_check_account(ss->c->d->store, &ss->grant, &err) == 0)
        return false;
    snprintf(why, cap, "%.*s", (int)(cap > 1 ? cap - 1 : 0), err.msg);
    return true;
}

/* chan_authz.check of a channel (see daemon/chan.h): the session lifetime, then the channel's
 * grant against the current config; the copy doors also need privilege 15 still. */
static int ssh_chan_recheck(void *arg, int *privilege, char *why, size_t cap)
{
    struct ssh_chan *c = arg;
    struct ssh_sess *ss = c->ss;
    struct scpd *d = ss->c->d;
    struct aaa_req req = ssh_aaa_req(ss, ss->user);
    struct scpd_err err = {0};
    if (ssh_lifetime_over(ss, why, cap))
        goto refused;
    if (aaa_grant_check(d->aaa, d->store, &req, &c->grant, NULL, &err) != 0) {
        snprintf(why, cap, "%s", err.msg);
        goto refused;
    }
    if (c->copy && c->grant.privilege < SSH_SCP_PRIVILEGE) {
        snprintf(why, cap, "access revoked: privilege level %d is below %d required for SCP",
                 c->grant.privilege, SSH_SCP_PRIVILEGE);
        goto refused;
    }
    *privilege = c->grant.privilege;
    return 0;
refused:;
    struct log_ctx lc = ssh_lc(ss);
    c->told = true;   /* the protocol refuses the operation with why */
    log_notice(&lc, "ssh: %s", why);
    ssh_refusal(ss, STATS_REFUSED_NO_AUTHZ, why);
    /* The whole session ends for a lifetime or an account that is gone: say so now, so this
     * channel is not closed ahead of the disconnect with the reason (ssh_chan_finish); the session
     * thread might see it only a slice later. A lower privilege ends this channel only. */
    char acct[200];
    pthread_mutex_lock(&ss->mu);
    if (ssh_lifetime_over(ss, acct, sizeof(acct))) {
        ssh_kill(ss, "%% %s", acct);
    } else if (!ss->revoke_msg[0] && !ss->kill_msg[0] &&
               ssh_sess_revoked(ss, acct, sizeof(acct))) {
        snprintf(ss->revoke_msg, sizeof(ss->revoke_msg), "%s", acct);
        ss->revoke_ms = clock_mono_ms();
        ssh_wake_loop(ss);
    }
    pthread_mutex_unlock(&ss->mu);
    return -1;
}

/* A user name from the peer, checked before it goes anywhere. */
static bool ssh_user_ok(const char *user)
{
    if (user == NULL || user[0] == '\0' || strlen(user) > LIM_AUTH_USER_LEN)
        return false;
    for (const unsigned char *p = (const unsigned char *)user; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static void ssh_send_banner(struct ssh_sess *ss);

static int ssh_cb_auth_password(ssh_session s, const char *user, const char *password, void *arg)
{
    struct ssh_sess *ss = arg;
    if (ss->kill_msg[0] || ss->authenticated)
        return SSH_AUTH_DENIED;
    ssh_send_banner(ss);
    struct scpd_err err = {0};
    const char *u = ssh_user_ok(user) ? user : "";
    struct aaa_req req = ssh_aaa_req(ss, u);
    enum aaa_result res = aaa_login_password(ss->c->d->aaa, &req, password ? password : "", &err);
    return ssh_auth_outcome(ss, u, res, &err);
}

static int ssh_cb_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *pubkey,
                              char signature_state, void *arg)
{
    struct ssh_sess *ss = arg;
    if (!ss->kill_msg[0] && !ss->authenticated)
        ssh_send_banner(ss);
    if (ss->kill_msg[0] || ss->authenticated || !ssh_user_ok(user))
        return SSH_AUTH_DENIED;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    char hex[2 * 16 + 1];
    if (ssh_get_publickey_hash(pubkey, SSH_PUBLICKEY_HASH_MD5, &hash, &hlen) != 0 || hlen != 16) {
        ssh_clean_pubkey_hash(&hash);
        return SSH_AUTH_DENIED;
    }
    for (size_t i = 0; i < hlen; i++)
        snprintf(hex + 2 * i, 3, "%02X", hash[i]);
    ssh_clean_pubkey_hash(&hash);
    struct aaa_req req = ssh_aaa_req(ss, user);
    if (signature_state == SSH_PUBLICKEY_STATE_NONE)   /* the probe: "would you take this key?" */
        return aaa_pubkey_acceptable(ss->c->d->aaa, &req, hex) ? SSH_AUTH_SUCCESS
                                                               : SSH_AUTH_DENIED;
    if (signature_state != SSH_PUBLICKEY_STATE_VALID) {
        struct log_ctx lc = ssh_lc(ss);
        log_notice(&lc, "ssh publickey login of %s refused: bad signature", user);
        return ssh_auth_outcome(ss, user, AAA_FAIL, NULL);
    }
    struct scpd_err err = {0};
    const char *type = ssh_key_type_to_char(ssh_key_type(pubkey));
    enum aaa_result res = aaa_login_pubkey(ss->c->d->aaa, &req, type, hex, &err);
    return ssh_auth_outcome(ss, user, res, &err);
}

/* banner login: SSH_MSG_USERAUTH_BANNER (RFC 4252 5.4), once, at the first authentication
 * request, as IOS shows it before the password prompt. */
static void ssh_send_banner(struct ssh_sess *ss)
{
    if (ss->banner_sent || ss->c->d->store == NULL)
        return;
    ss->banner_sent = true;
    const struct store_snap *snap = store_snapshot(ss->c->d->store);
    if (snap == NULL)
        return;
    const char *b = snap->cfg->banner_login;
    b += b[0] == '\n';   /* IOS's text starts after the delimiter's line */
    if (b[0] != '\0') {
        ssh_string str = ssh_string_from_char(b);
        if (str != NULL) {
            ssh_send_issue_banner(ss->s, str);
            ssh_string_free(str);
        }
    }
    store_snap_release(snap);
}

/* Keyboard-interactive: a "Password:" prompt, answered through the login list; a TACACS+
 * server that asks more after the password (a one-time password) has each prompt of its passed
 * on as one more INFO_REQUEST, echoed as the server says (GETDATA yes, GETPASS no), until it
 * decides. libssh hands both halves of the exchange here; the response carries no user name
 * (ssh_message_auth_user() is NULL on it), so the user of the request is kept. Returns 0 when
 * handled, 1 for libssh's default reply (failure with the list of methods). */
static int ssh_cb_message(ssh_session s, ssh_message msg, void *arg)
{
    struct ssh_sess *ss = arg;
    if (ssh_message_type(msg) == SSH_REQUEST_AUTH && !ss->authenticated)
        ssh_send_banner(ss);
    if (ssh_message_type(msg) == SSH_REQUEST_AUTH && ss->kill_msg[0])
        return 0;   /* no answer: the disconnect with the reason follows (ssh_kill) */
    if (ssh_message_type(msg) != SSH_REQUEST_AUTH ||
        ssh_message_subtype(msg) != SSH_AUTH_METHOD_INTERACTIVE || ss->authenticated)
        return 1;
    if (!ssh_message_auth_kbdint_is_response(msg)) {
        const char *user = ssh_message_auth_user(msg);
        if (!ssh_user_ok(user))
            return 1;
        snprintf(ss->kbd_user, sizeof(ss->kbd_user), "%s", user);
        aaa_conv_free(ss->kbd_conv);   /* a new request abandons a dialogue halfway */
        ss->kbd_conv = NULL;
        const char *prompts[] = {"Password: "};
        char echo[] = {0};
        if (ssh_message_auth_interactive_request(msg, "", "", 1, prompts, echo) != SSH_OK)
            return 1;
        return 0;
    }
    if (ss->kbd_user[0] == '\0')
        return 1;
    const char *answer = ssh_userauth_kbdint_getnanswers(s) == 1
                             ? ssh_userauth_kbdint_getanswer(s, 0) : NULL;
    struct scpd_err err = {0};
    struct aaa_req req = ssh_aaa_req(ss, ss->kbd_user);
    struct aaa_prompt p = {0};
    enum aaa_result res = aaa_login_kbdint(ss->c->d->aaa, &req, answer ? answer : "",
                                           &ss->kbd_conv, &p, &err);
    if (res == AAA_CONTINUE) {
        const char *prompts[] = {p.text};
        char echo[] = {p.echo};
        if (ssh_message_auth_interactive_request(msg, "", "", 1, prompts, echo) == SSH_OK)
            return 0;
        aaa_conv_free(ss->kbd_conv);
        ss->kbd_conv = NULL;
        res = AAA_ERROR;
        scpd_err_set(&err, SCPD_E_INTERNAL, "cannot send the server's prompt");
    }
    char user[sizeof(ss->kbd_user)];
    snprintf(user, sizeof(user), "%s", ss->kbd_user);
    ss->kbd_user[0] = '\0';
    if (ssh_auth_outcome(ss, user, res, &err) == SSH_AUTH_SUCCESS) {
        ssh_message_auth_reply_success(msg, 0);
        return 0;
    }
    return 1;
}

/* ---- channel callbacks ----------------------------------------------------------------------- */

static int ssh_cb_exec(ssh_session s, ssh_channel channel, const char *command, void *arg)
{
    struct ssh_chan *c = arg;
    if (c->req != SSH_REQ_NONE)
        return 1;   /* one request per channel (RFC 4254 6.5) */
    size_t n = strlen(command);
    c->too_long = n > LIM_SCP_COMMAND_LEN;
    if (!c->too_long)
        memcpy(c->cmd, command, n + 1);
    c->req = SSH_REQ_EXEC;
    ssh_wake_loop(c->ss);
    return 0;   /* accepted: the answer, even a refusal, goes over the channel */
}

static int ssh_cb_shell(ssh_session s, ssh_channel channel, void *arg)
{
    struct ssh_chan *c = arg;
    if (c->req != SSH_REQ_NONE)
        return 1;
    c->req = SSH_REQ_SHELL;
    ssh_wake_loop(c->ss);
    return 0;
}

static int ssh_cb_subsystem(ssh_session s, ssh_channel channel, const char *name, void *arg)
{
    struct ssh_chan *c = arg;
    if (c->req != SSH_REQ_NONE)
        return 1;
    snprintf(c->cmd, sizeof(c->cmd), "%s", name);
    c->req = SSH_REQ_SUBSYSTEM;
    ssh_wake_loop(c->ss);
    return 0;
}

/* A pty makes the CLI behave as on a terminal (echo, CRLF); no terminal device exists. */
static int ssh_cb_pty(ssh_session s, ssh_channel channel, const char *term, int width, int height,
                      int pxwidth, int pwheight, void *arg)
{
    struct ssh_chan *c = arg;
    c->pty = true;
    return 0;
}

/* The client closed a channel: a slot without a request is freed by the session thread. */
static void ssh_cb_close(ssh_session s, ssh_channel channel, void *arg)
{
    struct ssh_chan *c = arg;
    ssh_wake_loop(c->ss);
}

static ssh_channel ssh_cb_channel_open(ssh_session s, void *arg)
{
    struct ssh_sess *ss = arg;
    if (!ss->authenticated)
        return NULL;
    for (int i = 0; i < LIM_CHANNELS_PER_SESSION; i++) {
        struct ssh_chan *c = &ss->chans[i];
        if (c->ch != NULL)
            continue;
        c->ch = ssh_channel_new(s);
        if (c->ch == NULL)
            return NULL;
        c->ss = ss;
        c->req = SSH_REQ_NONE;
        c->served = false;
        c->too_long = false;
        c->idle_ends_at_stop = false;
        c->pty = false;
        c->told = false;
        c->cmd[0] = '\0';
        c->win_started = c->win_on = false;
        c->win_budget = 0;
        c->rx = NULL;
        c->rx_cap = c->rx_off = c->rx_len = 0;
        memset(&c->cb, 0, sizeof(c->cb));
        c->cb.userdata = c;
        c->cb.channel_exec_request_function = ssh_cb_exec;
        c->cb.channel_shell_request_function = ssh_cb_shell;
        c->cb.channel_subsystem_request_function = ssh_cb_subsystem;
        c->cb.channel_pty_request_function = ssh_cb_pty;
        c->cb.channel_close_function = ssh_cb_close;
        ssh_callbacks_init(&c->cb);
        ssh_set_channel_callbacks(c->ch, &c->cb);
        return c->ch;
    }
    struct log_ctx lc = ssh_lc(ss);
    log_notice(&lc, "ssh channel refused: limit of %d channels per session",
               LIM_CHANNELS_PER_SESSION);
    return NULL;
}

/* quiet: the session is about to disconnect with a reason; ssh_channel_free would send a
 * CHANNEL_CLOSE ahead of it, so the channel is left to ssh_free (which sends nothing). */
static void ssh_chan_release_as(struct ssh_chan *c, bool quiet)
{
    if (c->ch == NULL)
        return;
    /* libssh may keep the channel until the peer's CLOSE arrives: detach our callbacks first so a
     * late message never lands in a reused slot. */
    ssh_remove_channel_callbacks(c->ch, &c->cb);
    if (!quiet)
        ssh_channel_free(c->ch);
    c->ch = NULL;
    c->req = SSH_REQ_NONE;
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = c->rx_off = c->rx_len = 0;
    if (c->win_budget)
        ssh_win_budget_give(&c->ss->win_budget, ssh_srv_window_budget(c->ss->c->srv),
                            c->win_budget);
    c->win_budget = 0;
}

static void ssh_chan_release(struct ssh_chan *c)
{
    ssh_chan_release_as(c, false);
}

/* ---- waiting for input, shared by the session's threads -------------------------------------- */

/* Something that may wake a waiter happened (input processed, a channel done, a kill): called with
 * ss->mu held. Waiters on cv wake at once; the poller's poll() is interrupted through the pipe,
 * since a read or a flush of another thread may have taken the bytes it waits for. Nothing is
 * signalled when nobody waits (the common case of one transfer: no system call per packet). */
static void ssh_notify(struct ssh_sess *ss)
{
    if (ss->cv_waiters > 0)
        pthread_cond_broadcast(&ss->cv);
    if (ss->polling && !ss->wake_sent && ss->wake[1] >= 0) {
        ss->wake_sent = write(ss->wake[1], "", 1) == 1;
    }
}

static struct timespec ssh_slice_end(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)SSH_POLL_MS * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

/* Waits, ss->mu held once, for at most a slice until something may have changed. One waiter at a
 * time polls the socket (without the lock) and lets libssh process what came: callbacks, channel
 * data, window adjustments; the others wait for its broadcast. The session thread polls only
 * while no channel thread runs (ssh_loop_wait), so the data path stays on the channel's thread. */
static void ssh_wait_input(struct ssh_sess *ss)
{
    if (ss->polling) {
        struct timespec ts = ssh_slice_end();
        ss->cv_waiters++;
        pthread_cond_timedwait(&ss->cv, &ss->mu, &ts);
        ss->cv_waiters--;
        return;
    }
    ss->polling = true;
    struct pollfd pf[2] = {{.fd = ss->c->fd, .events = POLLIN},
                           {.fd = ss->wake[0], .events = POLLIN}};
    if (ssh_get_poll_flags(ss->s) & SSH_WRITE_PENDING)
        pf[0].events |= POLLOUT;
    pthread_mutex_unlock(&ss->mu);
    ssh_quickack(ss);
    poll(pf, 2, SSH_POLL_MS);
    pthread_mutex_lock(&ss->mu);
    if (ss->wake_sent) {
        char junk[8];
        ssize_t n = read(ss->wake[0], junk, sizeof(junk));
        (void)n;
        ss->wake_sent = false;
    }
    ss->polling = false;
    if (ssh_event_dopoll(ss->ev, 0) == SSH_ERROR)   /* also when the peer left */
        ssh_wake_loop(ss);
    if (ss->cv_waiters > 0)
        pthread_cond_broadcast(&ss->cv);
}

/* The session thread's wait (ss->mu held): with no channel thread running it polls the socket
 * itself; otherwise it sleeps until ssh_wake_loop or the end of a slice (deadlines, revocation,
 * stop are checked once per slice). */
static void ssh_loop_wait(struct ssh_sess *ss)
{
    if (ss->active == 0) {
        ss->loop_due = false;
        ssh_wait_input(ss);
        return;
    }
    if (!ss->loop_due) {
        struct timespec ts = ssh_slice_end();
        ss->loop_waiting = true;
        pthread_cond_timedwait(&ss->loop_cv, &ss->mu, &ts);
        ss->loop_waiting = false;
    }
    ss->loop_due = false;
}

/* ---- channel I/O for the protocols, on the channel's thread ---------------------------------- */

static bool ssh_io_give_up(struct ssh_chan *c, const char *what)
{
    struct ssh_sess *ss = c->ss;
    struct log_ctx lc = ssh_lc(ss);
    if (ss->ending || ss->kill_msg[0] || !ssh_is_connected(ss->s))
        return true;   /* the session is ending: ssh_loop says why */
    if (ss->revoke_msg[0] && clock_mono_ms() - ss->revoke_ms >= SSH_REVOKE_GRACE_MS)
        return true;   /* no operation came to refuse: ssh_chan_tell says why */
    if (ssh_srv_aborting(ss->c->srv)) {
        log_notice(&lc, "ssh %s aborted: daemon stopping", what);
        return true;
    }
    /* an SFTP client between requests is idle (transfers keep sending requests): at stop it goes
     * now, as idle sessions do, instead of holding the stop for the grace period */
    if (c->idle_ends_at_stop && ssh_srv_stopping(ss->c->srv)) {
        log_notice(&lc, "ssh %s: sftp session idle at stop, closing", what);
        return true;
    }
    int idle = c->req == SSH_REQ_SHELL ? c->idle_secs : LIM_SSH_IDLE_SECS;
    if (idle > 0 && clock_mono_ms() - ss->last_io_ms > (int64_t)idle * 1000) {
        log_notice(&lc, "ssh %s: idle for %d s%s, disconnecting", what, idle,
                   c->req == SSH_REQ_SHELL ? " (exec-timeout)" : "");
        return true;
    }
    char why[160];
    if (ssh_lifetime_over(ss, why, sizeof(why))) {
        log_notice(&lc, "ssh %s: %s", what, why);
        ssh_kill(ss, "%% %s", why);
        return true;
    }
    return false;
}

/* ---- receive window ---------------------------------------------------------------------------
 * libssh 0.10 has no call to set a channel's window. What its public API does: ssh_channel_read
 * with a count larger than the bytes it holds plus the window sends a WINDOW_ADJUST that makes
 * the window count minus those bytes (at least SSH_LIBSSH_WINDOW_BASE), and after a read it tops
 * the window up to SSH_LIBSSH_WINDOW_BASE when it fell below half of that. So a window of W needs
 * a read of count W into a buffer of W bytes (only the bytes actually returned are written, so the
 * untouched pages cost no memory). A "top-up read" does that once a quarter of the window has been
 * used (ssh_win_due); the reads in between go straight into the caller's buffer with counts far
 * below the window, which send nothing. ssh_window.c decides W from the channel's measured rate
 * and round trip; the budgets bound what all channels may hold unread. Without budget for the first
 * window a channel keeps libssh's own (1.28 MB). */

static void ssh_win_log(struct ssh_chan *c, const char *what)
{
    struct log_ctx lc = ssh_lc(c->ss);
    log_debug(&lc, "ssh window: channel %d %s at %.3f s: window %u bytes, received %llu, "
              "rate %llu KB/s, rtt %.1f ms, adjusts %u", (int)(c - c->ss->chans), what,
              (double)(clock_mono_us() - c->win.start_us) / 1e6, c->win.size,
              (unsigned long long)c->win.rcvd, (unsigned long long)(c->win.rate / 1000),
              (double)c->win.rtt_us / 1000.0, c->win.topups);
}

static void ssh_win_start(struct ssh_chan *c)
{
    struct ssh_sess *ss = c->ss;
    c->win_started = true;
    size_t got = ssh_win_budget_take(&ss->win_budget, ssh_srv_window_budget(ss->c->srv),
                                     SSH_WIN_INITIAL);
    if (got < SSH_WIN_INITIAL) {
        if (got)
            ssh_win_budget_give(&ss->win_budget, ssh_srv_window_budget(ss->c->srv), got);
        struct log_ctx lc = ssh_lc(ss);
        log_notice(&lc, "ssh window: budget exhausted (LIM_SSH_WINDOW_SESSION/TOTAL), channel "
                   "keeps the default window");
        return;
    }
    c->win_budget = got;
    c->win_on = true;
    ssh_win_init(&c->win, SSH_WIN_INITIAL, LIM_SSH_WINDOW_MAX, clock_mono_us());
}

/* The measurements ask for a window of `want`: as much of it as the budgets give. */
static void ssh_win_grow(struct ssh_chan *c, uint32_t want)
{
    struct ssh_sess *ss = c->ss;
    size_t got = ssh_win_budget_take(&ss->win_budget, ssh_srv_window_budget(ss->c->srv),
                                     want - c->win.size);
    if (got == 0)
        return;
    c->win_budget += got;
    ssh_win_set_size(&c->win, c->win.size + (uint32_t)got);
    ssh_win_log(c, "grows");
}

/* A read that asks for the whole window (the rx buffer is empty here). Returns what
 * ssh_channel_read_timeout returns; *count is the count it was given. */
static int ssh_win_topup_read(struct ssh_chan *c, uint32_t *count)
{
    if (c->rx_cap < c->win.size) {
        free(c->rx);
        c->rx_cap = 0;
        c->rx = malloc(c->win.size);
        if (c->rx == NULL)
            return SSH_ERROR;
        c->rx_cap = c->win.size;
    }
    int b = ssh_channel_poll(c->ch, 0);   /* what libssh holds; no system call when it holds some */
    if (b == SSH_ERROR)
        return SSH_ERROR;
    uint64_t held = b > 0 ? (uint64_t)b : 0;
    *count = c->win.size;
    uint64_t credit = held + SSH_LIBSSH_WINDOW_BASE > *count ? held + SSH_LIBSSH_WINDOW_BASE
                                                               : *count;
    ssh_win_topped_up(&c->win, credit, clock_mono_us());
    /* timeout 0: the window adjust goes out, nothing waits under the session lock */
    return ssh_channel_read_timeout(c->ch, c->rx, *count, 0, 0);
}

static size_t ssh_rx_take(struct ssh_chan *c, void *buf, size_t cap)
{
    size_t n = c->rx_len - c->rx_off < cap ? c->rx_len - c->rx_off : cap;
    memcpy(buf, c->rx + c->rx_off, n);
    c->rx_off += (uint32_t)n;
    if (c->rx_off == c->rx_len)
        c->rx_off = c->rx_len = 0;
    return n;
}

/* Reads what libssh has buffered for the channel; with nothing there, waits for input. ss->mu is
 * held only inside. */
static ssize_t ssh_io_read(void *ctx, void *buf, size_t cap)
{
    struct ssh_chan *c = ctx;
    struct ssh_sess *ss = c->ss;
    if (c->rx_len > c->rx_off)
        return (ssize_t)ssh_rx_take(c, buf, cap);
    uint32_t want = cap > SSH_READ_MAX ? SSH_READ_MAX : (uint32_t)cap;
    ssize_t r;
    int spins = 0;
    pthread_mutex_lock(&ss->mu);   /* also guards the session's window budget */
    if (!c->win_started)
        ssh_win_start(c);
    for (;;) {
        bool topup = c->win_on && ssh_win_due(&c->win);
        uint32_t count = want;
        int n = topup ? ssh_win_topup_read(c, &count)
                      : ssh_channel_read_nonblocking(c->ch, buf, want, 0);
        if (n > 0) {
            ssh_touch(ss);
            c->bytes_in += (uint64_t)n;
            if (c->win_on) {
                uint32_t w = ssh_win_received(&c->win, (uint32_t)n, (uint32_t)n < count,
                                              clock_mono_us());
                if (w > c->win.size)
                    ssh_win_grow(c, w);
            }
            if (topup) {
                c->rx_off = 0;
                c->rx_len = (uint32_t)n;
                n = (int)ssh_rx_take(c, buf, want);
            }
            r = n;
            break;
        }
        if (n == SSH_ERROR) {
            r = -1;
            break;
        }
        if (ssh_channel_is_eof(c->ch) || !ssh_channel_is_open(c->ch)) {
            r = 0;
            break;
        }
        /* The socket still held bytes (libssh takes 4 KiB per receive, a packet is up to 32 KiB):
         * go on reading without the poll and lock round of a wait, a bounded number of times. */
        if (spins < SSH_READ_SPINS && ssh_event_dopoll(ss->ev, 0) == SSH_OK) {
            spins++;
            continue;
        }
        if (ssh_io_give_up(c, "read")) {
            r = -1;
            break;
        }
        spins = 0;
        ssh_wait_input(ss);
    }
    ssh_notify(ss);
    pthread_mutex_unlock(&ss->mu);
    return r;
}

/* Writes within the peer's window only, so libssh never waits for a window adjustment with the
 * lock held; an empty window waits for input like a read. A write ends in libssh's flush, bounded
 * by SSH_OPTIONS_TIMEOUT (a stalled peer stalls its whole connection anyway: TCP is shared). */
static int ssh_io_write(void *ctx, const void *buf, size_t len)
{
    struct ssh_chan *c = ctx;
    struct ssh_sess *ss = c->ss;
    const char *p = buf;
    int r = 0;
    pthread_mutex_lock(&ss->mu);
    while (len > 0) {
        if (!ssh_channel_is_open(c->ch)) {
            r = -1;
            break;
        }
        uint32_t win = ssh_channel_window_size(c->ch);
        if (win > 0) {
            uint32_t chunk = len < win ? (uint32_t)len : win;
            ssh_quickack(ss);
            int n = ssh_channel_write(c->ch, p, chunk);
            if (n == SSH_ERROR) {
                r = -1;
                break;
            }
            if (n > 0) {
                ssh_touch(ss);
                c->bytes_out += (uint64_t)n;
                p += n;
                len -= (size_t)n;
                continue;
            }
        }
        if (ssh_io_give_up(c, "write")) {
            r = -1;
            break;
        }
        ssh_wait_input(ss);
    }
    ssh_notify(ss);
    pthread_mutex_unlock(&ss->mu);
    return r;
}

/* For the CLI: input waiting (or EOF) without reading it; the same give-up rules as a read. */
static int ssh_io_readable(void *ctx, int timeout_ms)
{
    struct ssh_chan *c = ctx;
    struct ssh_sess *ss = c->ss;
    int64_t until = clock_mono_ms() + timeout_ms;
    int r;
    pthread_mutex_lock(&ss->mu);
    for (;;) {
        int n = ssh_channel_poll(c->ch, 0);
        if (n > 0 || n == SSH_EOF || ssh_channel_is_eof(c->ch)) {
            r = 1;
            break;
        }
        if (n == SSH_ERROR || !ssh_channel_is_open(c->ch) || ssh_io_give_up(c, "poll")) {
            r = -1;
            break;
        }
        if (clock_mono_ms() >= until) {
            r = 0;
            break;
        }
        ssh_wait_input(ss);
    }
    ssh_notify(ss);
    pthread_mutex_unlock(&ss->mu);
    return r;
}

/* One wait of at most timeout_ms (NETCONF with a subscription): -2 when nothing came. */
static ssize_t ssh_io_read_wait(void *ctx, void *buf, size_t cap, int timeout_ms)
{
    int r = ssh_io_readable(ctx, timeout_ms);
    if (r < 0)
        return -1;
    return r == 0 ? -2 : ssh_io_read(ctx, buf, cap);
}

/* ---- serving a channel request --------------------------------------------------------------- */

static int ssh_io_write_err(void *ctx, const void *buf, size_t len)
{
    struct ssh_chan *c = ctx;
    struct ssh_sess *ss = c->ss;
    pthread_mutex_lock(&ss->mu);
    int r = ssh_channel_write_stderr(c->ch, buf, (uint32_t)len) == SSH_ERROR ? -1 : 0;
    ssh_notify(ss);
    pthread_mutex_unlock(&ss->mu);
    return r;
}

/* The session ends with a reason (ssh_kill, or a revocation): its SSH_MSG_DISCONNECT carries it;
 * ss->mu held. */
static bool ssh_ends_with_reason(const struct ssh_sess *ss)
{
    return ss->kill_msg[0] || ss->revoke_msg[0];
}

/* On the channel's thread, as everything below: libssh calls take ss->mu. When the session ends
 * with a reason the channel stays open (its exit status is sent): a client that saw the channel's
 * EOF or close first (paramiko's SFTP, a shell) would fail before the disconnect with the reason
 * arrives. */
static void ssh_chan_finish(struct ssh_chan *c, int status)
{
    struct ssh_sess *ss = c->ss;
    pthread_mutex_lock(&ss->mu);
    if (ssh_channel_is_open(c->ch)) {
        /* the exit status always (scp and paramiko's recv_exit_status read it); EOF and close
         * only when no disconnect with a reason follows */
        ssh_channel_request_send_exit_status(c->ch, status);
        if (!ssh_ends_with_reason(ss)) {
            ssh_channel_send_eof(c->ch);
            ssh_channel_close(c->ch);
        }
    }
    ss->last_io_ms = clock_mono_ms();
    ssh_notify(ss);
    pthread_mutex_unlock(&ss->mu);
}

/* One line on the channel's stderr (ssh, scp and sftp print it). */
static void ssh_stderr_line(struct ssh_chan *c, const char *msg)
{
    char line[640];
    int n = snprintf(line, sizeof(line), "%s\r\n", msg);
    if (n > 0)
        ssh_io_write_err(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* The protocol ended because the session ends with a reason (revoked account, lifetime, stop)
 * and did not tell the client itself: the reason goes on the channel, on the terminal for a shell
 * (paramiko and ssh show it before the close), on stderr for the others (OpenSSH scp, sftp and
 * ssh print it; the disconnect that follows carries it too). */
static void ssh_chan_tell(struct ssh_chan *c)
{
    struct ssh_sess *ss = c->ss;
    char line[320];
    pthread_mutex_lock(&ss->mu);
    int n = 0;
    if (!c->told && ssh_channel_is_open(c->ch) && ssh_is_connected(ss->s)) {
        if (ss->kill_msg[0])
            n = snprintf(line, sizeof(line), "\r\n%s\r\n", ss->kill_msg);
        else if (ss->revoke_msg[0])
            n = snprintf(line, sizeof(line), "\r\n%% %s\r\n", ss->revoke_msg);
    }
    if (n > 0) {
        uint32_t len = (size_t)n < sizeof(line) ? (uint32_t)n : (uint32_t)sizeof(line) - 1;
        c->told = true;
        if (c->req == SSH_REQ_SHELL)
            ssh_channel_write(c->ch, line, len);
        else
            ssh_channel_write_stderr(c->ch, line + 2, len - 2);
        ssh_notify(ss);
    }
    pthread_mutex_unlock(&ss->mu);
}

/* Not an SCP command: the reason on stderr (ssh and scp print it), exit status 1. */
static void ssh_refuse_other(struct ssh_chan *c, enum stats_counter ctr, const char *msg)
{
    struct ssh_sess *ss = c->ss;
    struct log_ctx lc = ssh_lc(ss);
    log_notice(&lc, "ssh request refused: %s", msg);
    ssh_refusal(ss, ctr, msg);
    ssh_stderr_line(c, msg);
    ssh_chan_finish(c, 1);
}

/* An SCP refusal: the error line scp prints, counted and traced. */
static void ssh_refuse_scp(struct ssh_chan *c, const struct chan_io *io, enum stats_counter ctr,
                           const char *msg)
{
    struct ssh_sess *ss = c->ss;
    struct log_ctx lc = ssh_lc(ss);
    struct trace *t = ss->c->d->trace;
    log_notice(&lc, "scp refused: %s", msg);
    ssh_refusal(ss, ctr, msg);
    if (t && trace_on(t))
        trace_emit(t, ss->c->sid, ss->c->peer, false, "refused: %s", msg);
    scp_send_refusal(io, msg);
    ssh_chan_finish(c, 1);
}

/* An SFTP refusal: SFTP has no message before its INIT exchange, so the reason goes to stderr
 * (sftp and scp print it), counted and traced as SCP refusals are, exit status 1. Then the
 * session ends too: libssh2 (curl sftp://) does not notice a closed channel while it waits for
 * the VERSION reply and would hang; a user refused the copy doors has nothing else here. */
static void ssh_refuse_sftp(struct ssh_chan *c, enum stats_counter ctr, const char *msg)
{
    struct ssh_sess *ss = c->ss;
    struct log_ctx lc = ssh_lc(ss);
    struct trace *t = ss->c->d->trace;
    char line[600];
    log_notice(&lc, "sftp refused: %s", msg);
    ssh_refusal(ss, ctr, msg);
    if (t && trace_on(t))
        trace_emit(t, ss->c->sid, ss->c->peer, false, "sftp refused: %s", msg);
    snprintf(line, sizeof(line), "scpd: %.500s", msg);
    ssh_stderr_line(c, line);
    c->told = true;
    /* the kill first: the channel stays open, the disconnect with the reason closes it
     * (paramiko's open_sftp would otherwise fail on the close, "EOF during negotiation") */
    pthread_mutex_lock(&ss->mu);
    ssh_kill(ss, "%% %.200s", msg);
    ssh_notify(ss);
    pthread_mutex_unlock(&ss->mu);
    ssh_chan_finish(c, 1);
}

/* The authorization of both copy doors (scp exec, sftp subsystem), in IOS order: ip scp server
 * enable, aaa authorization exec, privilege 15. 0 with *privilege, or -1 with the counter of the
 * refusal and its reason in msg. */
static int ssh_authorize_copy(struct ssh_chan *c, int *privilege, enum stats_counter *ctr,
                              char *msg, size_t cap)
{
    struct ssh_sess *ss = c->ss;
    struct scpd *d = ss->c->d;
    struct scpd_err err = {0};
    const struct store_snap *snap = store_snapshot(d->store);
    bool enabled = snap && snap->cfg->scp_enable;
    if (snap)
        store_snap_release(snap);
    if (!enabled) {
        *ctr = STATS_REFUSED_DISABLED;
        snprintf(msg, cap, "SCP server is disabled (ip scp server enable)");
        return -1;
    }
    struct aaa_req req = ssh_aaa_req(ss, ss->user);
    *privilege = 0;
    if (aaa_grant_take(d->aaa, d->store, &req, &c->grant, &err) != 0) {
        *ctr = STATS_REFUSED_NO_AUTHZ;
        snprintf(msg, cap, "%s", err.msg);
        return -1;
    }
    *privilege = c->grant.privilege;
    c->copy = true;
    c->authz = (struct chan_authz){.check = ssh_chan_recheck, .arg = c};
    if (*privilege < SSH_SCP_PRIVILEGE) {
        *ctr = STATS_REFUSED_PRIVILEGE;
        snprintf(msg, cap, "privilege level %d is below %d required for SCP", *privilege,
                 SSH_SCP_PRIVILEGE);
        return -1;
    }
    return 0;
}

/* The authorization of the EXEC doors (shell, a command other than scp): `aaa authorization
 * exec` alone, as for an IOS vty; ip scp server enable and privilege 15 are the copy doors'
 * conditions, and the CLI hides from lower levels what they may not run. 0 with *privilege, or
 * -1 with the reason in msg. */
static int ssh_authorize_cli(struct ssh_chan *c, int *privilege, char *msg, size_t cap)
{
    struct ssh_sess *ss = c->ss;
    struct scpd *d = ss->c->d;
    struct scpd_err err = {0};
    struct aaa_req req = ssh_aaa_req(ss, ss->user);
    *privilege = 0;
    if (aaa_grant_take(d->aaa, d->store, &req, &c->grant, &err) != 0) {
        snprintf(msg, cap, "scpd: EXEC refused: %s", err.msg);
        return -1;
    }
    *privilege = c->grant.privilege;
    c->copy = false;
    c->authz = (struct chan_authz){.check = ssh_chan_recheck, .arg = c};
    return 0;
}

/* aaa accounting commands 15: each level-15 CLI command of the session */
static void ssh_cli_command(void *arg, const char *line, int privilege)
{
    struct ssh_sess *ss = arg;
    struct aaa_req req = ssh_aaa_req(ss, ss->user);
    aaa_acct_command(ss->c->d->aaa, &req, privilege, line);
}

static struct cli_env ssh_cli_env(struct ssh_chan *c, int privilege)
{
    struct ssh_sess *ss = c->ss;
    struct scpd *d = ss->c->d;
    struct cli_env env = {.ifs = d->ifs, .store = d->store, .sid = ss->c->sid, .user = ss->user,
                          .peer = ss->c->peer, .privilege = privilege, .pty = c->pty,
                          .peer_addr = ss->c->peer_addr, .aaa = d->aaa, .ssh = d->ssh,
                          .data_dir = d->opts.data_dir,
                          .started_ms = d->stats ? stats_started_ms(d->stats) : 0,
                          .on_command = ssh_cli_command, .on_command_arg = ss,
                          .trace = d->trace, .stats = d->stats, .door = "ssh",
                          .sessions = d->sessions, .authz = &c->authz};
    return env;
}


/* The EXEC CLI: a shell request is an interactive session (idle at the prompt counts as idle
 * for the stop, as SFTP's); an exec request that is not scp runs c->cmd as one command, with its
 * output and exit status. */
/* The START accounting record of an authorized channel (aaa accounting exec). */
static void ssh_acct_start(struct ssh_chan *c, const char *protocol, int privilege)
{
    struct aaa_req req = ssh_aaa_req(c->ss, c->ss->user);
    aaa_acct_start(c->ss->c->d->aaa, &req, protocol, privilege, &c->acct);
}

static void ssh_serve_cli(struct ssh_chan *c, bool shell)
{
    struct ssh_sess *ss = c->ss;
    struct chan_io io = {.ctx = c, .read = ssh_io_read, .write = ssh_io_write,
                        .write_err = ssh_io_write_err, .readable = ssh_io_readable};
    char msg[600];
    int privilege = 0;
    if (ssh_authorize_cli(c, &privilege, msg, sizeof(msg)) < 0) {
        ssh_refuse_other(c, STATS_REFUSED_NO_AUTHZ, msg);
        return;
    }
    struct cli_env env = ssh_cli_env(c, privilege);
    ssh_acct_start(c, "shell", privilege);
    if (ss->c->d->client_key[0])
        env.client_key = ss->c->d->client_key;
    ssh_touch(ss);
    c->idle_ends_at_stop = shell;
    c->idle_secs = CFG_DEFAULT_EXEC_TIMEOUT;
    if (shell) {   /* line vty exec-timeout, as the session starts (0 0: never) */
        const struct store_snap *snap = store_snapshot(ss->c->d->store);
        c->idle_secs = snap ? snap->cfg->vty.exec_timeout : CFG_DEFAULT_EXEC_TIMEOUT;
        if (snap)
            store_snap_release(snap);
    }
    int status = shell ? cli_session_run(&env, &io) : cli_session_exec(&env, c->cmd, &io);
    ssh_chan_tell(c);
    ssh_chan_finish(c, status);
}

static void ssh_serve_sftp(struct ssh_chan *c)
{
    struct ssh_sess *ss = c->ss;
    struct scpd *d = ss->c->d;
    struct chan_io io = {.ctx = c, .read = ssh_io_read, .write = ssh_io_write,
                        .write_err = ssh_io_write_err};
    enum stats_counter ctr;
    int privilege = 0;
    char msg[600];
    if (ssh_authorize_copy(c, &privilege, &ctr, msg, sizeof(msg)) < 0) {
        ssh_refuse_sftp(c, ctr, msg);
        return;
    }
    struct chan_ctx ctx = {.ifs = d->ifs, .store = d->store, .stats = d->stats,
                                  .trace = d->trace, .sid = ss->c->sid, .user = ss->user,
                                  .peer = ss->c->peer, .privilege = privilege,
                                  .authz = &c->authz};
    ssh_acct_start(c, "sftp", privilege);
    ssh_touch(ss);
    c->idle_ends_at_stop = true;
    int status = sftp_session_run(&ctx, &io);
    ssh_chan_tell(c);
    ssh_chan_finish(c, status);
}

/* The "netconf" subsystem (RFC 6242): the user's privilege comes from exec authorization, as the
 * CLI's does; netconf_session checks it per operation (writes need 15). */
static void ssh_serve_netconf(struct ssh_chan *c)
{
    struct ssh_sess *ss = c->ss;
    struct scpd *d = ss->c->d;
    struct chan_io io = {.ctx = c, .read = ssh_io_read, .write = ssh_io_write,
                        .write_err = ssh_io_write_err, .read_wait = ssh_io_read_wait};
    char msg[600];
    int privilege = 0;
    if (ssh_authorize_cli(c, &privilege, msg, sizeof(msg)) < 0) {
        ssh_refuse_other(c, STATS_REFUSED_NO_AUTHZ, msg);
        return;
    }
    struct chan_ctx ctx = {.ifs = d->ifs, .store = d->store, .stats = d->stats,
                           .trace = d->trace, .sid = ss->c->sid, .user = ss->user,
                           .peer = ss->c->peer, .privilege = privilege,
                           .authz = &c->authz};
    ssh_touch(ss);
    c->idle_ends_at_stop = true;
    int status = netconf_session_run(&ctx, &io);
    ssh_chan_tell(c);
    if (ssh_channel_is_open(c->ch))
        ssh_chan_finish(c, status);
}

/* The first word of a command line. */
static bool ssh_is_scp_command(const char *cmd)
{
    cmd += strspn(cmd, " \t");
    return strncmp(cmd, "scp", 3) == 0 && (cmd[3] == ' ' || cmd[3] == '\t');
}

static void ssh_serve_exec(struct ssh_chan *c)
{
    struct ssh_sess *ss = c->ss;
    struct scpd *d = ss->c->d;
    struct chan_io io = {.ctx = c, .read = ssh_io_read, .write = ssh_io_write,
                        .write_err = ssh_io_write_err};
    struct scpd_err err = {0};
    char msg[600];

    if (c->too_long) {
        ssh_refuse_scp(c, &io, STATS_REFUSED_OTHER,
                       "command line too long (limit " LIM_STR(LIM_SCP_COMMAND_LEN) " bytes)");
        return;
    }
    if (!ssh_is_scp_command(c->cmd)) {
        ssh_serve_cli(c, false);
        return;
    }
    struct log_ctx lc = ssh_lc(ss);
    log_info(&lc, "ssh exec: %s", c->cmd);
    struct scp_cmd cmd;
    if (scp_cmd_parse(c->cmd, &cmd, &err) != 0) {
        ssh_refuse_scp(c, &io, STATS_REFUSED_OTHER, err.msg);
        return;
    }
    pthread_mutex_lock(&ss->mu);
    const char *banner = ssh_get_clientbanner(ss->s);   /* "SSH-2.0-OpenSSH_9.2p1 Debian..." */
    cmd.name_checked = banner && strncmp(banner, "SSH-2.0-OpenSSH_", 16) == 0;
    pthread_mutex_unlock(&ss->mu);
    enum stats_counter ctr;
    int privilege = 0;
    if (ssh_authorize_copy(c, &privilege, &ctr, msg, sizeof(msg)) < 0) {
        ssh_refuse_scp(c, &io, ctr, msg);
        return;
    }
    struct chan_ctx ctx = {.ifs = d->ifs, .store = d->store, .stats = d->stats,
                                  .trace = d->trace, .sid = ss->c->sid, .user = ss->user,
                                  .peer = ss->c->peer, .privilege = privilege,
                                  .authz = &c->authz};
    ssh_acct_start(c, "scp", privilege);
    ssh_touch(ss);
    int status = scp_session_run(&ctx, &cmd, &io);
    ssh_chan_tell(c);
    ssh_chan_finish(c, status);
}

static void ssh_serve(struct ssh_chan *c)
{
    struct ssh_sess *ss = c->ss;
    c->bytes_in = c->bytes_out = 0;
    c->acct.on = false;
    switch (c->req) {
    case SSH_REQ_EXEC:
        ssh_serve_exec(c);
        break;
    case SSH_REQ_SHELL:
        ssh_serve_cli(c, true);
        break;
    case SSH_REQ_SUBSYSTEM:
        if (strcmp(c->cmd, "sftp") == 0)
            ssh_serve_sftp(c);
        else if (strcmp(c->cmd, "netconf") == 0)
            ssh_serve_netconf(c);
        else
            ssh_refuse_other(c, STATS_REFUSED_OTHER, "scpd: unknown subsystem");
        break;
    case SSH_REQ_NONE:
        break;
    }
    /* after the channel's close: the client has its result before the record is sent */
    struct aaa_req req = ssh_aaa_req(ss, ss->user);
    aaa_acct_stop(ss->c->d->aaa, &req, &c->acct, c->bytes_in, c->bytes_out);
    ssh_touch(ss);
}

/* A channel's thread: serves its request, then hands the slot back to the session thread, which
 * joins it and releases the channel (ssh_join_finished). */
static void *ssh_chan_thread(void *arg)
{
    struct ssh_chan *c = arg;
    struct ssh_sess *ss = c->ss;
    ssh_serve(c);
    pthread_mutex_lock(&ss->mu);
    c->finished = true;
    ss->active--;
    ss->last_io_ms = clock_mono_ms();
    if (c->win_on)
        ssh_win_log(c, "ends");
    ssh_notify(ss);
    ssh_wake_loop(ss);
    pthread_mutex_unlock(&ss->mu);
    return NULL;
}

/* ---- the session ----------------------------------------------------------------------------- */

/* Key exchange, non-blocking, against the `ip ssh time-out` deadline and the stop flag. The wait
 * includes POLLOUT whenever libssh has output queued: clients such as PuTTY and libssh2 send
 * nothing before they have the server's banner. 0 or -1 (logged). */
static int ssh_kex(struct ssh_sess *ss)
{
    struct log_ctx lc = ssh_lc(ss);
    ssh_set_blocking(ss->s, 0);
    for (;;) {
        int rc = ssh_handle_key_exchange(ss->s);
        if (rc == SSH_OK)
            break;
        if (rc != SSH_AGAIN) {
            log_notice(&lc, "ssh key exchange failed: %s", ssh_get_error(ss->s));
            return -1;
        }
        int64_t left = ss->deadline_ms - clock_mono_ms();
        if (left <= 0) {
            log_notice(&lc, "ssh negotiation timed out (ip ssh time-out %d)", ss->timeout);
            return -1;
        }
        if (ssh_srv_stopping(ss->c->srv))
            return -1;
        struct pollfd pf = {.fd = ss->c->fd, .events = POLLIN};
        if (ssh_get_poll_flags(ss->s) & SSH_WRITE_PENDING)
            pf.events |= POLLOUT;
        ssh_quickack(ss);
        poll(&pf, 1, left < SSH_POLL_MS ? (int)left : SSH_POLL_MS);
    }
    ssh_set_blocking(ss->s, 1);
    return 0;
}

static struct ssh_chan *ssh_next_request(struct ssh_sess *ss)
{
    for (int i = 0; i < LIM_CHANNELS_PER_SESSION; i++) {
        struct ssh_chan *c = &ss->chans[i];
        if (c->ch && c->req != SSH_REQ_NONE && !c->served)
            return c;
    }
    return NULL;
}

/* Channels the client closed without a request free their slot (LIM_CHANNELS_PER_SESSION). */
static void ssh_release_closed(struct ssh_sess *ss)
{
    for (int i = 0; i < LIM_CHANNELS_PER_SESSION; i++) {
        struct ssh_chan *c = &ss->chans[i];
        if (c->ch && c->req == SSH_REQ_NONE && ssh_channel_is_closed(c->ch))
            ssh_chan_release(c);
    }
}

/* Starts a thread for the request of c (ss->mu held). A thread that cannot start refuses the
 * request with the reason. */
static void ssh_start_request(struct ssh_sess *ss, struct ssh_chan *c)
{
    pthread_attr_t attr;
    c->served = true;
    c->finished = false;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1u << 20);   /* I/O buffers are on the heap */
    int rc = pthread_create(&c->thread, &attr, ssh_chan_thread, c);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        ssh_refuse_other(c, STATS_REFUSED_OTHER, "scpd: cannot serve the request now "
                         "(out of threads); try again");
        ssh_chan_release(c);
        return;
    }
    c->started = true;
    ss->active++;
}

/* Joins the channel threads that are done and releases their channels (ss->mu held; the join is
 * made without it: the thread's last act is to take it). */
static void ssh_join_finished(struct ssh_sess *ss)
{
    for (int i = 0; i < LIM_CHANNELS_PER_SESSION; i++) {
        struct ssh_chan *c = &ss->chans[i];
        if (!c->started || !c->finished)
            continue;
        pthread_mutex_unlock(&ss->mu);
        pthread_join(c->thread, NULL);
        pthread_mutex_lock(&ss->mu);
        c->started = false;
        ssh_chan_release_as(c, ssh_ends_with_reason(ss));
    }
}

/* The reason to end the session now, into ss->kill_msg (ssh_kill), or false to go on. */
static bool ssh_should_end(struct ssh_sess *ss)
{
    int64_t now = clock_mono_ms();
    char why[200];
    if (ss->kill_msg[0])
        return true;
    if (ssh_get_status(ss->s) & (SSH_CLOSED | SSH_CLOSED_ERROR) || !ssh_is_connected(ss->s))
        return true;
    if (!ss->authenticated && now > ss->deadline_ms) {
        ssh_kill(ss, "%% Authentication timed out (ip ssh time-out %d)", ss->timeout);
        return true;
    }
    /* At stop, a session that has just finished a transfer gets a moment to close on its own (the
     * client is reading the exit status); idle ones go now. Running channels end by themselves
     * (ssh_io_give_up: at once when idle, at the end of the grace period when transferring). */
    if (ssh_srv_aborting(ss->c->srv) ||
        (ssh_srv_stopping(ss->c->srv) && ss->active == 0 &&
         !(ss->authenticated && now - ss->last_io_ms < SSH_LINGER_MS))) {
        ssh_kill(ss, "%% The device is shutting down");
        return true;
    }
    /* Channels running count their own idle time (ssh_io_give_up). */
    if (ss->authenticated && ss->active == 0 &&
        now - ss->last_io_ms > (int64_t)LIM_SSH_IDLE_SECS * 1000) {
        ssh_kill(ss, "%% Idle for %d seconds", LIM_SSH_IDLE_SECS);
        return true;
    }
    if (ss->authenticated && ssh_lifetime_over(ss, why, sizeof(why))) {
        ssh_kill(ss, "%% %s", why);
        return true;
    }
    if (ss->authenticated && !ss->revoke_msg[0] && ssh_sess_revoked(ss, why, sizeof(why))) {
        /* a channel request waiting is answered with the reason before the session ends */
        struct ssh_chan *c = ssh_next_request(ss);
        if (c != NULL) {
            c->served = true;
            ssh_refuse_other(c, STATS_REFUSED_NO_AUTHZ, why);
        }
        snprintf(ss->revoke_msg, sizeof(ss->revoke_msg), "%s", why);
        ss->revoke_ms = now;
        ssh_notify(ss);   /* channel threads waiting see it at their next give-up check */
    }
    /* running channels refuse their next operation themselves (SSH_REVOKE_GRACE_MS) */
    if (ss->revoke_msg[0] && (ss->active == 0 || now - ss->revoke_ms >= SSH_REVOKE_GRACE_MS)) {
        ssh_kill(ss, "%% %s", ss->revoke_msg);
        return true;
    }
    return false;
}

/* The event loop of phase 2 and 3, on the session thread. Channels: each request runs on a
 * thread of its own (ssh_chan_thread), up to LIM_CHANNELS_PER_SESSION at once, so an exec or a
 * second scp is served while an SFTP channel is open. libssh sessions are not thread-safe: every
 * libssh call on this session is made under ss->mu, the socket is polled by one thread at a time
 * (ssh_wait_input) and no thread waits inside libssh with the lock held, except a write's flush,
 * bounded by SSH_OPTIONS_TIMEOUT. While channels run, this thread only waits on ss->loop_cv (woken
 * by a request, a close, a channel done or a kill: ssh_wake_loop, never by data) and checks
 * the session's deadlines; a channel thread waiting for input polls for all. At the end the
 * channel threads are told (kill_msg, ssh_notify), end their protocol and are joined. */
static void ssh_loop(struct ssh_sess *ss)
{
    struct log_ctx lc = ssh_lc(ss);
    ss->ev = ssh_event_new();
    if (ss->ev == NULL || ssh_event_add_session(ss->ev, ss->s) != SSH_OK) {
        log_err(&lc, "ssh: cannot create the session event");
        return;
    }
    pthread_mutex_lock(&ss->mu);
    for (;;) {
        ssh_loop_wait(ss);
        ssh_join_finished(ss);
        if (ssh_should_end(ss))
            break;
        ssh_release_closed(ss);
        struct ssh_chan *c;
        while ((c = ssh_next_request(ss)) != NULL)
            ssh_start_request(ss, c);
    }
    if (ss->kill_msg[0])
        log_notice(&lc, "ssh disconnect: %s", ss->kill_msg + (ss->kill_msg[0] == '%' ? 2 : 0));
    ss->ending = true;
    /* the running channels end (ssh_io_give_up sees kill_msg or the closed connection) */
    while (ss->active > 0) {
        ssh_notify(ss);
        ssh_loop_wait(ss);
        ssh_join_finished(ss);
    }
    ssh_join_finished(ss);
    pthread_mutex_unlock(&ss->mu);
    ssh_event_remove_session(ss->ev, ss->s);
}

/* Sends the disconnect (with the reason, if any) and closes. libssh closes its descriptor right
 * after queueing SSH_MSG_DISCONNECT; with client data still unread a close is a TCP reset, and a
 * reset makes the client's kernel drop the disconnect message before the client reads it (the
 * user would see "Connection reset" instead of the reason). libssh works on a duplicate
 * (ssh_srv_new_session), so conn->fd keeps the socket open: half-close it, read what the client
 * still sends until it closes (bounded), then close. conn->fd is never a number libssh closed:
 * shutting down a reused number cut other clients' fresh connections before their banner. */
static void ssh_close_gracefully(struct ssh_sess *ss)
{
    struct ssh_conn *conn = ss->c;
    /* ssh_disconnect() sends SSH_MSG_DISCONNECT only if libssh's socket is marked writable, which
     * it is only after a poll reported POLLOUT with nothing left to send; otherwise the message is
     * queued and dropped by the close. Poll until that state is reached (bounded). */
    ssh_event ev = ss->kill_msg[0] ? ssh_event_new() : NULL;
    if (ev && ssh_event_add_session(ev, ss->s) == SSH_OK) {
        for (int i = 0; i < 20 && (ssh_get_poll_flags(ss->s) & SSH_WRITE_PENDING); i++)
            ssh_event_dopoll(ev, 50);
        ssh_event_remove_session(ev, ss->s);
    }
    if (ev)
        ssh_event_free(ev);
    aaa_conv_free(ss->kbd_conv);   /* a dialogue the client left halfway */
    ss->kbd_conv = NULL;
    int keep = conn->fd;
    ssh_disconnect(ss->s);   /* closes libssh's duplicate */
    ssh_free(ss->s);
    ss->s = NULL;
    shutdown(keep, SHUT_WR);
    int64_t end = clock_mono_ms() + SSH_LINGER_MS;
    char buf[4096];
    for (int64_t left; (left = end - clock_mono_ms()) > 0;) {
        struct pollfd pf = {.fd = keep, .events = POLLIN};
        if (poll(&pf, 1, (int)left) <= 0 || read(keep, buf, sizeof(buf)) <= 0)
            break;
    }
    ssh_srv_conn_closing(conn->srv, conn);   /* the stop's shutdown() no longer applies */
    close(keep);
}

static void ssh_sess_sync_init(struct ssh_sess *ss)
{
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&ss->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ss->cv, &ca);
    pthread_cond_init(&ss->loop_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pipe2(ss->wake, O_NONBLOCK | O_CLOEXEC) != 0)
        ss->wake[0] = ss->wake[1] = -1;   /* the poller then wakes at its slice's end */
}

static void ssh_sess_sync_free(struct ssh_sess *ss)
{
    pthread_mutex_destroy(&ss->mu);
    pthread_cond_destroy(&ss->cv);
    pthread_cond_destroy(&ss->loop_cv);
    if (ss->wake[0] >= 0) {
        close(ss->wake[0]);
        close(ss->wake[1]);
    }
}

void ssh_sess_main(struct ssh_conn *conn)
{
    struct ssh_sess *ss = calloc(1, sizeof(*ss));
    struct scpd *d = conn->d;
    struct log_ctx lc = {.sid = conn->sid, .peer = conn->peer};
    struct scpd_err err = {0};
    if (ss == NULL) {
        ssh_srv_conn_closing(conn->srv, conn);
        close(conn->fd);
        ssh_srv_conn_done(conn->srv, conn);
        return;
    }
    ss->c = conn;
    ss->sess_slot = -1;
    ssh_sess_sync_init(ss);
    ss->win_budget.cap = LIM_SSH_WINDOW_SESSION;
    ss->timeout = CFG_DEFAULT_SSH_TIMEOUT;
    ss->retries = CFG_DEFAULT_SSH_RETRIES;
    ss->lifetime = CFG_DEFAULT_SSH_LIFETIME;
    const struct store_snap *snap = d->store ? store_snapshot(d->store) : NULL;
    if (snap) {
        ss->timeout = snap->cfg->ssh_timeout;
        ss->retries = snap->cfg->ssh_retries;
        ss->lifetime = snap->cfg->ssh_lifetime;
        store_snap_release(snap);
    }
    ss->born_ms = clock_mono_ms();
    ss->deadline_ms = ss->born_ms + (int64_t)ss->timeout * 1000;
    ssh_touch(ss);
    log_info(&lc, "ssh connection");

    ss->s = ssh_srv_new_session(conn->srv, conn, &err);
    if (ss->s == NULL) {
        log_err(&lc, "%s", err.msg);
        ssh_srv_conn_closing(conn->srv, conn);
        close(conn->fd);
        goto out;
    }
    /* Before the key exchange: a client may send its first userauth request in the same flight
     * as NEWKEYS, and a message that arrives with no callback set is only queued. */
    ss->scb.userdata = ss;
    ss->scb.auth_password_function = ssh_cb_auth_password;
    ss->scb.auth_pubkey_function = ssh_cb_auth_pubkey;
    ss->scb.channel_open_request_session_function = ssh_cb_channel_open;
    ssh_callbacks_init(&ss->scb);
    ssh_set_server_callbacks(ss->s, &ss->scb);
    ssh_set_message_callback(ss->s, ssh_cb_message, ss);
    ssh_set_auth_methods(ss->s, SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_INTERACTIVE |
                                    SSH_AUTH_METHOD_PUBLICKEY);
    if (ssh_kex(ss) != 0)
        goto done;

    int secs = 0;
    struct aaa_req areq = ssh_aaa_req(ss, NULL);
    if (d->aaa && aaa_check_blocked(d->aaa, &areq, &secs)) {
        ssh_kill(ss, "%% Login refused: logins from %s are blocked for %d more seconds "
                 "(login block-for)", conn->peer_addr, secs);
        goto done;
    }
    /* Bounds a blocked write (peer not reading) to a slice, so idle and stop are noticed. */
    long slice = SSH_IO_SLICE_MS / 1000;
    ssh_options_set(ss->s, SSH_OPTIONS_TIMEOUT, &slice);
    ssh_loop(ss);

done:
    sessions_del(d->sessions, ss->sess_slot);
    ss->sess_slot = -1;
    if (ss->kill_msg[0])
        ssh_session_set_disconnect_message(ss->s, ss->kill_msg);
    for (int i = 0; i < LIM_CHANNELS_PER_SESSION; i++)
        ssh_chan_release_as(&ss->chans[i], ss->kill_msg[0] != '\0');
    if (ss->ev)
        ssh_event_free(ss->ev);
    ssh_close_gracefully(ss);
    lc.user = ss->user[0] ? ss->user : NULL;
    log_info(&lc, "ssh connection closed");
out:
    ssh_sess_sync_free(ss);
    free(ss);
    ssh_srv_conn_done(conn->srv, conn);
}
