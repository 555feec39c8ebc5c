/* Fuzz target of the IFS resolver: whatever the input, a resolved path is beneath its root by
 * construction: its relative part has no empty, "." or ".." component, no leading '/', no control
 * character, no component over LIM_NAME_LEN. The same holds for ifs_child() with a second name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ifs/ifs.h"

static void check(const struct ifs_path *p)
{
    const char *s = p->rel;
    if (p->kind != IFS_K_DISK) {
        if (s[0])
            abort();
        return;
    }
    if (s[0] == '/')
        abort();
    while (*s) {
        size_t n = strcspn(s, "/");
        if (n == 0 || n > LIM_NAME_LEN || (n == 1 && s[0] == '.') ||
            (n == 2 && s[0] == '.' && s[1] == '.'))
            abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                abort();
        s += n;
        if (*s == '/') {
            s++;
            if (*s == '\0')
                abort();   /* trailing slash */
        }
    }
    if (strlen(p->name) >= LIM_PATH_LEN)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    struct ifs_path p, c;
    struct scpd_err err = {0};
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    /* the part after the first NUL-free half is also tried as a child name */
    char *name = memchr(in, '|', size);
    if (name)
        *name++ = '\0';
    if (ifs_resolve(in, &p, &err) == 0) {
        check(&p);
        if (name && ifs_child(&p, name, &c, &err) == 0)
            check(&c);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    free(in);
    return 0;
}
