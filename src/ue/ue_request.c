/* ue_request.c - the Initiator's Ticket Request (RFC 6043 §4.2.1): build
 * REQUEST_INIT_PSK, accept REQUEST_RESP and check the granted ticket
 * policy (§4.2.1.6). */
#include "ue/ue_internal.h"

#include <string.h>

#include "util/ntp.h"

/* Zero bytes for the KEMAC template's key, salt and SPI fields. */
static const uint8_t zeros[255];

/* The KEMAC template of the requested TP (RFC 6043 §6.10): NULL encryption,
 * NULL MAC, Key data with zeroed key fields stating type, length and KV. */
static mk_err tmpl_encode(const mk_ue_request_params *p, mk_buf *plain)
{
    mk_chain c;
    mk_chain_init(&c);
    if (p->n_tmpl > MK_UE_TMPL_MAX)
        MK_FAIL(MK_E_ARG, "KEMAC template has too many keys");
    for (size_t i = 0; i < p->n_tmpl; i++) {
        const mk_ue_key_tmpl *t = &p->tmpl[i];
        mk_bytes salt = MK_BYTES_NONE;
        mk_kv kv = mk_kv_null();
        if (t->type == MK_KEY_MPK || !mk_key_type_known(t->type) ||
            t->type == MK_KEY_K_PR || t->key_len == 0)
            MK_FAIL(MK_E_ARG, "KEMAC template key type or length");
        if (mk_key_type_has_salt(t->type))
            salt = MK_BYTES(zeros, t->salt_len);
        if (t->kv == MK_KV_SPI)
            kv = mk_kv_spi(MK_BYTES(zeros, t->spi_len));
        else if (t->kv != MK_KV_NULL)
            MK_FAIL(MK_E_ARG, "KEMAC template KV is NULL or SPI");
        MK_GUARD(mk_chain_add(&c, mk_pl_keydata(t->type,
                                                MK_BYTES(zeros, t->key_len),
                                                salt, kv)));
    }
    return mk_kemac_plain_encode(&c, plain);
}

static mk_err request_check(const mk_ue_request_params *p)
{
    const mk_suite *s = p->suite;
    MK_ENSURE(s == &mk_suite_128 || s == &mk_suite_256, MK_E_ARG,
              "suite is mk_suite_128 or mk_suite_256");
    MK_ENSURE(p->creds.psk.p && p->creds.psk.n > 0, MK_E_ARG, "no PSK");
    MK_GUARD(mk_ue_check_id(p->creds.impu, "IDRi (impu) missing or too long"));
    MK_GUARD(mk_ue_check_id(p->creds.kms_id, "kms id missing or too long"));
    if (p->creds.psk_id.n)
        MK_GUARD(mk_ue_check_id(p->creds.psk_id, "psk id too long"));
    MK_ENSURE(p->n_idrr >= 1 && p->n_idrr <= MK_UE_IDRR_MAX, MK_E_ARG,
              "a ticket request names 1..8 responders (IDRr)");
    for (size_t i = 0; i < p->n_idrr; i++)
        MK_GUARD(mk_ue_check_id(p->idrr[i], "IDRr missing or too long"));
    MK_ENSURE((p->flags & ~0x0fffu) == 0, MK_E_ARG, "unknown TP flag");
    MK_ENSURE(mk_ue_tp_flags_consistent(p->flags & (uint16_t)~MK_TPF_K),
              MK_E_ARG, "requested TP flags break the RFC 6043 §6.10 rules");
    return MK_OK;
}

mk_err mk_ue_request_init(const mk_ue_request_params *p, uint8_t *out,
                          size_t cap, size_t *outlen)
{
    uint8_t randri_buf[MK_UE_RAND_MAX], plain_mem[2048], tpd_mem[4096];
    mk_buf plain, tpd, ob;
    mk_chain tpc;
    mk_message m;
    mk_tp tp;
    mk_msg_keys k;
    mk_bytes randri;
    uint32_t csb;
    uint64_t t;
    mk_err rc;
    const mk_ue_creds *cr = &p->creds;

    memset(&k, 0, sizeof k);
    *outlen = 0;
    MK_GUARD(request_check(p));
    MK_GUARD(mk_ue_pick_csb(&p->fixed, &csb));
    t = mk_ue_pick_t(&p->fixed);
    MK_GUARD(mk_ue_pick_rand(&p->fixed, p->suite, randri_buf, &randri));

    /* TP Data: [IDRkms] [IDRi] [TRs] [TRe] [KEMAC] (IDRr)+ (§6.10) */
    mk_chain_init(&tpc);
    MK_GUARD(mk_ue_add_idr(&tpc, cr->omit_idrkms, MK_ROLE_IDRKMS, cr->kms_id));
    MK_GUARD(mk_ue_add_idr(&tpc, cr->omit_own_idr, MK_ROLE_IDRI, cr->impu));
    if (p->trs_unix)
        MK_GUARD(mk_chain_add(&tpc, mk_pl_tr(MK_TSR_TRS, MK_TS_NTP_UTC,
                                             mk_ntp_from_unix(p->trs_unix, 0))));
    if (p->tre_unix)
        MK_GUARD(mk_chain_add(&tpc, mk_pl_tr(MK_TSR_TRE, MK_TS_NTP_UTC,
                                             mk_ntp_from_unix(p->tre_unix, 0))));
    mk_buf_init(&plain, plain_mem, sizeof plain_mem);
    if (p->n_tmpl > 0) {
        MK_GUARD(tmpl_encode(p, &plain));
        MK_GUARD(mk_chain_add(&tpc, mk_pl_kemac(MK_ENCR_NULL,
                                                mk_buf_view(&plain),
                                                MK_MAC_NULL, MK_BYTES_NONE)));
    }
    for (size_t i = 0; i < p->n_idrr; i++)
        MK_GUARD(mk_chain_add(&tpc, mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI,
                                              p->idrr[i])));
    mk_buf_init(&tpd, tpd_mem, sizeof tpd_mem);
    MK_GUARD(mk_tp_data_encode(&tpc, &tpd));

    memset(&tp, 0, sizeof tp);
    tp.ticket_type = MK_TICKET_MIKEY_BASE;
    tp.subtype = 1;
    tp.version = 1;
    tp.prf_func = (uint8_t)p->suite->prf_func;
    tp.flags = p->flags & (uint16_t)~MK_TPF_K; /* K: 0 from the Initiator */
    tp.tp_data = mk_buf_view(&tpd);

    /* REQUEST_INIT_PSK = HDR, T, RANDRi, [IDRi], [IDRkms], TP, [IDRpsk], V */
    memset(&m, 0, sizeof m);
    m.hdr.version = MK_VERSION;
    m.hdr.data_type = MK_DT_REQUEST_INIT_PSK;
    m.hdr.v = false; /* RFC 6043 §6.1; the KMS ignores it (mikey.md §7.2) */
    m.hdr.prf_func = (uint8_t)p->suite->prf_func;
    m.hdr.csb_id = csb;
    m.hdr.n_cs = 0;
    m.hdr.map_type = MK_MAP_EMPTY;
    mk_chain_init(&m.chain);
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC, t)));
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_randr(MK_RANDR_I, randri)));
    MK_GUARD(mk_ue_add_idr(&m.chain, cr->omit_own_idr, MK_ROLE_IDRI, cr->impu));
    MK_GUARD(mk_ue_add_idr(&m.chain, cr->omit_idrkms, MK_ROLE_IDRKMS,
                           cr->kms_id));
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_tp(&tp)));
    if (cr->psk_id.n)
        MK_GUARD(mk_chain_add(&m.chain, mk_pl_idr(MK_ROLE_IDRPSK,
                                                  MK_IDT_BYTES, cr->psk_id)));
    MK_GUARD(mk_chain_add(&m.chain,
                          mk_pl_v((uint8_t)p->suite->mac_alg,
                                  MK_BYTES(NULL, mk_mac_len(p->suite->mac_alg)))));

    /* V: auth_key from the PSK, initial label with RANDRi (§5.1.2), over
     * the message || Identity_i || Identity_kms (§5.5 Table 5.2) */
    MK_GUARD_GOTO(mk_msg_keys_6043(p->suite->prf_func, cr->psk, csb,
                                   MK_LABEL_KIND_INITIAL, randri,
                                   MK_BYTES_NONE, p->suite->encr_alg,
                                   p->suite->mac_alg, &k),
                  rc, done);
    {
        const mk_bytes extra[2] = {cr->impu, cr->kms_id};
        mk_buf_init(&ob, out, cap);
        MK_GUARD_GOTO(mk_v_encode_signed(&m, mk_key_bytes(&k.auth), extra, 2,
                                         &ob),
                      rc, done);
        *outlen = ob.n;
    }
    rc = MK_OK;
done:
    mk_msg_keys_wipe(&k);
    return rc;
}

/* --- REQUEST_RESP --- */

/* The granted policy (RFC 6043 §4.2.1.6). req_tpc is the requested TP Data
 * chain, tp the granted TP. */
static mk_err granted_check(const mk_ue_creds *cr, const mk_tp *req,
                            const mk_chain *req_tpc, const mk_tp *tp,
                            uint16_t required_flags, mk_ue_ticket *out)
{
    mk_chain g;
    size_t n_idrr = 0;
    if (tp->ticket_type != MK_TICKET_MIKEY_BASE || tp->subtype != 1 ||
        tp->version != 1)
        MK_FAIL_AT(MK_E_POLICY, MK_PT_TICKET, 0,
                   "granted ticket is not a MIKEY base ticket 1/1/1");
    if (!mk_prf_supported(tp->prf_func))
        MK_FAIL_AT(MK_E_POLICY, MK_PT_TICKET, 0, "granted TP PRF unknown");
    if (!(tp->flags & MK_TPF_D))
        MK_FAIL_AT(MK_E_POLICY, MK_PT_TICKET, 0, "granted ticket has D = 0");
    if (!mk_ue_tp_flags_consistent(tp->flags))
        MK_FAIL_AT(MK_E_POLICY, MK_PT_TICKET, 0,
                   "granted TP flags break the RFC 6043 §6.10 rules");
    /* flags we asked for and insist on */
    if ((req->flags & required_flags & ~tp->flags) != 0)
        MK_FAIL_AT(MK_E_POLICY, MK_PT_TICKET, 0,
                   "the KMS withdrew a required TP flag");
    /* a flag the KMS added that we did not ask for (other than D, K) would
     * change how we must use the ticket: accept only harmless ones */
    if ((tp->flags & ~req->flags & (MK_TPF_I | MK_TPF_L | MK_TPF_M)) != 0)
        MK_FAIL_AT(MK_E_POLICY, MK_PT_TICKET, 0,
                   "the KMS set I, L or M which we did not request");

    MK_GUARD(mk_ue_tp_data_decode(tp->tp_data, &g));
    for (size_t i = 0; i < g.count; i++) {
        const mk_payload *p = &g.p[i];
        if (p->type == MK_PT_KEMAC)
            MK_FAIL_AT(MK_E_POLICY, MK_PT_TP, p->off,
                       "granted policy carries a KEMAC (§6.10 forbids it)");
        if (p->type == MK_PT_TR && p->u.tr.role == MK_TSR_TRS)
            mk_err_drop(mk_ts_to_unix(p->u.tr.ts_type, p->u.tr.value,
                                      &out->trs_unix),
                        "a TRs that is no UTC time is 0, not given");
        if (p->type == MK_PT_TR && p->u.tr.role == MK_TSR_TRE)
            mk_err_drop(mk_ts_to_unix(p->u.tr.ts_type, p->u.tr.value,
                                      &out->tre_unix),
                        "a TRe that is no UTC time is 0, not given");
        if (p->type != MK_PT_IDR)
            continue;
        if (p->u.idr.role == MK_ROLE_IDRKMS &&
            !mk_bytes_equal(p->u.idr.data, cr->kms_id))
            MK_FAIL_AT(MK_E_MIKEY_ID, MK_PT_IDR, p->off,
                       "granted policy names another KMS");
        if (p->u.idr.role == MK_ROLE_IDRI &&
            !mk_bytes_equal(p->u.idr.data, cr->impu))
            MK_FAIL_AT(MK_E_POLICY, MK_PT_IDR, p->off,
                       "granted policy names another Initiator");
        if (p->u.idr.role == MK_ROLE_IDRR) {
            bool asked = false;
            for (size_t j = 0; j < req_tpc->count && !asked; j++) {
                const mk_payload *q = &req_tpc->p[j];
                asked = q->type == MK_PT_IDR && q->u.idr.role == MK_ROLE_IDRR &&
                        mk_bytes_equal(q->u.idr.data, p->u.idr.data);
            }
            if (!asked)
                MK_FAIL_AT(MK_E_POLICY, MK_PT_IDR, p->off,
                           "granted policy names a responder we did not ask "
                           "for");
            n_idrr++;
        }
    }
    if (n_idrr == 0)
        MK_FAIL_AT(MK_E_POLICY, MK_PT_TICKET, 0,
                   "granted policy names no responder");
    return MK_OK;
}

mk_err mk_ue_accept_request_resp(const mk_ue_creds *creds,
                                 mk_bytes request_init, mk_bytes answer,
                                 uint16_t required_flags, mk_ue_ticket *out,
                                 mk_ue_peer_error *perr)
{
    mk_message req, ans;
    mk_chain req_tpc;
    const mk_suite *suite = NULL;
    const mk_payload *randri, *req_tp, *ticket;
    bool is_error = false;
    mk_err rc;

    memset(out, 0, sizeof *out);
    if (perr)
        memset(perr, 0, sizeof *perr);
    MK_ENSURE(creds && creds->psk.p && creds->psk.n, MK_E_ARG, "no PSK");
    MK_GUARD(mk_ue_check_id(creds->impu, "impu missing or too long"));
    MK_GUARD(mk_ue_check_id(creds->kms_id, "kms id missing or too long"));

    MK_GUARD(mk_ue_decode(request_init, MK_DT_REQUEST_INIT_PSK, &req));
    MK_GUARD(mk_ue_suite_of(&req, &suite));
    randri = mk_ue_find(&req.chain, MK_PT_RANDR, MK_RANDR_I);
    req_tp = mk_ue_find(&req.chain, MK_PT_TP, -1);
    MK_ENSURE(randri && req_tp, MK_E_VALUE,
              "REQUEST_INIT lacks RANDRi or TP");
    MK_GUARD(mk_ue_tp_data_decode(req_tp->u.tp.tp_data, &req_tpc));

    rc = mk_ue_open_kms_answer(creds, &req, request_init, suite,
                               randri->u.randr.rand, MK_BYTES_NONE,
                               MK_DT_REQUEST_RESP, answer, &ans, &out->keys,
                               perr, &is_error);
    if (rc != MK_OK || is_error)
        goto done;
    /* REQUEST_RESP = HDR, T, [IDRkms], TICKET, KEMAC, V */
    ticket = mk_ue_find(&ans.chain, MK_PT_TICKET, -1);
    if (!ticket) {
        rc = mk_err_raise(MK_E_VALUE, MK_PT_HDR, 0, "REQUEST_RESP lacks TICKET");
        goto done;
    }

    MK_GUARD_GOTO(granted_check(creds, &req_tp->u.tp, &req_tpc,
                                &ticket->u.tp, required_flags, out),
                  rc, done);
    MK_GUARD_GOTO(mk_ue_key_set_check(&out->keys,
                                      (ticket->u.tp.flags & MK_TPF_I) != 0,
                                      &out->first_key),
                  rc, done);

    out->suite = suite;
    out->ticket_type = ticket->u.tp.ticket_type;
    out->subtype = ticket->u.tp.subtype;
    out->version = ticket->u.tp.version;
    out->flags = ticket->u.tp.flags;
    out->tp_prf = ticket->u.tp.prf_func;
    MK_GUARD_GOTO(mk_bytes_copy(out->ticket, sizeof out->ticket,
                             &out->ticket_len, ticket->raw),
                  rc, done);
    rc = MK_OK;
done:
    if (rc != MK_OK)
        mk_ue_ticket_wipe(out);
    return rc;
}
