/* ifs_int: what the files of the ifs module share (not an interface for other modules). */
#ifndef SCPD_IFS_INT_H
#define SCPD_IFS_INT_H

#include <pthread.h>

#include "ifs/ifs.h"

/* Temporary upload files start with this; listings hide them, names with it are refused, and
 * ifs_open() removes leftovers of a crash. */
#define IFS_TMP_PREFIX ".scpd-tmp."
#define IFS_IO_CHUNK (256u << 10)   /* file writes are gathered to this size */

/* The space accounting of one disk file system (ifs_space.c). Every field under mu. */
struct ifs_acct {
    pthread_mutex_t mu;
    struct ifs *fs;      /* back: the ifs and which file system this is (set by ifs_acct_init) */
    enum ifs_fs which;
    uint64_t limit;      /* the size set by ifs_set_limit; 0: none */
    uint64_t used;       /* sum of the sizes of the files below the root */
    uint64_t reserved;   /* promised to uploads in flight (what their temporary files may reach) */
    uint64_t written;    /* the part of reserved already in temporary files (statvfs sees it) */
};

struct ifs {
    struct store *st;
    int rootfd[IFS_FS_COUNT];          /* -1 for file systems without a backing directory */
    struct ifs_acct acct[IFS_FS_COUNT];
    bool shared;          /* --fs-dir shared by instances: stale temporary files are reaped */
    int64_t next_reap_ms; /* __atomic; monotonic time of the next reaping walk */
};

const char *ifs_fs_name(enum ifs_fs fs);
const char *ifs_fs_type(enum ifs_fs fs);
/* The i-th prefix naming fs ("bootflash", "flash"), NULL past the last. */
const char *ifs_fs_prefix(enum ifs_fs fs, size_t i);
/* The i-th virtual file at the root of fs (startup-config on nvram:), NULL past the last. */
const char *ifs_root_virtual(enum ifs_fs fs, size_t i);

/* ---- virtual files (ifs_config.c) ---- */
/* The text of running-config or startup-config (caller frees); *mtime (may be NULL) its time. */
char *ifs_cfg_text(struct ifs *fs, enum ifs_kind kind, size_t *len, int64_t *mtime,
                   struct scpd_err *err);
/* Merges text into running-config or replaces startup-config; detail gets the parser's errors. */
int ifs_cfg_commit(struct ifs *fs, enum ifs_kind kind, const char *text, size_t len,
                   const struct store_who *who, char **detail, struct scpd_err *err);

/* ---- space accounting (ifs_space.c) ---- */
void ifs_acct_init(struct ifs *fs);
void ifs_acct_destroy(struct ifs *fs);
/* Reserves bytes more for an upload on which, if they fit in the free space (see ifs_space);
 * -1 when they do not, *avail (may be NULL) the bytes that were free either way. */
int ifs_acct_reserve(struct ifs *fs, enum ifs_fs which, uint64_t bytes, uint64_t *avail,
                     struct scpd_err *why);
/* With a shared --fs-dir, a size set and a shared store, the reservations are held in the store
 * too (store_space_set: the instances' uploads together stay within the size); then -1 may also
 * mean that the store cannot be reached, with why set (SCPD_E_UNAVAILABLE). The growth an upload
 * of unknown size reserves ahead of its end then (one store round trip per that much): */
uint64_t ifs_acct_ahead(struct ifs *fs, enum ifs_fs which);
/* The bytes the files of which hold now (a walk of its directory, temporary files excluded):
 * 0, or -1 when the walk could not see every directory (*used is then an undercount). */
int ifs_used_walk(struct ifs *fs, enum ifs_fs which, uint64_t *used);
/* An upload's temporary file went from `from` to `to` bytes (statvfs sees them now). */
void ifs_acct_written(struct ifs *fs, enum ifs_fs which, uint64_t from, uint64_t to);
/* With acct[which].mu held: used += add - sub (never below 0), and an upload's reservation resv
 * and written bytes disk leave the in-flight counts (the commit, an abort, a shrink). */
void ifs_acct_settle(struct ifs_acct *a, uint64_t add, uint64_t sub, uint64_t resv, uint64_t disk);

#endif
