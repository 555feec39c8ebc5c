/* scp_proto: the legacy rcp/scp protocol, server side, as a state machine without I/O.
 * Bytes from the client go in through scp_proto_feed(); parsed, validated events come out (C/D/E/T
 * records, file data as pointers into the caller's buffer, client status bytes). Replies and
 * records the server sends are built by the scp_proto_fmt_* functions. No socket, no file: the
 * session (scp_session.c) does the I/O, tests and fuzzers drive this directly.
 * A struct scp_proto is a plain value owned by one session; no allocation, no global state. */
#ifndef SCPD_SCP_PROTO_H
#define SCPD_SCP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/lim.h"

/* What the server expects next from the client. */
enum scp_state {
    SCP_ST_RECORD = 0, /* sink: a record line (C, D, E, T) or a client \1/\2 message */
    SCP_ST_DATA,       /* sink: file data, proto.remaining bytes to go */
    SCP_ST_STATUS,     /* a status byte: sink after file data, source after each thing we sent */
    SCP_ST_DONE,       /* a fatal error or \2 from the client: nothing more is accepted */
};

enum scp_ev_type {
    SCP_EV_NONE = 0,   /* more input needed */
    SCP_EV_FILE,       /* C record: mode, size, name */
    SCP_EV_DIR,        /* D record: mode, name (depth already increased) */
    SCP_EV_END,        /* E record (depth already decreased) */
    SCP_EV_TIME,       /* T record: mtime, atime */
    SCP_EV_DATA,       /* file data: data/len point into the fed buffer */
    SCP_EV_DATA_END,   /* all size bytes of the file received; a status byte follows */
    SCP_EV_OK,         /* client status \0 */
    SCP_EV_WARN,       /* client status \1 with msg (non fatal) */
    SCP_EV_FATAL,      /* client status \2 with msg: the client gives up */
    SCP_EV_ERROR,      /* protocol violation: msg says what; the session must end (reply \2) */
};

struct scp_event {
    enum scp_ev_type type;
    unsigned mode;                  /* C/D: permission bits as sent (07777 at most) */
    uint64_t size;                  /* C: file size */
    int64_t mtime, atime;           /* T: seconds */
    const uint8_t *data;            /* DATA */
    size_t len;                     /* DATA */
    char name[LIM_NAME_LEN + 1];    /* C/D: validated file name */
    char msg[LIM_SCP_ERRMSG_LEN];   /* WARN/FATAL: client message; ERROR: what is wrong */
    char record[LIM_SCP_RECORD_LEN]; /* C/D/E/T: the record line without newline, for traces */
};

#define SCP_SIZE_MAX ((uint64_t)INT64_MAX) /* a size larger than any file system offset */

struct scp_proto {
    enum scp_state state;
    bool sink;
    bool recursive;               /* -r: D and E records allowed */
    bool have_time;               /* a T record was received; the next record must be C or D */
    int depth;                    /* open D records */
    uint64_t remaining;           /* DATA: bytes of the current file still to come */
    enum scp_ev_type last;        /* the last record event, for scp_proto_reject() */
    size_t linelen;               /* bytes of the current line in line[] */
    bool in_msg;                  /* collecting a \1/\2 message line */
    uint8_t msgtype;              /* 1 or 2 */
    uint8_t line[LIM_SCP_RECORD_LEN];
};

/* sink: the server receives (scp -t); it expects records. source (scp -f): it expects the client's
 * initial status byte. */
void scp_proto_init(struct scp_proto *p, bool sink, bool recursive);

/* Consumes input. Returns the number of bytes of in[0..len) used (possibly 0) and fills *ev with at
 * most one event (SCP_EV_NONE when all of in was used without completing one). Call again with the
 * rest of the input until it returns 0 with SCP_EV_NONE. Zero-length calls are valid (a zero-size
 * file completes without input). */
size_t scp_proto_feed(struct scp_proto *p, const uint8_t *in, size_t len, struct scp_event *ev);

/* The session refused the last C or D record (it replies \1): a refused C sends no data, a
 * refused D sends no contents and no E, so the state goes back to expecting a record. */
void scp_proto_reject(struct scp_proto *p);

/* Source mode: the server has sent something that the client acknowledges; expect a status. */
void scp_proto_expect_status(struct scp_proto *p);

/* Pure validators (also used by the fuzzers and by scp_session for outgoing names). */
int scp_proto_check_name(const char *name, size_t len, char *why, size_t whycap);

/* ---- building what the server sends ------------------------------------------------------- */
/* Each returns the length written (without NUL) or -1 if cap is too small or an argument is
 * invalid. Messages are sanitized: control characters become '?', so a reply is one line. */
int scp_proto_fmt_reply(char *buf, size_t cap, int type, const char *msg); /* type 0, 1, 2 */
int scp_proto_fmt_file(char *buf, size_t cap, unsigned mode, uint64_t size, const char *name);
int scp_proto_fmt_dir(char *buf, size_t cap, unsigned mode, const char *name);
int scp_proto_fmt_end(char *buf, size_t cap);
int scp_proto_fmt_time(char *buf, size_t cap, int64_t mtime, int64_t atime);

/* Text of a byte sequence for traces: "C0644 12 a.txt", control characters escaped. */
void scp_proto_visible(const void *src, size_t len, char *dst, size_t cap);

#endif
