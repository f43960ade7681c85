/* fuzz_kms - libFuzzer target: the KMS core (mk_kms_handle) past
 * authentication (doc/profile.md §9.41).
 *
 * A mutated message almost never carries a V that verifies, so a plain
 * fuzzer stops at Error 0. This harness makes every mutation count: before
 * the core sees the message it
 *   - re-seals a presented TICKET: the ticket MAC (App. A.1) recomputed
 *     with the known ticket key its IDRpsk names, and with I = 1 the Vr of
 *     the Initiator Data recomputed from the MPKr its KEMAC holds (§6.10);
 *     AES-CM being a stream cipher, a mutated KEMAC ciphertext is a
 *     mutated plaintext, so the key data parsing is reached too;
 *   - re-signs the message's V (RFC 6043 §5.1.2, §5.5) with the PSK of the
 *     subscriber its IDRpsk or IDR names (alice's when none),
 * over a store of fixed subscribers and ticket keys in memory, at a fixed
 * clock. The mutations therefore reach the policy, the requested TP, the
 * ticket and the answer code.
 *
 * Input: byte 0 bit 0 the service (ticketrequest / ticketresolve), bit 1
 * leaves V as it is, bit 2 leaves the ticket as it is; the rest is the
 * MIKEY message.
 *
 * Beyond ASan / UBSan, it aborts on what must never happen with a store
 * that never fails: a 503 (MK_E_INTERNAL: a bug in the core, the
 * MK_E_UNAVAILABLE of a full buffer), a 200 that does not decode or is not
 * the service's answer, a record with a field not NUL-terminated or
 * without a subscriber (a record is written only for an authenticated
 * message), a record of an unauthenticated answer, and an authenticated
 * message answered twice: every input runs twice, and a message that took
 * a replay entry must be Error 1 the second time.
 *
 * Seeds: MK_FUZZ_SEED_DIR=DIR ./fuzz_kms writes valid Ticket Requests (both
 * suites, forking, a KEMAC template) and Ticket Resolves made by the UE
 * library against this store into DIR and exits (am/fuzz.am). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"
#include "crypto/crypto.h"
#include "kms/kms.h"
#include "kms/kms_store.h"
#include "proto/proto.h"
#include "ue/ue.h"
#include "util/ntp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KMS_ID "kms.example.org"
#define NOW_UNIX 1700000000u
#define MSG_MAX 8192
#define N_SUBS 3
#define N_TKS 2

static mk_subscriber subs[N_SUBS];
static mk_ticket_key tks[N_TKS];
static mk_kms *kms;
static uint64_t now_ntp;

/* what one input did to the store (reset per input) */
static struct {
    uint8_t digests[4][32];
    size_t n_digests;
    bool took_entry;         /* this run committed a replay entry */
    bool recorded;           /* ... a record */
    bool resolved;
    uint8_t ticket[32], who[64];
    size_t who_len;
    uint64_t first;
} st;

/* --- the store in memory --- */

static mk_err by_psk_id(void *ctx, mk_bytes id, mk_subscriber *out)
{
    (void)ctx;
    for (size_t i = 0; i < N_SUBS; i++)
        if (mk_bytes_equal(id, MK_BYTES(subs[i].psk_id, subs[i].psk_id_len))) {
            *out = subs[i];
            return MK_OK;
        }
    return MK_E_NOT_FOUND;
}

static mk_err by_impu(void *ctx, mk_bytes impu, mk_subscriber *out)
{
    (void)ctx;
    for (size_t i = 0; i < N_SUBS; i++)
        for (size_t j = 0; j < subs[i].n_impu; j++)
            if (mk_bytes_equal(impu, MK_BYTES(subs[i].impu[j],
                                              strlen(subs[i].impu[j])))) {
                *out = subs[i];
                return MK_OK;
            }
    return MK_E_NOT_FOUND;
}

static mk_err tk_active(void *ctx, mk_ticket_key *out)
{
    (void)ctx;
    *out = tks[0];
    return MK_OK;
}

static mk_err tk_by_id(void *ctx, mk_bytes id, mk_ticket_key *out)
{
    (void)ctx;
    for (size_t i = 0; i < N_TKS; i++)
        if (mk_bytes_equal(id, MK_BYTES(tks[i].id, tks[i].id_len))) {
            *out = tks[i];
            return MK_OK;
        }
    return MK_E_NOT_FOUND;
}

static void check_field(const char *f, size_t cap)
{
    if (strnlen(f, cap) == cap)
        abort(); /* the store would refuse it: a 503 */
}

/* the J = 0 rule as the node applies it (node_ticket.c) */
static mk_err note_rule(const mk_resolve_note *n, uint64_t now)
{
    if (n->expires_unix <= now || n->responder.n > sizeof st.who)
        abort();
    if (!st.resolved) {
        st.resolved = true;
        memcpy(st.ticket, n->ticket_id, 32);
        memcpy(st.who, n->responder.p, n->responder.n);
        st.who_len = n->responder.n;
        st.first = now;
        return MK_OK;
    }
    if (memcmp(st.ticket, n->ticket_id, 32) != 0)
        abort(); /* one ticket per message */
    if (!mk_bytes_equal(n->responder, MK_BYTES(st.who, st.who_len)) ||
        now > st.first + n->grace_seconds)
        return MK_E_POLICY; /* the refusal is recorded, with the entry */
    return MK_OK;
}

static void check_record(const mk_record *r)
{
    check_field(r->subscriber, sizeof r->subscriber);
    check_field(r->initiator, sizeof r->initiator);
    check_field(r->responder, sizeof r->responder);
    check_field(r->ticket_id, sizeof r->ticket_id);
    check_field(r->spis, sizeof r->spis);
    check_field(r->outcome, sizeof r->outcome);
    /* only an authenticated message is recorded (§9.39) */
    if (r->subscriber[0] == '\0' || r->responder[0] != '[')
        abort();
}

static mk_err commit(void *ctx, const mk_answer_write *w)
{
    const uint8_t *digest = w->digest;
    const mk_record *r = w->record;
    const mk_resolve_note *note = w->note;
    uint64_t now = w->now_unix, expires = w->expires_unix;
    (void)ctx;
    if (now != NOW_UNIX)
        abort();
    st.recorded |= r != NULL;
    if (r != NULL)
        check_record(r);
    else if (digest != NULL || note != NULL)
        abort(); /* a replay entry or a note without its record */
    if (note != NULL) {
        if (note->refused == NULL || digest == NULL)
            abort();
        check_record(note->refused);
    }
    /* every entry comes with the record of the Error 1 it may become */
    if ((w->replayed != NULL) != (digest != NULL))
        abort();
    if (w->replayed != NULL)
        check_record(w->replayed);
    if (digest == NULL)
        return MK_OK;
    if (expires <= now)
        abort();
    for (size_t i = 0; i < st.n_digests; i++)
        if (memcmp(st.digests[i], digest, 32) == 0)
            return MK_E_MIKEY_TS;
    if (st.n_digests == sizeof st.digests / sizeof st.digests[0])
        abort();
    memcpy(st.digests[st.n_digests++], digest, 32);
    st.took_entry = true;
    return note != NULL ? note_rule(note, now) : MK_OK;
}

static mk_kms_store store = {
    .ctx = NULL,
    .subscriber_by_psk_id = by_psk_id,
    .subscriber_by_impu = by_impu,
    .ticket_key_active = tk_active,
    .ticket_key_by_id = tk_by_id,
    .answer_commit = commit,
};

static void add_sub(size_t i, const char *id, const char *impu,
                    size_t psk_len, uint8_t fill)
{
    mk_subscriber *s = &subs[i];
    memset(s, 0, sizeof *s);
    memcpy(s->psk_id, id, strlen(id));
    s->psk_id_len = strlen(id);
    s->psk.n = psk_len;
    memset(s->psk.b, fill, psk_len);
    strcpy(s->impu[0], impu);
    s->n_impu = 1;
    s->active = true;
    s->policy.forking_allowed = true;
    s->policy.reuse_allowed = i == 0;
    s->policy.initiator_keys_allowed = i == 0;
    s->policy.responder_keys_allowed = i == 0;
    if (i == 2) { /* a responder pattern, a lifetime cap */
        strcpy(s->policy.responder_patterns[0], "sip:*@example.org");
        s->policy.n_patterns = 1;
        s->policy.max_lifetime = 600;
    }
}

/* --- fixing a mutated message up --- */

/* The subscriber whose PSK signs m: by IDRpsk, else by the sender's IDR
 * (role), else alice. */
static const mk_subscriber *signer(const mk_message *m, int role,
                                   mk_bytes *identity)
{
    static mk_subscriber s;
    int ip = mk_chain_find_idr(&m->chain, MK_ROLE_IDRPSK, 0);
    int ii = mk_chain_find_idr(&m->chain, role, 0);
    *identity = MK_BYTES_NONE;
    if (ii >= 0)
        *identity = m->chain.p[ii].u.idr.data;
    if (ip >= 0 && by_psk_id(NULL, m->chain.p[ip].u.idr.data, &s) == MK_OK)
        ;
    else if (ii >= 0 && by_impu(NULL, *identity, &s) == MK_OK)
        ;
    else
        s = subs[0];
    if (ii < 0)
        *identity = MK_BYTES(s.impu[0], strlen(s.impu[0]));
    return &s;
}

/* Write mac (n bytes) over the bytes at `at` inside buf. */
static void patch(uint8_t *buf, size_t len, mk_bytes at, const uint8_t *mac,
                  size_t n)
{
    if (at.n != n || at.p < buf || at.p + n > buf + len)
        return;
    memcpy(buf + (at.p - buf), mac, n);
}

/* The ticket MAC, and Vr when the ticket forks (RFC 6043 App. A.1,
 * §6.10), recomputed with the ticket key its IDRpsk names. */
static void reseal_ticket(uint8_t *buf, size_t len, const mk_payload *t)
{
    const mk_tp *tp = &t->u.tp;
    const mk_suite *s = NULL;
    mk_ticket_key tk;
    mk_msg_keys k;
    mk_key_set ks;
    mk_key mpki, mpkr, vr;
    mk_thdr thdr;
    static mk_chain rest, ich;
    uint8_t mac[MK_KEY_MAX];
    mk_bytes in;

    if (mk_base_ticket_decode(tp->ticket_data, &thdr, &rest) != MK_OK)
        return;
    int it = mk_chain_find(&rest, MK_PT_T, 0);
    int ir = mk_chain_find(&rest, MK_PT_RAND, 0);
    int ik = mk_chain_find(&rest, MK_PT_KEMAC, 0);
    int ip = mk_chain_find_idr(&rest, MK_ROLE_IDRPSK, 0);
    int iv = mk_chain_find(&rest, MK_PT_V, 0);
    if (ir < 0 || ip < 0 || iv < 0 ||
        mk_suite_of(tp->prf_func, rest.p[iv].u.v.auth_alg, &s) != MK_OK ||
        tk_by_id(NULL, rest.p[ip].u.idr.data, &tk) != MK_OK)
        return;
    memset(&k, 0, sizeof k);
    if (mk_ticket_keys(tp->prf_func, mk_key_bytes(&tk.key),
                       rest.p[ir].u.rand.rand, s->encr_alg, s->mac_alg,
                       &k) != MK_OK)
        return;
    size_t maclen = mk_mac_len(s->mac_alg);
    if (mk_ticket_mac_input(t, maclen, &in) == MK_OK &&
        mk_mac(s->mac_alg, mk_key_bytes(&k.auth), &in, 1, mac,
               sizeof mac) == MK_OK)
        patch(buf, len, rest.p[iv].u.v.mac, mac, maclen);
    /* Vr over the Initiator Data without its MAC, keyed from MPKr */
    memset(&ks, 0, sizeof ks);
    memset(&mpki, 0, sizeof mpki);
    memset(&mpkr, 0, sizeof mpkr);
    memset(&vr, 0, sizeof vr);
    if ((tp->flags & MK_TPF_I) && it >= 0 && ik >= 0 &&
        mk_kemac_open(&rest.p[ik].u.kemac, &k, 0xFFFFFFFFu,
                      mk_t_iv_value(&rest.p[it].u.t), &ks) == MK_OK &&
        ks.count > 0 &&
        mk_mpk_split(tp->prf_func, mk_key_bytes(&ks.e[0].key),
                     rest.p[ir].u.rand.rand, &mpki, &mpkr) == MK_OK &&
        mk_tp_data_decode(tp->initiator_data, &ich) == MK_OK &&
        ich.count == 2 && ich.p[1].type == MK_PT_V &&
        mk_suite_of(tp->prf_func, ich.p[1].u.v.auth_alg, &s) == MK_OK &&
        tp->initiator_data.n >= mk_mac_len(s->mac_alg) &&
        mk_vr_key(tp->prf_func, mk_key_bytes(&mpkr), s->mac_alg, &vr) ==
            MK_OK) {
        maclen = mk_mac_len(s->mac_alg);
        in = MK_BYTES(tp->initiator_data.p, tp->initiator_data.n - maclen);
        if (mk_mac(s->mac_alg, mk_key_bytes(&vr), &in, 1, mac, sizeof mac) ==
            MK_OK)
            patch(buf, len, ich.p[1].u.v.mac, mac, maclen);
    }
    mk_key_set_wipe(&ks);
    mk_key_wipe(&mpki);
    mk_key_wipe(&mpkr);
    mk_key_wipe(&vr);
    mk_msg_keys_wipe(&k);
}

/* V recomputed as the sender would (RFC 6043 §5.1.2, §5.5 Table 5.2):
 * kind-1 auth_key from its PSK, CSB ID and RANDR; MAC over the message
 * without the MAC field || Identity || Identity_kms. */
static void resign(uint8_t *buf, size_t len, const mk_message *m,
                   mk_service svc)
{
    bool req = svc == MK_SERVICE_TICKET_REQUEST;
    const mk_suite *s = NULL;
    mk_bytes identity, signed_part;
    mk_msg_keys k;
    uint8_t mac[MK_KEY_MAX];
    if (m->chain.count == 0)
        return;
    const mk_payload *v = &m->chain.p[m->chain.count - 1];
    int irand = mk_chain_find(&m->chain, MK_PT_RANDR, 0);
    if (v->type != MK_PT_V || irand < 0 ||
        mk_suite_of(m->hdr.prf_func, v->u.v.auth_alg, &s) != MK_OK)
        return;
    const mk_subscriber *sub = signer(m, req ? MK_ROLE_IDRI : MK_ROLE_IDRR,
                                      &identity);
    mk_bytes rand = m->chain.p[irand].u.randr.rand;
    memset(&k, 0, sizeof k);
    if (mk_msg_keys_6043(m->hdr.prf_func, mk_key_bytes(&sub->psk),
                         m->hdr.csb_id, MK_LABEL_KIND_INITIAL,
                         req ? rand : MK_BYTES_NONE,
                         req ? MK_BYTES_NONE : rand, s->encr_alg, s->mac_alg,
                         &k) != MK_OK ||
        mk_message_signed_part(m, &signed_part) != MK_OK) {
        mk_msg_keys_wipe(&k);
        return;
    }
    mk_bytes parts[3] = {signed_part, identity,
                         MK_BYTES(KMS_ID, strlen(KMS_ID))};
    if (mk_mac(s->mac_alg, mk_key_bytes(&k.auth), parts, 3, mac,
               sizeof mac) == MK_OK)
        patch(buf, len, v->u.v.mac, mac, mk_mac_len(s->mac_alg));
    mk_msg_keys_wipe(&k);
}

/* --- the invariants of an answer --- */

static void check_answer(const mk_kms_answer *a, mk_service svc)
{
    static mk_message m;
    if (a->err == MK_E_INTERNAL || a->http_status == 503)
        abort(); /* a bug in the core: the store here never fails */
    if (a->http_status != 200) {
        if (a->body_len != 0)
            abort();
        return;
    }
    if (mk_message_decode(MK_BYTES(a->body, a->body_len), &m) != MK_OK)
        abort();
    if (a->err == MK_OK) {
        uint8_t want = svc == MK_SERVICE_TICKET_REQUEST ? MK_DT_REQUEST_RESP
                                                        : MK_DT_RESOLVE_RESP;
        if (m.hdr.data_type != want || !a->authenticated)
            abort();
    } else if (m.hdr.data_type != MK_DT_ERROR || m.hdr.version != 1 ||
               m.chain.count == 0 ||
               (m.chain.p[m.chain.count - 1].type == MK_PT_V) !=
                   a->authenticated) {
        abort(); /* an Error message has a V iff V verified (§3) */
    }
}

/* --- seeds --- */

static void write_seed(const char *dir, const char *name, mk_service svc,
                       const uint8_t *msg, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    uint8_t b = svc == MK_SERVICE_TICKET_RESOLVE ? 1 : 0;
    if (f == NULL || fwrite(&b, 1, 1, f) != 1 || fwrite(msg, 1, n, f) != n ||
        fclose(f) != 0) {
        fprintf(stderr, "fuzz_kms: cannot write %s\n", path);
        exit(1);
    }
}

static void creds_of(size_t i, mk_ue_creds *c)
{
    memset(c, 0, sizeof *c);
    c->psk = mk_key_bytes(&subs[i].psk);
    c->psk_id = MK_BYTES(subs[i].psk_id, subs[i].psk_id_len);
    c->impu = MK_BYTES(subs[i].impu[0], strlen(subs[i].impu[0]));
    c->kms_id = MK_BYTES(KMS_ID, strlen(KMS_ID));
}

/* A Ticket Request of alice (suite, forking, a KEMAC template) and, from
 * its answer, bob's Ticket Resolve. */
static void seed_chain(const char *dir, int no, const mk_suite *suite,
                       bool fork, bool tmpl)
{
    static mk_ue_request_params p;
    static mk_ue_transfer_params tp;
    static mk_ue_ticket tk;
    static mk_kms_answer a;
    static uint8_t req[MSG_MAX], tr[MSG_MAX], res[MSG_MAX];
    size_t nreq = 0, ntr = 0, nres = 0;
    mk_ue_creds bob;
    char name[64];
    mk_ue_request_params_init(&p, suite);
    creds_of(0, &p.creds);
    p.idrr[0] = MK_BYTES(subs[1].impu[0], strlen(subs[1].impu[0]));
    p.n_idrr = 1;
    if (fork)
        p.flags |= MK_TPF_I;
    if (tmpl) {
        p.tmpl[0] = (mk_ue_key_tmpl){MK_KEY_TGK, (uint8_t)suite->key_len, 0,
                                     MK_KV_SPI, 4};
        p.tmpl[1] = (mk_ue_key_tmpl){MK_KEY_TEK_SALT,
                                     (uint8_t)suite->key_len, 14, MK_KV_NULL,
                                     0};
        p.n_tmpl = 2;
    }
    p.fixed.has_t = true;
    p.fixed.t_ntp = now_ntp;
    memset(&st, 0, sizeof st);
    if (mk_ue_request_init(&p, req, sizeof req, &nreq) != MK_OK ||
        mk_kms_handle(kms, MK_SERVICE_TICKET_REQUEST, MK_BYTES(req, nreq),
                      now_ntp, &a) != MK_OK ||
        mk_ue_accept_request_resp(&p.creds, MK_BYTES(req, nreq),
                                  MK_BYTES(a.body, a.body_len), 0, &tk,
                                  NULL) != MK_OK) {
        fprintf(stderr, "fuzz_kms: seed %d: the request failed\n", no);
        exit(1);
    }
    snprintf(name, sizeof name, "request-%d", no);
    write_seed(dir, name, MK_SERVICE_TICKET_REQUEST, req, nreq);
    memset(&tp, 0, sizeof tp);
    tp.idri = p.creds.impu;
    tp.idrr = p.idrr[0];
    tp.n_cs = 1;
    tp.cs[0].cs_id = 1;
    mk_ue_srtp_policy_default(suite, &tp.cs[0].policy);
    tp.fixed.has_t = true;
    tp.fixed.t_ntp = now_ntp;
    creds_of(1, &bob);
    mk_ue_fixed f = {.has_t = true, .t_ntp = now_ntp};
    if (mk_ue_transfer_init(&tk, &tp, tr, sizeof tr, &ntr) != MK_OK ||
        mk_ue_resolve_init(&bob, MK_BYTES(tr, ntr), &f, res, sizeof res,
                           &nres) != MK_OK) {
        fprintf(stderr, "fuzz_kms: seed %d: the resolve failed\n", no);
        exit(1);
    }
    snprintf(name, sizeof name, "resolve-%d", no);
    write_seed(dir, name, MK_SERVICE_TICKET_RESOLVE, res, nres);
    mk_ue_ticket_wipe(&tk);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    mk_kms_config cfg;
    mk_err e;
    (void)argc;
    (void)argv;
    now_ntp = mk_ntp_from_unix(NOW_UNIX, 0);
    add_sub(0, "alice", "sip:alice@example.org", 32, 0x2b);
    add_sub(1, "bob", "sip:bob@example.org", 32, 0x3c);
    add_sub(2, "erin", "sip:erin@example.org", 16, 0x4d);
    for (size_t i = 0; i < N_TKS; i++) {
        snprintf((char *)tks[i].id, sizeof tks[i].id, "tpk-000%zu", i + 1);
        tks[i].id_len = strlen((char *)tks[i].id);
        tks[i].key.n = 32;
        memset(tks[i].key.b, (int)(0x70 + i), 32);
        tks[i].state = i == 0 ? MK_TK_ACTIVE : MK_TK_RESOLVE_ONLY;
    }
    mk_kms_config_defaults(&cfg);
    strcpy(cfg.kms_id, KMS_ID);
    kms = mk_kms_new(&cfg, &store, &e);
    if (kms == NULL) {
        fprintf(stderr, "fuzz_kms: mk_kms_new: %s\n", mk_err_name(e));
        exit(1);
    }
    const char *dir = getenv("MK_FUZZ_SEED_DIR");
    if (dir != NULL) {
        seed_chain(dir, 1, &mk_suite_128, false, false);
        seed_chain(dir, 2, &mk_suite_256, false, false);
        seed_chain(dir, 3, &mk_suite_128, true, true);
        seed_chain(dir, 4, &mk_suite_256, true, true);
        exit(0);
    }
    return 0;
}

/* One run of buf through the core; the store's memory of the input
 * persists between the two runs of it (replay entries, J = 0). */
static void run(mk_service svc, const uint8_t *buf, size_t n, bool second)
{
    static mk_kms_answer a;
    bool took = st.took_entry;
    st.took_entry = st.recorded = false;
    mk_kms_handle(kms, svc, MK_BYTES(buf, n), now_ntp, &a);
    check_answer(&a, svc);
    /* a record for every authenticated answer, none for the others */
    if (st.recorded != a.authenticated)
        abort();
    /* an authenticated message is processed once (§9.36) */
    if (second && took && a.err != MK_E_MIKEY_TS)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[MSG_MAX];
    static mk_message m;
    if (size < 1 || size - 1 > sizeof buf)
        return 0;
    mk_service svc = (data[0] & 1) ? MK_SERVICE_TICKET_RESOLVE
                                   : MK_SERVICE_TICKET_REQUEST;
    size_t n = size - 1;
    memcpy(buf, data + 1, n);
    if (mk_message_decode(MK_BYTES(buf, n), &m) == MK_OK) {
        /* the ticket first: it is inside what V covers */
        int t = mk_chain_find(&m.chain, MK_PT_TICKET, 0);
        if (t >= 0 && !(data[0] & 4))
            reseal_ticket(buf, n, &m.chain.p[t]);
        if (!(data[0] & 2))
            resign(buf, n, &m, svc);
    }
    memset(&st, 0, sizeof st);
    run(svc, buf, n, false);
    run(svc, buf, n, true);
    return 0;
}
