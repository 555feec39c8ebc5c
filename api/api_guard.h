/* api_guard: total deadlines per HTTP connection whatever the client's pace (slowloris):
 * LIM_HTTP_HEADER_SECS for a request line and headers, LIM_HTTP_BODY_SECS for a body; a connection
 * past its deadline is shut down and logged. Thread-safe. */
#ifndef SCPD_API_GUARD_H
#define SCPD_API_GUARD_H

#include <microhttpd.h>

#include "base/scpd_err.h"

struct api_guard;
struct api_guard *api_guard_start(struct scpd_err *err);
/* After every MHD daemon using g has stopped. NULL is a no-op. */
void api_guard_stop(struct api_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION callback, with g as its closure. */
void api_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe);
/* MHD_OPTION_URI_LOG_CALLBACK, with g as its closure: the request line was read. Returns NULL
 * (the request's context, which the access handler creates). */
void *api_guard_request_line(void *cls, const char *uri, struct MHD_Connection *conn);
/* Progress of the request on conn: the access handler's first call, its final call, and
 * MHD_OPTION_NOTIFY_COMPLETED (the next request's headers are then awaited). */
void api_guard_headers_done(struct api_guard *g, struct MHD_Connection *conn);
void api_guard_body_done(struct api_guard *g, struct MHD_Connection *conn);
void api_guard_request_done(struct api_guard *g, struct MHD_Connection *conn);


#endif
