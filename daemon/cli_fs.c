/* cli_fs: the EXEC command line's file commands: `dir [/recursive]`, `verify /md5|/sha512`,
 * `delete [/force] [/recursive]`, `mkdir`, `rmdir`, `rename`, `more [/binary]`, `show file
 * systems`, `show file information`, `show running-config [all]`, `show startup-config`. Every
 * path goes through ifs_resolve() and the ifs calls (the checks every door gets), every config
 * read through the running-config/startup-config virtual files (the same text an scp gets).
 * IOS's questions ("Delete filename [x]?", "[confirm]") go through cli_ask and are skipped by
 * `file prompt quiet` and /force. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "daemon/cli_int.h"
#include "ifs/ifs.h"
#include "store/cfg.h"
#include "store/store.h"

#define CLI_HASH_BUF (64u << 10)  /* verify /md5 reads the file in blocks of this size */
#define CLI_DOT_BYTES (1u << 20)  /* verify /md5 prints one progress dot per MiB, as IOS does */
#define CLI_DOTS_MAX 70           /* ... on one line at most */
#define CLI_MORE_SLICE (64u << 10) /* more: bytes shown per cli_poll (then flushed) */

/* The IOS form of a resolved path: "bootflash:/dir/file", "nvram:/startup-config". */
static void display_name(struct cli *c, const struct ifs_path *p, char *buf, size_t cap)
{
    struct ifs_fs_info in;
    struct scpd_err e = {0};
    const char *fsname = ifs_describe(c->env.ifs, p->fs, &in, &e) == 0 ? in.name : "";
    snprintf(buf, cap, "%s:/%s", fsname, p->kind == IFS_K_DISK ? p->rel : p->name);
}

static int need_ifs(struct cli *c)
{
    if (c->env.ifs)
        return 0;
    cli_out_str(c, "%Error: no file system on this device\n");
    return 1;
}

static void dir_entry(struct cli *c, size_t index, const char *name, const struct ifs_stat *st)
{
    char when[64] = "";
    struct tm tm;
    time_t t = (time_t)st->mtime;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%b %d %Y %H:%M:%S +00:00", &tm);
    char perm[5] = {st->dir ? 'd' : '-', st->mode & 0400 ? 'r' : '-', st->mode & 0200 ? 'w' : '-',
                    st->mode & 0100 ? 'x' : '-', '\0'};
    cli_out_fmt(c, "%6zu  %s  %12" PRIu64 "  %s  %s\n", index, perm, st->size, when, name);
}

/* `dir [FS:][/path]`, IOS XE's format:
 *   Directory of bootflash:/
 *
 *        1  -rw-          2000  Nov 26 2026 07:30:00 +00:00  image.bin
 *
 *   8000000 bytes total (7998000 bytes free)
 * The first column is the entry's index (classic IOS flash numbers its files; IOS XE shows the
 * inode, which ifs does not expose). A file argument lists that one file. */
/* One directory's listing; with recursive, then each subdirectory's (depth bounded as SCP's). */
static int dir_list(struct cli *c, const struct ifs_path *p, bool recursive, int depth)
{
    struct scpd_err err = {0};
    struct ifs_dirent *ents = NULL;
    size_t n = 0;
    char shown[LIM_PATH_LEN + 64];
    display_name(c, p, shown, sizeof(shown));
    cli_out_fmt(c, "%sDirectory of %s\n\n", depth ? "\n" : "", shown);
    if (ifs_list(c->env.ifs, p, &ents, &n, &err) < 0)
        return cli_out_err(c, &err);
    for (size_t i = 0; i < n; i++)
        dir_entry(c, i + 1, ents[i].name, &ents[i].st);
    if (n == 0)
        cli_out_str(c, "No files in directory\n");
    for (size_t i = 0; recursive && i < n; i++) {
        struct ifs_path sub;
        if (!ents[i].st.dir)
            continue;
        if (depth + 1 >= LIM_SCP_DEPTH) {
            cli_out_fmt(c, "%%Error: %s: deeper than %d levels, not listed\n", ents[i].name,
                        LIM_SCP_DEPTH);
            continue;
        }
        if (ifs_child(p, ents[i].name, &sub, &err) < 0 ||
            dir_list(c, &sub, true, depth + 1) != 0) {
            free(ents);
            return 1;
        }
    }
    free(ents);
    return 0;
}

/* `dir [/recursive] [FS:][/path]`, IOS XE's format:
 *   Directory of bootflash:/
 *
 *        1  -rw-          2000  Nov 26 2026 07:30:00 +00:00  image.bin
 *
 *   8000000 bytes total (7998000 bytes free)
 * The first column is the entry's index (classic IOS flash numbers its files; IOS XE shows the
 * inode, which ifs does not expose). A file argument lists that one file. */
static int dir_cmd(struct cli *c, const char *arg, bool recursive)
{
    struct scpd_err err = {0};
    struct ifs_path p;
    struct ifs_stat st;
    char shown[LIM_PATH_LEN + 64];
    if (need_ifs(c))
        return 1;
    if (ifs_resolve(arg ? arg : "bootflash:", &p, &err) < 0 || ifs_stat(c->env.ifs, &p, &st,
                                                                        &err) < 0)
        return cli_out_err(c, &err);
    if (st.dir) {
        if (dir_list(c, &p, recursive, 0) != 0)
            return 1;
    } else {
        display_name(c, &p, shown, sizeof(shown));
        cli_out_fmt(c, "Directory of %s\n\n", shown);
        dir_entry(c, 1, p.kind == IFS_K_DISK ? ifs_basename(&p) : p.name, &st);
    }
    uint64_t size = 0, avail = 0;
    if (ifs_space(c->env.ifs, p.fs, &size, &avail, &err) == 0)
        cli_out_fmt(c, "\n%" PRIu64 " bytes total (%" PRIu64 " bytes free)\n", size, avail);
    else
        cli_out_str(c, "\nNo space information available\n");
    return 0;
}

int cli_cmd_dir(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    return dir_cmd(c, arg, cmd->kw[1] != NULL);
}

/* The digest of a file, as lower-case hex, with IOS's progress dots. 0, or 1 after the error. */
static int digest_file(struct cli *c, const struct ifs_path *p, const EVP_MD *alg, char *hex,
                       size_t cap)
{
    struct scpd_err err = {0};
    struct ifs_stat st;
    struct ifs_reader *r = ifs_read_open(c->env.ifs, p, &st, &err);
    if (!r)
        return cli_out_err(c, &err);
    unsigned char *buf = malloc(CLI_HASH_BUF);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = 1;
    uint64_t total = 0;
    ssize_t n = 0;
    if (!buf || !md || EVP_DigestInit_ex(md, alg, NULL) != 1) {
        cli_out_str(c, "%Error verifying: out of memory\n");
        goto out;
    }
    while ((n = ifs_read(r, buf, CLI_HASH_BUF, &err)) > 0) {
        if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
            break;
        total += (uint64_t)n;
    }
    if (n != 0) {
        if (n < 0)
            cli_out_err(c, &err);
        else
            cli_out_str(c, "%Error verifying: digest failed\n");
        goto out;
    }
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    if (EVP_DigestFinal_ex(md, dig, &dlen) != 1 || 2 * (size_t)dlen >= cap) {
        cli_out_str(c, "%Error verifying: digest failed\n");
        goto out;
    }
    for (unsigned i = 0; i < dlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", dig[i]);
    uint64_t dots = total / CLI_DOT_BYTES + 1;
    for (uint64_t i = 0; i < dots && i < CLI_DOTS_MAX; i++)
        cli_out_raw(c, ".", 1);
    cli_out_str(c, "Done!\n");
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    free(buf);
    ifs_read_close(r);
    return rc;
}

/* `verify /md5|/sha512 FS:path [HASH]`: ".....Done!" (a dot per MiB), then "verify /md5
 * (FS:/path) = HEX", the line netmiko's process_md5 reads (r"=\s+(\S+)"). With HASH (IOS's
 * compare form): "Verified (FS:/path) = HEX", or the error with both signatures. The read is
 * bounded by the file's size, which the file system's size bounds. */
int cli_cmd_verify(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    struct scpd_err err = {0};
    struct ifs_path p;
    char buf[LIM_CLI_LINE_LEN + 1], *w[2], hex[2 * EVP_MAX_MD_SIZE + 1];
    char shown[LIM_PATH_LEN + 64];
    bool sha = strcmp(cmd->kw[1], "/sha512") == 0;
    if (need_ifs(c))
        return 1;
    snprintf(buf, sizeof(buf), "%s", arg ? arg : "");
    size_t n = cli_split(buf, w, 2);
    if (n == 0) {
        cli_out_str(c, "% Incomplete command.\n\n");
        return 1;
    }
    if (n > 2) {
        cli_out_fmt(c, "%% Too many arguments: verify %s FILE [HASH]\n", cmd->kw[1]);
        return 1;
    }
    if (ifs_resolve(w[0], &p, &err) < 0)
        return cli_out_err(c, &err);
    if (digest_file(c, &p, sha ? EVP_sha512() : EVP_md5(), hex, sizeof(hex)) != 0)
        return 1;
    display_name(c, &p, shown, sizeof(shown));
    if (n == 1) {
        cli_out_fmt(c, "verify %s (%s) = %s\n\n", cmd->kw[1], shown, hex);
        return 0;
    }
    if (strcasecmp(w[1], hex) == 0) {
        cli_out_fmt(c, "Verified (%s) = %s\n\n", shown, hex);
        return 0;
    }
    cli_out_fmt(c, "%%Error verifying %s\nComputed signature  = %s\nSubmitted signature = %.*s\n\n",
                shown, hex, (int)(2 * EVP_MAX_MD_SIZE), w[1]);
    return 1;
}

/* `show file systems`, IOS's table: the default file system (bootflash:) starred, sizes as
 * uploads see them (the same numbers as `dir` and the API's file-systems). */
int cli_cmd_show_fs(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    if (need_ifs(c))
        return 1;
    cli_out_str(c, "File Systems:\n\n       Size(b)       Free(b)      Type  Flags  Prefixes\n");
    for (int i = 0; i < IFS_FS_COUNT; i++) {
        struct ifs_fs_info in;
        struct scpd_err err = {0};
        char size[24] = "-", avail[24] = "-", prefixes[128] = "";
        size_t o = 0;
        if (ifs_info(c->env.ifs, (enum ifs_fs)i, &in, &err) < 0)
            return cli_out_err(c, &err);
        if (in.sized) {
            snprintf(size, sizeof(size), "%" PRIu64, in.size);
            snprintf(avail, sizeof(avail), "%" PRIu64, in.free);
        }
        for (size_t k = 0; k < 4 && in.prefixes[k] && o < sizeof(prefixes); k++) {
            int r = snprintf(prefixes + o, sizeof(prefixes) - o, "%s%s:", k ? " " : "",
                             in.prefixes[k]);
            o += r > 0 ? (size_t)r : 0;
        }
        cli_out_fmt(c, "%c %13s %13s %9s %6s   %s\n", i == IFS_FS_BOOTFLASH ? '*' : ' ', size,
                    avail, in.type, "rw", prefixes);
    }
    return 0;
}

/* Copies a virtual config file to the output; for startup-config with IOS's "Using N out of M
 * bytes" line first, or "not present" when it is empty. */
static int show_config(struct cli *c, const char *which, bool startup)
{
    struct scpd_err err = {0};
    struct ifs_path p;
    struct ifs_stat st;
    char buf[4096];
    ssize_t n = 0;
    uint64_t nvsize = 0;
    if (need_ifs(c))
        return 1;
    if (ifs_resolve(which, &p, &err) < 0)
        return cli_out_err(c, &err);
    /* one open: the size shown and the text shown are of the same rendering */
    struct ifs_reader *r = ifs_read_open(c->env.ifs, &p, &st, &err);
    if (!r)
        return cli_out_err(c, &err);
    if (startup && st.size == 0) {
        ifs_read_close(r);
        cli_out_str(c, "startup-config is not present\n");
        return 0;
    }
    if (startup && ifs_space(c->env.ifs, IFS_FS_NVRAM, &nvsize, NULL, &err) == 0)
        cli_out_fmt(c, "Using %" PRIu64 " out of %" PRIu64 " bytes\n", st.size, nvsize);
    while ((n = ifs_read(r, buf, sizeof(buf), &err)) > 0)
        cli_out_text(c, buf, (size_t)n);
    ifs_read_close(r);
    if (n < 0)
        return cli_out_err(c, &err);
    return 0;
}

/* The virtual file renders IOS's own header ("Building configuration...", "Current
 * configuration : N bytes"), so this is the same text an scp of running-config gets. */
int cli_cmd_show_running(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    return show_config(c, "running-config", false);
}

/* IOS: "Using N out of M bytes" (M: the size of nvram:), then the text. */
int cli_cmd_show_startup(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    return show_config(c, "startup-config", true);
}


/* `show running-config all`: the defaults too (the renderer's "all" view). */
int cli_cmd_show_running_all(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    const struct store_snap *snap = c->env.store ? store_snapshot(c->env.store) : NULL;
    if (!snap) {
        cli_out_str(c, "%Error: no configuration store on this device\n");
        return 1;
    }
    struct cfg_render_opts o = {.all = true, .header = true, .last_change = snap->changed_at};
    size_t len = 0;
    char *text = cfg_render(snap->cfg, &o, &len);
    store_snap_release(snap);
    if (!text) {
        cli_out_str(c, "%Error: out of memory\n");
        return 1;
    }
    cli_out_text(c, text, len);
    free(text);
    return 0;
}

/* ---- questions around file commands ---------------------------------------------------------- */

int cli_answer_path(const char *current, const char *answer, char *out, size_t cap)
{
    while (*answer == ' ')
        answer++;
    size_t n = strlen(answer);
    while (n > 0 && answer[n - 1] == ' ')
        n--;
    if (n == 0)
        return snprintf(out, cap, "%s", current) < (int)cap ? 0 : -1;
    const char *colon = strchr(current, ':');
    if (memchr(answer, ':', n) || !colon)
        return snprintf(out, cap, "%.*s", (int)n, answer) < (int)cap ? 0 : -1;
    const char *slash = strrchr(current, '/');
    int keep = (int)((slash ? slash : colon) - current + 1);
    return snprintf(out, cap, "%.*s%.*s", keep, current, (int)n, answer) < (int)cap ? 0 : -1;
}

/* A file command waiting for its answers: the path (then a second one for rename). */
struct fs_ask {
    int (*act)(struct cli *c, struct fs_ask *q);
    const char *confirm;     /* "Delete": a [confirm] question follows the name, or NULL */
    bool recursive;
    char path[LIM_PATH_LEN + 64];
    char path2[LIM_PATH_LEN + 64];
};

static void fs_ask_free(void *arg)
{
    free(arg);
}

static int fs_confirmed(struct cli *c, void *arg, const char *a)
{
    struct fs_ask *q = arg;
    int rc = 1;
    if (cli_confirmed(a))
        rc = q->act(c, q);
    free(q);
    return rc;
}

static int fs_confirm(struct cli *c, struct fs_ask *q)
{
    if (!q->confirm) {
        int rc = q->act(c, q);
        free(q);
        return rc;
    }
    char text[LIM_PATH_LEN + 96];
    snprintf(text, sizeof(text), "%s %s? [confirm]", q->confirm, q->path);
    cli_ask(c, text, false, fs_confirmed, q, fs_ask_free);
    return 0;
}

static int fs_named(struct cli *c, void *arg, const char *a)
{
    struct fs_ask *q = arg;
    char *target = q->path2[0] ? q->path2 : q->path;
    char path[LIM_PATH_LEN + 64];
    if (cli_answer_path(target, a, path, sizeof(path)) < 0) {
        free(q);
        cli_out_str(c, "%Error: name too long\n");
        return 1;
    }
    snprintf(target, sizeof(q->path), "%s", path);
    return fs_confirm(c, q);
}

/* Asks "WHAT filename [NAME]? " (unless quiet), then the confirm (if any), then runs q->act. */
static int fs_ask_start(struct cli *c, struct fs_ask *q, const char *what, bool quiet)
{
    if (quiet) {
        int rc = q->act(c, q);
        free(q);
        return rc;
    }
    const char *name = q->path2[0] ? q->path2 : q->path;
    const char *base = strrchr(name, '/');
    if (!base)
        base = strchr(name, ':');
    char text[LIM_PATH_LEN + 96];
    snprintf(text, sizeof(text), "%s filename [%s]? ", what, base ? base + 1 : name);
    cli_ask(c, text, false, fs_named, q, fs_ask_free);
    return 0;
}

static struct fs_ask *fs_ask_new(struct cli *c, int (*act)(struct cli *, struct fs_ask *),
                                 const char *path)
{
    struct scpd_err err = {0};
    struct ifs_path p;
    if (ifs_resolve(path, &p, &err) < 0) {   /* a bad path is refused before any question */
        cli_out_err(c, &err);
        return NULL;
    }
    struct fs_ask *q = calloc(1, sizeof(*q));
    if (!q) {
        cli_out_str(c, "%Error: out of memory\n");
        return NULL;
    }
    q->act = act;
    snprintf(q->path, sizeof(q->path), "%s", path);
    return q;
}

/* ---- delete, mkdir, rmdir, rename ------------------------------------------------------------ */

/* Removes a directory's content and then the directory (delete /recursive); depth bounded. */
static int remove_tree(struct cli *c, const struct ifs_path *p, int depth, struct scpd_err *err)
{
    struct ifs_dirent *ents = NULL;
    size_t n = 0;
    if (depth >= LIM_SCP_DEPTH)
        return scpd_err_set(err, SCPD_E_LIMIT, "%%Error deleting %s (deeper than %d levels)",
                            p->name, LIM_SCP_DEPTH);
    if (ifs_list(c->env.ifs, p, &ents, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct ifs_path sub;
        rc = ifs_child(p, ents[i].name, &sub, err);
        if (rc == 0)
            rc = ents[i].st.dir ? remove_tree(c, &sub, depth + 1, err)
                                : ifs_unlink(c->env.ifs, &sub, err);
    }
    free(ents);
    return rc < 0 ? -1 : ifs_rmdir(c->env.ifs, p, err);
}

static int do_delete(struct cli *c, struct fs_ask *q)
{
    struct scpd_err err = {0};
    struct ifs_path p;
    struct ifs_stat st;
    if (ifs_resolve(q->path, &p, &err) < 0 || ifs_stat(c->env.ifs, &p, &st, &err) < 0)
        return cli_out_err(c, &err);
    if (st.dir && !q->recursive) {
        cli_out_fmt(c, "%%Error deleting %s (Is a directory: use delete /recursive or rmdir)\n",
                    p.name);
        return 1;
    }
    if (p.kind == IFS_K_DISK && p.rel[0] == '\0') {
        cli_out_fmt(c, "%%Error deleting %s (the root of a file system)\n", p.name);
        return 1;
    }
    int rc = st.dir ? remove_tree(c, &p, 0, &err) : ifs_unlink(c->env.ifs, &p, &err);
    if (rc < 0)
        return cli_out_err(c, &err);
    log_info(&c->lc, "cli: deleted %s%s", p.name, st.dir ? " (recursively)" : "");
    return 0;
}

/* `delete [/force] [/recursive] FS:PATH`: IOS asks "Delete filename [x]?" and "Delete
 * bootflash:/x? [confirm]"; /force and `file prompt quiet` skip both. */
int cli_cmd_delete(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    char buf[LIM_CLI_LINE_LEN + 1], *w[4];
    bool force = false, recursive = false;
    const char *path = NULL;
    if (need_ifs(c))
        return 1;
    snprintf(buf, sizeof(buf), "%s", arg ? arg : "");
    size_t n = cli_split(buf, w, 4);
    for (size_t i = 0; i < n && i < 4; i++) {
        if (strcasecmp(w[i], "/force") == 0)
            force = true;
        else if (strcasecmp(w[i], "/recursive") == 0)
            recursive = true;
        else if (!path && w[i][0] != '/')
            path = w[i];
        else {
            cli_out_fmt(c, "%% Invalid argument: %s (delete [/force] [/recursive] FS:PATH)\n",
                        w[i]);
            return 1;
        }
    }
    if (!path || n > 4) {
        cli_out_str(c, n > 4 ? "% Too many arguments\n" : "% Incomplete command.\n\n");
        return 1;
    }
    struct fs_ask *q = fs_ask_new(c, do_delete, path);
    if (!q)
        return 1;
    q->recursive = recursive;
    q->confirm = "Delete";
    return fs_ask_start(c, q, "Delete", force || cli_prompt_quiet(c));
}

static int do_mkdir(struct cli *c, struct fs_ask *q)
{
    struct scpd_err err = {0};
    struct ifs_path p;
    struct ifs_stat st;
    if (ifs_resolve(q->path, &p, &err) < 0)
        return cli_out_err(c, &err);
    if (p.kind != IFS_K_DISK || ifs_stat(c->env.ifs, &p, &st, &err) == 0) {
        cli_out_fmt(c, "%%Error Creating dir %s (File exists)\n", p.name);
        return 1;
    }
    if (ifs_mkdir(c->env.ifs, &p, 0755, &err) < 0)
        return cli_out_err(c, &err);
    cli_out_fmt(c, "Created dir %s\n", p.name);
    log_info(&c->lc, "cli: created directory %s", p.name);
    return 0;
}

static int do_rmdir(struct cli *c, struct fs_ask *q)
{
    struct scpd_err err = {0};
    struct ifs_path p;
    if (ifs_resolve(q->path, &p, &err) < 0 || ifs_rmdir(c->env.ifs, &p, &err) < 0)
        return cli_out_err(c, &err);
    cli_out_fmt(c, "Removed dir %s\n", p.name);
    log_info(&c->lc, "cli: removed directory %s", p.name);
    return 0;
}

int cli_cmd_mkdir(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    struct fs_ask *q = need_ifs(c) ? NULL : fs_ask_new(c, do_mkdir, arg);
    return q ? fs_ask_start(c, q, "Create directory", cli_prompt_quiet(c)) : 1;
}

int cli_cmd_rmdir(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    struct fs_ask *q = need_ifs(c) ? NULL : fs_ask_new(c, do_rmdir, arg);
    if (!q)
        return 1;
    q->confirm = "Delete";
    return fs_ask_start(c, q, "Remove directory", cli_prompt_quiet(c));
}

static int do_rename(struct cli *c, struct fs_ask *q)
{
    struct scpd_err err = {0};
    struct ifs_path a, b;
    if (ifs_resolve(q->path, &a, &err) < 0 || ifs_resolve(q->path2, &b, &err) < 0 ||
        ifs_rename(c->env.ifs, &a, &b, false, &err) < 0)
        return cli_out_err(c, &err);
    log_info(&c->lc, "cli: renamed %s to %s", a.name, b.name);
    return 0;
}

/* `rename FS:A FS:B`: IOS asks "Destination filename [B]?"; an existing B is refused (IOS asks to
 * overwrite; delete it first here). */
int cli_cmd_rename(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    char buf[LIM_CLI_LINE_LEN + 1], *w[2];
    if (need_ifs(c))
        return 1;
    snprintf(buf, sizeof(buf), "%s", arg ? arg : "");
    size_t n = cli_split(buf, w, 2);
    if (n != 2) {
        cli_out_str(c, n < 2 ? "% Incomplete command.\n\n" : "% Too many arguments\n");
        return 1;
    }
    struct scpd_err err = {0};
    struct ifs_path to;
    if (ifs_resolve(w[1], &to, &err) < 0)
        return cli_out_err(c, &err);
    struct fs_ask *q = fs_ask_new(c, do_rename, w[0]);
    if (!q)
        return 1;
    snprintf(q->path2, sizeof(q->path2), "%s", w[1]);
    return fs_ask_start(c, q, "Destination", cli_prompt_quiet(c));
}

/* ---- more ------------------------------------------------------------------------------------ */

struct more_op {
    struct ifs_reader *r;
    bool binary;
    uint64_t off;
};

static void more_free(struct more_op *m)
{
    ifs_read_close(m->r);
    free(m);
}

/* IOS's `more /binary`: "00000000:  48656C6C 6F2C2077 6F726C64 0A000000  Hello, world...." */
static void hex_line(struct cli *c, uint64_t off, const unsigned char *b, size_t n)
{
    char line[96];
    size_t o = (size_t)snprintf(line, sizeof(line), "%08" PRIx64 ": ", off);
    for (size_t i = 0; i < 16; i++) {
        if (i % 4 == 0)
            line[o++] = ' ';
        if (i < n)
            o += (size_t)snprintf(line + o, sizeof(line) - o, "%02X", b[i]);
        else
            o += (size_t)snprintf(line + o, sizeof(line) - o, "  ");
    }
    line[o++] = ' ';
    line[o++] = ' ';
    for (size_t i = 0; i < n; i++)
        line[o++] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
    line[o++] = '\n';
    cli_out_text(c, line, o);
}

static int more_step(struct cli *c, void *arg)
{
    struct more_op *m = arg;
    struct scpd_err err = {0};
    unsigned char buf[4096];
    size_t shown = 0;
    while (shown < CLI_MORE_SLICE) {
        /* whole 16-byte rows for /binary: a read may come short, so rows are cut from it */
        ssize_t n = ifs_read(m->r, buf, sizeof(buf), &err);
        if (n < 0) {
            cli_out_err(c, &err);
            more_free(m);
            return 1;
        }
        if (n == 0) {
            more_free(m);
            return 0;
        }
        if (m->binary) {
            for (size_t i = 0; i < (size_t)n; i += 16)
                hex_line(c, m->off + i, buf + i, (size_t)n - i < 16 ? (size_t)n - i : 16);
        } else {
            /* control bytes other than line ends and tabs would drive the user's terminal */
            for (ssize_t i = 0; i < n; i++)
                if ((buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\t') || buf[i] == 0x7f)
                    buf[i] = '.';
            cli_out_text(c, (const char *)buf, (size_t)n);
        }
        m->off += (uint64_t)n;
        shown += (size_t)n;
    }
    return CLI_OP_MORE;
}

static void more_cancel(struct cli *c, void *arg)
{
    cli_out_str(c, "\n");
    more_free(arg);
}

/* `more [/binary] FS:PATH`: the file's text (or IOS's hex dump), shown a slice at a time, so a
 * large file never sits in memory and ^C stops it. */
int cli_cmd_more(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    char buf[LIM_CLI_LINE_LEN + 1], *w[3];
    struct scpd_err err = {0};
    struct ifs_path p;
    struct ifs_stat st;
    if (need_ifs(c))
        return 1;
    snprintf(buf, sizeof(buf), "%s", arg ? arg : "");
    size_t n = cli_split(buf, w, 2);
    bool binary = n == 2 && strcasecmp(w[0], "/binary") == 0;
    if (n == 0 || n > 2 || (n == 2 && !binary) ||
        (n == 1 && w[0][0] == '/' && !strchr(w[0], ':'))) {
        cli_out_str(c, n == 0 || (n == 1 && strcasecmp(w[0], "/binary") == 0)
                           ? "% Incomplete command.\n\n"
                           : "% Invalid arguments: more [/binary] FS:PATH\n");
        return 1;
    }
    if (ifs_resolve(w[n - 1], &p, &err) < 0 || ifs_stat(c->env.ifs, &p, &st, &err) < 0)
        return cli_out_err(c, &err);
    if (st.dir) {
        cli_out_fmt(c, "%%Error opening %s (Is a directory)\n", p.name);
        return 1;
    }
    struct more_op *m = calloc(1, sizeof(*m));
    if (!m) {
        cli_out_str(c, "%Error: out of memory\n");
        return 1;
    }
    m->binary = binary;
    m->r = ifs_read_open(c->env.ifs, &p, NULL, &err);
    if (!m->r) {
        free(m);
        return cli_out_err(c, &err);
    }
    cli_run_op(c, more_step, more_cancel, m);
    return 0;
}

/* `show file information FS:PATH`, IOS's form:
 *   bootflash:/x.bin:
 *     type is binary data, size is 1234 bytes, modified Nov 26 2026 07:30:00 +00:00 */
int cli_cmd_show_file_info(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    struct scpd_err err = {0};
    struct ifs_path p;
    struct ifs_stat st;
    char shown[LIM_PATH_LEN + 64], when[64] = "";
    const char *type = "directory";
    if (need_ifs(c))
        return 1;
    if (ifs_resolve(arg, &p, &err) < 0 || ifs_stat(c->env.ifs, &p, &st, &err) < 0)
        return cli_out_err(c, &err);
    if (!st.dir) {
        unsigned char head[512];
        ssize_t n = 0;
        struct ifs_reader *r = ifs_read_open(c->env.ifs, &p, NULL, &err);
        if (!r)
            return cli_out_err(c, &err);
        n = ifs_read(r, head, sizeof(head), &err);
        ifs_read_close(r);
        type = st.virt ? "configuration text" : n <= 0 ? "empty" : "ascii text";
        for (ssize_t i = 0; i < n && !st.virt; i++)
            if ((head[i] < 0x20 && !strchr("\r\n\t", head[i])) || head[i] >= 0x7f)
                type = "binary data";
    }
    struct tm tm;
    time_t t = (time_t)st.mtime;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%b %d %Y %H:%M:%S +00:00", &tm);
    display_name(c, &p, shown, sizeof(shown));
    cli_out_fmt(c, "%s:\n  type is %s, size is %" PRIu64 " bytes, mode %04o, modified %s\n", shown,
                type, st.size, st.mode & 07777, when);
    return 0;
}
