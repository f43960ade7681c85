/* kemac_cipher.c - encryption of the KEMAC Encr data field (RFC 3830 §4.2.3,
 * §4.2.4, §6.2; RFC 6043 §6.2):
 *
 *   NULL (0)       the Key data sub-payloads in clear (a copy);
 *   AES-CM-128 (1) AES-128 in SRTP counter mode, IV of §4.2.3;
 *   AES-KW-128 (2) AES key wrap (RFC 3394) with KEK = encr_key and the
 *                  64-bit salt_key as the RFC 3394 initial value (§4.2.4);
 *   AES-CM-256 (3) as AES-CM-128 with a 256-bit encr_key [6043 §6.2].
 */
#include "crypto/crypto.h"

#include <limits.h>
#include <string.h>

#include "crypto/crypto_internal.h"
#include "crypto/ossl.h"

void mk_aes_cm_iv(const uint8_t salt14[14], uint32_t csb_id, uint64_t t64,
                  uint8_t iv[16])
{
    /* 0x0000 || CSB ID || T, 112 bits, then || 0x0000 [3830 §4.2.3] */
    uint8_t x[14] = {0};
    for (int i = 0; i < 4; i++)
        x[2 + i] = (uint8_t)(csb_id >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        x[6 + i] = (uint8_t)(t64 >> (56 - 8 * i));
    for (int i = 0; i < 14; i++)
        iv[i] = (uint8_t)(salt14[i] ^ x[i]);
    iv[14] = 0;
    iv[15] = 0;
}

mk_err mk_aes_ctr(mk_bytes key, const uint8_t iv[16], mk_bytes in,
                  uint8_t *out)
{
    const EVP_CIPHER *cipher;
    /* once-fetched (fetch.c); the legacy objects are fetched at every init */
    if (key.n == 16)
        cipher = mk_ossl_cipher(MK_OSSL_AES_128_CTR);
    else if (key.n == 32)
        cipher = mk_ossl_cipher(MK_OSSL_AES_256_CTR);
    else
        MK_FAIL(MK_E_ARG, "AES-CTR key is neither 128 nor 256 bits");
    if (cipher == NULL)
        cipher = key.n == 16 ? EVP_aes_128_ctr() : EVP_aes_256_ctr();
    if (in.n > INT_MAX)
        MK_FAIL(MK_E_LIMIT, "AES-CTR input too long");
    if (in.n == 0)
        return MK_OK;
    if (in.p == NULL || out == NULL)
        MK_FAIL(MK_E_ARG, "AES-CTR buffer missing");

    mk_err rc = MK_OK;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        MK_FAIL(MK_E_CRYPTO, "EVP_CIPHER_CTX_new");
    int l1 = 0, l2 = 0;
    if (EVP_EncryptInit_ex2(ctx, cipher, key.p, iv, NULL) != 1 ||
        EVP_EncryptUpdate(ctx, out, &l1, in.p, (int)in.n) != 1 ||
        EVP_EncryptFinal_ex(ctx, out + l1, &l2) != 1 ||
        (size_t)l1 + (size_t)l2 != in.n) {
        rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "AES-CTR failed");
        mk_wipe(out, in.n);
    }
    EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
    return rc;
}

/* AES-CM: encryption and decryption are the same. */
static mk_err aes_cm(const mk_msg_keys *k, uint32_t csb_id, uint64_t t64,
                     mk_bytes in, uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t iv[16];
    mk_err rc;
    if (k->encr.n != mk_encr_key_len(k->encr_alg))
        MK_FAIL(MK_E_ARG, "encr_key length does not match Encr alg");
    if (k->salt.n != 14)
        MK_FAIL(MK_E_ARG, "AES-CM needs a 112-bit salt_key");
    if (in.n > MK_AES_CM_MAX_BYTES)
        MK_FAIL(MK_E_LIMIT, "AES-CM data over 2^23 bits [3830 4.2.3]");
    if (cap < in.n)
        MK_FAIL(MK_E_NOSPACE, "KEMAC output buffer too small");
    mk_aes_cm_iv(k->salt.b, csb_id, t64, iv);
    MK_GUARD_GOTO(mk_aes_ctr(mk_key_bytes(&k->encr), iv, in, out), rc,
                  cleanup);
    *outlen = in.n;
cleanup:
    mk_wipe(iv, sizeof iv);
    return rc;
}

static mk_err check_kw_keys(const mk_msg_keys *k)
{
    if (k->encr.n != 16)
        MK_FAIL(MK_E_ARG, "AES-KW-128 needs a 128-bit encr_key");
    if (k->salt.n != 8)
        MK_FAIL(MK_E_ARG, "AES-KW-128 needs a 64-bit salt_key");
    return MK_OK;
}

/* Both directions: NULL copies (RFC 3830 §4.2.3) and AES-CM is its own
 * inverse (§4.2.3); only AES-KW wraps (encrypt) or unwraps (RFC 6043
 * §6.2). */
static mk_err kemac_crypt(const mk_msg_keys *k, uint32_t csb_id, uint64_t t64,
                          mk_bytes in, bool encrypt, uint8_t *out, size_t cap,
                          size_t *outlen)
{
    *outlen = 0;
    switch (k->encr_alg) {
    case MK_ENCR_NULL:
        if (cap < in.n)
            MK_FAIL(MK_E_NOSPACE, "KEMAC output buffer too small");
        if (in.n > 0)
            memmove(out, in.p, in.n);
        *outlen = in.n;
        return MK_OK;
    case MK_ENCR_AES_CM_128:
    case MK_ENCR_AES_CM_256:
        return aes_cm(k, csb_id, t64, in, out, cap, outlen);
    case MK_ENCR_AES_KW_128:
        MK_GUARD(check_kw_keys(k));
        return encrypt ? mk_aes_kw_wrap(mk_key_bytes(&k->encr), k->salt.b, in,
                                        out, cap, outlen)
                       : mk_aes_kw_unwrap(mk_key_bytes(&k->encr), k->salt.b,
                                          in, out, cap, outlen);
    default:
        MK_FAIL(MK_E_VALUE, "unknown Encr alg");
    }
}

mk_err mk_kemac_encrypt(const mk_msg_keys *k, uint32_t csb_id, uint64_t t64,
                        mk_bytes plain, uint8_t *out, size_t cap,
                        size_t *outlen)
{
    return kemac_crypt(k, csb_id, t64, plain, true, out, cap, outlen);
}

mk_err mk_kemac_decrypt(const mk_msg_keys *k, uint32_t csb_id, uint64_t t64,
                        mk_bytes cipher, uint8_t *out, size_t cap,
                        size_t *outlen)
{
    return kemac_crypt(k, csb_id, t64, cipher, false, out, cap, outlen);
}
