/* log: the one logging function. One line per event on stderr (journald style):
 *   LEVEL [sid=N user=U peer=P] message
 * Thread-safe (one write(2) per line). Modules never printf; secrets are never passed here. */
#ifndef SCPD_LOG_H
#define SCPD_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LVL_DEBUG = 0, LOG_LVL_INFO, LOG_LVL_NOTICE, LOG_LVL_WARN, LOG_LVL_ERR };

/* Context of a log line; any field may be 0/NULL. */
struct log_ctx {
    uint64_t sid;       /* SSH session id or HTTP connection id */
    const char *user;
    const char *peer;   /* "addr:port" */
};

void log_set_level(enum log_level lvl);
int log_parse_level(const char *name, enum log_level *out); /* "debug|info|notice|warn|error" */
void log_msg(enum log_level lvl, const struct log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The in-memory buffer of `logging buffered SIZE` / `show logging`: the newest lines that were
 * logged, up to bytes in total (whole lines; the oldest go first). 0 turns it off (and frees it).
 * The same lines as stderr, so the same rule holds: no secret is ever in it. Thread-safe. */
void log_buffer_size(size_t bytes);
/* A copy of the buffer's lines, oldest first (caller frees); *len its length, *size the buffer's
 * size, *logged lines logged since start/clear, *dropped lines pushed out. NULL: off or no memory.
 */
char *log_buffer_dump(size_t *len, size_t *size, uint64_t *logged, uint64_t *dropped);
void log_buffer_clear(void);

#define log_debug(ctx, ...) log_msg(LOG_LVL_DEBUG, ctx, __VA_ARGS__)
#define log_info(ctx, ...) log_msg(LOG_LVL_INFO, ctx, __VA_ARGS__)
#define log_notice(ctx, ...) log_msg(LOG_LVL_NOTICE, ctx, __VA_ARGS__)
#define log_warn(ctx, ...) log_msg(LOG_LVL_WARN, ctx, __VA_ARGS__)
#define log_err(ctx, ...) log_msg(LOG_LVL_ERR, ctx, __VA_ARGS__)

#endif
