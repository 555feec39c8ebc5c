/* netconf_session: the NETCONF server of the SSH door (see netconf_session.h).
 *
 * Shape (as sftp_session): a table maps each operation (name and namespace) to one handler that
 * reads its parameters from the parsed <rpc> (nc_proto) and writes the reply's content, or fills
 * an rpc-error. Data goes through model/model_native, the translation RESTCONF uses:
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

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libyang/libyang.h>

#include "base/lim.h"
#include "base/log.h"
#include "daemon/nc_proto.h"
#include "daemon/netconf_mon.h"
#include "daemon/netconf_notify.h"
#include "model/model_native.h"
#include "model/model_yang.h"
#include "store/cfg.h"
#include "services/stats.h"
#include "store/store.h"

#define NC_NS_WD "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults"
#define NC_NS_MON "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
#define NC_NS_CISCO_IA "http://cisco.com/yang/cisco-ia"
#define NC_NS_NOTIF "urn:ietf:params:xml:ns:netconf:notification:1.0"
#define NC_NOTIFY_WAIT_MS 250    /* how long a subscribed session waits for the client at a time */
#define NC_READ_SLICE (64u << 10)
#define NC_MAX_PATHS 64          /* XPath expressions one subtree filter becomes */
#define NC_MAX_EDITS 256         /* operation attributes in one edit-config */
#define NC_MAX_STEPS 12
#define NC_WRITE_RETRIES 8       /* recomputations of an edit that lost a race with another door */

/* ---- the session ------------------------------------------------------------------------------ */

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

static int err_from_model(struct nc_err *e, const struct model_err *me)
{
    nc_err_set(e, "application", me->tag ? me->tag : "invalid-value", "%s", me->msg);
    snprintf(e->path, sizeof e->path, "%s", me->path);
    return -1;
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

/* The text of child name (any namespace), trimmed, into buf; false when there is none. */
static bool child_text(xmlNodePtr parent, const char *name, char *buf, size_t cap)
{
    xmlNodePtr c = nc_child(parent, name, NULL);
    if (c == NULL)
        return false;
    xmlChar *t = xmlNodeGetContent(c);
    const char *p = t ? (const char *)t : "";
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    snprintf(buf, cap, "%s", p);
    size_t l = strlen(buf);
    while (l > 0 && strchr(" \n\t\r", buf[l - 1]))
        buf[--l] = '\0';
    xmlFree(t);
    return true;
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

/* ---- reading ---------------------------------------------------------------------------------- */

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

/* XPath string literal of v, or -1 when v holds both quote characters. */
static int xp_literal(FILE *f, const char *v)
{
    if (strchr(v, '\'') == NULL)
        fprintf(f, "'%s'", v);
    else if (strchr(v, '"') == NULL)
        fprintf(f, "\"%s\"", v);
    else
        return -1;
    return 0;
}

struct paths {
    char *p[NC_MAX_PATHS];
    int n;
};

static void paths_free(struct paths *ps)
{
    for (int i = 0; i < ps->n; i++)
        free(ps->p[i]);
    ps->n = 0;
}

static int paths_add(struct paths *ps, const char *p, struct nc_err *e)
{
    if (ps->n >= NC_MAX_PATHS)
        return nc_err_set(e, "protocol", "too-big",
                          "the filter selects more than %d subtrees", NC_MAX_PATHS);
    ps->p[ps->n++] = strdup(p);
    return 0;
}

static const char *module_of_ns(xmlNodePtr n, const char *inherit)
{
    if (n->ns == NULL || n->ns->href == NULL)
        return inherit;
    const struct lys_module *m =
        ly_ctx_get_module_implemented_ns(model_ctx(), (const char *)n->ns->href);
    return m ? m->name : NULL;
}

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \n\t\r", *s))
            return false;
    return true;
}

/* RFC 6241 section 6: one subtree-filter element -> XPath expressions. A content match node (a
 * leaf with text) becomes a predicate of its parent; a selection node (empty) or a parent with
 * only content matches selects the node; containment nodes go on. */
static int subtree_paths(xmlNodePtr el, const char *parent_mod, const char *path,
                         struct paths *ps, struct nc_err *e)
{
    const char *mod = module_of_ns(el, parent_mod);
    char *buf = NULL;
    size_t blen = 0;
    int rc = 0, others = 0, matches = 0;

    if (mod == NULL) {
        /* a namespace this server has no module for selects nothing */
        return 0;
    }
    FILE *f = open_memstream(&buf, &blen);
    if (f == NULL)
        return nc_err_set(e, "application", "operation-failed", "out of memory");
    if (parent_mod == NULL || strcmp(mod, parent_mod) != 0)
        fprintf(f, "%s/%s:%s", path, mod, (const char *)el->name);
    else
        fprintf(f, "%s/%s", path, (const char *)el->name);
    for (xmlNodePtr c = el->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *t = nc_first_elem(c) == NULL ? xmlNodeGetContent(c) : NULL;
        if (t != NULL && !is_blank((const char *)t)) {
            fprintf(f, "[%s=", (const char *)c->name);
            if (xp_literal(f, (const char *)t) < 0)
                rc = nc_err_set(e, "protocol", "invalid-value",
                                "a content match holds both quote characters");
            fputc(']', f);
            matches++;
        } else {
            others++;
        }
        xmlFree(t);
    }
    fclose(f);
    if (rc == 0 && others == 0) {
        rc = paths_add(ps, buf, e);
    } else if (rc == 0) {
        for (xmlNodePtr c = el->children; c != NULL && rc == 0; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            xmlChar *t = nc_first_elem(c) == NULL ? xmlNodeGetContent(c) : NULL;
            bool cm = t != NULL && !is_blank((const char *)t);
            xmlFree(t);
            if (cm) {
                /* the matched leaves are part of the answer */
                char *leaf = NULL;
                size_t ll = 0;
                FILE *lf = open_memstream(&leaf, &ll);
                if (lf == NULL)
                    return nc_err_set(e, "application", "operation-failed", "out of memory");
                fprintf(lf, "%s/%s", buf, (const char *)c->name);
                fclose(lf);
                rc = paths_add(ps, leaf, e);
                free(leaf);
            } else {
                rc = subtree_paths(c, mod, buf, ps, e);
            }
        }
    }
    free(buf);
    return rc;
}

/* The <filter> of get/get-config -> XPath expressions; no filter: ps->n == 0 and *all. */
static int filter_paths(xmlNodePtr op, struct paths *ps, bool *all, struct nc_err *e)
{
    xmlNodePtr f = nc_child(op, "filter", NULL);

    *all = f == NULL;
    if (f == NULL)
        return 0;
    xmlChar *type = xmlGetProp(f, (const xmlChar *)"type");
    int rc = 0;
    if (type != NULL && strcmp((const char *)type, "xpath") == 0) {
        xmlChar *sel = xmlGetProp(f, (const xmlChar *)"select");
        if (sel == NULL) {
            snprintf(e->info, sizeof e->info,
                     "<bad-attribute>select</bad-attribute><bad-element>filter</bad-element>");
            rc = nc_err_set(e, "protocol", "missing-attribute", "an xpath filter needs select");
        } else {
            rc = paths_add(ps, (const char *)sel, e);
        }
        xmlFree(sel);
    } else if (type == NULL || strcmp((const char *)type, "subtree") == 0) {
        for (xmlNodePtr c = f->children; c != NULL && rc == 0; c = c->next)
            if (c->type == XML_ELEMENT_NODE)
                rc = subtree_paths(c, NULL, "", ps, e);
    } else {
        snprintf(e->info, sizeof e->info,
                 "<bad-attribute>type</bad-attribute><bad-element>filter</bad-element>");
        rc = nc_err_set(e, "protocol", "bad-attribute", "filter type %s is not supported",
                        (const char *)type);
    }
    xmlFree(type);
    return rc;
}

/* with-defaults (RFC 6243): explicit (our basic mode) and trim leave defaults out, report-all
 * adds them. */
static int with_defaults(xmlNodePtr op, bool *defaults, struct nc_err *e)
{
    char v[32];
    *defaults = false;
    xmlNodePtr wd = nc_child(op, "with-defaults", NC_NS_WD);
    if (wd == NULL)
        return 0;
    if (!child_text(op, "with-defaults", v, sizeof v))
        return 0;
    if (strcmp(v, "report-all") == 0)
        *defaults = true;
    else if (strcmp(v, "explicit") != 0 && strcmp(v, "trim") != 0)
        return nc_err_set(e, "application", "invalid-value",
                          "with-defaults %s is not supported (explicit, trim, report-all are)", v);
    return 0;
}

/* <data>...</data> of cfg, filtered. */
/* Whether the filter selects ietf-netconf-monitoring's netconf-state (then wholly: its data is not
 * in the libyang context, so it is not filtered further). An XPath naming it is taken out of ps. */
static bool mon_selected(xmlNodePtr op, struct paths *ps)
{
    static const char prefix[] = "/ietf-netconf-monitoring:netconf-state";
    bool sel = false;
    xmlNodePtr f = nc_child(op, "filter", NULL);

    for (int i = 0; i < ps->n; i++) {
        if (strncmp(ps->p[i], prefix, sizeof prefix - 1) == 0) {
            sel = true;
            free(ps->p[i]);
            ps->p[i--] = ps->p[--ps->n];
        }
    }
    for (xmlNodePtr c = f ? f->children : NULL; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "netconf-state") == 0 &&
            c->ns != NULL && strcmp((const char *)c->ns->href, NC_NS_MON) == 0)
            sel = true;
    return sel;
}

/* <data> of cfg (NULL: no configuration, as for a user below privilege 15), filtered, with
 * monitoring state (RFC 6022 netconf-state) when mon: *mon tells whether the filter asked for it. */
static int write_data(struct ncs *s, xmlNodePtr op, const struct cfg *c, bool mon, FILE *out,
                      struct nc_err *e)
{
    struct paths ps = {0};
    struct lyd_node *tree = NULL, *result = NULL;
    struct model_err me;
    bool all, defaults;
    char *xml = NULL;
    int rc = -1;

    memset(&me, 0, sizeof me);
    if (with_defaults(op, &defaults, e) < 0 || filter_paths(op, &ps, &all, e) < 0)
        goto out;
    bool want_mon = mon && (all || mon_selected(op, &ps));
    if (c == NULL) {
        fputs("<data>", out);
        if (want_mon)
            nc_mon_state_xml(out, stats_started_ms(s->ctx->stats));
        fputs("</data>", out);
        rc = 0;
        goto out;
    }
    json_t *t = model_native_tree(c, defaults);
    model_prune(t);
    rc = model_native_lyd(t, &tree, &me);
    json_decref(t);
    if (rc < 0) {
        err_from_model(e, &me);
        goto out;
    }
    rc = -1;
    if (all) {
        result = tree;
        tree = NULL;
    }
    for (int i = 0; i < ps.n && tree != NULL; i++) {
        struct ly_set *set = NULL;
        if (lyd_find_xpath(tree, ps.p[i], &set) != LY_SUCCESS) {
            nc_err_set(e, "application", "invalid-value", "filter %s: %s", ps.p[i],
                       ly_errmsg(model_ctx()));
            goto out;
        }
        for (uint32_t j = 0; j < set->count; j++) {
            struct lyd_node *dup = NULL;
            if (lyd_dup_single(set->dnodes[j], NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_PARENTS,
                               &dup) != LY_SUCCESS)
                continue;
            while (dup->parent != NULL)
                dup = lyd_parent(dup);
            lyd_merge_siblings(&result, dup, LYD_MERGE_DESTRUCT);
        }
        ly_set_free(set, NULL);
    }
    if (result != NULL &&
        lyd_print_mem(&xml, result, LYD_XML, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK) !=
            LY_SUCCESS) {
        nc_err_set(e, "application", "operation-failed", "cannot print the data");
        goto out;
    }
    fprintf(out, "<data>%s", xml ? xml : "");
    if (want_mon)
        nc_mon_state_xml(out, stats_started_ms(s->ctx->stats));
    fputs("</data>", out);
    rc = 0;
out:
    free(xml);
    lyd_free_all(tree);
    lyd_free_all(result);
    paths_free(&ps);
    return rc;
}

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

/* ---- edit-config ------------------------------------------------------------------------------ */

enum eop { EOP_NONE, EOP_MERGE, EOP_REPLACE, EOP_CREATE, EOP_DELETE, EOP_REMOVE };
static const char *const eop_names[] = {"none", "merge", "replace", "create", "delete", "remove"};

struct step {
    const struct lysc_node *n;
    char *key;   /* list entry key, NULL otherwise */
};

struct edit {
    struct step s[NC_MAX_STEPS];
    int n;
    enum eop op;
};

struct edits {
    struct edit e[NC_MAX_EDITS];
    int n;
};

static void edits_free(struct edits *ed)
{
    for (int i = 0; i < ed->n; i++)
        for (int j = 0; j < ed->e[i].n; j++)
            free(ed->e[i].s[j].key);
    ed->n = 0;
}

static void steps_path(const struct step *s, int n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < cap; i++) {
        int w = snprintf(buf + len, cap - len, "/%s%s%s", s[i].n->name, s[i].key ? "=" : "",
                         s[i].key ? s[i].key : "");
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

static bool steps_equal(const struct step *a, int an, const struct step *b, int bn)
{
    if (an != bn)
        return false;
    for (int i = 0; i < an; i++)
        if (a[i].n != b[i].n || (a[i].key == NULL) != (b[i].key == NULL) ||
            (a[i].key && strcmp(a[i].key, b[i].key) != 0))
            return false;
    return true;
}

/* Walks the <config> copy: resolves each element in the schema, takes its operation attribute
 * off and records it with the element's path; delete and remove elements are taken out of the
 * document (libyang need not see their content). */
static int edits_collect(xmlNodePtr el, const struct lysc_node *parent, struct step *path,
                         int depth, struct edits *ed, struct nc_err *e)
{
    for (xmlNodePtr c = el->children, next; c != NULL; c = next) {
        next = c->next;
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *mod = module_of_ns(c, NULL);
        const struct lysc_node *sn;
        if (parent == NULL)
            sn = mod && strcmp(mod, MODEL_NATIVE) == 0 && strcmp((const char *)c->name, "native") == 0
                     ? model_native_root() : NULL;
        else
            sn = mod ? model_child(parent, mod, strlen(mod), (const char *)c->name,
                                   strlen((const char *)c->name))
                     : NULL;
        if (sn == NULL || depth >= NC_MAX_STEPS) {
            char where[200];
            steps_path(path, depth, where, sizeof where);
            snprintf(e->path, sizeof e->path, "%s/%.50s", where, (const char *)c->name);
            snprintf(e->info, sizeof e->info, "<bad-element>%s</bad-element>",
                     (const char *)c->name);
            return nc_err_set(e, "application", "unknown-element",
                              "unknown element %s%s%s in %s", (const char *)c->name,
                              c->ns ? " in namespace " : " without a namespace",
                              c->ns ? (const char *)c->ns->href : "", depth ? where : "config");
        }
        path[depth].n = sn;
        path[depth].key = NULL;
        char key[256];
        const char *kname = model_kind(sn) == MODEL_LIST ? model_key(sn) : NULL;
        if (kname != NULL && child_text(c, kname, key, sizeof key))
            path[depth].key = key;
        xmlChar *opv = xmlGetNsProp(c, (const xmlChar *)"operation", (const xmlChar *)NC_NS_BASE);
        enum eop op = EOP_NONE;
        if (opv != NULL) {
            int i;
            for (i = 1; i <= EOP_REMOVE; i++)
                if (strcmp((const char *)opv, eop_names[i]) == 0)
                    break;
            if (i > EOP_REMOVE) {
                snprintf(e->info, sizeof e->info,
                         "<bad-attribute>operation</bad-attribute><bad-element>%s</bad-element>",
                         (const char *)c->name);
                xmlFree(opv);
                return nc_err_set(e, "protocol", "bad-attribute",
                                  "operation must be merge, replace, create, delete or remove");
            }
            op = (enum eop)i;
            xmlFree(opv);
            if (ed->n >= NC_MAX_EDITS)
                return nc_err_set(e, "application", "too-big",
                                  "more than %d operation attributes", NC_MAX_EDITS);
            if (kname != NULL && path[depth].key == NULL)
                return nc_err_set(e, "protocol", "missing-element",
                                  "an entry of %s with an operation lacks its key %s",
                                  sn->name, kname);
            struct edit *x = &ed->e[ed->n++];
            x->n = depth + 1;
            x->op = op;
            for (int i2 = 0; i2 <= depth; i2++) {
                x->s[i2].n = path[i2].n;
                x->s[i2].key = path[i2].key ? strdup(path[i2].key) : NULL;
            }
            xmlAttrPtr a = xmlHasNsProp(c, (const xmlChar *)"operation",
                                        (const xmlChar *)NC_NS_BASE);
            if (a != NULL)
                xmlRemoveProp(a);
        }
        if (op == EOP_DELETE || op == EOP_REMOVE) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
            continue;
        }
        if (model_kind(sn) == MODEL_CONT || model_kind(sn) == MODEL_LIST) {
            int rc = edits_collect(c, sn, path, depth + 1, ed, e);
            if (rc < 0)
                return rc;
        }
        path[depth].key = NULL;
    }
    return 0;
}

static enum eop edit_op(const struct edits *ed, const struct step *path, int n, enum eop inherit)
{
    for (int i = 0; i < ed->n; i++)
        if (ed->e[i].op != EOP_DELETE && ed->e[i].op != EOP_REMOVE &&
            steps_equal(ed->e[i].s, ed->e[i].n, path, n))
            return ed->e[i].op;
    return inherit;
}

static bool has_content(json_t *v)
{
    return v != NULL && !(json_is_object(v) && json_object_size(v) == 0) &&
           !(json_is_array(v) && json_array_size(v) == 0);
}

static int exists_err(struct nc_err *e, const struct step *path, int n)
{
    steps_path(path, n, e->path, sizeof e->path);
    return nc_err_set(e, "application", "data-exists", "%s exists already (operation create)",
                      e->path);
}

/* Applies the canonical edit src (object of node sn) onto dst, with the operations of ed. */
static int apply(const struct lysc_node *sn, json_t *dst, json_t *src, struct step *path,
                 int depth, enum eop inherit, const struct edits *ed, struct nc_err *e)
{
    const char *k;
    json_t *v;

    json_object_foreach(src, k, v) {
        const struct lysc_node *kid = model_child(sn, NULL, 0, k, strlen(k));
        if (kid == NULL || depth >= NC_MAX_STEPS)
            continue;
        path[depth].n = kid;
        path[depth].key = NULL;
        if (model_kind(kid) == MODEL_LIST) {
            const char *kname = model_key(kid);
            size_t i;
            json_t *ent;
            json_array_foreach(v, i, ent) {
                const char *kv = json_string_value(json_object_get(ent, kname));
                char kbuf[256];
                snprintf(kbuf, sizeof kbuf, "%s", kv ? kv : "");
                path[depth].key = kbuf;
                enum eop op = edit_op(ed, path, depth + 1, inherit);
                json_t *arr = json_object_get(dst, k);
                if (arr == NULL) {
                    arr = json_array();
                    json_object_set_new(dst, k, arr);
                }
                size_t idx;
                json_t *old = model_list_entry(arr, kname, kv, &idx);
                if (op == EOP_CREATE && old != NULL)
                    return exists_err(e, path, depth + 1);
                if (op == EOP_REPLACE || op == EOP_CREATE) {
                    if (old != NULL)
                        json_array_set_new(arr, idx, json_deep_copy(ent));
                    else
                        json_array_append_new(arr, json_deep_copy(ent));
                } else if (op == EOP_MERGE || old != NULL) {
                    if (old == NULL) {
                        old = json_pack("{s:s}", kname, kv ? kv : "");
                        json_array_append_new(arr, old);
                    }
                    if (apply(kid, old, ent, path, depth + 1, op, ed, e) < 0)
                        return -1;
                }
            }
            path[depth].key = NULL;
            continue;
        }
        enum eop op = edit_op(ed, path, depth + 1, inherit);
        json_t *cur = json_object_get(dst, k);
        if (op == EOP_CREATE && has_content(cur))
            return exists_err(e, path, depth + 1);
        if (model_kind(kid) == MODEL_CONT && op != EOP_REPLACE && op != EOP_CREATE) {
            if (cur == NULL) {
                cur = json_object();
                json_object_set_new(dst, k, cur);
            }
            if (apply(kid, cur, v, path, depth + 1, op, ed, e) < 0)
                return -1;
        } else if (op != EOP_NONE) {
            json_object_set_new(dst, k, json_deep_copy(v));
        }
    }
    return 0;
}

/* delete (the node must exist) and remove (it may not) */
static int apply_deletes(json_t *root, const struct edits *ed, struct nc_err *e)
{
    for (int i = 0; i < ed->n; i++) {
        const struct edit *x = &ed->e[i];
        if (x->op != EOP_DELETE && x->op != EOP_REMOVE)
            continue;
        json_t *cur = root, *parent = NULL;
        size_t idx = 0;
        for (int j = 1; j < x->n && cur != NULL; j++) {   /* s[0] is native itself */
            parent = cur;
            cur = json_object_get(parent, x->s[j].n->name);
            if (cur != NULL && x->s[j].key != NULL) {
                parent = cur;
                cur = model_list_entry(parent, model_key(x->s[j].n), x->s[j].key, &idx);
            }
        }
        if (x->n == 1) {   /* the whole native tree */
            if (x->op == EOP_DELETE && !has_content(root)) {
                snprintf(e->path, sizeof e->path, "/native");
                return nc_err_set(e, "application", "data-missing", "nothing to delete");
            }
            json_object_clear(root);
            continue;
        }
        if (!has_content(cur)) {
            if (x->op == EOP_REMOVE)
                continue;
            steps_path(x->s, x->n, e->path, sizeof e->path);
            return nc_err_set(e, "application", "data-missing",
                              "%s does not exist (operation delete)", e->path);
        }
        if (x->s[x->n - 1].key != NULL)
            json_array_remove(parent, idx);
        else
            json_object_del(parent, x->s[x->n - 1].n->name);
    }
    return 0;
}

/* The XML of a <config> (its children, each with the namespaces it uses) with the operation
 * attributes taken off into ed. */
static char *config_xml(xmlNodePtr config, struct edits *ed, struct nc_err *e)
{
    xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr copy = d ? xmlDocCopyNode(config, d, 1) : NULL;
    struct step path[NC_MAX_STEPS];
    char *buf = NULL;
    size_t len = 0;

    if (copy == NULL) {
        xmlFreeDoc(d);
        nc_err_set(e, "application", "operation-failed", "out of memory");
        return NULL;
    }
    xmlDocSetRootElement(d, copy);
    if (edits_collect(copy, NULL, path, 0, ed, e) < 0) {
        xmlFreeDoc(d);
        return NULL;
    }
    FILE *f = open_memstream(&buf, &len);
    for (xmlNodePtr c = copy->children; c != NULL && f != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        /* a document of its own, so the namespaces declared above it are declared on it */
        xmlDocPtr one = xmlNewDoc((const xmlChar *)"1.0");
        xmlNodePtr oc = xmlDocCopyNode(c, one, 1);
        xmlDocSetRootElement(one, oc);
        xmlBufferPtr xb = xmlBufferCreate();
        xmlNodeDump(xb, one, oc, 0, 0);
        fwrite(xmlBufferContent(xb), 1, (size_t)xmlBufferLength(xb), f);
        xmlBufferFree(xb);
        xmlFreeDoc(one);
    }
    if (f != NULL)
        fclose(f);
    xmlFreeDoc(d);
    return buf;
}

/* The running tree after <config> with default-operation dop: *out, or -1 with e. */
static int edit_tree(const struct cfg *running, xmlNodePtr config, enum eop dop, json_t **out,
                     struct nc_err *e)
{
    struct edits *ed = calloc(1, sizeof *ed);
    struct step path[NC_MAX_STEPS];
    struct model_err me;
    json_t *edit = NULL, *root = NULL;
    char *xml;
    int rc = -1;

    memset(&me, 0, sizeof me);
    if (ed == NULL)
        return nc_err_set(e, "application", "operation-failed", "out of memory");
    xml = config_xml(config, ed, e);
    if (xml == NULL)
        goto out;
    rc = model_native_from_xml(xml, &edit, &me);
    explicit_bzero(xml, strlen(xml));
    free(xml);
    if (rc < 0) {
        err_from_model(e, &me);
        goto out;
    }
    rc = -1;
    root = dop == EOP_REPLACE ? json_object() : model_native_tree(running, false);
    path[0].n = model_native_root();
    path[0].key = NULL;
    if (apply(model_native_root(), root, edit, path, 1,
              edit_op(ed, path, 1, dop == EOP_REPLACE ? EOP_MERGE : dop), ed, e) < 0 ||
        apply_deletes(root, ed, e) < 0)
        goto out;
    *out = root;
    root = NULL;
    rc = 0;
out:
    json_decref(root);
    json_decref(edit);
    edits_free(ed);
    free(ed);
    return rc;
}

/* Computes and (unless test_only) commits <config> onto running. */
static int edit_commit(struct ncs *s, xmlNodePtr config, enum eop dop, bool test_only,
                       struct nc_err *e)
{
    for (int attempt = 0;; attempt++) {
        const struct store_snap *snap = store_snapshot(s->ctx->store);
        uint64_t version = snap->version;
        json_t *root = NULL;
        int rc = edit_tree(snap->cfg, config, dop, &root, e);
        store_snap_release(snap);
        if (rc < 0)
            return -1;
        struct model_err me;
        memset(&me, 0, sizeof me);
        struct cfg *next = model_native_cfg(root, &me);
        json_decref(root);
        if (next == NULL)
            return err_from_model(e, &me);
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
    enum eop dop = EOP_MERGE;
    bool test_only = false;
    const char *ds = datastore(op, "target", NULL, e);

    if (ds == NULL)
        return -1;
    if (strcmp(ds, "running") != 0)
        return nc_err_set(e, "protocol", "invalid-value",
                          "edit-config edits the running datastore (%s is not writable here)", ds);
    if (child_text(op, "default-operation", v, sizeof v)) {
        if (strcmp(v, "merge") == 0)
            dop = EOP_MERGE;
        else if (strcmp(v, "replace") == 0)
            dop = EOP_REPLACE;
        else if (strcmp(v, "none") == 0)
            dop = EOP_NONE;
        else
            return nc_err_set(e, "protocol", "invalid-value",
                              "default-operation must be merge, replace or none");
    }
    if (child_text(op, "test-option", v, sizeof v)) {
        if (strcmp(v, "test-only") == 0)
            test_only = true;
        else if (strcmp(v, "test-then-set") != 0 && strcmp(v, "set") != 0)
            return nc_err_set(e, "protocol", "invalid-value",
                              "test-option must be test-then-set, set or test-only");
    }
    if (child_text(op, "error-option", v, sizeof v) && strcmp(v, "rollback-on-error") != 0 &&
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

/* ---- datastores, locks ------------------------------------------------------------------------ */

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
        if (edit_commit(s, src, EOP_REPLACE, false, e) < 0)
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
        if (edit_commit(s, src, EOP_REPLACE, true, e) < 0)
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

    if (!child_text(op, "session-id", v, sizeof v))
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

    if (!child_text(op, "identifier", id, sizeof id))
        return nc_err_set(e, "protocol", "missing-element", "get-schema needs identifier");
    child_text(op, "format", fmt, sizeof fmt);
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
    if (!child_text(op, "stream", stream, sizeof stream))
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

/* ---- messages --------------------------------------------------------------------------------- */

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
