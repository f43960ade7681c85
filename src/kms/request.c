/* request.c - Ticket Request: REQUEST_INIT_PSK -> REQUEST_RESP (RFC 6043
 * §4.2.1, mode 1). The shared checks (header, V, T, replay, IDRkms) are
 * done by kms.c; here: requested TP -> granted TP (policy_grant.c), key
 * generation, the base ticket (ticket.c) and the answer
 *   REQUEST_RESP = HDR, T, IDRkms, TICKET, KEMAC, V
 * with KEMAC = E(encr_key, MPKi || [MPKr] || keys) under the kind-2 keys of
 * the PSK and RANDRi (§5.1.2), IV from this answer's CSB ID and its own
 * fresh T (mikey.md §7 item 3), MAC alg NULL, and V over REQUEST_RESP ||
 * entire REQUEST_INIT (§5.5).
 */
#include "kms/context.h"

#include <string.h>

/* MPK (suite key length, KV NULL) followed by the granted session keys,
 * all fresh random bytes (profile §4); the pool is sized so that it also
 * holds the ticket RAND drawn by mk_ticket_seal. */
static mk_err generate_keys(mk_kms_req *r)
{
    const mk_kms_grant *g = &r->grant;
    mk_key_set *ks = &r->keys;
    mk_key_entry *e = &ks->e[0];
    size_t total = r->suite->key_len, longest = r->suite->key_len;
    for (size_t i = 0; i < g->n_want; i++) {
        total += g->want[i].key_len + g->want[i].salt_len +
                 g->want[i].spi_len;
        if (g->want[i].key_len > longest)
            longest = g->want[i].key_len;
    }
    total += longest > 16 ? longest : 16; /* = mk_policy_rand_len */
    memset(ks, 0, sizeof *ks);
    e->type = MK_KEY_MPK;
    e->kv = MK_KV_NULL; /* mikey.md §7 item 7 */
    e->key.n = r->suite->key_len;
    MK_GUARD(mk_kms_random(r, total, e->key.b, e->key.n));
    ks->count = 1;
    for (size_t i = 0; i < g->n_want; i++) {
        e = &ks->e[ks->count++];
        e->type = g->want[i].type;
        e->key.n = g->want[i].key_len;
        MK_GUARD(mk_kms_random(r, total, e->key.b, e->key.n));
        e->salt.n = g->want[i].salt_len;
        MK_GUARD(mk_kms_random(r, total, e->salt.b, e->salt.n));
        e->kv = g->want[i].kv;
        e->spi_len = g->want[i].spi_len;
        MK_GUARD(mk_kms_random(r, total, e->spi, e->spi_len));
    }
    return MK_OK;
}

/* The KEMAC of the answer: MPKi, [MPKr iff I], session keys. */
static mk_err answer_keys(const mk_kms_req *r, mk_key_set *out)
{
    const mk_key_set *ks = &r->keys;
    mk_key_entry *mi = &out->e[0], *mr = &out->e[1];
    memset(out, 0, sizeof *out);
    mi->type = mr->type = MK_KEY_MPK;
    mi->kv = mr->kv = MK_KV_NULL;
    MK_GUARD(mk_mpk_split(r->grant.prf_func, mk_key_bytes(&ks->e[0].key),
                          r->ticket_rand, &mi->key, &mr->key));
    out->count = (r->grant.flags & MK_TPF_I) ? 2 : 1;
    if (out->count == 1)
        mk_key_wipe(&mr->key);
    for (size_t i = 1; i < ks->count; i++)
        out->e[out->count++] = ks->e[i];
    return MK_OK;
}

static mk_err record_request(mk_kms_req *r)
{
    const mk_chain *c = &r->tp_chain;
    /* every requested responder, a list (doc/profile.md §9.35) */
    for (size_t i = 0; i < c->count; i++) {
        const mk_payload *p = &c->p[i];
        if (p->type == MK_PT_IDR && p->u.idr.role == MK_ROLE_IDRR)
            MK_GUARD(mk_record_add_responder(r, p->u.idr.data));
    }
    r->rec.valid_from = r->grant.trs_unix;
    r->rec.valid_to = r->grant.tre_unix;
    mk_record_spis(r, &r->keys, 1);
    return MK_OK;
}

mk_err mk_kms_request(mk_kms_req *r, mk_kms_answer *out)
{
    uint8_t tbuf[MK_KMS_TP_DATA_MAX + MK_KMS_TICKET_DATA_MAX + 16];
    uint8_t cipher[MK_KMS_KEMAC_MAX];
    mk_payload ticket, kemac;
    mk_key_set ak;
    mk_msg_keys k;
    mk_message m;
    mk_err rc;

    memset(&ak, 0, sizeof ak);
    memset(&k, 0, sizeof k);
    MK_GUARD(mk_policy_grant(r)); /* 14, 15, 7, 403 */

    /* issue */
    MK_GUARD_GOTO(generate_keys(r), rc, cleanup);
    MK_GUARD_GOTO(mk_ticket_seal(r, tbuf, sizeof tbuf, &ticket), rc, cleanup);
    MK_GUARD_GOTO(answer_keys(r, &ak), rc, cleanup);
    MK_GUARD_GOTO(mk_kms_resp_begin(r, MK_DT_REQUEST_RESP, &ak, &k, cipher,
                                    sizeof cipher, &kemac, &m),
                  rc, cleanup);
    /* REQUEST_RESP = HDR, T, IDRkms, TICKET, KEMAC, V (RFC 6043 §4.2.1.5) */
    MK_GUARD_GOTO(mk_chain_add(&m.chain, mk_pl_ticket(&ticket.u.tp)), rc,
                  cleanup);
    MK_GUARD_GOTO(mk_chain_add(&m.chain, kemac), rc, cleanup);
    MK_GUARD_GOTO(mk_kms_resp_finish(r, &m, &k, out), rc, cleanup);
    rc = record_request(r);
cleanup:
    mk_key_set_wipe(&ak);
    mk_msg_keys_wipe(&k);
    mk_wipe(cipher, sizeof cipher);
    return rc;
}
