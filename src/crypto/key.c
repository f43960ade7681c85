/* key.c - mk_key (a secret in a fixed buffer), wiping, and the key / tag
 * lengths implied by the MIKEY algorithm numbers (RFC 3830 §4.1.4, §4.2.3,
 * §4.2.4, §6.2; RFC 6043 §6.2). */
#include "crypto/crypto.h"

#include <string.h>

#include "crypto/ossl.h"

/* explicit_bzero (glibc 2.25): a memset the compiler may not drop, like
 * OPENSSL_cleanse, but with the C library's vector stores instead of
 * OpenSSL's loop of 8-byte stores (4 instructions per 8 bytes); a KMS
 * answer wipes some 20 KiB of keys, key schedules and buffers. */
void mk_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        explicit_bzero(p, n);
}

mk_err mk_key_copy(mk_key *k, mk_bytes src)
{
    if (src.n > MK_KEY_MAX)
        MK_FAIL(MK_E_LIMIT, "key longer than MK_KEY_MAX");
    if (src.n > 0 && src.p == NULL)
        MK_FAIL(MK_E_ARG, "key bytes missing");
    mk_key_wipe(k);
    if (src.n > 0)
        memcpy(k->b, src.p, src.n);
    k->n = src.n;
    return MK_OK;
}

mk_bytes mk_key_bytes(const mk_key *k) { return MK_BYTES(k->b, k->n); }

void mk_key_wipe(mk_key *k)
{
    mk_wipe(k->b, sizeof k->b);
    k->n = 0;
}

void mk_msg_keys_wipe(mk_msg_keys *k)
{
    mk_key_wipe(&k->encr);
    mk_key_wipe(&k->salt);
    mk_key_wipe(&k->auth);
}

/* MAC alg (RFC 3830 §6.2 and RFC 6043 §6.2): the key and tag lengths are
 * equal for both HMACs (HMAC-SHA-1-160: 160-bit key and tag [3830 §4.2.1];
 * HMAC-SHA-256-256: 256-bit key and tag [6043 §6.2]). */
size_t mk_mac_len(int mac_alg)
{
    switch (mac_alg) {
    case MK_MAC_HMAC_SHA1_160:
        return 20;
    case MK_MAC_HMAC_SHA256_256:
        return 32;
    default:
        return 0;
    }
}

size_t mk_auth_key_len(int mac_alg) { return mk_mac_len(mac_alg); }

/* Encr alg: AES-CM-128 and AES-KW-128 use a 128-bit encr_key [3830 §4.2.3,
 * §4.2.4], AES-CM-256 a 256-bit one [6043 §6.2]. */
size_t mk_encr_key_len(int encr_alg)
{
    switch (encr_alg) {
    case MK_ENCR_AES_CM_128:
    case MK_ENCR_AES_KW_128:
        return 16;
    case MK_ENCR_AES_CM_256:
        return 32;
    default:
        return 0;
    }
}

/* salt_key: 112 bits for AES-CM (the IV of §4.2.3; also for AES-CM-256, RFC
 * 6043 §6.2), 64 bits for AES-KW (its IV, §4.2.4), none for NULL. */
size_t mk_salt_key_len(int encr_alg)
{
    switch (encr_alg) {
    case MK_ENCR_AES_CM_128:
    case MK_ENCR_AES_CM_256:
        return 14;
    case MK_ENCR_AES_KW_128:
        return 8;
    default:
        return 0;
    }
}

bool mk_prf_supported(int prf_func)
{
    return prf_func == MK_PRF_MIKEY_1 || prf_func == MK_PRF_HMAC_SHA256;
}

bool mk_mac_supported(int mac_alg)
{
    return mac_alg == MK_MAC_NULL || mac_alg == MK_MAC_HMAC_SHA1_160 ||
           mac_alg == MK_MAC_HMAC_SHA256_256;
}

bool mk_encr_supported(int encr_alg)
{
    return encr_alg == MK_ENCR_NULL || encr_alg == MK_ENCR_AES_CM_128 ||
           encr_alg == MK_ENCR_AES_KW_128 || encr_alg == MK_ENCR_AES_CM_256;
}
