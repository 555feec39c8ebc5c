/* nc_proto: the NETCONF message layer (RFC 6241 over RFC 6242), without a socket: the framing
 * decoder (end-of-message "]]>]]>" for base:1.0 and chunks for base:1.1) turns bytes into
 * messages, the parsers turn a message into a <hello>'s capabilities or an <rpc> (libxml2, no
 * DTD, no network, no entity expansion), and the writers frame replies and rpc-errors. The
 * session (netconf_session.c) does the I/O; tests and the fuzzer call this directly. */
#ifndef SCPD_NC_PROTO_H
#define SCPD_NC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libxml/tree.h>

#define NC_NS_BASE "urn:ietf:params:xml:ns:netconf:base:1.0"
#define NC_CAP_BASE10 "urn:ietf:params:netconf:base:1.0"
#define NC_CAP_BASE11 "urn:ietf:params:netconf:base:1.1"

/* An rpc-error (RFC 6241 section 4.3). */
struct nc_err {
    const char *type;       /* transport, rpc, protocol, application */
    const char *tag;        /* RFC 6241 appendix A */
    char path[256];         /* error-path, "" for none */
    char msg[512];          /* error-message */
    char info[256];         /* error-info content (XML), "" for none */
};

/* Initializes libxml2 once, on the main thread before any session thread parses (libxml2's
 * lazy initialization is not safe from two threads at once). */
void nc_proto_init(void);

__attribute__((format(printf, 4, 5))) int nc_err_set(struct nc_err *e, const char *type,
                                                     const char *tag, const char *fmt, ...);

/* ---- framing (RFC 6242 section 4) ---- */
struct nc_framer {
    bool chunked;           /* base:1.1 chunked framing (after both hellos said 1.1) */
    size_t max;             /* the largest message accepted */
    char *buf;              /* the message being assembled (NUL-terminated when delivered) */
    size_t len, cap;
    int st;                 /* chunk decoder state */
    uint64_t left;          /* bytes left of the current chunk */
    unsigned digits;
    bool any_chunk;         /* a chunk of this message was read (end-of-chunks needs one) */
};

/* Called with each whole message (msg[len] == '\0'; valid during the call). Non-zero stops
 * feeding and is returned by nc_framer_feed. The callback may switch f->chunked (after hello):
 * the following bytes are decoded in the new framing. */
typedef int (*nc_msg_fn)(void *arg, const char *msg, size_t len);

void nc_framer_init(struct nc_framer *f, size_t max);
void nc_framer_free(struct nc_framer *f);
/* Feeds n bytes. 0: all consumed; -1: a framing error or a message over f->max (why filled; the
 * stream cannot be resynchronized, so the session ends); else the callback's non-zero value. */
int nc_framer_feed(struct nc_framer *f, const char *p, size_t n, nc_msg_fn fn, void *arg,
                   char *why, size_t cap);
/* Writes msg framed for the stream ("...]]>]]>" or "\n#LEN\n...\n##\n") to out. */
void nc_frame(FILE *out, bool chunked, const char *msg, size_t len);

/* ---- messages ---- */
/* A client <hello>: 0 with *base11 (both 1.0 and 1.1 are accepted, 1.1 preferred), or -1. */
int nc_hello_parse(const char *msg, size_t len, bool *base11, struct nc_err *e);

struct nc_rpc {
    xmlDocPtr doc;
    xmlNodePtr op;          /* the operation element (the <rpc>'s one child element) */
    char *attrs;            /* the <rpc>'s attributes and namespace declarations as XML text,
                             * echoed on the <rpc-reply> (RFC 6241 section 4.2) */
    char message_id[128];
};

/* Parses an <rpc>. 0, or -1 with e filled (malformed XML, not an rpc, no message-id, no
 * operation); rpc->attrs is kept on an error whenever the <rpc> was read, for the reply. */
int nc_rpc_parse(const char *msg, size_t len, struct nc_rpc *rpc, struct nc_err *e);
void nc_rpc_free(struct nc_rpc *rpc);

/* An element's child element named name in namespace ns (NULL: any), or NULL. */
xmlNodePtr nc_child(xmlNodePtr parent, const char *name, const char *ns);
/* The text of parent's child name (any namespace), trimmed, into buf; false when there is none. */
bool nc_child_text(xmlNodePtr parent, const char *name, char *buf, size_t cap);
/* The first element child, or NULL. */
xmlNodePtr nc_first_elem(xmlNodePtr parent);
/* Writes s with XML's special characters escaped. */
void nc_xml_escape(FILE *out, const char *s);
/* <rpc-reply ATTRS>body</rpc-reply> or with the rpc-error of e, to out (unframed). attrs may be
 * NULL. */
void nc_reply(FILE *out, const char *attrs, const char *body, size_t blen);
void nc_reply_error(FILE *out, const char *attrs, const struct nc_err *e);

#endif
