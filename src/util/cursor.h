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
#include <string.h>

#include "util/err.h"

typedef struct mk_bytes {
    const uint8_t *p;
    size_t n;
} mk_bytes;

#define MK_BYTES(ptr, len) ((mk_bytes){(const uint8_t *)(ptr), (len)})
#define MK_BYTES_NONE ((mk_bytes){NULL, 0})

bool mk_bytes_equal(mk_bytes a, mk_bytes b); /* content equality, not constant time */
/* Copy src into dst (cap bytes) and set *len (if len is not NULL) to
 * src.n; MK_E_LIMIT, nothing copied, when src is longer. An empty span
 * copies nothing: its p is NULL (mk_cur_bytes), which memcpy must not get. */
mk_err mk_bytes_copy(uint8_t *dst, size_t cap, size_t *len, mk_bytes src) MK_MUST_USE;

typedef struct mk_cursor {
    const uint8_t *p; /* start of the span */
    size_t n;         /* length of the span */
    size_t pos;       /* next byte to read, 0..n */
    size_t base;      /* absolute offset of p[0] in the outermost buffer */
    int payload;      /* payload type being read, for error detail; -1 none */
} mk_cursor;

void mk_cur_init(mk_cursor *c, mk_bytes b);
static inline size_t mk_cur_remaining(const mk_cursor *c);
/* absolute offset of the next byte */
static inline size_t mk_cur_offset(const mk_cursor *c);

static inline mk_err mk_cur_u8(mk_cursor *c, uint8_t *v) MK_MUST_USE;
/* big-endian (RFC 3830 §6) */
static inline mk_err mk_cur_u16(mk_cursor *c, uint16_t *v) MK_MUST_USE;
static inline mk_err mk_cur_u32(mk_cursor *c, uint32_t *v) MK_MUST_USE;
static inline mk_err mk_cur_u64(mk_cursor *c, uint64_t *v) MK_MUST_USE;
static inline mk_err mk_cur_peek_u8(const mk_cursor *c, uint8_t *v) MK_MUST_USE;
/* Borrow the next n bytes (no copy). */
static inline mk_err mk_cur_bytes(mk_cursor *c, size_t n, mk_bytes *out) MK_MUST_USE;
/* Copy the next n bytes into out (cap bytes available). */
static inline mk_err mk_cur_copy(mk_cursor *c, size_t n, uint8_t *out,
                                 size_t cap) MK_MUST_USE;
/* A cursor over the next n bytes; this cursor moves past them. The
 * sub-cursor keeps absolute offsets and the payload tag. */
mk_err mk_cur_sub(mk_cursor *c, size_t n, mk_cursor *sub) MK_MUST_USE;
/* Everything read since position start (a byte span of the input). */
mk_bytes mk_cur_since(const mk_cursor *c, size_t start);
/* Bytes not read yet (no move). */
mk_bytes mk_cur_rest(const mk_cursor *c);
/* MK_E_TRAILING unless the cursor is at its end. */
mk_err mk_cur_expect_end(const mk_cursor *c) MK_MUST_USE;

/* Bounded writer with a sticky first error: a write that does not fit
 * writes nothing and returns MK_E_NOSPACE, and the writer keeps its first
 * failure (and only that one's detail in mk_err_last) however many writes
 * follow. So a run of writes can go unchecked and be judged once by
 * mk_buf_err (the writes are not MK_MUST_USE; mk_buf_err is). A later
 * write that fits is still made: after a failure the bytes are no message,
 * only mk_buf_err says whether they are. */
typedef struct mk_buf {
    uint8_t *p;
    size_t cap;
    size_t n;
    mk_err err; /* the first failure, MK_OK while every write fitted */
} mk_buf;

void mk_buf_init(mk_buf *b, uint8_t *mem, size_t cap);
static inline mk_err mk_buf_u8(mk_buf *b, uint8_t v);
static inline mk_err mk_buf_u16(mk_buf *b, uint16_t v);
static inline mk_err mk_buf_u32(mk_buf *b, uint32_t v);
static inline mk_err mk_buf_u64(mk_buf *b, uint64_t v);
static inline mk_err mk_buf_put(mk_buf *b, const void *src, size_t n);
static inline mk_err mk_buf_bytes(mk_buf *b, mk_bytes v);
/* Reserve n bytes (zeroed) and report where they start, for later patching. */
mk_err mk_buf_reserve(mk_buf *b, size_t n, size_t *at) MK_MUST_USE;
/* Patch a big-endian u16 into bytes already written. */
mk_err mk_buf_patch_u16(mk_buf *b, size_t at, uint16_t v) MK_MUST_USE;
/* The bytes written so far. */
mk_bytes mk_buf_view(const mk_buf *b);
/* The first failure of the writes so far, MK_OK if none. */
static inline mk_err mk_buf_err(const mk_buf *b) MK_MUST_USE;
/* Make e (an error raised by the caller: a field too long for its
 * encoding) the writer's failure unless it has one already; returns the
 * writer's first failure. */
mk_err mk_buf_fail(mk_buf *b, mk_err e);

/* --- the reads and writes above, inline: the codec calls them for every
 * field of every payload (a few hundred calls per KMS answer), so the
 * call was costlier than the check. The failures are raised out of line
 * (cursor.c). --- */

/* Record the detail (mk_err_raise) of MK_E_TRUNCATED at c's position, of
 * MK_E_LIMIT for a field longer than its destination; the inline callers
 * return the code itself, so that the compiler sees that a failed read
 * wrote nothing the caller will use. */
void mk_cur_raise_truncated(const mk_cursor *c);
void mk_cur_raise_too_long(const mk_cursor *c);
/* A write that did not fit: the writer's first failure and its detail
 * (mk_err_raise) unless it failed before; returns MK_E_NOSPACE. */
mk_err mk_buf_full(mk_buf *b);

static inline size_t mk_cur_remaining(const mk_cursor *c)
{
    return c->n - c->pos;
}

static inline size_t mk_cur_offset(const mk_cursor *c)
{
    return c->base + c->pos;
}

static inline uint64_t mk_load_be(const uint8_t *p, size_t k)
{
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++)
        v = (v << 8) | p[i];
    return v;
}

static inline mk_err mk_cur_u8(mk_cursor *c, uint8_t *v)
{
    if (c->n - c->pos < 1)
        return (mk_cur_raise_truncated(c), MK_E_TRUNCATED);
    *v = c->p[c->pos];
    c->pos += 1;
    return MK_OK;
}

static inline mk_err mk_cur_peek_u8(const mk_cursor *c, uint8_t *v)
{
    if (c->n - c->pos < 1)
        return (mk_cur_raise_truncated(c), MK_E_TRUNCATED);
    *v = c->p[c->pos];
    return MK_OK;
}

static inline mk_err mk_cur_u16(mk_cursor *c, uint16_t *v)
{
    if (c->n - c->pos < 2)
        return (mk_cur_raise_truncated(c), MK_E_TRUNCATED);
    *v = (uint16_t)mk_load_be(c->p + c->pos, 2);
    c->pos += 2;
    return MK_OK;
}

static inline mk_err mk_cur_u32(mk_cursor *c, uint32_t *v)
{
    if (c->n - c->pos < 4)
        return (mk_cur_raise_truncated(c), MK_E_TRUNCATED);
    *v = (uint32_t)mk_load_be(c->p + c->pos, 4);
    c->pos += 4;
    return MK_OK;
}

static inline mk_err mk_cur_u64(mk_cursor *c, uint64_t *v)
{
    if (c->n - c->pos < 8)
        return (mk_cur_raise_truncated(c), MK_E_TRUNCATED);
    *v = mk_load_be(c->p + c->pos, 8);
    c->pos += 8;
    return MK_OK;
}

static inline mk_err mk_cur_bytes(mk_cursor *c, size_t n, mk_bytes *out)
{
    if (n > c->n - c->pos)
        return (mk_cur_raise_truncated(c), MK_E_TRUNCATED);
    out->p = n ? c->p + c->pos : NULL;
    out->n = n;
    c->pos += n;
    return MK_OK;
}

static inline mk_err mk_cur_copy(mk_cursor *c, size_t n, uint8_t *out,
                                 size_t cap)
{
    if (n > cap)
        return (mk_cur_raise_too_long(c), MK_E_LIMIT);
    if (n > c->n - c->pos)
        return (mk_cur_raise_truncated(c), MK_E_TRUNCATED);
    if (n)
        memcpy(out, c->p + c->pos, n);
    c->pos += n;
    return MK_OK;
}

static inline mk_err mk_buf_err(const mk_buf *b) { return b->err; }

static inline mk_err mk_buf_put_be(mk_buf *b, uint64_t v, size_t k)
{
    if (k > b->cap - b->n)
        return mk_buf_full(b);
    for (size_t i = 0; i < k; i++)
        b->p[b->n + i] = (uint8_t)(v >> (8 * (k - 1 - i)));
    b->n += k;
    return MK_OK;
}

static inline mk_err mk_buf_u8(mk_buf *b, uint8_t v)
{
    return mk_buf_put_be(b, v, 1);
}
static inline mk_err mk_buf_u16(mk_buf *b, uint16_t v)
{
    return mk_buf_put_be(b, v, 2);
}
static inline mk_err mk_buf_u32(mk_buf *b, uint32_t v)
{
    return mk_buf_put_be(b, v, 4);
}
static inline mk_err mk_buf_u64(mk_buf *b, uint64_t v)
{
    return mk_buf_put_be(b, v, 8);
}

static inline mk_err mk_buf_put(mk_buf *b, const void *src, size_t n)
{
    if (n > b->cap - b->n)
        return mk_buf_full(b);
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
    return MK_OK;
}

static inline mk_err mk_buf_bytes(mk_buf *b, mk_bytes v)
{
    return mk_buf_put(b, v.p, v.n);
}

#endif
