/* model_yang: the daemon's one libyang context, built once from the YANG modules the product
 * serves (api/yang, embedded at build time by model/embed_yang.py): the Cisco-IOS-XE-native
 * subset with its ip and line submodules, Cisco-IOS-XE-aaa, scpd, and libyang's own ietf modules.
 * Read-only once built: libyang allows concurrent reads of a built context (its dictionary has its
 * own lock, its error records are per thread), so every thread of both doors shares it. */
#ifndef SCPD_MODEL_YANG_H
#define SCPD_MODEL_YANG_H

#include <stddef.h>

struct ly_ctx;
struct scpd_err;

struct model_yang_file {
    const char *name;   /* "Cisco-IOS-XE-native" (the file name without .yang) */
    const char *text;
    size_t len;
};

/* The embedded modules and submodules, terminated by name NULL (generated). */
extern const struct model_yang_file model_yang_files[];

/* Builds the context (once; later calls return the first result). 0, or -1 with err filled. */
int model_init(struct scpd_err *err);
/* The context, built on first use; NULL if building failed (model_init says why). */
const struct ly_ctx *model_ctx(void);
/* The text of a served module or submodule by name (get-schema), or NULL. */
const struct model_yang_file *model_yang_find(const char *name);

#endif
