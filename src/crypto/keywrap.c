/* keywrap.c - AES key wrap (RFC 3394 §2.2.1, §2.2.2) with a 128-, 192- or
 * 256-bit KEK, the default initial value A6A6A6A6A6A6A6A6 (§2.2.3.1) or an
 * alternative 64-bit one (§2.2.3.2; MIKEY AES-KW-128 uses the salt_key,
 * RFC 3830 §4.2.4). */
#include "crypto/crypto.h"

#include <limits.h>

#include "crypto/ossl.h"

/* once-fetched (fetch.c), else the legacy object (fetched at every init) */
static const EVP_CIPHER *kw_cipher(size_t kek_len)
{
    const EVP_CIPHER *c;
    switch (kek_len) {
    case 16:
        c = mk_ossl_cipher(MK_OSSL_AES_128_WRAP);
        return c != NULL ? c : EVP_aes_128_wrap();
    case 24:
        c = mk_ossl_cipher(MK_OSSL_AES_192_WRAP);
        return c != NULL ? c : EVP_aes_192_wrap();
    case 32:
        c = mk_ossl_cipher(MK_OSSL_AES_256_WRAP);
        return c != NULL ? c : EVP_aes_256_wrap();
    default:
        return NULL;
    }
}

/* One wrap (enc = 1) or unwrap (enc = 0) of in into out (exactly outn
 * bytes expected). */
static mk_err kw_run(mk_bytes kek, const uint8_t *iv8, mk_bytes in,
                     uint8_t *out, size_t outn, int enc)
{
    const EVP_CIPHER *cipher = kw_cipher(kek.n);
    if (cipher == NULL)
        MK_FAIL(MK_E_ARG, "AES-KW KEK is not 128, 192 or 256 bits");
    if (in.n > INT_MAX - 8)
        MK_FAIL(MK_E_LIMIT, "AES-KW input too long");
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        MK_FAIL(MK_E_CRYPTO, "EVP_CIPHER_CTX_new");
    mk_err rc = MK_OK;
    int l1 = 0, l2 = 0;
    /* Wrap modes refuse to run unless explicitly allowed (they are not
     * general-purpose ciphers). */
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (EVP_CipherInit_ex2(ctx, cipher, kek.p, iv8, enc, NULL) != 1) {
        rc = mk_err_raise(MK_E_CRYPTO, -1, 0, "AES-KW init failed");
        goto cleanup;
    }
    if (EVP_CipherUpdate(ctx, out, &l1, in.p, (int)in.n) != 1 || l1 < 0 ||
        (size_t)l1 != outn) {
        /* For unwrap this is the integrity check of RFC 3394 §2.2.3 */
        rc = enc ? mk_err_raise(MK_E_CRYPTO, -1, 0, "AES-KW wrap failed")
                 : mk_err_raise(MK_E_UNWRAP, -1, 0,
                                "AES-KW integrity check failed");
        goto cleanup;
    }
    if (EVP_CipherFinal_ex(ctx, out + l1, &l2) != 1 || l2 != 0) {
        rc = mk_err_raise(enc ? MK_E_CRYPTO : MK_E_UNWRAP, -1, 0,
                          "AES-KW final failed");
        goto cleanup;
    }
cleanup:
    if (rc != MK_OK)
        mk_wipe(out, outn);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/* One direction's checks of its input (RFC 3394 §2): n >= 2 blocks of 64
 * bits to wrap, a value the caller chose; n + 1 >= 3 blocks (the integrity
 * check block first) to unwrap, a length error of what came in. */
typedef struct kw_dir {
    int enc;
    size_t min;
    mk_err short_err;
    const char *short_why;
} kw_dir;

static const kw_dir kw_wrap = {1, 16, MK_E_VALUE,
                               "AES-KW data is not n >= 2 blocks of 64 bits"};
static const kw_dir kw_unwrap = {
    0, 24, MK_E_LENGTH, "AES-KW data is not n + 1 >= 3 blocks of 64 bits"};

static mk_err kw(const kw_dir *d, mk_bytes kek, const uint8_t *iv8,
                 mk_bytes in, uint8_t *out, size_t cap, size_t *outlen)
{
    *outlen = 0;
    if (in.n < d->min || in.n % 8 != 0)
        MK_FAIL(d->short_err, d->short_why);
    if (in.p == NULL)
        MK_FAIL(MK_E_ARG, "AES-KW input missing");
    /* the wrapped form is one block (the integrity check) longer */
    size_t outn = d->enc ? in.n + 8 : in.n - 8;
    if (cap < outn)
        MK_FAIL(MK_E_NOSPACE, "AES-KW output buffer too small");
    MK_GUARD(kw_run(kek, iv8, in, out, outn, d->enc));
    *outlen = outn;
    return MK_OK;
}

mk_err mk_aes_kw_wrap(mk_bytes kek, const uint8_t *iv8, mk_bytes plain,
                      uint8_t *out, size_t cap, size_t *outlen)
{
    return kw(&kw_wrap, kek, iv8, plain, out, cap, outlen);
}

mk_err mk_aes_kw_unwrap(mk_bytes kek, const uint8_t *iv8, mk_bytes wrapped,
                        uint8_t *out, size_t cap, size_t *outlen)
{
    return kw(&kw_unwrap, kek, iv8, wrapped, out, cap, outlen);
}
