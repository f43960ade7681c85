/* test_proto.c - the shared MIKEY-TICKET building blocks: suites, KEMAC
 * seal/open (with the RFC 3830 KEMAC of mikey.md §6.2 A as a known answer),
 * V sign/verify (with the R_MESSAGE of mikey.md §6.2 A) and the T value of
 * the AES-CM IV. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"
#include "crypto/crypto.h"
#include "proto/proto.h"
#include "lib/check_main.h"
#include "lib/guard.h"
#include "lib/hex.h"

/* mikey.md §6.2 A: keys protecting the I_MESSAGE (MIKEY-1, AES-CM-128) */
static void keys_6_2_a(mk_msg_keys *k)
{
    hexbuf e = hx("728ffc4e7bea1d0d8106d39a7403f137");
    hexbuf s = hx("44f89561458faec57b3c630b5095");
    hexbuf a = hx("1c259cd9039f914f4e376c9983028c56d93bfa48");
    memset(k, 0, sizeof *k);
    k->encr_alg = MK_ENCR_AES_CM_128;
    k->mac_alg = MK_MAC_HMAC_SHA1_160;
    ck_assert_int_eq(mk_key_copy(&k->encr, HB(e)), MK_OK);
    ck_assert_int_eq(mk_key_copy(&k->salt, HB(s)), MK_OK);
    ck_assert_int_eq(mk_key_copy(&k->auth, HB(a)), MK_OK);
}

static void add_key(mk_key_set *ks, uint8_t type, const char *key,
                    const char *salt, const char *spi)
{
    mk_key_entry *e = &ks->e[ks->count++];
    hexbuf kb = hx(key);
    memset(e, 0, sizeof *e);
    e->type = type;
    ck_assert_int_eq(mk_key_copy(&e->key, HB(kb)), MK_OK);
    if (salt) {
        hexbuf sb = hx(salt);
        ck_assert_int_eq(mk_key_copy(&e->salt, HB(sb)), MK_OK);
    }
    if (spi) {
        hexbuf pb = hx(spi);
        e->kv = MK_KV_SPI;
        memcpy(e->spi, pb.b, pb.n);
        e->spi_len = pb.n;
    }
}

START_TEST(test_suites)
{
    const mk_suite *s = NULL;
    ck_assert_int_eq(mk_suite_of(MK_PRF_MIKEY_1, MK_MAC_HMAC_SHA1_160, &s),
                     MK_OK);
    ck_assert_ptr_eq(s, &mk_suite_128);
    ck_assert_int_eq(s->encr_alg, MK_ENCR_AES_CM_128);
    ck_assert_uint_eq(s->key_len, 16);
    ck_assert_int_eq(mk_suite_of(MK_PRF_HMAC_SHA256, MK_MAC_HMAC_SHA256_256,
                                 &s),
                     MK_OK);
    ck_assert_ptr_eq(s, &mk_suite_256);
    ck_assert_int_eq(s->encr_alg, MK_ENCR_AES_CM_256);
    ck_assert_uint_eq(s->key_len, 32);
    /* mixing (RFC 6043 §12.1), NULL and unknown algorithms */
    ck_assert_int_eq(mk_suite_of(MK_PRF_MIKEY_1, MK_MAC_HMAC_SHA256_256, &s),
                     MK_E_MIKEY_MAC);
    ck_assert_int_eq(mk_suite_of(MK_PRF_HMAC_SHA256, MK_MAC_HMAC_SHA1_160,
                                 &s),
                     MK_E_MIKEY_MAC);
    ck_assert_int_eq(mk_suite_of(MK_PRF_MIKEY_1, MK_MAC_NULL, &s),
                     MK_E_MIKEY_MAC);
    ck_assert_int_eq(mk_suite_of(MK_PRF_MIKEY_1, 7, &s), MK_E_MIKEY_MAC);
    ck_assert_int_eq(mk_suite_of(2, MK_MAC_HMAC_SHA1_160, &s), MK_E_MIKEY_PRF);
    ck_assert_int_eq(mk_suite_of(127, 99, &s), MK_E_MIKEY_PRF);
}
END_TEST

/* Known answer: the I_MESSAGE KEMAC of mikey.md §6.2 A (TGK with MKI 01). */
START_TEST(test_kemac_seal_known_answer)
{
    mk_msg_keys k;
    mk_key_set ks, back;
    uint8_t cipher[256];
    mk_payload p;
    hexbuf want = hx("738f41e122754f316d7234ee748c375560349ff4be8f");
    keys_6_2_a(&k);
    memset(&ks, 0, sizeof ks);
    add_key(&ks, MK_KEY_TGK, "101112131415161718191a1b1c1d1e1f", NULL, "01");
    ck_assert_int_eq(mk_kemac_seal(&ks, &k, 0x12345678u,
                                   0xe7d4a5b000000000ull, cipher,
                                   sizeof cipher, &p),
                     MK_OK);
    ck_assert_uint_eq(p.type, MK_PT_KEMAC);
    ck_assert_uint_eq(p.u.kemac.encr_alg, MK_ENCR_AES_CM_128);
    ck_assert_uint_eq(p.u.kemac.mac_alg, MK_MAC_NULL);
    ck_assert_uint_eq(p.u.kemac.mac.n, 0);
    ck_assert_uint_eq(p.u.kemac.encr_data.n, want.n);
    ck_assert_mem_eq(p.u.kemac.encr_data.p, want.b, want.n);

    ck_assert_int_eq(mk_kemac_open(&p.u.kemac, &k, 0x12345678u,
                                   0xe7d4a5b000000000ull, &back),
                     MK_OK);
    ck_assert_uint_eq(back.count, 1);
    ck_assert_uint_eq(back.e[0].type, MK_KEY_TGK);
    ck_assert_uint_eq(back.e[0].key.n, 16);
    ck_assert_mem_eq(back.e[0].key.b, ks.e[0].key.b, 16);
    ck_assert_uint_eq(back.e[0].kv, MK_KV_SPI);
    ck_assert_uint_eq(back.e[0].spi_len, 1);
    ck_assert_uint_eq(back.e[0].spi[0], 1);
    mk_key_set_wipe(&back);
    ck_assert_uint_eq(back.count, 0);
    ck_assert_uint_eq(back.e[0].key.n, 0);
    mk_key_set_wipe(&ks);
    mk_msg_keys_wipe(&k);
}
END_TEST

static void roundtrip_suite(const mk_suite *s)
{
    mk_msg_keys k;
    mk_key_set ks, back;
    uint8_t cipher[1024];
    mk_payload p;
    uint8_t psk[32], rnd[32];
    memset(psk, 0x2b, sizeof psk);
    memset(rnd, 0x01, sizeof rnd);
    ck_assert_int_eq(mk_msg_keys_6043(s->prf_func, MK_BYTES(psk, s->key_len),
                                      0xabcd, MK_LABEL_KIND_RESPONSE,
                                      MK_BYTES(rnd, 16), MK_BYTES_NONE,
                                      s->encr_alg, s->mac_alg, &k),
                     MK_OK);
    memset(&ks, 0, sizeof ks);
    add_key(&ks, MK_KEY_MPK,
            "6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e",
            NULL, NULL);
    add_key(&ks, MK_KEY_TGK_SALT, "7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c",
            "0102030405060708090a0b0c0d0e", "a1a2a3a4");
    add_key(&ks, MK_KEY_TEK, "11223344556677889900aabbccddeeff", NULL,
            "00000001");
    add_key(&ks, MK_KEY_GTGK_SALT, "ffeeddccbbaa99887766554433221100",
            "00", "01020304050607080910111213141516");
    /* an SPI of length 0 decodes to an empty span with no pointer (found
     * by fuzz_kms under UBSan) */
    add_key(&ks, MK_KEY_TGK, "0f0e0d0c0b0a09080706050403020100", NULL, "");
    ck_assert_int_eq(mk_kemac_seal(&ks, &k, 0xabcd, 0x1122334455667788ull,
                                   cipher, sizeof cipher, &p),
                     MK_OK);
    ck_assert_uint_eq(p.u.kemac.encr_alg, (unsigned)s->encr_alg);
    ck_assert_int_eq(mk_kemac_open(&p.u.kemac, &k, 0xabcd,
                                   0x1122334455667788ull, &back),
                     MK_OK);
    ck_assert_uint_eq(back.count, ks.count);
    for (size_t i = 0; i < ks.count; i++) {
        ck_assert_uint_eq(back.e[i].type, ks.e[i].type);
        ck_assert_uint_eq(back.e[i].key.n, ks.e[i].key.n);
        ck_assert_mem_eq(back.e[i].key.b, ks.e[i].key.b, ks.e[i].key.n);
        ck_assert_uint_eq(back.e[i].salt.n, ks.e[i].salt.n);
        ck_assert_mem_eq(back.e[i].salt.b, ks.e[i].salt.b, ks.e[i].salt.n);
        ck_assert_uint_eq(back.e[i].kv, ks.e[i].kv);
        ck_assert_uint_eq(back.e[i].spi_len, ks.e[i].spi_len);
        ck_assert_mem_eq(back.e[i].spi, ks.e[i].spi, ks.e[i].spi_len);
    }
    mk_key_set_wipe(&back);

    /* another T or CSB ID (a different IV) does not give the keys back */
    ck_assert_int_eq(mk_kemac_open(&p.u.kemac, &k, 0xabcd,
                                   0x1122334455667789ull, &back),
                     MK_E_MIKEY_AUTH);
    ck_assert_uint_eq(back.count, 0);
    ck_assert_int_eq(mk_kemac_open(&p.u.kemac, &k, 0xabce,
                                   0x1122334455667788ull, &back),
                     MK_E_MIKEY_AUTH);
    /* the other suite's Encr alg: Invalid EA */
    mk_kemac other = p.u.kemac;
    other.encr_alg = s->encr_alg == MK_ENCR_AES_CM_128 ? MK_ENCR_AES_CM_256
                                                       : MK_ENCR_AES_CM_128;
    ck_assert_int_eq(mk_kemac_open(&other, &k, 0xabcd, 0x1122334455667788ull,
                                   &back),
                     MK_E_MIKEY_EA);
    /* a KEMAC with its own MAC is not an RFC 6043 KEMAC */
    other = p.u.kemac;
    other.mac_alg = MK_MAC_HMAC_SHA1_160;
    ck_assert_int_eq(mk_kemac_open(&other, &k, 0xabcd, 0x1122334455667788ull,
                                   &back),
                     MK_E_MIKEY_MAC);
    mk_key_set_wipe(&ks);
    mk_msg_keys_wipe(&k);
}

START_TEST(test_kemac_roundtrip_both_suites)
{
    roundtrip_suite(&mk_suite_128);
    roundtrip_suite(&mk_suite_256);
}
END_TEST

START_TEST(test_kemac_seal_arguments)
{
    mk_msg_keys k;
    mk_key_set ks;
    uint8_t cipher[8];
    mk_payload p;
    keys_6_2_a(&k);
    memset(&ks, 0, sizeof ks);
    ck_assert_int_eq(mk_kemac_seal(&ks, &k, 1, 1, cipher, sizeof cipher, &p),
                     MK_E_ARG);
    add_key(&ks, MK_KEY_TGK, "101112131415161718191a1b1c1d1e1f", NULL, "01");
    ck_assert_int_eq(mk_kemac_seal(&ks, &k, 1, 1, cipher, sizeof cipher, &p),
                     MK_E_NOSPACE);
    ks.e[0].kv = MK_KV_INTERVAL;
    ck_assert_int_eq(mk_kemac_seal(&ks, &k, 1, 1, cipher, sizeof cipher, &p),
                     MK_E_ARG);
    mk_msg_keys_wipe(&k);
}
END_TEST

/* mikey.md §6.2 A R_MESSAGE: MAC over message-without-MAC || Identity_i ||
 * Identity_r || T (RFC 3830 §5.2); built from constructors, signed, and
 * verified after decoding. */
#define R_MESSAGE_HEX                                                       \
    "010105001234567801000011223344000000000600e7d4a5b000000000090100137369" \
    "703a626f62406578616d706c652e636f6d00017f33af764c0062c0f28f8b3479b5366e" \
    "21b153cc"

START_TEST(test_v_known_answer)
{
    mk_msg_keys k;
    hexbuf want = hx(R_MESSAGE_HEX);
    hexbuf t = hx("e7d4a5b000000000");
    const char *alice = "sip:alice@example.com", *bob = "sip:bob@example.com";
    mk_bytes extra[3] = {MK_BYTES(alice, strlen(alice)),
                         MK_BYTES(bob, strlen(bob)), HB(t)};
    uint8_t map[MK_SRTP_ID_LEN], out[256];
    mk_buf mb, ob;
    mk_message m, d;
    keys_6_2_a(&k);

    memset(&m, 0, sizeof m);
    mk_buf_init(&mb, map, sizeof map);
    mk_srtp_id e = {0, 0x11223344u, 0};
    ck_assert_int_eq(mk_map_put_srtp(&mb, &e), MK_OK);
    m.hdr.version = 1;
    m.hdr.data_type = MK_DT_PSK_RESP;
    m.hdr.csb_id = 0x12345678u;
    m.hdr.n_cs = 1;
    m.hdr.map_type = MK_MAP_SRTP_ID;
    m.hdr.map_info = mk_buf_view(&mb);
    mk_chain_init(&m.chain);
    ck_assert_int_eq(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC,
                                                    0xe7d4a5b000000000ull)),
                     MK_OK);
    ck_assert_int_eq(mk_chain_add(&m.chain,
                                  mk_pl_id(MK_IDT_URI,
                                           MK_BYTES(bob, strlen(bob)))),
                     MK_OK);
    ck_assert_int_eq(mk_chain_add(&m.chain,
                                  mk_pl_v(MK_MAC_HMAC_SHA1_160,
                                          MK_BYTES(NULL, 20))),
                     MK_OK);
    mk_buf_init(&ob, out, sizeof out);
    ob.n = 3; /* the message need not start at the beginning of the buffer */
    ck_assert_int_eq(mk_v_encode_signed(&m, mk_key_bytes(&k.auth), extra, 3,
                                        &ob),
                     MK_OK);
    ck_assert_uint_eq(ob.n - 3, want.n);
    ck_assert_mem_eq(out + 3, want.b, want.n);

    mk_guarded g;
    mk_guarded_init(&g, want.b, want.n);
    ck_assert_int_eq(mk_message_decode(MK_BYTES(g.data, g.n), &d), MK_OK);
    ck_assert_int_eq(mk_v_verify(&d, mk_key_bytes(&k.auth), extra, 3), MK_OK);
    /* without the identities (minisip's deviation) it does not verify */
    ck_assert_int_eq(mk_v_verify(&d, mk_key_bytes(&k.auth), extra + 2, 1),
                     MK_E_MIKEY_AUTH);
    /* another key */
    ck_assert_int_eq(mk_v_verify(&d, mk_key_bytes(&k.encr), extra, 3),
                     MK_E_MIKEY_AUTH);
    mk_guarded_free(&g);

    /* every single bit flipped outside the HDR either fails to decode or
     * fails to verify */
    for (size_t bit = 8 * MK_HDR_FIXED_LEN; bit < 8 * want.n; bit++) {
        hexbuf f = want;
        f.b[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        if (mk_message_decode(HB(f), &d) != MK_OK)
            continue;
        ck_assert_int_eq(mk_v_verify(&d, mk_key_bytes(&k.auth), extra, 3),
                         MK_E_MIKEY_AUTH);
    }
    mk_msg_keys_wipe(&k);
}
END_TEST

START_TEST(test_v_refusals)
{
    uint8_t out[128], key[20];
    mk_buf ob;
    mk_message m, d;
    memset(key, 7, sizeof key);
    memset(&m, 0, sizeof m);
    m.hdr.version = 1;
    m.hdr.data_type = MK_DT_ERROR;
    m.hdr.map_type = MK_MAP_EMPTY;
    mk_chain_init(&m.chain);
    ck_assert_int_eq(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC, 5)), MK_OK);
    /* no V at the end */
    mk_buf_init(&ob, out, sizeof out);
    ck_assert_int_eq(mk_v_encode_signed(&m, MK_BYTES(key, 20), NULL, 0, &ob),
                     MK_E_ARG);
    /* a V with auth alg NULL and an empty MAC must never verify */
    ck_assert_int_eq(mk_chain_add(&m.chain, mk_pl_v(MK_MAC_NULL,
                                                    MK_BYTES_NONE)),
                     MK_OK);
    mk_buf_init(&ob, out, sizeof out);
    ck_assert_int_eq(mk_v_encode_signed(&m, MK_BYTES(key, 20), NULL, 0, &ob),
                     MK_E_ARG);
    mk_buf_init(&ob, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(&m, &ob), MK_OK);
    ck_assert_int_eq(mk_message_decode(mk_buf_view(&ob), &d), MK_OK);
    ck_assert_int_eq(mk_v_verify(&d, MK_BYTES(key, 20), NULL, 0),
                     MK_E_MIKEY_AUTH);
    /* SHA-256 V signed and verified, the extra part matters */
    m.chain.p[1] = mk_pl_v(MK_MAC_HMAC_SHA256_256, MK_BYTES(NULL, 32));
    mk_bytes x = MK_BYTES("x", 1), y = MK_BYTES("y", 1);
    mk_buf_init(&ob, out, sizeof out);
    ck_assert_int_eq(mk_v_encode_signed(&m, MK_BYTES(key, 20), &x, 1, &ob),
                     MK_OK);
    ck_assert_int_eq(mk_message_decode(mk_buf_view(&ob), &d), MK_OK);
    ck_assert_int_eq(mk_v_verify(&d, MK_BYTES(key, 20), &x, 1), MK_OK);
    ck_assert_int_eq(mk_v_verify(&d, MK_BYTES(key, 20), &y, 1),
                     MK_E_MIKEY_AUTH);
    ck_assert_int_eq(mk_v_verify(&d, MK_BYTES(key, 20), NULL, 0),
                     MK_E_MIKEY_AUTH);
    /* without V as the last payload */
    m.chain.count = 1;
    mk_buf_init(&ob, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(&m, &ob), MK_OK);
    ck_assert_int_eq(mk_message_decode(mk_buf_view(&ob), &d), MK_OK);
    ck_assert_int_eq(mk_v_verify(&d, MK_BYTES(key, 20), NULL, 0),
                     MK_E_MIKEY_AUTH);
}
END_TEST

START_TEST(test_t_iv_value)
{
    mk_t t = {MK_TS_NTP_UTC, 0xe7d4a5b012345678ull};
    ck_assert_uint_eq(mk_t_iv_value(&t), 0xe7d4a5b012345678ull);
    t.ts_type = MK_TS_NTP_UTC_32;
    t.value = 0xe7d4a5b0u;
    ck_assert_uint_eq(mk_t_iv_value(&t), 0xe7d4a5b000000000ull);
    t.ts_type = MK_TS_COUNTER;
    t.value = 0x01020304u;
    ck_assert_uint_eq(mk_t_iv_value(&t), 0x01020304ull);
}
END_TEST

int main(void)
{
    const TTest *const proto_tests[] = {test_suites,
        test_kemac_seal_known_answer, test_kemac_roundtrip_both_suites,
        test_kemac_seal_arguments, test_v_known_answer, test_v_refusals,
        test_t_iv_value};
    return mk_check_main("proto", "proto", proto_tests,
                         MK_CHECK_NELEM(proto_tests));
}
