/* test_kms_policy.c - the KMS core's policy (profile §5: 403 rows, the
 * granted ticket policy and its K flag), the presented ticket (every bit
 * of Ticket Data, key versions, rotation and retirement, suite), the
 * validity window, and forking (Vr). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "test_kms_fixture.h"
#include "util/ntp.h"
#include "lib/check_main.h"

#define DEFAULT_FLAGS (MK_TPF_D | MK_TPF_E | MK_TPF_F | MK_TPF_G | MK_TPF_H)

static uint64_t now_unix(void)
{
    return mk_ntp_to_unix(F.now);
}

/* A request by `who` for `responder`, with flags; returns the error. */
static mk_err request_as(const char *who, const char *responder,
                         uint16_t flags, fx_msg *m)
{
    mk_ue_request_params p;
    fx_request_params(&p, &mk_suite_128, who, responder);
    p.flags = flags;
    fx_request_init(&p, m);
    return fx_handle(MK_SERVICE_TICKET_REQUEST, m);
}

/* Ticket Requests of who for responder with TP flags, each answered with
 * want (in order: each is a new message to the same KMS). */
typedef struct request_case {
    const char *who, *responder;
    uint16_t flags;
    mk_err want;
} request_case;

static void requests_as(const request_case *c, size_t n)
{
    fx_msg m;
    for (size_t i = 0; i < n; i++) {
        mk_err e = request_as(c[i].who, c[i].responder, c[i].flags, &m);
        ck_assert_msg(e == c[i].want, "%s for %s, flags %#x: %s, want %s",
                      c[i].who, c[i].responder, (unsigned)c[i].flags,
                      mk_err_name(e), mk_err_name(c[i].want));
    }
}

/* ------------------------------------------------------------------ */
/* Ticket Request policy (403) */

START_TEST(test_request_policy_403)
{
    fx_msg m, out;
    mk_message d;
    mk_ue_request_params p;
    /* subscriber disabled (authenticated, then refused) */
    ck_assert_int_eq(request_as(FX_CAROL, FX_BOB, DEFAULT_FLAGS, &m),
                     MK_E_POLICY);
    ck_assert_int_eq(F.ans.http_status, 403);
    /* IDRi not one of the subscriber's IMPUs (PSK found by IDRpsk) */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.creds.impu = fx_str(FX_BOB);
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_E_POLICY);
    /* a TP IDRi naming someone else than Identity_i */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    fx_request_init(&p, &m);
    fx_decode(&m, &d);
    {
        mk_chain c;
        uint8_t tpd[1024];
        int t = mk_chain_find(&d.chain, MK_PT_TP, 0);
        ck_assert_int_eq(mk_tp_data_decode(d.chain.p[t].u.tp.tp_data, &c),
                         MK_OK);
        int i = mk_chain_find_idr(&c, MK_ROLE_IDRI, 0);
        c.p[i].u.idr.data = fx_str(FX_ALICE2);
        fx_set_tp_data(&d, t, &c, tpd, sizeof tpd);
        fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
        ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out),
                         MK_E_POLICY);
    }
    static const request_case uris[] = {
        /* sip:, sips:, tel: URIs only, checked before the policy (Error 7,
         * doc/profile.md §9.35) */
        {FX_ALICE, "http://bob.example.com", DEFAULT_FLAGS, MK_E_MIKEY_ID},
        {FX_ALICE, "bob@example.com", DEFAULT_FLAGS, MK_E_MIKEY_ID},
        {FX_ALICE, "tel:+15550002", DEFAULT_FLAGS, MK_OK},
        {FX_ALICE, "sips:x@example.net", DEFAULT_FLAGS, MK_OK},
        /* Dave's patterns: sip:*@example.com */
        {FX_DAVE, "sip:bob@example.net", DEFAULT_FLAGS, MK_E_POLICY},
        {FX_DAVE, FX_BOB, DEFAULT_FLAGS, MK_OK},
    };
    requests_as(uris, sizeof uris / sizeof uris[0]);
    /* one bad IDRr among several */
    fx_request_params(&p, &mk_suite_128, FX_DAVE, FX_BOB);
    p.idrr[1] = fx_str("tel:+15550002");
    p.n_idrr = 2;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_E_POLICY);
    /* forking and reuse only when allowed */
    static const request_case flags[] = {
        {FX_DAVE, FX_BOB, DEFAULT_FLAGS | MK_TPF_I, MK_E_POLICY},
        {FX_DAVE, FX_BOB, DEFAULT_FLAGS | MK_TPF_J, MK_E_POLICY},
        {FX_ALICE, FX_BOB, DEFAULT_FLAGS | MK_TPF_I | MK_TPF_J, MK_OK},
    };
    requests_as(flags, sizeof flags / sizeof flags[0]);
    /* a validity that ended before now */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.trs_unix = now_unix() - 7200;
    p.tre_unix = now_unix() - 3600;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_E_POLICY);
    /* a start beyond the longest lifetime */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.trs_unix = now_unix() + 2 * 86400;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_E_POLICY);
    /* every refusal is recorded, without a ticket */
    ck_assert_uint_ge(fx_record_count(), 14);
}
END_TEST

/* Accept F.ans for request m as Alice and return the ticket (heap). */
static mk_ue_ticket *accept_as(const char *who, const fx_msg *m)
{
    mk_ue_ticket *t = calloc(1, sizeof *t);
    mk_ue_creds c;
    fx_creds(who, &c);
    ck_assert_int_eq(F.ans.err, MK_OK);
    ck_assert_int_eq(mk_ue_accept_request_resp(
                         &c, MK_BYTES(m->b, m->n),
                         MK_BYTES(F.ans.body, F.ans.body_len), 0, t, NULL),
                     MK_OK);
    return t;
}

START_TEST(test_granted_policy)
{
    fx_msg m, out;
    mk_message d;
    mk_ue_request_params p;
    mk_ue_ticket *t;
    uint64_t now = now_unix();

    /* asked exactly what is granted: TRs >= now, TRe <= now + 86400, TP
     * with IDRkms and IDRi, D set -> K = 0 */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.trs_unix = now + 10;
    p.tre_unix = now + 7200;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    t = accept_as(FX_ALICE, &m);
    ck_assert_uint_eq(t->flags, DEFAULT_FLAGS);
    ck_assert_uint_eq(t->trs_unix, now + 10);
    ck_assert_uint_eq(t->tre_unix, now + 7200);
    mk_ue_ticket_wipe(t);
    free(t);

    /* TRs in the past -> now; TRe beyond the cap -> now + 86400; K = 1 */
    fx_request_params(&p, &mk_suite_256, FX_ALICE, FX_BOB);
    p.trs_unix = now - 100;
    p.tre_unix = now + 3 * 86400;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    t = accept_as(FX_ALICE, &m);
    ck_assert_uint_eq(t->flags, DEFAULT_FLAGS | MK_TPF_K);
    ck_assert_uint_eq(t->trs_unix, now);
    ck_assert_uint_eq(t->tre_unix, now + 86400);
    mk_ue_ticket_wipe(t);
    free(t);

    /* the subscriber's own lifetime cap (Dave: 600 s) */
    fx_request_params(&p, &mk_suite_128, FX_DAVE, FX_BOB);
    p.trs_unix = now;
    p.tre_unix = now + 3600;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    t = accept_as(FX_DAVE, &m);
    ck_assert_uint_eq(t->tre_unix, now + 600);
    ck_assert(t->flags & MK_TPF_K);
    mk_ue_ticket_wipe(t);
    free(t);

    /* TP without IDRkms / IDRi: both added, K = 1 */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.trs_unix = now + 10;
    p.tre_unix = now + 7200;
    p.creds.omit_idrkms = true;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    t = accept_as(FX_ALICE, &m);
    ck_assert(t->flags & MK_TPF_K);
    mk_ue_ticket_wipe(t);
    free(t);

    /* D = 0 requested (with L): granted with D = 1, K = 1 */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.flags = MK_TPF_E | MK_TPF_F | MK_TPF_G | MK_TPF_H | MK_TPF_L;
    p.trs_unix = now + 10;
    p.tre_unix = now + 7200;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    t = accept_as(FX_ALICE, &m);
    ck_assert_uint_eq(t->flags, p.flags | MK_TPF_D | MK_TPF_K);
    mk_ue_ticket_wipe(t);
    free(t);

    /* 3GPP base ticket (Type 2) requested: granted as Type 1, K = 1 */
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.trs_unix = now + 10;
    p.tre_unix = now + 7200;
    fx_request_init(&p, &m);
    fx_decode(&m, &d);
    int i = mk_chain_find(&d.chain, MK_PT_TP, 0);
    d.chain.p[i].u.tp.ticket_type = MK_TICKET_3GPP_BASE;
    d.chain.p[i].u.tp.subtype = 7;
    fx_resign(&d, FX_ALICE, fx_str(FX_ALICE), &out);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &out), MK_OK);
    t = accept_as(FX_ALICE, &out);
    ck_assert_uint_eq(t->ticket_type, MK_TICKET_MIKEY_BASE);
    ck_assert_uint_eq(t->subtype, 1);
    ck_assert_uint_eq(t->version, 1);
    ck_assert(t->flags & MK_TPF_K);
    mk_ue_ticket_wipe(t);
    free(t);
}
END_TEST

/* L and M, "the Initiator / Responder may supply session keys" (RFC 6043
 * §6.10), only for a subscriber allowed them (doc/profile.md §9.34):
 * otherwise cleared with K = 1, never granted by default. */
START_TEST(test_session_key_flags)
{
    fx_msg m;
    mk_ue_request_params p;
    mk_ue_ticket *t;
    uint64_t now = now_unix();
    const uint16_t lm = MK_TPF_L | MK_TPF_M;
    const char *who[3] = {FX_DAVE, FX_BOB, FX_ALICE};
    for (int i = 0; i < 3; i++) {
        for (uint16_t f = MK_TPF_L; f <= lm; f = (uint16_t)(f + MK_TPF_L)) {
            fx_request_params(&p, &mk_suite_128, who[i],
                              i == 0 ? "sip:bob@example.com" : FX_BOB);
            p.flags = DEFAULT_FLAGS | f;
            p.trs_unix = now + 10;
            p.tre_unix = now + 600;
            fx_request_init(&p, &m);
            ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
            t = accept_as(who[i], &m);
            if (i < 2) { /* default: no; cleared, K = 1 */
                ck_assert_uint_eq(t->flags & lm, 0);
                ck_assert_uint_eq(t->flags, DEFAULT_FLAGS | MK_TPF_K);
            } else { /* Alice may: granted as asked, K = 0 */
                ck_assert_uint_eq(t->flags, DEFAULT_FLAGS | f);
            }
            mk_ue_ticket_wipe(t);
            free(t);
        }
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Ticket Resolve policy (403) and the presented ticket */

static mk_err resolve_as(const chain_result *r, const char *who, fx_msg *m)
{
    fx_resolve_init(r, who, m);
    return fx_handle(MK_SERVICE_TICKET_RESOLVE, m);
}

/* Resolve Alice's ticket t as `who`: a TRANSFER_INIT naming `who`, then
 * who's RESOLVE_INIT (fresh RANDRr, T = F.now). */
static mk_err resolve_ticket(const mk_ue_ticket *t, const char *who)
{
    mk_ue_transfer_params tp;
    fx_msg ti, ri;
    mk_ue_creds c;
    mk_ue_fixed f;
    memset(&tp, 0, sizeof tp);
    tp.idri = fx_str(FX_ALICE);
    tp.idrr = fx_str(who);
    tp.n_cs = 1;
    tp.cs[0].cs_id = 1;
    mk_ue_srtp_policy_default(&mk_suite_128, &tp.cs[0].policy);
    ck_assert_int_eq(mk_ue_transfer_init(t, &tp, ti.b, sizeof ti.b, &ti.n),
                     MK_OK);
    fx_creds(who, &c);
    memset(&f, 0, sizeof f);
    f.has_t = true;
    f.t_ntp = F.now;
    ck_assert_int_eq(mk_ue_resolve_init(&c, MK_BYTES(ti.b, ti.n), &f, ri.b,
                                        sizeof ri.b, &ri.n),
                     MK_OK);
    return fx_handle(MK_SERVICE_TICKET_RESOLVE, &ri);
}

START_TEST(test_resolve_policy_403)
{
    fx_msg m, out;
    mk_message d;
    chain_result *r = fx_chain(&mk_suite_128, false, false);
    /* a responder not named in the ticket (Dave) */
    ck_assert_int_eq(resolve_as(r, FX_DAVE, &m), MK_E_POLICY);
    ck_assert_int_eq(F.ans.http_status, 403);
    /* Alice, the initiator, is not a responder of her own ticket */
    ck_assert_int_eq(resolve_as(r, FX_ALICE, &m), MK_E_POLICY);
    /* Bob's PSK claiming another identity (IDRr not his IMPU) */
    fx_resolve_init(r, FX_BOB, &m);
    fx_decode(&m, &d);
    int i = mk_chain_find_idr(&d.chain, MK_ROLE_IDRR, 0);
    ck_assert_int_ge(i, 0);
    d.chain.p[i].u.idr.data = fx_str(FX_DAVE);
    fx_resign(&d, FX_BOB, fx_str(FX_DAVE), &out);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_RESOLVE, &out), MK_E_POLICY);
    /* Bob found by IDRr alone (no IDRpsk) resolves */
    fx_resolve_init(r, FX_BOB, &m);
    fx_decode(&m, &d);
    i = mk_chain_find_idr(&d.chain, MK_ROLE_IDRPSK, 0);
    ck_assert_int_ge(i, 0);
    memmove(&d.chain.p[i], &d.chain.p[i + 1],
            (d.chain.count - (size_t)i - 1) * sizeof d.chain.p[0]);
    d.chain.count--;
    fx_resign(&d, FX_BOB, fx_str(FX_BOB), &out);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_RESOLVE, &out), MK_OK);
    fx_chain_free(r);

    /* a disabled responder (Carol) named in the ticket */
    mk_ue_request_params p;
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_CAROL);
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    /* (Carol's RESOLVE_INIT needs a TRANSFER_INIT of this ticket) */
    mk_ue_ticket *t = accept_as(FX_ALICE, &m);
    ck_assert_int_eq(resolve_ticket(t, FX_CAROL), MK_E_POLICY);
    mk_ue_ticket_wipe(t);
    free(t);
}
END_TEST

/* doc/profile.md §9.37: a ticket with J = 0 is resolved once. The same
 * responder may resolve it again within ticket_reuse_grace (30 s) of the
 * first resolve, not after; another responder named in the ticket is
 * refused at once. A ticket with J = 1 resolves any number of times. */
START_TEST(test_no_reuse_enforced)
{
    const uint64_t t0 = F.now;
    mk_ue_request_params p;
    fx_msg m;
    for (int j = 0; j < 2; j++) {
        F.now = t0;
        fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
        p.idrr[1] = fx_str(FX_ERIN);
        p.n_idrr = 2;
        if (j)
            p.flags |= MK_TPF_J;
        fx_request_init(&p, &m);
        ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
        mk_ue_ticket *t = accept_as(FX_ALICE, &m);
        ck_assert_uint_eq(!!(t->flags & MK_TPF_J), j);
        unsigned notes = F.shim.commits_with_note;
        ck_assert_int_eq(resolve_ticket(t, FX_BOB), MK_OK);
        ck_assert_int_eq(resolve_ticket(t, FX_BOB), MK_OK); /* in the grace */
        ck_assert_int_eq(resolve_ticket(t, FX_ERIN), j ? MK_OK : MK_E_POLICY);
        F.now = t0 + ((uint64_t)F.cfg.reuse_grace_seconds << 32);
        ck_assert_int_eq(resolve_ticket(t, FX_BOB), MK_OK); /* its last s */
        F.now += (uint64_t)1 << 32;
        ck_assert_int_eq(resolve_ticket(t, FX_BOB), j ? MK_OK : MK_E_POLICY);
        ck_assert_int_eq(F.ans.http_status, j ? 200 : 403);
        if (!j) /* the keys built before the refusal never leave */
            ck_assert_uint_eq(F.ans.body_len, 0);
        /* J = 0: each of the five answers carried its note to its one
         * commit (the refused ones too: refused there); J = 1: none */
        ck_assert_uint_eq(F.shim.commits_with_note - notes, j ? 0 : 5);
        mk_ue_ticket_wipe(t);
        free(t);
    }
    F.now = t0;
}
END_TEST

START_TEST(test_resolve_validity_window)
{
    fx_msg m;
    uint64_t t0 = F.now;

    /* a ticket that starts in an hour */
    mk_ue_request_params p;
    fx_request_params(&p, &mk_suite_128, FX_ALICE, FX_BOB);
    p.trs_unix = now_unix() + 3600;
    p.tre_unix = now_unix() + 7200;
    fx_request_init(&p, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_REQUEST, &m), MK_OK);
    mk_ue_ticket *t = accept_as(FX_ALICE, &m);
    ck_assert_uint_eq(t->trs_unix, now_unix() + 3600);
    mk_ue_ticket_wipe(t);
    free(t);

    /* the ticket (J = 0) is resolved again by Bob an hour after its first
     * resolve: a KMS with the longest grace (doc/profile.md §9.37) */
    mk_err e;
    mk_kms_free(F.kms);
    F.cfg.reuse_grace_seconds = 3600;
    F.kms = mk_kms_new(&F.cfg, &F.iface, &e);
    ck_assert_ptr_nonnull(F.kms);
    chain_result *r = fx_chain(&mk_suite_256, true, false);
    /* before TRs (= time of the request); first, since the KMS never
     * accepts messages older than the latest clock it has shown minus the
     * skew window (doc/profile.md §7) */
    F.now = t0 - (10ull << 32);
    ck_assert_int_eq(resolve_as(r, FX_BOB, &m), MK_E_POLICY);
    /* TRe = now + 3600: at TRe still fine, one second later expired */
    F.now = t0 + (3600ull << 32);
    ck_assert_int_eq(resolve_as(r, FX_BOB, &m), MK_OK);
    F.now = t0 + (3601ull << 32);
    ck_assert_int_eq(resolve_as(r, FX_BOB, &m), MK_E_POLICY);
    ck_assert_int_eq(F.ans.http_status, 403);
    F.now = t0 + (30ull * 86400 << 32);
    ck_assert_int_eq(resolve_as(r, FX_BOB, &m), MK_E_POLICY);
    /* and back: the clock ran 30 days ahead and returned; a fresh message
     * of the returned clock is older than that mark - skew: Error 1 */
    F.now = t0 + (3600ull << 32);
    ck_assert_int_eq(resolve_as(r, FX_BOB, &m), MK_E_MIKEY_TS);
    F.now = t0;
    fx_chain_free(r);
}
END_TEST

/* Where the Ticket Data of the TICKET of RESOLVE_INIT m starts, and its
 * length; d is m decoded. */
static size_t ticket_data_at(const fx_msg *m, mk_message *d, size_t *n)
{
    fx_decode(m, d);
    int t = mk_chain_find(&d->chain, MK_PT_TICKET, 0);
    ck_assert_int_ge(t, 0);
    *n = d->chain.p[t].u.tp.ticket_data.n;
    return (size_t)(d->chain.p[t].u.tp.ticket_data.p - m->b);
}

static void ticket_data_of(const fx_msg *m, uint8_t *buf, size_t *n)
{
    mk_message d;
    size_t at = ticket_data_at(m, &d, n);
    memcpy(buf, m->b + at, *n);
}

static void set_csb(fx_msg *m, uint32_t csb)
{
    m->b[4] = (uint8_t)(csb >> 24);
    m->b[5] = (uint8_t)(csb >> 16);
    m->b[6] = (uint8_t)(csb >> 8);
    m->b[7] = (uint8_t)csb;
}

START_TEST(test_ticket_every_bit_flipped)
{
    const mk_suite *suites[2] = {&mk_suite_128, &mk_suite_256};
    for (int s = 0; s < 2; s++) {
        fx_msg m, out;
        mk_message d;
        size_t n, auth = 0;
        chain_result *r = fx_chain(suites[s], s == 1, false);
        fx_resolve_init(r, FX_BOB, &m);
        size_t at = ticket_data_at(&m, &d, &n);
        /* untouched, re-signed with a fresh CSB ID: resolves */
        out = m;
        set_csb(&out, 1);
        fx_resign_raw(&out, &d, FX_BOB, fx_str(FX_BOB));
        ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_RESOLVE, &out), MK_OK);
        for (size_t bit = 0; bit < 8 * n; bit++) {
            out = m;
            out.b[at + bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
            set_csb(&out, (uint32_t)(bit + 2)); /* not a replay */
            fx_resign_raw(&out, &d, FX_BOB, fx_str(FX_BOB));
            mk_err e = fx_handle(MK_SERVICE_TICKET_RESOLVE, &out);
            /* Ticket Data is opaque to the message (RFC 6043 §6.10): a flip
             * that breaks its layout is a ticket that fails its MAC like
             * any other, never a 400 (profile §3 last row): 200, Error 0,
             * and a V under Bob's keys (he was authenticated) */
            ck_assert_msg(F.ans.http_status == 200, "bit %zu: HTTP %d", bit,
                          F.ans.http_status);
            ck_assert_msg(e == MK_E_MIKEY_AUTH, "bit %zu: %s", bit,
                          mk_err_name(e));
            fx_assert_error(&out, 0, true, FX_BOB);
            auth++;
        }
        ck_assert_uint_eq(auth, 8 * n);
        fx_chain_free(r);
    }
}
END_TEST

START_TEST(test_ticket_key_rotation)
{
    fx_msg m;
    mk_ticket_key_info k2;
    uint8_t td1[1024], td2[1024];
    size_t n1, n2;
    chain_result *r1 = fx_chain(&mk_suite_128, false, false);
    /* rotate: key 1 becomes resolve-only, key 2 seals */
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(F.sql, now_unix(), &k2),
                     MK_OK);
    chain_result *r2 = fx_chain(&mk_suite_128, true, false);
    fx_resolve_init(r1, FX_BOB, &m);
    ticket_data_of(&m, td1, &n1);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_RESOLVE, &m), MK_OK);
    fx_resolve_init(r2, FX_BOB, &m);
    ticket_data_of(&m, td2, &n2);
    /* the two tickets name different key versions (IDRpsk in Ticket Data) */
    {
        mk_thdr th;
        mk_chain c1, c2;
        ck_assert_int_eq(mk_base_ticket_decode(MK_BYTES(td1, n1), &th, &c1),
                         MK_OK);
        ck_assert_int_eq(mk_base_ticket_decode(MK_BYTES(td2, n2), &th, &c2),
                         MK_OK);
        int i1 = mk_chain_find_idr(&c1, MK_ROLE_IDRPSK, 0);
        int i2 = mk_chain_find_idr(&c2, MK_ROLE_IDRPSK, 0);
        ck_assert_int_ge(i1, 0);
        ck_assert_int_ge(i2, 0);
        ck_assert(!mk_bytes_equal(c1.p[i1].u.idr.data, c2.p[i2].u.idr.data));
        ck_assert(mk_bytes_equal(c2.p[i2].u.idr.data,
                                 MK_BYTES(k2.id, k2.id_len)));
        /* retire key 1: its tickets are refused with Error 0, key 2's
         * still resolve */
        ck_assert_int_eq(mk_sqlstore_ticket_key_retire(F.sql,
                                                       c1.p[i1].u.idr.data),
                         MK_OK);
    }
    fx_resolve_init(r1, FX_BOB, &m);
    fx_expect_error(MK_SERVICE_TICKET_RESOLVE, &m, MK_E_MIKEY_AUTH,
                    0, true, FX_BOB);
    fx_resolve_init(r2, FX_BOB, &m);
    ck_assert_int_eq(fx_handle(MK_SERVICE_TICKET_RESOLVE, &m), MK_OK);
    fx_chain_free(r1);
    fx_chain_free(r2);
}
END_TEST

START_TEST(test_ticket_unknown_key_and_other_kms)
{
    fx_msg m, out;
    mk_message d;
    uint8_t td[1024];
    size_t n;
    chain_result *r = fx_chain(&mk_suite_256, false, false);
    fx_resolve_init(r, FX_BOB, &m);
    ticket_data_of(&m, td, &n);
    /* a ticket of another KMS (another store, same key id): Error 0 */
    fx_teardown();
    fx_setup();
    (void)td;
    (void)n;
    out = m;
    fx_decode(&m, &d);
    fx_expect_error(MK_SERVICE_TICKET_RESOLVE, &out, MK_E_MIKEY_AUTH,
                    0, true, FX_BOB);
    fx_chain_free(r);
}
END_TEST

START_TEST(test_resolve_other_suite)
{
    /* a 256-bit ticket resolved with a 128-bit RESOLVE_INIT: Error 2 */
    fx_msg m, out;
    mk_message d;
    chain_result *r = fx_chain(&mk_suite_256, false, false);
    fx_resolve_init(r, FX_BOB, &m);
    fx_decode(&m, &d);
    d.hdr.prf_func = MK_PRF_MIKEY_1;
    d.chain.p[d.chain.count - 1].u.v.auth_alg = MK_MAC_HMAC_SHA1_160;
    fx_resign(&d, FX_BOB, fx_str(FX_BOB), &out);
    fx_expect_error(MK_SERVICE_TICKET_RESOLVE, &out, MK_E_MIKEY_PRF,
                    2, true, FX_BOB);
    fx_chain_free(r);
}
END_TEST

START_TEST(test_forking_vr)
{
    fx_msg m, out;
    mk_message d;
    chain_result *r = fx_chain(&mk_suite_128, true, false);
    /* every bit of Vi and Vr (Vr covers Vi) */
    fx_resolve_init(r, FX_BOB, &m);
    fx_decode(&m, &d);
    int t = mk_chain_find(&d.chain, MK_PT_TICKET, 0);
    mk_bytes id = d.chain.p[t].u.tp.initiator_data;
    size_t at = (size_t)(id.p - m.b);
    ck_assert_uint_eq(id.n, 1 + 2 * (2 + 20));
    size_t auth = 0;
    for (size_t bit = 0; bit < 8 * id.n; bit++) {
        out = m;
        out.b[at + bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        set_csb(&out, (uint32_t)bit + 1);
        fx_resign_raw(&out, &d, FX_BOB, fx_str(FX_BOB));
        mk_err e = fx_handle(MK_SERVICE_TICKET_RESOLVE, &out);
        if (F.ans.http_status == 400)
            continue; /* a flip in a type or alg: no longer a message */
        ck_assert_msg(e == MK_E_MIKEY_AUTH, "bit %zu: %s", bit,
                      mk_err_name(e));
        fx_assert_error(&out, 0, true, FX_BOB);
        auth++;
    }
    ck_assert_uint_ge(auth, 8 * 40);
    /* no Initiator Data at all */
    fx_decode(&m, &d);
    d.chain.p[t].u.tp.initiator_data = MK_BYTES_NONE;
    d.hdr.csb_id = 0xabcdef;
    fx_resign(&d, FX_BOB, fx_str(FX_BOB), &out);
    fx_expect_error(MK_SERVICE_TICKET_RESOLVE, &out, MK_E_MIKEY_AUTH,
                    0, true, FX_BOB);
    fx_chain_free(r);
}
END_TEST

START_TEST(test_resolve_answer_layout)
{
    const mk_suite *suites[2] = {&mk_suite_128, &mk_suite_256};
    for (int s = 0; s < 2; s++) {
        for (int fork = 0; fork < 2; fork++) {
            mk_message a, q;
            chain_result *r = fx_chain(suites[s], fork, false);
            chain_decode(&r->res_resp, &a);
            chain_decode(&r->res_init, &q);
            /* HDR, T, IDRkms, KEMAC, [IDRr, RANDRkms], V */
            ck_assert_uint_eq(a.hdr.data_type, MK_DT_RESOLVE_RESP);
            ck_assert_uint_eq(a.hdr.csb_id, q.hdr.csb_id);
            ck_assert_uint_eq(a.hdr.prf_func, q.hdr.prf_func);
            ck_assert_uint_eq(a.chain.count, fork ? 6 : 4);
            ck_assert_uint_eq(a.chain.p[0].type, MK_PT_T);
            ck_assert_uint_eq(a.chain.p[0].u.t.value, F.now);
            ck_assert_uint_eq(a.chain.p[1].u.idr.role, MK_ROLE_IDRKMS);
            ck_assert_uint_eq(a.chain.p[2].type, MK_PT_KEMAC);
            ck_assert_uint_eq(a.chain.p[2].u.kemac.encr_alg,
                              (unsigned)suites[s]->encr_alg);
            if (fork) {
                ck_assert_uint_eq(a.chain.p[3].u.idr.role, MK_ROLE_IDRR);
                ck_assert(mk_bytes_equal(a.chain.p[3].u.idr.data,
                                         fx_str(FX_BOB)));
                ck_assert_uint_eq(a.chain.p[4].u.randr.role, MK_RANDR_KMS);
                ck_assert_uint_ge(a.chain.p[4].u.randr.rand.n,
                                  suites[s]->key_len);
            }
            ck_assert_uint_eq(a.chain.p[a.chain.count - 1].type, MK_PT_V);
            fx_chain_free(r);
        }
    }
}
END_TEST

int main(void)
{
    const TTest *const policy_tests[] = {test_request_policy_403,
        test_granted_policy, test_session_key_flags, test_resolve_policy_403,
        test_no_reuse_enforced, test_resolve_validity_window,
        test_ticket_every_bit_flipped, test_ticket_key_rotation,
        test_ticket_unknown_key_and_other_kms, test_resolve_other_suite,
        test_forking_vr, test_resolve_answer_layout};
    const mk_check_opts o = {
        .suite = "kms_policy", .tcase = "policy", .timeout = 300,
        .setup = fx_setup, .teardown = fx_teardown
    };
    return mk_check_main_opts(&o, policy_tests, MK_CHECK_NELEM(policy_tests));
}
