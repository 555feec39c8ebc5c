/* netconf_data: NETCONF's data operations on the one model, without a session or a store: the
 * <filter> and <with-defaults> of get/get-config (subtree filters become XPath, RFC 6241 section
 * 6; libyang selects and prints), and <edit-config>'s operations (RFC 6241 section 7.2) applied
 * to the canonical running tree of model/model_native. Pure functions; safe on any thread. */
#ifndef SCPD_NETCONF_DATA_H
#define SCPD_NETCONF_DATA_H

#include <stdbool.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "daemon/nc_proto.h"

struct cfg;
struct model_err;

#define NC_FILTER_PATHS 64   /* XPath expressions one filter becomes */

struct nc_filter {
    char *p[NC_FILTER_PATHS];
    int n;
    bool all;        /* no filter: everything */
    bool defaults;   /* with-defaults report-all */
    bool mon;        /* the filter names ietf-netconf-monitoring's netconf-state (taken out of p) */
};

/* Reads op's <filter> and <with-defaults>. 0, or -1 with e; nc_filter_free() in both cases. */
int nc_filter_parse(xmlNodePtr op, struct nc_filter *f, struct nc_err *e);
void nc_filter_free(struct nc_filter *f);
/* The native configuration of c selected by f, as XML printed by libyang (caller frees; "" when
 * nothing is selected), or NULL with e. */
char *nc_data_xml(const struct cfg *c, const struct nc_filter *f, struct nc_err *e);

enum nc_eop { NC_EOP_NONE, NC_EOP_MERGE, NC_EOP_REPLACE, NC_EOP_CREATE, NC_EOP_DELETE,
              NC_EOP_REMOVE };

/* The canonical native tree after applying <config> (its nc:operation attributes, and the
 * default-operation dop) to running: *out (caller decrefs), or -1 with e (unknown element,
 * bad value: libyang's words; data-exists of create, data-missing of delete). */
int nc_edit(const struct cfg *running, xmlNodePtr config, enum nc_eop dop, json_t **out,
            struct nc_err *e);

/* A model error as an rpc-error (error-type application). Returns -1. */
int nc_err_model(struct nc_err *e, const struct model_err *me);

#endif
