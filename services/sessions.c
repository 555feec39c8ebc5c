/* sessions: see sessions.h. One array: LIM_SESSIONS_TOTAL slots for SSH (a session holds its slot
 * from authentication to its end, so the table can never be short of one), SESSIONS_HTTP_MAX for
 * the API's (user, address) pairs, reused oldest first. last_ms is written with a relaxed atomic
 * store by its owner and read the same way by a lister; the rest of an entry changes under the
 * mutex only. */
#include "services/sessions.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

#define SESSIONS_SLOTS (LIM_SESSIONS_TOTAL + SESSIONS_HTTP_MAX)

struct entry {
    bool used, http;
    uint64_t sid;
    char user[LIM_AUTH_USER_LEN + 1];
    char peer[80];
    int64_t last_ms;   /* atomic */
};

struct sessions {
    pthread_mutex_t mu;
    struct entry e[SESSIONS_SLOTS];
};

struct sessions *sessions_new(void)
{
    struct sessions *s = calloc(1, sizeof(*s));
    if (s)
        pthread_mutex_init(&s->mu, NULL);
    return s;
}

void sessions_free(struct sessions *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void fill(struct entry *e, bool http, uint64_t sid, const char *user, const char *peer)
{
    e->used = true;
    e->http = http;
    e->sid = sid;
    snprintf(e->user, sizeof(e->user), "%s", user ? user : "");
    snprintf(e->peer, sizeof(e->peer), "%s", peer ? peer : "");
    __atomic_store_n(&e->last_ms, clock_mono_ms(), __ATOMIC_RELAXED);
}

int sessions_ssh_add(struct sessions *s, uint64_t sid, const char *user, const char *peer)
{
    int slot = -1;
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < LIM_SESSIONS_TOTAL && slot < 0; i++)
        if (!s->e[i].used) {
            fill(&s->e[i], false, sid, user, peer);
            slot = i;
        }
    pthread_mutex_unlock(&s->mu);
    return slot;
}

void sessions_touch(struct sessions *s, int slot)
{
    if (s && slot >= 0 && slot < SESSIONS_SLOTS)
        __atomic_store_n(&s->e[slot].last_ms, clock_mono_ms(), __ATOMIC_RELAXED);
}

void sessions_del(struct sessions *s, int slot)
{
    if (!s || slot < 0 || slot >= LIM_SESSIONS_TOTAL)
        return;
    pthread_mutex_lock(&s->mu);
    s->e[slot].used = false;
    pthread_mutex_unlock(&s->mu);
}

void sessions_http_seen(struct sessions *s, const char *user, const char *addr)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    struct entry *same = NULL, *free_e = NULL, *oldest = NULL;
    for (int i = LIM_SESSIONS_TOTAL; i < SESSIONS_SLOTS && !same; i++) {
        struct entry *e = &s->e[i];
        if (!e->used) {
            free_e = free_e ? free_e : e;
        } else if (strcmp(e->user, user) == 0 && strcmp(e->peer, addr) == 0) {
            same = e;
        } else if (!oldest || e->last_ms < oldest->last_ms) {
            oldest = e;
        }
    }
    struct entry *pick = same ? same : free_e ? free_e : oldest;
    fill(pick, true, 0, user, addr);
    pthread_mutex_unlock(&s->mu);
}

size_t sessions_list(struct sessions *s, struct sessions_view *out, size_t max)
{
    size_t n = 0;
    if (!s)
        return 0;
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < SESSIONS_SLOTS && n < max; i++) {
        struct entry *e = &s->e[i];
        int64_t idle = now - __atomic_load_n(&e->last_ms, __ATOMIC_RELAXED);
        if (!e->used || (e->http && idle > (int64_t)SESSIONS_HTTP_IDLE_SECS * 1000))
            continue;
        snprintf(out[n].door, sizeof(out[n].door), "%s", e->http ? "http" : "ssh");
        out[n].sid = e->sid;
        snprintf(out[n].user, sizeof(out[n].user), "%s", e->user);
        snprintf(out[n].peer, sizeof(out[n].peer), "%s", e->peer);
        out[n].idle_ms = idle < 0 ? 0 : idle;
        n++;
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}
