/* api_routes: the one table of HTTP resources. A resource is a row (path pattern, methods,
 * handler, privilege to read, privilege to write, flags); api.c matches the most specific row.
 * Adding a resource is adding a row here and a handler in its own file (api_obs*.c for the
 * observability resources). The last column lists the query parameters the row accepts: api.c
 * refuses others, and repeated ones, before the handler runs. Privileges (docs/api.md): 15 for
 * configuration and every write, 1 for operational state and metrics, none for host-meta and the
 * dashboard's static files (and for /metrics with --metrics-public). */
#include "api/api_auth.h"
#include "api/api_handlers.h"
#include "api/api_route.h"
#include "api/api_obs.h"

#define R API_PRIV_READ
#define A API_PRIV_ADMIN
#define N API_PRIV_ANON

const struct api_route api_routes[] = {
    /* discovery (RFC 8040 section 3) */
    {"/.well-known/host-meta", API_GET, api_h_host_meta, N, N, 0, NULL},
    {"/restconf", API_GET, api_h_restconf_root, R, A, 0, NULL},
    {"/restconf/yang-library-version", API_GET, api_h_yang_library_version, R, A, 0, NULL},
    {"/restconf/data", API_GET, api_h_data_root, R, A, 0, API_Q_DATA},

    /* configuration: Cisco-IOS-XE-native subset (api_native.c) */
    {"/restconf/data/Cisco-IOS-XE-native:native", API_GET | API_WRITE_METHODS, api_h_native, A, A,
     API_F_PREFIX | API_F_JSON_BODY | API_F_DATA_ROOT, API_Q_DATA},
    {"/restconf/data/scpd:audit-log", API_GET, api_h_audit_log, A, A,
     API_F_PREFIX | API_F_NONCONFIG, "content since limit"},

    /* datastores (RFC 8527) */
    {"/restconf/ds/ietf-datastores:running", API_GET | API_WRITE_METHODS, api_h_ds_running, A, A,
     API_F_PREFIX | API_F_JSON_BODY, API_Q_DATA},
    {"/restconf/ds/ietf-datastores:startup", API_GET, api_h_ds_startup, A, A, API_F_PREFIX,
     API_Q_DATA},
    {"/restconf/ds/ietf-datastores:operational", API_GET, api_h_ds_operational, R, A,
     API_F_PREFIX, API_Q_DATA},

    /* operations (api_ops.c) */
    {"/restconf/operations", API_GET, api_h_operations, R, A, 0, NULL},
    {"/restconf/operations/cisco-ia:save-config", API_POST, api_h_save_config, A, A,
     API_F_JSON_BODY, NULL},
    {"/restconf/operations/Cisco-IOS-XE-rpc:reload", API_POST, api_h_reload, A, A,
     API_F_JSON_BODY, NULL},
    {"/restconf/operations/scpd:apply-config", API_POST, api_h_apply_config, A, A,
     API_F_JSON_BODY, NULL},
    {"/restconf/operations/scpd:show", API_POST, api_h_show, A, A, API_F_JSON_BODY, NULL},
    /* IOS XE's file RPCs (api_copy.c) */
    {"/restconf/operations/Cisco-IOS-XE-rpc:copy", API_POST, api_h_rpc_copy, A, A,
     API_F_JSON_BODY, NULL},
    {"/restconf/operations/Cisco-IOS-XE-rpc:delete", API_POST, api_h_rpc_delete, A, A,
     API_F_JSON_BODY, NULL},

    /* bearer tokens for the dashboard */
    {"/restconf/operations/scpd:login", API_POST, api_h_login, R, R, 0, NULL},
    {"/restconf/operations/scpd:logout", API_POST, api_h_logout, R, R, 0, NULL},

    /* observability (obs): scpd:scp-state, debug ip scp, event streams, metrics, dashboard */
    {"/restconf/data/scpd:scp-state", API_GET, api_h_scp_state, R, A,
     API_F_DATA_ROOT | API_F_NONCONFIG, "content user result direction since limit"},
    {"/restconf/data/scpd:scp-state/transfers", API_GET, api_h_scp_history, R, A,
     API_F_NONCONFIG, "content user result direction since limit"},
    {"/restconf/data/scpd:debug", API_GET, api_h_debug, R, A, API_F_DATA_ROOT, "content"},
    {"/restconf/data/scpd:file-systems", API_GET, api_h_file_systems, R, A,
     API_F_DATA_ROOT | API_F_NONCONFIG, "content"},
    {"/restconf/data/scpd:aaa-servers", API_GET, api_h_aaa_servers, R, A,
     API_F_DATA_ROOT | API_F_NONCONFIG, "content"},
    {"/restconf/data/scpd:debug/scp", API_GET | API_PUT, api_h_debug_scp, R, A,
     API_F_JSON_BODY | API_F_CONFIG, "content"},
    {"/restconf/data/scpd:debug/traces", API_GET, api_h_debug_traces, R, A, API_F_NONCONFIG,
     "content since limit"},
    {"/restconf/data/ietf-restconf-monitoring:restconf-state", API_GET, api_h_restconf_state, R, A,
     API_F_PREFIX | API_F_DATA_ROOT | API_F_NONCONFIG, "content"},
    {"/restconf/data/ietf-yang-library:modules-state", API_GET, api_h_modules_state, R, A,
     API_F_PREFIX | API_F_DATA_ROOT | API_F_NONCONFIG, "content"},
    {"/restconf/streams/*", API_GET, api_h_stream, R, A, 0, NULL},
    {"/metrics", API_GET, api_h_metrics, R, A, API_F_METRICS, NULL},
    {"/", API_GET, api_h_web, N, N, API_F_PREFIX, API_Q_ANY},

    {NULL, 0, NULL, 0, 0, 0, NULL},
};
