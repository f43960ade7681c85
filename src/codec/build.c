/* build.c - payload constructors, and the TLV-style sub-structures: SP
 * policy parameters (RFC 3830 §6.10) and Key ID sub-payloads (RFC 4563 §4),
 * both Type(1) Length(1) Value. */
#include "codec/codec_internal.h"

#include <string.h>

/* The constructors: the named fields set, every other field zero
 * (next, raw, off included). */
mk_payload mk_pl_kemac(uint8_t encr_alg, mk_bytes encr_data, uint8_t mac_alg,
                       mk_bytes mac)
{
    return (mk_payload){.type = MK_PT_KEMAC,
                        .u.kemac = {.encr_alg = encr_alg,
                                    .encr_data = encr_data,
                                    .mac_alg = mac_alg,
                                    .mac = mac}};
}

mk_payload mk_pl_pke(uint8_t c, mk_bytes data)
{
    return (mk_payload){.type = MK_PT_PKE, .u.pke = {.c = c, .data = data}};
}

mk_payload mk_pl_dh(uint8_t group, mk_bytes value, mk_kv kv)
{
    return (mk_payload){.type = MK_PT_DH,
                        .u.dh = {.group = group, .value = value, .kv = kv}};
}

mk_payload mk_pl_sign(uint8_t s_type, mk_bytes signature)
{
    return (mk_payload){.type = MK_PT_SIGN,
                        .u.sign = {.s_type = s_type, .signature = signature}};
}

mk_payload mk_pl_t(uint8_t ts_type, uint64_t value)
{
    return (mk_payload){.type = MK_PT_T,
                        .u.t = {.ts_type = ts_type, .value = value}};
}

mk_payload mk_pl_id(uint8_t id_type, mk_bytes data)
{
    return (mk_payload){.type = MK_PT_ID,
                        .u.id = {.type = id_type, .data = data}};
}

mk_payload mk_pl_cert(uint8_t cert_type, mk_bytes data)
{
    return (mk_payload){.type = MK_PT_CERT,
                        .u.id = {.type = cert_type, .data = data}};
}

mk_payload mk_pl_chash(uint8_t hash_func, mk_bytes hash)
{
    return (mk_payload){.type = MK_PT_CHASH,
                        .u.chash = {.hash_func = hash_func, .hash = hash}};
}

mk_payload mk_pl_v(uint8_t auth_alg, mk_bytes mac)
{
    return (mk_payload){.type = MK_PT_V,
                        .u.v = {.auth_alg = auth_alg, .mac = mac}};
}

mk_payload mk_pl_sp(uint8_t policy_no, uint8_t prot_type, mk_bytes params)
{
    return (mk_payload){.type = MK_PT_SP,
                        .u.sp = {.policy_no = policy_no,
                                 .prot_type = prot_type,
                                 .params = params}};
}

mk_payload mk_pl_rand(mk_bytes rand)
{
    return (mk_payload){.type = MK_PT_RAND, .u.rand = {.rand = rand}};
}

mk_payload mk_pl_err(uint8_t err_no)
{
    return (mk_payload){.type = MK_PT_ERR, .u.err = {.err_no = err_no}};
}

mk_payload mk_pl_tr(uint8_t role, uint8_t ts_type, uint64_t value)
{
    return (mk_payload){
        .type = MK_PT_TR,
        .u.tr = {.role = role, .ts_type = ts_type, .value = value}};
}

mk_payload mk_pl_idr(uint8_t role, uint8_t id_type, mk_bytes data)
{
    return (mk_payload){
        .type = MK_PT_IDR,
        .u.idr = {.role = role, .id_type = id_type, .data = data}};
}

mk_payload mk_pl_randr(uint8_t role, mk_bytes rand)
{
    return (mk_payload){.type = MK_PT_RANDR,
                        .u.randr = {.role = role, .rand = rand}};
}

mk_payload mk_pl_tp(const mk_tp *tp)
{
    mk_payload p = {.type = MK_PT_TP, .u.tp = *tp};
    p.u.tp.ticket_data = p.u.tp.initiator_data = MK_BYTES_NONE;
    return p;
}

mk_payload mk_pl_ticket(const mk_tp *tp)
{
    return (mk_payload){.type = MK_PT_TICKET, .u.tp = *tp};
}

mk_payload mk_pl_keydata(uint8_t key_type, mk_bytes key, mk_bytes salt,
                         mk_kv kv)
{
    return (mk_payload){
        .type = MK_PT_KEYDATA,
        .u.keydata = {.type = key_type, .key = key, .salt = salt, .kv = kv}};
}

mk_payload mk_pl_genext(uint8_t type, mk_bytes data)
{
    return (mk_payload){.type = MK_PT_GENEXT,
                        .u.genext = {.type = type, .data = data}};
}

mk_kv mk_kv_null(void)
{
    return (mk_kv){MK_KV_NULL, MK_BYTES_NONE, MK_BYTES_NONE, MK_BYTES_NONE};
}

mk_kv mk_kv_spi(mk_bytes spi)
{
    return (mk_kv){MK_KV_SPI, spi, MK_BYTES_NONE, MK_BYTES_NONE};
}

mk_kv mk_kv_interval(mk_bytes valid_from, mk_bytes valid_to)
{
    return (mk_kv){MK_KV_INTERVAL, MK_BYTES_NONE, valid_from, valid_to};
}

/* --- TLV iterators and builders --- */

static void tlv_init(mk_tlv_iter *it, mk_bytes b, int payload)
{
    mk_cur_init(&it->c, b);
    it->c.payload = payload;
    it->err = MK_OK;
}

static bool tlv_next(mk_tlv_iter *it, uint8_t *type, mk_bytes *value)
{
    uint8_t n;
    if (it->err != MK_OK || mk_cur_remaining(&it->c) == 0)
        return false;
    if ((it->err = mk_cur_u8(&it->c, type)) != MK_OK ||
        (it->err = mk_cur_u8(&it->c, &n)) != MK_OK ||
        (it->err = mk_cur_bytes(&it->c, n, value)) != MK_OK)
        return false;
    return true;
}

static mk_err tlv_put(mk_buf *b, int payload, uint8_t type, mk_bytes value)
{
    if (value.n > 0xff)
        MK_FAIL_AT(MK_E_LIMIT, payload, b->n, "TLV value over its 8-bit length");
    MK_GUARD(mk_buf_u8(b, type));
    MK_GUARD(mk_buf_u8(b, (uint8_t)value.n));
    return mkc_put(b, value);
}

void mk_sp_iter_init(mk_tlv_iter *it, const mk_sp *sp)
{
    tlv_init(it, sp->params, MK_PT_SP);
}

bool mk_sp_next(mk_tlv_iter *it, mk_sp_param *out)
{
    return tlv_next(it, &out->type, &out->value);
}

mk_err mk_sp_param_put(mk_buf *b, uint8_t type, mk_bytes value)
{
    return tlv_put(b, MK_PT_SP, type, value);
}

void mk_key_id_iter_init(mk_tlv_iter *it, const mk_genext *g)
{
    tlv_init(it, g->data, MK_PT_GENEXT);
}

bool mk_key_id_next(mk_tlv_iter *it, mk_key_id *out)
{
    return tlv_next(it, &out->type, &out->value);
}

mk_err mk_key_id_put(mk_buf *b, uint8_t type, mk_bytes value)
{
    return tlv_put(b, MK_PT_GENEXT, type, value);
}
