/* ifs_fixture: a real temporary data directory with a store and an ifs, shared by test_ifs.c and
 * test_scp_session.c (header-only, static helpers). */
#ifndef SCPD_TEST_IFS_FIXTURE_H
#define SCPD_TEST_IFS_FIXTURE_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/cfg.h"
#include "ifs/ifs.h"
#include "store/store.h"
#include "tests/unit/tmpdir.h"

#define FX_CONFIG                                                                                \
    "hostname R1\n"                                                                              \
    "aaa new-model\n"                                                                            \
    "aaa authentication login default local\n"                                                   \
    "aaa authorization exec default local\n"                                                     \
    "username tiger privilege 15 password 0 lab\n"                                               \
    "ip scp server enable\n"

struct fx {
    char dir[256];
    char boot[300];      /* DIR/fs/bootflash */
    char outside[300];   /* a directory next to the data dir, for escape attempts */
    struct store *st;
    struct ifs *ifs;
};

static struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct scpd_err err = {0};
    bool created = false;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_ifs.XXXXXX");
    if (!mkdtemp(f->dir))
        return NULL;
    snprintf(f->boot, sizeof(f->boot), "%s/fs/bootflash", f->dir);
    snprintf(f->outside, sizeof(f->outside), "%s/outside", f->dir);
    mkdir(f->outside, 0700);
    struct cfg *def = cfg_new_default();
    struct cfg *initial = cfg_apply_text(def, FX_CONFIG, strlen(FX_CONFIG), CFG_REPLACE, NULL);
    cfg_free(def);
    f->st = store_open(f->dir, initial, &created, &err);
    cfg_free(initial);
    if (!f->st) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        return NULL;
    }
    f->ifs = ifs_open(f->dir, f->st, &err);
    if (!f->ifs) {
        fprintf(stderr, "ifs_open: %s\n", err.msg);
        return NULL;
    }
    return f;
}

static void fx_free(struct fx *f)
{
    if (!f)
        return;
    ifs_free(f->ifs);
    store_close(f->st);
    tmpdir_remove(f->dir);
    free(f);
}

/* Writes a host file below the bootflash directory (test setup only). */
static void fx_put(struct fx *f, const char *rel, const char *content)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", f->boot, rel);
    FILE *fp = fopen(p, "w");
    if (fp) {
        fputs(content, fp);
        fclose(fp);
    }
}

/* Content of a host file below bootflash (caller frees), NULL if missing. */
static char *fx_get(struct fx *f, const char *rel)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", f->boot, rel);
    FILE *fp = fopen(p, "r");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static int fx_tmp_count;
static int fx_count_tmp(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    if (strncmp(path + ftw->base, ".scpd-tmp.", 10) == 0)
        fx_tmp_count++;
    return 0;
}

/* Temporary upload files anywhere in the data directory. */
static int fx_temps(struct fx *f)
{
    fx_tmp_count = 0;
    nftw(f->dir, fx_count_tmp, 16, FTW_PHYS);
    return fx_tmp_count;
}

/* Entries of a host directory (without . and ..). */
static int fx_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

#endif
