/* fuzz_decode - libFuzzer target: the message decoder and every nested
 * decoder (TP Data / Initiator Data, base-ticket Ticket Data, KEMAC
 * plaintext), the iterators and the MAC-span helpers, on arbitrary bytes.
 * TP Data / Initiator Data of an accepted message must decode again (the
 * message decoder validated them); Ticket Data is opaque to the message
 * decoder, so its base-ticket decode, like anything else, may fail but must
 * not crash or over-read (built with ASan/UBSan). Build: see am/fuzz.am. */
#include <stdlib.h>

#include "codec/mikey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mk_message m;
static mk_chain c;

static void walk_iterators(const mk_message *msg)
{
    mk_map_iter it;
    mk_srtp_id s;
    mk_generic_id g;
    mk_map_iter_init(&it, &msg->hdr);
    if (msg->hdr.map_type == MK_MAP_SRTP_ID)
        while (mk_map_next_srtp(&it, &s))
            ;
    else
        while (mk_map_next_generic(&it, &g))
            ;
    if (it.err != MK_OK && msg->hdr.map_type != MK_MAP_EMPTY)
        abort(); /* validated at decode */
}

static void nested(size_t idx)
{
    const mk_payload *p = &m.chain.p[idx];
    mk_thdr th;
    mk_bytes a, b;
    mk_tlv_iter it;
    switch (p->type) {
    case MK_PT_TP:
    case MK_PT_TICKET:
        if (mk_tp_data_decode(p->u.tp.tp_data, &c) != MK_OK)
            abort();
        if (p->type != MK_PT_TICKET)
            break;
        if (mk_tp_data_decode(p->u.tp.initiator_data, &c) != MK_OK)
            abort();
        /* opaque to the message decoder (RFC 6043 §6.10): may fail */
        (void)mk_base_ticket_decode(p->u.tp.ticket_data, &th, &c);
        (void)mk_ticket_mac_input(p, 20, &a);
        (void)mk_message_transfer_parts(&m, idx, &a, &b);
        break;
    case MK_PT_KEMAC:
        (void)mk_kemac_plain_decode(p->u.kemac.encr_data, MK_PT_KEYDATA, &c);
        (void)mk_kemac_plain_decode(p->u.kemac.encr_data, MK_PT_ID, &c);
        break;
    case MK_PT_SP: {
        mk_sp_param prm;
        mk_sp_iter_init(&it, &p->u.sp);
        while (mk_sp_next(&it, &prm))
            ;
        if (it.err != MK_OK)
            abort();
        break;
    }
    case MK_PT_GENEXT: {
        mk_key_id k;
        mk_key_id_iter_init(&it, &p->u.genext);
        while (mk_key_id_next(&it, &k))
            ;
        break;
    }
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mk_bytes in = MK_BYTES(data, size);
    mk_thdr th;
    mk_hdr h;
    mk_payload one;
    size_t used;
    mk_bytes sp;

    if (mk_message_decode(in, &m) == MK_OK) {
        walk_iterators(&m);
        for (size_t i = 0; i < m.chain.count; i++) {
            if (m.chain.p[i].raw.n == 0)
                abort();
            nested(i);
        }
        (void)mk_message_signed_part(&m, &sp);
    }
    /* the nested decoders straight on the input */
    (void)mk_hdr_decode(in, &h, &used);
    (void)mk_tp_data_decode(in, &c);
    (void)mk_base_ticket_decode(in, &th, &c);
    (void)mk_kemac_plain_decode(in, MK_PT_KEYDATA, &c);
    if (size > 0)
        (void)mk_payload_decode(MK_BYTES(data + 1, size - 1), data[0], &one, &used);
    return 0;
}
