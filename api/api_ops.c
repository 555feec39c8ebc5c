/* api_ops: RESTCONF operations (RFC 8040 section 3.6) on configuration text and the datastores,
 * and the audit log.
 *   cisco-ia:save-config   running -> startup (store_save_config), as Cisco's cisco-ia model
 *   Cisco-IOS-XE-rpc:reload running <- startup (store_reload): a router's reload, minus the reboot
 *   scpd:apply-config      config text, merge or replace, optional dry run (store_apply_text)
 *   scpd:show              the text the CLI prints (cfg_render with its header)
 *   scpd:audit-log         who changed what (store_audit_query)
 * Inputs are {"<module>:input": {...}} as RFC 8040 requires ("input" alone is accepted too);
 * outputs are {"<module>:output": {...}} (64-bit numbers as strings, RFC 7951). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_handlers.h"
#include "store/cfg.h"
#include "base/scpd.h"
#include "store/store.h"

/* What GET /restconf/operations lists (RFC 8040 section 3.3.2). */
static const char *const op_names[] = {
    "cisco-ia:save-config", "Cisco-IOS-XE-rpc:reload", "scpd:apply-config", "scpd:show",
    "scpd:login", "scpd:logout", "Cisco-IOS-XE-rpc:copy", "Cisco-IOS-XE-rpc:delete", NULL,
};

int api_h_operations(struct api_req *r, struct api_resp *resp)
{
    json_t *o = json_object();

    for (const char *const *p = op_names; *p; p++)
        json_object_set_new(o, *p, json_pack("[n]"));
    return api_json(resp, 200, json_pack("{s:o}", "ietf-restconf:operations", o));
}

/* The input object of an operation, or NULL with resp filled. No body is an empty input. */
static json_t *op_input(struct api_req *r, const char *module, const char *const *known,
                        struct api_resp *resp)
{
    char qname[64];
    json_t *in;
    const char *k;
    json_t *v;

    if (r->json == NULL || (json_is_object(r->json) && json_object_size(r->json) == 0))
        return json_object();   /* no body or {}: no input */
    snprintf(qname, sizeof qname, "%s:input", module);
    if (!json_is_object(r->json) || json_object_size(r->json) != 1 ||
        ((in = json_object_get(r->json, qname)) == NULL &&
         (in = json_object_get(r->json, "input")) == NULL)) {
        api_error(resp, 400, "protocol", "malformed-message", NULL,
                  "the body must be {\"%s\": {...}}", qname);
        return NULL;
    }
    if (!json_is_object(in)) {
        api_error(resp, 400, "protocol", "malformed-message", "/input",
                  "%s must be a JSON object", qname);
        return NULL;
    }
    json_object_foreach(in, k, v) {
        bool ok = false;
        for (const char *const *p = known; *p; p++)
            if (strcmp(k, *p) == 0)
                ok = true;
        if (!ok) {
            char path[128];
            snprintf(path, sizeof path, "/%s/%s", qname, k);
            api_error(resp, 400, "application", "unknown-element", path,
                      "unknown input %s of this operation", k);
            return NULL;
        }
    }
    return json_incref(in);
}

/* POST /restconf/operations/cisco-ia:save-config: copy running-config startup-config. */
int api_h_save_config(struct api_req *r, struct api_resp *resp)
{
    static const char *const known[] = {NULL};
    struct store_who who;
    struct scpd_err err;
    json_t *in = op_input(r, "cisco-ia", known, resp);

    if (in == NULL)
        return 0;
    json_decref(in);
    api_who(r, &who);
    scpd_err_clear(&err);
    if (store_save_config(r->d->store, &who, &err) < 0)
        return api_error_from(resp, &err, NULL);
    return api_json(resp, 200,
                    json_pack("{s:{s:s}}", "cisco-ia:output", "result",
                              "Save running-config successful"));
}

/* POST /restconf/operations/Cisco-IOS-XE-rpc:reload: the running config becomes the saved
 * startup config again (the way back from a bad change that was not saved). IOS XE's input
 * leaves (force, reason) are accepted and change nothing: nothing reboots here. */
int api_h_reload(struct api_req *r, struct api_resp *resp)
{
    static const char *const known[] = {"force", "reason", NULL};
    struct store_who who;
    struct scpd_err err;
    json_t *in = op_input(r, "Cisco-IOS-XE-rpc", known, resp);

    if (in == NULL)
        return 0;
    json_decref(in);
    api_who(r, &who);
    scpd_err_clear(&err);
    if (store_reload(r->d->store, &who, &err) < 0)
        return api_error_from(resp, &err, NULL);
    return api_json(resp, 200,
                    json_pack("{s:{s:s}}", "Cisco-IOS-XE-rpc:output", "result",
                              "Reload complete: running-config is the startup-config"));
}

static int json_error_list(struct api_resp *resp, const struct cfg_errors *errs)
{
    json_t *arr = json_array();

    for (int i = 0; i < errs->n; i++) {
        const struct cfg_error *ce = &errs->e[i];
        char *txt = cfg_error_format(ce);
        json_t *e = json_pack("{s:s,s:s,s:s,s:{s:i,s:i,s:s}}", "error-type", "application",
                              "error-tag", "invalid-value", "error-message",
                              txt ? txt : ce->reason, "error-info", "scpd:line", ce->line,
                              "scpd:column", ce->column, "scpd:reason", ce->reason);
        free(txt);
        if (e != NULL)
            json_array_append_new(arr, e);
    }
    if (errs->total > errs->n) {
        json_t *e = json_pack("{s:s,s:s,s:s}", "error-type", "application", "error-tag",
                              "invalid-value", "error-message", "further errors not shown");
        char msg[96];
        snprintf(msg, sizeof msg, "%d further errors not shown", errs->total - errs->n);
        json_object_set_new(e, "error-message", json_string(msg));
        json_array_append_new(arr, e);
    }
    return api_json(resp, 400, json_pack("{s:{s:o}}", "ietf-restconf:errors", "error", arr));
}

/* POST /restconf/operations/scpd:apply-config. */
int api_h_apply_config(struct api_req *r, struct api_resp *resp)
{
    static const char *const known[] = {"config", "mode", "dry-run", NULL};
    static const struct {
        const char *name;
        enum cfg_mode mode;
    } modes[] = {{"merge", CFG_MERGE}, {"replace", CFG_REPLACE}};
    struct cfg_errors *errs = NULL;
    struct scpd_err err;
    struct store_who who;
    char *diff = NULL;
    enum cfg_mode mode = CFG_MERGE;
    bool dry = false;
    uint64_t expect = 0;
    json_t *in = op_input(r, "scpd", known, resp);

    if (in == NULL)
        return 0;
    json_t *jc = json_object_get(in, "config");
    json_t *jm = json_object_get(in, "mode");
    json_t *jd = json_object_get(in, "dry-run");
    if (!json_is_string(jc)) {
        api_error(resp, 400, "application", jc ? "invalid-value" : "missing-element",
                  "/scpd:input/config", "input config (the configuration text) is %s",
                  jc ? "not a string" : "missing");
        goto out;
    }
    if (jm != NULL) {
        size_t i;
        for (i = 0; i < sizeof modes / sizeof modes[0]; i++)
            if (json_is_string(jm) && strcmp(json_string_value(jm), modes[i].name) == 0)
                break;
        if (i == sizeof modes / sizeof modes[0]) {
            api_error(resp, 400, "application", "invalid-value", "/scpd:input/mode",
                      "mode must be \"merge\" or \"replace\"");
            goto out;
        }
        mode = modes[i].mode;
    }
    if (jd != NULL && !json_is_boolean(jd)) {
        api_error(resp, 400, "application", "invalid-value", "/scpd:input/dry-run",
                  "dry-run must be true or false");
        goto out;
    }
    dry = json_is_true(jd);
    if (api_header(r, "If-Match") != NULL || api_header(r, "If-Unmodified-Since") != NULL) {
        const struct store_snap *snap = store_snapshot(r->d->store);
        int rc = api_check_preconditions(r, snap, &expect, resp);
        store_snap_release(snap);
        if (rc < 0)
            goto out;
    }
    errs = calloc(1, sizeof *errs);
    if (errs == NULL) {
        api_error(resp, 500, "application", "operation-failed", NULL, "out of memory");
        goto out;
    }
    api_who(r, &who);
    scpd_err_clear(&err);
    const char *text = json_string_value(jc);
    if (store_apply_text(r->d->store, text, json_string_length(jc), mode, dry, expect, &who, errs,
                         &diff, &err) < 0) {
        if (err.code == SCPD_E_INVALID && errs->n > 0)
            json_error_list(resp, errs);
        else
            api_error_from(resp, &err, NULL);
        goto out;
    }
    const struct store_snap *snap = store_snapshot(r->d->store);
    char ver[32], why[256];
    snprintf(ver, sizeof ver, "%llu", (unsigned long long)snap->version);
    json_t *out = json_pack("{s:s,s:s,s:b,s:b}", "diff", diff ? diff : "", "version", ver,
                            "changed", diff != NULL && diff[0] != '\0', "dry-run", dry);
    /* a change that can lock every SSH login out is taken, as IOS takes it, but said so */
    if (!dry && cfg_login_warning(snap->cfg, why, sizeof why) != NULL)
        json_object_set_new(out, "warning", json_string(why));
    api_json(resp, 200, json_pack("{s:o}", "scpd:output", out));
    api_resp_snap_headers(resp, snap);
    store_snap_release(snap);
out:
    free(diff);
    free(errs);
    json_decref(in);
    return 0;
}

/* POST /restconf/operations/scpd:show {"input":{"command":"running-config"}}. With
 * Accept: text/plain the text itself is the body, as a terminal would show it. */
static char *show_running(struct api_req *r, bool all, size_t *len, struct scpd_err *err)
{
    const struct store_snap *snap = store_snapshot(r->d->store);
    struct cfg_render_opts o = {.all = all, .header = true, .last_change = snap->changed_at,
                                .last_user = snap->changed_by[0] ? snap->changed_by : NULL};
    char *t = cfg_render(snap->cfg, &o, len);

    store_snap_release(snap);
    if (t == NULL)
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory rendering the configuration");
    return t;
}

static char *show_startup(struct api_req *r, bool all, size_t *len, struct scpd_err *err)
{
    char *t = store_startup_get(r->d->store, NULL, err);

    if (t != NULL)
        *len = strlen(t);
    return t;
}

int api_h_show(struct api_req *r, struct api_resp *resp)
{
    static const char *const known[] = {"command", NULL};
    static const struct {
        const char *command;
        char *(*fn)(struct api_req *r, bool all, size_t *len, struct scpd_err *err);
        bool all;
    } cmds[] = {
        {"running-config", show_running, false},
        {"running-config-all", show_running, true},
        {"startup-config", show_startup, false},
    };
    struct scpd_err err;
    json_t *in = op_input(r, "scpd", known, resp);
    size_t len = 0;

    if (in == NULL)
        return 0;
    json_t *jc = json_object_get(in, "command");
    const char *c = json_string_value(jc);
    /* "show running-config" and "running-config all" as typed at the CLI are accepted too */
    if (c != NULL && strncmp(c, "show ", 5) == 0)
        c += 5;
    if (c != NULL && strcmp(c, "running-config all") == 0)
        c = "running-config-all";
    for (size_t i = 0; c != NULL && i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(c, cmds[i].command) != 0)
            continue;
        scpd_err_clear(&err);
        char *t = cmds[i].fn(r, cmds[i].all, &len, &err);
        json_decref(in);
        if (t == NULL)
            return api_error_from(resp, &err, NULL);
        const char *accept = api_header(r, "Accept");
        if (accept != NULL && strstr(accept, "text/plain") != NULL)
            return api_text(resp, 200, "text/plain; charset=utf-8", t, len);
        json_t *out = json_pack("{s:{s:s#}}", "scpd:output", "text", t, len);
        free(t);
        return api_json(resp, 200, out);
    }
    json_decref(in);
    return api_error(resp, 400, "application", jc ? "invalid-value" : "missing-element",
                     "/scpd:input/command",
                     "command must be running-config, running-config-all or startup-config");
}

/* ---- audit log ------------------------------------------------------------------------------- */

static void iso_time(int64_t t, char *buf, size_t cap)
{
    struct tm tm;
    time_t tt = (time_t)t;

    gmtime_r(&tt, &tm);
    if (strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && cap > 0)
        buf[0] = '\0';
}

static int audit_row(void *arg, const struct store_audit *a)
{
    json_t *arr = arg;
    char t[32], id[32], ver[32];

    iso_time(a->time, t, sizeof t);
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    snprintf(ver, sizeof ver, "%llu", (unsigned long long)a->version);
    /* secrets hidden here as well: rows written before diffs hid them hold hashes */
    char *diff = cfg_hide(a->diff);
    if (diff == NULL)
        return 1;
    /* the user is whoever logged in, which `aaa authentication login ... none` does not check */
    json_t *e = json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:s}", "id", id, "time", t, "user",
                          api_json_text(a->user), "source", a->source, "peer", a->peer, "version",
                          ver, "target", a->target, "diff", diff);
    free(diff);
    if (e != NULL)
        json_array_append_new(arr, e);
    return 0;
}

static int parse_int_param(const struct api_req *r, const char *name, long long lo, long long hi,
                           long long *out, struct api_resp *resp)
{
    const char *v = api_query(r, name);
    char *end;

    if (v == NULL)
        return 0;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi) {
        api_error(resp, 400, "protocol", "invalid-value", NULL,
                  "query parameter %s must be %lld-%lld", name, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

/* GET /restconf/data/scpd:audit-log?since=ID&limit=N, oldest first (api.c refuses other
 * parameters): without since the newest N entries (a tail, as `show archive log config`), with
 * since the first N after entry ID (pages forward: the next since is the last id shown). */
int api_h_audit_log(struct api_req *r, struct api_resp *resp)
{
    long long since = -1, limit = 0;
    struct scpd_err err;

    if (parse_int_param(r, "since", 0, INT64_MAX, &since, resp) < 0 ||
        parse_int_param(r, "limit", 1, LIM_AUDIT_ROWS, &limit, resp) < 0)
        return 0;
    if (api_rest_count(r) > 0)
        return api_error(resp, 404, "protocol", "invalid-value", r->path, "no such resource: %s",
                         r->path);
    json_t *arr = json_array();
    scpd_err_clear(&err);
    if (store_audit_query(r->d->store, since, (int)limit, audit_row, arr, &err) < 0) {
        json_decref(arr);
        return api_error_from(resp, &err, NULL);
    }
    return api_json(resp, 200, json_pack("{s:{s:o}}", "scpd:audit-log", "entry", arr));
}
