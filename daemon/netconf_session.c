/* netconf_session: the NETCONF server of the SSH door (see netconf_session.h).
 *
 * Shape (as sftp_session): a table maps each operation (name and namespace) to one handler that
 * reads its parameters from the parsed <rpc> (nc_proto) and writes the reply's content, or fills
 * an rpc-error. The sessions and their counters are netconf_mon's, subscriptions netconf_notify's.
 * Data goes through netconf_data (filters, edits) and model/model_native, the translation RESTCONF
 * uses:
 *   read:  store snapshot -> canonical tree -> libyang data tree -> filter (subtree filters are
 *          turned into XPath, XPath filters go to libyang as given) -> XML printed by libyang
 *   write: <config> -> operation attributes taken off and kept by path -> libyang parses the
 *          rest (unknown elements, wrong namespaces, bad values) -> canonical edit -> applied to
 *          the running tree (merge, replace, create, delete, remove) -> config lines -> the
 *          config language's parser -> one store_commit
 * so an edit is all or nothing whatever its error-option: rollback-on-error is the only
 * behaviour (stop-on-error and continue-on-error are accepted and act as rollback-on-error, which
 * RFC 6241 section 7.2 allows a server that advertises only :rollback-on-error).
 *
 * Why not libnetconf2: it brings its own SSH server (and session/thread model), while scpd's
 * NETCONF must run on the one SSH door with its host keys, logins, AAA and limits; the message
 * layer is small (nc_proto.c), libyang does the data. */
#include "daemon/netconf_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libyang/libyang.h>

#include "base/lim.h"
#include "base/log.h"
#include "daemon/nc_proto.h"
#include "daemon/netconf_data.h"
#include "daemon/netconf_mon.h"
#include "daemon/netconf_notify.h"
#include "model/model_native.h"
#include "model/model_yang.h"
#include "store/cfg.h"
#include "services/stats.h"
#include "store/store.h"

#define NC_NS_MON "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
#define NC_NS_CISCO_IA "http://cisco.com/yang/cisco-ia"
#define NC_NS_NOTIF "urn:ietf:params:xml:ns:netconf:notification:1.0"
#define NC_NOTIFY_WAIT_MS 250    /* one wait for the client: notifications and kill-session
                                  * are looked at between two */
#define NC_READ_SLICE (64u << 10)
#define NC_WRITE_RETRIES 8       /* recomputations of an edit that lost a race with another door */

/* ---- the session ----------------------------------------------------------------------------- */

struct ncs {
    const struct chan_ctx *ctx;
    const struct chan_io *io;
    struct log_ctx lc;
    struct nc_framer fr;
    bool hello, base11, closing, violation;
    uint32_t session_id;
    struct nc_sub *sub;   /* create-subscription (RFC 5277), NULL: none */
};

typedef int (*nc_op_fn)(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e);

static void who_of(const struct ncs *s, struct store_who *who)
{
    who->user = s->ctx->user;
    who->source = "netconf";
    who->peer = s->ctx->peer;
    who->session = s->ctx->sid;
}

static int err_from_store(struct ncs *s, struct nc_err *e, const struct scpd_err *err)
{
    const char *tag = "operation-failed";
    switch (err->code) {
    case SCPD_E_LOCKED: tag = "lock-denied"; break;
    case SCPD_E_INVALID: tag = "invalid-value"; break;
    case SCPD_E_DENIED: tag = "access-denied"; break;
    case SCPD_E_LIMIT: tag = "too-big"; break;
    case SCPD_E_EXISTS: tag = "data-exists"; break;
    case SCPD_E_NOTFOUND: tag = "data-missing"; break;
    default: break;
    }
    return nc_err_set(e, strcmp(tag, "lock-denied") == 0 ? "protocol" : "application", tag, "%s",
                      err->msg[0] ? err->msg : "internal error");
}

/* <source>/<target> -> "running", "startup", "candidate", "config" or "url"; NULL if missing. */
static const char *datastore(xmlNodePtr op, const char *which, xmlNodePtr *inner,
                             struct nc_err *e)
{
    xmlNodePtr w = nc_child(op, which, NULL);
    xmlNodePtr d = nc_first_elem(w);
    if (d == NULL) {
        snprintf(e->info, sizeof e->info, "<bad-element>%s</bad-element>", which);
        nc_err_set(e, "protocol", "missing-element", "<%s> names no datastore", which);
        return NULL;
    }
    if (inner)
        *inner = d;
    return (const char *)d->name;
}

static int need_priv(struct ncs *s, int level, struct nc_err *e)
{
    if (s->ctx->privilege >= level)
        return 0;
    return nc_err_set(e, "protocol", "access-denied",
                      "privilege level %d is needed (this session has %d)", level,
                      s->ctx->privilege);
}

/* ---- reading --------------------------------------------------------------------------------- */

/* The config of a datastore (caller cfg_free()s, and releases *snap when set). */
static struct cfg *ds_cfg(struct ncs *s, const char *ds, const struct store_snap **snap,
                          struct nc_err *e)
{
    *snap = NULL;
    if (strcmp(ds, "running") == 0) {
        *snap = store_snapshot(s->ctx->store);
        return cfg_clone((*snap)->cfg);
    }
    if (strcmp(ds, "startup") == 0) {
        struct scpd_err err;
        scpd_err_clear(&err);
        char *text = store_startup_get(s->ctx->store, NULL, &err);
        if (text == NULL) {
            err_from_store(s, e, &err);
            return NULL;
        }
        struct cfg_errors *errs = calloc(1, sizeof *errs);
        struct cfg *c = errs ? cfg_apply_text(NULL, text, strlen(text), CFG_REPLACE, errs) : NULL;
        free(errs);
        free(text);
        if (c == NULL)
            nc_err_set(e, "application", "operation-failed",
                       "the startup configuration does not parse");
        return c;
    }
    nc_err_set(e, "protocol", "invalid-value",
               "datastore %s is not supported (running and startup are)", ds);
    return NULL;
}

/* <data> of cfg (NULL: no configuration, as for a user below privilege 15), filtered, with the
 * monitoring state (RFC 6022 netconf-state) when mon and the filter asks for it. */
static int write_data(struct ncs *s, xmlNodePtr op, const struct cfg *c, bool mon, FILE *out,
                      struct nc_err *e)
{
    struct nc_filter f;
    char *xml = NULL;
    int rc = -1;

    if (nc_filter_parse(op, &f, e) < 0)
        goto out;
    if (c != NULL && (xml = nc_data_xml(c, &f, e)) == NULL)
        goto out;
    fprintf(out, "<data>%s", xml ? xml : "");
    if (mon && f.mon)
        nc_mon_state_xml(out, stats_started_ms(s->ctx->stats));
    fputs("</data>", out);
    rc = 0;
out:
    if (xml != NULL)
        explicit_bzero(xml, strlen(xml));   /* secret hashes */
    free(xml);
    nc_filter_free(&f);
    return rc;
}

/* ---- operations ------------------------------------------------------------------------------ */

static int op_get_config(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    const struct store_snap *snap;
    const char *ds = datastore(op, "source", NULL, e);
    if (ds == NULL)
        return -1;
    struct cfg *c = ds_cfg(s, ds, &snap, e);
    if (snap)
        store_snap_release(snap);
    if (c == NULL)
        return -1;
    int rc = write_data(s, op, c, false, out, e);
    cfg_free(c);
    return rc;
}

/* get: the running configuration and the NETCONF monitoring state; below privilege 15 the
 * state only (the configuration holds secret hashes). */
static int op_get(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    const struct store_snap *snap = store_snapshot(s->ctx->store);
    int rc = write_data(s, op, s->ctx->privilege >= 15 ? snap->cfg : NULL, true, out, e);
    store_snap_release(snap);
    return rc;
}

/* ---- edit-config ----------------------------------------------------------------------------- */

/* Computes and (unless test_only) commits <config> onto running. */
static int edit_commit(struct ncs *s, xmlNodePtr config, enum nc_eop dop, bool test_only,
                       struct nc_err *e)
{
    for (int attempt = 0;; attempt++) {
        const struct store_snap *snap = store_snapshot(s->ctx->store);
        uint64_t version = snap->version;
        json_t *root = NULL;
        int rc = nc_edit(snap->cfg, config, dop, &root, e);
        if (rc < 0) {
            store_snap_release(snap);
            return -1;
        }
        struct model_err me;
        memset(&me, 0, sizeof me);
        struct cfg *next = model_native_cfg(root, snap->cfg, &me);
        store_snap_release(snap);
        json_decref(root);
        if (next == NULL)
            return nc_err_model(e, &me);
        if (test_only) {
            cfg_free(next);
            return 0;
        }
        struct store_who who;
        struct scpd_err err;
        who_of(s, &who);
        scpd_err_clear(&err);
        rc = store_commit(s->ctx->store, next, version, &who, NULL, &err);
        cfg_free(next);
        if (rc == 0)
            return 0;
        if (err.code != SCPD_E_CONFLICT || attempt >= NC_WRITE_RETRIES)
            return err_from_store(s, e, &err);
    }
}

static int op_edit_config(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    char v[32];
    enum nc_eop dop = NC_EOP_MERGE;
    bool test_only = false;
    const char *ds = datastore(op, "target", NULL, e);

    if (ds == NULL)
        return -1;
    if (strcmp(ds, "running") != 0)
        return nc_err_set(e, "protocol", "invalid-value",
                          "edit-config edits the running datastore (%s is not writable here)", ds);
    if (nc_child_text(op, "default-operation", v, sizeof v)) {
        if (strcmp(v, "merge") == 0)
            dop = NC_EOP_MERGE;
        else if (strcmp(v, "replace") == 0)
            dop = NC_EOP_REPLACE;
        else if (strcmp(v, "none") == 0)
            dop = NC_EOP_NONE;
        else
            return nc_err_set(e, "protocol", "invalid-value",
                              "default-operation must be merge, replace or none");
    }
    if (nc_child_text(op, "test-option", v, sizeof v)) {
        if (strcmp(v, "test-only") == 0)
            test_only = true;
        else if (strcmp(v, "test-then-set") != 0 && strcmp(v, "set") != 0)
            return nc_err_set(e, "protocol", "invalid-value",
                              "test-option must be test-then-set, set or test-only");
    }
    if (nc_child_text(op, "error-option", v, sizeof v) && strcmp(v, "rollback-on-error") != 0 &&
        strcmp(v, "stop-on-error") != 0 && strcmp(v, "continue-on-error") != 0)
        return nc_err_set(e, "protocol", "invalid-value",
                          "error-option must be rollback-on-error, stop-on-error or "
                          "continue-on-error");
    xmlNodePtr config = nc_child(op, "config", NULL);
    if (config == NULL) {
        snprintf(e->info, sizeof e->info, "<bad-element>config</bad-element>");
        return nc_err_set(e, "protocol", "missing-element",
                          "edit-config needs <config> (url is not supported)");
    }
    if (edit_commit(s, config, dop, test_only, e) < 0)
        return -1;
    fputs("<ok/>", out);
    return 0;
}

/* ---- datastores, locks ----------------------------------------------------------------------- */

static int op_copy_config(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    xmlNodePtr src;
    const char *target = datastore(op, "target", NULL, e);
    const char *source = target ? datastore(op, "source", &src, e) : NULL;
    struct store_who who;
    struct scpd_err err;
    int rc;

    if (source == NULL)
        return -1;
    who_of(s, &who);
    scpd_err_clear(&err);
    if (strcmp(target, "startup") == 0 && strcmp(source, "running") == 0) {
        rc = store_save_config(s->ctx->store, &who, &err);
    } else if (strcmp(target, "running") == 0 && strcmp(source, "startup") == 0) {
        char *text = store_startup_get(s->ctx->store, NULL, &err);
        struct cfg_errors *errs = calloc(1, sizeof *errs);
        rc = -1;
        if (text != NULL && errs != NULL)
            rc = store_apply_text(s->ctx->store, text, strlen(text), CFG_REPLACE, false, 0, &who,
                                  errs, NULL, &err);
        if (rc < 0 && err.code == SCPD_E_OK)
            scpd_err_set(&err, SCPD_E_INVALID, "the startup configuration does not parse");
        free(errs);
        free(text);
    } else if (strcmp(target, "running") == 0 && strcmp(source, "config") == 0) {
        if (edit_commit(s, src, NC_EOP_REPLACE, false, e) < 0)
            return -1;
        rc = 0;
    } else {
        return nc_err_set(e, "protocol", "invalid-value",
                          "copy-config copies running to startup, startup or <config> to "
                          "running (not %s to %s)", source, target);
    }
    if (rc < 0)
        return err_from_store(s, e, &err);
    fputs("<ok/>", out);
    return 0;
}

static int op_delete_config(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    const char *target = datastore(op, "target", NULL, e);
    struct store_who who;
    struct scpd_err err;

    if (target == NULL)
        return -1;
    if (strcmp(target, "startup") != 0)
        return nc_err_set(e, "protocol", "invalid-value",
                          "delete-config deletes the startup datastore only (not %s)", target);
    who_of(s, &who);
    scpd_err_clear(&err);
    struct cfg_errors *errs = calloc(1, sizeof *errs);
    int rc = errs ? store_startup_set(s->ctx->store, "", 0, &who, errs, &err) : -1;
    free(errs);
    if (rc < 0)
        return err_from_store(s, e, &err);
    fputs("<ok/>", out);
    return 0;
}

static int lock_target(xmlNodePtr op, struct nc_err *e)
{
    const char *target = datastore(op, "target", NULL, e);
    if (target == NULL)
        return -1;
    if (strcmp(target, "running") != 0)
        return nc_err_set(e, "protocol", "invalid-value",
                          "only the running datastore is locked here (not %s)", target);
    return 0;
}

static int op_lock(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    char holder[128];
    struct scpd_err err;

    if (lock_target(op, e) < 0)
        return -1;
    snprintf(holder, sizeof holder, "NETCONF session %u (%s from %s)", s->session_id,
             s->ctx->user ? s->ctx->user : "?", s->ctx->peer ? s->ctx->peer : "?");
    scpd_err_clear(&err);
    if (store_ds_lock(s->ctx->store, s->ctx->sid, holder, &err) < 0) {
        err_from_store(s, e, &err);
        e->type = "protocol";
        e->tag = "lock-denied";
        return -1;
    }
    log_info(&s->lc, "netconf: running datastore locked");
    fputs("<ok/>", out);
    return 0;
}

static int op_unlock(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    struct scpd_err err;

    if (lock_target(op, e) < 0)
        return -1;
    scpd_err_clear(&err);
    if (store_ds_unlock(s->ctx->store, s->ctx->sid, &err) < 0)
        return nc_err_set(e, "protocol", "operation-failed", "%s", err.msg);
    fputs("<ok/>", out);
    return 0;
}

static int op_validate(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    xmlNodePtr src;
    const char *source = datastore(op, "source", &src, e);

    if (source == NULL)
        return -1;
    if (strcmp(source, "config") == 0) {
        if (edit_commit(s, src, NC_EOP_REPLACE, true, e) < 0)
            return -1;
    } else {
        const struct store_snap *snap;
        struct cfg *c = ds_cfg(s, source, &snap, e);
        if (snap)
            store_snap_release(snap);
        if (c == NULL)
            return -1;
        cfg_free(c);
    }
    fputs("<ok/>", out);
    return 0;
}

static int op_close_session(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    s->closing = true;
    fputs("<ok/>", out);
    return 0;
}

static int op_kill_session(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    char v[32];
    char *end;

    if (!nc_child_text(op, "session-id", v, sizeof v))
        return nc_err_set(e, "protocol", "missing-element", "kill-session needs session-id");
    unsigned long long id = strtoull(v, &end, 10);
    if (*end != '\0' || id == 0 || id == s->session_id)
        return nc_err_set(e, "protocol", "invalid-value",
                          "session-id %s is not another session", v);
    if (!nc_mon_kill(id))
        return nc_err_set(e, "protocol", "invalid-value", "no NETCONF session %s", v);
    /* its lock goes now; the session itself ends within one wait of its loop (NC_NOTIFY_WAIT_MS) */
    store_ds_unlock_session(s->ctx->store, id);
    log_notice(&s->lc, "netconf: kill-session %llu", id);
    fputs("<ok/>", out);
    return 0;
}

/* RFC 6022 get-schema: the text of a served module. */
static int op_get_schema(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    char id[128], fmt[64] = "yang";

    if (!nc_child_text(op, "identifier", id, sizeof id))
        return nc_err_set(e, "protocol", "missing-element", "get-schema needs identifier");
    nc_child_text(op, "format", fmt, sizeof fmt);
    const struct model_yang_file *f = model_yang_find(id);
    if (f == NULL || (strcmp(fmt, "yang") != 0 && strcmp(fmt, "ncm:yang") != 0))
        return nc_err_set(e, "application", "invalid-value", "no schema %s in format %s", id,
                          fmt);
    fputs("<data xmlns=\"" NC_NS_MON "\">", out);
    nc_xml_escape(out, f->text);
    fputs("</data>", out);
    return 0;
}

/* cisco-ia:save-config: running -> startup (as RESTCONF's operation). */
static int op_save_config(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    struct store_who who;
    struct scpd_err err;

    who_of(s, &who);
    scpd_err_clear(&err);
    if (store_save_config(s->ctx->store, &who, &err) < 0)
        return err_from_store(s, e, &err);
    fputs("<result xmlns=\"" NC_NS_CISCO_IA "\">Save running-config successful</result>", out);
    return 0;
}

static int send_msg(struct ncs *s, const char *msg, size_t len);

/* RFC 5277 create-subscription: one stream per session; no startTime replay, no filter. */
static int op_create_subscription(struct ncs *s, xmlNodePtr op, FILE *out, struct nc_err *e)
{
    char stream[64], why[160];

    if (s->sub != NULL)
        return nc_err_set(e, "protocol", "operation-failed",
                          "this session has a subscription already");
    if (s->io->read_wait == NULL)
        return nc_err_set(e, "protocol", "operation-not-supported",
                          "notifications are not available on this channel");
    if (!nc_child_text(op, "stream", stream, sizeof stream))
        return nc_err_set(e, "application", "missing-element",
                          "name a stream: scp-debug, transfers or security");
    if (nc_child(op, "filter", NULL) || nc_child(op, "startTime", NULL) ||
        nc_child(op, "stopTime", NULL))
        return nc_err_set(e, "protocol", "operation-not-supported",
                          "filter, startTime and stopTime are not supported");
    s->sub = nc_sub_new(stream, s->ctx->trace, s->ctx->stats, why, sizeof why);
    if (s->sub == NULL)
        return nc_err_set(e, "application", "invalid-value", "%s", why);
    log_info(&s->lc, "netconf: subscribed to %s", stream);
    fputs("<ok/>", out);
    return 0;
}

static int emit_notification(void *arg, const char *msg, size_t len)
{
    struct ncs *s = arg;
    nc_mon_count(s->ctx->sid, NC_MON_OUT_NOTIFICATIONS);
    return send_msg(s, msg, len);
}

static const struct nc_op {
    const char *name, *ns;
    nc_op_fn fn;
    int privilege;
} nc_ops[] = {
    {"get", NC_NS_BASE, op_get, 1},
    {"get-config", NC_NS_BASE, op_get_config, 15},
    {"edit-config", NC_NS_BASE, op_edit_config, 15},
    {"copy-config", NC_NS_BASE, op_copy_config, 15},
    {"delete-config", NC_NS_BASE, op_delete_config, 15},
    {"lock", NC_NS_BASE, op_lock, 15},
    {"unlock", NC_NS_BASE, op_unlock, 15},
    {"validate", NC_NS_BASE, op_validate, 15},
    {"close-session", NC_NS_BASE, op_close_session, 0},
    {"kill-session", NC_NS_BASE, op_kill_session, 15},
    {"get-schema", NC_NS_MON, op_get_schema, 1},
    {"save-config", NC_NS_CISCO_IA, op_save_config, 15},
    {"create-subscription", NC_NS_NOTIF, op_create_subscription, 1},
};

/* ---- messages -------------------------------------------------------------------------------- */

static int send_msg(struct ncs *s, const char *msg, size_t len)
{
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    if (f == NULL)
        return -1;
    nc_frame(f, s->hello && s->base11, msg, len);
    fclose(f);
    int rc = s->io->write(s->io->ctx, buf, blen);
    free(buf);
    return rc;
}

static int send_hello(struct ncs *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return -1;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?><hello xmlns=\"" NC_NS_BASE "\">"
          "<capabilities>"
          "<capability>" NC_CAP_BASE10 "</capability>"
          "<capability>" NC_CAP_BASE11 "</capability>"
          "<capability>urn:ietf:params:netconf:capability:writable-running:1.0</capability>"
          "<capability>urn:ietf:params:netconf:capability:startup:1.0</capability>"
          "<capability>urn:ietf:params:netconf:capability:validate:1.1</capability>"
          "<capability>urn:ietf:params:netconf:capability:rollback-on-error:1.0</capability>"
          "<capability>urn:ietf:params:netconf:capability:xpath:1.0</capability>"
          "<capability>urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit"
          "&amp;also-supported=report-all,trim</capability>"
          "<capability>urn:ietf:params:netconf:capability:notification:1.0</capability>"
          "<capability>urn:ietf:params:netconf:capability:interleave:1.0</capability>", f);
    static const char *const mods[][3] = {
        {MODEL_NS_NATIVE, "Cisco-IOS-XE-native", "2021-11-01"},
        {"http://cisco.com/ns/yang/Cisco-IOS-XE-aaa", "Cisco-IOS-XE-aaa", "2021-11-01"},
        {"urn:scpd:yang:scpd", "scpd", "2026-11-26"},
    };
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++)
        fprintf(f, "<capability>%s?module=%s&amp;revision=%s</capability>", mods[i][0],
                mods[i][1], mods[i][2]);
    fprintf(f, "<capability>" NC_NS_MON "?module=ietf-netconf-monitoring&amp;revision=2010-10-04"
               "</capability><capability>" NC_NS_CISCO_IA "?module=cisco-ia</capability>"
               "</capabilities><session-id>%u</session-id></hello>", s->session_id);
    fclose(f);
    int rc = send_msg(s, buf, len);
    free(buf);
    return rc;
}

static int send_reply(struct ncs *s, const char *attrs, const char *body, size_t blen,
                      const struct nc_err *e)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return -1;
    if (e != NULL)
        nc_reply_error(f, attrs, e);
    else
        nc_reply(f, attrs, body, blen);
    fclose(f);
    int rc = send_msg(s, buf, len);
    explicit_bzero(buf, len);   /* it may hold secret hashes */
    free(buf);
    return rc;
}

static int handle_rpc(struct ncs *s, const char *msg, size_t len)
{
    struct nc_rpc rpc;
    struct nc_err e;
    char *body = NULL;
    size_t blen = 0;
    int rc;

    memset(&e, 0, sizeof e);
    nc_mon_count(s->ctx->sid, NC_MON_IN_RPCS);
    if (nc_rpc_parse(msg, len, &rpc, &e) < 0) {
        log_info(&s->lc, "netconf: bad rpc: %s", e.msg);
        nc_mon_count(s->ctx->sid, NC_MON_IN_BAD_RPCS);
        nc_mon_count(s->ctx->sid, NC_MON_OUT_RPC_ERRORS);
        rc = send_reply(s, rpc.attrs, NULL, 0, &e);
        nc_rpc_free(&rpc);
        return rc;
    }
    const struct nc_op *op = NULL;
    const char *ns = rpc.op->ns ? (const char *)rpc.op->ns->href : "";
    for (size_t i = 0; i < sizeof nc_ops / sizeof nc_ops[0]; i++)
        if (strcmp(nc_ops[i].name, (const char *)rpc.op->name) == 0 &&
            strcmp(nc_ops[i].ns, ns) == 0)
            op = &nc_ops[i];
    FILE *f = open_memstream(&body, &blen);
    if (f == NULL) {
        nc_rpc_free(&rpc);
        return -1;
    }
    int orc;
    if (op == NULL) {
        snprintf(e.info, sizeof e.info, "<bad-element>%s</bad-element>",
                 (const char *)rpc.op->name);
        orc = nc_err_set(&e, "protocol", "operation-not-supported",
                         "operation %s in namespace %s is not supported",
                         (const char *)rpc.op->name, ns[0] ? ns : "(none)");
    } else if ((orc = need_priv(s, op->privilege, &e)) == 0) {
        orc = op->fn(s, rpc.op, f, &e);
    }
    fclose(f);
    if (orc < 0)
        nc_mon_count(s->ctx->sid, NC_MON_OUT_RPC_ERRORS);
    log_info(&s->lc, "netconf: %s%s%s", (const char *)rpc.op->name, orc < 0 ? " refused: " : "",
             orc < 0 ? e.msg : "");
    rc = send_reply(s, rpc.attrs, body, blen, orc < 0 ? &e : NULL);
    if (body != NULL)
        explicit_bzero(body, blen);
    free(body);
    nc_rpc_free(&rpc);
    return rc;
}

static int on_message(void *arg, const char *msg, size_t len)
{
    struct ncs *s = arg;

    if (!s->hello) {
        struct nc_err e;
        memset(&e, 0, sizeof e);
        if (nc_hello_parse(msg, len, &s->base11, &e) < 0) {
            log_notice(&s->lc, "netconf: bad hello: %s", e.msg);
            nc_mon_count(s->ctx->sid, NC_MON_IN_BAD_HELLOS);
            s->violation = true;
            return -2;
        }
        s->hello = true;
        s->fr.chunked = s->base11;   /* RFC 6242 section 4.1: after both hellos */
        log_info(&s->lc, "netconf: session %u, base:%s", s->session_id,
                 s->base11 ? "1.1" : "1.0");
        return 0;
    }
    if (handle_rpc(s, msg, len) < 0)
        return -2;
    if (s->closing)
        return 1;
    if (nc_mon_killed(s->ctx->sid)) {
        log_notice(&s->lc, "netconf: session %u killed", s->session_id);
        return 1;
    }
    return 0;
}

int netconf_session_run(const struct chan_ctx *ctx, const struct chan_io *io)
{
    struct ncs s;
    char *buf = NULL;
    int status = 0;

    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.io = io;
    s.lc = (struct log_ctx){.sid = ctx->sid, .user = ctx->user, .peer = ctx->peer};
    s.session_id = (uint32_t)ctx->sid ? (uint32_t)ctx->sid : 1;
    if (model_ctx() == NULL) {
        log_err(&s.lc, "netconf: the YANG model is not loaded");
        return 1;
    }
    if (nc_mon_add(ctx->sid, ctx->user, ctx->peer) < 0) {
        const char msg[] = "scpd: too many NETCONF sessions (limit "
                           LIM_STR(LIM_NETCONF_SESSIONS) ")\n";
        if (io->write_err)
            io->write_err(io->ctx, msg, sizeof msg - 1);
        log_notice(&s.lc, "netconf refused: too many sessions");
        return 1;
    }
    nc_framer_init(&s.fr, LIM_NETCONF_MSG_BYTES);
    buf = malloc(NC_READ_SLICE);
    if (buf == NULL || send_hello(&s) < 0)
        goto out;
    for (;;) {
        ssize_t n;
        if (s.sub != NULL && nc_sub_pump(s.sub, emit_notification, &s) < 0)
            break;
        if (io->read_wait != NULL) {
            /* short waits: notifications go out meanwhile, and a kill-session ends the
             * session within one wait */
            n = io->read_wait(io->ctx, buf, NC_READ_SLICE, NC_NOTIFY_WAIT_MS);
            if (n == -2) {
                if (nc_mon_killed(ctx->sid)) {
                    log_notice(&s.lc, "netconf: session %u killed", s.session_id);
                    break;
                }
                continue;
            }
        } else {
            n = io->read(io->ctx, buf, NC_READ_SLICE);
        }
        if (n <= 0)
            break;
        char why[256] = "";
        int rc = nc_framer_feed(&s.fr, buf, (size_t)n, on_message, &s, why, sizeof why);
        if (rc == -1) {
            /* RFC 6242 section 4.2 / the size limit: answer once, then end the session */
            struct nc_err e;
            memset(&e, 0, sizeof e);
            bool big = strstr(why, "larger than") != NULL;
            nc_err_set(&e, big ? "rpc" : "transport", big ? "too-big" : "malformed-message",
                       "%s; the session ends", why);
            log_notice(&s.lc, "netconf: %s", why);
            send_reply(&s, NULL, NULL, 0, &e);
            status = 1;
            break;
        }
        if (rc != 0) {
            if (s.violation)
                status = 1;
            break;
        }
    }
out:
    nc_sub_free(s.sub);
    store_ds_unlock_session(ctx->store, ctx->sid);
    nc_mon_del(ctx->sid);
    nc_framer_free(&s.fr);
    free(buf);
    return status;
}
