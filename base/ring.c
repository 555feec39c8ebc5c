/* ring: one mutex guards the ring and every subscriber queue. A push copies the record once into
 * the ring and once into each queue (records are small, subscribers few: LIM_HTTP_SSE_CLIENTS),
 * so a subscriber never holds a reference into the ring and the ring may overwrite freely.
 * Queues are circular arrays of the same record size; a full queue drops its oldest record and
 * counts it, so the pusher (a transfer thread) never waits for a reader. Readers wait on their own
 * condition variable (CLOCK_MONOTONIC) under the same mutex. */
#include "base/ring.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ring_sub {
    struct ring *r;
    unsigned char *q;
    size_t cap, head, len;
    uint64_t lost;
    pthread_cond_t cv;
    struct ring_sub *next;
};

struct ring {
    pthread_mutex_t mu;
    size_t esz, cap, head, len;
    unsigned char *buf;
    uint64_t seq;           /* last sequence number assigned */
    uint64_t dropped;
    struct ring_sub *subs;
    size_t nsubs;
};

struct ring *ring_new(size_t elem_size, size_t cap)
{
    if (elem_size < sizeof(uint64_t) || cap == 0)
        return NULL;
    struct ring *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->buf = calloc(cap, elem_size);
    if (!r->buf) {
        free(r);
        return NULL;
    }
    r->esz = elem_size;
    r->cap = cap;
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

void ring_free(struct ring *r)
{
    if (!r)
        return;
    /* Subscribers left behind by a careless owner are released with the ring. */
    while (r->subs) {
        struct ring_sub *s = r->subs;
        r->subs = s->next;
        pthread_cond_destroy(&s->cv);
        free(s->q);
        free(s);
    }
    pthread_mutex_destroy(&r->mu);
    free(r->buf);
    free(r);
}

static unsigned char *ring_slot(unsigned char *base, size_t esz, size_t cap, size_t head, size_t i)
{
    return base + ((head + i) % cap) * esz;
}

/* Appends rec to a circular array, dropping its oldest record when full; returns true if one
 * was dropped. */
static bool ring_append(unsigned char *base, size_t esz, size_t cap, size_t *head, size_t *len,
                        const void *rec)
{
    bool drop = *len == cap;
    if (drop) {
        *head = (*head + 1) % cap;
        (*len)--;
    }
    memcpy(ring_slot(base, esz, cap, *head, *len), rec, esz);
    (*len)++;
    return drop;
}

uint64_t ring_push(struct ring *r, void *elem)
{
    pthread_mutex_lock(&r->mu);
    uint64_t seq = ++r->seq;
    memcpy(elem, &seq, sizeof(seq));
    if (ring_append(r->buf, r->esz, r->cap, &r->head, &r->len, elem))
        r->dropped++;
    for (struct ring_sub *s = r->subs; s; s = s->next) {
        if (ring_append(s->q, r->esz, s->cap, &s->head, &s->len, elem))
            s->lost++;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return seq;
}

/* Index in the ring of the first record with seq > since (r->len if none). Caller holds mu. */
static size_t ring_first_after(const struct ring *r, uint64_t since)
{
    uint64_t oldest = r->seq - r->len + 1;
    if (since < oldest)
        return 0;
    if (since >= r->seq)
        return r->len;
    return (size_t)(since - oldest + 1);
}

size_t ring_read(struct ring *r, uint64_t since, void *out, size_t max, uint64_t *dropped)
{
    size_t n = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = ring_first_after(r, since); i < r->len && n < max; i++, n++)
        memcpy((unsigned char *)out + n * r->esz, ring_slot(r->buf, r->esz, r->cap, r->head, i),
               r->esz);
    if (dropped)
        *dropped = r->dropped;
    pthread_mutex_unlock(&r->mu);
    return n;
}

uint64_t ring_last_seq(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t v = r->seq;
    pthread_mutex_unlock(&r->mu);
    return v;
}

uint64_t ring_dropped(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t v = r->dropped;
    pthread_mutex_unlock(&r->mu);
    return v;
}

size_t ring_subscribers(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    size_t v = r->nsubs;
    pthread_mutex_unlock(&r->mu);
    return v;
}

struct ring_sub *ring_subscribe(struct ring *r, size_t queue_size, const uint64_t *since)
{
    if (queue_size == 0)
        queue_size = 1;
    struct ring_sub *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->q = calloc(queue_size, r->esz);
    if (!s->q) {
        free(s);
        return NULL;
    }
    s->r = r;
    s->cap = queue_size;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);

    pthread_mutex_lock(&r->mu);
    if (since && *since < r->seq) {
        uint64_t oldest = r->seq - r->len + 1;
        if (*since + 1 < oldest)
            s->lost += oldest - (*since + 1);   /* gone from the ring before the resume */
        for (size_t i = ring_first_after(r, *since); i < r->len; i++)
            if (ring_append(s->q, r->esz, s->cap, &s->head, &s->len,
                            ring_slot(r->buf, r->esz, r->cap, r->head, i)))
                s->lost++;
    }
    s->next = r->subs;
    r->subs = s;
    r->nsubs++;
    pthread_mutex_unlock(&r->mu);
    return s;
}

size_t ring_sub_take(struct ring_sub *s, void *out, size_t max, uint64_t *lost, int timeout_ms)
{
    struct ring *r = s->r;
    pthread_mutex_lock(&r->mu);
    if (s->len == 0 && timeout_ms > 0) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        while (s->len == 0)
            if (pthread_cond_timedwait(&s->cv, &r->mu, &dl) == ETIMEDOUT)
                break;
    }
    size_t n = 0;
    for (; n < max && s->len > 0; n++) {
        memcpy((unsigned char *)out + n * r->esz, s->q + s->head * r->esz, r->esz);
        s->head = (s->head + 1) % s->cap;
        s->len--;
    }
    if (lost)
        *lost = s->lost;
    s->lost = 0;
    pthread_mutex_unlock(&r->mu);
    return n;
}

void ring_unsubscribe(struct ring_sub *s)
{
    if (!s)
        return;
    struct ring *r = s->r;
    pthread_mutex_lock(&r->mu);
    for (struct ring_sub **pp = &r->subs; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            r->nsubs--;
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    pthread_cond_destroy(&s->cv);
    free(s->q);
    free(s);
}
