/* api_obs: what the observability handlers share (api_state.c, api_stream.c, api_metrics.c,
 * api_web.c): their route handlers, referenced by the rows of api_routes.c, and the JSON forms
 * of transfers and trace events used both by GET resources and by the event streams, so a
 * transfer looks the same in scp-state, in the history and on the `transfers` stream. */
#ifndef SCPD_API_OBS_H
#define SCPD_API_OBS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/api_req.h"

struct stats_xfer_view;
struct stats_event;
struct trace_event;

/* api_state.c */
int api_h_scp_state(struct api_req *r, struct api_resp *resp);       /* scpd:scp-state */
int api_h_scp_history(struct api_req *r, struct api_resp *resp);     /* .../scp-state/transfers */
int api_h_debug(struct api_req *r, struct api_resp *resp);           /* scpd:debug */
int api_h_debug_scp(struct api_req *r, struct api_resp *resp);       /* scpd:debug/scp GET/PUT */
int api_h_debug_traces(struct api_req *r, struct api_resp *resp);    /* scpd:debug/traces */

/* api_stream.c: RFC 8040 section 6 */
int api_h_restconf_state(struct api_req *r, struct api_resp *resp);  /* restconf-state[/streams] */
int api_h_stream(struct api_req *r, struct api_resp *resp);          /* /restconf/streams/NAME */
/* Event-stream subscribers connected now, over every stream. */
size_t api_sse_subscribers(struct scpd *d);

/* api_metrics.c */
int api_h_metrics(struct api_req *r, struct api_resp *resp);         /* /metrics */

/* api_web.c: the dashboard's static files at / */
int api_h_web(struct api_req *r, struct api_resp *resp);

/* ---- shared JSON forms (api_state.c) --------------------------------------------------------- */
/* RFC 7951: 64-bit integers are JSON strings. */
json_t *api_obs_u64(uint64_t v);
/* yang:date-and-time of unix milliseconds, UTC: "2026-11-24T10:15:02.123Z" (cap >= 32). */
void api_obs_time(int64_t ms, char *buf, size_t cap);
/* A live transfer (scp-state active-transfer, transfer-event); ETA when size and rate allow. */
json_t *api_obs_xfer_json(const struct stats_xfer_view *v);
/* A trace event (debug/traces list entry, trace-event notification body). */
json_t *api_obs_trace_json(const struct trace_event *ev);

#endif
