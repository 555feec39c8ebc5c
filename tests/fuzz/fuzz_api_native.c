/* Fuzz target of the RESTCONF -> config translation (api_native_text): any bytes as a request
 * body. Whatever the translation accepts must make config text that either parses or is refused
 * by the parser with an error; what parses must survive the way back (cfg -> JSON -> text -> cfg)
 * unchanged, so the API can never produce a model it cannot show again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "store/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    char *text = api_native_text((const char *)data, size, why, sizeof why);

    if (text == NULL)
        return 0;
    struct cfg_errors *errs = calloc(1, sizeof *errs);
    struct cfg *c = cfg_apply_text(NULL, text, strlen(text), CFG_REPLACE, errs);
    if (c != NULL) {
        json_t *doc = json_pack("{s:o}", "Cisco-IOS-XE-native:native", api_native_json(c, false));
        char *s = json_dumps(doc, 0);
        char *text2 = s ? api_native_text(s, strlen(s), why, sizeof why) : NULL;
        if (text2 == NULL)
            abort();
        struct cfg *c2 = cfg_apply_text(NULL, text2, strlen(text2), CFG_REPLACE, NULL);
        if (c2 == NULL || !cfg_equal(c, c2))
            abort();
        cfg_free(c2);
        free(text2);
        free(s);
        json_decref(doc);
        cfg_free(c);
    } else if (errs->total == 0) {
        abort();   /* refused without a reason */
    }
    free(errs);
    free(text);
    return 0;
}
