/* base64.c - RFC 4648 §4 base64, strict on the alphabet, padding and
 * canonical trailing bits, tolerant of CR/LF/space/tab (profile §2). */
#include "util/base64.h"

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of an alphabet character, -1 for '=', -2 for white space, -3 for
 * anything else. */
static int b64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    if (c == '=')
        return -1;
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
        return -2;
    return -3;
}

static mk_err bad(const mk_cursor *c, const char *what)
{
    /* the offending character was just read */
    return mk_err_raise(MK_E_BASE64, -1, mk_cur_offset(c) - 1, what);
}

/* One pass over the input. With out == NULL only validate and count. */
static mk_err b64_walk(mk_bytes in, uint8_t *out, size_t *count)
{
    mk_cursor c;
    mk_cur_init(&c, in);
    uint32_t acc = 0; /* bits of the current group of 4 */
    int have = 0;     /* characters in the group */
    int pad = 0;      /* '=' seen in the group */
    bool done = false; /* a padded group ended the data */
    size_t n = 0;

    while (mk_cur_remaining(&c) > 0) {
        uint8_t ch;
        MK_GUARD(mk_cur_u8(&c, &ch));
        int v = b64_value(ch);
        if (v == -2)
            continue;
        if (v == -3)
            return bad(&c, "character outside the base64 alphabet");
        if (done)
            return bad(&c, "data after the final padded group");
        if (v == -1) {
            /* '=' only in the 3rd or 4th place of a group */
            if (have < 2)
                return bad(&c, "misplaced '='");
            pad++;
            acc <<= 6;
        } else {
            if (pad > 0)
                return bad(&c, "data after '='");
            acc = acc << 6 | (uint32_t)v;
        }
        if (++have < 4)
            continue;

        /* a complete group: 3 - pad bytes */
        if (pad == 2 && (acc & 0xffffu) != 0)
            return bad(&c, "non-zero bits after the last byte");
        if (pad == 1 && (acc & 0xffu) != 0)
            return bad(&c, "non-zero bits after the last byte");
        for (int i = 0; i < 3 - pad; i++) {
            if (out != NULL)
                out[n] = (uint8_t)(acc >> (16 - 8 * i));
            n++;
        }
        done = pad > 0;
        acc = 0;
        have = 0;
        pad = 0;
    }
    if (have != 0)
        return mk_err_raise(MK_E_BASE64, -1, mk_cur_offset(&c),
                            "length is not a multiple of 4 (padding missing)");
    *count = n;
    return MK_OK;
}

mk_err mk_base64_decode(mk_bytes in, uint8_t *out, size_t cap,
                        size_t *outlen)
{
    size_t n = 0;
    *outlen = 0;
    MK_GUARD(b64_walk(in, NULL, &n));
    if (n > cap)
        MK_FAIL(MK_E_NOSPACE, "base64 output buffer too small");
    if (n > 0 && out == NULL)
        MK_FAIL(MK_E_ARG, "base64 output missing");
    MK_GUARD(b64_walk(in, out, &n));
    *outlen = n;
    return MK_OK;
}

size_t mk_base64_decoded_max(size_t n) { return n / 4 * 3; }

size_t mk_base64_encoded_len(size_t n)
{
    size_t groups = n / 3 + (n % 3 != 0);
    if (groups > SIZE_MAX / 4)
        return SIZE_MAX;
    return groups * 4;
}

mk_err mk_base64_encode(mk_bytes in, char *out, size_t cap, size_t *outlen)
{
    *outlen = 0;
    size_t need = mk_base64_encoded_len(in.n);
    if (need == SIZE_MAX || cap < need + 1)
        MK_FAIL(MK_E_NOSPACE, "base64 output buffer too small");
    if (out == NULL)
        MK_FAIL(MK_E_ARG, "base64 output missing");
    mk_cursor c;
    mk_cur_init(&c, in);
    size_t o = 0;
    while (mk_cur_remaining(&c) > 0) {
        uint8_t b[3] = {0, 0, 0};
        size_t k = mk_cur_remaining(&c) < 3 ? mk_cur_remaining(&c) : 3;
        MK_GUARD(mk_cur_copy(&c, k, b, sizeof b));
        uint32_t acc = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
        out[o++] = b64_alphabet[acc >> 18 & 63];
        out[o++] = b64_alphabet[acc >> 12 & 63];
        out[o++] = k > 1 ? b64_alphabet[acc >> 6 & 63] : '=';
        out[o++] = k > 2 ? b64_alphabet[acc & 63] : '=';
    }
    out[o] = '\0';
    *outlen = o;
    return MK_OK;
}
