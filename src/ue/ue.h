/* ue.h - the UE side of MIKEY-TICKET (RFC 6043 §4.2), mode 1: build
 * REQUEST_INIT_PSK, TRANSFER_INIT, RESOLVE_INIT_PSK and TRANSFER_RESP, accept
 * REQUEST_RESP, RESOLVE_RESP and TRANSFER_RESP, and derive the SRTP master
 * keys and salts (RFC 6043 §5.1.3).
 *
 * Owns: the parameters of each UE message (mk_ue_*_params), what an
 * Initiator knows after the Ticket Request (mk_ue_ticket), what either party
 * knows after the Ticket Transfer (mk_ue_session), a peer's MIKEY Error
 * message as seen by a UE (mk_ue_peer_error), and the SRTP master key and
 * salt of one crypto session (mk_ue_srtp). Encoding, decoding, KEMAC
 * seal/open, V sign/verify and all crypto are those of codec/, proto/ and
 * crypto/; nothing is re-implemented here. No I/O: tools/mikey-ue.c does it.
 *
 * Statelessness: every step takes the messages it depends on as bytes (the
 * CLI re-runs the earlier accept steps to rebuild its structs), so a step
 * never trusts anything it did not verify itself.
 *
 * Secrets (PSK given by the caller, MPKs, TGKs, TEKs, SRTP masters) live in
 * mk_key / mk_key_set buffers; every function wipes its intermediates on
 * every path, and the caller wipes the structs below with their _wipe
 * function.
 *
 * Decisions (mikey.md §7):
 * - HDR V flag of REQUEST_INIT_PSK / RESOLVE_INIT_PSK is 0 (RFC 6043 §6.1
 *   reading; §4.2.1.1/§4.2.3.1 say 1, the KMS ignores it either way).
 * - T is NTP-UTC (64 bit), RANDs are max(16, suite key length) bytes.
 * - Identity_i / Identity_r / Identity_kms in MAC inputs (RFC 6043 §5.5
 *   Table 5.2) are the ID Data the caller configures (IMPU, kms id), used
 *   whether or not the IDR payload is sent (profile §4).
 * - The RANDRr of the TEK label (RFC 6043 §5.1.3, G = 1) is the one carried
 *   in TRANSFER_RESP, the only RANDRr the Initiator ever sees (mikey.md §7
 *   item 13). The Responder draws a fresh RANDRr for TRANSFER_RESP unless
 *   the caller fixes it (a caller may pass the RESOLVE_INIT value: the two
 *   enter different labels, so reuse is harmless but not done by default).
 */
#ifndef MK_UE_UE_H
#define MK_UE_UE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mikey.h"
#include "crypto/crypto.h"
#include "proto/proto.h"
#include "util/cursor.h"
#include "util/err.h"

#define MK_UE_MSG_MAX 8192   /* largest message the UE builds or accepts */
#define MK_UE_ID_MAX 256     /* one identity (IMPU, kms id, psk id) */
#define MK_UE_IDRR_MAX 8     /* responders named in a requested TP */
#define MK_UE_TMPL_MAX 8     /* keys in a KEMAC template (profile §4) */
#define MK_UE_CS_MAX 8       /* crypto sessions in a GENERIC-ID map */
#define MK_UE_RAND_MAX 255   /* a RAND behind a one-byte length */
#define MK_UE_PEER_ERR_MAX 8 /* ERR payloads reported from an Error message */

/* ------------------------------------------------------------------ */
/* Common inputs */

/* Who this UE is towards its KMS. All spans are borrowed. */
typedef struct mk_ue_creds {
    mk_bytes psk;    /* the PSK shared with the KMS (16 or 32 bytes) */
    mk_bytes psk_id; /* IDRpsk ID Data (byte string); empty: not sent */
    mk_bytes impu;   /* own identity: IDRi (Initiator) / IDRr (Responder),
                        ID type URI; Identity_i / Identity_r in MACs */
    mk_bytes kms_id; /* Identity_kms (ID type URI); always in the MAC input */
    bool omit_own_idr;   /* do not send IDRi / IDRr (still in the MAC) */
    bool omit_idrkms;    /* do not send IDRkms (still in the MAC) */
} mk_ue_creds;

/* Values normally drawn at random or read from the clock; a tester fixes
 * them to reproduce a message byte for byte. */
typedef struct mk_ue_fixed {
    bool has_csb_id;
    uint32_t csb_id;
    bool has_t;
    uint64_t t_ntp; /* 64-bit NTP-UTC */
    mk_bytes rand;  /* RANDRi / RANDRr; empty: drawn (max(16, key_len)) */
} mk_ue_fixed;

/* A MIKEY Error message (data type 6) received instead of an answer
 * (RFC 6043 §5.4). The accept functions fill it and return the mk_err of
 * the first Error number (MK_E_MIKEY_AUTH for 0, ..., MK_E_MIKEY_UNSPEC for
 * numbers without their own code). */
typedef struct mk_ue_peer_error {
    bool present;
    size_t n;
    uint8_t err_no[MK_UE_PEER_ERR_MAX];
    bool v_present;  /* the Error message carried a V */
    bool v_verified; /* ... and it verified with the failing message's key */
} mk_ue_peer_error;

/* ------------------------------------------------------------------ */
/* Ticket Request: REQUEST_INIT_PSK (RFC 6043 §4.2.1) */

/* One wanted key of the KEMAC template in the requested TP (RFC 6043 §6.10):
 * encoded as a Key data with key_len zero key bytes, salt_len zero salt
 * bytes (only for a +SALT type) and KV (NULL, or SPI with spi_len zero
 * bytes; the KMS draws the real SPI). */
typedef struct mk_ue_key_tmpl {
    uint8_t type;     /* enum mk_key_type: TGK, TEK, GTGK (+SALT) */
    uint8_t key_len;  /* bytes */
    uint8_t salt_len; /* bytes, +SALT types only */
    uint8_t kv;       /* MK_KV_NULL or MK_KV_SPI */
    uint8_t spi_len;
} mk_ue_key_tmpl;

typedef struct mk_ue_request_params {
    const mk_suite *suite;   /* &mk_suite_128 or &mk_suite_256 */
    mk_ue_creds creds;       /* impu = IDRi */
    mk_bytes idrr[MK_UE_IDRR_MAX]; /* wanted responders (URI), >= 1 */
    size_t n_idrr;
    uint16_t flags;          /* requested TP flags (MK_TPF_*; K is sent 0) */
    uint64_t trs_unix;       /* requested validity; 0 = no TRs */
    uint64_t tre_unix;       /* 0 = no TRe */
    mk_ue_key_tmpl tmpl[MK_UE_TMPL_MAX]; /* KEMAC template; none = no KEMAC */
    size_t n_tmpl;
    mk_ue_fixed fixed;       /* CSB ID, T, RANDRi */
} mk_ue_request_params;

/* Defaults: the given suite, flags D|E|F|G|H (KMS-made ticket, resolve
 * mandatory, TRANSFER_RESP sent, RANDRi and RANDRr both in the TEK label,
 * no forking: add MK_TPF_I for it), no TRs/TRe, no template, nothing fixed;
 * creds and idrr left empty. */
void mk_ue_request_params_init(mk_ue_request_params *p, const mk_suite *s);

/* Build REQUEST_INIT_PSK (data type 11) = HDR (#CS 0, Empty map, V 0), T,
 * RANDRi, [IDRi], [IDRkms], TP (Ticket Type 1/1/1, TP PRF = suite PRF, TP
 * Data [IDRkms] [IDRi] [TRs] [TRe] [KEMAC template] (IDRr)+), [IDRpsk], V
 * with auth_key = mk_msg_keys_6043(HDR PRF, PSK, CSB, kind 1, RANDRi, -)
 * over message-without-MAC || Identity_i || Identity_kms (RFC 6043 §5.5).
 * The message goes into out[0..cap), its length into *outlen. */
mk_err mk_ue_request_init(const mk_ue_request_params *p, uint8_t *out,
                          size_t cap, size_t *outlen) MK_MUST_USE;

/* ------------------------------------------------------------------ */
/* What the Initiator holds after REQUEST_RESP */

#define MK_UE_TICKET_MAX 4096

typedef struct mk_ue_ticket {
    const mk_suite *suite;  /* of the Ticket Request (same for Transfer) */
    uint16_t ticket_type, flags; /* granted TP; flags incl. K */
    uint8_t subtype, version, tp_prf;
    uint64_t trs_unix, tre_unix; /* granted validity, 0 = unbounded */
    /* The TICKET payload exactly as received (its Next payload byte
     * included; re-decode with mk_payload_decode(MK_PT_TICKET)). */
    uint8_t ticket[MK_UE_TICKET_MAX];
    size_t ticket_len;
    /* KEMAC of REQUEST_RESP in order: MPKi, [MPKr] (iff I), keys */
    mk_key_set keys;
    size_t first_key;       /* index of the first session key in keys */
} mk_ue_ticket;

void mk_ue_ticket_wipe(mk_ue_ticket *t);

/* Accept REQUEST_RESP (13) to REQUEST_INIT_PSK `request_init`: verify V
 * (kind-2 auth_key from PSK and RANDRi, over the answer without MAC ||
 * entire REQUEST_INIT), decrypt the KEMAC (kind 2, IV from the answer's own
 * CSB ID and T), and check the granted policy (RFC 6043 §4.2.1.6): Ticket
 * Type 1/1/1, D = 1, the §6.10 flag rules, granted IDRkms / IDRi equal to
 * ours when present, every granted IDRr one we asked for, MPKr present iff
 * I, at least one session key; flags that we requested and that
 * `required_flags` names must still be set. A refusal of the policy is
 * MK_E_POLICY. An Error message answer fills *perr (may be NULL) and
 * returns the error of its first Error number. */
mk_err mk_ue_accept_request_resp(const mk_ue_creds *creds,
                                 mk_bytes request_init, mk_bytes answer,
                                 uint16_t required_flags, mk_ue_ticket *out,
                                 mk_ue_peer_error *perr) MK_MUST_USE;

/* ------------------------------------------------------------------ */
/* Ticket Transfer (RFC 6043 §4.2.2) */

/* One SRTP security policy (SP payload, RFC 3830 §6.10.1). A zero field is
 * not sent (except encr/auth alg, always sent). */
typedef struct mk_ue_srtp_policy {
    uint8_t encr_alg;     /* 1 AES-CM (SP type 0) */
    uint8_t encr_key_len; /* 16 / 32 (type 1): also the master key length */
    uint8_t auth_alg;     /* 1 HMAC-SHA-1 (type 2) */
    uint8_t auth_key_len; /* 20 (type 3) */
    uint8_t salt_len;     /* 14 (type 4): the master salt length */
    uint8_t auth_tag_len; /* 10 (type 11) */
} mk_ue_srtp_policy;

/* AES-CM with the suite's key length, HMAC-SHA-1, auth key 20, salt 14,
 * tag 10 (libsrtp AES_CM_128/256_HMAC_SHA1_80). */
void mk_ue_srtp_policy_default(const mk_suite *s, mk_ue_srtp_policy *p);

/* One crypto session of the GENERIC-ID map (RFC 6043 §6.1.1), SRTP. */
typedef struct mk_ue_cs {
    uint8_t cs_id;        /* 1.. */
    bool has_ssrc;        /* Session Data = SSRC (4 bytes) */
    uint32_t ssrc;
    uint8_t spi[MK_SPI_MAX]; /* SPI = MKI; spi_len 0: none */
    size_t spi_len;
    uint8_t policy_no;    /* read from a map; transfer_init numbers the SP
                             payloads by CS index and ignores this field */
    mk_ue_srtp_policy policy; /* its SP payload */
} mk_ue_cs;

typedef struct mk_ue_transfer_params {
    mk_bytes idri;        /* own identity (IDRi, Identity_i) */
    mk_bytes idrr;        /* the Responder (IDRr, Identity_r) */
    bool omit_idri, omit_idrr; /* not sent (still in the MAC) */
    mk_ue_cs cs[MK_UE_CS_MAX];
    size_t n_cs;          /* >= 1 */
    mk_ue_fixed fixed;    /* CSB ID, T, RANDRi (new, not the request's) */
} mk_ue_transfer_params;

/* Build TRANSFER_INIT (14) = HDR (GENERIC-ID map, one block per CS with its
 * policy no, SSRC and SPI; V flag = F), T, RANDRi, [IDRi], [IDRr], {SP},
 * TICKET (from tk), V keyed from MPKi (kind 1, CSB, RANDRi) over the
 * message without the MAC, the Initiator Data length and Initiator Data ||
 * Identity_i || Identity_r. With I = 1 the TICKET's Initiator Data is then
 * filled with Vi (copy of V) and Vr (RFC 6043 §6.10). */
mk_err mk_ue_transfer_init(const mk_ue_ticket *tk,
                           const mk_ue_transfer_params *p, uint8_t *out,
                           size_t cap, size_t *outlen) MK_MUST_USE;

/* ------------------------------------------------------------------ */
/* Ticket Resolve (RFC 6043 §4.2.3) */

/* Build RESOLVE_INIT_PSK (16) = HDR (#CS 0, Empty map, V 0; PRF = that of
 * TRANSFER_INIT), T, RANDRr, [IDRr], [IDRkms], TICKET (exact copy from
 * TRANSFER_INIT, Initiator Data included), [IDRpsk], V (kind-1 auth_key
 * from the Responder's PSK and RANDRr) over message-without-MAC ||
 * Identity_r || Identity_kms. creds.impu = IDRr. */
mk_err mk_ue_resolve_init(const mk_ue_creds *creds, mk_bytes transfer_init,
                          const mk_ue_fixed *fixed, uint8_t *out, size_t cap,
                          size_t *outlen) MK_MUST_USE;

/* What either party holds after the Ticket Transfer. */
typedef struct mk_ue_session {
    const mk_suite *suite;
    uint16_t flags;        /* the ticket's TP flags */
    uint8_t tp_prf;        /* TP PRF (forking) */
    uint32_t csb_id;       /* of TRANSFER_INIT */
    uint8_t randri[MK_UE_RAND_MAX];   /* of TRANSFER_INIT */
    size_t randri_len;
    uint8_t randrr[MK_UE_RAND_MAX];   /* of TRANSFER_RESP (G = 1), else 0 */
    size_t randrr_len;
    bool forked;           /* I = 1 */
    uint8_t idrr[MK_UE_ID_MAX];       /* forking identity (IDRr ID Data) */
    size_t idrr_len;
    uint8_t randrkms[MK_UE_RAND_MAX]; /* forking modifier */
    size_t randrkms_len;
    /* MPKi, [MPKr'] (iff forked), session keys (TGK' when forked) */
    mk_key_set keys;
    size_t first_key;      /* index of the first session key */
    mk_ue_cs cs[MK_UE_CS_MAX]; /* the CS map (of TRANSFER_RESP once known) */
    size_t n_cs;
} mk_ue_session;

void mk_ue_session_wipe(mk_ue_session *s);

/* Accept RESOLVE_RESP (18) to `resolve_init` (Responder): verify V (kind-2
 * auth_key from PSK and RANDRr, over the answer without MAC || entire
 * RESOLVE_INIT), decrypt the KEMAC (kind 2, RANDRr; IV from the answer's
 * CSB and T): MPKi, [MPKr'], keys; read IDRr / RANDRkms (forking); then
 * verify TRANSFER_INIT's V with MPKi (Identity_i = its IDRi, else the
 * ticket policy's IDRi; Identity_r = its IDRr, else creds.impu) and, if
 * I = 1, that its V
 * equals Vi of the Initiator Data (RFC 6043 §4.2.3.6). Fills the session
 * (CS map from TRANSFER_INIT). Error message answers as for the request. */
mk_err mk_ue_accept_resolve_resp(const mk_ue_creds *creds,
                                 mk_bytes transfer_init,
                                 mk_bytes resolve_init, mk_bytes answer,
                                 mk_ue_session *out, mk_ue_peer_error *perr) MK_MUST_USE;

typedef struct mk_ue_transfer_resp_params {
    /* For CSs whose Session Data / SPI TRANSFER_INIT left empty (by
     * index in the map): the SSRC to fill in; an empty SPI is filled with
     * the SPI of the key the CS uses. */
    bool has_ssrc[MK_UE_CS_MAX];
    uint32_t ssrc[MK_UE_CS_MAX];
    mk_ue_fixed fixed;    /* T and RANDRr (G = 1); csb_id unused */
} mk_ue_transfer_resp_params;

/* Build TRANSFER_RESP (15) = HDR (CSB of TRANSFER_INIT, GENERIC-ID map with
 * exactly one policy per CS, Session Data and SPI present, V 0), T,
 * [RANDRr iff G], [IDRr, RANDRkms iff forked, echoed from RESOLVE_RESP],
 * {SP}, V keyed from MPKi (not forked) or MPKr' (forked), kind 2 with
 * RANDRi and RANDRr (iff G), over the message without MAC || entire
 * TRANSFER_INIT. Stores RANDRr and the final CS map into s. */
mk_err mk_ue_transfer_resp(mk_ue_session *s, mk_bytes transfer_init,
                           const mk_ue_transfer_resp_params *p, uint8_t *out,
                           size_t cap, size_t *outlen) MK_MUST_USE;

/* Accept TRANSFER_RESP (15) to `transfer_init` (Initiator): with forking
 * compute MPKr' = fork(MPKr, IDRr, RANDRkms) and every TGK' likewise
 * (RFC 6043 §5.1.1, TP PRF), verify V, take RANDRr (G) and the CS map.
 * An Error message answer (RFC 6043 §5.4, V keyed as TRANSFER_INIT's) is
 * reported in *perr. */
mk_err mk_ue_accept_transfer_resp(const mk_ue_ticket *tk,
                                  mk_bytes transfer_init, mk_bytes answer,
                                  mk_ue_session *out, mk_ue_peer_error *perr) MK_MUST_USE;

/* Take a TRANSFER_RESP into a session whose keys are final (MPKi, MPKr'
 * and TGK' already forked): check CSB ID and PRF, RANDRr iff G, with
 * forking IDRr / RANDRkms equal to the session's, verify V (as
 * mk_ue_transfer_resp computes it), then store RANDRr and the CS map of
 * TRANSFER_RESP. mk_ue_accept_transfer_resp ends with it; a stateless
 * Responder (the CLI) rebuilds its session with mk_ue_accept_resolve_resp
 * and takes its own TRANSFER_RESP back with it. */
mk_err mk_ue_session_take_transfer_resp(mk_ue_session *s,
                                        mk_bytes transfer_init,
                                        mk_bytes transfer_resp) MK_MUST_USE;

/* ------------------------------------------------------------------ */
/* SRTP keys (RFC 6043 §5.1.3) */

typedef struct mk_ue_srtp {
    uint8_t cs_id;
    uint8_t key_type;    /* the session key it came from */
    size_t key_index;    /* index of that key in session.keys */
    mk_key master_key;   /* SRTP master key */
    mk_key master_salt;  /* SRTP master salt */
    uint8_t mki[MK_SPI_MAX]; /* the CS's SPI */
    size_t mki_len;
} mk_ue_srtp;

void mk_ue_srtp_wipe(mk_ue_srtp *k);

/* SRTP master key and salt of crypto session cs_id from session key
 * key_index (an index into s->keys, >= s->first_key): for a TGK / TGK' /
 * GTGK (+SALT) mk_srtp_master with RANDRi iff H and RANDRr iff G, key and
 * salt lengths from the CS's SRTP policy (a +SALT key's own salt replaces
 * the derived one, RFC 3830 §4.1.3); a TEK is the master key itself, its
 * salt the Key data salt (TEK+SALT) or none (TEK: master_salt.n == 0). */
mk_err mk_ue_srtp_keys_from(const mk_ue_session *s, size_t key_index,
                            uint8_t cs_id, mk_ue_srtp *out) MK_MUST_USE;
/* The same with the key chosen by the CS's SPI (the session key whose SPI
 * equals it), else the first TGK/GTGK/TEK of the session. */
mk_err mk_ue_srtp_keys(const mk_ue_session *s, uint8_t cs_id,
                       mk_ue_srtp *out) MK_MUST_USE;

#endif
