/* ue_resolve.c - the Responder's Ticket Resolve (RFC 6043 §4.2.3): build
 * RESOLVE_INIT_PSK around the TICKET of a TRANSFER_INIT, accept
 * RESOLVE_RESP, then verify TRANSFER_INIT with the MPKi it delivered
 * (§4.2.3.6). */
#include "ue/ue_internal.h"

#include <string.h>

static mk_err creds_check(const mk_ue_creds *creds)
{
    MK_ENSURE(creds && creds->psk.p && creds->psk.n, MK_E_ARG, "no PSK");
    MK_GUARD(mk_ue_check_id(creds->impu, "IDRr (impu) missing or too long"));
    MK_GUARD(mk_ue_check_id(creds->kms_id, "kms id missing or too long"));
    if (creds->psk_id.n)
        MK_GUARD(mk_ue_check_id(creds->psk_id, "psk id too long"));
    return MK_OK;
}

mk_err mk_ue_resolve_init(const mk_ue_creds *creds, mk_bytes transfer_init,
                          const mk_ue_fixed *fixed, uint8_t *out, size_t cap,
                          size_t *outlen)
{
    static const mk_ue_fixed none;
    uint8_t randrr_buf[MK_UE_RAND_MAX];
    mk_message init, m;
    const mk_payload *ticket;
    const mk_suite *suite = NULL;
    mk_bytes randrr;
    mk_msg_keys k;
    mk_buf ob;
    uint32_t csb;
    mk_err rc;

    memset(&k, 0, sizeof k);
    *outlen = 0;
    if (!fixed)
        fixed = &none;
    MK_GUARD(creds_check(creds));
    MK_GUARD(mk_ue_decode(transfer_init, MK_DT_TRANSFER_INIT, &init));
    MK_GUARD(mk_ue_suite_of(&init, &suite));
    ticket = mk_ue_find(&init.chain, MK_PT_TICKET, -1);
    MK_ENSURE(ticket, MK_E_VALUE, "TRANSFER_INIT carries no TICKET");
    /* a new exchange with the KMS: its own CSB ID (RFC 3830 §3) */
    MK_GUARD(mk_ue_pick_csb(fixed, &csb));
    MK_GUARD(mk_ue_pick_rand(fixed, suite, randrr_buf, &randrr));

    /* RESOLVE_INIT_PSK = HDR, T, RANDRr, [IDRr], [IDRkms], TICKET,
     * [IDRpsk], V; #CS 0, Empty map, V flag 0 (mikey.md §7 item 2) */
    memset(&m, 0, sizeof m);
    m.hdr.version = MK_VERSION;
    m.hdr.data_type = MK_DT_RESOLVE_INIT_PSK;
    m.hdr.v = false;
    m.hdr.prf_func = (uint8_t)suite->prf_func;
    m.hdr.csb_id = csb;
    m.hdr.map_type = MK_MAP_EMPTY;
    mk_chain_init(&m.chain);
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC,
                                            mk_ue_pick_t(fixed))));
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_randr(MK_RANDR_R, randrr)));
    MK_GUARD(mk_ue_add_idr(&m.chain, creds->omit_own_idr, MK_ROLE_IDRR,
                           creds->impu));
    MK_GUARD(mk_ue_add_idr(&m.chain, creds->omit_idrkms, MK_ROLE_IDRKMS,
                           creds->kms_id));
    /* the TICKET as received, Initiator Data included (§4.2.3.1) */
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_ticket(&ticket->u.tp)));
    if (creds->psk_id.n)
        MK_GUARD(mk_chain_add(&m.chain, mk_pl_idr(MK_ROLE_IDRPSK,
                                                  MK_IDT_BYTES,
                                                  creds->psk_id)));
    MK_GUARD(mk_chain_add(&m.chain,
                          mk_pl_v((uint8_t)suite->mac_alg,
                                  MK_BYTES(NULL, mk_mac_len(suite->mac_alg)))));

    /* V: Responder's PSK, initial label with RANDRr only (mikey.md §7 item
     * 4), over the message || Identity_r || Identity_kms (§5.5) */
    MK_GUARD_GOTO(mk_msg_keys_6043(suite->prf_func, creds->psk, csb,
                                   MK_LABEL_KIND_INITIAL, MK_BYTES_NONE,
                                   randrr, suite->encr_alg, suite->mac_alg,
                                   &k),
                  rc, done);
    {
        const mk_bytes extra[2] = {creds->impu, creds->kms_id};
        mk_buf_init(&ob, out, cap);
        MK_GUARD_GOTO(mk_v_encode_signed(&m, mk_key_bytes(&k.auth), extra, 2,
                                         &ob),
                      rc, done);
    }
    /* the copy must be exact: the ticket MAC and Vr cover these bytes */
    {
        mk_message chk;
        const mk_payload *t2;
        MK_GUARD_GOTO(mk_message_decode(mk_buf_view(&ob), &chk), rc, done);
        t2 = mk_ue_find(&chk.chain, MK_PT_TICKET, -1);
        if (!t2 || t2->raw.n != ticket->raw.n ||
            memcmp(t2->raw.p + 1, ticket->raw.p + 1, ticket->raw.n - 1) != 0) {
            rc = mk_err_raise(MK_E_INTERNAL, MK_PT_TICKET, 0,
                              "TICKET copy differs from TRANSFER_INIT's");
            goto done;
        }
    }
    *outlen = ob.n;
    rc = MK_OK;
done:
    mk_msg_keys_wipe(&k);
    return rc;
}

/* §4.2.3.6: TRANSFER_INIT's V with MPKi and, with forking, V == Vi. */
static mk_err transfer_init_verify(const mk_ue_creds *creds,
                                   const mk_message *init,
                                   const mk_payload *ticket,
                                   const mk_suite *suite, mk_bytes mpki,
                                   mk_bytes randri)
{
    mk_chain tpc, idc;
    const mk_payload *idri, *idrr, *v;
    mk_bytes id_i = MK_BYTES_NONE, id_r, head, tail;
    mk_msg_keys k;
    int ti;
    mk_err rc;

    /* Identity_i: IDRi of TRANSFER_INIT, else the one the policy names */
    idri = mk_ue_find(&init->chain, MK_PT_IDR, MK_ROLE_IDRI);
    if (idri) {
        id_i = idri->u.idr.data;
    } else {
        const mk_payload *pi;
        MK_GUARD(mk_ue_tp_data_decode(ticket->u.tp.tp_data, &tpc));
        pi = mk_ue_find(&tpc, MK_PT_IDR, MK_ROLE_IDRI);
        MK_ENSURE(pi, MK_E_VALUE,
                  "TRANSFER_INIT names no Initiator (no IDRi anywhere)");
        id_i = pi->u.idr.data;
    }
    idrr = mk_ue_find(&init->chain, MK_PT_IDR, MK_ROLE_IDRR);
    id_r = idrr ? idrr->u.idr.data : creds->impu;

    v = &init->chain.p[init->chain.count - 1];
    ti = mk_chain_find(&init->chain, MK_PT_TICKET, 0);
    MK_GUARD(mk_message_transfer_parts(init, (size_t)ti, &head, &tail));
    memset(&k, 0, sizeof k);
    MK_GUARD_GOTO(mk_msg_keys_6043(suite->prf_func, mpki, init->hdr.csb_id,
                                   MK_LABEL_KIND_INITIAL, randri,
                                   MK_BYTES_NONE, suite->encr_alg,
                                   suite->mac_alg, &k),
                  rc, done);
    {
        const mk_bytes parts[4] = {head, tail, id_i, id_r};
        MK_GUARD_GOTO(mk_mac_verify(suite->mac_alg, mk_key_bytes(&k.auth),
                                    parts, 4, v->u.v.mac),
                      rc, done);
    }
    rc = MK_OK;
    if (ticket->u.tp.flags & MK_TPF_I) {
        const mk_payload *vi;
        MK_GUARD_GOTO(mk_tp_data_decode(ticket->u.tp.initiator_data, &idc), rc,
                      done);
        vi = idc.count == 2 && idc.p[0].type == MK_PT_V ? &idc.p[0] : NULL;
        if (!vi || vi->u.v.auth_alg != v->u.v.auth_alg ||
            vi->u.v.mac.n != v->u.v.mac.n ||
            !mk_ct_equal(vi->u.v.mac.p, v->u.v.mac.p, v->u.v.mac.n))
            rc = mk_err_raise(MK_E_MIKEY_AUTH, MK_PT_TICKET, ticket->off,
                              "Vi of the Initiator Data is not TRANSFER_INIT's "
                              "V");
    }
done:
    mk_msg_keys_wipe(&k);
    return rc;
}

mk_err mk_ue_accept_resolve_resp(const mk_ue_creds *creds,
                                 mk_bytes transfer_init,
                                 mk_bytes resolve_init, mk_bytes answer,
                                 mk_ue_session *out, mk_ue_peer_error *perr)
{
    mk_message init, req, ans;
    const mk_suite *suite = NULL, *tsuite = NULL;
    const mk_payload *ticket, *randrr, *randri, *idrr, *randrkms;
    bool is_error = false, forked;
    mk_err rc;

    memset(out, 0, sizeof *out);
    if (perr)
        memset(perr, 0, sizeof *perr);
    MK_GUARD(creds_check(creds));
    MK_GUARD(mk_ue_decode(resolve_init, MK_DT_RESOLVE_INIT_PSK, &req));
    MK_GUARD(mk_ue_suite_of(&req, &suite));
    randrr = mk_ue_find(&req.chain, MK_PT_RANDR, MK_RANDR_R);
    MK_ENSURE(randrr, MK_E_VALUE, "RESOLVE_INIT lacks RANDRr");
    MK_GUARD(mk_ue_decode(transfer_init, MK_DT_TRANSFER_INIT, &init));
    MK_GUARD(mk_ue_suite_of(&init, &tsuite));
    ticket = mk_ue_find(&init.chain, MK_PT_TICKET, -1);
    randri = mk_ue_find(&init.chain, MK_PT_RANDR, MK_RANDR_I);
    MK_ENSURE(ticket && randri, MK_E_VALUE,
              "TRANSFER_INIT lacks TICKET or RANDRi");
    forked = (ticket->u.tp.flags & MK_TPF_I) != 0;

    rc = mk_ue_open_kms_answer(creds, &req, resolve_init, suite,
                               MK_BYTES_NONE, randrr->u.randr.rand,
                               MK_DT_RESOLVE_RESP, answer, &ans, &out->keys,
                               perr, &is_error);
    if (rc != MK_OK || is_error)
        goto done;
    /* RESOLVE_RESP = HDR, T, [IDRkms], KEMAC, [IDRr], [RANDRkms], V */
    idrr = mk_ue_find(&ans.chain, MK_PT_IDR, MK_ROLE_IDRR);
    randrkms = mk_ue_find(&ans.chain, MK_PT_RANDR, MK_RANDR_KMS);
    if (forked && (!idrr || !randrkms)) {
        rc = mk_err_raise(MK_E_VALUE, MK_PT_HDR, 0,
                          "forked RESOLVE_RESP lacks IDRr or RANDRkms");
        goto done;
    }
    MK_GUARD_GOTO(mk_ue_key_set_check(&out->keys, forked, &out->first_key),
                  rc, done);

    /* now TRANSFER_INIT can be authenticated (§4.2.3.6) */
    MK_GUARD_GOTO(transfer_init_verify(creds, &init, ticket, tsuite,
                                       mk_key_bytes(&out->keys.e[0].key),
                                       randri->u.randr.rand),
                  rc, done);

    out->suite = tsuite;
    out->flags = ticket->u.tp.flags;
    out->tp_prf = ticket->u.tp.prf_func;
    out->csb_id = init.hdr.csb_id;
    out->forked = forked;
    MK_GUARD_GOTO(mk_bytes_copy(out->randri, sizeof out->randri,
                             &out->randri_len, randri->u.randr.rand),
                  rc, done);
    if (forked) {
        MK_GUARD_GOTO(mk_ue_session_keep_fork(out, idrr, randrkms), rc, done);
    }
    MK_GUARD_GOTO(mk_ue_cs_read(&init, &init, tsuite, out->cs, &out->n_cs),
                  rc, done);
    rc = MK_OK;
done:
    if (rc != MK_OK)
        mk_ue_session_wipe(out);
    return rc;
}
