/* ossl.h - the one place OpenSSL headers are included (crypto module only).
 *
 * Owns: the OpenSSL API level we build against (3.0, no deprecated APIs:
 * only EVP, EVP_MAC, RAND and CRYPTO_* helpers), and the HMAC context helper
 * shared by the PRF (prf.c) and the MACs (mac.c).
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

/* An HMAC context for one hash (SHA-1 or SHA-256) that can be keyed again for
 * every computation, so that the PRF does not allocate per block. */
typedef struct mk_hmac_ctx {
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;
    const char *digest; /* "SHA1" or "SHA256" */
    size_t len;         /* output bytes: 20 or 32 */
} mk_hmac_ctx;

/* sha256 false: HMAC-SHA-1 (RFC 2104 with SHA-1); true: HMAC-SHA-256. */
mk_err mk_hmac_open(mk_hmac_ctx *h, bool sha256);
/* out receives h->len bytes: HMAC(key, parts[0] || ... || parts[n-1]). The
 * key must not be empty (OpenSSL 3.0 HMAC treats a NULL key as "keep the
 * previous one"). */
mk_err mk_hmac_run(mk_hmac_ctx *h, mk_bytes key, const mk_bytes *parts,
                   size_t nparts, uint8_t *out);
/* Frees the context; OpenSSL cleanses the keyed state. */
void mk_hmac_close(mk_hmac_ctx *h);

#endif
