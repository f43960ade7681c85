/* hex.c - see hex.h. */
#include "util/hex.h"

#include <string.h>

int mk_hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The one loop over hex digits of the project. */
mk_err mk_hex_decode_text(const char *s, size_t n, const char *skip,
                          uint8_t *out, size_t cap, size_t *len)
{
    size_t k = 0;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        if (skip != NULL && s[i] != '\0' && strchr(skip, s[i]) != NULL)
            continue;
        int v = mk_hex_digit(s[i]);
        if (v < 0)
            return mk_err_raise(MK_E_VALUE, -1, i, "not a hex digit");
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (k >= cap)
            return mk_err_raise(MK_E_NOSPACE, -1, i, "hex string too long");
        out[k++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    if (hi >= 0)
        return mk_err_raise(MK_E_VALUE, -1, n, "odd number of hex digits");
    *len = k;
    return MK_OK;
}

mk_err mk_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                     size_t *len)
{
    if (n % 2 != 0)
        MK_FAIL(MK_E_VALUE, "odd number of hex digits");
    if (n / 2 > cap)
        MK_FAIL(MK_E_NOSPACE, "hex string too long");
    return mk_hex_decode_text(s, n, NULL, out, cap, len);
}

void mk_hex_encode(const uint8_t *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}
