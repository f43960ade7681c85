/* test_srtp.c - the SRTP master keys that Alice and Bob derive through the
 * real KMS core (test_e2e_kms.c) work in libsrtp2: Alice protects an RTP
 * packet with hers, Bob unprotects it with his (srtp_err_status_ok, same
 * payload), and with a wrong master key or salt Bob's check fails. Both
 * suites (AES_CM_128 / AES_CM_256 with HMAC-SHA1-80), with and without
 * forking. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "ue/ue.h"
#include "test_e2e_kms.h"
#include "test_ue_chain.h"
#include "lib/check_main.h"

#define PAYLOAD "twenty bytes of RTP!"

/* An RTP packet (RFC 3550 §5.1) with room for the SRTP trailer. */
static int rtp_packet(uint8_t *buf, uint32_t ssrc)
{
    const uint8_t hdr[12] = {0x80, 0x00, 0x12, 0x34, 0x00, 0x00, 0x56, 0x78,
                             (uint8_t)(ssrc >> 24), (uint8_t)(ssrc >> 16),
                             (uint8_t)(ssrc >> 8), (uint8_t)ssrc};
    memcpy(buf, hdr, sizeof hdr);
    memcpy(buf + 12, PAYLOAD, strlen(PAYLOAD));
    return 12 + (int)strlen(PAYLOAD);
}

static srtp_t session(const mk_ue_srtp *k, bool inbound, uint32_t ssrc,
                      bool flip_key, bool flip_salt)
{
    srtp_policy_t pol;
    srtp_t ctx = NULL;
    uint8_t key[64 + 64];
    memset(&pol, 0, sizeof pol);
    if (k->master_key.n == 32)
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&pol.rtp);
    else
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
    srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
    if (k->master_key.n == 32)
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&pol.rtcp);
    ck_assert_uint_eq(k->master_salt.n, 14);
    /* libsrtp takes master key || master salt */
    memcpy(key, k->master_key.b, k->master_key.n);
    memcpy(key + k->master_key.n, k->master_salt.b, k->master_salt.n);
    if (flip_key)
        key[0] ^= 0x01;
    if (flip_salt)
        key[k->master_key.n] ^= 0x01;
    pol.key = key;
    pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_specific;
    pol.ssrc.value = ssrc;
    pol.window_size = 128;
    ck_assert_int_eq(srtp_create(&ctx, &pol), srtp_err_status_ok);
    memset(key, 0, sizeof key);
    return ctx;
}

START_TEST(t_srtp_protect_unprotect)
{
    const mk_suite *s = (_i & 1) ? &mk_suite_256 : &mk_suite_128;
    e2e_kms *k = malloc(sizeof *k);
    chain_result *r = malloc(sizeof *r);
    chain_opts o;
    mk_ue_srtp ka, kb;
    uint8_t pkt[256], copy[256];
    int len, len0, clen;
    uint32_t ssrc;
    srtp_t alice, bob;

    ck_assert_int_eq(srtp_init(), srtp_err_status_ok);
    e2e_open(k);
    e2e_opts(k, &o, s);
    o.fork = (_i & 2) != 0;
    ck_assert_msg(chain_run(&o, e2e_call, k, r) == MK_OK, "step %s: %s",
                  r->step, mk_err_name(r->err));
    ck_assert_int_eq(mk_ue_srtp_keys(&r->alice, 1, &ka), MK_OK);
    ck_assert_int_eq(mk_ue_srtp_keys(&r->bob, 1, &kb), MK_OK);
    ck_assert_uint_eq(ka.master_key.n, s->key_len);
    ssrc = r->alice.cs[0].ssrc;

    /* Alice protects, Bob unprotects */
    len0 = len = rtp_packet(pkt, ssrc);
    alice = session(&ka, false, ssrc, false, false);
    ck_assert_int_eq(srtp_protect(alice, pkt, &len), srtp_err_status_ok);
    ck_assert_int_eq(len, len0 + 10); /* the 80-bit tag */
    ck_assert(memcmp(pkt + 12, PAYLOAD, strlen(PAYLOAD)) != 0);
    memcpy(copy, pkt, (size_t)len);
    clen = len;
    bob = session(&kb, true, ssrc, false, false);
    ck_assert_int_eq(srtp_unprotect(bob, pkt, &len), srtp_err_status_ok);
    ck_assert_int_eq(len, len0);
    ck_assert_mem_eq(pkt + 12, PAYLOAD, strlen(PAYLOAD));
    srtp_dealloc(bob);

    /* a wrong master key, then a wrong master salt: authentication fails */
    for (int w = 0; w < 2; w++) {
        memcpy(pkt, copy, (size_t)clen);
        len = clen;
        bob = session(&kb, true, ssrc, w == 0, w == 1);
        ck_assert_int_eq(srtp_unprotect(bob, pkt, &len),
                         srtp_err_status_auth_fail);
        srtp_dealloc(bob);
    }
    srtp_dealloc(alice);
    mk_ue_srtp_wipe(&ka);
    mk_ue_srtp_wipe(&kb);
    chain_result_wipe(r);
    e2e_close(k);
    free(r);
    free(k);
    ck_assert_int_eq(srtp_shutdown(), srtp_err_status_ok);
}
END_TEST

int main(void)
{
    const mk_check_opts o = {
        .suite = "srtp", .tcase = "srtp", .timeout = 60,
        .loop = t_srtp_protect_unprotect, .loop_end = 4
    };
    return mk_check_main_opts(&o, NULL, 0);
}
