/* model_native: the native subtree as data (see model_native.h).
 *
 * The schema is libyang's: every lookup of a member, its module, its kind and a list's key walks
 * the compiled Cisco-IOS-XE-native (+ Cisco-IOS-XE-aaa augment) of model_yang, and every leaf
 * value is checked by libyang against its YANG type (ranges, lengths, enumerations, and the
 * patterns of config-word that keep spaces and control characters out of a config line). What
 * remains here is the mapping between the tree and the config language, one function each way:
 * native_tree (cfg -> tree, read from the parsed model) and tree_text (tree -> config lines,
 * written in the command table's words). A new config line is a YANG node plus a line in each.
 *
 * Why config text in the middle: the config language's one parser (store/cfg) validates every
 * value (secrets are hashed there), and a door's request becomes one commit, all or nothing. */
#include "model/model_native.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libyang/libyang.h>

#include "base/lim.h"
#include "model/model_yang.h"
#include "store/cfg.h"

__attribute__((format(printf, 3, 4))) static int merr_set(struct model_err *e, const char *tag,
                                                          const char *fmt, ...)
{
    va_list ap;

    e->tag = tag;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- schema walk ----------------------------------------------------------------------------- */

static pthread_once_t native_once = PTHREAD_ONCE_INIT;
static const struct lysc_node *native_root;

static void native_find_root(void)
{
    const struct ly_ctx *ctx = model_ctx();
    if (ctx != NULL)
        native_root = lys_find_path(ctx, NULL, "/" MODEL_NATIVE ":native", 0);
}

const struct lysc_node *model_native_root(void)
{
    pthread_once(&native_once, native_find_root);
    return native_root;
}

const struct lysc_node *model_child(const struct lysc_node *parent, const char *module,
                                    size_t mlen, const char *name, size_t len)
{
    const struct lysc_node *k = NULL;

    while ((k = lys_getnext(k, parent, NULL, 0)) != NULL) {
        if (strlen(k->name) != len || memcmp(k->name, name, len) != 0)
            continue;
        if (module != NULL &&
            (strlen(k->module->name) != mlen || memcmp(k->module->name, module, mlen) != 0))
            return NULL;
        return k;
    }
    return NULL;
}

/* "mod:name" or "name" -> child of parent */
static const struct lysc_node *child_q(const struct lysc_node *parent, const char *qname)
{
    const char *colon = strchr(qname, ':');

    if (colon == NULL)
        return model_child(parent, NULL, 0, qname, strlen(qname));
    return model_child(parent, qname, (size_t)(colon - qname), colon + 1, strlen(colon + 1));
}

enum model_kind model_kind(const struct lysc_node *n)
{
    if (n->nodetype == LYS_LIST)
        return MODEL_LIST;
    if (n->nodetype == LYS_LEAF)
        return ((const struct lysc_node_leaf *)n)->type->basetype == LY_TYPE_EMPTY ? MODEL_EMPTY
                                                                                    : MODEL_LEAF;
    return MODEL_CONT;
}

const char *model_key(const struct lysc_node *list)
{
    const struct lysc_node *k = lysc_node_child(list);

    return k != NULL && lysc_is_key(k) ? k->name : NULL;
}

const char *model_module(const struct lysc_node *n)
{
    return n->module->name;
}

static bool is_int_type(LY_DATA_TYPE t)
{
    /* RFC 7951 section 6.1: 64-bit integers are JSON strings, the others JSON numbers */
    return t == LY_TYPE_UINT8 || t == LY_TYPE_UINT16 || t == LY_TYPE_UINT32 ||
           t == LY_TYPE_INT8 || t == LY_TYPE_INT16 || t == LY_TYPE_INT32;
}

/* ---- input validation: JSON -> canonical tree ------------------------------------------------ */

static void path_push(char *path, size_t cap, const char *seg, size_t *saved)
{
    *saved = strlen(path);
    size_t len = *saved;
    snprintf(path + len, cap - len, "/%s", seg);
}

static int norm_container(const struct lysc_node *n, json_t *in, json_t **out, char *path,
                          size_t pcap, struct model_err *e)
{
    const char *k;
    json_t *v;
    json_t *o;

    if (!json_is_object(in)) {
        snprintf(e->path, sizeof e->path, "%s", path);
        return merr_set(e, "invalid-value", "%s must be a JSON object", path);
    }
    o = json_object();
    json_object_foreach(in, k, v) {
        const struct lysc_node *kid = child_q(n, k);
        size_t saved;
        path_push(path, pcap, k, &saved);
        if (kid == NULL) {
            snprintf(e->path, sizeof e->path, "%s", path);
            merr_set(e, "unknown-element", "unknown element %s in %s", k,
                     saved ? "this container" : "the body");
            json_decref(o);
            return -1;
        }
        if (json_object_get(o, kid->name) != NULL) {
            snprintf(e->path, sizeof e->path, "%s", path);
            merr_set(e, "invalid-value", "element %s given twice", kid->name);
            json_decref(o);
            return -1;
        }
        json_t *nv = NULL;
        if (model_norm(kid, v, &nv, path, pcap, e) < 0) {
            json_decref(o);
            return -1;
        }
        json_object_set_new(o, kid->name, nv);
        path[saved] = '\0';
    }
    *out = o;
    return 0;
}

static int norm_list(const struct lysc_node *n, json_t *in, json_t **out, char *path, size_t pcap,
                     struct model_err *e)
{
    const char *key = model_key(n);
    json_t *arr, *v;
    size_t i;

    if (!json_is_array(in)) {
        snprintf(e->path, sizeof e->path, "%s", path);
        return merr_set(e, "invalid-value", "%s is a list: give a JSON array", path);
    }
    arr = json_array();
    json_array_foreach(in, i, v) {
        json_t *ne = NULL;
        if (norm_container(n, v, &ne, path, pcap, e) < 0) {
            json_decref(arr);
            return -1;
        }
        json_t *kv = json_object_get(ne, key);
        if (!json_is_string(kv)) {
            json_decref(ne);
            json_decref(arr);
            snprintf(e->path, sizeof e->path, "%s", path);
            return merr_set(e, "missing-element", "an entry of %s lacks its key %s", path, key);
        }
        if (model_list_entry(arr, key, json_string_value(kv), NULL) != NULL) {
            snprintf(e->path, sizeof e->path, "%s", path);
            merr_set(e, "invalid-value", "duplicate entry %s=%s in %s", key,
                     json_string_value(kv), path);
            json_decref(ne);
            json_decref(arr);
            return -1;
        }
        json_array_append_new(arr, ne);
    }
    *out = arr;
    return 0;
}

/* libyang quotes a value it refuses (`string "X" length is not allowed`): for a leaf holding a
 * secret (named as the config language's secret words) the quoted part becomes <hidden>. A message
 * cut inside the value (a long one: no closing quote) is hidden to its end. */
static void hide_quoted(char *msg, size_t cap, const char *leaf)
{
    char *a = strchr(msg, '"'), *b = strrchr(msg, '"');
    if (leaf == NULL || !cfg_secret_word(leaf) || a == NULL)
        return;
    if (b == a)
        b = a + strlen(a);
    char tail[256];
    snprintf(tail, sizeof tail, "%s", b);
    snprintf(a + 1, cap - (size_t)(a + 1 - msg), "<hidden>%s", tail);
}

/* The last node name of a libyang data path (".../password[...]" -> "password") into buf. */
static const char *path_leaf(const char *path, char *buf, size_t cap)
{
    const char *p = path ? strrchr(path, '/') : NULL;
    if (p == NULL)
        return NULL;
    p++;
    const char *colon = strchr(p, ':');
    if (colon != NULL && (strchr(p, '[') == NULL || colon < strchr(p, '[')))
        p = colon + 1;
    snprintf(buf, cap, "%.*s", (int)strcspn(p, "["), p);
    return buf;
}

/* A leaf: the JSON type RFC 7951 gives its YANG type, then libyang's check of the value. */
static int norm_leaf(const struct lysc_node *n, json_t *in, json_t **out, const char *path,
                     struct model_err *e)
{
    const struct ly_ctx *ctx = model_ctx();
    LY_DATA_TYPE t = ((const struct lysc_node_leaf *)n)->type->basetype;
    char num[32];
    const char *s;

    if (is_int_type(t)) {
        if (!json_is_integer(in)) {
            snprintf(e->path, sizeof e->path, "%s", path);
            return merr_set(e, "invalid-value", "%s must be an integer", path);
        }
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(in));
        s = num;
    } else if (json_is_string(in)) {
        s = json_string_value(in);
    } else {
        snprintf(e->path, sizeof e->path, "%s", path);
        return merr_set(e, "invalid-value", "%s must be a string", path);
    }
    if (lyd_value_validate(ctx, n, s, strlen(s), NULL, NULL, NULL) != LY_SUCCESS) {
        const char *why = ly_errmsg(ctx);
        snprintf(e->path, sizeof e->path, "%s", path);
        merr_set(e, "invalid-value", "%s: %s", path, why ? why : "invalid value");
        hide_quoted(e->msg, sizeof e->msg, n->name);
        return -1;
    }
    *out = json_incref(in);
    return 0;
}

int model_norm(const struct lysc_node *n, json_t *in, json_t **out, char *path, size_t pcap,
               struct model_err *e)
{
    switch (model_kind(n)) {
    case MODEL_CONT:
        return norm_container(n, in, out, path, pcap, e);
    case MODEL_LIST:
        return norm_list(n, in, out, path, pcap, e);
    case MODEL_EMPTY:
        if (!json_is_array(in) || json_array_size(in) != 1 ||
            !json_is_null(json_array_get(in, 0))) {
            snprintf(e->path, sizeof e->path, "%s", path);
            return merr_set(e, "invalid-value",
                            "%s is an empty leaf: its only value is [null]", path);
        }
        *out = json_pack("[n]");
        return 0;
    case MODEL_LEAF:
        return norm_leaf(n, in, out, path, e);
    }
    return merr_set(e, "operation-failed", "schema error");
}

/* ---- cfg -> canonical tree ------------------------------------------------------------------- */

static json_t *method_json(const struct cfg_method *m)
{
    switch (m->kind) {
    case CFG_M_LOCAL:
        return json_pack("{s:[n]}", "local");
    case CFG_M_NONE:
        return json_pack("{s:[n]}", "none");
    case CFG_M_IF_AUTHENTICATED:
        return json_pack("{s:[n]}", "if-authenticated");
    case CFG_M_GROUP:
        return json_pack("{s:s}", "group", m->group);
    }
    return json_object();
}

static json_t *mlists_json(const struct cfg_mlist *l, size_t n)
{
    static const char *const slot[] = {"a1", "a2", "a3", "a4"};
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++) {
        json_t *e = json_pack("{s:s}", "name", l[i].name);
        for (int j = 0; j < l[i].n && j < 4; j++)
            json_object_set_new(e, slot[j], method_json(&l[i].m[j]));
        json_array_append_new(arr, e);
    }
    return arr;
}

/* ---- network AAA: cfg <-> tree, driven by the tables below ----------------------------------- */

/* The numeric leaves of a server: JSON member = config word, its field, default, protocols. */
#define NA_TAC 1u
#define NA_RAD 2u
static const struct na_leaf {
    const char *name;
    size_t off;
    int def;
    unsigned protos;
} na_leaves[] = {
    {"port", offsetof(struct cfg_aaa_server, port), CFG_TACACS_PORT, NA_TAC},
    {"timeout", offsetof(struct cfg_aaa_server, timeout), CFG_AAA_TIMEOUT, NA_TAC | NA_RAD},
    {"retransmit", offsetof(struct cfg_aaa_server, retransmit), CFG_RADIUS_RETRANSMIT, NA_RAD},
};
/* Both server kinds: JSON member under native, config keyword, protocol. */
static const struct na_kind {
    const char *json, *word;
    enum cfg_aaa_proto proto;
    unsigned bit;
} na_kinds[] = {{"tacacs", "tacacs", CFG_AAA_TACACS, NA_TAC},
                {"radius", "radius", CFG_AAA_RADIUS, NA_RAD}};
/* Both group kinds: JSON list under aaa/group/server (IOS XE's names), config word. */
static const struct na_kind na_groups[] = {{"tacacsplus", "tacacs+", CFG_AAA_TACACS, NA_TAC},
                                           {"radius", "radius", CFG_AAA_RADIUS, NA_RAD}};
static const char *const na_acct[] = {[CFG_ACCT_EXEC] = "exec", [CFG_ACCT_COMMANDS15] = "commands"};
static const char *const na_slot[] = {"a1", "a2", "a3", "a4"};

static json_t *na_server_json(const struct cfg_aaa_server *s, unsigned bit, bool defaults)
{
    json_t *e = json_pack("{s:s}", "name", s->name);

    if (s->addr[0]) {
        json_t *a = json_pack("{s:s}", s->v6 ? "ipv6" : "ipv4", s->addr);
        if (bit == NA_RAD) {
            json_object_set_new(a, "auth-port", json_integer(s->port));
            json_object_set_new(a, "acct-port", json_integer(s->acct_port));
        }
        json_object_set_new(e, "address", a);
    }
    /* the stored key is type 6 text already: never anything else goes out */
    if (s->key[0])
        json_object_set_new(e, "key", json_pack("{s:s,s:s}", "encryption", "6", "key", s->key));
    for (size_t k = 0; k < sizeof na_leaves / sizeof *na_leaves; k++) {
        int v = *(const int *)(const void *)((const char *)s + na_leaves[k].off);
        if ((na_leaves[k].protos & bit) && (defaults || v != na_leaves[k].def))
            json_object_set_new(e, na_leaves[k].name, json_integer(v));
    }
    if (s->single)
        json_object_set_new(e, "single-connection", json_pack("[n]"));
    return e;
}

static void set_or_drop(json_t *parent, const char *k, json_t *v)
{
    if (json_object_size(v) > 0)
        json_object_set_new(parent, k, v);
    else
        json_decref(v);
}

/* Adds the network-AAA members: aaa/group, aaa/accounting, tacacs, radius, radius-server. */
static void na_json(const struct cfg *c, json_t *aaa, json_t *root, bool defaults)
{
    for (size_t k = 0; k < 2; k++) {
        json_t *arr = json_array();
        for (size_t i = 0; i < c->n_servers; i++)
            if (c->servers[i].proto == na_kinds[k].proto)
                json_array_append_new(arr, na_server_json(&c->servers[i], na_kinds[k].bit,
                                                          defaults));
        if (json_array_size(arr) > 0)
            json_object_set_new(root, na_kinds[k].json, json_pack("{s:o}", "server", arr));
        else
            json_decref(arr);
    }
    json_t *gs = json_object();
    for (size_t i = 0; i < c->n_groups; i++) {
        const struct cfg_aaa_group *g = &c->groups[i];
        const char *kind = na_groups[g->proto == CFG_AAA_RADIUS].json;
        json_t *arr = json_object_get(gs, kind), *names = json_array();
        if (arr == NULL)
            json_object_set_new(gs, kind, arr = json_array());
        for (int j = 0; j < g->n; j++)
            json_array_append_new(names, json_pack("{s:s}", "name", g->server[j]));
        json_t *e = json_pack("{s:s}", "name", g->name);
        if (json_array_size(names) > 0)
            json_object_set_new(e, "server", json_pack("{s:o}", "name", names));
        else
            json_decref(names);
        if (g->deadtime)
            json_object_set_new(e, "deadtime", json_integer(g->deadtime));
        json_array_append_new(arr, e);
    }
    if (json_object_size(gs) > 0)
        json_object_set_new(aaa, "group", json_pack("{s:o}", "server", gs));
    else
        json_decref(gs);
    json_t *acct = json_object();
    for (size_t i = 0; i < c->n_acct; i++) {
        const struct cfg_acct *l = &c->acct[i];
        json_t *arr = json_object_get(acct, na_acct[l->kind]);
        if (arr == NULL)
            json_object_set_new(acct, na_acct[l->kind], arr = json_array());
        json_t *e = json_pack("{s:s,s:s}", "name", l->name, "action-type",
                              l->stop_only ? "stop-only" : "start-stop");
        for (int j = 0; j < l->n && j < 4; j++)
            json_object_set_new(e, na_slot[j], json_pack("{s:s}", "group", l->m[j].group));
        json_array_append_new(arr, e);
    }
    set_or_drop(aaa, "accounting", acct);
    json_t *rs = json_object();
    json_t *dc = json_object();
    if (c->rad_dead_time)
        json_object_set_new(dc, "time", json_integer(c->rad_dead_time));
    if (c->rad_dead_tries)
        json_object_set_new(dc, "tries", json_integer(c->rad_dead_tries));
    set_or_drop(rs, "dead-criteria", dc);
    if (c->rad_deadtime)
        json_object_set_new(rs, "deadtime", json_integer(c->rad_deadtime));
    set_or_drop(root, "radius-server", rs);
}

static json_t *native_tree(const struct cfg *c, bool defaults)
{
    json_t *root = json_object();

    if (defaults || strcmp(c->hostname, CFG_DEFAULT_HOSTNAME) != 0)
        json_object_set_new(root, "hostname", json_string(c->hostname));
    if (c->n_users > 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < c->n_users; i++) {
            const struct cfg_user *u = &c->users[i];
            json_t *e = json_pack("{s:s,s:i}", "name", u->name, "privilege", u->privilege);
            if (u->secret_type != CFG_SECRET_NONE) {
                char enc[4];
                snprintf(enc, sizeof enc, "%d", (int)u->secret_type);
                json_object_set_new(e, "secret",
                                    json_pack("{s:s,s:s}", "encryption", enc, "secret", u->secret));
            }
            json_array_append_new(arr, e);
        }
        json_object_set_new(root, "username", arr);
    }
    json_t *aaa = json_object();
    if (c->aaa_new_model)
        json_object_set_new(aaa, "new-model", json_pack("[n]"));
    if (c->n_authn > 0)
        json_object_set_new(aaa, "authentication",
                            json_pack("{s:o}", "login", mlists_json(c->authn, c->n_authn)));
    if (c->n_authz > 0)
        json_object_set_new(aaa, "authorization",
                            json_pack("{s:o}", "exec", mlists_json(c->authz, c->n_authz)));
    na_json(c, aaa, root, defaults);
    if (json_object_size(aaa) > 0)
        json_object_set_new(root, "aaa", aaa);
    else
        json_decref(aaa);

    json_t *ip = json_object();
    json_t *ssh = json_object();
    if (defaults || c->ssh_timeout != CFG_DEFAULT_SSH_TIMEOUT)
        json_object_set_new(ssh, "time-out", json_integer(c->ssh_timeout));
    if (defaults || c->ssh_retries != CFG_DEFAULT_SSH_RETRIES)
        json_object_set_new(ssh, "authentication-retries", json_integer(c->ssh_retries));
    if (defaults || c->ssh_version_set)   /* typed, it is shown, as show running-config does */
        json_object_set_new(ssh, "version", json_integer(c->ssh_version));
    if (c->n_pkusers > 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < c->n_pkusers; i++) {
            const struct cfg_pkuser *pu = &c->pkusers[i];
            json_t *keys = json_array();
            for (int j = 0; j < pu->nkeys; j++) {
                json_t *k = json_pack("{s:s,s:s}", "key-type", pu->keys[j].type,
                                      "key-hash-value", pu->keys[j].hash);
                if (pu->keys[j].comment[0])
                    json_object_set_new(k, "comment", json_string(pu->keys[j].comment));
                json_array_append_new(keys, k);
            }
            json_array_append_new(arr, json_pack("{s:s,s:o}", "name", pu->name, "key-hash", keys));
        }
        json_object_set_new(ssh, "pubkey-chain", json_pack("{s:o}", "username", arr));
    }
    if (json_object_size(ssh) > 0)
        json_object_set_new(ip, "ssh", ssh);
    else
        json_decref(ssh);
    if (c->scp_enable)
        json_object_set_new(ip, "scp", json_pack("{s:{s:[n]}}", "server", "enable"));
    if (json_object_size(ip) > 0)
        json_object_set_new(root, "ip", ip);
    else
        json_decref(ip);
    if (c->block_secs > 0)
        json_object_set_new(root, "login",
                            json_pack("{s:{s:i,s:i,s:i}}", "block-for", "seconds", c->block_secs,
                                      "attempts", c->block_attempts, "within", c->block_within));
    return root;
}

json_t *model_native_tree(const struct cfg *c, bool defaults)
{
    return native_tree(c, defaults);
}

/* ---- canonical tree -> config text ----------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;

    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p != NULL && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void methods_text(struct sbuf *b, json_t *entry)
{
    static const char *const slot[] = {"a1", "a2", "a3", "a4"};

    for (int i = 0; i < 4; i++) {
        json_t *m = json_object_get(entry, slot[i]);
        if (m == NULL)
            continue;
        /* a1..a4 hold one choice each (IOS: the method list in order) */
        if (json_object_get(m, "local"))
            sb_printf(b, " local");
        if (json_object_get(m, "none"))
            sb_printf(b, " none");
        if (json_object_get(m, "if-authenticated"))
            sb_printf(b, " if-authenticated");
        if (jstr(m, "group"))
            sb_printf(b, " group %s", jstr(m, "group"));
    }
}

/* The network-AAA lines of the tree (the inverse of na_json). */
static void na_text(struct sbuf *b, json_t *root)
{
    json_t *aaa = json_object_get(root, "aaa"), *v, *e, *m;
    size_t i, j;

    for (size_t k = 0; k < 2; k++) {
        v = json_object_get(json_object_get(json_object_get(aaa, "group"), "server"),
                            na_groups[k].json);
        json_array_foreach(v, i, e) {
            sb_printf(b, "aaa group server %s %s\n", na_groups[k].word, jstr(e, "name"));
            json_array_foreach(json_object_get(json_object_get(e, "server"), "name"), j, m)
                sb_printf(b, " server name %s\n", jstr(m, "name"));
            if ((m = json_object_get(e, "deadtime")) != NULL)
                sb_printf(b, " deadtime %lld\n", (long long)json_integer_value(m));
            sb_printf(b, " exit\n");
        }
    }
    for (int kind = CFG_ACCT_EXEC; kind <= CFG_ACCT_COMMANDS15; kind++) {
        v = json_object_get(json_object_get(aaa, "accounting"), na_acct[kind]);
        json_array_foreach(v, i, e) {
            sb_printf(b, "aaa accounting %s %s %s", kind == CFG_ACCT_EXEC ? "exec" : "commands 15",
                      jstr(e, "name"),
                      jstr(e, "action-type") ? jstr(e, "action-type") : "start-stop");
            for (j = 0; j < 4; j++)
                if (jstr(json_object_get(e, na_slot[j]), "group"))
                    sb_printf(b, " group %s", jstr(json_object_get(e, na_slot[j]), "group"));
            sb_printf(b, "\n");
        }
    }
    for (size_t k = 0; k < 2; k++) {
        v = json_object_get(json_object_get(root, na_kinds[k].json), "server");
        json_array_foreach(v, i, e) {
            sb_printf(b, "%s server %s\n", na_kinds[k].word, jstr(e, "name"));
            json_t *a = json_object_get(e, "address");
            const char *fam = jstr(a, "ipv6") ? "ipv6" : "ipv4";
            if (jstr(a, fam)) {
                sb_printf(b, " address %s %s", fam, jstr(a, fam));
                if ((m = json_object_get(a, "auth-port")) != NULL)
                    sb_printf(b, " auth-port %lld", (long long)json_integer_value(m));
                if ((m = json_object_get(a, "acct-port")) != NULL)
                    sb_printf(b, " acct-port %lld", (long long)json_integer_value(m));
                sb_printf(b, "\n");
            }
            json_t *key = json_object_get(e, "key");
            if (jstr(key, "key"))
                sb_printf(b, " key %s %s\n", jstr(key, "encryption") ? jstr(key, "encryption")
                                                                     : "0", jstr(key, "key"));
            for (size_t l = 0; l < sizeof na_leaves / sizeof *na_leaves; l++)
                if ((m = json_object_get(e, na_leaves[l].name)) != NULL)
                    sb_printf(b, " %s %lld\n", na_leaves[l].name,
                              (long long)json_integer_value(m));
            if (json_object_get(e, "single-connection"))
                sb_printf(b, " single-connection\n");
            sb_printf(b, " exit\n");
        }
    }
    json_t *rs = json_object_get(root, "radius-server"), *dc = json_object_get(rs, "dead-criteria");
    if (json_object_size(dc) > 0) {
        sb_printf(b, "radius-server dead-criteria");
        if ((m = json_object_get(dc, "time")) != NULL)
            sb_printf(b, " time %lld", (long long)json_integer_value(m));
        if ((m = json_object_get(dc, "tries")) != NULL)
            sb_printf(b, " tries %lld", (long long)json_integer_value(m));
        sb_printf(b, "\n");
    }
    if ((m = json_object_get(rs, "deadtime")) != NULL)
        sb_printf(b, "radius-server deadtime %lld\n", (long long)json_integer_value(m));
}

static char *tree_text(json_t *root, size_t *len)
{
    struct sbuf b = {0};
    json_t *v, *e;
    size_t i;

    if (jstr(root, "hostname"))
        sb_printf(&b, "hostname %s\n", jstr(root, "hostname"));
    json_t *aaa = json_object_get(root, "aaa");
    if (json_object_get(aaa, "new-model"))
        sb_printf(&b, "aaa new-model\n");
    v = json_object_get(json_object_get(aaa, "authentication"), "login");
    json_array_foreach(v, i, e) {
        sb_printf(&b, "aaa authentication login %s", jstr(e, "name"));
        methods_text(&b, e);
        sb_printf(&b, "\n");
    }
    v = json_object_get(json_object_get(aaa, "authorization"), "exec");
    json_array_foreach(v, i, e) {
        sb_printf(&b, "aaa authorization exec %s", jstr(e, "name"));
        methods_text(&b, e);
        sb_printf(&b, "\n");
    }
    v = json_object_get(root, "username");
    json_array_foreach(v, i, e) {
        json_t *pw = json_object_get(e, "password");
        json_t *sec = json_object_get(e, "secret");
        json_t *priv = json_object_get(e, "privilege");
        bool cred = (pw != NULL && jstr(pw, "password")) || (sec != NULL && jstr(sec, "secret"));
        sb_printf(&b, "username %s", jstr(e, "name"));
        /* `username NAME` alone is not a command: a user with neither password nor secret is
         * said with its privilege, the default one when the entry has none (DELETE of it) */
        if (priv != NULL)
            sb_printf(&b, " privilege %lld", (long long)json_integer_value(priv));
        else if (!cred)
            sb_printf(&b, " privilege %d", CFG_DEFAULT_PRIVILEGE);
        /* a password given now wins over the stored secret it replaces */
        if (pw != NULL && jstr(pw, "password"))
            sb_printf(&b, " password %s %s", jstr(pw, "encryption") ? jstr(pw, "encryption") : "0",
                      jstr(pw, "password"));
        else if (sec != NULL && jstr(sec, "secret"))
            sb_printf(&b, " secret %s %s", jstr(sec, "encryption") ? jstr(sec, "encryption") : "0",
                      jstr(sec, "secret"));
        sb_printf(&b, "\n");
    }
    json_t *ip = json_object_get(root, "ip");
    json_t *ssh = json_object_get(ip, "ssh");
    if ((v = json_object_get(ssh, "version")) != NULL)
        sb_printf(&b, "ip ssh version %lld\n", (long long)json_integer_value(v));
    if ((v = json_object_get(ssh, "time-out")) != NULL)
        sb_printf(&b, "ip ssh time-out %lld\n", (long long)json_integer_value(v));
    if ((v = json_object_get(ssh, "authentication-retries")) != NULL)
        sb_printf(&b, "ip ssh authentication-retries %lld\n", (long long)json_integer_value(v));
    v = json_object_get(json_object_get(ssh, "pubkey-chain"), "username");
    if (json_array_size(v) > 0) {
        sb_printf(&b, "ip ssh pubkey-chain\n");
        json_array_foreach(v, i, e) {
            size_t j;
            json_t *k;
            sb_printf(&b, " username %s\n", jstr(e, "name"));
            json_array_foreach(json_object_get(e, "key-hash"), j, k) {
                sb_printf(&b, "  key-hash %s %s%s%s\n", jstr(k, "key-type") ? jstr(k, "key-type")
                                                                           : "ssh-rsa",
                          jstr(k, "key-hash-value"), jstr(k, "comment") ? " " : "",
                          jstr(k, "comment") ? jstr(k, "comment") : "");
            }
            sb_printf(&b, "  exit\n");
        }
        sb_printf(&b, " exit\n");
    }
    if (json_object_get(json_object_get(json_object_get(ip, "scp"), "server"), "enable"))
        sb_printf(&b, "ip scp server enable\n");
    json_t *bf = json_object_get(json_object_get(root, "login"), "block-for");
    if (bf != NULL && json_object_size(bf) > 0) {
        sb_printf(&b, "login block-for %lld attempts %lld within %lld\n",
                  (long long)json_integer_value(json_object_get(bf, "seconds")),
                  (long long)json_integer_value(json_object_get(bf, "attempts")),
                  (long long)json_integer_value(json_object_get(bf, "within")));
    }
    na_text(&b, root);
    sb_printf(&b, "end\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

/* Checks what the text form cannot say: a key-hash without its value, a block-for without its
 * three numbers, a method slot with more than one method. */
static int tree_check(json_t *root, struct model_err *e)
{
    json_t *bf = json_object_get(json_object_get(root, "login"), "block-for");
    static const char *const lists[][2] = {{"authentication", "login"}, {"authorization", "exec"}};

    if (bf != NULL && json_object_size(bf) > 0 &&
        (!json_object_get(bf, "seconds") || !json_object_get(bf, "attempts") ||
         !json_object_get(bf, "within"))) {
        snprintf(e->path, sizeof e->path, "/login/block-for");
        return merr_set(e, "missing-element",
                        "login block-for needs seconds, attempts and within");
    }
    for (size_t k = 0; k < 2; k++) {
        json_t *arr = json_object_get(json_object_get(root, na_kinds[k].json), "server"), *ent;
        size_t i;
        json_array_foreach(arr, i, ent) {
            json_t *a = json_object_get(ent, "address");
            if (jstr(a, "ipv4") && jstr(a, "ipv6")) {
                snprintf(e->path, sizeof e->path, "/%s/server=%s/address", na_kinds[k].json,
                         jstr(ent, "name"));
                return merr_set(e, "invalid-value", "a server has one address: ipv4 or ipv6");
            }
        }
    }
    for (size_t l = 0; l < 2; l++) {
        json_t *arr = json_object_get(
            json_object_get(json_object_get(root, "aaa"), lists[l][0]), lists[l][1]);
        size_t i;
        json_t *ent;
        json_array_foreach(arr, i, ent) {
            const char *k;
            json_t *m;
            int nm = 0;
            json_object_foreach(ent, k, m) {
                if (strcmp(k, "name") == 0)
                    continue;
                nm++;
                if (json_object_size(m) != 1) {
                    snprintf(e->path, sizeof e->path, "/aaa/%s/%s=%s/%s", lists[l][0],
                             lists[l][1], jstr(ent, "name"), k);
                    return merr_set(e, "invalid-value",
                                    "method slot %s needs exactly one method", k);
                }
            }
            if (nm == 0) {
                snprintf(e->path, sizeof e->path, "/aaa/%s/%s=%s", lists[l][0], lists[l][1],
                         jstr(ent, "name"));
                return merr_set(e, "missing-element", "method list %s has no method (a1)",
                                jstr(ent, "name"));
            }
        }
    }
    return 0;
}

char *model_native_text(json_t *root, size_t *len, struct model_err *e)
{
    char *text;

    if (tree_check(root, e) < 0)
        return NULL;
    text = tree_text(root, len);
    if (text == NULL)
        merr_set(e, "operation-failed", "out of memory");
    return text;
}

/* The top-level config lines the native model holds (native_tree says them, tree_text writes
 * them), by their first words; a line of any other command, with its sub-mode lines, is outside
 * the model and carried over by model_native_cfg. A command given a YANG node moves here. */
static const char *const model_owned[] = {
    "hostname ", "username ", "aaa new-model", "aaa authentication login ",
    "aaa authorization exec ", "ip ssh version ", "ip ssh time-out ",
    "ip ssh authentication-retries ", "ip ssh pubkey-chain", "ip scp server enable",
    "login block-for ", "tacacs server ", "radius server ", "aaa group server ",
    "aaa accounting exec ", "aaa accounting commands ", "radius-server dead-criteria",
    "radius-server deadtime ", "end",
};

static bool owned(const char *line, size_t len)
{
    for (size_t i = 0; i < sizeof model_owned / sizeof model_owned[0]; i++) {
        size_t n = strlen(model_owned[i]);
        if (len >= n && memcmp(line, model_owned[i], n) == 0 &&
            (model_owned[i][n - 1] == ' ' || len == n || line[n] == ' '))
            return true;
    }
    return false;
}

char *model_native_unmodelled(const char *rendered)
{
    struct sbuf b = {0};
    bool keep = false;

    sb_printf(&b, "%s", "");
    for (const char *p = rendered; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0 && p[0] == '!')
            keep = false;              /* a comment ends a block in IOS's rendering */
        else if (len > 0 && p[0] != ' ')
            keep = !owned(p, len);     /* a top-level line starts a block */
        if (keep && len > 0)
            sb_printf(&b, "%.*s\n", (int)len, p);
        p += len + (nl != NULL);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

struct cfg *model_native_cfg(json_t *root, const struct cfg *base, struct model_err *e)
{
    struct cfg_errors *errs = NULL;
    struct cfg *next = NULL;
    size_t len = 0;
    char *text;

    model_prune(root);
    text = model_native_text(root, &len, e);
    if (text == NULL)
        return NULL;
    if (base != NULL) {
        /* the lines outside the model go before the "end" the tree's text closes with */
        struct cfg_render_opts ro = {0};
        char *rendered = cfg_render(base, &ro, NULL);
        char *keep = rendered ? model_native_unmodelled(rendered) : NULL;
        free(rendered);
        if (keep == NULL) {
            explicit_bzero(text, len);
            free(text);
            merr_set(e, "operation-failed", "out of memory");
            return NULL;
        }
        size_t klen = strlen(keep);
        char *both = klen ? malloc(len + klen + 1) : NULL;
        if (klen && both != NULL && len >= 4) {
            memcpy(both, text, len - 4);                 /* without "end\n" */
            memcpy(both + len - 4, keep, klen);
            memcpy(both + len - 4 + klen, "end\n", 5);
            explicit_bzero(text, len);
            free(text);
            text = both;
            len += klen;
        } else if (klen) {
            free(both);
            explicit_bzero(keep, klen);
            free(keep);
            explicit_bzero(text, len);
            free(text);
            merr_set(e, "operation-failed", "out of memory");
            return NULL;
        }
        explicit_bzero(keep, klen);
        free(keep);
    }
    /* the text this tree became is bounded as any config text (cfg_apply_text takes any length) */
    if (len > LIM_CONFIG_FILE_BYTES) {
        merr_set(e, "too-big", "the configuration is %zu bytes as config text, larger than the "
                 "limit of %u bytes", len, (unsigned)LIM_CONFIG_FILE_BYTES);
        goto out;
    }
    errs = calloc(1, sizeof *errs);
    if (errs == NULL) {
        merr_set(e, "operation-failed", "out of memory");
        goto out;
    }
    next = cfg_apply_text(base, text, len, CFG_REPLACE, errs);   /* base: same secrets kept */
    if (next == NULL) {
        /* the parser's reason, naming the config line the data became (secrets masked there) */
        if (errs->n > 0)
            merr_set(e, "invalid-value", "%s (in \"%s\")", errs->e[0].reason, errs->e[0].text);
        else
            merr_set(e, "invalid-value", "invalid configuration");
    }
out:
    free(errs);
    explicit_bzero(text, len);   /* password 0 lines */
    free(text);
    return next;
}

/* ---- tree operations ------------------------------------------------------------------------- */

static json_t *qualify_obj(const struct lysc_node *n, json_t *v)
{
    const char *mod = model_module(n);
    json_t *o = json_object();
    const char *k;
    json_t *c;

    json_object_foreach(v, k, c) {
        const struct lysc_node *kid = model_child(n, NULL, 0, k, strlen(k));
        if (kid == NULL)
            continue;
        char name[128];
        if (strcmp(model_module(kid), mod) != 0)
            snprintf(name, sizeof name, "%s:%s", model_module(kid), k);
        else
            snprintf(name, sizeof name, "%s", k);
        json_object_set_new(o, name, model_qualify(kid, c));
    }
    return o;
}

json_t *model_qualify(const struct lysc_node *n, json_t *v)
{
    if (json_is_object(v))
        return qualify_obj(n, v);
    if (model_kind(n) == MODEL_LIST && json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) json_array_append_new(a, qualify_obj(n, e));
        return a;
    }
    return json_incref(v);
}

json_t *model_list_entry(json_t *arr, const char *key, const char *kv, size_t *idx)
{
    size_t i;
    json_t *e;

    json_array_foreach(arr, i, e) {
        const char *v = json_string_value(json_object_get(e, key));
        if (v != NULL && kv != NULL && strcmp(v, kv) == 0) {
            if (idx)
                *idx = i;
            return e;
        }
    }
    return NULL;
}

void model_prune(json_t *v)
{
    const char *k;
    json_t *c;
    void *tmp;

    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, k, c) {
            model_prune(c);
            if ((json_is_object(c) && json_object_size(c) == 0) ||
                (json_is_array(c) && json_array_size(c) == 0))
                json_object_del(v, k);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_array_foreach(v, i, c) model_prune(c);
    }
}

void model_merge(const struct lysc_node *n, json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;

    json_object_foreach(src, k, v) {
        const struct lysc_node *kid = model_child(n, NULL, 0, k, strlen(k));
        json_t *d = json_object_get(dst, k);
        if (kid == NULL)
            continue;
        if (model_kind(kid) == MODEL_CONT && json_is_object(d)) {
            model_merge(kid, d, v);
        } else if (model_kind(kid) == MODEL_LIST && json_is_array(d)) {
            const char *key = model_key(kid);
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                json_t *old = model_list_entry(d, key, jstr(e, key), NULL);
                if (old != NULL)
                    model_merge(kid, old, e);
                else
                    json_array_append(d, e);
            }
        } else {
            json_object_set(dst, k, v);
        }
    }
}

/* ---- libyang data trees (XML) ---------------------------------------------------------------- */

static int ly_fail(struct model_err *e, const char *tag)
{
    const struct ly_ctx *ctx = model_ctx();
    const char *msg = ctx ? ly_errmsg(ctx) : NULL;
    const char *path = ctx ? ly_errpath(ctx) : NULL;

    snprintf(e->path, sizeof e->path, "%s", path ? path : "");
    if (tag == NULL) {
        tag = "invalid-value";
        if (ctx != NULL && ly_vecode(ctx) == LYVE_SYNTAX_XML)
            tag = "malformed-message";
        else if (msg != NULL && (strstr(msg, "not found") || strstr(msg, "Unknown element") ||
                                 strstr(msg, "not implemented") || strstr(msg, "No module")))
            tag = "unknown-element";
    }
    char leaf[64];
    merr_set(e, tag, "%s", msg ? msg : "invalid data");
    hide_quoted(e->msg, sizeof e->msg, path_leaf(path, leaf, sizeof leaf));
    return -1;
}

int model_native_lyd(json_t *root, struct lyd_node **tree, struct model_err *e)
{
    const struct ly_ctx *ctx = model_ctx();
    const struct lysc_node *n = model_native_root();
    json_t *doc;
    char *s;
    LY_ERR rc;

    *tree = NULL;
    if (ctx == NULL || n == NULL)
        return merr_set(e, "operation-failed", "the YANG model is not loaded");
    doc = json_pack("{s:o}", MODEL_NATIVE ":native", model_qualify(n, root));
    s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (s == NULL)
        return merr_set(e, "operation-failed", "out of memory");
    rc = lyd_parse_data_mem(ctx, s, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, tree);
    explicit_bzero(s, strlen(s));
    free(s);
    return rc == LY_SUCCESS ? 0 : ly_fail(e, "operation-failed");
}

int model_native_from_xml(const char *xml, json_t **out, struct model_err *e)
{
    const struct ly_ctx *ctx = model_ctx();
    struct lyd_node *tree = NULL;
    char *json = NULL;
    json_t *doc = NULL, *body;
    json_error_t je;
    char path[256] = "";
    int rc = -1;

    *out = NULL;
    if (ctx == NULL)
        return merr_set(e, "operation-failed", "the YANG model is not loaded");
    if (lyd_parse_data_mem(ctx, xml, LYD_XML,
                           LYD_PARSE_ONLY | LYD_PARSE_STRICT | LYD_PARSE_NO_STATE, 0,
                           &tree) != LY_SUCCESS)
        return ly_fail(e, NULL);
    for (struct lyd_node *t = tree; t != NULL; t = t->next) {
        if (t->schema != model_native_root()) {
            snprintf(e->path, sizeof e->path, "/%s:%s", t->schema->module->name, t->schema->name);
            merr_set(e, "unknown-element", "%s:%s is not configuration this server holds",
                     t->schema->module->name, t->schema->name);
            goto out;
        }
    }
    if (tree == NULL) {
        *out = json_object();
        return 0;
    }
    if (lyd_print_mem(&json, tree, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK) !=
            LY_SUCCESS ||
        (doc = json_loads(json, JSON_REJECT_DUPLICATES, &je)) == NULL) {
        merr_set(e, "operation-failed", "cannot convert the data");
        goto out;
    }
    body = json_object_get(doc, MODEL_NATIVE ":native");
    if (body == NULL)
        *out = json_object();
    else if (model_norm(model_native_root(), body, out, path, sizeof path, e) < 0)
        goto out;
    rc = 0;
out:
    if (json != NULL) {
        explicit_bzero(json, strlen(json));
        free(json);
    }
    json_decref(doc);
    lyd_free_all(tree);
    return rc;
}
