/* ue_common.c - what every UE step shares: fixed-or-drawn values, header
 * and Error message handling of received messages (RFC 6043 §5.4), the
 * TP flag rules (§6.10), the GENERIC-ID map and SRTP policies of the Ticket
 * Transfer (§6.1.1, RFC 3830 §6.10.1), key set shape checks, and the wipe
 * functions of the UE structs. */
#include "ue/ue_internal.h"

#include <string.h>

#include "util/ntp.h"

/* SRTP policy parameter types (RFC 3830 §6.10.1). */
enum {
    SP_ENCR_ALG = 0,
    SP_ENCR_KEY_LEN = 1,
    SP_AUTH_ALG = 2,
    SP_AUTH_KEY_LEN = 3,
    SP_SALT_LEN = 4,
    SP_AUTH_TAG_LEN = 11,
};

mk_err mk_ue_pick_csb(const mk_ue_fixed *f, uint32_t *csb)
{
    uint8_t b[4];
    if (f->has_csb_id) {
        *csb = f->csb_id;
        return MK_OK;
    }
    MK_GUARD(mk_random(b, sizeof b));
    *csb = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           b[3];
    return MK_OK;
}

uint64_t mk_ue_pick_t(const mk_ue_fixed *f)
{
    return f->has_t ? f->t_ntp : mk_ntp_now();
}

mk_err mk_ue_pick_rand(const mk_ue_fixed *f, const mk_suite *s,
                       uint8_t rand_buf[MK_UE_RAND_MAX], mk_bytes *rand)
{
    size_t n;
    if (f->rand.n > 0) {
        MK_ENSURE(f->rand.p != NULL && f->rand.n <= MK_UE_RAND_MAX, MK_E_ARG,
                  "a fixed RAND has 1..255 bytes");
        *rand = f->rand;
        return MK_OK;
    }
    /* RFC 3830 §6.11: at least 128 bits; profile §4: as long as the keys */
    n = s->key_len > 16 ? s->key_len : 16;
    MK_GUARD(mk_random(rand_buf, n));
    *rand = MK_BYTES(rand_buf, n);
    return MK_OK;
}


mk_err mk_ue_add_idr(mk_chain *c, bool omit, uint8_t role, mk_bytes id)
{
    return omit ? MK_OK : mk_chain_add(c, mk_pl_idr(role, MK_IDT_URI, id));
}

mk_err mk_ue_session_keep_fork(mk_ue_session *s, const mk_payload *idrr,
                               const mk_payload *randrkms)
{
    MK_GUARD(mk_bytes_copy(s->idrr, sizeof s->idrr, &s->idrr_len,
                           idrr->u.idr.data));
    return mk_bytes_copy(s->randrkms, sizeof s->randrkms, &s->randrkms_len,
                         randrkms->u.randr.rand);
}

mk_err mk_ue_check_id(mk_bytes id, const char *what)
{
    if (id.p == NULL || id.n == 0 || id.n > MK_UE_ID_MAX)
        MK_FAIL(MK_E_ARG, what);
    return MK_OK;
}

/* A received chain repeats no payload that may stand once only (codec/
 * mikey.h mk_payload_may_repeat: RFC 3830 §3, RFC 6043 §4.2, §6.10): the
 * KMS refuses such a message (doc/profile.md §9.1), and the UE, which
 * finds each payload with mk_chain_find_one, refuses it too instead of
 * reading one of the copies. */
static mk_err check_repeats(const mk_chain *c, bool tp_data)
{
    int i = mk_chain_find_repeat(c, tp_data);
    if (i >= 0)
        MK_FAIL_AT(MK_E_VALUE, c->p[i].type, c->p[i].off,
                   "a payload that may stand once only is repeated");
    return MK_OK;
}

mk_err mk_ue_decode(mk_bytes in, uint8_t data_type, mk_message *m)
{
    MK_GUARD(mk_message_decode(in, m));
    if (m->hdr.version != MK_VERSION)
        MK_FAIL_AT(MK_E_MIKEY_UNSPEC, MK_PT_HDR, 0, "MIKEY version is not 1");
    if (m->hdr.data_type != data_type)
        MK_FAIL_AT(MK_E_MIKEY_DT, MK_PT_HDR, 1,
                   "not the message type expected here");
    return check_repeats(&m->chain, false);
}

mk_err mk_ue_tp_data_decode(mk_bytes tp_data, mk_chain *out)
{
    MK_GUARD(mk_tp_data_decode(tp_data, out));
    return check_repeats(out, true);
}

mk_err mk_ue_suite_of(const mk_message *m, const mk_suite **s)
{
    const mk_payload *last;
    if (m->chain.count == 0)
        MK_FAIL(MK_E_VALUE, "message has no payloads");
    last = &m->chain.p[m->chain.count - 1];
    if (last->type != MK_PT_V)
        MK_FAIL_AT(MK_E_VALUE, last->type, last->off,
                   "last payload is not V");
    return mk_suite_of(m->hdr.prf_func, last->u.v.auth_alg, s);
}

/* The mk_err whose MIKEY Error number is err_no (err.c's table read
 * backwards), MK_E_MIKEY_UNSPEC for numbers without their own code. */
static mk_err err_of_errno(int err_no)
{
    for (int e = 1; e < (int)MK_E__COUNT; e++)
        if (mk_err_mikey_errno((mk_err)e) == err_no)
            return (mk_err)e;
    return MK_E_MIKEY_UNSPEC;
}

mk_err mk_ue_peer_error_check(mk_bytes answer, uint32_t csb_id,
                              const mk_msg_keys *k, mk_ue_peer_error *perr,
                              bool *is_error)
{
    mk_hdr hdr;
    mk_message m;
    mk_ue_peer_error local;
    mk_ue_peer_error *pe = perr ? perr : &local;
    const mk_payload *last;
    size_t n = 0;

    *is_error = false;
    memset(pe, 0, sizeof *pe);
    MK_GUARD(mk_hdr_decode(answer, &hdr, NULL));
    if (hdr.data_type != MK_DT_ERROR)
        return MK_OK;
    *is_error = true;
    MK_GUARD(mk_ue_decode(answer, MK_DT_ERROR, &m));
    if (m.hdr.csb_id != csb_id)
        MK_FAIL_AT(MK_E_VALUE, MK_PT_HDR, 4,
                   "Error message for another CSB ID");
    pe->present = true;
    for (size_t i = 0; i < m.chain.count; i++) {
        if (m.chain.p[i].type != MK_PT_ERR)
            continue;
        if (n < MK_UE_PEER_ERR_MAX)
            pe->err_no[n++] = m.chain.p[i].u.err.err_no;
    }
    pe->n = n;
    last = &m.chain.p[m.chain.count - 1];
    if (last->type == MK_PT_V) {
        pe->v_present = true;
        /* RFC 6043 §5.4: keyed with the failing message's auth_key, over
         * the Error message alone */
        pe->v_verified = last->u.v.auth_alg == k->mac_alg &&
                         mk_v_verify(&m, mk_key_bytes(&k->auth), NULL, 0) ==
                             MK_OK;
        mk_err_clear();
    }
    if (n == 0)
        return mk_err_raise(MK_E_MIKEY_UNSPEC, MK_PT_ERR, 0,
                            "peer answered with an Error message without ERR");
    return mk_err_raise(err_of_errno(pe->err_no[0]), MK_PT_ERR, 0,
                        "peer answered with a MIKEY Error message");
}

mk_err mk_ue_open_kms_answer(const mk_ue_creds *creds, const mk_message *init,
                             mk_bytes init_raw, const mk_suite *suite,
                             mk_bytes randri, mk_bytes randrr,
                             uint8_t resp_dt, mk_bytes answer,
                             mk_message *ans, mk_key_set *keys,
                             mk_ue_peer_error *perr, bool *is_error)
{
    const mk_suite *asuite = NULL;
    const mk_payload *t, *kemac, *idrkms;
    mk_msg_keys k;
    mk_err rc;

    memset(&k, 0, sizeof k);
    /* an Error message is keyed like the failing initial message (§5.4) */
    MK_GUARD_GOTO(mk_msg_keys_6043(suite->prf_func, creds->psk,
                                   init->hdr.csb_id, MK_LABEL_KIND_INITIAL,
                                   randri, randrr, suite->encr_alg,
                                   suite->mac_alg, &k),
                  rc, done);
    rc = mk_ue_peer_error_check(answer, init->hdr.csb_id, &k, perr, is_error);
    if (rc != MK_OK || *is_error)
        goto done;
    mk_msg_keys_wipe(&k);

    MK_GUARD_GOTO(mk_ue_decode(answer, resp_dt, ans), rc, done);
    if (ans->hdr.csb_id != init->hdr.csb_id) {
        rc = mk_err_raise(MK_E_VALUE, MK_PT_HDR, 4,
                          "KMS answer for another CSB ID");
        goto done;
    }
    MK_GUARD_GOTO(mk_ue_suite_of(ans, &asuite), rc, done);
    if (asuite != suite) {
        rc = mk_err_raise(MK_E_MIKEY_MAC, MK_PT_HDR, 3,
                          "KMS answer uses another algorithm suite");
        goto done;
    }
    MK_GUARD_GOTO(mk_msg_keys_6043(suite->prf_func, creds->psk,
                                   init->hdr.csb_id, MK_LABEL_KIND_RESPONSE,
                                   randri, randrr, suite->encr_alg,
                                   suite->mac_alg, &k),
                  rc, done);
    MK_GUARD_GOTO(mk_v_verify(ans, mk_key_bytes(&k.auth), &init_raw, 1), rc,
                  done);

    t = mk_ue_find(&ans->chain, MK_PT_T, -1);
    kemac = mk_ue_find(&ans->chain, MK_PT_KEMAC, -1);
    idrkms = mk_ue_find(&ans->chain, MK_PT_IDR, MK_ROLE_IDRKMS);
    if (!t || !kemac) {
        rc = mk_err_raise(MK_E_VALUE, MK_PT_HDR, 0, "KMS answer lacks T or KEMAC");
        goto done;
    }
    if (idrkms && !mk_bytes_equal(idrkms->u.idr.data, creds->kms_id)) {
        rc = mk_err_raise(MK_E_MIKEY_ID, MK_PT_IDR, idrkms->off,
                          "KMS answer comes from another KMS");
        goto done;
    }
    rc = mk_kemac_open(&kemac->u.kemac, &k, ans->hdr.csb_id,
                       mk_t_iv_value(&t->u.t), keys);
done:
    mk_msg_keys_wipe(&k);
    return rc;
}

bool mk_ue_tp_flags_consistent(uint16_t f)
{
#define HAS(x) ((f & MK_TPF_##x) != 0)
    if (!HAS(D) && !HAS(L))
        return false;
    if (HAS(G) && !HAS(F))
        return false;
    if (!HAS(G) && !HAS(H)) /* ¬G⇒H and ¬H⇒G: at least one RAND in the TEK */
        return false;
    if (HAS(I) && !HAS(E))
        return false;
    if (HAS(K) && !HAS(D))
        return false;
    if (HAS(M) && !HAS(F))
        return false;
    return true;
#undef HAS
}

const mk_payload *mk_ue_find(const mk_chain *c, uint16_t type, int role)
{
    int i = mk_chain_find_one(c, type, role);
    return i < 0 ? NULL : &c->p[i];
}

void mk_ue_srtp_policy_default(const mk_suite *s, mk_ue_srtp_policy *p)
{
    memset(p, 0, sizeof *p);
    p->encr_alg = 1; /* AES-CM */
    p->encr_key_len = (uint8_t)(s && s->key_len == 32 ? 32 : 16);
    p->auth_alg = 1; /* HMAC-SHA-1 */
    p->auth_key_len = 20;
    p->salt_len = 14;
    p->auth_tag_len = 10;
}

/* One SP payload's parameters into p (known types only; RFC 3830 §6.10.1
 * gives all of them one-byte values). */
static mk_err sp_read(const mk_sp *sp, mk_ue_srtp_policy *p)
{
    mk_tlv_iter it;
    mk_sp_param prm;
    if (sp->prot_type != MK_PROT_SRTP)
        MK_FAIL_AT(MK_E_VALUE, MK_PT_SP, 0, "SP is not an SRTP policy");
    mk_sp_iter_init(&it, sp);
    while (mk_sp_next(&it, &prm)) {
        uint8_t *dst = NULL;
        switch (prm.type) {
        case SP_ENCR_ALG: dst = &p->encr_alg; break;
        case SP_ENCR_KEY_LEN: dst = &p->encr_key_len; break;
        case SP_AUTH_ALG: dst = &p->auth_alg; break;
        case SP_AUTH_KEY_LEN: dst = &p->auth_key_len; break;
        case SP_SALT_LEN: dst = &p->salt_len; break;
        case SP_AUTH_TAG_LEN: dst = &p->auth_tag_len; break;
        default: continue;
        }
        if (prm.value.n != 1)
            MK_FAIL_AT(MK_E_VALUE, MK_PT_SP, 0,
                       "SRTP policy parameter is not one byte");
        *dst = prm.value.p[0];
    }
    MK_GUARD(it.err);
    if (p->encr_key_len == 0 || p->encr_key_len > MK_KEY_MAX ||
        p->salt_len > MK_KEY_MAX)
        MK_FAIL_AT(MK_E_VALUE, MK_PT_SP, 0, "SRTP key or salt length");
    return MK_OK;
}

mk_err mk_ue_cs_read(const mk_message *m, const mk_message *sps,
                     const mk_suite *s, mk_ue_cs *cs, size_t *n_cs)
{
    mk_map_iter it;
    mk_generic_id g;
    size_t n = 0;
    if (m->hdr.map_type != MK_MAP_GENERIC_ID)
        MK_FAIL_AT(MK_E_VALUE, MK_PT_HDR, 9,
                   "Ticket Transfer needs the GENERIC-ID map");
    mk_map_iter_init(&it, &m->hdr);
    while (mk_map_next_generic(&it, &g)) {
        mk_ue_cs *c;
        if (n >= MK_UE_CS_MAX)
            MK_FAIL_AT(MK_E_LIMIT, MK_PT_HDR, 8, "too many crypto sessions");
        c = &cs[n++];
        memset(c, 0, sizeof *c);
        c->cs_id = g.cs_id;
        if (g.prot_type != MK_PROT_SRTP)
            MK_FAIL_AT(MK_E_VALUE, MK_PT_HDR, 10, "crypto session is not SRTP");
        /* SRTP Session Data: SSRC [ROC SEQ when S] (RFC 6043 §6.1.1) */
        if (g.session_data.n == 4 || g.session_data.n == 10) {
            const uint8_t *d = g.session_data.p;
            c->has_ssrc = true;
            c->ssrc = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
                      (uint32_t)d[2] << 8 | d[3];
        } else if (g.session_data.n != 0) {
            MK_FAIL_AT(MK_E_VALUE, MK_PT_HDR, 10, "SRTP Session Data length");
        }
        MK_GUARD(mk_bytes_copy(c->spi, sizeof c->spi, &c->spi_len, g.spi));
        mk_ue_srtp_policy_default(s, &c->policy);
        if (g.policies.n > 0) {
            c->policy_no = g.policies.p[0];
            for (size_t i = 0; i < sps->chain.count; i++) {
                const mk_payload *p = &sps->chain.p[i];
                if (p->type == MK_PT_SP && p->u.sp.policy_no == c->policy_no) {
                    MK_GUARD(sp_read(&p->u.sp, &c->policy));
                    break;
                }
            }
        }
    }
    MK_GUARD(it.err);
    *n_cs = n;
    return MK_OK;
}

mk_err mk_ue_cs_put(mk_buf *map, const mk_ue_cs *cs, const uint8_t *policy_no)
{
    uint8_t ssrc[4] = {(uint8_t)(cs->ssrc >> 24), (uint8_t)(cs->ssrc >> 16),
                       (uint8_t)(cs->ssrc >> 8), (uint8_t)cs->ssrc};
    mk_generic_id g;
    memset(&g, 0, sizeof g);
    g.cs_id = cs->cs_id;
    g.prot_type = MK_PROT_SRTP;
    g.s = false;
    g.policies = MK_BYTES(policy_no, 1);
    g.session_data = cs->has_ssrc ? MK_BYTES(ssrc, 4) : MK_BYTES_NONE;
    g.spi = MK_BYTES(cs->spi, cs->spi_len);
    if (cs->spi_len > MK_SPI_MAX)
        MK_FAIL(MK_E_ARG, "SPI longer than MK_SPI_MAX");
    return mk_map_put_generic(map, &g);
}

mk_err mk_ue_sp_params_put(mk_buf *b, const mk_ue_srtp_policy *p)
{
    const struct {
        uint8_t type, value;
        bool always;
    } prm[] = {
        {SP_ENCR_ALG, p->encr_alg, true},
        {SP_ENCR_KEY_LEN, p->encr_key_len, false},
        {SP_AUTH_ALG, p->auth_alg, true},
        {SP_AUTH_KEY_LEN, p->auth_key_len, false},
        {SP_SALT_LEN, p->salt_len, false},
        {SP_AUTH_TAG_LEN, p->auth_tag_len, false},
    };
    for (size_t i = 0; i < sizeof prm / sizeof prm[0]; i++) {
        if (!prm[i].always && prm[i].value == 0)
            continue;
        MK_GUARD(mk_sp_param_put(b, prm[i].type, MK_BYTES(&prm[i].value, 1)));
    }
    return MK_OK;
}

static bool is_session_key(uint8_t type)
{
    switch (type) {
    case MK_KEY_TGK: case MK_KEY_TGK_SALT:
    case MK_KEY_TEK: case MK_KEY_TEK_SALT:
    case MK_KEY_GTGK: case MK_KEY_GTGK_SALT:
        return true;
    default:
        return false;
    }
}

mk_err mk_ue_key_for_cs(const mk_key_set *ks, size_t first_key,
                        const mk_ue_cs *cs, size_t *index)
{
    if (first_key >= ks->count)
        MK_FAIL(MK_E_NOT_FOUND, "no session key");
    if (cs && cs->spi_len > 0) {
        for (size_t i = first_key; i < ks->count; i++) {
            const mk_key_entry *e = &ks->e[i];
            if (e->kv == MK_KV_SPI && e->spi_len == cs->spi_len &&
                memcmp(e->spi, cs->spi, cs->spi_len) == 0) {
                *index = i;
                return MK_OK;
            }
        }
    }
    *index = first_key;
    return MK_OK;
}

mk_err mk_ue_key_set_check(const mk_key_set *ks, bool with_mpkr,
                           size_t *first_key)
{
    size_t first = with_mpkr ? 2 : 1;
    if (ks->count <= first)
        MK_FAIL_AT(MK_E_VALUE, MK_PT_KEYDATA, 0,
                   "KEMAC lacks an MPK or a session key");
    for (size_t i = 0; i < ks->count; i++) {
        bool mpk = ks->e[i].type == MK_KEY_MPK;
        if (i < first ? !mpk : !is_session_key(ks->e[i].type))
            MK_FAIL_AT(MK_E_VALUE, MK_PT_KEYDATA, 0,
                       i < first ? "KEMAC does not start with MPKi [MPKr]"
                                 : "KEMAC key is not a TGK, TEK or GTGK");
        if (ks->e[i].key.n == 0)
            MK_FAIL_AT(MK_E_VALUE, MK_PT_KEYDATA, 0, "empty key in KEMAC");
    }
    *first_key = first;
    return MK_OK;
}

/* --- wipes and defaults of the public structs --- */

void mk_ue_ticket_wipe(mk_ue_ticket *t)
{
    if (!t)
        return;
    mk_key_set_wipe(&t->keys);
    mk_wipe(t, sizeof *t);
}

void mk_ue_session_wipe(mk_ue_session *s)
{
    if (!s)
        return;
    mk_key_set_wipe(&s->keys);
    mk_wipe(s, sizeof *s);
}

void mk_ue_srtp_wipe(mk_ue_srtp *k)
{
    if (!k)
        return;
    mk_key_wipe(&k->master_key);
    mk_key_wipe(&k->master_salt);
    mk_wipe(k, sizeof *k);
}

void mk_ue_request_params_init(mk_ue_request_params *p, const mk_suite *s)
{
    memset(p, 0, sizeof *p);
    p->suite = s ? s : &mk_suite_128;
    p->flags = MK_TPF_D | MK_TPF_E | MK_TPF_F | MK_TPF_G | MK_TPF_H;
}
