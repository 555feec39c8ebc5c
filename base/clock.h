/* clock: the milliseconds (and microseconds) of CLOCK_MONOTONIC, for deadlines, idle times and
 * rates (never for times shown to people: those are wall-clock). One definition for every module.
 */
#ifndef SCPD_CLOCK_H
#define SCPD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Microseconds, for round trips shorter than a millisecond (SSH window sizing). */
static inline int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
