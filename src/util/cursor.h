/* cursor.h - the one bounds-checked reader of untrusted bytes, and the
 * matching bounded writer.
 *
 * Owns: mk_bytes (a borrowed byte span), mk_cursor (read position + remaining
 * length over a borrowed span), mk_buf (an append-only writer into a
 * caller-owned fixed buffer).
 *
 * Every read checks the remaining length first and raises MK_E_TRUNCATED with
 * the absolute offset and the payload the cursor is inside of. Nothing here
 * allocates. Input is never touched outside these functions.
 */
#ifndef MK_UTIL_CURSOR_H
#define MK_UTIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct mk_bytes {
    const uint8_t *p;
    size_t n;
} mk_bytes;

#define MK_BYTES(ptr, len) ((mk_bytes){(const uint8_t *)(ptr), (len)})
#define MK_BYTES_NONE ((mk_bytes){NULL, 0})

bool mk_bytes_equal(mk_bytes a, mk_bytes b); /* content equality, not constant time */

typedef struct mk_cursor {
    const uint8_t *p; /* start of the span */
    size_t n;         /* length of the span */
    size_t pos;       /* next byte to read, 0..n */
    size_t base;      /* absolute offset of p[0] in the outermost buffer */
    int payload;      /* payload type being read, for error detail; -1 none */
} mk_cursor;

void mk_cur_init(mk_cursor *c, mk_bytes b);
size_t mk_cur_remaining(const mk_cursor *c);
size_t mk_cur_offset(const mk_cursor *c); /* absolute offset of the next byte */

mk_err mk_cur_u8(mk_cursor *c, uint8_t *v);
mk_err mk_cur_u16(mk_cursor *c, uint16_t *v); /* big-endian (RFC 3830 §6) */
mk_err mk_cur_u32(mk_cursor *c, uint32_t *v);
mk_err mk_cur_u64(mk_cursor *c, uint64_t *v);
mk_err mk_cur_peek_u8(const mk_cursor *c, uint8_t *v);
/* Borrow the next n bytes (no copy). */
mk_err mk_cur_bytes(mk_cursor *c, size_t n, mk_bytes *out);
/* Copy the next n bytes into out (cap bytes available). */
mk_err mk_cur_copy(mk_cursor *c, size_t n, uint8_t *out, size_t cap);
/* A cursor over the next n bytes; this cursor moves past them. The
 * sub-cursor keeps absolute offsets and the payload tag. */
mk_err mk_cur_sub(mk_cursor *c, size_t n, mk_cursor *sub);
/* Everything read since position start (a byte span of the input). */
mk_bytes mk_cur_since(const mk_cursor *c, size_t start);
/* Bytes not read yet (no move). */
mk_bytes mk_cur_rest(const mk_cursor *c);
/* MK_E_TRAILING unless the cursor is at its end. */
mk_err mk_cur_expect_end(const mk_cursor *c);

/* Bounded writer. On overflow nothing is written and MK_E_NOSPACE returned. */
typedef struct mk_buf {
    uint8_t *p;
    size_t cap;
    size_t n;
} mk_buf;

void mk_buf_init(mk_buf *b, uint8_t *mem, size_t cap);
mk_err mk_buf_u8(mk_buf *b, uint8_t v);
mk_err mk_buf_u16(mk_buf *b, uint16_t v);
mk_err mk_buf_u32(mk_buf *b, uint32_t v);
mk_err mk_buf_u64(mk_buf *b, uint64_t v);
mk_err mk_buf_put(mk_buf *b, const void *src, size_t n);
mk_err mk_buf_bytes(mk_buf *b, mk_bytes v);
/* Reserve n bytes (zeroed) and report where they start, for later patching. */
mk_err mk_buf_reserve(mk_buf *b, size_t n, size_t *at);
/* Patch a big-endian u16 into bytes already written. */
mk_err mk_buf_patch_u16(mk_buf *b, size_t at, uint16_t v);
/* The bytes written so far. */
mk_bytes mk_buf_view(const mk_buf *b);

#endif
