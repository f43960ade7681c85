/* mikey_payload.h - the in-memory form of a MIKEY (RFC 3830) /
 * MIKEY-TICKET (RFC 6043) message: the common header and its CS ID map
 * entries, one struct per payload, the chain of payloads, the message, the
 * lengths that field values imply, and payload constructors.
 *
 * Decoded forms are zero-copy: every variable-length field is an mk_bytes
 * pointing into the decoded input, and every payload keeps `raw`, the exact
 * byte span it had on the wire. The message API (decoders, encoders,
 * iterators, chain helpers, names) is codec/mikey.h, which includes this.
 */
#ifndef MK_CODEC_MIKEY_PAYLOAD_H
#define MK_CODEC_MIKEY_PAYLOAD_H

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
/* Payload constructors (next/raw/off zero) */

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

#endif
