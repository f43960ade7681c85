/* crypto.h - every cryptographic operation of mikeykms. This module is the
 * only user of OpenSSL in the tree.
 *
 * Owns: mk_key (a secret in a fixed buffer, wiped with mk_key_wipe), the MIKEY
 * PRF (RFC 3830 §4.1.2, PRF-HMAC-SHA-256 of RFC 6043 §6.1), the derivation
 * labels of RFC 3830 §4.1.3/§4.1.4 and RFC 6043 §5.1 / App. A.2, KEMAC
 * encryption (AES-CM-128/256 with the RFC 3830 §4.2.3 IV, AES-KW-128 of
 * RFC 3394), the MACs (HMAC-SHA-1-160, HMAC-SHA-256-256) with constant-time
 * verification, SHA-256, randomness (RAND_bytes only) and the known-answer
 * self test run before serving.
 *
 * Algorithm numbers are the wire values of util/mikey_const.h.
 * Every function wipes its intermediate secrets on every path.
 */
#ifndef MK_CRYPTO_CRYPTO_H
#define MK_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/mikey_const.h"
#include "util/cursor.h"
#include "util/err.h"

#define MK_KEY_MAX 64

/* A secret. Always wipe (mk_key_wipe) before it goes out of scope. */
typedef struct mk_key {
    uint8_t b[MK_KEY_MAX];
    size_t n;
} mk_key;

mk_err mk_key_copy(mk_key *k, mk_bytes src) MK_MUST_USE; /* MK_E_LIMIT if > MK_KEY_MAX */
mk_bytes mk_key_bytes(const mk_key *k);
void mk_key_wipe(mk_key *k);
void mk_wipe(void *p, size_t n); /* explicit_bzero: never optimised away */

/* Lengths implied by algorithms: 0 for NULL and also for unknown values, so
 * check mk_*_supported first (the derivations and mk_mac* return MK_E_VALUE
 * for unknown values). salt_key: 112 bits for AES-CM-128/256 (the IV,
 * RFC 3830 §4.2.3), 64 bits for AES-KW-128 (its RFC 3394 IV, §4.2.4). */
size_t mk_mac_len(int mac_alg);        /* MAC / Ver data bytes: 0, 20, 32 */
size_t mk_auth_key_len(int mac_alg);   /* 0, 20, 32 */
size_t mk_encr_key_len(int encr_alg);  /* 0, 16, 16, 32 */
size_t mk_salt_key_len(int encr_alg);  /* 0 NULL, 14 AES-CM, 8 AES-KW */
bool mk_prf_supported(int prf_func);
bool mk_mac_supported(int mac_alg);
bool mk_encr_supported(int encr_alg);

/* --- PRF (RFC 3830 §4.1.2; RFC 6043 §6.1 for prf_func 1) ---
 * inkey is cut into 256-bit chunks, the last one possibly shorter, never
 * empty (32- and 64-byte inkeys are one / two full chunks). MK_E_VALUE for
 * an unknown prf_func, MK_E_ARG for an empty inkey. */
mk_err mk_prf(int prf_func, mk_bytes inkey, mk_bytes label, uint8_t *out,
              size_t outlen) MK_MUST_USE;

/* --- labels --- */
#define MK_LABEL_ID_MAX 1024 /* longest ID Data accepted in a forking label */
#define MK_LABEL_RAND_MAX 255 /* a RAND behind a one-byte length [6043 §5.1] */
/* The longest label: the forking label with the longest ID Data and RAND,
 * const(4) 0xFF(1) 0xFFFFFFFF(4) 0x00(1) len16(2) ID len8(1) RAND. */
#define MK_LABEL_MAX (13 + MK_LABEL_ID_MAX + MK_LABEL_RAND_MAX)
typedef struct mk_label {
    uint8_t b[MK_LABEL_MAX];
    size_t n;
} mk_label;

/* RFC 3830 §4.1.3: const || cs_id || csb_id || RAND (no length byte). */
mk_err mk_label_3830_tgk(mk_label *l, uint32_t c, uint8_t cs_id,
                         uint32_t csb_id, mk_bytes rand) MK_MUST_USE;
/* RFC 3830 §4.1.4: const || 0xFF || csb_id || RAND. */
mk_err mk_label_3830_psk(mk_label *l, uint32_t c, uint32_t csb_id,
                         mk_bytes rand) MK_MUST_USE;
/* RFC 6043 §5.1.2 message protection: const || 0xFF || csb_id || kind ||
 * len || RANDRi || len || RANDRr; kind 0x01 initial, 0x02 response. An
 * absent RAND is an empty mk_bytes (length byte 0). */
#define MK_LABEL_KIND_INITIAL 0x01
#define MK_LABEL_KIND_RESPONSE 0x02
mk_err mk_label_6043_msg(mk_label *l, uint32_t c, uint32_t csb_id,
                         uint8_t kind, mk_bytes randri, mk_bytes randrr) MK_MUST_USE;
/* RFC 6043 §5.1.3: const || cs_id || 0xFFFFFFFF || 0x03 || len || RANDRi ||
 * len || RANDRr. */
mk_err mk_label_6043_tek(mk_label *l, uint32_t c, uint8_t cs_id,
                         mk_bytes randri, mk_bytes randrr) MK_MUST_USE;
/* RFC 6043 §5.1.1 forking: const || 0xFF || 0xFFFFFFFF || 0x00 || len16 ||
 * ID Data || len8 || RANDRkms. */
mk_err mk_label_6043_fork(mk_label *l, uint32_t c, mk_bytes id_data,
                          mk_bytes randrkms) MK_MUST_USE;
/* RFC 6043 §6.10 (code 0x04, rand NULL) and App. A.2 (codes 0x05, 0x06 with
 * len || RAND): const || 0xFF || 0xFFFFFFFF || code [|| len || RAND]. */
mk_err mk_label_6043_fixed(mk_label *l, uint32_t c, uint8_t code,
                           const mk_bytes *rand) MK_MUST_USE;

/* --- derived key sets --- */

/* encr_key, salt_key, auth_key protecting one message or one ticket. */
typedef struct mk_msg_keys {
    int encr_alg;
    int mac_alg;
    mk_key encr;
    mk_key salt;
    mk_key auth;
} mk_msg_keys;
void mk_msg_keys_wipe(mk_msg_keys *k);

/* RFC 6043 §5.1.2: keys protecting an initial (kind 1) or response (kind 2)
 * message, from a PSK, envelope key, MPKi or MPKr'. */
mk_err mk_msg_keys_6043(int prf_func, mk_bytes inkey, uint32_t csb_id,
                        uint8_t kind, mk_bytes randri, mk_bytes randrr,
                        int encr_alg, int mac_alg, mk_msg_keys *out) MK_MUST_USE;
/* RFC 3830 §4.1.4: keys protecting a 3830 PSK/PK message. */
mk_err mk_msg_keys_3830(int prf_func, mk_bytes inkey, uint32_t csb_id,
                        mk_bytes rand, int encr_alg, int mac_alg,
                        mk_msg_keys *out) MK_MUST_USE;
/* RFC 6043 App. A.2.1: base-ticket keys from the TPK and ticket RAND. */
mk_err mk_ticket_keys(int prf_func, mk_bytes tpk, mk_bytes rand,
                      int encr_alg, int mac_alg, mk_msg_keys *out) MK_MUST_USE;
/* RFC 6043 App. A.2.2: MPKi and MPKr from MPK and ticket RAND (same length
 * as MPK). */
mk_err mk_mpk_split(int prf_func, mk_bytes mpk, mk_bytes rand, mk_key *mpki,
                    mk_key *mpkr) MK_MUST_USE;
/* RFC 6043 §5.1.1: forked key (c = MK_C_FORK_MPKR or MK_C_FORK_TGK), same
 * length as the input key. */
mk_err mk_fork_key(int prf_func, uint32_t c, mk_bytes key, mk_bytes id_data,
                   mk_bytes randrkms, mk_key *out) MK_MUST_USE;
/* RFC 6043 §6.10: the auth key of Vr in Initiator Data, from unforked MPKr
 * (label code 0x04, constant MK_C_AUTH_KEY, length from mac_alg). */
mk_err mk_vr_key(int prf_func, mk_bytes mpkr, int mac_alg, mk_key *out) MK_MUST_USE;
/* RFC 6043 §5.1.3: SRTP master key (TEK, keylen bytes) and master salt
 * (saltlen bytes, may be 0 with salt NULL) for cs_id from a TGK / TGK' /
 * GTGK. Absent RANDs empty; at least one must be present (MK_E_ARG). */
mk_err mk_srtp_master(int prf_func, mk_bytes tgk, uint8_t cs_id,
                      mk_bytes randri, mk_bytes randrr, uint8_t *key,
                      size_t keylen, uint8_t *salt, size_t saltlen) MK_MUST_USE;

/* --- KEMAC encryption (RFC 3830 §4.2.3-4.2.4, RFC 6043 §6.2) --- */

/* AES-CM IV = (salt_key XOR (0x0000 || csb_id || t64)) || 0x0000. t64 is the
 * 64-bit timestamp (util/ntp.h mk_ts_to_ntp64 for COUNTER / NTP-UTC-32).
 * AES-CM: out = in length, at most 2^20 bytes (MK_E_LIMIT). AES-KW-128:
 * KEK = encr_key, RFC 3394 IV = salt_key, csb_id/t64 unused; plain must be
 * n >= 2 blocks of 8 bytes (MK_E_VALUE), out is 8 bytes longer; decrypt
 * gives MK_E_LENGTH for a malformed length and MK_E_UNWRAP (output wiped)
 * when the integrity check fails. NULL: a copy. MK_E_ARG when the key
 * lengths in k do not match k->encr_alg, MK_E_NOSPACE when cap is short. */
mk_err mk_kemac_encrypt(const mk_msg_keys *k, uint32_t csb_id, uint64_t t64,
                        mk_bytes plain, uint8_t *out, size_t cap,
                        size_t *outlen) MK_MUST_USE;
mk_err mk_kemac_decrypt(const mk_msg_keys *k, uint32_t csb_id, uint64_t t64,
                        mk_bytes cipher, uint8_t *out, size_t cap,
                        size_t *outlen) MK_MUST_USE;

/* --- MACs --- */

/* HMAC over the concatenation of parts; out must hold mk_mac_len(alg). */
mk_err mk_mac(int mac_alg, mk_bytes key, const mk_bytes *parts,
              size_t nparts, uint8_t *out, size_t cap) MK_MUST_USE;
/* Recompute and compare in constant time; MK_E_MIKEY_AUTH on mismatch and
 * when mac.n is not mk_mac_len(mac_alg) (NULL MAC: only an empty mac). */
mk_err mk_mac_verify(int mac_alg, mk_bytes key, const mk_bytes *parts,
                     size_t nparts, mk_bytes mac) MK_MUST_USE;
bool mk_ct_equal(const void *a, const void *b, size_t n);

/* --- other primitives --- */
mk_err mk_random(uint8_t *out, size_t n) MK_MUST_USE; /* RAND_bytes */
mk_err mk_sha256(const mk_bytes *parts, size_t nparts, uint8_t out[32]) MK_MUST_USE;
/* RFC 3394 AES key wrap with a 16/24/32-byte KEK and the default IV
 * A6A6A6A6A6A6A6A6 (iv8 NULL) or the 8-byte iv8 given. plain is a multiple
 * of 8 bytes, at least 16 (MK_E_VALUE); wrapped is plain + 8 bytes. Unwrap:
 * MK_E_LENGTH for a bad length, MK_E_UNWRAP (out wiped) when the integrity
 * check of RFC 3394 §2.2.3 fails. */
mk_err mk_aes_kw_wrap(mk_bytes kek, const uint8_t *iv8, mk_bytes plain,
                      uint8_t *out, size_t cap, size_t *outlen) MK_MUST_USE;
mk_err mk_aes_kw_unwrap(mk_bytes kek, const uint8_t *iv8, mk_bytes wrapped,
                        uint8_t *out, size_t cap, size_t *outlen) MK_MUST_USE;

/* --- GBA (TS 33.220 Annex B, gba.c) and HTTP Digest hashes (hash.c) --- */
#define MK_GBA_KEY_LEN 32          /* Ks = CK || IK, and Ks_NAF */
#define MK_GBA_KDF_PARAMS_MAX 8
#define MK_GBA_FC_KS_NAF 0x01      /* 33.220 B.3: Ks_(ext)_NAF */
/* 33.220 B.2: HMAC-SHA-256(key, FC || P0 || L0 || ... || Pn-1 || Ln-1),
 * each Li two bytes big-endian; np 1..8, each parameter at most 65535
 * bytes (MK_E_ARG). */
mk_err mk_gba_kdf(mk_bytes key, uint8_t fc, const mk_bytes *p, size_t np,
                  uint8_t out[MK_GBA_KEY_LEN]) MK_MUST_USE;
/* 33.220 B.3: Ks_NAF = KDF(Ks, 0x01, "gba-me", RAND, IMPI, NAF_Id), Ks of
 * 32 bytes; impi and naf_id as UTF-8 / the bytes given (NAF_Id = NAF FQDN
 * || Ua security protocol identifier). */
mk_err mk_gba_ks_naf(mk_bytes ks, mk_bytes rand, mk_bytes impi,
                     mk_bytes naf_id, uint8_t out[MK_GBA_KEY_LEN]) MK_MUST_USE;

/* The hashes of HTTP Digest (RFC 7616 §3.4.1), named by the CHASH numbers
 * of util/mikey_const.h: MK_HASH_MD5, MK_HASH_SHA256 (no other). */
typedef enum mk_hash_func mk_hash_alg;
size_t mk_hash_len(mk_hash_alg alg); /* 16, 32; 0 for any other alg */
mk_err mk_hash(mk_hash_alg alg, const mk_bytes *parts, size_t nparts,
               uint8_t *out, size_t cap) MK_MUST_USE;

/* Known-answer tests of every primitive and derivation (libsrtp style); the
 * servers refuse to start when it fails. */
mk_err mk_crypto_selftest(void) MK_MUST_USE;

#endif
