/* model_yang: the one libyang context (see model_yang.h).
 *
 * The modules are parsed from their embedded text; includes and imports between them are served
 * from the same table by the import callback, and libyang's search directories are off, so the
 * context holds exactly what the product serves, whatever the host has installed. The context is
 * built under pthread_once and never changed afterwards: like the schema table it replaces, it is
 * constant data, only computed at start. libyang's logging is switched to "store the last error
 * of the thread" (no printing): callers read the message and hand it to their client. */
#include "model/model_yang.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libyang/libyang.h>

#include "base/scpd_err.h"

/* what the daemon implements, in load order (imports first) */
static const char *const model_implemented[] = {"Cisco-IOS-XE-native", "Cisco-IOS-XE-aaa",
                                                "scpd"};

static pthread_once_t model_once = PTHREAD_ONCE_INIT;
static struct ly_ctx *model_the_ctx;
static char model_why[512];

const struct model_yang_file *model_yang_find(const char *name)
{
    for (const struct model_yang_file *f = model_yang_files; f->name != NULL; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static LY_ERR model_imp_clb(const char *mod_name, const char *mod_rev, const char *submod_name,
                            const char *submod_rev, void *user_data, LYS_INFORMAT *format,
                            const char **module_data, ly_module_imp_data_free_clb *free_data)
{
    const struct model_yang_file *f = model_yang_find(submod_name ? submod_name : mod_name);

    if (f == NULL)
        return LY_ENOTFOUND;
    *format = LYS_IN_YANG;
    *module_data = f->text;
    *free_data = NULL;
    return LY_SUCCESS;
}

static void model_build(void)
{
    struct ly_ctx *ctx = NULL;

    ly_log_options(LY_LOSTORE_LAST);
    if (ly_ctx_new(NULL, LY_CTX_DISABLE_SEARCHDIRS | LY_CTX_NO_YANGLIBRARY, &ctx) != LY_SUCCESS) {
        snprintf(model_why, sizeof model_why, "libyang: cannot create a context");
        return;
    }
    ly_ctx_set_module_imp_clb(ctx, model_imp_clb, NULL);
    for (size_t i = 0; i < sizeof model_implemented / sizeof model_implemented[0]; i++) {
        const struct model_yang_file *f = model_yang_find(model_implemented[i]);
        if (f == NULL || lys_parse_mem(ctx, f->text, LYS_IN_YANG, NULL) != LY_SUCCESS) {
            snprintf(model_why, sizeof model_why, "YANG module %s: %s", model_implemented[i],
                     f ? ly_errmsg(ctx) : "not embedded");
            ly_ctx_destroy(ctx);
            return;
        }
    }
    model_the_ctx = ctx;
}

int model_init(struct scpd_err *err)
{
    pthread_once(&model_once, model_build);
    if (model_the_ctx == NULL)
        return scpd_err_set(err, SCPD_E_INTERNAL, "%s", model_why);
    return 0;
}

const struct ly_ctx *model_ctx(void)
{
    pthread_once(&model_once, model_build);
    return model_the_ctx;
}
