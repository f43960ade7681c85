/* ticket.c - the MIKEY base ticket (RFC 6043 App. A; Ticket Type 1,
 * Subtype 1, Version 1), sealed and opened by this KMS only (mode 1).
 *
 * Ticket Data = THDR, T, RAND, KEMAC, IDRpsk, V (App. A.1):
 * - THDR (App. A.3) with empty THDR Data, first and without a type byte
 *   (mikey.md §7 item 6);
 * - T = time of issue (NTP-UTC), the T of the KEMAC IV;
 * - RAND at least as long as every key and >= 16 bytes (§12.1, profile §4);
 * - KEMAC = E(encr_key, MPK || keys), NULL MAC, keys from the TPK and RAND
 *   with the TP PRF (App. A.2.1), IV with CSB ID 0xFFFFFFFF;
 * - IDRpsk (role 4, byte string) = the id of the TPK version (profile §6);
 * - V = MAC with auth_key over the TICKET payload without its Next payload
 *   byte, Initiator Data length and Initiator Data, and the MAC itself.
 */
#include "kms/context.h"

#include <string.h>

#define TICKET_CSB_ID 0xFFFFFFFFu /* RFC 6043 App. A.1 */

mk_err mk_ticket_seal(mk_kms_req *r, uint8_t *buf, size_t cap,
                      mk_payload *ticket)
{
    mk_kms_store *st = r->kms->store;
    const mk_suite *s = r->suite;
    mk_ticket_key tk;
    mk_msg_keys keys;
    uint8_t rand[MK_KMS_RAND_MAX], cipher[MK_KMS_KEMAC_MAX];
    uint8_t td[MK_KMS_TICKET_DATA_MAX], mac[MK_KEY_MAX];
    size_t rand_len = mk_policy_rand_len(&r->keys);
    size_t maclen = mk_mac_len(s->mac_alg);
    mk_chain rest;
    mk_thdr thdr;
    mk_payload kemac, dec;
    mk_tp tp;
    mk_buf tb, b;
    mk_bytes in;
    size_t used;
    mk_err rc;

    memset(&tk, 0, sizeof tk);
    memset(&keys, 0, sizeof keys);
    rc = st->ticket_key_active(st->ctx, &tk);
    if (rc == MK_E_NOT_FOUND) /* keys not loaded: 503 (profile §2) */
        rc = mk_err_raise(MK_E_UNAVAILABLE, -1, 0, "no active ticket key");
    if (rc != MK_OK)
        goto cleanup;
    if (rand_len > sizeof rand) {
        rc = mk_err_raise(MK_E_INTERNAL, -1, 0, "ticket RAND too long");
        goto cleanup;
    }
    MK_GUARD_GOTO(mk_kms_random(r, rand_len, rand, rand_len), rc, cleanup);
    memcpy(r->ticket_rand_buf, rand, rand_len); /* for the MPK split */
    r->ticket_rand = MK_BYTES(r->ticket_rand_buf, rand_len);
    MK_GUARD_GOTO(mk_ticket_keys(r->grant.prf_func, mk_key_bytes(&tk.key),
                                 MK_BYTES(rand, rand_len), s->encr_alg,
                                 s->mac_alg, &keys),
                  rc, cleanup);
    MK_GUARD_GOTO(mk_kemac_seal(&r->keys, &keys, TICKET_CSB_ID, r->now_ntp,
                                cipher, sizeof cipher, &kemac),
                  rc, cleanup);

    mk_chain_init(&rest);
    MK_GUARD_GOTO(mk_chain_add(&rest, mk_pl_t(MK_TS_NTP_UTC, r->now_ntp)), rc,
                  cleanup);
    MK_GUARD_GOTO(mk_chain_add(&rest, mk_pl_rand(MK_BYTES(rand, rand_len))),
                  rc, cleanup);
    MK_GUARD_GOTO(mk_chain_add(&rest, kemac), rc, cleanup);
    MK_GUARD_GOTO(mk_chain_add(&rest, mk_pl_idr(MK_ROLE_IDRPSK, MK_IDT_BYTES,
                                                MK_BYTES(tk.id, tk.id_len))),
                  rc, cleanup);
    MK_GUARD_GOTO(mk_chain_add(&rest, mk_pl_v((uint8_t)s->mac_alg,
                                              MK_BYTES(NULL, maclen))),
                  rc, cleanup);
    memset(&thdr, 0, sizeof thdr);
    mk_buf_init(&tb, td, sizeof td);
    MK_GUARD_GOTO(mk_base_ticket_encode(&thdr, &rest, &tb), rc, cleanup);

    memset(&tp, 0, sizeof tp);
    tp.ticket_type = MK_TICKET_MIKEY_BASE;
    tp.subtype = 1;
    tp.version = 1;
    tp.prf_func = r->grant.prf_func;
    tp.flags = r->grant.flags;
    tp.tp_data = MK_BYTES(r->tp_data, r->grant.tp_data_len);
    tp.ticket_data = mk_buf_view(&tb);
    tp.initiator_data = MK_BYTES_NONE; /* REQUEST_RESP: length 0 */
    mk_buf_init(&b, buf, cap);
    {
        mk_payload tpl = mk_pl_ticket(&tp);
        MK_GUARD_GOTO(mk_payload_encode(&tpl, MK_PT_LAST, &b), rc, cleanup);
    }
    /* MAC over the encoded TICKET (App. A.1), cut by the codec's span */
    MK_GUARD_GOTO(mk_payload_decode(mk_buf_view(&b), MK_PT_TICKET, &dec,
                                    &used),
                  rc, cleanup);
    MK_GUARD_GOTO(mk_ticket_mac_input(&dec, maclen, &in), rc, cleanup);
    MK_GUARD_GOTO(mk_mac(s->mac_alg, mk_key_bytes(&keys.auth), &in, 1, mac,
                         sizeof mac),
                  rc, cleanup);
    /* the MAC is the last field of Ticket Data, which ends 2 bytes (the
     * empty Initiator Data's length) before the end of the payload */
    if (used != b.n || b.n < 2 + maclen) {
        rc = mk_err_raise(MK_E_INTERNAL, MK_PT_TICKET, 0, "ticket re-read");
        goto cleanup;
    }
    memcpy(buf + b.n - 2 - maclen, mac, maclen);
    /* dec's spans point into buf, and Ticket Data is opaque to the decoder:
     * with the MAC in place it is the TICKET payload (no second decode) */
    *ticket = dec;
    MK_GUARD_GOTO(mk_sha256(&ticket->u.tp.ticket_data, 1, r->ticket_id), rc,
                  cleanup);
    r->have_ticket_id = true;
cleanup:
    mk_wipe(&tk, sizeof tk);
    mk_msg_keys_wipe(&keys);
    mk_wipe(cipher, sizeof cipher);
    return rc;
}

/* Any failure to authenticate or read a presented ticket is Error 0
 * (profile §3 last row); only store unavailability passes through. The
 * caller has verified the RESOLVE_INIT's V, so the Error carries a V. */
static mk_err auth_fail(const char *what)
{
    return mk_err_raise(MK_E_MIKEY_AUTH, MK_PT_TICKET, 0, what);
}

/* Order (RFC 6043 §6.10, App. A.1): Ticket Data reaches us undecoded (it is
 * opaque to the message decoder), so a Ticket Data that does not decode as
 * a base ticket is just a ticket that fails its MAC: Error 0. Before the
 * ticket MAC verifies, only what is needed to compute it is used: IDRpsk
 * (which ticket key), the V auth alg with the TP PRF (the suite: MAC
 * algorithm and key lengths) and RAND (an input of the key derivation,
 * App. A.2.1); none of them is acted on beyond deriving the MAC key, and a
 * forged one only yields a MAC that does not verify. Everything else (the
 * KEMAC's algorithm and ciphertext, T, TP Data, flags) is read only after
 * the MAC has verified. */
mk_err mk_ticket_open(mk_kms_req *r, const mk_payload *ticket)
{
    mk_kms_store *st = r->kms->store;
    const mk_tp *tp = &ticket->u.tp;
    const mk_suite *s = NULL;
    mk_ticket_key tk;
    mk_msg_keys keys;
    mk_thdr thdr;
    mk_chain rest;
    int it, ir, ik, ip, iv;
    mk_bytes in;
    mk_err rc;

    memset(&tk, 0, sizeof tk);
    memset(&keys, 0, sizeof keys);
    if (mk_base_ticket_decode(tp->ticket_data, &thdr, &rest) != MK_OK)
        return auth_fail("Ticket Data does not decode");
    it = mk_chain_find_one(&rest, MK_PT_T, -1);
    ir = mk_chain_find_one(&rest, MK_PT_RAND, -1);
    ik = mk_chain_find_one(&rest, MK_PT_KEMAC, -1);
    ip = mk_chain_find_one(&rest, MK_PT_IDR, MK_ROLE_IDRPSK);
    iv = mk_chain_find_one(&rest, MK_PT_V, -1);
    if (it < 0 || ir < 0 || ik < 0 || ip < 0 || iv < 0 ||
        (size_t)iv != rest.count - 1)
        return auth_fail("Ticket Data lacks T, RAND, KEMAC, IDRpsk or V");
    if (mk_suite_of(tp->prf_func, rest.p[iv].u.v.auth_alg, &s) != MK_OK)
        return auth_fail("ticket PRF and MAC algorithm are not one suite");

    rc = st->ticket_key_by_id(st->ctx, rest.p[ip].u.idr.data, &tk);
    if (rc == MK_E_NOT_FOUND) {
        rc = auth_fail("unknown ticket key");
        goto cleanup;
    }
    if (rc != MK_OK)
        goto cleanup;
    if (tk.state == MK_TK_RETIRED || tk.key.n == 0) {
        rc = auth_fail("ticket key retired");
        goto cleanup;
    }
    MK_GUARD_GOTO(mk_ticket_keys(tp->prf_func, mk_key_bytes(&tk.key),
                                 rest.p[ir].u.rand.rand, s->encr_alg,
                                 s->mac_alg, &keys),
                  rc, cleanup);
    if (mk_ticket_mac_input(ticket, mk_mac_len(s->mac_alg), &in) != MK_OK ||
        mk_mac_verify(s->mac_alg, mk_key_bytes(&keys.auth), &in, 1,
                      rest.p[iv].u.v.mac) != MK_OK) {
        rc = auth_fail("ticket MAC does not verify");
        goto cleanup;
    }
    /* authenticated from here on */
    if (rest.p[ik].u.kemac.encr_alg != s->encr_alg) {
        rc = auth_fail("ticket KEMAC algorithm is not the ticket's suite");
        goto cleanup;
    }
    if (mk_kemac_open(&rest.p[ik].u.kemac, &keys, TICKET_CSB_ID,
                      mk_t_iv_value(&rest.p[it].u.t), &r->keys) != MK_OK) {
        rc = auth_fail("ticket KEMAC does not decrypt");
        goto cleanup;
    }
    /* MPK first, then at least one session key, no further MPK */
    if (r->keys.count < 2 || r->keys.e[0].type != MK_KEY_MPK) {
        rc = auth_fail("ticket keys are not MPK + session keys");
        goto cleanup;
    }
    for (size_t i = 1; i < r->keys.count; i++) {
        if (r->keys.e[i].type == MK_KEY_MPK ||
            r->keys.e[i].type == MK_KEY_K_PR) {
            rc = auth_fail("ticket keys are not MPK + session keys");
            goto cleanup;
        }
    }
    if (mk_tp_data_decode(tp->tp_data, &r->tp_chain) != MK_OK) {
        rc = auth_fail("ticket TP Data does not decode");
        goto cleanup;
    }
    r->ticket_flags = tp->flags;
    r->ticket_prf = tp->prf_func;
    r->ticket_rand = rest.p[ir].u.rand.rand;
    MK_GUARD_GOTO(mk_sha256(&tp->ticket_data, 1, r->ticket_id), rc, cleanup);
    r->have_ticket_id = true;
    rc = MK_OK;
cleanup:
    mk_wipe(&tk, sizeof tk);
    mk_msg_keys_wipe(&keys);
    if (rc != MK_OK)
        mk_key_set_wipe(&r->keys);
    return rc;
}
