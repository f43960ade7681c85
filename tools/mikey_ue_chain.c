/* mikey_ue_chain.c - see mikey_ue_chain.h. */
#include "mikey_ue_chain.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"

/* Everything the two parties hold; on the heap, wiped before it is freed. */
typedef struct chain_state {
    ue_msg req, resp, ti, ri, rr, tr;
    mk_ue_ticket tk;       /* alice after REQUEST_RESP */
    mk_ue_session alice;   /* after TRANSFER_RESP */
    mk_ue_session bob;     /* after RESOLVE_RESP and her own TRANSFER_RESP */
    mk_ue_srtp ka, kb;
    mk_ue_peer_error pe;
} chain_state;

typedef struct run {
    const ue_chain_params *p;
    FILE *out, *err;
    int step;
    const char *name;
} run;

static void begin(run *r, int step, const char *name)
{
    r->step = step;
    r->name = name;
}

/* One line per step: "[N] name  who  what". */
static void say(run *r, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(run *r, const char *who, const char *fmt, ...)
{
    va_list ap;
    fprintf(r->out, "[%d] %-21s %-13s ", r->step, r->name, who);
    va_start(ap, fmt);
    vfprintf(r->out, fmt, ap);
    va_end(ap);
    fputc('\n', r->out);
}

/* A continuation line of the current step. */
static void more(run *r, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void more(run *r, const char *who, const char *fmt, ...)
{
    va_list ap;
    fprintf(r->out, "    %-21s %-13s ", "", who);
    va_start(ap, fmt);
    vfprintf(r->out, fmt, ap);
    va_end(ap);
    fputc('\n', r->out);
}

static int fail_line(run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail_line(run *r, const char *fmt, ...)
{
    va_list ap;
    fflush(r->out);
    fprintf(r->err, "mikey-ue: chain: step %d %s: ", r->step, r->name);
    va_start(ap, fmt);
    vfprintf(r->err, fmt, ap);
    va_end(ap);
    fputc('\n', r->err);
    return 1;
}

/* A failed library call: its error, and the peer's Error message if the
 * answer was one. */
static int fail_err(run *r, mk_err e, const mk_ue_peer_error *pe,
                    const char *peer)
{
    const mk_err_detail *d = mk_err_last();
    if (pe && pe->present) {
        char t[256];
        ue_peer_error_text(pe, t, sizeof t);
        return fail_line(r, "%s answered HTTP 200 with %s", peer, t);
    }
    if (d && d->code == e && d->what && d->payload >= 0)
        return fail_line(r, "%s: %s (%s at offset %zu)", mk_err_name(e),
                         d->what, mk_name_payload(d->payload), d->offset);
    if (d && d->code == e && d->what)
        return fail_line(r, "%s: %s", mk_err_name(e), d->what);
    return fail_line(r, "%s", mk_err_name(e));
}

/* A failed KMS exchange: what the sink says (HTTP status, reason, text). */
static int fail_kms(run *r, ue_sink *kms, mk_err e)
{
    const char *why = kms->why(kms);
    if (why)
        return fail_line(r, "%s", why);
    return fail_err(r, e, NULL, "KMS");
}

static void hex(FILE *f, mk_bytes b)
{
    for (size_t i = 0; i < b.n; i++)
        fprintf(f, "%02x", b.p[i]);
}

static void print_srtp(FILE *f, const char *who, const mk_ue_srtp *k)
{
    fprintf(f, "%s cs%u master_key=", who, k->cs_id);
    hex(f, mk_key_bytes(&k->master_key));
    fputs(" master_salt=", f);
    hex(f, mk_key_bytes(&k->master_salt));
    if (k->mki_len) {
        fputs(" mki=", f);
        hex(f, MK_BYTES(k->mki, k->mki_len));
    }
    fputc('\n', f);
}

static bool same_key(const mk_key *a, const mk_key *b)
{
    return a->n == b->n && mk_ct_equal(a->b, b->b, a->n);
}

static bool same_srtp(const mk_ue_srtp *a, const mk_ue_srtp *b)
{
    return a->cs_id == b->cs_id && same_key(&a->master_key, &b->master_key) &&
           same_key(&a->master_salt, &b->master_salt) &&
           a->mki_len == b->mki_len && memcmp(a->mki, b->mki, a->mki_len) == 0;
}

static const char *key_names(const mk_key_set *ks, size_t first, bool mpkr,
                             char *buf, size_t cap)
{
    size_t l = (size_t)snprintf(buf, cap, "MPKi%s", mpkr ? ", MPKr" : "");
    for (size_t i = first; i < ks->count && l < cap; i++)
        l += (size_t)snprintf(buf + l, cap - l, ", %s",
                              mk_name_key_type(ks->e[i].type));
    return buf;
}

/* who's REQUEST_INIT / RESOLVE_INIT (what) to the KMS (the sink kms) and
 * its answer: 0, or 1 after the failure was printed. */
static int kms_exchange(run *r, ue_sink *kms, const char *who,
                        const char *what, const ue_msg *msg, ue_msg *answer)
{
    char from[16], to[16];
    snprintf(from, sizeof from, "%s -> KMS", who);
    snprintf(to, sizeof to, "KMS -> %s", who);
    say(r, from, "%s_PSK, %zu bytes", what, msg->n);
    mk_err e = kms->deliver(kms, what, ue_msg_bytes(msg), answer);
    if (e != MK_OK)
        return fail_kms(r, kms, e);
    more(r, to, "HTTP 200, application/mikey, %zu bytes", answer->n);
    return 0;
}

/* Steps 1-3: alice's Ticket Request, its answer, her TRANSFER_INIT. */
static int alice_steps(run *r, chain_state *s)
{
    const ue_chain_params *p = r->p;
    mk_ue_request_params rq;
    mk_ue_transfer_params tp;
    char flags[16], names[128];
    mk_err e;

    /* 1: alice's Ticket Request (RFC 6043 §4.2.1) */
    begin(r, 1, "request");
    mk_ue_request_params_init(&rq, p->suite);
    rq.creds = p->alice;
    rq.idrr[0] = p->bob.impu;
    rq.n_idrr = 1;
    if (p->forking)
        rq.flags |= MK_TPF_I;
    memcpy(rq.tmpl, p->tmpl, sizeof rq.tmpl);
    rq.n_tmpl = p->n_tmpl;
    e = mk_ue_request_init(&rq, s->req.b, sizeof s->req.b, &s->req.n);
    if (e != MK_OK)
        return fail_err(r, e, NULL, "KMS");
    if (kms_exchange(r, p->kms, "alice", "REQUEST_INIT", &s->req,
                     &s->resp) != 0)
        return 1;

    /* 2: alice checks REQUEST_RESP: V, KEMAC, granted policy (§4.2.1.6);
     * forking, when asked for, must have been granted */
    begin(r, 2, "accept-request-resp");
    e = mk_ue_accept_request_resp(&p->alice, ue_msg_bytes(&s->req),
                                  ue_msg_bytes(&s->resp), MK_TPF_I, &s->tk,
                                  &s->pe);
    if (e != MK_OK)
        return fail_err(r, e, &s->pe, "KMS");
    ue_flags_text(s->tk.flags, flags);
    say(r, "alice", "REQUEST_RESP: V verified, ticket flags %s%s, keys %s",
        flags, (s->tk.flags & MK_TPF_K) ? " (changed by the KMS)" : "",
        key_names(&s->tk.keys, s->tk.first_key,
                  (s->tk.flags & MK_TPF_I) != 0, names, sizeof names));

    /* 3: alice's TRANSFER_INIT to bob (§4.2.2), one SRTP crypto session */
    begin(r, 3, "transfer-init");
    memset(&tp, 0, sizeof tp);
    tp.idri = p->alice.impu;
    tp.idrr = p->bob.impu;
    tp.n_cs = 1;
    tp.cs[0].cs_id = 1;
    tp.cs[0].has_ssrc = p->has_ssrc;
    tp.cs[0].ssrc = p->ssrc;
    mk_ue_srtp_policy_default(s->tk.suite, &tp.cs[0].policy);
    e = mk_ue_transfer_init(&s->tk, &tp, s->ti.b, sizeof s->ti.b, &s->ti.n);
    if (e != MK_OK)
        return fail_err(r, e, NULL, "KMS");
    say(r, "alice -> bob", "TRANSFER_INIT, %zu bytes", s->ti.n);
    return 0;
}

/* Steps 4-6: bob's Ticket Resolve, its answer, his TRANSFER_RESP. */
static int bob_steps(run *r, chain_state *s)
{
    const ue_chain_params *p = r->p;
    mk_ue_transfer_resp_params trp;
    mk_ue_fixed none;
    mk_err e;

    memset(&none, 0, sizeof none);

    /* 4: bob's Ticket Resolve (§4.2.3) */
    begin(r, 4, "resolve");
    e = mk_ue_resolve_init(&p->bob, ue_msg_bytes(&s->ti), &none, s->ri.b,
                           sizeof s->ri.b, &s->ri.n);
    if (e != MK_OK)
        return fail_err(r, e, NULL, "KMS");
    if (kms_exchange(r, p->kms_resolve ? p->kms_resolve : p->kms, "bob",
                     "RESOLVE_INIT", &s->ri, &s->rr) != 0)
        return 1;

    /* 5: bob checks RESOLVE_RESP and, with MPKi, TRANSFER_INIT (§4.2.3.6) */
    begin(r, 5, "accept-resolve-resp");
    e = mk_ue_accept_resolve_resp(&p->bob, ue_msg_bytes(&s->ti),
                                  ue_msg_bytes(&s->ri), ue_msg_bytes(&s->rr),
                                  &s->bob, &s->pe);
    if (e != MK_OK)
        return fail_err(r, e, &s->pe, "KMS");
    say(r, "bob", "RESOLVE_RESP: V verified; TRANSFER_INIT: V verified%s",
        s->bob.forked ? "; keys forked for bob" : "");

    /* 6: bob's TRANSFER_RESP to alice (§4.2.4) */
    begin(r, 6, "transfer-resp");
    memset(&trp, 0, sizeof trp);
    if (!p->has_ssrc) {
        uint8_t b[4];
        e = mk_random(b, sizeof b);
        if (e != MK_OK)
            return fail_err(r, e, NULL, "KMS");
        trp.ssrc[0] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                      (uint32_t)b[2] << 8 | b[3];
        trp.has_ssrc[0] = true;
    }
    e = mk_ue_transfer_resp(&s->bob, ue_msg_bytes(&s->ti), &trp, s->tr.b,
                            sizeof s->tr.b, &s->tr.n);
    if (e != MK_OK)
        return fail_err(r, e, NULL, "KMS");
    say(r, "bob -> alice", "TRANSFER_RESP, %zu bytes", s->tr.n);
    return 0;
}

/* Steps 7-8: alice takes TRANSFER_RESP; both sides' SRTP keys compared. */
static int final_steps(run *r, chain_state *s)
{
    mk_err e;

    /* 7: alice checks TRANSFER_RESP (forks MPKr and the TGKs first) */
    begin(r, 7, "accept-transfer-resp");
    e = mk_ue_accept_transfer_resp(&s->tk, ue_msg_bytes(&s->ti),
                                   ue_msg_bytes(&s->tr), &s->alice, &s->pe);
    if (e != MK_OK)
        return fail_err(r, e, &s->pe, "bob");
    say(r, "alice", "TRANSFER_RESP: V verified%s",
        s->alice.forked ? "; keys forked for bob" : "");

    /* 8: the SRTP master keys and salts of every crypto session */
    begin(r, 8, "srtp-keys");
    say(r, "alice, bob", "%zu crypto session%s", s->alice.n_cs,
        s->alice.n_cs == 1 ? "" : "s");
    if (s->alice.n_cs != s->bob.n_cs || s->alice.n_cs == 0)
        return fail_line(r, "alice has %zu crypto sessions, bob %zu",
                         s->alice.n_cs, s->bob.n_cs);
    {
        bool same = true;
        for (size_t i = 0; i < s->alice.n_cs; i++) {
            uint8_t id = s->alice.cs[i].cs_id;
            e = mk_ue_srtp_keys(&s->alice, id, &s->ka);
            if (e != MK_OK)
                return fail_err(r, e, NULL, "alice");
            e = mk_ue_srtp_keys(&s->bob, id, &s->kb);
            if (e != MK_OK)
                return fail_err(r, e, NULL, "bob");
            print_srtp(r->out, "alice:", &s->ka);
            print_srtp(r->out, "bob:  ", &s->kb);
            same = same && same_srtp(&s->ka, &s->kb);
            mk_ue_srtp_wipe(&s->ka);
            mk_ue_srtp_wipe(&s->kb);
        }
        fputs(same ? "keys match\n" : "KEYS DIFFER\n", r->out);
        fflush(r->out);
        if (!same) {
            fprintf(r->err, "mikey-ue: chain: alice and bob derived "
                            "different SRTP keys\n");
            return 1;
        }
    }
    return 0;
}

static int steps(run *r, chain_state *s)
{
    int rc = alice_steps(r, s);
    if (rc == 0)
        rc = bob_steps(r, s);
    if (rc == 0)
        rc = final_steps(r, s);
    return rc;
}

int ue_chain_run(const ue_chain_params *p, FILE *out, FILE *err)
{
    run r = {p, out, err, 0, ""};
    chain_state *s = calloc(1, sizeof *s);
    int rc;
    if (!s) {
        fprintf(err, "mikey-ue: chain: out of memory\n");
        return 1;
    }
    fprintf(out, "chain: alice %.*s -> bob %.*s via %s%s%s (suite %zu%s)\n",
            (int)p->alice.impu.n, (const char *)p->alice.impu.p,
            (int)p->bob.impu.n, (const char *)p->bob.impu.p, p->via,
            p->via_resolve ? ", resolve via " : "",
            p->via_resolve ? p->via_resolve : "", p->suite->key_len * 8,
            p->forking ? ", key forking" : "");
    rc = steps(&r, s);
    mk_ue_ticket_wipe(&s->tk);
    mk_ue_session_wipe(&s->alice);
    mk_ue_session_wipe(&s->bob);
    mk_ue_srtp_wipe(&s->ka);
    mk_ue_srtp_wipe(&s->kb);
    mk_wipe(s, sizeof *s);
    free(s);
    fflush(out);
    return rc;
}
