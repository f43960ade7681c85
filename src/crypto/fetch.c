/* fetch.c - the OpenSSL algorithm objects the crypto module uses, fetched
 * once per process (ossl.h).
 *
 * OpenSSL 3 resolves an algorithm by name at every fetch and at every init
 * with a legacy EVP_sha256() / EVP_aes_*() object (an implicit fetch): a
 * method-store lookup under a lock that cost several microseconds per MAC
 * in the KMS core, more than the hashing itself. The fetched objects are immutable and
 * reference counted, so one copy serves every thread.
 *
 * When a fetch fails (no provider offers the algorithm) the object is NULL
 * and callers fall back to the by-name path, which then reports the error.
 * The objects are released at exit (before OpenSSL's own atexit cleanup,
 * which was registered earlier by the first fetch and so runs later).
 */
#include <pthread.h>
#include <stdlib.h>

#include "crypto/ossl.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_MD *md[2]; /* SHA1, SHA256 */
static EVP_CIPHER *cipher[MK_OSSL_CIPHER_COUNT];

static const char *const cipher_name[MK_OSSL_CIPHER_COUNT] = {
    [MK_OSSL_AES_128_CTR] = "AES-128-CTR",
    [MK_OSSL_AES_256_CTR] = "AES-256-CTR",
    [MK_OSSL_AES_128_WRAP] = "AES-128-WRAP",
    [MK_OSSL_AES_192_WRAP] = "AES-192-WRAP",
    [MK_OSSL_AES_256_WRAP] = "AES-256-WRAP",
};

static void release(void)
{
    /* contexts still holding these keep their own references */
    for (size_t i = 0; i < 2; i++) {
        EVP_MD_free(md[i]);
        md[i] = NULL;
    }
    for (size_t i = 0; i < MK_OSSL_CIPHER_COUNT; i++) {
        EVP_CIPHER_free(cipher[i]);
        cipher[i] = NULL;
    }
}

static void fetch_all(void)
{
    md[0] = EVP_MD_fetch(NULL, "SHA1", NULL);
    md[1] = EVP_MD_fetch(NULL, "SHA256", NULL);
    for (size_t i = 0; i < MK_OSSL_CIPHER_COUNT; i++)
        cipher[i] = EVP_CIPHER_fetch(NULL, cipher_name[i], NULL);
    /* a failed registration only leaves the objects to OpenSSL's cleanup */
    (void)atexit(release);
}

const EVP_MD *mk_ossl_md(bool sha256)
{
    pthread_once(&once, fetch_all);
    return md[sha256 ? 1 : 0];
}

const EVP_CIPHER *mk_ossl_cipher(mk_ossl_cipher_id id)
{
    pthread_once(&once, fetch_all);
    return (size_t)id < MK_OSSL_CIPHER_COUNT ? cipher[id] : NULL;
}
