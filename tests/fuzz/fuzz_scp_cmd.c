/* Fuzz target of scp_cmd_parse(): arbitrary exec command lines. An accepted command has exactly
 * one of -t/-f and a NUL-terminated path within LIM_PATH_LEN. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/scp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    struct scp_cmd cmd;
    struct scpd_err err = {0};
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    if (scp_cmd_parse(line, &cmd, &err) == 0) {
        if (cmd.sink == cmd.source || memchr(cmd.path, '\0', sizeof(cmd.path)) == NULL)
            abort();
    } else if (err.msg[0] == '\0') {
        abort();   /* a refusal always says why */
    }
    free(line);
    return 0;
}
