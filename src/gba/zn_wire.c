/* zn_wire.c - the kmsd <-> kms-znd messages (zn_wire.h).
 *
 * Request:  version(1) op(1), then for op LOOKUP only:
 *           B-TID(u16 len, bytes) NAF_Id(u16 len, bytes)
 * Answer:   version(1) status(1) result_code(u32); to a LOOKUP with
 *           status OK:
 *           IMPI(u16, bytes) Ks_NAF(u8 len = 32, bytes) expires(u64)
 *           created(u64) n_impu(u8) then n x IMPU(u16, bytes)
 */
#include "gba/zn_wire.h"

#include <string.h>

/* Leave 4 bytes for the length, write it once the body is known. */
static mk_err frame_open(mk_buf *b, uint8_t *out, size_t cap)
{
    size_t at;
    if (cap > MK_ZN_FRAME_MAX)
        cap = MK_ZN_FRAME_MAX;
    mk_buf_init(b, out, cap);
    return mk_buf_reserve(b, 4, &at);
}

static size_t frame_close(mk_buf *b)
{
    size_t body = b->n - 4;
    b->p[0] = (uint8_t)(body >> 24);
    b->p[1] = (uint8_t)(body >> 16);
    b->p[2] = (uint8_t)(body >> 8);
    b->p[3] = (uint8_t)body;
    return b->n;
}

mk_err mk_zn_frame_len(const uint8_t head[4], size_t *body_len)
{
    uint32_t n = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
                 (uint32_t)head[2] << 8 | head[3];
    if (n == 0 || n > MK_ZN_FRAME_MAX - 4)
        MK_FAIL(MK_E_LENGTH, "Zn frame length");
    *body_len = n;
    return MK_OK;
}

static mk_err put16(mk_buf *b, const void *p, size_t n)
{
    if (n > 0xffff)
        MK_FAIL(MK_E_ARG, "Zn field over 65535 bytes");
    MK_GUARD(mk_buf_u16(b, (uint16_t)n));
    return mk_buf_put(b, p, n);
}

static mk_err get16(mk_cursor *c, uint8_t *out, size_t cap, size_t *n)
{
    uint16_t len;
    MK_GUARD(mk_cur_u16(c, &len));
    if (len > cap)
        MK_FAIL(MK_E_LIMIT, "Zn field too long");
    MK_GUARD(mk_cur_copy(c, len, out, cap));
    *n = len;
    return MK_OK;
}

/* A text field: no NUL inside, stored NUL-terminated. */
static mk_err get_text(mk_cursor *c, char *out, size_t cap)
{
    size_t n = 0;
    MK_GUARD(get16(c, (uint8_t *)out, cap - 1, &n));
    if (memchr(out, '\0', n) != NULL)
        MK_FAIL(MK_E_VALUE, "Zn text field holds a NUL");
    out[n] = '\0';
    return MK_OK;
}

mk_err mk_zn_request_encode(const mk_zn_request *r, uint8_t *out, size_t cap,
                            size_t *len)
{
    mk_buf b;
    if (r->op != MK_ZN_OP_LOOKUP && r->op != MK_ZN_OP_STATUS)
        MK_FAIL(MK_E_ARG, "Zn request operation");
    if (r->op == MK_ZN_OP_LOOKUP &&
        (r->btid_len == 0 || r->btid_len > sizeof r->btid ||
         r->naf_id_len == 0 || r->naf_id_len > sizeof r->naf_id))
        MK_FAIL(MK_E_ARG, "Zn request fields");
    MK_GUARD(frame_open(&b, out, cap));
    MK_GUARD(mk_buf_u8(&b, MK_ZN_VERSION));
    MK_GUARD(mk_buf_u8(&b, r->op));
    if (r->op == MK_ZN_OP_LOOKUP) {
        MK_GUARD(put16(&b, r->btid, r->btid_len));
        MK_GUARD(put16(&b, r->naf_id, r->naf_id_len));
    }
    *len = frame_close(&b);
    return MK_OK;
}

mk_err mk_zn_request_decode(mk_bytes body, mk_zn_request *r)
{
    mk_cursor c;
    uint8_t v, op;
    memset(r, 0, sizeof *r);
    mk_cur_init(&c, body);
    MK_GUARD(mk_cur_u8(&c, &v));
    MK_GUARD(mk_cur_u8(&c, &op));
    if (v != MK_ZN_VERSION ||
        (op != MK_ZN_OP_LOOKUP && op != MK_ZN_OP_STATUS))
        MK_FAIL(MK_E_VALUE, "Zn request version or operation");
    r->op = op;
    if (op == MK_ZN_OP_STATUS)
        return mk_cur_expect_end(&c);
    MK_GUARD(get16(&c, r->btid, sizeof r->btid, &r->btid_len));
    MK_GUARD(get16(&c, r->naf_id, sizeof r->naf_id, &r->naf_id_len));
    if (r->btid_len == 0 || r->naf_id_len == 0)
        MK_FAIL(MK_E_VALUE, "Zn request field empty");
    return mk_cur_expect_end(&c);
}

mk_err mk_zn_answer_encode(const mk_zn_answer *a, uint8_t *out, size_t cap,
                           size_t *len)
{
    mk_buf b;
    mk_err rc;
    const mk_gba_info *g = &a->info;
    if ((unsigned)a->status > MK_ZN_UNAVAILABLE ||
        (a->op != MK_ZN_OP_LOOKUP && a->op != MK_ZN_OP_STATUS))
        MK_FAIL(MK_E_ARG, "Zn answer status or operation");
    MK_GUARD(frame_open(&b, out, cap));
    MK_GUARD(mk_buf_u8(&b, MK_ZN_VERSION));
    MK_GUARD(mk_buf_u8(&b, (uint8_t)a->status));
    MK_GUARD(mk_buf_u32(&b, a->result_code));
    if (a->op == MK_ZN_OP_LOOKUP && a->status == MK_ZN_OK) {
        if (g->ks_naf.n != MK_GBA_KEY_LEN || g->n_impu > MK_IMPU_MAX)
            MK_FAIL(MK_E_ARG, "Zn answer: Ks_NAF or IMPUs");
        MK_GUARD_GOTO(put16(&b, g->impi, strlen(g->impi)), rc, fail);
        MK_GUARD_GOTO(mk_buf_u8(&b, (uint8_t)g->ks_naf.n), rc, fail);
        MK_GUARD_GOTO(mk_buf_put(&b, g->ks_naf.b, g->ks_naf.n), rc, fail);
        MK_GUARD_GOTO(mk_buf_u64(&b, g->expires_unix), rc, fail);
        MK_GUARD_GOTO(mk_buf_u64(&b, g->created_unix), rc, fail);
        MK_GUARD_GOTO(mk_buf_u8(&b, (uint8_t)g->n_impu), rc, fail);
        for (size_t i = 0; i < g->n_impu; i++)
            MK_GUARD_GOTO(put16(&b, g->impu[i], strlen(g->impu[i])), rc,
                          fail);
    }
    *len = frame_close(&b);
    return MK_OK;
fail:
    mk_wipe(out, b.n); /* the key may be in it */
    return rc;
}

mk_err mk_zn_answer_decode(mk_bytes body, uint8_t op, mk_zn_answer *a)
{
    mk_cursor c;
    uint8_t v, st, klen, n;
    mk_err rc;
    memset(a, 0, sizeof *a);
    mk_cur_init(&c, body);
    MK_GUARD(mk_cur_u8(&c, &v));
    MK_GUARD(mk_cur_u8(&c, &st));
    if (v != MK_ZN_VERSION || st > MK_ZN_UNAVAILABLE)
        MK_FAIL(MK_E_VALUE, "Zn answer version or status");
    if (op != MK_ZN_OP_LOOKUP && op != MK_ZN_OP_STATUS)
        MK_FAIL(MK_E_ARG, "Zn answer operation");
    a->op = op;
    a->status = (mk_zn_status)st;
    MK_GUARD(mk_cur_u32(&c, &a->result_code));
    if (op == MK_ZN_OP_STATUS || a->status != MK_ZN_OK)
        return mk_cur_expect_end(&c);
    mk_gba_info *g = &a->info;
    MK_GUARD_GOTO(get_text(&c, g->impi, sizeof g->impi), rc, fail);
    MK_GUARD_GOTO(mk_cur_u8(&c, &klen), rc, fail);
    if (klen != MK_GBA_KEY_LEN) {
        rc = mk_err_raise(MK_E_VALUE, -1, 0, "Zn answer: Ks_NAF length");
        goto fail;
    }
    MK_GUARD_GOTO(mk_cur_copy(&c, klen, g->ks_naf.b, sizeof g->ks_naf.b), rc,
                  fail);
    g->ks_naf.n = klen;
    MK_GUARD_GOTO(mk_cur_u64(&c, &g->expires_unix), rc, fail);
    MK_GUARD_GOTO(mk_cur_u64(&c, &g->created_unix), rc, fail);
    MK_GUARD_GOTO(mk_cur_u8(&c, &n), rc, fail);
    if (n > MK_IMPU_MAX) {
        rc = mk_err_raise(MK_E_LIMIT, -1, 0, "Zn answer: too many IMPUs");
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        MK_GUARD_GOTO(get_text(&c, g->impu[i], sizeof g->impu[i]), rc, fail);
    g->n_impu = n;
    MK_GUARD_GOTO(mk_cur_expect_end(&c), rc, fail);
    return MK_OK;
fail:
    mk_gba_info_wipe(g);
    return rc;
}

mk_err mk_zn_status_err(mk_zn_status s)
{
    switch (s) {
    case MK_ZN_OK:
        return MK_OK;
    case MK_ZN_UNKNOWN:
        MK_FAIL(MK_E_HTTP_AUTH, "B-TID unknown or expired at the BSF");
    case MK_ZN_FORBIDDEN:
        MK_FAIL(MK_E_POLICY, "the BSF does not authorise this NAF");
    case MK_ZN_TIMEOUT:
        MK_FAIL(MK_E_HTTP_ZN_TIMEOUT, "no answer over Zn in time");
    case MK_ZN_UNAVAILABLE:
        break;
    }
    MK_FAIL(MK_E_UNAVAILABLE, "the BSF cannot be reached over Zn");
}

const char *mk_zn_status_name(mk_zn_status s)
{
    switch (s) {
    case MK_ZN_OK: return "ok";
    case MK_ZN_UNKNOWN: return "unknown";
    case MK_ZN_FORBIDDEN: return "forbidden";
    case MK_ZN_TIMEOUT: return "timeout";
    case MK_ZN_UNAVAILABLE: return "unavailable";
    }
    return "?";
}
