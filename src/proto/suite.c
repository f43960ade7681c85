/* suite.c - the two algorithm suites of profile §4 and the rule of RFC 6043
 * §12.1 that 128-bit and 256-bit algorithms are never mixed. */
#include "proto/proto.h"

#include "util/ntp.h"

const mk_suite mk_suite_128 = {
    .prf_func = MK_PRF_MIKEY_1,
    .encr_alg = MK_ENCR_AES_CM_128,
    .mac_alg = MK_MAC_HMAC_SHA1_160,
    .key_len = 16,
};

const mk_suite mk_suite_256 = {
    .prf_func = MK_PRF_HMAC_SHA256,
    .encr_alg = MK_ENCR_AES_CM_256,
    .mac_alg = MK_MAC_HMAC_SHA256_256,
    .key_len = 32,
};

mk_err mk_suite_of(int prf_func, int mac_alg, const mk_suite **out)
{
    const mk_suite *s;
    if (prf_func == MK_PRF_MIKEY_1)
        s = &mk_suite_128;
    else if (prf_func == MK_PRF_HMAC_SHA256)
        s = &mk_suite_256;
    else
        MK_FAIL_AT(MK_E_MIKEY_PRF, MK_PT_HDR, 3, "PRF func not supported");
    /* RFC 6043 §12.1: all three 256-bit algorithms together or none; a
     * NULL or unknown auth alg cannot authenticate anything. */
    if (mac_alg != s->mac_alg)
        MK_FAIL_AT(MK_E_MIKEY_MAC, MK_PT_V, 0,
                   "V auth alg unsupported or of the other suite");
    *out = s;
    return MK_OK;
}

uint64_t mk_t_iv_value(const mk_t *t)
{
    return mk_ts_to_ntp64(t->ts_type, t->value);
}
