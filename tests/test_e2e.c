/* test_e2e.c - Alice and Bob (the UE library) against the real KMS core
 * over an SQLite store, in process: Alice requests a ticket, transfers it
 * to Bob, Bob resolves it and answers with TRANSFER_RESP, and both derive
 * the same SRTP master keys and salts - for both suites, with and without
 * key forking, with the default key and with a KEMAC template of two TGKs
 * and a TEK. Also: REQUEST_INIT is byte-stable under fixed values and its
 * replay is answered with a verified Error 1, a wrong PSK with Error 0, a
 * resolve by someone the ticket does not name and a forbidden forking
 * request with 403. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ue/ue.h"
#include "util/ntp.h"
#include "test_e2e_kms.h"
#include "test_ue_chain.h"
#include "lib/check_main.h"

static mk_bytes str(const char *s)
{
    return MK_BYTES(s, strlen(s));
}

START_TEST(t_e2e_matrix)
{
    const mk_suite *s = (_i & 1) ? &mk_suite_256 : &mk_suite_128;
    bool fork = (_i & 2) != 0, tmpl3 = (_i & 4) != 0, by_impu = (_i & 8) != 0;
    e2e_kms *k = malloc(sizeof *k);
    chain_result *r = malloc(sizeof *r);
    mk_ue_session *again = malloc(sizeof *again);
    chain_opts o;
    mk_ue_creds bob;
    size_t nkeys = tmpl3 ? 3 : 1, ncs = tmpl3 ? 2 : 1;

    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(again);
    e2e_open(k);
    e2e_opts(k, &o, s);
    o.fork = fork;
    o.tmpl3 = tmpl3;
    if (by_impu) { /* the KMS finds the PSKs by IDRi / IDRr */
        o.alice_psk_id = MK_BYTES_NONE;
        o.bob_psk_id = MK_BYTES_NONE;
    }
    ck_assert_msg(chain_run(&o, e2e_call, k, r) == MK_OK,
                  "step %s: %s (%s) http %d", r->step, mk_err_name(r->err),
                  mk_err_last()->what ? mk_err_last()->what : "",
                  k->last_status);
    ck_assert_uint_eq(r->ticket.flags & MK_TPF_I, fork ? MK_TPF_I : 0);
    ck_assert(r->ticket.flags & MK_TPF_D);
    ck_assert_uint_gt(r->ticket.tre_unix, r->ticket.trs_unix);
    ck_assert_uint_eq(r->alice.keys.count, nkeys + (fork ? 2 : 1));
    ck_assert_uint_eq(r->bob.keys.count, nkeys + (fork ? 2 : 1));
    ck_assert_uint_eq(r->alice.keys.e[0].key.n, s->key_len);
    /* all keys agree on both ends: MPKi, MPKr', and every session key */
    for (size_t i = 0; i < r->alice.keys.count; i++) {
        ck_assert_uint_eq(r->alice.keys.e[i].type, r->bob.keys.e[i].type);
        ck_assert_uint_eq(r->alice.keys.e[i].key.n, r->bob.keys.e[i].key.n);
        ck_assert_mem_eq(r->alice.keys.e[i].key.b, r->bob.keys.e[i].key.b,
                         r->alice.keys.e[i].key.n);
    }
    if (fork) { /* forked: TGK' != TGK of the ticket, MPKr' != MPKr */
        ck_assert(memcmp(r->alice.keys.e[1].key.b, r->ticket.keys.e[1].key.b,
                         s->key_len) != 0);
        ck_assert(memcmp(r->alice.keys.e[2].key.b, r->ticket.keys.e[2].key.b,
                         r->alice.keys.e[2].key.n) != 0);
        ck_assert(mk_bytes_equal(MK_BYTES(r->alice.idrr, r->alice.idrr_len),
                                 str(CHAIN_BOB)));
    }
    if (tmpl3) {
        ck_assert_uint_eq(r->alice.keys.e[r->alice.first_key].type,
                          MK_KEY_TGK);
        ck_assert_uint_eq(r->alice.keys.e[r->alice.first_key + 2].type,
                          MK_KEY_TEK_SALT);
    }
    ck_assert_uint_eq(chain_assert_srtp_equal(r), nkeys * ncs);

    /* a stateless Bob: the session again from the messages, then his own
     * TRANSFER_RESP taken back; same SRTP keys */
    memset(&bob, 0, sizeof bob);
    bob.psk = o.bob_psk;
    bob.psk_id = o.bob_psk_id;
    bob.impu = str(CHAIN_BOB);
    bob.kms_id = str(o.kms_id);
    ck_assert_int_eq(mk_ue_accept_resolve_resp(&bob,
                                               chain_bytes(&r->tr_init),
                                               chain_bytes(&r->res_init),
                                               chain_bytes(&r->res_resp),
                                               again, NULL),
                     MK_OK);
    ck_assert_int_eq(mk_ue_session_take_transfer_resp(again,
                                                      chain_bytes(&r->tr_init),
                                                      chain_bytes(&r->tr_resp)),
                     MK_OK);
    {
        mk_ue_srtp a, b;
        ck_assert_int_eq(mk_ue_srtp_keys(&r->alice, 1, &a), MK_OK);
        ck_assert_int_eq(mk_ue_srtp_keys(again, 1, &b), MK_OK);
        ck_assert_mem_eq(a.master_key.b, b.master_key.b, a.master_key.n);
        ck_assert_mem_eq(a.master_salt.b, b.master_salt.b, a.master_salt.n);
        mk_ue_srtp_wipe(&a);
        mk_ue_srtp_wipe(&b);
    }
    mk_ue_session_wipe(again);
    chain_result_wipe(r);
    e2e_close(k);
    free(again);
    free(r);
    free(k);
}
END_TEST

static void alice_request(const e2e_kms *k, mk_ue_request_params *p,
                          uint64_t t)
{
    static uint8_t randri[16];
    memset(randri, 0xa5, sizeof randri);
    mk_ue_request_params_init(p, &mk_suite_128);
    p->creds.psk = MK_BYTES(k->alice_psk, sizeof k->alice_psk);
    p->creds.psk_id = str("alice");
    p->creds.impu = str(CHAIN_ALICE);
    p->creds.kms_id = str("kms.example.org");
    p->idrr[0] = str(CHAIN_BOB);
    p->n_idrr = 1;
    p->fixed.has_csb_id = true;
    p->fixed.csb_id = 0x01020304;
    p->fixed.has_t = true;
    p->fixed.t_ntp = t;
    p->fixed.rand = MK_BYTES(randri, sizeof randri);
}

START_TEST(t_e2e_byte_stable_and_replay)
{
    e2e_kms *k = malloc(sizeof *k);
    mk_ue_ticket *tk = malloc(sizeof *tk);
    mk_ue_request_params p;
    mk_ue_peer_error pe;
    uint8_t a[MK_UE_MSG_MAX], b[MK_UE_MSG_MAX], ans[MK_UE_MSG_MAX];
    size_t na, nb, nans;
    uint64_t t = mk_ntp_now();

    e2e_open(k);
    alice_request(k, &p, t);
    ck_assert_int_eq(mk_ue_request_init(&p, a, sizeof a, &na), MK_OK);
    ck_assert_int_eq(mk_ue_request_init(&p, b, sizeof b, &nb), MK_OK);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(a, b, na);

    ck_assert_int_eq(e2e_call(k, 1, MK_BYTES(a, na), ans, sizeof ans, &nans),
                     MK_OK);
    ck_assert_int_eq(mk_ue_accept_request_resp(&p.creds, MK_BYTES(a, na),
                                               MK_BYTES(ans, nans), 0, tk,
                                               &pe),
                     MK_OK);
    ck_assert(!pe.present);
    mk_ue_ticket_wipe(tk);
    /* the very same bytes again: a replay, Error 1 with V (profile §3) */
    ck_assert_int_eq(e2e_call(k, 1, MK_BYTES(b, nb), ans, sizeof ans, &nans),
                     MK_OK);
    ck_assert_int_eq(mk_ue_accept_request_resp(&p.creds, MK_BYTES(b, nb),
                                               MK_BYTES(ans, nans), 0, tk,
                                               &pe),
                     MK_E_MIKEY_TS);
    ck_assert(pe.present);
    ck_assert_uint_eq(pe.n, 1);
    ck_assert_uint_eq(pe.err_no[0], MK_ERRNO_INVALID_TS);
    ck_assert(pe.v_present);
    ck_assert(pe.v_verified);

    /* a T far outside the skew window: Error 1 as well */
    alice_request(k, &p, t - ((uint64_t)3600 << 32));
    ck_assert_int_eq(mk_ue_request_init(&p, a, sizeof a, &na), MK_OK);
    ck_assert_int_eq(e2e_call(k, 1, MK_BYTES(a, na), ans, sizeof ans, &nans),
                     MK_OK);
    ck_assert_int_eq(mk_ue_accept_request_resp(&p.creds, MK_BYTES(a, na),
                                               MK_BYTES(ans, nans), 0, tk,
                                               &pe),
                     MK_E_MIKEY_TS);
    ck_assert(pe.v_verified);
    e2e_close(k);
    free(tk);
    free(k);
}
END_TEST

START_TEST(t_e2e_wrong_psk)
{
    e2e_kms *k = malloc(sizeof *k);
    mk_ue_ticket *tk = malloc(sizeof *tk);
    mk_ue_request_params p;
    mk_ue_peer_error pe;
    uint8_t a[MK_UE_MSG_MAX], ans[MK_UE_MSG_MAX], wrong[16];
    size_t na, nans;
    e2e_open(k);
    alice_request(k, &p, mk_ntp_now());
    memcpy(wrong, k->alice_psk, 16);
    wrong[0] ^= 1;
    p.creds.psk = MK_BYTES(wrong, 16);
    ck_assert_int_eq(mk_ue_request_init(&p, a, sizeof a, &na), MK_OK);
    ck_assert_int_eq(e2e_call(k, 1, MK_BYTES(a, na), ans, sizeof ans, &nans),
                     MK_OK);
    ck_assert_int_eq(mk_ue_accept_request_resp(&p.creds, MK_BYTES(a, na),
                                               MK_BYTES(ans, nans), 0, tk,
                                               &pe),
                     MK_E_MIKEY_AUTH);
    ck_assert(pe.present);
    ck_assert_uint_eq(pe.err_no[0], MK_ERRNO_AUTH_FAILURE);
    ck_assert(!pe.v_present); /* an unauthenticated sender gets no V */
    e2e_close(k);
    free(tk);
    free(k);
}
END_TEST

/* Bob resolves a ticket that names Carol: 403. Bob asks for forking, which
 * his policy does not allow: 403. */
START_TEST(t_e2e_policy_403)
{
    e2e_kms *k = malloc(sizeof *k);
    chain_result *r = calloc(1, sizeof *r);
    mk_ue_request_params p;
    mk_ue_transfer_params tp;
    mk_ue_creds bob;
    mk_ue_fixed f;
    uint8_t a[MK_UE_MSG_MAX], ans[MK_UE_MSG_MAX];
    size_t na, nans;

    e2e_open(k);
    alice_request(k, &p, mk_ntp_now());
    memset(&p.fixed, 0, sizeof p.fixed);
    p.idrr[0] = str("sip:carol@example.com");
    ck_assert_int_eq(mk_ue_request_init(&p, r->req_init.b,
                                        sizeof r->req_init.b, &r->req_init.n),
                     MK_OK);
    ck_assert_int_eq(e2e_call(k, 1, chain_bytes(&r->req_init),
                              r->req_resp.b, sizeof r->req_resp.b,
                              &r->req_resp.n),
                     MK_OK);
    ck_assert_int_eq(mk_ue_accept_request_resp(&p.creds,
                                               chain_bytes(&r->req_init),
                                               chain_bytes(&r->req_resp),
                                               0, &r->ticket, NULL),
                     MK_OK);
    memset(&tp, 0, sizeof tp);
    tp.idri = str(CHAIN_ALICE);
    tp.idrr = str("sip:carol@example.com");
    tp.n_cs = 1;
    tp.cs[0].cs_id = 1;
    mk_ue_srtp_policy_default(&mk_suite_128, &tp.cs[0].policy);
    ck_assert_int_eq(mk_ue_transfer_init(&r->ticket, &tp, r->tr_init.b,
                                         sizeof r->tr_init.b, &r->tr_init.n),
                     MK_OK);
    memset(&bob, 0, sizeof bob);
    bob.psk = MK_BYTES(k->bob_psk, sizeof k->bob_psk);
    bob.psk_id = str("bob");
    bob.impu = str(CHAIN_BOB);
    bob.kms_id = str("kms.example.org");
    memset(&f, 0, sizeof f);
    ck_assert_int_eq(mk_ue_resolve_init(&bob, chain_bytes(&r->tr_init),
                                        &f, r->res_init.b,
                                        sizeof r->res_init.b, &r->res_init.n),
                     MK_OK);
    ck_assert_int_eq(e2e_call(k, 2, chain_bytes(&r->res_init),
                              ans, sizeof ans, &nans),
                     MK_E_POLICY);
    ck_assert_int_eq(k->last_status, 403);

    /* Bob as an Initiator asking for forking */
    mk_ue_request_params_init(&p, &mk_suite_128);
    p.creds = bob;
    p.idrr[0] = str(CHAIN_ALICE);
    p.n_idrr = 1;
    p.flags |= MK_TPF_I;
    ck_assert_int_eq(mk_ue_request_init(&p, a, sizeof a, &na), MK_OK);
    ck_assert_int_eq(e2e_call(k, 1, MK_BYTES(a, na), ans, sizeof ans, &nans),
                     MK_E_POLICY);
    ck_assert_int_eq(k->last_status, 403);
    chain_result_wipe(r);
    e2e_close(k);
    free(r);
    free(k);
}
END_TEST

int main(void)
{
    const TTest *const e2e_tests[] = {t_e2e_byte_stable_and_replay,
        t_e2e_wrong_psk, t_e2e_policy_403};
    const mk_check_opts o = {
        .suite = "e2e", .tcase = "e2e", .timeout = 120, .loop = t_e2e_matrix,
        .loop_end = 16
    };
    return mk_check_main_opts(&o, e2e_tests, MK_CHECK_NELEM(e2e_tests));
}
