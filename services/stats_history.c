/* stats_history: the row a finished transfer leaves in the store's bounded history (user, peer,
 * direction, path, bytes, times, result), written by the sampler thread, never on a transfer's. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/scpd_err.h"
#include "services/stats_int.h"
#include "store/store.h"

void stats_history(struct stats *s, struct stats_xfer *x)
{
    if (!s->store)
        return;
    struct store_xfer row;
    memset(&row, 0, sizeof(row));
    snprintf(row.user, sizeof(row.user), "%s", x->v.user);
    snprintf(row.peer, sizeof(row.peer), "%s", x->v.peer);
    snprintf(row.direction, sizeof(row.direction), "%s", x->v.direction);
    snprintf(row.path, sizeof(row.path), "%s", x->v.path);
    row.bytes = x->v.bytes;
    row.size = x->v.size;
    row.start_ms = x->v.start_ms;
    row.end_ms = x->v.end_ms;
    snprintf(row.result, sizeof(row.result), "%s", x->result);
    snprintf(row.error, sizeof(row.error), "%s", x->error);
    struct scpd_err err = {0};
    if (store_history_add(s->store, &row, &err) < 0) {
        struct log_ctx ctx = {x->v.sid, x->v.user, x->v.peer};
        log_warn(&ctx, "transfer history: %s", err.msg);
    }
}

