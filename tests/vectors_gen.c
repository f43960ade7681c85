/* vectors_gen - write the published MIKEY-TICKET test vectors of
 * doc/vectors/ (README.md there says what each holds and how to check it).
 *
 *   vectors_gen DIR      one NAME.json per chain into DIR
 *
 * Each chain is the real thing: alice's REQUEST_INIT_PSK and TRANSFER_INIT,
 * bob's RESOLVE_INIT_PSK and TRANSFER_RESP are built by the UE library that
 * mikey-ue is a shell over (src/ue, driven by tests/test_ue_chain.c), and
 * both KMS answers come from the KMS core (mk_kms_handle) over a small
 * in-memory store of this file. Every value that is normally drawn at
 * random or read from a clock is fixed:
 *   - a fixed value WHAT of chain NAME (PSK, CSB ID, RAND, ticket key) is
 *     the first bytes of SHA-256(NAME "/" WHAT) || SHA-256(NAME "/" WHAT
 *     "/1") || ... (fixed_bytes);
 *   - the KMS core's random bytes come through the test-vector seam
 *     (kms/kms_vector.h): its i-th draw of the chain (0: the Ticket
 *     Request, 1: the Ticket Resolve when forking) is WHAT = "kms/i";
 *   - the times are 2025-01-01T00:00:00.25Z plus 0..5 seconds.
 * So `make vectors` rewrites the files byte for byte, and tests/vectors.sh
 * checks that they still match what the code produces.
 *
 * The keys and intermediates are computed with the crypto module from what
 * the chain carried; the independent check is tests/vectors_check.py.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"
#include "crypto/crypto.h"
#include "kms/kms.h"
#include "kms/kms_store.h"
#include "kms/kms_vector.h"
#include "proto/proto.h"
#include "ue/ue.h"
#include "util/ntp.h"
#include "lib/mem_store.h"
#include "test_ue_chain.h"

#define KMS_ID "kms.example.org"
#define ALICE "sip:alice@example.org"
#define BOB "sip:bob@example.org"
#define T0_UNIX 1735689600u /* 2025-01-01T00:00:00Z */

/* One published chain. */
typedef struct spec {
    const char *name;
    const mk_suite *suite;
    bool fork;       /* key forking (flag I) */
    bool tmpl3;      /* KEMAC template: TGK, TGK, TEK+SALT */
    bool omit_idrs;  /* no IDRi / IDRr / IDRkms in any message */
    unsigned late;   /* seconds the KMS clock is ahead at the request */
} spec;

static const spec specs[] = {
    {"suite128", &mk_suite_128, false, false, false, 0},
    {"suite128-forking", &mk_suite_128, true, false, false, 0},
    {"suite256", &mk_suite_256, false, false, false, 0},
    {"suite256-forking", &mk_suite_256, true, false, false, 0},
    {"suite128-forking-template", &mk_suite_128, true, true, false, 0},
    /* T an hour behind the KMS clock, outside its +-300 s window
     * (profile §7): Error 1 Invalid TS, with V (profile §3) */
    {"suite128-refused", &mk_suite_128, false, false, false, 3600},
    {"suite256-forking-no-idr", &mk_suite_256, true, false, true, 0},
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("vectors_gen: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void ok(mk_err e, const char *what)
{
    if (e != MK_OK)
        die("%s: %s", what, mk_err_name(e));
}

/* The first n bytes of SHA-256(a "/" b) || SHA-256(a "/" b "/1") || ... */
static void fixed_bytes(const char *a, const char *b, uint8_t *out, size_t n)
{
    for (size_t blk = 0; n > 0; blk++) {
        char label[256];
        uint8_t h[32];
        int len = blk == 0 ? snprintf(label, sizeof label, "%s/%s", a, b)
                           : snprintf(label, sizeof label, "%s/%s/%zu", a, b,
                                      blk);
        mk_bytes part = MK_BYTES(label, (size_t)len);
        size_t k = n < 32 ? n : 32;
        ok(mk_sha256(&part, 1, h), "sha256");
        memcpy(out, h, k);
        out += k;
        n -= k;
    }
}

static uint32_t fixed_u32(const char *a, const char *b)
{
    uint8_t x[4];
    fixed_bytes(a, b, x, 4);
    return (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 |
           (uint32_t)x[2] << 8 | x[3];
}

/* ------------------------------------------------------------------ */
/* The KMS: the core over the in-memory store of tests/lib (each chain runs
 * once on a fresh one), random bytes from the seam */

typedef struct vec_kms {
    const char *name;
    mk_subscriber alice, bob;
    mk_ticket_key tk;
    mk_mem_store mem;      /* the store the core runs over: alice, bob, tk */
    unsigned calls;        /* random pool refills so far */
    uint64_t now_request, now_resolve;
    mk_kms *kms;
    mk_kms_answer ans;
} vec_kms;

static mk_err kms_random(void *ctx, uint8_t *out, size_t n)
{
    vec_kms *v = ctx;
    char what[32];
    snprintf(what, sizeof what, "kms/%u", v->calls++);
    fixed_bytes(v->name, what, out, n);
    return MK_OK;
}

static void subscriber(const char *chain, const char *who, const char *impu,
                       size_t psk_len, mk_subscriber *s)
{
    memset(s, 0, sizeof *s);
    memcpy(s->psk_id, who, strlen(who));
    s->psk_id_len = strlen(who);
    s->psk.n = psk_len;
    fixed_bytes(chain, strcmp(who, "alice") == 0 ? "alice-psk" : "bob-psk",
                s->psk.b, psk_len);
    strcpy(s->impu[0], impu);
    s->n_impu = 1;
    s->active = true;
    s->policy.forking_allowed = true;
}

/* chain_kms_fn: the KMS answers 1 s after the message's own T (the refused
 * chain: an hour later). */
static mk_err kms_fn(void *ctx, int service, mk_bytes req, uint8_t *out,
                     size_t cap, size_t *n)
{
    vec_kms *v = ctx;
    uint64_t now = service == MK_SERVICE_TICKET_REQUEST ? v->now_request
                                                        : v->now_resolve;
    mk_kms_handle(v->kms, (mk_service)service, req, now, &v->ans);
    if (v->ans.http_status != 200)
        return v->ans.err;
    if (v->ans.body_len > cap)
        return MK_E_NOSPACE;
    memcpy(out, v->ans.body, v->ans.body_len);
    *n = v->ans.body_len;
    return MK_OK;
}

/* ------------------------------------------------------------------ */
/* JSON (the exact shape of doc/vectors/README.md) */

static FILE *out;

static void hex(mk_bytes b)
{
    fputc('"', out);
    for (size_t i = 0; i < b.n; i++)
        fprintf(out, "%02x", b.p[i]);
    fputc('"', out);
}

static void hex_or_null(bool present, mk_bytes b)
{
    if (present)
        hex(b);
    else
        fputs("null", out);
}

static void key_line(const char *name, bool present, mk_bytes b, bool last)
{
    fprintf(out, "    \"%s\": ", name);
    hex_or_null(present, b);
    fputs(last ? "\n" : ",\n", out);
}

static void party(const char *name, const mk_subscriber *s)
{
    fprintf(out, "  \"%s\": {\"impu\": \"%s\", \"psk_id_hex\": ", name,
            s->impu[0]);
    hex(MK_BYTES(s->psk_id, s->psk_id_len));
    fputs(", \"psk_hex\": ", out);
    hex(mk_key_bytes(&s->psk));
    fputs("},\n", out);
}

/* ------------------------------------------------------------------ */
/* What the vectors state beside the messages */

typedef struct inter {
    mk_msg_keys req_init, req_resp, res_init, res_resp, tr_init, tr_resp;
    mk_msg_keys ticket;
    mk_key vr;
} inter;

static void decode(const chain_msg *m, mk_message *msg, const char *what)
{
    ok(mk_message_decode(MK_BYTES(m->b, m->n), msg), what);
}

static mk_bytes randr_of(const mk_message *m, uint8_t role)
{
    int i = mk_chain_find_randr(&m->chain, role, 0);
    return i < 0 ? MK_BYTES_NONE : m->chain.p[i].u.randr.rand;
}

static void msg_keys(const mk_message *m, mk_bytes inkey, uint8_t kind,
                     mk_bytes randri, mk_bytes randrr, const mk_suite *s,
                     mk_msg_keys *k)
{
    ok(mk_msg_keys_6043(m->hdr.prf_func, inkey, m->hdr.csb_id, kind, randri,
                        randrr, s->encr_alg, s->mac_alg, k),
       "message keys");
}

/* Every key of RFC 6043 §5.1.2, §6.10 and App. A.2.1 that protects a
 * message of the chain, recomputed from the chain's own bytes. */
static void intermediates(const spec *sp, const vec_kms *v,
                          const chain_result *r, inter *in)
{
    static mk_message req, tr, res, trr, resp;
    const mk_suite *s = sp->suite;
    mk_bytes ri;
    memset(in, 0, sizeof *in);
    decode(&r->req_init, &req, "REQUEST_INIT");
    ri = randr_of(&req, MK_RANDR_I);
    msg_keys(&req, mk_key_bytes(&v->alice.psk), MK_LABEL_KIND_INITIAL, ri,
             MK_BYTES_NONE, s, &in->req_init);
    if (r->ticket.keys.count == 0)
        return; /* refused: no REQUEST_RESP keys, no ticket */
    msg_keys(&req, mk_key_bytes(&v->alice.psk), MK_LABEL_KIND_RESPONSE, ri,
             MK_BYTES_NONE, s, &in->req_resp);
    /* the ticket keys: TPK and the RAND of the ticket (App. A.2.1) */
    {
        mk_payload tkt;
        mk_thdr th;
        static mk_chain td;
        size_t used;
        int i;
        ok(mk_payload_decode(MK_BYTES(r->ticket.ticket, r->ticket.ticket_len),
                             MK_PT_TICKET, &tkt, &used),
           "TICKET");
        ok(mk_base_ticket_decode(tkt.u.tp.ticket_data, &th, &td),
           "Ticket Data");
        i = mk_chain_find(&td, MK_PT_RAND, 0);
        if (i < 0)
            die("ticket without RAND");
        ok(mk_ticket_keys(r->ticket.tp_prf, mk_key_bytes(&v->tk.key),
                          td.p[i].u.rand.rand, s->encr_alg, s->mac_alg,
                          &in->ticket),
           "ticket keys");
    }
    decode(&r->tr_init, &tr, "TRANSFER_INIT");
    decode(&r->res_init, &res, "RESOLVE_INIT");
    decode(&r->tr_resp, &trr, "TRANSFER_RESP");
    decode(&r->res_resp, &resp, "RESOLVE_RESP");
    msg_keys(&res, mk_key_bytes(&v->bob.psk), MK_LABEL_KIND_INITIAL,
             MK_BYTES_NONE, randr_of(&res, MK_RANDR_R), s, &in->res_init);
    msg_keys(&res, mk_key_bytes(&v->bob.psk), MK_LABEL_KIND_RESPONSE,
             MK_BYTES_NONE, randr_of(&res, MK_RANDR_R), s, &in->res_resp);
    ri = randr_of(&tr, MK_RANDR_I);
    msg_keys(&tr, mk_key_bytes(&r->alice.keys.e[0].key),
             MK_LABEL_KIND_INITIAL, ri, MK_BYTES_NONE, s, &in->tr_init);
    /* TRANSFER_RESP: MPKr' with forking, else MPKi; RANDRr iff G */
    msg_keys(&tr,
             mk_key_bytes(&r->alice.keys.e[r->alice.forked ? 1 : 0].key),
             MK_LABEL_KIND_RESPONSE, ri,
             (r->alice.flags & MK_TPF_G) ? randr_of(&trr, MK_RANDR_R)
                                         : MK_BYTES_NONE,
             s, &in->tr_resp);
    if (sp->fork)
        ok(mk_vr_key(r->ticket.tp_prf, mk_key_bytes(&r->ticket.keys.e[1].key),
                     s->mac_alg, &in->vr),
           "Vr key");
}

static bool is_tgk(uint8_t t)
{
    return t == MK_KEY_TGK || t == MK_KEY_TGK_SALT;
}

static void write_keys(const spec *sp, const chain_result *r, bool done)
{
    const mk_ue_ticket *tk = &r->ticket;
    bool fork = done && sp->fork;
    fputs("  \"keys\": {\n", out);
    key_line("mpk_i", done, mk_key_bytes(&tk->keys.e[0].key), false);
    key_line("mpk_r", fork, mk_key_bytes(&tk->keys.e[1].key), false);
    key_line("mpk_r_forked", fork, mk_key_bytes(&r->bob.keys.e[1].key),
             false);
    /* every session key alice received, in KEMAC order */
    fputs("    \"session_keys\": ", out);
    if (!done) {
        fputs("null,\n    \"tgk\": null,\n    \"tgk_forked\": null,\n"
              "    \"srtp\": null\n  },\n",
              out);
        return;
    }
    fputs("[\n", out);
    for (size_t i = tk->first_key; i < tk->keys.count; i++) {
        const mk_key_entry *e = &tk->keys.e[i];
        fprintf(out, "      {\"type\": \"%s\", \"key\": ",
                mk_name_key_type(e->type));
        hex(mk_key_bytes(&e->key));
        fputs(", \"salt\": ", out);
        hex_or_null(e->salt.n > 0, mk_key_bytes(&e->salt));
        fputs(", \"spi\": ", out);
        hex_or_null(e->kv == MK_KV_SPI, MK_BYTES(e->spi, e->spi_len));
        fputs(i + 1 < tk->keys.count ? "},\n" : "}\n", out);
    }
    fputs("    ],\n", out);
    /* the TGKs alice has (unforked) and the TGK' bob received */
    for (int forked = 0; forked < 2; forked++) {
        const mk_key_set *ks = forked ? &r->bob.keys : &tk->keys;
        size_t first = forked ? r->bob.first_key : tk->first_key;
        bool any = false;
        fprintf(out, "    \"%s\": ", forked ? "tgk_forked" : "tgk");
        if (forked && !fork) {
            fputs("null,\n", out);
            continue;
        }
        fputc('[', out);
        for (size_t i = first; i < ks->count; i++) {
            if (!is_tgk(ks->e[i].type))
                continue;
            fputs(any ? ", " : "", out);
            hex(mk_key_bytes(&ks->e[i].key));
            any = true;
        }
        fputs("],\n", out);
    }
    /* the SRTP master key and salt of every CS, the same on both sides */
    fputs("    \"srtp\": [\n", out);
    for (size_t c = 0; c < r->alice.n_cs; c++) {
        uint8_t cs_id = r->alice.cs[c].cs_id;
        mk_ue_srtp a, b;
        const mk_key_entry *e;
        ok(mk_ue_srtp_keys(&r->alice, cs_id, &a), "alice SRTP keys");
        ok(mk_ue_srtp_keys(&r->bob, cs_id, &b), "bob SRTP keys");
        if (a.key_index != b.key_index ||
            !mk_bytes_equal(mk_key_bytes(&a.master_key),
                            mk_key_bytes(&b.master_key)) ||
            !mk_bytes_equal(mk_key_bytes(&a.master_salt),
                            mk_key_bytes(&b.master_salt)))
            die("%s: alice and bob differ on CS %u", sp->name, cs_id);
        e = &r->alice.keys.e[a.key_index];
        fprintf(out, "      {\"cs_id\": %u, \"spi\": ", cs_id);
        hex(MK_BYTES(e->spi, e->spi_len));
        fputs(", \"master_key\": ", out);
        hex(mk_key_bytes(&a.master_key));
        fputs(", \"master_salt\": ", out);
        hex(mk_key_bytes(&a.master_salt));
        fputs(c + 1 < r->alice.n_cs ? "},\n" : "}\n", out);
        mk_ue_srtp_wipe(&a);
        mk_ue_srtp_wipe(&b);
    }
    fputs("    ]\n  },\n", out);
}

static void write_chain(const spec *sp, const vec_kms *v,
                        const chain_result *r, bool done)
{
    static const char *names[6] = {"request_init", "request_resp",
                                   "transfer_init", "resolve_init",
                                   "resolve_resp", "transfer_resp"};
    const chain_msg *msgs[6] = {&r->req_init, &r->req_resp, &r->tr_init,
                                &r->res_init, &r->res_resp, &r->tr_resp};
    inter in;
    intermediates(sp, v, r, &in);

    fprintf(out, "{\n  \"name\": \"%s\",\n  \"suite\": %d,\n", sp->name,
            sp->suite == &mk_suite_256 ? 256 : 128);
    fprintf(out, "  \"forking\": %s,\n  \"kms_id\": \"%s\",\n",
            sp->fork ? "true" : "false", KMS_ID);
    party("alice", &v->alice);
    party("bob", &v->bob);
    fputs("  \"ticket_key\": {\"id_hex\": ", out);
    hex(MK_BYTES(v->tk.id, v->tk.id_len));
    fputs(", \"key_hex\": ", out);
    hex(mk_key_bytes(&v->tk.key));
    fputs("},\n  \"messages\": {\n", out);
    for (size_t i = 0; i < 6; i++)
        key_line(names[i], i < 2 || done,
                 MK_BYTES(msgs[i]->b, msgs[i]->n), i == 5);
    fputs("  },\n", out);
    write_keys(sp, r, done);
    fputs("  \"intermediates\": {\n", out);
    {
        const struct {
            const char *name;
            bool present;
            const mk_key *k;
        } im[] = {
            {"request_init_auth_key", true, &in.req_init.auth},
            {"request_resp_auth_key", done, &in.req_resp.auth},
            {"request_resp_encr_key", done, &in.req_resp.encr},
            {"request_resp_salt_key", done, &in.req_resp.salt},
            {"resolve_init_auth_key", done, &in.res_init.auth},
            {"resolve_resp_auth_key", done, &in.res_resp.auth},
            {"resolve_resp_encr_key", done, &in.res_resp.encr},
            {"resolve_resp_salt_key", done, &in.res_resp.salt},
            {"transfer_init_auth_key", done, &in.tr_init.auth},
            {"transfer_resp_auth_key", done, &in.tr_resp.auth},
            {"vr_auth_key", done && sp->fork, &in.vr},
            {"ticket_mac_key", done, &in.ticket.auth},
            {"ticket_encr_key", done, &in.ticket.encr},
        };
        size_t n = sizeof im / sizeof im[0];
        for (size_t i = 0; i < n; i++)
            key_line(im[i].name, im[i].present, mk_key_bytes(im[i].k),
                     i + 1 == n);
    }
    fputs("  }\n}\n", out);
    mk_msg_keys_wipe(&in.req_init);
    mk_msg_keys_wipe(&in.req_resp);
    mk_msg_keys_wipe(&in.res_init);
    mk_msg_keys_wipe(&in.res_resp);
    mk_msg_keys_wipe(&in.tr_init);
    mk_msg_keys_wipe(&in.tr_resp);
    mk_msg_keys_wipe(&in.ticket);
    mk_key_wipe(&in.vr);
}

/* ------------------------------------------------------------------ */

static uint64_t t_at(unsigned sec)
{
    return mk_ntp_from_unix(T0_UNIX + sec, 250000000u);
}

/* The refused chain stops at alice's accept of the KMS answer: a MIKEY
 * Error whose V must verify with her REQUEST_INIT's auth_key. */
static void check_refusal(const vec_kms *v, const chain_result *r,
                          const chain_opts *o)
{
    static mk_ue_ticket tk;
    mk_ue_peer_error pe;
    mk_ue_creds c;
    mk_err e;
    memset(&c, 0, sizeof c);
    c.psk = mk_key_bytes(&v->alice.psk);
    c.psk_id = o->alice_psk_id;
    c.impu = MK_BYTES(ALICE, strlen(ALICE));
    c.kms_id = MK_BYTES(KMS_ID, strlen(KMS_ID));
    e = mk_ue_accept_request_resp(&c, chain_bytes(&r->req_init),
                                  chain_bytes(&r->req_resp), 0,
                                  &tk, &pe);
    if (e != MK_E_MIKEY_TS || !pe.present || !pe.v_verified)
        die("refused chain: not an Error 1 with a verified V (%s)",
            mk_err_name(e));
    mk_ue_ticket_wipe(&tk);
}

static void run(const spec *sp, const char *dir)
{
    static vec_kms v;
    static chain_result r;
    uint8_t randri_req[32], randri_tr[32], randrr_res[32], randrr_tr[32];
    size_t rl = sp->suite->key_len; /* RAND = max(16, key length) */
    char path[4096];
    chain_opts o;
    mk_kms_config cfg;
    mk_kms_store st;
    mk_err e;
    bool refused = sp->late != 0;

    memset(&v, 0, sizeof v);
    v.name = sp->name;
    subscriber(sp->name, "alice", ALICE, sp->suite->key_len, &v.alice);
    subscriber(sp->name, "bob", BOB, sp->suite->key_len, &v.bob);
    strcpy((char *)v.tk.id, "tpk-0001");
    v.tk.id_len = strlen("tpk-0001");
    v.tk.key.n = 32;
    fixed_bytes(sp->name, "ticket-key", v.tk.key.b, v.tk.key.n);
    v.tk.state = MK_TK_ACTIVE;
    if ((e = mk_mem_store_init(&v.mem, 16)) != MK_OK ||
        (e = mk_mem_store_add(&v.mem, &v.alice)) != MK_OK ||
        (e = mk_mem_store_add(&v.mem, &v.bob)) != MK_OK)
        die("in-memory store: %s", mk_err_name(e));
    v.mem.tk = v.tk;
    st = mk_mem_store_interface(&v.mem);
    mk_kms_config_defaults(&cfg);
    v.kms = mk_kms_new(&cfg, &st, &e);
    if (!v.kms)
        die("mk_kms_new: %s", mk_err_name(e));
    mk_kms_vector_random(v.kms, kms_random, &v);

    chain_opts_init(&o, sp->suite);
    o.kms_id = KMS_ID;
    o.alice_impu = ALICE;
    o.bob_impu = BOB;
    o.alice_psk = mk_key_bytes(&v.alice.psk);
    o.bob_psk = mk_key_bytes(&v.bob.psk);
    o.alice_psk_id = MK_BYTES(v.alice.psk_id, v.alice.psk_id_len);
    o.bob_psk_id = MK_BYTES(v.bob.psk_id, v.bob.psk_id_len);
    o.fork = sp->fork;
    o.tmpl3 = sp->tmpl3;
    o.omit_idrs = sp->omit_idrs;
    o.cs_per_key = true;
    fixed_bytes(sp->name, "randri-request", randri_req, rl);
    fixed_bytes(sp->name, "randri-transfer", randri_tr, rl);
    fixed_bytes(sp->name, "randrr-resolve", randrr_res, rl);
    fixed_bytes(sp->name, "randrr-transfer", randrr_tr, rl);
    o.randri_req = MK_BYTES(randri_req, rl);
    o.randri_tr = MK_BYTES(randri_tr, rl);
    o.randrr_res = MK_BYTES(randrr_res, rl);
    o.randrr_tr = MK_BYTES(randrr_tr, rl);
    o.csb_request = fixed_u32(sp->name, "csb-request");
    o.csb_transfer = fixed_u32(sp->name, "csb-transfer");
    o.csb_resolve = fixed_u32(sp->name, "csb-resolve");
    o.t_request = t_at(0);
    v.now_request = t_at(1 + sp->late);
    o.t_transfer = t_at(2);
    o.t_resolve = t_at(3);
    v.now_resolve = t_at(4);
    o.t_transfer_resp = t_at(5);

    e = chain_run(&o, kms_fn, &v, &r);
    if (refused) {
        if (e == MK_OK || strcmp(r.step, "accept_request_resp") != 0)
            die("%s: expected a refusal at accept_request_resp, got %s at %s",
                sp->name, mk_err_name(e), r.step);
        check_refusal(&v, &r, &o);
    } else if (e != MK_OK) {
        die("%s: %s at %s", sp->name, mk_err_name(e), r.step);
    }

    if (snprintf(path, sizeof path, "%s/%s.json", dir, sp->name) >=
        (int)sizeof path)
        die("path too long");
    out = fopen(path, "w");
    if (!out)
        die("cannot write %s", path);
    write_chain(sp, &v, &r, !refused);
    if (fclose(out) != 0)
        die("cannot write %s", path);
    chain_result_wipe(&r);
    mk_kms_free(v.kms);
    mk_mem_store_free(&v.mem);
    mk_subscriber_wipe(&v.alice);
    mk_subscriber_wipe(&v.bob);
    mk_wipe(&v.tk, sizeof v.tk);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: vectors_gen DIR\n", stderr);
        return 2;
    }
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        run(&specs[i], argv[1]);
    return 0;
}
