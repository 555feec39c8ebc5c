/* api_req: the request accessors and response helpers of the HTTP door (see api_req.h). */
#include "api/api_req.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/utf8.h"
#include "store/store.h"

void api_http_date(time_t t, char *buf, size_t cap)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    if (strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0 && cap > 0)
        buf[0] = '\0';
}

/* ---- request accessors ----------------------------------------------------------------------- */

const char *api_query(const struct api_req *r, const char *name)
{
    for (int i = 0; i < r->nquery; i++)
        if (strcmp(r->query[i].name, name) == 0)
            return r->query[i].value;
    return NULL;
}

const char *api_header(const struct api_req *r, const char *name)
{
    if (r->conn == NULL)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int api_rest_count(const struct api_req *r)
{
    return r->nsegs - r->seg0;
}

const char *api_rest(const struct api_req *r, int i)
{
    if (i < 0 || r->seg0 + i >= r->nsegs)
        return NULL;
    return r->segs[r->seg0 + i];
}

void api_who(const struct api_req *r, struct store_who *who)
{
    who->user = r->user;
    who->source = "api";
    who->peer = r->peer;
    who->session = 0;   /* HTTP has no sessions: it never holds the datastore lock */
}

/* ---- response helpers ------------------------------------------------------------------------ */

void api_resp_clear(struct api_resp *resp)
{
    json_decref(resp->json);
    resp->json = NULL;
    free(resp->text);
    resp->text = NULL;
    resp->text_len = 0;
    resp->data = NULL;
    resp->data_len = 0;
    resp->ctype = NULL;
}

int api_json(struct api_resp *resp, int status, json_t *j)
{
    api_resp_clear(resp);
    resp->status = status;
    resp->json = j;
    resp->ctype = "application/yang-data+json";
    return 0;
}

int api_text(struct api_resp *resp, int status, const char *ctype, char *text, size_t len)
{
    api_resp_clear(resp);
    resp->status = status;
    resp->text = text;
    resp->text_len = len;
    resp->ctype = ctype;
    return 0;
}

int api_static(struct api_resp *resp, int status, const char *ctype, const void *data, size_t len)
{
    api_resp_clear(resp);
    resp->status = status;
    resp->data = data;
    resp->data_len = len;
    resp->ctype = ctype;
    return 0;
}

int api_no_content(struct api_resp *resp)
{
    api_resp_clear(resp);
    resp->status = MHD_HTTP_NO_CONTENT;
    return 0;
}

void api_resp_header(struct api_resp *resp, const char *name, const char *value)
{
    for (int i = 0; i < resp->nhdr; i++) {
        if (strcasecmp(resp->hdr[i].name, name) == 0) {
            snprintf(resp->hdr[i].value, sizeof resp->hdr[i].value, "%s", value);
            return;
        }
    }
    if (resp->nhdr >= API_MAX_RESP_HEADERS)
        return;
    snprintf(resp->hdr[resp->nhdr].name, sizeof resp->hdr[0].name, "%s", name);
    snprintf(resp->hdr[resp->nhdr].value, sizeof resp->hdr[0].value, "%s", value);
    resp->nhdr++;
}

int api_resp_stream(struct api_resp *resp, const char *ctype, MHD_ContentReaderCallback cb,
                    void *cls, MHD_ContentReaderFreeCallback free_cb)
{
    api_resp_clear(resp);
    resp->status = MHD_HTTP_OK;
    resp->ctype = ctype;
    resp->stream_cb = cb;
    resp->stream_cls = cls;
    resp->stream_free = free_cb;
    resp->stream_block = 4096;
    return 0;
}

json_t *api_json_text(const char *s)
{
    json_t *j = json_string(s != NULL ? s : "");

    if (j != NULL || s == NULL)
        return j;
    char *copy = strdup(s);
    if (copy == NULL)
        return NULL;
    for (unsigned char *p = (unsigned char *)copy; *p;) {
        size_t n = utf8_len(p);
        if (n == 0)
            *p++ = '?';
        else
            p += n;
    }
    j = json_string(copy);
    free(copy);
    return j;
}

int api_error(struct api_resp *resp, int status, const char *type, const char *tag,
              const char *path, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_t *e;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* the message may quote what the client sent, or be cut inside a character */
    e = json_pack("{s:s, s:s, s:o}", "error-type", type, "error-tag", tag, "error-message",
                  api_json_text(msg));
    if (e != NULL && path != NULL)
        json_object_set_new(e, "error-path", api_json_text(path));
    return api_json(resp, status,
                    json_pack("{s:{s:[o]}}", "ietf-restconf:errors", "error", e));
}

const struct api_errmap *api_errmap(enum scpd_errcode code)
{
    static const struct api_errmap tab[] = {
        {SCPD_E_INVALID, 400, "application", "invalid-value"},
        {SCPD_E_NOTFOUND, 404, "application", "invalid-value"},
        {SCPD_E_EXISTS, 409, "application", "data-exists"},
        {SCPD_E_DENIED, 403, "protocol", "access-denied"},
        {SCPD_E_LIMIT, 413, "application", "too-big"},
        {SCPD_E_CONFLICT, 412, "protocol", "operation-failed"},
        {SCPD_E_UNAVAILABLE, 503, "application", "resource-denied"},
        {SCPD_E_LOCKED, 409, "protocol", "lock-denied"},   /* RFC 8040 section 7 */
    };
    static const struct api_errmap other = {SCPD_E_INTERNAL, 500, "application",
                                             "operation-failed"};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].code == code)
            return &tab[i];
    return &other;
}

int api_error_from(struct api_resp *resp, const struct scpd_err *err, const char *path)
{
    const struct api_errmap *m = api_errmap(err->code);
    return api_error(resp, m->status, m->type, m->tag, path, "%s",
                     err->msg[0] ? err->msg : "internal error");
}

void api_resp_snap_headers(struct api_resp *resp, const struct store_snap *snap)
{
    char buf[64];

    snprintf(buf, sizeof buf, "\"%llu\"", (unsigned long long)snap->version);
    api_resp_header(resp, "ETag", buf);
    api_http_date(snap->changed_at ? snap->changed_at : time(NULL), buf, sizeof buf);
    api_resp_header(resp, "Last-Modified", buf);
}

/* Parses an entity tag list of If-Match ("*", "\"12\"", W/"12", or a list): 1 if the version is
 * listed, 0 if not, -1 if malformed. */
static int etag_matches(const char *h, uint64_t version)
{
    const char *p = h;

    while (*p != '\0') {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p != '"')
            return -1;
        p++;
        const char *q = strchr(p, '"');
        if (q == NULL)
            return -1;
        char tag[32];
        size_t n = (size_t)(q - p);
        if (n >= sizeof tag)
            n = sizeof tag - 1;
        memcpy(tag, p, n);
        tag[n] = '\0';
        char *end;
        errno = 0;
        unsigned long long v = strtoull(tag, &end, 10);
        if (errno == 0 && *end == '\0' && end != tag && v == version)
            return 1;
        p = q + 1;
    }
    return 0;
}

int api_check_preconditions(const struct api_req *r, const struct store_snap *snap,
                            uint64_t *expect_version, struct api_resp *resp)
{
    const char *im = api_header(r, "If-Match");
    const char *ius = api_header(r, "If-Unmodified-Since");

    *expect_version = snap->version;
    if (im != NULL) {
        int m = etag_matches(im, snap->version);
        if (m < 0) {
            api_error(resp, 400, "protocol", "invalid-value", NULL,
                      "malformed If-Match header (expected an entity tag such as \"%llu\")",
                      (unsigned long long)snap->version);
            return -1;
        }
        if (m == 0) {
            api_error(resp, 412, "protocol", "operation-failed", NULL,
                      "If-Match failed: the running datastore is at version %llu (ETag \"%llu\")",
                      (unsigned long long)snap->version, (unsigned long long)snap->version);
            return -1;
        }
    }
    if (ius != NULL) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(ius, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (end == NULL || *end != '\0') {
            api_error(resp, 400, "protocol", "invalid-value", NULL,
                      "malformed If-Unmodified-Since header (expected an HTTP date)");
            return -1;
        }
        time_t t = timegm(&tm);
        if (snap->changed_at > t) {
            char buf[64];
            api_http_date(snap->changed_at, buf, sizeof buf);
            api_error(resp, 412, "protocol", "operation-failed", NULL,
                      "If-Unmodified-Since failed: the running datastore changed at %s", buf);
            return -1;
        }
    }
    return 0;
}

void api_peer_format(const struct sockaddr *sa, char *peer, size_t peer_cap, char *addr,
                     size_t addr_cap)
{
    char host[64], serv[8];
    socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);

    snprintf(peer, peer_cap, "?");
    if (addr != NULL)
        snprintf(addr, addr_cap, "?");
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return;
    /* an IPv4 client of a dual-stack socket is one source, whatever its form */
    const char *h = strncmp(host, "::ffff:", 7) == 0 && strchr(host, '.') ? host + 7 : host;
    if (addr != NULL)
        snprintf(addr, addr_cap, "%s", h);
    snprintf(peer, peer_cap, strchr(h, ':') != NULL ? "[%s]:%s" : "%s:%s", h, serv);
}

int api_sse_reserve(struct api_shared *sh, const char *user)
{
    int rc = 0;
    pthread_mutex_lock(&sh->sse_mu);
    size_t row = LIM_HTTP_SSE_CLIENTS, free_row = LIM_HTTP_SSE_CLIENTS;
    for (size_t i = 0; i < LIM_HTTP_SSE_CLIENTS; i++) {
        if (sh->sse_users[i].n == 0) {
            if (free_row == LIM_HTTP_SSE_CLIENTS)
                free_row = i;
        } else if (strcmp(sh->sse_users[i].user, user) == 0) {
            row = i;
        }
    }
    if (sh->sse_clients >= LIM_HTTP_SSE_CLIENTS) {
        rc = API_SSE_FULL;
    } else if (row < LIM_HTTP_SSE_CLIENTS && sh->sse_users[row].n >= LIM_HTTP_SSE_PER_USER) {
        rc = API_SSE_USER_FULL;
    } else {
        /* fewer slots taken than rows, so a user without a row finds a free one */
        if (row == LIM_HTTP_SSE_CLIENTS) {
            row = free_row;
            snprintf(sh->sse_users[row].user, sizeof sh->sse_users[row].user, "%s", user);
        }
        sh->sse_users[row].n++;
        sh->sse_clients++;
    }
    pthread_mutex_unlock(&sh->sse_mu);
    return rc;
}

void api_sse_release(struct api_shared *sh, const char *user)
{
    pthread_mutex_lock(&sh->sse_mu);
    for (size_t i = 0; i < LIM_HTTP_SSE_CLIENTS; i++) {
        if (sh->sse_users[i].n > 0 && strcmp(sh->sse_users[i].user, user) == 0) {
            sh->sse_users[i].n--;
            sh->sse_clients--;
            break;
        }
    }
    pthread_mutex_unlock(&sh->sse_mu);
}

void api_write_lock(struct api_shared *sh)
{
    pthread_mutex_lock(&sh->write_mu);
}

void api_write_unlock(struct api_shared *sh)
{
    pthread_mutex_unlock(&sh->write_mu);
}
