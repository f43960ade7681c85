/* test_codec_robust.c - malformed input: every sample message truncated at
 * every byte, every length field of every payload off by +1 and -1, and a
 * sweep of single-byte corruptions. All decoding happens on bytes placed
 * flush against an unreadable page (tests/lib/guard.h), so any over-read faults.
 *
 * Expected errors: a truncated message is MK_E_TRUNCATED at or before the
 * cut. For the length field that ends the LAST payload of the message, +1 is
 * MK_E_TRUNCATED and -1 MK_E_TRAILING; for such a field inside nested data
 * (TP Data, Initiator Data, SP params, Key ID data) both are MK_E_LENGTH,
 * because the enclosing length is still right. Any other length change must
 * still be rejected. Base-ticket Ticket Data is opaque to the message
 * decoder (RFC 6043 §6.10): a length changed inside it must leave the
 * message decodable, and it is mk_base_ticket_decode on the Ticket Data that
 * must reject it, by the same rules with the Ticket Data as the top level. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_samples.h"
#include "lib/guard.h"

/* one length field of a sample */
typedef struct lf {
    size_t off;     /* absolute offset of the field */
    int width;      /* 1 or 2 bytes */
    unsigned mask;  /* bits of the field that are the length */
    int payload;    /* payload type the field belongs to */
    int expect_plus, expect_minus; /* MK_OK = "any error" */
    bool may_pass; /* a TLV that is not the last one: a shorter/longer
                      value can re-frame into other valid TLVs */
    size_t td_off, td_n; /* td_n > 0: inside base-ticket Ticket Data at
                            [td_off, td_off + td_n): decoded with
                            mk_base_ticket_decode */
} lf;

#define LF_MAX 256

typedef struct lf_list {
    lf f[LF_MAX];
    size_t n;
    size_t td_off, td_n; /* while adding fields of a Ticket Data */
} lf_list;

static unsigned rd(const uint8_t *b, const lf *f)
{
    unsigned v = f->width == 1 ? b[f->off] : (unsigned)(b[f->off] << 8 | b[f->off + 1]);
    return v & f->mask;
}

static void wr(uint8_t *b, const lf *f, unsigned v)
{
    unsigned old = f->width == 1 ? b[f->off] : (unsigned)(b[f->off] << 8 | b[f->off + 1]);
    unsigned nv = (old & ~f->mask) | (v & f->mask);
    if (f->width == 1) {
        b[f->off] = (uint8_t)nv;
    } else {
        b[f->off] = (uint8_t)(nv >> 8);
        b[f->off + 1] = (uint8_t)nv;
    }
}

/* depth 0 = message chain; a "tail" field ends its payload; "last" = the
 * payload ends its chain. */
static void add(lf_list *l, size_t off, int width, unsigned mask, int payload,
                bool tail, bool last, int depth)
{
    ck_assert_uint_lt(l->n, LF_MAX);
    lf *f = &l->f[l->n++];
    f->off = off;
    f->width = width;
    f->mask = mask;
    f->payload = payload;
    f->expect_plus = f->expect_minus = MK_OK;
    f->may_pass = false;
    f->td_off = l->td_off;
    f->td_n = l->td_n;
    if (tail && last) {
        if (depth == 0) {
            f->expect_plus = MK_E_TRUNCATED;
            f->expect_minus = MK_E_TRAILING;
        } else {
            f->expect_plus = f->expect_minus = MK_E_LENGTH;
        }
    }
}

/* TLVs (SP params, Key ID data) starting at absolute offset base. */
static void add_tlvs(lf_list *l, size_t base, mk_bytes b, int payload)
{
    size_t pos = 0;
    while (pos + 2 <= b.n) {
        size_t len = b.p[pos + 1];
        bool last = pos + 2 + len == b.n;
        add(l, base + pos + 1, 1, 0xff, payload, true, last, 1);
        l->f[l->n - 1].may_pass = !last;
        pos += 2 + len;
    }
}

static void add_chain(lf_list *l, const mk_chain *c, size_t base, int depth);

static void add_kv(lf_list *l, size_t at, const mk_kv *kv, int payload,
                   bool last, int depth)
{
    /* at = offset of the first KV data byte */
    if (kv->type == MK_KV_SPI) {
        add(l, at, 1, 0xff, payload, true, last, depth);
    } else if (kv->type == MK_KV_INTERVAL) {
        add(l, at, 1, 0xff, payload, false, last, depth);
        add(l, at + 1 + kv->valid_from.n, 1, 0xff, payload, true, last, depth);
    }
}

static void add_nested_chain(lf_list *l, mk_bytes b, size_t base, int depth)
{
    mk_chain c;
    if (b.n == 0)
        return;
    ck_assert_int_eq(mk_tp_data_decode(b, &c), MK_OK);
    add_chain(l, &c, base, depth);
}

static void add_payload(lf_list *l, const mk_payload *p, size_t base,
                        bool last, int depth)
{
    size_t o = base + p->off;
    int t = p->type;
    switch (t) {
    case MK_PT_KEMAC:
        add(l, o + 2, 2, 0xffff, t, false, last, depth);
        break;
    case MK_PT_PKE:
        add(l, o + 1, 2, 0x3fff, t, true, last, depth);
        break;
    case MK_PT_DH:
        add_kv(l, o + 3 + p->u.dh.value.n, &p->u.dh.kv, t, last, depth);
        break;
    case MK_PT_SIGN:
        add(l, o, 2, 0x0fff, t, true, last, depth);
        break;
    case MK_PT_ID:
    case MK_PT_CERT:
        add(l, o + 2, 2, 0xffff, t, true, last, depth);
        break;
    case MK_PT_SP:
        /* with params, -1 first cuts the last TLV: MK_E_LENGTH */
        add(l, o + 3, 2, 0xffff, t, p->u.sp.params.n == 0, last, depth);
        add_tlvs(l, o + 5, p->u.sp.params, t);
        break;
    case MK_PT_RAND:
        add(l, o + 1, 1, 0xff, t, true, last, depth);
        break;
    case MK_PT_IDR:
        add(l, o + 3, 2, 0xffff, t, true, last, depth);
        break;
    case MK_PT_RANDR:
        add(l, o + 2, 1, 0xff, t, true, last, depth);
        break;
    case MK_PT_GENEXT:
        add(l, o + 2, 2, 0xffff, t, true, last, depth);
        break;
    case MK_PT_KEYDATA: {
        const mk_keydata *k = &p->u.keydata;
        bool salt = mk_key_type_has_salt(k->type);
        bool kvnone = k->kv.type == MK_KV_NULL;
        size_t at = o + 4 + k->key.n;
        add(l, o + 2, 2, 0xffff, t, !salt && kvnone, last, depth);
        if (salt) {
            add(l, at, 2, 0xffff, t, kvnone, last, depth);
            at += 2 + k->salt.n;
        }
        add_kv(l, at, &k->kv, t, last, depth);
        break;
    }
    case MK_PT_TP:
    case MK_PT_TICKET: {
        const mk_tp *tp = &p->u.tp;
        bool ticket = t == MK_PT_TICKET;
        /* lengths of nested chains: -1 is caught inside (MK_E_LENGTH) */
        add(l, o + 8, 2, 0xffff, t, false, last, depth);
        add_nested_chain(l, tp->tp_data, o + 10, depth + 1);
        if (!ticket)
            break;
        size_t td = o + 12 + tp->tp_data.n;
        add(l, td - 2, 2, 0xffff, t, false, last, depth);
        /* a base ticket's fields, decoded by mk_base_ticket_decode with its
         * Ticket Data as the top level (depth 0); one inside another
         * ticket's Ticket Data is opaque to that decode: skipped */
        if (tp->ticket_type == 1 && tp->subtype == 1 && tp->version == 1 &&
            l->td_n == 0 && tp->ticket_data.n > 0) {
            mk_thdr th;
            mk_chain c;
            ck_assert_int_eq(mk_base_ticket_decode(tp->ticket_data, &th, &c), MK_OK);
            l->td_off = td;
            l->td_n = tp->ticket_data.n;
            add(l, td + 1, 2, 0xffff, MK_PT_THDR, c.count == 0, true, 0);
            add_chain(l, &c, td, 0);
            l->td_off = l->td_n = 0;
        }
        size_t id = td + tp->ticket_data.n + 2;
        add(l, id - 2, 2, 0xffff, t, tp->initiator_data.n == 0, last, depth);
        add_nested_chain(l, tp->initiator_data, id, depth + 1);
        break;
    }
    default:
        break; /* T, CHASH, V, ERR, TR: no length field */
    }
}

static void add_chain(lf_list *l, const mk_chain *c, size_t base, int depth)
{
    for (size_t i = 0; i < c->count; i++)
        add_payload(l, &c->p[i], base, i + 1 == c->count, depth);
}

/* decoders under test: a whole message, or a KEMAC plaintext */
static mk_err run(bool plain, const uint8_t *b, size_t n, size_t *err_off)
{
    mk_guarded g;
    static mk_message m;
    static mk_chain c;
    mk_err e;
    mk_guarded_init(&g, b, n);
    mk_err_clear();
    e = plain ? mk_kemac_plain_decode(MK_BYTES(g.data, g.n), MK_PT_KEYDATA, &c)
              : mk_message_decode(MK_BYTES(g.data, g.n), &m);
    if (err_off)
        *err_off = mk_err_last()->offset;
    if (e != MK_OK)
        ck_assert_int_eq(mk_err_last()->code, e);
    mk_guarded_free(&g);
    return e;
}

/* A field inside base-ticket Ticket Data: the message must still decode
 * (Ticket Data is opaque to it); then mk_base_ticket_decode on the Ticket
 * Data, flush against a guard page. *err_off is made absolute. */
static mk_err run_ticket(const lf *f, const uint8_t *b, size_t n,
                         size_t *err_off)
{
    mk_guarded g;
    static mk_chain c;
    mk_thdr th;
    mk_err e;
    ck_assert_int_eq(run(false, b, n, NULL), MK_OK);
    ck_assert_uint_le(f->td_off + f->td_n, n);
    mk_guarded_init(&g, b + f->td_off, f->td_n);
    mk_err_clear();
    e = mk_base_ticket_decode(MK_BYTES(g.data, g.n), &th, &c);
    *err_off = f->td_off + mk_err_last()->offset;
    if (e != MK_OK)
        ck_assert_int_eq(mk_err_last()->code, e);
    mk_guarded_free(&g);
    return e;
}

static void truncations(const cs_sample *s, bool plain)
{
    /* a plaintext of 0 bytes is a valid empty chain */
    for (size_t cut = plain ? 1 : 0; cut < s->n; cut++) {
        size_t off = 0;
        mk_err e = run(plain, s->b, cut, &off);
        if (e != MK_E_TRUNCATED)
            ck_abort_msg("%s cut at %zu: %s, want truncated", s->name, cut,
                         mk_err_name(e));
        ck_assert_uint_le(off, cut);
    }
    ck_assert_int_eq(run(plain, s->b, s->n, NULL), MK_OK);
}

START_TEST(test_truncation_every_byte)
{
    for (size_t i = 0; i < cs_message_count(); i++)
        truncations(cs_message(i), false);
    for (size_t i = 0; i < cs_plain_count(); i++)
        truncations(cs_plain(i), true);
}
END_TEST

static size_t exact_by_err[MK_E__COUNT];
static size_t in_ticket; /* changes inside base-ticket Ticket Data */

static size_t lengths_off_by_one(const cs_sample *s, bool plain)
{
    static lf_list l;
    static mk_message m;
    static mk_chain c;
    uint8_t b[CS_MAX];
    size_t exact = 0;

    l.n = 0;
    if (plain) {
        ck_assert_int_eq(mk_kemac_plain_decode(MK_BYTES(s->b, s->n), MK_PT_KEYDATA, &c), MK_OK);
        add_chain(&l, &c, 0, 0);
    } else {
        ck_assert_int_eq(mk_message_decode(MK_BYTES(s->b, s->n), &m), MK_OK);
        add_chain(&l, &m.chain, 0, 0);
    }
    for (size_t i = 0; i < l.n; i++) {
        const lf *f = &l.f[i];
        unsigned v = rd(s->b, f);
        for (int d = -1; d <= 1; d += 2) {
            if ((d < 0 && v == 0) || (d > 0 && v == f->mask))
                continue;
            memcpy(b, s->b, s->n);
            wr(b, f, v + (unsigned)d);
            size_t off;
            mk_err e = f->td_n ? run_ticket(f, b, s->n, &off)
                               : run(plain, b, s->n, &off);
            int want = d > 0 ? f->expect_plus : f->expect_minus;
            /* a length of 0 that becomes 0xff.. after -1 is not at issue:
             * skipped above; a length made 0 by -1 may end early */
            if (e == MK_OK && f->may_pass) {
                /* accepted as other TLVs: then it must round-trip */
                static mk_message m2;
                uint8_t out[CS_MAX];
                mk_buf ob;
                mk_buf_init(&ob, out, sizeof out);
                if (plain)
                    continue;
                ck_assert_int_eq(mk_message_decode(MK_BYTES(b, s->n), &m2), MK_OK);
                ck_assert_int_eq(mk_message_encode(&m2, &ob), MK_OK);
                ck_assert(ob.n == s->n && memcmp(out, b, s->n) == 0);
                continue;
            }
            if (e == MK_OK)
                ck_abort_msg("%s: %s length at %zu %+d accepted", s->name,
                             mk_name_payload(f->payload), f->off, d);
            if (f->td_n)
                in_ticket++; /* rejected by mk_base_ticket_decode */
            if (want != MK_OK) {
                exact++;
                exact_by_err[want]++;
                if ((int)e != want)
                    ck_abort_msg("%s: %s length at %zu %+d: %s, want %s",
                                 s->name, mk_name_payload(f->payload), f->off,
                                 d, mk_err_name(e), mk_err_name(want));
            }
            ck_assert_uint_le(off, s->n);
        }
    }
    return exact;
}

START_TEST(test_length_fields_off_by_one)
{
    size_t exact = 0;
    for (size_t i = 0; i < cs_message_count(); i++)
        exact += lengths_off_by_one(cs_message(i), false);
    for (size_t i = 0; i < cs_plain_count(); i++)
        exact += lengths_off_by_one(cs_plain(i), true);
    /* the exact-error rule must have been exercised, at top level and
     * nested */
    ck_assert_uint_ge(exact, 30);
    ck_assert_uint_ge(exact_by_err[MK_E_TRUNCATED], 8);
    ck_assert_uint_ge(exact_by_err[MK_E_TRAILING], 8);
    ck_assert_uint_ge(exact_by_err[MK_E_LENGTH], 12);
    /* lengths inside Ticket Data (THDR, RAND, KEMAC, IDRpsk of each base
     * ticket, +1 and -1) were changed and rejected by mk_base_ticket_decode */
    ck_assert_uint_ge(in_ticket, 24);
}
END_TEST

/* Every byte of every sample xor'ed with a few masks: no crash, no
 * over-read; whatever decodes re-encodes to exactly the input. */
START_TEST(test_single_byte_corruption)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xff, 0x10};
    static mk_message m;
    uint8_t b[CS_MAX], out[CS_MAX];
    size_t decoded = 0, total = 0;
    for (size_t i = 0; i < cs_message_count(); i++) {
        const cs_sample *s = cs_message(i);
        for (size_t k = 0; k < s->n; k++) {
            for (size_t j = 0; j < sizeof masks; j++) {
                mk_guarded g;
                memcpy(b, s->b, s->n);
                b[k] ^= masks[j];
                mk_guarded_init(&g, b, s->n);
                total++;
                if (mk_message_decode(MK_BYTES(g.data, g.n), &m) == MK_OK) {
                    mk_buf ob;
                    decoded++;
                    mk_buf_init(&ob, out, sizeof out);
                    ck_assert_int_eq(mk_message_encode(&m, &ob), MK_OK);
                    ck_assert_uint_eq(ob.n, s->n);
                    ck_assert(memcmp(out, b, s->n) == 0);
                }
                mk_guarded_free(&g);
            }
        }
    }
    /* value bytes (IDs, RANDs, MACs) change freely: many still decode */
    ck_assert_uint_gt(decoded, total / 4);
    ck_assert_uint_lt(decoded, total);
}
END_TEST

TCase *cs_tcase_robust(void);
TCase *cs_tcase_robust(void)
{
    TCase *tc = tcase_create("robust");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_truncation_every_byte);
    tcase_add_test(tc, test_length_fields_off_by_one);
    tcase_add_test(tc, test_single_byte_corruption);
    return tc;
}
