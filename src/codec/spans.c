/* spans.c - byte spans of a decoded message that MACs and signatures cover
 * (RFC 3830 §5.2, RFC 6043 §5.5 and App. A.1). They are cut from the
 * received bytes with a cursor, using the offsets recorded at decode. */
#include "codec/codec_internal.h"

/* Length of the MAC / signature field that ends payload p. */
static mk_err tail_field_len(const mk_payload *p, size_t *len)
{
    switch (p->type) {
    case MK_PT_V:
        *len = p->u.v.mac.n;
        return MK_OK;
    case MK_PT_KEMAC:
        *len = p->u.kemac.mac.n;
        return MK_OK;
    case MK_PT_SIGN:
        *len = p->u.sign.signature.n;
        return MK_OK;
    default:
        MK_FAIL_AT(MK_E_ARG, p->type, p->off,
                   "last payload carries no MAC or signature");
    }
}

static mk_err last_payload(const mk_message *m, const mk_payload **p)
{
    if (m->chain.count == 0 || m->chain.count > MK_CHAIN_MAX || m->raw.n == 0)
        MK_FAIL(MK_E_ARG, "not a decoded message with payloads");
    *p = &m->chain.p[m->chain.count - 1];
    /* a decoded message: the last payload ends where the message ends */
    if ((*p)->off + (*p)->raw.n != m->raw.n)
        MK_FAIL(MK_E_ARG, "message spans do not come from decoding");
    return MK_OK;
}

mk_err mk_message_signed_part(const mk_message *m, mk_bytes *out)
{
    const mk_payload *last = NULL;
    size_t len = 0;
    mk_cursor c;
    MK_GUARD(last_payload(m, &last));
    MK_GUARD(tail_field_len(last, &len));
    mk_cur_init(&c, m->raw);
    return mk_cur_bytes(&c, m->raw.n - len, out);
}

/* TICKET layout (RFC 6043 §6.10): Next(1) Type(2) Subtype(1) Version(1)
 * flags(3) TPlen(2) TP Data TDlen(2) Ticket Data IDlen(2) Initiator Data.
 * Offset of the end of Ticket Data from the start of the payload: */
static size_t ticket_data_end(const mk_tp *tp)
{
    return 10 + tp->tp_data.n + 2 + tp->ticket_data.n;
}

mk_err mk_message_transfer_parts(const mk_message *m, size_t ticket_idx,
                                 mk_bytes *head, mk_bytes *tail)
{
    const mk_payload *last = NULL, *t;
    size_t maclen = 0, skip;
    mk_bytes gap, rest;
    mk_cursor c;
    MK_GUARD(last_payload(m, &last));
    if (ticket_idx >= m->chain.count ||
        m->chain.p[ticket_idx].type != MK_PT_TICKET)
        MK_FAIL(MK_E_ARG, "ticket_idx is not a TICKET");
    MK_GUARD(tail_field_len(last, &maclen));
    t = &m->chain.p[ticket_idx];
    mk_cur_init(&c, m->raw);
    MK_GUARD(mk_cur_bytes(&c, t->off + ticket_data_end(&t->u.tp), head));
    skip = 2 + t->u.tp.initiator_data.n;
    MK_GUARD(mk_cur_bytes(&c, skip, &gap));
    rest = mk_cur_rest(&c);
    if (rest.n < maclen)
        MK_FAIL(MK_E_ARG, "the MAC field is inside the TICKET");
    return mk_cur_bytes(&c, rest.n - maclen, tail);
}

mk_err mk_ticket_mac_input(const mk_payload *ticket, size_t mac_len,
                           mk_bytes *out)
{
    mk_cursor c;
    mk_bytes next;
    if (ticket->type != MK_PT_TICKET || ticket->raw.n == 0)
        MK_FAIL(MK_E_ARG, "not a decoded TICKET");
    if (ticket->u.tp.ticket_data.n < mac_len)
        MK_FAIL_AT(MK_E_ARG, MK_PT_TICKET, ticket->off,
                   "Ticket Data shorter than its MAC");
    mk_cur_init(&c, ticket->raw);
    MK_GUARD(mk_cur_bytes(&c, 1, &next)); /* without its Next payload */
    return mk_cur_bytes(&c, ticket_data_end(&ticket->u.tp) - 1 - mac_len, out);
}
