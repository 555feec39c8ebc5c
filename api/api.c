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

#include "api/api_internal.h"
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
    struct api_tokens *tokens;
    uint64_t next_id;              /* atomic */
    unsigned sse_clients;          /* atomic: event-stream slots taken (api_sse_reserve) */
    pthread_mutex_t write_mu;      /* API writes of the native tree, one at a time */
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

/* ---- small helpers ---------------------------------------------------------------------------- */

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

void api_http_date(time_t t, char *buf, size_t cap)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    if (strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0 && cap > 0)
        buf[0] = '\0';
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

/* ---- request accessors ------------------------------------------------------------------------ */

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
}

/* ---- response helpers ------------------------------------------------------------------------- */

static void resp_clear_body(struct api_resp *resp)
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
    resp_clear_body(resp);
    resp->status = status;
    resp->json = j;
    resp->ctype = "application/yang-data+json";
    return 0;
}

int api_text(struct api_resp *resp, int status, const char *ctype, char *text, size_t len)
{
    resp_clear_body(resp);
    resp->status = status;
    resp->text = text;
    resp->text_len = len;
    resp->ctype = ctype;
    return 0;
}

int api_static(struct api_resp *resp, int status, const char *ctype, const void *data, size_t len)
{
    resp_clear_body(resp);
    resp->status = status;
    resp->data = data;
    resp->data_len = len;
    resp->ctype = ctype;
    return 0;
}

int api_no_content(struct api_resp *resp)
{
    resp_clear_body(resp);
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
    resp_clear_body(resp);
    resp->status = MHD_HTTP_OK;
    resp->ctype = ctype;
    resp->stream_cb = cb;
    resp->stream_cls = cls;
    resp->stream_free = free_cb;
    resp->stream_block = 4096;
    return 0;
}

/* Length of the UTF-8 sequence at p (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF), 0 if the bytes there are not one. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)   /* a NUL is no continuation byte: never read past it */
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
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

/* ---- discovery handlers ------------------------------------------------------------------------ */

/* RFC 6415 host-meta in XRD form pointing at the RESTCONF root (RFC 8040 section 3.1). */
static const char host_meta_xrd[] =
    "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n"
    "    <Link rel='restconf' href='/restconf'/>\n"
    "</XRD>\n";

int api_h_host_meta(struct api_req *r, struct api_resp *resp)
{
    const char *accept = api_header(r, "Accept");

    if (accept != NULL && strstr(accept, "json") != NULL && strstr(accept, "xrd") == NULL)
        return api_json(resp, 200,
                        json_pack("{s:[{s:s,s:s}]}", "links", "rel", "restconf", "href",
                                  "/restconf"));
    return api_static(resp, 200, "application/xrd+xml", host_meta_xrd, sizeof host_meta_xrd - 1);
}

/* RFC 8040 section 3.3: the API resource. The yang-library-version is the RFC 7895 revision. */
#define API_YANG_LIBRARY_VERSION "2016-06-21"

int api_h_restconf_root(struct api_req *r, struct api_resp *resp)
{
    return api_json(resp, 200,
                    json_pack("{s:{s:{},s:{},s:s}}", "ietf-restconf:restconf", "data",
                              "operations", "yang-library-version", API_YANG_LIBRARY_VERSION));
}

int api_h_yang_library_version(struct api_req *r, struct api_resp *resp)
{
    return api_json(resp, 200,
                    json_pack("{s:s}", "ietf-restconf:yang-library-version",
                              API_YANG_LIBRARY_VERSION));
}

/* RFC 8040 section 9.1.1: the protocol capabilities, only what the server does. Defaults are
 * reported in explicit mode (a value is shown when it differs from the default); depth, fields and
 * with-defaults are the query parameters of api_native.c. */
static const char *const api_capabilities[] = {
    "urn:ietf:params:restconf:capability:defaults:1.0?basic-mode=explicit",
    "urn:ietf:params:restconf:capability:depth:1.0",
    "urn:ietf:params:restconf:capability:fields:1.0",
    "urn:ietf:params:restconf:capability:with-defaults:1.0",
};

json_t *api_capabilities_json(void)
{
    json_t *list = json_array();

    for (size_t i = 0; i < sizeof api_capabilities / sizeof api_capabilities[0]; i++)
        json_array_append_new(list, json_string(api_capabilities[i]));
    return json_pack("{s:o}", "capability", list);
}

/* RFC 7895 (the yang-library-version of /restconf): the modules whose data and operations this
 * server serves, as their JSON names them. The Cisco models are those of IOS XE 17.7.1 (the
 * YangModels vendor/cisco/xe/1771 set): ip and line are submodules of Cisco-IOS-XE-native (their
 * nodes carry native's prefix), aaa is a module of its own. scpd is api/yang/scpd.yang. */
struct api_module {
    const char *name, *revision, *ns, *conformance;
    const char *const *submodules;   /* name@revision, NULL-terminated; NULL: none */
};

static const char *const api_native_submodules[] = {"Cisco-IOS-XE-ip@2021-11-01",
                                                    "Cisco-IOS-XE-line@2021-11-01", NULL};

static const struct api_module api_modules[] = {
    {"Cisco-IOS-XE-native", "2021-11-01", "http://cisco.com/ns/yang/Cisco-IOS-XE-native",
     "implement", api_native_submodules},
    {"Cisco-IOS-XE-aaa", "2021-11-01", "http://cisco.com/ns/yang/Cisco-IOS-XE-aaa", "implement",
     NULL},
    {"scpd", "2026-11-26", "urn:scpd:yang:scpd", "implement", NULL},
    {"ietf-restconf", "2017-01-26", "urn:ietf:params:xml:ns:yang:ietf-restconf", "implement",
     NULL},
    {"ietf-restconf-monitoring", "2017-01-26",
     "urn:ietf:params:xml:ns:yang:ietf-restconf-monitoring", "implement", NULL},
    {"ietf-yang-library", "2016-06-21", "urn:ietf:params:xml:ns:yang:ietf-yang-library",
     "implement", NULL},
    {"ietf-netconf-with-defaults", "2011-06-01",
     "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults", "implement", NULL},
    {"ietf-yang-types", "2013-07-15", "urn:ietf:params:xml:ns:yang:ietf-yang-types", "import",
     NULL},
};

/* The module-set-id: the first 64 bits of a SHA-256 of the table's names and revisions, so it
 * changes exactly when the set does. The table is fixed, so it is computed once. */
static char api_module_set_id[2 * 8 + 1];

static void api_module_set_id_init(void)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        memset(md, 0, sizeof md);
    } else {
        for (size_t i = 0; i < sizeof api_modules / sizeof api_modules[0]; i++) {
            const struct api_module *m = &api_modules[i];
            char key[128];
            snprintf(key, sizeof key, "%s,%s", m->name, m->revision);
            EVP_DigestUpdate(ctx, key, strlen(key) + 1);
            for (const char *const *sm = m->submodules; sm && *sm; sm++)
                EVP_DigestUpdate(ctx, *sm, strlen(*sm) + 1);
        }
        if (EVP_DigestFinal_ex(ctx, md, NULL) != 1)
            memset(md, 0, sizeof md);
    }
    EVP_MD_CTX_free(ctx);
    for (size_t i = 0; i < 8; i++)
        snprintf(api_module_set_id + 2 * i, 3, "%02x", md[i]);
}

/* GET /restconf/data/ietf-yang-library:modules-state[/module=NAME,REVISION]. */
int api_h_modules_state(struct api_req *r, struct api_resp *resp)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    const char *want = NULL;

    pthread_once(&once, api_module_set_id_init);
    if (api_rest_count(r) == 1 && strncmp(api_rest(r, 0), "module=", 7) == 0)
        want = api_rest(r, 0) + 7;
    else if (api_rest_count(r) > 0)
        want = "";   /* nothing matches: 404 below */
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof api_modules / sizeof api_modules[0]; i++) {
        const struct api_module *m = &api_modules[i];
        char key[128];
        snprintf(key, sizeof key, "%s,%s", m->name, m->revision);
        if (want != NULL && strcmp(want, key) != 0)
            continue;
        json_t *e = json_pack("{s:s,s:s,s:s,s:s}", "name", m->name, "revision", m->revision,
                              "namespace", m->ns, "conformance-type", m->conformance);
        if (m->submodules != NULL) {
            json_t *subs = json_array();
            for (const char *const *sm = m->submodules; *sm; sm++) {
                const char *at = strchr(*sm, '@');
                json_array_append_new(subs, json_pack("{s:s%,s:s}", "name", *sm,
                                                      (size_t)(at - *sm), "revision", at + 1));
            }
            json_object_set_new(e, "submodule", subs);
        }
        json_array_append_new(list, e);
    }
    if (want != NULL) {
        if (json_array_size(list) == 0) {
            json_decref(list);
            return api_error(resp, 404, "protocol", "invalid-value", r->path,
                             "no such resource: %s (name a module as module=NAME,REVISION)",
                             r->path);
        }
        return api_json(resp, 200, json_pack("{s:o}", "ietf-yang-library:module", list));
    }
    return api_json(resp, 200, json_pack("{s:{s:s,s:o}}", "ietf-yang-library:modules-state",
                                         "module-set-id", api_module_set_id, "module", list));
}

static int call_handler(const struct api_route *rt, struct api_req *r, struct api_resp *resp);

/* GET /restconf/data: the members of every API_F_DATA_ROOT row under "ietf-restconf:data". Only
 * rows the caller may read are included. */
int api_h_data_root(struct api_req *r, struct api_resp *resp)
{
    json_t *data = json_object();
    int saved_seg0 = r->seg0;

    for (const struct api_route *rt = api_routes; rt->pattern != NULL; rt++) {
        if (!(rt->flags & API_F_DATA_ROOT))
            continue;
        if (rt->priv_read != API_PRIV_ANON && r->privilege < rt->priv_read)
            continue;
        struct api_resp sub;
        memset(&sub, 0, sizeof sub);
        r->seg0 = r->nsegs;  /* no rest below the row's own path */
        call_handler(rt, r, &sub);
        if (sub.status == 200 && json_is_object(sub.json)) {
            const char *k;
            json_t *v;
            void *tmp;
            /* what content= left empty is not there at all */
            json_object_foreach_safe(sub.json, tmp, k, v)
                if ((json_is_object(v) && json_object_size(v) == 0) ||
                    (json_is_array(v) && json_array_size(v) == 0))
                    json_object_del(sub.json, k);
            json_object_update(data, sub.json);
            for (int i = 0; i < sub.nhdr; i++)
                api_resp_header(resp, sub.hdr[i].name, sub.hdr[i].value);
        }
        resp_clear_body(&sub);
    }
    r->seg0 = saved_seg0;
    return api_json(resp, 200, json_pack("{s:o}", "ietf-restconf:data", data));
}

/* ---- routing ---------------------------------------------------------------------------------- */

/* Matches r's segments against a pattern: returns the number of literal segments (the
 * specificity) and sets *seg0, or -1 when it does not match. */
static int route_match(const struct api_route *rt, const struct api_req *r, int *seg0)
{
    const char *p = rt->pattern;
    int i = 0, literal = 0;

    while (*p == '/')
        p++;
    while (*p != '\0') {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (i >= r->nsegs)
            return -1;
        const char *s = r->segs[i];
        if (n == 1 && p[0] == '*') {
            /* any one segment */
        } else if (n >= 2 && p[n - 1] == '*' && p[n - 2] == '=') {
            if (strncmp(s, p, n - 1) != 0)
                return -1;
            literal++;
        } else {
            if (strlen(s) != n || memcmp(s, p, n) != 0)
                return -1;
            literal++;
        }
        i++;
        p += n;
        while (*p == '/')
            p++;
    }
    if (i != r->nsegs && !(rt->flags & API_F_PREFIX))
        return -1;
    *seg0 = i;
    return literal;
}

static const struct api_route *route_find(struct api_req *r)
{
    const struct api_route *best = NULL;
    int best_lit = -1, best_seg0 = 0;

    for (const struct api_route *rt = api_routes; rt->pattern != NULL; rt++) {
        int seg0;
        int lit = route_match(rt, r, &seg0);
        if (lit < 0)
            continue;
        /* an exact row beats a prefix row of the same length */
        int score = lit * 2 + ((rt->flags & API_F_PREFIX) ? 0 : 1);
        if (score > best_lit) {
            best = rt;
            best_lit = score;
            best_seg0 = seg0;
        }
    }
    if (best != NULL)
        r->seg0 = best_seg0;
    return best;
}

/* content= of a row whose data is all state (API_F_NONCONFIG) or all configuration
 * (API_F_CONFIG): when the client asked for the other kind, each top-level member of the answer
 * keeps its name with nothing in it ({} or [], as the native tree answers content=nonconfig), and
 * a leaf goes away. */
static void content_filter(const struct api_route *rt, const struct api_req *r,
                           struct api_resp *resp)
{
    const char *c = api_query(r, "content");

    if (c == NULL || !(r->method & (API_GET | API_HEAD)) || resp->status != 200 ||
        !json_is_object(resp->json))
        return;
    if (!((rt->flags & API_F_NONCONFIG) && strcmp(c, "config") == 0) &&
        !((rt->flags & API_F_CONFIG) && strcmp(c, "nonconfig") == 0))
        return;
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(resp->json, tmp, k, v) {
        if (json_is_object(v))
            json_object_set_new(resp->json, k, json_object());
        else if (json_is_array(v))
            json_object_set_new(resp->json, k, json_array());
        else
            json_object_del(resp->json, k);
    }
}

static int call_handler(const struct api_route *rt, struct api_req *r, struct api_resp *resp)
{
    int rc = rt->handler(r, resp);

    if (resp->status == 0)
        api_error(resp, 500, "application", "operation-failed", NULL,
                  "internal error: no response from the handler");
    content_filter(rt, r, resp);
    return rc;
}

/* True if the space-separated list has name. */
static bool word_in(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; *p != '\0';) {
        size_t w = strcspn(p, " ");
        if (w == n && memcmp(p, name, n) == 0)
            return true;
        p += w;
        p += strspn(p, " ");
    }
    return false;
}

/* The query parameter rules of every row (RFC 8040 section 4.8): each at most once, only those
 * the row lists, content= one of its three values. Fills a 400 and returns -1 on a breach. */
static int query_check(const struct api_route *rt, const struct api_req *r, struct api_resp *resp)
{
    for (int i = 0; i < r->nquery; i++) {
        const char *name = r->query[i].name;
        for (int j = 0; j < i; j++)
            if (strcmp(r->query[j].name, name) == 0) {
                api_error(resp, 400, "protocol", "invalid-value", r->path,
                          "query parameter %s is given more than once", name);
                return -1;
            }
        if (rt->query != NULL && strcmp(rt->query, API_Q_ANY) == 0)
            continue;
        if (rt->query == NULL || !word_in(rt->query, name)) {
            api_error(resp, 400, "protocol", "invalid-value", r->path,
                      "unknown query parameter %s (%s %s takes %s)", name, r->method_name,
                      rt->pattern, rt->query ? rt->query : "none");
            return -1;
        }
    }
    const char *c = api_query(r, "content");
    if (c != NULL && strcmp(c, "config") != 0 && strcmp(c, "nonconfig") != 0 &&
        strcmp(c, "all") != 0) {
        api_error(resp, 400, "protocol", "invalid-value", r->path,
                  "content must be config, nonconfig or all (got %s)", c);
        return -1;
    }
    return 0;
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
    rt = route_find(r);
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
    if (query_check(rt, r, resp) < 0)
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
    call_handler(rt, r, resp);
}

/* ---- libmicrohttpd glue ----------------------------------------------------------------------- */

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
        resp_clear_body(resp);
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
    resp_clear_body(resp);
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
        c->req.api = a;
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

/* ---- start / stop ----------------------------------------------------------------------------- */

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

struct api_tokens *api_get_tokens(struct api *a)
{
    return a->tokens;
}

bool api_sse_reserve(struct api *a)
{
    unsigned n = __atomic_load_n(&a->sse_clients, __ATOMIC_RELAXED);
    do {
        if (n >= LIM_HTTP_SSE_CLIENTS)
            return false;
    } while (!__atomic_compare_exchange_n(&a->sse_clients, &n, n + 1, true, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    return true;
}

void api_sse_release(struct api *a)
{
    __atomic_fetch_sub(&a->sse_clients, 1, __ATOMIC_ACQ_REL);
}

void api_write_lock(struct api *a)
{
    pthread_mutex_lock(&a->write_mu);
}

void api_write_unlock(struct api *a)
{
    pthread_mutex_unlock(&a->write_mu);
}

struct api *api_start(struct scpd *d, struct scpd_err *err)
{
    struct api *a = calloc(1, sizeof *a);

    if (a == NULL) {
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory starting the HTTP API");
        return NULL;
    }
    a->d = d;
    pthread_mutex_init(&a->write_mu, NULL);
    a->tokens = api_tokens_new();
    if (a->tokens == NULL) {
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
    api_tokens_free(a->tokens);
    free(a->tls_cert);
    if (a->tls_key != NULL) /* the TLS private key must not linger in freed memory */
        OPENSSL_cleanse(a->tls_key, strlen(a->tls_key));
    free(a->tls_key);
    pthread_mutex_destroy(&a->write_mu);
    free(a);
}
