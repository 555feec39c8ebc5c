/* ring: a bounded, sequence-numbered ring of fixed-size records with fan-out to live subscribers,
 * shared by the trace ring (`debug ip scp`) and the event streams (transfers, security).
 * Every record begins with a uint64_t sequence number that ring_push() assigns (1, 2, ...). The
 * ring keeps the newest `cap` records (oldest dropped first, drop count kept); each subscriber has
 * its own bounded queue that loses its oldest records when full, never blocking the pusher, and is
 * told how many it lost. Thread-safe; one short mutex per push, no allocation after creation. */
#ifndef SCPD_RING_H
#define SCPD_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring;
struct ring_sub;

/* elem_size >= sizeof(uint64_t); the record's first 8 bytes are its sequence number.
 * Returns NULL when out of memory. Caller frees with ring_free() (after every ring_unsubscribe). */
struct ring *ring_new(size_t elem_size, size_t cap);
void ring_free(struct ring *r);     /* NULL is a no-op */

/* Copies elem into the ring and every subscriber queue, writing its new sequence number into
 * elem's first 8 bytes. Returns that number. */
uint64_t ring_push(struct ring *r, void *elem);

/* Copies up to max records with seq > since into out, oldest first; returns the count.
 * *dropped (if not NULL) gets the number of records the ring ever dropped. */
size_t ring_read(struct ring *r, uint64_t since, void *out, size_t max, uint64_t *dropped);
uint64_t ring_last_seq(struct ring *r);
uint64_t ring_dropped(struct ring *r);

/* A live subscription with a private queue of queue_size records. since == NULL: only records
 * pushed from now on. Otherwise the queue starts with the ring's records after *since (resume
 * after Last-Event-ID); those no longer in the ring count as lost. NULL when out of memory. */
struct ring_sub *ring_subscribe(struct ring *r, size_t queue_size, const uint64_t *since);
/* Takes up to max queued records into out; *lost (if not NULL) gets how many records this
 * subscriber lost since the previous call. Waits up to timeout_ms for the first one (0: no wait).
 */
size_t ring_sub_take(struct ring_sub *s, void *out, size_t max, uint64_t *lost, int timeout_ms);
void ring_unsubscribe(struct ring_sub *s);   /* NULL is a no-op */
size_t ring_subscribers(struct ring *r);

#endif
