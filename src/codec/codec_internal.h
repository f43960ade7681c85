/* codec_internal.h - what the codec's .c files share and nobody else uses.
 *
 * Owns: the decoding contexts, the nesting limit, and the cursor-level
 * payload/chain decoders that keep absolute offsets across nested data.
 */
#ifndef MK_CODEC_INTERNAL_H
#define MK_CODEC_INTERNAL_H

#include "codec/mikey.h"

/* TP Data / Initiator Data (and a base ticket's chain, when read with
 * mk_base_ticket_decode) can hold TP or TICKET payloads with their own
 * nested data; stop at this depth (MK_E_LIMIT). */
#define MKC_NEST_MAX 4

/* Where a chain is decoded: decides which payload types are allowed. */
enum mkc_ctx {
    MKC_CTX_TOP,    /* a message, TP Data, Initiator Data, Ticket Data */
    MKC_CTX_KEMAC,  /* decrypted KEMAC Encr data: Key data allowed */
};

/* Decode one payload of `type` at the cursor (the cursor's payload tag is
 * set to `type` while reading). depth is the nesting level of the chain the
 * payload is in (0 = message). */
mk_err mkc_payload_decode(mk_cursor *c, uint16_t type, mk_payload *out,
                          int depth) MK_MUST_USE;

/* Decode a chain starting with `first` until Next payload 0; the cursor must
 * then be at its end (MK_E_TRAILING otherwise). out may be NULL (validate
 * only). */
mk_err mkc_chain_decode(mk_cursor *c, uint16_t first, int ctx, int depth,
                        mk_chain *out) MK_MUST_USE;

/* Validate the nested chains of a TP/TICKET: TP Data, and for TICKET the
 * Initiator Data. Ticket Data stays opaque (RFC 6043 §6.10). The cursors
 * span exactly each field. Inner overruns / leftovers are MK_E_LENGTH. */
mk_err mkc_tp_nested_check(bool is_ticket, mk_cursor *tpd, mk_cursor *idd,
                           int depth) MK_MUST_USE;

/* The HDR at the cursor, map info included (RFC 3830 §6.1). */
mk_err mkc_hdr_read(mk_cursor *c, mk_hdr *h) MK_MUST_USE;

/* THDR at the cursor (RFC 6043 App. A.3). */
mk_err mkc_thdr_decode(mk_cursor *c, mk_thdr *out) MK_MUST_USE;

/* SP params / Key ID data: a sequence of Type(1) Length(1) Value. */
mk_err mkc_tlv_check(mk_cursor *c) MK_MUST_USE;

/* true for the payload types the codec can decode in context ctx. */
bool mkc_type_allowed(uint16_t type, int ctx);

/* Re-raise an overrun/leftover inside a length-delimited field as
 * MK_E_LENGTH (same payload and offset); other errors pass through. */
mk_err mkc_as_length(mk_err e) MK_MUST_USE;

/* Encode side: write b, refusing a NULL pointer with a non-zero length. */
mk_err mkc_put(mk_buf *out, mk_bytes b) MK_MUST_USE;

#endif
