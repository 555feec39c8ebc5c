/* ifs_space: the size of each disk file system and what uploads may still take from it.
 *
 * Every disk file system keeps four numbers under its own mutex: the size set for it (limit, 0 for
 * none), the bytes its files hold (used: one walk at ifs_open, then kept up to date by every
 * commit, unlink and replacing rename, each of which holds the mutex across its own
 * renameat/unlinkat so that the size it takes off is the size of what it removed), the bytes
 * promised to uploads in flight (reserved) and the part of those already in their temporary files
 * (written).
 *
 * An upload reserves before it writes: a known size (SCP) all of it at open, an unknown size
 * (SFTP) as its temporary file grows; the check and the reservation are one step under the mutex,
 * so two uploads can never both take the same free bytes, and the one that does not fit is refused
 * at open or at the write that crosses. The commit turns the reservation into used bytes (new size
 * minus the size of the file it replaced); an abort gives it back.
 *
 *     free = min(statvfs free - (reserved - written), limit - used - reserved)   with a size set
 *     free = statvfs free - (reserved - written)                                 without
 *
 * statvfs already counts what the temporary files hold, so only the unwritten part of the
 * reservations is taken off it. The size shown is the limit, or, without one, used + written +
 * statvfs free (what the files could take in all), so size = used + reserved + free either way
 * when the disk is not the tighter bound. Files put into the backing directory by other means
 * while the daemon runs are counted from the next start (statvfs still bounds every upload). */
#include "ifs/ifs_int.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "base/lim.h"
#include "store/store.h"

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

void ifs_acct_init(struct ifs *fs)
{
    for (int i = 0; i < IFS_FS_COUNT; i++) {
        pthread_mutex_init(&fs->acct[i].mu, NULL);
        fs->acct[i].fs = fs;
        fs->acct[i].which = (enum ifs_fs)i;
    }
}

/* The reservations of a are held in the store too (see ifs_int.h). With a->mu held. */
static bool acct_shared(const struct ifs_acct *a)
{
    return a->fs->shared && a->limit && a->fs->st && store_instance(a->fs->st) > 0;
}

uint64_t ifs_acct_ahead(struct ifs *fs, enum ifs_fs which)
{
    struct ifs_acct *a = &fs->acct[which];
    pthread_mutex_lock(&a->mu);
    bool sh = acct_shared(a);
    pthread_mutex_unlock(&a->mu);
    return sh ? LIM_IFS_RESV_AHEAD : 0;
}

static int used_walk(void *arg, uint64_t *used)
{
    struct ifs_acct *a = arg;
    return ifs_used_walk(a->fs, a->which, used);
}

void ifs_acct_destroy(struct ifs *fs)
{
    for (int i = 0; i < IFS_FS_COUNT; i++)
        pthread_mutex_destroy(&fs->acct[i].mu);
}

/* The backing directory's free bytes and size (0 when statvfs fails: nothing fits). */
static void disk_space(struct ifs *fs, enum ifs_fs which, uint64_t *freeb)
{
    struct statvfs sv;
    *freeb = 0;
    if (fstatvfs(fs->rootfd[which], &sv) == 0)
        *freeb = (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* With a->mu held: the bytes an upload may still take, and the size shown. */
static uint64_t avail_locked(const struct ifs_acct *a, uint64_t disk_free, uint64_t *size)
{
    uint64_t avail = sub0(disk_free, sub0(a->reserved, a->written));
    if (a->limit) {
        uint64_t left = sub0(a->limit, a->used + a->reserved);
        if (left < avail)
            avail = left;
    }
    if (size)
        *size = a->limit ? a->limit : a->used + a->written + disk_free;
    return avail;
}

int ifs_acct_reserve(struct ifs *fs, enum ifs_fs which, uint64_t bytes, uint64_t *avail,
                     struct scpd_err *why)
{
    struct ifs_acct *a = &fs->acct[which];
    uint64_t disk_free;
    pthread_mutex_lock(&a->mu);
    /* inside the lock: a reservation between the statvfs and the check would be missed */
    disk_space(fs, which, &disk_free);
    bool sh = acct_shared(a);
    /* shared: the size is the store's to check (this instance's `used` misses the others' files) */
    uint64_t left = sh ? sub0(disk_free, sub0(a->reserved, a->written))
                       : avail_locked(a, disk_free, NULL);
    int r = bytes <= left ? 0 : -1;
    if (r == 0 && sh && bytes > 0) {
        uint64_t sa = left;
        struct scpd_err e = {0};
        if (store_space_set(fs->st, ifs_fs_name(which), a->reserved + bytes, a->limit, true, bytes,
                            used_walk, a, &sa, &e) != 0) {
            r = -1;
            if (e.code != SCPD_E_LIMIT && why)
                *why = e;
        }
        if (sa < left)
            left = sa;
    }
    if (r == 0)
        a->reserved += bytes;
    pthread_mutex_unlock(&a->mu);
    if (avail)
        *avail = left;
    return r;
}

void ifs_acct_written(struct ifs *fs, enum ifs_fs which, uint64_t from, uint64_t to)
{
    struct ifs_acct *a = &fs->acct[which];
    if (from == to)
        return;
    pthread_mutex_lock(&a->mu);
    a->written = a->written - from + to;   /* modular: the sum over uploads stays exact */
    pthread_mutex_unlock(&a->mu);
}

void ifs_acct_settle(struct ifs_acct *a, uint64_t add, uint64_t sub, uint64_t resv, uint64_t disk)
{
    a->used = sub0(a->used + add, sub);
    a->reserved -= resv;
    a->written -= disk;
    /* after the rename of a commit: a check in between counts the file twice, never zero times;
     * a failure is written later by the store's heartbeat */
    if (resv && acct_shared(a))
        store_space_set(a->fs->st, ifs_fs_name(a->which), a->reserved, 0, false, 0, NULL, NULL,
                        NULL, NULL);
}

int ifs_set_limit(struct ifs *fs, const char *fsname, uint64_t bytes, struct scpd_err *err)
{
    enum ifs_fs which;
    if (ifs_fs_lookup(fsname, &which, err) < 0)
        return -1;
    if (fs->rootfd[which] < 0)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: %s has no backing directory", fsname);
    pthread_mutex_lock(&fs->acct[which].mu);
    fs->acct[which].limit = bytes;
    pthread_mutex_unlock(&fs->acct[which].mu);
    return 0;
}

int ifs_describe(struct ifs *fs, enum ifs_fs which, struct ifs_fs_info *out,
                 struct scpd_err *err)
{
    if ((unsigned)which >= IFS_FS_COUNT)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: no such file system");
    memset(out, 0, sizeof(*out));
    out->name = ifs_fs_name(which);
    out->type = ifs_fs_type(which);
    for (size_t i = 0; i + 1 < sizeof(out->prefixes) / sizeof(out->prefixes[0]); i++)
        if (!(out->prefixes[i] = ifs_fs_prefix(which, i)))
            break;
    out->sized = fs->rootfd[which] >= 0;   /* else virtual files only: no size */
    return 0;
}

int ifs_info(struct ifs *fs, enum ifs_fs which, struct ifs_fs_info *out, struct scpd_err *err)
{
    if (ifs_describe(fs, which, out, err) < 0)
        return -1;
    if (!out->sized)
        return 0;
    struct ifs_acct *a = &fs->acct[which];
    uint64_t disk_free;
    /* a shared directory: the other instances' files count too (a walk that could not see every
     * directory keeps the last figure rather than an undercount) */
    uint64_t walked = 0;
    bool fresh = fs->shared && ifs_used_walk(fs, which, &walked) == 0;
    pthread_mutex_lock(&a->mu);
    if (fresh)
        a->used = walked;
    disk_space(fs, which, &disk_free);
    out->free = avail_locked(a, disk_free, &out->size);
    out->size_set = a->limit != 0;
    out->used = a->used;
    out->reserved = a->reserved;
    pthread_mutex_unlock(&a->mu);
    return 0;
}

int ifs_space(struct ifs *fs, enum ifs_fs which, uint64_t *size, uint64_t *avail,
              struct scpd_err *err)
{
    struct ifs_fs_info in;
    if (ifs_info(fs, which, &in, err) < 0)
        return -1;
    if (!in.sized)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: %s: is not a disk file system",
                            in.name);
    if (size)
        *size = in.size;
    if (avail)
        *avail = in.free;
    return 0;
}
