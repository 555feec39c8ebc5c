/* cli_copy: the EXEC `copy SRC DST` (IOS's copy command) over every pair of places of the IOS
 * File System: files of bootflash:/flash:/nvram:, running-config, startup-config. The copy itself
 * is services/copy.c (the same engine as the API's Cisco-IOS-XE-rpc:copy); this file is IOS's
 * dialogue around it:
 *
 *   R1#copy bootflash:a.bin bootflash:b.bin
 *   Destination filename [b.bin]?
 *   %Warning:There is a file already existing with this name
 *   Do you want to over write? [confirm]
 *   Copy in progress...C
 *   2000 bytes copied in 0.012 secs (166666 bytes/sec)
 *
 * `file prompt quiet` skips both questions (and an exec request takes the defaults). The copy
 * runs as a CLI operation, a slice per cli_poll, so a Ctrl-C or a closed channel cancels it and
 * the target is left as it was (an atomic upload that is never committed). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "daemon/cli_int.h"
#include "ifs/ifs.h"
#include "services/copy.h"
#include "store/cfg.h"
#include "store/store.h"

#define CLI_COPY_SLICE (1u << 20)   /* bytes per cli_poll: a Ctrl-C is seen within one slice */
#define CLI_COPY_MARK (4u << 20)    /* one 'C' of progress per this many bytes */
#define CLI_COPY_MARKS_LINE 70      /* progress marks per line */

struct cli_copy {
    struct copy_plan plan;
    struct copy_job *job;
    struct timespec t0;
    uint64_t marked;        /* bytes the 'C' marks shown stand for */
    unsigned marks;
};

bool cli_prompt_quiet(struct cli *c)
{
    const struct store_snap *snap = c->env.store ? store_snapshot(c->env.store) : NULL;
    bool quiet = snap && snap->cfg->file_prompt_quiet;
    if (snap)
        store_snap_release(snap);
    return quiet;
}

/* IOS takes unique abbreviations of its keyword sources: `copy run start`. */
static const char *expand(const char *w)
{
    static const char *const kw[] = {"running-config", "startup-config"};
    size_t n = strlen(w);
    for (size_t i = 0; i < 2 && n >= 3; i++)
        if (n <= strlen(kw[i]) && strncasecmp(w, kw[i], n) == 0)
            return kw[i];
    return w;
}

static void copy_drop(void *arg)
{
    struct cli_copy *cp = arg;
    copy_free(cp->job);
    free(cp);
}

static int copy_step_op(struct cli *c, void *arg);
static void copy_cancel_op(struct cli *c, void *arg);

/* Both questions answered (or not asked): the copy starts. */
static int copy_go(struct cli *c, struct cli_copy *cp)
{
    struct scpd_err err = {0};
    struct store_who who = {.user = c->env.user, .source = "cli", .peer = c->env.peer};
    cp->job = copy_start(c->env.ifs, c->env.store, &cp->plan, &who, &err);
    if (!cp->job) {
        log_notice(&c->lc, "cli: copy %s to %s refused: %s", cp->plan.src.name,
                   cp->plan.dst.name, err.msg);
        copy_drop(cp);
        return cli_out_err(c, &err);
    }
    clock_gettime(CLOCK_MONOTONIC, &cp->t0);
    if (cp->plan.save)
        cli_out_str(c, "Building configuration...\n");
    else if (cp->plan.dst.kind == IFS_K_DISK)
        cli_out_str(c, "Copy in progress...");
    cli_run_op(c, copy_step_op, copy_cancel_op, cp);
    return 0;
}

static int copy_step_op(struct cli *c, void *arg)
{
    struct cli_copy *cp = arg;
    struct scpd_err err = {0};
    int rc = copy_step(cp->job, CLI_COPY_SLICE, &err);
    bool disk = cp->plan.dst.kind == IFS_K_DISK && !cp->plan.save;
    uint64_t done = copy_bytes(cp->job);
    while (disk && (done - cp->marked >= CLI_COPY_MARK || (rc == 0 && cp->marks == 0))) {
        cli_out_str(c, cp->marks > 0 && cp->marks % CLI_COPY_MARKS_LINE == 0 ? "\nC" : "C");
        cp->marks++;
        cp->marked += done - cp->marked >= CLI_COPY_MARK ? CLI_COPY_MARK : done - cp->marked;
    }
    if (rc == COPY_MORE)
        return CLI_OP_MORE;
    if (disk)
        cli_out_str(c, "\n");
    if (rc < 0) {
        log_notice(&c->lc, "cli: copy %s to %s failed: %s", cp->plan.src.name, cp->plan.dst.name,
                   err.msg);
        cli_out_err(c, &err);
        if (copy_detail(cp->job))
            cli_out_str(c, copy_detail(cp->job));
        copy_drop(cp);
        return 1;
    }
    if (cp->plan.save) {
        cli_out_str(c, "[OK]\n");
    } else {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - cp->t0.tv_sec) + (t1.tv_nsec - cp->t0.tv_nsec) / 1e9;
        if (secs < 0.001)
            secs = 0.001;   /* IOS never shows 0 secs either */
        cli_out_fmt(c, "%" PRIu64 " bytes copied in %.3f secs (%" PRIu64 " bytes/sec)\n", done,
                    secs, (uint64_t)((double)done / secs));
    }
    log_info(&c->lc, "cli: copied %s to %s (%" PRIu64 " bytes)", cp->plan.src.name,
             cp->plan.dst.name, done);
    copy_drop(cp);
    return 0;
}

static void copy_cancel_op(struct cli *c, void *arg)
{
    struct cli_copy *cp = arg;
    log_notice(&c->lc, "cli: copy %s to %s interrupted", cp->plan.src.name, cp->plan.dst.name);
    cli_out_fmt(c, "\n%%Error copying %s (Interrupted): %s is unchanged\n", cp->plan.src.name,
                cp->plan.dst.name);
    copy_drop(cp);
}

static int answer_overwrite(struct cli *c, void *arg, const char *a)
{
    struct cli_copy *cp = arg;
    if (!cli_confirmed(a)) {
        cli_out_str(c, "%Copy aborted: the file was not overwritten\n");
        copy_drop(cp);
        return 1;
    }
    return copy_go(c, cp);
}

/* After the destination is settled: IOS's overwrite question for an existing file. */
static int ask_overwrite(struct cli *c, struct cli_copy *cp)
{
    if (cp->plan.dst_exists && cp->plan.dst.kind == IFS_K_DISK && !cli_prompt_quiet(c)) {
        cli_ask(c, "%Warning:There is a file already existing with this name\n"
                   "Do you want to over write? [confirm]", false, answer_overwrite, cp,
                copy_drop);
        return 0;
    }
    return copy_go(c, cp);
}

/* "Destination filename [b.bin]? c.bin": another name in the destination's directory (or any
 * IFS path, when it names its file system). */
static int answer_dest(struct cli *c, void *arg, const char *a)
{
    struct cli_copy *cp = arg;
    struct scpd_err err = {0};
    char path[LIM_PATH_LEN + 64];
    if (cli_answer_path(cp->plan.dst.name, a, path, sizeof(path)) < 0 ||
        copy_plan_retarget(c->env.ifs, &cp->plan, path, &err) < 0) {
        copy_drop(cp);
        if (!err.msg[0])
            scpd_err_set(&err, SCPD_E_LIMIT, "%%Error: name too long");
        return cli_out_err(c, &err);
    }
    return ask_overwrite(c, cp);
}

/* ---- copies to and from remote hosts (copy scp://... FS:PATH, copy FS:PATH sftp://...) --------
 * IOS asks for what the URL lacks, in its order: "Address or name of remote host []?",
 * "Source username []?" (or "Destination username"), "Source filename []?" (or "Destination
 * filename"), for a pull the local "Destination filename [x]?" and the overwrite [confirm], and
 * "Password: " (not echoed; never logged or stored; wiped after use). Then the copy runs as an
 * operation with IOS's '!' progress marks. */

struct cli_rcopy {
    struct copy_url url;
    bool pull;
    bool named;           /* the local name is settled (asked, or quiet) */
    bool asked_local;     /* ... and the overwrite confirmed */
    bool pw_asked;        /* "Password: " answered (an empty answer: the device's key only) */
    char local[LIM_PATH_LEN + 64];
    char password[LIM_PASSWORD_LEN + 1];
    struct copy_job *job;
    struct timespec t0;
    uint64_t marked;
    unsigned marks;
};

static void rcopy_drop(void *arg)
{
    struct cli_rcopy *rc = arg;
    copy_free(rc->job);
    explicit_bzero(rc, sizeof(*rc));
    free(rc);
}

static int rcopy_next(struct cli *c, struct cli_rcopy *rc);

static int rcopy_step_op(struct cli *c, void *arg)
{
    struct cli_rcopy *rc = arg;
    struct scpd_err err = {0};
    int r = copy_step(rc->job, CLI_COPY_SLICE, &err);
    uint64_t done = copy_bytes(rc->job);
    while (done - rc->marked >= CLI_COPY_MARK || (r == 0 && rc->marks == 0)) {
        cli_out_str(c, rc->marks > 0 && rc->marks % CLI_COPY_MARKS_LINE == 0 ? "\n!" : "!");
        rc->marks++;
        rc->marked += done - rc->marked >= CLI_COPY_MARK ? CLI_COPY_MARK : done - rc->marked;
    }
    if (r == COPY_MORE)
        return CLI_OP_MORE;
    cli_out_str(c, "\n");
    if (r < 0) {
        cli_out_err(c, &err);
        if (copy_detail(rc->job))
            cli_out_str(c, copy_detail(rc->job));
        rcopy_drop(rc);
        return 1;
    }
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - rc->t0.tv_sec) + (t1.tv_nsec - rc->t0.tv_nsec) / 1e9;
    if (secs < 0.001)
        secs = 0.001;
    cli_out_fmt(c, "%" PRIu64 " bytes copied in %.3f secs (%" PRIu64 " bytes/sec)\n", done, secs,
                (uint64_t)((double)done / secs));
    log_info(&c->lc, "cli: copied %" PRIu64 " bytes %s %s", done, rc->pull ? "into" : "from",
             rc->local);
    rcopy_drop(rc);
    return 0;
}

static void rcopy_cancel_op(struct cli *c, void *arg)
{
    struct cli_rcopy *rc = arg;
    log_notice(&c->lc, "cli: copy %s %s interrupted", rc->pull ? "into" : "from", rc->local);
    cli_out_fmt(c, "\n%%Error copying (Interrupted)%s\n",
                rc->pull ? ": nothing was written on this device" : "");
    rcopy_drop(rc);
}

static int rcopy_go(struct cli *c, struct cli_rcopy *rc)
{
    struct scpd_err err = {0};
    struct ifs_path local;
    if (ifs_resolve(rc->local, &local, &err) < 0) {
        rcopy_drop(rc);
        return cli_out_err(c, &err);
    }
    struct copy_ctx ctx = {.ifs = c->env.ifs, .store = c->env.store, .stats = c->env.stats,
                           .trace = c->env.trace, .sid = c->env.sid, .user = c->env.user,
                           .peer = c->env.peer, .source = "cli", .client_key = c->env.client_key};
    char shown[LIM_URL_LEN + 16];
    copy_url_format(&rc->url, shown, sizeof(shown));
    cli_out_fmt(c, "%s %s\n", rc->pull ? "Accessing" : "Writing", shown);
    rc->job = copy_start_remote(&ctx, &rc->url, rc->url.has_password ? rc->url.password
                                                                      : rc->password,
                                rc->pull, &local, &err);
    explicit_bzero(rc->password, sizeof(rc->password));
    explicit_bzero(rc->url.password, sizeof(rc->url.password));
    if (!rc->job) {
        rcopy_drop(rc);
        return cli_out_err(c, &err);
    }
    clock_gettime(CLOCK_MONOTONIC, &rc->t0);
    cli_run_op(c, rcopy_step_op, rcopy_cancel_op, rc);
    return 0;
}

static int rcopy_trimmed(const char *a, char *out, size_t cap)
{
    while (*a == ' ')
        a++;
    size_t n = strlen(a);
    while (n > 0 && a[n - 1] == ' ')
        n--;
    if (n >= cap)
        return -1;
    memcpy(out, a, n);
    out[n] = '\0';
    return (int)n;
}

static int rcopy_host(struct cli *c, void *arg, const char *a)
{
    struct cli_rcopy *rc = arg;
    struct scpd_err err = {0};
    if (rcopy_trimmed(a, rc->url.host, sizeof(rc->url.host)) <= 0 ||
        copy_url_host_ok(rc->url.host, &err) < 0) {
        rcopy_drop(rc);
        if (!err.msg[0])
            scpd_err_set(&err, SCPD_E_INVALID, "%%Error: no remote host given");
        return cli_out_err(c, &err);
    }
    return rcopy_next(c, rc);
}

static int rcopy_user(struct cli *c, void *arg, const char *a)
{
    struct cli_rcopy *rc = arg;
    int n = rcopy_trimmed(a, rc->url.user, sizeof(rc->url.user));
    if (n <= 0 || strpbrk(rc->url.user, "/:@ ")) {
        rcopy_drop(rc);
        cli_out_str(c, n == 0 ? "%Error: no remote user name given\n"
                              : "%Error: invalid remote user name\n");
        return 1;
    }
    return rcopy_next(c, rc);
}

static int rcopy_path(struct cli *c, void *arg, const char *a)
{
    struct cli_rcopy *rc = arg;
    char given[LIM_PATH_LEN];
    int n = rcopy_trimmed(a, given, sizeof(given));
    if (n == 0 && !rc->pull)   /* the push default: the local file's name */
        n = snprintf(given, sizeof(given), "%s", strrchr(rc->local, ':') + 1);
    if (n <= 0 || strstr(given, "..")) {
        rcopy_drop(rc);
        cli_out_str(c, n == 0 ? "%Error: no remote file name given\n"
                              : "%Error: '..' is not allowed in a remote path\n");
        return 1;
    }
    snprintf(rc->url.path, sizeof(rc->url.path), "%s", given);
    return rcopy_next(c, rc);
}

static int rcopy_local(struct cli *c, void *arg, const char *a)
{
    struct cli_rcopy *rc = arg;
    char path[LIM_PATH_LEN + 64];
    if (cli_answer_path(rc->local, a, path, sizeof(path)) < 0) {
        rcopy_drop(rc);
        cli_out_str(c, "%Error: name too long\n");
        return 1;
    }
    snprintf(rc->local, sizeof(rc->local), "%s", path);
    return rcopy_next(c, rc);
}

static int rcopy_confirm(struct cli *c, void *arg, const char *a)
{
    struct cli_rcopy *rc = arg;
    if (!cli_confirmed(a)) {
        cli_out_str(c, "%Copy aborted: the file was not overwritten\n");
        rcopy_drop(rc);
        return 1;
    }
    rc->asked_local = true;
    return rcopy_next(c, rc);
}

static int rcopy_password(struct cli *c, void *arg, const char *a)
{
    struct cli_rcopy *rc = arg;
    snprintf(rc->password, sizeof(rc->password), "%s", a);
    rc->pw_asked = true;
    return rcopy_go(c, rc);
}

/* The local end of a pull: a directory (or a file system's root) takes the remote file's name. */
static void rcopy_local_name(struct cli *c, struct cli_rcopy *rc)
{
    struct ifs_path p, in;
    struct ifs_stat st;
    struct scpd_err err = {0};
    const char *slash = strrchr(rc->url.path, '/');
    const char *base = slash ? slash + 1 : rc->url.path;
    if (!*base || ifs_resolve(rc->local, &p, &err) < 0 || ifs_stat(c->env.ifs, &p, &st, &err) < 0 ||
        !st.dir || ifs_child(&p, base, &in, &err) < 0)
        return;
    snprintf(rc->local, sizeof(rc->local), "%s", in.name);
}

/* Asks the next missing piece, or starts the copy. */
static int rcopy_next(struct cli *c, struct cli_rcopy *rc)
{
    bool quiet = cli_prompt_quiet(c);
    char q[LIM_PATH_LEN + 96];
    if (!rc->url.host[0]) {
        cli_ask(c, "Address or name of remote host []? ", false, rcopy_host, rc, rcopy_drop);
        return 0;
    }
    if (!rc->url.user[0]) {
        cli_ask(c, rc->pull ? "Source username []? " : "Destination username []? ", false,
                rcopy_user, rc, rcopy_drop);
        return 0;
    }
    if (!rc->url.path[0]) {
        snprintf(q, sizeof(q), rc->pull ? "Source filename []? " : "Destination filename [%s]? ",
                 strrchr(rc->local, ':') + 1);
        cli_ask(c, q, false, rcopy_path, rc, rcopy_drop);
        return 0;
    }
    if (rc->pull && !rc->asked_local) {
        struct ifs_path p;
        struct ifs_stat st;
        struct scpd_err err = {0};
        if (!rc->named) {
            rcopy_local_name(c, rc);
            rc->named = true;
            if (!quiet) {
                snprintf(q, sizeof(q), "Destination filename [%s]? ",
                         strrchr(rc->local, ':') + 1);
                cli_ask(c, q, false, rcopy_local, rc, rcopy_drop);
                return 0;
            }
        }
        if (!quiet && ifs_resolve(rc->local, &p, &err) == 0 &&
            ifs_stat(c->env.ifs, &p, &st, &err) == 0 && !st.dir) {
            cli_ask(c, "%Warning:There is a file already existing with this name\n"
                       "Do you want to over write? [confirm]", false, rcopy_confirm, rc,
                    rcopy_drop);
            return 0;
        }
        rc->asked_local = true;
    }
    if (!rc->url.has_password && !rc->pw_asked) {
        cli_ask(c, "Password: ", true, rcopy_password, rc, rcopy_drop);
        return 0;
    }
    return rcopy_go(c, rc);
}

static int copy_remote_cmd(struct cli *c, const char *src, const char *dst)
{
    struct scpd_err err = {0};
    bool pull = copy_is_url(src);
    if (pull && copy_is_url(dst)) {
        cli_out_str(c, "%Error: one end of a copy must be on this device\n");
        return 1;
    }
    struct cli_rcopy *rc = calloc(1, sizeof(*rc));
    if (!rc) {
        cli_out_str(c, "%Error copying: out of memory\n");
        return 1;
    }
    rc->pull = pull;
    const char *u = pull ? src : dst, *l = pull ? dst : src;
    struct ifs_path local;
    if (copy_url_parse(u, strlen(u), &rc->url, &err) < 0 || ifs_resolve(l, &local, &err) < 0) {
        rcopy_drop(rc);
        return cli_out_err(c, &err);
    }
    if (local.kind != IFS_K_DISK) {
        rcopy_drop(rc);
        cli_out_str(c, "%Error: copies to and from remote hosts take files of bootflash:, flash: "
                       "or nvram: (copy running-config to a file first)\n");
        return 1;
    }
    snprintf(rc->local, sizeof(rc->local), "%s", local.name);
    return rcopy_next(c, rc);
}

int cli_cmd_copy(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    char buf[LIM_CLI_LINE_LEN + 1], *w[3];
    struct scpd_err err = {0};
    snprintf(buf, sizeof(buf), "%s", arg ? arg : "");
    size_t n = cli_split(buf, w, 3);
    if (n < 2) {
        cli_out_str(c, "% Incomplete command.\n\n");
        return 1;
    }
    if (n > 2) {
        cli_out_str(c, "% Too many arguments: copy SOURCE DESTINATION\n");
        return 1;
    }
    if (!c->env.ifs) {
        cli_out_str(c, "%Error: no file system on this device\n");
        return 1;
    }
    if (copy_is_url(w[0]) || copy_is_url(w[1]))
        return copy_remote_cmd(c, w[0], w[1]);
    struct cli_copy *cp = calloc(1, sizeof(*cp));
    if (!cp) {
        cli_out_str(c, "%Error copying: out of memory\n");
        return 1;
    }
    if (copy_plan(c->env.ifs, expand(w[0]), expand(w[1]), &cp->plan, &err) < 0) {
        free(cp);
        return cli_out_err(c, &err);
    }
    if (cli_prompt_quiet(c))
        return ask_overwrite(c, cp);
    char q[LIM_PATH_LEN + 64];
    snprintf(q, sizeof(q), "Destination filename [%s]? ", ifs_basename(&cp->plan.dst));
    cli_ask(c, q, false, answer_dest, cp, copy_drop);
    return 0;
}
