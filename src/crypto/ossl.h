/* ossl.h - the one place OpenSSL headers are included (crypto module only).
 *
 * Owns: the OpenSSL API level we build against (3.0, no deprecated APIs:
 * only EVP, EVP_MAC, RAND and CRYPTO_* helpers), the algorithm objects
 * fetched once per process (fetch.c), and the HMAC context helper shared by
 * the PRF (prf.c) and the MACs (mac.c).
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

EVP_MAC *mk_ossl_hmac(void);
const EVP_MD *mk_ossl_md(bool sha256); /* false: SHA-1 */
const EVP_CIPHER *mk_ossl_cipher(mk_ossl_cipher_id id);

/* An HMAC context for one hash (SHA-1 or SHA-256) that can be keyed again for
 * every computation, so that the PRF does not allocate per block. It is
 * normally the calling thread's cached context for that hash (mac.c): open
 * and close then cost no allocation and no fetch. Only the thread that
 * opened it may use and close it.
 *
 * Keying (the ipad / opad blocks) costs about as much as a short HMAC: the
 * context remembers the key it holds (key, key_n; up to MK_HMAC_KEY_KEEP
 * bytes) so that the PRF, which runs several HMACs under one key and
 * several derivations under one inkey, keys it once. */
#define MK_HMAC_KEY_KEEP 32 /* a PRF chunk, RFC 3830 §4.1.2 */

typedef struct mk_hmac_ctx {
    EVP_MAC_CTX *ctx;
    bool cached; /* the thread's cached context (else owned, freed) */
    bool sha256;
    size_t len;  /* output bytes: 20 or 32 */
    bool keyed;  /* holds a key (the one below when key_n > 0) */
    bool fresh;  /* keyed and not used since: no re-init needed */
    uint8_t key[MK_HMAC_KEY_KEEP]; /* a secret; wiped by mk_hmac_close */
    size_t key_n;
} mk_hmac_ctx;

/* sha256 false: HMAC-SHA-1 (RFC 2104 with SHA-1); true: HMAC-SHA-256. */
mk_err mk_hmac_open(mk_hmac_ctx *h, bool sha256);
/* Key h with key (not empty); nothing to do when it holds that key. */
mk_err mk_hmac_key(mk_hmac_ctx *h, mk_bytes key);
/* out receives h->len bytes: HMAC(key, parts[0] || ... || parts[n-1]) with
 * the key of the last mk_hmac_key (OpenSSL 3 re-initialises from the keyed
 * state when no key is given). */
mk_err mk_hmac_keyed(mk_hmac_ctx *h, const mk_bytes *parts, size_t nparts,
                     uint8_t *out);
/* mk_hmac_key then mk_hmac_keyed. */
mk_err mk_hmac_run(mk_hmac_ctx *h, mk_bytes key, const mk_bytes *parts,
                   size_t nparts, uint8_t *out);
/* Ends the use of h. No key outlives this call: the thread's cached context
 * is re-keyed with a constant, which replaces both OpenSSL's copy of the key
 * and the keyed (ipad / opad) state; an owned context is freed (OpenSSL
 * cleanses it); h's copy of the key is wiped. */
void mk_hmac_close(mk_hmac_ctx *h);

/* The MIKEY PRF (prf.c, the contract of mk_prf) with an open HMAC context
 * of the PRF's hash (sha256 iff PRF-HMAC-SHA-256): derivations from one
 * inkey share its keyed state. */
mk_err mk_prf_with(mk_hmac_ctx *h, mk_bytes inkey, mk_bytes label,
                   uint8_t *out, size_t outlen);

#endif
