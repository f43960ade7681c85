/* gba.c - the key derivation function of GBA (TS 33.220 Annex B) and the
 * hashes of HTTP Digest (RFC 7616 §3.4.1: MD5, SHA-256).
 *
 * KDF (33.220 B.2): derived key = HMAC-SHA-256(Key, S),
 * S = FC || P0 || L0 || P1 || L1 || ... || Pn || Ln, each Li the length of
 * Pi in octets as two bytes, big-endian. Ks_NAF (B.3, GBA_ME) uses FC =
 * 0x01, P0 = "gba-me", P1 = RAND, P2 = IMPI, P3 = NAF_Id, Key = Ks = CK ||
 * IK. S is handed to the MAC as a list of spans, never copied.
 */
#include "crypto/crypto.h"

#include <string.h>

#include "crypto/ossl.h"

mk_err mk_gba_kdf(mk_bytes key, uint8_t fc, const mk_bytes *p, size_t np,
                  uint8_t out[MK_GBA_KEY_LEN])
{
    /* FC, then (Pi, Li) per parameter */
    mk_bytes parts[1 + 2 * MK_GBA_KDF_PARAMS_MAX];
    uint8_t len[MK_GBA_KDF_PARAMS_MAX][2];
    size_t n = 0;
    if (np == 0 || np > MK_GBA_KDF_PARAMS_MAX || p == NULL)
        MK_FAIL(MK_E_ARG, "GBA KDF: 1 to 8 parameters");
    if (key.n == 0 || key.p == NULL)
        MK_FAIL(MK_E_ARG, "GBA KDF: empty key");
    parts[n++] = MK_BYTES(&fc, 1);
    for (size_t i = 0; i < np; i++) {
        /* Li is two octets: a longer parameter cannot be encoded */
        if (p[i].n > 0xffff || (p[i].n > 0 && p[i].p == NULL))
            MK_FAIL(MK_E_ARG, "GBA KDF: parameter over 65535 bytes");
        len[i][0] = (uint8_t)(p[i].n >> 8);
        len[i][1] = (uint8_t)p[i].n;
        parts[n++] = p[i];
        parts[n++] = MK_BYTES(len[i], 2);
    }
    return mk_mac(MK_MAC_HMAC_SHA256_256, key, parts, n, out,
                  MK_GBA_KEY_LEN);
}

mk_err mk_gba_ks_naf(mk_bytes ks, mk_bytes rand, mk_bytes impi,
                     mk_bytes naf_id, uint8_t out[MK_GBA_KEY_LEN])
{
    static const char p0[] = "gba-me"; /* 33.220 B.3: GBA_ME */
    const mk_bytes p[4] = {MK_BYTES(p0, sizeof p0 - 1), rand, impi, naf_id};
    if (ks.n != MK_GBA_KEY_LEN)
        MK_FAIL(MK_E_ARG, "Ks is CK || IK, 32 bytes");
    return mk_gba_kdf(ks, MK_GBA_FC_KS_NAF, p, 4, out);
}

size_t mk_hash_len(mk_hash_alg alg)
{
    return alg == MK_HASH_MD5 ? 16 : alg == MK_HASH_SHA256 ? 32 : 0;
}

/* MD5 is only the hash of RFC 2617 / RFC 7616 Digest (interoperability
 * with the UEs that use it, TS 24.109), never a key derivation. */
static mk_err md5(const mk_bytes *parts, size_t nparts, uint8_t out[16])
{
    EVP_MD *md = EVP_MD_fetch(NULL, "MD5", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    mk_err rc = MK_OK;
    if (md == NULL || ctx == NULL) {
        rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "MD5 not available");
        goto cleanup;
    }
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1) {
        rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "EVP_DigestInit_ex2");
        goto cleanup;
    }
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n == 0)
            continue;
        if (parts[i].p == NULL) {
            rc = mk_err_raise(MK_E_ARG, -1, 0, "MD5 input part missing");
            goto cleanup;
        }
        if (EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1) {
            rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "EVP_DigestUpdate");
            goto cleanup;
        }
    }
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != 16)
        rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "EVP_DigestFinal_ex");
cleanup:
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return rc;
}

mk_err mk_hash(mk_hash_alg alg, const mk_bytes *parts, size_t nparts,
               uint8_t *out, size_t cap)
{
    size_t n = mk_hash_len(alg);
    if (n == 0)
        MK_FAIL(MK_E_VALUE, "unknown hash");
    if (cap < n)
        MK_FAIL(MK_E_NOSPACE, "hash output buffer too small");
    if (alg == MK_HASH_MD5)
        return md5(parts, nparts, out);
    return mk_sha256(parts, nparts, out);
}
