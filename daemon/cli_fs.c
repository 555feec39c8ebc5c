/* cli_fs: the EXEC command line's file commands: `dir`, `verify /md5`, `show file systems`,
 * `show running-config`, `show startup-config`. Every path goes through ifs_resolve(), every config
 * read through the running-config/startup-config virtual files (the same text an scp gets). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>

#include "daemon/cli_int.h"
#include "ifs/ifs.h"

#define CLI_HASH_BUF (64u << 10)  /* verify /md5 reads the file in blocks of this size */
#define CLI_DOT_BYTES (1u << 20)  /* verify /md5 prints one progress dot per MiB, as IOS does */
#define CLI_DOTS_MAX 70           /* ... on one line at most */

/* The IOS form of a resolved path: "bootflash:/dir/file", "nvram:/startup-config". */
static void display_name(struct cli *c, const struct ifs_path *p, char *buf, size_t cap)
{
    struct ifs_fs_info in;
    struct scpd_err e = {0};
    const char *fsname = ifs_info(c->env.ifs, p->fs, &in, &e) == 0 ? in.name : "";
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
int cli_cmd_dir(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
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
    display_name(c, &p, shown, sizeof(shown));
    cli_out_fmt(c, "Directory of %s\n\n", shown);
    if (st.dir) {
        struct ifs_dirent *ents = NULL;
        size_t n = 0;
        if (ifs_list(c->env.ifs, &p, &ents, &n, &err) < 0)
            return cli_out_err(c, &err);
        for (size_t i = 0; i < n; i++)
            dir_entry(c, i + 1, ents[i].name, &ents[i].st);
        if (n == 0)
            cli_out_str(c, "No files in directory\n");
        free(ents);
    } else {
        dir_entry(c, 1, p.kind == IFS_K_DISK ? ifs_basename(&p) : p.name, &st);
    }
    uint64_t size = 0, avail = 0;
    if (ifs_space(c->env.ifs, p.fs, &size, &avail, &err) == 0)
        cli_out_fmt(c, "\n%" PRIu64 " bytes total (%" PRIu64 " bytes free)\n", size, avail);
    else
        cli_out_str(c, "\nNo space information available\n");
    return 0;
}

/* `verify /md5 FS:path`: ".....Done!" (a dot per MiB), then "verify /md5 (FS:/path) = HEX", the
 * line netmiko's process_md5 reads (r"=\s+(\S+)"). The read is bounded by the file's size, which
 * the file system's size bounds. */
int cli_cmd_verify_md5(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    struct scpd_err err = {0};
    struct ifs_path p;
    struct ifs_stat st;
    char shown[LIM_PATH_LEN + 64];
    if (need_ifs(c))
        return 1;
    if (ifs_resolve(arg, &p, &err) < 0)
        return cli_out_err(c, &err);
    struct ifs_reader *r = ifs_read_open(c->env.ifs, &p, &st, &err);
    if (!r)
        return cli_out_err(c, &err);
    unsigned char *buf = malloc(CLI_HASH_BUF);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = 1;
    uint64_t total = 0;
    ssize_t n = 0;
    if (!buf || !md || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1) {
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
    if (EVP_DigestFinal_ex(md, dig, &dlen) != 1 || dlen != 16) {
        cli_out_str(c, "%Error verifying: digest failed\n");
        goto out;
    }
    char hex[33];
    for (unsigned i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", dig[i]);
    uint64_t dots = total / CLI_DOT_BYTES + 1;
    for (uint64_t i = 0; i < dots && i < CLI_DOTS_MAX; i++)
        cli_out_raw(c, ".", 1);
    display_name(c, &p, shown, sizeof(shown));
    cli_out_fmt(c, "Done!\nverify /md5 (%s) = %s\n\n", shown, hex);
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    free(buf);
    ifs_read_close(r);
    return rc;
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
        cli_out_fmt(c, "%c %13s %13s %9s %6s   %s\n", i == IFS_FS_BOOTFLASH ? '*' : ' ', size, avail,
                in.type, "rw", prefixes);
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

