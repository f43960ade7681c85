/* policy_tp.c - the granted TP Data of a Ticket Request (profile §5, RFC
 * 6043 §6.10): what the KMS writes into the ticket and the answer. */
#include "kms/context.h"

/* An IDR payload in TP Data: Next payload, ID Role, ID Type, ID len (2),
 * ID Data; a TR: Next payload, TS Role, TS Type, an NTP-UTC value. */
#define IDR_BYTES(n) (5 + (n))
#define TR_BYTES 11
/* The granted TP Data at its largest (mk_policy_encode_tp, §9.36) fits. */
_Static_assert(IDR_BYTES(MK_KMS_ID_MAX - 1) + IDR_BYTES(MK_URI_MAX - 1) +
                       3 * TR_BYTES +
                       (MK_KMS_TP_IDRAPP_MAX + MK_RECORD_RESPONDERS) *
                           IDR_BYTES(MK_URI_MAX - 1) <=
                   MK_KMS_TP_DATA_MAX,
               "granted TP Data may not fit its buffer");

/* Granted TP Data (RFC 6043 §6.10 order): IDRkms, IDRi, TRs, TRe, [TRr],
 * {IDRapp}, (IDRr); never a KEMAC. */
mk_err mk_policy_encode_tp(mk_kms_req *r)
{
    mk_kms_grant *g = &r->grant;
    const mk_chain *c = &r->tp_chain;
    mk_chain out;
    mk_buf b;
    bool has_kms = false, has_i = false;
    mk_chain_init(&out);
    MK_GUARD(mk_chain_add(&out, mk_pl_idr(MK_ROLE_IDRKMS, MK_IDT_URI,
                                          mk_policy_kms_id(r))));
    MK_GUARD(mk_chain_add(&out, mk_pl_idr(MK_ROLE_IDRI, r->identity_type,
                                          r->identity)));
    MK_GUARD(mk_chain_add(&out, mk_pl_tr(MK_TSR_TRS, MK_TS_NTP_UTC,
                                         g->trs_ntp)));
    MK_GUARD(mk_chain_add(&out, mk_pl_tr(MK_TSR_TRE, MK_TS_NTP_UTC,
                                         g->tre_ntp)));
    for (size_t i = 0; i < c->count; i++) {
        const mk_payload *p = &c->p[i];
        if (p->type == MK_PT_TR && p->u.tr.role == MK_TSR_TRR)
            MK_GUARD(mk_chain_add(&out, mk_pl_tr(MK_TSR_TRR, p->u.tr.ts_type,
                                                 p->u.tr.value)));
    }
    for (size_t i = 0; i < c->count; i++) {
        const mk_payload *p = &c->p[i];
        if (p->type == MK_PT_IDR && p->u.idr.role == MK_ROLE_IDRAPP)
            MK_GUARD(mk_chain_add(&out, mk_pl_idr(MK_ROLE_IDRAPP,
                                                  p->u.idr.id_type,
                                                  p->u.idr.data)));
    }
    for (size_t i = 0; i < c->count; i++) {
        const mk_payload *p = &c->p[i];
        if (p->type != MK_PT_IDR)
            continue;
        if (p->u.idr.role == MK_ROLE_IDRKMS)
            has_kms = true;
        if (p->u.idr.role == MK_ROLE_IDRI)
            has_i = true;
        if (p->u.idr.role == MK_ROLE_IDRR)
            MK_GUARD(mk_chain_add(&out, mk_pl_idr(MK_ROLE_IDRR,
                                                  p->u.idr.id_type,
                                                  p->u.idr.data)));
    }
    if (!has_kms || !has_i)
        g->changed = true; /* profile §5: always named in the granted TP */
    mk_buf_init(&b, r->tp_data, sizeof r->tp_data);
    MK_GUARD(mk_tp_data_encode(&out, &b));
    g->tp_data_len = b.n;
    return MK_OK;
}
