/* mac.c - HMAC (RFC 2104) on OpenSSL's digests, the KEMAC/V MACs
 * HMAC-SHA-1-160 (RFC 3830 §4.2.1) and HMAC-SHA-256-256 (RFC 6043 §6.2),
 * constant-time verification.
 *
 * Speed: an answer of the KMS runs some twenty HMAC computations (PRF
 * blocks, V, ticket MAC) under seven keys. The digest contexts are kept
 * per thread (below) and hold no secret between calls. In OpenSSL 3.0
 * every digest init and every context copy frees and allocates the
 * provider's context (crypto/evp/digest.c, evp_md_init_internal and
 * EVP_MD_CTX_copy_ex), so no use of the EVP API is free of allocation; the
 * cheapest in instructions (callgrind, bench_kms --mem) is a keyed state
 * copied for each computation and used up by the last one (ossl.h). EVP_MAC
 * "HMAC" did the same copies plus an OSSL_PARAM round trip per call, and
 * dropped a key by keying again (two more digest blocks).
 */
#include "crypto/crypto.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ossl.h"

#define MK_HMAC_MAX 32
/* B of RFC 2104 §2: 64 bytes for SHA-1 and SHA-256 (FIPS 180-4 §1) */
#define MK_HMAC_BLOCK 64

/* Each thread keeps one set of digest contexts per hash, created at its
 * first use. busy: held by an open mk_hmac_ctx of this thread; a nested
 * open gets contexts of its own. */
typedef struct hmac_slot {
    EVP_MD_CTX *c[3]; /* in, out, work */
    bool busy;
} hmac_slot;

static _Thread_local hmac_slot slots[2]; /* [0] SHA-1, [1] SHA-256 */
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
static pthread_key_t slot_key; /* frees a thread's slots when it exits */
static bool slot_key_ok;

static void ctxs_free(EVP_MD_CTX **c)
{
    for (size_t i = 0; i < 3; i++) {
        EVP_MD_CTX_free(c[i]); /* cleanses what it frees */
        c[i] = NULL;
    }
}

static bool ctxs_new(EVP_MD_CTX **c)
{
    for (size_t i = 0; i < 3; i++)
        c[i] = EVP_MD_CTX_new();
    if (c[0] != NULL && c[1] != NULL && c[2] != NULL)
        return true;
    ctxs_free(c);
    return false;
}

static void slots_free(void *arg)
{
    hmac_slot *s = arg;
    for (size_t i = 0; i < 2; i++) {
        ctxs_free(s[i].c);
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
    /* the digests are fetched first, so that OpenSSL's own atexit handler
     * is registered before ours and runs after it */
    (void)mk_ossl_md(false);
    slot_key_ok = pthread_key_create(&slot_key, slots_free) == 0;
    if (slot_key_ok)
        (void)atexit(slots_free_at_exit);
}

mk_err mk_hmac_open(mk_hmac_ctx *h, bool sha256)
{
    hmac_slot *s = &slots[sha256 ? 1 : 0];
    memset(h, 0, sizeof *h);
    h->sha256 = sha256;
    h->len = sha256 ? 32 : 20;
    /* the once-fetched digest (fetch.c); the legacy object is fetched by
     * name at each init, which then reports a missing provider */
    h->md = mk_ossl_md(sha256);
    if (h->md == NULL)
        h->md = sha256 ? EVP_sha256() : EVP_sha1();
    pthread_once(&slot_once, slot_init);
    if (slot_key_ok && !s->busy) {
        if (s->c[0] == NULL && ctxs_new(s->c) &&
            pthread_setspecific(slot_key, slots) != 0)
            ctxs_free(s->c); /* could not be freed at thread exit */
        if (s->c[0] != NULL) {
            s->busy = true;
            h->cached = true;
            h->in = s->c[0];
            h->out = s->c[1];
            h->work = s->c[2];
            return MK_OK;
        }
    }
    /* contexts of its own: nested use, or no cache */
    EVP_MD_CTX *c[3];
    if (!ctxs_new(c))
        MK_FAIL(MK_E_CRYPTO, "EVP_MD_CTX_new");
    h->in = c[0];
    h->out = c[1];
    h->work = c[2];
    return MK_OK;
}

/* Digest the parts into ctx (already initialised). */
static mk_err update_parts(EVP_MD_CTX *ctx, const mk_bytes *parts,
                           size_t nparts)
{
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n == 0)
            continue;
        if (parts[i].p == NULL)
            MK_FAIL(MK_E_ARG, "HMAC input part missing");
        if (EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1)
            MK_FAIL(MK_E_CRYPTO, "EVP_DigestUpdate");
    }
    return MK_OK;
}

/* The state of H after one block of K ^ pad (RFC 2104 §2 steps 1-3). */
static mk_err key_block(EVP_MD_CTX *ctx, const EVP_MD *md, mk_bytes k,
                        uint8_t pad, uint8_t blk[MK_HMAC_BLOCK])
{
    memset(blk, pad, MK_HMAC_BLOCK);
    for (size_t i = 0; i < k.n; i++) /* k.n <= B (mk_hmac_key) */
        blk[i] ^= k.p[i];
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, blk, MK_HMAC_BLOCK) != 1)
        MK_FAIL(MK_E_CRYPTO, "EVP_DigestInit_ex2 / HMAC key block");
    return MK_OK;
}

mk_err mk_hmac_key(mk_hmac_ctx *h, mk_bytes key)
{
    if (key.n == 0 || key.p == NULL)
        MK_FAIL(MK_E_ARG, "HMAC with an empty key");
    if (h->keyed && h->key_n > 0 && key.n == h->key_n &&
        CRYPTO_memcmp(key.p, h->key, key.n) == 0)
        return MK_OK;
    h->keyed = false;
    mk_wipe(h->key, sizeof h->key);
    h->key_n = 0;
    h->dirty |= 3u;

    uint8_t kh[MK_HMAC_MAX], blk[MK_HMAC_BLOCK];
    mk_bytes k = key;
    mk_err rc = MK_OK;
    if (key.n > MK_HMAC_BLOCK) {
        /* a key longer than B is replaced by H(key) (RFC 2104 §2) */
        unsigned int n = 0;
        h->dirty |= 4u;
        if (EVP_DigestInit_ex2(h->work, h->md, NULL) != 1 ||
            EVP_DigestUpdate(h->work, key.p, key.n) != 1 ||
            EVP_DigestFinal_ex(h->work, kh, &n) != 1 || n != h->len) {
            rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "HMAC key digest");
            goto cleanup;
        }
        k = MK_BYTES(kh, h->len);
    }
    MK_GUARD_GOTO(key_block(h->in, h->md, k, 0x36, blk), rc, cleanup);
    MK_GUARD_GOTO(key_block(h->out, h->md, k, 0x5c, blk), rc, cleanup);
    h->keyed = true;
    if (key.n <= sizeof h->key) {
        memcpy(h->key, key.p, key.n);
        h->key_n = key.n;
    }
cleanup:
    mk_wipe(kh, sizeof kh);
    mk_wipe(blk, sizeof blk);
    return rc;
}

/* HMAC = H(K ^ opad || H(K ^ ipad || text)) from the keyed states; last:
 * on the keyed states themselves, else on copies in work. */
static mk_err hmac_compute(mk_hmac_ctx *h, const mk_bytes *parts,
                           size_t nparts, uint8_t *out, bool last)
{
    uint8_t inner[MK_HMAC_MAX];
    unsigned int n = 0;
    mk_err rc = MK_OK;
    if (!h->keyed)
        MK_FAIL(MK_E_ARG, "HMAC context without a key");
    EVP_MD_CTX *in = h->in, *o = h->out;
    if (last) {
        /* used up whatever happens below */
        h->keyed = false;
        mk_wipe(h->key, sizeof h->key);
        h->key_n = 0;
    } else {
        in = o = h->work;
        h->dirty |= 4u;
        if (EVP_MD_CTX_copy_ex(in, h->in) != 1)
            MK_FAIL(MK_E_CRYPTO, "EVP_MD_CTX_copy_ex");
    }
    MK_GUARD_GOTO(update_parts(in, parts, nparts), rc, cleanup);
    if (EVP_DigestFinal_ex(in, inner, &n) != 1 || n != h->len ||
        (!last && EVP_MD_CTX_copy_ex(o, h->out) != 1) ||
        EVP_DigestUpdate(o, inner, n) != 1 ||
        EVP_DigestFinal_ex(o, out, &n) != 1 || n != h->len) {
        rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "HMAC digest");
        mk_wipe(out, h->len);
    }
cleanup:
    mk_wipe(inner, sizeof inner);
    return rc;
}

mk_err mk_hmac_keyed(mk_hmac_ctx *h, const mk_bytes *parts, size_t nparts,
                     uint8_t *out)
{
    return hmac_compute(h, parts, nparts, out, false);
}

mk_err mk_hmac_keyed_last(mk_hmac_ctx *h, const mk_bytes *parts,
                          size_t nparts, uint8_t *out)
{
    return hmac_compute(h, parts, nparts, out, true);
}

void mk_hmac_close(mk_hmac_ctx *h)
{
    mk_wipe(h->key, sizeof h->key);
    h->key_n = 0;
    h->keyed = false;
    if (h->in == NULL)
        return;
    EVP_MD_CTX *c[3] = {h->in, h->out, h->work};
    if (h->cached) {
        /* A reset frees the provider context (OpenSSL cleanses it): no
         * keyed or running state stays, and the next keying allocates a
         * new one without freeing one first (an init here would free and
         * allocate, and the keying again). It drops the context's
         * reference to the digest, taken again at the next keying: two
         * atomic counts per context, cheaper than the allocation saved.
         * Contexts that cannot be reset are freed (cleansed too) and made
         * again at the next open. */
        hmac_slot *s = &slots[h->sha256 ? 1 : 0];
        for (size_t i = 0; i < 3; i++)
            if ((h->dirty & (1u << i)) != 0 && EVP_MD_CTX_reset(c[i]) != 1) {
                ctxs_free(s->c);
                break;
            }
        s->busy = false;
    } else {
        ctxs_free(c);
    }
    h->in = h->out = h->work = NULL;
    h->cached = false;
    h->dirty = 0;
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
    /* one computation under this key: on the keyed states, no copy */
    mk_err rc = mk_hmac_key(&h, key);
    if (rc == MK_OK)
        rc = mk_hmac_keyed_last(&h, parts, nparts, out);
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
