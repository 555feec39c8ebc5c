/* netconf_notify: RFC 5277 event notifications of a NETCONF session: the streams scp-debug
 * (`debug ip scp` trace lines), transfers and security (the statistics' event rings), each event
 * rendered as a <notification> holding the scpd.yang notification RESTCONF's event streams send
 * as JSON. A subscription has its own bounded queue (LIM_NETCONF_NOTIFY_QUEUE); the pushing side
 * never waits for it, a slow reader loses the oldest events and is told how many. One thread
 * (the session's) uses a subscription. */
#ifndef SCPD_NETCONF_NOTIFY_H
#define SCPD_NETCONF_NOTIFY_H

#include <stdio.h>

struct stats;
struct trace;
struct nc_sub;

/* Subscribes to stream (scp-debug, transfers, security); NULL when there is no such stream or
 * no memory (why says which). */
struct nc_sub *nc_sub_new(const char *stream, struct trace *t, struct stats *st, char *why,
                          size_t cap);
void nc_sub_free(struct nc_sub *s);   /* NULL is a no-op */
/* Renders the queued events, each as one <notification> message, through emit (one call per
 * message). Returns the count, or -1 when emit failed. Does not wait. */
int nc_sub_pump(struct nc_sub *s, int (*emit)(void *arg, const char *msg, size_t len), void *arg);

#endif
