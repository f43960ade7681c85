/* hash.c - SHA-256 (FIPS 180-4) over a list of byte spans, and the hashes
 * of HTTP Digest (RFC 7616 §3.4.1: MD5, SHA-256). */
#include "crypto/crypto.h"

#include "crypto/ossl.h"

/* want bytes of md over parts[0..nparts) into out. */
static mk_err digest_parts(const EVP_MD *md, const mk_bytes *parts,
                           size_t nparts, uint8_t *out, unsigned int want)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        MK_FAIL(MK_E_CRYPTO, "EVP_MD_CTX_new");
    mk_err rc = MK_OK;
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1) {
        rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "EVP_DigestInit_ex2");
        goto cleanup;
    }
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n == 0)
            continue;
        if (parts[i].p == NULL) {
            rc = mk_err_raise(MK_E_ARG, -1, 0, "hash input part missing");
            goto cleanup;
        }
        if (EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1) {
            rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "EVP_DigestUpdate");
            goto cleanup;
        }
    }
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != want)
        rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "EVP_DigestFinal_ex");
cleanup:
    EVP_MD_CTX_free(ctx);
    return rc;
}

mk_err mk_sha256(const mk_bytes *parts, size_t nparts, uint8_t out[32])
{
    /* the once-fetched SHA-256 (fetch.c); EVP_sha256() would be fetched
     * by name at every init */
    const EVP_MD *md = mk_ossl_md(true);
    return digest_parts(md != NULL ? md : EVP_sha256(), parts, nparts, out,
                        32);
}

size_t mk_hash_len(mk_hash_alg alg)
{
    return alg == MK_HASH_MD5 ? 16 : alg == MK_HASH_SHA256 ? 32 : 0;
}

mk_err mk_hash(mk_hash_alg alg, const mk_bytes *parts, size_t nparts,
               uint8_t *out, size_t cap)
{
    size_t n = mk_hash_len(alg);
    if (n == 0)
        MK_FAIL(MK_E_VALUE, "unknown hash");
    if (cap < n)
        MK_FAIL(MK_E_NOSPACE, "hash output buffer too small");
    if (alg == MK_HASH_SHA256)
        return mk_sha256(parts, nparts, out);
    /* MD5 only for RFC 2617 / 7616 Digest (the UEs of TS 24.109 use it),
     * never for a key */
    EVP_MD *md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    if (md5 == NULL)
        MK_FAIL(MK_E_CRYPTO, "MD5 not available");
    mk_err rc = digest_parts(md5, parts, nparts, out, 16);
    EVP_MD_free(md5);
    return rc;
}
