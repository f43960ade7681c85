/* payload_decode.c - one decoder per payload type (RFC 3830 §6.2-§6.15,
 * RFC 6043 §6.2-§6.10, App. A.3).
 *
 * Every read goes through the cursor, whose payload tag names the payload in
 * error details. Lengths that the wire does not carry are taken from the
 * field value that implies them (MAC alg, TS type, ...); an unknown value
 * makes the layout undecidable: MK_E_VALUE at the offset of that value.
 */
#include "codec/codec_internal.h"

#define RD8(v) MK_GUARD(mk_cur_u8(c, &(v)))
#define RD16(v) MK_GUARD(mk_cur_u16(c, &(v)))

static mk_err bad_value(const mk_cursor *c, size_t off, const char *what)
{
    return mk_err_raise(MK_E_VALUE, c->payload, off, what);
}

mk_err mkc_as_length(mk_err e)
{
    if (e == MK_E_TRUNCATED || e == MK_E_TRAILING) {
        const mk_err_detail *d = mk_err_last();
        return mk_err_raise(MK_E_LENGTH, d->payload, d->offset,
                            e == MK_E_TRUNCATED
                                ? "contents run past their length field"
                                : "contents end before their length field");
    }
    return e;
}

/* Key validity data (RFC 3830 §6.13, §6.14); kv_off is where the KV nibble
 * was read. */
static mk_err kv_read(mk_cursor *c, uint8_t type, size_t kv_off, mk_kv *kv)
{
    uint8_t n;
    kv->type = type;
    kv->spi = kv->valid_from = kv->valid_to = MK_BYTES_NONE;
    switch (type) {
    case MK_KV_NULL:
        return MK_OK;
    case MK_KV_SPI:
        RD8(n);
        return mk_cur_bytes(c, n, &kv->spi);
    case MK_KV_INTERVAL:
        RD8(n);
        MK_GUARD(mk_cur_bytes(c, n, &kv->valid_from));
        RD8(n);
        return mk_cur_bytes(c, n, &kv->valid_to);
    default:
        return bad_value(c, kv_off, "unknown KV type: KV data undecidable");
    }
}

/* A TS value whose length the TS type implies (RFC 3830 §6.6, 6043 §6.3). */
static mk_err ts_read(mk_cursor *c, uint8_t ts_type, size_t type_off,
                      uint64_t *v)
{
    int len = mk_ts_len_of(ts_type);
    if (len == 8)
        return mk_cur_u64(c, v);
    if (len == 4) {
        uint32_t v32;
        MK_GUARD(mk_cur_u32(c, &v32));
        *v = v32;
        return MK_OK;
    }
    return bad_value(c, type_off, "unknown TS type: TS value length undecidable");
}

/* The fixed leading fields of a payload, copied out through the cursor with
 * one bounds check (the decoder's hot path). A short input is named at its
 * first missing byte. */
static mk_err prefix(mk_cursor *c, uint8_t *buf, size_t n)
{
    size_t have = mk_cur_remaining(c);
    if (have < n)
        return mk_err_raise(MK_E_TRUNCATED, c->payload, mk_cur_offset(c) + have,
                            "payload runs past the end of its data");
    return mk_cur_copy(c, n, buf, n);
}

static uint16_t be16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }

/* MAC / Ver data whose length the algorithm implies (RFC 3830 §6.2, §6.9);
 * alg_off is where the alg byte was. */
static mk_err mac_bytes(mk_cursor *c, uint8_t alg, size_t alg_off, mk_bytes *mac)
{
    int len = mk_mac_len_of(alg);
    if (len < 0)
        return bad_value(c, alg_off, "unknown MAC alg: MAC length undecidable");
    return mk_cur_bytes(c, (size_t)len, mac);
}

/* A field of n bytes read as a sub-cursor. */
static mk_err sub_n(mk_cursor *c, size_t n, mk_cursor *sub, mk_bytes *b)
{
    MK_GUARD(mk_cur_sub(c, n, sub));
    *b = mk_cur_rest(sub);
    return MK_OK;
}

/* A 16-bit length, then that many bytes as a sub-cursor. */
static mk_err sub16(mk_cursor *c, mk_cursor *sub, mk_bytes *b)
{
    uint16_t n;
    RD16(n);
    return sub_n(c, n, sub, b);
}

mk_err mkc_tlv_check(mk_cursor *c)
{
    while (mk_cur_remaining(c) > 0) {
        uint8_t t, n;
        mk_bytes v;
        RD8(t);
        RD8(n);
        MK_GUARD(mk_cur_bytes(c, n, &v));
    }
    return MK_OK;
}

mk_err mkc_thdr_decode(mk_cursor *c, mk_thdr *out)
{
    uint16_t n;
    int tag = c->payload;
    c->payload = MK_PT_THDR;
    RD8(out->next);
    RD16(n);
    MK_GUARD(mk_cur_bytes(c, n, &out->data));
    c->payload = tag;
    return MK_OK;
}

/* First-payload byte + chain (TP Data, Initiator Data: RFC 6043 §6.10). */
static mk_err nested_chain(mk_cursor *c, int depth)
{
    uint8_t first;
    if (mk_cur_remaining(c) == 0)
        return MK_OK;
    if (depth >= MKC_NEST_MAX)
        MK_FAIL_AT(MK_E_LIMIT, c->payload, mk_cur_offset(c), "nested too deep");
    RD8(first);
    return mkc_chain_decode(c, first, MKC_CTX_TOP, depth + 1, NULL);
}

/* Ticket Data is NOT looked into, not even for the MIKEY base ticket: it is
 * opaque to everyone but the KMS that resolves it (RFC 6043 §6.10, App. A),
 * and a Ticket Data that does not decode is a ticket that fails its MAC
 * (the KMS answers Error 0 with V, profile §3), not a malformed message.
 * The KMS and mikeydump read it with mk_base_ticket_decode. */
mk_err mkc_tp_nested_check(bool is_ticket, mk_cursor *tpd, mk_cursor *idd,
                           int depth)
{
    MK_GUARD(mkc_as_length(nested_chain(tpd, depth)));
    if (!is_ticket)
        return MK_OK;
    return mkc_as_length(nested_chain(idd, depth));
}

/* TP (16) / TICKET (17), RFC 6043 §6.10; h = the 10 fixed bytes. */
static mk_err tp_read(mk_cursor *c, const uint8_t *h, bool is_ticket, mk_tp *tp,
                      int depth)
{
    mk_cursor tpd, idd;
    uint8_t b5 = h[5], b6 = h[6], b7 = h[7];
    tp->ticket_type = be16(h + 1);
    tp->subtype = h[3];
    tp->version = h[4];
    tp->prf_func = b5 >> 1;
    tp->flags = (b5 & 1) ? MK_TPF_D : 0;
    for (unsigned i = 0; i < 8; i++) /* E..L, MSB first */
        if (b6 & (0x80u >> i))
            tp->flags |= (uint16_t)(MK_TPF_E << i);
    for (unsigned i = 0; i < 3; i++) /* M, N, O */
        if (b7 & (0x80u >> i))
            tp->flags |= (uint16_t)(MK_TPF_M << i);
    tp->res = b7 & 0x1f;
    MK_GUARD(sub_n(c, be16(h + 8), &tpd, &tp->tp_data));
    tp->ticket_data = tp->initiator_data = MK_BYTES_NONE;
    mk_cur_init(&idd, MK_BYTES_NONE);
    if (is_ticket) {
        uint16_t n;
        RD16(n); /* Ticket Data: opaque bytes (see mkc_tp_nested_check) */
        MK_GUARD(mk_cur_bytes(c, n, &tp->ticket_data));
        MK_GUARD(sub16(c, &idd, &tp->initiator_data));
    }
    return mkc_tp_nested_check(is_ticket, &tpd, &idd, depth);
}

/* Bytes in h[] of the fixed leading fields of each payload type, Next
 * payload included (SIGN has none). */
static size_t prefix_len(uint16_t type)
{
    switch (type) {
    case MK_PT_KEMAC: return 4;  /* next, encr alg, encr data len */
    case MK_PT_PKE: return 3;    /* next, C + data len */
    case MK_PT_DH: return 2;     /* next, group */
    case MK_PT_SIGN: return 2;   /* S type + signature len */
    case MK_PT_T: return 2;      /* next, TS type */
    case MK_PT_ID:
    case MK_PT_CERT: return 4;   /* next, type, len */
    case MK_PT_CHASH: return 2;  /* next, hash func */
    case MK_PT_V: return 2;      /* next, auth alg */
    case MK_PT_SP: return 5;     /* next, policy no, prot type, params len */
    case MK_PT_RAND: return 2;   /* next, len */
    case MK_PT_ERR: return 4;    /* next, error no, reserved */
    case MK_PT_TR: return 3;     /* next, role, TS type */
    case MK_PT_IDR: return 5;    /* next, role, ID type, len */
    case MK_PT_RANDR: return 3;  /* next, role, len */
    case MK_PT_TP:
    case MK_PT_TICKET: return 10; /* next, type, subtype, version, flags, TP len */
    case MK_PT_KEYDATA: return 4; /* next, type + KV, key len */
    case MK_PT_GENEXT: return 4; /* next, type, len */
    default: return 0;
    }
}

/* The fields of KEMAC (RFC 3830 §6.2), DH (§6.4) and Key data (§6.13,
 * RFC 6043 §6.2.1) after their fixed prefix h; at: offset of h[0]. */
static mk_err kemac_read(mk_cursor *c, const uint8_t *h, mk_kemac *k)
{
    k->encr_alg = h[1];
    MK_GUARD(mk_cur_bytes(c, be16(h + 2), &k->encr_data));
    size_t alg_off = mk_cur_offset(c);
    MK_GUARD(mk_cur_u8(c, &k->mac_alg));
    return mac_bytes(c, k->mac_alg, alg_off, &k->mac);
}

static mk_err dh_read(mk_cursor *c, const uint8_t *h, size_t at, mk_dh *dh)
{
    uint8_t b;
    dh->group = h[1];
    int len = mk_dh_len_of(dh->group);
    if (len < 0)
        return bad_value(c, at + 1, "unknown DH-Group: DH-value length undecidable");
    MK_GUARD(mk_cur_bytes(c, (size_t)len, &dh->value));
    size_t kv_off = mk_cur_offset(c);
    MK_GUARD(mk_cur_u8(c, &b));
    dh->res = b >> 4;
    return kv_read(c, b & 0x0f, kv_off, &dh->kv);
}

static mk_err keydata_read(mk_cursor *c, const uint8_t *h, size_t at,
                           mk_keydata *kd)
{
    uint16_t n16;
    kd->type = h[1] >> 4;
    if (!mk_key_type_known(kd->type))
        return bad_value(c, at + 1, "unknown key Type: salt presence undecidable");
    MK_GUARD(mk_cur_bytes(c, be16(h + 2), &kd->key));
    kd->salt = MK_BYTES_NONE;
    if (mk_key_type_has_salt(kd->type)) {
        RD16(n16);
        MK_GUARD(mk_cur_bytes(c, n16, &kd->salt));
    }
    return kv_read(c, h[1] & 0x0f, at + 1, &kd->kv);
}

mk_err mkc_payload_decode(mk_cursor *c, uint16_t type, mk_payload *p,
                          int depth)
{
    size_t start = c->pos;
    size_t at = mk_cur_offset(c); /* absolute offset of h[0] */
    uint8_t h[10];
    uint16_t n16;
    mk_cursor sub;
    int tag = c->payload;
    size_t plen = prefix_len(type);

    if (plen == 0)
        return mk_err_raise(MK_E_UNKNOWN_PAYLOAD, type, at,
                            "payload type the codec cannot decode");
    c->payload = type;
    p->type = type;
    MK_GUARD(prefix(c, h, plen));
    p->next = type == MK_PT_SIGN ? MK_PT_LAST : h[0];

    switch (type) {
    case MK_PT_KEMAC: /* RFC 3830 §6.2 */
        MK_GUARD(kemac_read(c, h, &p->u.kemac));
        break;
    case MK_PT_PKE: /* §6.3: C (2 bits) + Data len (14 bits) */
        n16 = be16(h + 1);
        p->u.pke.c = (uint8_t)(n16 >> 14);
        MK_GUARD(mk_cur_bytes(c, n16 & 0x3fff, &p->u.pke.data));
        break;
    case MK_PT_DH: /* §6.4 */
        MK_GUARD(dh_read(c, h, at, &p->u.dh));
        break;
    case MK_PT_SIGN: /* §6.5: S type (4 bits) + Signature len (12 bits) */
        n16 = be16(h);
        p->u.sign.s_type = (uint8_t)(n16 >> 12);
        MK_GUARD(mk_cur_bytes(c, n16 & 0x0fff, &p->u.sign.signature));
        break;
    case MK_PT_T: /* §6.6, 6043 §6.3 */
        p->u.t.ts_type = h[1];
        MK_GUARD(ts_read(c, h[1], at + 1, &p->u.t.value));
        break;
    case MK_PT_ID:
    case MK_PT_CERT: /* §6.7 */
        p->u.id.type = h[1];
        MK_GUARD(mk_cur_bytes(c, be16(h + 2), &p->u.id.data));
        break;
    case MK_PT_CHASH: { /* §6.8, 6043 §6.7 */
        p->u.chash.hash_func = h[1];
        int len = mk_hash_len_of(h[1]);
        if (len < 0)
            return bad_value(c, at + 1, "unknown Hash func: hash length undecidable");
        MK_GUARD(mk_cur_bytes(c, (size_t)len, &p->u.chash.hash));
        break;
    }
    case MK_PT_V: /* §6.9 */
        p->u.v.auth_alg = h[1];
        MK_GUARD(mac_bytes(c, h[1], at + 1, &p->u.v.mac));
        break;
    case MK_PT_SP: /* §6.10 */
        p->u.sp.policy_no = h[1];
        p->u.sp.prot_type = h[2];
        MK_GUARD(sub_n(c, be16(h + 3), &sub, &p->u.sp.params));
        MK_GUARD(mkc_as_length(mkc_tlv_check(&sub)));
        break;
    case MK_PT_RAND: /* §6.11 */
        MK_GUARD(mk_cur_bytes(c, h[1], &p->u.rand.rand));
        break;
    case MK_PT_ERR: /* §6.12 */
        p->u.err.err_no = h[1];
        p->u.err.reserved = be16(h + 2);
        break;
    case MK_PT_TR: /* 6043 §6.4 */
        p->u.tr.role = h[1];
        p->u.tr.ts_type = h[2];
        MK_GUARD(ts_read(c, h[2], at + 2, &p->u.tr.value));
        break;
    case MK_PT_IDR: /* 6043 §6.6 */
        p->u.idr.role = h[1];
        p->u.idr.id_type = h[2];
        MK_GUARD(mk_cur_bytes(c, be16(h + 3), &p->u.idr.data));
        break;
    case MK_PT_RANDR: /* 6043 §6.8 */
        p->u.randr.role = h[1];
        MK_GUARD(mk_cur_bytes(c, h[2], &p->u.randr.rand));
        break;
    case MK_PT_TP:
    case MK_PT_TICKET: /* 6043 §6.10 */
        MK_GUARD(tp_read(c, h, type == MK_PT_TICKET, &p->u.tp, depth));
        break;
    case MK_PT_KEYDATA: /* §6.13, 6043 §6.2.1 */
        MK_GUARD(keydata_read(c, h, at, &p->u.keydata));
        break;
    case MK_PT_GENEXT: /* §6.15: Data is opaque here (Key ID data of
                        * RFC 4563 is read with mk_key_id_next) */
        p->u.genext.type = h[1];
        MK_GUARD(mk_cur_bytes(c, be16(h + 2), &p->u.genext.data));
        break;
    default:
        return mk_err_raise(MK_E_UNKNOWN_PAYLOAD, type, at,
                            "payload type the codec cannot decode");
    }
    p->raw = mk_cur_since(c, start);
    p->off = at;
    c->payload = tag;
    return MK_OK;
}
