/* ssh_window: the receive window of one SSH channel, sized to the channel's measured
 * bandwidth-delay product, and the budgets of what channels may hold unread (per session, in
 * total). Pure logic: the session feeds it times and byte counts and makes the libssh calls
 * (docs/ssh-window.md). A struct ssh_win belongs to one thread; the budget calls are thread-safe.
 */
#ifndef SCPD_SSH_WINDOW_H
#define SCPD_SSH_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* First window of a channel: OpenSSH's 2 MiB (CHAN_SES_WINDOW_DEFAULT), which its client handles
 * well on a LAN; it grows from there only when the measured bandwidth-delay product asks for it. */
#define SSH_WIN_INITIAL (2u << 20)
/* The peer cannot send a whole packet with less credit than this (libssh accepts a channel with a
 * maximum packet of 35000 bytes): credit below it means the peer waits for our window adjust. */
#define SSH_WIN_STALL 35000u
/* A top-up is due once this much (or a quarter of a smaller window) has been used: the peer keeps
 * nearly the whole window, for one small WINDOW_ADJUST per 256 KiB. */
#define SSH_WIN_TOPUP_STEP (256u << 10)
/* The window grows only for round trips at least this long. Below it the first window already
 * carries 2 MiB / 20 ms = 105 MB/s (1 Gbit/s), and on a loaded host a scheduling stall of the
 * peer or of scpd looks like a round trip of a few ms: on loopback such samples (5-16 ms) grew
 * the window and cost the OpenSSH client 20-50% more CPU per GiB. */
#define SSH_WIN_GROW_MIN_RTT_US 20000
/* Rate intervals last at least this long, so a burst or a short RTT does not make the rate. */
#define SSH_WIN_MIN_INTERVAL_US 5000

struct ssh_win {
    uint32_t size;          /* credit restored by each top-up (the window) */
    uint32_t max;           /* bound of this channel */
    uint64_t edge;          /* bytes the peer may have sent in all: received + credit */
    uint64_t rcvd;          /* bytes received */
    uint32_t topups;        /* window adjusts requested */
    int64_t start_us;       /* ssh_win_init */
    /* RTT probe, one at a time: a top-up at probe_us moved the edge on from probe_edge. Bytes
     * past probe_edge were sent after the adjust reached the peer; when the peer had caught up
     * with probe_edge first (it was waiting for the adjust), their arrival is one round trip. */
    bool probing;
    bool caught_up;
    int64_t probe_us;
    uint64_t probe_edge;
    int64_t rtt_us;         /* smallest valid sample; 0: none yet */
    /* rate: bytes received over the last interval of at least an RTT */
    int64_t mark_us;
    uint64_t mark_rcvd;
    uint64_t rate;          /* bytes per second; 0: not measured yet */
};

void ssh_win_init(struct ssh_win *w, uint32_t size, uint32_t max, int64_t now_us);

/* A top-up is due: SSH_WIN_TOPUP_STEP, or a quarter of a smaller window, has been used (fewer
 * adjusts than one per read; the peer always has most of the window). */
bool ssh_win_due(const struct ssh_win *w);

/* A top-up was requested at now_us and the peer's credit is now `credit` bytes past what was
 * received (libssh may grant more than asked: see ssh_session.c). Starts an RTT probe when none
 * is running. */
void ssh_win_topped_up(struct ssh_win *w, uint64_t credit, int64_t now_us);

/* n bytes were received at now_us; drained: nothing more is buffered at the receiver (so a small
 * credit means the peer is waiting). Returns the window the measurements ask for: 2 x rate x RTT,
 * within [w->size, w->max], when the RTT is at least SSH_WIN_GROW_MIN_RTT_US; larger than w->size
 * when the window should grow. */
uint32_t ssh_win_received(struct ssh_win *w, uint32_t n, bool drained, int64_t now_us);

/* The window is now `size` (the caller obtained the memory for it); never shrinks. */
void ssh_win_set_size(struct ssh_win *w, uint32_t size);

/* ---- budgets: what channels may hold unread -------------------------------------------------- */
struct ssh_win_budget {
    size_t used;            /* __atomic */
    size_t cap;
};

/* Takes up to `want` bytes from both budgets (session, then total); returns what was taken (0 when
 * either is exhausted). Give it back with ssh_win_budget_give on both. */
size_t ssh_win_budget_take(struct ssh_win_budget *sess, struct ssh_win_budget *total, size_t want);
void ssh_win_budget_give(struct ssh_win_budget *sess, struct ssh_win_budget *total, size_t n);

#endif
