/* test_store_iface.c - one suite of the store interface (kms/kms_store.h)
 * and the administration both stores share, run over either backend:
 *
 *   test_store_iface sqlite DIR          a new SQLite store in DIR
 *   test_store_iface postgresql URI      an empty PostgreSQL database
 *
 * (tests/store_iface.sh runs both; the PostgreSQL one on a private server
 * when PostgreSQL is installed.) Two connections to the one store stand
 * for two kmsd processes (SQLite, one node state) or two nodes
 * (PostgreSQL): lookups and keys, the replay entry taken once across
 * connections with nothing written by the loser, one record per commit,
 * an operator change through one connection refusing the other's cached
 * rows at its next commit (MK_E_STALE), ticket key rotation and
 * retirement, the J = 0 rule with the answer's commit (and raced by two
 * connections: exactly one first resolve passes). */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/check_main.h"
#include "store/pgstore.h"
#include "store/store.h"

static const uint8_t MASTER[32] = {
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
    0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f};

static bool pg;            /* the backend under test */
static const char *where;  /* DIR or URI */
static char db_path[256];

/* One connection of either backend. */
typedef struct conn {
    mk_sqlstore *s;
    mk_pgstore *p;
    mk_kms_store i;
} conn;

static void conn_open(conn *c, bool init)
{
    memset(c, 0, sizeof *c);
    if (pg) {
        mk_pgstore_opts o = {.timeout_ms = 2000, .init = init};
        ck_assert_int_eq(mk_pgstore_open(where, MK_BYTES(MASTER, 32), &o,
                                         &c->p),
                         MK_OK);
        c->i = mk_pgstore_interface(c->p);
    } else {
        ck_assert_int_eq(init ? mk_sqlstore_open(db_path,
                                                 MK_BYTES(MASTER, 32), 2000,
                                                 &c->s)
                              : mk_sqlstore_open_existing(
                                    db_path, MK_BYTES(MASTER, 32), 2000,
                                    &c->s),
                         MK_OK);
        c->i = mk_sqlstore_interface(c->s);
    }
}

static void conn_close(conn *c)
{
    mk_sqlstore_close(c->s);
    mk_pgstore_close(c->p);
}

static mk_err add(conn *c, const mk_subscriber *s)
{
    return pg ? mk_pgstore_subscriber_add(c->p, s)
              : mk_sqlstore_subscriber_add(c->s, s);
}

static mk_err set_active(conn *c, const char *id, bool on)
{
    mk_bytes b = MK_BYTES(id, strlen(id));
    return pg ? mk_pgstore_subscriber_set_active(c->p, b, on)
              : mk_sqlstore_subscriber_set_active(c->s, b, on);
}

static mk_err rotate(conn *c, mk_ticket_key_info *k)
{
    uint64_t now = (uint64_t)time(NULL);
    return pg ? mk_pgstore_ticket_key_rotate(c->p, now, k)
              : mk_sqlstore_ticket_key_rotate(c->s, now, k);
}

static mk_err retire(conn *c, mk_bytes id)
{
    return pg ? mk_pgstore_ticket_key_retire(c->p, id)
              : mk_sqlstore_ticket_key_retire(c->s, id);
}

static mk_err count_cb(void *arg, const mk_record *r)
{
    (void)r;
    (*(size_t *)arg)++;
    return MK_OK;
}

/* The records the store lists (SQLite: after draining the node's
 * journal, as kmsctl does). */
static size_t records(conn *c)
{
    size_t n = 0, moved = 0;
    if (pg) {
        ck_assert_int_eq(mk_pgstore_records(c->p, 0, NULL, count_cb, &n),
                         MK_OK);
    } else {
        mk_node *node = NULL;
        ck_assert_int_eq(mk_sqlstore_node_open(c->s, NULL, &node), MK_OK);
        ck_assert_int_eq(mk_sqlstore_drain(c->s, node, 2000, SIZE_MAX,
                                           &moved),
                         MK_OK);
        ck_assert_int_eq(mk_sqlstore_records(c->s, 0, NULL, count_cb, &n),
                         MK_OK);
    }
    return n;
}

static mk_subscriber make_sub(const char *id, uint8_t seed, const char *impu)
{
    mk_subscriber s;
    memset(&s, 0, sizeof s);
    s.psk_id_len = strlen(id);
    memcpy(s.psk_id, id, s.psk_id_len);
    s.psk.n = 32;
    for (size_t i = 0; i < 32; i++)
        s.psk.b[i] = (uint8_t)(seed + 7 * i);
    snprintf(s.impu[s.n_impu++], MK_URI_MAX, "%s", impu);
    s.active = true;
    s.policy.forking_allowed = true;
    return s;
}

static mk_record make_rec(const char *sub)
{
    mk_record r;
    memset(&r, 0, sizeof r);
    r.time_unix = (uint64_t)time(NULL);
    r.service = 1;
    snprintf(r.subscriber, sizeof r.subscriber, "%s", sub);
    snprintf(r.initiator, sizeof r.initiator, "sip:%s@example.org", sub);
    snprintf(r.responder, sizeof r.responder, "[]");
    snprintf(r.outcome, sizeof r.outcome, "ok");
    return r;
}

static void digest_of(uint8_t d[32], unsigned n)
{
    uint64_t t = (uint64_t)time(NULL);
    for (int i = 0; i < 8; i++) /* T first, as kms/replay.c */
        d[i] = (uint8_t)(t >> (56 - 8 * i));
    for (int i = 8; i < 12; i++) /* n whole: no two n share a digest */
        d[i] = (uint8_t)(n >> (88 - 8 * i));
    for (int i = 12; i < 32; i++)
        d[i] = (uint8_t)(0x3c + i);
}

static conn A, B; /* two processes, or two nodes */

/* An answer's commit: the entry d (NULL: none, else until now + 600) with
 * rec, and `replayed` recorded instead should d be taken. */
static mk_err commit(conn *c, const uint8_t *d, uint64_t now,
                     const mk_record *rec, const mk_record *replayed)
{
    mk_answer_write w = {.digest = d,
                         .expires_unix = d != NULL ? now + 600 : 0,
                         .now_unix = now,
                         .record = rec,
                         .replayed = replayed};
    return c->i.answer_commit(c->i.ctx, &w);
}

static void setup(void)
{
    conn_open(&A, true);
    conn_open(&B, false);
}

static void teardown(void)
{
    conn_close(&A);
    conn_close(&B);
}

/* Count the records of outcome `want` (all when NULL); refusals carry
 * no SPIs. */
typedef struct outcome_count {
    const char *want;
    size_t n;
} outcome_count;

static mk_err outcome_cb(void *arg, const mk_record *r)
{
    outcome_count *o = arg;
    if (o->want == NULL || strcmp(r->outcome, o->want) == 0) {
        ck_assert(o->want == NULL || strcmp(o->want, "ok") == 0 ||
                  r->spis[0] == '\0');
        o->n++;
    }
    return MK_OK;
}

static size_t records_with(conn *c, const char *outcome)
{
    outcome_count o = {.want = outcome};
    (void)records(c); /* SQLite: the journal drained first */
    ck_assert_int_eq(pg ? mk_pgstore_records(c->p, 0, NULL, outcome_cb, &o)
                        : mk_sqlstore_records(c->s, 0, NULL, outcome_cb, &o),
                     MK_OK);
    return o.n;
}

/* A resolve's commit with the J = 0 note of ticket tid by `who` at now:
 * the answer's record has SPIs, the refusal's none. */
static mk_err resolve_commit(conn *c, unsigned n, const uint8_t tid[32],
                             const char *who, uint64_t now, uint64_t until,
                             uint32_t grace)
{
    uint8_t d[32];
    mk_record rec = make_rec("bob"), refused;
    rec.service = 2;
    rec.time_unix = now;
    snprintf(rec.responder, sizeof rec.responder, "[\"%s\"]", who);
    snprintf(rec.spis, sizeof rec.spis, "%08x", n);
    refused = rec;
    refused.spis[0] = '\0';
    snprintf(refused.outcome, sizeof refused.outcome, "%s",
             mk_err_name(MK_E_POLICY));
    mk_resolve_note note = {.ticket_id = tid,
                            .responder = MK_BYTES(who, strlen(who)),
                            .expires_unix = until,
                            .grace_seconds = grace,
                            .refused = &refused};
    digest_of(d, n);
    mk_answer_write w = {.digest = d,
                         .expires_unix = now + 600,
                         .now_unix = now,
                         .record = &rec,
                         .note = &note};
    return c->i.answer_commit(c->i.ctx, &w);
}

/* J = 0 (doc/profile.md §9.37), across the connections: the note goes
 * with the answer's commit, and a refused one records the refusal and
 * takes the replay entry, in the same transaction. */
static void j0_rule(uint64_t now)
{
    const char *bob = "sip:bob@example.org", *eve = "sip:eve@example.org";
    uint8_t t[3][32], d[32];
    mk_record rec = make_rec("bob");
    for (int k = 0; k < 3; k++) {
        memset(t[k], 0x5a, 32);
        t[k][0] = (uint8_t)now;
        t[k][1] = (uint8_t)k;
    }
    /* resolves in order: through connection c, message n, of ticket t[k]
     * by who at now + at, the note kept until now + until, the grace */
    static const struct {
        conn *c;
        unsigned n, k;
        bool eve;
        uint64_t at, until;
        uint32_t grace;
        mk_err want;
    } steps[] = {
        {&A, 100, 0, false, 0, 600, 30, MK_OK},
        /* the same responder within the grace, through the other conn */
        {&B, 101, 0, false, 1, 600, 30, MK_OK},
        {&B, 102, 0, true, 1, 600, 30, MK_E_POLICY},
        {&A, 103, 0, false, 31, 600, 30, MK_E_POLICY}, /* past the grace */
        /* a note is put only with its answer: a copy that lost the replay
         * race notes nothing, so another responder's first resolve
         * passes */
        {&B, 100, 1, true, 1, 600, 30, MK_E_MIKEY_TS},
        {&A, 104, 1, false, 1, 600, 30, MK_OK},
        /* a note at its ticket's end is dead: the next resolve replaces it */
        {&A, 105, 2, false, 1, 5, 0, MK_OK},
        {&B, 106, 2, true, 4, 600, 0, MK_E_POLICY},
        {&B, 107, 2, true, 5, 600, 0, MK_OK},
        {&A, 108, 2, false, 6, 600, 0, MK_E_POLICY},
    };
    size_t ok0 = records_with(&A, "ok");
    size_t no0 = records_with(&A, mk_err_name(MK_E_POLICY));
    size_t ok = 0, no = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        mk_err e = resolve_commit(steps[i].c, steps[i].n, t[steps[i].k],
                                  steps[i].eve ? eve : bob,
                                  now + steps[i].at, now + steps[i].until,
                                  steps[i].grace);
        ck_assert_msg(e == steps[i].want, "step %zu: %d, not %d", i, e,
                      steps[i].want);
        ok += e == MK_OK;
        no += e == MK_E_POLICY;
    }
    /* every answer recorded as it left: the refused ones as refusals */
    ck_assert_uint_eq(records_with(&A, "ok"), ok0 + ok);
    ck_assert_uint_eq(records_with(&A, mk_err_name(MK_E_POLICY)), no0 + no);
    /* a refusal took its replay entry */
    digest_of(d, 102);
    ck_assert_int_eq(commit(&A, d, now, &rec, NULL), MK_E_MIKEY_TS);
}

/* Two connections (two processes, or two nodes) resolve each of many
 * tickets at once with different responders: exactly one gets keys. */
#define RACE_ROUNDS 200
typedef struct racer {
    conn *c;
    const char *who;
    unsigned base;
    uint64_t now;
    pthread_barrier_t *go;
    mk_err rc[RACE_ROUNDS];
} racer;

static void race_tid(uint8_t tid[32], uint64_t now, unsigned round)
{
    memset(tid, 0xa5, 32);
    tid[0] = (uint8_t)now;
    tid[1] = (uint8_t)(round >> 8);
    tid[2] = (uint8_t)round;
}

static void *race_run(void *arg)
{
    racer *r = arg;
    for (unsigned i = 0; i < RACE_ROUNDS; i++) {
        uint8_t tid[32];
        race_tid(tid, r->now, i);
        pthread_barrier_wait(r->go);
        r->rc[i] = resolve_commit(r->c, r->base + i, tid, r->who, r->now,
                                  r->now + 600, 30);
    }
    return NULL;
}

static void j0_race(uint64_t now)
{
    pthread_barrier_t go;
    pthread_t t[2];
    racer r[2] = {
        {.c = &A, .who = "sip:bob@example.org", .base = 1000, .now = now},
        {.c = &B, .who = "sip:erin@example.org", .base = 2000, .now = now},
    };
    size_t ok0 = records_with(&A, "ok");
    ck_assert_int_eq(pthread_barrier_init(&go, NULL, 2), 0);
    for (int i = 0; i < 2; i++) {
        r[i].go = &go;
        ck_assert_int_eq(pthread_create(&t[i], NULL, race_run, &r[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    unsigned wins[2] = {0, 0};
    for (unsigned i = 0; i < RACE_ROUNDS; i++) {
        ck_assert_msg((r[0].rc[i] == MK_OK) != (r[1].rc[i] == MK_OK),
                      "round %u: %d and %d", i, r[0].rc[i], r[1].rc[i]);
        for (int k = 0; k < 2; k++) {
            ck_assert_msg(r[k].rc[i] == MK_OK || r[k].rc[i] == MK_E_POLICY,
                          "round %u: %d", i, r[k].rc[i]);
            wins[k] += r[k].rc[i] == MK_OK;
        }
    }
    ck_assert_uint_eq(records_with(&A, "ok"), ok0 + RACE_ROUNDS);
    printf("# J = 0 race: %u tickets, first resolves won %u / %u\n",
           RACE_ROUNDS, wins[0], wins[1]);
}

/* Everything in one test: the store is made once per run (a database
 * cannot be made anew per test by the program itself). */
START_TEST(test_interface)
{
    mk_subscriber alice = make_sub("alice", 1, "sip:alice@example.org");
    mk_subscriber bob = make_sub("bob", 2, "sip:bob@example.org");
    mk_subscriber got;
    mk_ticket_key_info k1, k2;
    mk_ticket_key tk;
    uint64_t now = (uint64_t)time(NULL);

    /* lookups: PSK back in clear, by id and by IMPU, from the other
     * connection */
    ck_assert_int_eq(add(&A, &alice), MK_OK);
    ck_assert_int_eq(add(&A, &bob), MK_OK);
    ck_assert_int_eq(add(&A, &alice), MK_E_EXISTS);
    ck_assert_int_eq(B.i.subscriber_by_psk_id(B.i.ctx,
                                              MK_BYTES("alice", 5), &got),
                     MK_OK);
    ck_assert(got.psk.n == 32 && memcmp(got.psk.b, alice.psk.b, 32) == 0);
    ck_assert(got.active && got.policy.forking_allowed);
    ck_assert_int_eq(B.i.subscriber_by_impu(
                         B.i.ctx, MK_BYTES("sip:bob@example.org", 19), &got),
                     MK_OK);
    ck_assert(got.psk_id_len == 3 && memcmp(got.psk_id, "bob", 3) == 0);
    ck_assert_int_eq(B.i.subscriber_by_psk_id(B.i.ctx, MK_BYTES("eve", 3),
                                              &got),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(B.i.subscriber_by_impu(
                         B.i.ctx, MK_BYTES("sip:eve@example.org", 19), &got),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(commit(&B, NULL, now, NULL, NULL), MK_OK);

    /* ticket keys */
    ck_assert_int_eq(rotate(&A, &k1), MK_OK);
    ck_assert_int_eq(B.i.ticket_key_active(B.i.ctx, &tk), MK_OK);
    ck_assert(tk.id_len == k1.id_len && memcmp(tk.id, k1.id, k1.id_len) == 0);
    ck_assert_int_eq(tk.key.n, 32);

    /* the replay entry: taken once across the connections; the loser
     * writes nothing, not even its record, unless it gives the record of
     * its Error 1: then that, in the same commit */
    size_t r0 = records(&A);
    size_t e0 = records_with(&A, mk_err_name(MK_E_MIKEY_TS));
    uint8_t d[32];
    digest_of(d, 1);
    mk_record rec = make_rec("alice"), replayed = make_rec("alice");
    snprintf(replayed.outcome, sizeof replayed.outcome, "%s",
             mk_err_name(MK_E_MIKEY_TS));
    ck_assert_int_eq(commit(&A, d, now, &rec, &replayed), MK_OK);
    ck_assert_int_eq(commit(&B, d, now, &rec, NULL), MK_E_MIKEY_TS);
    ck_assert_int_eq(commit(&A, d, now, &rec, NULL), MK_E_MIKEY_TS);
    ck_assert_int_eq(commit(&B, NULL, now, &rec, NULL), MK_OK);
    ck_assert_uint_eq(records(&A), r0 + 2);
    ck_assert_int_eq(commit(&B, d, now, &rec, &replayed), MK_E_MIKEY_TS);
    ck_assert_uint_eq(records(&A), r0 + 3);
    ck_assert_uint_eq(records_with(&A, mk_err_name(MK_E_MIKEY_TS)), e0 + 1);
    /* a replayed record goes with an entry only */
    ck_assert_int_eq(commit(&B, NULL, now, &rec, &replayed), MK_E_ARG);

    /* an operator change through A: B's cached rows are refused at its
     * next commit, nothing written; the next lookup reads the change */
    ck_assert_int_eq(B.i.subscriber_by_psk_id(B.i.ctx,
                                              MK_BYTES("alice", 5), &got),
                     MK_OK);
    digest_of(d, 2);
    ck_assert_int_eq(commit(&B, d, now, &rec, NULL),
                     MK_OK); /* armed now: the next lookup is cached */
    ck_assert_int_eq(B.i.subscriber_by_psk_id(B.i.ctx,
                                              MK_BYTES("alice", 5), &got),
                     MK_OK);
    ck_assert(got.active);
    ck_assert_int_eq(set_active(&A, "alice", false), MK_OK);
    size_t r1 = records(&A);
    digest_of(d, 3);
    ck_assert_int_eq(commit(&B, d, now, &rec, NULL),
                     MK_E_STALE);
    ck_assert_uint_eq(records(&A), r1);
    ck_assert_int_eq(B.i.subscriber_by_psk_id(B.i.ctx,
                                              MK_BYTES("alice", 5), &got),
                     MK_OK);
    ck_assert(!got.active);
    ck_assert_int_eq(commit(&B, d, now, &rec, NULL),
                     MK_OK); /* the rerun: the digest was not taken */
    ck_assert_uint_eq(records(&A), r1 + 1);

    /* ticket key rotated and retired through A: B's cached key is
     * refused, then not found */
    ck_assert_int_eq(B.i.ticket_key_by_id(B.i.ctx,
                                          MK_BYTES(k1.id, k1.id_len), &tk),
                     MK_OK);
    ck_assert_int_eq(commit(&B, NULL, now, &rec, NULL), MK_OK);
    ck_assert_int_eq(rotate(&A, &k2), MK_OK);
    ck_assert_int_eq(retire(&A, MK_BYTES(k1.id, k1.id_len)), MK_OK);
    ck_assert_int_eq(B.i.ticket_key_by_id(B.i.ctx,
                                          MK_BYTES(k1.id, k1.id_len), &tk),
                     MK_OK); /* from B's cache ... */
    ck_assert_int_eq(commit(&B, NULL, now, &rec, NULL),
                     MK_E_STALE); /* ... refused at the commit */
    ck_assert_int_eq(B.i.ticket_key_by_id(B.i.ctx,
                                          MK_BYTES(k1.id, k1.id_len), &tk),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(B.i.ticket_key_active(B.i.ctx, &tk), MK_OK);
    ck_assert(tk.id_len == k2.id_len && memcmp(tk.id, k2.id, k2.id_len) == 0);

    j0_rule(now);
    j0_race(now);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "sqlite") != 0 &&
                      strcmp(argv[1], "postgresql") != 0)) {
        fprintf(stderr, "usage: test_store_iface sqlite DIR | postgresql "
                        "URI\n");
        return 2;
    }
    pg = strcmp(argv[1], "postgresql") == 0;
    where = argv[2];
    if (pg && !mk_pgstore_built()) {
        printf("SKIP: %s\n", MK_PGSTORE_NOT_BUILT);
        return 77;
    }
    if (!pg)
        snprintf(db_path, sizeof db_path, "%s/kms.db", where);
    Suite *s = suite_create(pg ? "store interface (PostgreSQL)"
                               : "store interface (SQLite)");
    TCase *tc = tcase_create("interface");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_interface);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return mk_check_run(s);
}
