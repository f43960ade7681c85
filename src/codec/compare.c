/* compare.c - chain bookkeeping (init, add, find) and content equality of
 * payloads, chains, headers and messages (for round-trip tests and for
 * checks such as "Vi equals TRANSFER_INIT's V", RFC 6043 §4.2.3.6). */
#include "codec/mikey.h"

void mk_chain_init(mk_chain *c)
{
    c->first = MK_PT_LAST;
    c->count = 0;
}

mk_err mk_chain_add(mk_chain *c, mk_payload p)
{
    if (c->count >= MK_CHAIN_MAX)
        MK_FAIL_AT(MK_E_LIMIT, p.type, 0, "more payloads than a chain holds");
    if (c->count == 0)
        c->first = p.type;
    c->p[c->count++] = p;
    return MK_OK;
}

int mk_chain_find(const mk_chain *c, uint16_t type, size_t from)
{
    for (size_t i = from; i < c->count; i++)
        if (c->p[i].type == type)
            return (int)i;
    return -1;
}

int mk_chain_find_idr(const mk_chain *c, uint8_t role, size_t from)
{
    for (size_t i = from; i < c->count; i++)
        if (c->p[i].type == MK_PT_IDR && c->p[i].u.idr.role == role)
            return (int)i;
    return -1;
}

int mk_chain_find_randr(const mk_chain *c, uint8_t role, size_t from)
{
    for (size_t i = from; i < c->count; i++)
        if (c->p[i].type == MK_PT_RANDR && c->p[i].u.randr.role == role)
            return (int)i;
    return -1;
}

int mk_chain_find_tr(const mk_chain *c, uint8_t role, size_t from)
{
    for (size_t i = from; i < c->count; i++)
        if (c->p[i].type == MK_PT_TR && c->p[i].u.tr.role == role)
            return (int)i;
    return -1;
}

size_t mk_chain_count(const mk_chain *c, uint16_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < c->count; i++)
        n += c->p[i].type == type;
    return n;
}

#define BEQ(a, b) mk_bytes_equal((a), (b))

static bool kv_equal(const mk_kv *a, const mk_kv *b)
{
    return a->type == b->type && BEQ(a->spi, b->spi) &&
           BEQ(a->valid_from, b->valid_from) && BEQ(a->valid_to, b->valid_to);
}

bool mk_payload_equal(const mk_payload *a, const mk_payload *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case MK_PT_KEMAC:
        return a->u.kemac.encr_alg == b->u.kemac.encr_alg &&
               BEQ(a->u.kemac.encr_data, b->u.kemac.encr_data) &&
               a->u.kemac.mac_alg == b->u.kemac.mac_alg &&
               BEQ(a->u.kemac.mac, b->u.kemac.mac);
    case MK_PT_PKE:
        return a->u.pke.c == b->u.pke.c && BEQ(a->u.pke.data, b->u.pke.data);
    case MK_PT_DH:
        return a->u.dh.group == b->u.dh.group &&
               BEQ(a->u.dh.value, b->u.dh.value) && a->u.dh.res == b->u.dh.res &&
               kv_equal(&a->u.dh.kv, &b->u.dh.kv);
    case MK_PT_SIGN:
        return a->u.sign.s_type == b->u.sign.s_type &&
               BEQ(a->u.sign.signature, b->u.sign.signature);
    case MK_PT_T:
        return a->u.t.ts_type == b->u.t.ts_type && a->u.t.value == b->u.t.value;
    case MK_PT_ID:
    case MK_PT_CERT:
        return a->u.id.type == b->u.id.type && BEQ(a->u.id.data, b->u.id.data);
    case MK_PT_CHASH:
        return a->u.chash.hash_func == b->u.chash.hash_func &&
               BEQ(a->u.chash.hash, b->u.chash.hash);
    case MK_PT_V:
        return a->u.v.auth_alg == b->u.v.auth_alg && BEQ(a->u.v.mac, b->u.v.mac);
    case MK_PT_SP:
        return a->u.sp.policy_no == b->u.sp.policy_no &&
               a->u.sp.prot_type == b->u.sp.prot_type &&
               BEQ(a->u.sp.params, b->u.sp.params);
    case MK_PT_RAND:
        return BEQ(a->u.rand.rand, b->u.rand.rand);
    case MK_PT_ERR:
        return a->u.err.err_no == b->u.err.err_no &&
               a->u.err.reserved == b->u.err.reserved;
    case MK_PT_TR:
        return a->u.tr.role == b->u.tr.role &&
               a->u.tr.ts_type == b->u.tr.ts_type &&
               a->u.tr.value == b->u.tr.value;
    case MK_PT_IDR:
        return a->u.idr.role == b->u.idr.role &&
               a->u.idr.id_type == b->u.idr.id_type &&
               BEQ(a->u.idr.data, b->u.idr.data);
    case MK_PT_RANDR:
        return a->u.randr.role == b->u.randr.role &&
               BEQ(a->u.randr.rand, b->u.randr.rand);
    case MK_PT_TP:
    case MK_PT_TICKET: {
        const mk_tp *x = &a->u.tp, *y = &b->u.tp;
        return x->ticket_type == y->ticket_type && x->subtype == y->subtype &&
               x->version == y->version && x->prf_func == y->prf_func &&
               x->flags == y->flags && x->res == y->res &&
               BEQ(x->tp_data, y->tp_data) &&
               BEQ(x->ticket_data, y->ticket_data) &&
               BEQ(x->initiator_data, y->initiator_data);
    }
    case MK_PT_KEYDATA:
        return a->u.keydata.type == b->u.keydata.type &&
               BEQ(a->u.keydata.key, b->u.keydata.key) &&
               BEQ(a->u.keydata.salt, b->u.keydata.salt) &&
               kv_equal(&a->u.keydata.kv, &b->u.keydata.kv);
    case MK_PT_GENEXT:
        return a->u.genext.type == b->u.genext.type &&
               BEQ(a->u.genext.data, b->u.genext.data);
    default:
        return false; /* not a payload the codec knows: never equal */
    }
}

bool mk_chain_equal(const mk_chain *a, const mk_chain *b)
{
    if (a->count != b->count || a->count > MK_CHAIN_MAX)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (!mk_payload_equal(&a->p[i], &b->p[i]))
            return false;
    return true;
}

static bool mk_hdr_equal(const mk_hdr *a, const mk_hdr *b)
{
    return a->version == b->version && a->data_type == b->data_type &&
           a->v == b->v && a->prf_func == b->prf_func &&
           a->csb_id == b->csb_id && a->n_cs == b->n_cs &&
           a->map_type == b->map_type && BEQ(a->map_info, b->map_info);
}

bool mk_message_equal(const mk_message *a, const mk_message *b)
{
    return mk_hdr_equal(&a->hdr, &b->hdr) && mk_chain_equal(&a->chain, &b->chain);
}
