/* api_req: a request as a handler sees it and the response it fills, shared by every file of the
 * HTTP door (api.c, the router, the handlers, authentication, the guard).
 *
 * A request goes through one path in api.c: match a row of the route table (api_route.c) ->
 * 405 with Allow if the method is not in the row -> authenticate (api_auth.c) if the row needs a
 * privilege -> 403 if too low -> parse the JSON body if the row asks for it (400/415) -> call the
 * handler. A handler reads the request and fills a struct api_resp through the helpers below; it
 * never touches libmicrohttpd itself, except for streaming (api_resp_stream) which hands over a
 * content-reader callback. Handlers run on the connection's own thread (thread per connection), so
 * a streaming callback may block for a bounded time (e.g. trace_sub_take with a timeout).
 *
 * Ownership: the request and everything in it belong to api.c and live until the response is sent;
 * a handler passes ownership of json_t / text it gives to the resp helpers. */
#ifndef SCPD_API_REQ_H
#define SCPD_API_REQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "base/lim.h"
#include "base/scpd_err.h"

struct scpd;
struct store_snap;
struct store_who;
struct api_tokens;

/* ---- methods --------------------------------------------------------------------------------- */
enum api_method {
    API_GET = 1 << 0,
    API_HEAD = 1 << 1,     /* served as GET without a body; implied by API_GET in a row */
    API_POST = 1 << 2,
    API_PUT = 1 << 3,
    API_PATCH = 1 << 4,
    API_DELETE = 1 << 5,
    API_OPTIONS = 1 << 6,  /* answered by api.c from the row's methods (Allow); never in a row */
};
#define API_WRITE_METHODS (API_POST | API_PUT | API_PATCH | API_DELETE)

/* ---- privilege of a row --------------------------------------------------------------------- */
#define API_PRIV_ANON  (-1)  /* no credentials needed (host-meta, dashboard files) */
#define API_PRIV_READ  1     /* any authenticated user (privilege 1-15): operational state */
#define API_PRIV_ADMIN 15    /* configuration: read and write */

/* ---- limits of a request (bounds in base/lim.h; these are per-request array sizes) ----------- */
#define API_MAX_SEGS   16    /* path segments; deeper paths are 404 */
#define API_MAX_QUERY  16    /* query parameters; more is 400 */
#define API_MAX_RESP_HEADERS 8

struct api_kv {
    char *name;              /* percent-decoded */
    char *value;             /* percent-decoded; "" for "?flag" */
};

/* A request as a handler sees it. */
struct api_req {
    struct api_shared *shared;    /* the server's state every request shares */
    struct scpd *d;
    uint64_t id;                   /* connection serial, for logs */
    struct MHD_Connection *conn;   /* for streaming only; handlers use the accessors below */

    enum api_method method;
    const char *method_name;       /* "GET" */
    const char *path;              /* the path as received (percent-encoded, no query) */
    int nsegs;                     /* path split at '/', each segment percent-decoded */
    char *segs[API_MAX_SEGS];
    int seg0; /* first segment after the row's fixed prefix (rest = segs[seg0..]) */
    int nquery;
    struct api_kv query[API_MAX_QUERY];

    const char *body;              /* NUL-terminated; NULL if none */
    size_t body_len;
    json_t *json;                  /* parsed body when the row has API_F_JSON_BODY (else NULL) */

    /* authentication (api_auth.c) */
    bool authed;
    char user[LIM_AUTH_USER_LEN + 1];
    int privilege;                 /* -1 when not authenticated */
    bool via_token;
    char peer[80];                 /* "addr:port" / "[v6]:port" */
    char peer_addr[64];            /* address only (login block-for key) */
};

/* Accessors. Values are valid for the life of the request. */
const char *api_query(const struct api_req *r, const char *name);  /* NULL if absent */
const char *api_header(const struct api_req *r, const char *name); /* case-insensitive, NULL */
/* Path tail after the row's prefix: number of segments and the i-th one. */
int api_rest_count(const struct api_req *r);
const char *api_rest(const struct api_req *r, int i);

/* ---- responses ------------------------------------------------------------------------------- */
struct api_resp {
    int status;                    /* 0 until set */
    json_t *json;                  /* owned; sent as application/yang-data+json (pretty) */
    char *text;                    /* owned (free()); sent with ctype */
    size_t text_len;
    const void *data;              /* not owned (static): e.g. embedded dashboard files */
    size_t data_len;
    const char *ctype;
    int nhdr;
    struct { char name[48]; char value[256]; } hdr[API_MAX_RESP_HEADERS];
    /* streaming (SSE): api.c creates MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, ...) */
    MHD_ContentReaderCallback stream_cb;
    void *stream_cls;
    MHD_ContentReaderFreeCallback stream_free;
    size_t stream_block;
};

/* Each sets status and body; they return 0 so `return api_json(resp, 200, j);` reads naturally. */
int api_json(struct api_resp *resp, int status, json_t *j);      /* takes j (NULL: no body) */
int api_text(struct api_resp *resp, int status, const char *ctype, char *text, size_t len);
int api_static(struct api_resp *resp, int status, const char *ctype, const void *data, size_t len);
int api_no_content(struct api_resp *resp);                        /* 204 */
/* Adds a header (truncated to the sizes above; more than API_MAX_RESP_HEADERS are dropped). */
void api_resp_header(struct api_resp *resp, const char *name, const char *value);
/* Streaming body of unknown length. cb is called on the connection's thread; it may block for a
 * short bounded time; it returns MHD_CONTENT_READER_END_OF_STREAM / _END_WITH_ERROR to end.
 * free_cb(cls) runs once when the connection goes away (also when the client vanishes). */
int api_resp_stream(struct api_resp *resp, const char *ctype, MHD_ContentReaderCallback cb,
                    void *cls, MHD_ContentReaderFreeCallback free_cb);

/* RFC 8040 section 7 error body {"ietf-restconf:errors":{"error":[{...}]}}.
 * type: "transport" | "rpc" | "protocol" | "application"; tag: "invalid-value",
 * "malformed-message", "unknown-element", "access-denied", "data-exists", "data-missing",
 * "operation-not-supported", "operation-failed", "lock-denied", "in-use", "too-big", ... path: the
 * error-path or NULL. Replaces whatever body resp had. Returns 0. */
int api_error(struct api_resp *resp, int status, const char *type, const char *tag,
              const char *path, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Maps a scpd_err (code -> status/tag) to an error body: INVALID 400, NOTFOUND 404, EXISTS 409,
 * DENIED 403, LIMIT 413, CONFLICT 412, others 500. */
int api_error_from(struct api_resp *resp, const struct scpd_err *err, const char *path);
/* The status, error-type and error-tag api_error_from() uses for code (never NULL), for callers
 * that build the error body later. */
struct api_errmap {
    enum scpd_errcode code;
    int status;
    const char *type, *tag;
};
const struct api_errmap *api_errmap(enum scpd_errcode code);
/* A JSON string of text that came from a peer or was cut to a buffer (user names, file names,
 * messages). jansson refuses text that is not UTF-8, which would lose the member or the whole
 * body; bytes that do not form UTF-8 become '?' instead. NULL only when out of memory. */
json_t *api_json_text(const char *s);

/* Datastore headers: ETag "<version>" and Last-Modified of the snapshot. */
void api_resp_snap_headers(struct api_resp *resp, const struct store_snap *snap);
/* If-Match / If-Unmodified-Since of a write, checked against the current snapshot. Returns 0 when
 * the write may go on (*expect_version gets the version to pass to store_commit: the If-Match
 * version, or snap's version so a concurrent commit in between is a conflict too); on mismatch
 * fills a 412 error and returns -1. */
int api_check_preconditions(const struct api_req *r, const struct store_snap *snap,
                            uint64_t *expect_version, struct api_resp *resp);

/* Empties a response's body (for a caller that ran a handler into a scratch response). */
void api_resp_clear(struct api_resp *resp);

/* ---- what requests share (owned by api.c, one per server) ------------------------------------ */

struct api_shared {
    struct api_tokens *tokens;     /* bearer tokens (api_auth.c; thread-safe) */
    pthread_mutex_t sse_mu;        /* guards the event-stream slots below */
    unsigned sse_clients;          /* event-stream slots taken (api_sse_reserve) */
    struct {
        char user[LIM_AUTH_USER_LEN + 1];
        unsigned n;                /* 0: a free row */
    } sse_users[LIM_HTTP_SSE_CLIENTS]; /* the slots each user holds */
    pthread_mutex_t write_mu;      /* API writes of the native tree, one at a time */
};

/* Event-stream slots: api_sse_reserve() takes one of LIM_HTTP_SSE_CLIENTS for user, at most
 * LIM_HTTP_SSE_PER_USER of them per user (the checks and the count are one step under sse_mu, so
 * simultaneous subscribers cannot overshoot): 0, or API_SSE_FULL / API_SSE_USER_FULL.
 * api_sse_release() gives the user's slot back. */
enum { API_SSE_FULL = 1, API_SSE_USER_FULL = 2 };
int api_sse_reserve(struct api_shared *sh, const char *user);
void api_sse_release(struct api_shared *sh, const char *user);

/* Serializes the read-modify-commit of API writes, so concurrent API clients queue instead of
 * racing (a conflict with another door is still possible and handled by retrying). */
void api_write_lock(struct api_shared *sh);
void api_write_unlock(struct api_shared *sh);

/* ---- misc ------------------------------------------------------------------------------------ */
/* Who a write is by, for store_commit's audit row (valid while r lives). */
void api_who(const struct api_req *r, struct store_who *who);
/* RFC 7231 IMF-fixdate of t into buf (at least 30 bytes). */
void api_http_date(time_t t, char *buf, size_t cap);

/* A client address as logs show it ("1.2.3.4:port", "[v6]:port"; an IPv4-mapped IPv6 address as
 * IPv4, one source whatever its form) and, if addr is not NULL, the address alone. "?" when it
 * cannot be formatted. */
void api_peer_format(const struct sockaddr *sa, char *peer, size_t peer_cap, char *addr,
                     size_t addr_cap);

#endif
