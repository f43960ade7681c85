/* hex.h - hexadecimal text of byte strings (keys in files and on command
 * lines, digests in HTTP headers).
 *
 * Owns: one digit's value, decoding a whole hex string (no separators:
 * every character a digit, an even count) or a hex text with separators
 * (white space in a key file, a pasted dump), lowercase encoding. Every
 * hex reader of the project (keys, PSKs, Digest, tools) decodes here.
 */
#ifndef MK_UTIL_HEX_H
#define MK_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* 0..15, or -1 for a character that is not a hex digit (either case). */
int mk_hex_digit(char ch);

/* Decode the n characters of s into out: MK_E_VALUE when a character is
 * not a hex digit or n is odd, MK_E_NOSPACE when n / 2 > cap. */
mk_err mk_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                     size_t *len) MK_MUST_USE;

/* Decode the hex digits among the n characters of s, passing over every
 * character of skip (e.g. " \t\r\n"; NULL: none), into out. Errors carry
 * the offset in s (mk_err_last()): MK_E_VALUE "not a hex digit" at a
 * character that is neither, MK_E_VALUE "odd number of hex digits" at n,
 * MK_E_NOSPACE at the digit that would not fit. *len: bytes written. */
mk_err mk_hex_decode_text(const char *s, size_t n, const char *skip,
                          uint8_t *out, size_t cap, size_t *len) MK_MUST_USE;

/* out receives 2 n lowercase digits and a NUL (2 n + 1 bytes). */
void mk_hex_encode(const uint8_t *b, size_t n, char *out);

#endif
