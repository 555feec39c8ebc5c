/* ifs: the IOS File System (docs/ifs.md): bootflash: (alias flash:) and nvram: backed by
 * DIR/fs/bootflash and DIR/fs/nvram, and the virtual files running-config and startup-config
 * backed by the store. One resolver, ifs_resolve(), turns every IFS path from every door (SCP,
 * SFTP, API) into a struct ifs_path that is beneath its root by construction; file access then
 * walks the path component by component with openat(O_NOFOLLOW), so a symlink is never followed.
 * Uploads are atomic (temporary file in the target directory, fsync, rename).
 * Thread-safe: one struct ifs serves every session; readers and writers belong to one thread. */
#ifndef SCPD_IFS_H
#define SCPD_IFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/scpd_err.h"
#include "base/lim.h"

struct ifs;
struct store;
struct store_who;

/* The file systems. system: holds only running-config. */
enum ifs_fs { IFS_FS_BOOTFLASH = 0, IFS_FS_NVRAM, IFS_FS_SYSTEM, IFS_FS_COUNT };

enum ifs_kind {
    IFS_K_DISK = 0,   /* a file or directory below a disk file system's root ("" = the root) */
    IFS_K_RUNNING,    /* running-config, system:running-config */
    IFS_K_STARTUP,    /* startup-config, nvram:startup-config */
};

/* A resolved path. Path rules:
 *   FS:  FS:/a/b  FS:a/b   a path on file system FS (bootflash, flash = bootflash, nvram, system);
 *                          a leading '/' after the prefix means the root of FS, never the host's
 *   a/b                    no prefix: relative to bootflash:
 *   /a/b                   refused: an absolute host path
 *   /FS:a  and  ~/FS:a     accepted as FS:a (the forms curl's scp:// URLs produce)
 *   running-config, startup-config (bare or with their file system) are the virtual files.
 * Empty and "." components are dropped; "..", NUL and control characters, components longer than
 * LIM_NAME_LEN and paths longer than LIM_PATH_LEN are refused. */
struct ifs_path {
    enum ifs_kind kind;
    enum ifs_fs fs;
    char rel[LIM_PATH_LEN];    /* IFS_K_DISK: "a/b" below the root, "" for the root itself */
    char name[LIM_PATH_LEN];   /* canonical form for messages, logs and statistics */
};

struct ifs_stat {
    bool dir;
    bool virt;                 /* generated content (running-config, startup-config) */
    unsigned mode;             /* permission bits */
    uint64_t size;
    int64_t mtime, atime;      /* seconds */
};

/* A directory entry of ifs_list(). */
struct ifs_dirent {
    char name[LIM_NAME_LEN + 1];
    struct ifs_stat st;
};

/* Opens the file systems below data_dir (DIR/fs/bootflash and DIR/fs/nvram, created if missing)
 * and removes temporary files left by a crash. st serves the virtual files (NULL: they fail).
 * Free with ifs_free() (NULL is a no-op). */
struct ifs *ifs_open(const char *data_dir, struct store *st, struct scpd_err *err);
/* The same on fs_dir itself (fs_dir/bootflash, fs_dir/nvram; --fs-dir). shared: other instances
 * use the directory too, so only temporary files untouched for LIM_IFS_TMP_STALE_SECS are
 * removed. Uploads stay atomic there: each writes its own temporary file (random name, O_EXCL)
 * beside the target and renames it over the target at the end. */
struct ifs *ifs_open_at(const char *fs_dir, bool shared, struct store *st, struct scpd_err *err);
void ifs_free(struct ifs *fs);

/* The disk file system a name stands for ("bootflash", "flash", "nvram", with or without the
 * colon, any case); SCPD_E_INVALID for anything else. Pure. */
int ifs_fs_lookup(const char *name, enum ifs_fs *out, struct scpd_err *err);

/* Sets the size of a file system ("bootflash", "flash", "nvram"): uploads may not make its files
 * exceed bytes in total. 0 restores the default (the free space of the backing directory). The
 * free space of the backing directory always bounds an upload too.
 * Space accounting: the bytes the files hold are counted once by ifs_open and kept up to date by
 * every commit, unlink and rename through ifs; uploads in flight reserve their space (a known
 * size at open, an unknown size as it grows), so concurrent uploads never share the same free
 * bytes. Files put into a backing directory by other means are counted from the next ifs_open. */
int ifs_set_limit(struct ifs *fs, const char *fsname, uint64_t bytes, struct scpd_err *err);

/* A file system as `show file systems` lists it. The byte counts are those uploads see. */
struct ifs_fs_info {
    const char *name;          /* "bootflash" (static strings, all of them) */
    const char *type;          /* "disk", "nvram", "opaque" (the IOS type column) */
    const char *prefixes[4];   /* the names it answers to, without the colon; NULL-terminated */
    bool sized;                /* a disk file system: the numbers below are set */
    bool size_set;             /* size is a limit set by ifs_set_limit, not the default */
    uint64_t size;             /* the limit, or used + free of the backing directory */
    uint64_t used;             /* bytes of its files */
    uint64_t free;             /* what one more upload may take now */
    uint64_t reserved;         /* promised to uploads in progress */
};
/* Fills out for which (any file system, IFS_FS_SYSTEM has no sizes). Thread-safe. Over a shared
 * directory (--fs-dir of several instances) it adds up the files there: one walk per call. */
int ifs_info(struct ifs *fs, enum ifs_fs which, struct ifs_fs_info *out, struct scpd_err *err);
/* What a file system is, without its space figures: name, type, prefixes and sized (the size
 * fields stay 0). Never walks: for callers that name or list file systems. */
int ifs_describe(struct ifs *fs, enum ifs_fs which, struct ifs_fs_info *out,
                 struct scpd_err *err);
/* Size and free bytes of a disk file system (ifs_info's size and free). */
int ifs_space(struct ifs *fs, enum ifs_fs which, uint64_t *size, uint64_t *avail,
              struct scpd_err *err);

/* ---- paths (pure: no file access) ---------------------------------------------------------- */
/* The one resolver. Returns 0, or -1 with err (SCPD_E_INVALID bad syntax or unknown file system,
 * SCPD_E_DENIED an escape attempt, SCPD_E_LIMIT too long) naming the path and the reason. */
int ifs_resolve(const char *path, struct ifs_path *out, struct scpd_err *err);
/* dir/name for a name received from a peer (validated as one component). */
int ifs_child(const struct ifs_path *dir, const char *name, struct ifs_path *out,
              struct scpd_err *err);
/* The last component of a path ("" for a root), e.g. the name to send in a C record. */
const char *ifs_basename(const struct ifs_path *p);

/* ---- access ------------------------------------------------------------------------------- */
/* Fills st. SCPD_E_NOTFOUND when missing; symlinks and special files are refused (SCPD_E_DENIED).
 */
int ifs_stat(struct ifs *fs, const struct ifs_path *p, struct ifs_stat *st, struct scpd_err *err);

/* Entries of a directory, sorted by name, without symlinks, special files and temporary files.
 * *out is the caller's (free()). */
int ifs_list(struct ifs *fs, const struct ifs_path *dir, struct ifs_dirent **out, size_t *n,
             struct scpd_err *err);

/* Creates a directory (mode & 0755, at least 0700). An existing directory is fine. */
int ifs_mkdir(struct ifs *fs, const struct ifs_path *p, unsigned mode, struct scpd_err *err);
/* Sets the times of a file or directory (scp -p). */
int ifs_set_times(struct ifs *fs, const struct ifs_path *p, int64_t mtime, int64_t atime,
                  struct scpd_err *err);
/* Removes a file (not a directory). */
int ifs_unlink(struct ifs *fs, const struct ifs_path *p, struct scpd_err *err);
/* Removes an empty directory (SCPD_E_INVALID when it holds anything, including an upload in
 * progress; never a root). */
int ifs_rmdir(struct ifs *fs, const struct ifs_path *p, struct scpd_err *err);
/* Renames a file or directory within one disk file system (one renameat beneath its root; a
 * symlink at either end or on the way is refused, not followed). An existing target is replaced
 * when replace is true and both are files, else refused (SCPD_E_EXISTS); a directory is never
 * replaced nor moved into itself; across file systems: SCPD_E_INVALID (copy, then delete). */
int ifs_rename(struct ifs *fs, const struct ifs_path *from, const struct ifs_path *to,
               bool replace, struct scpd_err *err);

/* Reading: a regular file or a virtual file. *st (if not NULL) gets the size that will be read. */
struct ifs_reader;
struct ifs_reader *ifs_read_open(struct ifs *fs, const struct ifs_path *p, struct ifs_stat *st,
                                 struct scpd_err *err);
/* Returns bytes read (> 0), 0 at the end, -1 on error. */
ssize_t ifs_read(struct ifs_reader *r, void *buf, size_t cap, struct scpd_err *err);
void ifs_read_close(struct ifs_reader *r);   /* NULL is a no-op */

/* Writing: an atomic upload of exactly size bytes. Refused up front (SCPD_E_LIMIT) when size
 * exceeds the file system's free space, which it then reserves until the commit or abort (config
 * files: LIM_CONFIG_FILE_BYTES). who names the user, source and peer for the audit log of config
 * writes (source NULL: "scp").
 * size IFS_SIZE_UNKNOWN opens an upload of unknown size (SFTP): it starts empty, takes data at any
 * offset (ifs_pwrite, ifs_write appends) straight into the temporary file in the target
 * directory, and reserves space as it grows (config files: up to LIM_CONFIG_FILE_BYTES); a write
 * that does not fit in the free space fails with SCPD_E_LIMIT naming it. The commit is the same.
 * A write or truncate that failed half done (the disk full mid-write, the kept content of
 * ifs_write_keep not copied in) ends the upload: every later call and the commit fail with its
 * error. One refused before it changed anything (not enough space) leaves the upload usable. */
#define IFS_SIZE_UNKNOWN UINT64_MAX
struct ifs_writer;
struct ifs_writer *ifs_write_open(struct ifs *fs, const struct ifs_path *p, uint64_t size,
                                  unsigned mode, const struct store_who *who,
                                  struct scpd_err *err);
int ifs_write(struct ifs_writer *w, const void *buf, size_t len, struct scpd_err *err);
/* The mode the file gets at the commit (SFTP sets it after OPEN). */
void ifs_write_set_mode(struct ifs_writer *w, unsigned mode);
/* Uploads of unknown size only (else SCPD_E_INTERNAL). ifs_pwrite writes len bytes at off (a gap
 * reads as zeros); ifs_write_truncate sets the size; ifs_write_size is the current size (with the
 * kept content below). ifs_write_keep makes the upload start as the target's current content
 * (SFTP OPEN without TRUNC; no-op when there is none or for config files): the old file is held
 * open now and its bytes beyond what was written in order from offset 0 are copied in
 * (copy_file_range, so a reflink where the file system can) only when they can still show: at the
 * first write out of order, a truncate beyond the written part, or the commit. A client that
 * rewrites the whole file and truncates it (OpenSSH) costs no copy. */
int ifs_pwrite(struct ifs_writer *w, const void *buf, size_t len, uint64_t off,
               struct scpd_err *err);
int ifs_write_truncate(struct ifs_writer *w, uint64_t size, struct scpd_err *err);
int ifs_write_keep(struct ifs_writer *w, struct scpd_err *err);
uint64_t ifs_write_size(const struct ifs_writer *w);
/* Makes the upload visible: disk files are fsync'd and renamed over the target (times applied if
 * times != NULL: {mtime, atime}); running-config is merged, startup-config replaced. Invalid config
 * fails with SCPD_E_INVALID, err a one-line summary and *detail (if detail != NULL) the parser's
 * errors in the IOS marker form (caller frees). Always frees w; on failure nothing changed. */
int ifs_write_commit(struct ifs_writer *w, const int64_t *times, char **detail,
                     struct scpd_err *err);
/* Discards the upload: the temporary file is removed, the target untouched. NULL is a no-op. */
void ifs_write_abort(struct ifs_writer *w);

#endif
