/* payload_encode.c - one encoder per payload type, the mirror of
 * payload_decode.c. Nothing is truncated: a field that does not fit its
 * length field is MK_E_LIMIT, a value the layout cannot carry (a MAC whose
 * length disagrees with its algorithm, a salt on a key type without one, an
 * unknown implied-length value) is MK_E_VALUE. Nested TP/TICKET data are
 * validated exactly as the decoder does, so an encoded message decodes. */
#include "codec/codec_internal.h"

#define W8(v) MK_GUARD(mk_buf_u8(out, (uint8_t)(v)))
#define W16(v) MK_GUARD(mk_buf_u16(out, (uint16_t)(v)))

mk_err mkc_put(mk_buf *out, mk_bytes b)
{
    if (b.n && !b.p)
        MK_FAIL(MK_E_ARG, "NULL bytes with a non-zero length");
    return mk_buf_bytes(out, b);
}

static mk_err limit(int type, size_t at, const char *what)
{
    return mk_err_raise(MK_E_LIMIT, type, at, what);
}

static mk_err value(int type, size_t at, const char *what)
{
    return mk_err_raise(MK_E_VALUE, type, at, what);
}

/* 16 bits of a small type (its top type_bits) and the data's length (the
 * rest), then the data: PKE's C and Data len (RFC 3830 §6.3), SIGN's S
 * type and Signature len (§6.5). */
static mk_err put_typed_data(mk_buf *out, int t, unsigned type,
                             unsigned type_bits, mk_bytes data,
                             const char *type_why, const char *len_why)
{
    unsigned len_bits = 16 - type_bits;
    if (type >> type_bits != 0)
        return value(t, out->n, type_why);
    if (data.n >> len_bits != 0)
        return limit(t, out->n, len_why);
    W16(type << len_bits | data.n);
    return mkc_put(out, data);
}

/* bytes with an 8- or 16-bit length prefix */
static mk_err put_l8(mk_buf *out, int type, mk_bytes b)
{
    if (b.n > 0xff)
        return limit(type, out->n, "field over its 8-bit length");
    W8(b.n);
    return mkc_put(out, b);
}

static mk_err put_l16(mk_buf *out, int type, mk_bytes b)
{
    if (b.n > 0xffff)
        return limit(type, out->n, "field over its 16-bit length");
    W16(b.n);
    return mkc_put(out, b);
}

/* MAC / Ver data: length implied by alg; NULL pointer = zero placeholder. */
static mk_err put_mac(mk_buf *out, int type, uint8_t alg, mk_bytes mac)
{
    int len = mk_mac_len_of(alg);
    if (len < 0)
        return value(type, out->n, "unknown MAC alg");
    if (mac.n != (size_t)len)
        return value(type, out->n, "MAC length differs from the alg's");
    W8(alg);
    if (!mac.p) {
        size_t at;
        return mk_buf_reserve(out, mac.n, &at);
    }
    return mk_buf_bytes(out, mac);
}

static mk_err put_ts(mk_buf *out, int type, uint8_t ts_type, uint64_t v)
{
    int len = mk_ts_len_of(ts_type);
    if (len < 0)
        return value(type, out->n, "unknown TS type");
    W8(ts_type);
    if (len == 8)
        return mk_buf_u64(out, v);
    if (v > 0xffffffffu)
        return value(type, out->n, "TS value over the 32 bits of its type");
    return mk_buf_u32(out, (uint32_t)v);
}

static mk_err put_kv_data(mk_buf *out, int type, const mk_kv *kv)
{
    switch (kv->type) {
    case MK_KV_NULL:
        if (kv->spi.n || kv->valid_from.n || kv->valid_to.n)
            return value(type, out->n, "KV data given with KV Null");
        return MK_OK;
    case MK_KV_SPI:
        if (kv->valid_from.n || kv->valid_to.n)
            return value(type, out->n, "interval given with KV SPI");
        return put_l8(out, type, kv->spi);
    case MK_KV_INTERVAL:
        if (kv->spi.n)
            return value(type, out->n, "SPI given with KV Interval");
        MK_GUARD(put_l8(out, type, kv->valid_from));
        return put_l8(out, type, kv->valid_to);
    default:
        return value(type, out->n, "unknown KV type");
    }
}

static mk_err check_tlv(int type, mk_bytes b)
{
    mk_cursor c;
    mk_cur_init(&c, b);
    c.payload = type;
    return mkc_as_length(mkc_tlv_check(&c));
}

static mk_err put_tp(mk_buf *out, int type, const mk_tp *tp)
{
    bool is_ticket = type == MK_PT_TICKET;
    mk_cursor tpd, idd;
    if (tp->prf_func > 0x7f)
        return value(type, out->n, "TP PRF Func has 7 bits");
    if (tp->flags & ~0x0fffu)
        return value(type, out->n, "unknown TP flag bits");
    if (tp->res > 0x1f)
        return value(type, out->n, "TP Res has 5 bits");
    if (!is_ticket && (tp->ticket_data.n || tp->initiator_data.n))
        return value(type, out->n, "TP has no Ticket/Initiator Data");
    mk_cur_init(&tpd, tp->tp_data);
    mk_cur_init(&idd, tp->initiator_data);
    tpd.payload = idd.payload = type;
    MK_GUARD(mkc_tp_nested_check(is_ticket, &tpd, &idd, 0));

    uint8_t b5 = (uint8_t)(tp->prf_func << 1 | ((tp->flags & MK_TPF_D) ? 1 : 0));
    uint8_t b6 = 0, b7 = tp->res;
    for (unsigned i = 0; i < 8; i++)
        if (tp->flags & (MK_TPF_E << i))
            b6 |= (uint8_t)(0x80u >> i);
    for (unsigned i = 0; i < 3; i++)
        if (tp->flags & (MK_TPF_M << i))
            b7 |= (uint8_t)(0x80u >> i);
    W16(tp->ticket_type);
    W8(tp->subtype);
    W8(tp->version);
    W8(b5);
    W8(b6);
    W8(b7);
    MK_GUARD(put_l16(out, type, tp->tp_data));
    if (is_ticket) {
        MK_GUARD(put_l16(out, type, tp->ticket_data));
        MK_GUARD(put_l16(out, type, tp->initiator_data));
    }
    return MK_OK;
}

mk_err mk_payload_encode(const mk_payload *p, uint8_t next, mk_buf *out)
{
    int t = p->type;
    if (!mkc_type_allowed(p->type, MKC_CTX_KEMAC))
        return value(t, out->n, "payload type the codec cannot encode");
    if (t != MK_PT_SIGN)
        W8(next);

    switch (t) {
    case MK_PT_KEMAC:
        W8(p->u.kemac.encr_alg);
        MK_GUARD(put_l16(out, t, p->u.kemac.encr_data));
        return put_mac(out, t, p->u.kemac.mac_alg, p->u.kemac.mac);
    case MK_PT_PKE:
        return put_typed_data(out, t, p->u.pke.c, 2, p->u.pke.data,
                              "PKE C has 2 bits", "PKE Data len has 14 bits");
    case MK_PT_DH: {
        int len = mk_dh_len_of(p->u.dh.group);
        if (len < 0)
            return value(t, out->n, "unknown DH-Group");
        if (p->u.dh.value.n != (size_t)len)
            return value(t, out->n, "DH-value length differs from the group's");
        if (p->u.dh.res > 0x0f || p->u.dh.kv.type > 0x0f)
            return value(t, out->n, "DH Reserv/KV have 4 bits");
        W8(p->u.dh.group);
        MK_GUARD(mkc_put(out, p->u.dh.value));
        W8(p->u.dh.res << 4 | p->u.dh.kv.type);
        return put_kv_data(out, t, &p->u.dh.kv);
    }
    case MK_PT_SIGN:
        return put_typed_data(out, t, p->u.sign.s_type, 4,
                              p->u.sign.signature, "S type has 4 bits",
                              "Signature len has 12 bits");
    case MK_PT_T:
        return put_ts(out, t, p->u.t.ts_type, p->u.t.value);
    case MK_PT_ID:
    case MK_PT_CERT:
        W8(p->u.id.type);
        return put_l16(out, t, p->u.id.data);
    case MK_PT_CHASH: {
        int len = mk_hash_len_of(p->u.chash.hash_func);
        if (len < 0)
            return value(t, out->n, "unknown Hash func");
        if (p->u.chash.hash.n != (size_t)len)
            return value(t, out->n, "hash length differs from the func's");
        W8(p->u.chash.hash_func);
        return mkc_put(out, p->u.chash.hash);
    }
    case MK_PT_V:
        return put_mac(out, t, p->u.v.auth_alg, p->u.v.mac);
    case MK_PT_SP:
        MK_GUARD(check_tlv(t, p->u.sp.params));
        W8(p->u.sp.policy_no);
        W8(p->u.sp.prot_type);
        return put_l16(out, t, p->u.sp.params);
    case MK_PT_RAND:
        return put_l8(out, t, p->u.rand.rand);
    case MK_PT_ERR:
        W8(p->u.err.err_no);
        W16(p->u.err.reserved);
        return MK_OK;
    case MK_PT_TR:
        W8(p->u.tr.role);
        return put_ts(out, t, p->u.tr.ts_type, p->u.tr.value);
    case MK_PT_IDR:
        W8(p->u.idr.role);
        W8(p->u.idr.id_type);
        return put_l16(out, t, p->u.idr.data);
    case MK_PT_RANDR:
        W8(p->u.randr.role);
        return put_l8(out, t, p->u.randr.rand);
    case MK_PT_TP:
    case MK_PT_TICKET:
        return put_tp(out, t, &p->u.tp);
    case MK_PT_KEYDATA: {
        const mk_keydata *k = &p->u.keydata;
        if (!mk_key_type_known(k->type))
            return value(t, out->n, "unknown key Type");
        if (k->kv.type > 0x0f)
            return value(t, out->n, "KV has 4 bits");
        if (!mk_key_type_has_salt(k->type) && k->salt.n)
            return value(t, out->n, "salt given for a key Type without one");
        W8(k->type << 4 | k->kv.type);
        MK_GUARD(put_l16(out, t, k->key));
        if (mk_key_type_has_salt(k->type))
            MK_GUARD(put_l16(out, t, k->salt));
        return put_kv_data(out, t, &k->kv);
    }
    case MK_PT_GENEXT:
        W8(p->u.genext.type);
        return put_l16(out, t, p->u.genext.data);
    default:
        return value(t, out->n, "payload type the codec cannot encode");
    }
}
