/* ue_internal.h - helpers shared by the UE sources (the .c files of src/ue), not part
 * of the UE API (ue/ue.h).
 *
 * Owns: choosing fixed-or-drawn values, decoding and checking a received
 * message's header, reading an Error message, the RFC 6043 §6.10 flag
 * rules, the GENERIC-ID map / SP reading and writing of the Ticket Transfer,
 * and one-line identity helpers. */
#ifndef MK_UE_UE_INTERNAL_H
#define MK_UE_UE_INTERNAL_H

#include "ue/ue.h"

/* The CSB ID, T and RAND of a new message: the fixed ones, else drawn
 * (mk_random) / read from the clock. rand_buf holds a drawn RAND of
 * max(16, suite key length) bytes; *rand points at the fixed or drawn one
 * (MK_E_ARG for a fixed RAND of 0 or more than 255 bytes). */
mk_err mk_ue_pick_csb(const mk_ue_fixed *f, uint32_t *csb) MK_MUST_USE;
uint64_t mk_ue_pick_t(const mk_ue_fixed *f);
mk_err mk_ue_pick_rand(const mk_ue_fixed *f, const mk_suite *s,
                       uint8_t rand_buf[MK_UE_RAND_MAX], mk_bytes *rand) MK_MUST_USE;


/* Append an IDR of ID type URI (the UE's identities are SIP / TEL URIs)
 * unless omit (a test asks to leave it out). */
mk_err mk_ue_add_idr(mk_chain *c, bool omit, uint8_t role, mk_bytes id) MK_MUST_USE;

/* REQUEST_INIT_PSK and RESOLVE_INIT_PSK (RFC 6043 §4.2.1, §4.2.3) are
 * HDR, T, RANDR, [IDR], [IDRkms], TP or TICKET, [IDRpsk], V. begin: the
 * header (#CS 0, Empty map, V flag 0: doc/mikey.md §7 item 2, the KMS
 * ignores it), T, the RANDR of randr_role, the UE's own IDR of own_role
 * and IDRkms (unless cr omits them); the caller adds TP or TICKET. end:
 * [IDRpsk] and V, with room for the MAC that sign fills in. */
mk_err mk_ue_init_psk_begin(mk_message *m, uint8_t data_type,
                            const mk_suite *suite, uint32_t csb, uint64_t t,
                            uint8_t randr_role, mk_bytes randr,
                            uint8_t own_role,
                            const mk_ue_creds *cr) MK_MUST_USE;
mk_err mk_ue_init_psk_end(mk_message *m, const mk_suite *suite,
                          const mk_ue_creds *cr) MK_MUST_USE;

/* V of those two: auth_key from the UE's PSK with the initial label
 * (RFC 6043 §5.1.2; RANDRi from the Initiator, RANDRr only from the
 * Responder: doc/mikey.md §7 item 4), over the message || the UE's
 * identity || Identity_kms (§5.5 Table 5.2). The signed message into ob;
 * the keys wiped. */
mk_err mk_ue_init_psk_sign(const mk_message *m, const mk_suite *suite,
                           const mk_ue_creds *cr, uint32_t csb,
                           mk_bytes randri, mk_bytes randrr,
                           mk_buf *ob) MK_MUST_USE;

/* Keep the forking modifier of a forked session: the IDRr and RANDRkms
 * that RESOLVE_RESP carries and TRANSFER_RESP echoes (RFC 6043 §4.2.3.5,
 * doc/mikey.md §3.2); both sides' forked keys derive from them. */
mk_err mk_ue_session_keep_fork(mk_ue_session *s, const mk_payload *idrr,
                               const mk_payload *randrkms) MK_MUST_USE;

/* An identity argument: 1..MK_UE_ID_MAX bytes, else MK_E_ARG(what). */
mk_err mk_ue_check_id(mk_bytes id, const char *what) MK_MUST_USE;

/* Decode bytes that must be one MIKEY message with the given data type
 * (MK_E_MIKEY_DT otherwise) and version 1 (MK_E_MIKEY_UNSPEC), in which no
 * payload that may stand once only is repeated (MK_E_VALUE at the second
 * copy; codec/mikey.h mk_payload_may_repeat). */
mk_err mk_ue_decode(mk_bytes in, uint8_t data_type, mk_message *m) MK_MUST_USE;
/* TP Data (or the TP Data of a TICKET) as mk_tp_data_decode, with the same
 * refusal of repeats (IDRr and IDRapp may repeat there). */
mk_err mk_ue_tp_data_decode(mk_bytes tp_data, mk_chain *out) MK_MUST_USE;

/* The suite of a decoded message from its HDR PRF and its V auth alg
 * (last payload must be V: MK_E_VALUE otherwise). */
mk_err mk_ue_suite_of(const mk_message *m, const mk_suite **s) MK_MUST_USE;

/* If `answer` is a MIKEY Error message (data type 6) to a message whose
 * message-protection keys are k (the failing message's, RFC 6043 §5.4):
 * fill *perr (if not NULL), verify its V if present, and return the mk_err
 * of its first Error number; *is_error tells whether it was one. A CSB ID
 * different from csb_id is MK_E_VALUE (not an answer to our message). */
mk_err mk_ue_peer_error_check(mk_bytes answer, uint32_t csb_id,
                              const mk_msg_keys *k, mk_ue_peer_error *perr,
                              bool *is_error) MK_MUST_USE;

/* The KMS's answer to one of our initial messages (REQUEST_INIT_PSK or
 * RESOLVE_INIT_PSK, already decoded as `init`, received bytes init_raw,
 * of algorithm suite `suite`, with RANDRi / RANDRr as sent, one of them
 * empty; mikey.md §7 item 4). Either an Error message (RFC 6043 §5.4:
 * reported through perr with *is_error set, keyed like init; returns the
 * mk_err of its first Error number), or a message of data type resp_dt
 * for init's CSB ID and suite whose V verifies under the response keys
 * (RFC 6043 §5.1.2: response label, the same RANDs) over answer || init
 * (§5.5 Table 5.2), that carries T and KEMAC and, if an IDRkms, ours.
 * Its KEMAC is then decrypted into keys (IV from this message's CSB ID
 * and T, mikey.md §7 item 3). The shared part of accepting REQUEST_RESP
 * (§4.2.1.5) and RESOLVE_RESP (§4.2.3.5); the caller checks the rest. */
mk_err mk_ue_open_kms_answer(const mk_ue_creds *creds, const mk_message *init,
                             mk_bytes init_raw, const mk_suite *suite,
                             mk_bytes randri, mk_bytes randrr,
                             uint8_t resp_dt, mk_bytes answer,
                             mk_message *ans, mk_key_set *keys,
                             mk_ue_peer_error *perr, bool *is_error) MK_MUST_USE;

/* RFC 6043 §6.10: ¬D⇒L, G⇒F, ¬G⇒H, ¬H⇒G, I⇒E, K⇒D, M⇒F. */
bool mk_ue_tp_flags_consistent(uint16_t flags);

/* The only payload of chain c of the given type (and IDR / RANDR / TR
 * role when role >= 0), or NULL when there is none or more than one
 * (codec/mikey.h mk_chain_find_one; mk_ue_decode has refused repeats). */
const mk_payload *mk_ue_find(const mk_chain *c, uint16_t type, int role);

/* The CS map and SRTP policies of a Ticket Transfer message: the GENERIC-ID
 * blocks of its HDR (MK_E_VALUE for another map type, MK_E_LIMIT beyond
 * MK_UE_CS_MAX) with, per CS, the first policy it names and the parameters
 * of that SP payload (of `sps`, a message whose SP payloads are used; a
 * policy without an SP payload keeps mk_ue_srtp_policy_default). */
mk_err mk_ue_cs_read(const mk_message *m, const mk_message *sps,
                     const mk_suite *s, mk_ue_cs *cs, size_t *n_cs) MK_MUST_USE;

/* Append one GENERIC-ID block (SRTP, S = 0, one policy number, Session Data
 * = SSRC when has_ssrc, SPI) to a map-info buffer. */
mk_err mk_ue_cs_put(mk_buf *map, const mk_ue_cs *cs, const uint8_t *policy_no) MK_MUST_USE;

/* The SP parameters of an SRTP policy (RFC 3830 §6.10.1) into b. */
mk_err mk_ue_sp_params_put(mk_buf *b, const mk_ue_srtp_policy *p) MK_MUST_USE;

/* Index (>= first_key) of the session key a CS uses: the one whose SPI
 * equals the CS's SPI, else the first session key. MK_E_NOT_FOUND if the
 * key set has no session key. */
mk_err mk_ue_key_for_cs(const mk_key_set *ks, size_t first_key,
                        const mk_ue_cs *cs, size_t *index) MK_MUST_USE;

/* Fill the key set's session part check: entry 0 is an MPK, entry 1 too iff
 * with_mpkr, then >= 1 session keys (TGK/TEK/GTGK, +SALT), no further MPK.
 * MK_E_VALUE otherwise. *first_key = 1 or 2. */
mk_err mk_ue_key_set_check(const mk_key_set *ks, bool with_mpkr,
                           size_t *first_key) MK_MUST_USE;

#endif
