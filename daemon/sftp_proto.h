/* sftp_proto: the SFTP version 3 wire format (draft-ietf-secsh-filexfer-02) without I/O. Bytes in,
 * requests out: sftp_proto_frame() finds one whole packet in a buffer, sftp_proto_parse() turns it
 * into a struct sftp_req whose strings point into that packet (nothing is allocated or copied).
 * Replies are built into a caller-owned fixed buffer (struct sftp_out) that never grows.
 * Every length a peer sends is checked against the packet and against base/lim.h.
 * It also holds the mapping between SFTP path strings and IOS File System paths (pure string
 * work, see sftp_proto_path()). Thread-safe: no state beyond the caller's structs. */
#ifndef SCPD_SFTP_PROTO_H
#define SCPD_SFTP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/scpd_err.h"
#include "base/lim.h"

struct ifs_path;

#define SFTP_VERSION 3

enum sftp_type {
    SFTP_INIT = 1,
    SFTP_VERSION_REPLY = 2,
    SFTP_OPEN = 3,
    SFTP_CLOSE = 4,
    SFTP_READ = 5,
    SFTP_WRITE = 6,
    SFTP_LSTAT = 7,
    SFTP_FSTAT = 8,
    SFTP_SETSTAT = 9,
    SFTP_FSETSTAT = 10,
    SFTP_OPENDIR = 11,
    SFTP_READDIR = 12,
    SFTP_REMOVE = 13,
    SFTP_MKDIR = 14,
    SFTP_RMDIR = 15,
    SFTP_REALPATH = 16,
    SFTP_STAT = 17,
    SFTP_RENAME = 18,
    SFTP_READLINK = 19,
    SFTP_SYMLINK = 20,
    SFTP_STATUS = 101,
    SFTP_HANDLE = 102,
    SFTP_DATA = 103,
    SFTP_NAME = 104,
    SFTP_ATTRS = 105,
    SFTP_EXTENDED = 200,
    SFTP_EXTENDED_REPLY = 201,
};

enum sftp_status {
    SFTP_FX_OK = 0,
    SFTP_FX_EOF = 1,
    SFTP_FX_NO_SUCH_FILE = 2,
    SFTP_FX_PERMISSION_DENIED = 3,
    SFTP_FX_FAILURE = 4,
    SFTP_FX_BAD_MESSAGE = 5,
    SFTP_FX_NO_CONNECTION = 6,
    SFTP_FX_CONNECTION_LOST = 7,
    SFTP_FX_OP_UNSUPPORTED = 8,
};

/* SSH_FXP_OPEN pflags */
#define SFTP_FXF_READ 0x01u
#define SFTP_FXF_WRITE 0x02u
#define SFTP_FXF_APPEND 0x04u
#define SFTP_FXF_CREAT 0x08u
#define SFTP_FXF_TRUNC 0x10u
#define SFTP_FXF_EXCL 0x20u

/* ATTRS flags */
#define SFTP_ATTR_SIZE 0x00000001u
#define SFTP_ATTR_UIDGID 0x00000002u
#define SFTP_ATTR_PERMISSIONS 0x00000004u
#define SFTP_ATTR_ACMODTIME 0x00000008u
#define SFTP_ATTR_EXTENDED 0x80000000u

struct sftp_attrs {
    uint32_t flags;
    uint64_t size;
    uint32_t uid, gid;
    uint32_t perm; /* with the file type bits (S_IFREG, S_IFDIR) when sent */
    uint32_t atime, mtime;
};

/* A string inside a packet: not NUL-terminated, valid while the packet is. */
struct sftp_str {
    const uint8_t *p;
    uint32_t len;
};

/* One parsed request. Only the fields of its type are set (see the table in sftp_proto.c). */
struct sftp_req {
    uint8_t type;
    uint32_t id;             /* request id; for INIT the client's version */
    struct sftp_str path;    /* OPEN, *STAT, SETSTAT, OPENDIR, REMOVE, MKDIR, RMDIR, REALPATH,
                                RENAME (old), READLINK, SYMLINK (link path) */
    struct sftp_str path2;   /* RENAME (new), SYMLINK (target) */
    struct sftp_str handle;  /* CLOSE, READ, WRITE, FSTAT, FSETSTAT, READDIR */
    struct sftp_str data;    /* WRITE */
    struct sftp_str ext;     /* EXTENDED: the request name; its data is in data */
    uint32_t pflags;         /* OPEN */
    uint64_t offset;         /* READ, WRITE */
    uint32_t len;            /* READ */
    struct sftp_attrs attrs; /* OPEN, SETSTAT, FSETSTAT, MKDIR */
};

/* Looks for one whole packet at buf. Returns 1 when one is there, 0 when more bytes are needed,
 * -1 with err when the announced length is 0 or exceeds LIM_SFTP_PACKET (the stream cannot be
 * trusted after that). *pkt_len gets the packet's whole length (4-byte length included) as soon
 * as the length is there (so also with 0: what to wait for); it is untouched before that. */
int sftp_proto_frame(const uint8_t *buf, size_t len, size_t *pkt_len, struct scpd_err *err);

/* Parses one packet as framed above. Returns 0; 1 for a type this server does not know (req->type
 * and req->id are set so it can answer OP_UNSUPPORTED); -1 with err when the body is malformed
 * (req->id is set when the packet had one, else 0). */
int sftp_proto_parse(const uint8_t *pkt, size_t len, struct sftp_req *req, struct scpd_err *err);

/* The arguments of an EXTENDED request that are n path strings (statvfs@openssh.com: 1,
 * posix-rename@openssh.com: 2), from req->data. -1 with err when malformed or too long. */
int sftp_proto_ext_paths(const struct sftp_req *req, struct sftp_str *out, size_t n,
                         struct scpd_err *err);

/* The request's name for traces and logs ("OPEN", "READ", ...; "TYPE-nn" when unknown). */
const char *sftp_proto_type_name(uint8_t type);

/* Copies a path string into a NUL-terminated buffer. -1 with err when it holds a NUL byte or does
 * not fit (LIM_PATH_LEN). */
int sftp_proto_cstr(const struct sftp_str *s, char *buf, size_t cap, struct scpd_err *err);

/* ---- replies ----------------------------------------------------------------------------------
 * A fixed buffer; each builder appends one whole packet or, when it does not fit, nothing and
 * returns -1 (the caller flushes first: sftp_out_room() says what is left). */
struct sftp_out {
    uint8_t *buf;
    size_t len, cap;
    size_t mark;    /* start of the packet being built (NAME, DATA) */
    uint32_t count; /* NAME entries so far */
    size_t count_at;
};

void sftp_out_init(struct sftp_out *o, uint8_t *buf, size_t cap);
static inline size_t sftp_out_room(const struct sftp_out *o)
{
    return o->cap - o->len;
}

int sftp_out_version(struct sftp_out *o, const char *const *ext_names,
                     const char *const *ext_values, size_t n);
/* STATUS with a message (and an empty language tag). */
int sftp_out_status(struct sftp_out *o, uint32_t id, uint32_t code, const char *msg);
int sftp_out_handle(struct sftp_out *o, uint32_t id, const void *handle, uint32_t len);
int sftp_out_attrs(struct sftp_out *o, uint32_t id, const struct sftp_attrs *a);

/* DATA in place: *dst gets room for up to max bytes inside the buffer; the caller reads the file
 * straight into it and finishes with sftp_out_data_end(n) (n <= max). -1 when max does not fit. */
int sftp_out_data_begin(struct sftp_out *o, uint32_t id, uint8_t **dst, size_t max);
void sftp_out_data_end(struct sftp_out *o, size_t n);
/* Drops the packet begun by sftp_out_data_begin() (nothing to send after all). */
void sftp_out_cancel(struct sftp_out *o);

/* NAME: begin, add entries (an entry that does not fit returns -1 and is not added), end. */
int sftp_out_name_begin(struct sftp_out *o, uint32_t id);
int sftp_out_name_add(struct sftp_out *o, const char *name, const char *longname,
                      const struct sftp_attrs *a);
void sftp_out_name_end(struct sftp_out *o);

/* EXTENDED_REPLY of limits@openssh.com: packet, read and write lengths, open handles. */
int sftp_out_limits(struct sftp_out *o, uint32_t id, uint64_t packet, uint64_t read, uint64_t write,
                    uint64_t handles);
/* EXTENDED_REPLY of statvfs@openssh.com (block size 1 KiB: sizes in KiB). */
int sftp_out_statvfs(struct sftp_out *o, uint32_t id, uint64_t size, uint64_t avail);

/* The `ls -l` line of a NAME entry: "-rw-r--r--    1 0        0            1234 Nov 24 10:15 x".
 * now: the current time (dates older than six months show the year, as ls does). */
int sftp_proto_longname(char *buf, size_t cap, const char *name, const struct sftp_attrs *a,
                        int64_t now);

/* ---- paths ------------------------------------------------------------------------------------
 * SFTP paths and the IOS File System (the mapping every SFTP client sees):
 *   /                  bootflash: (the home directory: REALPATH(".") is "/")
 *   /a/b, a/b          bootflash:a/b
 *   /running-config    the running configuration (also system:running-config)
 *   /startup-config    the startup configuration (also /nvram:/startup-config)
 *   /nvram:, /nvram:/x nvram: and nvram:x
 *   /bootflash/x, /flash/x, /nvram/x   the same: a first name that is a file system's is that
 *                      file system (a directory of that name at the top of bootflash: is reached
 *                      as /bootflash:/name)
 *   bootflash:x, flash:x, nvram:x, system:running-config  the IOS forms, anywhere in the path: a
 *                      component "FS:rest" naming a known file system starts the path afresh, so
 *                      what a client prepends (its working directory) does not matter:
 *                      "/bootflash/nvram:x" is nvram:x.
 * This is a mapping from SFTP paths to IFS paths, not a second resolver: "." and empty components
 * are dropped and ".." takes back the name before it ("/a/../b" is "/b", "/nvram:/.." is "/"),
 * because SFTP clients build such paths (`cd ..`). A ".." with nothing before it is passed on, and
 * the one resolver, ifs_resolve(), refuses it like every other path that would leave its root; it
 * also checks names, lengths and control characters, and its messages show the path with control
 * characters as '?'. */
int sftp_proto_path(const char *sftp_path, struct ifs_path *out, struct scpd_err *err);

/* The canonical SFTP form of a resolved path (what REALPATH answers); it maps back to the same
 * file. -1 if it does not fit, or for a file no SFTP path reaches (a name like "nvram:x" below
 * a bootflash: directory, which only SCP can create). */
int sftp_proto_realname(const struct ifs_path *p, char *buf, size_t cap);

#endif
