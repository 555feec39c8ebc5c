/* ifs_config: the virtual files running-config and startup-config. Their content lives in the
 * store, not on disk: reading renders it, writing hands the uploaded text to the store's one
 * commit path (merge onto running, replace startup), which validates the whole text first, so an
 * invalid file changes nothing. The two files are rows of a table (read, write). */
#include "ifs/ifs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/cfg.h"
#include "store/store.h"

typedef char *(*vfile_read_fn)(struct store *st, size_t *len, int64_t *mtime,
                               struct scpd_err *err);
typedef int (*vfile_write_fn)(struct store *st, const char *text, size_t len,
                              const struct store_who *who, struct cfg_errors *errs,
                              struct scpd_err *err);

static char *running_read(struct store *st, size_t *len, int64_t *mtime, struct scpd_err *err)
{
    const struct store_snap *snap = store_snapshot(st);
    if (!snap) {
        scpd_err_set(err, SCPD_E_INTERNAL, "%%Error reading running-config (no snapshot)");
        return NULL;
    }
    struct cfg_render_opts o = {
        .header = true,
        .last_change = snap->changed_at,
        .last_user = snap->changed_by[0] ? snap->changed_by : NULL,
    };
    char *text = cfg_render(snap->cfg, &o, len);
    *mtime = snap->changed_at;
    store_snap_release(snap);
    if (!text)
        scpd_err_set(err, SCPD_E_NOMEM, "%%Error reading running-config (out of memory)");
    return text;
}

static char *startup_read(struct store *st, size_t *len, int64_t *mtime, struct scpd_err *err)
{
    time_t saved = 0;
    char *text = store_startup_get(st, &saved, err);
    if (text) {
        *len = strlen(text);
        *mtime = saved;
    }
    return text;
}

static int running_write(struct store *st, const char *text, size_t len,
                         const struct store_who *who, struct cfg_errors *errs,
                         struct scpd_err *err)
{
    return store_apply_text(st, text, len, CFG_MERGE, false, 0, who, errs, NULL, err);
}

static int startup_write(struct store *st, const char *text, size_t len,
                         const struct store_who *who, struct cfg_errors *errs,
                         struct scpd_err *err)
{
    return store_startup_set(st, text, len, who, errs, err);
}

static const struct {
    enum ifs_kind kind;
    const char *name;
    vfile_read_fn read;
    vfile_write_fn write;
} ifs_vfiles[] = {
    {IFS_K_RUNNING, "running-config", running_read, running_write},
    {IFS_K_STARTUP, "startup-config", startup_read, startup_write},
};

static int vfile_find(struct ifs *fs, enum ifs_kind kind, struct scpd_err *err)
{
    for (size_t i = 0; i < sizeof(ifs_vfiles) / sizeof(ifs_vfiles[0]); i++) {
        if (ifs_vfiles[i].kind != kind)
            continue;
        if (!fs->st)
            return scpd_err_set(err, SCPD_E_INTERNAL, "%%Error opening %s (no configuration store)",
                                ifs_vfiles[i].name);
        return (int)i;
    }
    return scpd_err_set(err, SCPD_E_INTERNAL, "%%Error: not a virtual file");
}

char *ifs_cfg_text(struct ifs *fs, enum ifs_kind kind, size_t *len, int64_t *mtime,
                   struct scpd_err *err)
{
    int i = vfile_find(fs, kind, err);
    int64_t mt = 0;
    size_t n = 0;
    if (i < 0)
        return NULL;
    char *text = ifs_vfiles[i].read(fs->st, &n, &mt, err);
    if (len)
        *len = n;
    if (mtime)
        *mtime = mt;
    return text;
}

/* One line for an SCP client: "line 7: value out of range 1-120 (ip ssh time-out 500); ..." */
static void errors_summary(const struct cfg_errors *errs, const char *name, struct scpd_err *err)
{
    char buf[sizeof(err->msg)];
    size_t o = 0;
    int r = snprintf(buf, sizeof(buf), "%%Error copying to %s (invalid configuration, nothing "
                                       "changed):", name);
    o = r > 0 ? (size_t)r : 0;
    for (int k = 0; k < errs->n && o < sizeof(buf); k++) {
        r = snprintf(buf + o, sizeof(buf) - o, "%s line %d: %s (%.80s)", k ? ";" : "",
                     errs->e[k].line, errs->e[k].reason, errs->e[k].text);
        if (r < 0)
            break;
        o += (size_t)r;
    }
    if (o < sizeof(buf) && errs->total > errs->n)
        snprintf(buf + o, sizeof(buf) - o, "; %d more", errs->total - errs->n);
    scpd_err_set(err, SCPD_E_INVALID, "%s", buf);
}

int ifs_cfg_commit(struct ifs *fs, enum ifs_kind kind, const char *text, size_t len,
                   const struct store_who *who, char **detail, struct scpd_err *err)
{
    int i = vfile_find(fs, kind, err);
    if (i < 0)
        return -1;
    /* cfg_errors is large (LIM_CFG_ERRORS full lines): keep it off the session thread's stack */
    struct cfg_errors *errs = calloc(1, sizeof(*errs));
    if (!errs)
        return scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
    int r = ifs_vfiles[i].write(fs->st, text, len, who, errs, err);
    if (r < 0 && errs->n > 0) {
        errors_summary(errs, ifs_vfiles[i].name, err);
        if (detail)
            *detail = cfg_errors_format(errs);
    }
    free(errs);
    return r;
}
