/* ntp.c - NTP-UTC <-> unix time with the RFC 4330 §3 era rule. */
#include "util/ntp.h"

#include <time.h>

#include "util/mikey_const.h"

#define NS_PER_S 1000000000u
#define ERA_SECONDS ((uint64_t)1 << 32)

/* 32-bit NTP seconds -> seconds since 1900-01-01 on the 1968-2104 line. */
static uint64_t ntp_seconds_extended(uint32_t s)
{
    return (s & 0x80000000u) ? (uint64_t)s : (uint64_t)s + ERA_SECONDS;
}

static uint64_t to_unix(uint32_t s)
{
    uint64_t t = ntp_seconds_extended(s);
    return t < MK_NTP_UNIX_OFFSET ? 0 : t - MK_NTP_UNIX_OFFSET;
}

uint64_t mk_ntp_from_unix(uint64_t sec, uint32_t nsec)
{
    sec += nsec / NS_PER_S;
    nsec %= NS_PER_S;
    /* smallest fraction f with f * 10^9 / 2^32 >= nsec */
    uint64_t frac = (((uint64_t)nsec << 32) + NS_PER_S - 1) / NS_PER_S;
    uint32_t s = (uint32_t)(sec + MK_NTP_UNIX_OFFSET); /* modulo 2^32 */
    return (uint64_t)s << 32 | frac;
}

uint64_t mk_ntp_to_unix(uint64_t ntp) { return to_unix((uint32_t)(ntp >> 32)); }

uint32_t mk_ntp_to_unix_nsec(uint64_t ntp)
{
    return (uint32_t)(((ntp & 0xffffffffu) * NS_PER_S) >> 32);
}

uint32_t mk_ntp32_from_unix(uint64_t sec)
{
    return (uint32_t)(sec + MK_NTP_UNIX_OFFSET);
}

uint64_t mk_ntp32_to_unix(uint32_t ntp32) { return to_unix(ntp32); }

uint64_t mk_ntp_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return mk_ntp_from_unix(0, 0);
    return mk_ntp_from_unix((uint64_t)ts.tv_sec, (uint32_t)ts.tv_nsec);
}

uint64_t mk_ts_to_ntp64(int ts_type, uint64_t value)
{
    switch (ts_type) {
    case MK_TS_COUNTER:
        return (uint32_t)value;
    case MK_TS_NTP_UTC_32:
        return (uint64_t)(uint32_t)value << 32;
    default:
        return value;
    }
}

mk_err mk_ts_to_unix(int ts_type, uint64_t value, uint64_t *unix_sec)
{
    switch (ts_type) {
    case MK_TS_NTP_UTC:
        *unix_sec = mk_ntp_to_unix(value);
        return MK_OK;
    case MK_TS_NTP_UTC_32:
        *unix_sec = mk_ntp32_to_unix((uint32_t)value);
        return MK_OK;
    default:
        *unix_sec = 0;
        MK_FAIL(MK_E_VALUE, "TS type is not a UTC instant");
    }
}
