/* base64.c - RFC 4648 §4 base64, strict on the alphabet, padding and
 * canonical trailing bits, tolerant of CR/LF/space/tab (profile §2). */
#include "util/base64.h"

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of each byte: 0..63 for the alphabet, B64_PAD (64) for '=',
 * B64_SPACE (65) for CR/LF/space/tab, B64_BAD (66) for anything else. A
 * table, not a chain of comparisons: every request body of the KMS passes
 * through here (tests/test_base64.c checks it against b64_alphabet). */
enum { B64_PAD = 64, B64_SPACE = 65, B64_BAD = 66 };
static const uint8_t b64_values[256] = {
    66, 66, 66, 66, 66, 66, 66, 66, 66, 65, 65, 66, 66, 65, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    65, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 62, 66, 66, 66, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 66, 66, 66, 64, 66, 66,
    66,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 66, 66, 66, 66, 66,
    66, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
};

static mk_err bad(const mk_cursor *c, const char *what)
{
    /* the offending character was just read */
    return mk_err_raise(MK_E_BASE64, -1, mk_cur_offset(c) - 1, what);
}

/* One pass over the input: validate all of it, write the decoded bytes
 * into out (out NULL: write nothing; never past cap), count them all. */
static mk_err b64_walk(mk_bytes in, uint8_t *out, size_t cap, size_t *count)
{
    mk_cursor c;
    mk_cur_init(&c, in);
    uint32_t acc = 0; /* bits of the current group of 4 */
    int have = 0;     /* characters in the group */
    int pad = 0;      /* '=' seen in the group */
    bool done = false; /* a padded group ended the data */
    size_t n = 0;

    while (mk_cur_remaining(&c) > 0) {
        /* Fast path: a whole group of four alphabet characters where a
         * group starts (what every body consists of but for its last
         * group); the loop below treats it alike, a character at a time. */
        mk_bytes g = mk_cur_rest(&c);
        if (have == 0 && !done && g.n >= 4) {
            uint8_t v0 = b64_values[g.p[0]], v1 = b64_values[g.p[1]];
            uint8_t v2 = b64_values[g.p[2]], v3 = b64_values[g.p[3]];
            if ((v0 | v1 | v2 | v3) < 64) {
                MK_GUARD(mk_cur_bytes(&c, 4, &g));
                uint32_t grp = (uint32_t)v0 << 18 | (uint32_t)v1 << 12 |
                               (uint32_t)v2 << 6 | v3;
                for (int i = 0; i < 3; i++, n++)
                    if (out != NULL && n < cap)
                        out[n] = (uint8_t)(grp >> (16 - 8 * i));
                continue;
            }
        }
        uint8_t ch;
        MK_GUARD(mk_cur_u8(&c, &ch));
        uint8_t v = b64_values[ch];
        if (v == B64_SPACE)
            continue;
        if (v == B64_BAD)
            return bad(&c, "character outside the base64 alphabet");
        if (done)
            return bad(&c, "data after the final padded group");
        if (v == B64_PAD) {
            /* '=' only in the 3rd or 4th place of a group */
            if (have < 2)
                return bad(&c, "misplaced '='");
            pad++;
            acc <<= 6;
        } else {
            if (pad > 0)
                return bad(&c, "data after '='");
            acc = acc << 6 | v;
        }
        if (++have < 4)
            continue;

        /* a complete group: 3 - pad bytes */
        if (pad == 2 && (acc & 0xffffu) != 0)
            return bad(&c, "non-zero bits after the last byte");
        if (pad == 1 && (acc & 0xffu) != 0)
            return bad(&c, "non-zero bits after the last byte");
        for (int i = 0; i < 3 - pad; i++) {
            if (out != NULL && n < cap)
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
    /* One pass when the output surely fits (the usual case: a request body
     * into a buffer sized for the body cap); otherwise validate and count
     * first, so that nothing is written when it does not fit. */
    if (mk_base64_decoded_max(in.n) <= cap) {
        MK_GUARD(b64_walk(in, out, cap, &n));
    } else {
        MK_GUARD(b64_walk(in, NULL, 0, &n));
        if (n > cap)
            MK_FAIL(MK_E_NOSPACE, "base64 output buffer too small");
        MK_GUARD(b64_walk(in, out, cap, &n));
    }
    if (n > 0 && out == NULL)
        MK_FAIL(MK_E_ARG, "base64 output missing");
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
    if (in.n > 0 && in.p == NULL)
        MK_FAIL(MK_E_ARG, "base64 input missing");
    size_t o = 0, i = 0;
    /* whole groups of 3 bytes, then the last 1 or 2 (out holds need + 1) */
    for (; in.n - i >= 3; i += 3) {
        uint32_t acc = (uint32_t)in.p[i] << 16 | (uint32_t)in.p[i + 1] << 8 |
                       in.p[i + 2];
        out[o++] = b64_alphabet[acc >> 18 & 63];
        out[o++] = b64_alphabet[acc >> 12 & 63];
        out[o++] = b64_alphabet[acc >> 6 & 63];
        out[o++] = b64_alphabet[acc & 63];
    }
    if (i < in.n) {
        size_t k = in.n - i;
        uint32_t acc = (uint32_t)in.p[i] << 16 |
                       (k > 1 ? (uint32_t)in.p[i + 1] << 8 : 0);
        out[o++] = b64_alphabet[acc >> 18 & 63];
        out[o++] = b64_alphabet[acc >> 12 & 63];
        out[o++] = k > 1 ? b64_alphabet[acc >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    *outlen = o;
    return MK_OK;
}
