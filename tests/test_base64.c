/* test_base64.c - RFC 4648 §10 vectors both ways, the profile §2 white-space
 * tolerance, every rejection, capacities, and inputs placed against a guard
 * page (an over-read faults). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check_main.h"
#include "lib/guard.h"
#include "util/base64.h"

static mk_err decode_guarded(const char *s, size_t n, uint8_t *out,
                             size_t cap, size_t *outlen)
{
    mk_guarded g;
    mk_guarded_init(&g, s, n);
    mk_err rc = mk_base64_decode(MK_BYTES(g.data, g.n), out, cap, outlen);
    mk_guarded_free(&g);
    return rc;
}

static mk_err dec(const char *s, uint8_t *out, size_t cap, size_t *outlen)
{
    return decode_guarded(s, strlen(s), out, cap, outlen);
}

static const struct {
    const char *plain, *b64;
} rfc4648[] = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
    {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

START_TEST(test_rfc4648_decode)
{
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        uint8_t out[16];
        size_t n = 99;
        ck_assert_int_eq(dec(rfc4648[i].b64, out, sizeof out, &n), MK_OK);
        ck_assert_uint_eq(n, strlen(rfc4648[i].plain));
        ck_assert_mem_eq(out, rfc4648[i].plain, n);
        ck_assert_uint_le(n, mk_base64_decoded_max(strlen(rfc4648[i].b64)));
    }
}
END_TEST

START_TEST(test_rfc4648_encode)
{
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *p = rfc4648[i].plain;
        char out[16];
        size_t n = 99;
        mk_guarded g;
        mk_guarded_init(&g, p, strlen(p));
        ck_assert_int_eq(mk_base64_encode(MK_BYTES(g.data, g.n), out,
                                          sizeof out, &n),
                         MK_OK);
        mk_guarded_free(&g);
        ck_assert_str_eq(out, rfc4648[i].b64);
        ck_assert_uint_eq(n, strlen(rfc4648[i].b64));
        ck_assert_uint_eq(mk_base64_encoded_len(strlen(p)), n);
    }
}
END_TEST

START_TEST(test_whitespace_tolerated)
{
    static const char *ok[] = {
        "  Zm9vYmFy  ", "\r\nZm9v\r\nYmFy\r\n", "Zm 9v\tYm Fy",
        "Z\nm\n9\nv\nY\nm\nF\ny", "Zm9vYg=\r\n=", "\t\tZm9vYg= =\n",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint8_t out[16];
        size_t n = 0;
        ck_assert_int_eq(dec(ok[i], out, sizeof out, &n), MK_OK);
        if (i < 4) {
            ck_assert_uint_eq(n, 6);
            ck_assert_mem_eq(out, "foobar", 6);
        } else {
            ck_assert_uint_eq(n, 4);
            ck_assert_mem_eq(out, "foob", 4);
        }
    }
    /* white space only: no data */
    uint8_t out[4];
    size_t n = 7;
    ck_assert_int_eq(dec(" \r\n\t ", out, sizeof out, &n), MK_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(mk_base64_decode(MK_BYTES_NONE, NULL, 0, &n), MK_OK);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_rejections)
{
    static const struct {
        const char *in;
        size_t offset; /* where the error is reported */
    } bad[] = {
        /* outside the alphabet (incl. the URL-safe one and other spaces) */
        {"Zm9v!mFy", 4},   {"Zm9-", 3},  {"Zm9_", 3},   {"Zm9v\vYmFy", 4},
        {"Zm9v\fYmFy", 4}, {"Zm.v", 2},  {"Zm9v\"", 4}, {"Zm9vYmFy,", 8},
        /* misplaced '=' */
        {"=Zg=", 0},       {"Z=g=", 1},  {"====", 0},   {"Zm=v", 3},
        {"Zm9v=", 4},      {"Zg==Zg==", 4}, {"Zg===", 4}, {"Zm8=Zm8=", 4},
        {"Zg== x", 5},
        /* non-zero bits after the last byte (RFC 4648 §3.5) */
        {"Zh==", 3},       {"Zm9=", 3},  {"Zm9vYp==", 7},
        /* padding missing: length not a multiple of 4 */
        {"Zg", 2},         {"Zm8", 3},   {"Zm9vY", 5},  {"Zg=", 3},
        {"Zm9vYmF\r\n", 9},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[16];
        size_t n = 99;
        ck_assert_msg(dec(bad[i].in, out, sizeof out, &n) == MK_E_BASE64,
                      "accepted \"%s\"", bad[i].in);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(mk_err_last()->code, MK_E_BASE64);
        ck_assert_msg(mk_err_last()->offset == bad[i].offset,
                      "\"%s\": offset %zu, want %zu", bad[i].in,
                      mk_err_last()->offset, bad[i].offset);
    }
    /* a NUL byte and a high byte inside the data */
    uint8_t out[16];
    size_t n;
    ck_assert_int_eq(decode_guarded("Zm\0v", 4, out, sizeof out, &n),
                     MK_E_BASE64);
    ck_assert_int_eq(decode_guarded("Zm\x80v", 4, out, sizeof out, &n),
                     MK_E_BASE64);
    /* '=' is fine as the 3rd/4th character only: these are valid */
    ck_assert_int_eq(dec("Zg==", out, sizeof out, &n), MK_OK);
    ck_assert_int_eq(dec("Zm8=", out, sizeof out, &n), MK_OK);
}
END_TEST

START_TEST(test_capacity)
{
    uint8_t out[8];
    size_t n = 99;
    memset(out, 0xee, sizeof out);
    /* exact capacity */
    ck_assert_int_eq(dec("Zm9vYmFy", out, 6, &n), MK_OK);
    ck_assert_uint_eq(n, 6);
    ck_assert_uint_eq(out[6], 0xee);
    /* one short: nothing written */
    memset(out, 0xee, sizeof out);
    ck_assert_int_eq(dec("Zm9vYmFy", out, 5, &n), MK_E_NOSPACE);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(out[0], 0xee);
    ck_assert_int_eq(dec("Zm9vYmE=", out, 5, &n), MK_OK);
    ck_assert_int_eq(dec("Zm9vYmE=", out, 4, &n), MK_E_NOSPACE);
    /* invalid input is reported as such even when it would not fit */
    ck_assert_int_eq(dec("Zm9vYmF!", out, 1, &n), MK_E_BASE64);
    ck_assert_int_eq(dec("Zg==", out, 0, &n), MK_E_NOSPACE);
    ck_assert_int_eq(dec("", NULL, 0, &n), MK_OK);

    /* encode: the NUL needs room too */
    char e[9];
    ck_assert_int_eq(mk_base64_encode(MK_BYTES("foobar", 6), e, 9, &n), MK_OK);
    ck_assert_str_eq(e, "Zm9vYmFy");
    ck_assert_int_eq(mk_base64_encode(MK_BYTES("foobar", 6), e, 8, &n),
                     MK_E_NOSPACE);
    ck_assert_int_eq(mk_base64_encode(MK_BYTES("f", 1), e, 5, &n), MK_OK);
    ck_assert_str_eq(e, "Zg==");
    ck_assert_int_eq(mk_base64_encode(MK_BYTES("f", 1), e, 4, &n),
                     MK_E_NOSPACE);
    ck_assert_int_eq(mk_base64_encode(MK_BYTES_NONE, e, 1, &n), MK_OK);
    ck_assert_str_eq(e, "");
    ck_assert_int_eq(mk_base64_encode(MK_BYTES_NONE, e, 0, &n), MK_E_NOSPACE);
}
END_TEST

/* Every byte value is classified as RFC 4648 §4 and profile §2 say:
 * the 64 alphabet characters with their values, '=' as padding, CR, LF,
 * space and tab skipped, everything else refused. */
START_TEST(test_every_byte_value)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t out[8];
    size_t n;
    for (unsigned c = 0; c < 256; c++) {
        const char *at = c != 0 ? strchr(alphabet, (int)c) : NULL;
        char in[5];
        if (at != NULL) {
            memcpy(in, "xAAA", 4);
            in[0] = (char)c;
            ck_assert_int_eq(decode_guarded(in, 4, out, sizeof out, &n), MK_OK);
            ck_assert_uint_eq(n, 3);
            ck_assert_uint_eq(out[0], (unsigned)(at - alphabet) << 2 & 0xff);
        } else if (c == '\r' || c == '\n' || c == ' ' || c == '\t') {
            memcpy(in, "AxAAA", 5);
            in[1] = (char)c;
            ck_assert_int_eq(decode_guarded(in, 5, out, sizeof out, &n), MK_OK);
            ck_assert_uint_eq(n, 3);
        } else if (c == '=') {
            ck_assert_int_eq(decode_guarded("AA==", 4, out, sizeof out, &n),
                             MK_OK);
            ck_assert_uint_eq(n, 1);
            ck_assert_int_eq(decode_guarded("=AAA", 4, out, sizeof out, &n),
                             MK_E_BASE64);
        } else {
            memcpy(in, "xAAA", 4);
            in[0] = (char)c;
            ck_assert_int_eq(decode_guarded(in, 4, out, sizeof out, &n),
                             MK_E_BASE64);
            ck_assert_uint_eq(n, 0);
            /* also where a one-pass decode has written bytes already */
            memcpy(in, "AAAx", 4);
            in[3] = (char)c;
            ck_assert_int_eq(decode_guarded(in, 4, out, sizeof out, &n),
                             MK_E_BASE64);
        }
    }
}
END_TEST

START_TEST(test_lengths)
{
    ck_assert_uint_eq(mk_base64_encoded_len(0), 0);
    ck_assert_uint_eq(mk_base64_encoded_len(1), 4);
    ck_assert_uint_eq(mk_base64_encoded_len(3), 4);
    ck_assert_uint_eq(mk_base64_encoded_len(4), 8);
    ck_assert_uint_eq(mk_base64_encoded_len(SIZE_MAX), SIZE_MAX);
    ck_assert_uint_eq(mk_base64_decoded_max(0), 0);
    ck_assert_uint_eq(mk_base64_decoded_max(3), 0);
    ck_assert_uint_eq(mk_base64_decoded_max(4), 3);
    ck_assert_uint_eq(mk_base64_decoded_max(10), 6);
}
END_TEST

/* every byte value at every position, all lengths 0..48 */
START_TEST(test_round_trip)
{
    uint8_t src[48];
    char enc[70];
    uint8_t back[48];
    for (size_t len = 0; len <= sizeof src; len++) {
        for (size_t i = 0; i < len; i++)
            src[i] = (uint8_t)(i * 53 + len * 7);
        size_t en = 0, dn = 0;
        ck_assert_int_eq(mk_base64_encode(MK_BYTES(src, len), enc, sizeof enc,
                                          &en),
                         MK_OK);
        ck_assert_uint_eq(en, mk_base64_encoded_len(len));
        ck_assert_int_eq(decode_guarded(enc, en, back, len, &dn), MK_OK);
        ck_assert_uint_eq(dn, len);
        ck_assert_mem_eq(back, src, len);
    }
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    char big[400];
    uint8_t b2[256];
    size_t en, dn;
    ck_assert_int_eq(mk_base64_encode(MK_BYTES(all, 256), big, sizeof big,
                                      &en),
                     MK_OK);
    ck_assert_int_eq(decode_guarded(big, en, b2, sizeof b2, &dn), MK_OK);
    ck_assert_uint_eq(dn, 256);
    ck_assert_mem_eq(b2, all, 256);
}
END_TEST

int main(void)
{
    const TTest *const base64_tests[] = {test_rfc4648_decode,
        test_rfc4648_encode, test_whitespace_tolerated, test_rejections,
        test_capacity, test_every_byte_value, test_lengths, test_round_trip};
    return mk_check_main("base64", "base64", base64_tests,
                         MK_CHECK_NELEM(base64_tests));
}
