/* compare.c - chain bookkeeping (init, add, find, the rule of which
 * payloads may repeat) and content equality of
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

/* The role of an IDR, RANDR or TR payload; -1 for the other types. */
static int role_of(const mk_payload *p)
{
    switch (p->type) {
    case MK_PT_IDR: return p->u.idr.role;
    case MK_PT_RANDR: return p->u.randr.role;
    case MK_PT_TR: return p->u.tr.role;
    default: return -1;
    }
}

/* p is of type and, when role >= 0 and the type has roles, of role. */
static bool is_kind(const mk_payload *p, uint16_t type, int role)
{
    return p->type == type &&
           (role < 0 || role_of(p) < 0 || role_of(p) == role);
}

static int find_kind(const mk_chain *c, uint16_t type, int role, size_t from)
{
    for (size_t i = from; i < c->count; i++)
        if (is_kind(&c->p[i], type, role))
            return (int)i;
    return -1;
}

int mk_chain_find(const mk_chain *c, uint16_t type, size_t from)
{
    return find_kind(c, type, -1, from);
}

int mk_chain_find_idr(const mk_chain *c, uint8_t role, size_t from)
{
    return find_kind(c, MK_PT_IDR, role, from);
}

int mk_chain_find_randr(const mk_chain *c, uint8_t role, size_t from)
{
    return find_kind(c, MK_PT_RANDR, role, from);
}

int mk_chain_find_tr(const mk_chain *c, uint8_t role, size_t from)
{
    return find_kind(c, MK_PT_TR, role, from);
}

int mk_chain_find_one(const mk_chain *c, uint16_t type, int role)
{
    int i = find_kind(c, type, role, 0);
    if (i >= 0 && find_kind(c, type, role, (size_t)i + 1) >= 0)
        return -2;
    return i;
}

bool mk_payload_may_repeat(const mk_payload *p, bool tp_data)
{
    switch (p->type) {
    case MK_PT_SP:      /* {SP}: one per policy */
    case MK_PT_CERT:    /* {CERTi}, {CERTr}: a certificate chain */
    case MK_PT_ERR:     /* (ERR) */
    case MK_PT_ID:      /* [IDi], [IDr] of RFC 3830: told apart by place */
    case MK_PT_GENEXT:  /* RFC 3830 §6.15: any number of extensions */
    case MK_PT_KEYDATA: /* the keys of a KEMAC */
        return true;
    case MK_PT_IDR:     /* TP Data: (IDRr), {IDRapp} */
        return tp_data && (p->u.idr.role == MK_ROLE_IDRR ||
                           p->u.idr.role == MK_ROLE_IDRAPP);
    default:
        return false;
    }
}

int mk_chain_find_repeat(const mk_chain *c, bool tp_data)
{
    for (size_t i = 1; i < c->count; i++) {
        const mk_payload *p = &c->p[i];
        if (!mk_payload_may_repeat(p, tp_data) &&
            find_kind(c, p->type, role_of(p), 0) < (int)i)
            return (int)i;
    }
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
