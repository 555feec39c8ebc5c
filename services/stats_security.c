/* stats_security: security events (failed and blocked logins, refusals of both doors), pushed to
 * the `security` stream's ring for the API, the dashboard and the metrics. */
#include <stdio.h>
#include <string.h>

#include "base/ring.h"
#include "services/stats_int.h"

void stats_security(struct stats *s, const char *kind, const char *door, const char *user,
                    const char *peer, const char *reason)
{
    if (!s)
        return;
    struct stats_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.time_ms = stats_clock_ms(CLOCK_REALTIME);
    snprintf(ev.kind, sizeof(ev.kind), "%s", kind ? kind : "event");
    snprintf(ev.door, sizeof(ev.door), "%s", door ? door : "");
    snprintf(ev.user, sizeof(ev.user), "%s", user ? user : "");
    snprintf(ev.peer, sizeof(ev.peer), "%s", peer ? peer : "");
    snprintf(ev.detail, sizeof(ev.detail), "%s", reason ? reason : "");
    ring_push(s->rings[STATS_STREAM_SECURITY], &ev);
    stats_remote_publish(s, STATS_STREAM_SECURITY, &ev);
}

