/* api_route: the router: matches a request's segments against the route table (api_routes.c),
 * checks its query parameters against the row's list, and runs the row's handler. */
#include "api/api_route.h"

#include <stdbool.h>
#include <string.h>

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
        api_route_call(rt, r, &sub);
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
        api_resp_clear(&sub);
    }
    r->seg0 = saved_seg0;
    return api_json(resp, 200, json_pack("{s:o}", "ietf-restconf:data", data));
}

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

const struct api_route *api_route_find(struct api_req *r)
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

int api_route_call(const struct api_route *rt, struct api_req *r, struct api_resp *resp)
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
int api_route_query_check(const struct api_route *rt, const struct api_req *r,
                          struct api_resp *resp)
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
