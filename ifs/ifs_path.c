/* ifs_path: the one IFS path resolver (see the path rules in ifs.h). Pure string work, no file
 * access: the result names a file system and a normalized relative path with no "..", no empty
 * component and no control character, so it is beneath its root by construction; symlinks are the
 * job of the file access code (ifs.c), which never follows one.
 * File systems and virtual files are tables: adding one is adding a row. */
#include "ifs/ifs_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *prefix;
    enum ifs_fs fs;
} ifs_prefixes[] = {
    {"bootflash", IFS_FS_BOOTFLASH},
    {"flash", IFS_FS_BOOTFLASH},   /* IOS XE alias */
    {"nvram", IFS_FS_NVRAM},
    {"system", IFS_FS_SYSTEM},
};

static const struct {
    enum ifs_fs fs;
    const char *name;
    enum ifs_kind kind;
} ifs_virtuals[] = {
    {IFS_FS_SYSTEM, "running-config", IFS_K_RUNNING},
    {IFS_FS_NVRAM, "startup-config", IFS_K_STARTUP},
};

/* name, and the type column of IOS's `show file systems` */
static const struct {
    const char *name;
    const char *type;
} ifs_fs_table[IFS_FS_COUNT] = {
    [IFS_FS_BOOTFLASH] = {"bootflash", "disk"},
    [IFS_FS_NVRAM] = {"nvram", "nvram"},
    [IFS_FS_SYSTEM] = {"system", "opaque"},
};

const char *ifs_fs_name(enum ifs_fs fs)
{
    return (unsigned)fs < IFS_FS_COUNT ? ifs_fs_table[fs].name : "?";
}

const char *ifs_fs_type(enum ifs_fs fs)
{
    return (unsigned)fs < IFS_FS_COUNT ? ifs_fs_table[fs].type : "?";
}

const char *ifs_fs_prefix(enum ifs_fs fs, size_t i)
{
    for (size_t k = 0; k < sizeof(ifs_prefixes) / sizeof(ifs_prefixes[0]); k++)
        if (ifs_prefixes[k].fs == fs && i-- == 0)
            return ifs_prefixes[k].prefix;
    return NULL;
}

/* Copies s into dst with control characters as '?' (for messages). */
static void ifs_visible(const char *s, char *dst, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return;
    for (; *s && o + 1 < cap; s++)
        dst[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    dst[o] = '\0';
}

__attribute__((format(printf, 4, 5)))
static int path_error(struct scpd_err *err, enum scpd_errcode code, const char *whole,
                      const char *fmt, ...)
{
    char vis[LIM_PATH_LEN], why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    ifs_visible(whole, vis, sizeof(vis));
    return scpd_err_set(err, code, "%%Error opening %.400s (%s)", vis, why);
}

/* Checks one path component; fills err with "%Error opening WHOLE (reason)". */
static int ifs_check_component(const char *whole, const char *c, size_t len,
                               struct scpd_err *err)
{
    if (len == 2 && c[0] == '.' && c[1] == '.')
        return path_error(err, SCPD_E_DENIED, whole, "'..' is not allowed");
    if (len > LIM_NAME_LEN)
        return path_error(err, SCPD_E_LIMIT, whole, "name longer than %d bytes", LIM_NAME_LEN);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)c[i];
        if (ch < 0x20 || ch == 0x7f)
            return path_error(err, SCPD_E_INVALID, whole, "control character in name");
        if (ch == '/')
            return path_error(err, SCPD_E_INVALID, whole, "'/' in a file name");
    }
    if (len >= sizeof(IFS_TMP_PREFIX) - 1 &&
        memcmp(c, IFS_TMP_PREFIX, sizeof(IFS_TMP_PREFIX) - 1) == 0)
        return path_error(err, SCPD_E_DENIED, whole, "names starting with " IFS_TMP_PREFIX
                                                     " are reserved");
    return 0;
}

/* Length of a "prefix:" at s (before any '/'), 0 if none. */
static size_t prefix_len(const char *s)
{
    size_t n = strcspn(s, ":/");
    return s[n] == ':' ? n : 0;
}

static int lookup_prefix(const char *s, size_t n, enum ifs_fs *fs)
{
    for (size_t i = 0; i < sizeof(ifs_prefixes) / sizeof(ifs_prefixes[0]); i++) {
        if (strlen(ifs_prefixes[i].prefix) == n && strncasecmp(s, ifs_prefixes[i].prefix, n) == 0) {
            *fs = ifs_prefixes[i].fs;
            return 0;
        }
    }
    return -1;
}

int ifs_fs_lookup(const char *name, enum ifs_fs *out, struct scpd_err *err)
{
    size_t n = strlen(name);
    if (n && name[n - 1] == ':')
        n--;
    if (lookup_prefix(name, n, out) < 0 || *out == IFS_FS_SYSTEM)
        return scpd_err_set(err, SCPD_E_INVALID,
                            "%%Error: %.64s is not a disk file system (bootflash, flash or nvram)",
                            name);
    return 0;
}

/* Normalizes the part after the prefix into out->rel. */
static int normalize(const char *whole, const char *s, struct ifs_path *out, struct scpd_err *err)
{
    size_t o = 0;
    while (*s) {
        size_t n = strcspn(s, "/");
        if (n == 0 || (n == 1 && s[0] == '.')) {
            s += n + (s[n] == '/');
            continue;
        }
        if (ifs_check_component(whole, s, n, err) < 0)
            return -1;
        if (o + n + 2 > sizeof(out->rel))
            return path_error(err, SCPD_E_LIMIT, whole, "path longer than %d bytes",
                              LIM_PATH_LEN - 1);
        if (o)
            out->rel[o++] = '/';
        memcpy(out->rel + o, s, n);
        o += n;
        s += n + (s[n] == '/');
    }
    out->rel[o] = '\0';
    return 0;
}

static int set_name(struct ifs_path *p, const char *whole, struct scpd_err *err)
{
    int r;
    if (p->kind == IFS_K_RUNNING)
        r = snprintf(p->name, sizeof(p->name), "running-config");
    else if (p->kind == IFS_K_STARTUP)
        r = snprintf(p->name, sizeof(p->name), "startup-config");
    else
        r = snprintf(p->name, sizeof(p->name), "%s:%s", ifs_fs_name(p->fs), p->rel);
    if (r < 0 || (size_t)r >= sizeof(p->name))
        return path_error(err, SCPD_E_LIMIT, whole, "path longer than %d bytes", LIM_PATH_LEN - 1);
    return 0;
}

/* Virtual files: FS:name for their file system, and the bare name without a prefix. */
static int classify(struct ifs_path *p, bool had_prefix, const char *whole, struct scpd_err *err)
{
    p->kind = IFS_K_DISK;
    for (size_t i = 0; i < sizeof(ifs_virtuals) / sizeof(ifs_virtuals[0]); i++) {
        if (strcmp(p->rel, ifs_virtuals[i].name) != 0)
            continue;
        if (!had_prefix || p->fs == ifs_virtuals[i].fs) {
            p->kind = ifs_virtuals[i].kind;
            p->fs = ifs_virtuals[i].fs;
            p->rel[0] = '\0';
            return 0;
        }
    }
    if (p->fs == IFS_FS_SYSTEM)
        return path_error(err, SCPD_E_NOTFOUND, whole, "system: holds only running-config");
    return 0;
}

int ifs_resolve(const char *path, struct ifs_path *out, struct scpd_err *err)
{
    const char *s = path;
    bool had_prefix = false;
    memset(out, 0, sizeof(*out));
    if (!path)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: no path given");
    if (strlen(path) >= LIM_PATH_LEN)
        return path_error(err, SCPD_E_LIMIT, "(path)", "path longer than %d bytes",
                          LIM_PATH_LEN - 1);
    /* "~" and "~/x": the session's home is bootflash: (what a shell would make of scp host:~/x). */
    if (s[0] == '~' && (s[1] == '\0' || s[1] == '/'))
        s += 1 + (s[1] == '/');
    out->fs = IFS_FS_BOOTFLASH;
    if (s[0] == '/') {
        /* curl's scp://host/bootflash:x sends "/bootflash:x": tolerated for known prefixes only */
        size_t n = prefix_len(s + 1);
        if (n == 0 || lookup_prefix(s + 1, n, &out->fs) < 0)
            return path_error(err, SCPD_E_DENIED, path,
                              "absolute host paths are not allowed; use bootflash:/...");
        s++;
    }
    size_t n = prefix_len(s);
    if (n > 0 || s[0] == ':') {
        if (n == 0 || lookup_prefix(s, n, &out->fs) < 0)
            return path_error(err, SCPD_E_INVALID, path, "Invalid file system");
        s += n + 1;
        had_prefix = true;
    }
    if (normalize(path, s, out, err) < 0)
        return -1;
    if (classify(out, had_prefix, path, err) < 0)
        return -1;
    return set_name(out, path, err);
}

int ifs_child(const struct ifs_path *dir, const char *name, struct ifs_path *out,
              struct scpd_err *err)
{
    size_t n = strlen(name), dl = strlen(dir->rel);
    if (dir->kind != IFS_K_DISK)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: %s is not a directory", dir->name);
    if (n == 0 || (n == 1 && name[0] == '.'))
        return path_error(err, SCPD_E_INVALID, name, "empty or '.' file name");
    if (ifs_check_component(name, name, n, err) < 0)
        return -1;
    if (dl + n + 2 > sizeof(out->rel))
        return path_error(err, SCPD_E_LIMIT, name, "path longer than %d bytes", LIM_PATH_LEN - 1);
    *out = *dir;
    if (dl)
        out->rel[dl++] = '/';
    memcpy(out->rel + dl, name, n + 1);
    /* nvram: + "startup-config" is the startup datastore, whichever way the path was built */
    if (classify(out, true, name, err) < 0)
        return -1;
    return set_name(out, name, err);
}

const char *ifs_root_virtual(enum ifs_fs fs, size_t i)
{
    for (size_t k = 0; k < sizeof(ifs_virtuals) / sizeof(ifs_virtuals[0]); k++)
        if (ifs_virtuals[k].fs == fs && i-- == 0)
            return ifs_virtuals[k].name;
    return NULL;
}

const char *ifs_basename(const struct ifs_path *p)
{
    if (p->kind == IFS_K_RUNNING)
        return "running-config";
    if (p->kind == IFS_K_STARTUP)
        return "startup-config";
    const char *slash = strrchr(p->rel, '/');
    return slash ? slash + 1 : p->rel;
}
