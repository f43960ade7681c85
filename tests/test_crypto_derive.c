/* test_crypto_derive.c - the MIKEY PRF, the labels and every derivation,
 * against the mikey.md §6.2 A and B vectors (self-computed, cross-checked
 * with minisip's prf() for 16/40-byte inkeys) and structural properties of
 * the PRF. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "lib/check_main.h"
#include "lib/guard.h"
#include "lib/hex.h"

/* ---- helpers ---- */

static void fill(uint8_t *p, uint8_t v, size_t n) { memset(p, v, n); }

/* §6.2 A inputs */
#define A_PSK "000102030405060708090a0b0c0d0e0f"
#define A_TGK "101112131415161718191a1b1c1d1e1f"
#define A_CSB 0x12345678u
#define A_RAND "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"

/* PRF over guarded inkey bytes (an over-read of the inkey faults). */
static mk_err prf_guarded(int f, const hexbuf *key, const mk_label *l,
                          uint8_t *out, size_t n)
{
    mk_guarded g;
    mk_guarded_init(&g, key->b, key->n);
    mk_err rc = mk_prf(f, MK_BYTES(g.data, g.n), MK_BYTES(l->b, l->n), out, n);
    mk_guarded_free(&g);
    return rc;
}

/* ---- §6.2 A: RFC 3830 PSK keys ---- */

START_TEST(test_a_msg_keys_3830)
{
    hexbuf psk = hx(A_PSK), rand = hx(A_RAND);
    mk_msg_keys k;
    ck_assert_int_eq(mk_msg_keys_3830(MK_PRF_MIKEY_1, hb(&psk), A_CSB,
                                      hb(&rand), MK_ENCR_AES_CM_128,
                                      MK_MAC_HMAC_SHA1_160, &k),
                     MK_OK);
    ck_hex(k.encr.b, k.encr.n, "728ffc4e7bea1d0d8106d39a7403f137");
    ck_hex(k.salt.b, k.salt.n, "44f89561458faec57b3c630b5095");
    ck_hex(k.auth.b, k.auth.n, "1c259cd9039f914f4e376c9983028c56d93bfa48");
    ck_assert_int_eq(k.encr_alg, MK_ENCR_AES_CM_128);
    ck_assert_int_eq(k.mac_alg, MK_MAC_HMAC_SHA1_160);
    mk_msg_keys_wipe(&k);
    ck_assert_uint_eq(k.encr.n + k.salt.n + k.auth.n, 0);
    static const uint8_t zero[MK_KEY_MAX];
    ck_assert_mem_eq(k.encr.b, zero, MK_KEY_MAX);
    ck_assert_mem_eq(k.auth.b, zero, MK_KEY_MAX);
}
END_TEST

START_TEST(test_a_labels_and_prf)
{
    hexbuf psk = hx(A_PSK), rand = hx(A_RAND), tgk = hx(A_TGK);
    mk_label l;
    uint8_t out[48];

    /* the labels of the §6.2 A table */
    ck_assert_int_eq(mk_label_3830_psk(&l, MK_C_ENCR_KEY, A_CSB, hb(&rand)),
                     MK_OK);
    ck_hex(l.b, l.n, "150533e1ff12345678" A_RAND);
    ck_assert_int_eq(prf_guarded(MK_PRF_MIKEY_1, &psk, &l, out, 16), MK_OK);
    ck_hex(out, 16, "728ffc4e7bea1d0d8106d39a7403f137");
    ck_assert_int_eq(mk_label_3830_psk(&l, MK_C_SALT_KEY, A_CSB, hb(&rand)),
                     MK_OK);
    ck_hex(l.b, l.n, "29b88916ff12345678" A_RAND);
    ck_assert_int_eq(mk_label_3830_psk(&l, MK_C_AUTH_KEY, A_CSB, hb(&rand)),
                     MK_OK);
    ck_hex(l.b, l.n, "2d22ac75ff12345678" A_RAND);

    /* TEK cs_id 1 (16 B and 48 B, m = 3) and salt from the TGK */
    ck_assert_int_eq(mk_label_3830_tgk(&l, MK_C_TEK, 1, A_CSB, hb(&rand)),
                     MK_OK);
    ck_hex(l.b, l.n, "2ad01c640112345678" A_RAND);
    ck_assert_int_eq(prf_guarded(MK_PRF_MIKEY_1, &tgk, &l, out, 16), MK_OK);
    ck_hex(out, 16, "392c8ba7d2732d4b838935ca7a943353");
    ck_assert_int_eq(prf_guarded(MK_PRF_MIKEY_1, &tgk, &l, out, 48), MK_OK);
    ck_hex(out, 48,
           "392c8ba7d2732d4b838935ca7a943353"
           "e399bbf07826dd22b334f8219f28a1fe"
           "0e74aeb20e832e75bc4e458b347deac1");
    ck_assert_int_eq(mk_label_3830_tgk(&l, MK_C_SALT, 1, A_CSB, hb(&rand)),
                     MK_OK);
    ck_hex(l.b, l.n, "39a2c14b0112345678" A_RAND);
    ck_assert_int_eq(prf_guarded(MK_PRF_MIKEY_1, &tgk, &l, out, 14), MK_OK);
    ck_hex(out, 14, "a947ce162d2c231991bf30c4b423");
}
END_TEST

/* inkeys of 40 B (two chunks, the last short), 32 B (exactly one chunk:
 * minisip would add an HMAC with an empty key) and 64 B (two full chunks) */
START_TEST(test_a_prf_inkey_chunks)
{
    hexbuf rand = hx(A_RAND);
    hexbuf k40 = hx("000102030405060708090a0b0c0d0e0f101112131415161718191a1b"
                    "1c1d1e1f2021222324252627");
    hexbuf k32 = hx("000102030405060708090a0b0c0d0e0f101112131415161718191a1b"
                    "1c1d1e1f");
    mk_label l;
    uint8_t out[16];
    ck_assert_int_eq(mk_label_3830_tgk(&l, MK_C_TEK, 1, A_CSB, hb(&rand)),
                     MK_OK);
    ck_assert_int_eq(prf_guarded(MK_PRF_MIKEY_1, &k40, &l, out, 16), MK_OK);
    ck_hex(out, 16, "2a266c6b08a2414f2923b9ca4d62f116");
    ck_assert_int_eq(prf_guarded(MK_PRF_MIKEY_1, &k32, &l, out, 16), MK_OK);
    ck_hex(out, 16, "7e5a6762973f433719e65bc508c7726a");
    /* not minisip's answer for the same key */
    hexbuf bad = hx("f37f0716");
    ck_assert(memcmp(out, bad.b, 4) != 0);

    /* 64 B: PRF(s1 || s2) = PRF(s1) XOR PRF(s2), both s_i full 32 B */
    hexbuf k64;
    for (size_t i = 0; i < 64; i++)
        k64.b[i] = (uint8_t)i;
    k64.n = 64;
    uint8_t o64[16], o1[16], o2[16];
    ck_assert_int_eq(prf_guarded(MK_PRF_MIKEY_1, &k64, &l, o64, 16), MK_OK);
    ck_hex(o64, 16, "a796f44dc8b3f25c601ced5e8423c6a0"); /* Python, App. A */
    ck_assert_int_eq(mk_prf(MK_PRF_MIKEY_1, MK_BYTES(k64.b, 32),
                            MK_BYTES(l.b, l.n), o1, 16), MK_OK);
    ck_assert_int_eq(mk_prf(MK_PRF_MIKEY_1, MK_BYTES(k64.b + 32, 32),
                            MK_BYTES(l.b, l.n), o2, 16), MK_OK);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(o64[i], (uint8_t)(o1[i] ^ o2[i]));
}
END_TEST

/* A shorter output is a prefix of a longer one; both PRF funcs. */
START_TEST(test_prf_prefix_and_errors)
{
    hexbuf k = hx(A_PSK);
    mk_label l;
    uint8_t a[70], b[70];
    ck_assert_int_eq(mk_label_6043_fixed(&l, MK_C_AUTH_KEY, 0x04, NULL),
                     MK_OK);
    for (int f = MK_PRF_MIKEY_1; f <= MK_PRF_HMAC_SHA256; f++) {
        ck_assert_int_eq(mk_prf(f, hb(&k), MK_BYTES(l.b, l.n), a, 70), MK_OK);
        for (size_t n = 1; n < 70; n += 7) {
            memset(b, 0xee, sizeof b);
            ck_assert_int_eq(mk_prf(f, hb(&k), MK_BYTES(l.b, l.n), b, n),
                             MK_OK);
            ck_assert_mem_eq(a, b, n);
            ck_assert_uint_eq(b[n], 0xee); /* nothing written past n */
        }
    }
    /* the two PRFs differ */
    ck_assert_int_eq(mk_prf(MK_PRF_MIKEY_1, hb(&k), MK_BYTES(l.b, l.n), a, 16),
                     MK_OK);
    ck_assert_int_eq(mk_prf(MK_PRF_HMAC_SHA256, hb(&k), MK_BYTES(l.b, l.n), b,
                            16), MK_OK);
    ck_assert(memcmp(a, b, 16) != 0);
    ck_assert_int_eq(mk_prf(2, hb(&k), MK_BYTES(l.b, l.n), a, 16), MK_E_VALUE);
    ck_assert_int_eq(mk_prf(-1, hb(&k), MK_BYTES(l.b, l.n), a, 16), MK_E_VALUE);
    ck_assert_int_eq(mk_prf(MK_PRF_MIKEY_1, MK_BYTES_NONE, MK_BYTES(l.b, l.n),
                            a, 16), MK_E_ARG);
    ck_assert_int_eq(mk_prf(MK_PRF_MIKEY_1, hb(&k), MK_BYTES(l.b, l.n), a, 0),
                     MK_OK);
}
END_TEST

/* ---- §6.2 B: RFC 6043 derivations ---- */

#define B_CSB 0x0000abcdu
#define B_ID "sip:bob@example.com"

/* The message keys of a Ticket Request exchange (CSB ID B_CSB, RANDRi ri,
 * no RANDRr) for label kind `kind`; their derivation must succeed. */
static mk_msg_keys b_keys(int prf, mk_bytes inkey, uint8_t kind, mk_bytes ri,
                          int encr, int mac)
{
    mk_msg_keys k;
    ck_assert_int_eq(mk_msg_keys_6043(prf, inkey, B_CSB, kind, ri,
                                      MK_BYTES_NONE, encr, mac, &k),
                     MK_OK);
    return k;
}

START_TEST(test_b_request_keys)
{
    uint8_t psk[16], ri[16];
    fill(psk, 0x2b, 16);
    fill(ri, 0x01, 16);
    mk_msg_keys k = b_keys(MK_PRF_MIKEY_1, MK_BYTES(psk, 16),
                           MK_LABEL_KIND_INITIAL, MK_BYTES(ri, 16),
                           MK_ENCR_AES_CM_128, MK_MAC_HMAC_SHA1_160);
    ck_hex(k.auth.b, k.auth.n, "bd8e146bde11d84ef404031a61411c214ccbbed5");
    mk_msg_keys_wipe(&k);
    k = b_keys(MK_PRF_MIKEY_1, MK_BYTES(psk, 16), MK_LABEL_KIND_RESPONSE,
               MK_BYTES(ri, 16), MK_ENCR_AES_CM_128, MK_MAC_HMAC_SHA1_160);
    ck_hex(k.encr.b, k.encr.n, "63c8a07fed9a0a53bff1cb8b670b34bc");
    ck_assert_uint_eq(k.salt.n, 14);
    mk_msg_keys_wipe(&k);

    /* PRF-HMAC-SHA-256 with a 32-byte inkey, 32-byte auth_key */
    uint8_t k32[32];
    for (int i = 0; i < 32; i++)
        k32[i] = (uint8_t)i;
    k = b_keys(MK_PRF_HMAC_SHA256, MK_BYTES(k32, 32), MK_LABEL_KIND_INITIAL,
               MK_BYTES(ri, 16), MK_ENCR_AES_CM_256, MK_MAC_HMAC_SHA256_256);
    ck_hex(k.auth.b, k.auth.n,
           "ebee4e6210d19671b3701044ca12a94a9c787bca33ef4882e1f9cb42a4b2dc71");
    ck_assert_uint_eq(k.encr.n, 32);
    ck_assert_uint_eq(k.salt.n, 14);
    mk_msg_keys_wipe(&k);
}
END_TEST

START_TEST(test_b_ticket_mpk_transfer)
{
    uint8_t tpk[16], mpk[16], r[16], ri[16], rr[16];
    fill(tpk, 0x5a, 16);
    fill(mpk, 0x6e, 16);
    fill(r, 0x03, 16);
    fill(ri, 0x01, 16);
    fill(rr, 0x02, 16);
    mk_msg_keys k;
    ck_assert_int_eq(mk_ticket_keys(MK_PRF_MIKEY_1, MK_BYTES(tpk, 16),
                                    MK_BYTES(r, 16), MK_ENCR_AES_CM_128,
                                    MK_MAC_HMAC_SHA1_160, &k),
                     MK_OK);
    ck_hex(k.auth.b, k.auth.n, "8c1d77e233b71d8ecd59ee19a7e94d56f087c076");
    mk_msg_keys_wipe(&k);

    mk_key mpki, mpkr;
    ck_assert_int_eq(mk_mpk_split(MK_PRF_MIKEY_1, MK_BYTES(mpk, 16),
                                  MK_BYTES(r, 16), &mpki, &mpkr),
                     MK_OK);
    ck_hex(mpki.b, mpki.n, "be9ce2dac46db24acac05faa4d888d9d");
    ck_hex(mpkr.b, mpkr.n, "994e93719c6f2a37837a12b86cda284b");

    /* TRANSFER_INIT (initial, RANDRi) and TRANSFER_RESP with G = 1 */
    ck_assert_int_eq(mk_msg_keys_6043(MK_PRF_MIKEY_1, mk_key_bytes(&mpki),
                                      B_CSB, MK_LABEL_KIND_INITIAL,
                                      MK_BYTES(ri, 16), MK_BYTES_NONE,
                                      MK_ENCR_AES_CM_128,
                                      MK_MAC_HMAC_SHA1_160, &k),
                     MK_OK);
    ck_hex(k.auth.b, k.auth.n, "d66fd47e817849237bf55e8f32afe17d70bcc9e1");
    mk_msg_keys_wipe(&k);
    ck_assert_int_eq(mk_msg_keys_6043(MK_PRF_MIKEY_1, mk_key_bytes(&mpki),
                                      B_CSB, MK_LABEL_KIND_RESPONSE,
                                      MK_BYTES(ri, 16), MK_BYTES(rr, 16),
                                      MK_ENCR_AES_CM_128,
                                      MK_MAC_HMAC_SHA1_160, &k),
                     MK_OK);
    ck_hex(k.auth.b, k.auth.n, "3c929a87771d74702634310a2cf807583a1d7800");
    mk_msg_keys_wipe(&k);

    /* Initiator Data Vr key from the unforked MPKr */
    mk_key vr;
    ck_assert_int_eq(mk_vr_key(MK_PRF_MIKEY_1, mk_key_bytes(&mpkr),
                               MK_MAC_HMAC_SHA1_160, &vr),
                     MK_OK);
    ck_hex(vr.b, vr.n, "1e9b4fd66203f14bac2d343856d2dd9bd874051d");
    ck_assert_int_eq(mk_vr_key(MK_PRF_MIKEY_1, mk_key_bytes(&mpkr),
                               MK_MAC_HMAC_SHA256_256, &vr),
                     MK_OK);
    ck_assert_uint_eq(vr.n, 32);
    ck_assert_int_eq(mk_vr_key(MK_PRF_MIKEY_1, mk_key_bytes(&mpkr), 9, &vr),
                     MK_E_VALUE);

    /* forking MPKr -> MPKr' */
    uint8_t rk[16];
    fill(rk, 0x04, 16);
    mk_key f;
    ck_assert_int_eq(mk_fork_key(MK_PRF_MIKEY_1, MK_C_FORK_MPKR,
                                 mk_key_bytes(&mpkr), MK_BYTES(B_ID, 19),
                                 MK_BYTES(rk, 16), &f),
                     MK_OK);
    ck_hex(f.b, f.n, "08e2fae1d2a5dbe5312abf5e2659cddb");
    mk_key_wipe(&f);
    mk_key_wipe(&vr);
    mk_key_wipe(&mpki);
    mk_key_wipe(&mpkr);
}
END_TEST

START_TEST(test_b_tgk_fork_and_tek)
{
    uint8_t tgk[16], ri[16], rr[16], rk[16];
    fill(tgk, 0x7c, 16);
    fill(ri, 0x01, 16);
    fill(rr, 0x02, 16);
    fill(rk, 0x04, 16);
    mk_key f;
    ck_assert_int_eq(mk_fork_key(MK_PRF_MIKEY_1, MK_C_FORK_TGK,
                                 MK_BYTES(tgk, 16), MK_BYTES(B_ID, 19),
                                 MK_BYTES(rk, 16), &f),
                     MK_OK);
    ck_hex(f.b, f.n, "2c12cfedd679e36dc25c4b6efb3eb605");
    /* a forked key keeps the input length */
    uint8_t tgk32[32];
    fill(tgk32, 0x7c, 32);
    ck_assert_int_eq(mk_fork_key(MK_PRF_MIKEY_1, MK_C_FORK_TGK,
                                 MK_BYTES(tgk32, 32), MK_BYTES(B_ID, 19),
                                 MK_BYTES(rk, 16), &f),
                     MK_OK);
    ck_assert_uint_eq(f.n, 32);
    ck_assert_int_eq(mk_fork_key(MK_PRF_MIKEY_1, MK_C_TEK, MK_BYTES(tgk, 16),
                                 MK_BYTES(B_ID, 19), MK_BYTES(rk, 16), &f),
                     MK_E_ARG);
    ck_assert_uint_eq(f.n, 0);

    /* TEK (SRTP master key) and salt for CS 1, H = G = 1 */
    uint8_t key[16], salt[14];
    ck_assert_int_eq(mk_srtp_master(MK_PRF_MIKEY_1, MK_BYTES(tgk, 16), 1,
                                    MK_BYTES(ri, 16), MK_BYTES(rr, 16), key,
                                    16, salt, 14),
                     MK_OK);
    ck_hex(key, 16, "41175f787115dd6c38287db4f12ce72a");
    ck_hex(salt, 14, "689fc131a4359eab03aae0d6dc1b"); /* Python, App. A */
    /* at least one of RANDRi / RANDRr [6043 §5.1.3] */
    ck_assert_int_eq(mk_srtp_master(MK_PRF_MIKEY_1, MK_BYTES(tgk, 16), 1,
                                    MK_BYTES_NONE, MK_BYTES_NONE, key, 16,
                                    salt, 14),
                     MK_E_ARG);
    /* only one RAND: a different key */
    uint8_t key2[16];
    ck_assert_int_eq(mk_srtp_master(MK_PRF_MIKEY_1, MK_BYTES(tgk, 16), 1,
                                    MK_BYTES(ri, 16), MK_BYTES_NONE, key2, 16,
                                    NULL, 0),
                     MK_OK);
    ck_assert(memcmp(key, key2, 16) != 0);
    mk_key_wipe(&f);
}
END_TEST

/* ---- labels, byte by byte (mikey.md §4.3 table) ---- */

START_TEST(test_label_layouts)
{
    mk_label l;
    const uint8_t ri[3] = {0xa1, 0xa2, 0xa3}, rr[2] = {0xb1, 0xb2};
    /* protection of an initial / response message [6043 §5.1.2] */
    ck_assert_int_eq(mk_label_6043_msg(&l, 0x11223344u, 0xaabbccddu,
                                       MK_LABEL_KIND_INITIAL, MK_BYTES(ri, 3),
                                       MK_BYTES(rr, 2)),
                     MK_OK);
    ck_hex(l.b, l.n, "11223344 ff aabbccdd 01 03 a1a2a3 02 b1b2");
    ck_assert_int_eq(mk_label_6043_msg(&l, 0x11223344u, 0xaabbccddu,
                                       MK_LABEL_KIND_RESPONSE, MK_BYTES(ri, 3),
                                       MK_BYTES_NONE),
                     MK_OK);
    ck_hex(l.b, l.n, "11223344 ff aabbccdd 02 03 a1a2a3 00");
    ck_assert_int_eq(mk_label_6043_msg(&l, 0x11223344u, 0xaabbccddu, 0x03,
                                       MK_BYTES(ri, 3), MK_BYTES_NONE),
                     MK_E_ARG);
    /* Ticket Resolve: RANDRi absent (length 0) */
    ck_assert_int_eq(mk_label_6043_msg(&l, 0x2d22ac75u, 0u,
                                       MK_LABEL_KIND_INITIAL, MK_BYTES_NONE,
                                       MK_BYTES(rr, 2)),
                     MK_OK);
    ck_hex(l.b, l.n, "2d22ac75 ff 00000000 01 00 02 b1b2");
    /* TEK from TGK [6043 §5.1.3]: CS ID, 0xFFFFFFFF, 0x03 */
    ck_assert_int_eq(mk_label_6043_tek(&l, MK_C_TEK, 7, MK_BYTES(ri, 3),
                                       MK_BYTES(rr, 2)),
                     MK_OK);
    ck_hex(l.b, l.n, "2ad01c64 07 ffffffff 03 03 a1a2a3 02 b1b2");
    /* forking [6043 §5.1.1]: len16 ID Data, len8 RANDRkms */
    ck_assert_int_eq(mk_label_6043_fork(&l, MK_C_FORK_MPKR,
                                        MK_BYTES("ab", 2), MK_BYTES(rr, 2)),
                     MK_OK);
    ck_hex(l.b, l.n, "2b288856 ff ffffffff 00 0002 6162 02 b1b2");
    /* Vr key [6043 §6.10]: code 0x04, no RAND, no length byte */
    ck_assert_int_eq(mk_label_6043_fixed(&l, MK_C_AUTH_KEY, 0x04, NULL),
                     MK_OK);
    ck_hex(l.b, l.n, "2d22ac75 ff ffffffff 04");
    /* ticket keys and MPK split [App. A.2]: len8 RAND */
    const mk_bytes r = MK_BYTES(ri, 3);
    ck_assert_int_eq(mk_label_6043_fixed(&l, MK_C_ENCR_KEY, 0x05, &r), MK_OK);
    ck_hex(l.b, l.n, "150533e1 ff ffffffff 05 03 a1a2a3");
    ck_assert_int_eq(mk_label_6043_fixed(&l, MK_C_MPKR, 0x06, &r), MK_OK);
    ck_hex(l.b, l.n, "1f4d675b ff ffffffff 06 03 a1a2a3");
    /* an empty RAND still gets its length byte */
    const mk_bytes none = MK_BYTES_NONE;
    ck_assert_int_eq(mk_label_6043_fixed(&l, MK_C_MPKI, 0x06, &none), MK_OK);
    ck_hex(l.b, l.n, "220e99a2 ff ffffffff 06 00");
    /* RFC 3830: no length byte before RAND */
    ck_assert_int_eq(mk_label_3830_tgk(&l, MK_C_SP_ENCR, 3, 0x01020304u,
                                       MK_BYTES(ri, 3)),
                     MK_OK);
    ck_hex(l.b, l.n, "15798cef 03 01020304 a1a2a3");
    ck_assert_int_eq(mk_label_3830_psk(&l, MK_C_SP_AUTH, 0x01020304u,
                                       MK_BYTES_NONE),
                     MK_OK);
    ck_hex(l.b, l.n, "1b5c7973 ff 01020304");
}
END_TEST

/* §6.2 B labels in full */
START_TEST(test_b_labels)
{
    mk_label l;
    uint8_t ri[16], rr[16], rk[16], r[16];
    fill(ri, 0x01, 16);
    fill(rr, 0x02, 16);
    fill(rk, 0x04, 16);
    fill(r, 0x03, 16);
    ck_assert_int_eq(mk_label_6043_msg(&l, MK_C_AUTH_KEY, B_CSB,
                                       MK_LABEL_KIND_RESPONSE,
                                       MK_BYTES(ri, 16), MK_BYTES(rr, 16)),
                     MK_OK);
    ck_hex(l.b, l.n, "2d22ac75ff0000abcd02 10 01010101010101010101010101010101"
                     " 10 02020202020202020202020202020202");
    ck_assert_int_eq(mk_label_6043_fork(&l, MK_C_FORK_TGK, MK_BYTES(B_ID, 19),
                                        MK_BYTES(rk, 16)),
                     MK_OK);
    ck_hex(l.b, l.n, "1512b54affffffffff00 0013"
                     "7369703a626f62406578616d706c652e636f6d"
                     "10 04040404040404040404040404040404");
    const mk_bytes rb = MK_BYTES(r, 16);
    ck_assert_int_eq(mk_label_6043_fixed(&l, MK_C_MPKI, 0x06, &rb), MK_OK);
    ck_hex(l.b, l.n, "220e99a2ffffffffff06 10 03030303030303030303030303030303");
    ck_assert_int_eq(mk_label_6043_tek(&l, MK_C_TEK, 1, MK_BYTES(ri, 16),
                                       MK_BYTES(rr, 16)),
                     MK_OK);
    ck_hex(l.b, l.n, "2ad01c6401ffffffff03 10 01010101010101010101010101010101"
                     " 10 02020202020202020202020202020202");
}
END_TEST

START_TEST(test_label_limits)
{
    mk_label l;
    static uint8_t id[MK_LABEL_ID_MAX + 1];
    static uint8_t big[MK_LABEL_RAND_MAX + 1];
    memset(id, 'x', sizeof id);
    memset(big, 0x42, sizeof big);
    /* the longest ID Data with the longest RAND fits exactly */
    ck_assert_int_eq(mk_label_6043_fork(&l, MK_C_FORK_TGK,
                                        MK_BYTES(id, MK_LABEL_ID_MAX),
                                        MK_BYTES(big, MK_LABEL_RAND_MAX)),
                     MK_OK);
    ck_assert_uint_eq(l.n, MK_LABEL_MAX);
    ck_assert_uint_eq(l.b[10], MK_LABEL_ID_MAX >> 8);
    ck_assert_uint_eq(l.b[11], MK_LABEL_ID_MAX & 0xff);
    ck_assert_uint_eq(l.b[12 + MK_LABEL_ID_MAX], MK_LABEL_RAND_MAX);
    /* one byte more ID Data: refused, label left empty */
    ck_assert_int_eq(mk_label_6043_fork(&l, MK_C_FORK_TGK,
                                        MK_BYTES(id, MK_LABEL_ID_MAX + 1),
                                        MK_BYTES(big, 16)),
                     MK_E_LIMIT);
    ck_assert_uint_eq(l.n, 0);
    /* and through the derivation */
    uint8_t tgk[16];
    fill(tgk, 0x7c, 16);
    mk_key f;
    ck_assert_int_eq(mk_fork_key(MK_PRF_MIKEY_1, MK_C_FORK_TGK,
                                 MK_BYTES(tgk, 16),
                                 MK_BYTES(id, MK_LABEL_ID_MAX + 1),
                                 MK_BYTES(big, 16), &f),
                     MK_E_LIMIT);
    ck_assert_uint_eq(f.n, 0);
    /* a RAND of 256 bytes has no one-byte length */
    ck_assert_int_eq(mk_label_6043_fork(&l, MK_C_FORK_TGK, MK_BYTES(id, 4),
                                        MK_BYTES(big, MK_LABEL_RAND_MAX + 1)),
                     MK_E_LIMIT);
    ck_assert_int_eq(mk_label_6043_msg(&l, MK_C_AUTH_KEY, 0,
                                       MK_LABEL_KIND_INITIAL,
                                       MK_BYTES(big, MK_LABEL_RAND_MAX + 1),
                                       MK_BYTES_NONE),
                     MK_E_LIMIT);
    const mk_bytes rb = MK_BYTES(big, MK_LABEL_RAND_MAX + 1);
    ck_assert_int_eq(mk_label_6043_fixed(&l, MK_C_MPKI, 0x06, &rb),
                     MK_E_LIMIT);
    ck_assert_int_eq(mk_label_6043_tek(&l, MK_C_TEK, 1, MK_BYTES_NONE, rb),
                     MK_E_LIMIT);
}
END_TEST

/* ---- key sets: lengths per algorithm, errors wipe ---- */

START_TEST(test_msg_keys_lengths)
{
    uint8_t psk[16], rand[16];
    fill(psk, 0x2b, 16);
    fill(rand, 0x01, 16);
    /* the encryption and MAC algorithms and the key lengths they take */
    static const struct {
        int encr, mac;
        size_t encr_n, salt_n, auth_n;
    } lens[] = {
        {MK_ENCR_AES_CM_128, MK_MAC_HMAC_SHA1_160, 16, 14, 20},
        {MK_ENCR_AES_KW_128, MK_MAC_HMAC_SHA256_256, 16, 8, 32},
        {MK_ENCR_AES_CM_256, MK_MAC_NULL, 32, 14, 0},
        {MK_ENCR_NULL, MK_MAC_NULL, 0, 0, 0},
    };
    mk_msg_keys k[4];
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(mk_msg_keys_3830(MK_PRF_MIKEY_1, MK_BYTES(psk, 16), 1,
                                          MK_BYTES(rand, 16), lens[i].encr,
                                          lens[i].mac, &k[i]),
                         MK_OK);
        ck_assert_uint_eq(k[i].encr.n, lens[i].encr_n);
        ck_assert_uint_eq(k[i].salt.n, lens[i].salt_n);
        ck_assert_uint_eq(k[i].auth.n, lens[i].auth_n);
    }
    mk_msg_keys cm = k[0], kw = k[1], cm256 = k[2];
    /* same label, longer output: a prefix (same PRF stream) */
    ck_assert_mem_eq(kw.encr.b, cm.encr.b, 16);
    ck_assert_mem_eq(kw.salt.b, cm.salt.b, 8);
    ck_assert_mem_eq(cm256.encr.b, cm.encr.b, 16);
    ck_assert_mem_eq(kw.auth.b, cm.auth.b, 20);

    /* unknown algorithms: MK_E_VALUE and nothing left behind */
    ck_assert_int_eq(mk_msg_keys_3830(MK_PRF_MIKEY_1, MK_BYTES(psk, 16), 1,
                                      MK_BYTES(rand, 16), 4,
                                      MK_MAC_HMAC_SHA1_160, &cm),
                     MK_E_VALUE);
    ck_assert_uint_eq(cm.encr.n + cm.salt.n + cm.auth.n, 0);
    ck_assert_int_eq(mk_msg_keys_6043(MK_PRF_MIKEY_1, MK_BYTES(psk, 16), 1,
                                      MK_LABEL_KIND_INITIAL, MK_BYTES_NONE,
                                      MK_BYTES_NONE, MK_ENCR_AES_CM_128, 3,
                                      &cm),
                     MK_E_VALUE);
    ck_assert_int_eq(mk_ticket_keys(7, MK_BYTES(psk, 16), MK_BYTES(rand, 16),
                                    MK_ENCR_AES_CM_128, MK_MAC_HMAC_SHA1_160,
                                    &cm),
                     MK_E_VALUE);
    ck_assert_uint_eq(cm.encr.n + cm.salt.n + cm.auth.n, 0);
    /* an empty inkey fails after nothing is derived */
    ck_assert_int_eq(mk_msg_keys_6043(MK_PRF_MIKEY_1, MK_BYTES_NONE, 1,
                                      MK_LABEL_KIND_INITIAL, MK_BYTES_NONE,
                                      MK_BYTES_NONE, MK_ENCR_AES_CM_128,
                                      MK_MAC_HMAC_SHA1_160, &cm),
                     MK_E_ARG);
    ck_assert_uint_eq(cm.encr.n + cm.salt.n + cm.auth.n, 0);
    mk_key a, b;
    ck_assert_int_eq(mk_mpk_split(MK_PRF_MIKEY_1, MK_BYTES_NONE,
                                  MK_BYTES(rand, 16), &a, &b),
                     MK_E_ARG);
    uint8_t huge[MK_KEY_MAX + 1];
    fill(huge, 1, sizeof huge);
    ck_assert_int_eq(mk_mpk_split(MK_PRF_MIKEY_1, MK_BYTES(huge, sizeof huge),
                                  MK_BYTES(rand, 16), &a, &b),
                     MK_E_LIMIT);
    ck_assert_uint_eq(a.n + b.n, 0);
    mk_msg_keys_wipe(&kw);
    mk_msg_keys_wipe(&cm256);
}
END_TEST

/* The derivations of one call share one keyed HMAC context (derive.c):
 * each key must still equal its own PRF, for inkeys of one chunk, of two
 * (the context switching keys between chunks and between keys) and for
 * both PRFs; and mk_mpk_split's two keys must equal theirs. */
START_TEST(test_shared_context_matches_prf)
{
    static const size_t lens[] = {16, 20, 32, 40, 64};
    const int prfs[2] = {MK_PRF_MIKEY_1, MK_PRF_HMAC_SHA256};
    uint8_t in[64], rand[16], want[64];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(0x41 + 3 * i);
    memset(rand, 0x5a, sizeof rand);
    for (int p = 0; p < 2; p++) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            mk_bytes ik = MK_BYTES(in, lens[li]);
            int encr = p ? MK_ENCR_AES_CM_256 : MK_ENCR_AES_CM_128;
            int mac = p ? MK_MAC_HMAC_SHA256_256 : MK_MAC_HMAC_SHA1_160;
            mk_msg_keys k;
            ck_assert_int_eq(mk_msg_keys_6043(prfs[p], ik, 0x01020304u, 0x02,
                                              MK_BYTES(rand, 16),
                                              MK_BYTES_NONE, encr, mac, &k),
                             MK_OK);
            const struct {
                uint32_t c;
                const mk_key *key;
            } parts[3] = {{MK_C_ENCR_KEY, &k.encr},
                          {MK_C_SALT_KEY, &k.salt},
                          {MK_C_AUTH_KEY, &k.auth}};
            for (int j = 0; j < 3; j++) {
                mk_label l;
                ck_assert_int_eq(mk_label_6043_msg(&l, parts[j].c, 0x01020304u,
                                                   0x02, MK_BYTES(rand, 16),
                                                   MK_BYTES_NONE),
                                 MK_OK);
                ck_assert_uint_gt(parts[j].key->n, 0);
                ck_assert_int_eq(mk_prf(prfs[p], ik, MK_BYTES(l.b, l.n), want,
                                        parts[j].key->n),
                                 MK_OK);
                ck_assert_mem_eq(parts[j].key->b, want, parts[j].key->n);
            }
            mk_msg_keys_wipe(&k);

            mk_key mi, mr;
            ck_assert_int_eq(mk_mpk_split(prfs[p], ik, MK_BYTES(rand, 16),
                                          &mi, &mr),
                             MK_OK);
            const mk_key *mk[2] = {&mi, &mr};
            const uint32_t mc[2] = {MK_C_MPKI, MK_C_MPKR};
            for (int j = 0; j < 2; j++) {
                mk_label l;
                const mk_bytes r = MK_BYTES(rand, 16);
                ck_assert_int_eq(mk_label_6043_fixed(&l, mc[j], 0x06, &r),
                                 MK_OK);
                ck_assert_int_eq(mk_prf(prfs[p], ik, MK_BYTES(l.b, l.n), want,
                                        lens[li]),
                                 MK_OK);
                ck_assert_uint_eq(mk[j]->n, lens[li]);
                ck_assert_mem_eq(mk[j]->b, want, lens[li]);
            }
            mk_key_wipe(&mi);
            mk_key_wipe(&mr);
        }
    }
}
END_TEST

START_TEST(test_length_table)
{
    /* each length function, an algorithm, the bytes it takes */
    static const struct {
        const char *name;
        size_t (*len)(int);
        int alg;
        size_t want;
    } lens[] = {
        {"encr_key", mk_encr_key_len, MK_ENCR_NULL, 0},
        {"encr_key", mk_encr_key_len, MK_ENCR_AES_CM_128, 16},
        {"encr_key", mk_encr_key_len, MK_ENCR_AES_KW_128, 16},
        {"encr_key", mk_encr_key_len, MK_ENCR_AES_CM_256, 32},
        {"encr_key", mk_encr_key_len, 4, 0},
        {"salt_key", mk_salt_key_len, MK_ENCR_NULL, 0},
        {"salt_key", mk_salt_key_len, MK_ENCR_AES_CM_128, 14},
        {"salt_key", mk_salt_key_len, MK_ENCR_AES_KW_128, 8},
        {"salt_key", mk_salt_key_len, MK_ENCR_AES_CM_256, 14},
        {"auth_key", mk_auth_key_len, MK_MAC_NULL, 0},
        {"auth_key", mk_auth_key_len, MK_MAC_HMAC_SHA1_160, 20},
        {"auth_key", mk_auth_key_len, MK_MAC_HMAC_SHA256_256, 32},
        {"mac", mk_mac_len, MK_MAC_NULL, 0},
        {"mac", mk_mac_len, MK_MAC_HMAC_SHA1_160, 20},
        {"mac", mk_mac_len, MK_MAC_HMAC_SHA256_256, 32},
        {"mac", mk_mac_len, 3, 0},
    };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        ck_assert_msg(lens[i].len(lens[i].alg) == lens[i].want,
                      "mk_%s_len(%d) = %zu, want %zu", lens[i].name,
                      lens[i].alg, lens[i].len(lens[i].alg), lens[i].want);
    ck_assert(mk_prf_supported(MK_PRF_MIKEY_1));
    ck_assert(mk_prf_supported(MK_PRF_HMAC_SHA256));
    ck_assert(!mk_prf_supported(2));
    ck_assert(mk_encr_supported(MK_ENCR_AES_CM_256));
    ck_assert(!mk_encr_supported(4));
    ck_assert(!mk_encr_supported(6)); /* GStreamer's AES-GCM "6" is not one */
    ck_assert(mk_mac_supported(MK_MAC_NULL));
    ck_assert(!mk_mac_supported(3));
    ck_assert(!mk_mac_supported(-1));
}
END_TEST

int main(void)
{
    const TTest *const derive_tests[] = {test_a_msg_keys_3830,
        test_a_labels_and_prf, test_a_prf_inkey_chunks,
        test_prf_prefix_and_errors, test_b_request_keys,
        test_b_ticket_mpk_transfer, test_b_tgk_fork_and_tek,
        test_label_layouts, test_b_labels, test_label_limits,
        test_shared_context_matches_prf, test_msg_keys_lengths,
        test_length_table};
    return mk_check_main("crypto_derive", "derive", derive_tests,
                         MK_CHECK_NELEM(derive_tests));
}
