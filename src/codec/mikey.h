/* mikey.h - the MIKEY (RFC 3830) / MIKEY-TICKET (RFC 6043) message model,
 * its decoders and encoders.
 *
 * Owns: the in-memory form of a message (mk_message = HDR + a chain of
 * payloads), one struct per payload, the nested chains of RFC 6043 (TP Data,
 * Initiator Data, base-ticket Ticket Data, KEMAC plaintext), iterators over
 * the CS ID map info, SP parameters and Key ID sub-payloads, the lengths a
 * field value implies, payload constructors and printable names.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/mikey_const.h"
#include "util/cursor.h"
#include "util/err.h"

/* ------------------------------------------------------------------ */
/* Common header and CS ID map (RFC 3830 §6.1, RFC 4563 §5, 6043 §6.1.1) */

#define MK_HDR_FIXED_LEN 10

typedef struct mk_hdr {
    uint8_t version;      /* not checked by the codec */
    uint8_t data_type;    /* enum mk_data_type */
    uint8_t next_payload; /* decode: from the wire; encode: derived */
    bool v;               /* V flag */
    uint8_t prf_func;     /* 7 bits, enum mk_prf_func */
    uint32_t csb_id;
    uint8_t n_cs;         /* #CS */
    uint8_t map_type;     /* enum mk_map_type */
    mk_bytes map_info;    /* validated against n_cs and map_type */
} mk_hdr;

/* One SRTP-ID entry (RFC 3830 §6.1.1), 9 bytes on the wire. */
typedef struct mk_srtp_id {
    uint8_t policy_no;
    uint32_t ssrc;
    uint32_t roc;
} mk_srtp_id;
#define MK_SRTP_ID_LEN 9

/* One GENERIC-ID block (RFC 6043 §6.1.1). */
typedef struct mk_generic_id {
    uint8_t cs_id;
    uint8_t prot_type;     /* enum mk_prot_type */
    bool s;                /* S flag: ROC and SEQ present in Session Data */
    mk_bytes policies;     /* #P Policy_no bytes (#P <= 127) */
    mk_bytes session_data; /* 16-bit length */
    mk_bytes spi;          /* 8-bit length (MKI for SRTP) */
} mk_generic_id;

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

/* MK_OK iff map_info has exactly the layout n_cs/map_type demand. */
mk_err mk_map_validate(uint8_t map_type, uint8_t n_cs, mk_bytes map_info) MK_MUST_USE;

/* ------------------------------------------------------------------ */
/* Payloads */

/* Key validity data (RFC 3830 §6.13/§6.14), used by Key data and DH. */
typedef struct mk_kv {
    uint8_t type;        /* enum mk_kv_type: NULL, SPI, Interval */
    mk_bytes spi;        /* SPI/MKI (type SPI), 8-bit length */
    mk_bytes valid_from; /* type Interval, 8-bit length */
    mk_bytes valid_to;   /* type Interval, 8-bit length */
} mk_kv;

/* KEMAC (1), RFC 3830 §6.2. encr_data is opaque (encrypted) bytes. */
typedef struct mk_kemac {
    uint8_t encr_alg;   /* enum mk_encr_alg */
    mk_bytes encr_data; /* 16-bit length */
    uint8_t mac_alg;    /* enum mk_mac_alg; implies the MAC length */
    mk_bytes mac;       /* see "MAC placeholders" below */
} mk_kemac;

/* PKE (2), RFC 3830 §6.3. */
typedef struct mk_pke {
    uint8_t c;     /* 2 bits: cache indicator */
    mk_bytes data; /* 14-bit length */
} mk_pke;

/* DH (3), RFC 3830 §6.4. */
typedef struct mk_dh {
    uint8_t group;  /* enum mk_dh_group; implies the value length */
    mk_bytes value;
    uint8_t res;    /* the 4 reserved bits, preserved */
    mk_kv kv;
} mk_dh;

/* SIGN (4), RFC 3830 §6.5. Has no Next payload field: always last. */
typedef struct mk_sign {
    uint8_t s_type;     /* 4 bits, enum mk_sign_type */
    mk_bytes signature; /* 12-bit length */
} mk_sign;

/* T (5), RFC 3830 §6.6 / 6043 §6.3. value as on the wire: the 32-bit types
 * (COUNTER, NTP-UTC-32) are in the low 32 bits. */
typedef struct mk_t {
    uint8_t ts_type; /* enum mk_ts_type */
    uint64_t value;
} mk_t;

/* ID (6) and CERT (7), RFC 3830 §6.7. */
typedef struct mk_id {
    uint8_t type;  /* enum mk_id_type or enum mk_cert_type */
    mk_bytes data; /* 16-bit length */
} mk_id;

/* CHASH (8), RFC 3830 §6.8 / 6043 §6.7. */
typedef struct mk_chash {
    uint8_t hash_func; /* enum mk_hash_func; implies the length */
    mk_bytes hash;
} mk_chash;

/* V (9), RFC 3830 §6.9. */
typedef struct mk_v {
    uint8_t auth_alg; /* enum mk_mac_alg; implies the length */
    mk_bytes mac;     /* see "MAC placeholders" below */
} mk_v;

/* SP (10), RFC 3830 §6.10. params is the TLV sequence (validated). */
typedef struct mk_sp {
    uint8_t policy_no;
    uint8_t prot_type; /* enum mk_prot_type */
    mk_bytes params;   /* 16-bit length, Type(1) Length(1) Value TLVs */
} mk_sp;

typedef struct mk_sp_param {
    uint8_t type;
    mk_bytes value;
} mk_sp_param;

/* RAND (11), RFC 3830 §6.11. */
typedef struct mk_rand {
    mk_bytes rand; /* 8-bit length */
} mk_rand;

/* ERR (12), RFC 3830 §6.12. */
typedef struct mk_errp {
    uint8_t err_no;    /* enum mk_error_no */
    uint16_t reserved; /* preserved */
} mk_errp;

/* TR (13), RFC 6043 §6.4. */
typedef struct mk_tr {
    uint8_t role;    /* enum mk_ts_role */
    uint8_t ts_type; /* enum mk_ts_type */
    uint64_t value;  /* as in mk_t */
} mk_tr;

/* IDR (14), RFC 6043 §6.6. */
typedef struct mk_idr {
    uint8_t role;    /* enum mk_id_role */
    uint8_t id_type; /* enum mk_id_type */
    mk_bytes data;   /* 16-bit length */
} mk_idr;

/* RANDR (15), RFC 6043 §6.8. */
typedef struct mk_randr {
    uint8_t role;  /* enum mk_rand_role */
    mk_bytes rand; /* 8-bit length */
} mk_randr;

/* TP (16) and TICKET (17), RFC 6043 §6.10. For TP, ticket_data and
 * initiator_data are empty and not encoded. The nested data stay bytes here;
 * decode them with mk_tp_data_decode (TP Data, Initiator Data: the message
 * decoder has already validated them) and mk_base_ticket_decode (Ticket
 * Data: opaque to the message decoder and encoder, never validated by
 * them, so this decode can fail on a message that decoded). */
typedef struct mk_tp {
    uint16_t ticket_type; /* enum mk_ticket_type */
    uint8_t subtype;
    uint8_t version;
    uint8_t prf_func;     /* 7 bits */
    uint16_t flags;       /* MK_TPF_* of mikey_const.h */
    uint8_t res;          /* the 5 reserved bits, preserved (low bits) */
    mk_bytes tp_data;        /* first-payload byte + chain, 16-bit length */
    mk_bytes ticket_data;    /* TICKET only, 16-bit length */
    mk_bytes initiator_data; /* TICKET only, 16-bit length */
} mk_tp;

/* Key data (20), RFC 3830 §6.13 / 6043 §6.2.1: only inside KEMAC plaintext. */
typedef struct mk_keydata {
    uint8_t type;  /* 4 bits, enum mk_key_type; implies salt presence */
    mk_bytes key;  /* 16-bit length */
    mk_bytes salt; /* 16-bit length; present iff type is a +SALT type */
    mk_kv kv;      /* kv.type is the 4-bit KV field */
} mk_keydata;

/* General Extension (21), RFC 3830 §6.15. Data is opaque to the decoder;
 * Key ID data (type 3, RFC 4563 §4) is read with mk_key_id_next. MIKEY-TICKET
 * does not use General Extensions. */
typedef struct mk_genext {
    uint8_t type;  /* enum mk_genext_type */
    mk_bytes data; /* 16-bit length */
} mk_genext;

typedef struct mk_key_id {
    uint8_t type;   /* Key ID Type (RFC 4563 §4) */
    mk_bytes value; /* 8-bit length */
} mk_key_id;

/* THDR, base ticket only (RFC 6043 App. A.3). It has no payload number; it
 * is the implicit first element of base-ticket Ticket Data. */
typedef struct mk_thdr {
    uint8_t next;  /* type of the payload after THDR */
    mk_bytes data; /* 16-bit length, implementation specific */
} mk_thdr;

typedef struct mk_payload {
    uint16_t type; /* enum mk_payload_type */
    uint8_t next;  /* decode: Next payload on the wire (SIGN: 0) */
    mk_bytes raw;  /* decode: exact byte span of this payload */
    size_t off;    /* decode: absolute offset of raw in the decoded input */
    union {
        mk_kemac kemac;
        mk_pke pke;
        mk_dh dh;
        mk_sign sign;
        mk_t t;
        mk_id id;   /* ID and CERT */
        mk_chash chash;
        mk_v v;
        mk_sp sp;
        mk_rand rand;
        mk_errp err;
        mk_tr tr;
        mk_idr idr;
        mk_randr randr;
        mk_tp tp;   /* TP and TICKET */
        mk_keydata keydata;
        mk_genext genext;
    } u;
} mk_payload;

#define MK_CHAIN_MAX 32

typedef struct mk_chain {
    uint16_t first; /* type of p[0], MK_PT_LAST when empty */
    size_t count;
    mk_payload p[MK_CHAIN_MAX];
} mk_chain;

typedef struct mk_message {
    mk_hdr hdr;
    mk_chain chain;
    mk_bytes raw;     /* decode: the whole message */
    mk_bytes hdr_raw; /* decode: the HDR bytes incl. map info */
} mk_message;

/* MAC placeholders: when ENCODING, a KEMAC mac or V mac with p == NULL and
 * n == the implied length is written as n zero bytes. The caller computes
 * the MAC over the encoded bytes and patches it into the last n bytes of the
 * output (the MAC is the last field of KEMAC and V; V is last in a message).
 * A NULL pointer with any other n is MK_E_VALUE. */

/* ------------------------------------------------------------------ */
/* Lengths implied by field values (the codec's own table, kept equal to
 * crypto.h mk_mac_len; the codec does not depend on crypto). -1 = unknown. */
int mk_mac_len_of(int mac_alg);     /* 0, 20, 32 */
int mk_ts_len_of(int ts_type);      /* 8, 8, 4, 4 */
int mk_hash_len_of(int hash_func);  /* 20, 16, 32 */
int mk_dh_len_of(int group);        /* 192, 96, 128 */
bool mk_key_type_has_salt(int key_type); /* TGK+SALT, TEK+SALT, GTGK+SALT */
bool mk_key_type_known(int key_type);    /* 0..7 */

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
/* Number of payloads of `type`. */
size_t mk_chain_count(const mk_chain *c, uint16_t type);

/* Content equality (type + fields; next, raw and off are ignored). */
bool mk_payload_equal(const mk_payload *a, const mk_payload *b);
bool mk_chain_equal(const mk_chain *a, const mk_chain *b);
bool mk_hdr_equal(const mk_hdr *a, const mk_hdr *b);
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

/* Payload constructors (next/raw/off zero). */
mk_payload mk_pl_kemac(uint8_t encr_alg, mk_bytes encr_data, uint8_t mac_alg,
                       mk_bytes mac);
mk_payload mk_pl_pke(uint8_t c, mk_bytes data);
mk_payload mk_pl_dh(uint8_t group, mk_bytes value, mk_kv kv);
mk_payload mk_pl_sign(uint8_t s_type, mk_bytes signature);
mk_payload mk_pl_t(uint8_t ts_type, uint64_t value);
mk_payload mk_pl_id(uint8_t id_type, mk_bytes data);
mk_payload mk_pl_cert(uint8_t cert_type, mk_bytes data);
mk_payload mk_pl_chash(uint8_t hash_func, mk_bytes hash);
mk_payload mk_pl_v(uint8_t auth_alg, mk_bytes mac);
mk_payload mk_pl_sp(uint8_t policy_no, uint8_t prot_type, mk_bytes params);
mk_payload mk_pl_rand(mk_bytes rand);
mk_payload mk_pl_err(uint8_t err_no);
mk_payload mk_pl_tr(uint8_t role, uint8_t ts_type, uint64_t value);
mk_payload mk_pl_idr(uint8_t role, uint8_t id_type, mk_bytes data);
mk_payload mk_pl_randr(uint8_t role, mk_bytes rand);
mk_payload mk_pl_tp(const mk_tp *tp);     /* type TP */
mk_payload mk_pl_ticket(const mk_tp *tp); /* type TICKET */
mk_payload mk_pl_keydata(uint8_t key_type, mk_bytes key, mk_bytes salt,
                         mk_kv kv);
mk_payload mk_pl_genext(uint8_t type, mk_bytes data);
mk_kv mk_kv_null(void);
mk_kv mk_kv_spi(mk_bytes spi);
mk_kv mk_kv_interval(mk_bytes valid_from, mk_bytes valid_to);

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
