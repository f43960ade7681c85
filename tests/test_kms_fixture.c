/* test_kms_fixture.c - see test_kms_fixture.h. */
#include "test_kms_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/tmpdir.h"
#include "util/ntp.h"

fx F;

const uint8_t fx_master[MK_MASTER_KEY_LEN] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

typedef struct who_row {
    const char *impu;
    const char *psk_id;
    uint8_t psk_byte;
    size_t psk_len;
} who_row;

static const who_row whos[] = {
    {FX_ALICE, "alice-psk", 0x2b, 32},
    {FX_BOB, "bob-psk", 0x3c, 32},
    {FX_CAROL, "carol-psk", 0x4d, 16},
    {FX_DAVE, "dave-psk", 0x5e, 32},
    {FX_ERIN, "erin-psk", 0x6f, 16},
};
static uint8_t psk_mem[5][32];

static const who_row *row(const char *who)
{
    for (size_t i = 0; i < sizeof whos / sizeof whos[0]; i++)
        if (strcmp(whos[i].impu, who) == 0)
            return &whos[i];
    ck_abort_msg("unknown test subscriber %s", who);
    return NULL;
}

mk_bytes fx_str(const char *s)
{
    return MK_BYTES(s, strlen(s));
}

mk_bytes fx_psk(const char *who)
{
    const who_row *w = row(who);
    size_t i = (size_t)(w - whos);
    memset(psk_mem[i], w->psk_byte, w->psk_len);
    return MK_BYTES(psk_mem[i], w->psk_len);
}

mk_bytes fx_psk_id(const char *who)
{
    return fx_str(row(who)->psk_id);
}

void fx_creds(const char *who, mk_ue_creds *c)
{
    memset(c, 0, sizeof *c);
    c->psk = fx_psk(who);
    c->psk_id = fx_psk_id(who);
    c->impu = fx_str(who);
    c->kms_id = fx_str(FX_KMS_ID);
}

static void add_sub(const char *who, bool active, const char *impu2)
{
    mk_subscriber s;
    const who_row *w = row(who);
    memset(&s, 0, sizeof s);
    memcpy(s.psk_id, w->psk_id, strlen(w->psk_id));
    s.psk_id_len = strlen(w->psk_id);
    ck_assert_int_eq(mk_key_copy(&s.psk, fx_psk(who)), MK_OK);
    strcpy(s.impu[0], who);
    s.n_impu = 1;
    if (impu2) {
        strcpy(s.impu[1], impu2);
        s.n_impu = 2;
    }
    s.active = active;
    s.policy.forking_allowed = true;
    s.policy.reuse_allowed = true;
    s.policy.initiator_keys_allowed = strcmp(who, FX_ALICE) == 0;
    s.policy.responder_keys_allowed = strcmp(who, FX_ALICE) == 0;
    if (strcmp(who, FX_DAVE) == 0) {
        strcpy(s.policy.responder_patterns[0], "sip:*@example.com");
        s.policy.n_patterns = 1;
        s.policy.forking_allowed = false;
        s.policy.reuse_allowed = false;
        s.policy.max_lifetime = 600;
    }
    ck_assert_int_eq(mk_sqlstore_subscriber_add(F.sql, &s), MK_OK);
    mk_subscriber_wipe(&s);
}

/* --- the store shim --- */
static mk_err sh_psk(void *c, mk_bytes id, mk_subscriber *o)
{
    fx_shim *s = c;
    return s->real.subscriber_by_psk_id(s->real.ctx, id, o);
}
static mk_err sh_impu(void *c, mk_bytes id, mk_subscriber *o)
{
    fx_shim *s = c;
    return s->real.subscriber_by_impu(s->real.ctx, id, o);
}
static mk_err sh_active(void *c, mk_ticket_key *o)
{
    fx_shim *s = c;
    if (s->no_active)
        return MK_E_NOT_FOUND;
    return s->real.ticket_key_active(s->real.ctx, o);
}
static mk_err sh_byid(void *c, mk_bytes id, mk_ticket_key *o)
{
    fx_shim *s = c;
    return s->real.ticket_key_by_id(s->real.ctx, id, o);
}
static mk_err sh_commit(void *c, const mk_answer_write *w)
{
    fx_shim *s = c;
    if ((s->fail_replay && w->digest != NULL) || s->fail_record)
        return MK_E_UNAVAILABLE;
    s->commits++;
    s->commits_with_replay += w->digest != NULL;
    s->commits_with_note += w->note != NULL;
    return s->real.answer_commit(s->real.ctx, w);
}

void fx_setup(void)
{
    mk_ticket_key_info info;
    mk_err e = MK_OK;
    memset(&F, 0, sizeof F);
    mk_test_dir_make(F.dir, sizeof F.dir, "kms");
    snprintf(F.path, sizeof F.path, "%s/kms.db", F.dir);
    ck_assert_int_eq(mk_sqlstore_open(F.path, MK_BYTES(fx_master, sizeof fx_master),
                                      5000, &F.sql),
                     MK_OK);
    add_sub(FX_ALICE, true, FX_ALICE2);
    add_sub(FX_BOB, true, NULL);
    add_sub(FX_CAROL, false, NULL);
    add_sub(FX_DAVE, true, NULL);
    add_sub(FX_ERIN, true, NULL);
    F.now = mk_ntp_now();
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(F.sql,
                                                   mk_ntp_to_unix(F.now),
                                                   &info),
                     MK_OK);
    F.shim.real = mk_sqlstore_interface(F.sql);
    F.iface = (mk_kms_store){
        .ctx = &F.shim,
        .subscriber_by_psk_id = sh_psk,
        .subscriber_by_impu = sh_impu,
        .ticket_key_active = sh_active,
        .ticket_key_by_id = sh_byid,
        .answer_commit = sh_commit,
    };
    mk_kms_config_defaults(&F.cfg);
    F.kms = mk_kms_new(&F.cfg, &F.iface, &e);
    ck_assert_int_eq(e, MK_OK);
    ck_assert_ptr_nonnull(F.kms);
}

void fx_teardown(void)
{
    mk_kms_free(F.kms);
    mk_sqlstore_close(F.sql);
    /* the database, its WAL companions and the node state next to it
       (store/node.h) */
    mk_test_dir_remove(F.dir);
}

mk_err fx_handle(mk_service svc, const fx_msg *m)
{
    mk_err e = mk_kms_handle(F.kms, svc, MK_BYTES(m->b, m->n), F.now, &F.ans);
    ck_assert_int_eq(e, F.ans.err);
    ck_assert_int_eq(F.ans.http_status, mk_err_http_status(e));
    if (F.ans.http_status != 200)
        ck_assert_uint_eq(F.ans.body_len, 0);
    return e;
}

mk_err fx_chain_kms(void *ctx, int service, mk_bytes req, uint8_t *out,
                    size_t cap, size_t *n)
{
    (void)ctx;
    mk_kms_handle(F.kms, (mk_service)service, req, F.now, &F.ans);
    if (F.ans.http_status != 200)
        return F.ans.err;
    ck_assert_uint_le(F.ans.body_len, cap);
    memcpy(out, F.ans.body, F.ans.body_len);
    *n = F.ans.body_len;
    return MK_OK;
}

void fx_request_params(mk_ue_request_params *p, const mk_suite *s,
                       const char *who, const char *responder)
{
    mk_ue_request_params_init(p, s);
    fx_creds(who, &p->creds);
    p->idrr[0] = fx_str(responder);
    p->n_idrr = 1;
    p->fixed.has_t = true;
    p->fixed.t_ntp = F.now;
}

void fx_request_init(const mk_ue_request_params *p, fx_msg *out)
{
    ck_assert_int_eq(mk_ue_request_init(p, out->b, sizeof out->b, &out->n),
                     MK_OK);
}

chain_result *fx_chain(const mk_suite *s, bool fork, bool tmpl3)
{
    chain_opts o;
    chain_result *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    chain_opts_init(&o, s);
    o.fork = fork;
    o.tmpl3 = tmpl3;
    o.alice_psk = fx_psk(FX_ALICE);
    o.bob_psk = fx_psk(FX_BOB);
    o.alice_psk_id = fx_psk_id(FX_ALICE);
    o.bob_psk_id = fx_psk_id(FX_BOB);
    o.kms_id = FX_KMS_ID;
    mk_err e = chain_run(&o, fx_chain_kms, NULL, r);
    ck_assert_msg(e == MK_OK, "chain failed at %s: %s", r->step,
                  mk_err_name(e));
    return r;
}

void fx_chain_free(chain_result *r)
{
    chain_result_wipe(r);
    free(r);
}

void fx_resolve_init(const chain_result *r, const char *who, fx_msg *out)
{
    mk_ue_creds c;
    mk_ue_fixed f;
    fx_creds(who, &c);
    memset(&f, 0, sizeof f);
    f.has_t = true;
    f.t_ntp = F.now;
    ck_assert_int_eq(mk_ue_resolve_init(&c, chain_bytes(&r->tr_init),
                                        &f, out->b, sizeof out->b, &out->n),
                     MK_OK);
}

static void kind1_keys(const mk_hdr *h, const mk_chain *c, const char *who,
                       int mac_alg, mk_msg_keys *k)
{
    mk_bytes ri = MK_BYTES_NONE, rr = MK_BYTES_NONE;
    int i = mk_chain_find(c, MK_PT_RANDR, 0);
    ck_assert_int_ge(i, 0);
    if (c->p[i].u.randr.role == MK_RANDR_I)
        ri = c->p[i].u.randr.rand;
    else
        rr = c->p[i].u.randr.rand;
    int prf = mk_prf_supported(h->prf_func) ? h->prf_func : MK_PRF_MIKEY_1;
    int encr = mac_alg == MK_MAC_HMAC_SHA256_256 ? MK_ENCR_AES_CM_256
                                                 : MK_ENCR_AES_CM_128;
    ck_assert_int_eq(mk_msg_keys_6043(prf, fx_psk(who), h->csb_id,
                                      MK_LABEL_KIND_INITIAL, ri, rr, encr,
                                      mac_alg, k),
                     MK_OK);
}

void fx_resign(mk_message *m, const char *who, mk_bytes identity,
               fx_msg *out)
{
    mk_payload *v = &m->chain.p[m->chain.count - 1];
    mk_buf b;
    ck_assert_uint_eq(v->type, MK_PT_V);
    size_t maclen = mk_mac_supported(v->u.v.auth_alg)
                        ? mk_mac_len(v->u.v.auth_alg)
                        : 0;
    mk_buf_init(&b, out->b, sizeof out->b);
    if (maclen == 0) {
        v->u.v.mac = MK_BYTES_NONE;
        ck_assert_int_eq(mk_message_encode(m, &b), MK_OK);
    } else {
        mk_msg_keys k;
        mk_bytes extra[2] = {identity, fx_str(FX_KMS_ID)};
        v->u.v.mac = MK_BYTES(NULL, maclen);
        kind1_keys(&m->hdr, &m->chain, who, v->u.v.auth_alg, &k);
        ck_assert_int_eq(mk_v_encode_signed(m, mk_key_bytes(&k.auth), extra,
                                            2, &b),
                         MK_OK);
        mk_msg_keys_wipe(&k);
    }
    out->n = b.n;
}

void fx_resign_raw(fx_msg *m, const mk_message *orig, const char *who,
                   mk_bytes identity)
{
    const mk_payload *v = &orig->chain.p[orig->chain.count - 1];
    mk_hdr h = orig->hdr;
    mk_msg_keys k;
    size_t maclen = mk_mac_len(v->u.v.auth_alg);
    ck_assert_uint_eq(v->type, MK_PT_V);
    ck_assert_uint_gt(maclen, 0);
    ck_assert_uint_gt(m->n, maclen);
    h.csb_id = (uint32_t)m->b[4] << 24 | (uint32_t)m->b[5] << 16 |
               (uint32_t)m->b[6] << 8 | m->b[7];
    kind1_keys(&h, &orig->chain, who, v->u.v.auth_alg, &k);
    mk_bytes parts[3] = {MK_BYTES(m->b, m->n - maclen), identity,
                         fx_str(FX_KMS_ID)};
    ck_assert_int_eq(mk_mac(v->u.v.auth_alg, mk_key_bytes(&k.auth), parts, 3,
                            m->b + m->n - maclen, maclen),
                     MK_OK);
    mk_msg_keys_wipe(&k);
}

void fx_set_tp_data(mk_message *m, int i, const mk_chain *c, uint8_t *buf,
                    size_t cap)
{
    mk_buf b;
    mk_buf_init(&b, buf, cap);
    ck_assert_int_eq(mk_tp_data_encode(c, &b), MK_OK);
    m->chain.p[i].u.tp.tp_data = mk_buf_view(&b);
}

void fx_assert_error(const fx_msg *req, int no, bool with_v, const char *who)
{
    mk_message rq, em;
    ck_assert_int_eq(F.ans.http_status, 200);
    ck_assert_int_eq(mk_err_mikey_errno(F.ans.err), no);
    ck_assert_int_eq(mk_message_decode(MK_BYTES(req->b, req->n), &rq), MK_OK);
    ck_assert_int_eq(mk_message_decode(MK_BYTES(F.ans.body, F.ans.body_len),
                                       &em),
                     MK_OK);
    /* version 1 whatever the request's (doc/profile.md §9.27) */
    ck_assert_uint_eq(em.hdr.version, MK_VERSION);
    ck_assert_uint_eq(em.hdr.data_type, MK_DT_ERROR);
    ck_assert(!em.hdr.v);
    ck_assert_uint_eq(em.hdr.prf_func, rq.hdr.prf_func);
    ck_assert_uint_eq(em.hdr.csb_id, rq.hdr.csb_id);
    ck_assert_uint_eq(em.hdr.n_cs, 0);
    ck_assert_uint_eq(em.hdr.map_type, MK_MAP_EMPTY);
    ck_assert_uint_eq(em.chain.count, with_v ? 3 : 2);
    ck_assert_uint_eq(em.chain.p[0].type, MK_PT_T);
    ck_assert_uint_eq(em.chain.p[0].u.t.ts_type, MK_TS_NTP_UTC);
    ck_assert_uint_eq(em.chain.p[0].u.t.value, F.now);
    ck_assert_uint_eq(em.chain.p[1].type, MK_PT_ERR);
    ck_assert_uint_eq(em.chain.p[1].u.err.err_no, (unsigned)no);
    if (with_v) {
        mk_msg_keys k;
        const mk_payload *v = &em.chain.p[2];
        ck_assert_uint_eq(v->type, MK_PT_V);
        /* keyed as the failing message (RFC 6043 §5.4) */
        int ri = mk_chain_find(&rq.chain, MK_PT_V, 0);
        ck_assert_uint_eq(v->u.v.auth_alg, rq.chain.p[ri].u.v.auth_alg);
        kind1_keys(&rq.hdr, &rq.chain, who, v->u.v.auth_alg, &k);
        ck_assert_int_eq(mk_v_verify(&em, mk_key_bytes(&k.auth), NULL, 0),
                         MK_OK);
        mk_msg_keys_wipe(&k);
    }
}

void fx_decode(const fx_msg *m, mk_message *d)
{
    ck_assert_int_eq(mk_message_decode(MK_BYTES(m->b, m->n), d), MK_OK);
}

void fx_expect_error(mk_service svc, const fx_msg *req, mk_err want, int no,
                     bool with_v, const char *who)
{
    ck_assert_int_eq(fx_handle(svc, req), want);
    fx_assert_error(req, no, with_v, who);
}

static mk_err count_cb(void *arg, const mk_record *r)
{
    (void)r;
    (*(size_t *)arg)++;
    return MK_OK;
}

void fx_drain(void)
{
    mk_node *node = NULL;
    size_t moved = 0;
    ck_assert_int_eq(mk_sqlstore_node_open(F.sql, NULL, &node), MK_OK);
    ck_assert_int_eq(mk_sqlstore_drain(F.sql, node, 1000, SIZE_MAX, &moved),
                     MK_OK);
}

size_t fx_record_count(void)
{
    size_t n = 0;
    fx_drain();
    ck_assert_int_eq(mk_sqlstore_records(F.sql, 0, NULL, count_cb, &n),
                     MK_OK);
    return n;
}
