/* ntp.h - NTP timestamps (RFC 5905 §6 / RFC 4330 §3) as MIKEY carries them
 * in T and TR payloads (RFC 3830 §6.6, RFC 6043 §6.3, §6.4), and unix time.
 *
 * Owns: the 64-bit NTP-UTC format (32-bit seconds since 1900-01-01 00:00:00
 * UTC, 32-bit binary fraction), the 32-bit NTP-UTC-32 format (the seconds
 * part only), the era rule of RFC 4330 §3 that stretches both to 1968-2104,
 * and the 64-bit value a timestamp of any TS type contributes to the AES-CM
 * IV (RFC 3830 §4.2.3).
 *
 * Era rule (RFC 4330 §3): a seconds field with its most significant bit set
 * counts from 1900-01-01 (1968-2036, era 0); with the bit clear it counts
 * from 2036-02-07 06:28:16 UTC (2036-2104, era 1). The unix conversions
 * below apply it; the on-the-wire values themselves are always taken modulo
 * 2^32 seconds, exactly as NTP does.
 */
#ifndef MK_UTIL_NTP_H
#define MK_UTIL_NTP_H

#include <stdint.h>

#include "util/err.h"

/* Seconds from 1900-01-01 to 1970-01-01 (RFC 868 / RFC 5905 figure 4). */
#define MK_NTP_UNIX_OFFSET 2208988800u

/* Now (CLOCK_REALTIME) as 64-bit NTP-UTC. */
uint64_t mk_ntp_now(void);

/* unix time (sec, nsec; nsec >= 10^9 carries into sec) -> 64-bit NTP-UTC.
 * Meaningful for 1970-01-01 .. 2104-02-07 (the end of era 1); the seconds
 * field wraps modulo 2^32 like NTP's. The fraction is rounded up so that
 * mk_ntp_to_unix_nsec() gives nsec back exactly. */
uint64_t mk_ntp_from_unix(uint64_t sec, uint32_t nsec);
/* 64-bit NTP-UTC -> unix seconds, with the era rule. Times before
 * 1970-01-01 (1968-1970 in era 0) give 0. */
uint64_t mk_ntp_to_unix(uint64_t ntp);
/* The fraction of a 64-bit NTP-UTC timestamp in nanoseconds (0..10^9-1). */
uint32_t mk_ntp_to_unix_nsec(uint64_t ntp);

/* NTP-UTC-32 (RFC 6043 §6.3): the 32-bit seconds field. */
uint32_t mk_ntp32_from_unix(uint64_t sec);
/* NTP-UTC-32 -> unix seconds, era rule (0 before 1970). */
uint64_t mk_ntp32_to_unix(uint32_t ntp32);

/* The 64-bit T that goes into the AES-CM IV (RFC 3830 §4.2.3) for a TS
 * value of the given TS type (util/mikey_const.h mk_ts_type):
 *   NTP-UTC (0), NTP (1): the 64-bit value as is;
 *   COUNTER (2):    the 32-bit counter padded with leading zeros to 64 bits
 *                   (RFC 3830 §6.6);
 *   NTP-UTC-32 (3): the 32-bit seconds placed in the seconds half of a
 *                   64-bit NTP-UTC timestamp, fraction zero, i.e. value <<
 *                   32 (RFC 6043 §6.3, mikey.md §2.7);
 * For the 32-bit types only the low 32 bits of value are used. Other TS
 * types are rejected by the codec before this is called; they yield the
 * value unchanged. */
uint64_t mk_ts_to_ntp64(int ts_type, uint64_t value);

/* A UTC timestamp as unix seconds for validity checks (TRs/TRe, skew):
 * NTP-UTC and NTP-UTC-32 with the era rule. NTP (local time) and COUNTER
 * are not UTC instants: MK_E_VALUE. */
mk_err mk_ts_to_unix(int ts_type, uint64_t value, uint64_t *unix_sec) MK_MUST_USE;

#endif
