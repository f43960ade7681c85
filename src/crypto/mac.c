/* mac.c - HMAC (EVP_MAC "HMAC"), the KEMAC/V MACs HMAC-SHA-1-160 (RFC 3830
 * §4.2.1) and HMAC-SHA-256-256 (RFC 6043 §6.2), constant-time verification.
 *
 * Speed: an answer of the KMS runs some twenty HMAC computations (PRF
 * blocks, V, ticket MAC). Fetching "HMAC" and its digest by name for each
 * cost more than the hashing; the contexts are kept per thread instead
 * (below), and hold no key between calls.
 */
#include "crypto/crypto.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ossl.h"

#define MK_HMAC_MAX 32

/* Each thread keeps one HMAC context per hash, created at its first use with
 * its digest set (the only digest lookup by name), keyed by mk_hmac_key
 * and re-keyed with a constant by mk_hmac_close, so that no key stays in
 * it between calls. busy: held by an open mk_hmac_ctx of
 * this thread; a nested open gets a context of its own. */
typedef struct hmac_slot {
    EVP_MAC_CTX *ctx;
    bool busy;
} hmac_slot;

static _Thread_local hmac_slot slots[2]; /* [0] SHA-1, [1] SHA-256 */
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
static pthread_key_t slot_key; /* frees a thread's slots when it exits */
static bool slot_key_ok;

static void slots_free(void *arg)
{
    hmac_slot *s = arg;
    for (size_t i = 0; i < 2; i++) {
        EVP_MAC_CTX_free(s[i].ctx);
        s[i].ctx = NULL;
        s[i].busy = false;
    }
}

/* exit() runs no thread-specific destructor: free the exiting thread's */
static void slots_free_at_exit(void)
{
    slots_free(slots);
}

static void slot_init(void)
{
    slot_key_ok = pthread_key_create(&slot_key, slots_free) == 0;
    /* registered after OpenSSL's own atexit handler (mk_ossl_hmac ran
     * first), so it runs before OpenSSL is cleaned up */
    if (slot_key_ok)
        (void)atexit(slots_free_at_exit);
}

/* A new HMAC context for one hash, digest set; NULL on failure. */
static EVP_MAC_CTX *new_ctx(EVP_MAC *mac, bool sha256)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL)
        return NULL;
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(
        OSSL_MAC_PARAM_DIGEST, sha256 ? "SHA256" : "SHA1", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

mk_err mk_hmac_open(mk_hmac_ctx *h, bool sha256)
{
    EVP_MAC *mac = mk_ossl_hmac();
    hmac_slot *s = &slots[sha256 ? 1 : 0];
    h->sha256 = sha256;
    h->len = sha256 ? 32 : 20;
    h->ctx = NULL;
    h->cached = false;
    h->keyed = h->fresh = false;
    h->key_n = 0;
    pthread_once(&slot_once, slot_init);
    if (mac != NULL && slot_key_ok && !s->busy) {
        if (s->ctx == NULL && (s->ctx = new_ctx(mac, sha256)) != NULL &&
            pthread_setspecific(slot_key, slots) != 0) {
            EVP_MAC_CTX_free(s->ctx); /* could not be freed at thread exit */
            s->ctx = NULL;
        }
        if (s->ctx != NULL) {
            s->busy = true;
            h->ctx = s->ctx;
            h->cached = true;
            return MK_OK;
        }
    }
    /* a context of its own: nested use, or no cache */
    EVP_MAC *fetched = mac != NULL ? NULL : EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL && fetched == NULL)
        MK_FAIL(MK_E_CRYPTO, "EVP_MAC_fetch(HMAC)");
    h->ctx = new_ctx(mac != NULL ? mac : fetched, sha256);
    EVP_MAC_free(fetched); /* the context holds its own reference */
    if (h->ctx == NULL)
        MK_FAIL(MK_E_CRYPTO, "EVP_MAC_CTX_new / digest");
    return MK_OK;
}

mk_err mk_hmac_key(mk_hmac_ctx *h, mk_bytes key)
{
    if (key.n == 0 || key.p == NULL)
        MK_FAIL(MK_E_ARG, "HMAC with an empty key");
    if (h->keyed && h->key_n > 0 && key.n == h->key_n &&
        CRYPTO_memcmp(key.p, h->key, key.n) == 0)
        return MK_OK;
    h->keyed = h->fresh = false;
    mk_wipe(h->key, sizeof h->key);
    h->key_n = 0;
    /* the digest was set when the context was made */
    if (EVP_MAC_init(h->ctx, key.p, key.n, NULL) != 1)
        MK_FAIL(MK_E_CRYPTO, "EVP_MAC_init");
    h->keyed = h->fresh = true;
    if (key.n <= sizeof h->key) {
        memcpy(h->key, key.p, key.n);
        h->key_n = key.n;
    }
    return MK_OK;
}

mk_err mk_hmac_keyed(mk_hmac_ctx *h, const mk_bytes *parts, size_t nparts,
                     uint8_t *out)
{
    if (!h->keyed)
        MK_FAIL(MK_E_ARG, "HMAC context without a key");
    /* a NULL key restarts from the keyed state (HMAC_Init_ex copies the
     * inner digest state): no ipad / opad work */
    if (!h->fresh && EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1)
        MK_FAIL(MK_E_CRYPTO, "EVP_MAC_init");
    h->fresh = false;
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n == 0)
            continue;
        if (parts[i].p == NULL)
            MK_FAIL(MK_E_ARG, "HMAC input part missing");
        if (EVP_MAC_update(h->ctx, parts[i].p, parts[i].n) != 1)
            MK_FAIL(MK_E_CRYPTO, "EVP_MAC_update");
    }
    size_t outl = 0;
    if (EVP_MAC_final(h->ctx, out, &outl, h->len) != 1 || outl != h->len)
        MK_FAIL(MK_E_CRYPTO, "EVP_MAC_final");
    return MK_OK;
}

mk_err mk_hmac_run(mk_hmac_ctx *h, mk_bytes key, const mk_bytes *parts,
                   size_t nparts, uint8_t *out)
{
    MK_GUARD(mk_hmac_key(h, key));
    return mk_hmac_keyed(h, parts, nparts, out);
}

void mk_hmac_close(mk_hmac_ctx *h)
{
    mk_wipe(h->key, sizeof h->key);
    h->key_n = 0;
    h->keyed = h->fresh = false;
    if (h->ctx == NULL)
        return;
    if (h->cached) {
        /* Re-keying replaces OpenSSL's copy of the key (freed with
         * OPENSSL_secure_clear_free) and overwrites the ipad / opad and
         * running digest states; a context that cannot be re-keyed is
         * freed instead (EVP_MAC_CTX_free cleanses it). */
        static const uint8_t blank[1];
        hmac_slot *s = &slots[h->sha256 ? 1 : 0];
        if (EVP_MAC_init(h->ctx, blank, sizeof blank, NULL) != 1) {
            EVP_MAC_CTX_free(h->ctx);
            s->ctx = NULL;
        }
        s->busy = false;
    } else {
        EVP_MAC_CTX_free(h->ctx);
    }
    h->ctx = NULL;
    h->cached = false;
}

mk_err mk_mac(int mac_alg, mk_bytes key, const mk_bytes *parts,
              size_t nparts, uint8_t *out, size_t cap)
{
    if (!mk_mac_supported(mac_alg))
        MK_FAIL(MK_E_VALUE, "unknown MAC alg");
    size_t len = mk_mac_len(mac_alg);
    if (len == 0) /* NULL MAC: no tag [RFC 3830 §6.2] */
        return MK_OK;
    if (cap < len)
        MK_FAIL(MK_E_NOSPACE, "MAC output buffer too small");
    mk_hmac_ctx h;
    MK_GUARD(mk_hmac_open(&h, mac_alg == MK_MAC_HMAC_SHA256_256));
    mk_err rc = mk_hmac_run(&h, key, parts, nparts, out);
    mk_hmac_close(&h);
    if (rc != MK_OK)
        mk_wipe(out, len);
    return rc;
}

mk_err mk_mac_verify(int mac_alg, mk_bytes key, const mk_bytes *parts,
                     size_t nparts, mk_bytes mac)
{
    uint8_t want[MK_HMAC_MAX];
    mk_err rc = MK_OK;
    if (!mk_mac_supported(mac_alg))
        MK_FAIL(MK_E_VALUE, "unknown MAC alg");
    size_t len = mk_mac_len(mac_alg);
    /* The tag length is fixed by the algorithm; any other length is a
     * failed verification, not a parse error. */
    if (mac.n != len) {
        rc = mk_err_raise(MK_E_MIKEY_AUTH, -1, 0, "MAC has the wrong length");
        goto cleanup;
    }
    if (len == 0)
        goto cleanup;
    MK_GUARD_GOTO(mk_mac(mac_alg, key, parts, nparts, want, sizeof want), rc,
                  cleanup);
    if (CRYPTO_memcmp(want, mac.p, len) != 0)
        rc = mk_err_raise(MK_E_MIKEY_AUTH, -1, 0, "MAC does not verify");
cleanup:
    mk_wipe(want, sizeof want);
    return rc;
}

bool mk_ct_equal(const void *a, const void *b, size_t n)
{
    if (n == 0)
        return true;
    return CRYPTO_memcmp(a, b, n) == 0;
}
