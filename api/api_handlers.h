/* api_handlers: the resource handlers the route table (api_routes.c) refers to, by the file that
 * implements them; the observability handlers are in api_obs.h, the login handlers in api_auth.h.
 */
#ifndef SCPD_API_HANDLERS_H
#define SCPD_API_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "api/api_req.h"

struct cfg;

/* api_discovery.c: discovery */
int api_h_host_meta(struct api_req *r, struct api_resp *resp);
int api_h_restconf_root(struct api_req *r, struct api_resp *resp);
int api_h_yang_library_version(struct api_req *r, struct api_resp *resp);
/* ietf-yang-library:modules-state (RFC 7895): the modules this server implements. */
int api_h_modules_state(struct api_req *r, struct api_resp *resp);
/* {"capability": [URI, ...]}: the RFC 8040 section 9.1.1 capabilities (for restconf-state). */
json_t *api_capabilities_json(void);

/* api_native.c: /restconf/data/Cisco-IOS-XE-native:native[/...] and the datastores */
int api_h_native(struct api_req *r, struct api_resp *resp);
int api_h_ds_running(struct api_req *r, struct api_resp *resp);
int api_h_ds_startup(struct api_req *r, struct api_resp *resp);
int api_h_ds_operational(struct api_req *r, struct api_resp *resp);
/* The native subtree of cfg as RFC 7951 JSON ({"Cisco-IOS-XE-native:native":{...}} content).
 * with_defaults: include default values. Caller owns the result. */
json_t *api_native_json(const struct cfg *c, bool with_defaults);
/* The translation alone: a {"Cisco-IOS-XE-native:native": {...}} document -> config text for
 * cfg_apply_text(replace) (caller frees), or NULL with the reason in why. No store involved. */
char *api_native_text(const char *json, size_t len, char *why, size_t cap);

/* api_copy.c: IOS XE's file RPCs (Cisco-IOS-XE-rpc:copy, Cisco-IOS-XE-rpc:delete) */
int api_h_rpc_copy(struct api_req *r, struct api_resp *resp);
int api_h_rpc_delete(struct api_req *r, struct api_resp *resp);

/* api_ops.c: operations */
int api_h_operations(struct api_req *r, struct api_resp *resp);
int api_h_save_config(struct api_req *r, struct api_resp *resp);
int api_h_reload(struct api_req *r, struct api_resp *resp);
int api_h_apply_config(struct api_req *r, struct api_resp *resp);
int api_h_show(struct api_req *r, struct api_resp *resp);
int api_h_audit_log(struct api_req *r, struct api_resp *resp);

/* api_fs.c: scpd:file-systems (sizes, used and free bytes of bootflash:, nvram:, system:) */
int api_h_file_systems(struct api_req *r, struct api_resp *resp);

/* api_aaa.c: scpd:aaa-servers (per TACACS+/RADIUS server counters, round-trip time, dead) */
int api_h_aaa_servers(struct api_req *r, struct api_resp *resp);

#endif
