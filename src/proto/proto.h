/* proto.h - MIKEY-TICKET building blocks that both the KMS and the UE use
 * (RFC 6043 §4.2, §5.5, §6.2): protecting a message with V, carrying keys in
 * a KEMAC, choosing the algorithm suite, and the identities that enter MAC
 * inputs. Nothing here knows whether it runs in the KMS or in a UE.
 *
 * Owns: mk_key_set (the keys of one KEMAC, wiped with mk_key_set_wipe),
 * mk_suite (the 128-bit or 256-bit algorithm suite, RFC 6043 §12.1), KEMAC
 * seal/open, V sign/verify.
 */
#ifndef MK_PROTO_PROTO_H
#define MK_PROTO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mikey.h"
#include "crypto/crypto.h"
#include "util/cursor.h"
#include "util/err.h"

/* --- algorithm suites (profile §4, RFC 6043 §12.1) --- */
typedef struct mk_suite {
    int prf_func;  /* MK_PRF_MIKEY_1 or MK_PRF_HMAC_SHA256 */
    int encr_alg;  /* MK_ENCR_AES_CM_128 or MK_ENCR_AES_CM_256 */
    int mac_alg;   /* MK_MAC_HMAC_SHA1_160 or MK_MAC_HMAC_SHA256_256 */
    size_t key_len; /* length of the MPK / TGK the KMS issues: 16 or 32 */
} mk_suite;

extern const mk_suite mk_suite_128;
extern const mk_suite mk_suite_256;

/* The suite of a received message from its HDR PRF func and V auth alg:
 * MK_E_MIKEY_PRF if the PRF is unknown, MK_E_MIKEY_MAC if the auth alg is
 * unknown or the two belong to different suites (RFC 6043 §12.1). */
mk_err mk_suite_of(int prf_func, int mac_alg, const mk_suite **out) MK_MUST_USE;

/* --- the keys of one KEMAC --- */
#define MK_KEYSET_MAX 10 /* MPKi, MPKr and up to 8 keys (profile §4) */
#define MK_SPI_MAX 16

typedef struct mk_key_entry {
    uint8_t type;  /* enum mk_key_type */
    mk_key key;
    mk_key salt;   /* n == 0 unless a +SALT type */
    uint8_t kv;    /* MK_KV_NULL or MK_KV_SPI */
    uint8_t spi[MK_SPI_MAX];
    size_t spi_len;
} mk_key_entry;

typedef struct mk_key_set {
    size_t count;
    mk_key_entry e[MK_KEYSET_MAX];
} mk_key_set;

void mk_key_set_wipe(mk_key_set *s);

/* Encrypt the keys as a Key data chain (RFC 3830 §6.13) under the message
 * keys k with the AES-CM IV of csb_id and t64 (RFC 3830 §4.2.3). The
 * ciphertext is written into cipher (cap bytes); *out becomes a KEMAC payload
 * pointing into it, MAC alg NULL (RFC 6043: V carries the MAC). The
 * plaintext is wiped before return. */
mk_err mk_kemac_seal(const mk_key_set *ks, const mk_msg_keys *k,
                     uint32_t csb_id, uint64_t t64, uint8_t *cipher,
                     size_t cap, mk_payload *out) MK_MUST_USE;

/* Decrypt a KEMAC and read its Key data chain into out (copied; the
 * plaintext is wiped). A plaintext that is not a valid Key data chain means
 * the keys were wrong: MK_E_MIKEY_AUTH. An Encr alg that differs from
 * k->encr_alg: MK_E_MIKEY_EA. A MAC alg other than NULL (RFC 6043 KEMACs
 * never carry one): MK_E_MIKEY_MAC. A key with KV Interval: MK_E_VALUE;
 * more than MK_KEYSET_MAX keys: MK_E_LIMIT. On any error out is wiped. */
mk_err mk_kemac_open(const mk_kemac *kemac, const mk_msg_keys *k,
                     uint32_t csb_id, uint64_t t64, mk_key_set *out) MK_MUST_USE;

/* --- V (RFC 3830 §6.9, RFC 6043 §5.5 Table 5.2) --- */

/* Encode m, whose last payload is a V with a placeholder MAC (p NULL,
 * n = MAC length of a real MAC alg, else MK_E_ARG), into out (appended at
 * out->n); then compute the MAC with auth_key over the encoded bytes
 * without the MAC field, followed by extra[0..nextra) (at most 7), and
 * write it into the MAC field. */
mk_err mk_v_encode_signed(const mk_message *m, mk_bytes auth_key,
                          const mk_bytes *extra, size_t nextra, mk_buf *out) MK_MUST_USE;

/* Verify the V (last payload) of a decoded message: MAC over
 * mk_message_signed_part(m) || extra, constant-time compare.
 * MK_E_MIKEY_AUTH on mismatch, when the last payload is not V, or when its
 * auth alg is NULL or unknown (a NULL V would "verify" anything). At most
 * 7 extra parts (MK_E_ARG). */
mk_err mk_v_verify(const mk_message *m, mk_bytes auth_key,
                   const mk_bytes *extra, size_t nextra) MK_MUST_USE;

/* The 64-bit value of a T payload as used in the AES-CM IV (mikey.md §4.4;
 * 32-bit types zero-padded). */
uint64_t mk_t_iv_value(const mk_t *t);

#endif
