/* api_routes: the one table of HTTP resources. A resource is a row (path pattern, methods,
 * handler, privilege to read, privilege to write, flags); api.c matches the most specific row.
 * Adding a resource is adding a row here and a handler in its own file (api_obs*.c for the
 * observability resources). Privileges (spec/api.md): 15 for configuration and every write,
 * 1 for operational state and metrics, none for host-meta and the dashboard's static files. */
#include "api_internal.h"

#define R API_PRIV_READ
#define A API_PRIV_ADMIN
#define N API_PRIV_ANON

const struct api_route api_routes[] = {
    /* discovery (RFC 8040 section 3) */
    {"/.well-known/host-meta", API_GET, api_h_host_meta, N, N, 0},
    {"/restconf", API_GET, api_h_restconf_root, R, A, 0},
    {"/restconf/yang-library-version", API_GET, api_h_yang_library_version, R, A, 0},
    {"/restconf/data", API_GET, api_h_data_root, R, A, 0},

    /* bearer tokens for the dashboard */
    {"/restconf/operations/scpd:login", API_POST, api_h_login, R, R, 0},
    {"/restconf/operations/scpd:logout", API_POST, api_h_logout, R, R, 0},

    {NULL, 0, NULL, 0, 0, 0},
};
