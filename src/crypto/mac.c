/* mac.c - HMAC (EVP_MAC "HMAC"), the KEMAC/V MACs HMAC-SHA-1-160 (RFC 3830
 * §4.2.1) and HMAC-SHA-256-256 (RFC 6043 §6.2), constant-time verification.
 */
#include "crypto/crypto.h"

#include <string.h>

#include "crypto/ossl.h"

#define MK_HMAC_MAX 32

mk_err mk_hmac_open(mk_hmac_ctx *h, bool sha256)
{
    h->digest = sha256 ? "SHA256" : "SHA1";
    h->len = sha256 ? 32 : 20;
    h->ctx = NULL;
    h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (h->mac == NULL)
        MK_FAIL(MK_E_CRYPTO, "EVP_MAC_fetch(HMAC)");
    h->ctx = EVP_MAC_CTX_new(h->mac);
    if (h->ctx == NULL) {
        EVP_MAC_free(h->mac);
        h->mac = NULL;
        MK_FAIL(MK_E_CRYPTO, "EVP_MAC_CTX_new");
    }
    return MK_OK;
}

mk_err mk_hmac_run(mk_hmac_ctx *h, mk_bytes key, const mk_bytes *parts,
                   size_t nparts, uint8_t *out)
{
    if (key.n == 0 || key.p == NULL)
        MK_FAIL(MK_E_ARG, "HMAC with an empty key");
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)h->digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(h->ctx, key.p, key.n, params) != 1)
        MK_FAIL(MK_E_CRYPTO, "EVP_MAC_init");
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

void mk_hmac_close(mk_hmac_ctx *h)
{
    EVP_MAC_CTX_free(h->ctx);
    EVP_MAC_free(h->mac);
    h->ctx = NULL;
    h->mac = NULL;
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
