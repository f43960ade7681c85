/* test_util.c - the cursor, the writer and the error table. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check_main.h"
#include "lib/guard.h"
#include "util/cursor.h"
#include "util/err.h"
#include "util/hex.h"
#include "util/uri.h"

START_TEST(test_cursor_reads_big_endian)
{
    static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    mk_guarded g;
    mk_cursor c;
    mk_guarded_cursor(&g, &c, in, sizeof in);
    uint8_t a;
    uint16_t b;
    uint32_t d;
    uint64_t e;
    ck_assert_int_eq(mk_cur_u8(&c, &a), MK_OK);
    ck_assert_uint_eq(a, 0x01);
    ck_assert_int_eq(mk_cur_u16(&c, &b), MK_OK);
    ck_assert_uint_eq(b, 0x0203);
    ck_assert_int_eq(mk_cur_u32(&c, &d), MK_OK);
    ck_assert_uint_eq(d, 0x04050607);
    ck_assert_int_eq(mk_cur_u64(&c, &e), MK_OK);
    ck_assert_uint_eq(e, 0x08090a0b0c0d0e0fULL);
    ck_assert_uint_eq(mk_cur_remaining(&c), 0);
    ck_assert_int_eq(mk_cur_expect_end(&c), MK_OK);
    /* reading past the end fails, names the offset, and does not move */
    ck_assert_int_eq(mk_cur_u8(&c, &a), MK_E_TRUNCATED);
    ck_assert_uint_eq(mk_err_last()->offset, 15);
    ck_assert_uint_eq(c.pos, 15);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_cursor_truncation_every_width)
{
    static const uint8_t in[7] = {0};
    mk_guarded g;
    mk_cursor c;
    mk_guarded_cursor(&g, &c, in, sizeof in);
    uint64_t e;
    uint32_t d;
    uint16_t b;
    mk_bytes sp;
    ck_assert_int_eq(mk_cur_u64(&c, &e), MK_E_TRUNCATED);
    ck_assert_int_eq(mk_cur_bytes(&c, 8, &sp), MK_E_TRUNCATED);
    ck_assert_int_eq(mk_cur_bytes(&c, SIZE_MAX, &sp), MK_E_TRUNCATED);
    ck_assert_int_eq(mk_cur_u32(&c, &d), MK_OK);
    ck_assert_int_eq(mk_cur_u32(&c, &d), MK_E_TRUNCATED);
    ck_assert_int_eq(mk_cur_u16(&c, &b), MK_OK);
    ck_assert_int_eq(mk_cur_u16(&c, &b), MK_E_TRUNCATED);
    ck_assert_int_eq(mk_cur_expect_end(&c), MK_E_TRAILING);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_cursor_sub_keeps_offsets)
{
    static const uint8_t in[] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    mk_cursor c, s;
    mk_cur_init(&c, MK_BYTES(in, sizeof in));
    c.payload = 14;
    uint8_t v;
    ck_assert_int_eq(mk_cur_u8(&c, &v), MK_OK);
    ck_assert_int_eq(mk_cur_sub(&c, 3, &s), MK_OK);
    ck_assert_uint_eq(mk_cur_offset(&s), 1);
    ck_assert_int_eq(mk_cur_u16(&s, &(uint16_t){0}), MK_OK);
    ck_assert_int_eq(mk_cur_u16(&s, &(uint16_t){0}), MK_E_TRUNCATED);
    ck_assert_uint_eq(mk_err_last()->offset, 3);
    ck_assert_int_eq(mk_err_last()->payload, 14);
    ck_assert_int_eq(mk_cur_sub(&c, 2, &s), MK_E_TRUNCATED);
    mk_bytes span = mk_cur_since(&c, 0);
    ck_assert_uint_eq(span.n, 4);
    ck_assert_ptr_eq(span.p, in);
}
END_TEST

START_TEST(test_buf_bounds_and_patch)
{
    uint8_t mem[6];
    mk_buf b;
    mk_buf_init(&b, mem, sizeof mem);
    size_t at;
    ck_assert_int_eq(mk_buf_u8(&b, 0x11), MK_OK);
    ck_assert_int_eq(mk_buf_reserve(&b, 2, &at), MK_OK);
    ck_assert_int_eq(mk_buf_u16(&b, 0x2233), MK_OK);
    ck_assert_int_eq(mk_buf_patch_u16(&b, at, 0xbeef), MK_OK);
    ck_assert_int_eq(mk_buf_u16(&b, 0x4455), MK_E_NOSPACE);
    ck_assert_uint_eq(b.n, 5);
    ck_assert_int_eq(mk_buf_u8(&b, 0x66), MK_OK);
    static const uint8_t want[] = {0x11, 0xbe, 0xef, 0x22, 0x33, 0x66};
    ck_assert_mem_eq(mem, want, sizeof want);
    ck_assert_int_eq(mk_buf_patch_u16(&b, 5, 1), MK_E_ARG);
}
END_TEST

/* The writer keeps its first failure and that failure's detail: a run of
 * unchecked writes is judged once (crypto/label.c). */
START_TEST(test_buf_sticky_first_error)
{
    uint8_t mem[4];
    mk_buf b;
    mk_buf_init(&b, mem, sizeof mem);
    ck_assert_int_eq(mk_buf_err(&b), MK_OK);
    mk_buf_u16(&b, 0x1122);
    ck_assert_int_eq(mk_buf_err(&b), MK_OK);
    mk_buf_u32(&b, 0x33445566); /* does not fit */
    ck_assert_int_eq(mk_buf_err(&b), MK_E_NOSPACE);
    ck_assert_int_eq(mk_buf_fail(&b, MK_E_LIMIT), MK_E_NOSPACE);
    mk_err_raise(MK_E_LIMIT, -1, 0, "raised since");
    mk_buf_u32(&b, 0x778899aa); /* fails again: raises nothing */
    ck_assert_str_eq(mk_err_last()->what, "raised since");
    ck_assert_int_eq(mk_buf_err(&b), MK_E_NOSPACE);
    ck_assert_uint_eq(b.n, 2);

    /* a field the caller refuses first: that failure is the one kept */
    mk_buf_init(&b, mem, sizeof mem);
    ck_assert_int_eq(mk_buf_fail(&b, MK_E_LIMIT), MK_E_LIMIT);
    mk_buf_u64(&b, 1);
    ck_assert_int_eq(mk_buf_err(&b), MK_E_LIMIT);
}
END_TEST

/* doc/profile.md §9.35: the SIP / TEL character sets, nothing else */
START_TEST(test_uri_sip_tel)
{
    static const char *const good[] = {
        "sip:bob@example.org", "sips:bob@example.org:5061;transport=tls",
        "sip:a,b@example.org", "sip:%22bob%22@example.org",
        "sip:+1555@example.org;user=phone", "sip:bob@[2001:db8::1]",
        "tel:+1-555-0001", "tel:*21#;phone-context=example.org",
        "sip:x", "sip:a?subject=hi&priority=urgent",
    };
    static const char *const bad[] = {
        "", "sip:", "tel:", "sips:", "http://example.org/", "bob@example.org",
        "SIP:bob@example.org", "sip:bob@example.org\r\nX: y",
        "sip:bob example.org", "sip:\"bob\"@example.org",
        "sip:bob\\@example.org", "sip:bob<@example.org", "sip:bob#1",
        "sip:a%2", "sip:a%zz", "sip:a%", "sip:caf\xc3\xa9@example.org",
        "sip:a{b}", "sip:a|b", "sip:a^b", "sip:a`b",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(mk_uri_sip_tel_ok(MK_BYTES(good[i], strlen(good[i]))),
                      "refused %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!mk_uri_sip_tel_ok(MK_BYTES(bad[i], strlen(bad[i]))),
                      "accepted %s", bad[i]);
    /* a NUL inside is no URI character */
    ck_assert(!mk_uri_sip_tel_ok(MK_BYTES("sip:a\0b", 7)));
    ck_assert(!mk_uri_sip_tel_ok(MK_BYTES_NONE));
}
END_TEST

/* util/hex: the one hex decoder; strict (keys, Digest) and with
 * separators (key files, pasted dumps), errors at the offending offset */
START_TEST(test_hex_decode)
{
    uint8_t b[4];
    size_t n = 99;
    char text[9];
    ck_assert_int_eq(mk_hex_decode("0aFf", 4, b, sizeof b, &n), MK_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(b[0], 0x0a);
    ck_assert_uint_eq(b[1], 0xff);
    ck_assert_int_eq(mk_hex_decode("0a1", 3, b, sizeof b, &n), MK_E_VALUE);
    ck_assert_int_eq(mk_hex_decode("0g", 2, b, sizeof b, &n), MK_E_VALUE);
    ck_assert_int_eq(mk_hex_decode(" 0a", 2, b, sizeof b, &n), MK_E_VALUE);
    ck_assert_int_eq(mk_hex_decode("0011223344", 10, b, sizeof b, &n),
                     MK_E_NOSPACE);

    ck_assert_int_eq(mk_hex_decode_text("0a:b1 c2\n", 9, " :\n", b,
                                        sizeof b, &n),
                     MK_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(b[2], 0xc2);
    ck_assert_int_eq(mk_hex_decode_text("0a zz", 5, " ", b, sizeof b, &n),
                     MK_E_VALUE);
    ck_assert_uint_eq(mk_err_last()->offset, 3);
    ck_assert_str_eq(mk_err_last()->what, "not a hex digit");
    ck_assert_int_eq(mk_hex_decode_text("0a1", 3, " ", b, sizeof b, &n),
                     MK_E_VALUE);
    ck_assert_uint_eq(mk_err_last()->offset, 3);
    ck_assert_str_eq(mk_err_last()->what, "odd number of hex digits");
    ck_assert_int_eq(mk_hex_decode_text("0a:0b", 5, NULL, b, sizeof b, &n),
                     MK_E_VALUE);
    ck_assert_int_eq(mk_hex_decode_text("00 11 22 33 44", 14, " ", b,
                                        sizeof b, &n),
                     MK_E_NOSPACE);
    ck_assert_uint_eq(mk_err_last()->offset, 13);

    mk_hex_encode((const uint8_t *)"\x0a\xff\x00\x7e", 4, text);
    ck_assert_str_eq(text, "0aff007e");
}
END_TEST

START_TEST(test_err_table_complete)
{
    for (int e = 0; e < MK_E__COUNT; e++) {
        ck_assert_ptr_nonnull(mk_err_name((mk_err)e));
        int s = mk_err_http_status((mk_err)e);
        /* the annex never produces 402, 406-417, 500, 502 on purpose */
        ck_assert(s == 200 || s == 400 || s == 401 || s == 403 || s == 404 ||
                  s == 405 || s == 501 || s == 503 || s == 504 || s == 505);
        int m = mk_err_mikey_errno((mk_err)e);
        /* a MIKEY Error number exactly when the answer is 200 + Error msg */
        ck_assert_int_eq(m != MK_MIKEY_ERRNO_NONE, s == 200 && e != MK_OK);
    }
    /* the names are the outcome labels of the metrics page: one series
     * per name, so no two errors may share one (two "not found" made a
     * duplicate series that Prometheus refuses to scrape) */
    for (int a = 0; a < MK_E__COUNT; a++)
        for (int b = a + 1; b < MK_E__COUNT; b++)
            ck_assert_msg(strcmp(mk_err_name((mk_err)a),
                                 mk_err_name((mk_err)b)) != 0,
                          "errors %d and %d are both named \"%s\"", a, b,
                          mk_err_name((mk_err)a));
    ck_assert_int_eq(mk_err_mikey_errno(MK_E_MIKEY_TPPAR), 15);
    ck_assert_int_eq(mk_err_mikey_errno(MK_E_MIKEY_TICKET), 14);
    ck_assert_int_eq(mk_err_mikey_errno(MK_E_MIKEY_DT), 11);
    ck_assert_int_eq(mk_err_http_status(MK_E_TRUNCATED), 400);
    ck_assert_int_eq(mk_err_http_status(MK_E_HTTP_METHOD), 405);
    ck_assert_int_eq(mk_err_http_status(MK_E_HTTP_VERSION), 505);
    ck_assert_int_eq(mk_err_http_status(MK_E_UNAVAILABLE), 503);
    ck_assert_int_eq(mk_err_http_status(MK_E_POLICY), 403);
    /* every status an error maps to has its RFC 9110 reason phrase */
    for (int e = 0; e < MK_E__COUNT; e++)
        ck_assert_str_ne(mk_http_status_phrase(mk_err_http_status((mk_err)e)),
                         "");
    ck_assert_str_eq(mk_http_status_phrase(503), "Service Unavailable");
    ck_assert_str_eq(mk_http_status_phrase(505), "HTTP Version Not Supported");
    ck_assert_str_eq(mk_http_status_phrase(413), "Content Too Large");
    ck_assert_str_eq(mk_http_status_phrase(299), "");
}
END_TEST

int main(void)
{
    const TTest *const cursor_tests[] = {test_cursor_reads_big_endian,
        test_cursor_truncation_every_width, test_cursor_sub_keeps_offsets,
        test_buf_bounds_and_patch, test_buf_sticky_first_error,
        test_err_table_complete, test_uri_sip_tel, test_hex_decode};
    return mk_check_main("util", "cursor", cursor_tests,
                         MK_CHECK_NELEM(cursor_tests));
}
