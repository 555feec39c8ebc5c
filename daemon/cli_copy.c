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
