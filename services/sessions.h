/* sessions: who is logged in now, through either door, for `show users`: SSH sessions from their
 * authentication to their end (idle time from their last byte), and API users, each (user,
 * source address) seen in the last SESSIONS_HTTP_IDLE_SECS (HTTP has no sessions; its basic
 * logins and bearer tokens are requests). A fixed table; touching an entry is one relaxed atomic
 * store, no lock. Thread-safe. */
#ifndef SCPD_SESSIONS_H
#define SCPD_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "base/lim.h"

#define SESSIONS_HTTP_IDLE_SECS 600   /* an API user not seen for this long is gone */
#define SESSIONS_HTTP_MAX 64          /* API (user, address) pairs kept; the oldest goes first */

struct sessions;

struct sessions_view {
    char door[8];             /* "ssh", "http" */
    uint64_t sid;             /* SSH session id (0 for http) */
    char user[LIM_AUTH_USER_LEN + 1];
    char peer[80];            /* "addr:port" (ssh), "addr" (http) */
    int64_t idle_ms;
};

/* NULL when out of memory; sessions_free(NULL) is a no-op. */
struct sessions *sessions_new(void);
void sessions_free(struct sessions *s);

/* An SSH session authenticated: its slot (for touch and del), or -1 when the table is full (it
 * is then not listed). s may be NULL (then -1). */
int sessions_ssh_add(struct sessions *s, uint64_t sid, const char *user, const char *peer);
void sessions_touch(struct sessions *s, int slot);
void sessions_del(struct sessions *s, int slot);
/* An API request of user from addr was authenticated. */
void sessions_http_seen(struct sessions *s, const char *user, const char *addr);

/* Copies up to max sessions into out, SSH first (by id), then HTTP; returns the count. */
size_t sessions_list(struct sessions *s, struct sessions_view *out, size_t max);

#endif
