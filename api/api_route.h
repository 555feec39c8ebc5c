/* api_route: the route table (api_routes.c: path pattern, methods, handler, privileges, query
 * parameters) and the router that matches a request against it (api_route.c). Dispatch is data:
 * adding a resource is adding a row. */
#ifndef SCPD_API_ROUTE_H
#define SCPD_API_ROUTE_H

#include "api/api_req.h"

/* ---- the route table ------------------------------------------------------------------------- */
typedef int (*api_handler_fn)(struct api_req *r, struct api_resp *resp);

enum api_route_flags {
    API_F_PREFIX = 1 << 0,     /* the pattern matches its own path and every path below it */
    API_F_JSON_BODY = 1 << 1,  /* writes need a JSON body (415 on other types, 400 on bad JSON) */
    API_F_DATA_ROOT = 1 << 2,  /* GET of the row is part of GET /restconf/data (top-level member) */
    API_F_METRICS = 1 << 3,    /* GET needs no login when scpd runs with --metrics-public */
    /* content= (RFC 8040 section 4.8.1) for rows whose data is all of one kind, applied by api.c
     * to the handler's answer: content=config empties a row of state data (config false), and
     * content=nonconfig a row of configuration. Rows of mixed data filter in their handler. */
    API_F_NONCONFIG = 1 << 4,
    API_F_CONFIG = 1 << 5,
};

/* Query parameters a row accepts (its `query`): names separated by spaces; API_Q_ANY accepts
 * anything (static files); NULL accepts none. api.c refuses, before the handler runs, a name not
 * listed, a name given twice (RFC 8040 section 4.8: MUST NOT appear more than once) and a content=
 * other than config, nonconfig or all, each with a 400 naming the parameter. */
#define API_Q_ANY "*"
#define API_Q_DATA "depth fields content with-defaults"

/* A row: pattern is a path of literal segments ("/restconf/data/scpd:scp-state"); a segment "*"
 * matches any one segment; with API_F_PREFIX the handler gets the rest (api_rest*). Matching uses
 * the most specific row (most literal segments). A list key segment "name=value" matches a pattern
 * segment "name=*". priv_read applies to GET/HEAD, priv_write to the other methods. */
struct api_route {
    const char *pattern;
    unsigned methods;          /* enum api_method bits */
    api_handler_fn handler;
    int priv_read;
    int priv_write;
    unsigned flags;
    const char *query;         /* accepted query parameters (see API_Q_ANY above) */
};

/* The table (api_routes.c), terminated by a row with pattern NULL. */
extern const struct api_route api_routes[];

/* The best row for r (most literal segments; an exact row beats a prefix row), with r->seg0 set to
 * the first segment after its fixed part; NULL when no row matches. */
const struct api_route *api_route_find(struct api_req *r);
/* The query parameter rules of every row (RFC 8040 section 4.8): each at most once, only those
 * the row lists, content= one of its three values. Fills a 400 and returns -1 on a breach. */
int api_route_query_check(const struct api_route *rt, const struct api_req *r,
                          struct api_resp *resp);
/* Runs the row's handler and applies content= for rows of one kind of data. */
int api_route_call(const struct api_route *rt, struct api_req *r, struct api_resp *resp);

/* GET /restconf/data: the members of every API_F_DATA_ROOT row under "ietf-restconf:data". */
int api_h_data_root(struct api_req *r, struct api_resp *resp);

#endif
