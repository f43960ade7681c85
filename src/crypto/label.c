/* label.c - the PRF labels of RFC 3830 §4.1.3 / §4.1.4 and RFC 6043 §5.1.1-
 * §5.1.3, §6.10 and App. A.2. Every integer is big-endian. Labels hold no
 * secret (constants, IDs and RANDs all travel in clear). */
#include "crypto/crypto.h"

/* Every label of both RFCs starts const || id || csb_id (RFC 3830 §4.1.3,
 * RFC 6043 §5.1); what follows differs. */
static void label_begin(mk_label *l, mk_buf *b, uint32_t c, uint8_t id,
                        uint32_t csb_id)
{
    l->n = 0;
    mk_buf_init(b, l->b, sizeof l->b);
    mk_buf_u32(b, c);
    mk_buf_u8(b, id);
    mk_buf_u32(b, csb_id);
}

/* The writes of a label go unchecked (the writer keeps the first error);
 * here the label is whole or empty. */
static mk_err label_end(mk_label *l, const mk_buf *b)
{
    mk_err rc = mk_buf_err(b);
    l->n = rc == MK_OK ? b->n : 0;
    return rc;
}

/* A RAND behind a one-byte length (RFC 6043 labels). */
static void put_len8(mk_buf *b, mk_bytes r)
{
    if (r.n > MK_LABEL_RAND_MAX) {
        (void)mk_buf_fail(b, mk_err_raise(MK_E_LIMIT, -1, 0,
                                          "RAND longer than 255 bytes in a "
                                          "label"));
        return;
    }
    mk_buf_u8(b, (uint8_t)r.n);
    mk_buf_bytes(b, r);
}

/* RFC 3830 §4.1.3/§4.1.4: const || id || csb_id || RAND, RAND without a
 * length byte. */
static mk_err label_3830(mk_label *l, uint32_t c, uint8_t id, uint32_t csb_id,
                         mk_bytes rand)
{
    mk_buf b;
    label_begin(l, &b, c, id, csb_id);
    if (rand.n > sizeof l->b - 9)
        (void)mk_buf_fail(&b, mk_err_raise(MK_E_LIMIT, -1, 0,
                                           "RAND too long for a label"));
    mk_buf_bytes(&b, rand);
    return label_end(l, &b);
}

mk_err mk_label_3830_tgk(mk_label *l, uint32_t c, uint8_t cs_id,
                         uint32_t csb_id, mk_bytes rand)
{
    return label_3830(l, c, cs_id, csb_id, rand);
}

mk_err mk_label_3830_psk(mk_label *l, uint32_t c, uint32_t csb_id,
                         mk_bytes rand)
{
    return label_3830(l, c, 0xFF, csb_id, rand);
}

/* const || id || csb || code || len || RANDRi || len || RANDRr
 * (RFC 6043 §5.1.2 with id 0xFF, §5.1.3 with id = CS ID, csb 0xFFFFFFFF). */
static mk_err label_6043_rands(mk_label *l, uint32_t c, uint8_t id,
                               uint32_t csb_id, uint8_t code, mk_bytes randri,
                               mk_bytes randrr)
{
    mk_buf b;
    label_begin(l, &b, c, id, csb_id);
    mk_buf_u8(&b, code);
    put_len8(&b, randri);
    put_len8(&b, randrr);
    return label_end(l, &b);
}

mk_err mk_label_6043_msg(mk_label *l, uint32_t c, uint32_t csb_id,
                         uint8_t kind, mk_bytes randri, mk_bytes randrr)
{
    if (kind != MK_LABEL_KIND_INITIAL && kind != MK_LABEL_KIND_RESPONSE) {
        l->n = 0;
        MK_FAIL(MK_E_ARG, "message label kind is neither 0x01 nor 0x02");
    }
    return label_6043_rands(l, c, 0xFF, csb_id, kind, randri, randrr);
}

mk_err mk_label_6043_tek(mk_label *l, uint32_t c, uint8_t cs_id,
                         mk_bytes randri, mk_bytes randrr)
{
    return label_6043_rands(l, c, cs_id, 0xFFFFFFFFu, 0x03, randri, randrr);
}

mk_err mk_label_6043_fork(mk_label *l, uint32_t c, mk_bytes id_data,
                          mk_bytes randrkms)
{
    mk_buf b;
    label_begin(l, &b, c, 0xFF, 0xFFFFFFFFu);
    if (id_data.n > MK_LABEL_ID_MAX)
        (void)mk_buf_fail(&b, mk_err_raise(MK_E_LIMIT, -1, 0,
                                           "ID Data too long for a forking "
                                           "label"));
    mk_buf_u8(&b, 0x00);
    mk_buf_u16(&b, (uint16_t)id_data.n);
    mk_buf_bytes(&b, id_data);
    put_len8(&b, randrkms);
    return label_end(l, &b);
}

mk_err mk_label_6043_fixed(mk_label *l, uint32_t c, uint8_t code,
                           const mk_bytes *rand)
{
    mk_buf b;
    label_begin(l, &b, c, 0xFF, 0xFFFFFFFFu);
    mk_buf_u8(&b, code);
    if (rand != NULL)
        put_len8(&b, *rand);
    return label_end(l, &b);
}
