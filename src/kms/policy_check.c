/* policy_check.c - the checks of the KMS that depend on the profile
 * (profile.md §3-§6) or that the RFCs leave open: header and structure,
 * identities, the PSK, flags and the MIKEY checks of a requested TP. With
 * policy_grant.c (granting, resolving) and policy_tp.c (the granted TP
 * Data) every profile decision is in these three files; the other files
 * of src/kms carry out what is decided here.
 *
 * Decisions beyond the letter of the profile (all three files):
 * - Error 12 also for a missing or repeated mandatory payload of the
 *   initial message (T, RANDRi/RANDRr, TP/TICKET, V as the last payload;
 *   at most one IDRi/IDRr, IDRkms, IDRpsk) and for a RANDR shorter than
 *   16 bytes (RFC 3830 §6.11). Unexpected payloads of known types are
 *   ignored (RFC 6043 §4.2.1.4).
 * - REQUEST_INIT_PK / RESOLVE_INIT_PK: Error 11 (no V) for now.
 * - The requested TP PRF must equal the HDR PRF (one suite per answer,
 *   profile §4), else 15. A ticket is resolved only with the suite it was
 *   issued with (RFC 6043 §12.1: its 256-bit keys never travel under
 *   128-bit algorithms), else Error 2 with V.
 * - KEMAC template: NULL/NULL KEMAC of 1..8 Key data of type TGK, TEK,
 *   GTGK (+SALT); key length 16..suite key length (RFC 6043 §12.1), salt
 *   1..32 bytes for +SALT types, KV SPI (SPI length 0 = 4, at most 16) or
 *   NULL; anything else -> 15. KV NULL is granted as a fresh 4-byte SPI
 *   with K = 1 (RFC 6043 §6.2.1 "An SPI MUST be specified for each key",
 *   profile §4).
 * - TP Data: an IDRkms in it naming another KMS -> 7; an IDRi in it that is
 *   not Identity_i -> 403; no IDRr -> 15; TR types other than NTP-UTC /
 *   NTP-UTC-32 (TRr: NTP-UTC-32 only, RFC 6043 §6.4) -> 15; requested TRe
 *   before TRs -> 15; a granted validity that is empty -> 403.
 * - TRe when none is requested: TRs + default_lifetime, capped at now +
 *   max lifetime (the subscriber's, else the KMS's).
 * - Forking (I) and reuse (J) that the subscriber's policy does not allow
 *   -> 403 (not silently cleared).
 * - Every IDRi / IDRr acted on is an ID type URI that is a SIP or TEL URI
 *   (character sets of RFC 3261 / RFC 3966), else 7; at most 8 IDRr in a
 *   TP, else 15. With no responder patterns any such IDRr is allowed;
 *   configured patterns are fnmatch(3) over the ID Data.
 * - Every IDR of the requested TP Data is at most 255 bytes and there are
 *   at most 2 IDRapp, else 15: the granted TP always fits its buffer.
 * - K = 1 when the granted TP differs from the request in anything: Ticket
 *   Type 2 -> 1, flags (D forced to 1), IDRkms / IDRi / TRs / TRe added or
 *   changed, a template key KV changed. Default keys (no template) are not
 *   a change (RFC 6043 §4.2.1.5 recommends them).
 */
#include "kms/context.h"

#include <string.h>

#include "util/ntp.h"
#include "util/uri.h"

#define MIN_RAND_LEN 16      /* RFC 3830 §6.11 */
#define DEFAULT_SPI_LEN 4    /* profile §4 */
#define TMPL_SALT_MAX 32

/* ------------------------------------------------------------------ */
/* Header and structure (profile §3 rows 1-2) */

mk_err mk_policy_check_header(const mk_kms_req *r)
{
    const mk_hdr *h = &r->hdr;
    uint8_t want = r->service == MK_SERVICE_TICKET_REQUEST
                       ? MK_DT_REQUEST_INIT_PSK
                       : MK_DT_RESOLVE_INIT_PSK;
    /* the PK variants (12, 17) are not offered yet: Invalid DT */
    if (h->data_type != want)
        MK_FAIL_AT(MK_E_MIKEY_DT, MK_PT_HDR, 1,
                   "data type is not this service's PSK initial message");
    if (h->version != MK_VERSION)
        MK_FAIL_AT(MK_E_MIKEY_UNSPEC, MK_PT_HDR, 0, "MIKEY version is not 1");
    /* RFC 6043 §4.2.1.1, §4.2.3.1: #CS = 0, Empty map */
    if (h->n_cs != 0 || h->map_type != MK_MAP_EMPTY)
        MK_FAIL_AT(MK_E_MIKEY_UNSPEC, MK_PT_HDR, 8,
                   "#CS must be 0 and the map type Empty");
    return MK_OK;
}

mk_err mk_policy_check_structure(mk_kms_req *r)
{
    const mk_chain *c = &r->msg.chain;
    bool req = r->service == MK_SERVICE_TICKET_REQUEST;
    r->i_t = mk_chain_find_one(c, MK_PT_T, -1);
    r->i_rand =
        mk_chain_find_one(c, MK_PT_RANDR, req ? MK_RANDR_I : MK_RANDR_R);
    r->i_idr_self =
        mk_chain_find_one(c, MK_PT_IDR, req ? MK_ROLE_IDRI : MK_ROLE_IDRR);
    r->i_idrkms = mk_chain_find_one(c, MK_PT_IDR, MK_ROLE_IDRKMS);
    r->i_idrpsk = mk_chain_find_one(c, MK_PT_IDR, MK_ROLE_IDRPSK);
    r->i_tp = mk_chain_find_one(c, req ? MK_PT_TP : MK_PT_TICKET, -1);
    r->i_v = mk_chain_find_one(c, MK_PT_V, -1);
    if (r->i_t < 0 || r->i_rand < 0 || r->i_tp < 0 || r->i_v < 0)
        MK_FAIL(MK_E_MIKEY_UNSPEC,
                "T, RANDR, TP/TICKET or V missing or repeated");
    if (r->i_idr_self == -2 || r->i_idrkms == -2 || r->i_idrpsk == -2)
        MK_FAIL(MK_E_MIKEY_UNSPEC, "an IDR role is repeated");
    if ((size_t)r->i_v != c->count - 1)
        MK_FAIL(MK_E_MIKEY_UNSPEC, "V is not the last payload");
    if (c->p[r->i_rand].u.randr.rand.n < MIN_RAND_LEN)
        MK_FAIL(MK_E_MIKEY_UNSPEC, "RANDR shorter than 128 bits");
    return MK_OK;
}

/* RFC 6043 §12.1: the PSK is at least as long as the suite's keys, or it
 * would authenticate 256-bit keys with a 128-bit secret (doc/profile.md
 * §9.33). Decided before V is computed with it: Error 0 without V, as
 * for any PSK that cannot authenticate the message. */
mk_err mk_policy_check_psk(const mk_kms_req *r)
{
    if (r->sub.psk.n < r->suite->key_len)
        MK_FAIL(MK_E_MIKEY_AUTH, "PSK shorter than the suite's key length");
    return MK_OK;
}

/* ------------------------------------------------------------------ */
/* Identities (profile §4) */

void mk_policy_identity(mk_kms_req *r)
{
    if (r->i_idr_self >= 0) {
        const mk_idr *idr = &r->msg.chain.p[r->i_idr_self].u.idr;
        r->identity = idr->data;
        r->identity_type = idr->id_type;
    } else if (r->sub.n_impu > 0) {
        r->identity = MK_BYTES(r->sub.impu[0], strlen(r->sub.impu[0]));
        r->identity_type = MK_IDT_URI;
    } else {
        r->identity = MK_BYTES_NONE;
        r->identity_type = MK_IDT_URI;
    }
}

mk_bytes mk_policy_kms_id(const mk_kms_req *r)
{
    return MK_BYTES(r->kms->cfg.kms_id, strlen(r->kms->cfg.kms_id));
}

mk_err mk_policy_check_idrkms(const mk_kms_req *r, const mk_chain *c)
{
    int i = mk_chain_find_one(c, MK_PT_IDR, MK_ROLE_IDRKMS);
    if (i == -2)
        MK_FAIL(MK_E_MIKEY_ID, "IDRkms repeated");
    if (i >= 0 && !mk_bytes_equal(c->p[i].u.idr.data, mk_policy_kms_id(r)))
        MK_FAIL_AT(MK_E_MIKEY_ID, MK_PT_IDR, c->p[i].off,
                   "IDRkms names another KMS");
    return MK_OK;
}

/* An IDRi / IDRr the KMS acts on: ID type URI, a SIP or TEL URI (RFC 3261
 * / RFC 3966 character sets) that fits the record and an IMPU (doc/
 * profile.md §9.35). Checked before any policy, so that no CR, LF, quote
 * or comma-splitting trick reaches a pattern, a record or a log. */
static bool is_sip_tel_id(const mk_idr *idr)
{
    return idr->id_type == MK_IDT_URI && idr->data.n < MK_URI_MAX &&
           mk_uri_sip_tel_ok(idr->data);
}

mk_err mk_policy_check_own_id(const mk_kms_req *r)
{
    if (r->i_idr_self >= 0 &&
        !is_sip_tel_id(&r->msg.chain.p[r->i_idr_self].u.idr))
        MK_FAIL_AT(MK_E_MIKEY_ID, MK_PT_IDR, r->msg.chain.p[r->i_idr_self].off,
                   "IDRi / IDRr is not a SIP or TEL URI");
    return MK_OK;
}

bool mk_policy_is_impu_of(const mk_subscriber *s, mk_bytes id)
{
    for (size_t i = 0; i < s->n_impu && i < MK_IMPU_MAX; i++)
        if (mk_bytes_equal(id, MK_BYTES(s->impu[i], strlen(s->impu[i]))))
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* Ticket policy flags (RFC 6043 §6.10) */

/* RFC 6043 §6.10 flag rules (K ignored: the KMS ignores it in a request). */
static bool mk_policy_flags_consistent(uint16_t f)
{
#define HAS(x) ((f & MK_TPF_##x) != 0)
    if (!HAS(D) && !HAS(L))
        return false;
    if (HAS(G) && !HAS(F))
        return false;
    if (!HAS(G) && !HAS(H))
        return false;
    if (!HAS(H) && !HAS(G))
        return false;
    if (HAS(I) && !HAS(E))
        return false;
    if (HAS(M) && !HAS(F))
        return false;
#undef HAS
    return true;
}

size_t mk_policy_rand_len(const mk_key_set *ks)
{
    size_t n = MIN_RAND_LEN;
    for (size_t i = 0; i < ks->count; i++)
        if (ks->e[i].key.n > n)
            n = ks->e[i].key.n;
    return n;
}

/* ------------------------------------------------------------------ */
/* The requested TP (profile §5, §6, RFC 6043 §6.10) */

static bool ts_usable(uint8_t ts_type)
{
    return ts_type == MK_TS_NTP_UTC || ts_type == MK_TS_NTP_UTC_32;
}

/* The KEMAC template of the requested TP (RFC 6043 §6.10). */
static mk_err read_template(mk_kms_req *r, const mk_kemac *k)
{
    mk_kms_grant *g = &r->grant;
    mk_chain keys;
    if (k->encr_alg != MK_ENCR_NULL || k->mac_alg != MK_MAC_NULL)
        MK_FAIL(MK_E_MIKEY_TPPAR, "KEMAC template must be NULL/NULL");
    if (mk_kemac_plain_decode(k->encr_data, MK_PT_KEYDATA, &keys) != MK_OK)
        MK_FAIL(MK_E_MIKEY_TPPAR, "KEMAC template is not a Key data chain");
    if (keys.count == 0 || keys.count > MK_KEYSET_MAX - 2)
        MK_FAIL(MK_E_MIKEY_TPPAR, "KEMAC template asks for 0 or > 8 keys");
    for (size_t i = 0; i < keys.count; i++) {
        const mk_keydata *kd = &keys.p[i].u.keydata;
        bool salted = mk_key_type_has_salt(kd->type);
        switch (kd->type) {
        case MK_KEY_TGK: case MK_KEY_TGK_SALT: case MK_KEY_TEK:
        case MK_KEY_TEK_SALT: case MK_KEY_GTGK: case MK_KEY_GTGK_SALT:
            break;
        default:
            MK_FAIL(MK_E_MIKEY_TPPAR, "template key type not issued");
        }
        if (kd->key.n < 16 || kd->key.n > r->suite->key_len)
            MK_FAIL(MK_E_MIKEY_TPPAR, "template key length not supported");
        if (salted && (kd->salt.n < 1 || kd->salt.n > TMPL_SALT_MAX))
            MK_FAIL(MK_E_MIKEY_TPPAR, "template salt length not supported");
        g->want[i].type = kd->type;
        g->want[i].key_len = (uint8_t)kd->key.n;
        g->want[i].salt_len = salted ? (uint8_t)kd->salt.n : 0;
        g->want[i].kv = MK_KV_SPI;
        if (kd->kv.type == MK_KV_SPI) {
            if (kd->kv.spi.n > MK_SPI_MAX)
                MK_FAIL(MK_E_MIKEY_TPPAR, "template SPI too long");
            g->want[i].spi_len =
                kd->kv.spi.n ? (uint8_t)kd->kv.spi.n : DEFAULT_SPI_LEN;
        } else if (kd->kv.type == MK_KV_NULL) {
            g->want[i].spi_len = DEFAULT_SPI_LEN;
            g->changed = true;
        } else {
            MK_FAIL(MK_E_MIKEY_TPPAR, "template KV not supported");
        }
    }
    g->n_want = keys.count;
    return MK_OK;
}

static void default_keys(mk_kms_req *r)
{
    /* profile §4, RFC 6043 §4.2.1.5: one TGK as long as the suite's key */
    r->grant.want[0].type = MK_KEY_TGK;
    r->grant.want[0].key_len = (uint8_t)r->suite->key_len;
    r->grant.want[0].salt_len = 0;
    r->grant.want[0].kv = MK_KV_SPI;
    r->grant.want[0].spi_len = DEFAULT_SPI_LEN;
    r->grant.n_want = 1;
}

/* The MIKEY checks of the requested TP: Errors 14, 15, 7. */
mk_err mk_policy_check_tp(mk_kms_req *r, const mk_tp *tp, const mk_tr **trs,
                          const mk_tr **tre, int *i_tmpl, size_t *n_idrr)
{
    const mk_chain *c = &r->tp_chain;
    bool seen_kms = false, seen_i = false, seen_trr = false;
    size_t n_app = 0;
    uint64_t trs_u = 0, tre_u = 0;
    if (mk_tp_data_decode(tp->tp_data, &r->tp_chain) != MK_OK)
        MK_FAIL(MK_E_MIKEY_TPPAR, "TP Data does not decode");
    MK_GUARD(mk_policy_check_idrkms(r, c)); /* 7 */
    /* RFC 6043 §6.10; a request for the 3GPP base ticket (Type 2, not
     * publicly specified) is granted as the MIKEY base ticket (profile §6) */
    if (tp->ticket_type == MK_TICKET_MIKEY_BASE) {
        if (tp->subtype != 1 || tp->version != 1)
            MK_FAIL_AT(MK_E_MIKEY_TICKET, MK_PT_TP, 3,
                       "base ticket Subtype / Version not 1");
    } else if (tp->ticket_type == MK_TICKET_3GPP_BASE) {
        r->grant.changed = true;
    } else {
        MK_FAIL_AT(MK_E_MIKEY_TICKET, MK_PT_TP, 1, "Ticket Type not supported");
    }
    if (!mk_prf_supported(tp->prf_func) || tp->prf_func != r->hdr.prf_func)
        MK_FAIL_AT(MK_E_MIKEY_TPPAR, MK_PT_TP, 5,
                   "TP PRF unsupported or not the HDR PRF");
    if (!mk_policy_flags_consistent(tp->flags & (uint16_t)~MK_TPF_K))
        MK_FAIL_AT(MK_E_MIKEY_TPPAR, MK_PT_TP, 5,
                   "TP flags inconsistent (RFC 6043 §6.10)");

    *trs = *tre = NULL;
    *i_tmpl = -1;
    *n_idrr = 0;
    for (size_t i = 0; i < c->count; i++) {
        const mk_payload *p = &c->p[i];
        switch (p->type) {
        case MK_PT_IDR:
            /* bounded here, so that the granted TP always fits (§9.36) */
            if (p->u.idr.data.n >= MK_URI_MAX)
                MK_FAIL(MK_E_MIKEY_TPPAR, "TP IDR longer than 255 bytes");
            switch (p->u.idr.role) {
            case MK_ROLE_IDRKMS:
                if (seen_kms)
                    MK_FAIL(MK_E_MIKEY_TPPAR, "TP IDRkms repeated");
                seen_kms = true;
                break;
            case MK_ROLE_IDRI:
                if (seen_i)
                    MK_FAIL(MK_E_MIKEY_TPPAR, "TP IDRi repeated");
                if (!is_sip_tel_id(&p->u.idr))
                    MK_FAIL(MK_E_MIKEY_ID, "TP IDRi is not a SIP or TEL URI");
                seen_i = true;
                break;
            case MK_ROLE_IDRR:
                if (!is_sip_tel_id(&p->u.idr))
                    MK_FAIL(MK_E_MIKEY_ID, "IDRr is not a SIP or TEL URI");
                /* the record lists every responder (§9.35) */
                if (++*n_idrr > MK_RECORD_RESPONDERS)
                    MK_FAIL(MK_E_MIKEY_TPPAR, "TP names more than 8 IDRr");
                break;
            case MK_ROLE_IDRAPP:
                if (++n_app > MK_KMS_TP_IDRAPP_MAX)
                    MK_FAIL(MK_E_MIKEY_TPPAR, "TP names more than 2 IDRapp");
                break;
            default:
                MK_FAIL(MK_E_MIKEY_TPPAR, "IDR role not allowed in TP Data");
            }
            break;
        case MK_PT_TR:
            if (!ts_usable(p->u.tr.ts_type))
                MK_FAIL(MK_E_MIKEY_TPPAR, "TR type not NTP-UTC(-32)");
            if (p->u.tr.role == MK_TSR_TRS && *trs == NULL)
                *trs = &p->u.tr;
            else if (p->u.tr.role == MK_TSR_TRE && *tre == NULL)
                *tre = &p->u.tr;
            else if (p->u.tr.role == MK_TSR_TRR && !seen_trr &&
                     p->u.tr.ts_type == MK_TS_NTP_UTC_32)
                seen_trr = true;
            else
                MK_FAIL(MK_E_MIKEY_TPPAR, "TR role repeated or not usable");
            break;
        case MK_PT_KEMAC:
            if (*i_tmpl >= 0)
                MK_FAIL(MK_E_MIKEY_TPPAR, "two KEMAC templates");
            *i_tmpl = (int)i;
            break;
        default:
            MK_FAIL(MK_E_MIKEY_TPPAR, "payload not allowed in TP Data");
        }
    }
    if (*n_idrr == 0)
        MK_FAIL(MK_E_MIKEY_TPPAR, "TP names no responder (IDRr)");
    if (*trs != NULL &&
        mk_ts_to_unix((*trs)->ts_type, (*trs)->value, &trs_u) != MK_OK)
        MK_FAIL(MK_E_MIKEY_TPPAR, "TRs not a UTC time");
    if (*tre != NULL &&
        mk_ts_to_unix((*tre)->ts_type, (*tre)->value, &tre_u) != MK_OK)
        MK_FAIL(MK_E_MIKEY_TPPAR, "TRe not a UTC time");
    if (*trs != NULL && *tre != NULL && tre_u < trs_u)
        MK_FAIL(MK_E_MIKEY_TPPAR, "requested TRe before TRs");
    if (*i_tmpl >= 0)
        MK_GUARD(read_template(r, &c->p[*i_tmpl].u.kemac));
    else
        default_keys(r);
    /* RFC 6043 §6.10: F = 1 when I = 1 and a TGK is in the ticket */
    if (tp->flags & MK_TPF_I) {
        for (size_t i = 0; i < r->grant.n_want; i++) {
            uint8_t t = r->grant.want[i].type;
            if ((t == MK_KEY_TGK || t == MK_KEY_TGK_SALT) &&
                !(tp->flags & MK_TPF_F))
                MK_FAIL(MK_E_MIKEY_TPPAR, "I with a TGK needs F");
        }
    }
    return MK_OK;
}
