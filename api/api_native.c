/* api_native: /restconf/data/Cisco-IOS-XE-native:native and its subpaths, and the datastores:
 * the RFC 8040 resource handlers (path walk, GET with depth/fields/with-defaults, PUT, PATCH,
 * POST, DELETE, ETags and preconditions). The data and its translation are model/model_native's,
 * shared with NETCONF: the schema is the YANG the server serves, loaded into libyang, so there is
 * no second model. Every request is
 *     running cfg -> canonical tree -> edit the tree (PUT/PATCH/POST/DELETE of RFC 8040)
 *                 -> model_native_cfg (config text, the config language's parser)
 *                 -> store_commit(If-Match version)
 * so a request is one commit, all or nothing. A GET never sees anything but hashes: the tree is
 * built from the model, which holds only hashes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_route.h"
#include "base/lim.h"
#include "base/scpd.h"
#include "model/model_native.h"
#include "services/stats.h"
#include "store/cfg.h"
#include "store/store.h"

#include <libyang/libyang.h>
#include <openssl/sha.h>

#define MOD_NATIVE MODEL_NATIVE
#define API_WRITE_RETRIES 8   /* recomputations of a write that lost a race (no If-Match) */

/* ---- errors of a request --------------------------------------------------------------------- */

struct nerr {
    int status;
    const char *type;   /* NULL: "protocol" for 405, else "application" */
    const char *tag;
    char path[256];
    char msg[512];
};

__attribute__((format(printf, 4, 5))) static int nerr_set(struct nerr *e, int status,
                                                          const char *tag, const char *fmt, ...)
{
    va_list ap;

    e->status = status;
    e->tag = tag;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int nerr_send(struct api_resp *resp, const struct nerr *e)
{
    const char *type = e->type ? e->type : e->status == 405 ? "protocol" : "application";
    return api_error(resp, e->status, type, e->tag,
                     e->path[0] ? e->path : NULL, "%s", e->msg);
}

/* A model error as a 400 of the request. */
static int nerr_model(struct nerr *e, const struct model_err *me)
{
    e->status = 400;
    e->tag = me->tag;
    snprintf(e->path, sizeof e->path, "%s", me->path);
    snprintf(e->msg, sizeof e->msg, "%s", me->msg);
    if (strcmp(me->tag, "too-big") == 0)
        e->status = 413;
    else if (strcmp(me->tag, "operation-failed") == 0)
        e->status = 500;
    return -1;
}

/* model_norm with the request's error */
static int norm(const struct lysc_node *n, json_t *in, json_t **out, char *path, size_t pcap,
                struct nerr *e)
{
    struct model_err me;

    memset(&me, 0, sizeof me);
    if (model_norm(n, in, out, path, pcap, &me) < 0)
        return nerr_model(e, &me);
    return 0;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* "mod:name" or "name" -> child of parent */
static const struct lysc_node *kid_lookup(const struct lysc_node *parent, const char *qname)
{
    const char *colon = strchr(qname, ':');

    if (colon == NULL)
        return model_child(parent, NULL, 0, qname, strlen(qname));
    return model_child(parent, qname, (size_t)(colon - qname), colon + 1, strlen(colon + 1));
}

static const struct lysc_node *kid_find(const struct lysc_node *parent, const char *name,
                                        size_t len)
{
    return model_child(parent, NULL, 0, name, len);
}

/* ---- paths ----------------------------------------------------------------------------------- */

struct step {
    const struct lysc_node *n;
    const char *mod;
    char *key;          /* list entry key (decoded), NULL for the whole list */
};

#define MAX_STEPS 10

struct npath {
    int n;
    struct step s[MAX_STEPS];
};

static void npath_free(struct npath *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->s[i].key);
}

/* Resolves the request's path tail (after .../native) into schema steps. */
static int resolve(const struct api_req *r, struct npath *p, struct nerr *e)
{
    const struct lysc_node *cur = model_native_root();

    p->n = 0;
    for (int i = 0; i < api_rest_count(r); i++) {
        const char *seg = api_rest(r, i);
        const char *eq = strchr(seg, '=');
        char qname[128];
        size_t nlen = eq ? (size_t)(eq - seg) : strlen(seg);
        bool in_entry = p->n > 0 && p->s[p->n - 1].key != NULL;
        if (nlen >= sizeof qname || p->n >= MAX_STEPS ||
            (model_kind(cur) != MODEL_CONT && !in_entry))
            goto unknown;
        memcpy(qname, seg, nlen);
        qname[nlen] = '\0';
        const struct lysc_node *kid = kid_lookup(cur, qname);
        if (kid == NULL)
            goto unknown;
        struct step *st = &p->s[p->n++];
        st->n = kid;
        st->mod = model_module(kid);
        st->key = NULL;
        if (eq != NULL) {
            if (model_kind(kid) != MODEL_LIST || eq[1] == '\0' || strchr(eq + 1, ',') != NULL) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                return nerr_set(e, 400, "invalid-value",
                                "%s: a key is given only for a list (one key: name)", seg);
            }
            st->key = strdup(eq + 1);
            /* below a list entry the children are the entry's */
            cur = kid;
            continue;
        }
        if (model_kind(kid) == MODEL_LIST && i + 1 < api_rest_count(r)) {
            snprintf(e->path, sizeof e->path, "%s", r->path);
            return nerr_set(e, 400, "invalid-value", "%s is a list: name an entry with %s=KEY",
                            qname, qname);
        }
        cur = kid;
    }
    return 0;
unknown:
    snprintf(e->path, sizeof e->path, "%s", r->path);
    return nerr_set(e, 404, "invalid-value", "no such resource: %s", r->path);
}

/* POST of list entries: appends val's entries to parent's list n (made if missing); an entry
 * whose key exists already is a 409 whose error-path is at=KEY. */
static int list_add_new(json_t *parent, const struct lysc_node *n, json_t *val, const char *at,
                        struct nerr *e)
{
    json_t *arr = parent != NULL ? json_object_get(parent, n->name) : NULL;
    size_t i;
    json_t *ent;

    if (parent == NULL)
        return nerr_set(e, 404, "invalid-value", "the parent of %s does not exist", at);
    if (arr == NULL) {
        arr = json_array();
        json_object_set_new(parent, n->name, arr);
    }
    json_array_foreach(val, i, ent) {
        const char *key = jstr(ent, model_key(n));
        if (model_list_entry(arr, model_key(n), key, NULL) != NULL) {
            snprintf(e->path, sizeof e->path, "%s=%s", at, key);
            return nerr_set(e, 409, "data-exists", "%s %s already exists", n->name, key);
        }
        json_array_append(arr, ent);
    }
    return 0;
}

/* Node at step k (0..n-1) of the tree, or NULL. With create, containers on the way are made. */
static json_t *tree_at(json_t *root, const struct npath *p, int upto, bool create)
{
    json_t *cur = root;

    for (int i = 0; i < upto && cur != NULL; i++) {
        const struct step *st = &p->s[i];
        json_t *next = json_object_get(cur, st->n->name);
        if (next == NULL && create && model_kind(st->n) == MODEL_CONT) {
            next = json_object();
            json_object_set_new(cur, st->n->name, next);
        }
        if (next == NULL && create && model_kind(st->n) == MODEL_LIST) {
            next = json_array();
            json_object_set_new(cur, st->n->name, next);
        }
        if (st->key != NULL)
            next = model_list_entry(next, model_key(st->n), st->key, NULL);
        cur = next;
    }
    return cur;
}

/* ---- query parameters on output -------------------------------------------------------------- */

static int query_depth(const struct api_req *r, int *depth, struct nerr *e)
{
    const char *d = api_query(r, "depth");
    char *end;

    *depth = 0;
    if (d == NULL || strcmp(d, "unbounded") == 0)
        return 0;
    errno = 0;
    long v = strtol(d, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
        return nerr_set(e, 400, "invalid-value",
                        "depth must be 1-65535 or unbounded (got %s)", d);
    *depth = (int)v;
    return 0;
}

static void apply_depth(json_t *v, int level, int depth)
{
    const char *k;
    json_t *c;
    void *tmp;

    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, k, c) {
            if (level + 1 > depth)
                json_object_del(v, k);
            else
                apply_depth(c, level + 1, depth);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_array_foreach(v, i, c) apply_depth(c, level, depth);
    }
}

/* fields=a;b/c(d;e) (RFC 8040 section 4.8.3): keeps the named descendants of the target (and
 * list keys). Names may carry module prefixes. */
static json_t *select_fields(const struct lysc_node *n, json_t *v, const char *fields,
                             struct nerr *e);

/* What the fields selection of node n starts from for its value v: an empty object, or for a list
 * one entry per element holding only its key (so the selected members land in the right entry). */
static json_t *fields_skeleton(const struct lysc_node *n, json_t *v)
{
    if (!json_is_array(v))
        return json_object();
    json_t *out = json_array();
    size_t i;
    json_t *ent;
    json_array_foreach(v, i, ent) json_array_append_new(
        out, model_key(n) ? json_pack("{s:O}", model_key(n), json_object_get(ent, model_key(n)))
                          : json_object());
    return out;
}

static int keep_path(const struct lysc_node *n, json_t *src, json_t *dst, const char *path,
                     struct nerr *e)
{
    const char *slash = strchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : strlen(path);
    const char *colon = memchr(path, ':', len);
    const char *name = colon ? colon + 1 : path;
    size_t nlen = len - (size_t)(name - path);

    if (json_is_array(src)) {
        size_t i;
        json_t *ent;
        json_array_foreach(src, i, ent) {
            json_t *de = json_array_get(dst, i);
            if (keep_path(n, ent, de, path, e) < 0)
                return -1;
        }
        return 0;
    }
    const struct lysc_node *kid = kid_find(n, name, nlen);
    if (kid == NULL || !json_is_object(src)) {
        char buf[128];
        snprintf(buf, sizeof buf, "%.*s", (int)len, path);
        return nerr_set(e, 400, "invalid-value", "fields: unknown element %s", buf);
    }
    json_t *c = json_object_get(src, kid->name);
    if (c == NULL)
        return 0;
    if (slash == NULL) {
        json_object_set(dst, kid->name, c);
        return 0;
    }
    json_t *dc = json_object_get(dst, kid->name);
    if (dc == NULL) {
        dc = fields_skeleton(kid, c);
        json_object_set_new(dst, kid->name, dc);
    }
    return keep_path(kid, c, dc, slash + 1, e);
}

/* Expands one fields-expr (RFC 8040 section 4.8.3: path "(" fields-expr ")" / path ";" fields-expr
 * / path) into flat paths, each appended to out as a NUL-terminated string under prefix. *pos
 * walks expr; parsing stops at an unmatched ')' (for the caller) or the end. -1 on a syntax
 * error or when the expansion outgrows out. */
struct fields_out {
    char *buf;
    size_t len, cap;
};

static int fields_expand(const char *expr, size_t *pos, const char *prefix, size_t plen, int depth,
                         struct fields_out *out)
{
    if (depth > LIM_API_FIELDS_DEPTH)
        return -1;
    for (;;) {
        size_t start = *pos;
        while (expr[*pos] != '\0' && strchr(";()", expr[*pos]) == NULL)
            (*pos)++;
        size_t len = *pos - start;
        if (len == 0 || expr[start] == '/' || expr[*pos - 1] == '/' ||
            plen + len + 2 > LIM_API_FIELDS_LEN)
            return -1;
        char path[LIM_API_FIELDS_LEN];
        memcpy(path, prefix, plen);
        memcpy(path + plen, expr + start, len);
        size_t full = plen + len;
        path[full] = '\0';
        if (expr[*pos] == '(') {
            (*pos)++;
            path[full++] = '/';
            if (fields_expand(expr, pos, path, full, depth + 1, out) < 0 || expr[*pos] != ')')
                return -1;
            (*pos)++;
        } else {
            if (out->len + full + 1 > out->cap)
                return -1;
            memcpy(out->buf + out->len, path, full + 1);
            out->len += full + 1;
        }
        if (expr[*pos] != ';')
            return 0;     /* the end, or a ')' for the caller */
        (*pos)++;
    }
}

static json_t *select_fields(const struct lysc_node *n, json_t *v, const char *fields,
                             struct nerr *e)
{
    char flat[LIM_API_FIELDS_LEN * 4];
    struct fields_out fo = {.buf = flat, .cap = sizeof flat};
    size_t pos = 0;

    if (strlen(fields) >= LIM_API_FIELDS_LEN ||
        fields_expand(fields, &pos, "", 0, 0, &fo) < 0 || fields[pos] != '\0') {
        nerr_set(e, 400, "invalid-value",
                 "fields: give paths separated by ';', with '(...)' for several below one "
                 "(e.g. fields=hostname;ip/ssh(time-out;authentication-retries))");
        return NULL;
    }
    json_t *out = fields_skeleton(n, v);
    for (size_t off = 0; off < fo.len; off += strlen(flat + off) + 1) {
        if (keep_path(n, v, out, flat + off, e) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* with-defaults (RFC 8040 section 4.8.9): report-all and report-all-tagged add the defaults (the
 * latter annotated, tag_defaults); trim and explicit (our basic mode) leave them out. */
static int query_defaults(const struct api_req *r, bool *defaults, bool *tagged, struct nerr *e)
{
    static const struct {
        const char *name;
        bool all, tagged;
    } tab[] = {{"report-all", true, false}, {"report-all-tagged", true, true},
               {"trim", false, false}, {"explicit", false, false}};
    const char *wd = api_query(r, "with-defaults");

    *defaults = *tagged = false;
    if (wd == NULL)
        return 0;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(wd, tab[i].name) == 0) {
            *defaults = tab[i].all;
            *tagged = tab[i].tagged;
            return 0;
        }
    return nerr_set(e, 400, "invalid-value",
                    "with-defaults must be report-all, report-all-tagged, trim or explicit");
}

/* content=config|nonconfig|all: the native subtree is all configuration. */
static bool query_config(const struct api_req *r)
{
    const char *c = api_query(r, "content");   /* its value was checked by api.c */
    return c == NULL || strcmp(c, "nonconfig") != 0;
}

/* ---- GET ------------------------------------------------------------------------------------- */

/* The target's value as sent (qualified, fields and depth applied), or NULL with e filled. */
static json_t *get_view(const struct cfg *c, const struct api_req *r, const struct npath *p,
                        bool defaults, bool config, int depth, struct nerr *e)
{
    json_t *root = model_native_tree(c, defaults);
    const struct lysc_node *n = p->n ? p->s[p->n - 1].n : model_native_root();
    json_t *v = p->n ? tree_at(root, p, p->n, false) : root;
    if (v == NULL || (json_is_object(v) && json_object_size(v) == 0 && p->n > 0) ||
        (json_is_array(v) && json_array_size(v) == 0)) {
        json_decref(root);
        snprintf(e->path, sizeof e->path, "%s", r->path);
        nerr_set(e, 404, "invalid-value", "no data at %s", r->path);
        return NULL;
    }
    json_incref(v);
    json_decref(root);
    if (p->n > 0 && p->s[p->n - 1].key != NULL) {
        json_t *arr = json_array();
        json_array_append_new(arr, v);   /* a list entry is sent as a one-entry list */
        v = arr;
    }
    if (!config) {
        json_decref(v);
        v = model_kind(n) == MODEL_LIST ? json_array() : json_object();
    }
    const char *fields = api_query(r, "fields");
    if (fields != NULL) {
        json_t *f = select_fields(n, v, fields, e);
        json_decref(v);
        if (f == NULL)
            return NULL;
        v = f;
    }
    json_t *q = model_qualify(n, v);
    json_decref(v);
    if (depth > 0)
        apply_depth(q, 1, depth);
    return q;
}

/* report-all-tagged (RFC 6243 section 3.4, RFC 7952 JSON): every leaf of all that the explicit
 * view (the same request without defaults) lacks holds its default, and gets the sibling
 * annotation "@name": {"ietf-netconf-with-defaults:default": true}. The two views come from the
 * same cfg through the same steps, so list entries line up by position. */
static void tag_defaults(json_t *all, json_t *expl)
{
    if (json_is_array(all)) {
        size_t i;
        json_t *v;
        json_array_foreach(all, i, v) tag_defaults(v, json_array_get(expl, i));
        return;
    }
    if (!json_is_object(all))
        return;
    json_t *tags = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(all, k, v) {
        json_t *x = json_is_object(expl) ? json_object_get(expl, k) : NULL;
        if (json_is_object(v) || json_is_array(v)) {
            tag_defaults(v, x);
        } else if (x == NULL) {
            char name[160];
            snprintf(name, sizeof name, "@%s", k);
            json_object_set_new(tags, name,
                                json_pack("{s:b}", "ietf-netconf-with-defaults:default", 1));
        }
    }
    json_object_update(all, tags);
    json_decref(tags);
}

static json_t *get_tree(const struct cfg *c, const struct api_req *r, const struct npath *p,
                        json_t **member_out, struct nerr *e)
{
    bool defaults, tagged, config;
    int depth;

    /* the names were checked by api.c against the row's API_Q_DATA */
    if (query_defaults(r, &defaults, &tagged, e) < 0 ||
        query_depth(r, &depth, e) < 0)
        return NULL;
    config = query_config(r);
    json_t *q = get_view(c, r, p, defaults, config, depth, e);
    if (q == NULL)
        return NULL;
    const struct lysc_node *n = p->n ? p->s[p->n - 1].n : model_native_root();
    const char *mod = p->n ? p->s[p->n - 1].mod : MOD_NATIVE;
    char name[128];
    snprintf(name, sizeof name, "%s:%s", mod, n->name);
    *member_out = json_object();
    json_object_set_new(*member_out, name, q);
    if (tagged) {
        struct nerr none;   /* a target holding only defaults has no explicit view: all tagged */
        memset(&none, 0, sizeof none);
        json_t *xq = get_view(c, r, p, false, config, depth, &none);
        json_t *expl = json_object();
        if (xq != NULL)
            json_object_set_new(expl, name, xq);
        tag_defaults(*member_out, expl);
        json_decref(expl);
    }
    return *member_out;
}

/* ---- writes ---------------------------------------------------------------------------------- */

/* The body of PUT/PATCH at a target: {"[mod:]name": value} -> normalized value. */
static json_t *body_value(const struct api_req *r, const struct step *st, const struct lysc_node *n,
                          const char *mod, struct nerr *e)
{
    const char *k;
    json_t *v;
    char path[256];

    if (r->json == NULL) {
        nerr_set(e, 400, "malformed-message", "%s needs a JSON body", r->method_name);
        return NULL;
    }
    if (!json_is_object(r->json) || json_object_size(r->json) != 1) {
        nerr_set(e, 400, "malformed-message",
                 "the body must be one JSON object with one member, \"%s:%s\"", mod, n->name);
        return NULL;
    }
    json_object_foreach(r->json, k, v) {
        const char *colon = strchr(k, ':');
        const char *name = colon ? colon + 1 : k;
        if (strcmp(name, n->name) != 0 || (colon && (strlen(mod) != (size_t)(colon - k) ||
                                                     memcmp(mod, k, (size_t)(colon - k))))) {
            snprintf(e->path, sizeof e->path, "/%s", k);
            nerr_set(e, 400, "unknown-element",
                     "the body member is %s, but the target resource is %s:%s", k, mod, n->name);
            return NULL;
        }
        snprintf(path, sizeof path, "/%s:%s", mod, n->name);
        json_t *out = NULL;
        if (norm(n, v, &out, path, sizeof path, e) < 0)
            return NULL;
        if (st != NULL && st->key != NULL) {
            /* a list entry: [ {entry} ] with the key of the URI */
            if (json_array_size(out) != 1) {
                json_decref(out);
                nerr_set(e, 400, "invalid-value", "give exactly one %s entry", n->name);
                return NULL;
            }
            json_t *ent = json_incref(json_array_get(out, 0));
            json_decref(out);
            if (strcmp(jstr(ent, model_key(n)), st->key) != 0) {
                json_decref(ent);
                snprintf(e->path, sizeof e->path, "/%s:%s/%s", mod, n->name, model_key(n));
                nerr_set(e, 400, "invalid-value",
                         "the key %s in the body differs from the URI (%s)", model_key(n), st->key);
                return NULL;
            }
            return ent;
        }
        return out;
    }
    return NULL;
}

/* Commits root as the new running config; fills resp on error. */
static int commit_tree(struct api_req *r, struct api_resp *resp, json_t *root,
                       const struct cfg *base, uint64_t expect, struct nerr *e)
{
    struct store *st = r->d->store;
    struct model_err me;
    struct scpd_err err;
    struct store_who who;
    struct cfg *next;

    memset(&me, 0, sizeof me);
    next = model_native_cfg(root, base, &me);
    if (next == NULL)
        return nerr_model(e, &me);
    api_who(r, &who);
    uint64_t newv = 0;
    scpd_err_clear(&err);
    if (store_commit(st, next, expect, &who, &newv, &err) < 0) {
        const struct api_errmap *m = api_errmap(err.code); /* 412 on a conflict: retried */
        e->status = m->status;
        e->type = m->type;
        e->tag = m->tag;
        snprintf(e->msg, sizeof e->msg, "%s", err.msg[0] ? err.msg : "internal error");
        cfg_free(next);
        return -1;
    }
    cfg_free(next);
    const struct store_snap *snap = store_snapshot(st);
    api_resp_snap_headers(resp, snap);
    store_snap_release(snap);
    return 0;
}

static int native_write(struct api_req *r, struct api_resp *resp, const struct store_snap *snap,
                        const struct npath *p, struct nerr *e)
{
    uint64_t expect;
    const struct step *last = p->n ? &p->s[p->n - 1] : NULL;
    const struct lysc_node *n = last ? last->n : model_native_root();
    const char *mod = last ? last->mod : MOD_NATIVE;
    int status = 204;
    json_t *root = NULL, *val = NULL;
    int rc = -1;

    if (api_check_preconditions(r, snap, &expect, resp) < 0)
        return 1;  /* resp filled */
    root = model_native_tree(snap->cfg, false);

    if (r->method == API_DELETE) {
        if (p->n == 0) {
            api_resp_header(resp, "Allow", "GET, HEAD, PUT, PATCH, POST, OPTIONS");
            nerr_set(e, 405, "operation-not-supported",
                     "deleting the whole configuration is not supported; PUT a new one");
            goto out;
        }
        json_t *parent = tree_at(root, p, p->n - 1, false);
        json_t *cur = tree_at(root, p, p->n, false);
        if (parent == NULL || cur == NULL ||
            (json_is_object(cur) && json_object_size(cur) == 0) ||
            (json_is_array(cur) && json_array_size(cur) == 0)) {
            snprintf(e->path, sizeof e->path, "%s", r->path);
            nerr_set(e, 404, "data-missing", "nothing to delete at %s", r->path);
            goto out;
        }
        if (last->key != NULL) {
            size_t idx;
            model_list_entry(json_object_get(parent, n->name), model_key(n), last->key, &idx);
            json_array_remove(json_object_get(parent, n->name), idx);
        } else {
            json_object_del(parent, n->name);
        }
    } else if (r->method == API_PUT || r->method == API_PATCH) {
        val = body_value(r, last, n, mod, e);
        if (val == NULL)
            goto out;
        if (p->n == 0) {
            if (r->method == API_PUT) {
                json_decref(root);
                root = json_incref(val);
            } else {
                model_merge(model_native_root(), root, val);
            }
        } else {
            json_t *parent = tree_at(root, p, p->n - 1, true);
            if (parent == NULL) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                nerr_set(e, 404, "invalid-value", "the parent of %s does not exist", r->path);
                goto out;
            }
            json_t *cur = tree_at(root, p, p->n, false);
            bool exists = cur != NULL && !(json_is_object(cur) && json_object_size(cur) == 0) &&
                          !(json_is_array(cur) && json_array_size(cur) == 0);
            if (r->method == API_PATCH && cur == NULL && last->key != NULL) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                nerr_set(e, 404, "data-missing",
                         "PATCH changes an existing resource; %s does not exist (use PUT or POST)",
                         r->path);
                goto out;
            }
            if (r->method == API_PUT && !exists)
                status = 201;
            if (last->key != NULL) {
                json_t *arr = json_object_get(parent, n->name);
                if (arr == NULL) {
                    arr = json_array();
                    json_object_set_new(parent, n->name, arr);
                }
                size_t idx;
                json_t *old = model_list_entry(arr, model_key(n), last->key, &idx);
                if (r->method == API_PATCH && old != NULL) {
                    model_merge(n, old, val);
                } else if (old != NULL) {
                    json_array_set(arr, idx, val);
                } else {
                    json_array_append(arr, val);
                }
            } else if (r->method == API_PATCH && cur != NULL && model_kind(n) == MODEL_CONT) {
                model_merge(n, cur, val);
            } else if (r->method == API_PATCH && cur != NULL && model_kind(n) == MODEL_LIST) {
                json_t *wrap = json_pack("{s:O}", n->name, val);
                model_merge(p->n > 1 ? p->s[p->n - 2].n : model_native_root(), parent, wrap);
                json_decref(wrap);
            } else {
                json_object_set(parent, n->name, val);
            }
        }
    } else if (r->method == API_POST) {
        /* POST creates a child of the target: body {"child": value}. On a list, the body is
         * {"list": [entry]} and creates that entry. */
        if (r->json == NULL || !json_is_object(r->json) || json_object_size(r->json) != 1) {
            nerr_set(e, 400, "malformed-message",
                     "POST needs a JSON object with one member: the resource to create");
            goto out;
        }
        const char *k = NULL;
        json_t *bv = NULL;
        json_object_foreach(r->json, k, bv) break;
        const char *kname = strchr(k, ':') ? strchr(k, ':') + 1 : k;
        char path[256];
        snprintf(path, sizeof path, "%s", "");
        if (last != NULL && strcmp(kname, n->name) == 0 &&
            !(model_kind(n) == MODEL_LIST && last->key == NULL)) {
            /* the body names the target itself (what ansible's restconf_config sends after a
             * 404): create exactly that resource, 409 if it exists */
            val = body_value(r, last, n, mod, e);
            if (val == NULL)
                goto out;
            json_t *parent = tree_at(root, p, p->n - 1, true);
            json_t *cur = tree_at(root, p, p->n, false);
            if (parent == NULL) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                nerr_set(e, 404, "invalid-value", "the parent of %s does not exist", r->path);
                goto out;
            }
            if (cur != NULL && !(json_is_object(cur) && json_object_size(cur) == 0) &&
                !(json_is_array(cur) && json_array_size(cur) == 0)) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                nerr_set(e, 409, "data-exists", "%s already exists (use PUT or PATCH)", r->path);
                goto out;
            }
            if (last->key != NULL) {
                json_t *arr = json_object_get(parent, n->name);
                if (arr == NULL) {
                    arr = json_array();
                    json_object_set_new(parent, n->name, arr);
                }
                json_array_append(arr, val);
            } else {
                json_object_set(parent, n->name, val);
            }
            api_resp_header(resp, "Location", r->path);
        } else if (last != NULL && last->key != NULL) {
            nerr_set(e, 400, "invalid-value",
                     "POST creates a child resource; a %s entry has no child lists", n->name);
            goto out;
        } else if (model_kind(n) == MODEL_LIST) {
            val = body_value(r, NULL, n, mod, e);
            if (val == NULL)
                goto out;
            if (list_add_new(tree_at(root, p, p->n - 1, true), n, val, r->path, e) < 0)
                goto out;
            if (json_array_size(val) == 1) {
                char loc[512];
                snprintf(loc, sizeof loc, "%s=%s", r->path,
                         jstr(json_array_get(val, 0), model_key(n)));
                api_resp_header(resp, "Location", loc);
            }
        } else {
            const struct lysc_node *kid = kid_lookup(n, k);
            if (kid == NULL) {
                snprintf(e->path, sizeof e->path, "/%s", k);
                nerr_set(e, 400, "unknown-element", "unknown element %s in %s", k, r->path);
                goto out;
            }
            const char *kmod = model_module(kid);
            snprintf(path, sizeof path, "/%s:%s", kmod, kid->name);
            if (norm(kid, bv, &val, path, sizeof path, e) < 0)
                goto out;
            json_t *target = p->n ? tree_at(root, p, p->n, true) : root;
            if (target == NULL) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                nerr_set(e, 404, "invalid-value", "%s does not exist", r->path);
                goto out;
            }
            json_t *cur = json_object_get(target, kid->name);
            if (model_kind(kid) == MODEL_LIST) {
                char at[sizeof e->path];
                snprintf(at, sizeof at, "%s/%s", r->path, kid->name);
                if (list_add_new(target, kid, val, at, e) < 0)
                    goto out;
            } else {
                if (cur != NULL && !(json_is_object(cur) && json_object_size(cur) == 0)) {
                    snprintf(e->path, sizeof e->path, "%s/%s", r->path, kid->name);
                    nerr_set(e, 409, "data-exists", "%s already exists (use PUT or PATCH)",
                             kid->name);
                    goto out;
                }
                json_object_set(target, kid->name, val);
            }
            char loc[512];
            snprintf(loc, sizeof loc, "%s/%s", r->path, k);
            api_resp_header(resp, "Location", loc);
        }
        status = 201;
    }
    if (commit_tree(r, resp, root, snap->cfg, expect, e) < 0)
        goto out;
    api_no_content(resp);
    resp->status = status;
    rc = 0;
out:
    json_decref(val);
    json_decref(root);
    return rc;
}

/* ---- the translation alone (unit tests, fuzzing) --------------------------------------------- */

char *api_native_text(const char *json, size_t len, char *why, size_t cap)
{
    json_error_t je;
    char path[256] = "";
    json_t *in = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je), *tree = NULL;
    char *text = NULL;
    size_t tlen;

    if (in == NULL) {
        snprintf(why, cap, "malformed JSON: %s", je.text);
        return NULL;
    }
    json_t *body = json_object_get(in, MOD_NATIVE ":native");
    if (!json_is_object(in) || json_object_size(in) != 1 || body == NULL) {
        snprintf(why, cap, "want {\"%s:native\": {...}}", MOD_NATIVE);
        goto out;
    }
    struct model_err me;
    memset(&me, 0, sizeof me);
    if (model_norm(model_native_root(), body, &tree, path, sizeof path, &me) < 0) {
        snprintf(why, cap, "%s", me.msg);
        goto out;
    }
    model_prune(tree);
    text = model_native_text(tree, &tlen, &me);
    if (text == NULL)
        snprintf(why, cap, "%s", me.msg);
out:
    json_decref(tree);
    json_decref(in);
    return text;
}

/* ---- handlers -------------------------------------------------------------------------------- */

json_t *api_native_json(const struct cfg *c, bool with_defaults)
{
    json_t *t = model_native_tree(c, with_defaults);
    json_t *q = model_qualify(model_native_root(), t);

    json_decref(t);
    return q;
}

int api_h_native(struct api_req *r, struct api_resp *resp)
{
    struct nerr e;
    struct npath p;
    const struct store_snap *snap;
    int rc;

    memset(&e, 0, sizeof e);
    memset(&p, 0, sizeof p);
    if (resolve(r, &p, &e) < 0) {
        npath_free(&p);
        return nerr_send(resp, &e);
    }
    snap = store_snapshot(r->d->store);
    /* every datastore response names the version it saw, errors included */
    api_resp_snap_headers(resp, snap);
    if (r->method == API_GET || r->method == API_HEAD) {
        json_t *out = NULL;
        if (get_tree(snap->cfg, r, &p, &out, &e) == NULL) {
            nerr_send(resp, &e);
        } else {
            api_json(resp, 200, out);
        }
    } else {
        /* A write is computed on the snapshot it read and committed only onto that version. When
         * another writer got in between and the client set no precondition, the request is
         * simply computed again on the new version (a PATCH of one leaf must not fail because
         * someone else changed another); with If-Match the client asked for the 412. */
        bool precondition = api_header(r, "If-Match") != NULL ||
                            api_header(r, "If-Unmodified-Since") != NULL;
        api_write_lock(r->shared);
        store_snap_release(snap);   /* read again under the lock */
        snap = store_snapshot(r->d->store);
        resp->nhdr = 0;
        api_resp_snap_headers(resp, snap);
        for (int attempt = 0;; attempt++) {
            memset(&e, 0, sizeof e);
            rc = native_write(r, resp, snap, &p, &e);
            if (!(rc < 0 && e.status == 412 && !precondition && attempt < API_WRITE_RETRIES))
                break;
            store_snap_release(snap);
            snap = store_snapshot(r->d->store);
            resp->nhdr = 0;
            api_resp_snap_headers(resp, snap);
        }
        api_write_unlock(r->shared);
        if (rc < 0)
            nerr_send(resp, &e);
    }
    store_snap_release(snap);
    npath_free(&p);
    return 0;
}

/* A read of a datastore's config c (RFC 8527): the root (wrapped in ietf-restconf:data) or the
 * path below native, with the same path walk and query parameters as /restconf/data. */
static void ds_read(struct api_req *r, struct api_resp *resp, const struct cfg *c, bool root)
{
    struct nerr e;
    struct npath p;
    json_t *out = NULL;

    memset(&e, 0, sizeof e);
    memset(&p, 0, sizeof p);
    if (!root)
        r->seg0++;
    if (resolve(r, &p, &e) < 0 || get_tree(c, r, &p, &out, &e) == NULL)
        nerr_send(resp, &e);
    else if (root)
        api_json(resp, 200, json_pack("{s:o}", "ietf-restconf:data", out));
    else
        api_json(resp, 200, out);
    if (!root)
        r->seg0--;
    npath_free(&p);
}

/* /restconf/ds/ietf-datastores:running[/Cisco-IOS-XE-native:native/...] (RFC 8527): the running
 * datastore; below the native node it is the same resource as /restconf/data. */
int api_h_ds_running(struct api_req *r, struct api_resp *resp)
{
    if (api_rest_count(r) == 0) {
        if (r->method != API_GET && r->method != API_HEAD) {
            api_resp_header(resp, "Allow", "GET, HEAD, OPTIONS");
            return api_error(resp, 405, "protocol", "operation-not-supported", r->path,
                             "edit the running datastore below "
                             "/restconf/ds/ietf-datastores:running/Cisco-IOS-XE-native:native");
        }
        const struct store_snap *snap = store_snapshot(r->d->store);
        api_resp_snap_headers(resp, snap);
        ds_read(r, resp, snap->cfg, true);
        store_snap_release(snap);
        return 0;
    }
    if (strcmp(api_rest(r, 0), MOD_NATIVE ":native") != 0)
        return api_error(resp, 404, "protocol", "invalid-value", r->path,
                         "no such resource: %s", r->path);
    r->seg0++;
    int rc = api_h_native(r, resp);
    r->seg0--;
    return rc;
}

/* Validators of the startup datastore: ETag "s-<first 64 bits of SHA-256 of the text, hex>", so it
 * changes exactly when the saved text changes (the "s-" keeps it apart from the running
 * datastore's version numbers), and Last-Modified the time of the last save (the store writes the
 * startup text when it is created, so a never-saved startup has its creation time; 0 would only
 * come from a damaged row and then the daemon's start is the stable answer). */
static void startup_headers(struct api_req *r, struct api_resp *resp, const char *text,
                            time_t saved_at)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char buf[64];

    SHA256((const unsigned char *)text, strlen(text), md);
    snprintf(buf, sizeof buf, "\"s-%02x%02x%02x%02x%02x%02x%02x%02x\"", md[0], md[1], md[2],
             md[3], md[4], md[5], md[6], md[7]);
    api_resp_header(resp, "ETag", buf);
    if (saved_at == 0)
        saved_at = (time_t)(stats_started_ms(r->d->stats) / 1000);
    api_http_date(saved_at, buf, sizeof buf);
    api_resp_header(resp, "Last-Modified", buf);
}

/* /restconf/ds/ietf-datastores:startup[/Cisco-IOS-XE-native:native/...]: the startup datastore is
 * text (saved with save-config); it is parsed into a cfg and read through the same path walk and
 * query parameters as the running datastore. Read-only (the row has GET only). */
int api_h_ds_startup(struct api_req *r, struct api_resp *resp)
{
    struct scpd_err err;
    time_t saved_at = 0;
    char *text;
    struct cfg_errors *errs;
    bool root = api_rest_count(r) == 0;

    if (!root && strcmp(api_rest(r, 0), MOD_NATIVE ":native") != 0)
        return api_error(resp, 404, "protocol", "invalid-value", r->path,
                         "no such resource: %s", r->path);
    scpd_err_clear(&err);
    text = store_startup_get(r->d->store, &saved_at, &err);
    if (text == NULL)
        return api_error_from(resp, &err, r->path);
    startup_headers(r, resp, text, saved_at);
    errs = calloc(1, sizeof *errs);
    struct cfg *c = errs ? cfg_apply_text(NULL, text, strlen(text), CFG_REPLACE, errs) : NULL;
    free(text);
    free(errs);
    if (c == NULL)
        return api_error(resp, 500, "application", "operation-failed", r->path,
                         "the startup configuration does not parse");
    ds_read(r, resp, c, root);
    cfg_free(c);
    return 0;
}

/* Operational datastore: running config plus the operational state (= GET /restconf/data). */
int api_h_ds_operational(struct api_req *r, struct api_resp *resp)
{
    if (api_rest_count(r) > 0)
        return api_error(resp, 404, "protocol", "invalid-value", r->path,
                         "no such resource: %s (read subtrees under /restconf/data)", r->path);
    return api_h_data_root(r, resp);
}
