/* stats_remote: the transfer and security events of the other instances of a shared store, so
 * the streams of one instance carry the events of all (docs/postgresql.md). Each event this
 * instance pushes to its rings is also published through the store (store_event_publish: NOTIFY
 * on PostgreSQL) as a small JSON object; the events of the others arrive on the store's watcher
 * thread and are pushed to the same rings. The counters and the history are not touched: each
 * instance counts its own, and the history is one table already. With a store of one process
 * nothing is published. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/ring.h"
#include "services/stats_int.h"
#include "store/store.h"

static const char *const stream_names[STATS_STREAM_MAX] = {"transfers", "security"};

void stats_remote_publish(struct stats *s, enum stats_stream which, const struct stats_event *e)
{
    if (!s || !s->store || store_instance(s->store) <= 0)
        return;
    const struct stats_xfer_view *x = &e->xfer;
    json_t *o = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s}", "k", e->kind, "t",
                          (json_int_t)e->time_ms, "r", e->result, "u", e->user, "p", e->peer,
                          "d", e->door, "x", e->detail);
    if (o && which == STATS_STREAM_TRANSFERS) {
        json_t *v = json_pack("{s:I,s:I,s:s,s:s,s:s,s:b,s:s,s:I,s:I,s:I,s:f,s:I}",
                              "id", (json_int_t)x->id, "sid", (json_int_t)x->sid, "u", x->user,
                              "p", x->peer, "f", x->path, "up", x->upload, "dir", x->direction,
                              "b", (json_int_t)x->bytes, "sz", (json_int_t)x->size,
                              "st", (json_int_t)x->start_ms, "rate", x->rate_bps,
                              "end", (json_int_t)x->end_ms);
        if (v)
            json_object_set_new(o, "v", v);
    }
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL; /* invalid UTF-8 in a name: not sent */
    if (text)
        store_event_publish(s->store, stream_names[which], text);
    free(text);
    json_decref(o);
}

static void copy_str(json_t *o, const char *key, char *dst, size_t cap)
{
    const char *v = json_string_value(json_object_get(o, key));
    snprintf(dst, cap, "%s", v ? v : "");
}

static int64_t get_int(json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

static void remote_event(void *arg, int64_t instance, const char *stream, const char *text)
{
    struct stats *s = arg;
    int which = 0;
    while (which < STATS_STREAM_MAX && strcmp(stream_names[which], stream) != 0)
        which++;
    if (which == STATS_STREAM_MAX)
        return;
    json_t *o = json_loads(text, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return;
    }
    struct stats_event e;
    memset(&e, 0, sizeof(e));
    e.time_ms = get_int(o, "t");
    copy_str(o, "k", e.kind, sizeof(e.kind));
    copy_str(o, "r", e.result, sizeof(e.result));
    copy_str(o, "u", e.user, sizeof(e.user));
    copy_str(o, "p", e.peer, sizeof(e.peer));
    copy_str(o, "d", e.door, sizeof(e.door));
    copy_str(o, "x", e.detail, sizeof(e.detail));
    json_t *v = json_object_get(o, "v");
    if (json_is_object(v)) {
        struct stats_xfer_view *x = &e.xfer;
        x->id = (uint64_t)get_int(v, "id");
        x->sid = (uint64_t)get_int(v, "sid");
        copy_str(v, "u", x->user, sizeof(x->user));
        copy_str(v, "p", x->peer, sizeof(x->peer));
        copy_str(v, "f", x->path, sizeof(x->path));
        x->upload = json_is_true(json_object_get(v, "up"));
        copy_str(v, "dir", x->direction, sizeof(x->direction));
        x->bytes = (uint64_t)get_int(v, "b");
        x->size = (uint64_t)get_int(v, "sz");
        x->start_ms = get_int(v, "st");
        x->rate_bps = json_number_value(json_object_get(v, "rate"));
        x->end_ms = get_int(v, "end");
    }
    json_decref(o);
    ring_push(s->rings[which], &e);
}

int stats_remote_start(struct stats *s)
{
    if (!s->store || store_instance(s->store) <= 0)
        return 0;
    /* transfer ids stay unique across the instances: this one's start at instance * 10^9 */
    s->next_id = (uint64_t)store_instance(s->store) * 1000000000ull;
    return store_event_listen(s->store, remote_event, s) < 0 ? -1 : 0;
}

void stats_remote_stop(struct stats *s)
{
    if (s->store && store_instance(s->store) > 0)
        store_event_unlisten(s->store, remote_event, s);
}
