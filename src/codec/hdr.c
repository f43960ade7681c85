/* hdr.c - the common header (RFC 3830 §6.1) and its CS ID map info:
 * SRTP-ID (RFC 3830 §6.1.1), Empty map (RFC 4563 §5), GENERIC-ID
 * (RFC 6043 §6.1.1). The map info has no length field: its length follows
 * from #CS and the map type. */
#include "codec/codec_internal.h"

/* One GENERIC-ID block at the cursor. */
static mk_err generic_read(mk_cursor *c, mk_generic_id *g)
{
    uint8_t b, n;
    uint16_t sd;
    MK_GUARD(mk_cur_u8(c, &g->cs_id));
    MK_GUARD(mk_cur_u8(c, &g->prot_type));
    MK_GUARD(mk_cur_u8(c, &b));
    g->s = (b & 0x80) != 0;
    MK_GUARD(mk_cur_bytes(c, b & 0x7f, &g->policies));
    MK_GUARD(mk_cur_u16(c, &sd));
    MK_GUARD(mk_cur_bytes(c, sd, &g->session_data));
    MK_GUARD(mk_cur_u8(c, &n));
    MK_GUARD(mk_cur_bytes(c, n, &g->spi));
    return MK_OK;
}

static mk_err srtp_read(mk_cursor *c, mk_srtp_id *e)
{
    MK_GUARD(mk_cur_u8(c, &e->policy_no));
    MK_GUARD(mk_cur_u32(c, &e->ssrc));
    MK_GUARD(mk_cur_u32(c, &e->roc));
    return MK_OK;
}

/* Read the map info of (map_type, n_cs) from the cursor into *info. */
static mk_err map_read(mk_cursor *c, uint8_t map_type, uint8_t n_cs,
                       size_t type_off, mk_bytes *info)
{
    switch (map_type) {
    case MK_MAP_SRTP_ID:
        return mk_cur_bytes(c, (size_t)n_cs * MK_SRTP_ID_LEN, info);
    case MK_MAP_EMPTY:
        /* RFC 4563 §5 gives no layout; nothing is encoded (mikey.md §1.2). */
        *info = MK_BYTES_NONE;
        return MK_OK;
    case MK_MAP_GENERIC_ID: {
        size_t start = c->pos;
        mk_generic_id g;
        for (unsigned i = 0; i < n_cs; i++)
            MK_GUARD(generic_read(c, &g));
        *info = mk_cur_since(c, start);
        return MK_OK;
    }
    default:
        MK_FAIL_AT(MK_E_VALUE, MK_PT_HDR, type_off,
                   "unknown CS ID map type: map info length undecidable");
    }
}

/* MK_OK iff map_info has exactly the layout n_cs/map_type demand. */
static mk_err mk_map_validate(uint8_t map_type, uint8_t n_cs, mk_bytes map_info)
{
    mk_cursor c;
    mk_bytes got;
    mk_cur_init(&c, map_info);
    c.payload = MK_PT_HDR;
    MK_GUARD(map_read(&c, map_type, n_cs, 9, &got));
    return mk_cur_expect_end(&c);
}

mk_err mkc_hdr_read(mk_cursor *c, mk_hdr *h)
{
    uint8_t b3;
    c->payload = MK_PT_HDR;
    MK_GUARD(mk_cur_u8(c, &h->version));
    MK_GUARD(mk_cur_u8(c, &h->data_type));
    MK_GUARD(mk_cur_u8(c, &h->next_payload));
    MK_GUARD(mk_cur_u8(c, &b3));
    h->v = (b3 & 0x80) != 0;
    h->prf_func = b3 & 0x7f;
    MK_GUARD(mk_cur_u32(c, &h->csb_id));
    MK_GUARD(mk_cur_u8(c, &h->n_cs));
    size_t type_off = mk_cur_offset(c);
    MK_GUARD(mk_cur_u8(c, &h->map_type));
    return map_read(c, h->map_type, h->n_cs, type_off, &h->map_info);
}

mk_err mk_hdr_decode(mk_bytes in, mk_hdr *out, size_t *hdr_len)
{
    mk_cursor c;
    mk_cur_init(&c, in);
    MK_GUARD(mkc_hdr_read(&c, out));
    if (hdr_len)
        *hdr_len = c.pos;
    return MK_OK;
}

mk_err mk_hdr_encode(const mk_hdr *h, uint8_t next_payload, mk_buf *out)
{
    if (h->prf_func > 0x7f)
        MK_FAIL_AT(MK_E_VALUE, MK_PT_HDR, 3, "PRF func has 7 bits");
    MK_GUARD(mk_map_validate(h->map_type, h->n_cs, h->map_info));
    MK_GUARD(mk_buf_u8(out, h->version));
    MK_GUARD(mk_buf_u8(out, h->data_type));
    MK_GUARD(mk_buf_u8(out, next_payload));
    MK_GUARD(mk_buf_u8(out, (uint8_t)((h->v ? 0x80 : 0) | h->prf_func)));
    MK_GUARD(mk_buf_u32(out, h->csb_id));
    MK_GUARD(mk_buf_u8(out, h->n_cs));
    MK_GUARD(mk_buf_u8(out, h->map_type));
    return mkc_put(out, h->map_info);
}

/* --- map iterator and builders --- */

void mk_map_iter_init(mk_map_iter *it, const mk_hdr *hdr)
{
    mk_cur_init(&it->c, hdr->map_info);
    it->c.payload = MK_PT_HDR;
    it->map_type = hdr->map_type;
    it->left = hdr->n_cs;
    it->err = MK_OK;
}

static bool iter_start(mk_map_iter *it, uint8_t want)
{
    if (it->err != MK_OK || it->left == 0)
        return false;
    if (it->map_type != want) {
        it->err = mk_err_raise(MK_E_VALUE, MK_PT_HDR, 9,
                               "map iterator of the wrong map type");
        return false;
    }
    return true;
}

/* After one entry's read: its result kept (the iterator stops at the
 * first error), the entry counted. */
static bool iter_end(mk_map_iter *it, mk_err read)
{
    it->err = read;
    if (read != MK_OK)
        return false;
    it->left--;
    return true;
}

bool mk_map_next_srtp(mk_map_iter *it, mk_srtp_id *out)
{
    return iter_start(it, MK_MAP_SRTP_ID) &&
           iter_end(it, srtp_read(&it->c, out));
}

bool mk_map_next_generic(mk_map_iter *it, mk_generic_id *out)
{
    return iter_start(it, MK_MAP_GENERIC_ID) &&
           iter_end(it, generic_read(&it->c, out));
}

mk_err mk_map_put_srtp(mk_buf *b, const mk_srtp_id *e)
{
    MK_GUARD(mk_buf_u8(b, e->policy_no));
    MK_GUARD(mk_buf_u32(b, e->ssrc));
    return mk_buf_u32(b, e->roc);
}

mk_err mk_map_put_generic(mk_buf *b, const mk_generic_id *g)
{
    if (g->policies.n > 0x7f)
        MK_FAIL_AT(MK_E_LIMIT, MK_PT_HDR, 0, "#P has 7 bits");
    if (g->session_data.n > 0xffff)
        MK_FAIL_AT(MK_E_LIMIT, MK_PT_HDR, 0, "Session Data Length has 16 bits");
    if (g->spi.n > 0xff)
        MK_FAIL_AT(MK_E_LIMIT, MK_PT_HDR, 0, "SPI Length has 8 bits");
    MK_GUARD(mk_buf_u8(b, g->cs_id));
    MK_GUARD(mk_buf_u8(b, g->prot_type));
    MK_GUARD(mk_buf_u8(b, (uint8_t)((g->s ? 0x80 : 0) | g->policies.n)));
    MK_GUARD(mkc_put(b, g->policies));
    MK_GUARD(mk_buf_u16(b, (uint16_t)g->session_data.n));
    MK_GUARD(mkc_put(b, g->session_data));
    MK_GUARD(mk_buf_u8(b, (uint8_t)g->spi.n));
    return mkc_put(b, g->spi);
}
