/* ssh_window: sizing a channel's receive window from what the channel shows.
 *
 * An upload can have at most one window in flight, so it runs at window / RTT at best: OpenSSH's
 * 2 MiB window holds a 50 ms link near 40 MB/s. A fixed huge window is no answer either: the
 * OpenSSH client fills its channel buffer up to the window and slows down (docs/ssh-window.md has
 * the measurement behind LIM_SSH_WINDOW_MAX), and a peer may park that much in our memory.
 *
 * So the window follows the bandwidth-delay product of the channel, as Linux sizes a TCP receive
 * buffer: the RTT is how long a window adjust takes to be used (measured only when the peer was
 * waiting for it; otherwise the time says how long the credit lasted, not the round trip), the
 * rate is what arrived over the last interval of at least one RTT, and the window asks for twice
 * their product. While the window limits the transfer, the rate is window / RTT and the window
 * doubles each round trip; once the link limits it, the rate is the link's and the window settles
 * at twice the link's bandwidth-delay product. It never shrinks during a channel, and it grows only
 * for round trips of SSH_WIN_GROW_MIN_RTT_US or more (see there). */
#include "daemon/ssh_window.h"

void ssh_win_init(struct ssh_win *w, uint32_t size, uint32_t max, int64_t now_us)
{
    *w = (struct ssh_win){.size = size < max ? size : max, .max = max, .mark_us = now_us,
                        .start_us = now_us};
}

bool ssh_win_due(const struct ssh_win *w)
{
    uint32_t step = w->size / 4 < SSH_WIN_TOPUP_STEP ? w->size / 4 : SSH_WIN_TOPUP_STEP;
    return w->rcvd >= w->edge || w->edge - w->rcvd <= (uint64_t)w->size - step;
}

void ssh_win_topped_up(struct ssh_win *w, uint64_t credit, int64_t now_us)
{
    uint64_t edge = w->rcvd + credit;
    if (edge <= w->edge)
        return;
    if (!w->probing) {
        w->probing = true;
        w->caught_up = false;
        w->probe_us = now_us;
        w->probe_edge = w->edge;
    }
    w->edge = edge;
    w->topups++;
}

uint32_t ssh_win_received(struct ssh_win *w, uint32_t n, bool drained, int64_t now_us)
{
    w->rcvd += n;
    if (w->probing) {
        if (w->rcvd > w->probe_edge) {
            int64_t sample = now_us - w->probe_us;
            if (w->caught_up && sample > 0 && (w->rtt_us == 0 || sample < w->rtt_us))
                w->rtt_us = sample;
            w->probing = false;
        } else if (drained && w->probe_edge - w->rcvd < SSH_WIN_STALL) {
            w->caught_up = true;
        }
    }
    int64_t interval = w->rtt_us > SSH_WIN_MIN_INTERVAL_US ? w->rtt_us : SSH_WIN_MIN_INTERVAL_US;
    if (now_us - w->mark_us >= interval) {
        w->rate = (w->rcvd - w->mark_rcvd) * 1000000 / (uint64_t)(now_us - w->mark_us);
        w->mark_us = now_us;
        w->mark_rcvd = w->rcvd;
    }
    if (w->rtt_us < SSH_WIN_GROW_MIN_RTT_US || w->rate == 0)
        return w->size;
    uint64_t want = 2 * w->rate * (uint64_t)w->rtt_us / 1000000;
    if (want > w->max)
        want = w->max;
    return want > w->size ? (uint32_t)want : w->size;
}

void ssh_win_set_size(struct ssh_win *w, uint32_t size)
{
    if (size > w->size)
        w->size = size < w->max ? size : w->max;
}

/* Takes up to want from one budget; returns what was taken. */
static size_t ssh_win_budget_take1(struct ssh_win_budget *b, size_t want)
{
    size_t used = __atomic_load_n(&b->used, __ATOMIC_RELAXED);
    for (;;) {
        size_t got = used >= b->cap ? 0 : (b->cap - used < want ? b->cap - used : want);
        if (got == 0)
            return 0;
        if (__atomic_compare_exchange_n(&b->used, &used, used + got, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return got;
    }
}

size_t ssh_win_budget_take(struct ssh_win_budget *sess, struct ssh_win_budget *total, size_t want)
{
    size_t got = ssh_win_budget_take1(sess, want);
    if (got == 0)
        return 0;
    size_t all = ssh_win_budget_take1(total, got);
    if (all < got)
        __atomic_sub_fetch(&sess->used, got - all, __ATOMIC_RELAXED);
    return all;
}

void ssh_win_budget_give(struct ssh_win_budget *sess, struct ssh_win_budget *total, size_t n)
{
    __atomic_sub_fetch(&sess->used, n, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&total->used, n, __ATOMIC_RELAXED);
}
