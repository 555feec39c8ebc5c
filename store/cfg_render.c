/* cfg_render: `show running-config` text, driven by the command table (each row renders its part
 * of the model, in table order; rows of one section share the "!" separators).
 *
 * Layout, as IOS prints it:
 *     Building configuration...          <- header (opts->header)
 *                                         <- header
 *     Current configuration : N bytes    <- header
 *     !                                   <- body starts here
 *     ! Last configuration change at 10:15:02 UTC Tue Nov 24 2026 by tiger
 *     !
 *     hostname R1
 *     !
 *     ...
 *     end
 * N counts the bytes of the body: from the "!" after the "Current configuration" line through the
 * newline after "end", which is the text IOS would store in NVRAM (its byte count excludes the
 * three header lines, which are produced by the show command, not stored). The body alone (header
 * off) is what diffs and the corpus use; the last-change comment belongs to the body when given.
 */
#include "store/cfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/cfg_int.h"

static void last_change(struct cfg_buf *b, const struct cfg_render_opts *o)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (gmtime_r(&o->last_change, &tm) == NULL)
        return;
    /* IOS prints the day of month without padding: "Tue Nov 3 2026" */
    cfg_buf_printf(b, "! Last configuration change at %02d:%02d:%02d UTC %s %s %d %d", tm.tm_hour,
                   tm.tm_min, tm.tm_sec, wd[tm.tm_wday % 7], mo[tm.tm_mon % 12], tm.tm_mday,
                   tm.tm_year + 1900);
    if (o->last_user != NULL && o->last_user[0] != '\0')
        cfg_buf_printf(b, " by %s", o->last_user);
    cfg_buf_puts(b, "\n!\n");
}

static void render_body(struct cfg_buf *b, const struct cfg *c, const struct cfg_render_opts *o)
{
    cfg_buf_puts(b, "!\n");
    if (o->last_change != 0)
        last_change(b, o);
    size_t mark = b->len;
    int section = -1;
    for (size_t i = 0; i < cfg_ncmds; i++) {
        const struct cfg_cmd *cmd = &cfg_cmds[i];
        if (cmd->render == NULL)
            continue;
        if (cmd->section != section) {
            if (section >= 0 && b->len != mark)
                cfg_buf_puts(b, "!\n");
            section = cmd->section;
            mark = b->len;
        }
        cmd->render(b, c, o->all);
    }
    if (b->len != mark)
        cfg_buf_puts(b, "!\n");
    cfg_buf_puts(b, "end\n");
}

char *cfg_render(const struct cfg *c, const struct cfg_render_opts *opts, size_t *len)
{
    static const struct cfg_render_opts none = {0};
    const struct cfg_render_opts *o = opts ? opts : &none;
    struct cfg_buf body = {0}, out = {0};
    if (c == NULL)
        return NULL;
    render_body(&body, c, o);
    if (!o->header)
        return cfg_buf_take(&body, len);
    if (body.oom) {
        free(body.p);
        return NULL;
    }
    cfg_buf_printf(&out, "Building configuration...\n\nCurrent configuration : %zu bytes\n",
                   body.len);
    cfg_buf_add(&out, body.p, body.len);
    free(body.p);
    return cfg_buf_take(&out, len);
}
