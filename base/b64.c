/* b64: strict base64 decoding through OpenSSL (see b64.h). The checks come first so that
 * EVP_DecodeBlock only ever sees canonical input; its result is then corrected for the padding. */
#include "base/b64.h"

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    size_t pad = 0;
    if (n == 0 || n % 4 != 0 || n > INT32_MAX || n / 4 * 3 > cap)
        return -1;
    while (pad < 2 && in[n - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < n - pad; i++)
        if (in[i] == '\0' || strchr(b64_alphabet, in[i]) == NULL)
            return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0)
        return -1;
    return len - (int)pad;
}
