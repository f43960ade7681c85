/* test_ue_fakekms.c - see test_ue_fakekms.h. Test code: aborts (via the
 * return codes checked by the caller) rather than answering gracefully. */
#include "test_ue_fakekms.h"

#include <string.h>

#include "util/ntp.h"

#define G(x) MK_GUARD(x)

void fk_init(fake_kms *k)
{
    memset(k, 0, sizeof *k);
    k->kms_id = "kms.example.org";
    k->sub[0].impu = "sip:alice@example.com";
    k->sub[1].impu = "sip:bob@example.com";
    memset(k->sub[0].psk.b, 0x2b, 16);
    k->sub[0].psk.n = 16;
    memset(k->sub[1].psk.b, 0x3c, 16);
    k->sub[1].psk.n = 16;
    k->error_no = -1;
}

static const fk_sub *sub_of(const fake_kms *k, mk_bytes impu)
{
    for (int i = 0; i < 2; i++)
        if (mk_bytes_equal(impu, MK_BYTES(k->sub[i].impu,
                                          strlen(k->sub[i].impu))))
            return &k->sub[i];
    return NULL;
}

static mk_bytes str(const char *s)
{
    return MK_BYTES(s, strlen(s));
}

static mk_err rnd_or(uint8_t *dst, const uint8_t *fixed, size_t fixed_len,
                     size_t n, size_t *len)
{
    if (fixed_len) {
        memcpy(dst, fixed, fixed_len);
        *len = fixed_len;
        return MK_OK;
    }
    *len = n;
    return mk_random(dst, n);
}

static void hdr_answer(mk_message *m, const mk_message *req, uint8_t dt)
{
    memset(m, 0, sizeof *m);
    m->hdr = req->hdr;
    m->hdr.data_type = dt;
    m->hdr.v = false;
    mk_chain_init(&m->chain);
}

static mk_err error_answer(const fake_kms *k, const mk_message *req,
                           const mk_suite *s, const mk_msg_keys *k1,
                           uint8_t *out, size_t cap, size_t *n)
{
    mk_message m;
    mk_buf b;
    hdr_answer(&m, req, MK_DT_ERROR);
    G(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC, mk_ntp_now())));
    G(mk_chain_add(&m.chain, mk_pl_err((uint8_t)k->error_no)));
    G(mk_chain_add(&m.chain, mk_pl_v((uint8_t)s->mac_alg,
                                     MK_BYTES(NULL, mk_mac_len(s->mac_alg)))));
    mk_buf_init(&b, out, cap);
    G(mk_v_encode_signed(&m, mk_key_bytes(&k1->auth), NULL, 0, &b));
    *n = b.n;
    if (k->tamper_v)
        out[b.n - 1] ^= 1;
    return MK_OK;
}

static void tamper(const fake_kms *k, uint8_t *out, size_t n)
{
    if (k->tamper_v)
        out[n - 1] ^= 1;
}

/* What both exchanges read first from a request: its suite, the sender's
 * IDR and RAND (IDRi/RANDRi in a REQUEST_INIT, IDRr/RANDRr in a
 * RESOLVE_INIT), its subscriber, the keys of its PSK (RAND on its side of
 * the derivation), and the request's V checked with them. */
static mk_err open_request(const fake_kms *k, mk_bytes reqb, bool responder,
                           mk_message *req, const mk_suite **s,
                           const mk_payload **idr, const mk_payload **randr,
                           const fk_sub **sub, mk_msg_keys *k1)
{
    G(mk_message_decode(reqb, req));
    G(mk_suite_of(req->hdr.prf_func,
                  req->chain.p[req->chain.count - 1].u.v.auth_alg, s));
    *idr = &req->chain.p[mk_chain_find_idr(
        &req->chain, responder ? MK_ROLE_IDRR : MK_ROLE_IDRI, 0)];
    *randr = &req->chain.p[mk_chain_find_randr(
        &req->chain, responder ? MK_RANDR_R : MK_RANDR_I, 0)];
    *sub = sub_of(k, (*idr)->u.idr.data);
    MK_ENSURE(*sub, MK_E_NOT_FOUND,
              responder ? "fake kms: unknown responder"
                        : "fake kms: unknown initiator");
    mk_bytes rand = (*randr)->u.randr.rand;
    G(mk_msg_keys_6043((*s)->prf_func, mk_key_bytes(&(*sub)->psk),
                       req->hdr.csb_id, 1, responder ? MK_BYTES_NONE : rand,
                       responder ? rand : MK_BYTES_NONE, (*s)->encr_alg,
                       (*s)->mac_alg, k1));
    const mk_bytes ex[2] = {(*idr)->u.idr.data, str(k->kms_id)};
    return mk_v_verify(req, mk_key_bytes(&k1->auth), ex, 2);
}

mk_err fk_request(fake_kms *k, mk_bytes reqb, uint8_t *out, size_t cap,
                  size_t *n)
{
    mk_message req, m;
    mk_chain tpc, tmpl, granted, tdc;
    const mk_suite *s;
    const fk_sub *sub;
    const mk_payload *idri, *randri, *tp;
    mk_msg_keys k1, k2;
    fk_ticket *t;
    mk_key mpki, mpkr;
    mk_key_set ks;
    uint8_t tpd[1024], td[512], cipher[1024], idx;
    mk_buf b;
    mk_tp gtp;
    mk_thdr thdr;
    uint64_t now = mk_ntp_now();
    int ki;

    G(open_request(k, reqb, false, &req, &s, &idri, &randri, &sub, &k1));
    tp = &req.chain.p[mk_chain_find(&req.chain, MK_PT_TP, 0)];
    if (k->error_no >= 0)
        return error_answer(k, &req, s, &k1, out, cap, n);

    MK_ENSURE(k->nt < FK_TICKETS, MK_E_LIMIT, "fake kms full");
    idx = (uint8_t)k->nt;
    t = &k->t[k->nt++];
    memset(t, 0, sizeof *t);
    t->tp_prf = tp->u.tp.prf_func;
    t->flags = (uint16_t)((tp->u.tp.flags | MK_TPF_D) & ~k->drop_flags);
    if (k->fixed_mpk.n)
        t->mpk = k->fixed_mpk;
    else {
        t->mpk.n = s->key_len;
        G(mk_random(t->mpk.b, t->mpk.n));
    }
    G(rnd_or(t->rand, k->fixed_rand, k->fixed_rand_len, 32, &t->rand_len));

    /* keys: the KEMAC template, else one TGK */
    G(mk_tp_data_decode(tp->u.tp.tp_data, &tpc));
    ki = mk_chain_find(&tpc, MK_PT_KEMAC, 0);
    mk_chain_init(&tmpl);
    if (ki >= 0)
        G(mk_kemac_plain_decode(tpc.p[ki].u.kemac.encr_data, MK_PT_KEYDATA,
                                &tmpl));
    for (size_t i = 0; i < (ki >= 0 ? tmpl.count : 1); i++) {
        mk_key_entry *e = &t->keys.e[t->keys.count++];
        const mk_keydata *kd = ki >= 0 ? &tmpl.p[i].u.keydata : NULL;
        e->type = kd ? kd->type : MK_KEY_TGK;
        e->key.n = kd ? kd->key.n : s->key_len;
        if (!kd && k->fixed_tgk.n)
            e->key = k->fixed_tgk;
        else
            G(mk_random(e->key.b, e->key.n));
        if (kd && kd->salt.n) {
            e->salt.n = kd->salt.n;
            G(mk_random(e->salt.b, e->salt.n));
        }
        e->kv = MK_KV_SPI;
        e->spi_len = 4;
        G(mk_random(e->spi, 4));
    }

    /* granted TP: IDRkms, IDRi, the IDRr asked for [+ a foreign one] */
    mk_chain_init(&granted);
    G(mk_chain_add(&granted, mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI,
                                       str(k->kms_id))));
    G(mk_chain_add(&granted, idri ? mk_pl_idr(MK_ROLE_IDRI, MK_IDT_URI,
                                              idri->u.idr.data)
                                  : mk_pl_idr(MK_ROLE_IDRI, MK_IDT_URI,
                                              str(sub->impu))));
    for (size_t i = 0; i < tpc.count; i++)
        if (tpc.p[i].type == MK_PT_IDR && tpc.p[i].u.idr.role == MK_ROLE_IDRR)
            G(mk_chain_add(&granted, tpc.p[i]));
    if (k->foreign_idrr)
        G(mk_chain_add(&granted, mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI,
                                           str("sip:mallory@example.com"))));
    if (k->second_tp_idri)
        G(mk_chain_add(&granted, granted.p[1]));
    mk_buf_init(&b, tpd, sizeof tpd);
    G(mk_tp_data_encode(&granted, &b));

    /* Ticket Data: THDR(slot), T, RAND, V(zeros) */
    memset(&thdr, 0, sizeof thdr);
    thdr.data = MK_BYTES(&idx, 1);
    mk_chain_init(&tdc);
    G(mk_chain_add(&tdc, mk_pl_t(MK_TS_NTP_UTC, now)));
    G(mk_chain_add(&tdc, mk_pl_rand(MK_BYTES(t->rand, t->rand_len))));
    G(mk_chain_add(&tdc, mk_pl_v((uint8_t)s->mac_alg,
                                 MK_BYTES(NULL, mk_mac_len(s->mac_alg)))));
    {
        mk_buf tb;
        mk_buf_init(&tb, td, sizeof td);
        G(mk_base_ticket_encode(&thdr, &tdc, &tb));
        memset(&gtp, 0, sizeof gtp);
        gtp.ticket_type = 1;
        gtp.subtype = 1;
        gtp.version = 1;
        gtp.prf_func = (uint8_t)t->tp_prf;
        gtp.flags = t->flags;
        gtp.tp_data = mk_buf_view(&b);
        gtp.ticket_data = mk_buf_view(&tb);

        /* KEMAC = MPKi [MPKr] keys, response keys with RANDRi */
        G(mk_mpk_split(t->tp_prf, mk_key_bytes(&t->mpk),
                       MK_BYTES(t->rand, t->rand_len), &mpki, &mpkr));
        memset(&ks, 0, sizeof ks);
        ks.e[ks.count].type = MK_KEY_MPK;
        ks.e[ks.count++].key = mpki;
        if (t->flags & MK_TPF_I) {
            ks.e[ks.count].type = MK_KEY_MPK;
            ks.e[ks.count++].key = mpkr;
        }
        for (size_t i = 0; i < t->keys.count; i++)
            ks.e[ks.count++] = t->keys.e[i];
        G(mk_msg_keys_6043(s->prf_func, mk_key_bytes(&sub->psk),
                           req.hdr.csb_id, 2, randri->u.randr.rand,
                           MK_BYTES_NONE, s->encr_alg, s->mac_alg, &k2));
        hdr_answer(&m, &req, MK_DT_REQUEST_RESP);
        G(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC, now)));
        G(mk_chain_add(&m.chain, mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI,
                                           str(k->kms_id))));
        if (k->second_idrkms)
            G(mk_chain_add(&m.chain,
                           mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI,
                                     str("kms.elsewhere.example.net"))));
        G(mk_chain_add(&m.chain, mk_pl_ticket(&gtp)));
        {
            mk_payload kem;
            G(mk_kemac_seal(&ks, &k2, req.hdr.csb_id, now, cipher,
                            sizeof cipher, &kem));
            G(mk_chain_add(&m.chain, kem));
        }
        G(mk_chain_add(&m.chain,
                       mk_pl_v((uint8_t)s->mac_alg,
                               MK_BYTES(NULL, mk_mac_len(s->mac_alg)))));
        mk_buf_init(&b, out, cap);
        G(mk_v_encode_signed(&m, mk_key_bytes(&k2.auth), &reqb, 1, &b));
    }
    *n = b.n;
    tamper(k, out, *n);
    return MK_OK;
}

mk_err fk_resolve(fake_kms *k, mk_bytes reqb, uint8_t *out, size_t cap,
                  size_t *n)
{
    mk_message req, m;
    mk_chain tdc, idc;
    mk_thdr thdr;
    const mk_suite *s;
    const fk_sub *sub;
    const mk_payload *idrr, *randrr, *ticket;
    mk_msg_keys k1, k2;
    const fk_ticket *t;
    mk_key mpki, mpkr, vrk;
    mk_key_set ks;
    uint8_t randrkms[32], cipher[1024];
    size_t randrkms_len = 0;
    mk_buf b;
    uint64_t now = mk_ntp_now();
    bool fork;

    G(open_request(k, reqb, true, &req, &s, &idrr, &randrr, &sub, &k1));
    ticket = &req.chain.p[mk_chain_find(&req.chain, MK_PT_TICKET, 0)];
    if (k->error_no >= 0)
        return error_answer(k, &req, s, &k1, out, cap, n);

    G(mk_base_ticket_decode(ticket->u.tp.ticket_data, &thdr, &tdc));
    MK_ENSURE(thdr.data.n == 1 && thdr.data.p[0] < k->nt, MK_E_MIKEY_AUTH,
              "fake kms: unknown ticket");
    t = &k->t[thdr.data.p[0]];
    fork = (t->flags & MK_TPF_I) != 0;
    G(mk_mpk_split(t->tp_prf, mk_key_bytes(&t->mpk),
                   MK_BYTES(t->rand, t->rand_len), &mpki, &mpkr));
    memset(&ks, 0, sizeof ks);
    ks.e[ks.count].type = MK_KEY_MPK;
    ks.e[ks.count++].key = mpki;
    if (fork) {
        /* Vr over the Initiator Data without its MAC field (§6.10) */
        mk_bytes id = ticket->u.tp.initiator_data, part;
        size_t ml = mk_mac_len(s->mac_alg);
        G(mk_tp_data_decode(id, &idc));
        MK_ENSURE(idc.count == 2, MK_E_MIKEY_AUTH, "fake kms: no Vi/Vr");
        part = MK_BYTES(id.p, id.n - ml);
        G(mk_vr_key(t->tp_prf, mk_key_bytes(&mpkr), s->mac_alg, &vrk));
        G(mk_mac_verify(s->mac_alg, mk_key_bytes(&vrk), &part, 1,
                        idc.p[1].u.v.mac));
        G(rnd_or(randrkms, k->fixed_randrkms, k->fixed_randrkms_len, 32,
                 &randrkms_len));
        ks.e[ks.count].type = MK_KEY_MPK;
        G(mk_fork_key(t->tp_prf, MK_C_FORK_MPKR, mk_key_bytes(&mpkr),
                      idrr->u.idr.data, MK_BYTES(randrkms, randrkms_len),
                      &ks.e[ks.count++].key));
    }
    for (size_t i = 0; i < t->keys.count; i++) {
        mk_key_entry *e = &ks.e[ks.count++];
        *e = t->keys.e[i];
        if (fork && (e->type == MK_KEY_TGK || e->type == MK_KEY_TGK_SALT))
            G(mk_fork_key(t->tp_prf, MK_C_FORK_TGK,
                          mk_key_bytes(&t->keys.e[i].key), idrr->u.idr.data,
                          MK_BYTES(randrkms, randrkms_len), &e->key));
    }
    G(mk_msg_keys_6043(s->prf_func, mk_key_bytes(&sub->psk), req.hdr.csb_id,
                       2, MK_BYTES_NONE, randrr->u.randr.rand, s->encr_alg,
                       s->mac_alg, &k2));
    hdr_answer(&m, &req, MK_DT_RESOLVE_RESP);
    G(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC, now)));
    G(mk_chain_add(&m.chain, mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI,
                                       str(k->kms_id))));
    {
        mk_payload kem;
        G(mk_kemac_seal(&ks, &k2, req.hdr.csb_id, now, cipher, sizeof cipher,
                        &kem));
        G(mk_chain_add(&m.chain, kem));
    }
    if (fork) {
        G(mk_chain_add(&m.chain, mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI,
                                           idrr->u.idr.data)));
        G(mk_chain_add(&m.chain, mk_pl_randr(MK_RANDR_KMS,
                                             MK_BYTES(randrkms,
                                                      randrkms_len))));
    }
    G(mk_chain_add(&m.chain, mk_pl_v((uint8_t)s->mac_alg,
                                     MK_BYTES(NULL, mk_mac_len(s->mac_alg)))));
    mk_buf_init(&b, out, cap);
    G(mk_v_encode_signed(&m, mk_key_bytes(&k2.auth), &reqb, 1, &b));
    *n = b.n;
    tamper(k, out, *n);
    return MK_OK;
}
