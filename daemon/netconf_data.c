/* netconf_data: filters and edits on the native model (see netconf_data.h).
 *
 * Reading: the canonical tree of a config becomes a libyang data tree; each XPath of the filter
 * selects nodes that are copied with their parents into the answer (libyang's lyd_find_xpath,
 * lyd_dup_single, lyd_merge_siblings), which libyang prints as XML. A subtree filter is turned into
 * XPath first: a content-match node (a leaf with text) becomes a predicate of its parent, a
 * selection node (empty) or a parent holding only content matches selects the node, containment
 * nodes go on; a namespace this server has no module for selects nothing.
 *
 * Editing: the <config> is copied, each element resolved in the compiled schema, and its
 * nc:operation taken off and kept with the element's path; delete and remove elements are taken
 * out (libyang need not see their content). libyang parses the rest strictly (unknown elements,
 * namespaces, values) into the canonical edit, which is applied to the running tree (merge by
 * list key, replace, create); deletes and removes come last. The caller turns the result into one
 * configuration and one commit, so an edit is all or nothing. */
#include "daemon/netconf_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libyang/libyang.h>

#include "model/model_native.h"
#include "model/model_yang.h"

#define NC_NS_WD "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults"
#define NC_NS_MON "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
#define NC_MAX_EDITS 256         /* operation attributes in one edit-config */
#define NC_MAX_STEPS 12

int nc_err_model(struct nc_err *e, const struct model_err *me)
{
    nc_err_set(e, "application", me->tag ? me->tag : "invalid-value", "%s", me->msg);
    snprintf(e->path, sizeof e->path, "%s", me->path);
    return -1;
}

/* ---- filters --------------------------------------------------------------------------------- */

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

void nc_filter_free(struct nc_filter *ps)
{
    for (int i = 0; i < ps->n; i++)
        free(ps->p[i]);
    ps->n = 0;
}

static int paths_add(struct nc_filter *ps, const char *p, struct nc_err *e)
{
    if (ps->n >= NC_FILTER_PATHS)
        return nc_err_set(e, "protocol", "too-big",
                          "the filter selects more than %d subtrees", NC_FILTER_PATHS);
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
                         struct nc_filter *ps, struct nc_err *e)
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
static int filter_paths(xmlNodePtr op, struct nc_filter *ps, bool *all, struct nc_err *e)
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
    if (!nc_child_text(op, "with-defaults", v, sizeof v))
        return 0;
    if (strcmp(v, "report-all") == 0)
        *defaults = true;
    else if (strcmp(v, "explicit") != 0 && strcmp(v, "trim") != 0)
        return nc_err_set(e, "application", "invalid-value",
                          "with-defaults %s is not supported (explicit, trim, report-all are)", v);
    return 0;
}

/* Whether the filter selects ietf-netconf-monitoring's netconf-state (then wholly: its data is not
 * in the libyang context, so it is not filtered further). An XPath naming it is taken out of ps. */
static bool mon_selected(xmlNodePtr op, struct nc_filter *ps)
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

int nc_filter_parse(xmlNodePtr op, struct nc_filter *f, struct nc_err *e)
{
    memset(f, 0, sizeof *f);
    if (with_defaults(op, &f->defaults, e) < 0 || filter_paths(op, f, &f->all, e) < 0)
        return -1;
    f->mon = f->all || mon_selected(op, f);
    return 0;
}

char *nc_data_xml(const struct cfg *c, const struct nc_filter *f, struct nc_err *e)
{
    struct lyd_node *tree = NULL, *result = NULL;
    struct model_err me;
    char *xml = NULL;

    memset(&me, 0, sizeof me);
    json_t *t = model_native_tree(c, f->defaults);
    model_prune(t);
    int rc = model_native_lyd(t, &tree, &me);
    json_decref(t);
    if (rc < 0) {
        nc_err_model(e, &me);
        return NULL;
    }
    if (f->all) {
        result = tree;
        tree = NULL;
    }
    for (int i = 0; i < f->n && tree != NULL; i++) {
        struct ly_set *set = NULL;
        if (lyd_find_xpath(tree, f->p[i], &set) != LY_SUCCESS) {
            nc_err_set(e, "application", "invalid-value", "filter %s: %s", f->p[i],
                       ly_errmsg(model_ctx()));
            goto fail;
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
        goto fail;
    }
    lyd_free_all(tree);
    lyd_free_all(result);
    return xml ? xml : strdup("");
fail:
    lyd_free_all(tree);
    lyd_free_all(result);
    return NULL;
}

/* ---- edit-config ----------------------------------------------------------------------------- */

static const char *const eop_names[] = {"none", "merge", "replace", "create", "delete", "remove"};

struct step {
    const struct lysc_node *n;
    char *key;   /* list entry key, NULL otherwise */
};

struct edit {
    struct step s[NC_MAX_STEPS];
    int n;
    enum nc_eop op;
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
            sn = mod && strcmp(mod, MODEL_NATIVE) == 0 &&
                         strcmp((const char *)c->name, "native") == 0
                     ? model_native_root()
                     : NULL;
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
        if (kname != NULL && nc_child_text(c, kname, key, sizeof key))
            path[depth].key = key;
        xmlChar *opv = xmlGetNsProp(c, (const xmlChar *)"operation", (const xmlChar *)NC_NS_BASE);
        enum nc_eop op = NC_EOP_NONE;
        if (opv != NULL) {
            int i;
            for (i = 1; i <= NC_EOP_REMOVE; i++)
                if (strcmp((const char *)opv, eop_names[i]) == 0)
                    break;
            if (i > NC_EOP_REMOVE) {
                snprintf(e->info, sizeof e->info,
                         "<bad-attribute>operation</bad-attribute><bad-element>%s</bad-element>",
                         (const char *)c->name);
                xmlFree(opv);
                return nc_err_set(e, "protocol", "bad-attribute",
                                  "operation must be merge, replace, create, delete or remove");
            }
            op = (enum nc_eop)i;
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
        if (op == NC_EOP_DELETE || op == NC_EOP_REMOVE) {
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

static enum nc_eop edit_op(const struct edits *ed, const struct step *path, int n,
                           enum nc_eop inherit)
{
    for (int i = 0; i < ed->n; i++)
        if (ed->e[i].op != NC_EOP_DELETE && ed->e[i].op != NC_EOP_REMOVE &&
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
                 int depth, enum nc_eop inherit, const struct edits *ed, struct nc_err *e)
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
                enum nc_eop op = edit_op(ed, path, depth + 1, inherit);
                json_t *arr = json_object_get(dst, k);
                if (arr == NULL) {
                    arr = json_array();
                    json_object_set_new(dst, k, arr);
                }
                size_t idx;
                json_t *old = model_list_entry(arr, kname, kv, &idx);
                if (op == NC_EOP_CREATE && old != NULL)
                    return exists_err(e, path, depth + 1);
                if (op == NC_EOP_REPLACE || op == NC_EOP_CREATE) {
                    if (old != NULL)
                        json_array_set_new(arr, idx, json_deep_copy(ent));
                    else
                        json_array_append_new(arr, json_deep_copy(ent));
                } else if (op == NC_EOP_MERGE || old != NULL) {
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
        enum nc_eop op = edit_op(ed, path, depth + 1, inherit);
        json_t *cur = json_object_get(dst, k);
        if (op == NC_EOP_CREATE && has_content(cur))
            return exists_err(e, path, depth + 1);
        if (model_kind(kid) == MODEL_CONT && op != NC_EOP_REPLACE && op != NC_EOP_CREATE) {
            if (cur == NULL) {
                cur = json_object();
                json_object_set_new(dst, k, cur);
            }
            if (apply(kid, cur, v, path, depth + 1, op, ed, e) < 0)
                return -1;
        } else if (op != NC_EOP_NONE) {
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
        if (x->op != NC_EOP_DELETE && x->op != NC_EOP_REMOVE)
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
            if (x->op == NC_EOP_DELETE && !has_content(root)) {
                snprintf(e->path, sizeof e->path, "/native");
                return nc_err_set(e, "application", "data-missing", "nothing to delete");
            }
            json_object_clear(root);
            continue;
        }
        if (!has_content(cur)) {
            if (x->op == NC_EOP_REMOVE)
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
int nc_edit(const struct cfg *running, xmlNodePtr config, enum nc_eop dop, json_t **out,
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
        nc_err_model(e, &me);
        goto out;
    }
    rc = -1;
    root = dop == NC_EOP_REPLACE ? json_object() : model_native_tree(running, false);
    path[0].n = model_native_root();
    path[0].key = NULL;
    if (apply(model_native_root(), root, edit, path, 1,
              edit_op(ed, path, 1, dop == NC_EOP_REPLACE ? NC_EOP_MERGE : dop), ed, e) < 0 ||
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

