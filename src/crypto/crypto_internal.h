/* crypto_internal.h - primitives below the KEMAC layer, exposed only to the
 * self test (selftest.c) and the unit tests so that they can be checked
 * against published vectors (NIST SP 800-38A). Other modules use crypto.h.
 * No OpenSSL type appears here.
 */
#ifndef MK_CRYPTO_CRYPTO_INTERNAL_H
#define MK_CRYPTO_CRYPTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"
#include "util/err.h"

/* Most data AES-CM may protect under one IV: the 16-bit block counter of the
 * RFC 3830 §4.2.3 IV gives 2^16 blocks = 2^20 bytes (2^23 bits). */
#define MK_AES_CM_MAX_BYTES ((size_t)1 << 20)

/* RFC 3830 §4.2.3: IV = (S XOR (0x0000 || CSB ID || T)) || 0x0000, S the
 * 112-bit (14-byte) salt_key, T the 64-bit timestamp. */
void mk_aes_cm_iv(const uint8_t salt14[14], uint32_t csb_id, uint64_t t64,
                  uint8_t iv[16]);

/* AES in counter mode (NIST SP 800-38A §6.5, big-endian 128-bit counter)
 * with a 16- or 32-byte key; in and out may be the same buffer. Encryption
 * and decryption are the same operation. */
mk_err mk_aes_ctr(mk_bytes key, const uint8_t iv[16], mk_bytes in,
                  uint8_t *out) MK_MUST_USE;

#endif
