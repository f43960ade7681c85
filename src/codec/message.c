/* message.c - a whole MIKEY message: the HDR followed by the payload chain
 * it names (RFC 3830 §6, RFC 6043 §6). */
#include "codec/codec_internal.h"

mk_err mk_message_decode(mk_bytes in, mk_message *out)
{
    mk_cursor c;
    mk_cur_init(&c, in);
    MK_GUARD(mkc_hdr_read(&c, &out->hdr));
    out->hdr_raw = mk_cur_since(&c, 0);
    c.payload = MK_PT_HDR;
    MK_GUARD(mkc_chain_decode(&c, out->hdr.next_payload, MKC_CTX_TOP, 0,
                              &out->chain));
    out->raw = mk_cur_since(&c, 0);
    return MK_OK;
}

/* HDR (its Next payload = the first payload's type) and the chain; every
 * Next payload comes from the chain order, raw fields are ignored. */
mk_err mk_message_encode(const mk_message *m, mk_buf *out)
{
    const mk_chain *c = &m->chain;
    if (c->count > MK_CHAIN_MAX)
        MK_FAIL(MK_E_ARG, "chain count over MK_CHAIN_MAX");
    for (size_t i = 0; i < c->count; i++)
        if (!mkc_type_allowed(c->p[i].type, MKC_CTX_TOP))
            MK_FAIL_AT(MK_E_VALUE, c->p[i].type, out->n,
                       "payload type not allowed in a message");
    MK_GUARD(mk_hdr_encode(&m->hdr, c->count ? (uint8_t)c->p[0].type : MK_PT_LAST,
                           out));
    return mk_chain_encode(c, out);
}
