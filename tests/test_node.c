/* test_node.c - the node state (store/node.h): the replay cache (exact,
 * bounded, reclaimed, safe against clock jumps and lost entries), the
 * record journal and its drain into the store (exactly once across
 * kill -9), the generation check, the small tables, and what several
 * processes and threads see at once, including a process killed while it
 * holds the writer lock. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/node_int.h"
#include "store/store.h"
#include "lib/check_main.h"
#include "lib/tmpdir.h"

static char dir[64];
static char node_path[128];
static char db_path[128];

static const uint8_t MASTER[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                   12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                   23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void setup(void)
{
    mk_test_dir_make(dir, sizeof dir, "node");
    snprintf(node_path, sizeof node_path, "%s/n", dir);
    snprintf(db_path, sizeof db_path, "%s/kms.db", dir);
}

static void teardown(void)
{
    mk_test_dir_remove(dir);
}

static mk_node *open_node_with(uint64_t replay_max, uint64_t journal_max,
                               bool durable, mk_node_create create)
{
    mk_node_config c;
    mk_node *n = NULL;
    mk_node_config_defaults(&c);
    snprintf(c.path, sizeof c.path, "%s", node_path);
    if (replay_max)
        c.replay_max = replay_max;
    if (journal_max)
        c.journal_max = journal_max;
    c.kv_max = 8;
    c.durable = durable;
    ck_assert_int_eq(mk_node_open(&c, create, &n), MK_OK);
    return n;
}

static mk_node *open_node(void)
{
    return open_node_with(0, 0, false, MK_NODE_CREATE_FRESH);
}

static mk_node_status status(mk_node *n)
{
    mk_node_status st;
    ck_assert_int_eq(mk_node_status_get(n, &st), MK_OK);
    return st;
}

/* A digest as kms/replay.c makes it: T (unix, big-endian) first. */
static void digest(uint8_t d[32], uint64_t t, unsigned who, unsigned i)
{
    memset(d, 0x5a, 32);
    mk_node_put_u64(d, t);
    d[8] = (uint8_t)who;
    d[9] = (uint8_t)(i >> 16);
    d[10] = (uint8_t)(i >> 8);
    d[11] = (uint8_t)i;
}

static mk_record record(uint64_t t, const char *sub, unsigned i)
{
    mk_record r;
    memset(&r, 0, sizeof r);
    r.time_unix = t;
    r.service = 1;
    snprintf(r.subscriber, sizeof r.subscriber, "%s", sub);
    snprintf(r.initiator, sizeof r.initiator, "sip:%s@example.org", sub);
    snprintf(r.responder, sizeof r.responder, "sip:bob@example.org");
    snprintf(r.ticket_id, sizeof r.ticket_id, "%064x", i);
    r.valid_from = t;
    r.valid_to = t + 3600;
    snprintf(r.spis, sizeof r.spis, "%08x", i);
    snprintf(r.outcome, sizeof r.outcome, "ok");
    return r;
}

/* One answer: the message of T = t (skew 300) at `now`, with a record. */
static mk_err answer(mk_node *n, uint64_t t, uint64_t now, unsigned who,
                     unsigned i)
{
    uint8_t d[32];
    mk_record r = record(now, "a", i);
    mk_node_gen_seen seen;
    digest(d, t, who, i);
    mk_node_answer a = {.digest = d, .expires_unix = t + 301,
                        .now_unix = now, .record = &r};
    return mk_node_answer_commit(n, &a, &seen);
}

/* --- the replay cache --- */

START_TEST(test_replay_once)
{
    mk_node *n = open_node();
    ck_assert_int_eq(answer(n, 1000, 1000, 1, 1), MK_OK);
    ck_assert_int_eq(answer(n, 1000, 1000, 1, 1), MK_E_MIKEY_TS);
    ck_assert_str_eq(mk_err_last()->what, "replayed message");
    ck_assert_int_eq(answer(n, 1000, 1100, 1, 1), MK_E_MIKEY_TS);
    ck_assert_int_eq(answer(n, 1000, 1000, 1, 2), MK_OK);
    mk_node_status st = status(n);
    ck_assert_uint_eq(st.replay_entries, 2);
    /* a replay writes no record: one per accepted answer */
    ck_assert_uint_eq(st.journal_entries, 2);
    ck_assert_uint_eq(st.next_seq, 3);
    /* the refused answer at 1100 wrote nothing, the mark included (only
     * what commits can reclaim entries) */
    ck_assert_uint_eq(st.mark_unix, 1000);
    ck_assert_uint_eq(st.oldest_expiry, 1301);
    mk_node_close(n);
}
END_TEST

/* The clock runs ahead and comes back: a message whose entry was
 * reclaimed while it ran ahead is never accepted again (node.h, mark). */
START_TEST(test_clock_jump_cannot_bring_back_a_message)
{
    mk_node *n = open_node();
    ck_assert_int_eq(answer(n, 1000, 1000, 2, 1), MK_OK); /* expires 1301 */
    /* 400 s ahead: the entry is dead at the mark and reclaimed */
    ck_assert_int_eq(answer(n, 1400, 1400, 2, 2), MK_OK);
    mk_node_status st = status(n);
    ck_assert_uint_eq(st.mark_unix, 1400);
    ck_assert_uint_eq(st.replay_entries, 1);
    ck_assert_uint_eq(st.oldest_expiry, 1701);
    /* the clock is back at 1000: the first message again, and a fresh one
     * of the same second, are refused (Error 1), though the window of
     * the clock alone would take them */
    ck_assert_int_eq(answer(n, 1000, 1000, 2, 1), MK_E_MIKEY_TS);
    ck_assert_str_eq(mk_err_last()->what,
                     "message older than the replay mark");
    ck_assert_int_eq(answer(n, 1000, 1000, 2, 3), MK_E_MIKEY_TS);
    /* one whose entry could not have been reclaimed is fine */
    ck_assert_int_eq(answer(n, 1100, 1000, 2, 4), MK_OK);
    /* the mark never goes back */
    ck_assert_uint_eq(status(n).mark_unix, 1400);
    /* kmsctl replay prune with the clock an hour ahead: the same rule */
    uint64_t deleted = 0;
    ck_assert_int_eq(mk_node_replay_prune(n, 5000, &deleted), MK_OK);
    ck_assert_uint_eq(deleted, 2);
    ck_assert_int_eq(answer(n, 1400, 1400, 2, 2), MK_E_MIKEY_TS);
    ck_assert_int_eq(answer(n, 4800, 5000, 2, 5), MK_OK);
    mk_node_close(n);
}
END_TEST

START_TEST(test_prune_and_reclaim)
{
    mk_node *n = open_node();
    uint8_t d[32];
    mk_node_gen_seen seen;
    /* 25 000 entries without records: 20 000 expire at 100, 5 000 at 1000 */
    for (unsigned i = 0; i < 25000; i++) {
        digest(d, i < 20000 ? 10 : 600, 3, i);
        mk_node_answer a = {.digest = d,
                            .expires_unix = i < 20000 ? 100 : 1000,
                            .now_unix = 50};
        ck_assert_int_eq(mk_node_answer_commit(n, &a, &seen), MK_OK);
    }
    uint64_t deleted = 1;
    ck_assert_int_eq(mk_node_replay_prune(n, 99, &deleted), MK_OK);
    ck_assert_uint_eq(deleted, 0);
    /* more than one batch of 10 000 */
    ck_assert_int_eq(mk_node_replay_prune(n, 500, &deleted), MK_OK);
    ck_assert_uint_eq(deleted, 20000);
    ck_assert_uint_eq(status(n).replay_entries, 5000);
    /* answers reclaim dead entries by themselves, several each, so the
     * cache shrinks back after a burst without an operator */
    for (unsigned i = 0; i < 1250; i++)
        ck_assert_int_eq(answer(n, 1500, 1500, 4, i), MK_OK);
    ck_assert_uint_eq(status(n).replay_entries, 1250);
    ck_assert_uint_eq(status(n).oldest_expiry, 1801);
    mk_node_close(n);
}
END_TEST

/* Bounded: a full cache answers 503 (MK_E_UNAVAILABLE) and writes
 * nothing; once entries expire it takes answers again. */
START_TEST(test_replay_cache_full)
{
    mk_node *n = open_node_with(10, 0, false, MK_NODE_CREATE_FRESH);
    for (unsigned i = 0; i < 10; i++)
        ck_assert_int_eq(answer(n, 1000, 1000, 5, i), MK_OK);
    ck_assert_int_eq(answer(n, 1000, 1000, 5, 10), MK_E_UNAVAILABLE);
    ck_assert_str_eq(mk_err_last()->what, "replay cache full");
    ck_assert_int_eq(mk_err_http_status(MK_E_UNAVAILABLE), 503);
    mk_node_status st = status(n);
    ck_assert_uint_eq(st.replay_entries, 10);
    ck_assert_uint_eq(st.journal_entries, 10); /* nothing of it written */
    /* a copy of an answered message is still a replay, not a 503 */
    ck_assert_int_eq(answer(n, 1000, 1000, 5, 3), MK_E_MIKEY_TS);
    /* expired at 1301: reclaimed by the next answer */
    ck_assert_int_eq(answer(n, 1301, 1301, 5, 10), MK_OK);
    ck_assert_uint_le(status(n).replay_entries, 10);
    mk_node_close(n);
}
END_TEST

/* --- the record journal --- */

START_TEST(test_journal_full_and_atomic)
{
    mk_node *n = open_node_with(0, 10, false, MK_NODE_CREATE_FRESH);
    for (unsigned i = 0; i < 10; i++)
        ck_assert_int_eq(answer(n, 1000, 1000, 6, i), MK_OK);
    /* full: the answer's replay entry is not taken either */
    ck_assert_int_eq(answer(n, 1000, 1000, 6, 10), MK_E_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(mk_err_last()->what, "record journal full"));
    mk_node_status st = status(n);
    ck_assert_uint_eq(st.replay_entries, 10);
    ck_assert_uint_eq(st.journal_entries, 10);
    /* a record that cannot be encoded: nothing written */
    mk_node_close(n);
    n = open_node();
    uint8_t d[32];
    mk_record bad = record(1, "x", 1);
    memset(bad.outcome, 'x', sizeof bad.outcome);
    digest(d, 1000, 6, 11);
    mk_node_answer a = {.digest = d, .expires_unix = 1301, .now_unix = 1000,
                        .record = &bad};
    mk_node_gen_seen seen;
    ck_assert_int_eq(mk_node_answer_commit(n, &a, &seen), MK_E_ARG);
    ck_assert_uint_eq(status(n).replay_entries, 10);
    mk_node_close(n);
}
END_TEST

START_TEST(test_record_encoding_round_trip)
{
    uint8_t b[MK_NODE_RECORD_MAX];
    size_t len = 0;
    mk_record r = record(123456789, "alice", 42), back;
    /* every field at its longest */
    memset(r.subscriber, 's', sizeof r.subscriber - 1);
    memset(r.initiator, 'i', sizeof r.initiator - 1);
    memset(r.responder, 'r', sizeof r.responder - 1);
    memset(r.spis, '0', sizeof r.spis - 1);
    memset(r.outcome, 'o', sizeof r.outcome - 1);
    ck_assert_int_eq(mk_node_record_encode(&r, b, sizeof b, &len), MK_OK);
    ck_assert_int_eq(mk_node_record_decode(MK_BYTES(b, len), &back), MK_OK);
    ck_assert_mem_eq(&back, &r, sizeof r);
    /* truncated anywhere, or longer: refused, never read past */
    for (size_t i = 0; i < len; i++)
        ck_assert_int_ne(mk_node_record_decode(MK_BYTES(b, i), &back), MK_OK);
    b[len] = 0;
    ck_assert_int_eq(mk_node_record_decode(MK_BYTES(b, len + 1), &back),
                     MK_E_TRAILING);
    /* a field length over its mk_record array */
    uint8_t long_field[64] = {1};
    mk_buf w;
    mk_buf_init(&w, long_field, sizeof long_field);
    w.n = 1 + 8 + 1 + 8 + 8;
    ck_assert_int_eq(mk_buf_u16(&w, 0xffff), MK_OK);
    ck_assert_int_eq(mk_node_record_decode(MK_BYTES(long_field, w.n), &back),
                     MK_E_LENGTH);
}
END_TEST

/* --- the drain into the store --- */

static sqlite3_int64 count_records(void)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*), "
                                            "count(DISTINCT ticket_id) FROM "
                                            "records",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    sqlite3_int64 all = sqlite3_column_int64(st, 0);
    /* every record once: as many distinct ticket ids as rows */
    ck_assert_int_eq(sqlite3_column_int64(st, 1), all);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return all;
}

static mk_sqlstore *store_with_node(mk_node **n)
{
    mk_sqlstore *s = NULL;
    mk_node_config c;
    mk_node_config_defaults(&c);
    snprintf(c.path, sizeof c.path, "%s", node_path);
    ck_assert_int_eq(mk_sqlstore_open(db_path, MK_BYTES(MASTER, 32), 5000,
                                      &s),
                     MK_OK);
    ck_assert_int_eq(mk_sqlstore_node_open(s, &c, n), MK_OK);
    return s;
}

/* A drainer killed at any moment neither loses nor doubles a record: the
 * next drain carries on from the store's own "drained" mark. */
START_TEST(test_drain_exactly_once_across_kill)
{
    mk_node *n = NULL;
    mk_sqlstore *s = store_with_node(&n);
    const unsigned total = 6000;
    for (unsigned i = 0; i < total; i++)
        ck_assert_int_eq(answer(n, 1000, 1000, 7, i), MK_OK);
    mk_sqlstore_close(s);
    srand(12345);
    for (int round = 0; round < 12; round++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            mk_node *cn = NULL;
            mk_sqlstore *cs = store_with_node(&cn);
            size_t moved = 0;
            /* small steps, so that the kill lands between them too */
            for (;;)
                if (mk_sqlstore_drain(cs, cn, 1000, 300, &moved) != MK_OK ||
                    moved == 0)
                    break;
            _exit(0);
        }
        struct timespec d = {0, (long)(rand() % 60) * 1000000L};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        int st = 0;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    }
    s = store_with_node(&n);
    size_t moved = 0;
    ck_assert_int_eq(mk_sqlstore_drain(s, n, 1000, SIZE_MAX, &moved), MK_OK);
    ck_assert_int_eq(count_records(), total);
    ck_assert_uint_eq(status(n).journal_entries, 0);
    mk_sqlstore_close(s);
}
END_TEST

/* --- processes, threads, kill -9 --- */

/* A process killed without warning loses none of the commits that had
 * returned (they are in the page cache), and the node opens clean. */
START_TEST(test_killed_process_keeps_its_commits)
{
    mk_node *n = open_node();
    mk_node_close(n);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        mk_node *cn = open_node();
        for (unsigned i = 0;; i++) {
            if (answer(cn, 1000, 1000, 8, i) != MK_OK)
                _exit(2);
            if (write(fds[1], "x", 1) != 1)
                _exit(3);
        }
    }
    close(fds[1]);
    char c;
    uint64_t acked = 0;
    while (acked < 3000 && read(fds[0], &c, 1) == 1)
        acked++;
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFSIGNALED(st));
    while (read(fds[0], &c, 1) == 1)
        acked++;
    close(fds[0]);
    n = open_node();
    mk_node_status s = status(n);
    /* every acknowledged commit, and at most the one in flight */
    ck_assert_uint_ge(s.journal_entries, acked);
    ck_assert_uint_le(s.journal_entries, acked + 1);
    ck_assert_uint_eq(s.replay_entries, s.journal_entries);
    ck_assert_uint_eq(s.next_seq, s.journal_entries + 1);
    ck_assert_int_eq(answer(n, 1000, 1000, 8, 0), MK_E_MIKEY_TS);
    ck_assert_int_eq(answer(n, 1000, 1000, 9, 0), MK_OK);
    mk_node_close(n);
}
END_TEST

/* A process killed while it holds LMDB's writer lock, in the middle of a
 * write transaction: the next writer recovers the lock (a robust mutex)
 * within a moment, and nothing of the dead transaction is there. */
START_TEST(test_killed_inside_a_write_transaction)
{
    mk_node *n = open_node();
    ck_assert_int_eq(answer(n, 1000, 1000, 10, 0), MK_OK);
    mk_node_close(n);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        mk_node *cn = open_node();
        MDB_txn *txn = NULL;
        uint8_t d[32], e[8];
        digest(d, 1000, 10, 1);
        mk_node_put_u64(e, 1301);
        MDB_val k = {32, d}, v = {8, e};
        if (mk_node_txn(cn, false, &txn) != MK_OK ||
            mdb_put(txn, cn->replay, &k, &v, 0) != MDB_SUCCESS ||
            write(fds[1], "x", 1) != 1)
            _exit(2);
        pause(); /* killed here, the lock held */
        _exit(3);
    }
    close(fds[1]);
    char c;
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    close(fds[0]);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    n = open_node();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* the dead transaction's entry is not there: this one is new */
    ck_assert_int_eq(answer(n, 1000, 1000, 10, 1), MK_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 2);
    ck_assert_uint_eq(status(n).replay_entries, 2);
    mk_node_close(n);
}
END_TEST

/* A process that opens the node while another one is inside a write
 * transaction waits for it. Opening must leave LMDB's locks of the lock
 * file alone: a descriptor of that file opened and closed by a process
 * drops its fcntl(2) locks, the next opener then takes itself for the
 * only user and resets the writer mutex under the running transaction
 * (two answers on one base: a record lost). */
START_TEST(test_open_waits_for_a_running_writer)
{
    mk_node *n = open_node();
    ck_assert_int_eq(answer(n, 1000, 1000, 11, 0), MK_OK);
    MDB_txn *txn = NULL;
    ck_assert_int_eq(mk_node_txn(n, false, &txn), MK_OK);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        mk_node *cn = open_node();
        int ok = answer(cn, 1000, 1000, 11, 1) == MK_OK;
        _exit(write(fds[1], ok ? "y" : "n", 1) == 1 ? 0 : 2);
    }
    close(fds[1]);
    struct timeval tv = {0, 400 * 1000};
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fds[0], &rd);
    /* the child must still be waiting for the writer lock */
    ck_assert_int_eq(select(fds[0] + 1, &rd, NULL, NULL, &tv), 0);
    ck_assert_int_eq(mk_node_commit(txn, "test"), MK_OK);
    char c = 0;
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    close(fds[0]);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_uint_eq(status(n).replay_entries, 2);
    ck_assert_uint_eq(status(n).journal_entries, 2);
    mk_node_close(n);
}
END_TEST

/* Token buckets (doc/profile.md §12.2): a burst, then refusals with the
 * time to the next token, refilled at the rate, never above the burst,
 * one bucket per name, shared with another process. */
START_TEST(test_rate_buckets)
{
    mk_node *n = open_node();
    uint32_t wait = 0;
    const uint64_t t0 = 1796230000000ull; /* ms */
    mk_bytes a = MK_BYTES("address 127.0.0.2", 17);
    mk_bytes b = MK_BYTES("identity alice", 14);
    /* 0.5 a second, bursts of 3 */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(mk_node_rate_take(n, a, 500, 3, t0, &wait), MK_OK);
    ck_assert_int_eq(mk_node_rate_take(n, a, 500, 3, t0, &wait),
                     MK_E_RATE_LIMITED);
    ck_assert_uint_eq(wait, 2); /* one token every 2 s */
    /* another name has its own bucket */
    ck_assert_int_eq(mk_node_rate_take(n, b, 500, 3, t0, &wait), MK_OK);
    /* 1.5 s later: 0.75 of a token, still refused, 1 s to wait */
    ck_assert_int_eq(mk_node_rate_take(n, a, 500, 3, t0 + 1500, &wait),
                     MK_E_RATE_LIMITED);
    ck_assert_uint_eq(wait, 1);
    /* 2 s after the start: one token */
    ck_assert_int_eq(mk_node_rate_take(n, a, 500, 3, t0 + 2000, &wait),
                     MK_OK);
    ck_assert_int_eq(mk_node_rate_take(n, a, 500, 3, t0 + 2000, &wait),
                     MK_E_RATE_LIMITED);
    /* an hour later: full again, never more than the burst */
    uint64_t t1 = t0 + 3600 * 1000;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(mk_node_rate_take(n, a, 500, 3, t1, &wait), MK_OK);
    ck_assert_int_eq(mk_node_rate_take(n, a, 500, 3, t1, &wait),
                     MK_E_RATE_LIMITED);
    /* a clock that went back refills nothing */
    ck_assert_int_eq(mk_node_rate_take(n, a, 500, 3, t0, &wait),
                     MK_E_RATE_LIMITED);
    /* another process sees the same bucket: b has 2 tokens left */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mk_node *cn = open_node();
        uint32_t w2 = 0;
        int ok = mk_node_rate_take(cn, b, 500, 3, t0, &w2) == MK_OK &&
                 mk_node_rate_take(cn, b, 500, 3, t0, &w2) == MK_OK &&
                 mk_node_rate_take(cn, b, 500, 3, t0, &w2) ==
                     MK_E_RATE_LIMITED;
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_int_eq(mk_node_rate_take(n, b, 500, 3, t0, &wait),
                     MK_E_RATE_LIMITED);
    ck_assert_int_eq(mk_node_rate_take(n, b, 0, 3, t0, &wait), MK_E_ARG);
    mk_node_close(n);
}
END_TEST

/* Many copies of one message at the same moment, from 4 processes of 4
 * threads each: exactly one commit wins, every other one is a replay, and
 * only the winner's record is written. */
#define RACE_PROCS 4
#define RACE_THREADS 4

typedef struct racer {
    mk_node *n;
    pthread_barrier_t *go;
    mk_err result;
} racer;

static void *race_main(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->go);
    r->result = answer(r->n, 1000, 1000, 77, 77);
    return NULL;
}

START_TEST(test_same_message_raced_by_processes_and_threads)
{
    mk_node *n = open_node();
    mk_node_close(n);
    int start[2], res[2];
    ck_assert_int_eq(pipe(start), 0);
    ck_assert_int_eq(pipe(res), 0);
    pid_t pids[RACE_PROCS];
    for (int p = 0; p < RACE_PROCS; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            close(start[1]);
            close(res[0]);
            mk_node *cn = open_node();
            pthread_barrier_t go;
            pthread_t th[RACE_THREADS];
            racer r[RACE_THREADS];
            pthread_barrier_init(&go, NULL, RACE_THREADS + 1);
            for (int i = 0; i < RACE_THREADS; i++) {
                r[i] = (racer){cn, &go, MK_E_INTERNAL};
                pthread_create(&th[i], NULL, race_main, &r[i]);
            }
            char c;
            /* every process is ready; one byte starts all at once (EOF) */
            if (read(start[0], &c, 1) != 0)
                _exit(9);
            pthread_barrier_wait(&go);
            char out[RACE_THREADS];
            for (int i = 0; i < RACE_THREADS; i++) {
                pthread_join(th[i], NULL);
                out[i] = r[i].result == MK_OK          ? 'w'
                         : r[i].result == MK_E_MIKEY_TS ? 'r'
                                                        : '?';
            }
            if (write(res[1], out, sizeof out) != (ssize_t)sizeof out)
                _exit(8);
            _exit(0);
        }
    }
    close(start[0]);
    close(res[1]);
    usleep(200 * 1000); /* let every process open the node */
    close(start[1]);    /* go */
    char all[RACE_PROCS * RACE_THREADS];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof all &&
           (k = read(res[0], all + got, sizeof all - got)) > 0)
        got += (size_t)k;
    close(res[0]);
    for (int p = 0; p < RACE_PROCS; p++) {
        int st = 0;
        ck_assert_int_eq(waitpid(pids[p], &st, 0), pids[p]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    ck_assert_uint_eq(got, sizeof all);
    int wins = 0, replays = 0;
    for (size_t i = 0; i < sizeof all; i++) {
        wins += all[i] == 'w';
        replays += all[i] == 'r';
    }
    ck_assert_int_eq(wins, 1);
    ck_assert_int_eq(replays, RACE_PROCS * RACE_THREADS - 1);
    n = open_node();
    ck_assert_uint_eq(status(n).journal_entries, 1);
    mk_node_close(n);
}
END_TEST

typedef struct burst {
    mk_node *n;
    unsigned who;
    int rc;
} burst;

static void *burst_main(void *arg)
{
    burst *b = arg;
    b->rc = 0;
    for (unsigned i = 0; i < 300; i++)
        if (answer(b->n, 1000, 1000, b->who, i) != MK_OK) {
            b->rc = 1;
            return NULL;
        }
    return NULL;
}

/* Durable: each commit is followed by an fdatasync that the threads
 * committing meanwhile share; every answer of every thread is there. */
START_TEST(test_durable_threads)
{
    mk_node *n = open_node_with(0, 0, true, MK_NODE_CREATE_FRESH);
    pthread_t th[8];
    burst b[8];
    for (unsigned i = 0; i < 8; i++) {
        b[i] = (burst){n, 30 + i, 1};
        ck_assert_int_eq(pthread_create(&th[i], NULL, burst_main, &b[i]), 0);
    }
    for (unsigned i = 0; i < 8; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(b[i].rc, 0);
    }
    mk_node_status st = status(n);
    ck_assert(st.durable);
    ck_assert_uint_eq(st.journal_entries, 8 * 300);
    ck_assert_uint_le(n->synced, n->commits);
    ck_assert_uint_eq(n->synced, n->commits);
    /* this process cannot open the same file with other settings */
    mk_node_config c;
    mk_node *again = NULL;
    mk_node_config_defaults(&c);
    snprintf(c.path, sizeof c.path, "%s", node_path);
    ck_assert_int_eq(mk_node_open(&c, MK_NODE_CREATE_FRESH, &again),
                     MK_E_CONFIG);
    mk_node_close(n);
}
END_TEST

typedef struct group_racer {
    mk_node *n;
    unsigned accepted, replayed, other;
    const char *replay_what; /* the detail a replayed copy was given */
} group_racer;

static void *group_race_main(void *arg)
{
    group_racer *r = arg;
    for (unsigned i = 0; i < 200; i++) {
        mk_err e = answer(r->n, 1000, 1000, 77, i);
        if (e == MK_OK) {
            r->accepted++;
        } else if (e == MK_E_MIKEY_TS) {
            r->replayed++;
            r->replay_what = mk_err_last()->what;
        } else {
            r->other++;
        }
    }
    return NULL;
}

/* Durable answers are committed in groups, each answer in a nested
 * transaction of one write transaction (node_answer.c): 8 threads sending
 * the same 200 messages at once, so that copies of one message meet in
 * one group. Exactly one copy of each is accepted, every other one is a
 * replay with its own detail in its own thread, and the journal holds
 * one record per accepted answer; the groups synced every commit. */
START_TEST(test_durable_group_race)
{
    mk_node *n = open_node_with(0, 0, true, MK_NODE_CREATE_FRESH);
    pthread_t th[8];
    group_racer r[8];
    for (unsigned i = 0; i < 8; i++) {
        r[i] = (group_racer){.n = n};
        ck_assert_int_eq(
            pthread_create(&th[i], NULL, group_race_main, &r[i]), 0);
    }
    unsigned accepted = 0, replayed = 0;
    for (unsigned i = 0; i < 8; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_uint_eq(r[i].other, 0);
        accepted += r[i].accepted;
        replayed += r[i].replayed;
        if (r[i].replayed > 0)
            ck_assert_str_eq(r[i].replay_what, "replayed message");
    }
    ck_assert_uint_eq(accepted, 200);
    ck_assert_uint_eq(replayed, 7 * 200);
    mk_node_status st = status(n);
    ck_assert_uint_eq(st.replay_entries, 200);
    ck_assert_uint_eq(st.journal_entries, 200);
    ck_assert_uint_eq(st.next_seq, 201);
    ck_assert_uint_eq(n->synced, n->commits);
    mk_node_close(n);
}
END_TEST

/* KiB of the node file resident in this process (its Rss in smaps). */
static unsigned long node_rss_kib(void)
{
    struct stat sb;
    char line[512];
    unsigned long total = 0, kib;
    bool in_node = false;
    ck_assert_int_eq(stat(node_path, &sb), 0);
    FILE *f = fopen("/proc/self/smaps", "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long start, end, off, ino;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %*4s %lx %x:%x %lu", &start, &end, &off,
                   &maj, &min, &ino) == 6)
            in_node = ino == (unsigned long)sb.st_ino;
        else if (in_node && sscanf(line, "Rss: %lu kB", &kib) == 1)
            total += kib;
    }
    fclose(f);
    return total;
}

/* The pages of the map an answer touched count in the process's memory
 * until mk_node_release_pages (the maintenance round) drops them; they
 * stay in the file and the page cache, and the next reads find every
 * entry. (It found no map to release before: LMDB's me_mapaddr is NULL
 * without MDB_FIXEDMAP.) */
START_TEST(test_release_pages)
{
    mk_node *n = open_node();
    for (unsigned i = 0; i < 2000; i++)
        ck_assert_int_eq(answer(n, 1000, 1000, 5, i), MK_OK);
    unsigned long before = node_rss_kib();
    ck_assert_uint_gt(before, 64);
    mk_node_release_pages(n);
    unsigned long after = node_rss_kib();
    ck_assert_msg(after < before / 4, "%lu KiB of the node resident after "
                  "the release, %lu before", after, before);
    ck_assert_int_eq(answer(n, 1000, 1000, 5, 7), MK_E_MIKEY_TS);
    ck_assert_uint_eq(status(n).journal_entries, 2000);
    mk_node_close(n);
}
END_TEST

/* --- restarts: lost entries are assumed, never ignored --- */

/* A restart of the machine: PATH-boot names another boot. */
static void pretend_reboot(void)
{
    char p[sizeof node_path + 8];
    snprintf(p, sizeof p, "%s-boot", node_path);
    FILE *f = fopen(p, "r+");
    ck_assert_ptr_nonnull(f);
    char text[256] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    ck_assert_uint_gt(n, 0);
    ck_assert_ptr_nonnull(strstr(text, "boot_id="));
    text[8] = text[8] == 'x' ? 'y' : 'x'; /* another boot id */
    rewind(f);
    ck_assert_uint_eq(fwrite(text, 1, n, f), n);
    fclose(f);
}

/* After a restart of the machine, a file that a non-durable process used
 * is set aside (it may be inconsistent and miss its last commits), a new
 * one is made with the mark at now + skew: every message older than the
 * restart is refused, whatever the old cache held. Its undrained records
 * are salvaged into the store exactly once. After durable processes only,
 * the file is kept and nothing needs refusing. */
START_TEST(test_restart_rule)
{
    uint64_t now = (uint64_t)time(NULL);
    mk_node *n = NULL;
    mk_sqlstore *s = store_with_node(&n);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_int_eq(answer(n, now - 10, now - 10, 11, i), MK_OK);
    ck_assert_uint_eq(status(n).floor_unix, 0);
    mk_sqlstore_close(s); /* the last reference: the node is closed */
    pretend_reboot();
    s = store_with_node(&n);
    mk_node_status st = status(n);
    ck_assert(st.floor_raised_now);
    ck_assert_uint_ge(st.floor_unix, now + 300);
    ck_assert_uint_eq(st.mark_unix, st.floor_unix);
    ck_assert_uint_eq(st.journal_entries, 0); /* a new file */
    ck_assert_str_ne(st.set_aside, "");
    struct stat sb;
    ck_assert_int_eq(stat(st.set_aside, &sb), 0);
    /* a message made before the restart: refused; one made after: fine */
    ck_assert_int_eq(answer(n, now - 5, now, 11, 10), MK_E_MIKEY_TS);
    ck_assert_int_eq(answer(n, now + 2, now + 2, 11, 11), MK_OK);
    /* the old file's five records, moved into the store once */
    mk_node_config c;
    mk_node *old = NULL;
    size_t moved = 0;
    mk_node_config_defaults(&c);
    c.replay_max = c.journal_max = c.kv_max = 0;
    ck_assert_uint_lt(strlen(st.set_aside), sizeof c.path);
    memcpy(c.path, st.set_aside, strlen(st.set_aside) + 1);
    ck_assert_int_eq(mk_node_open(&c, MK_NODE_OPEN_AS_IS, &old), MK_OK);
    ck_assert_int_eq(mk_sqlstore_drain(s, old, 1000, SIZE_MAX, &moved), MK_OK);
    ck_assert_uint_eq(moved, 5);
    ck_assert_int_eq(mk_sqlstore_drain(s, old, 1000, SIZE_MAX, &moved), MK_OK);
    ck_assert_uint_eq(moved, 0);
    mk_node_close(old);
    ck_assert_int_eq(count_records(), 5);
    /* the same boot again: nothing set aside */
    mk_sqlstore_close(s);
    s = store_with_node(&n);
    ck_assert_str_eq(status(n).set_aside, "");
    ck_assert(!status(n).floor_raised_now);
    mk_sqlstore_close(s);

    /* durable processes only: the file is kept after a restart */
    char p[sizeof node_path + 8];
    static const char *const sides[] = {"", "-lock", "-drain", "-stats",
                                        "-boot"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s%s", node_path, sides[i]);
        ck_assert_int_eq(unlink(p), 0);
    }
    n = open_node_with(0, 0, true, MK_NODE_CREATE_FRESH);
    ck_assert_int_eq(answer(n, now - 10, now - 10, 12, 1), MK_OK);
    mk_node_close(n);
    pretend_reboot();
    n = open_node_with(0, 0, true, MK_NODE_CREATE_FRESH);
    ck_assert(!status(n).floor_raised_now);
    ck_assert_str_eq(status(n).set_aside, "");
    ck_assert_uint_eq(status(n).replay_entries, 1);
    ck_assert_int_eq(answer(n, now - 5, now, 12, 2), MK_OK);
    mk_node_close(n);
}
END_TEST

/* A node file that is missing where a store has answered before may have
 * held entries: recreated with the restart rule; a store that never
 * answered gets a fresh one. */
START_TEST(test_missing_node_file)
{
    uint64_t now = (uint64_t)time(NULL);
    mk_node *n = NULL;
    mk_sqlstore *s = NULL;
    ck_assert_int_eq(mk_sqlstore_open(db_path, MK_BYTES(MASTER, 32), 5000,
                                      &s),
                     MK_OK);
    ck_assert_int_eq(mk_sqlstore_node_open(s, NULL, &n), MK_OK);
    ck_assert(!status(n).floor_raised_now);
    ck_assert_int_eq(answer(n, now - 5, now, 13, 1), MK_OK);
    size_t moved = 0;
    ck_assert_int_eq(mk_sqlstore_drain(s, n, 1000, SIZE_MAX, &moved), MK_OK);
    ck_assert_uint_eq(moved, 1);
    mk_sqlstore_close(s);
    char path[160];
    ck_assert_int_eq(mk_node_default_path(db_path, path, sizeof path), MK_OK);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(mk_sqlstore_open(db_path, MK_BYTES(MASTER, 32), 5000,
                                      &s),
                     MK_OK);
    ck_assert_int_eq(mk_sqlstore_node_open(s, NULL, &n), MK_OK);
    mk_node_status st = status(n);
    ck_assert(st.floor_raised_now);
    /* the entry of that answer is gone with the file; its copy is still
     * refused */
    ck_assert_int_eq(answer(n, now - 5, now, 13, 1), MK_E_MIKEY_TS);
    mk_sqlstore_close(s);
}
END_TEST

/* After fork() a child opens the node again (LMDB must not be used across
 * fork); the parent's handle stays the parent's. */
START_TEST(test_fork_opens_again)
{
    mk_node *n = open_node();
    ck_assert_int_eq(answer(n, 1000, 1000, 14, 1), MK_OK);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mk_node *cn = open_node();
        int rc = cn != n && answer(cn, 1000, 1000, 14, 1) == MK_E_MIKEY_TS &&
                         answer(cn, 1000, 1000, 14, 2) == MK_OK
                     ? 0
                     : 1;
        mk_node_close(cn);
        _exit(rc);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_int_eq(answer(n, 1000, 1000, 14, 2), MK_E_MIKEY_TS);
    mk_node_release_pages(n); /* reads map the pages again */
    ck_assert_uint_eq(status(n).replay_entries, 2);
    mk_node_close(n);
}
END_TEST

/* --- the generation of the store's rows --- */

static mk_err gen_commit(mk_node *n, bool used, int64_t ug, bool fresh,
                         int64_t fg, mk_node_gen_seen *seen)
{
    mk_record r = record(1, "g", 1);
    mk_node_answer a = {.now_unix = 1, .record = &r, .used = used,
                        .used_gen = ug, .fresh = fresh, .fresh_gen = fg};
    return mk_node_answer_commit(n, &a, seen);
}

START_TEST(test_generation)
{
    mk_node *n = open_node();
    mk_node_gen_seen seen;
    /* no generation yet: rows from a cache cannot be checked */
    ck_assert_int_eq(gen_commit(n, true, 5, false, 0, &seen), MK_E_STALE);
    ck_assert(seen.read && !seen.known);
    /* a fresh read publishes its generation */
    ck_assert_int_eq(gen_commit(n, false, 0, true, 5, &seen), MK_OK);
    ck_assert(seen.known);
    ck_assert_int_eq(seen.gen, 5);
    ck_assert_int_eq(gen_commit(n, true, 5, false, 0, &seen), MK_OK);
    /* an operator's change published: the old rows are stale */
    ck_assert_int_eq(mk_node_publish_gen(n, 7, false), MK_OK);
    uint64_t journal = status(n).journal_entries;
    ck_assert_int_eq(gen_commit(n, true, 5, false, 0, &seen), MK_E_STALE);
    ck_assert_int_eq(seen.gen, 7);
    /* a fresh read made before the change cannot take it back */
    ck_assert_int_eq(gen_commit(n, false, 0, true, 6, &seen), MK_E_STALE);
    ck_assert_int_eq(status(n).gen, 7);
    ck_assert_uint_eq(status(n).journal_entries, journal); /* none written */
    /* rows of two generations in one answer are never current (and the
     * aborted commit published nothing) */
    ck_assert_int_eq(gen_commit(n, true, 7, true, 8, &seen), MK_E_STALE);
    ck_assert_int_eq(status(n).gen, 7);
    ck_assert_int_eq(gen_commit(n, true, 8, true, 8, &seen), MK_OK);
    /* raising only, unless a lower one is asked for (a restored store) */
    ck_assert_int_eq(mk_node_publish_gen(n, 3, false), MK_OK);
    ck_assert_int_eq(status(n).gen, 8);
    ck_assert_int_eq(mk_node_publish_gen(n, 3, true), MK_OK);
    ck_assert_int_eq(status(n).gen, 3);
    /* a check without any write leaves nothing behind */
    mk_node_answer a = {.now_unix = 1, .used = true, .used_gen = 3};
    ck_assert_int_eq(mk_node_answer_commit(n, &a, &seen), MK_OK);
    mk_node_close(n);
}
END_TEST

/* --- small tables --- */

static mk_err add_one(void *arg, bool found, mk_bytes cur, uint64_t exp,
                      uint8_t *out, size_t *out_len, uint64_t *expires)
{
    (void)arg;
    (void)exp;
    uint8_t v = found && cur.n == 1 ? cur.p[0] : 0;
    out[0] = (uint8_t)(v + 1);
    *out_len = 1;
    *expires = 2000;
    return MK_OK;
}

START_TEST(test_kv_tables)
{
    mk_node *n = open_node(); /* kv_max 8 */
    const mk_bytes k = MK_BYTES("key", 3);
    uint8_t v[MK_NODE_KV_VAL_MAX];
    size_t len = 0;
    uint64_t exp = 0;
    ck_assert_int_eq(mk_node_kv_get(n, MK_NODE_KV_NONCE, k, 100, v, sizeof v,
                                    &len, &exp),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(mk_node_kv_put(n, MK_NODE_KV_NONCE, k,
                                    MK_BYTES("value", 5), 1000, 100, true),
                     MK_OK);
    ck_assert_int_eq(mk_node_kv_put(n, MK_NODE_KV_NONCE, k, MK_BYTES("x", 1),
                                    1000, 100, true),
                     MK_E_EXISTS);
    ck_assert_int_eq(mk_node_kv_get(n, MK_NODE_KV_NONCE, k, 100, v, sizeof v,
                                    &len, &exp),
                     MK_OK);
    ck_assert_uint_eq(len, 5);
    ck_assert_mem_eq(v, "value", 5);
    ck_assert_uint_eq(exp, 1000);
    /* tables are apart */
    ck_assert_int_eq(mk_node_kv_get(n, MK_NODE_KV_GBA, k, 100, v, sizeof v,
                                    &len, NULL),
                     MK_E_NOT_FOUND);
    /* dead at its expiry */
    ck_assert_int_eq(mk_node_kv_get(n, MK_NODE_KV_NONCE, k, 1000, v, sizeof v,
                                    &len, NULL),
                     MK_E_NOT_FOUND);
    /* single use: the first take wins */
    ck_assert_int_eq(mk_node_kv_take(n, MK_NODE_KV_NONCE, k, 100, v, sizeof v,
                                     &len),
                     MK_OK);
    ck_assert_int_eq(mk_node_kv_take(n, MK_NODE_KV_NONCE, k, 100, v, sizeof v,
                                     &len),
                     MK_E_NOT_FOUND);
    /* read-modify-write */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(mk_node_kv_update(n, MK_NODE_KV_RATE, k, 100, add_one,
                                           NULL),
                         MK_OK);
    ck_assert_int_eq(mk_node_kv_get(n, MK_NODE_KV_RATE, k, 100, v, sizeof v,
                                    &len, NULL),
                     MK_OK);
    ck_assert_uint_eq(v[0], 3);
    /* bounded: the ninth key of a table of 8 is refused */
    for (int i = 0; i < 8; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_int_eq(mk_node_kv_put(n, MK_NODE_KV_TICKET,
                                        MK_BYTES(key, strlen(key)),
                                        MK_BYTES("v", 1), 500 + (uint64_t)i,
                                        100, false),
                         MK_OK);
    }
    ck_assert_int_eq(mk_node_kv_put(n, MK_NODE_KV_TICKET, MK_BYTES("k9", 2),
                                    MK_BYTES("v", 1), 900, 100, false),
                     MK_E_UNAVAILABLE);
    /* a sweep deletes what is dead, and makes room */
    size_t deleted = 0;
    ck_assert_int_eq(mk_node_kv_sweep(n, 504, 100, &deleted), MK_OK);
    ck_assert_uint_eq(deleted, 5);
    ck_assert_int_eq(mk_node_kv_put(n, MK_NODE_KV_TICKET, MK_BYTES("k9", 2),
                                    MK_BYTES("v", 1), 900, 100, false),
                     MK_OK);
    /* bad arguments */
    ck_assert_int_eq(mk_node_kv_put(n, MK_NODE_KV__COUNT, k, k, 1, 0, false),
                     MK_E_ARG);
    ck_assert_int_eq(mk_node_kv_put(n, MK_NODE_KV_GBA, MK_BYTES_NONE, k, 1, 0,
                                    false),
                     MK_E_ARG);
    mk_node_close(n);
}
END_TEST

/* --- shared counters --- */

/* Two processes of three threads each add to the same counters at once:
 * no count is lost; a slot out of range touches nothing. */
static void *add_many(void *arg)
{
    mk_node *n = arg;
    for (unsigned i = 0; i < 100000; i++) {
        mk_node_stats_add(n, 7, 1);
        mk_node_stats_add(n, MK_NODE_STATS_SLOTS - 1, 2);
    }
    return NULL;
}

static void add_in_threads(mk_node *n)
{
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, add_many, n), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
}

/* A resolve's answer with the J = 0 note of ticket id by `who` at now:
 * MK_OK with keys, MK_E_POLICY when the note was refused (and the refusal
 * recorded in the same transaction). */
static mk_err resolve_answer(mk_node *n, const uint8_t id[32], const char *who,
                             uint64_t now, uint32_t grace, unsigned i)
{
    uint8_t d[32];
    mk_record r = record(now, "b", i), refused = r;
    snprintf(refused.outcome, sizeof refused.outcome, "refused");
    refused.spis[0] = '\0';
    mk_resolve_note note = {.ticket_id = id,
                            .responder = MK_BYTES(who, strlen(who)),
                            .expires_unix = now + 100,
                            .grace_seconds = grace,
                            .refused = &refused};
    mk_node_gen_seen seen;
    digest(d, now, 7, i);
    mk_node_answer a = {.digest = d, .expires_unix = now + 301,
                        .now_unix = now, .record = &r, .note = &note};
    MK_GUARD(mk_node_answer_commit(n, &a, &seen));
    return seen.note_refused != NULL ? MK_E_POLICY : MK_OK;
}

static uint64_t journal_entries(mk_node *n)
{
    mk_node_status st;
    ck_assert_int_eq(mk_node_status_get(n, &st), MK_OK);
    return st.journal_entries;
}

/* J = 0 (doc/profile.md §9.37): the first resolve of a ticket wins, for
 * every process; the same responder again only within the grace. Every
 * answer is recorded, the refused ones as refusals. */
START_TEST(test_ticket_resolved_once)
{
    uint64_t now = (uint64_t)time(NULL);
    uint8_t id[32];
    memset(id, 0x5a, sizeof id);
    mk_node *n = open_node();
    uint64_t j0 = journal_entries(n);
    /* four processes race for a fresh ticket: exactly one wins */
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0) {
            char who[32];
            mk_node *cn = open_node();
            snprintf(who, sizeof who, "sip:r%d@example.org", i);
            mk_err e = resolve_answer(cn, id, who, now, 30, (unsigned)i);
            mk_node_close(cn);
            _exit(e == MK_OK ? 0 : e == MK_E_POLICY ? 1 : 2);
        }
    }
    int won = 0, lost = 0, winner = -1;
    for (int i = 0; i < 4; i++) {
        int st = 0;
        ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
        ck_assert(WIFEXITED(st));
        if (WEXITSTATUS(st) == 0) {
            won++;
            winner = i;
        }
        lost += WEXITSTATUS(st) == 1;
    }
    ck_assert_int_eq(won, 1);
    ck_assert_int_eq(lost, 3);
    ck_assert_uint_eq(journal_entries(n), j0 + 4);
    char w[32];
    snprintf(w, sizeof w, "sip:r%d@example.org", winner);
    ck_assert_int_eq(resolve_answer(n, id, w, now + 30, 30, 10), MK_OK);
    ck_assert_int_eq(resolve_answer(n, id, w, now + 31, 30, 11), MK_E_POLICY);
    /* another ticket is another entry */
    id[0] ^= 1;
    ck_assert_int_eq(resolve_answer(n, id, w, now + 31, 0, 12), MK_OK);
    ck_assert_int_eq(resolve_answer(n, id, w, now + 32, 0, 13), MK_E_POLICY);
    ck_assert_uint_eq(journal_entries(n), j0 + 8);
    /* a copy of an answered message notes nothing: Error 1 */
    id[0] ^= 2;
    ck_assert_int_eq(resolve_answer(n, id, "sip:eve@example.org", now + 32,
                                    0, 13),
                     MK_E_MIKEY_TS);
    ck_assert_int_eq(resolve_answer(n, id, w, now + 32, 0, 14), MK_OK);
    mk_node_close(n);
}
END_TEST

START_TEST(test_shared_counters)
{
    mk_node *n = open_node();
    ck_assert_uint_eq(mk_node_stats_get(n, 7), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mk_node *cn = open_node();
        add_in_threads(cn);
        mk_node_close(cn);
        _exit(0);
    }
    add_in_threads(n);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_uint_eq(mk_node_stats_get(n, 7), 600000);
    ck_assert_uint_eq(mk_node_stats_get(n, MK_NODE_STATS_SLOTS - 1), 1200000);
    mk_node_stats_add(n, MK_NODE_STATS_SLOTS, 5);
    ck_assert_uint_eq(mk_node_stats_get(n, MK_NODE_STATS_SLOTS), 0);
    mk_node_stats_set(n, 8, 42);
    mk_node_close(n);
    /* kept in the file: another open sees them */
    n = open_node();
    ck_assert_uint_eq(mk_node_stats_get(n, 8), 42);
    ck_assert_uint_eq(mk_node_stats_get(n, 7), 600000);
    mk_node_close(n);
}
END_TEST

/* Run as root (kmsctl by an operator) in a directory of the service's
 * user: every file of the node gets that user, so kmsd can open them. */
START_TEST(test_files_get_the_directory_owner)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_files_get_the_directory_owner: not root, "
                        "nothing to check\n");
        return;
    }
    const uid_t uid = 65534; /* nobody */
    const gid_t gid = 65534;
    ck_assert_int_eq(chown(dir, uid, gid), 0);
    mk_node *n = open_node();
    ck_assert_int_eq(answer(n, 1000, 1000, 40, 1), MK_OK);
    mk_node_close(n);
    static const char *const sides[] = {"", "-lock", "-drain", "-stats",
                                        "-boot"};
    for (size_t i = 0; i < 5; i++) {
        char p[sizeof node_path + 8];
        struct stat sb;
        snprintf(p, sizeof p, "%s%s", node_path, sides[i]);
        ck_assert_int_eq(stat(p, &sb), 0);
        ck_assert_msg(sb.st_uid == uid && sb.st_gid == gid,
                      "%s owned by %u:%u", p, (unsigned)sb.st_uid,
                      (unsigned)sb.st_gid);
    }
}
END_TEST

int main(void)
{
    const TTest *const node_tests[] = {test_replay_once,
        test_clock_jump_cannot_bring_back_a_message, test_prune_and_reclaim,
        test_replay_cache_full, test_journal_full_and_atomic,
        test_record_encoding_round_trip, test_drain_exactly_once_across_kill,
        test_killed_process_keeps_its_commits,
        test_killed_inside_a_write_transaction,
        test_open_waits_for_a_running_writer, test_rate_buckets,
        test_same_message_raced_by_processes_and_threads, test_durable_threads,
        test_durable_group_race, test_release_pages, test_restart_rule,
        test_missing_node_file, test_fork_opens_again, test_generation,
        test_kv_tables, test_shared_counters,
        test_files_get_the_directory_owner, test_ticket_resolved_once};
    const mk_check_opts o = {
        .suite = "node", .tcase = "node", .timeout = 120, .setup = setup,
        .teardown = teardown
    };
    return mk_check_main_opts(&o, node_tests, MK_CHECK_NELEM(node_tests));
}
