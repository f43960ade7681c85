/* base64.h - RFC 4648 §4 base64 (standard alphabet, '=' padding) for the
 * HTTP bodies of the annex (profile §2: padding required, line breaks and
 * surrounding white space tolerated).
 *
 * Owns: decoding untrusted text (read only through mk_cursor) and encoding.
 * No OpenSSL here: util is not crypto.
 */
#ifndef MK_UTIL_BASE64_H
#define MK_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"
#include "util/err.h"

/* Decode in into out[0..cap). CR, LF, space and tab are skipped anywhere.
 * The remaining characters must be a multiple of 4 from the standard
 * alphabet, '=' only as the last one or two characters, and the bits a
 * padded group leaves over must be zero (RFC 4648 §3.5 canonical
 * encoding). Anything else -> MK_E_BASE64 (detail: offset of the offending
 * character). The whole input is validated before the size is checked:
 * a valid input that does not fit -> MK_E_NOSPACE, with nothing written.
 * On MK_E_BASE64, out may hold the bytes decoded before the offending
 * character. *outlen is the decoded length on success, 0 otherwise. Empty
 * input decodes to 0 bytes. */
mk_err mk_base64_decode(mk_bytes in, uint8_t *out, size_t cap,
                        size_t *outlen) MK_MUST_USE;

/* Encode in into out (no line breaks) and NUL-terminate it: needs
 * mk_base64_encoded_len(in.n) + 1 bytes, else MK_E_NOSPACE. *outlen
 * excludes the NUL. */
mk_err mk_base64_encode(mk_bytes in, char *out, size_t cap, size_t *outlen) MK_MUST_USE;

/* Upper bound of the decoded length of n input characters. */
size_t mk_base64_decoded_max(size_t n);
/* Exact encoded length of n bytes (without the NUL); SIZE_MAX if it does
 * not fit a size_t. */
size_t mk_base64_encoded_len(size_t n);

#endif
