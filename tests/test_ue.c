/* test_ue.c - the UE library against a stand-in KMS (test_ue_fakekms.c):
 * byte-stable REQUEST_INIT, the known answers of mikey.md §6.2 B through
 * the whole chain, both suites with and without forking and with a KEMAC
 * template, Error messages, tampering, policy refusals and argument
 * errors. The real KMS core is exercised by tests/test_e2e.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"
#include "crypto/crypto.h"
#include "proto/proto.h"
#include "ue/ue.h"
#include "util/ntp.h"
#include "lib/check_main.h"
#include "lib/hex.h"
#include "test_ue_chain.h"
#include "test_ue_fakekms.h"

static mk_bytes str(const char *s)
{
    return MK_BYTES(s, strlen(s));
}

static uint8_t psk_a[16], psk_b[16], r01[16], r02[16], r03[16], r04[16];

static void fill(void)
{
    memset(psk_a, 0x2b, 16);
    memset(psk_b, 0x3c, 16);
    memset(r01, 0x01, 16);
    memset(r02, 0x02, 16);
    memset(r03, 0x03, 16);
    memset(r04, 0x04, 16);
}

static mk_err fk_call(void *ctx, int service, mk_bytes req, uint8_t *out,
                      size_t cap, size_t *n)
{
    fake_kms *k = ctx;
    return service == 1 ? fk_request(k, req, out, cap, n)
                        : fk_resolve(k, req, out, cap, n);
}

static void opts_fake(chain_opts *o, const mk_suite *s)
{
    fill();
    chain_opts_init(o, s);
    o->alice_psk = MK_BYTES(psk_a, 16);
    o->bob_psk = MK_BYTES(psk_b, 16);
}

/* A REQUEST_INIT with every random fixed (mikey.md §6.2 B inputs). */
static void request_fixed(mk_ue_request_params *p, uint64_t t)
{
    fill();
    mk_ue_request_params_init(p, &mk_suite_128);
    p->creds.psk = MK_BYTES(psk_a, 16);
    p->creds.impu = str(CHAIN_ALICE);
    p->creds.kms_id = str("kms.example.org");
    p->creds.psk_id = str("alice-psk");
    p->idrr[0] = str(CHAIN_BOB);
    p->n_idrr = 1;
    p->fixed.has_csb_id = true;
    p->fixed.csb_id = 0x0000abcd;
    p->fixed.has_t = true;
    p->fixed.t_ntp = t;
    p->fixed.rand = MK_BYTES(r01, 16);
}

START_TEST(t_request_byte_stable)
{
    mk_ue_request_params p;
    uint8_t a[MK_UE_MSG_MAX], b[MK_UE_MSG_MAX];
    size_t na, nb;
    request_fixed(&p, 0xe7d4a5b000000000ull);
    ck_assert_int_eq(mk_ue_request_init(&p, a, sizeof a, &na), MK_OK);
    ck_assert_int_eq(mk_ue_request_init(&p, b, sizeof b, &nb), MK_OK);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(a, b, na);
    /* another T: another message */
    p.fixed.t_ntp++;
    ck_assert_int_eq(mk_ue_request_init(&p, b, sizeof b, &nb), MK_OK);
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(a, b, na) != 0);
    /* nothing fixed: CSB ID and RANDRi are drawn */
    memset(&p.fixed, 0, sizeof p.fixed);
    ck_assert_int_eq(mk_ue_request_init(&p, b, sizeof b, &nb), MK_OK);
    ck_assert(memcmp(a, b, 10) != 0);
}
END_TEST

START_TEST(t_request_layout_and_v)
{
    mk_ue_request_params p;
    uint8_t a[MK_UE_MSG_MAX], mac[20];
    size_t n;
    mk_message m;
    mk_chain tpc, tmpl;
    mk_bytes signed_part;
    const mk_payload *tp, *v;
    hexbuf ak = hx("bd8e146bde11d84ef404031a61411c214ccbbed5");
    request_fixed(&p, 0xe7d4a5b000000000ull);
    p.flags |= MK_TPF_I;
    p.trs_unix = 1700000000;
    p.tre_unix = 1700003600;
    p.tmpl[0] = (mk_ue_key_tmpl){MK_KEY_TGK, 16, 0, MK_KV_SPI, 4};
    p.tmpl[1] = (mk_ue_key_tmpl){MK_KEY_TEK_SALT, 16, 14, MK_KV_NULL, 0};
    p.n_tmpl = 2;
    ck_assert_int_eq(mk_ue_request_init(&p, a, sizeof a, &n), MK_OK);
    ck_assert_int_eq(mk_message_decode(MK_BYTES(a, n), &m), MK_OK);
    ck_assert_uint_eq(m.hdr.data_type, MK_DT_REQUEST_INIT_PSK);
    ck_assert(!m.hdr.v);
    ck_assert_uint_eq(m.hdr.csb_id, 0x0000abcd);
    ck_assert_uint_eq(m.hdr.n_cs, 0);
    ck_assert_uint_eq(m.hdr.map_type, MK_MAP_EMPTY);
    /* HDR, T, RANDRi, IDRi, IDRkms, TP, IDRpsk, V */
    ck_assert_uint_eq(m.chain.count, 7);
    ck_assert_uint_eq(m.chain.p[0].type, MK_PT_T);
    ck_assert_uint_eq(m.chain.p[0].u.t.value, 0xe7d4a5b000000000ull);
    ck_assert_uint_eq(m.chain.p[1].type, MK_PT_RANDR);
    ck_assert_uint_eq(m.chain.p[2].u.idr.role, MK_ROLE_IDRI);
    ck_assert_uint_eq(m.chain.p[3].u.idr.role, MK_ROLE_IDRKMS);
    ck_assert_uint_eq(m.chain.p[5].u.idr.role, MK_ROLE_IDRPSK);
    ck_assert_uint_eq(m.chain.p[5].u.idr.id_type, MK_IDT_BYTES);
    tp = &m.chain.p[4];
    ck_assert_uint_eq(tp->type, MK_PT_TP);
    ck_assert_uint_eq(tp->u.tp.ticket_type, 1);
    ck_assert_uint_eq(tp->u.tp.subtype, 1);
    ck_assert_uint_eq(tp->u.tp.version, 1);
    ck_assert_uint_eq(tp->u.tp.flags, MK_TPF_D | MK_TPF_E | MK_TPF_F |
                                          MK_TPF_G | MK_TPF_H | MK_TPF_I);
    /* TP Data: IDRkms IDRi TRs TRe KEMAC IDRr */
    ck_assert_int_eq(mk_tp_data_decode(tp->u.tp.tp_data, &tpc), MK_OK);
    ck_assert_uint_eq(tpc.count, 6);
    ck_assert_uint_eq(tpc.p[0].u.idr.role, MK_ROLE_IDRKMS);
    ck_assert_uint_eq(tpc.p[1].u.idr.role, MK_ROLE_IDRI);
    ck_assert_uint_eq(tpc.p[2].u.tr.role, MK_TSR_TRS);
    ck_assert_uint_eq(mk_ntp_to_unix(tpc.p[2].u.tr.value), 1700000000);
    ck_assert_uint_eq(tpc.p[3].u.tr.role, MK_TSR_TRE);
    ck_assert_uint_eq(tpc.p[4].type, MK_PT_KEMAC);
    ck_assert_uint_eq(tpc.p[4].u.kemac.encr_alg, MK_ENCR_NULL);
    ck_assert_uint_eq(tpc.p[4].u.kemac.mac_alg, MK_MAC_NULL);
    ck_assert_uint_eq(tpc.p[5].u.idr.role, MK_ROLE_IDRR);
    ck_assert(mk_bytes_equal(tpc.p[5].u.idr.data, str(CHAIN_BOB)));
    ck_assert_int_eq(mk_kemac_plain_decode(tpc.p[4].u.kemac.encr_data,
                                           MK_PT_KEYDATA, &tmpl),
                     MK_OK);
    ck_assert_uint_eq(tmpl.count, 2);
    ck_assert_uint_eq(tmpl.p[0].u.keydata.type, MK_KEY_TGK);
    ck_assert_uint_eq(tmpl.p[0].u.keydata.key.n, 16);
    ck_assert_uint_eq(tmpl.p[0].u.keydata.kv.type, MK_KV_SPI);
    ck_assert_uint_eq(tmpl.p[0].u.keydata.kv.spi.n, 4);
    ck_assert_uint_eq(tmpl.p[1].u.keydata.type, MK_KEY_TEK_SALT);
    ck_assert_uint_eq(tmpl.p[1].u.keydata.salt.n, 14);
    for (size_t i = 0; i < 16; i++)
        ck_assert_uint_eq(tmpl.p[0].u.keydata.key.p[i], 0);

    /* V with the auth_key of mikey.md §6.2 B (PSK 2b.., CSB 0000abcd,
     * RANDRi 01..) over message || Identity_i || Identity_kms */
    v = &m.chain.p[6];
    ck_assert_int_eq(mk_message_signed_part(&m, &signed_part), MK_OK);
    {
        const mk_bytes parts[3] = {signed_part, str(CHAIN_ALICE),
                                   str("kms.example.org")};
        ck_assert_int_eq(mk_mac(MK_MAC_HMAC_SHA1_160, HB(ak), parts, 3, mac,
                                sizeof mac),
                         MK_OK);
    }
    ck_assert_uint_eq(v->u.v.mac.n, 20);
    ck_assert_mem_eq(v->u.v.mac.p, mac, 20);
}
END_TEST

/* The whole chain with the stand-in KMS: both suites, +- forking, +- a
 * template of TGK, TGK, TEK+SALT. */
START_TEST(t_chain_matrix)
{
    const mk_suite *s = (_i & 1) ? &mk_suite_256 : &mk_suite_128;
    bool fork = (_i & 2) != 0, tmpl3 = (_i & 4) != 0;
    fake_kms *k = malloc(sizeof *k);
    chain_result *r = malloc(sizeof *r);
    chain_opts o;
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(r);
    fk_init(k);
    opts_fake(&o, s);
    o.fork = fork;
    o.tmpl3 = tmpl3;
    ck_assert_msg(chain_run(&o, fk_call, k, r) == MK_OK, "step %s: %s (%s)",
                  r->step, mk_err_name(r->err),
                  mk_err_last()->what ? mk_err_last()->what : "");
    ck_assert_uint_eq(r->alice.forked, fork);
    ck_assert_uint_eq(r->bob.forked, fork);
    ck_assert_uint_eq(r->alice.keys.count, (tmpl3 ? 3u : 1u) + (fork ? 2 : 1));
    ck_assert_uint_eq(chain_assert_srtp_equal(r),
                      (tmpl3 ? 3u : 1u) * (tmpl3 ? 2u : 1u));
    /* the map of TRANSFER_RESP is complete */
    for (size_t i = 0; i < r->alice.n_cs; i++) {
        ck_assert(r->alice.cs[i].has_ssrc);
        ck_assert_uint_gt(r->alice.cs[i].spi_len, 0);
    }
    if (fork) { /* MPKr' differs from MPKr: the fork happened */
        ck_assert(memcmp(r->alice.keys.e[1].key.b, r->ticket.keys.e[1].key.b,
                         s->key_len) != 0);
        ck_assert_mem_eq(r->alice.keys.e[1].key.b, r->bob.keys.e[1].key.b,
                         s->key_len);
    }
    if (tmpl3) { /* the TEK+SALT is used as it is */
        mk_ue_srtp a;
        size_t ti = r->alice.first_key + 2;
        ck_assert_int_eq(mk_ue_srtp_keys_from(&r->alice, ti, 1, &a), MK_OK);
        ck_assert_mem_eq(a.master_key.b, r->ticket.keys.e[ti].key.b,
                         s->key_len);
        ck_assert_uint_eq(a.master_salt.n, 14);
        ck_assert_mem_eq(a.master_salt.b, r->ticket.keys.e[ti].salt.b, 14);
        /* CS 2 names the second TGK by its SPI */
        ck_assert_int_eq(mk_ue_srtp_keys(&r->bob, 2, &a), MK_OK);
        ck_assert_uint_eq(a.key_index, r->bob.first_key + 1);
        mk_ue_srtp_wipe(&a);
    }
    chain_result_wipe(r);
    free(r);
    free(k);
}
END_TEST

/* mikey.md §6.2 B known answers, end to end (MIKEY-1). */
START_TEST(t_chain_known_answers)
{
    bool fork = _i != 0;
    fake_kms *k = malloc(sizeof *k);
    chain_result *r = malloc(sizeof *r);
    chain_opts o;
    mk_message m;
    mk_bytes head, tail;
    hexbuf mpki = hx("be9ce2dac46db24acac05faa4d888d9d");
    hexbuf ti_auth = hx("d66fd47e817849237bf55e8f32afe17d70bcc9e1");
    hexbuf tr_auth = hx("3c929a87771d74702634310a2cf807583a1d7800");
    hexbuf tek = hx("41175f787115dd6c38287db4f12ce72a");
    hexbuf tgk_f = hx("2c12cfedd679e36dc25c4b6efb3eb605");
    hexbuf mpkr_f = hx("08e2fae1d2a5dbe5312abf5e2659cddb");
    hexbuf vr_key = hx("1e9b4fd66203f14bac2d343856d2dd9bd874051d");
    int ti;

    fk_init(k);
    memset(k->fixed_mpk.b, 0x6e, 16);
    k->fixed_mpk.n = 16;
    memset(k->fixed_tgk.b, 0x7c, 16);
    k->fixed_tgk.n = 16;
    memset(k->fixed_rand, 0x03, 16);
    k->fixed_rand_len = 16;
    memset(k->fixed_randrkms, 0x04, 16);
    k->fixed_randrkms_len = 16;
    opts_fake(&o, &mk_suite_128);
    o.fork = fork;
    o.csb_transfer = 0x0000abcd;
    o.randri_tr = MK_BYTES(r01, 16);
    o.randrr_tr = MK_BYTES(r02, 16);
    ck_assert_msg(chain_run(&o, fk_call, k, r) == MK_OK, "step %s: %s",
                  r->step, mk_err_name(r->err));
    ck_assert_mem_eq(r->ticket.keys.e[0].key.b, mpki.b, 16);
    ck_assert_mem_eq(r->alice.keys.e[0].key.b, mpki.b, 16);

    /* TRANSFER_INIT V with the §6.2 B auth_key */
    chain_decode(&r->tr_init, &m);
    ck_assert(m.hdr.v); /* = F */
    ck_assert_uint_eq(m.hdr.map_type, MK_MAP_GENERIC_ID);
    ti = mk_chain_find(&m.chain, MK_PT_TICKET, 0);
    ck_assert_int_ge(ti, 0);
    ck_assert_int_eq(mk_message_transfer_parts(&m, (size_t)ti, &head, &tail),
                     MK_OK);
    {
        const mk_bytes parts[4] = {head, tail, str(CHAIN_ALICE),
                                   str(CHAIN_BOB)};
        ck_assert_int_eq(mk_mac_verify(MK_MAC_HMAC_SHA1_160, HB(ti_auth),
                                       parts, 4,
                                       m.chain.p[m.chain.count - 1].u.v.mac),
                         MK_OK);
    }
    if (fork) {
        mk_chain idc;
        mk_bytes id = m.chain.p[ti].u.tp.initiator_data, part;
        ck_assert_int_eq(mk_tp_data_decode(id, &idc), MK_OK);
        ck_assert_uint_eq(idc.count, 2);
        ck_assert(mk_bytes_equal(idc.p[0].u.v.mac,
                                 m.chain.p[m.chain.count - 1].u.v.mac));
        part = MK_BYTES(id.p, id.n - 20);
        ck_assert_int_eq(mk_mac_verify(MK_MAC_HMAC_SHA1_160, HB(vr_key),
                                       &part, 1, idc.p[1].u.v.mac),
                         MK_OK);
        /* MPKr' and TGK' for sip:bob@example.com, RANDRkms 04.. */
        ck_assert_mem_eq(r->alice.keys.e[1].key.b, mpkr_f.b, 16);
        ck_assert_mem_eq(r->alice.keys.e[2].key.b, tgk_f.b, 16);
        ck_assert_mem_eq(r->bob.keys.e[2].key.b, tgk_f.b, 16);
    } else {
        /* TRANSFER_RESP V (G = 1) with the §6.2 B auth_key */
        mk_message tr;
        mk_ue_srtp a;
        chain_decode(&r->tr_resp, &tr);
        {
            mk_bytes init = chain_bytes(&r->tr_init);
            ck_assert_int_eq(mk_v_verify(&tr, HB(tr_auth), &init, 1), MK_OK);
        }
        /* TEK for CS 1 with H = G = 1 */
        ck_assert_int_eq(mk_ue_srtp_keys(&r->alice, 1, &a), MK_OK);
        ck_assert_uint_eq(a.master_key.n, 16);
        ck_assert_mem_eq(a.master_key.b, tek.b, 16);
        mk_ue_srtp_wipe(&a);
        ck_assert_int_eq(mk_ue_srtp_keys(&r->bob, 1, &a), MK_OK);
        ck_assert_mem_eq(a.master_key.b, tek.b, 16);
        mk_ue_srtp_wipe(&a);
    }
    chain_assert_srtp_equal(r);
    chain_result_wipe(r);
    free(r);
    free(k);
}
END_TEST

/* Run the chain up to a failing step with a misbehaving KMS. */
static mk_err run_bad(fake_kms *k, chain_result *r, bool fork)
{
    chain_opts o;
    opts_fake(&o, &mk_suite_128);
    o.fork = fork;
    return chain_run(&o, fk_call, k, r);
}

START_TEST(t_peer_error_message)
{
    fake_kms *k = malloc(sizeof *k);
    mk_ue_request_params p;
    mk_ue_ticket *tk = malloc(sizeof *tk);
    mk_ue_peer_error pe;
    uint8_t req[MK_UE_MSG_MAX], ans[MK_UE_MSG_MAX];
    size_t nreq, nans;
    fk_init(k);
    k->error_no = MK_ERRNO_INVALID_TICKET;
    request_fixed(&p, mk_ntp_now());
    ck_assert_int_eq(mk_ue_request_init(&p, req, sizeof req, &nreq), MK_OK);
    ck_assert_int_eq(fk_request(k, MK_BYTES(req, nreq), ans, sizeof ans,
                                &nans),
                     MK_OK);
    ck_assert_int_eq(mk_ue_accept_request_resp(&p.creds, MK_BYTES(req, nreq),
                                               MK_BYTES(ans, nans), 0, tk,
                                               &pe),
                     MK_E_MIKEY_TICKET);
    ck_assert(pe.present);
    ck_assert_uint_eq(pe.n, 1);
    ck_assert_uint_eq(pe.err_no[0], 14);
    ck_assert(pe.v_present);
    ck_assert(pe.v_verified);
    /* the same Error with a broken V is still reported, as unverified */
    k->tamper_v = true;
    ck_assert_int_eq(fk_request(k, MK_BYTES(req, nreq), ans, sizeof ans,
                                &nans),
                     MK_OK);
    ck_assert_int_eq(mk_ue_accept_request_resp(&p.creds, MK_BYTES(req, nreq),
                                               MK_BYTES(ans, nans), 0, tk,
                                               &pe),
                     MK_E_MIKEY_TICKET);
    ck_assert(pe.v_present);
    ck_assert(!pe.v_verified);
    /* an unknown Error number maps to Unspecified */
    k->tamper_v = false;
    k->error_no = 200;
    ck_assert_int_eq(fk_request(k, MK_BYTES(req, nreq), ans, sizeof ans,
                                &nans),
                     MK_OK);
    ck_assert_int_eq(mk_ue_accept_request_resp(&p.creds, MK_BYTES(req, nreq),
                                               MK_BYTES(ans, nans), 0, tk,
                                               &pe),
                     MK_E_MIKEY_UNSPEC);
    ck_assert_uint_eq(pe.err_no[0], 200);
    free(tk);
    free(k);
}
END_TEST

START_TEST(t_tampered_answers)
{
    fake_kms *k = malloc(sizeof *k);
    chain_result *r = malloc(sizeof *r);
    fk_init(k);
    k->tamper_v = true;
    ck_assert_int_eq(run_bad(k, r, false), MK_E_MIKEY_AUTH);
    ck_assert_str_eq(r->step, "accept_request_resp");
    free(r);
    free(k);
}
END_TEST

START_TEST(t_policy_refusals)
{
    fake_kms *k = malloc(sizeof *k);
    chain_result *r = malloc(sizeof *r);
    fk_init(k);
    k->foreign_idrr = true;
    ck_assert_int_eq(run_bad(k, r, false), MK_E_POLICY);
    ck_assert_str_eq(r->step, "accept_request_resp");
    /* forking requested and required, but not granted */
    fk_init(k);
    k->drop_flags = MK_TPF_I;
    ck_assert_int_eq(run_bad(k, r, true), MK_E_POLICY);
    ck_assert_str_eq(r->step, "accept_request_resp");
    /* a granted policy that breaks the flag rules (G without F) */
    fk_init(k);
    k->drop_flags = MK_TPF_F;
    ck_assert_int_eq(run_bad(k, r, false), MK_E_POLICY);
    free(r);
    free(k);
}
END_TEST

/* A payload that may stand once only, repeated in the KMS's answer, is
 * refused as the KMS refuses it in a request (codec/mikey.h
 * mk_payload_may_repeat), not read from its first copy: a second IDRkms
 * naming another KMS after ours, an IDRi twice in the granted TP Data.
 * The untouched answer goes through. */
START_TEST(t_repeated_payloads)
{
    fake_kms *k = malloc(sizeof *k);
    chain_result *r = malloc(sizeof *r);
    for (int knob = 0; knob < 3; knob++) {
        fk_init(k);
        k->second_idrkms = knob == 1;
        k->second_tp_idri = knob == 2;
        if (knob == 0) { /* the untouched answer */
            ck_assert_int_eq(run_bad(k, r, false), MK_OK);
            continue;
        }
        ck_assert_int_eq(run_bad(k, r, false), MK_E_VALUE);
        ck_assert_str_eq(r->step, "accept_request_resp");
        ck_assert_int_eq(mk_err_last()->payload, MK_PT_IDR);
    }
    chain_result_wipe(r);
    free(r);
    free(k);
}
END_TEST

/* Tampering between the UEs: Bob detects a changed TRANSFER_INIT once it
 * has MPKi; Alice detects a changed TRANSFER_RESP. */
START_TEST(t_transfer_tampering)
{
    bool fork = _i != 0;
    fake_kms *k = malloc(sizeof *k);
    chain_result *r = malloc(sizeof *r);
    mk_ue_creds bob, alice;
    mk_ue_session *s = malloc(sizeof *s);
    mk_ue_fixed f;
    fk_init(k);
    ck_assert_int_eq(run_bad(k, r, fork), MK_OK);
    memset(&bob, 0, sizeof bob);
    bob.psk = MK_BYTES(psk_b, 16);
    bob.impu = str(CHAIN_BOB);
    bob.kms_id = str("kms.example.org");
    alice = bob;
    alice.psk = MK_BYTES(psk_a, 16);
    alice.impu = str(CHAIN_ALICE);

    /* change the SSRC in TRANSFER_INIT's map (byte 10+5 = SSRC byte) */
    r->tr_init.b[16] ^= 0x01;
    memset(&f, 0, sizeof f);
    ck_assert_int_eq(mk_ue_resolve_init(&bob, chain_bytes(&r->tr_init),
                                        &f, r->res_init.b,
                                        sizeof r->res_init.b, &r->res_init.n),
                     MK_OK);
    ck_assert_int_eq(fk_resolve(k, chain_bytes(&r->res_init),
                                r->res_resp.b, sizeof r->res_resp.b,
                                &r->res_resp.n),
                     MK_OK);
    ck_assert_int_eq(mk_ue_accept_resolve_resp(&bob,
                                               chain_bytes(&r->tr_init),
                                               chain_bytes(&r->res_init),
                                               chain_bytes(&r->res_resp),
                                               s, NULL),
                     MK_E_MIKEY_AUTH);
    r->tr_init.b[16] ^= 0x01;

    /* a flipped bit in TRANSFER_RESP */
    r->tr_resp.b[r->tr_resp.n - 1] ^= 0x80;
    ck_assert_int_eq(mk_ue_accept_transfer_resp(&r->ticket,
                                                chain_bytes(&r->tr_init),
                                                chain_bytes(&r->tr_resp),
                                                s, NULL),
                     MK_E_MIKEY_AUTH);
    r->tr_resp.b[r->tr_resp.n - 1] ^= 0x80;
    ck_assert_int_eq(mk_ue_accept_transfer_resp(&r->ticket,
                                                chain_bytes(&r->tr_init),
                                                chain_bytes(&r->tr_resp),
                                                s, NULL),
                     MK_OK);
    /* a wrong PSK: REQUEST_RESP does not verify */
    alice.psk = MK_BYTES(psk_b, 16);
    {
        mk_ue_ticket *tk = malloc(sizeof *tk);
        ck_assert_int_eq(mk_ue_accept_request_resp(&alice,
                                                   chain_bytes(&r->req_init),
                                                   chain_bytes(&r->req_resp),
                                                   0, tk, NULL),
                         MK_E_MIKEY_AUTH);
        /* the keys of a failed accept are wiped */
        ck_assert_uint_eq(tk->keys.count, 0);
        free(tk);
    }
    /* answers to the wrong question */
    {
        mk_ue_ticket *tk = malloc(sizeof *tk);
        alice.psk = MK_BYTES(psk_a, 16);
        ck_assert_int_eq(mk_ue_accept_request_resp(&alice,
                                                   chain_bytes(&r->req_init),
                                                   chain_bytes(&r->res_resp),
                                                   0, tk, NULL),
                         MK_E_MIKEY_DT); /* a RESOLVE_RESP */
        free(tk);
    }
    mk_ue_session_wipe(s);
    chain_result_wipe(r);
    free(s);
    free(r);
    free(k);
}
END_TEST

START_TEST(t_argument_errors)
{
    mk_ue_request_params p;
    uint8_t out[MK_UE_MSG_MAX], small[40];
    size_t n;
    request_fixed(&p, mk_ntp_now());
    p.n_idrr = 0;
    ck_assert_int_eq(mk_ue_request_init(&p, out, sizeof out, &n), MK_E_ARG);
    request_fixed(&p, mk_ntp_now());
    p.flags = MK_TPF_D | MK_TPF_G | MK_TPF_H; /* G without F */
    ck_assert_int_eq(mk_ue_request_init(&p, out, sizeof out, &n), MK_E_ARG);
    request_fixed(&p, mk_ntp_now());
    p.creds.psk = MK_BYTES_NONE;
    ck_assert_int_eq(mk_ue_request_init(&p, out, sizeof out, &n), MK_E_ARG);
    request_fixed(&p, mk_ntp_now());
    p.creds.kms_id = MK_BYTES_NONE;
    ck_assert_int_eq(mk_ue_request_init(&p, out, sizeof out, &n), MK_E_ARG);
    request_fixed(&p, mk_ntp_now());
    p.tmpl[0] = (mk_ue_key_tmpl){MK_KEY_MPK, 16, 0, 0, 0};
    p.n_tmpl = 1;
    ck_assert_int_eq(mk_ue_request_init(&p, out, sizeof out, &n), MK_E_ARG);
    request_fixed(&p, mk_ntp_now());
    ck_assert_int_eq(mk_ue_request_init(&p, small, sizeof small, &n),
                     MK_E_NOSPACE);
    {
        mk_ue_ticket *tk = calloc(1, sizeof *tk);
        mk_ue_transfer_params tp;
        memset(&tp, 0, sizeof tp);
        ck_assert_int_eq(mk_ue_transfer_init(tk, &tp, out, sizeof out, &n),
                         MK_E_ARG);
        free(tk);
    }
    /* garbage instead of a message */
    {
        mk_ue_ticket *tk = malloc(sizeof *tk);
        ck_assert_int_eq(mk_ue_request_init(&p, out, sizeof out, &n), MK_OK);
        ck_assert_int_ne(mk_ue_accept_request_resp(&p.creds, MK_BYTES(out, n),
                                                   MK_BYTES(out, 5), 0, tk,
                                                   NULL),
                         MK_OK);
        ck_assert_int_eq(mk_ue_accept_request_resp(&p.creds, MK_BYTES(out, n),
                                                   MK_BYTES(out, n), 0, tk,
                                                   NULL),
                         MK_E_MIKEY_DT);
        free(tk);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ue");
    TCase *tc = tcase_create("ue");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_request_byte_stable);
    tcase_add_test(tc, t_request_layout_and_v);
    tcase_add_loop_test(tc, t_chain_matrix, 0, 8);
    tcase_add_loop_test(tc, t_chain_known_answers, 0, 2);
    tcase_add_test(tc, t_peer_error_message);
    tcase_add_test(tc, t_tampered_answers);
    tcase_add_test(tc, t_repeated_payloads);
    tcase_add_test(tc, t_policy_refusals);
    tcase_add_loop_test(tc, t_transfer_tampering, 0, 2);
    tcase_add_test(tc, t_argument_errors);
    suite_add_tcase(s, tc);
    return mk_check_run(s);
}
