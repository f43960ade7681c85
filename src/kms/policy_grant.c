/* policy_grant.c - the grant decisions of the KMS (profile §5): a
 * requested TP checked (policy_check.c) becomes the granted policy (the
 * subscriber's policy: 403; validity; flags), and a presented ticket is
 * resolved for its responder (validity, reuse). The decisions beyond the
 * letter of the profile are listed in policy_check.c. */
#include "kms/context.h"

#include <fnmatch.h>
#include <string.h>

#include "util/ntp.h"

/* An IDRr that passed is_sip_tel_id: with no patterns any such URI, else
 * one that a pattern matches (profile §9.8). */
static bool responder_allowed(const mk_policy *p, const mk_idr *idr)
{
    char s[MK_URI_MAX];
    if (p->n_patterns == 0)
        return true;
    size_t n = 0;
    if (mk_bytes_copy((uint8_t *)s, sizeof s - 1, &n, idr->data) != MK_OK)
        return false;
    s[n] = '\0';
    for (size_t i = 0; i < p->n_patterns && i < MK_PATTERN_MAX; i++)
        if (fnmatch(p->responder_patterns[i], s, 0) == 0)
            return true;
    return false;
}

static uint32_t lifetime_of(const mk_kms_req *r)
{
    return r->sub.policy.max_lifetime ? r->sub.policy.max_lifetime
                                      : r->kms->cfg.max_lifetime;
}

/* Granted TRs / TRe (profile §5): TRs = max(now, TRs), TRe = min(TRe,
 * now + lifetime); absent TRe: TRs + default lifetime, same cap. */
static mk_err grant_validity(mk_kms_req *r, const mk_tr *trs, const mk_tr *tre)
{
    mk_kms_grant *g = &r->grant;
    uint64_t trs_u = 0, tre_u = 0;
    uint32_t life = lifetime_of(r);
    uint64_t cap_u = r->now_unix + life;
    if (trs != NULL)
        MK_GUARD(mk_ts_to_unix(trs->ts_type, trs->value, &trs_u));
    if (tre != NULL)
        MK_GUARD(mk_ts_to_unix(tre->ts_type, tre->value, &tre_u));

    if (trs != NULL && trs_u >= r->now_unix) {
        g->trs_ntp = mk_ts_to_ntp64(trs->ts_type, trs->value);
        g->trs_unix = trs_u;
    } else {
        g->trs_ntp = r->now_ntp;
        g->trs_unix = r->now_unix;
        g->changed = true;
    }
    if (tre != NULL && tre_u <= cap_u) {
        g->tre_ntp = mk_ts_to_ntp64(tre->ts_type, tre->value);
        g->tre_unix = tre_u;
    } else {
        uint64_t want = g->trs_unix + r->kms->cfg.default_lifetime;
        if (tre != NULL || want > cap_u)
            want = cap_u;
        g->tre_unix = want;
        g->tre_ntp = r->now_ntp + ((want - r->now_unix) << 32);
        g->changed = true;
    }
    return MK_OK;
}

/* The policy checks of profile §5 for a Ticket Request: 403. */
static mk_err check_request_policy(mk_kms_req *r, const mk_tp *tp)
{
    const mk_chain *c = &r->tp_chain;
    const mk_subscriber *s = &r->sub;
    if (!s->active)
        MK_FAIL(MK_E_POLICY, "subscriber disabled");
    if (r->i_idr_self >= 0 && !mk_policy_is_impu_of(s, r->identity))
        MK_FAIL(MK_E_POLICY, "IDRi is not an IMPU of the subscriber");
    for (size_t i = 0; i < c->count; i++) {
        const mk_payload *p = &c->p[i];
        if (p->type != MK_PT_IDR)
            continue;
        if (p->u.idr.role == MK_ROLE_IDRI &&
            !mk_bytes_equal(p->u.idr.data, r->identity))
            MK_FAIL(MK_E_POLICY, "TP IDRi names someone else");
        if (p->u.idr.role == MK_ROLE_IDRR &&
            !responder_allowed(&s->policy, &p->u.idr))
            MK_FAIL(MK_E_POLICY, "responder not allowed");
    }
    if ((tp->flags & MK_TPF_I) && !s->policy.forking_allowed)
        MK_FAIL(MK_E_POLICY, "key forking not allowed");
    if ((tp->flags & MK_TPF_J) && !s->policy.reuse_allowed)
        MK_FAIL(MK_E_POLICY, "ticket reuse not allowed");
    return MK_OK;
}

/* L and M (RFC 6043 §6.10: the Initiator / the Responder may supply
 * session keys) only where the subscriber's policy allows them: a UE that
 * supplies its own keys bypasses the KMS-generated ones that lawful
 * interception may rely on. Not allowed: cleared, and K = 1 tells the UE
 * (doc/profile.md §9.34). */
static uint16_t grant_key_flags(const mk_kms_req *r, uint16_t flags)
{
    if (!r->sub.policy.initiator_keys_allowed)
        flags &= (uint16_t)~MK_TPF_L;
    if (!r->sub.policy.responder_keys_allowed)
        flags &= (uint16_t)~MK_TPF_M;
    return flags;
}

mk_err mk_policy_grant(mk_kms_req *r)
{
    const mk_tp *tp = &r->msg.chain.p[r->i_tp].u.tp;
    mk_kms_grant *g = &r->grant;
    const mk_tr *trs = NULL, *tre = NULL;
    int i_tmpl = -1;
    size_t n_idrr = 0;
    uint16_t req_flags = tp->flags & (uint16_t)~MK_TPF_K;

    MK_GUARD(mk_policy_check_tp(r, tp, &trs, &tre, &i_tmpl, &n_idrr)); /* 14, 15, 7 */
    MK_GUARD(check_request_policy(r, tp));                   /* 403 */
    MK_GUARD(grant_validity(r, trs, tre));
    if (g->tre_unix <= g->trs_unix || g->tre_unix <= r->now_unix)
        MK_FAIL(MK_E_POLICY, "granted validity would be empty");
    g->prf_func = tp->prf_func;
    /* D = 1: this KMS made the ticket (RFC 6043 §6.10); D set keeps the
     * flags consistent when L is cleared (D or L) */
    g->flags = grant_key_flags(r, req_flags) | MK_TPF_D;
    if (g->flags != req_flags)
        g->changed = true;
    MK_GUARD(mk_policy_encode_tp(r));
    if (g->changed)
        g->flags |= MK_TPF_K;
    return MK_OK;
}

/* ------------------------------------------------------------------ */
/* Ticket Resolve (profile §5) */

/* J = 0 ("the ticket MUST NOT be reused", RFC 6043 §5.3): this KMS is
 * stateful and can enforce it (doc/profile.md §9.37). The first resolve
 * of the ticket is noted (in the store, shared by every process and node)
 * until the ticket's TRe; a later resolve passes only for the same
 * responder identity within reuse_grace_seconds of the first (its answer
 * was lost, or the IMPU is registered on several forked devices), else
 * 403. J = 1: any number of resolves within the validity. The note is
 * taken, or refused, by the answer's commit (record.c), in the one
 * transaction of its replay entry and record: no round trip of its own,
 * and no note for a resolve that failed after this check. */
static void note_reuse(mk_kms_req *r)
{
    if (r->ticket_flags & MK_TPF_J)
        return;
    r->note_reuse = true;
    r->note_expires = r->grant.tre_unix != 0
                          ? r->grant.tre_unix + 1
                          : r->now_unix + r->kms->cfg.max_lifetime;
}

mk_err mk_policy_resolve(mk_kms_req *r)
{
    const mk_chain *c = &r->tp_chain;
    const mk_subscriber *s = &r->sub;
    int trs = mk_chain_find_one(c, MK_PT_TR, MK_TSR_TRS);
    int tre = mk_chain_find_one(c, MK_PT_TR, MK_TSR_TRE);
    uint64_t u;

    /* RFC 6043 §12.1: never resolve with another suite than the ticket's */
    if (r->ticket_prf != r->hdr.prf_func)
        MK_FAIL_AT(MK_E_MIKEY_PRF, MK_PT_HDR, 3,
                   "ticket issued with the other suite");
    if (!s->active)
        MK_FAIL(MK_E_POLICY, "responder disabled");
    if (!mk_policy_is_impu_of(s, r->identity))
        MK_FAIL(MK_E_POLICY, "IDRr is not an IMPU of the responder");
    r->matched_idrr = -1;
    for (size_t i = 0; i < c->count; i++) {
        const mk_payload *p = &c->p[i];
        if (p->type == MK_PT_IDR && p->u.idr.role == MK_ROLE_IDRR &&
            mk_bytes_equal(p->u.idr.data, r->identity)) {
            r->matched_idrr = (int)i;
            break;
        }
    }
    if (r->matched_idrr < 0)
        MK_FAIL(MK_E_POLICY, "responder not named in the ticket");
    if (trs >= 0) {
        if (mk_ts_to_unix(c->p[trs].u.tr.ts_type, c->p[trs].u.tr.value, &u) !=
                MK_OK ||
            r->now_unix < u)
            MK_FAIL(MK_E_POLICY, "ticket not yet valid");
        r->grant.trs_unix = u;
    }
    if (tre >= 0) {
        if (mk_ts_to_unix(c->p[tre].u.tr.ts_type, c->p[tre].u.tr.value, &u) !=
                MK_OK ||
            r->now_unix > u)
            MK_FAIL(MK_E_POLICY, "ticket expired");
        r->grant.tre_unix = u;
    }
    if (trs == -2 || tre == -2)
        MK_FAIL(MK_E_POLICY, "ticket validity ambiguous");
    note_reuse(r); /* last: only a resolve that passed is noted */
    return MK_OK;
}
