/* api_native: /restconf/data/Cisco-IOS-XE-native:native and its subpaths, and the datastores.
 *
 * The JSON side is Cisco's IOS XE native model (Cisco-IOS-XE-native.yang with the aaa subtree of
 * Cisco-IOS-XE-aaa.yang), restricted to what scpd configures. One schema table (nn_* below)
 * describes that subset; it drives input validation (types, unknown members, duplicate keys),
 * path resolution, output qualification (RFC 7951 module prefixes) and the translation to config
 * lines. There is no second model: every request is
 *     running cfg -> JSON tree -> edit the tree (PUT/PATCH/POST/DELETE of RFC 8040)
 *                 -> config text -> cfg_apply_text(replace) -> store_commit(If-Match version)
 * so the config language's one parser validates every value (ranges, names, secrets are hashed
 * there) and a request is one commit, all or nothing. A GET never sees anything but hashes: the
 * tree is built from the model, which holds only hashes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_route.h"
#include "store/cfg.h"
#include "base/lim.h"
#include "base/scpd.h"
#include "services/stats.h"
#include "store/store.h"

#include <openssl/sha.h>

#define MOD_NATIVE "Cisco-IOS-XE-native"
#define API_WRITE_RETRIES 8   /* recomputations of a write that lost a race (no If-Match) */
#define MOD_AAA "Cisco-IOS-XE-aaa"

/* ---- the schema subset ------------------------------------------------------------------------ */

enum nk { NK_CONT, NK_LIST, NK_STR, NK_INT, NK_EMPTY, NK_ENUM };

struct nnode {
    const char *name;
    const char *module;              /* NULL: the parent's */
    enum nk kind;
    long min, max;                   /* NK_INT: the YANG type's range; NK_STR: max length */
    const char *const *enums;        /* NK_ENUM */
    const struct nnode *kids;        /* NK_CONT / NK_LIST: terminated by name NULL */
    const char *key;                 /* NK_LIST */
    bool spaces;                     /* NK_STR: may contain spaces (comments) */
};

#define LEAF_STR(n, len) {n, NULL, NK_STR, 1, len, NULL, NULL, NULL, false}
#define LEAF_INT(n, lo, hi) {n, NULL, NK_INT, lo, hi, NULL, NULL, NULL, false}
#define LEAF_EMPTY(n) {n, NULL, NK_EMPTY, 0, 0, NULL, NULL, NULL, false}
#define LEAF_ENUM(n, e) {n, NULL, NK_ENUM, 0, 0, e, NULL, NULL, false}
#define CONT(n, k) {n, NULL, NK_CONT, 0, 0, NULL, k, NULL, false}
#define LIST(n, k, key) {n, NULL, NK_LIST, 0, 0, NULL, k, key, false}
#define END {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, false}

static const char *const enc_password[] = {"0", "7", NULL};
static const char *const enc_secret[] = {"0", "5", "8", "9", NULL};

static const struct nnode nn_password[] = {
    LEAF_ENUM("encryption", enc_password), LEAF_STR("password", LIM_PASSWORD_LEN), END};
static const struct nnode nn_secret[] = {
    LEAF_ENUM("encryption", enc_secret), LEAF_STR("secret", 159), END};
static const struct nnode nn_username[] = {
    LEAF_STR("name", CFG_NAME_MAX - 1), LEAF_INT("privilege", 0, 255),
    CONT("password", nn_password), CONT("secret", nn_secret), END};

/* one method of a list: a1..a4 hold exactly one of these */
static const struct nnode nn_authn_method[] = {
    LEAF_EMPTY("local"), LEAF_EMPTY("none"), LEAF_STR("group", CFG_NAME_MAX - 1), END};
static const struct nnode nn_authz_method[] = {
    LEAF_EMPTY("local"), LEAF_EMPTY("none"), LEAF_EMPTY("if-authenticated"),
    LEAF_STR("group", CFG_NAME_MAX - 1), END};
static const struct nnode nn_login_list[] = {
    LEAF_STR("name", CFG_NAME_MAX - 1), CONT("a1", nn_authn_method), CONT("a2", nn_authn_method),
    CONT("a3", nn_authn_method), CONT("a4", nn_authn_method), END};
static const struct nnode nn_exec_list[] = {
    LEAF_STR("name", CFG_NAME_MAX - 1), CONT("a1", nn_authz_method), CONT("a2", nn_authz_method),
    CONT("a3", nn_authz_method), CONT("a4", nn_authz_method), END};
static const struct nnode nn_authentication[] = {LIST("login", nn_login_list, "name"), END};
static const struct nnode nn_authorization[] = {LIST("exec", nn_exec_list, "name"), END};
static const struct nnode nn_aaa[] = {
    {"new-model", MOD_AAA, NK_EMPTY, 0, 0, NULL, NULL, NULL, false},
    {"authentication", MOD_AAA, NK_CONT, 0, 0, NULL, nn_authentication, NULL, false},
    {"authorization", MOD_AAA, NK_CONT, 0, 0, NULL, nn_authorization, NULL, false},
    END};

static const struct nnode nn_key_hash[] = {
    LEAF_STR("key-type", 31), LEAF_STR("key-hash-value", 63),
    {"comment", NULL, NK_STR, 1, 127, NULL, NULL, NULL, true}, END};
static const struct nnode nn_pk_user[] = {
    LEAF_STR("name", CFG_NAME_MAX - 1), LIST("key-hash", nn_key_hash, "key-hash-value"), END};
static const struct nnode nn_pubkey_chain[] = {LIST("username", nn_pk_user, "name"), END};
static const struct nnode nn_ssh[] = {
    LEAF_INT("time-out", 0, 65535), LEAF_INT("authentication-retries", 0, 255),
    LEAF_INT("version", 0, 255), CONT("pubkey-chain", nn_pubkey_chain), END};
static const struct nnode nn_scp_server[] = {LEAF_EMPTY("enable"), END};
static const struct nnode nn_scp[] = {CONT("server", nn_scp_server), END};
static const struct nnode nn_ip[] = {CONT("ssh", nn_ssh), CONT("scp", nn_scp), END};
static const struct nnode nn_block_for[] = {
    LEAF_INT("seconds", 0, 65535), LEAF_INT("attempts", 0, 65535), LEAF_INT("within", 0, 65535),
    END};
static const struct nnode nn_login[] = {CONT("block-for", nn_block_for), END};
static const struct nnode nn_native_kids[] = {
    LEAF_STR("hostname", CFG_NAME_MAX - 1), LIST("username", nn_username, "name"),
    CONT("aaa", nn_aaa), CONT("ip", nn_ip), CONT("login", nn_login), END};
static const struct nnode nn_native = {"native", MOD_NATIVE, NK_CONT, 0, 0, NULL,
                                       nn_native_kids, NULL, false};

static const char *mod_of(const struct nnode *n, const char *parent_mod)
{
    return n->module ? n->module : parent_mod;
}

static const struct nnode *kid_find(const struct nnode *parent, const char *name, size_t len)
{
    for (const struct nnode *k = parent->kids; k != NULL && k->name != NULL; k++)
        if (strlen(k->name) == len && memcmp(k->name, name, len) == 0)
            return k;
    return NULL;
}

/* Splits "mod:name" -> kid of parent; checks the module when given. */
static const struct nnode *kid_lookup(const struct nnode *parent, const char *parent_mod,
                                      const char *qname)
{
    const char *colon = strchr(qname, ':');
    const char *name = colon ? colon + 1 : qname;
    const struct nnode *k = kid_find(parent, name, strlen(name));

    if (k == NULL)
        return NULL;
    if (colon != NULL) {
        const char *m = mod_of(k, parent_mod);
        if (strlen(m) != (size_t)(colon - qname) || memcmp(m, qname, (size_t)(colon - qname)))
            return NULL;
    }
    return k;
}

/* ---- errors of a request ---------------------------------------------------------------------- */

struct nerr {
    int status;
    const char *type;   /* NULL: "protocol" for 405, else "application" */
    const char *tag;
    char path[256];
    char msg[512];
};

__attribute__((format(printf, 4, 5))) static int nerr_set(struct nerr *e, int status,
                                                          const char *tag, const char *fmt, ...)
{
    va_list ap;

    e->status = status;
    e->tag = tag;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int nerr_send(struct api_resp *resp, const struct nerr *e)
{
    const char *type = e->type ? e->type : e->status == 405 ? "protocol" : "application";
    return api_error(resp, e->status, type, e->tag,
                     e->path[0] ? e->path : NULL, "%s", e->msg);
}

/* ---- input validation: JSON -> canonical tree (unqualified names) ---------------------------- */

static int norm(const struct nnode *n, const char *mod, json_t *in, json_t **out, char *path,
                size_t pcap, struct nerr *e);

static void path_push(char *path, size_t cap, const char *seg, size_t *saved)
{
    *saved = strlen(path);
    size_t len = *saved;
    snprintf(path + len, cap - len, "/%s", seg);
}

static bool str_ok(const struct nnode *n, const char *s, const char **why)
{
    size_t len = strlen(s);

    if (len < (size_t)n->min) {
        *why = "must not be empty";
        return false;
    }
    if (len > (size_t)n->max) {
        *why = "too long";
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            *why = "contains a control character";
            return false;
        }
        if (*p == ' ' && !n->spaces) {
            *why = "contains a space";
            return false;
        }
    }
    return true;
}

static int norm_container(const struct nnode *n, const char *mod, json_t *in, json_t **out,
                          char *path, size_t pcap, struct nerr *e)
{
    const char *k;
    json_t *v;
    json_t *o;

    if (!json_is_object(in)) {
        snprintf(e->path, sizeof e->path, "%s", path);
        return nerr_set(e, 400, "invalid-value", "%s must be a JSON object", path);
    }
    o = json_object();
    json_object_foreach(in, k, v) {
        const struct nnode *kid = kid_lookup(n, mod, k);
        size_t saved;
        path_push(path, pcap, k, &saved);
        if (kid == NULL) {
            snprintf(e->path, sizeof e->path, "%s", path);
            nerr_set(e, 400, "unknown-element", "unknown element %s in %s", k,
                     saved ? "this container" : "the body");
            json_decref(o);
            return -1;
        }
        if (json_object_get(o, kid->name) != NULL) {
            snprintf(e->path, sizeof e->path, "%s", path);
            nerr_set(e, 400, "invalid-value", "element %s given twice", kid->name);
            json_decref(o);
            return -1;
        }
        json_t *nv = NULL;
        if (norm(kid, mod_of(kid, mod), v, &nv, path, pcap, e) < 0) {
            json_decref(o);
            return -1;
        }
        json_object_set_new(o, kid->name, nv);
        path[saved] = '\0';
    }
    *out = o;
    return 0;
}

static int norm(const struct nnode *n, const char *mod, json_t *in, json_t **out, char *path,
                size_t pcap, struct nerr *e)
{
    const char *why = NULL;

    switch (n->kind) {
    case NK_CONT:
        return norm_container(n, mod, in, out, path, pcap, e);
    case NK_LIST: {
        if (!json_is_array(in)) {
            snprintf(e->path, sizeof e->path, "%s", path);
            return nerr_set(e, 400, "invalid-value", "%s is a list: give a JSON array", path);
        }
        json_t *arr = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(in, i, v) {
            json_t *ne = NULL;
            if (norm_container(n, mod, v, &ne, path, pcap, e) < 0) {
                json_decref(arr);
                return -1;
            }
            json_t *key = json_object_get(ne, n->key);
            if (!json_is_string(key)) {
                json_decref(ne);
                json_decref(arr);
                snprintf(e->path, sizeof e->path, "%s", path);
                return nerr_set(e, 400, "missing-element", "an entry of %s lacks its key %s",
                                path, n->key);
            }
            size_t j;
            json_t *prev;
            json_array_foreach(arr, j, prev) {
                if (strcmp(json_string_value(json_object_get(prev, n->key)),
                           json_string_value(key)) == 0) {
                    snprintf(e->path, sizeof e->path, "%s", path);
                    nerr_set(e, 400, "invalid-value", "duplicate entry %s=%s in %s", n->key,
                             json_string_value(key), path);
                    json_decref(ne);
                    json_decref(arr);
                    return -1;
                }
            }
            json_array_append_new(arr, ne);
        }
        *out = arr;
        return 0;
    }
    case NK_STR:
        if (!json_is_string(in)) {
            snprintf(e->path, sizeof e->path, "%s", path);
            return nerr_set(e, 400, "invalid-value", "%s must be a string", path);
        }
        if (!str_ok(n, json_string_value(in), &why)) {
            snprintf(e->path, sizeof e->path, "%s", path);
            return nerr_set(e, 400, "invalid-value", "%s: value %s", path, why);
        }
        *out = json_incref(in);
        return 0;
    case NK_INT:
        if (!json_is_integer(in)) {
            snprintf(e->path, sizeof e->path, "%s", path);
            return nerr_set(e, 400, "invalid-value", "%s must be an integer", path);
        }
        if (json_integer_value(in) < n->min || json_integer_value(in) > n->max) {
            snprintf(e->path, sizeof e->path, "%s", path);
            return nerr_set(e, 400, "invalid-value", "%s: %lld is out of range %ld-%ld", path,
                            (long long)json_integer_value(in), n->min, n->max);
        }
        *out = json_incref(in);
        return 0;
    case NK_EMPTY:
        if (!json_is_array(in) || json_array_size(in) != 1 ||
            !json_is_null(json_array_get(in, 0))) {
            snprintf(e->path, sizeof e->path, "%s", path);
            return nerr_set(e, 400, "invalid-value",
                            "%s is an empty leaf: its only value is [null]", path);
        }
        *out = json_pack("[n]");
        return 0;
    case NK_ENUM:
        if (json_is_string(in)) {
            for (const char *const *p = n->enums; *p; p++)
                if (strcmp(*p, json_string_value(in)) == 0) {
                    *out = json_incref(in);
                    return 0;
                }
        }
        snprintf(e->path, sizeof e->path, "%s", path);
        return nerr_set(e, 400, "invalid-value", "%s must be one of the strings %s%s%s%s%s%s%s",
                        path, n->enums[0], n->enums[1] ? ", " : "",
                        n->enums[1] ? n->enums[1] : "", n->enums[1] && n->enums[2] ? ", " : "",
                        n->enums[1] && n->enums[2] ? n->enums[2] : "",
                        n->enums[1] && n->enums[2] && n->enums[3] ? ", " : "",
                        n->enums[1] && n->enums[2] && n->enums[3] ? n->enums[3] : "");
    }
    return nerr_set(e, 500, "operation-failed", "schema error");
}

/* ---- cfg -> canonical tree -------------------------------------------------------------------- */

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

static json_t *cfg_tree(const struct cfg *c, bool defaults)
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
    if (defaults)
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

/* ---- canonical tree -> config text ------------------------------------------------------------ */

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
static int tree_check(json_t *root, struct nerr *e)
{
    json_t *bf = json_object_get(json_object_get(root, "login"), "block-for");
    static const char *const lists[][2] = {{"authentication", "login"}, {"authorization", "exec"}};

    if (bf != NULL && json_object_size(bf) > 0 &&
        (!json_object_get(bf, "seconds") || !json_object_get(bf, "attempts") ||
         !json_object_get(bf, "within"))) {
        snprintf(e->path, sizeof e->path, "/login/block-for");
        return nerr_set(e, 400, "missing-element",
                        "login block-for needs seconds, attempts and within");
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
                    return nerr_set(e, 400, "invalid-value",
                                    "method slot %s needs exactly one method", k);
                }
            }
            if (nm == 0) {
                snprintf(e->path, sizeof e->path, "/aaa/%s/%s=%s", lists[l][0], lists[l][1],
                         jstr(ent, "name"));
                return nerr_set(e, 400, "missing-element", "method list %s has no method (a1)",
                                jstr(ent, "name"));
            }
        }
    }
    return 0;
}

/* ---- qualified output (RFC 7951 section 4) ---------------------------------------------------- */

static json_t *qualify(const struct nnode *n, const char *mod, json_t *v)
{
    if (n->kind == NK_CONT && json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c) {
            const struct nnode *kid = kid_find(n, k, strlen(k));
            if (kid == NULL)
                continue;
            const char *km = mod_of(kid, mod);
            char name[128];
            if (strcmp(km, mod) != 0)
                snprintf(name, sizeof name, "%s:%s", km, k);
            else
                snprintf(name, sizeof name, "%s", k);
            json_object_set_new(o, name, qualify(kid, km, c));
        }
        return o;
    }
    if (n->kind == NK_LIST && json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *e;
        struct nnode entry = *n;
        entry.kind = NK_CONT;
        json_array_foreach(v, i, e) json_array_append_new(a, qualify(&entry, mod, e));
        return a;
    }
    return json_incref(v);
}

/* ---- paths ------------------------------------------------------------------------------------ */

struct step {
    const struct nnode *n;
    const char *mod;
    char *key;          /* list entry key (decoded), NULL for the whole list */
};

#define MAX_STEPS 10

struct npath {
    int n;
    struct step s[MAX_STEPS];
};

static void npath_free(struct npath *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->s[i].key);
}

/* Resolves the request's path tail (after .../native) into schema steps. */
static int resolve(const struct api_req *r, struct npath *p, struct nerr *e)
{
    const struct nnode *cur = &nn_native;
    const char *mod = MOD_NATIVE;

    p->n = 0;
    for (int i = 0; i < api_rest_count(r); i++) {
        const char *seg = api_rest(r, i);
        const char *eq = strchr(seg, '=');
        char qname[128];
        size_t nlen = eq ? (size_t)(eq - seg) : strlen(seg);
        bool in_entry = p->n > 0 && p->s[p->n - 1].key != NULL;
        if (nlen >= sizeof qname || p->n >= MAX_STEPS || (cur->kind != NK_CONT && !in_entry))
            goto unknown;
        memcpy(qname, seg, nlen);
        qname[nlen] = '\0';
        const struct nnode *kid = kid_lookup(cur, mod, qname);
        if (kid == NULL)
            goto unknown;
        struct step *st = &p->s[p->n++];
        st->n = kid;
        st->mod = mod_of(kid, mod);
        st->key = NULL;
        if (eq != NULL) {
            if (kid->kind != NK_LIST || eq[1] == '\0' || strchr(eq + 1, ',') != NULL) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                return nerr_set(e, 400, "invalid-value",
                                "%s: a key is given only for a list (one key: name)", seg);
            }
            st->key = strdup(eq + 1);
            /* below a list entry the children are the entry's */
            cur = kid;
            mod = st->mod;
            continue;
        }
        if (kid->kind == NK_LIST && i + 1 < api_rest_count(r)) {
            snprintf(e->path, sizeof e->path, "%s", r->path);
            return nerr_set(e, 400, "invalid-value", "%s is a list: name an entry with %s=KEY",
                            qname, qname);
        }
        cur = kid;
        mod = st->mod;
    }
    return 0;
unknown:
    snprintf(e->path, sizeof e->path, "%s", r->path);
    return nerr_set(e, 404, "invalid-value", "no such resource: %s", r->path);
}

static json_t *list_entry(json_t *arr, const char *key, const char *kv, size_t *idx)
{
    size_t i;
    json_t *e;

    json_array_foreach(arr, i, e) {
        if (jstr(e, key) && strcmp(jstr(e, key), kv) == 0) {
            if (idx)
                *idx = i;
            return e;
        }
    }
    return NULL;
}

/* POST of list entries: appends val's entries to parent's list n (made if missing); an entry
 * whose key exists already is a 409 whose error-path is at=KEY. */
static int list_add_new(json_t *parent, const struct nnode *n, json_t *val, const char *at,
                        struct nerr *e)
{
    json_t *arr = parent != NULL ? json_object_get(parent, n->name) : NULL;
    size_t i;
    json_t *ent;

    if (parent == NULL)
        return nerr_set(e, 404, "invalid-value", "the parent of %s does not exist", at);
    if (arr == NULL) {
        arr = json_array();
        json_object_set_new(parent, n->name, arr);
    }
    json_array_foreach(val, i, ent) {
        const char *key = jstr(ent, n->key);
        if (list_entry(arr, n->key, key, NULL) != NULL) {
            snprintf(e->path, sizeof e->path, "%s=%s", at, key);
            return nerr_set(e, 409, "data-exists", "%s %s already exists", n->name, key);
        }
        json_array_append(arr, ent);
    }
    return 0;
}

/* Node at step k (0..n-1) of the tree, or NULL. With create, containers on the way are made. */
static json_t *tree_at(json_t *root, const struct npath *p, int upto, bool create)
{
    json_t *cur = root;

    for (int i = 0; i < upto && cur != NULL; i++) {
        const struct step *st = &p->s[i];
        json_t *next = json_object_get(cur, st->n->name);
        if (next == NULL && create && st->n->kind == NK_CONT) {
            next = json_object();
            json_object_set_new(cur, st->n->name, next);
        }
        if (next == NULL && create && st->n->kind == NK_LIST) {
            next = json_array();
            json_object_set_new(cur, st->n->name, next);
        }
        if (st->key != NULL)
            next = list_entry(next, st->n->key, st->key, NULL);
        cur = next;
    }
    return cur;
}

/* Removes empty containers and lists so "exists" means "has content" (non-presence containers). */
static void prune(json_t *v)
{
    const char *k;
    json_t *c;
    void *tmp;

    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, k, c) {
            prune(c);
            if ((json_is_object(c) && json_object_size(c) == 0) ||
                (json_is_array(c) && json_array_size(c) == 0))
                json_object_del(v, k);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_array_foreach(v, i, c) prune(c);
    }
}

/* RFC 7386-like merge following the schema: containers merge member-wise, lists merge by key,
 * leaves are replaced. */
static void merge(const struct nnode *n, json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;

    json_object_foreach(src, k, v) {
        const struct nnode *kid = kid_find(n, k, strlen(k));
        json_t *d = json_object_get(dst, k);
        if (kid == NULL)
            continue;
        if (kid->kind == NK_CONT && json_is_object(d)) {
            merge(kid, d, v);
        } else if (kid->kind == NK_LIST && json_is_array(d)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                json_t *old = list_entry(d, kid->key, jstr(e, kid->key), NULL);
                if (old != NULL)
                    merge(kid, old, e);
                else
                    json_array_append(d, e);
            }
        } else {
            json_object_set(dst, k, v);
        }
    }
}

/* ---- query parameters on output --------------------------------------------------------------- */

static int query_depth(const struct api_req *r, int *depth, struct nerr *e)
{
    const char *d = api_query(r, "depth");
    char *end;

    *depth = 0;
    if (d == NULL || strcmp(d, "unbounded") == 0)
        return 0;
    errno = 0;
    long v = strtol(d, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
        return nerr_set(e, 400, "invalid-value",
                        "depth must be 1-65535 or unbounded (got %s)", d);
    *depth = (int)v;
    return 0;
}

static void apply_depth(json_t *v, int level, int depth)
{
    const char *k;
    json_t *c;
    void *tmp;

    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, k, c) {
            if (level + 1 > depth)
                json_object_del(v, k);
            else
                apply_depth(c, level + 1, depth);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_array_foreach(v, i, c) apply_depth(c, level, depth);
    }
}

/* fields=a;b/c(d;e) (RFC 8040 section 4.8.3): keeps the named descendants of the target (and
 * list keys). Names may carry module prefixes. */
static json_t *select_fields(const struct nnode *n, json_t *v, const char *fields, struct nerr *e);

/* What the fields selection of node n starts from for its value v: an empty object, or for a list
 * one entry per element holding only its key (so the selected members land in the right entry). */
static json_t *fields_skeleton(const struct nnode *n, json_t *v)
{
    if (!json_is_array(v))
        return json_object();
    json_t *out = json_array();
    size_t i;
    json_t *ent;
    json_array_foreach(v, i, ent)
        json_array_append_new(out, n->key ? json_pack("{s:O}", n->key, json_object_get(ent, n->key))
                                          : json_object());
    return out;
}

static int keep_path(const struct nnode *n, json_t *src, json_t *dst, const char *path,
                     struct nerr *e)
{
    const char *slash = strchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : strlen(path);
    const char *colon = memchr(path, ':', len);
    const char *name = colon ? colon + 1 : path;
    size_t nlen = len - (size_t)(name - path);

    if (json_is_array(src)) {
        size_t i;
        json_t *ent;
        json_array_foreach(src, i, ent) {
            json_t *de = json_array_get(dst, i);
            if (keep_path(n, ent, de, path, e) < 0)
                return -1;
        }
        return 0;
    }
    const struct nnode *kid = kid_find(n, name, nlen);
    if (kid == NULL || !json_is_object(src)) {
        char buf[128];
        snprintf(buf, sizeof buf, "%.*s", (int)len, path);
        return nerr_set(e, 400, "invalid-value", "fields: unknown element %s", buf);
    }
    json_t *c = json_object_get(src, kid->name);
    if (c == NULL)
        return 0;
    if (slash == NULL) {
        json_object_set(dst, kid->name, c);
        return 0;
    }
    json_t *dc = json_object_get(dst, kid->name);
    if (dc == NULL) {
        dc = fields_skeleton(kid, c);
        json_object_set_new(dst, kid->name, dc);
    }
    return keep_path(kid, c, dc, slash + 1, e);
}

/* Expands one fields-expr (RFC 8040 section 4.8.3: path "(" fields-expr ")" / path ";" fields-expr
 * / path) into flat paths, each appended to out as a NUL-terminated string under prefix. *pos
 * walks expr; parsing stops at an unmatched ')' (for the caller) or the end. -1 on a syntax
 * error or when the expansion outgrows out. */
struct fields_out {
    char *buf;
    size_t len, cap;
};

static int fields_expand(const char *expr, size_t *pos, const char *prefix, size_t plen, int depth,
                         struct fields_out *out)
{
    if (depth > LIM_API_FIELDS_DEPTH)
        return -1;
    for (;;) {
        size_t start = *pos;
        while (expr[*pos] != '\0' && strchr(";()", expr[*pos]) == NULL)
            (*pos)++;
        size_t len = *pos - start;
        if (len == 0 || expr[start] == '/' || expr[*pos - 1] == '/' ||
            plen + len + 2 > LIM_API_FIELDS_LEN)
            return -1;
        char path[LIM_API_FIELDS_LEN];
        memcpy(path, prefix, plen);
        memcpy(path + plen, expr + start, len);
        size_t full = plen + len;
        path[full] = '\0';
        if (expr[*pos] == '(') {
            (*pos)++;
            path[full++] = '/';
            if (fields_expand(expr, pos, path, full, depth + 1, out) < 0 || expr[*pos] != ')')
                return -1;
            (*pos)++;
        } else {
            if (out->len + full + 1 > out->cap)
                return -1;
            memcpy(out->buf + out->len, path, full + 1);
            out->len += full + 1;
        }
        if (expr[*pos] != ';')
            return 0;     /* the end, or a ')' for the caller */
        (*pos)++;
    }
}

static json_t *select_fields(const struct nnode *n, json_t *v, const char *fields, struct nerr *e)
{
    char flat[LIM_API_FIELDS_LEN * 4];
    struct fields_out fo = {.buf = flat, .cap = sizeof flat};
    size_t pos = 0;

    if (strlen(fields) >= LIM_API_FIELDS_LEN ||
        fields_expand(fields, &pos, "", 0, 0, &fo) < 0 || fields[pos] != '\0') {
        nerr_set(e, 400, "invalid-value",
                 "fields: give paths separated by ';', with '(...)' for several below one "
                 "(e.g. fields=hostname;ip/ssh(time-out;authentication-retries))");
        return NULL;
    }
    json_t *out = fields_skeleton(n, v);
    for (size_t off = 0; off < fo.len; off += strlen(flat + off) + 1) {
        if (keep_path(n, v, out, flat + off, e) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* with-defaults (RFC 8040 section 4.8.9): report-all and report-all-tagged add the defaults (the
 * latter annotated, tag_defaults); trim and explicit (our basic mode) leave them out. */
static int query_defaults(const struct api_req *r, bool *defaults, bool *tagged, struct nerr *e)
{
    static const struct {
        const char *name;
        bool all, tagged;
    } tab[] = {{"report-all", true, false}, {"report-all-tagged", true, true},
               {"trim", false, false}, {"explicit", false, false}};
    const char *wd = api_query(r, "with-defaults");

    *defaults = *tagged = false;
    if (wd == NULL)
        return 0;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(wd, tab[i].name) == 0) {
            *defaults = tab[i].all;
            *tagged = tab[i].tagged;
            return 0;
        }
    return nerr_set(e, 400, "invalid-value",
                    "with-defaults must be report-all, report-all-tagged, trim or explicit");
}

/* content=config|nonconfig|all: the native subtree is all configuration. */
static bool query_config(const struct api_req *r)
{
    const char *c = api_query(r, "content");   /* its value was checked by api.c */
    return c == NULL || strcmp(c, "nonconfig") != 0;
}

/* ---- GET -------------------------------------------------------------------------------------- */

/* The target's value as sent (qualified, fields and depth applied), or NULL with e filled. */
static json_t *get_view(const struct cfg *c, const struct api_req *r, const struct npath *p,
                        bool defaults, bool config, int depth, struct nerr *e)
{
    json_t *root = cfg_tree(c, defaults);
    const struct nnode *n = p->n ? p->s[p->n - 1].n : &nn_native;
    const char *mod = p->n ? p->s[p->n - 1].mod : MOD_NATIVE;
    json_t *v = p->n ? tree_at(root, p, p->n, false) : root;
    if (v == NULL || (json_is_object(v) && json_object_size(v) == 0 && p->n > 0) ||
        (json_is_array(v) && json_array_size(v) == 0)) {
        json_decref(root);
        snprintf(e->path, sizeof e->path, "%s", r->path);
        nerr_set(e, 404, "invalid-value", "no data at %s", r->path);
        return NULL;
    }
    json_incref(v);
    json_decref(root);
    if (p->n > 0 && p->s[p->n - 1].key != NULL) {
        json_t *arr = json_array();
        json_array_append_new(arr, v);   /* a list entry is sent as a one-entry list */
        v = arr;
    }
    if (!config) {
        json_decref(v);
        v = n->kind == NK_LIST ? json_array() : json_object();
    }
    const char *fields = api_query(r, "fields");
    if (fields != NULL) {
        struct nnode entry = *n;
        if (n->kind == NK_LIST)
            entry.kind = NK_CONT;
        json_t *f = select_fields(&entry, v, fields, e);
        json_decref(v);
        if (f == NULL)
            return NULL;
        v = f;
    }
    json_t *q = qualify(n, mod, v);
    json_decref(v);
    if (depth > 0)
        apply_depth(q, 1, depth);
    return q;
}

/* report-all-tagged (RFC 6243 section 3.4, RFC 7952 JSON): every leaf of all that the explicit
 * view (the same request without defaults) lacks holds its default, and gets the sibling
 * annotation "@name": {"ietf-netconf-with-defaults:default": true}. The two views come from the
 * same cfg through the same steps, so list entries line up by position. */
static void tag_defaults(json_t *all, json_t *expl)
{
    if (json_is_array(all)) {
        size_t i;
        json_t *v;
        json_array_foreach(all, i, v) tag_defaults(v, json_array_get(expl, i));
        return;
    }
    if (!json_is_object(all))
        return;
    json_t *tags = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(all, k, v) {
        json_t *x = json_is_object(expl) ? json_object_get(expl, k) : NULL;
        if (json_is_object(v) || json_is_array(v)) {
            tag_defaults(v, x);
        } else if (x == NULL) {
            char name[160];
            snprintf(name, sizeof name, "@%s", k);
            json_object_set_new(tags, name,
                                json_pack("{s:b}", "ietf-netconf-with-defaults:default", 1));
        }
    }
    json_object_update(all, tags);
    json_decref(tags);
}

static json_t *get_tree(const struct cfg *c, const struct api_req *r, const struct npath *p,
                        json_t **member_out, struct nerr *e)
{
    bool defaults, tagged, config;
    int depth;

    /* the names were checked by api.c against the row's API_Q_DATA */
    if (query_defaults(r, &defaults, &tagged, e) < 0 ||
        query_depth(r, &depth, e) < 0)
        return NULL;
    config = query_config(r);
    json_t *q = get_view(c, r, p, defaults, config, depth, e);
    if (q == NULL)
        return NULL;
    const struct nnode *n = p->n ? p->s[p->n - 1].n : &nn_native;
    const char *mod = p->n ? p->s[p->n - 1].mod : MOD_NATIVE;
    char name[128];
    snprintf(name, sizeof name, "%s:%s", mod, n->name);
    *member_out = json_object();
    json_object_set_new(*member_out, name, q);
    if (tagged) {
        struct nerr none;   /* a target holding only defaults has no explicit view: all tagged */
        memset(&none, 0, sizeof none);
        json_t *xq = get_view(c, r, p, false, config, depth, &none);
        json_t *expl = json_object();
        if (xq != NULL)
            json_object_set_new(expl, name, xq);
        tag_defaults(*member_out, expl);
        json_decref(expl);
    }
    return *member_out;
}

/* ---- writes ----------------------------------------------------------------------------------- */

/* The body of PUT/PATCH at a target: {"[mod:]name": value} -> normalized value. */
static json_t *body_value(const struct api_req *r, const struct step *st, const struct nnode *n,
                          const char *mod, struct nerr *e)
{
    const char *k;
    json_t *v;
    char path[256];

    if (r->json == NULL) {
        nerr_set(e, 400, "malformed-message", "%s needs a JSON body", r->method_name);
        return NULL;
    }
    if (!json_is_object(r->json) || json_object_size(r->json) != 1) {
        nerr_set(e, 400, "malformed-message",
                 "the body must be one JSON object with one member, \"%s:%s\"", mod, n->name);
        return NULL;
    }
    json_object_foreach(r->json, k, v) {
        const char *colon = strchr(k, ':');
        const char *name = colon ? colon + 1 : k;
        if (strcmp(name, n->name) != 0 ||
            (colon && (strlen(mod) != (size_t)(colon - k) || memcmp(mod, k, (size_t)(colon - k))))) {
            snprintf(e->path, sizeof e->path, "/%s", k);
            nerr_set(e, 400, "unknown-element",
                     "the body member is %s, but the target resource is %s:%s", k, mod, n->name);
            return NULL;
        }
        snprintf(path, sizeof path, "/%s:%s", mod, n->name);
        json_t *out = NULL;
        if (norm(n, mod, v, &out, path, sizeof path, e) < 0)
            return NULL;
        if (st != NULL && st->key != NULL) {
            /* a list entry: [ {entry} ] with the key of the URI */
            if (json_array_size(out) != 1) {
                json_decref(out);
                nerr_set(e, 400, "invalid-value", "give exactly one %s entry", n->name);
                return NULL;
            }
            json_t *ent = json_incref(json_array_get(out, 0));
            json_decref(out);
            if (strcmp(jstr(ent, n->key), st->key) != 0) {
                json_decref(ent);
                snprintf(e->path, sizeof e->path, "/%s:%s/%s", mod, n->name, n->key);
                nerr_set(e, 400, "invalid-value", "the key %s in the body differs from the URI (%s)",
                         n->key, st->key);
                return NULL;
            }
            return ent;
        }
        return out;
    }
    return NULL;
}

/* Commits root as the new running config; fills resp on error. */
static int commit_tree(struct api_req *r, struct api_resp *resp, json_t *root,
                       uint64_t expect, struct nerr *e)
{
    struct store *st = r->d->store;
    struct cfg_errors *errs = NULL;
    struct scpd_err err;
    struct store_who who;
    size_t len = 0;
    char *text;
    int rc = -1;

    prune(root);
    if (tree_check(root, e) < 0)
        return -1;
    text = tree_text(root, &len);
    if (text == NULL)
        return nerr_set(e, 500, "operation-failed", "out of memory");
    /* the text this JSON became is bounded as any config text (cfg_apply_text takes any length) */
    if (len > LIM_CONFIG_FILE_BYTES) {
        explicit_bzero(text, len);
        free(text);
        return nerr_set(e, 413, "too-big", "the configuration is %zu bytes as config text, larger "
                        "than the limit of %u bytes", len, (unsigned)LIM_CONFIG_FILE_BYTES);
    }
    errs = calloc(1, sizeof *errs);
    if (errs == NULL) {
        explicit_bzero(text, len);
        free(text);
        return nerr_set(e, 500, "operation-failed", "out of memory");
    }
    struct cfg *next = cfg_apply_text(NULL, text, len, CFG_REPLACE, errs);
    if (next == NULL) {
        /* the parser's reason, naming the config line the JSON became (secrets masked there) */
        if (errs->n > 0)
            nerr_set(e, 400, "invalid-value", "%s (in \"%s\")", errs->e[0].reason,
                     errs->e[0].text);
        else
            nerr_set(e, 400, "invalid-value", "invalid configuration");
        goto out;
    }
    api_who(r, &who);
    uint64_t newv = 0;
    scpd_err_clear(&err);
    if (store_commit(st, next, expect, &who, &newv, &err) < 0) {
        const struct api_errmap *m = api_errmap(err.code); /* 412 on a conflict: retried */
        e->status = m->status;
        e->type = m->type;
        e->tag = m->tag;
        snprintf(e->msg, sizeof e->msg, "%s", err.msg[0] ? err.msg : "internal error");
        cfg_free(next);
        goto out;
    }
    cfg_free(next);
    const struct store_snap *snap = store_snapshot(st);
    api_resp_snap_headers(resp, snap);
    store_snap_release(snap);
    rc = 0;
out:
    free(errs);
    explicit_bzero(text, len);   /* clear passwords of username entries became password 0 lines */
    free(text);
    return rc;
}

static int native_write(struct api_req *r, struct api_resp *resp, const struct store_snap *snap,
                        const struct npath *p, struct nerr *e)
{
    uint64_t expect;
    const struct step *last = p->n ? &p->s[p->n - 1] : NULL;
    const struct nnode *n = last ? last->n : &nn_native;
    const char *mod = last ? last->mod : MOD_NATIVE;
    int status = 204;
    json_t *root = NULL, *val = NULL;
    int rc = -1;

    if (api_check_preconditions(r, snap, &expect, resp) < 0)
        return 1;  /* resp filled */
    root = cfg_tree(snap->cfg, false);

    if (r->method == API_DELETE) {
        if (p->n == 0) {
            api_resp_header(resp, "Allow", "GET, HEAD, PUT, PATCH, POST, OPTIONS");
            nerr_set(e, 405, "operation-not-supported",
                     "deleting the whole configuration is not supported; PUT a new one");
            goto out;
        }
        json_t *parent = tree_at(root, p, p->n - 1, false);
        json_t *cur = tree_at(root, p, p->n, false);
        if (parent == NULL || cur == NULL ||
            (json_is_object(cur) && json_object_size(cur) == 0) ||
            (json_is_array(cur) && json_array_size(cur) == 0)) {
            snprintf(e->path, sizeof e->path, "%s", r->path);
            nerr_set(e, 404, "data-missing", "nothing to delete at %s", r->path);
            goto out;
        }
        if (last->key != NULL) {
            size_t idx;
            list_entry(json_object_get(parent, n->name), n->key, last->key, &idx);
            json_array_remove(json_object_get(parent, n->name), idx);
        } else {
            json_object_del(parent, n->name);
        }
    } else if (r->method == API_PUT || r->method == API_PATCH) {
        val = body_value(r, last, n, mod, e);
        if (val == NULL)
            goto out;
        if (p->n == 0) {
            if (r->method == API_PUT) {
                json_decref(root);
                root = json_incref(val);
            } else {
                merge(&nn_native, root, val);
            }
        } else {
            json_t *parent = tree_at(root, p, p->n - 1, true);
            if (parent == NULL) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                nerr_set(e, 404, "invalid-value", "the parent of %s does not exist", r->path);
                goto out;
            }
            json_t *cur = tree_at(root, p, p->n, false);
            bool exists = cur != NULL && !(json_is_object(cur) && json_object_size(cur) == 0) &&
                          !(json_is_array(cur) && json_array_size(cur) == 0);
            if (r->method == API_PATCH && cur == NULL && last->key != NULL) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                nerr_set(e, 404, "data-missing",
                         "PATCH changes an existing resource; %s does not exist (use PUT or POST)",
                         r->path);
                goto out;
            }
            if (r->method == API_PUT && !exists)
                status = 201;
            if (last->key != NULL) {
                json_t *arr = json_object_get(parent, n->name);
                if (arr == NULL) {
                    arr = json_array();
                    json_object_set_new(parent, n->name, arr);
                }
                size_t idx;
                json_t *old = list_entry(arr, n->key, last->key, &idx);
                if (r->method == API_PATCH && old != NULL) {
                    struct nnode entry = *n;
                    entry.kind = NK_CONT;
                    merge(&entry, old, val);
                } else if (old != NULL) {
                    json_array_set(arr, idx, val);
                } else {
                    json_array_append(arr, val);
                }
            } else if (r->method == API_PATCH && cur != NULL && n->kind == NK_CONT) {
                merge(n, cur, val);
            } else if (r->method == API_PATCH && cur != NULL && n->kind == NK_LIST) {
                json_t *wrap = json_pack("{s:O}", n->name, val);
                merge(p->n > 1 ? p->s[p->n - 2].n : &nn_native, parent, wrap);
                json_decref(wrap);
            } else {
                json_object_set(parent, n->name, val);
            }
        }
    } else if (r->method == API_POST) {
        /* POST creates a child of the target: body {"child": value}. On a list, the body is
         * {"list": [entry]} and creates that entry. */
        if (r->json == NULL || !json_is_object(r->json) || json_object_size(r->json) != 1) {
            nerr_set(e, 400, "malformed-message",
                     "POST needs a JSON object with one member: the resource to create");
            goto out;
        }
        const char *k = NULL;
        json_t *bv = NULL;
        json_object_foreach(r->json, k, bv) break;
        const char *kname = strchr(k, ':') ? strchr(k, ':') + 1 : k;
        char path[256];
        snprintf(path, sizeof path, "%s", "");
        if (last != NULL && strcmp(kname, n->name) == 0 &&
            !(n->kind == NK_LIST && last->key == NULL)) {
            /* the body names the target itself (what ansible's restconf_config sends after a
             * 404): create exactly that resource, 409 if it exists */
            val = body_value(r, last, n, mod, e);
            if (val == NULL)
                goto out;
            json_t *parent = tree_at(root, p, p->n - 1, true);
            json_t *cur = tree_at(root, p, p->n, false);
            if (parent == NULL) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                nerr_set(e, 404, "invalid-value", "the parent of %s does not exist", r->path);
                goto out;
            }
            if (cur != NULL && !(json_is_object(cur) && json_object_size(cur) == 0) &&
                !(json_is_array(cur) && json_array_size(cur) == 0)) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                nerr_set(e, 409, "data-exists", "%s already exists (use PUT or PATCH)", r->path);
                goto out;
            }
            if (last->key != NULL) {
                json_t *arr = json_object_get(parent, n->name);
                if (arr == NULL) {
                    arr = json_array();
                    json_object_set_new(parent, n->name, arr);
                }
                json_array_append(arr, val);
            } else {
                json_object_set(parent, n->name, val);
            }
            api_resp_header(resp, "Location", r->path);
        } else if (last != NULL && last->key != NULL) {
            nerr_set(e, 400, "invalid-value",
                     "POST creates a child resource; a %s entry has no child lists", n->name);
            goto out;
        } else if (n->kind == NK_LIST) {
            val = body_value(r, NULL, n, mod, e);
            if (val == NULL)
                goto out;
            if (list_add_new(tree_at(root, p, p->n - 1, true), n, val, r->path, e) < 0)
                goto out;
            if (json_array_size(val) == 1) {
                char loc[512];
                snprintf(loc, sizeof loc, "%s=%s", r->path, jstr(json_array_get(val, 0), n->key));
                api_resp_header(resp, "Location", loc);
            }
        } else {
            const struct nnode *kid = kid_lookup(n, mod, k);
            if (kid == NULL) {
                snprintf(e->path, sizeof e->path, "/%s", k);
                nerr_set(e, 400, "unknown-element", "unknown element %s in %s", k, r->path);
                goto out;
            }
            const char *kmod = mod_of(kid, mod);
            snprintf(path, sizeof path, "/%s:%s", kmod, kid->name);
            if (norm(kid, kmod, bv, &val, path, sizeof path, e) < 0)
                goto out;
            json_t *target = p->n ? tree_at(root, p, p->n, true) : root;
            if (target == NULL) {
                snprintf(e->path, sizeof e->path, "%s", r->path);
                nerr_set(e, 404, "invalid-value", "%s does not exist", r->path);
                goto out;
            }
            json_t *cur = json_object_get(target, kid->name);
            if (kid->kind == NK_LIST) {
                char at[sizeof e->path];
                snprintf(at, sizeof at, "%s/%s", r->path, kid->name);
                if (list_add_new(target, kid, val, at, e) < 0)
                    goto out;
            } else {
                if (cur != NULL && !(json_is_object(cur) && json_object_size(cur) == 0)) {
                    snprintf(e->path, sizeof e->path, "%s/%s", r->path, kid->name);
                    nerr_set(e, 409, "data-exists", "%s already exists (use PUT or PATCH)",
                             kid->name);
                    goto out;
                }
                json_object_set(target, kid->name, val);
            }
            char loc[512];
            snprintf(loc, sizeof loc, "%s/%s", r->path, k);
            api_resp_header(resp, "Location", loc);
        }
        status = 201;
    }
    if (commit_tree(r, resp, root, expect, e) < 0)
        goto out;
    api_no_content(resp);
    resp->status = status;
    rc = 0;
out:
    json_decref(val);
    json_decref(root);
    return rc;
}

/* ---- the translation alone (unit tests, fuzzing) ---------------------------------------------- */

char *api_native_text(const char *json, size_t len, char *why, size_t cap)
{
    json_error_t je;
    struct nerr e;
    char path[256] = "";
    json_t *in = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je), *tree = NULL;
    char *text = NULL;
    size_t tlen;

    memset(&e, 0, sizeof e);
    if (in == NULL) {
        snprintf(why, cap, "malformed JSON: %s", je.text);
        return NULL;
    }
    json_t *body = json_object_get(in, MOD_NATIVE ":native");
    if (!json_is_object(in) || json_object_size(in) != 1 || body == NULL) {
        snprintf(why, cap, "want {\"%s:native\": {...}}", MOD_NATIVE);
        goto out;
    }
    if (norm(&nn_native, MOD_NATIVE, body, &tree, path, sizeof path, &e) < 0 ||
        (prune(tree), tree_check(tree, &e)) < 0) {
        snprintf(why, cap, "%s", e.msg);
        goto out;
    }
    text = tree_text(tree, &tlen);
    if (text == NULL)
        snprintf(why, cap, "out of memory");
out:
    json_decref(tree);
    json_decref(in);
    return text;
}

/* ---- handlers --------------------------------------------------------------------------------- */

json_t *api_native_json(const struct cfg *c, bool with_defaults)
{
    json_t *t = cfg_tree(c, with_defaults);
    json_t *q = qualify(&nn_native, MOD_NATIVE, t);

    json_decref(t);
    return q;
}

int api_h_native(struct api_req *r, struct api_resp *resp)
{
    struct nerr e;
    struct npath p;
    const struct store_snap *snap;
    int rc;

    memset(&e, 0, sizeof e);
    memset(&p, 0, sizeof p);
    if (resolve(r, &p, &e) < 0) {
        npath_free(&p);
        return nerr_send(resp, &e);
    }
    snap = store_snapshot(r->d->store);
    /* every datastore response names the version it saw, errors included */
    api_resp_snap_headers(resp, snap);
    if (r->method == API_GET || r->method == API_HEAD) {
        json_t *out = NULL;
        if (get_tree(snap->cfg, r, &p, &out, &e) == NULL) {
            nerr_send(resp, &e);
        } else {
            api_json(resp, 200, out);
        }
    } else {
        /* A write is computed on the snapshot it read and committed only onto that version. When
         * another writer got in between and the client set no precondition, the request is
         * simply computed again on the new version (a PATCH of one leaf must not fail because
         * someone else changed another); with If-Match the client asked for the 412. */
        bool precondition = api_header(r, "If-Match") != NULL ||
                            api_header(r, "If-Unmodified-Since") != NULL;
        api_write_lock(r->shared);
        store_snap_release(snap);   /* read again under the lock */
        snap = store_snapshot(r->d->store);
        resp->nhdr = 0;
        api_resp_snap_headers(resp, snap);
        for (int attempt = 0;; attempt++) {
            memset(&e, 0, sizeof e);
            rc = native_write(r, resp, snap, &p, &e);
            if (!(rc < 0 && e.status == 412 && !precondition && attempt < API_WRITE_RETRIES))
                break;
            store_snap_release(snap);
            snap = store_snapshot(r->d->store);
            resp->nhdr = 0;
            api_resp_snap_headers(resp, snap);
        }
        api_write_unlock(r->shared);
        if (rc < 0)
            nerr_send(resp, &e);
    }
    store_snap_release(snap);
    npath_free(&p);
    return 0;
}

/* A read of a datastore's config c (RFC 8527): the root (wrapped in ietf-restconf:data) or the
 * path below native, with the same path walk and query parameters as /restconf/data. */
static void ds_read(struct api_req *r, struct api_resp *resp, const struct cfg *c, bool root)
{
    struct nerr e;
    struct npath p;
    json_t *out = NULL;

    memset(&e, 0, sizeof e);
    memset(&p, 0, sizeof p);
    if (!root)
        r->seg0++;
    if (resolve(r, &p, &e) < 0 || get_tree(c, r, &p, &out, &e) == NULL)
        nerr_send(resp, &e);
    else if (root)
        api_json(resp, 200, json_pack("{s:o}", "ietf-restconf:data", out));
    else
        api_json(resp, 200, out);
    if (!root)
        r->seg0--;
    npath_free(&p);
}

/* /restconf/ds/ietf-datastores:running[/Cisco-IOS-XE-native:native/...] (RFC 8527): the running
 * datastore; below the native node it is the same resource as /restconf/data. */
int api_h_ds_running(struct api_req *r, struct api_resp *resp)
{
    if (api_rest_count(r) == 0) {
        if (r->method != API_GET && r->method != API_HEAD) {
            api_resp_header(resp, "Allow", "GET, HEAD, OPTIONS");
            return api_error(resp, 405, "protocol", "operation-not-supported", r->path,
                             "edit the running datastore below "
                             "/restconf/ds/ietf-datastores:running/Cisco-IOS-XE-native:native");
        }
        const struct store_snap *snap = store_snapshot(r->d->store);
        api_resp_snap_headers(resp, snap);
        ds_read(r, resp, snap->cfg, true);
        store_snap_release(snap);
        return 0;
    }
    if (strcmp(api_rest(r, 0), MOD_NATIVE ":native") != 0)
        return api_error(resp, 404, "protocol", "invalid-value", r->path,
                         "no such resource: %s", r->path);
    r->seg0++;
    int rc = api_h_native(r, resp);
    r->seg0--;
    return rc;
}

/* Validators of the startup datastore: ETag "s-<first 64 bits of SHA-256 of the text, hex>", so it
 * changes exactly when the saved text changes (the "s-" keeps it apart from the running
 * datastore's version numbers), and Last-Modified the time of the last save (the store writes the
 * startup text when it is created, so a never-saved startup has its creation time; 0 would only
 * come from a damaged row and then the daemon's start is the stable answer). */
static void startup_headers(struct api_req *r, struct api_resp *resp, const char *text,
                            time_t saved_at)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char buf[64];

    SHA256((const unsigned char *)text, strlen(text), md);
    snprintf(buf, sizeof buf, "\"s-%02x%02x%02x%02x%02x%02x%02x%02x\"", md[0], md[1], md[2],
             md[3], md[4], md[5], md[6], md[7]);
    api_resp_header(resp, "ETag", buf);
    if (saved_at == 0)
        saved_at = (time_t)(stats_started_ms(r->d->stats) / 1000);
    api_http_date(saved_at, buf, sizeof buf);
    api_resp_header(resp, "Last-Modified", buf);
}

/* /restconf/ds/ietf-datastores:startup[/Cisco-IOS-XE-native:native/...]: the startup datastore is
 * text (saved with save-config); it is parsed into a cfg and read through the same path walk and
 * query parameters as the running datastore. Read-only (the row has GET only). */
int api_h_ds_startup(struct api_req *r, struct api_resp *resp)
{
    struct scpd_err err;
    time_t saved_at = 0;
    char *text;
    struct cfg_errors *errs;
    bool root = api_rest_count(r) == 0;

    if (!root && strcmp(api_rest(r, 0), MOD_NATIVE ":native") != 0)
        return api_error(resp, 404, "protocol", "invalid-value", r->path,
                         "no such resource: %s", r->path);
    scpd_err_clear(&err);
    text = store_startup_get(r->d->store, &saved_at, &err);
    if (text == NULL)
        return api_error_from(resp, &err, r->path);
    startup_headers(r, resp, text, saved_at);
    errs = calloc(1, sizeof *errs);
    struct cfg *c = errs ? cfg_apply_text(NULL, text, strlen(text), CFG_REPLACE, errs) : NULL;
    free(text);
    free(errs);
    if (c == NULL)
        return api_error(resp, 500, "application", "operation-failed", r->path,
                         "the startup configuration does not parse");
    ds_read(r, resp, c, root);
    cfg_free(c);
    return 0;
}

/* Operational datastore: running config plus the operational state (= GET /restconf/data). */
int api_h_ds_operational(struct api_req *r, struct api_resp *resp)
{
    if (api_rest_count(r) > 0)
        return api_error(resp, 404, "protocol", "invalid-value", r->path,
                         "no such resource: %s (read subtrees under /restconf/data)", r->path);
    return api_h_data_root(r, resp);
}
