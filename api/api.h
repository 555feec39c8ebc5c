/* api: the HTTP side (libmicrohttpd + jansson): RESTCONF resources and operations, event streams,
 * /metrics and the static dashboard, on every --http-listen address. Started and stopped by main.
 * Handlers read store snapshots and change the config only through store_commit/store_apply_text.
 */
#ifndef SCPD_API_H
#define SCPD_API_H

#include "base/scpd_err.h"

struct scpd;
struct api;

/* Binds every d->opts.http_listen address (port 0: a free port), prints
 * "http listening on ADDR:PORT" on stdout for each, and serves until api_stop(). */
struct api *api_start(struct scpd *d, struct scpd_err *err);
void api_stop(struct api *a);   /* NULL is a no-op */

#endif
