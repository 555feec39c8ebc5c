/* api_copy: IOS XE's file RPCs over the same engine as the CLI's `copy` (services/copy.c) and the
 * same resolver (ifs):
 *   POST /restconf/operations/Cisco-IOS-XE-rpc:copy
 *        {"Cisco-IOS-XE-rpc:input": {"source-drop-node-name": "bootflash:a.bin",
 *                                    "destination-drop-node-name": "nvram:a.bin"}}
 *        any pair of the IOS File System (onto running-config: merge; onto startup-config:
 *        replace; validated whole first), or a remote end (scp://USER[:PW]@HOST[:PORT]/PATH,
 *        sftp://...) as `copy` at the CLI: the remote's host key must be in the pubkey-chain, the
 *        device logs in with its own key, then the URL's password. The copy runs inside the
 *        request; meanwhile it is a live transfer of scpd:scp-state and the transfers stream
 *        (the dashboard watches a pull there), and its history row says pull/push.
 *        An existing target is replaced, as IOS XE's RPC does (no questions in an API).
 *   POST /restconf/operations/Cisco-IOS-XE-rpc:delete
 *        {"Cisco-IOS-XE-rpc:input": {"filename-drop-node-name": "bootflash:a.bin"}}
 * Output: {"Cisco-IOS-XE-rpc:output": {"result": "..."}}, errors as every RESTCONF error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "base/scpd.h"
#include "ifs/ifs.h"
#include "services/copy.h"
#include "store/store.h"

#define API_COPY_SLICE (8u << 20)   /* bytes per copy_step: the loop has no one to answer to */

/* The string member name of the RPC's input, or NULL with resp filled. */
static const char *rpc_arg(struct api_req *r, const char *name, struct api_resp *resp)
{
    json_t *in = r->json ? json_object_get(r->json, "Cisco-IOS-XE-rpc:input") : NULL;
    if (!in && r->json)
        in = json_object_get(r->json, "input");
    const char *v = in ? json_string_value(json_object_get(in, name)) : NULL;
    if (!json_is_object(r->json) || json_object_size(r->json) != 1 || !json_is_object(in)) {
        api_error(resp, 400, "protocol", "malformed-message", NULL,
                  "the body must be {\"Cisco-IOS-XE-rpc:input\": {...}}");
        return NULL;
    }
    if (!v || !*v) {
        char path[96];
        snprintf(path, sizeof path, "/Cisco-IOS-XE-rpc:input/%s", name);
        api_error(resp, 400, "application", "missing-element", path, "%s is required (a string)",
                  name);
        return NULL;
    }
    return v;
}

static int rpc_ok(struct api_resp *resp, const char *result)
{
    return api_json(resp, 200, json_pack("{s:{s:s}}", "Cisco-IOS-XE-rpc:output", "result",
                                         result));
}

/* The error of a copy; a refused configuration's parser errors go into error-info. */
static int copy_error(struct api_resp *resp, const struct scpd_err *err, const char *detail)
{
    if (!detail)
        return api_error_from(resp, err, NULL);
    struct scpd_err e = *err;
    size_t n = strlen(e.msg);
    snprintf(e.msg + n, sizeof(e.msg) - n, ": %s", detail);
    return api_error_from(resp, &e, NULL);
}

static int run_job(struct copy_job *j, struct api_resp *resp, const char *what)
{
    struct scpd_err err = {0};
    int rc;
    while ((rc = copy_step(j, API_COPY_SLICE, &err)) == COPY_MORE)
        ;
    if (rc < 0) {
        rc = copy_error(resp, &err, copy_detail(j));
        copy_free(j);
        return rc;
    }
    char result[160];
    snprintf(result, sizeof result, "%s: %" PRIu64 " bytes copied", what, copy_bytes(j));
    copy_free(j);
    return rpc_ok(resp, result);
}

int api_h_rpc_copy(struct api_req *r, struct api_resp *resp)
{
    const char *src = rpc_arg(r, "source-drop-node-name", resp);
    const char *dst = src ? rpc_arg(r, "destination-drop-node-name", resp) : NULL;
    struct scpd_err err = {0};
    struct store_who who;
    if (!dst)
        return 0;
    api_who(r, &who);
    if (copy_is_url(src) || copy_is_url(dst)) {
        bool pull = copy_is_url(src);
        const char *u = pull ? src : dst, *l = pull ? dst : src;
        struct copy_url url;
        struct ifs_path local;
        if (pull && copy_is_url(dst))
            return api_error(resp, 400, "application", "invalid-value", NULL,
                             "one end of a copy must be on this device");
        if (copy_url_parse(u, strlen(u), &url, &err) < 0 || ifs_resolve(l, &local, &err) < 0)
            return api_error_from(resp, &err, NULL);
        if (!url.host[0] || !url.user[0] || !url.path[0])
            return api_error(resp, 400, "application", "invalid-value", NULL,
                             "the URL needs a user, a host and a path (nobody is asked here)");
        struct ifs_stat st;
        const char *slash = strrchr(url.path, '/');
        struct ifs_path in;
        if (pull && ifs_stat(r->d->ifs, &local, &st, &err) == 0 && st.dir &&
            ifs_child(&local, slash ? slash + 1 : url.path, &in, &err) == 0)
            local = in;   /* into a directory: the remote file's name */
        struct copy_ctx ctx = {.ifs = r->d->ifs, .store = r->d->store, .stats = r->d->stats,
                               .trace = r->d->trace, .sid = r->id, .user = r->user,
                               .peer = r->peer, .source = "api",
                               .client_key = r->d->client_key[0] ? r->d->client_key : NULL};
        struct copy_job *j = copy_start_remote(&ctx, &url, url.password, pull, &local, &err);
        explicit_bzero(url.password, sizeof url.password);
        if (!j)
            return api_error_from(resp, &err, NULL);
        return run_job(j, resp, "Copy successful");
    }
    struct copy_plan p;
    if (copy_plan(r->d->ifs, src, dst, &p, &err) < 0)
        return api_error_from(resp, &err, NULL);
    struct copy_job *j = copy_start(r->d->ifs, r->d->store, &p, &who, &err);
    if (!j)
        return api_error_from(resp, &err, NULL);
    return run_job(j, resp, "Copy successful");
}

int api_h_rpc_delete(struct api_req *r, struct api_resp *resp)
{
    const char *name = rpc_arg(r, "filename-drop-node-name", resp);
    struct scpd_err err = {0};
    struct ifs_path p;
    struct ifs_stat st;
    if (!name)
        return 0;
    if (ifs_resolve(name, &p, &err) < 0 || ifs_stat(r->d->ifs, &p, &st, &err) < 0)
        return api_error_from(resp, &err, NULL);
    if (st.dir)
        return api_error(resp, 400, "application", "invalid-value", NULL,
                         "%s is a directory (delete removes files)", p.name);
    if (ifs_unlink(r->d->ifs, &p, &err) < 0)
        return api_error_from(resp, &err, NULL);
    char result[LIM_PATH_LEN + 32];
    snprintf(result, sizeof result, "Delete %s successful", p.name);
    return rpc_ok(resp, result);
}
