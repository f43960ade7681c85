/* test_ue_chain.c - see test_ue_chain.h. */
#include "test_ue_chain.h"

#include <check.h>
#include <string.h>

static mk_bytes str(const char *s)
{
    return MK_BYTES(s, strlen(s));
}

void chain_opts_init(chain_opts *o, const mk_suite *s)
{
    memset(o, 0, sizeof *o);
    o->suite = s;
    o->kms_id = "kms.example.org";
}

static mk_bytes alice_of(const chain_opts *o)
{
    return str(o->alice_impu ? o->alice_impu : CHAIN_ALICE);
}

static mk_bytes bob_of(const chain_opts *o)
{
    return str(o->bob_impu ? o->bob_impu : CHAIN_BOB);
}

static void creds_of(const chain_opts *o, bool alice, mk_ue_creds *c)
{
    memset(c, 0, sizeof *c);
    c->psk = alice ? o->alice_psk : o->bob_psk;
    c->psk_id = alice ? o->alice_psk_id : o->bob_psk_id;
    c->impu = alice ? alice_of(o) : bob_of(o);
    c->kms_id = str(o->kms_id);
    c->omit_own_idr = c->omit_idrkms = o->omit_idrs;
}

static void fixed_of(uint32_t csb, uint64_t t, mk_bytes rand, mk_ue_fixed *f)
{
    memset(f, 0, sizeof *f);
    f->has_csb_id = csb != 0;
    f->csb_id = csb;
    f->has_t = t != 0;
    f->t_ntp = t;
    f->rand = rand;
}

uint32_t chain_ssrc(size_t i)
{
    static const uint32_t ssrc[MK_UE_CS_MAX] = {
        0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00,
        0x10203040, 0x50607080, 0x90a0b0c0, 0xd0e0f000};
    return ssrc[i % MK_UE_CS_MAX];
}

#define STEP(name, expr)                 \
    do {                                 \
        r->step = (name);                \
        r->err = (expr);                 \
        if (r->err != MK_OK)             \
            return r->err;               \
    } while (0)

mk_err chain_run(const chain_opts *o, chain_kms_fn kms, void *ctx,
                 chain_result *r)
{
    mk_ue_request_params rp;
    mk_ue_transfer_params tp;
    mk_ue_transfer_resp_params trp;
    mk_ue_creds alice, bob;
    mk_ue_fixed rf;

    memset(r, 0, sizeof *r);
    creds_of(o, true, &alice);
    creds_of(o, false, &bob);

    mk_ue_request_params_init(&rp, o->suite);
    rp.creds = alice;
    rp.idrr[0] = bob_of(o);
    rp.n_idrr = 1;
    if (o->flags)
        rp.flags = o->flags;
    if (o->fork)
        rp.flags |= MK_TPF_I;
    if (o->tmpl3) {
        const mk_ue_key_tmpl t[3] = {
            {MK_KEY_TGK, (uint8_t)o->suite->key_len, 0, MK_KV_SPI, 4},
            {MK_KEY_TGK, (uint8_t)o->suite->key_len, 0, MK_KV_SPI, 4},
            {MK_KEY_TEK_SALT, (uint8_t)o->suite->key_len, 14, MK_KV_SPI, 4},
        };
        memcpy(rp.tmpl, t, sizeof t);
        rp.n_tmpl = 3;
    }
    fixed_of(o->csb_request, o->t_request, o->randri_req, &rp.fixed);
    STEP("request_init", mk_ue_request_init(&rp, r->req_init.b,
                                            sizeof r->req_init.b,
                                            &r->req_init.n));
    STEP("kms ticket request",
         kms(ctx, 1, chain_bytes(&r->req_init), r->req_resp.b,
             sizeof r->req_resp.b, &r->req_resp.n));
    STEP("accept_request_resp",
         mk_ue_accept_request_resp(&alice,
                                   chain_bytes(&r->req_init),
                                   chain_bytes(&r->req_resp),
                                   o->fork ? MK_TPF_I : 0, &r->ticket, NULL));

    memset(&tp, 0, sizeof tp);
    tp.idri = alice_of(o);
    tp.idrr = bob_of(o);
    tp.omit_idri = tp.omit_idrr = o->omit_idrs;
    tp.n_cs = 1;
    tp.cs[0].cs_id = 1;
    tp.cs[0].has_ssrc = true;
    tp.cs[0].ssrc = chain_ssrc(0);
    mk_ue_srtp_policy_default(o->suite, &tp.cs[0].policy);
    if (o->cs_per_key) { /* CS i uses session key i, named by its SPI */
        const mk_key_set *ks = &r->ticket.keys;
        tp.n_cs = 0;
        for (size_t i = r->ticket.first_key;
             i < ks->count && tp.n_cs < MK_UE_CS_MAX; i++) {
            mk_ue_cs *cs = &tp.cs[tp.n_cs];
            *cs = tp.cs[0];
            cs->ssrc = chain_ssrc(tp.n_cs);
            cs->cs_id = (uint8_t)++tp.n_cs;
            memcpy(cs->spi, ks->e[i].spi, ks->e[i].spi_len);
            cs->spi_len = ks->e[i].spi_len;
        }
    } else if (o->tmpl3) { /* a second CS: the second TGK by its SPI */
        tp.n_cs = 2;
        tp.cs[1] = tp.cs[0];
        tp.cs[1].cs_id = 2;
        tp.cs[1].ssrc = chain_ssrc(1);
        memcpy(tp.cs[1].spi, r->ticket.keys.e[r->ticket.first_key + 1].spi,
               4);
        tp.cs[1].spi_len = 4;
    }
    fixed_of(o->csb_transfer, o->t_transfer, o->randri_tr, &tp.fixed);
    STEP("transfer_init", mk_ue_transfer_init(&r->ticket, &tp, r->tr_init.b,
                                              sizeof r->tr_init.b,
                                              &r->tr_init.n));

    fixed_of(o->csb_resolve, o->t_resolve, o->randrr_res, &rf);
    STEP("resolve_init",
         mk_ue_resolve_init(&bob, chain_bytes(&r->tr_init), &rf,
                            r->res_init.b, sizeof r->res_init.b,
                            &r->res_init.n));
    STEP("kms ticket resolve",
         kms(ctx, 2, chain_bytes(&r->res_init), r->res_resp.b,
             sizeof r->res_resp.b, &r->res_resp.n));
    STEP("accept_resolve_resp",
         mk_ue_accept_resolve_resp(&bob, chain_bytes(&r->tr_init),
                                   chain_bytes(&r->res_init),
                                   chain_bytes(&r->res_resp),
                                   &r->bob, NULL));
    memset(&trp, 0, sizeof trp);
    fixed_of(0, o->t_transfer_resp, o->randrr_tr, &trp.fixed);
    STEP("transfer_resp",
         mk_ue_transfer_resp(&r->bob, chain_bytes(&r->tr_init),
                             &trp, r->tr_resp.b, sizeof r->tr_resp.b,
                             &r->tr_resp.n));
    STEP("accept_transfer_resp",
         mk_ue_accept_transfer_resp(&r->ticket,
                                    chain_bytes(&r->tr_init),
                                    chain_bytes(&r->tr_resp),
                                    &r->alice, NULL));
    r->step = "done";
    return MK_OK;
}

size_t chain_assert_srtp_equal(const chain_result *r)
{
    size_t compared = 0;
    ck_assert_uint_eq(r->alice.n_cs, r->bob.n_cs);
    ck_assert_uint_eq(r->alice.keys.count, r->bob.keys.count);
    ck_assert_uint_eq(r->alice.first_key, r->bob.first_key);
    for (size_t c = 0; c < r->alice.n_cs; c++) {
        uint8_t cs_id = r->alice.cs[c].cs_id;
        for (size_t i = r->alice.first_key; i < r->alice.keys.count; i++) {
            mk_ue_srtp a, b;
            ck_assert_int_eq(mk_ue_srtp_keys_from(&r->alice, i, cs_id, &a),
                             MK_OK);
            ck_assert_int_eq(mk_ue_srtp_keys_from(&r->bob, i, cs_id, &b),
                             MK_OK);
            ck_assert_uint_gt(a.master_key.n, 0);
            ck_assert_uint_eq(a.master_key.n, b.master_key.n);
            ck_assert_uint_eq(a.master_salt.n, b.master_salt.n);
            ck_assert_mem_eq(a.master_key.b, b.master_key.b, a.master_key.n);
            ck_assert_mem_eq(a.master_salt.b, b.master_salt.b,
                             a.master_salt.n);
            ck_assert_uint_eq(a.mki_len, b.mki_len);
            mk_ue_srtp_wipe(&a);
            mk_ue_srtp_wipe(&b);
            compared++;
        }
        /* the key each side picks by the CS's SPI is the same one */
        {
            mk_ue_srtp a, b;
            ck_assert_int_eq(mk_ue_srtp_keys(&r->alice, cs_id, &a), MK_OK);
            ck_assert_int_eq(mk_ue_srtp_keys(&r->bob, cs_id, &b), MK_OK);
            ck_assert_uint_eq(a.key_index, b.key_index);
            ck_assert_mem_eq(a.master_key.b, b.master_key.b, a.master_key.n);
            mk_ue_srtp_wipe(&a);
            mk_ue_srtp_wipe(&b);
        }
    }
    return compared;
}

void chain_result_wipe(chain_result *r)
{
    mk_ue_ticket_wipe(&r->ticket);
    mk_ue_session_wipe(&r->alice);
    mk_ue_session_wipe(&r->bob);
}

void chain_decode(const chain_msg *m, mk_message *d)
{
    ck_assert_int_eq(mk_message_decode(chain_bytes(m), d), MK_OK);
}
