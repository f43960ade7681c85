/* test_ntp.c - NTP-UTC / NTP-UTC-32 <-> unix time with fixed known values,
 * the RFC 4330 §3 era rule, and the 64-bit IV timestamp of each TS type. */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "util/mikey_const.h"
#include "util/ntp.h"
#include "lib/check_main.h"

START_TEST(test_known_values)
{
    /* 1970-01-01: NTP seconds 2208988800 = 0x83AA7E80 (RFC 5905 figure 4) */
    ck_assert_uint_eq(mk_ntp_from_unix(0, 0), 0x83AA7E8000000000ull);
    ck_assert_uint_eq(mk_ntp32_from_unix(0), 0x83AA7E80u);
    ck_assert_uint_eq(mk_ntp_to_unix(0x83AA7E8000000000ull), 0);
    /* 2000-01-01 00:00:00 UTC = unix 946684800 */
    ck_assert_uint_eq(mk_ntp_from_unix(946684800u, 0), 0xBC17C20000000000ull);
    ck_assert_uint_eq(mk_ntp_to_unix(0xBC17C20000000000ull), 946684800u);
    /* 2024-01-01 00:00:00 UTC */
    ck_assert_uint_eq(mk_ntp32_from_unix(1704067200u), 0xE93C7F00u);
    ck_assert_uint_eq(mk_ntp32_to_unix(0xE93C7F00u), 1704067200u);
    /* the mikey.md §6.2 T: 2023-04-03 01:09:04 UTC */
    ck_assert_uint_eq(mk_ntp_to_unix(0xe7d4a5b000000000ull), 1680484144u);
    /* half a second is fraction 0x80000000 */
    ck_assert_uint_eq(mk_ntp_from_unix(0, 500000000u), 0x83AA7E8080000000ull);
    ck_assert_uint_eq(mk_ntp_to_unix_nsec(0x83AA7E8080000000ull), 500000000u);
    /* nanoseconds beyond a second carry */
    ck_assert_uint_eq(mk_ntp_from_unix(0, 1500000000u), 0x83AA7E8180000000ull);
}
END_TEST

START_TEST(test_era_rule)
{
    /* 2036-02-07 06:28:16 UTC: the seconds field wraps to 0 (era 1) */
    ck_assert_uint_eq(mk_ntp_from_unix(2085978496u, 0), 0);
    ck_assert_uint_eq(mk_ntp_to_unix(0), 2085978496u);
    ck_assert_uint_eq(mk_ntp32_to_unix(0), 2085978496u);
    /* one second earlier is the last second of era 0 */
    ck_assert_uint_eq(mk_ntp32_from_unix(2085978495u), 0xFFFFFFFFu);
    ck_assert_uint_eq(mk_ntp32_to_unix(0xFFFFFFFFu), 2085978495u);
    /* MSB clear: era 1, up to 2104-02-26 09:42:23 UTC */
    ck_assert_uint_eq(mk_ntp32_to_unix(0x7FFFFFFFu), 4233462143ull);
    ck_assert_uint_eq(mk_ntp32_from_unix(4231785600ull), 0x7FE66B00u);
    ck_assert_uint_eq(mk_ntp32_to_unix(0x7FE66B00u), 4231785600ull);
    /* MSB set: era 0 from 1968-01-20; before 1970 clamps to 0 */
    ck_assert_uint_eq(mk_ntp32_to_unix(0x80000000u), 0);
    ck_assert_uint_eq(mk_ntp32_to_unix(0x83AA7E7Fu), 0);
    ck_assert_uint_eq(mk_ntp32_to_unix(0x83AA7E81u), 1);
}
END_TEST

START_TEST(test_round_trips)
{
    static const uint64_t secs[] = {0, 1, 946684800u, 1680484144u,
                                    2085978495u, 2085978496u, 3000000000u,
                                    4233462143ull};
    static const uint32_t nsecs[] = {0, 1, 999999999u, 123456789u, 500000000u};
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
        for (size_t j = 0; j < sizeof nsecs / sizeof nsecs[0]; j++) {
            uint64_t t = mk_ntp_from_unix(secs[i], nsecs[j]);
            ck_assert_uint_eq(mk_ntp_to_unix(t), secs[i]);
            ck_assert_uint_eq(mk_ntp_to_unix_nsec(t), nsecs[j]);
        }
        ck_assert_uint_eq(mk_ntp32_to_unix(mk_ntp32_from_unix(secs[i])),
                          secs[i]);
        ck_assert_uint_eq(mk_ntp32_from_unix(secs[i]),
                          (uint32_t)(mk_ntp_from_unix(secs[i], 0) >> 32));
    }
}
END_TEST

/* Now between two readings of the clock mk_ntp_now reads (CLOCK_REALTIME),
 * to the nanosecond the NTP fraction keeps. Not time(NULL): glibc reads
 * it from the coarse clock, which lags CLOCK_REALTIME by up to a tick, so
 * "after" could still be the second before a now read a moment earlier. */
static uint64_t unix_ns(uint64_t sec, uint32_t nsec)
{
    return sec * 1000000000u + nsec;
}

START_TEST(test_now)
{
    struct timespec before, after;
    ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &before), 0);
    uint64_t n = mk_ntp_now();
    ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &after), 0);
    uint64_t now = unix_ns(mk_ntp_to_unix(n), mk_ntp_to_unix_nsec(n));
    /* nanoseconds survive the NTP fraction exactly (test_round_trips) */
    ck_assert_uint_ge(now, unix_ns((uint64_t)before.tv_sec,
                                   (uint32_t)before.tv_nsec));
    ck_assert_uint_le(now, unix_ns((uint64_t)after.tv_sec,
                                   (uint32_t)after.tv_nsec));
}
END_TEST

START_TEST(test_iv_timestamp)
{
    /* NTP-UTC / NTP: as is */
    ck_assert_uint_eq(mk_ts_to_ntp64(MK_TS_NTP_UTC, 0xe7d4a5b012345678ull),
                      0xe7d4a5b012345678ull);
    ck_assert_uint_eq(mk_ts_to_ntp64(MK_TS_NTP, 0x0102030405060708ull),
                      0x0102030405060708ull);
    /* COUNTER: leading zeros [RFC 3830 §6.6] */
    ck_assert_uint_eq(mk_ts_to_ntp64(MK_TS_COUNTER, 0x12345678u),
                      0x0000000012345678ull);
    ck_assert_uint_eq(mk_ts_to_ntp64(MK_TS_COUNTER, 0xffffffff00000001ull),
                      1);
    /* NTP-UTC-32: the seconds half of an NTP-UTC value, fraction zero; the
     * §6.2 A T e7d4a5b000000000 is the same instant as NTP-UTC-32
     * e7d4a5b0 */
    ck_assert_uint_eq(mk_ts_to_ntp64(MK_TS_NTP_UTC_32, 0xe7d4a5b0u),
                      0xe7d4a5b000000000ull);
    ck_assert_uint_eq(mk_ts_to_ntp64(MK_TS_NTP_UTC_32, 0x1e7d4a5b0ull),
                      0xe7d4a5b000000000ull);
    ck_assert_uint_eq(mk_ts_to_ntp64(MK_TS_NTP_UTC_32,
                                     mk_ntp32_from_unix(1680484144u)),
                      mk_ntp_from_unix(1680484144u, 0));
}
END_TEST

START_TEST(test_ts_to_unix)
{
    uint64_t u = 99;
    ck_assert_int_eq(mk_ts_to_unix(MK_TS_NTP_UTC, 0xe7d4a5b080000000ull, &u),
                     MK_OK);
    ck_assert_uint_eq(u, 1680484144u);
    ck_assert_int_eq(mk_ts_to_unix(MK_TS_NTP_UTC_32, 0x00000010u, &u), MK_OK);
    ck_assert_uint_eq(u, 2085978496u + 16);
    ck_assert_int_eq(mk_ts_to_unix(MK_TS_COUNTER, 5, &u), MK_E_VALUE);
    ck_assert_int_eq(mk_ts_to_unix(MK_TS_NTP, 5, &u), MK_E_VALUE);
    ck_assert_int_eq(mk_ts_to_unix(9, 5, &u), MK_E_VALUE);
}
END_TEST

int main(void)
{
    const TTest *const ntp_tests[] = {test_known_values, test_era_rule,
        test_round_trips, test_now, test_iv_timestamp, test_ts_to_unix};
    return mk_check_main("ntp", "ntp", ntp_tests, MK_CHECK_NELEM(ntp_tests));
}
