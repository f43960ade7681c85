/* hash.c - SHA-256 (FIPS 180-4) over a list of byte spans. */
#include "crypto/crypto.h"

#include "crypto/ossl.h"

mk_err mk_sha256(const mk_bytes *parts, size_t nparts, uint8_t out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        MK_FAIL(MK_E_CRYPTO, "EVP_MD_CTX_new");
    mk_err rc = MK_OK;
    unsigned int len = 0;
    /* the once-fetched SHA-256 (fetch.c); EVP_sha256() would be fetched
     * by name at every init */
    const EVP_MD *md = mk_ossl_md(true);
    if (EVP_DigestInit_ex2(ctx, md != NULL ? md : EVP_sha256(), NULL) != 1) {
        rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "EVP_DigestInit_ex2");
        goto cleanup;
    }
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n == 0)
            continue;
        if (parts[i].p == NULL) {
            rc = mk_err_raise(MK_E_ARG, -1, 0, "SHA-256 input part missing");
            goto cleanup;
        }
        if (EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1) {
            rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "EVP_DigestUpdate");
            goto cleanup;
        }
    }
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != 32)
        rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "EVP_DigestFinal_ex");
cleanup:
    EVP_MD_CTX_free(ctx);
    return rc;
}
