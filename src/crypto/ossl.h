/* ossl.h - the one place OpenSSL headers are included (crypto module only).
 *
 * Owns: the OpenSSL API level we build against (3.0, no deprecated APIs:
 * only EVP, RAND and CRYPTO_* helpers), the algorithm objects fetched once
 * per process (fetch.c), and the HMAC context shared by the PRF (prf.c) and
 * the MACs (mac.c).
 *
 * Never include this outside src/crypto.
 */
#ifndef MK_CRYPTO_OSSL_H
#define MK_CRYPTO_OSSL_H

#ifndef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT 30000
#endif
#ifndef OPENSSL_NO_DEPRECATED
#define OPENSSL_NO_DEPRECATED
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "util/cursor.h"
#include "util/err.h"

/* --- algorithms fetched once per process (fetch.c) ---
 * OpenSSL 3 looks an algorithm up by name at every fetch and at every init
 * with a legacy EVP_sha256() / EVP_aes_*() object; these are fetched once.
 * NULL when no provider offers the algorithm: the caller then takes the
 * by-name path, which reports the error. */
typedef enum mk_ossl_cipher_id {
    MK_OSSL_AES_128_CTR,
    MK_OSSL_AES_256_CTR,
    MK_OSSL_AES_128_WRAP,
    MK_OSSL_AES_192_WRAP,
    MK_OSSL_AES_256_WRAP,
    MK_OSSL_CIPHER_COUNT
} mk_ossl_cipher_id;

const EVP_MD *mk_ossl_md(bool sha256); /* false: SHA-1 */
const EVP_CIPHER *mk_ossl_cipher(mk_ossl_cipher_id id);

/* An HMAC (RFC 2104) for one hash (SHA-1 or SHA-256) that can be keyed
 * once and computed many times, so that the PRF, which runs several HMACs
 * under one key and several derivations under one inkey, keys it once.
 * It is normally the calling thread's cached set of digest contexts
 * (mac.c): open and close then cost no allocation and no fetch. Only the
 * thread that opened it may use and close it.
 *
 * Keying digests the K ^ ipad and K ^ opad blocks into `in` and `out`;
 * an HMAC then continues a copy of each (the keyed state is kept for the
 * next HMAC) or, for the key's last use, `in` and `out` themselves. The
 * context remembers the key it holds (key, key_n; up to MK_HMAC_KEY_KEEP
 * bytes) so that keying it again with the same key costs nothing.
 *
 * Why digests and not EVP_MAC "HMAC": OpenSSL 3.0's HMAC re-initialises
 * from its keyed state by copying a digest context twice per computation
 * (HMAC_Init_ex and HMAC_Final) and puts an OSSL_PARAM round trip on every
 * init and final; its re-keying, which is how a cached context dropped its
 * key, digests two more blocks. Here a computation copies at most twice,
 * the last use of a key not at all, and closing costs no digest block. */
#define MK_HMAC_KEY_KEEP 32 /* a PRF chunk, RFC 3830 §4.1.2 */

typedef struct mk_hmac_ctx {
    EVP_MD_CTX *in;   /* state after K ^ ipad: a secret */
    EVP_MD_CTX *out;  /* state after K ^ opad: a secret */
    EVP_MD_CTX *work; /* the running digest of one computation */
    const EVP_MD *md;
    bool cached; /* the thread's cached contexts (else owned, freed) */
    bool sha256;
    size_t len;  /* output bytes: 20 or 32 */
    bool keyed;  /* in and out hold the key below (or a longer one) */
    unsigned dirty; /* bit i: c[i] of in, out, work held a secret state */
    uint8_t key[MK_HMAC_KEY_KEEP]; /* a secret; wiped by mk_hmac_close */
    size_t key_n;
} mk_hmac_ctx;

/* sha256 false: HMAC-SHA-1 (RFC 2104 with SHA-1); true: HMAC-SHA-256. */
mk_err mk_hmac_open(mk_hmac_ctx *h, bool sha256) MK_MUST_USE;
/* Key h with key (not empty); nothing to do when it holds that key. */
mk_err mk_hmac_key(mk_hmac_ctx *h, mk_bytes key) MK_MUST_USE;
/* out receives h->len bytes: HMAC(key, parts[0] || ... || parts[n-1]) with
 * the key of the last mk_hmac_key, which h keeps. */
mk_err mk_hmac_keyed(mk_hmac_ctx *h, const mk_bytes *parts, size_t nparts,
                     uint8_t *out) MK_MUST_USE;
/* The same for the key's last use: the keyed state itself is used up (no
 * copy); h must be keyed again before its next computation. */
mk_err mk_hmac_keyed_last(mk_hmac_ctx *h, const mk_bytes *parts,
                          size_t nparts, uint8_t *out) MK_MUST_USE;
/* Ends the use of h. No key outlives this call: every digest context that
 * held a keyed or running state is reset (OpenSSL cleanses the state it
 * frees), an owned context is freed (cleansed), h's copy of the key is
 * wiped. */
void mk_hmac_close(mk_hmac_ctx *h);

/* The MIKEY PRF (prf.c, the contract of mk_prf) with an open HMAC context
 * of the PRF's hash (sha256 iff PRF-HMAC-SHA-256): derivations from one
 * inkey share its keyed state. more: another derivation from this inkey
 * follows (h keeps its keyed state; else the last HMAC uses it up). */
mk_err mk_prf_with(mk_hmac_ctx *h, mk_bytes inkey, mk_bytes label,
                   uint8_t *out, size_t outlen, bool more) MK_MUST_USE;

#endif
