/* hex.c - see hex.h. */
#include "util/hex.h"

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

mk_err mk_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                     size_t *len)
{
    if (n % 2 != 0)
        MK_FAIL(MK_E_VALUE, "odd number of hex digits");
    if (n / 2 > cap)
        MK_FAIL(MK_E_NOSPACE, "hex string too long");
    for (size_t i = 0; i < n; i += 2) {
        int hi = mk_hex_digit(s[i]), lo = mk_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            MK_FAIL(MK_E_VALUE, "not a hex digit");
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return MK_OK;
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
