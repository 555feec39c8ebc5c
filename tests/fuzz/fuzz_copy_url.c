/* Fuzz target of the copy URL parser (copy_url_parse) and the SCP C record parser of the
 * device's client (copy_scp_c_record): any bytes. Whatever is accepted must hold the promises of
 * copy.h: a port in 1-65535, a host that passes copy_url_host_ok (or is empty), no NUL or
 * control character and no ".." component in the path, and the formatted URL never shows the
 * password. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/copy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct copy_url u;
    struct scpd_err err = {0};
    if (copy_url_parse((const char *)data, size, &u, &err) == 0) {
        if (u.port < 1 || u.port > 65535)
            abort();
        if (u.host[0] && copy_url_host_ok(u.host, &err) != 0)
            abort();
        for (const char *p = u.path; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                abort();
        for (const char *p = u.path; (p = strstr(p, "..")) != NULL; p++)
            if ((p == u.path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
                abort();
        char shown[LIM_URL_LEN + 64];
        copy_url_format(&u, shown, sizeof(shown));
        if (u.has_password && strstr(shown, ":*****@") == NULL)
            abort();
    }
    unsigned mode;
    uint64_t n;
    copy_scp_c_record((const char *)data, size, &mode, &n, &err);
    return 0;
}
