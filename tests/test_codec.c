/* test_codec.c - the MIKEY codec: public vectors decode to their documented
 * fields and re-encode byte-exact, RFC 6043 messages with nested data,
 * round trips of every sample, the rejection of malformed structure with the
 * right error and offset, encoder limits, names. Robustness sweeps are in
 * test_codec_robust.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"
#include "codec_samples.h"
#include "crypto/crypto.h"
#include "lib/check_main.h"
#include "lib/guard.h"
#include "lib/hex.h"

TCase *cs_tcase_robust(void);

/* Decode s on guarded memory; the mk_message points into g (free after). */
static mk_err dec(const uint8_t *b, size_t n, mk_guarded *g, mk_message *m)
{
    mk_guarded_init(g, b, n);
    mk_err_clear();
    return mk_message_decode(MK_BYTES(g->data, g->n), m);
}

static bool bytes_is(mk_bytes b, const char *hex)
{
    uint8_t x[512];
    size_t n = mk_test_hex(hex, x, sizeof x);
    return b.n == n && memcmp(b.p, x, n) == 0;
}

static bool bytes_is_str(mk_bytes b, const char *s)
{
    return b.n == strlen(s) && memcmp(b.p, s, b.n) == 0;
}

/* encode m and compare with the original bytes */
static void reencode_equals(const mk_message *m, const uint8_t *b, size_t n)
{
    uint8_t out[CS_MAX];
    mk_buf ob;
    mk_buf_init(&ob, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(m, &ob), MK_OK);
    ck_assert_uint_eq(ob.n, n);
    ck_assert(memcmp(out, b, n) == 0);
}

static void expect_types(const mk_chain *c, const uint16_t *types, size_t n)
{
    ck_assert_uint_eq(c->count, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(c->p[i].type, types[i]);
}

static mk_message m1, m2;

START_TEST(test_rfc4567_i_message)
{
    const cs_sample *s = cs_message_by_name("rfc4567_i");
    mk_guarded g;
    ck_assert_uint_eq(s->n, 132);
    ck_assert_int_eq(dec(s->b, s->n, &g, &m1), MK_OK);
    const mk_hdr *h = &m1.hdr;
    ck_assert_uint_eq(h->version, 1);
    ck_assert_uint_eq(h->data_type, MK_DT_PSK_INIT);
    ck_assert_uint_eq(h->next_payload, MK_PT_T);
    ck_assert(h->v);
    ck_assert_uint_eq(h->prf_func, MK_PRF_MIKEY_1);
    ck_assert_uint_eq(h->csb_id, 0xcd177e50);
    ck_assert_uint_eq(h->n_cs, 1);
    ck_assert_uint_eq(h->map_type, MK_MAP_SRTP_ID);
    ck_assert_uint_eq(m1.hdr_raw.n, 19);
    mk_map_iter it;
    mk_srtp_id e;
    mk_map_iter_init(&it, h);
    ck_assert(mk_map_next_srtp(&it, &e));
    ck_assert_uint_eq(e.policy_no, 0);
    ck_assert_uint_eq(e.ssrc, 0);
    ck_assert_uint_eq(e.roc, 0);
    ck_assert(!mk_map_next_srtp(&it, &e));
    ck_assert_int_eq(it.err, MK_OK);

    static const uint16_t types[] = {MK_PT_T, MK_PT_RAND, MK_PT_ID, MK_PT_SP, MK_PT_KEMAC};
    expect_types(&m1.chain, types, 5);
    const mk_payload *p = m1.chain.p;
    ck_assert_uint_eq(p[0].u.t.ts_type, MK_TS_NTP_UTC);
    ck_assert_uint_eq(p[0].u.t.value, 0xc8e350ea00000000ULL);
    ck_assert_uint_eq(p[0].off, 19);
    ck_assert(bytes_is(p[1].u.rand.rand, "4a28da979ee21a7651a0d7f19136d98c"));
    ck_assert_uint_eq(p[2].u.id.type, MK_IDT_NAI);
    ck_assert(bytes_is_str(p[2].u.id.data, "donald@duck.com"));
    ck_assert_uint_eq(p[3].u.sp.policy_no, 0);
    ck_assert_uint_eq(p[3].u.sp.prot_type, MK_PROT_SRTP);
    ck_assert_uint_eq(p[3].u.sp.params.n, 0);
    ck_assert_uint_eq(p[4].u.kemac.encr_alg, MK_ENCR_AES_CM_128);
    ck_assert_uint_eq(p[4].u.kemac.encr_data.n, 36);
    ck_assert(bytes_is(p[4].u.kemac.encr_data,
                       "d092a981a5640da6b08bdc21541b41b74299d78ca636ebbadbe36fde8ccf2f28302bf19b"));
    ck_assert_uint_eq(p[4].u.kemac.mac_alg, MK_MAC_HMAC_SHA1_160);
    ck_assert(bytes_is(p[4].u.kemac.mac, "5f627a69c6508675f5f59050e4abcca4c0bfdcd5"));
    /* raw spans are the received bytes */
    ck_assert_uint_eq(p[4].raw.n, 1 + 1 + 2 + 36 + 1 + 20);
    ck_assert(p[4].raw.p == g.data + p[4].off);
    ck_assert(m1.raw.p == g.data && m1.raw.n == s->n);
    /* the PSK I_MESSAGE MAC covers the message without the MAC field */
    mk_bytes sp;
    ck_assert_int_eq(mk_message_signed_part(&m1, &sp), MK_OK);
    ck_assert(sp.p == g.data && sp.n == s->n - 20);
    reencode_equals(&m1, s->b, s->n);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_rfc4567_r_message)
{
    const cs_sample *s = cs_message_by_name("rfc4567_r");
    mk_guarded g;
    ck_assert_uint_eq(s->n, 71);
    ck_assert_int_eq(dec(s->b, s->n, &g, &m1), MK_OK);
    ck_assert_uint_eq(m1.hdr.data_type, MK_DT_PSK_RESP);
    ck_assert_uint_eq(m1.hdr.csb_id, 0xcd177e50);
    static const uint16_t types[] = {MK_PT_T, MK_PT_ID, MK_PT_V};
    expect_types(&m1.chain, types, 3);
    ck_assert_uint_eq(m1.chain.p[0].u.t.value, 0xc8e350ea00000000ULL);
    ck_assert(bytes_is_str(m1.chain.p[1].u.id.data, "mickey@mouse.com"));
    ck_assert_uint_eq(m1.chain.p[2].u.v.auth_alg, MK_MAC_HMAC_SHA1_160);
    ck_assert(bytes_is(m1.chain.p[2].u.v.mac, "9fc1dd184e413035c522e18481afbad80818e5c7"));
    reencode_equals(&m1, s->b, s->n);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_digest_a_messages)
{
    const cs_sample *si = cs_message_by_name("digest_a_i");
    const cs_sample *sr = cs_message_by_name("digest_a_r");
    mk_guarded g1, g2;
    ck_assert_int_eq(dec(si->b, si->n, &g1, &m1), MK_OK);
    static const uint16_t ti[] = {MK_PT_T, MK_PT_RAND, MK_PT_ID, MK_PT_ID, MK_PT_SP, MK_PT_KEMAC};
    expect_types(&m1.chain, ti, 6);
    mk_map_iter it;
    mk_srtp_id e;
    mk_map_iter_init(&it, &m1.hdr);
    ck_assert(mk_map_next_srtp(&it, &e));
    ck_assert_uint_eq(e.ssrc, 0x11223344);
    ck_assert_uint_eq(m1.chain.p[0].u.t.value, 0xe7d4a5b000000000ULL);
    ck_assert(bytes_is_str(m1.chain.p[2].u.id.data, "sip:alice@example.com"));
    ck_assert_uint_eq(m1.chain.p[2].u.id.type, MK_IDT_URI);
    ck_assert(bytes_is_str(m1.chain.p[3].u.id.data, "sip:bob@example.com"));
    /* SP: policy 0, SRTP, TLVs 0:01 (AES-CM) 1:10 (16 bytes) 2:01
     * (HMAC-SHA-1) 11:0a (10-byte tag) */
    mk_tlv_iter ti2;
    mk_sp_param sp;
    int n = 0;
    static const uint8_t spt[] = {0, 1, 2, 11}, spv[] = {1, 16, 1, 10};
    mk_sp_iter_init(&ti2, &m1.chain.p[4].u.sp);
    while (mk_sp_next(&ti2, &sp)) {
        ck_assert_int_lt(n, 4);
        ck_assert_uint_eq(sp.type, spt[n]);
        ck_assert_uint_eq(sp.value.n, 1);
        ck_assert_uint_eq(sp.value.p[0], spv[n]);
        n++;
    }
    ck_assert_int_eq(ti2.err, MK_OK);
    ck_assert_int_eq(n, 4);
    ck_assert_uint_eq(m1.chain.p[5].u.kemac.encr_data.n, 22);
    reencode_equals(&m1, si->b, si->n);

    ck_assert_int_eq(dec(sr->b, sr->n, &g2, &m2), MK_OK);
    static const uint16_t tr[] = {MK_PT_T, MK_PT_ID, MK_PT_V};
    expect_types(&m2.chain, tr, 3);
    ck_assert(bytes_is(m2.chain.p[2].u.v.mac, "7f33af764c0062c0f28f8b3479b5366e21b153cc"));
    reencode_equals(&m2, sr->b, sr->n);
    mk_guarded_free(&g1);
    mk_guarded_free(&g2);
}
END_TEST

START_TEST(test_gstreamer_vectors)
{
    /* create_common: empty PSK header, then two SRTP-ID entries */
    const cs_sample *s = cs_message_by_name("gst_header");
    mk_guarded g;
    ck_assert_int_eq(dec(s->b, s->n, &g, &m1), MK_OK);
    ck_assert_uint_eq(m1.chain.count, 0);
    ck_assert_uint_eq(m1.hdr.csb_id, 0x12345678);
    mk_guarded_free(&g);

    uint8_t map[18], out[64], want[64];
    mk_buf b;
    mk_srtp_id e1 = {1, 0x12345678, 0}, e2 = {2, 0x23456789, 1};
    mk_buf_init(&b, map, sizeof map);
    ck_assert_int_eq(mk_map_put_srtp(&b, &e1), MK_OK);
    ck_assert_int_eq(mk_map_put_srtp(&b, &e2), MK_OK);
    mk_message m;
    memset(&m, 0, sizeof m);
    m.hdr = m1.hdr;
    m.hdr.n_cs = 2;
    m.hdr.map_info = mk_buf_view(&b);
    mk_chain_init(&m.chain);
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(&m, &b), MK_OK);
    size_t wn = mk_test_hex("0100000012345678 0200"
                            "01 12345678 00000000 02 23456789 00000001", want, sizeof want);
    ck_assert_uint_eq(b.n, wn);
    ck_assert(memcmp(out, want, wn) == 0);
    mk_map_iter it;
    mk_srtp_id e;
    mk_map_iter_init(&it, &m.hdr);
    ck_assert(mk_map_next_srtp(&it, &e));
    ck_assert(mk_map_next_srtp(&it, &e));
    ck_assert_uint_eq(e.policy_no, 2);
    ck_assert_uint_eq(e.ssrc, 0x23456789);
    ck_assert_uint_eq(e.roc, 1);
    ck_assert(!mk_map_next_srtp(&it, &e));
    /* the generic iterator on an SRTP-ID map refuses */
    mk_generic_id gid;
    mk_map_iter_init(&it, &m.hdr);
    ck_assert(!mk_map_next_generic(&it, &gid));
    ck_assert_int_eq(it.err, MK_E_VALUE);

    /* create_payloads: T (NTP 0102..08) + NULL KEMAC holding one TEK */
    s = cs_message_by_name("gst_t_kemac");
    wn = mk_test_hex("01 00 05 00 12345678 00 00"
                     "01 01 0102030405060708"
                     "00 00 0014 00 20 0010 102030405060708090a0b0c0d0e0f010 00",
                     want, sizeof want);
    ck_assert_uint_eq(s->n, wn);
    ck_assert(memcmp(s->b, want, wn) == 0);
    ck_assert_int_eq(dec(s->b, s->n, &g, &m1), MK_OK);
    mk_chain kc;
    ck_assert_int_eq(mk_kemac_plain_decode(m1.chain.p[1].u.kemac.encr_data,
                                           MK_PT_KEYDATA, &kc), MK_OK);
    ck_assert_uint_eq(kc.count, 1);
    ck_assert_uint_eq(kc.p[0].u.keydata.type, MK_KEY_TEK);
    ck_assert_uint_eq(kc.p[0].u.keydata.kv.type, MK_KV_NULL);
    ck_assert(bytes_is(kc.p[0].u.keydata.key, "102030405060708090a0b0c0d0e0f010"));
    ck_assert_uint_eq(kc.p[0].u.keydata.salt.n, 0);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_request_init_psk)
{
    const cs_sample *s = cs_message_by_name("request_init_psk");
    mk_guarded g;
    ck_assert_int_eq(dec(s->b, s->n, &g, &m1), MK_OK);
    ck_assert_uint_eq(m1.hdr.data_type, MK_DT_REQUEST_INIT_PSK);
    ck_assert_uint_eq(m1.hdr.map_type, MK_MAP_EMPTY);
    ck_assert_uint_eq(m1.hdr.n_cs, 0);
    ck_assert_uint_eq(m1.hdr_raw.n, 10);
    static const uint16_t types[] = {MK_PT_T, MK_PT_RANDR, MK_PT_IDR, MK_PT_IDR,
                                     MK_PT_TP, MK_PT_IDR, MK_PT_V};
    expect_types(&m1.chain, types, 7);
    ck_assert_int_eq(mk_chain_find_randr(&m1.chain, MK_RANDR_I, 0), 1);
    ck_assert_int_eq(mk_chain_find_idr(&m1.chain, MK_ROLE_IDRI, 0), 2);
    ck_assert_int_eq(mk_chain_find_idr(&m1.chain, MK_ROLE_IDRKMS, 0), 3);
    ck_assert_int_eq(mk_chain_find_idr(&m1.chain, MK_ROLE_IDRPSK, 0), 5);
    ck_assert_int_eq(mk_chain_find_idr(&m1.chain, MK_ROLE_IDRR, 0), -1);
    ck_assert_int_eq(mk_chain_find(&m1.chain, MK_PT_TP, 0), 4);
    ck_assert_int_eq(mk_chain_find(&m1.chain, MK_PT_IDR, 3), 3);
    ck_assert_int_eq(mk_chain_find(&m1.chain, MK_PT_IDR, 4), 5);
    ck_assert_uint_eq(mk_chain_count(&m1.chain, MK_PT_IDR), 3);

    const mk_tp *tp = &m1.chain.p[4].u.tp;
    ck_assert_uint_eq(tp->ticket_type, MK_TICKET_MIKEY_BASE);
    ck_assert_uint_eq(tp->subtype, 1);
    ck_assert_uint_eq(tp->version, 1);
    ck_assert_uint_eq(tp->flags, MK_TPF_F | MK_TPF_G | MK_TPF_H | MK_TPF_J |
                                     MK_TPF_L | MK_TPF_N | MK_TPF_O);
    /* flag bits on the wire (RFC 6043 §6.10): octet 5 = PRF<<1 | D,
     * octet 6 = E F G H I J K L, octet 7 = M N O Res */
    const uint8_t *raw = m1.chain.p[4].raw.p;
    ck_assert_uint_eq(raw[5], 0x00);
    ck_assert_uint_eq(raw[6], 0x40 | 0x20 | 0x10 | 0x04 | 0x01);
    ck_assert_uint_eq(raw[7], 0x40 | 0x20);

    mk_chain c;
    ck_assert_int_eq(mk_tp_data_decode(tp->tp_data, &c), MK_OK);
    static const uint16_t tt[] = {MK_PT_IDR, MK_PT_IDR, MK_PT_TR, MK_PT_TR,
                                  MK_PT_TR, MK_PT_KEMAC, MK_PT_IDR, MK_PT_IDR};
    expect_types(&c, tt, 8);
    ck_assert_uint_eq(c.first, MK_PT_IDR);
    int trs = mk_chain_find_tr(&c, MK_TSR_TRS, 0), tre = mk_chain_find_tr(&c, MK_TSR_TRE, 0);
    ck_assert_int_eq(trs, 2);
    ck_assert_int_eq(tre, 3);
    ck_assert_uint_eq(c.p[tre].u.tr.value - c.p[trs].u.tr.value, 3600ULL << 32);
    ck_assert_uint_eq(c.p[4].u.tr.ts_type, MK_TS_NTP_UTC_32);
    ck_assert_uint_eq(c.p[4].u.tr.value, 600);
    ck_assert_int_eq(mk_chain_find_idr(&c, MK_ROLE_IDRR, 0), 7);
    ck_assert(bytes_is_str(c.p[7].u.idr.data, "sip:bob@example.com"));
    /* the template KEMAC: NULL/NULL, Key data MPK then TGK with SPI */
    const mk_kemac *k = &c.p[5].u.kemac;
    ck_assert_uint_eq(k->encr_alg, MK_ENCR_NULL);
    ck_assert_uint_eq(k->mac_alg, MK_MAC_NULL);
    mk_chain kc;
    ck_assert_int_eq(mk_kemac_plain_decode(k->encr_data, MK_PT_KEYDATA, &kc), MK_OK);
    ck_assert_uint_eq(kc.count, 2);
    ck_assert_uint_eq(kc.p[0].u.keydata.type, MK_KEY_MPK);
    ck_assert_uint_eq(kc.p[1].u.keydata.type, MK_KEY_TGK);
    ck_assert_uint_eq(kc.p[1].u.keydata.kv.type, MK_KV_SPI);
    ck_assert_uint_eq(kc.p[1].u.keydata.kv.spi.n, 1);
    ck_assert_uint_eq(kc.p[1].u.keydata.key.n, 16);

    /* nested round trip */
    uint8_t out[CS_MAX];
    mk_buf b;
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_tp_data_encode(&c, &b), MK_OK);
    ck_assert(mk_bytes_equal(mk_buf_view(&b), tp->tp_data));
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_kemac_plain_encode(&kc, &b), MK_OK);
    ck_assert(mk_bytes_equal(mk_buf_view(&b), k->encr_data));

    mk_bytes sp;
    ck_assert_int_eq(mk_message_signed_part(&m1, &sp), MK_OK);
    ck_assert_uint_eq(sp.n, s->n - 20);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_request_resp_base_ticket)
{
    const cs_sample *s = cs_message_by_name("request_resp");
    mk_guarded g;
    ck_assert_int_eq(dec(s->b, s->n, &g, &m1), MK_OK);
    static const uint16_t types[] = {MK_PT_T, MK_PT_IDR, MK_PT_TICKET, MK_PT_KEMAC, MK_PT_V};
    expect_types(&m1.chain, types, 5);
    const mk_payload *tk = &m1.chain.p[2];
    const mk_tp *tp = &tk->u.tp;
    ck_assert(tp->flags & MK_TPF_D);
    ck_assert(tp->flags & MK_TPF_K);
    ck_assert_uint_eq(tp->initiator_data.n, 0);
    ck_assert_uint_eq(tk->raw.n, 10 + tp->tp_data.n + 2 + tp->ticket_data.n + 2);

    mk_thdr th;
    mk_chain c;
    ck_assert_int_eq(mk_base_ticket_decode(tp->ticket_data, &th, &c), MK_OK);
    ck_assert_uint_eq(th.next, MK_PT_T);
    ck_assert(bytes_is_str(th.data, "mk1"));
    static const uint16_t tt[] = {MK_PT_T, MK_PT_RAND, MK_PT_KEMAC, MK_PT_IDR, MK_PT_V};
    expect_types(&c, tt, 5);
    ck_assert(bytes_is_str(c.p[3].u.idr.data, "tpk-1"));
    ck_assert_uint_eq(c.p[3].u.idr.role, MK_ROLE_IDRPSK);
    ck_assert_uint_eq(c.p[4].u.v.auth_alg, MK_MAC_HMAC_SHA256_256);

    /* base ticket MAC input (App. A.1): TICKET minus its Next byte up to the
     * end of Ticket Data, minus the 32-byte MAC */
    mk_bytes in;
    ck_assert_int_eq(mk_ticket_mac_input(tk, 32, &in), MK_OK);
    ck_assert(in.p == tk->raw.p + 1);
    ck_assert(in.p + in.n == c.p[4].u.v.mac.p);
    ck_assert(in.p + in.n + 32 == tp->ticket_data.p + tp->ticket_data.n);
    ck_assert_int_eq(mk_ticket_mac_input(&m1.chain.p[3], 0, &in), MK_E_ARG);

    uint8_t out[CS_MAX];
    mk_buf b;
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_base_ticket_encode(&th, &c, &b), MK_OK);
    ck_assert(mk_bytes_equal(mk_buf_view(&b), tp->ticket_data));

    /* re-reading an encoded TICKET with mk_payload_decode */
    mk_payload one;
    size_t used;
    ck_assert_int_eq(mk_payload_decode(tk->raw, MK_PT_TICKET, &one, &used), MK_OK);
    ck_assert_uint_eq(used, tk->raw.n);
    ck_assert(mk_payload_equal(&one, tk));
    /* REQUEST_RESP sized for the benchmark: 300-400 bytes */
    ck_assert_uint_ge(s->n, 300);
    ck_assert_uint_le(s->n, 400);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_transfer_init_generic_map)
{
    const cs_sample *s = cs_message_by_name("transfer_init");
    mk_guarded g;
    ck_assert_int_eq(dec(s->b, s->n, &g, &m1), MK_OK);
    ck_assert_uint_eq(m1.hdr.map_type, MK_MAP_GENERIC_ID);
    ck_assert_uint_eq(m1.hdr.n_cs, 2);
    mk_map_iter it;
    mk_generic_id gi;
    mk_map_iter_init(&it, &m1.hdr);
    ck_assert(mk_map_next_generic(&it, &gi));
    ck_assert_uint_eq(gi.cs_id, 1);
    ck_assert(!gi.s);
    ck_assert_uint_eq(gi.policies.n, 1);
    ck_assert_uint_eq(gi.session_data.n, 4);
    ck_assert_uint_eq(gi.spi.n, 0);
    ck_assert(mk_map_next_generic(&it, &gi));
    ck_assert_uint_eq(gi.cs_id, 2);
    ck_assert(gi.s);
    ck_assert_uint_eq(gi.policies.n, 2);
    ck_assert_uint_eq(gi.policies.p[1], 2);
    ck_assert_uint_eq(gi.session_data.n, 10);
    ck_assert_uint_eq(gi.spi.n, 4);
    ck_assert(!mk_map_next_generic(&it, &gi));
    ck_assert_int_eq(it.err, MK_OK);

    int ti = mk_chain_find(&m1.chain, MK_PT_TICKET, 0);
    ck_assert_int_eq(ti, 6);
    const mk_payload *tk = &m1.chain.p[ti];
    mk_chain c;
    ck_assert_int_eq(mk_tp_data_decode(tk->u.tp.initiator_data, &c), MK_OK);
    ck_assert_uint_eq(c.count, 2);
    ck_assert_uint_eq(c.p[0].type, MK_PT_V);
    ck_assert_uint_eq(c.p[1].type, MK_PT_V);

    /* TRANSFER_INIT MAC input without Initiator Data length and data */
    mk_bytes head, tail;
    ck_assert_int_eq(mk_message_transfer_parts(&m1, (size_t)ti, &head, &tail), MK_OK);
    ck_assert(head.p == g.data);
    ck_assert(head.p + head.n == tk->u.tp.ticket_data.p + tk->u.tp.ticket_data.n);
    ck_assert(tail.p == tk->u.tp.initiator_data.p + tk->u.tp.initiator_data.n);
    ck_assert_uint_eq(head.n + 2 + tk->u.tp.initiator_data.n + tail.n + 20, s->n);
    ck_assert_int_eq(mk_message_transfer_parts(&m1, 0, &head, &tail), MK_E_ARG);

    /* SP parameters and a second SP of another protocol */
    mk_tlv_iter spi;
    mk_sp_param p;
    mk_sp_iter_init(&spi, &m1.chain.p[4].u.sp);
    static const uint8_t want_t[] = {0, 1, 4, 11}, want_v[] = {1, 16, 14, 10};
    for (int i = 0; i < 4; i++) {
        ck_assert(mk_sp_next(&spi, &p));
        ck_assert_uint_eq(p.type, want_t[i]);
        ck_assert_uint_eq(p.value.n, 1);
        ck_assert_uint_eq(p.value.p[0], want_v[i]);
    }
    ck_assert(!mk_sp_next(&spi, &p));
    ck_assert_uint_eq(m1.chain.p[5].u.sp.prot_type, MK_PROT_TESLA);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_every_sample_round_trips)
{
    static mk_message a, b2;
    uint8_t out[CS_MAX];
    bool seen[32] = {false};
    for (size_t i = 0; i < cs_message_count(); i++) {
        const cs_sample *s = cs_message(i);
        mk_guarded g;
        mk_buf b;
        ck_assert_msg(dec(s->b, s->n, &g, &a) == MK_OK, "%s", s->name);
        /* encode(decode(b)) == b */
        reencode_equals(&a, s->b, s->n);
        /* decode(encode(x)) == x */
        mk_buf_init(&b, out, sizeof out);
        ck_assert_int_eq(mk_message_encode(&a, &b), MK_OK);
        ck_assert_int_eq(mk_message_decode(mk_buf_view(&b), &b2), MK_OK);
        ck_assert(mk_message_equal(&a, &b2));
        for (size_t k = 0; k < a.chain.count; k++) {
            seen[a.chain.p[k].type] = true;
            ck_assert(mk_payload_equal(&a.chain.p[k], &b2.chain.p[k]));
            /* each payload alone re-encodes to its raw bytes */
            mk_buf_init(&b, out, sizeof out);
            ck_assert_int_eq(mk_payload_encode(&a.chain.p[k], a.chain.p[k].next, &b), MK_OK);
            ck_assert(mk_bytes_equal(mk_buf_view(&b), a.chain.p[k].raw));
        }
        mk_guarded_free(&g);
    }
    for (size_t i = 0; i < cs_plain_count(); i++) {
        const cs_sample *s = cs_plain(i);
        mk_chain c, c2;
        mk_buf b;
        ck_assert_int_eq(mk_kemac_plain_decode(MK_BYTES(s->b, s->n), MK_PT_KEYDATA, &c), MK_OK);
        ck_assert_uint_eq(c.count, 2);
        seen[MK_PT_KEYDATA] = true;
        mk_buf_init(&b, out, sizeof out);
        ck_assert_int_eq(mk_kemac_plain_encode(&c, &b), MK_OK);
        ck_assert(mk_bytes_equal(mk_buf_view(&b), MK_BYTES(s->b, s->n)));
        ck_assert_int_eq(mk_kemac_plain_decode(mk_buf_view(&b), MK_PT_KEYDATA, &c2), MK_OK);
        ck_assert(mk_chain_equal(&c, &c2));
    }
    /* every payload type the codec knows appears in a sample */
    for (int t = 1; t <= 21; t++)
        if (t != 18 && t != 19)
            ck_assert_msg(seen[t], "payload %d not covered", t);
}
END_TEST

/* PK mode (RFC 3830 §6.2): the KEMAC plaintext starts with ID, then Key
 * data */
START_TEST(test_kemac_plain_pk_mode)
{
    uint8_t out[256], key[16];
    mk_buf b;
    mk_chain c, d;
    memset(key, 0x42, sizeof key);
    mk_chain_init(&c);
    ck_assert_int_eq(mk_chain_add(&c, mk_pl_id(MK_IDT_URI, MK_BYTES("sip:a@b", 7))), MK_OK);
    ck_assert_int_eq(mk_chain_add(&c, mk_pl_keydata(MK_KEY_TGK, MK_BYTES(key, 16),
                                                    MK_BYTES_NONE, mk_kv_null())), MK_OK);
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_kemac_plain_encode(&c, &b), MK_OK);
    ck_assert_uint_eq(b.n, 4 + 7 + 4 + 16);
    ck_assert_uint_eq(out[0], MK_PT_KEYDATA); /* the ID's Next payload */
    ck_assert_int_eq(mk_kemac_plain_decode(mk_buf_view(&b), MK_PT_ID, &d), MK_OK);
    ck_assert(mk_chain_equal(&c, &d));
    ck_assert_uint_eq(d.first, MK_PT_ID);
    /* an empty plaintext is an empty chain */
    ck_assert_int_eq(mk_kemac_plain_decode(MK_BYTES_NONE, MK_PT_KEYDATA, &d), MK_OK);
    ck_assert_uint_eq(d.count, 0);
}
END_TEST

/* The one payload-finding rule (codec/mikey.h): the only payload of a
 * type / role, -2 for more; which payloads may repeat (RFC 3830 §3, RFC
 * 6043 §4.2, §6.10): SP, CERT, ERR, ID, General Extension, Key data; in
 * TP Data IDRr and IDRapp; each IDR / RANDR / TR role counted apart. */
START_TEST(test_find_one_and_repeats)
{
    static const uint8_t r16[16] = {1};
    mk_bytes kms = MK_BYTES("kms.example.org", 15);
    mk_bytes bob = MK_BYTES("sip:bob@example.org", 19);
    const mk_payload msg[] = {
        mk_pl_t(MK_TS_NTP_UTC, 1),
        mk_pl_randr(MK_RANDR_I, MK_BYTES(r16, 16)),
        mk_pl_randr(MK_RANDR_R, MK_BYTES(r16, 16)),
        mk_pl_idr(MK_ROLE_IDRI, MK_IDT_URI, bob),
        mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI, kms),
        mk_pl_sp(0, MK_PROT_SRTP, MK_BYTES_NONE),
        mk_pl_sp(1, MK_PROT_SRTP, MK_BYTES_NONE),
        mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI, bob), /* a second IDRkms */
    };
    const mk_payload tpd[] = {
        mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI, bob),
        mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI, kms),
        mk_pl_tr(MK_TSR_TRS, MK_TS_NTP_UTC, 1),
        mk_pl_tr(MK_TSR_TRS, MK_TS_NTP_UTC, 2), /* a second TRs */
    };
    mk_chain c;
    ck_assert(mk_payload_may_repeat(&msg[5], false));  /* SP */
    ck_assert(!mk_payload_may_repeat(&msg[4], false)); /* IDRkms */
    ck_assert(!mk_payload_may_repeat(&msg[1], true));  /* RANDRi */
    ck_assert(mk_payload_may_repeat(&tpd[0], true));   /* IDRr in TP Data */
    ck_assert(!mk_payload_may_repeat(&tpd[0], false)); /* IDRr elsewhere */
    mk_chain_init(&c);
    for (size_t i = 0; i < 7; i++)
        ck_assert_int_eq(mk_chain_add(&c, msg[i]), MK_OK);
    ck_assert_int_eq(mk_chain_find_one(&c, MK_PT_T, -1), 0);
    ck_assert_int_eq(mk_chain_find_one(&c, MK_PT_RANDR, MK_RANDR_R), 2);
    ck_assert_int_eq(mk_chain_find_one(&c, MK_PT_RANDR, -1), -2);
    ck_assert_int_eq(mk_chain_find_one(&c, MK_PT_IDR, MK_ROLE_IDRKMS), 4);
    ck_assert_int_eq(mk_chain_find_one(&c, MK_PT_IDR, MK_ROLE_IDRR), -1);
    ck_assert_int_eq(mk_chain_find_one(&c, MK_PT_V, -1), -1);
    ck_assert_int_eq(mk_chain_find_one(&c, MK_PT_SP, -1), -2);
    /* two SP, two RANDR and two IDR of other roles: nothing repeated */
    ck_assert_int_eq(mk_chain_find_repeat(&c, false), -1);
    ck_assert_int_eq(mk_chain_add(&c, msg[7]), MK_OK);
    ck_assert_int_eq(mk_chain_find_one(&c, MK_PT_IDR, MK_ROLE_IDRKMS), -2);
    ck_assert_int_eq(mk_chain_find_repeat(&c, false), 7);
    ck_assert_int_eq(mk_chain_find_repeat(&c, true), 7);

    /* IDRr may repeat in TP Data only; TRs never */
    mk_chain_init(&c);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(mk_chain_add(&c, tpd[i]), MK_OK);
    ck_assert_int_eq(mk_chain_find_repeat(&c, true), -1);
    ck_assert_int_eq(mk_chain_find_repeat(&c, false), 1);
    ck_assert_int_eq(mk_chain_add(&c, tpd[3]), MK_OK);
    ck_assert_int_eq(mk_chain_find_repeat(&c, true), 3);
    ck_assert_int_eq(mk_chain_find_one(&c, MK_PT_TR, MK_TSR_TRS), -2);
    ck_assert_int_eq(mk_chain_find_one(&c, MK_PT_TR, MK_TSR_TRE), -1);
}
END_TEST

START_TEST(test_payload_inequality)
{
    uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 5};
    mk_payload x = mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI, MK_BYTES(a, 4));
    mk_payload y = mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI, MK_BYTES(b, 4));
    mk_payload z = mk_pl_idr(MK_ROLE_IDRI, MK_IDT_URI, MK_BYTES(a, 4));
    ck_assert(mk_payload_equal(&x, &x));
    ck_assert(!mk_payload_equal(&x, &y));
    ck_assert(!mk_payload_equal(&x, &z));
    mk_payload k1 = mk_pl_keydata(MK_KEY_TEK, MK_BYTES(a, 4), MK_BYTES_NONE, mk_kv_spi(MK_BYTES(a, 1)));
    mk_payload k2 = mk_pl_keydata(MK_KEY_TEK, MK_BYTES(a, 4), MK_BYTES_NONE, mk_kv_spi(MK_BYTES(b, 2)));
    ck_assert(!mk_payload_equal(&k1, &k2));
    mk_payload t1 = mk_pl_t(MK_TS_NTP, 1), t2 = mk_pl_t(MK_TS_NTP_UTC, 1);
    ck_assert(!mk_payload_equal(&t1, &t2));
}
END_TEST

/* --- malformed structure: right error, payload and offset --- */

static void expect_err(const char *hex, mk_err want, int payload, size_t off)
{
    uint8_t b[CS_MAX];
    size_t n = mk_test_hex(hex, b, sizeof b);
    mk_guarded g;
    mk_err e = dec(b, n, &g, &m1);
    ck_assert_msg(e == want, "%s: got %s want %s", hex, mk_err_name(e), mk_err_name(want));
    mk_guarded_free(&g);
    if (want == MK_OK)
        return;
    ck_assert_int_eq(mk_err_last()->code, want);
    ck_assert_msg(mk_err_last()->payload == payload, "%s: payload %d want %d", hex,
                  mk_err_last()->payload, payload);
    ck_assert_msg(mk_err_last()->offset == off, "%s: offset %zu want %zu", hex,
                  mk_err_last()->offset, off);
}

#define HDR_EMPTY(next) "01 0b " next " 00 0000abcd 00 01"

START_TEST(test_structure_errors)
{
    /* unknown payload type 18 after T: named, at the offset it would start */
    expect_err(HDR_EMPTY("05") "12 00 e7d4a5b000000000 00", MK_E_UNKNOWN_PAYLOAD, 18, 20);
    expect_err(HDR_EMPTY("ff"), MK_E_UNKNOWN_PAYLOAD, 255, 10);
    /* trailing bytes after the last payload */
    expect_err(HDR_EMPTY("05") "00 00 e7d4a5b000000000 00", MK_E_TRAILING, MK_PT_T, 20);
    expect_err(HDR_EMPTY("00") "00", MK_E_TRAILING, MK_PT_HDR, 10);
    /* SIGN has no Next payload: anything after it is trailing */
    expect_err(HDR_EMPTY("04") "0002 abcd 00 00 e7d4a5b000000000", MK_E_TRAILING, MK_PT_SIGN, 14);
    /* Key data at top level */
    expect_err(HDR_EMPTY("14") "00 20 0001 aa", MK_E_UNKNOWN_PAYLOAD, MK_PT_KEYDATA, 10);
    expect_err(HDR_EMPTY("05") "14 00 e7d4a5b000000000 00 20 0001 aa",
               MK_E_UNKNOWN_PAYLOAD, MK_PT_KEYDATA, 20);
    /* lengths implied by unknown values */
    expect_err(HDR_EMPTY("09") "00 03" "00112233445566778899aabbccddeeff00112233",
               MK_E_VALUE, MK_PT_V, 11);
    expect_err(HDR_EMPTY("01") "00 00 0000 07", MK_E_VALUE, MK_PT_KEMAC, 14);
    expect_err(HDR_EMPTY("05") "00 04 e7d4a5b0", MK_E_VALUE, MK_PT_T, 11);
    expect_err(HDR_EMPTY("0d") "00 01 09 e7d4a5b0", MK_E_VALUE, MK_PT_TR, 12);
    expect_err(HDR_EMPTY("08") "00 03 00", MK_E_VALUE, MK_PT_CHASH, 11);
    expect_err(HDR_EMPTY("03") "00 03 00", MK_E_VALUE, MK_PT_DH, 11);
    expect_err("01 00 00 00 0000abcd 00 03", MK_E_VALUE, MK_PT_HDR, 9);
    /* truncated header / truncated map */
    expect_err("01 00 00 00 0000", MK_E_TRUNCATED, MK_PT_HDR, 4);
    expect_err("01 00 00 00 0000abcd 01 00 00 11223344", MK_E_TRUNCATED, MK_PT_HDR, 10);
    expect_err("", MK_E_TRUNCATED, MK_PT_HDR, 0);
    /* an RAND length over the end */
    expect_err(HDR_EMPTY("0b") "00 10 00112233", MK_E_TRUNCATED, MK_PT_RAND, 12);
    /* SP params whose TLV runs past the params length */
    expect_err(HDR_EMPTY("0a") "00 00 00 0003 00 05 01", MK_E_LENGTH, MK_PT_SP, 17);
    /* version is not the codec's business (the KMS answers Error 12) */
    expect_err("07 0b 00 00 0000abcd 00 01", MK_OK, 0, 0);
}
END_TEST

/* A message whose base-ticket Ticket Data is damaged: the message decodes
 * (Ticket Data is opaque to it, RFC 6043 §6.10) and re-encodes byte-exact;
 * mk_base_ticket_decode on the Ticket Data (placed flush against a guard
 * page) fails with `want` in `payload` at `off`, relative to Ticket Data. */
static void expect_ticket_err(const char *hex, mk_err want, int payload,
                              size_t off)
{
    uint8_t b[CS_MAX];
    size_t n = mk_test_hex(hex, b, sizeof b);
    mk_guarded g, tg;
    mk_thdr th;
    mk_chain c;
    ck_assert_msg(dec(b, n, &g, &m1) == MK_OK, "%s: message does not decode: %s",
                  hex, mk_err_name(mk_err_last()->code));
    reencode_equals(&m1, b, n);
    int t = mk_chain_find(&m1.chain, MK_PT_TICKET, 0);
    ck_assert_int_ge(t, 0);
    mk_guarded_init(&tg, m1.chain.p[t].u.tp.ticket_data.p,
                    m1.chain.p[t].u.tp.ticket_data.n);
    mk_guarded_free(&g);
    mk_err_clear();
    mk_err e = mk_base_ticket_decode(MK_BYTES(tg.data, tg.n), &th, &c);
    mk_guarded_free(&tg);
    ck_assert_msg(e == want, "%s: got %s want %s", hex, mk_err_name(e), mk_err_name(want));
    if (want == MK_OK)
        return;
    ck_assert_int_eq(mk_err_last()->code, want);
    ck_assert_msg(mk_err_last()->payload == payload, "%s: payload %d want %d", hex,
                  mk_err_last()->payload, payload);
    ck_assert_msg(mk_err_last()->offset == off, "%s: offset %zu want %zu", hex,
                  mk_err_last()->offset, off);
}

/* TP with nested data at absolute offset 10 */
#define TP_HEAD "00 0001 01 01 00 00 00"

START_TEST(test_nested_errors)
{
    /* TP Data: IDRr naming an unknown next type 0x13: named with its
     * absolute offset (10 HDR + 10 TP head + 1 first byte + 8 IDR) */
    expect_err(HDR_EMPTY("10") TP_HEAD "0009" "0e 13 02 01 0003 616263",
               MK_E_UNKNOWN_PAYLOAD, 0x13, 29);
    /* an unknown first-payload byte of TP Data */
    expect_err(HDR_EMPTY("10") TP_HEAD "0001" "12", MK_E_UNKNOWN_PAYLOAD, 0x12, 21);
    /* IDR length inside TP Data over the TP Data length: MK_E_LENGTH */
    expect_err(HDR_EMPTY("10") TP_HEAD "0009" "0e 00 02 01 0004 616263",
               MK_E_LENGTH, MK_PT_IDR, 26);
    /* TP Data longer than its chain */
    expect_err(HDR_EMPTY("10") TP_HEAD "000a" "0e 00 02 01 0003 616263 ff",
               MK_E_LENGTH, MK_PT_IDR, 29);
    /* Key data inside TP Data is not allowed */
    expect_err(HDR_EMPTY("10") TP_HEAD "0006" "14 00 00 0000 00", MK_E_UNKNOWN_PAYLOAD,
               MK_PT_KEYDATA, 21);
    /* Ticket Data (at absolute offset 22 here) is opaque to the message
     * decoder even for the MIKEY base ticket (RFC 6043 §6.10): a damaged
     * one decodes as a message and fails mk_base_ticket_decode, with
     * offsets relative to Ticket Data. THDR then T; T with a bad TS type */
    expect_ticket_err(HDR_EMPTY("11") TP_HEAD "0000" "000d" "05 0000" "00 09 e7d4a5b000000000" "0000",
                      MK_E_VALUE, MK_PT_T, 4);
    /* THDR length over the Ticket Data */
    expect_ticket_err(HDR_EMPTY("11") TP_HEAD "0000" "0003" "00 0001" "0000",
                      MK_E_TRUNCATED, MK_PT_THDR, 3);
    /* THDR naming an unknown first payload; bytes after an empty chain */
    expect_ticket_err(HDR_EMPTY("11") TP_HEAD "0000" "0004" "12 0000 aa" "0000",
                      MK_E_UNKNOWN_PAYLOAD, 0x12, 3);
    expect_ticket_err(HDR_EMPTY("11") TP_HEAD "0000" "0004" "00 0000 aa" "0000",
                      MK_E_TRAILING, MK_PT_TICKET, 3);
    /* not even a THDR */
    expect_ticket_err(HDR_EMPTY("11") TP_HEAD "0000" "0002" "ffff" "0000",
                      MK_E_TRUNCATED, MK_PT_THDR, 1);
    /* a well formed base ticket with an empty chain, and opaque data for
     * another Ticket Type */
    expect_ticket_err(HDR_EMPTY("11") TP_HEAD "0000" "0004" "00 0001 aa" "0000", MK_OK, 0, 0);
    expect_err(HDR_EMPTY("11") "00 0002 01 01 00 00 00" "0000" "0002 ffff" "0000", MK_OK, 0, 0);
    /* a length field around Ticket Data is the message's: still checked */
    expect_err(HDR_EMPTY("11") TP_HEAD "0000" "0005" "00 0001 aa" "0000",
               MK_E_TRUNCATED, MK_PT_TICKET, 27);
    /* Initiator Data chain checked too: a V whose MAC runs past it (the
     * inner overrun is reported as MK_E_LENGTH) */
    expect_err(HDR_EMPTY("11") TP_HEAD "0000" "0003" "00 0000" "0003 09 00 01",
               MK_E_LENGTH, MK_PT_V, 30);
}
END_TEST

START_TEST(test_limits)
{
    /* 33 RANDs: more than MK_CHAIN_MAX */
    uint8_t b[512];
    mk_buf w;
    mk_guarded g;
    mk_buf_init(&w, b, sizeof b);
    ck_assert_int_eq(mk_buf_put(&w, "\x01\x00\x0b\x00\x00\x00\x00\x01\x00\x01", 10), MK_OK);
    for (int i = 0; i < 33; i++) {
        ck_assert_int_eq(mk_buf_u8(&w, i == 32 ? 0 : MK_PT_RAND), MK_OK);
        ck_assert_int_eq(mk_buf_u8(&w, 0), MK_OK);
    }
    ck_assert_int_eq(dec(b, w.n, &g, &m1), MK_E_LIMIT);
    ck_assert_int_eq(mk_err_last()->payload, MK_PT_RAND);
    ck_assert_uint_eq(mk_err_last()->offset, 10 + 32 * 2);
    mk_guarded_free(&g);
    /* exactly 32 is fine */
    b[10 + 31 * 2] = 0;
    ck_assert_int_eq(dec(b, 10 + 32 * 2, &g, &m1), MK_OK);
    ck_assert_uint_eq(m1.chain.count, 32);
    mk_guarded_free(&g);

    /* TP nested in TP Data nested ... deeper than the limit */
    uint8_t nest[256];
    size_t n = 0;
    /* innermost: TP with empty TP Data */
    static const uint8_t tp_head[8] = {0, 0, 1, 1, 1, 0, 0, 0};
    uint8_t inner[200];
    size_t in_n = 0;
    memcpy(inner, tp_head, 8);
    inner[8] = 0;
    inner[9] = 0;
    in_n = 10;
    for (int d = 0; d < 6; d++) {
        uint8_t t[200];
        memcpy(t, tp_head, 8);
        t[8] = (uint8_t)((in_n + 1) >> 8);
        t[9] = (uint8_t)(in_n + 1);
        t[10] = MK_PT_TP;
        memcpy(t + 11, inner, in_n);
        memcpy(inner, t, in_n + 11);
        in_n += 11;
    }
    memcpy(nest, "\x01\x00\x10\x00\x00\x00\x00\x01\x00\x01", 10);
    memcpy(nest + 10, inner, in_n);
    n = 10 + in_n;
    ck_assert_int_eq(dec(nest, n, &g, &m1), MK_E_LIMIT);
    mk_guarded_free(&g);
}
END_TEST

START_TEST(test_encoder_refuses)
{
    uint8_t out[256], big[70000];
    mk_buf b;
    memset(big, 0x5a, sizeof big);
    mk_payload p;
#define ENC_FAILS(pl, want)                                             \
    do {                                                                \
        p = (pl);                                                       \
        mk_buf_init(&b, out, sizeof out);                               \
        ck_assert_int_eq(mk_payload_encode(&p, 0, &b), (want));          \
    } while (0)
    ENC_FAILS(mk_pl_v(MK_MAC_HMAC_SHA1_160, MK_BYTES(big, 19)), MK_E_VALUE);
    ENC_FAILS(mk_pl_v(MK_MAC_HMAC_SHA256_256, MK_BYTES(big, 20)), MK_E_VALUE);
    ENC_FAILS(mk_pl_v(7, MK_BYTES_NONE), MK_E_VALUE);
    ENC_FAILS(mk_pl_kemac(0, MK_BYTES_NONE, MK_MAC_NULL, MK_BYTES(big, 1)), MK_E_VALUE);
    ENC_FAILS(mk_pl_rand(MK_BYTES(big, 256)), MK_E_LIMIT);
    ENC_FAILS(mk_pl_randr(1, MK_BYTES(big, 256)), MK_E_LIMIT);
    ENC_FAILS(mk_pl_pke(0, MK_BYTES(big, 0x4000)), MK_E_LIMIT);
    ENC_FAILS(mk_pl_pke(4, MK_BYTES(big, 1)), MK_E_VALUE);
    ENC_FAILS(mk_pl_sign(0, MK_BYTES(big, 0x1000)), MK_E_LIMIT);
    ENC_FAILS(mk_pl_sign(16, MK_BYTES(big, 1)), MK_E_VALUE);
    ENC_FAILS(mk_pl_t(MK_TS_COUNTER, 0x100000000ULL), MK_E_VALUE);
    ENC_FAILS(mk_pl_t(9, 0), MK_E_VALUE);
    ENC_FAILS(mk_pl_chash(MK_HASH_SHA1, MK_BYTES(big, 32)), MK_E_VALUE);
    ENC_FAILS(mk_pl_dh(MK_DH_OAKLEY1, MK_BYTES(big, 95), mk_kv_null()), MK_E_VALUE);
    ENC_FAILS(mk_pl_keydata(MK_KEY_TEK, MK_BYTES(big, 16), MK_BYTES(big, 14), mk_kv_null()),
              MK_E_VALUE);
    ENC_FAILS(mk_pl_keydata(9, MK_BYTES(big, 16), MK_BYTES_NONE, mk_kv_null()), MK_E_VALUE);
    mk_kv kv = mk_kv_null();
    kv.spi = MK_BYTES(big, 1);
    ENC_FAILS(mk_pl_keydata(MK_KEY_TEK, MK_BYTES(big, 16), MK_BYTES_NONE, kv), MK_E_VALUE);
    ENC_FAILS(mk_pl_keydata(MK_KEY_TEK, MK_BYTES(big, 16), MK_BYTES_NONE,
                            mk_kv_spi(MK_BYTES(big, 256))), MK_E_LIMIT);
    ENC_FAILS(mk_pl_sp(0, 0, MK_BYTES(big, 3)), MK_E_LENGTH); /* 5a 5a: bad TLVs */
    {
        /* General Extension data is opaque to the codec; the Key ID
         * iterator reports data that do not parse */
        mk_tlv_iter kit;
        mk_key_id kid;
        p = mk_pl_genext(MK_GENEXT_KEY_ID, MK_BYTES(big, 3));
        mk_buf_init(&b, out, sizeof out);
        ck_assert_int_eq(mk_payload_encode(&p, 0, &b), MK_OK);
        mk_key_id_iter_init(&kit, &p.u.genext);
        ck_assert(!mk_key_id_next(&kit, &kid));
        ck_assert_int_eq(kit.err, MK_E_TRUNCATED);
    }
    ENC_FAILS(mk_pl_idr(1, 1, (mk_bytes){NULL, 3}), MK_E_ARG);
    {
        mk_tp tp;
        memset(&tp, 0, sizeof tp);
        tp.prf_func = 0x80;
        ENC_FAILS(mk_pl_tp(&tp), MK_E_VALUE);
        tp.prf_func = 0;
        tp.flags = 0x1000;
        ENC_FAILS(mk_pl_tp(&tp), MK_E_VALUE);
        tp.flags = 0;
        tp.tp_data = MK_BYTES(big, 4); /* not a chain */
        ENC_FAILS(mk_pl_ticket(&tp), MK_E_UNKNOWN_PAYLOAD);
        p = mk_pl_tp(&tp);
        p.u.tp.tp_data = MK_BYTES_NONE;
        p.u.tp.ticket_data = MK_BYTES(big, 1);
        mk_buf_init(&b, out, sizeof out);
        ck_assert_int_eq(mk_payload_encode(&p, 0, &b), MK_E_VALUE);
    }
    /* 16-bit fields */
    {
        static uint8_t huge[70000];
        mk_buf hb;
        mk_buf_init(&hb, huge, sizeof huge);
        p = mk_pl_idr(1, 1, MK_BYTES(big, 65536));
        ck_assert_int_eq(mk_payload_encode(&p, 0, &hb), MK_E_LIMIT);
        mk_buf_init(&hb, huge, sizeof huge);
        p = mk_pl_idr(1, 1, MK_BYTES(big, 65535));
        ck_assert_int_eq(mk_payload_encode(&p, 0, &hb), MK_OK);
        ck_assert_uint_eq(hb.n, 5 + 65535);
        mk_buf_init(&hb, huge, sizeof huge);
        p = mk_pl_kemac(0, MK_BYTES(big, 65536), 0, MK_BYTES_NONE);
        ck_assert_int_eq(mk_payload_encode(&p, 0, &hb), MK_E_LIMIT);
    }
    /* output buffer too small */
    p = mk_pl_idr(1, 1, MK_BYTES(big, 100));
    mk_buf_init(&b, out, 50);
    ck_assert_int_eq(mk_payload_encode(&p, 0, &b), MK_E_NOSPACE);

    /* SIGN must be last; Key data not at top level; bad map info */
    mk_message m;
    memset(&m, 0, sizeof m);
    m.hdr.version = 1;
    m.hdr.map_type = MK_MAP_EMPTY;
    mk_chain_init(&m.chain);
    ck_assert_int_eq(mk_chain_add(&m.chain, mk_pl_sign(0, MK_BYTES(big, 4))), MK_OK);
    ck_assert_int_eq(mk_chain_add(&m.chain, mk_pl_t(0, 0)), MK_OK);
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(&m, &b), MK_E_VALUE);
    ck_assert_int_eq(mk_err_last()->payload, MK_PT_SIGN);
    mk_chain_init(&m.chain);
    ck_assert_int_eq(mk_chain_add(&m.chain, mk_pl_keydata(0, MK_BYTES(big, 4), MK_BYTES_NONE,
                                                          mk_kv_null())), MK_OK);
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(&m, &b), MK_E_VALUE);
    mk_chain_init(&m.chain);
    m.hdr.map_type = MK_MAP_SRTP_ID;
    m.hdr.n_cs = 1;
    m.hdr.map_info = MK_BYTES(big, 8);
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(&m, &b), MK_E_TRUNCATED);
    m.hdr.map_info = MK_BYTES(big, 10);
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(&m, &b), MK_E_TRAILING);
    m.hdr.map_info = MK_BYTES(big, 9);
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(&m, &b), MK_OK);
    ck_assert_uint_eq(b.n, 19);
    /* a full chain refuses one more */
    for (int i = 0; i < MK_CHAIN_MAX; i++)
        ck_assert_int_eq(mk_chain_add(&m.chain, mk_pl_t(0, 0)), MK_OK);
    ck_assert_int_eq(mk_chain_add(&m.chain, mk_pl_t(0, 0)), MK_E_LIMIT);
#undef ENC_FAILS
}
END_TEST

START_TEST(test_mac_placeholder)
{
    /* a V with a NULL MAC of the right length is written as zeros, then the
     * caller patches the MAC over the signed part */
    uint8_t out[128];
    mk_buf b;
    mk_message m;
    memset(&m, 0, sizeof m);
    m.hdr.version = 1;
    m.hdr.data_type = MK_DT_REQUEST_INIT_PSK;
    m.hdr.map_type = MK_MAP_EMPTY;
    mk_chain_init(&m.chain);
    ck_assert_int_eq(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC, 42)), MK_OK);
    ck_assert_int_eq(mk_chain_add(&m.chain, mk_pl_v(MK_MAC_HMAC_SHA1_160,
                                                    (mk_bytes){NULL, 20})), MK_OK);
    memset(out, 0xee, sizeof out);
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(&m, &b), MK_OK);
    ck_assert_uint_eq(b.n, 10 + 10 + 2 + 20);
    for (size_t i = b.n - 20; i < b.n; i++)
        ck_assert_uint_eq(out[i], 0);
    ck_assert_uint_eq(out[b.n - 21], MK_MAC_HMAC_SHA1_160);
    /* the wrong placeholder length is refused */
    m.chain.p[1].u.v.mac = (mk_bytes){NULL, 32};
    mk_buf_init(&b, out, sizeof out);
    ck_assert_int_eq(mk_message_encode(&m, &b), MK_E_VALUE);
}
END_TEST

START_TEST(test_lengths_agree_with_crypto)
{
    for (int a = 0; a < 256; a++) {
        int l = mk_mac_len_of(a);
        if (l >= 0)
            ck_assert_uint_eq((size_t)l, mk_mac_len(a));
    }
    ck_assert_int_eq(mk_mac_len_of(MK_MAC_HMAC_SHA1_160), 20);
    ck_assert_int_eq(mk_mac_len_of(MK_MAC_HMAC_SHA256_256), 32);
    ck_assert_int_eq(mk_mac_len_of(3), -1);
    ck_assert_int_eq(mk_ts_len_of(MK_TS_NTP_UTC_32), 4);
    ck_assert_int_eq(mk_ts_len_of(4), -1);
    ck_assert_int_eq(mk_hash_len_of(MK_HASH_SHA256), 32);
    ck_assert_int_eq(mk_dh_len_of(MK_DH_OAKLEY5), 192);
    ck_assert(mk_key_type_has_salt(MK_KEY_GTGK_SALT));
    ck_assert(!mk_key_type_has_salt(MK_KEY_MPK));
    ck_assert(!mk_key_type_known(8));
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(mk_name_payload(MK_PT_TICKET), "TICKET");
    ck_assert_str_eq(mk_name_payload(MK_PT_THDR), "THDR");
    ck_assert_str_eq(mk_name_payload(MK_PT_HDR), "HDR");
    ck_assert_str_eq(mk_name_payload(18), "Unknown");
    ck_assert_str_eq(mk_name_payload(-1), "Unknown");
    ck_assert_str_eq(mk_name_data_type(MK_DT_REQUEST_INIT_PSK), "REQUEST_INIT_PSK");
    ck_assert_str_eq(mk_name_data_type(27), "Unknown");
    ck_assert_str_eq(mk_name_error_no(MK_ERRNO_INVALID_TPPAR), "Invalid TPpar");
    ck_assert_str_eq(mk_name_id_role(MK_ROLE_IDRKMS), "IDRkms");
    ck_assert_str_eq(mk_name_id_role(0), "Unknown");
    ck_assert_str_eq(mk_name_id_type(MK_IDT_BYTES), "Byte string");
    ck_assert_str_eq(mk_name_ts_type(MK_TS_NTP_UTC_32), "NTP-UTC-32");
    ck_assert_str_eq(mk_name_rand_role(MK_RANDR_KMS), "RANDRkms");
    ck_assert_str_eq(mk_name_encr_alg(MK_ENCR_AES_CM_256), "AES-CM-256");
    ck_assert_str_eq(mk_name_encr_alg(6), "Unknown");
    ck_assert_str_eq(mk_name_mac_alg(MK_MAC_HMAC_SHA256_256), "HMAC-SHA-256-256");
    ck_assert_str_eq(mk_name_prf(MK_PRF_HMAC_SHA256), "PRF-HMAC-SHA-256");
    ck_assert_str_eq(mk_name_key_type(MK_KEY_MPK), "MPK");
    ck_assert_str_eq(mk_name_kv(MK_KV_INTERVAL), "Interval");
    ck_assert_str_eq(mk_name_map_type(MK_MAP_GENERIC_ID), "GENERIC-ID");
    ck_assert_str_eq(mk_name_hash_func(MK_HASH_SHA256), "SHA-256");
    ck_assert_str_eq(mk_name_sp_param(MK_PROT_SRTP, 0), "Encryption algorithm");
    ck_assert_str_eq(mk_name_sp_param(MK_PROT_TESLA, 0), "Unknown");
    ck_assert_str_eq(mk_name_ticket_type(1), "MIKEY base ticket");
    ck_assert_str_eq(mk_name_ts_role(MK_TSR_TRE), "TRe (end of validity)");
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    const TTest *const vectors_tests[] = {test_rfc4567_i_message,
        test_rfc4567_r_message, test_digest_a_messages, test_gstreamer_vectors,
        test_request_init_psk, test_request_resp_base_ticket,
        test_transfer_init_generic_map};
    mk_check_tcase(s, "vectors", vectors_tests, MK_CHECK_NELEM(vectors_tests));
    const TTest *const model_tests[] = {test_every_sample_round_trips,
        test_payload_inequality, test_find_one_and_repeats,
        test_kemac_plain_pk_mode, test_structure_errors, test_nested_errors,
        test_limits, test_encoder_refuses, test_mac_placeholder,
        test_lengths_agree_with_crypto, test_names};
    mk_check_tcase(s, "model", model_tests, MK_CHECK_NELEM(model_tests));
    suite_add_tcase(s, cs_tcase_robust());
    return s;
}

int main(void)
{
    return mk_check_run(codec_suite());
}
