/* mikey.h - the MIKEY (RFC 3830) / MIKEY-TICKET (RFC 6043) message model,
 * its decoders and encoders.
 *
 * Owns: the message API: decoding and encoding a message (mk_message = HDR
 * + a chain of payloads) and the nested chains of RFC 6043 (TP Data,
 * Initiator Data, base-ticket Ticket Data, KEMAC plaintext), iterators over
 * the CS ID map info, SP parameters and Key ID sub-payloads, chain helpers,
 * the byte spans that MACs cover, and printable names. The structs
 * themselves (one per payload), the lengths a field value implies and the
 * payload constructors are codec/mikey_payload.h, included here.
 *
 * Decoding is zero-copy and never allocates: every variable-length field is
 * an mk_bytes pointing into the input, which must outlive the decoded form.
 * Every payload keeps `raw`, the exact byte span it had on the wire, so MACs
 * are computed over received bytes and never over a re-encoding.
 *
 * Decoders are strict: every length is checked against its enclosing data,
 * a chain must end with Next payload 0 exactly at the last byte, unknown
 * payload types are rejected (they have no generic length field and cannot be
 * skipped, mikey.md §7 item 12), and a field value whose implied length is
 * unknown (MAC alg, TS type, hash func, DH group, KV, key type, map type) is
 * MK_E_VALUE. Every error is raised with the payload type and the absolute
 * byte offset (mk_err_last()): MK_E_TRUNCATED where the data end,
 * MK_E_TRAILING where unread bytes start (payload = the payload that claimed
 * to be last), MK_E_UNKNOWN_PAYLOAD with payload = the unknown type number at
 * the offset it would start, MK_E_VALUE at the offending value. Inside data
 * delimited by a length field (TP Data, Initiator Data, SP params) an
 * overrun or leftover is MK_E_LENGTH instead, since the enclosing length is
 * what disagrees. HDR errors use payload MK_PT_HDR. The HDR
 * version is NOT checked here (the KMS answers it with Error 12); the
 * version-1 layout is decoded.
 *
 * Encoders derive every Next payload field from the chain order, ignore
 * `raw`, and refuse (MK_E_VALUE / MK_E_LIMIT) what cannot be written
 * faithfully instead of truncating.
 */
#ifndef MK_CODEC_MIKEY_H
#define MK_CODEC_MIKEY_H

#include "codec/mikey_payload.h"

/* ------------------------------------------------------------------ */
/* CS ID map info (RFC 3830 §6.1, RFC 4563 §5, 6043 §6.1.1) */

/* Iterator over a header's map info. Usage:
 *   mk_map_iter it; mk_map_iter_init(&it, &hdr);
 *   mk_generic_id g; while (mk_map_next_generic(&it, &g)) ...;
 *   if (it.err) ...        (only possible on a hand-built, unvalidated hdr)
 * The next_* call for the wrong map type ends at once with MK_E_VALUE. */
typedef struct mk_map_iter {
    mk_cursor c;
    uint8_t map_type;
    size_t left; /* entries not yet returned */
    mk_err err;
} mk_map_iter;

void mk_map_iter_init(mk_map_iter *it, const mk_hdr *hdr);
bool mk_map_next_srtp(mk_map_iter *it, mk_srtp_id *out);
bool mk_map_next_generic(mk_map_iter *it, mk_generic_id *out);

/* Builders: append one entry to a map-info buffer; the caller then sets
 * hdr.map_info = mk_buf_view(&buf) and hdr.n_cs to the number written. */
mk_err mk_map_put_srtp(mk_buf *b, const mk_srtp_id *e) MK_MUST_USE;
mk_err mk_map_put_generic(mk_buf *b, const mk_generic_id *g) MK_MUST_USE;


/* ------------------------------------------------------------------ */
/* Decoders */

/* A whole message: HDR + chain. Key data (20) at top level is rejected
 * (MK_E_UNKNOWN_PAYLOAD: it is only a KEMAC sub-payload); SIGN must be last;
 * trailing bytes MK_E_TRAILING. Nested TP Data / Initiator Data chains are
 * validated (they are MIKEY contents of the message), so a malformed one is
 * a decode error of the message. Ticket Data is NOT looked into, whatever
 * the Ticket Type: it is opaque to all but the KMS that resolves it (RFC
 * 6043 §6.10, App. A), and a damaged one is the KMS's Error 0 (profile §3),
 * not a malformed message; read it with mk_base_ticket_decode. Nesting
 * deeper than 4 levels is MK_E_LIMIT. */
mk_err mk_message_decode(mk_bytes in, mk_message *out) MK_MUST_USE;
/* (All decoders: on error *out is unspecified and must not be used.) */

/* Only the HDR (e.g. to copy CSB ID / PRF into an Error answer when the rest
 * does not decode). *hdr_len receives the HDR length (may be NULL). */
mk_err mk_hdr_decode(mk_bytes in, mk_hdr *out, size_t *hdr_len) MK_MUST_USE;

/* TP Data and Initiator Data (RFC 6043 §6.10): one first-payload byte, then
 * a chain. Empty bytes (or a single 0 byte) -> empty chain. Offsets in errors
 * are relative to tp_data. */
mk_err mk_tp_data_decode(mk_bytes tp_data, mk_chain *out) MK_MUST_USE;

/* Base-ticket Ticket Data (RFC 6043 App. A.1): THDR first, implicitly (no
 * leading type byte, mikey.md §7 item 6), then the chain starting with
 * thdr->next (normally T, RAND, KEMAC, [IDRpsk], V). Strict like
 * mk_message_decode (MK_E_TRUNCATED / MK_E_TRAILING at the end of
 * ticket_data, MK_E_LENGTH inside nested data); offsets in errors are
 * relative to ticket_data. The message decoder does not call it. */
mk_err mk_base_ticket_decode(mk_bytes ticket_data, mk_thdr *thdr,
                             mk_chain *rest) MK_MUST_USE;

/* Decrypted KEMAC Encr data (RFC 3830 §6.2): a chain whose first type is
 * implied by context, MK_PT_KEYDATA (PSK) or MK_PT_ID (PK mode). */
mk_err mk_kemac_plain_decode(mk_bytes plain, uint16_t first, mk_chain *out) MK_MUST_USE;

/* One payload of `type` at the start of `in` (with its nested data
 * validated); *used receives its length. Key data is accepted here. For
 * re-reading a payload you just encoded (e.g. a TICKET, to MAC it). */
mk_err mk_payload_decode(mk_bytes in, uint16_t type, mk_payload *out,
                         size_t *used) MK_MUST_USE;

/* ------------------------------------------------------------------ */
/* Encoders (append to out; on error out->n may have grown, discard it) */

mk_err mk_message_encode(const mk_message *m, mk_buf *out) MK_MUST_USE;
mk_err mk_hdr_encode(const mk_hdr *h, uint8_t next_payload, mk_buf *out) MK_MUST_USE;
/* The chain's payloads, Next fields from the order (the first type is not
 * written). */
mk_err mk_chain_encode(const mk_chain *c, mk_buf *out) MK_MUST_USE;
/* First-payload byte + chain; an empty chain writes nothing. */
mk_err mk_tp_data_encode(const mk_chain *c, mk_buf *out) MK_MUST_USE;
/* THDR then the chain; thdr->next is ignored (derived from rest->p[0]). */
mk_err mk_base_ticket_encode(const mk_thdr *thdr, const mk_chain *rest,
                             mk_buf *out) MK_MUST_USE;
/* KEMAC plaintext: the chain without a first-payload byte. */
mk_err mk_kemac_plain_encode(const mk_chain *c, mk_buf *out) MK_MUST_USE;
/* One payload with an explicit Next payload byte (SIGN ignores next). */
mk_err mk_payload_encode(const mk_payload *p, uint8_t next, mk_buf *out) MK_MUST_USE;

/* ------------------------------------------------------------------ */
/* Iterators over validated contents */

typedef struct mk_tlv_iter {
    mk_cursor c;
    mk_err err;
} mk_tlv_iter;

/* SP policy parameters (Type 1, Length 1, Value). */
void mk_sp_iter_init(mk_tlv_iter *it, const mk_sp *sp);
bool mk_sp_next(mk_tlv_iter *it, mk_sp_param *out);
mk_err mk_sp_param_put(mk_buf *b, uint8_t type, mk_bytes value) MK_MUST_USE;
/* Key ID sub-payloads of a General Extension of type 3 (RFC 4563 §4), read
 * as Key ID Type (1) | Key ID Length (1) | Key ID per mikey.md §2.16 (the
 * width of the length field is not verified against the RFC text; the
 * decoder does not depend on it). it.err is set if the data do not parse. */
void mk_key_id_iter_init(mk_tlv_iter *it, const mk_genext *g);
bool mk_key_id_next(mk_tlv_iter *it, mk_key_id *out);
mk_err mk_key_id_put(mk_buf *b, uint8_t type, mk_bytes value) MK_MUST_USE;

/* ------------------------------------------------------------------ */
/* Chains and helpers */

void mk_chain_init(mk_chain *c);
/* Append (sets c->first when the chain was empty); MK_E_LIMIT when full. */
mk_err mk_chain_add(mk_chain *c, mk_payload p) MK_MUST_USE;
/* Index of the first payload of `type` at or after `from`, or -1. */
int mk_chain_find(const mk_chain *c, uint16_t type, size_t from);
int mk_chain_find_idr(const mk_chain *c, uint8_t role, size_t from);
int mk_chain_find_randr(const mk_chain *c, uint8_t role, size_t from);
int mk_chain_find_tr(const mk_chain *c, uint8_t role, size_t from);
/* The payload that may stand once only (RFC 3830 §3, RFC 6043 §4.2; doc/
 * mikey.md §3): the index of the only payload of `type` (and, for IDR,
 * RANDR and TR, of `role` when role >= 0), -1 when there is none, -2 when
 * there are more. The KMS and the UE find every such payload with it. */
int mk_chain_find_one(const mk_chain *c, uint16_t type, int role);
/* Which payloads may stand more than once in one chain (doc/mikey.md §3:
 * {x} and (x) in the message formats): SP, CERT, ERR, ID (IDi and IDr of
 * RFC 3830), General Extension, Key data (in a KEMAC); in TP Data also
 * IDRr and IDRapp (RFC 6043 §6.10). Every other payload, each IDR, RANDR
 * and TR role counted apart, stands at most once. */
bool mk_payload_may_repeat(const mk_payload *p, bool tp_data);
/* The index of the first payload that repeats one that may stand once
 * only (tp_data: the chain is TP Data or Initiator Data), or -1. */
int mk_chain_find_repeat(const mk_chain *c, bool tp_data);
/* Number of payloads of `type`. */
size_t mk_chain_count(const mk_chain *c, uint16_t type);

/* Content equality (type + fields; next, raw and off are ignored). */
bool mk_payload_equal(const mk_payload *a, const mk_payload *b);
bool mk_chain_equal(const mk_chain *a, const mk_chain *b);
bool mk_message_equal(const mk_message *a, const mk_message *b);

/* Byte spans of a DECODED message, for MAC / signature inputs. */
/* The message without the MAC / signature field of its last payload (V mac,
 * KEMAC mac or SIGN signature; RFC 3830 §5.2, RFC 6043 §5.5). MK_E_ARG if the
 * last payload is none of these. */
mk_err mk_message_signed_part(const mk_message *m, mk_bytes *out) MK_MUST_USE;
/* TRANSFER_INIT MAC input without the TICKET's Initiator Data length and
 * Initiator Data (RFC 6043 §5.5): head = message start .. end of Ticket
 * Data, tail = after Initiator Data .. end of message minus the last
 * payload's MAC field. ticket_idx is the TICKET's index in m->chain. */
mk_err mk_message_transfer_parts(const mk_message *m, size_t ticket_idx,
                                 mk_bytes *head, mk_bytes *tail) MK_MUST_USE;
/* Base ticket MAC input (RFC 6043 App. A.1): the TICKET payload bytes
 * without its Next payload byte, up to the end of Ticket Data, minus the
 * last mac_len bytes of Ticket Data (the V MAC). */
mk_err mk_ticket_mac_input(const mk_payload *ticket, size_t mac_len,
                           mk_bytes *out) MK_MUST_USE;

/* ------------------------------------------------------------------ */
/* Names (spec wording; "Unknown" for unassigned values) - names.c */
const char *mk_name_payload(int type);   /* incl. MK_PT_THDR */
const char *mk_name_data_type(int v);
const char *mk_name_error_no(int v);
const char *mk_name_id_role(int v);
const char *mk_name_id_type(int v);
const char *mk_name_cert_type(int v);
const char *mk_name_ts_type(int v);
const char *mk_name_ts_role(int v);
const char *mk_name_rand_role(int v);
const char *mk_name_encr_alg(int v);
const char *mk_name_mac_alg(int v);
const char *mk_name_prf(int v);
const char *mk_name_key_type(int v);
const char *mk_name_kv(int v);
const char *mk_name_map_type(int v);
const char *mk_name_hash_func(int v);
const char *mk_name_dh_group(int v);
const char *mk_name_sign_type(int v);
const char *mk_name_prot_type(int v);
const char *mk_name_sp_param(int prot_type, int param); /* SRTP table */
const char *mk_name_genext(int v);
const char *mk_name_key_id_type(int v);
const char *mk_name_ticket_type(int v);
const char *mk_name_pke_c(int v);

#endif
