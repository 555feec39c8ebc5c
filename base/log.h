/* log: the one logging function. One line per event on stderr (journald style):
 *   LEVEL [sid=N user=U peer=P] message
 * Thread-safe (one write(2) per line). Modules never printf; secrets are never passed here. */
#ifndef SCPD_LOG_H
#define SCPD_LOG_H

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

#define log_debug(ctx, ...) log_msg(LOG_LVL_DEBUG, ctx, __VA_ARGS__)
#define log_info(ctx, ...) log_msg(LOG_LVL_INFO, ctx, __VA_ARGS__)
#define log_notice(ctx, ...) log_msg(LOG_LVL_NOTICE, ctx, __VA_ARGS__)
#define log_warn(ctx, ...) log_msg(LOG_LVL_WARN, ctx, __VA_ARGS__)
#define log_err(ctx, ...) log_msg(LOG_LVL_ERR, ctx, __VA_ARGS__)

#endif
