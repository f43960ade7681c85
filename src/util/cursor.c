/* cursor.c - bounds-checked reader and bounded writer. */
#include "util/cursor.h"

#include <string.h>

bool mk_bytes_equal(mk_bytes a, mk_bytes b)
{
    if (a.n != b.n)
        return false;
    if (a.n == 0)
        return true;
    return memcmp(a.p, b.p, a.n) == 0;
}

void mk_cur_init(mk_cursor *c, mk_bytes b)
{
    c->p = b.p;
    c->n = b.p ? b.n : 0;
    c->pos = 0;
    c->base = 0;
    c->payload = -1;
}

size_t mk_cur_remaining(const mk_cursor *c) { return c->n - c->pos; }

size_t mk_cur_offset(const mk_cursor *c) { return c->base + c->pos; }

static mk_err need(const mk_cursor *c, size_t k)
{
    if (k > c->n - c->pos)
        return mk_err_raise(MK_E_TRUNCATED, c->payload, mk_cur_offset(c),
                            "field runs past the end of its data");
    return MK_OK;
}

mk_err mk_cur_u8(mk_cursor *c, uint8_t *v)
{
    MK_GUARD(need(c, 1));
    *v = c->p[c->pos];
    c->pos += 1;
    return MK_OK;
}

mk_err mk_cur_peek_u8(const mk_cursor *c, uint8_t *v)
{
    MK_GUARD(need(c, 1));
    *v = c->p[c->pos];
    return MK_OK;
}

static uint64_t load_be(const uint8_t *p, size_t k)
{
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++)
        v = (v << 8) | p[i];
    return v;
}

mk_err mk_cur_u16(mk_cursor *c, uint16_t *v)
{
    MK_GUARD(need(c, 2));
    *v = (uint16_t)load_be(c->p + c->pos, 2);
    c->pos += 2;
    return MK_OK;
}

mk_err mk_cur_u32(mk_cursor *c, uint32_t *v)
{
    MK_GUARD(need(c, 4));
    *v = (uint32_t)load_be(c->p + c->pos, 4);
    c->pos += 4;
    return MK_OK;
}

mk_err mk_cur_u64(mk_cursor *c, uint64_t *v)
{
    MK_GUARD(need(c, 8));
    *v = load_be(c->p + c->pos, 8);
    c->pos += 8;
    return MK_OK;
}

mk_err mk_cur_bytes(mk_cursor *c, size_t n, mk_bytes *out)
{
    MK_GUARD(need(c, n));
    out->p = n ? c->p + c->pos : NULL;
    out->n = n;
    c->pos += n;
    return MK_OK;
}

mk_err mk_cur_copy(mk_cursor *c, size_t n, uint8_t *out, size_t cap)
{
    if (n > cap)
        return mk_err_raise(MK_E_LIMIT, c->payload, mk_cur_offset(c),
                            "field longer than its destination");
    MK_GUARD(need(c, n));
    if (n)
        memcpy(out, c->p + c->pos, n);
    c->pos += n;
    return MK_OK;
}

mk_err mk_cur_sub(mk_cursor *c, size_t n, mk_cursor *sub)
{
    MK_GUARD(need(c, n));
    sub->p = c->p + c->pos;
    sub->n = n;
    sub->pos = 0;
    sub->base = mk_cur_offset(c);
    sub->payload = c->payload;
    c->pos += n;
    return MK_OK;
}

mk_bytes mk_cur_since(const mk_cursor *c, size_t start)
{
    if (start > c->pos)
        start = c->pos;
    return (mk_bytes){c->p ? c->p + start : NULL, c->pos - start};
}

mk_bytes mk_cur_rest(const mk_cursor *c)
{
    return (mk_bytes){c->p ? c->p + c->pos : NULL, c->n - c->pos};
}

mk_err mk_cur_expect_end(const mk_cursor *c)
{
    if (c->pos != c->n)
        return mk_err_raise(MK_E_TRAILING, c->payload, mk_cur_offset(c),
                            "bytes left after the end");
    return MK_OK;
}

void mk_buf_init(mk_buf *b, uint8_t *mem, size_t cap)
{
    b->p = mem;
    b->cap = mem ? cap : 0;
    b->n = 0;
}

static mk_err room(const mk_buf *b, size_t k)
{
    if (k > b->cap - b->n)
        MK_FAIL(MK_E_NOSPACE, "output buffer too small");
    return MK_OK;
}

static mk_err put_be(mk_buf *b, uint64_t v, size_t k)
{
    MK_GUARD(room(b, k));
    for (size_t i = 0; i < k; i++)
        b->p[b->n + i] = (uint8_t)(v >> (8 * (k - 1 - i)));
    b->n += k;
    return MK_OK;
}

mk_err mk_buf_u8(mk_buf *b, uint8_t v) { return put_be(b, v, 1); }
mk_err mk_buf_u16(mk_buf *b, uint16_t v) { return put_be(b, v, 2); }
mk_err mk_buf_u32(mk_buf *b, uint32_t v) { return put_be(b, v, 4); }
mk_err mk_buf_u64(mk_buf *b, uint64_t v) { return put_be(b, v, 8); }

mk_err mk_buf_put(mk_buf *b, const void *src, size_t n)
{
    MK_GUARD(room(b, n));
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
    return MK_OK;
}

mk_err mk_buf_bytes(mk_buf *b, mk_bytes v) { return mk_buf_put(b, v.p, v.n); }

mk_err mk_buf_reserve(mk_buf *b, size_t n, size_t *at)
{
    MK_GUARD(room(b, n));
    if (n)
        memset(b->p + b->n, 0, n);
    *at = b->n;
    b->n += n;
    return MK_OK;
}

mk_err mk_buf_patch_u16(mk_buf *b, size_t at, uint16_t v)
{
    if (at > b->n || b->n - at < 2)
        MK_FAIL(MK_E_ARG, "patch outside written bytes");
    b->p[at] = (uint8_t)(v >> 8);
    b->p[at + 1] = (uint8_t)v;
    return MK_OK;
}

mk_bytes mk_buf_view(const mk_buf *b) { return (mk_bytes){b->p, b->n}; }
