/* api: the HTTP server (libmicrohttpd, one daemon per --http-listen address) and the one request
 * path every resource goes through.
 *
 * Threads: MHD's internal polling thread accepts, and each connection gets its own thread
 * (MHD_USE_THREAD_PER_CONNECTION). That keeps handlers simple (they may block briefly on sqlite or
 * scrypt) and lets event streams wait for events without busy loops. The limits of base/lim.h bound
 * what a peer can take: connections in total and per address, the idle timeout, total deadlines
 * for the headers and the body whatever the pace (slowloris; api_guard.c), the memory for headers
 * (MHD's per-connection pool), and the body size (checked against Content-Length before the body
 * is read, and again while it arrives).
 *
 * Dispatch is data: api_routes[] (api_routes.c) maps path patterns to handlers with their methods
 * and privileges; this file only matches, checks and sends. Paths are percent-decoded per segment
 * here (MHD's own unescaping is turned off so that an encoded '/' inside a list key stays inside
 * its segment, RFC 8040 section 3.5.3). */
#include "api/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "api/api_auth.h"
#include "api/api_guard.h"
#include "api/api_req.h"
#include "api/api_route.h"
#include "base/lim.h"
#include "base/log.h"
#include "base/scpd.h"
#include "services/stats.h"
#include "store/store.h"

/* Memory MHD may use per connection (request line, headers, read buffer). It is well above
 * LIM_HTTP_HEADER_BYTES so that the header limit is ours (a JSON 431); only a request far beyond
 * it meets MHD's own refusal. */
#define API_CONN_MEMORY (LIM_HTTP_HEADER_BYTES * 8)

struct api_listener {
    struct MHD_Daemon *mhd;
    char addr[80];
};

struct api {
    struct scpd *d;
    int nlisten;
    struct api_listener l[SCPD_MAX_LISTEN];
    char *tls_cert, *tls_key;
    struct api_shared sh;          /* tokens, event-stream slots, the write lock */
    uint64_t next_id;              /* atomic */
    struct api_guard *guard;       /* header and body deadlines (slowloris) */
};

/* Per-request state kept by MHD between the calls of the access handler. */
struct api_conn {
    struct api_req req;
    char *body;
    size_t body_len, body_cap;
    bool too_big;
    char *path_copy;
};

/* ---- small helpers --------------------------------------------------------------------------- */

/* Percent-decodes s into a new string; NULL on a malformed escape or an encoded NUL. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t j = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            hi = OPENSSL_hexchar2int((unsigned char)s[i + 1]);
            lo = OPENSSL_hexchar2int((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

static enum api_method method_of(const char *m)
{
    static const struct {
        const char *name;
        enum api_method m;
    } tab[] = {
        {"GET", API_GET},     {"HEAD", API_HEAD},     {"POST", API_POST},       {"PUT", API_PUT},
        {"PATCH", API_PATCH}, {"DELETE", API_DELETE}, {"OPTIONS", API_OPTIONS},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(m, tab[i].name) == 0)
            return tab[i].m;
    return 0;
}

static void allow_string(unsigned methods, char *buf, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *name;
    } tab[] = {
        {API_GET, "GET, HEAD"}, {API_POST, "POST"},     {API_PUT, "PUT"},
        {API_PATCH, "PATCH"},   {API_DELETE, "DELETE"},
    };
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (!(methods & tab[i].bit))
            continue;
        int n = snprintf(buf + off, cap - off, "%s%s", off ? ", " : "", tab[i].name);
        if (n < 0 || (size_t)n >= cap - off)
            return;
        off += (size_t)n;
    }
    int n = snprintf(buf + off, cap - off, "%sOPTIONS", off ? ", " : "");
    (void)n;
}

static bool is_json_ctype(const char *ct)
{
    static const char *const ok[] = {"application/yang-data+json", "application/json"};

    if (ct == NULL)
        return false;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = strlen(ok[i]);
        if (strncasecmp(ct, ok[i], n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
            return true;
    }
    return false;
}

/* Everything between "the request is complete" and "a response is ready". */
static void dispatch(struct api *a, struct api_conn *c, struct api_resp *resp)
{
    struct api_req *r = &c->req;
    const struct api_route *rt;
    char allow[96];

    if (c->too_big) {
        api_error(resp, 413, "transport", "too-big", NULL,
                  "request body larger than %u bytes", (unsigned)LIM_HTTP_BODY_BYTES);
        return;
    }
    if (r->method == 0) {
        api_error(resp, 405, "protocol", "operation-not-supported", NULL,
                  "method %s is not supported", r->method_name);
        api_resp_header(resp, "Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
        return;
    }
    rt = api_route_find(r);
    if (rt == NULL) {
        api_error(resp, 404, "protocol", "invalid-value", r->path,
                  "no resource at %s", r->path);
        return;
    }
    allow_string(rt->methods, allow, sizeof allow);
    if (r->method == API_OPTIONS) {
        api_no_content(resp);
        resp->status = 200;
        api_resp_header(resp, "Allow", allow);
        api_resp_header(resp, "Accept-Patch", "application/yang-data+json");
        return;
    }
    unsigned m = r->method == API_HEAD ? API_GET : r->method;
    if (!(rt->methods & m)) {
        api_error(resp, 405, "protocol", "operation-not-supported", r->path,
                  "method %s is not allowed on %s (allowed: %s)", r->method_name, r->path, allow);
        api_resp_header(resp, "Allow", allow);
        return;
    }
    int need = (m & API_WRITE_METHODS) ? rt->priv_write : rt->priv_read;
    if ((rt->flags & API_F_METRICS) && m == API_GET && r->d->opts.metrics_public)
        need = API_PRIV_ANON;
    if (need != API_PRIV_ANON) {
        if (api_auth_request(r, resp) < 0)
            return;
        if (r->privilege < need) {
            api_error(resp, 403, "protocol", "access-denied", r->path,
                      "user %s has privilege %d; %s %s needs privilege %d", r->user,
                      r->privilege, r->method_name, r->path, need);
            return;
        }
    }
    if (api_route_query_check(rt, r, resp) < 0)
        return;
    if ((rt->flags & API_F_JSON_BODY) && (m & API_WRITE_METHODS) && r->body_len > 0) {
        const char *ct = api_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!is_json_ctype(ct)) {
            api_error(resp, 415, "protocol", "invalid-value", r->path,
                      "unsupported media type %s: send application/yang-data+json",
                      ct ? ct : "(none)");
            return;
        }
        json_error_t je;
        r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
        if (r->json == NULL) {
            api_error(resp, 400, "protocol", "malformed-message", r->path,
                      "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
            return;
        }
    }
    api_route_call(rt, r, resp);
}

/* ---- libmicrohttpd glue ---------------------------------------------------------------------- */

static size_t no_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    return strlen(s);
}

__attribute__((format(printf, 2, 0))) static void api_mhd_log(void *cls, const char *fmt,
                                                          va_list ap)
{
    char buf[512];

    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    log_notice(NULL, "http: %s", buf);
}

static void peer_of(struct MHD_Connection *conn, struct api_req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    if (ci == NULL || ci->client_addr == NULL) {
        snprintf(r->peer, sizeof r->peer, "?");
        snprintf(r->peer_addr, sizeof r->peer_addr, "?");
        return;
    }
    api_peer_format(ci->client_addr, r->peer, sizeof r->peer, r->peer_addr,
                    sizeof r->peer_addr);
}

struct query_ctx {
    struct api_req *r;
    bool bad;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct query_ctx *q = cls;
    struct api_req *r = q->r;

    if (r->nquery >= API_MAX_QUERY) {
        q->bad = true;
        return MHD_NO;
    }
    char *k = pct_decode(key, strlen(key));
    char *v = value ? pct_decode(value, strlen(value)) : strdup("");
    if (k == NULL || v == NULL) {
        free(k);
        free(v);
        q->bad = true;
        return MHD_NO;
    }
    r->query[r->nquery].name = k;
    r->query[r->nquery].value = v;
    r->nquery++;
    return MHD_YES;
}

/* Splits and decodes the path; -1 on a malformed escape or too many segments. */
static int split_path(struct api_conn *c)
{
    struct api_req *r = &c->req;
    const char *p = r->path;

    while (*p != '\0') {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (r->nsegs >= API_MAX_SEGS)
            return -1;
        r->segs[r->nsegs] = pct_decode(p, n);
        if (r->segs[r->nsegs] == NULL)
            return -1;
        r->nsegs++;
        p += n;
    }
    return 0;
}

static void conn_free(struct api_conn *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->req.nsegs; i++)
        free(c->req.segs[i]);
    for (int i = 0; i < c->req.nquery; i++) {
        free(c->req.query[i].name);
        free(c->req.query[i].value);
    }
    json_decref(c->req.json);
    if (c->body != NULL)   /* usernames with clear passwords, config text with password 0 */
        OPENSSL_cleanse(c->body, c->body_len);
    free(c->body);
    free(c->path_copy);
    free(c);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct api *a = cls;
    api_guard_request_done(a->guard, conn);
    conn_free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result send_resp(struct api_conn *c, struct api_resp *resp)
{
    struct MHD_Response *mr;
    struct api_req *r = &c->req;
    char *dump = NULL;
    enum MHD_Result ret;

    if (resp->stream_cb != NULL) {
        mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, resp->stream_block,
                                               resp->stream_cb, resp->stream_cls,
                                               resp->stream_free);
    } else if (resp->json != NULL) {
        dump = json_dumps(resp->json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (dump == NULL) {
            dump = strdup("{\"ietf-restconf:errors\":{\"error\":[{\"error-type\":\"application\","
                          "\"error-tag\":\"operation-failed\",\"error-message\":\"out of "
                          "memory\"}]}}");
            resp->status = 500;
        }
        size_t n = dump ? strlen(dump) : 0;
        if (dump != NULL) {
            char *nl = realloc(dump, n + 2);
            if (nl != NULL) {
                dump = nl;
                dump[n++] = '\n';
                dump[n] = '\0';
            }
        }
        mr = MHD_create_response_from_buffer(n, dump, MHD_RESPMEM_MUST_FREE);
        if (mr != NULL)
            dump = NULL;
    } else if (resp->text != NULL) {
        mr = MHD_create_response_from_buffer(resp->text_len, resp->text, MHD_RESPMEM_MUST_FREE);
        if (mr != NULL)
            resp->text = NULL;
    } else {
        mr = MHD_create_response_from_buffer(resp->data_len, (void *)resp->data,
                                             MHD_RESPMEM_PERSISTENT);
    }
    free(dump);
    if (mr == NULL) {
        if (resp->stream_free != NULL)
            resp->stream_free(resp->stream_cls);
        api_resp_clear(resp);
        return MHD_NO;
    }
    if (resp->ctype != NULL)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp->ctype);
    for (int i = 0; i < resp->nhdr; i++)
        MHD_add_response_header(mr, resp->hdr[i].name, resp->hdr[i].value);
    if (resp->status == 401)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"scpd\"");
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(r->conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    struct log_ctx lc = {.sid = r->id, .user = r->authed ? r->user : NULL, .peer = r->peer};
    /* reads that succeed are routine (dashboards poll); writes and failures are events */
    enum log_level lvl = (r->method & (API_GET | API_HEAD | API_OPTIONS)) && resp->status < 400
                             ? LOG_LVL_DEBUG : LOG_LVL_INFO;
    log_msg(lvl, &lc, "http %s %s -> %d", r->method_name, r->path, resp->status);
    api_resp_clear(resp);
    return ret;
}

struct hdr_count {
    int n;
    size_t bytes;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct hdr_count *hc = cls;

    hc->n++;
    hc->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    struct api *a = cls;
    struct api_conn *c = *con_cls;
    struct api_resp resp;

    memset(&resp, 0, sizeof resp);
    if (c == NULL) {
        c = calloc(1, sizeof *c);
        if (c == NULL)
            return MHD_NO;
        *con_cls = c;
        api_guard_headers_done(a->guard, conn);
        c->req.shared = &a->sh;
        c->req.d = a->d;
        c->req.conn = conn;
        c->req.id = __atomic_add_fetch(&a->next_id, 1, __ATOMIC_RELAXED);
        c->req.method = method_of(method);
        c->req.method_name = method;
        c->req.privilege = -1;
        c->path_copy = strdup(url);
        c->req.path = c->path_copy ? c->path_copy : "/";
        peer_of(conn, &c->req);
        if (a->d->stats != NULL)
            stats_inc(a->d->stats, STATS_HTTP_REQUESTS, 1);
        struct hdr_count hc = {0, 0};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &hc);
        if (hc.n > LIM_HTTP_HEADERS || hc.bytes + strlen(url) > LIM_HTTP_HEADER_BYTES) {
            api_error(&resp, 431, "transport", "too-big", NULL,
                      "request headers too large (at most %d fields and %u bytes)",
                      LIM_HTTP_HEADERS, (unsigned)LIM_HTTP_HEADER_BYTES);
            c->too_big = true;
            return send_resp(c, &resp);
        }
        /* refuse an announced oversized body before reading any of it */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && strtoull(cl, NULL, 10) > LIM_HTTP_BODY_BYTES) {
            c->too_big = true;
            api_error(&resp, 413, "transport", "too-big", NULL,
                      "request body larger than %u bytes", (unsigned)LIM_HTTP_BODY_BYTES);
            return send_resp(c, &resp);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (c->too_big)
            return MHD_YES;
        if (c->body_len + n > LIM_HTTP_BODY_BYTES) {
            c->too_big = true;
            free(c->body);
            c->body = NULL;
            c->body_len = c->body_cap = 0;
            api_error(&resp, 413, "transport", "too-big", NULL,
                      "request body larger than %u bytes", (unsigned)LIM_HTTP_BODY_BYTES);
            return send_resp(c, &resp);
        }
        if (c->body_len + n + 1 > c->body_cap) {
            size_t cap = c->body_cap ? c->body_cap : 4096;
            while (cap < c->body_len + n + 1)
                cap *= 2;
            if (cap > LIM_HTTP_BODY_BYTES + 1)
                cap = LIM_HTTP_BODY_BYTES + 1;
            char *nb = realloc(c->body, cap);
            if (nb == NULL)
                return MHD_NO;
            c->body = nb;
            c->body_cap = cap;
        }
        memcpy(c->body + c->body_len, upload_data, n);
        c->body_len += n;
        c->body[c->body_len] = '\0';
        return MHD_YES;
    }
    api_guard_body_done(a->guard, conn);
    if (c->too_big)
        return MHD_YES;  /* the 413 is already queued */

    c->req.body = c->body;
    c->req.body_len = c->body_len;
    struct query_ctx q = {.r = &c->req, .bad = false};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &q);
    if (q.bad) {
        api_error(&resp, 400, "protocol", "invalid-value", NULL,
                  "malformed query string (bad percent-encoding or more than %d parameters)",
                  API_MAX_QUERY);
    } else if (split_path(c) < 0) {
        api_error(&resp, 400, "protocol", "invalid-value", NULL,
                  "malformed path (bad percent-encoding or more than %d segments)",
                  API_MAX_SEGS);
    } else {
        dispatch(a, c, &resp);
    }
    return send_resp(c, &resp);
}

/* ---- start / stop ---------------------------------------------------------------------------- */

/* Reads a small file (PEM) into a NUL-terminated buffer. */
static char *read_pem(const char *path, struct scpd_err *err)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n;

    if (f == NULL) {
        scpd_err_set(err, SCPD_E_IO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(256 * 1024);
    if (buf == NULL) {
        fclose(f);
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory reading %s", path);
        return NULL;
    }
    n = fread(buf, 1, 256 * 1024 - 1, f);
    if (ferror(f) || n == 0) {
        scpd_err_set(err, SCPD_E_IO, "cannot read %s (empty or unreadable)", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* "HOST:PORT", "[V6]:PORT" -> sockaddr. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
                        struct scpd_err *err)
{
    char host[256], port[16];
    const char *colon;
    struct addrinfo hints, *res = NULL;

    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (rb == NULL || rb[1] != ':')
            return scpd_err_set(err, SCPD_E_INVALID, "bad --http-listen %s (want [ADDR]:PORT)",
                                spec);
        if ((size_t)(rb - spec - 1) >= sizeof host)
            return scpd_err_set(err, SCPD_E_INVALID, "bad --http-listen %s", spec);
        memcpy(host, spec + 1, (size_t)(rb - spec - 1));
        host[rb - spec - 1] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(spec, ':');
        if (colon == NULL || (size_t)(colon - spec) >= sizeof host)
            return scpd_err_set(err, SCPD_E_INVALID, "bad --http-listen %s (want HOST:PORT)",
                                spec);
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
    }
    if (snprintf(port, sizeof port, "%s", colon + 1) >= (int)sizeof port || port[0] == '\0')
        return scpd_err_set(err, SCPD_E_INVALID, "bad port in --http-listen %s", spec);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0 || res == NULL)
        return scpd_err_set(err, SCPD_E_INVALID, "cannot resolve --http-listen %s: %s", spec,
                            gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int start_listener(struct api *a, const char *spec, struct api_listener *l,
                          struct scpd_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;

    if (parse_listen(spec, &ss, &sslen, err) < 0)
        return -1;
    if (ss.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
        if (IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
            flags |= MHD_USE_DUAL_STACK;
    }
    if (a->tls_cert != NULL)
        flags |= MHD_USE_TLS;

    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls_key},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls_cert},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};

    l->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, access_handler, a,
        MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, a,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)LIM_HTTP_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)LIM_HTTP_PER_SOURCE,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)LIM_HTTP_TIMEOUT_SECS,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, request_completed, a,
        MHD_OPTION_NOTIFY_CONNECTION, api_guard_notify, a->guard,
        MHD_OPTION_URI_LOG_CALLBACK, api_guard_request_line, a->guard,
        MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, a,
        MHD_OPTION_ARRAY, a->tls_cert != NULL ? tls_opts : none,
        MHD_OPTION_END);
    if (l->mhd == NULL)
        return scpd_err_set(err, SCPD_E_IO, "cannot listen for HTTP on %s (address in use, "
                            "bad address, or bad TLS certificate/key)", spec);

    const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    char host[48], serv[8];
    if (di == NULL || getsockname(di->listen_fd, (struct sockaddr *)&bound, &blen) != 0 ||
        getnameinfo((struct sockaddr *)&bound, blen, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return scpd_err_set(err, SCPD_E_IO, "cannot read the bound address of %s", spec);
    if (bound.ss_family == AF_INET6)
        snprintf(l->addr, sizeof l->addr, "[%s]:%s", host, serv);
    else
        snprintf(l->addr, sizeof l->addr, "%s:%s", host, serv);
    return 0;
}

struct api *api_start(struct scpd *d, struct scpd_err *err)
{
    struct api *a = calloc(1, sizeof *a);

    if (a == NULL) {
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory starting the HTTP API");
        return NULL;
    }
    a->d = d;
    pthread_mutex_init(&a->sh.write_mu, NULL);
    pthread_mutex_init(&a->sh.sse_mu, NULL);
    a->sh.tokens = api_tokens_new();
    if (a->sh.tokens == NULL) {
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory starting the HTTP API");
        goto fail;
    }
    a->guard = api_guard_start(err);
    if (a->guard == NULL)
        goto fail;
    if ((d->opts.tls_cert != NULL) != (d->opts.tls_key != NULL)) {
        scpd_err_set(err, SCPD_E_INVALID, "--tls-cert and --tls-key go together");
        goto fail;
    }
    if (d->opts.tls_cert != NULL) {
        a->tls_cert = read_pem(d->opts.tls_cert, err);
        if (a->tls_cert == NULL)
            goto fail;
        a->tls_key = read_pem(d->opts.tls_key, err);
        if (a->tls_key == NULL)
            goto fail;
    }
    for (int i = 0; i < d->opts.n_http_listen && i < SCPD_MAX_LISTEN; i++) {
        if (start_listener(a, d->opts.http_listen[i], &a->l[i], err) < 0)
            goto fail;
        a->nlisten = i + 1;
    }
    for (int i = 0; i < a->nlisten; i++) {
        printf("http listening on %s\n", a->l[i].addr);
        log_notice(NULL, "%s listening on %s", a->tls_cert ? "https" : "http", a->l[i].addr);
    }
    if (d->opts.metrics_public)
        log_notice(NULL, "http: GET /metrics needs no login (--metrics-public)");
    fflush(stdout);
    return a;
fail:
    api_stop(a);
    return NULL;
}

void api_stop(struct api *a)
{
    if (a == NULL)
        return;
    for (int i = 0; i < SCPD_MAX_LISTEN; i++)
        if (a->l[i].mhd != NULL)
            MHD_stop_daemon(a->l[i].mhd);
    api_guard_stop(a->guard);
    api_tokens_free(a->sh.tokens);
    free(a->tls_cert);
    if (a->tls_key != NULL) /* the TLS private key must not linger in freed memory */
        OPENSSL_cleanse(a->tls_key, strlen(a->tls_key));
    free(a->tls_key);
    pthread_mutex_destroy(&a->sh.write_mu);
    pthread_mutex_destroy(&a->sh.sse_mu);
    free(a);
}
