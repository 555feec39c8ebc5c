/* ifs_int: what the files of the ifs module share (not an interface for other modules). */
#ifndef SCPD_IFS_INT_H
#define SCPD_IFS_INT_H

#include "ifs.h"

/* Temporary upload files start with this; listings hide them, names with it are refused, and
 * ifs_open() removes leftovers of a crash. */
#define IFS_TMP_PREFIX ".scpd-tmp."
#define IFS_IO_CHUNK (256u << 10)   /* file writes are gathered to this size */

struct ifs {
    struct store *st;
    int rootfd[IFS_FS_COUNT];          /* -1 for file systems without a backing directory */
    uint64_t limit[IFS_FS_COUNT];      /* 0: the free space of the backing directory */
};

const char *ifs_fs_name(enum ifs_fs fs);
/* The i-th virtual file at the root of fs (startup-config on nvram:), NULL past the last. */
const char *ifs_root_virtual(enum ifs_fs fs, size_t i);

/* ---- virtual files (ifs_config.c) ---- */
/* The text of running-config or startup-config (caller frees); *mtime (may be NULL) its time. */
char *ifs_cfg_text(struct ifs *fs, enum ifs_kind kind, size_t *len, int64_t *mtime,
                   struct scpd_err *err);
/* Merges text into running-config or replaces startup-config; detail gets the parser's errors. */
int ifs_cfg_commit(struct ifs *fs, enum ifs_kind kind, const char *text, size_t len,
                   const struct store_who *who, char **detail, struct scpd_err *err);

#endif
