/* model_native: the Cisco-IOS-XE-native subtree as data, one translation for every management
 * door (RESTCONF, NETCONF). Its schema is libyang's compiled model_yang context (no table of our
 * own); its working form is the "canonical tree": jansson, node names without module prefixes,
 * lists as arrays of entry objects, empty leaves [null], integers as JSON integers.
 *     running cfg -> model_native_tree -> (a door's edit) -> model_native_cfg -> store_commit
 * model_native_cfg renders the tree as config lines and parses them with the config language's
 * one parser (store/cfg), so every value is checked there too. Pure functions: no store, no I/O;
 * safe on any thread. */
#ifndef SCPD_MODEL_NATIVE_H
#define SCPD_MODEL_NATIVE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct cfg;
struct lyd_node;
struct lysc_node;

#define MODEL_NATIVE "Cisco-IOS-XE-native"
#define MODEL_NS_NATIVE "http://cisco.com/ns/yang/Cisco-IOS-XE-native"

/* What went wrong with data, in NETCONF/RESTCONF words (RFC 6241 appendix A error-tags). */
struct model_err {
    const char *tag;     /* "invalid-value", "unknown-element", "missing-element", ... */
    char path[256];      /* where, as the door's path ("/ip/ssh/time-out"), or "" */
    char msg[512];
};

enum model_kind { MODEL_CONT, MODEL_LIST, MODEL_LEAF, MODEL_EMPTY };

/* Schema walk over libyang's compiled nodes. */
const struct lysc_node *model_native_root(void);
/* The child of parent named name (len bytes); module NULL matches any module, else the child's
 * module must be it (mlen bytes). NULL when there is none. */
const struct lysc_node *model_child(const struct lysc_node *parent, const char *module,
                                    size_t mlen, const char *name, size_t len);
enum model_kind model_kind(const struct lysc_node *n);
const char *model_key(const struct lysc_node *list);   /* the list's (single) key name */
const char *model_module(const struct lysc_node *n);   /* the module that defines n */

/* Validates a JSON value (RFC 7951, names optionally qualified) given for schema node n and
 * returns its canonical tree (*out, caller decrefs): unknown members, wrong JSON types, values
 * the YANG types refuse (libyang's message), duplicate list keys. path holds the door's path to
 * n and is extended while walking (pcap bytes). 0, or -1 with e filled. */
int model_norm(const struct lysc_node *n, json_t *in, json_t **out, char *path, size_t pcap,
               struct model_err *e);
/* The canonical tree of cfg's native subtree; defaults: include default values. */
json_t *model_native_tree(const struct cfg *c, bool defaults);
/* v (canonical value of node n: an object, or for a list an array of entries) with the RFC 7951
 * module prefixes on the members whose module differs from n's. New reference. */
json_t *model_qualify(const struct lysc_node *n, json_t *v);
/* Merges src into dst (both canonical objects of node n): containers member-wise, list entries
 * by key, leaves replaced. */
void model_merge(const struct lysc_node *n, json_t *dst, json_t *src);
/* Removes empty containers and lists ("exists" means "has content": non-presence containers). */
void model_prune(json_t *v);
/* The entry of list array arr whose member key equals kv (and its index), or NULL. */
json_t *model_list_entry(json_t *arr, const char *key, const char *kv, size_t *idx);
/* The canonical native tree root -> config text ("...end\n", caller frees and clears it: it
 * may hold passwords), or NULL with e filled (what the text form cannot say, out of memory). */
char *model_native_text(json_t *root, size_t *len, struct model_err *e);
/* root -> the configuration it says (parsed by the config language; caller cfg_free()s), or NULL
 * with e filled: the parser's reason naming the line, or the text over the config size limit.
 * The lines of base (the running config the edit started from, may be NULL) that the native model
 * does not hold are kept as they were: a config line without a YANG node is never lost by a
 * write through the model. */
struct cfg *model_native_cfg(json_t *root, const struct cfg *base, struct model_err *e);
/* The blocks of a rendered config (top-level lines with their sub-mode lines) that the native model
 * does not hold (caller frees; "" when none). */
char *model_native_unmodelled(const char *rendered);

/* The canonical root as a libyang data tree ({"Cisco-IOS-XE-native:native": ...} parsed and
 * checked against the schema; caller lyd_free_all()s; an empty tree is a NULL tree), 0 or -1. */
int model_native_lyd(json_t *root, struct lyd_node **tree, struct model_err *e);
/* Data in XML (a NETCONF <config>'s content: native elements, no operation attributes) ->
 * canonical root (*out, caller decrefs; {} when there is no native element), through libyang's
 * parser (unknown elements, namespaces, values) and model_norm. 0, or -1 with e filled. */
int model_native_from_xml(const char *xml, json_t **out, struct model_err *e);

#endif
