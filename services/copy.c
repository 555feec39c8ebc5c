/* copy: see copy.h. A job is an ifs reader and an ifs writer with a buffer between them; the
 * writer is an atomic upload of the source's size, so the target's file system refuses it up
 * front when it lacks the space, and nothing is visible until the commit (a cancel removes the
 * temporary file). The one exception is running-config onto startup-config: that is the store's
 * save (audited as such), not a text round trip. */
#include "services/copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/copy_int.h"
#include "store/store.h"

/* A copy between two places of the IOS File System. */
struct local_job {
    struct copy_job base;
    struct store *st;
    struct store_who who;
    bool save;
    struct ifs_reader *r;
    struct ifs_writer *w;
    unsigned char *buf;
};

static int local_step(struct copy_job *base, size_t budget, struct scpd_err *err);
static void local_free(struct copy_job *base);

static bool same_file(const struct ifs_path *a, const struct ifs_path *b)
{
    if (a->kind != b->kind)
        return false;
    return a->kind != IFS_K_DISK || (a->fs == b->fs && strcmp(a->rel, b->rel) == 0);
}

static int plan_target(struct ifs *ifs, struct copy_plan *p, struct scpd_err *err)
{
    struct ifs_stat st;
    struct scpd_err e = {0};
    p->dst_exists = false;
    if (p->dst.kind == IFS_K_DISK && ifs_stat(ifs, &p->dst, &st, &e) == 0) {
        if (st.dir) {   /* into the directory, under the source's name */
            struct ifs_path in;
            if (ifs_child(&p->dst, ifs_basename(&p->src), &in, err) < 0)
                return -1;
            p->dst = in;
            if (ifs_stat(ifs, &p->dst, &st, &e) == 0) {
                if (st.dir)
                    return scpd_err_set(err, SCPD_E_EXISTS, "%%Error copying %s (a directory "
                                        "has that name)", p->dst.name);
                p->dst_exists = true;
            }
        } else {
            p->dst_exists = true;
        }
    }
    if (same_file(&p->src, &p->dst))
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error copying %s (source and destination "
                            "are the same file)", p->src.name);
    p->save = p->src.kind == IFS_K_RUNNING && p->dst.kind == IFS_K_STARTUP;
    return 0;
}

int copy_plan(struct ifs *ifs, const char *src, const char *dst, struct copy_plan *out,
              struct scpd_err *err)
{
    struct ifs_stat st;
    memset(out, 0, sizeof(*out));
    if (ifs_resolve(src, &out->src, err) < 0 || ifs_resolve(dst, &out->dst, err) < 0)
        return -1;
    if (ifs_stat(ifs, &out->src, &st, err) < 0)
        return -1;
    if (st.dir)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error opening %s (Is a directory)",
                            out->src.name);
    return plan_target(ifs, out, err);
}

int copy_plan_retarget(struct ifs *ifs, struct copy_plan *p, const char *dst,
                       struct scpd_err *err)
{
    if (ifs_resolve(dst, &p->dst, err) < 0)
        return -1;
    return plan_target(ifs, p, err);
}

struct copy_job *copy_start(struct ifs *ifs, struct store *st, const struct copy_plan *p,
                            const struct store_who *who, struct scpd_err *err)
{
    struct local_job *j = calloc(1, sizeof(*j));
    if (!j) {
        scpd_err_set(err, SCPD_E_NOMEM, "%%Error copying: out of memory");
        return NULL;
    }
    j->base.step = local_step;
    j->base.free = local_free;
    j->st = st;
    j->who = *who;
    j->save = p->save;
    if (j->save) {
        if (!st) {
            scpd_err_set(err, SCPD_E_INTERNAL, "%%Error: no configuration store on this device");
            goto fail;
        }
        return &j->base;
    }
    struct ifs_stat sst;
    j->buf = malloc(COPY_BUF);
    if (!j->buf) {
        scpd_err_set(err, SCPD_E_NOMEM, "%%Error copying: out of memory");
        goto fail;
    }
    j->r = ifs_read_open(ifs, &p->src, &sst, err);
    if (!j->r)
        goto fail;
    j->base.size = sst.size;
    j->w = ifs_write_open(ifs, &p->dst, j->base.size, 0644, who, err);
    if (!j->w)
        goto fail;
    return &j->base;
fail:
    copy_free(&j->base);
    return NULL;
}

static int local_step(struct copy_job *base, size_t budget, struct scpd_err *err)
{
    struct local_job *j = (struct local_job *)base;
    if (j->save) {
        j->save = false;
        return store_save_config(j->st, &j->who, err) < 0 ? -1 : 0;
    }
    if (!j->w)
        return scpd_err_set(err, SCPD_E_INTERNAL, "%%Error copying: the copy is over");
    size_t moved = 0;
    while (moved < budget) {
        ssize_t n = ifs_read(j->r, j->buf, COPY_BUF, err);
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        if (base->done + (uint64_t)n > base->size) {   /* the source grew while it was read */
            scpd_err_set(err, SCPD_E_IO, "%%Error copying: the source changed during the copy");
            goto fail;
        }
        if (ifs_write(j->w, j->buf, (size_t)n, err) < 0)
            goto fail;
        base->done += (uint64_t)n;
        moved += (size_t)n;
    }
    if (moved > 0 && base->done < base->size)
        return COPY_MORE;
    if (base->done != base->size) {
        scpd_err_set(err, SCPD_E_IO, "%%Error copying: the source changed during the copy");
        goto fail;
    }
    struct ifs_writer *w = j->w;
    j->w = NULL;
    ifs_read_close(j->r);
    j->r = NULL;
    return ifs_write_commit(w, NULL, &base->detail, err) < 0 ? -1 : 0;
fail:
    ifs_write_abort(j->w);
    j->w = NULL;
    return -1;
}

static void local_free(struct copy_job *base)
{
    struct local_job *j = (struct local_job *)base;
    ifs_write_abort(j->w);
    ifs_read_close(j->r);
    free(j->buf);
}

int copy_step(struct copy_job *j, size_t budget, struct scpd_err *err)
{
    return j->step(j, budget, err);
}

uint64_t copy_bytes(const struct copy_job *j)
{
    return j->done;
}

uint64_t copy_size(const struct copy_job *j)
{
    return j->size;
}

const char *copy_detail(const struct copy_job *j)
{
    return j->detail;
}

void copy_free(struct copy_job *j)
{
    if (!j)
        return;
    j->free(j);
    free(j->detail);
    free(j);
}
