/* chain.c - payload chains: the message body, the nested chains of
 * RFC 6043 (TP Data and Initiator Data §6.10, base-ticket Ticket Data
 * App. A.1) and the decrypted KEMAC Encr data (RFC 3830 §6.2).
 *
 * A chain is walked by the Next payload field of each payload; there is no
 * generic length, so a type the codec does not know ends decoding
 * (RFC 3830 §6.1 Table 6.1.c; mikey.md §7 item 12). */
#include "codec/codec_internal.h"

bool mkc_type_allowed(uint16_t type, int ctx)
{
    switch (type) {
    case MK_PT_KEMAC: case MK_PT_PKE: case MK_PT_DH: case MK_PT_SIGN:
    case MK_PT_T: case MK_PT_ID: case MK_PT_CERT: case MK_PT_CHASH:
    case MK_PT_V: case MK_PT_SP: case MK_PT_RAND: case MK_PT_ERR:
    case MK_PT_TR: case MK_PT_IDR: case MK_PT_RANDR: case MK_PT_TP:
    case MK_PT_TICKET: case MK_PT_GENEXT:
        return true;
    case MK_PT_KEYDATA:
        /* A KEMAC sub-payload only (RFC 3830 §6.13). */
        return ctx == MKC_CTX_KEMAC;
    default:
        return false;
    }
}

mk_err mkc_chain_decode(mk_cursor *c, uint16_t first, int ctx, int depth,
                        mk_chain *out)
{
    mk_payload scratch;
    uint16_t type = first;
    int tag = c->payload;
    int last = tag;
    size_t count = 0;

    if (out) {
        out->first = first;
        out->count = 0;
    }
    while (type != MK_PT_LAST) {
        if (!mkc_type_allowed(type, ctx))
            return mk_err_raise(MK_E_UNKNOWN_PAYLOAD, type, mk_cur_offset(c),
                                type == MK_PT_KEYDATA
                                    ? "Key data outside a KEMAC"
                                    : "unknown payload type (cannot be skipped)");
        if (count >= MK_CHAIN_MAX)
            return mk_err_raise(MK_E_LIMIT, type, mk_cur_offset(c),
                                "more payloads than a chain holds");
        mk_payload *p = out ? &out->p[count] : &scratch;
        MK_GUARD(mkc_payload_decode(c, type, p, depth));
        count++;
        if (out)
            out->count = count;
        last = type;
        type = p->next; /* SIGN has none: 0, so it must be last */
    }
    if (mk_cur_remaining(c) != 0)
        return mk_err_raise(MK_E_TRAILING, last, mk_cur_offset(c),
                            last == MK_PT_SIGN
                                ? "bytes after SIGN (it has no Next payload, so must be last)"
                                : "bytes after the last payload");
    c->payload = tag;
    return MK_OK;
}

/* A chain inside data that its payload (tag, for errors) delimits: empty
 * data is an empty chain; the first type is the data's first byte (first
 * < 0: TP Data, Initiator Data) or given (KEMAC plaintext). */
static mk_err nested_decode(mk_bytes in, uint16_t tag, int first, int ctx,
                            mk_chain *out)
{
    mk_cursor c;
    uint8_t b;
    mk_cur_init(&c, in);
    c.payload = tag;
    mk_chain_init(out);
    if (in.n == 0)
        return MK_OK;
    if (first < 0) {
        MK_GUARD(mk_cur_u8(&c, &b));
        first = b;
    }
    return mkc_chain_decode(&c, (uint16_t)first, ctx, 1, out);
}

mk_err mk_tp_data_decode(mk_bytes tp_data, mk_chain *out)
{
    return nested_decode(tp_data, MK_PT_TP, -1, MKC_CTX_TOP, out);
}

mk_err mk_base_ticket_decode(mk_bytes ticket_data, mk_thdr *thdr,
                             mk_chain *rest)
{
    mk_cursor c;
    mk_cur_init(&c, ticket_data);
    c.payload = MK_PT_TICKET;
    MK_GUARD(mkc_thdr_decode(&c, thdr));
    return mkc_chain_decode(&c, thdr->next, MKC_CTX_TOP, 1, rest);
}

mk_err mk_kemac_plain_decode(mk_bytes plain, uint16_t first, mk_chain *out)
{
    return nested_decode(plain, MK_PT_KEMAC, first, MKC_CTX_KEMAC, out);
}

mk_err mk_payload_decode(mk_bytes in, uint16_t type, mk_payload *out,
                         size_t *used)
{
    mk_cursor c;
    mk_cur_init(&c, in);
    MK_GUARD(mkc_payload_decode(&c, type, out, 0));
    if (used)
        *used = c.pos;
    return MK_OK;
}

/* --- encoding --- */

mk_err mk_chain_encode(const mk_chain *c, mk_buf *out)
{
    if (c->count > MK_CHAIN_MAX)
        MK_FAIL(MK_E_ARG, "chain count over MK_CHAIN_MAX");
    for (size_t i = 0; i < c->count; i++) {
        const mk_payload *p = &c->p[i];
        uint16_t next = i + 1 < c->count ? c->p[i + 1].type : MK_PT_LAST;
        if (next > 0xff)
            MK_FAIL_AT(MK_E_VALUE, next, out->n, "not a wire payload type");
        if (p->type == MK_PT_SIGN && next != MK_PT_LAST)
            MK_FAIL_AT(MK_E_VALUE, MK_PT_SIGN, out->n,
                       "SIGN has no Next payload: it must be last");
        MK_GUARD(mk_payload_encode(p, (uint8_t)next, out));
    }
    return MK_OK;
}

static mk_err check_types(const mk_chain *c, int ctx)
{
    for (size_t i = 0; i < c->count && i < MK_CHAIN_MAX; i++)
        if (!mkc_type_allowed(c->p[i].type, ctx))
            MK_FAIL_AT(MK_E_VALUE, c->p[i].type, 0,
                       "payload type not allowed in this chain");
    return MK_OK;
}

mk_err mk_tp_data_encode(const mk_chain *c, mk_buf *out)
{
    if (c->count == 0)
        return MK_OK;
    MK_GUARD(check_types(c, MKC_CTX_TOP));
    MK_GUARD(mk_buf_u8(out, (uint8_t)c->p[0].type));
    return mk_chain_encode(c, out);
}

mk_err mk_base_ticket_encode(const mk_thdr *thdr, const mk_chain *rest,
                             mk_buf *out)
{
    MK_GUARD(check_types(rest, MKC_CTX_TOP));
    if (thdr->data.n > 0xffff)
        MK_FAIL_AT(MK_E_LIMIT, MK_PT_THDR, out->n, "THDR Data length has 16 bits");
    MK_GUARD(mk_buf_u8(out, rest->count ? (uint8_t)rest->p[0].type : MK_PT_LAST));
    MK_GUARD(mk_buf_u16(out, (uint16_t)thdr->data.n));
    MK_GUARD(mkc_put(out, thdr->data));
    return mk_chain_encode(rest, out);
}

mk_err mk_kemac_plain_encode(const mk_chain *c, mk_buf *out)
{
    MK_GUARD(check_types(c, MKC_CTX_KEMAC));
    return mk_chain_encode(c, out);
}
