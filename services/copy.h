/* copy: one copy of a file of the IOS File System onto another place of it, done in slices: the
 * engine behind the CLI's `copy` and the API's Cisco-IOS-XE-rpc:copy, so both doors go one way.
 * The source is read through ifs (a file, running-config, startup-config); the target is written
 * as any upload (atomic, space reserved up front, a config validated whole at the commit: onto
 * running-config a merge, onto startup-config a replace); running-config onto startup-config is
 * the store's one save. A job belongs to one thread; separate jobs run in parallel. */
#ifndef SCPD_COPY_H
#define SCPD_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/scpd_err.h"
#include "ifs/ifs.h"

struct store;
struct store_who;

struct copy_plan {
    struct ifs_path src, dst;
    bool dst_exists;       /* a file is there already (IOS asks before it is overwritten) */
    bool save;             /* running-config onto startup-config: store_save_config */
};

/* Resolves src and dst through ifs_resolve. A directory target (bootflash:, nvram:dir) takes the
 * source's file name. Refused (-1, err naming the path and the reason): a missing source, a
 * directory as source, the same file at both ends, a directory in the way of the target. */
int copy_plan(struct ifs *ifs, const char *src, const char *dst, struct copy_plan *out,
              struct scpd_err *err);
/* dst of a plan replaced by name (after IOS's "Destination filename [x]?" got another answer);
 * dst_exists updated. */
int copy_plan_retarget(struct ifs *ifs, struct copy_plan *p, const char *dst, struct scpd_err *err);

struct copy_job;
/* Opens both ends (the target's space is reserved now). who names the user, door and peer in the
 * audit of config changes. NULL with err on failure (nothing changed). */
struct copy_job *copy_start(struct ifs *ifs, struct store *st, const struct copy_plan *p,
                            const struct store_who *who, struct scpd_err *err);
#define COPY_MORE 1
/* Moves up to budget bytes. COPY_MORE; 0: done, the target is in place; -1: failed, nothing
 * changed (err; a refused config's parser errors in copy_detail()). */
int copy_step(struct copy_job *j, size_t budget, struct scpd_err *err);
uint64_t copy_bytes(const struct copy_job *j);   /* copied so far */
uint64_t copy_size(const struct copy_job *j);    /* of the source */
const char *copy_detail(const struct copy_job *j);   /* NULL or the parser's errors */
/* Frees j; an unfinished copy is abandoned and its target left as it was. NULL is a no-op. */
void copy_free(struct copy_job *j);

#endif
