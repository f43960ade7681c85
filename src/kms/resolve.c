/* resolve.c - Ticket Resolve: RESOLVE_INIT_PSK -> RESOLVE_RESP (RFC 6043
 * §4.2.3, mode 1). The shared checks (header, V, T, replay, IDRkms) are
 * done by kms.c; here, in the order of profile §3: the presented ticket
 * (Type 1/1/1 else 14; its MAC, key version and KEMAC else 0, ticket.c),
 * with forking (I) Vr of the Initiator Data (RFC 6043 §6.10, else 0), the
 * policy (policy_grant.c: 2 for a ticket of the other suite, 403), then
 *   RESOLVE_RESP = HDR, T, IDRkms, KEMAC, [IDRr, RANDRkms], V
 * with KEMAC = E(encr_key, MPKi || [MPKr'] || keys) under the kind-2 keys
 * of the Responder's PSK and RANDRr, the TGKs forked to TGK' with (IDRr ID
 * Data, RANDRkms) when I = 1 (§5.1.1, TP PRF), and V over RESOLVE_RESP ||
 * entire RESOLVE_INIT (§5.5).
 */
#include "kms/context.h"

#include <string.h>

/* Vr = MAC over the Initiator Data without Vr's MAC field, keyed from the
 * unforked MPKr (label 0x04, TP PRF), same algorithm as Vi (§6.10). */
static mk_err verify_vr(const mk_kms_req *r, const mk_tp *tp, mk_bytes mpkr)
{
    const mk_suite *s = NULL;
    mk_chain ich;
    mk_cursor c;
    mk_bytes in;
    mk_key key;
    mk_err rc;
    size_t maclen;

    if (mk_tp_data_decode(tp->initiator_data, &ich) != MK_OK ||
        ich.count != 2 || ich.p[0].type != MK_PT_V || ich.p[1].type != MK_PT_V)
        MK_FAIL_AT(MK_E_MIKEY_AUTH, MK_PT_TICKET, 0,
                   "forking ticket without Vi, Vr in Initiator Data");
    if (ich.p[0].u.v.auth_alg != ich.p[1].u.v.auth_alg ||
        mk_suite_of(r->ticket_prf, ich.p[1].u.v.auth_alg, &s) != MK_OK)
        MK_FAIL_AT(MK_E_MIKEY_AUTH, MK_PT_TICKET, 0,
                   "Vi / Vr algorithm not the ticket's");
    maclen = mk_mac_len(s->mac_alg);
    mk_cur_init(&c, tp->initiator_data);
    MK_GUARD(mk_cur_bytes(&c, tp->initiator_data.n - maclen, &in));
    memset(&key, 0, sizeof key);
    rc = mk_vr_key(r->ticket_prf, mpkr, s->mac_alg, &key);
    if (rc == MK_OK)
        rc = mk_mac_verify(s->mac_alg, mk_key_bytes(&key), &in, 1,
                           ich.p[1].u.v.mac);
    mk_key_wipe(&key);
    if (rc == MK_E_MIKEY_AUTH)
        MK_FAIL_AT(MK_E_MIKEY_AUTH, MK_PT_TICKET, 0, "Vr does not verify");
    return rc;
}

static bool is_tgk(uint8_t type)
{
    return type == MK_KEY_TGK || type == MK_KEY_TGK_SALT;
}

/* The KEMAC of the answer: MPKi, [MPKr' iff I], session keys with every
 * TGK forked when I (GTGK and TEK are never forked, §5.1.1). mpki, mpkr:
 * the ticket's MPK split (App. A.2.2). */
static mk_err answer_keys(const mk_kms_req *r, mk_bytes randrkms,
                          const mk_key *mpki, const mk_key *mpkr,
                          mk_key_set *out)
{
    bool fork = (r->ticket_flags & MK_TPF_I) != 0;
    const mk_key_set *ks = &r->keys;
    mk_err rc = MK_OK;

    memset(out, 0, sizeof *out);
    out->e[0].type = MK_KEY_MPK;
    out->e[0].kv = MK_KV_NULL;
    MK_GUARD_GOTO(mk_key_copy(&out->e[0].key, mk_key_bytes(mpki)), rc, done);
    out->count = 1;
    if (fork) {
        mk_key_entry *e = &out->e[out->count++];
        e->type = MK_KEY_MPK;
        e->kv = MK_KV_NULL;
        MK_GUARD_GOTO(mk_fork_key(r->ticket_prf, MK_C_FORK_MPKR,
                                  mk_key_bytes(mpkr), r->identity, randrkms,
                                  &e->key),
                      rc, done);
    }
    for (size_t i = 1; i < ks->count; i++) {
        mk_key_entry *e = &out->e[out->count++];
        *e = ks->e[i];
        if (fork && is_tgk(e->type))
            MK_GUARD_GOTO(mk_fork_key(r->ticket_prf, MK_C_FORK_TGK,
                                      mk_key_bytes(&ks->e[i].key),
                                      r->identity, randrkms, &e->key),
                          rc, done);
    }
done:
    if (rc != MK_OK)
        mk_key_set_wipe(out);
    return rc;
}

static void record_resolve(mk_kms_req *r)
{
    int i = mk_chain_find_one(&r->tp_chain, MK_PT_IDR, MK_ROLE_IDRI);
    if (i >= 0)
        mk_record_set_str(r->rec.initiator, sizeof r->rec.initiator,
                          r->tp_chain.p[i].u.idr.data);
    /* the responder: Identity_r, added by mk_record_commit */
    r->rec.valid_from = r->grant.trs_unix;
    r->rec.valid_to = r->grant.tre_unix;
    mk_record_spis(r, &r->keys, 1);
}

mk_err mk_kms_resolve(mk_kms_req *r, mk_kms_answer *out)
{
    const mk_payload *ticket = &r->msg.chain.p[r->i_tp];
    const mk_tp *tp = &ticket->u.tp;
    bool fork;
    uint8_t randrkms[MK_KMS_RAND_MAX], cipher[MK_KMS_KEMAC_MAX];
    size_t rk_len = 0;
    mk_payload kemac;
    mk_key_set ak;
    mk_msg_keys k;
    mk_message m;
    mk_key mpki, mpkr;
    mk_err rc;

    /* 14: only the MIKEY base ticket is known here (RFC 6043 App. A) */
    if (tp->ticket_type != MK_TICKET_MIKEY_BASE || tp->subtype != 1 ||
        tp->version != 1)
        MK_FAIL_AT(MK_E_MIKEY_TICKET, MK_PT_TICKET, ticket->off,
                   "Ticket Type / Subtype / Version not supported");
    memset(&ak, 0, sizeof ak);
    memset(&k, 0, sizeof k);
    memset(&mpki, 0, sizeof mpki);
    memset(&mpkr, 0, sizeof mpkr);
    MK_GUARD_GOTO(mk_ticket_open(r, ticket), rc, cleanup); /* 0, 503 */
    fork = (r->ticket_flags & MK_TPF_I) != 0;
    /* MPKi / MPKr: with forking before the policy (Vr needs MPKr), else
     * only once the policy let the resolve through; once either way */
    if (fork) {
        MK_GUARD_GOTO(mk_mpk_split(r->ticket_prf,
                                   mk_key_bytes(&r->keys.e[0].key),
                                   r->ticket_rand, &mpki, &mpkr),
                      rc, cleanup);
        MK_GUARD_GOTO(verify_vr(r, tp, mk_key_bytes(&mpkr)), rc, cleanup);
    }
    MK_GUARD_GOTO(mk_policy_resolve(r), rc, cleanup); /* 2, 403 */

    /* issue */
    if (!fork)
        MK_GUARD_GOTO(mk_mpk_split(r->ticket_prf,
                                   mk_key_bytes(&r->keys.e[0].key),
                                   r->ticket_rand, &mpki, &mpkr),
                      rc, cleanup);
    if (fork) {
        rk_len = mk_policy_rand_len(&r->keys);
        if (rk_len > sizeof randrkms) {
            rc = mk_err_raise(MK_E_INTERNAL, -1, 0, "RANDRkms too long");
            goto cleanup;
        }
        MK_GUARD_GOTO(mk_kms_random(r, rk_len, randrkms, rk_len), rc,
                      cleanup);
    }
    MK_GUARD_GOTO(answer_keys(r, MK_BYTES(randrkms, rk_len), &mpki, &mpkr,
                              &ak),
                  rc, cleanup);
    MK_GUARD_GOTO(mk_kms_resp_begin(r, MK_DT_RESOLVE_RESP, &ak, &k, cipher,
                                    sizeof cipher, &kemac, &m),
                  rc, cleanup);
    /* RESOLVE_RESP = HDR, T, IDRkms, KEMAC, [IDRr, RANDRkms], V
     * (RFC 6043 §4.2.3.5) */
    MK_GUARD_GOTO(mk_chain_add(&m.chain, kemac), rc, cleanup);
    if (fork) {
        /* the forking identity: the responder's, as named in the ticket */
        uint8_t idt = r->tp_chain.p[r->matched_idrr].u.idr.id_type;
        MK_GUARD_GOTO(mk_chain_add(&m.chain, mk_pl_idr(MK_ROLE_IDRR, idt,
                                                       r->identity)),
                      rc, cleanup);
        MK_GUARD_GOTO(mk_chain_add(&m.chain,
                                   mk_pl_randr(MK_RANDR_KMS,
                                               MK_BYTES(randrkms, rk_len))),
                      rc, cleanup);
    }
    MK_GUARD_GOTO(mk_kms_resp_finish(r, &m, &k, out), rc, cleanup);
    record_resolve(r);
    rc = MK_OK;
cleanup:
    mk_key_set_wipe(&ak);
    mk_msg_keys_wipe(&k);
    mk_key_wipe(&mpki);
    mk_key_wipe(&mpkr);
    mk_wipe(cipher, sizeof cipher);
    return rc;
}
