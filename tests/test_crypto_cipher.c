/* test_crypto_cipher.c - KEMAC encryption: AES-CM (RFC 3830 §4.2.3) against
 * NIST SP 800-38A and the mikey.md §6.2 A I_MESSAGE, AES key wrap against
 * RFC 3394 §4, round trips of every Encr alg, and the failure paths. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "lib/check_main.h"
#include "lib/guard.h"
#include "lib/hex.h"

/* ---- AES-CTR / AES-CM ---- */

#define SP_IV "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
#define SP_PT                                                                \
    "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"     \
    "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710"

START_TEST(test_aes_ctr_sp800_38a)
{
    hexbuf iv = hx(SP_IV), pt = hx(SP_PT), out;
    hexbuf k128 = hx("2b7e151628aed2a6abf7158809cf4f3c");
    hexbuf k256 = hx("603deb1015ca71be2b73aef0857d7781"
                     "1f352c073b6108d72d9810a30914dff4");
    mk_guarded g;
    mk_guarded_init(&g, pt.b, pt.n);
    /* F.5.1 CTR-AES128.Encrypt */
    ck_assert_int_eq(mk_aes_ctr(hb(&k128), iv.b, MK_BYTES(g.data, g.n), out.b),
                     MK_OK);
    ck_hex(out.b, 64,
           "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff"
           "5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee");
    /* F.5.2 Decrypt is the same operation */
    hexbuf back;
    ck_assert_int_eq(mk_aes_ctr(hb(&k128), iv.b, MK_BYTES(out.b, 64), back.b),
                     MK_OK);
    ck_assert_mem_eq(back.b, pt.b, 64);
    /* F.5.5 CTR-AES256.Encrypt */
    ck_assert_int_eq(mk_aes_ctr(hb(&k256), iv.b, MK_BYTES(g.data, g.n), out.b),
                     MK_OK);
    ck_hex(out.b, 64,
           "601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5"
           "2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6");
    /* in place */
    memcpy(out.b, pt.b, 64);
    ck_assert_int_eq(mk_aes_ctr(hb(&k128), iv.b, MK_BYTES(out.b, 64), out.b),
                     MK_OK);
    ck_hex(out.b, 16, "874d6191b620e3261bef6864990db6ce");
    /* 192-bit keys are not a MIKEY AES-CM key */
    ck_assert_int_eq(mk_aes_ctr(MK_BYTES(k256.b, 24), iv.b,
                                MK_BYTES(g.data, g.n), out.b),
                     MK_E_ARG);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_aes_cm_iv)
{
    /* mikey.md §6.2 A */
    hexbuf salt = hx("44f89561458faec57b3c630b5095");
    uint8_t iv[16];
    mk_aes_cm_iv(salt.b, 0x12345678u, 0xe7d4a5b000000000ull, iv);
    ck_hex(iv, 16, "44f8875513f74911de8c630b50950000");
    /* layout: salt XOR (0x0000 || CSB || T), low 16 bits zero */
    uint8_t zero[14] = {0};
    mk_aes_cm_iv(zero, 0xa1a2a3a4u, 0xb1b2b3b4b5b6b7b8ull, iv);
    ck_hex(iv, 16, "0000 a1a2a3a4 b1b2b3b4b5b6b7b8 0000");
}
END_TEST

/* ---- the §6.2 A I_MESSAGE and R_MESSAGE ---- */

#define I_MESSAGE                                                            \
    "010005801234567801000011223344000000000b00e7d4a5b0000000000610a0a1a2a3"  \
    "a4a5a6a7a8a9aaabacadaeaf060100157369703a616c696365406578616d706c652e636f" \
    "6d0a0100137369703a626f62406578616d706c652e636f6d010000000c00010101011002" \
    "01010b010a00010016738f41e122754f316d7234ee748c375560349ff4be8f01ed3ae60f" \
    "c41a6d4f4100341645da2bd7dd4afbcc"
#define R_MESSAGE                                                            \
    "010105001234567801000011223344000000000600e7d4a5b000000000090100137369"  \
    "703a626f62406578616d706c652e636f6d00017f33af764c0062c0f28f8b3479b5366e21" \
    "b153cc"
#define KEY_DATA "00010010 101112131415161718191a1b1c1d1e1f 0101"
#define T_A 0xe7d4a5b000000000ull

static mk_msg_keys keys_a(void)
{
    hexbuf psk = hx("000102030405060708090a0b0c0d0e0f");
    hexbuf rand = hx("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    mk_msg_keys k;
    ck_assert_int_eq(mk_msg_keys_3830(MK_PRF_MIKEY_1, hb(&psk), 0x12345678u,
                                      hb(&rand), MK_ENCR_AES_CM_128,
                                      MK_MAC_HMAC_SHA1_160, &k),
                     MK_OK);
    return k;
}

START_TEST(test_i_message_kemac)
{
    hexbuf m = hx(I_MESSAGE);
    ck_assert_uint_eq(m.n, 159);
    mk_guarded g;
    mk_cursor c;
    mk_guarded_cursor(&g, &c, m.b, m.n);
    /* fixed offsets: KEMAC at 112 = Next 0, Encr alg 1 (AES-CM-128), Encr
     * data len 0x0016; 22 bytes of Encr data; MAC alg 1; 20-byte MAC */
    mk_bytes head, encr, macalg, mac, signed_part;
    ck_assert_int_eq(mk_cur_bytes(&c, 112, &head), MK_OK);
    mk_bytes kemac_hdr;
    ck_assert_int_eq(mk_cur_bytes(&c, 4, &kemac_hdr), MK_OK);
    ck_hex(kemac_hdr.p, kemac_hdr.n, "00 01 0016");
    ck_assert_int_eq(mk_cur_bytes(&c, 0x16, &encr), MK_OK);
    ck_assert_int_eq(mk_cur_bytes(&c, 1, &macalg), MK_OK);
    ck_assert_uint_eq(macalg.p[0], MK_MAC_HMAC_SHA1_160);
    signed_part = mk_cur_since(&c, 0);
    ck_assert_int_eq(mk_cur_bytes(&c, 20, &mac), MK_OK);
    ck_assert_int_eq(mk_cur_expect_end(&c), MK_OK);

    mk_msg_keys k = keys_a();
    uint8_t plain[64];
    size_t n = 0;
    ck_assert_int_eq(mk_kemac_decrypt(&k, 0x12345678u, T_A, encr, plain,
                                      sizeof plain, &n),
                     MK_OK);
    ck_hex(plain, n, KEY_DATA);
    /* and the other way round gives the bytes on the wire */
    uint8_t cipher[64];
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0x12345678u, T_A,
                                      MK_BYTES(plain, n), cipher,
                                      sizeof cipher, &n),
                     MK_OK);
    ck_assert_uint_eq(n, encr.n);
    ck_assert_mem_eq(cipher, encr.p, n);
    /* wrong T or CSB ID: different plaintext */
    ck_assert_int_eq(mk_kemac_decrypt(&k, 0x12345678u, T_A + 1, encr, plain,
                                      sizeof plain, &n),
                     MK_OK);
    ck_assert(memcmp(plain, hx(KEY_DATA).b, n) != 0);

    /* PSK I_MESSAGE: MAC over the whole message except the MAC [3830 §5.2] */
    ck_assert_int_eq(mk_mac_verify(MK_MAC_HMAC_SHA1_160, mk_key_bytes(&k.auth),
                                   &signed_part, 1, mac),
                     MK_OK);
    uint8_t tag[20];
    ck_assert_int_eq(mk_mac(MK_MAC_HMAC_SHA1_160, mk_key_bytes(&k.auth),
                            &signed_part, 1, tag, sizeof tag),
                     MK_OK);
    ck_assert_mem_eq(tag, mac.p, 20);
    /* one byte of the signed part less: no longer verifies */
    mk_bytes shorter = MK_BYTES(signed_part.p, signed_part.n - 1);
    ck_assert_int_eq(mk_mac_verify(MK_MAC_HMAC_SHA1_160, mk_key_bytes(&k.auth),
                                   &shorter, 1, mac),
                     MK_E_MIKEY_AUTH);
    mk_msg_keys_wipe(&k);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_r_message_v)
{
    hexbuf m = hx(R_MESSAGE);
    ck_assert_uint_eq(m.n, 74);
    mk_guarded g;
    mk_cursor c;
    mk_guarded_cursor(&g, &c, m.b, m.n);
    mk_bytes body, mac;
    /* V payload is last: Next 0, Auth alg 1, 20 bytes of Ver data */
    ck_assert_int_eq(mk_cur_bytes(&c, m.n - 20, &body), MK_OK);
    ck_assert_int_eq(mk_cur_bytes(&c, 20, &mac), MK_OK);
    ck_assert_uint_eq(body.p[body.n - 1], MK_MAC_HMAC_SHA1_160);
    const uint8_t t[8] = {0xe7, 0xd4, 0xa5, 0xb0, 0, 0, 0, 0};
    /* V MAC input: message without MAC || Identity_i || Identity_r || T
     * [RFC 3830 §5.2] */
    const mk_bytes parts[4] = {body, MK_BYTES("sip:alice@example.com", 21),
                               MK_BYTES("sip:bob@example.com", 19),
                               MK_BYTES(t, 8)};
    mk_msg_keys k = keys_a();
    ck_assert_int_eq(mk_mac_verify(MK_MAC_HMAC_SHA1_160, mk_key_bytes(&k.auth),
                                   parts, 4, mac),
                     MK_OK);
    /* minisip's reading (T only, no identities) does not verify */
    const mk_bytes minisip[2] = {body, MK_BYTES(t, 8)};
    ck_assert_int_eq(mk_mac_verify(MK_MAC_HMAC_SHA1_160, mk_key_bytes(&k.auth),
                                   minisip, 2, mac),
                     MK_E_MIKEY_AUTH);
    mk_msg_keys_wipe(&k);
    mk_guarded_free(&g);
}
END_TEST

/* ---- AES-CM-256 and AES-KW-128 through the KEMAC path: regression vectors
 * from an independent Python implementation (pyca cryptography AES-CTR /
 * AES-ECB with our RFC 3394 loop) ---- */

START_TEST(test_kemac_cm256_and_kw_vectors)
{
    mk_msg_keys k;
    memset(&k, 0, sizeof k);
    hexbuf key = hx("603deb1015ca71be2b73aef0857d7781"
                    "1f352c073b6108d72d9810a30914dff4");
    hexbuf salt = hx("000102030405060708090a0b0c0d");
    hexbuf pt = hx(SP_PT);
    k.encr_alg = MK_ENCR_AES_CM_256;
    ck_assert_int_eq(mk_key_copy(&k.encr, hb(&key)), MK_OK);
    ck_assert_int_eq(mk_key_copy(&k.salt, hb(&salt)), MK_OK);
    uint8_t out[64];
    size_t n = 0;
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0x12345678u, T_A,
                                      MK_BYTES(pt.b, 37), out, sizeof out, &n),
                     MK_OK);
    ck_hex(out, n,
           "ff0d031fa30a5904e8cca9cc904ab716 5871b70580621c829eb744da32d3e18a"
           "732682c704");
    mk_msg_keys_wipe(&k);

    /* AES-KW-128: KEK = encr_key, RFC 3394 IV = 64-bit salt_key
     * [RFC 3830 §4.2.4] */
    hexbuf kek = hx("728ffc4e7bea1d0d8106d39a7403f137");
    hexbuf s8 = hx("44f89561458faec5");
    hexbuf kd = hx(KEY_DATA "0000");
    k.encr_alg = MK_ENCR_AES_KW_128;
    ck_assert_int_eq(mk_key_copy(&k.encr, hb(&kek)), MK_OK);
    ck_assert_int_eq(mk_key_copy(&k.salt, hb(&s8)), MK_OK);
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0, 0, hb(&kd), out, sizeof out, &n),
                     MK_OK);
    ck_hex(out, n,
           "ca5789efd34cffb92d0bd487ef67e983 9aae778795e6edfa5def4873e7a7dd82");
    uint8_t back[64];
    ck_assert_int_eq(mk_kemac_decrypt(&k, 0, 0, MK_BYTES(out, n), back,
                                      sizeof back, &n),
                     MK_OK);
    ck_assert_uint_eq(n, kd.n);
    ck_assert_mem_eq(back, kd.b, n);
    /* CSB ID and T play no part in AES-KW */
    ck_assert_int_eq(mk_kemac_encrypt(&k, 7, 9, hb(&kd), back, sizeof back,
                                      &n),
                     MK_OK);
    ck_assert_mem_eq(back, out, n);
    /* the same wrap with the default IV differs, and the salt-IV wrap does
     * not unwrap under the default IV */
    ck_assert_int_eq(mk_aes_kw_wrap(hb(&kek), NULL, hb(&kd), back,
                                    sizeof back, &n),
                     MK_OK);
    ck_assert(memcmp(back, out, n) != 0);
    ck_assert_int_eq(mk_aes_kw_unwrap(hb(&kek), NULL, MK_BYTES(out, 32), back,
                                      sizeof back, &n),
                     MK_E_UNWRAP);
    /* Key data that is not a multiple of 64 bits cannot be wrapped */
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0, 0, MK_BYTES(kd.b, 22), out,
                                      sizeof out, &n),
                     MK_E_VALUE);
    mk_msg_keys_wipe(&k);
}
END_TEST

/* ---- RFC 3394 §4 ---- */

START_TEST(test_kw_rfc3394)
{
    static const struct {
        const char *kek, *data, *wrapped;
    } v[] = {
        /* 4.1: 128 bits of key data, 128-bit KEK */
        {"000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff",
         "1fa68b0a8112b447 aef34bd8fb5a7b82 9d3e862371d2cfe5"},
        /* 4.2: 192-bit KEK */
        {"000102030405060708090a0b0c0d0e0f1011121314151617",
         "00112233445566778899aabbccddeeff",
         "96778b25ae6ca435 f92b5b97c050aed2 468ab8a17ad84e5d"},
        /* 4.3: 256-bit KEK */
        {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "00112233445566778899aabbccddeeff",
         "64e8c3f9ce0f5ba2 63e9777905818a2a 93c8191e7d6e8ae7"},
        /* 4.6: 256 bits of key data, 256-bit KEK */
        {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f",
         "28c9f404c4b810f4 cbccb35cfb87f826 3f5786e2d80ed326 cbc7f0e71a99f43b "
         "fb988b9b7a02dd21"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        hexbuf kek = hx(v[i].kek), data = hx(v[i].data), w = hx(v[i].wrapped);
        uint8_t out[48], back[40];
        size_t n = 0;
        mk_guarded g;
        mk_guarded_init(&g, data.b, data.n);
        ck_assert_int_eq(mk_aes_kw_wrap(hb(&kek), NULL, MK_BYTES(g.data, g.n),
                                        out, sizeof out, &n),
                         MK_OK);
        mk_guarded_free(&g);
        ck_assert_uint_eq(n, w.n);
        ck_assert_mem_eq(out, w.b, n);
        mk_guarded_init(&g, w.b, w.n);
        ck_assert_int_eq(mk_aes_kw_unwrap(hb(&kek), NULL,
                                          MK_BYTES(g.data, g.n), back,
                                          sizeof back, &n),
                         MK_OK);
        mk_guarded_free(&g);
        ck_assert_uint_eq(n, data.n);
        ck_assert_mem_eq(back, data.b, n);
        /* the explicit default IV A6A6A6A6A6A6A6A6 is the same */
        const uint8_t a6[8] = {0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6};
        ck_assert_int_eq(mk_aes_kw_wrap(hb(&kek), a6, hb(&data), out,
                                        sizeof out, &n),
                         MK_OK);
        ck_assert_mem_eq(out, w.b, n);
    }
}
END_TEST

START_TEST(test_kw_every_bit_flip_fails)
{
    hexbuf kek = hx("000102030405060708090a0b0c0d0e0f");
    hexbuf w = hx("1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
    uint8_t back[16];
    for (size_t bit = 0; bit < w.n * 8; bit++) {
        hexbuf x = w;
        x.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        size_t n = 99;
        memset(back, 0x5c, sizeof back);
        ck_assert_int_eq(mk_aes_kw_unwrap(hb(&kek), NULL, hb(&x), back,
                                          sizeof back, &n),
                         MK_E_UNWRAP);
        ck_assert_uint_eq(n, 0);
        /* nothing of a failed unwrap is left in the output */
        static const uint8_t zero[16];
        ck_assert_mem_eq(back, zero, sizeof back);
    }
    /* wrong KEK, wrong IV */
    hexbuf kek2 = kek;
    kek2.b[15] ^= 1;
    size_t n;
    ck_assert_int_eq(mk_aes_kw_unwrap(hb(&kek2), NULL, hb(&w), back,
                                      sizeof back, &n),
                     MK_E_UNWRAP);
    const uint8_t iv[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ck_assert_int_eq(mk_aes_kw_unwrap(hb(&kek), iv, hb(&w), back, sizeof back,
                                      &n),
                     MK_E_UNWRAP);
}
END_TEST

START_TEST(test_kw_lengths)
{
    hexbuf kek = hx("000102030405060708090a0b0c0d0e0f");
    hexbuf w = hx("1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
    uint8_t buf[64] = {0};
    size_t n;
    /* wrap: n >= 2 semiblocks, whole semiblocks [RFC 3394 §2] */
    ck_assert_int_eq(mk_aes_kw_wrap(hb(&kek), NULL, MK_BYTES(buf, 8), buf + 32,
                                    32, &n),
                     MK_E_VALUE);
    ck_assert_int_eq(mk_aes_kw_wrap(hb(&kek), NULL, MK_BYTES(buf, 17),
                                    buf + 32, 32, &n),
                     MK_E_VALUE);
    ck_assert_int_eq(mk_aes_kw_wrap(hb(&kek), NULL, MK_BYTES(buf, 0), buf + 32,
                                    32, &n),
                     MK_E_VALUE);
    /* output capacity: exact works, one short does not */
    uint8_t out[24];
    ck_assert_int_eq(mk_aes_kw_wrap(hb(&kek), NULL, MK_BYTES(buf, 16), out, 23,
                                    &n),
                     MK_E_NOSPACE);
    ck_assert_int_eq(mk_aes_kw_wrap(hb(&kek), NULL, MK_BYTES(buf, 16), out, 24,
                                    &n),
                     MK_OK);
    ck_assert_int_eq(mk_aes_kw_unwrap(hb(&kek), NULL, hb(&w), buf, 15, &n),
                     MK_E_NOSPACE);
    ck_assert_int_eq(mk_aes_kw_unwrap(hb(&kek), NULL, hb(&w), buf, 16, &n),
                     MK_OK);
    /* unwrap: at least 3 semiblocks, whole semiblocks */
    ck_assert_int_eq(mk_aes_kw_unwrap(hb(&kek), NULL, MK_BYTES(w.b, 16), buf,
                                      sizeof buf, &n),
                     MK_E_LENGTH);
    ck_assert_int_eq(mk_aes_kw_unwrap(hb(&kek), NULL, MK_BYTES(w.b, 23), buf,
                                      sizeof buf, &n),
                     MK_E_LENGTH);
    /* KEK sizes */
    ck_assert_int_eq(mk_aes_kw_wrap(MK_BYTES(kek.b, 15), NULL,
                                    MK_BYTES(buf, 16), out, sizeof out, &n),
                     MK_E_ARG);
    ck_assert_int_eq(mk_aes_kw_unwrap(MK_BYTES(kek.b, 8), NULL, hb(&w), buf,
                                      sizeof buf, &n),
                     MK_E_ARG);
}
END_TEST

/* ---- round trips of every Encr alg ---- */

START_TEST(test_kemac_round_trips)
{
    static const int algs[] = {MK_ENCR_NULL, MK_ENCR_AES_CM_128,
                               MK_ENCR_AES_KW_128, MK_ENCR_AES_CM_256};
    uint8_t inkey[16];
    ck_assert_int_eq(mk_random(inkey, sizeof inkey), MK_OK);
    for (size_t a = 0; a < 4; a++) {
        mk_msg_keys k;
        ck_assert_int_eq(mk_msg_keys_6043(MK_PRF_MIKEY_1,
                                          MK_BYTES(inkey, 16), 0xabcdu,
                                          MK_LABEL_KIND_RESPONSE,
                                          MK_BYTES(inkey, 8), MK_BYTES_NONE,
                                          algs[a], MK_MAC_HMAC_SHA1_160, &k),
                         MK_OK);
        for (size_t len = 16; len <= 96; len += 8) {
            uint8_t plain[96], cipher[104], back[104];
            ck_assert_int_eq(mk_random(plain, len), MK_OK);
            size_t cn = 0, bn = 0;
            mk_guarded g;
            mk_guarded_init(&g, plain, len);
            ck_assert_int_eq(mk_kemac_encrypt(&k, 0xabcdu, T_A,
                                              MK_BYTES(g.data, g.n), cipher,
                                              sizeof cipher, &cn),
                             MK_OK);
            mk_guarded_free(&g);
            ck_assert_uint_eq(cn, algs[a] == MK_ENCR_AES_KW_128 ? len + 8
                                                                : len);
            if (algs[a] == MK_ENCR_NULL)
                ck_assert_mem_eq(cipher, plain, len);
            else
                ck_assert(memcmp(cipher, plain, len) != 0);
            mk_guarded_init(&g, cipher, cn);
            ck_assert_int_eq(mk_kemac_decrypt(&k, 0xabcdu, T_A,
                                              MK_BYTES(g.data, g.n), back,
                                              sizeof back, &bn),
                             MK_OK);
            mk_guarded_free(&g);
            ck_assert_uint_eq(bn, len);
            ck_assert_mem_eq(back, plain, len);
        }
        /* AES-CM: odd lengths too (a stream) */
        if (algs[a] == MK_ENCR_AES_CM_128 || algs[a] == MK_ENCR_AES_CM_256) {
            uint8_t p[23] = {1}, c[23], b[23];
            size_t n;
            ck_assert_int_eq(mk_kemac_encrypt(&k, 1, 2, MK_BYTES(p, 23), c,
                                              23, &n),
                             MK_OK);
            ck_assert_int_eq(mk_kemac_encrypt(&k, 1, 2, MK_BYTES(p, 23), c,
                                              22, &n),
                             MK_E_NOSPACE);
            ck_assert_int_eq(mk_kemac_decrypt(&k, 1, 2, MK_BYTES(c, 23), b,
                                              23, &n),
                             MK_OK);
            ck_assert_mem_eq(b, p, 23);
        }
        mk_msg_keys_wipe(&k);
    }
}
END_TEST

START_TEST(test_kemac_errors)
{
    mk_msg_keys k;
    memset(&k, 0, sizeof k);
    uint8_t buf[32] = {0}, out[32];
    size_t n;
    /* unknown Encr alg */
    k.encr_alg = 4;
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0, 0, MK_BYTES(buf, 16), out,
                                      sizeof out, &n),
                     MK_E_VALUE);
    ck_assert_int_eq(mk_kemac_decrypt(&k, 0, 0, MK_BYTES(buf, 16), out,
                                      sizeof out, &n),
                     MK_E_VALUE);
    /* keys that do not match the alg */
    k.encr_alg = MK_ENCR_AES_CM_256;
    ck_assert_int_eq(mk_key_copy(&k.encr, MK_BYTES(buf, 16)), MK_OK);
    ck_assert_int_eq(mk_key_copy(&k.salt, MK_BYTES(buf, 14)), MK_OK);
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0, 0, MK_BYTES(buf, 16), out,
                                      sizeof out, &n),
                     MK_E_ARG);
    k.encr_alg = MK_ENCR_AES_CM_128;
    ck_assert_int_eq(mk_key_copy(&k.salt, MK_BYTES(buf, 8)), MK_OK);
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0, 0, MK_BYTES(buf, 16), out,
                                      sizeof out, &n),
                     MK_E_ARG);
    k.encr_alg = MK_ENCR_AES_KW_128;
    ck_assert_int_eq(mk_key_copy(&k.salt, MK_BYTES(buf, 14)), MK_OK);
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0, 0, MK_BYTES(buf, 16), out,
                                      sizeof out, &n),
                     MK_E_ARG);
    /* NULL: exact capacity works, one short does not */
    k.encr_alg = MK_ENCR_NULL;
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0, 0, MK_BYTES(buf, 16), out, 15,
                                      &n),
                     MK_E_NOSPACE);
    ck_assert_int_eq(mk_kemac_decrypt(&k, 0, 0, MK_BYTES(buf, 16), out, 16,
                                      &n),
                     MK_OK);
    ck_assert_uint_eq(n, 16);
    mk_msg_keys_wipe(&k);

    /* AES-CM: at most 2^23 bits under one IV [RFC 3830 §4.2.3] */
    k.encr_alg = MK_ENCR_AES_CM_128;
    ck_assert_int_eq(mk_key_copy(&k.encr, MK_BYTES(buf, 16)), MK_OK);
    ck_assert_int_eq(mk_key_copy(&k.salt, MK_BYTES(buf, 14)), MK_OK);
    size_t big = MK_AES_CM_MAX_BYTES + 1;
    uint8_t *p = calloc(1, big), *q = malloc(big);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0, 0, MK_BYTES(p, big), q, big, &n),
                     MK_E_LIMIT);
    ck_assert_int_eq(mk_kemac_encrypt(&k, 0, 0, MK_BYTES(p, big - 1), q, big,
                                      &n),
                     MK_OK);
    ck_assert_uint_eq(n, big - 1);
    /* the last block still uses counter 0xFFFF, no carry into T: equals the
     * raw CTR stream with the same IV */
    uint8_t iv[16];
    mk_aes_cm_iv(k.salt.b, 0, 0, iv);
    uint8_t *r = malloc(big);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(mk_aes_ctr(mk_key_bytes(&k.encr), iv,
                                MK_BYTES(p, big - 1), r),
                     MK_OK);
    ck_assert_mem_eq(q + big - 17, r + big - 17, 16);
    free(p);
    free(q);
    free(r);
    mk_msg_keys_wipe(&k);
}
END_TEST

int main(void)
{
    const TTest *const cipher_tests[] = {test_aes_ctr_sp800_38a,
        test_aes_cm_iv, test_i_message_kemac, test_r_message_v,
        test_kemac_cm256_and_kw_vectors, test_kw_rfc3394,
        test_kw_every_bit_flip_fails, test_kw_lengths, test_kemac_round_trips,
        test_kemac_errors};
    const mk_check_opts o = {
        .suite = "crypto_cipher", .tcase = "cipher", .timeout = 30
    };
    return mk_check_main_opts(&o, cipher_tests, MK_CHECK_NELEM(cipher_tests));
}
