/* ue_transfer.c - the Ticket Transfer exchange (RFC 6043 §4.2.2): the
 * Initiator's TRANSFER_INIT (with the Initiator Data of key forking,
 * §6.10), the Responder's TRANSFER_RESP, and the Initiator's acceptance of
 * TRANSFER_RESP (forking of MPKr and the TGKs, §5.1.1). */
#include "ue/ue_internal.h"

#include <string.h>

/* --- TRANSFER_INIT --- */

static mk_err transfer_check(const mk_ue_ticket *tk,
                             const mk_ue_transfer_params *p)
{
    MK_ENSURE(tk && tk->suite && tk->ticket_len > 0, MK_E_ARG,
              "no ticket (accept REQUEST_RESP first)");
    MK_GUARD(mk_ue_check_id(p->idri, "IDRi missing or too long"));
    MK_GUARD(mk_ue_check_id(p->idrr, "IDRr missing or too long"));
    MK_ENSURE(p->n_cs >= 1 && p->n_cs <= MK_UE_CS_MAX, MK_E_ARG,
              "TRANSFER_INIT carries 1..8 crypto sessions");
    MK_ENSURE(tk->keys.count >= ((tk->flags & MK_TPF_I) ? 2u : 1u), MK_E_ARG,
              "ticket keys lack MPKi / MPKr");
    return MK_OK;
}

/* Initiator Data (RFC 6043 §6.10) = first-payload byte, Vi, Vr: Vi the V of
 * TRANSFER_INIT (auth alg and MAC), Vr a MAC keyed from the unforked MPKr
 * (label 0x04, TP PRF) over the Initiator Data without Vr's MAC field. */
static mk_err initiator_data(const mk_ue_ticket *tk, mk_bytes vi_mac,
                             mk_buf *idb)
{
    const int alg = tk->suite->mac_alg;
    const size_t maclen = mk_mac_len(alg);
    uint8_t vr[64];
    mk_key vr_key;
    mk_chain c;
    mk_bytes signed_part;
    mk_err rc;

    memset(&vr_key, 0, sizeof vr_key);
    mk_chain_init(&c);
    MK_GUARD(mk_chain_add(&c, mk_pl_v((uint8_t)alg, vi_mac)));
    MK_GUARD(mk_chain_add(&c, mk_pl_v((uint8_t)alg, MK_BYTES(NULL, maclen))));
    MK_GUARD(mk_tp_data_encode(&c, idb));
    signed_part = MK_BYTES(idb->p, idb->n - maclen);
    MK_GUARD_GOTO(mk_vr_key(tk->tp_prf, mk_key_bytes(&tk->keys.e[1].key), alg,
                            &vr_key),
                  rc, done);
    MK_GUARD_GOTO(mk_mac(alg, mk_key_bytes(&vr_key), &signed_part, 1, vr,
                         sizeof vr),
                  rc, done);
    memcpy(idb->p + idb->n - maclen, vr, maclen);
    rc = MK_OK;
done:
    mk_key_wipe(&vr_key);
    return rc;
}

mk_err mk_ue_transfer_init(const mk_ue_ticket *tk,
                           const mk_ue_transfer_params *p, uint8_t *out,
                           size_t cap, size_t *outlen)
{
    uint8_t randri_buf[MK_UE_RAND_MAX], map_mem[MK_UE_CS_MAX * 40];
    uint8_t sp_mem[MK_UE_CS_MAX][64], pol_no[MK_UE_CS_MAX];
    uint8_t mac[64], id_mem[256];
    mk_buf map, ob, idb;
    mk_message m, dec;
    mk_payload ticket;
    mk_bytes randri, head, tail;
    mk_msg_keys k;
    size_t used = 0, maclen;
    uint32_t csb;
    uint64_t t;
    int ti;
    mk_err rc;

    memset(&k, 0, sizeof k);
    *outlen = 0;
    MK_GUARD(transfer_check(tk, p));
    maclen = mk_mac_len(tk->suite->mac_alg);
    MK_GUARD(mk_payload_decode(MK_BYTES(tk->ticket, tk->ticket_len),
                               MK_PT_TICKET, &ticket, &used));
    ticket.u.tp.initiator_data = MK_BYTES_NONE;
    MK_GUARD(mk_ue_pick_csb(&p->fixed, &csb));
    t = mk_ue_pick_t(&p->fixed);
    MK_GUARD(mk_ue_pick_rand(&p->fixed, tk->suite, randri_buf, &randri));

    /* HDR: GENERIC-ID map (§6.1: SRTP-ID SHALL NOT be used), V = F */
    memset(&m, 0, sizeof m);
    m.hdr.version = MK_VERSION;
    m.hdr.data_type = MK_DT_TRANSFER_INIT;
    m.hdr.v = (tk->flags & MK_TPF_F) != 0;
    m.hdr.prf_func = (uint8_t)tk->suite->prf_func;
    m.hdr.csb_id = csb;
    m.hdr.map_type = MK_MAP_GENERIC_ID;
    mk_buf_init(&map, map_mem, sizeof map_mem);
    for (size_t i = 0; i < p->n_cs; i++) {
        pol_no[i] = (uint8_t)i;
        MK_GUARD(mk_ue_cs_put(&map, &p->cs[i], &pol_no[i]));
    }
    m.hdr.n_cs = (uint8_t)p->n_cs;
    m.hdr.map_info = mk_buf_view(&map);

    /* TRANSFER_INIT = HDR, T, RANDRi, [IDRi], [IDRr], {SP}, TICKET, V */
    mk_chain_init(&m.chain);
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC, t)));
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_randr(MK_RANDR_I, randri)));
    MK_GUARD(mk_ue_add_idr(&m.chain, p->omit_idri, MK_ROLE_IDRI, p->idri));
    MK_GUARD(mk_ue_add_idr(&m.chain, p->omit_idrr, MK_ROLE_IDRR, p->idrr));
    for (size_t i = 0; i < p->n_cs; i++) {
        mk_buf spb;
        mk_buf_init(&spb, sp_mem[i], sizeof sp_mem[i]);
        MK_GUARD(mk_ue_sp_params_put(&spb, &p->cs[i].policy));
        MK_GUARD(mk_chain_add(&m.chain, mk_pl_sp(pol_no[i], MK_PROT_SRTP,
                                                 mk_buf_view(&spb))));
    }
    MK_GUARD(mk_chain_add(&m.chain, ticket));
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_v((uint8_t)tk->suite->mac_alg,
                                            MK_BYTES(NULL, maclen))));
    mk_buf_init(&ob, out, cap);
    MK_GUARD(mk_message_encode(&m, &ob));

    /* V over the message without MAC, Initiator Data length and Initiator
     * Data || Identity_i || Identity_r (§5.5 Table 5.2); MPKi, kind 1 */
    MK_GUARD(mk_message_decode(mk_buf_view(&ob), &dec));
    ti = mk_chain_find(&dec.chain, MK_PT_TICKET, 0);
    MK_ENSURE(ti >= 0, MK_E_INTERNAL, "TICKET lost in encoding");
    MK_GUARD(mk_message_transfer_parts(&dec, (size_t)ti, &head, &tail));
    MK_GUARD_GOTO(mk_msg_keys_6043(tk->suite->prf_func,
                                   mk_key_bytes(&tk->keys.e[0].key), csb,
                                   MK_LABEL_KIND_INITIAL, randri,
                                   MK_BYTES_NONE, tk->suite->encr_alg,
                                   tk->suite->mac_alg, &k),
                  rc, done);
    {
        const mk_bytes parts[4] = {head, tail, p->idri, p->idrr};
        MK_GUARD_GOTO(mk_mac(tk->suite->mac_alg, mk_key_bytes(&k.auth), parts,
                             4, mac, sizeof mac),
                      rc, done);
    }
    if (!(tk->flags & MK_TPF_I)) {
        memcpy(out + ob.n - maclen, mac, maclen);
        *outlen = ob.n;
        rc = MK_OK;
        goto done;
    }

    /* I = 1: the V just computed does not cover the Initiator Data, so it
     * stays valid once Vi/Vr are put into the TICKET (§4.2.2.1) */
    mk_buf_init(&idb, id_mem, sizeof id_mem);
    MK_GUARD_GOTO(initiator_data(tk, MK_BYTES(mac, maclen), &idb), rc, done);
    m.chain.p[ti].u.tp.initiator_data = mk_buf_view(&idb);
    m.chain.p[m.chain.count - 1].u.v.mac = MK_BYTES(mac, maclen);
    mk_buf_init(&ob, out, cap);
    MK_GUARD_GOTO(mk_message_encode(&m, &ob), rc, done);
    *outlen = ob.n;
    rc = MK_OK;
done:
    mk_msg_keys_wipe(&k);
    mk_wipe(mac, sizeof mac);
    return rc;
}

/* --- TRANSFER_RESP (Responder) --- */

/* TRANSFER_RESP's map: the session's CSs, one policy each, with Session
 * Data (an SSRC: the session's, else p's) and an SPI (the CS's, else its
 * key's) present; pol_no[i] is the policy number of cs[i]. */
static mk_err resp_map(const mk_ue_session *s,
                       const mk_ue_transfer_resp_params *p, mk_ue_cs *cs,
                       uint8_t *pol_no, mk_buf *map)
{
    for (size_t i = 0; i < s->n_cs; i++) {
        mk_ue_cs *c = &cs[i];
        if (!c->has_ssrc && p->has_ssrc[i]) {
            c->has_ssrc = true;
            c->ssrc = p->ssrc[i];
        }
        MK_ENSURE(c->has_ssrc, MK_E_ARG,
                  "a crypto session has no SSRC: give one for TRANSFER_RESP");
        if (c->spi_len == 0) {
            size_t ki;
            MK_GUARD(mk_ue_key_for_cs(&s->keys, s->first_key, c, &ki));
            MK_GUARD(mk_bytes_copy(c->spi, sizeof c->spi, &c->spi_len,
                                MK_BYTES(s->keys.e[ki].spi,
                                         s->keys.e[ki].spi_len)));
        }
        MK_ENSURE(c->spi_len > 0, MK_E_VALUE,
                  "no SPI for a crypto session (its key has none)");
        pol_no[i] = c->policy_no;
        MK_GUARD(mk_ue_cs_put(map, c, &pol_no[i]));
    }
    return MK_OK;
}

/* The accepted policies: TRANSFER_INIT's SP payloads as received, one per
 * policy number in use, else our reading of it (written into sp_mem). */
static mk_err resp_policies(size_t n_cs, const mk_message *init,
                            const mk_ue_cs *cs, const uint8_t *pol_no,
                            uint8_t sp_mem[][64], mk_chain *chain)
{
    for (size_t i = 0; i < n_cs; i++) {
        bool dup = false, found = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || pol_no[j] == pol_no[i];
        if (dup)
            continue;
        for (size_t j = 0; j < init->chain.count && !found; j++) {
            const mk_payload *sp = &init->chain.p[j];
            if (sp->type == MK_PT_SP && sp->u.sp.policy_no == pol_no[i]) {
                MK_GUARD(mk_chain_add(chain, mk_pl_sp(sp->u.sp.policy_no,
                                                      sp->u.sp.prot_type,
                                                      sp->u.sp.params)));
                found = true;
            }
        }
        if (!found) {
            mk_buf spb;
            mk_buf_init(&spb, sp_mem[i], 64);
            MK_GUARD(mk_ue_sp_params_put(&spb, &cs[i].policy));
            MK_GUARD(mk_chain_add(chain, mk_pl_sp(pol_no[i], MK_PROT_SRTP,
                                                  mk_buf_view(&spb))));
        }
    }
    return MK_OK;
}

mk_err mk_ue_transfer_resp(mk_ue_session *s, mk_bytes transfer_init,
                           const mk_ue_transfer_resp_params *p, uint8_t *out,
                           size_t cap, size_t *outlen)
{
    uint8_t randrr_buf[MK_UE_RAND_MAX], map_mem[MK_UE_CS_MAX * 40];
    uint8_t sp_mem[MK_UE_CS_MAX][64], pol_no[MK_UE_CS_MAX];
    mk_ue_cs cs[MK_UE_CS_MAX];
    mk_message init, m;
    mk_buf map, ob;
    mk_bytes randrr = MK_BYTES_NONE;
    mk_msg_keys k;
    const mk_key *mkey;
    const bool g = (s->flags & MK_TPF_G) != 0;
    mk_err rc;

    memset(&k, 0, sizeof k);
    *outlen = 0;
    MK_ENSURE(s->suite && s->keys.count > s->first_key && s->n_cs > 0,
              MK_E_ARG, "no session (accept RESOLVE_RESP first)");
    MK_GUARD(mk_ue_decode(transfer_init, MK_DT_TRANSFER_INIT, &init));
    MK_ENSURE(init.hdr.csb_id == s->csb_id, MK_E_ARG,
              "TRANSFER_INIT is not the one of this session");

    if (g) /* G: the Responder generates RANDRr (§6.10) */
        MK_GUARD(mk_ue_pick_rand(&p->fixed, s->suite, randrr_buf, &randrr));

    /* the map, updated: one policy per CS, Session Data and SPI present */
    memcpy(cs, s->cs, sizeof cs);
    memset(&m, 0, sizeof m);
    mk_buf_init(&map, map_mem, sizeof map_mem);
    MK_GUARD(resp_map(s, p, cs, pol_no, &map));

    m.hdr.version = MK_VERSION;
    m.hdr.data_type = MK_DT_TRANSFER_RESP;
    m.hdr.v = false;
    m.hdr.prf_func = (uint8_t)s->suite->prf_func;
    m.hdr.csb_id = s->csb_id;
    m.hdr.map_type = MK_MAP_GENERIC_ID;
    m.hdr.n_cs = (uint8_t)s->n_cs;
    m.hdr.map_info = mk_buf_view(&map);

    /* TRANSFER_RESP = HDR, T, [RANDRr], [IDRr], [RANDRkms], {SP}, V */
    mk_chain_init(&m.chain);
    MK_GUARD(mk_chain_add(&m.chain, mk_pl_t(MK_TS_NTP_UTC,
                                            mk_ue_pick_t(&p->fixed))));
    if (g)
        MK_GUARD(mk_chain_add(&m.chain, mk_pl_randr(MK_RANDR_R, randrr)));
    if (s->forked) {
        MK_GUARD(mk_chain_add(&m.chain,
                              mk_pl_idr(MK_ROLE_IDRR, MK_IDT_URI,
                                        MK_BYTES(s->idrr, s->idrr_len))));
        MK_GUARD(mk_chain_add(&m.chain,
                              mk_pl_randr(MK_RANDR_KMS,
                                          MK_BYTES(s->randrkms,
                                                   s->randrkms_len))));
    }
    MK_GUARD(resp_policies(s->n_cs, &init, cs, pol_no, sp_mem, &m.chain));
    MK_GUARD(mk_chain_add(&m.chain,
                          mk_pl_v((uint8_t)s->suite->mac_alg,
                                  MK_BYTES(NULL,
                                           mk_mac_len(s->suite->mac_alg)))));

    /* V: MPKi, or MPKr' with forking; response label with RANDRi and, iff
     * G, RANDRr (§5.1.2); over TRANSFER_RESP || TRANSFER_INIT (§5.5) */
    mkey = &s->keys.e[s->forked ? 1 : 0].key;
    MK_GUARD_GOTO(mk_msg_keys_6043(s->suite->prf_func, mk_key_bytes(mkey),
                                   s->csb_id, MK_LABEL_KIND_RESPONSE,
                                   MK_BYTES(s->randri, s->randri_len), randrr,
                                   s->suite->encr_alg, s->suite->mac_alg, &k),
                  rc, done);
    mk_buf_init(&ob, out, cap);
    MK_GUARD_GOTO(mk_v_encode_signed(&m, mk_key_bytes(&k.auth),
                                     &transfer_init, 1, &ob),
                  rc, done);
    *outlen = ob.n;
    MK_GUARD_GOTO(mk_bytes_copy(s->randrr, sizeof s->randrr, &s->randrr_len,
                             randrr),
                  rc, done);
    memcpy(s->cs, cs, sizeof cs);
    rc = MK_OK;
done:
    mk_msg_keys_wipe(&k);
    return rc;
}

/* --- TRANSFER_RESP (either party) --- */

mk_err mk_ue_session_take_transfer_resp(mk_ue_session *s,
                                        mk_bytes transfer_init,
                                        mk_bytes transfer_resp)
{
    mk_message init, ans;
    const mk_payload *randrr, *idrr, *randrkms, *last;
    const bool g = (s->flags & MK_TPF_G) != 0;
    mk_msg_keys k;
    mk_err rc;

    memset(&k, 0, sizeof k);
    MK_ENSURE(s->suite && s->keys.count > s->first_key, MK_E_ARG,
              "no session keys");
    MK_GUARD(mk_ue_decode(transfer_init, MK_DT_TRANSFER_INIT, &init));
    MK_GUARD(mk_ue_decode(transfer_resp, MK_DT_TRANSFER_RESP, &ans));
    if (init.hdr.csb_id != s->csb_id || ans.hdr.csb_id != s->csb_id ||
        ans.hdr.prf_func != (uint8_t)s->suite->prf_func)
        MK_FAIL_AT(MK_E_VALUE, MK_PT_HDR, 3,
                   "TRANSFER_RESP CSB ID or PRF differ from TRANSFER_INIT");
    last = &ans.chain.p[ans.chain.count - 1];
    if (last->type != MK_PT_V || last->u.v.auth_alg != s->suite->mac_alg)
        MK_FAIL_AT(MK_E_MIKEY_MAC, MK_PT_V, last->off,
                   "TRANSFER_RESP V missing or of another MAC algorithm");
    randrr = mk_ue_find(&ans.chain, MK_PT_RANDR, MK_RANDR_R);
    idrr = mk_ue_find(&ans.chain, MK_PT_IDR, MK_ROLE_IDRR);
    randrkms = mk_ue_find(&ans.chain, MK_PT_RANDR, MK_RANDR_KMS);
    /* RANDRr iff G; with forking IDRr and RANDRkms echoed from RESOLVE_RESP
     * (§4.2.2.3), i.e. the modifier the keys were forked with */
    if (g != (randrr != NULL))
        MK_FAIL_AT(MK_E_VALUE, MK_PT_RANDR, 0,
                   "TRANSFER_RESP has RANDRr but G = 0, or lacks it with G");
    if (s->forked &&
        (!idrr || !randrkms ||
         !mk_bytes_equal(idrr->u.idr.data, MK_BYTES(s->idrr, s->idrr_len)) ||
         !mk_bytes_equal(randrkms->u.randr.rand,
                         MK_BYTES(s->randrkms, s->randrkms_len))))
        MK_FAIL_AT(MK_E_VALUE, MK_PT_IDR, 0,
                   "TRANSFER_RESP IDRr / RANDRkms are not the forking ones");

    /* V: MPKi, or MPKr' with forking; response label with RANDRi and, iff
     * G, RANDRr; over TRANSFER_RESP || TRANSFER_INIT (§5.5) */
    MK_GUARD_GOTO(mk_msg_keys_6043(s->suite->prf_func,
                                   mk_key_bytes(&s->keys.e[s->forked ? 1 : 0]
                                                     .key),
                                   s->csb_id, MK_LABEL_KIND_RESPONSE,
                                   MK_BYTES(s->randri, s->randri_len),
                                   g ? randrr->u.randr.rand : MK_BYTES_NONE,
                                   s->suite->encr_alg, s->suite->mac_alg, &k),
                  rc, done);
    MK_GUARD_GOTO(mk_v_verify(&ans, mk_key_bytes(&k.auth), &transfer_init, 1),
                  rc, done);
    if (g)
        MK_GUARD_GOTO(mk_bytes_copy(s->randrr, sizeof s->randrr, &s->randrr_len,
                                 randrr->u.randr.rand),
                      rc, done);
    else
        s->randrr_len = 0;
    /* the CS map of TRANSFER_RESP, its policies from its SP payloads, else
     * from TRANSFER_INIT's */
    MK_GUARD_GOTO(mk_ue_cs_read(&ans,
                                mk_chain_count(&ans.chain, MK_PT_SP) ? &ans
                                                                     : &init,
                                s->suite, s->cs, &s->n_cs),
                  rc, done);
    rc = MK_OK;
done:
    mk_msg_keys_wipe(&k);
    return rc;
}

/* --- TRANSFER_RESP (Initiator) --- */

static bool is_tgk(uint8_t type)
{
    return type == MK_KEY_TGK || type == MK_KEY_TGK_SALT;
}

mk_err mk_ue_accept_transfer_resp(const mk_ue_ticket *tk,
                                  mk_bytes transfer_init, mk_bytes answer,
                                  mk_ue_session *out, mk_ue_peer_error *perr)
{
    mk_message init, ans;
    const mk_payload *randri, *idrr, *randrkms;
    mk_msg_keys k;
    bool is_error = false, forked;
    mk_err rc;

    memset(&k, 0, sizeof k);
    memset(out, 0, sizeof *out);
    if (perr)
        memset(perr, 0, sizeof *perr);
    MK_ENSURE(tk && tk->suite && tk->keys.count > tk->first_key, MK_E_ARG,
              "no ticket (accept REQUEST_RESP first)");
    forked = (tk->flags & MK_TPF_I) != 0;

    MK_GUARD(mk_ue_decode(transfer_init, MK_DT_TRANSFER_INIT, &init));
    randri = mk_ue_find(&init.chain, MK_PT_RANDR, MK_RANDR_I);
    MK_ENSURE(randri, MK_E_VALUE, "TRANSFER_INIT lacks RANDRi");

    /* an Error message is keyed like TRANSFER_INIT (§5.4) */
    MK_GUARD_GOTO(mk_msg_keys_6043(tk->suite->prf_func,
                                   mk_key_bytes(&tk->keys.e[0].key),
                                   init.hdr.csb_id, MK_LABEL_KIND_INITIAL,
                                   randri->u.randr.rand, MK_BYTES_NONE,
                                   tk->suite->encr_alg, tk->suite->mac_alg,
                                   &k),
                  rc, done);
    rc = mk_ue_peer_error_check(answer, init.hdr.csb_id, &k, perr, &is_error);
    if (rc != MK_OK || is_error)
        goto done;

    MK_GUARD_GOTO(mk_ue_decode(answer, MK_DT_TRANSFER_RESP, &ans), rc, done);
    out->suite = tk->suite;
    out->flags = tk->flags;
    out->tp_prf = tk->tp_prf;
    out->csb_id = init.hdr.csb_id;
    out->forked = forked;
    MK_GUARD_GOTO(mk_bytes_copy(out->randri, sizeof out->randri,
                             &out->randri_len, randri->u.randr.rand),
                  rc, done);
    memcpy(&out->keys, &tk->keys, sizeof out->keys);
    out->first_key = tk->first_key;
    if (forked) {
        /* MPKr' and TGK' (§5.1.1, TP PRF) with the IDRr and RANDRkms the
         * Responder echoes; GTGK and TEK are not forked */
        mk_key f;
        idrr = mk_ue_find(&ans.chain, MK_PT_IDR, MK_ROLE_IDRR);
        randrkms = mk_ue_find(&ans.chain, MK_PT_RANDR, MK_RANDR_KMS);
        if (!idrr || !randrkms) {
            rc = mk_err_raise(MK_E_VALUE, MK_PT_IDR, 0,
                              "forking: TRANSFER_RESP lacks IDRr or RANDRkms");
            goto done;
        }
        memset(&f, 0, sizeof f);
        for (size_t i = 1; i < out->keys.count; i++) {
            mk_key_entry *e = &out->keys.e[i];
            uint32_t c;
            if (i == 1)
                c = MK_C_FORK_MPKR;
            else if (is_tgk(e->type))
                c = MK_C_FORK_TGK;
            else
                continue;
            rc = mk_fork_key(tk->tp_prf, c, mk_key_bytes(&e->key),
                             idrr->u.idr.data, randrkms->u.randr.rand, &f);
            if (rc == MK_OK)
                memcpy(&e->key, &f, sizeof f);
            mk_key_wipe(&f);
            if (rc != MK_OK)
                goto done;
        }
        MK_GUARD_GOTO(mk_ue_session_keep_fork(out, idrr, randrkms), rc, done);
    }
    MK_GUARD_GOTO(mk_ue_session_take_transfer_resp(out, transfer_init, answer),
                  rc, done);
    rc = MK_OK;
done:
    mk_msg_keys_wipe(&k);
    if (rc != MK_OK)
        mk_ue_session_wipe(out);
    return rc;
}
