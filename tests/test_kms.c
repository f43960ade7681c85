/* test_kms.c - the KMS core (kms/kms.h) over the SQLite store: the whole
 * MIKEY-TICKET chain with the UE library in both suites, with and without
 * forking, with a KEMAC template; the answers' layout; every row of the
 * MIKEY checks of profile §3 (Error number, V present and verifying);
 * replays; parse errors (400); store failures (503); records (§8). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check_main.h"
#include "lib/mem_store.h"
#include "test_kms_fixture.h"
#include "util/ntp.h"

static const mk_suite *suites[2];

static void init_suites(void)
{
    suites[0] = &mk_suite_128;
    suites[1] = &mk_suite_256;
}

/* ------------------------------------------------------------------ */
/* Whole chains */

static void check_request_resp(const chain_result *r, const mk_suite *s,
                               bool fork, size_t n_keys)
{
    mk_message m, rq;
    mk_chain tpc;
    chain_decode(&r->req_resp, &m);
    chain_decode(&r->req_init, &rq);
    /* HDR copied, V 0; HDR, T, IDRkms, TICKET, KEMAC, V */
    ck_assert_uint_eq(m.hdr.data_type, MK_DT_REQUEST_RESP);
    ck_assert_uint_eq(m.hdr.csb_id, rq.hdr.csb_id);
    ck_assert_uint_eq(m.hdr.prf_func, (unsigned)s->prf_func);
    ck_assert(!m.hdr.v);
    ck_assert_uint_eq(m.hdr.n_cs, 0);
    ck_assert_uint_eq(m.hdr.map_type, MK_MAP_EMPTY);
    ck_assert_uint_eq(m.chain.count, 5);
    ck_assert_uint_eq(m.chain.p[0].type, MK_PT_T);
    ck_assert_uint_eq(m.chain.p[0].u.t.ts_type, MK_TS_NTP_UTC);
    ck_assert_uint_eq(m.chain.p[0].u.t.value, F.now);
    ck_assert_uint_eq(m.chain.p[1].type, MK_PT_IDR);
    ck_assert_uint_eq(m.chain.p[1].u.idr.role, MK_ROLE_IDRKMS);
    ck_assert_uint_eq(m.chain.p[2].type, MK_PT_TICKET);
    ck_assert_uint_eq(m.chain.p[3].type, MK_PT_KEMAC);
    ck_assert_uint_eq(m.chain.p[3].u.kemac.encr_alg, (unsigned)s->encr_alg);
    ck_assert_uint_eq(m.chain.p[3].u.kemac.mac_alg, MK_MAC_NULL);
    ck_assert_uint_eq(m.chain.p[4].u.v.auth_alg, (unsigned)s->mac_alg);
    /* TICKET: base ticket, D = 1, Initiator Data length 0 */
    const mk_tp *tp = &m.chain.p[2].u.tp;
    ck_assert_uint_eq(tp->ticket_type, MK_TICKET_MIKEY_BASE);
    ck_assert_uint_eq(tp->subtype, 1);
    ck_assert_uint_eq(tp->version, 1);
    ck_assert_uint_eq(tp->prf_func, (unsigned)s->prf_func);
    ck_assert(tp->flags & MK_TPF_D);
    ck_assert_uint_eq(!!(tp->flags & MK_TPF_I), fork);
    ck_assert_uint_eq(tp->initiator_data.n, 0);
    /* granted TP: IDRkms, IDRi, TRs, TRe, IDRr; never a KEMAC */
    ck_assert_int_eq(mk_tp_data_decode(tp->tp_data, &tpc), MK_OK);
    ck_assert_int_eq(mk_chain_find(&tpc, MK_PT_KEMAC, 0), -1);
    int i = mk_chain_find_idr(&tpc, MK_ROLE_IDRKMS, 0);
    ck_assert_int_ge(i, 0);
    ck_assert(mk_bytes_equal(tpc.p[i].u.idr.data, fx_str(FX_KMS_ID)));
    i = mk_chain_find_idr(&tpc, MK_ROLE_IDRI, 0);
    ck_assert_int_ge(i, 0);
    ck_assert(mk_bytes_equal(tpc.p[i].u.idr.data, fx_str(FX_ALICE)));
    i = mk_chain_find_idr(&tpc, MK_ROLE_IDRR, 0);
    ck_assert_int_ge(i, 0);
    ck_assert(mk_bytes_equal(tpc.p[i].u.idr.data, fx_str(FX_BOB)));
    ck_assert_int_ge(mk_chain_find_tr(&tpc, MK_TSR_TRS, 0), 0);
    ck_assert_int_ge(mk_chain_find_tr(&tpc, MK_TSR_TRE, 0), 0);
    /* Alice's view: MPKi, [MPKr], keys */
    const mk_ue_ticket *t = &r->ticket;
    ck_assert_uint_eq(t->first_key, fork ? 2 : 1);
    ck_assert_uint_eq(t->keys.count, t->first_key + n_keys);
    for (size_t k = 0; k < t->first_key; k++) {
        ck_assert_uint_eq(t->keys.e[k].type, MK_KEY_MPK);
        ck_assert_uint_eq(t->keys.e[k].kv, MK_KV_NULL);
        ck_assert_uint_eq(t->keys.e[k].key.n, s->key_len);
    }
    for (size_t k = t->first_key; k < t->keys.count; k++) {
        ck_assert_uint_eq(t->keys.e[k].kv, MK_KV_SPI);
        ck_assert_uint_eq(t->keys.e[k].spi_len, 4);
    }
    /* no TRs/TRe requested: the KMS added them, K = 1 */
    ck_assert(t->flags & MK_TPF_K);
    ck_assert_uint_eq(t->trs_unix, mk_ntp_to_unix(F.now));
    ck_assert_uint_eq(t->tre_unix, mk_ntp_to_unix(F.now) + 3600);
}

START_TEST(test_chain_suites_forking)
{
    init_suites();
    for (int s = 0; s < 2; s++) {
        for (int fork = 0; fork < 2; fork++) {
            chain_result *r = fx_chain(suites[s], fork, false);
            check_request_resp(r, suites[s], fork, 1);
            /* default keys: one TGK of the suite's length */
            const mk_ue_ticket *t = &r->ticket;
            ck_assert_uint_eq(t->keys.e[t->first_key].type, MK_KEY_TGK);
            ck_assert_uint_eq(t->keys.e[t->first_key].key.n,
                              suites[s]->key_len);
            ck_assert_uint_eq(r->bob.forked, fork);
            ck_assert_uint_ge(chain_assert_srtp_equal(r), 1);
            if (fork) {
                /* Bob's TGK' differs from Alice's unforked TGK of the
                 * ticket; Alice forked hers with IDRr and RANDRkms */
                ck_assert_mem_ne(r->bob.keys.e[2].key.b,
                                 t->keys.e[2].key.b, suites[s]->key_len);
                ck_assert_uint_ge(r->bob.randrkms_len, suites[s]->key_len);
                ck_assert_uint_eq(r->bob.idrr_len, strlen(FX_BOB));
            } else {
                ck_assert_mem_eq(r->bob.keys.e[1].key.b, t->keys.e[1].key.b,
                                 suites[s]->key_len);
            }
            fx_chain_free(r);
        }
    }
    /* 2 answers per chain */
    ck_assert_uint_eq(fx_record_count(), 8);
}
END_TEST

START_TEST(test_chain_template_two_tgk_tek)
{
    init_suites();
    for (int s = 0; s < 2; s++) {
        for (int fork = 0; fork < 2; fork++) {
            chain_result *r = fx_chain(suites[s], fork, true);
            check_request_resp(r, suites[s], fork, 3);
            const mk_ue_ticket *t = &r->ticket;
            size_t f = t->first_key;
            ck_assert_uint_eq(t->keys.e[f].type, MK_KEY_TGK);
            ck_assert_uint_eq(t->keys.e[f + 1].type, MK_KEY_TGK);
            ck_assert_uint_eq(t->keys.e[f + 2].type, MK_KEY_TEK_SALT);
            ck_assert_uint_eq(t->keys.e[f + 2].salt.n, 14);
            ck_assert_mem_ne(t->keys.e[f].spi, t->keys.e[f + 1].spi, 4);
            /* 2 CS x 3 keys compared */
            ck_assert_uint_eq(chain_assert_srtp_equal(r), 6);
            fx_chain_free(r);
        }
    }
}
END_TEST

START_TEST(test_psk_found_by_idri)
{
    /* no IDRpsk: the PSK is found through IDRi (an IMPU) */
    mk_ue_request_params p;
    fx_msg m;
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.creds.psk_id = MK_BYTES_NONE;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    /* Alice's second IMPU works as IDRi too */
    p.creds.impu = fx_str(FX_ALICE2);
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    /* no IDRpsk and no IDRi: nothing names the PSK */
    p.creds.omit_own_idr = true;
    fx_request_init(&p, &m);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_AUTH,
                    0, false, FX_ALICE);
}
END_TEST

/* RFC 6043 §12.1: a 16-byte PSK does not authenticate the 256-bit suite,
 * neither a Ticket Request nor a Ticket Resolve (doc/profile.md §9.33):
 * Error 0 without V, decided before V is computed with the short PSK. */
START_TEST(test_psk_shorter_than_suite_key)
{
    mk_ue_request_params p;
    fx_msg m;
    fx_request_params(&p, &mk_suite_256, FX_ERIN, FX_BOB);
    fx_request_init(&p, &m);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_AUTH,
                    0, false, FX_ERIN);
    /* the 128-bit suite is Erin's */
    fx_request_params(&p, &mk_suite_128, FX_ERIN, FX_BOB);
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    /* and a 32-byte PSK serves both suites */
    fx_request_params(&p, &mk_suite_128, FX_DAVE, "sip:bob@example.com");
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);

    /* resolving a 256-bit ticket with a 16-byte PSK */
    chain_result *r = fx_chain(&mk_suite_256, false, false);
    fx_resolve_init(r, FX_ERIN, &m);
    fx_expect_error(MK_SERVICE_TICKET_RESOLVE, &m, MK_E_MIKEY_AUTH,
                    0, false, FX_ERIN);
    fx_chain_free(r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Profile §3 rows */

static void alice_request(const mk_suite *s, fx_msg *m, mk_message *d)
{
    mk_ue_request_params p;
    fx_request_params(&p, s, FX_ALICE, FX_BOB);
    fx_request_init(&p, m);
    fx_decode(m, d);
}

START_TEST(test_row_invalid_dt)
{
    fx_msg m, out;
    mk_message d;
    alice_request(&mk_suite_128, &m, &d);
    /* REQUEST_INIT on ticketresolve */
    fx_expect_error(MK_SERVICE_TICKET_RESOLVE, &m, MK_E_MIKEY_DT,
                    11, false, FX_ALICE);
    /* the PK variant and other data types */
    const uint8_t dts[] = {MK_DT_REQUEST_INIT_PK, MK_DT_REQUEST_RESP,
                           MK_DT_TRANSFER_INIT, MK_DT_RESOLVE_INIT_PSK,
                           MK_DT_PSK_INIT, 200};
    for (size_t i = 0; i < sizeof dts; i++) {
        alice_request(&mk_suite_128, &m, &d);
        d.hdr.data_type = dts[i];
        fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
        fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_DT,
                        11, false, FX_ALICE);
    }
    /* RESOLVE_INIT on ticketrequest, RESOLVE_INIT_PK on ticketresolve */
    chain_result *r = fx_chain(&mk_suite_128, false, false);
    fx_resolve_init(r, FX_BOB, &m);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_DT,
                    11, false, FX_BOB);
    fx_decode(&m, &d);
    d.hdr.data_type = MK_DT_RESOLVE_INIT_PK;
    fx_resign(&d, FX_BOB, fx_str(FX_BOB), &out);
    fx_expect_error(MK_SERVICE_TICKET_RESOLVE, &out, MK_E_MIKEY_DT,
                    11, false, FX_BOB);
    fx_chain_free(r);
}
END_TEST

START_TEST(test_error_message_not_answered)
{
    /* RFC 3830 §5.1.2: no Error answer to an Error message -> 400 */
    fx_msg m, out;
    mk_message d;
    alice_request(&mk_suite_128, &m, &d);
    d.hdr.data_type = MK_DT_ERROR;
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out), MK_E_VALUE);
    ck_assert_int_eq(F.ans.http_status, 400);
}
END_TEST

START_TEST(test_row_unspecified)
{
    fx_msg m, out;
    mk_message d;
    uint8_t map[MK_SRTP_ID_LEN];
    mk_buf mb;
    mk_srtp_id e = {0, 1, 0};

    alice_request(&mk_suite_128, &m, &d);
    d.hdr.version = 2;
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_UNSPEC,
                    12, false, FX_ALICE);

    alice_request(&mk_suite_128, &m, &d); /* #CS 1 (SRTP-ID) */
    mk_buf_init(&mb, map, sizeof map);
    ck_assert_int_eq(mk_map_put_srtp(&mb, &e), MK_OK);
    d.hdr.n_cs = 1;
    d.hdr.map_type = MK_MAP_SRTP_ID;
    d.hdr.map_info = mk_buf_view(&mb);
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_UNSPEC,
                    12, false, FX_ALICE);

    alice_request(&mk_suite_128, &m, &d); /* map type GENERIC-ID, #CS 0 */
    d.hdr.map_type = MK_MAP_GENERIC_ID;
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_UNSPEC,
                    12, false, FX_ALICE);

    alice_request(&mk_suite_128, &m, &d); /* T missing */
    ck_assert_uint_eq(d.chain.p[0].type, MK_PT_T);
    memmove(&d.chain.p[0], &d.chain.p[1],
            (d.chain.count - 1) * sizeof d.chain.p[0]);
    d.chain.count--;
    d.chain.first = d.chain.p[0].type;
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_UNSPEC,
                    12, false, FX_ALICE);

    alice_request(&mk_suite_128, &m, &d); /* RANDRi of 8 bytes */
    ck_assert_uint_eq(d.chain.p[1].type, MK_PT_RANDR);
    d.chain.p[1].u.randr.rand.n = 8;
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_UNSPEC,
                    12, false, FX_ALICE);

    alice_request(&mk_suite_128, &m, &d); /* two IDRi */
    ck_assert_int_eq(mk_chain_add(&d.chain, d.chain.p[d.chain.count - 1]),
                     MK_OK);
    d.chain.p[d.chain.count - 2] =
        mk_pl_idr(MK_ROLE_IDRI, MK_IDT_URI, fx_str(FX_ALICE));
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_UNSPEC,
                    12, false, FX_ALICE);
}
END_TEST

START_TEST(test_row_invalid_prf)
{
    fx_msg m, out;
    mk_message d;
    const uint8_t prfs[] = {2, 17, 127};
    for (size_t i = 0; i < sizeof prfs; i++) {
        alice_request(&mk_suite_128, &m, &d);
        d.hdr.prf_func = prfs[i];
        fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
        fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_PRF,
                        2, false, FX_ALICE);
    }
}
END_TEST

START_TEST(test_row_invalid_mac)
{
    fx_msg m, out;
    mk_message d;
    /* NULL auth alg */
    alice_request(&mk_suite_128, &m, &d);
    d.chain.p[d.chain.count - 1].u.v.auth_alg = MK_MAC_NULL;
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_MAC,
                    3, false, FX_ALICE);
    /* 128-bit PRF with the 256-bit MAC, and the other way round
     * (RFC 6043 §12.1): correctly signed, still refused */
    for (int s = 0; s < 2; s++) {
        alice_request(s ? &mk_suite_256 : &mk_suite_128, &m, &d);
        d.chain.p[d.chain.count - 1].u.v.auth_alg =
            s ? MK_MAC_HMAC_SHA1_160 : MK_MAC_HMAC_SHA256_256;
        fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
        fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_MAC,
                        3, false, FX_ALICE);
    }
}
END_TEST

START_TEST(test_row_auth_failure)
{
    mk_ue_request_params p;
    fx_msg m, out;
    mk_message d;
    /* unknown IDRpsk */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.creds.psk_id = fx_str("nobody-psk");
    fx_request_init(&p, &m);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_AUTH,
                    0, false, FX_ALICE);
    /* unknown IDRi, no IDRpsk */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.creds.psk_id = MK_BYTES_NONE;
    p.creds.impu = fx_str("sip:nobody@example.com");
    fx_request_init(&p, &m);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_AUTH,
                    0, false, FX_ALICE);
    /* wrong PSK */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.creds.psk = fx_psk(FX_BOB);
    fx_request_init(&p, &m);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_AUTH,
                    0, false, FX_ALICE);
    /* Identity_kms of the MAC input is the configured one */
    fx_request_params(&p, &mk_suite_256, FX_ALICE, FX_BOB);
    p.creds.kms_id = fx_str("kms.other.org");
    p.creds.omit_idrkms = true;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_MIKEY_AUTH);
    /* every bit of the MAC */
    alice_request(&mk_suite_128, &m, &d);
    for (size_t bit = 0; bit < 160; bit++) {
        out = m;
        out.b[out.n - 20 + bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_AUTH,
                        0, false, FX_ALICE);
    }
    /* a changed payload under the old MAC */
    out = m;
    out.b[MK_HDR_FIXED_LEN + 4] ^= 1; /* inside T */
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out),
                     MK_E_MIKEY_AUTH);
    /* none of these left a replay entry: the original still works */
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
}
END_TEST

START_TEST(test_row_invalid_ts)
{
    mk_ue_request_params p;
    fx_msg m, out;
    mk_message d;
    const int64_t offs[] = {-301, 301, -3600, 86400};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
        p.fixed.t_ntp = F.now + ((uint64_t)offs[i] << 32);
        fx_request_init(&p, &m);
        fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_TS,
                        1, true, FX_ALICE);
    }
    /* the window edges are inside */
    const int64_t ok[] = {-299, 299};
    for (size_t i = 0; i < 2; i++) {
        fx_request_params(&p, &mk_suite_256, FX_ALICE, FX_BOB);
        p.fixed.t_ntp = F.now + ((uint64_t)ok[i] << 32);
        fx_request_init(&p, &m);
        ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    }
    /* COUNTER and NTP (local time) are refused, NTP-UTC-32 accepted */
    const uint8_t types[] = {MK_TS_COUNTER, MK_TS_NTP, MK_TS_NTP_UTC_32};
    for (size_t i = 0; i < 3; i++) {
        alice_request(&mk_suite_128, &m, &d);
        d.chain.p[0].u.t.ts_type = types[i];
        d.chain.p[0].u.t.value = types[i] == MK_TS_NTP ? F.now : F.now >> 32;
        fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
        if (types[i] == MK_TS_NTP_UTC_32) {
            ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out),
                             MK_OK);
        } else {
            fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_TS,
                            1, true, FX_ALICE);
        }
    }
}
END_TEST

START_TEST(test_replay_same_request_twice)
{
    init_suites();
    for (int s = 0; s < 2; s++) {
        fx_msg m;
        mk_message d;
        alice_request(suites[s], &m, &d);
        ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
        fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_TS,
                        1, true, FX_ALICE);
        /* still a replay a bit later, within the window */
        F.now += 200ull << 32;
        ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                         MK_E_MIKEY_TS);
        F.now -= 200ull << 32;
    }
    /* a replayed RESOLVE_INIT too */
    chain_result *r = fx_chain(&mk_suite_128, true, false);
    fx_msg m;
    memcpy(m.b, r->res_init.b, r->res_init.n);
    m.n = r->res_init.n;
    fx_expect_error(MK_SERVICE_TICKET_RESOLVE, &m, MK_E_MIKEY_TS,
                    1, true, FX_BOB);
    fx_chain_free(r);
}
END_TEST

/* doc/profile.md §7: the KMS clock (mk_kms_handle's now) runs 400 s
 * ahead, dead replay entries are reclaimed meanwhile (kmsd's
 * maintenance, kmsctl replay prune), and the clock comes back. A message
 * answered before the jump is refused (Error 1 with V) whatever the
 * clock says, never answered again with keys; so is one of the same
 * seconds made after it (the price of the mark) until the clock has
 * caught up; and a message made at the clock ahead is answered. */
START_TEST(test_clock_jump_core)
{
    fx_msg before, same_second;
    mk_message d;
    uint64_t t0 = F.now;
    alice_request(&mk_suite_128, &before, &d);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &before), MK_OK);
    /* the clock 400 s ahead (more than skew_window) for a while */
    F.now = t0 + (400ull << 32);
    fx_msg ahead;
    alice_request(&mk_suite_128, &ahead, &d);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &ahead), MK_OK);
    mk_node *node = NULL;
    uint64_t reclaimed = 0;
    ck_assert_int_eq(mk_sqlstore_node_open(F.sql, NULL, &node), MK_OK);
    ck_assert_int_eq(mk_node_replay_prune(node, mk_ntp_to_unix(F.now),
                                          &reclaimed),
                     MK_OK);
    /* the entry of `before` is gone (reclaimed by the answer ahead or by
     * the prune): only the one of `ahead` is left */
    mk_node_status st;
    ck_assert_int_eq(mk_node_status_get(node, &st), MK_OK);
    ck_assert_uint_eq(st.replay_entries, 1);
    ck_assert_uint_eq(st.mark_unix, mk_ntp_to_unix(F.now));
    /* back: t0 + 5 s */
    F.now = t0 + (5ull << 32);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &before, MK_E_MIKEY_TS,
                    1, true, FX_ALICE);
    alice_request(&mk_suite_128, &same_second, &d);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &same_second, MK_E_MIKEY_TS,
                    1, true, FX_ALICE);
    /* the clock has caught up: served again */
    F.now = t0 + (101ull << 32); /* T + skew + 1 after the mark (400) */
    fx_msg later;
    alice_request(&mk_suite_128, &later, &d);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &later), MK_OK);
    /* and `before` still never again */
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &before),
                     MK_E_MIKEY_TS);
    F.now = t0;
}
END_TEST

START_TEST(test_row_invalid_id)
{
    fx_msg m, out;
    mk_message d;
    mk_chain c;
    uint8_t tpd[1024];
    /* IDRkms in the message */
    alice_request(&mk_suite_128, &m, &d);
    int i = mk_chain_find_idr(&d.chain, MK_ROLE_IDRKMS, 0);
    ck_assert_int_ge(i, 0);
    d.chain.p[i].u.idr.data = fx_str("kms.other.org");
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_ID,
                    7, true, FX_ALICE);
    /* IDRkms in the requested TP */
    alice_request(&mk_suite_256, &m, &d);
    int t = mk_chain_find(&d.chain, MK_PT_TP, 0);
    ck_assert_int_eq(mk_tp_data_decode(d.chain.p[t].u.tp.tp_data, &c), MK_OK);
    i = mk_chain_find_idr(&c, MK_ROLE_IDRKMS, 0);
    ck_assert_int_ge(i, 0);
    c.p[i].u.idr.data = fx_str("kms.other.org");
    fx_set_tp_data(&d, t, &c, tpd, sizeof tpd);
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_ID,
                    7, true, FX_ALICE);
    /* in RESOLVE_INIT */
    chain_result *r = fx_chain(&mk_suite_128, false, false);
    fx_resolve_init(r, FX_BOB, &m);
    fx_decode(&m, &d);
    i = mk_chain_find_idr(&d.chain, MK_ROLE_IDRKMS, 0);
    ck_assert_int_ge(i, 0);
    d.chain.p[i].u.idr.data = fx_str("kms.example.org.evil");
    fx_resign(&d, FX_BOB, fx_str(FX_BOB), &out);
    fx_expect_error(MK_SERVICE_TICKET_RESOLVE, &out, MK_E_MIKEY_ID,
                    7, true, FX_BOB);
    fx_chain_free(r);
}
END_TEST

START_TEST(test_row_invalid_ticket_requested)
{
    fx_msg m, out;
    mk_message d;
    struct {
        uint16_t type;
        uint8_t sub, ver;
    } bad[] = {{3, 1, 1}, {0, 1, 1}, {0xfffe, 1, 1}, {1, 2, 1}, {1, 1, 2}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        alice_request(&mk_suite_128, &m, &d);
        int t = mk_chain_find(&d.chain, MK_PT_TP, 0);
        d.chain.p[t].u.tp.ticket_type = bad[i].type;
        d.chain.p[t].u.tp.subtype = bad[i].sub;
        d.chain.p[t].u.tp.version = bad[i].ver;
        fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
        fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_TICKET,
                        14, true, FX_ALICE);
    }
}
END_TEST

START_TEST(test_row_invalid_ticket_presented)
{
    fx_msg m, out;
    mk_message d;
    chain_result *r = fx_chain(&mk_suite_256, false, false);
    const uint16_t types[] = {2, 3};
    for (size_t i = 0; i < 2; i++) {
        fx_resolve_init(r, FX_BOB, &m);
        fx_decode(&m, &d);
        int t = mk_chain_find(&d.chain, MK_PT_TICKET, 0);
        d.chain.p[t].u.tp.ticket_type = types[i];
        fx_resign(&d, FX_BOB, fx_str(FX_BOB), &out);
        fx_expect_error(MK_SERVICE_TICKET_RESOLVE, &out, MK_E_MIKEY_TICKET,
                        14, true, FX_BOB);
    }
    fx_chain_free(r);
}
END_TEST

/* A KEMAC template from (type, key_len, salt_len, kv, spi_len) rows. */
typedef struct tmpl_row {
    uint8_t type, key_len, salt_len, kv, spi_len;
} tmpl_row;

static mk_payload make_template(const tmpl_row *rows, size_t n, uint8_t *buf,
                                size_t cap)
{
    static const uint8_t zeros[64];
    mk_chain c;
    mk_buf b;
    mk_chain_init(&c);
    for (size_t i = 0; i < n; i++) {
        mk_kv kv = rows[i].kv == MK_KV_SPI
                       ? mk_kv_spi(MK_BYTES(zeros, rows[i].spi_len))
                   : rows[i].kv == MK_KV_INTERVAL
                       ? mk_kv_interval(MK_BYTES(zeros, 6),
                                        MK_BYTES(zeros, 6))
                       : mk_kv_null();
        ck_assert_int_eq(mk_chain_add(&c, mk_pl_keydata(
                                              rows[i].type,
                                              MK_BYTES(zeros, rows[i].key_len),
                                              MK_BYTES(zeros, rows[i].salt_len),
                                              kv)),
                         MK_OK);
    }
    mk_buf_init(&b, buf, cap);
    ck_assert_int_eq(mk_kemac_plain_encode(&c, &b), MK_OK);
    return mk_pl_kemac(MK_ENCR_NULL, mk_buf_view(&b), MK_MAC_NULL,
                       MK_BYTES_NONE);
}

/* Alice's request with its TP changed by flags / PRF / an inserted TP Data
 * payload at the front, re-signed; returns the KMS answer's error. */
static mk_err tp_variant(const mk_suite *s, int flags, int prf,
                         const mk_payload *extra, bool drop_idrr, fx_msg *out)
{
    fx_msg m;
    mk_message d;
    mk_chain c, c2;
    uint8_t tpd[2048];
    alice_request(s, &m, &d);
    int t = mk_chain_find(&d.chain, MK_PT_TP, 0);
    if (flags >= 0)
        d.chain.p[t].u.tp.flags = (uint16_t)flags;
    if (prf >= 0)
        d.chain.p[t].u.tp.prf_func = (uint8_t)prf;
    ck_assert_int_eq(mk_tp_data_decode(d.chain.p[t].u.tp.tp_data, &c), MK_OK);
    mk_chain_init(&c2);
    if (extra)
        ck_assert_int_eq(mk_chain_add(&c2, *extra), MK_OK);
    for (size_t i = 0; i < c.count; i++) {
        if (drop_idrr && c.p[i].type == MK_PT_IDR &&
            c.p[i].u.idr.role == MK_ROLE_IDRR)
            continue;
        ck_assert_int_eq(mk_chain_add(&c2, c.p[i]), MK_OK);
    }
    fx_set_tp_data(&d, t, &c2, tpd, sizeof tpd);
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), out);
    return fx_handle(MK_SERVICE_TICKET_REQUEST, out);
}

#define DEFAULT_FLAGS (MK_TPF_D | MK_TPF_E | MK_TPF_F | MK_TPF_G | MK_TPF_H)

START_TEST(test_row_invalid_tppar)
{
    fx_msg out;
    uint8_t tb[1024];
    mk_payload p;
    /* inconsistent flags (RFC 6043 §6.10) */
    const int bad_flags[] = {
        MK_TPF_E | MK_TPF_F | MK_TPF_G | MK_TPF_H,               /* ¬D, ¬L */
        MK_TPF_D | MK_TPF_E | MK_TPF_G | MK_TPF_H,               /* G, ¬F */
        MK_TPF_D | MK_TPF_E | MK_TPF_F,                          /* ¬G, ¬H */
        MK_TPF_D | MK_TPF_F | MK_TPF_G | MK_TPF_H | MK_TPF_I,    /* I, ¬E */
        MK_TPF_D | MK_TPF_E | MK_TPF_H | MK_TPF_M,               /* M, ¬F */
        MK_TPF_D | MK_TPF_E | MK_TPF_H | MK_TPF_I,  /* I, TGK, ¬F */
    };
    for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++) {
        ck_assert_int_eq(tp_variant(&mk_suite_128, bad_flags[i], -1, NULL,
                                    false, &out),
                         MK_E_MIKEY_TPPAR);
        fx_assert_error(&out, 15, true, FX_ALICE);
    }
    /* K in the request is ignored (RFC 6043 §6.10), ¬D with L is fine */
    ck_assert_int_eq(tp_variant(&mk_suite_128, DEFAULT_FLAGS | MK_TPF_K, -1,
                                NULL, false, &out),
                     MK_OK);
    ck_assert_int_eq(tp_variant(&mk_suite_128,
                                MK_TPF_E | MK_TPF_F | MK_TPF_G | MK_TPF_H |
                                    MK_TPF_L,
                                -1, NULL, false, &out),
                     MK_OK);
    /* TP PRF unsupported, or not the HDR's */
    ck_assert_int_eq(tp_variant(&mk_suite_128, -1, 5, NULL, false, &out),
                     MK_E_MIKEY_TPPAR);
    fx_assert_error(&out, 15, true, FX_ALICE);
    ck_assert_int_eq(tp_variant(&mk_suite_128, -1, 1, NULL, false, &out),
                     MK_E_MIKEY_TPPAR);
    ck_assert_int_eq(tp_variant(&mk_suite_256, -1, 0, NULL, false, &out),
                     MK_E_MIKEY_TPPAR);
    fx_assert_error(&out, 15, true, FX_ALICE);
    /* no IDRr */
    ck_assert_int_eq(tp_variant(&mk_suite_128, -1, -1, NULL, true, &out),
                     MK_E_MIKEY_TPPAR);
    fx_assert_error(&out, 15, true, FX_ALICE);
    /* a TR of type NTP (local time), a TRr not NTP-UTC-32, TRe < TRs */
    p = mk_pl_tr(MK_TSR_TRE, MK_TS_NTP, F.now);
    ck_assert_int_eq(tp_variant(&mk_suite_128, -1, -1, &p, false, &out),
                     MK_E_MIKEY_TPPAR);
    p = mk_pl_tr(MK_TSR_TRR, MK_TS_NTP_UTC, F.now);
    ck_assert_int_eq(tp_variant(&mk_suite_128, -1, -1, &p, false, &out),
                     MK_E_MIKEY_TPPAR);
    {
        fx_msg m;
        mk_message d;
        mk_chain c;
        uint8_t tpd[1024];
        alice_request(&mk_suite_128, &m, &d);
        int t = mk_chain_find(&d.chain, MK_PT_TP, 0);
        ck_assert_int_eq(mk_tp_data_decode(d.chain.p[t].u.tp.tp_data, &c),
                         MK_OK);
        ck_assert_int_eq(mk_chain_add(&c, mk_pl_tr(MK_TSR_TRS, MK_TS_NTP_UTC,
                                                   F.now + (100ull << 32))),
                         MK_OK);
        ck_assert_int_eq(mk_chain_add(&c, mk_pl_tr(MK_TSR_TRE, MK_TS_NTP_UTC,
                                                   F.now + (50ull << 32))),
                         MK_OK);
        fx_set_tp_data(&d, t, &c, tpd, sizeof tpd);
        fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
        fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_TPPAR,
                        15, true, FX_ALICE);
    }
    /* a payload TP Data does not carry */
    p = mk_pl_rand(fx_str("0123456789abcdef"));
    ck_assert_int_eq(tp_variant(&mk_suite_128, -1, -1, &p, false, &out),
                     MK_E_MIKEY_TPPAR);

    /* KEMAC templates that ask for what is not issued */
    struct {
        const mk_suite *s;
        tmpl_row rows[10];
        size_t n;
        mk_err want;
    } cases[] = {
        {&mk_suite_128, {{MK_KEY_MPK, 16, 0, MK_KV_NULL, 0}}, 1,
         MK_E_MIKEY_TPPAR},
        {&mk_suite_128, {{MK_KEY_K_PR, 16, 0, MK_KV_NULL, 0}}, 1,
         MK_E_MIKEY_TPPAR},
        {&mk_suite_128, {{MK_KEY_TGK, 32, 0, MK_KV_SPI, 4}}, 1,
         MK_E_MIKEY_TPPAR}, /* 256-bit key in the 128-bit suite */
        {&mk_suite_256, {{MK_KEY_TGK, 8, 0, MK_KV_SPI, 4}}, 1,
         MK_E_MIKEY_TPPAR},
        {&mk_suite_256, {{MK_KEY_TGK, 48, 0, MK_KV_SPI, 4}}, 1,
         MK_E_MIKEY_TPPAR},
        {&mk_suite_128, {{MK_KEY_TEK, 16, 0, MK_KV_INTERVAL, 0}}, 1,
         MK_E_MIKEY_TPPAR},
        {&mk_suite_128, {{MK_KEY_TEK, 16, 0, MK_KV_SPI, 17}}, 1,
         MK_E_MIKEY_TPPAR},
        {&mk_suite_128, {{MK_KEY_TEK_SALT, 16, 0, MK_KV_SPI, 4}}, 1,
         MK_E_MIKEY_TPPAR}, /* +SALT without a salt length */
        {&mk_suite_128,
         {{0, 16, 0, 1, 4}, {0, 16, 0, 1, 4}, {0, 16, 0, 1, 4},
          {0, 16, 0, 1, 4}, {0, 16, 0, 1, 4}, {0, 16, 0, 1, 4},
          {0, 16, 0, 1, 4}, {0, 16, 0, 1, 4}, {0, 16, 0, 1, 4}},
         9, MK_E_MIKEY_TPPAR}, /* 9 keys */
        {&mk_suite_128,
         {{0, 16, 0, 1, 4}, {0, 16, 0, 1, 4}, {0, 16, 0, 1, 4},
          {0, 16, 0, 1, 4}, {2, 16, 0, 1, 4}, {4, 16, 0, 1, 4},
          {3, 16, 14, 1, 4}, {5, 16, 14, 1, 16}},
         8, MK_OK}, /* 8 keys of every issued type */
        {&mk_suite_256, {{MK_KEY_TGK_SALT, 32, 14, MK_KV_NULL, 0}}, 1,
         MK_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        p = make_template(cases[i].rows, cases[i].n, tb, sizeof tb);
        mk_err e = tp_variant(cases[i].s, -1, -1, &p, false, &out);
        ck_assert_msg(e == cases[i].want, "template case %zu: %s", i,
                      mk_err_name(e));
        if (e != MK_OK)
            fx_assert_error(&out, 15, true, FX_ALICE);
    }
    /* a template that is not NULL/NULL, and one that is not a chain */
    p = make_template(cases[10].rows, 1, tb, sizeof tb);
    p.u.kemac.encr_alg = MK_ENCR_AES_CM_128;
    ck_assert_int_eq(tp_variant(&mk_suite_128, -1, -1, &p, false, &out),
                     MK_E_MIKEY_TPPAR);
    p = mk_pl_kemac(MK_ENCR_NULL, fx_str("not a key data chain"), MK_MAC_NULL,
                    MK_BYTES_NONE);
    ck_assert_int_eq(tp_variant(&mk_suite_128, -1, -1, &p, false, &out),
                     MK_E_MIKEY_TPPAR);
}
END_TEST

START_TEST(test_template_honoured)
{
    /* key / salt / SPI lengths as asked; KV NULL -> 4-byte SPI and K = 1 */
    fx_msg out;
    uint8_t tb[512];
    const tmpl_row rows[] = {{MK_KEY_GTGK_SALT, 24, 12, MK_KV_SPI, 7},
                             {MK_KEY_TEK, 16, 0, MK_KV_NULL, 0}};
    mk_payload p = make_template(rows, 2, tb, sizeof tb);
    mk_ue_ticket *t = calloc(1, sizeof *t);
    mk_ue_creds c;
    fx_creds(FX_ALICE, &c);
    ck_assert_int_eq(tp_variant(&mk_suite_256, -1, -1, &p, false, &out),
                     MK_OK);
    ck_assert_int_eq(mk_ue_accept_request_resp(
                         &c, MK_BYTES(out.b, out.n),
                         MK_BYTES(F.ans.body, F.ans.body_len), 0, t, NULL),
                     MK_OK);
    ck_assert_uint_eq(t->keys.count, 3);
    ck_assert_uint_eq(t->keys.e[1].type, MK_KEY_GTGK_SALT);
    ck_assert_uint_eq(t->keys.e[1].key.n, 24);
    ck_assert_uint_eq(t->keys.e[1].salt.n, 12);
    ck_assert_uint_eq(t->keys.e[1].spi_len, 7);
    ck_assert_uint_eq(t->keys.e[2].type, MK_KEY_TEK);
    ck_assert_uint_eq(t->keys.e[2].kv, MK_KV_SPI);
    ck_assert_uint_eq(t->keys.e[2].spi_len, 4);
    ck_assert(t->flags & MK_TPF_K);
    mk_ue_ticket_wipe(t);
    free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 400, 503 and records */

START_TEST(test_parse_errors_400)
{
    fx_msg m, out;
    mk_message d;
    size_t before = fx_record_count();
    alice_request(&mk_suite_128, &m, &d);
    out = m; /* truncated */
    out.n -= 1;
    mk_err e = fx_handle(MK_SERVICE_TICKET_REQUEST, &out);
    ck_assert_int_eq(F.ans.http_status, 400);
    ck_assert_int_eq(mk_err_mikey_errno(e), MK_MIKEY_ERRNO_NONE);
    out = m; /* trailing byte */
    out.b[out.n++] = 0;
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out),
                     MK_E_TRAILING);
    ck_assert_int_eq(F.ans.http_status, 400);
    out.n = 3; /* not even a header */
    fx_handle(MK_SERVICE_TICKET_REQUEST, &out);
    ck_assert_int_eq(F.ans.http_status, 400);
    out.n = 0;
    fx_handle(MK_SERVICE_TICKET_RESOLVE, &out);
    ck_assert_int_eq(F.ans.http_status, 400);
    ck_assert(!F.ans.authenticated);
    /* nothing authenticated them: no record (doc/profile.md §9.39) */
    ck_assert_uint_eq(fx_record_count(), before);
}
END_TEST

START_TEST(test_store_failures_503)
{
    fx_msg m;
    mk_message d;
    /* replay cache not writable -> 503, after V verified */
    F.shim.fail_replay = true;
    alice_request(&mk_suite_128, &m, &d);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_UNAVAILABLE);
    ck_assert_int_eq(F.ans.http_status, 503);
    /* an unauthenticated message never reaches the cache: Error 0 */
    m.b[m.n - 1] ^= 1;
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_MIKEY_AUTH);
    F.shim.fail_replay = false;
    /* no active ticket key -> 503 */
    F.shim.no_active = true;
    alice_request(&mk_suite_128, &m, &d);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_UNAVAILABLE);
    ck_assert_int_eq(F.ans.http_status, 503);
    F.shim.no_active = false;
    /* no answer that is not recorded */
    F.shim.fail_record = true;
    alice_request(&mk_suite_128, &m, &d);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_UNAVAILABLE);
    ck_assert_uint_eq(F.ans.body_len, 0);
    F.shim.fail_record = false;
}
END_TEST

typedef struct rec_list {
    mk_record r[16];
    size_t n;
} rec_list;

static mk_err collect(void *arg, const mk_record *r)
{
    rec_list *l = arg;
    if (l->n < 16)
        l->r[l->n++] = *r;
    return MK_OK;
}

START_TEST(test_records)
{
    rec_list *l = calloc(1, sizeof *l);
    fx_msg m;
    mk_ue_request_params p;
    chain_result *r = fx_chain(&mk_suite_128, true, true);
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.creds.psk = fx_psk(FX_BOB); /* fails V */
    fx_request_init(&p, &m);
    fx_handle(MK_SERVICE_TICKET_REQUEST, &m);
    fx_drain();
    ck_assert_int_eq(mk_sqlstore_records(F.sql, 0, NULL, collect, l), MK_OK);
    /* the request and the resolve; the message whose V failed has none
     * (doc/profile.md §9.39) */
    ck_assert_uint_eq(l->n, 2);
    const mk_record *q = &l->r[0], *s = &l->r[1];
    /* request */
    ck_assert_int_eq(q->service, MK_SERVICE_TICKET_REQUEST);
    ck_assert_str_eq(q->subscriber, "alice-psk");
    ck_assert_str_eq(q->initiator, FX_ALICE);
    ck_assert_str_eq(q->responder, "[\"" FX_BOB "\"]");
    ck_assert_str_eq(q->outcome, "ok");
    ck_assert_uint_eq(strlen(q->ticket_id), 64);
    ck_assert_uint_eq(q->valid_from, mk_ntp_to_unix(F.now));
    ck_assert_uint_eq(q->valid_to, mk_ntp_to_unix(F.now) + 3600);
    ck_assert_uint_eq(strlen(q->spis), 3 * 8 + 2); /* 3 SPIs, hex, commas */
    ck_assert_uint_eq(q->time_unix, mk_ntp_to_unix(F.now));
    /* resolve: the same ticket id and SPIs */
    ck_assert_int_eq(s->service, MK_SERVICE_TICKET_RESOLVE);
    ck_assert_str_eq(s->subscriber, "bob-psk");
    ck_assert_str_eq(s->initiator, FX_ALICE);
    ck_assert_str_eq(s->responder, "[\"" FX_BOB "\"]");
    ck_assert_str_eq(s->ticket_id, q->ticket_id);
    ck_assert_str_eq(s->spis, q->spis);
    ck_assert_str_eq(s->outcome, "ok");
    fx_chain_free(r);
    free(l);
}
END_TEST

/* Alice's request with `n` payloads added to its TP Data, re-signed. */
static void request_with_tp_extra(const mk_payload *extra, size_t n,
                                  fx_msg *out)
{
    static uint8_t tpd[MK_UE_MSG_MAX];
    fx_msg m;
    mk_message d;
    mk_chain c;
    alice_request(&mk_suite_128, &m, &d);
    int t = mk_chain_find(&d.chain, MK_PT_TP, 0);
    ck_assert_int_eq(mk_tp_data_decode(d.chain.p[t].u.tp.tp_data, &c), MK_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(mk_chain_add(&c, extra[i]), MK_OK);
    fx_set_tp_data(&d, t, &c, tpd, sizeof tpd);
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), out);
}

/* doc/profile.md §9.35: every IDRi / IDRr is a SIP or TEL URI, else Error
 * 7 with V before any policy; at most 8 IDRr (Error 15); and the record
 * lists every responder, a long first one or one with a comma included. */
START_TEST(test_responders_listed_and_validated)
{
    rec_list *l = calloc(1, sizeof *l);
    fx_msg m, out;
    mk_ue_request_params p;
    char longr[MK_URI_MAX], want[1024];
    /* 255 bytes, the longest an IMPU can be */
    memset(longr, 'a', sizeof longr);
    memcpy(longr, "sip:", 4);
    memcpy(longr + MK_URI_MAX - 1 - 12, "@example.org", 12);
    longr[MK_URI_MAX - 1] = '\0';
    fx_request_params(&p, &mk_suite_128, FX_ALICE, longr);
    p.idrr[1] = fx_str("sip:a,b@example.org");
    p.idrr[2] = fx_str(FX_BOB);
    p.n_idrr = 3;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    fx_drain();
    ck_assert_int_eq(mk_sqlstore_records(F.sql, 0, NULL, collect, l), MK_OK);
    ck_assert_uint_eq(l->n, 1);
    snprintf(want, sizeof want, "[\"%s\",\"sip:a,b@example.org\",\"%s\"]",
             longr, FX_BOB);
    ck_assert_str_eq(l->r[0].responder, want);

    /* an IDRr with CR LF, a space, a quote: Error 7 with V */
    static const char *const bad[] = {"sip:bob@example.org\r\nX: y",
                                      "sip:bob @example.org",
                                      "sip:\"bob\"@example.org",
                                      "http://bob.example.org/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_request_params(&p, &mk_suite_128, FX_ALICE, bad[i]);
        fx_request_init(&p, &m);
        fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_ID,
                        7, true, FX_ALICE);
    }
    /* the sender's own IDRi (PSK found by IDRpsk), and the TP's IDRi */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.creds.impu = fx_str(FX_ALICE "\r\n");
    fx_request_init(&p, &m);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_ID,
                    7, true, FX_ALICE);

    /* nine IDRr: Error 15 */
    mk_payload more[8];
    for (int k = 0; k < 8; k++)
        more[k] = mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI, fx_str(FX_BOB));
    request_with_tp_extra(more, 8, &out);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_TPPAR,
                    15, true, FX_ALICE);
    free(l);
}
END_TEST

/* doc/profile.md §9.36: every TP and IDR size is bounded at the check
 * stage (Error 15, never a 503 from an overflow), and whatever follows V,
 * a 503 included, takes the message's replay entry: no authenticated
 * message is processed twice. */
START_TEST(test_no_message_processed_twice)
{
    fx_msg m;
    mk_message d;
    mk_payload ex[9];
    static uint8_t app[1500], id[7][MK_URI_MAX];
    memset(app, 'x', sizeof app);

    /* two IDRapp of 1500 bytes would not fit the granted TP */
    ex[0] = ex[1] = mk_pl_idr(MK_ROLE_IDRAPP, MK_IDT_BYTES,
                              MK_BYTES(app, sizeof app));
    request_with_tp_extra(ex, 2, &m);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_TPPAR,
                    15, true, FX_ALICE);
    /* ... and its copy is a replay, not a second run */
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_TS,
                    1, true, FX_ALICE);
    /* one IDRapp of 256 bytes; three IDRapp */
    ex[0] = mk_pl_idr(MK_ROLE_IDRAPP, MK_IDT_BYTES, MK_BYTES(app, 256));
    request_with_tp_extra(ex, 1, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_MIKEY_TPPAR);
    ex[0] = ex[1] = ex[2] = mk_pl_idr(MK_ROLE_IDRAPP, MK_IDT_BYTES,
                                      MK_BYTES(app, 16));
    request_with_tp_extra(ex, 3, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_MIKEY_TPPAR);

    /* the largest TP that passes is granted: two IDRapp and eight IDRr
     * of 255 bytes */
    ex[0] = ex[1] = mk_pl_idr(MK_ROLE_IDRAPP, MK_IDT_BYTES,
                              MK_BYTES(app, MK_URI_MAX - 1));
    for (int i = 0; i < 7; i++) { /* with Bob's: 8 IDRr */
        memset(id[i], 'a' + i, MK_URI_MAX - 1);
        memcpy(id[i], "sip:", 4);
        memcpy(id[i] + MK_URI_MAX - 1 - 12, "@example.org", 12);
        ex[2 + i] = mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI,
                              MK_BYTES(id[i], MK_URI_MAX - 1));
    }
    request_with_tp_extra(ex, 9, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    {
        mk_message a;
        mk_chain g;
        size_t n_idrr = 0, n_app = 0;
        ck_assert_int_eq(mk_message_decode(MK_BYTES(F.ans.body,
                                                    F.ans.body_len),
                                           &a),
                         MK_OK);
        int t = mk_chain_find(&a.chain, MK_PT_TICKET, 0);
        ck_assert_int_ge(t, 0);
        ck_assert_int_eq(mk_tp_data_decode(a.chain.p[t].u.tp.tp_data, &g),
                         MK_OK);
        for (size_t i = 0; i < g.count; i++) {
            if (g.p[i].type != MK_PT_IDR)
                continue;
            n_idrr += g.p[i].u.idr.role == MK_ROLE_IDRR;
            n_app += g.p[i].u.idr.role == MK_ROLE_IDRAPP;
            if (g.p[i].u.idr.role != MK_ROLE_IDRKMS &&
                g.p[i].u.idr.role != MK_ROLE_IDRI)
                ck_assert_uint_ge(g.p[i].u.idr.data.n, 19);
        }
        ck_assert_uint_eq(n_idrr, 8);
        ck_assert_uint_eq(n_app, 2);
        ck_assert_uint_gt(a.chain.p[t].u.tp.tp_data.n, 9 * MK_URI_MAX);
    }

    /* a 503 raised after V (no active ticket key) takes the entry: the
     * same message later is Error 1, not a second answer */
    F.shim.no_active = true;
    alice_request(&mk_suite_128, &m, &d);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_UNAVAILABLE);
    F.shim.no_active = false;
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_TS,
                    1, true, FX_ALICE);
}
END_TEST

/* doc/profile.md §9.39: a message whose V did not verify (or that never
 * got as far) leaves no record, whatever identity it claims; what follows
 * a verified V is recorded, refusals included. The answer says which. */
START_TEST(test_unauthenticated_leave_no_record)
{
    rec_list *l = calloc(1, sizeof *l);
    fx_msg m, out;
    mk_message d;
    mk_ue_request_params p;
    size_t before = fx_record_count();
    unsigned c0 = F.shim.commits;
    /* V computed with another PSK, claiming to be Alice */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.creds.psk = fx_psk(FX_DAVE);
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_MIKEY_AUTH);
    ck_assert(!F.ans.authenticated);
    /* an unknown PSK id; a 16-byte PSK for the 256-bit suite */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.creds.psk_id = fx_str("mallory-psk");
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_MIKEY_AUTH);
    fx_request_params(&p, &mk_suite_256, FX_ERIN, FX_BOB);
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_MIKEY_AUTH);
    /* Errors 11, 12, 2 without V; a message that does not decode */
    alice_request(&mk_suite_128, &m, &d);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_RESOLVE, &m), MK_E_MIKEY_DT);
    alice_request(&mk_suite_128, &m, &d);
    d.hdr.version = 2;
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out),
                     MK_E_MIKEY_UNSPEC);
    alice_request(&mk_suite_128, &m, &d);
    d.hdr.prf_func = 9;
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out),
                     MK_E_MIKEY_PRF);
    ck_assert(!F.ans.authenticated);
    out.n = 3;
    fx_handle(MK_SERVICE_TICKET_REQUEST, &out);
    ck_assert_int_eq(F.ans.http_status, 400);
    ck_assert(!F.ans.authenticated);
    ck_assert_uint_eq(fx_record_count(), before);
    /* each answer was still checked against the store's rows */
    ck_assert_uint_eq(F.shim.commits, c0 + 7);

    /* after V: recorded, refusals too (Error 7 with V) */
    alice_request(&mk_suite_128, &m, &d);
    int i = mk_chain_find_idr(&d.chain, MK_ROLE_IDRKMS, 0);
    d.chain.p[i].u.idr.data = fx_str("kms.other.org");
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out),
                     MK_E_MIKEY_ID);
    ck_assert(F.ans.authenticated);
    fx_drain();
    ck_assert_int_eq(mk_sqlstore_records(F.sql, 0, NULL, collect, l), MK_OK);
    ck_assert_uint_eq(l->n, before + 1);
    ck_assert_str_eq(l->r[l->n - 1].outcome, mk_err_name(MK_E_MIKEY_ID));
    ck_assert_str_eq(l->r[l->n - 1].subscriber, "alice-psk");
    free(l);
}
END_TEST

/* The store is written once per answer: the replay entry with the record
 * (answer_commit). A copy of a message is found at that commit: the answer
 * built for it is discarded and Error 1 (with V) is the answer, recorded
 * as a refusal of its own by that same commit. */
START_TEST(test_replay_found_at_commit)
{
    rec_list *l = calloc(1, sizeof *l);
    fx_msg m, out;
    mk_message d;
    unsigned c0 = F.shim.commits, r0 = F.shim.commits_with_replay;

    alice_request(&mk_suite_256, &m, &d);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    ck_assert_uint_eq(F.shim.commits, c0 + 1);
    ck_assert_uint_eq(F.shim.commits_with_replay, r0 + 1);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &m, MK_E_MIKEY_TS,
                    1, true, FX_ALICE);
    /* one commit for the copy too: it recorded the refusal */
    ck_assert_uint_eq(F.shim.commits, c0 + 2);
    ck_assert_uint_eq(F.shim.commits_with_replay, r0 + 2);
    fx_drain();
    ck_assert_int_eq(mk_sqlstore_records(F.sql, 0, NULL, collect, l), MK_OK);
    ck_assert_uint_eq(l->n, 2);
    ck_assert_str_eq(l->r[0].outcome, "ok");
    ck_assert_uint_eq(strlen(l->r[0].ticket_id), 64);
    /* nothing of the discarded answer is in the refusal's record */
    ck_assert_str_eq(l->r[1].outcome, mk_err_name(MK_E_MIKEY_TS));
    ck_assert_str_eq(l->r[1].subscriber, "alice-psk");
    ck_assert_str_eq(l->r[1].initiator, FX_ALICE);
    ck_assert_str_eq(l->r[1].responder, "[]");
    ck_assert_str_eq(l->r[1].ticket_id, "");
    ck_assert_str_eq(l->r[1].spis, "");
    ck_assert_uint_eq(l->r[1].valid_from, 0);
    ck_assert_uint_eq(l->r[1].valid_to, 0);

    /* a refusal after V (Error 7) takes the entry too: its copy is Error 1 */
    alice_request(&mk_suite_128, &m, &d);
    int i = mk_chain_find_idr(&d.chain, MK_ROLE_IDRKMS, 0);
    ck_assert_int_ge(i, 0);
    d.chain.p[i].u.idr.data = fx_str("kms.other.org");
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out),
                     MK_E_MIKEY_ID);
    fx_expect_error(MK_SERVICE_TICKET_REQUEST, &out, MK_E_MIKEY_TS,
                    1, true, FX_ALICE);

    /* an unauthenticated message is recorded without an entry */
    c0 = F.shim.commits;
    r0 = F.shim.commits_with_replay;
    out = m;
    out.b[out.n - 1] ^= 1;
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out),
                     MK_E_MIKEY_AUTH);
    ck_assert_uint_eq(F.shim.commits, c0 + 1);
    ck_assert_uint_eq(F.shim.commits_with_replay, r0);

    /* a 503 of the core after V takes the entry too (doc/profile.md
     * §9.36): the same message is not answered a second time (a new one:
     * the Error 7 above has the replay tuple of m) */
    alice_request(&mk_suite_128, &m, &d);
    F.shim.no_active = true;
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_UNAVAILABLE);
    ck_assert_uint_eq(F.shim.commits, c0 + 2);
    ck_assert_uint_eq(F.shim.commits_with_replay, r0 + 1);
    F.shim.no_active = false;
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_E_MIKEY_TS);
    /* only a 503 whose commit failed leaves nothing: then it is answered */
    alice_request(&mk_suite_128, &m, &d);
    F.shim.fail_replay = true;
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m),
                     MK_E_UNAVAILABLE);
    F.shim.fail_replay = false;
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_E_MIKEY_TS);
    free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The store's cache of lookups (store/store.h) and the operator */

/* Alice again, under another connection, with PSK `psk` and the
 * fixture's IMPUs and policy. */
static void readd_alice(mk_sqlstore *adm, mk_bytes psk)
{
    mk_subscriber s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(mk_sqlstore_subscriber_remove(adm, fx_psk_id(FX_ALICE)),
                     MK_OK);
    memcpy(s.psk_id, "alice-psk", 9);
    s.psk_id_len = 9;
    ck_assert_int_eq(mk_key_copy(&s.psk, psk), MK_OK);
    strcpy(s.impu[0], FX_ALICE);
    strcpy(s.impu[1], FX_ALICE2);
    s.n_impu = 2;
    s.active = true;
    s.policy.forking_allowed = true;
    s.policy.reuse_allowed = true;
    ck_assert_int_eq(mk_sqlstore_subscriber_add(adm, &s), MK_OK);
    mk_subscriber_wipe(&s);
}

/* A Ticket Request of Alice signed with `psk` (NULL: the fixture's). */
static mk_err alice_with(const uint8_t *psk, fx_msg *m)
{
    mk_ue_request_params p;
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    if (psk != NULL)
        p.creds.psk = MK_BYTES(psk, 16);
    fx_request_init(&p, m);
    return fx_handle(MK_SERVICE_TICKET_REQUEST, m);
}

static mk_sqlstore_cache_counts kms_counts(void)
{
    mk_sqlstore_cache_counts c;
    mk_sqlstore_cache_stats(F.sql, &c);
    return c;
}

/* The last record's outcome. */
static void last_outcome_is(mk_err e)
{
    rec_list *l = calloc(1, sizeof *l);
    fx_drain();
    ck_assert_int_eq(mk_sqlstore_records(F.sql, 0, NULL, collect, l), MK_OK);
    ck_assert_uint_ge(l->n, 1);
    ck_assert_str_eq(l->r[l->n - 1].outcome, e == MK_OK ? "ok"
                                                        : mk_err_name(e));
    ck_assert_str_eq(l->r[l->n - 1].subscriber, "alice-psk");
    free(l);
}

/* The KMS's store connection serves repeated lookups from its cache; what
 * the operator changes through another connection (kmsctl) applies from
 * the very next answer: its first run, computed on the cached rows, is
 * found stale at its commit and writes nothing; the rerun reads the
 * current rows. Exactly one record per answer (profile §8). */
START_TEST(test_operator_change_applies_at_once)
{
    static const uint8_t psk2[16] = {0x77, 0x77, 0x77, 0x77, 0x77, 0x77,
                                     0x77, 0x77, 0x77, 0x77, 0x77, 0x77,
                                     0x77, 0x77, 0x77, 0x77};
    static const uint8_t psk3[16] = {0x88, 0x88, 0x88, 0x88, 0x88, 0x88,
                                     0x88, 0x88, 0x88, 0x88, 0x88, 0x88,
                                     0x88, 0x88, 0x88, 0x88};
    mk_sqlstore *adm = NULL;
    fx_msg m;
    mk_sqlstore_cache_counts c0, c1;
    ck_assert_int_eq(mk_sqlstore_open_existing(F.path,
                                               MK_BYTES(fx_master,
                                                        sizeof fx_master),
                                               5000, &adm),
                     MK_OK);

    /* the second answer is served from the cache (subscriber, ticket key) */
    ck_assert_int_eq(alice_with(NULL, &m), MK_OK);
    c0 = kms_counts();
    ck_assert_int_eq(alice_with(NULL, &m), MK_OK);
    c1 = kms_counts();
    ck_assert_uint_eq(c1.hits, c0.hits + 2);
    ck_assert_uint_eq(c1.misses, c0.misses);
    ck_assert_uint_eq(c1.stale, 0);
    size_t n = fx_record_count();

    /* 1. kmsctl disables Alice: the very next request gets what a disabled
     * subscriber gets (403, test_kms_policy.c), after one rerun */
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(adm,
                                                       fx_psk_id(FX_ALICE),
                                                       false),
                     MK_OK);
    ck_assert_int_eq(alice_with(NULL, &m), MK_E_POLICY);
    ck_assert_int_eq(F.ans.http_status, 403);
    ck_assert_uint_eq(kms_counts().stale, 1);
    ck_assert_uint_eq(fx_record_count(), n + 1);
    last_outcome_is(MK_E_POLICY);

    /* enabled again: served again at once */
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(adm,
                                                       fx_psk_id(FX_ALICE),
                                                       true),
                     MK_OK);
    ck_assert_int_eq(alice_with(NULL, &m), MK_OK);
    ck_assert_uint_eq(kms_counts().stale, 2);
    ck_assert_uint_eq(fx_record_count(), n + 2);
    last_outcome_is(MK_OK);

    /* 2. kmsctl replaces Alice's PSK, and her UE uses the new one: the
     * first run computes "V does not verify" (Error 0) with the cached old
     * PSK; that refusal, too, is checked at its commit, and the rerun
     * answers with a ticket */
    c0 = kms_counts();
    ck_assert_int_eq(alice_with(NULL, &m), MK_OK);
    ck_assert_uint_eq(kms_counts().hits, c0.hits + 2); /* confirmed again */
    readd_alice(adm, MK_BYTES(psk2, 16));
    ck_assert_int_eq(alice_with(psk2, &m), MK_OK);
    ck_assert_uint_eq(kms_counts().stale, 3);
    ck_assert_uint_eq(fx_record_count(), n + 4);
    last_outcome_is(MK_OK);

    /* 3. and the other way: a UE still on the replaced PSK is refused at
     * once (its first run verified V with the cached PSK and built a
     * ticket, which was never committed nor sent) */
    c0 = kms_counts();
    ck_assert_int_eq(alice_with(psk2, &m), MK_OK);
    ck_assert_uint_eq(kms_counts().hits, c0.hits + 2);
    readd_alice(adm, MK_BYTES(psk3, 16));
    ck_assert_int_eq(alice_with(psk2, &m), MK_E_MIKEY_AUTH);
    fx_assert_error(&m, 0, false, FX_ALICE);
    ck_assert_uint_eq(kms_counts().stale, 4);
    /* unauthenticated: no record (doc/profile.md §9.39) */
    ck_assert_uint_eq(fx_record_count(), n + 5);
    last_outcome_is(MK_OK);

    /* 4. a rotated ticket key: the next ticket is sealed with the new one,
     * which the Ticket Resolve then needs (and finds) */
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(adm, 5000, NULL), MK_OK);
    readd_alice(adm, fx_psk(FX_ALICE));
    chain_result *r = fx_chain(&mk_suite_128, false, false);
    fx_chain_free(r);
    mk_ticket_key k;
    mk_kms_store t = mk_sqlstore_interface(F.sql);
    ck_assert_int_eq(t.ticket_key_active(t.ctx, &k), MK_OK);
    ck_assert_mem_eq(k.id, "tpk-0002", 8);
    mk_key_wipe(&k.key);
    mk_sqlstore_close(adm);
}
END_TEST

/* kmsd's reload: a new skew window applies from the next request; a
 * configuration mk_kms_new would refuse leaves the core as it was. */
/* The core over the test library's in-memory store (tests/lib/
 * mem_store.h): Alice's and Bob's rows and the ticket key copied from the
 * fixture's store; a Ticket Request is answered with keys and recorded,
 * the same message again is a replay (Error 1). */
START_TEST(test_core_over_mem_store)
{
    mk_mem_store ms;
    mk_subscriber sub;
    static const char *const who[] = {FX_ALICE, FX_BOB};
    ck_assert_int_eq(mk_mem_store_init(&ms, 64), MK_OK);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(mk_sqlstore_subscriber_get(F.sql, fx_psk_id(who[i]),
                                                    &sub),
                         MK_OK);
        ck_assert_int_eq(mk_mem_store_add(&ms, &sub), MK_OK);
        mk_subscriber_wipe(&sub);
    }
    mk_kms_store sq = mk_sqlstore_interface(F.sql);
    ck_assert_int_eq(sq.ticket_key_active(sq.ctx, &ms.tk), MK_OK);
    mk_kms_store iface = mk_mem_store_interface(&ms);
    mk_err e = MK_OK;
    mk_kms *k = mk_kms_new(&F.cfg, &iface, &e);
    ck_assert_ptr_nonnull(k);

    mk_ue_request_params p;
    fx_msg m;
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.fixed.t_ntp = F.now;
    fx_request_init(&p, &m);
    ck_assert_int_eq(mk_kms_handle(k, MK_SERVICE_TICKET_REQUEST,
                                   MK_BYTES(m.b, m.n), F.now, &F.ans),
                     MK_OK);
    ck_assert_int_eq(F.ans.http_status, 200);
    ck_assert_uint_eq(ms.records, 1);
    ck_assert_int_eq(mk_kms_handle(k, MK_SERVICE_TICKET_REQUEST,
                                   MK_BYTES(m.b, m.n), F.now, &F.ans),
                     MK_E_MIKEY_TS);
    ck_assert_int_eq(F.ans.http_status, 200);
    mk_kms_free(k);
    mk_mem_store_free(&ms);
}
END_TEST

START_TEST(test_set_config)
{
    mk_ue_request_params p;
    fx_msg m;
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.fixed.t_ntp = F.now - ((uint64_t)600 << 32);
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_E_MIKEY_TS);

    mk_kms_config c = F.cfg;
    c.skew_seconds = 1000;
    ck_assert_int_eq(mk_kms_set_config(F.kms, &c), MK_OK);
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.fixed.t_ntp = F.now - ((uint64_t)600 << 32);
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);

    mk_kms_config bad = c;
    bad.skew_seconds = 300;
    bad.max_lifetime = 0;
    ck_assert_int_eq(mk_kms_set_config(F.kms, &bad), MK_E_CONFIG);
    ck_assert_int_eq(mk_kms_set_config(NULL, &c), MK_E_ARG);
    /* still the 1000 s window */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.fixed.t_ntp = F.now - ((uint64_t)900 << 32);
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
}
END_TEST

START_TEST(test_new_and_config)
{
    mk_err e = MK_OK;
    mk_kms_config c;
    mk_kms_config_defaults(&c);
    ck_assert_str_eq(c.kms_id, "kms.example.org");
    ck_assert_uint_eq(c.skew_seconds, 300);
    ck_assert_uint_eq(c.max_lifetime, 86400);
    ck_assert_ptr_null(mk_kms_new(&c, NULL, &e));
    ck_assert_int_eq(e, MK_E_ARG);
    c.kms_id[0] = '\0';
    ck_assert_ptr_null(mk_kms_new(&c, &F.iface, &e));
    ck_assert_int_eq(e, MK_E_CONFIG);
    mk_kms_free(NULL);
}
END_TEST

int main(void)
{
    const TTest *const kms_tests[] = {test_chain_suites_forking,
        test_set_config, test_core_over_mem_store,
        test_chain_template_two_tgk_tek, test_psk_found_by_idri,
        test_psk_shorter_than_suite_key, test_row_invalid_dt,
        test_error_message_not_answered, test_row_unspecified,
        test_row_invalid_prf, test_row_invalid_mac, test_row_auth_failure,
        test_row_invalid_ts, test_replay_same_request_twice,
        test_clock_jump_core, test_row_invalid_id,
        test_row_invalid_ticket_requested, test_row_invalid_ticket_presented,
        test_row_invalid_tppar, test_template_honoured, test_parse_errors_400,
        test_store_failures_503, test_no_message_processed_twice, test_records,
        test_unauthenticated_leave_no_record,
        test_responders_listed_and_validated, test_replay_found_at_commit,
        test_operator_change_applies_at_once, test_new_and_config};
    const mk_check_opts o = {
        .suite = "kms", .tcase = "kms", .timeout = 120, .setup = fx_setup,
        .teardown = fx_teardown
    };
    return mk_check_main_opts(&o, kms_tests, MK_CHECK_NELEM(kms_tests));
}
