/* api_discovery: what a RESTCONF client reads first: host-meta (RFC 6415), the RESTCONF root and
 * yang-library-version (RFC 8040 section 3), the capabilities (section 9.1) and the modules this
 * server implements (ietf-yang-library:modules-state, RFC 7895). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "api/api_handlers.h"

/* ---- discovery handlers ---------------------------------------------------------------------- */

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
