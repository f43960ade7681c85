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

mk_err mk_bytes_copy(uint8_t *dst, size_t cap, size_t *len, mk_bytes src)
{
    if (src.n > cap)
        MK_FAIL(MK_E_LIMIT, "value longer than its buffer");
    if (src.n > 0)
        memcpy(dst, src.p, src.n);
    if (len != NULL)
        *len = src.n;
    return MK_OK;
}

void mk_cur_init(mk_cursor *c, mk_bytes b)
{
    c->p = b.p;
    c->n = b.p ? b.n : 0;
    c->pos = 0;
    c->base = 0;
    c->payload = -1;
}

void mk_cur_raise_truncated(const mk_cursor *c)
{
    (void)mk_err_raise(MK_E_TRUNCATED, c->payload, mk_cur_offset(c),
                       "field runs past the end of its data");
}

void mk_cur_raise_too_long(const mk_cursor *c)
{
    (void)mk_err_raise(MK_E_LIMIT, c->payload, mk_cur_offset(c),
                       "field longer than its destination");
}

static mk_err need(const mk_cursor *c, size_t k)
{
    if (k > c->n - c->pos)
        return mk_cur_raise_truncated(c), MK_E_TRUNCATED;
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
    b->err = MK_OK;
}

mk_err mk_buf_full(mk_buf *b)
{
    if (b->err != MK_OK) /* the first failure's detail stays */
        return MK_E_NOSPACE;
    b->err = MK_E_NOSPACE;
    return mk_err_raise(MK_E_NOSPACE, -1, 0, "output buffer too small");
}

mk_err mk_buf_fail(mk_buf *b, mk_err e)
{
    if (b->err == MK_OK)
        b->err = e;
    return b->err;
}

static mk_err room(mk_buf *b, size_t k)
{
    if (k > b->cap - b->n)
        return mk_buf_full(b);
    return MK_OK;
}

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
