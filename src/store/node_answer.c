/* node_answer.c - the one write transaction of an answer (node.h,
 * mk_node_answer_commit) and the reclaiming of dead replay entries.
 *
 * Why LMDB and one transaction: the answer path used to write an SQLite
 * transaction per answer (replay entry + record: file locks, B-tree
 * inserts, a WAL append, 60-250 us, and with several processes every
 * commit emptied the others' page caches). An LMDB write transaction is a
 * process-shared mutex, a copy-on-write of a few pages and a pwrite of
 * them: a few microseconds, and readers are never invalidated. The
 * replay verdict, the record and the generation check stay in one
 * transaction, so an answer is all-or-nothing as before.
 */
#include <string.h>

#include "store/node_int.h"

/* Dead entries reclaimed by each answer that puts one: more than one, so
 * that the cache shrinks back after a burst without an operator. */
#define RECLAIM_PER_ANSWER 4
#define PRUNE_BATCH 10000

/* Delete the dead replay entries at the oldest end (expiry <= at), at most
 * max of them, in txn; *deleted counts them. */
static mk_err mk_node_replay_reclaim(MDB_txn *txn, mk_node *n, uint64_t at,
                                     size_t max, size_t *deleted)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    size_t d = 0;
    int rc = mdb_cursor_open(txn, n->replay, &c);
    if (rc != MDB_SUCCESS)
        return mk_node_err(rc, "cannot read the replay cache");
    /* keys begin with T: the oldest end holds the first to expire */
    while (d < max &&
           (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == MDB_SUCCESS) {
        if (v.mv_size != 8 || mk_node_get_u64(v.mv_data) > at)
            break;
        if ((rc = mdb_cursor_del(c, 0)) != MDB_SUCCESS)
            break;
        d++;
    }
    mdb_cursor_close(c);
    *deleted = d;
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        return mk_node_err(rc, "cannot reclaim replay entries");
    return MK_OK;
}

/* The generation step (node.h): publish a fresher one, then refuse rows
 * of any other generation than the node's. *dirty when it wrote. */
static mk_err check_gen(MDB_txn *txn, mk_node *n, const mk_node_answer *a,
                        mk_node_gen_seen *seen, bool *dirty)
{
    uint64_t g = 0;
    bool known = mk_node_meta_u64(txn, n, "gen", &g);
    int64_t cur = (int64_t)g;
    if (a->fresh && (!known || a->fresh_gen > cur)) {
        MK_GUARD(mk_node_meta_put_u64(txn, n, "gen", (uint64_t)a->fresh_gen));
        cur = a->fresh_gen;
        known = true;
        *dirty = true;
    }
    seen->read = true;
    seen->known = known;
    seen->gen = cur;
    if ((a->fresh && a->fresh_gen != cur) ||
        (a->used && (!known || a->used_gen != cur)))
        MK_FAIL(MK_E_STALE, "the lookups of this answer came from a "
                            "generation of the store that is no longer "
                            "current; nothing written");
    return MK_OK;
}

static mk_err put_replay(MDB_txn *txn, mk_node *n, const mk_node_answer *a,
                         uint64_t mark)
{
    MDB_stat st;
    size_t reclaimed;
    /* dead at the mark: its entry may already be gone (node.h) */
    if (a->expires_unix <= mark)
        MK_FAIL(MK_E_MIKEY_TS, "message older than the replay mark");
    MK_GUARD(mk_node_replay_reclaim(txn, n, mark, RECLAIM_PER_ANSWER,
                                    &reclaimed));
    uint8_t exp[8];
    mk_node_put_u64(exp, a->expires_unix);
    MDB_val k = {.mv_size = 32, .mv_data = (void *)a->digest};
    MDB_val v = {.mv_size = sizeof exp, .mv_data = exp};
    int rc = mdb_put(txn, n->replay, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) /* a copy was answered first: Error 1, full or not */
        MK_FAIL(MK_E_MIKEY_TS, "replayed message");
    if (rc != MDB_SUCCESS)
        return mk_node_err(rc, "cannot write the replay cache");
    rc = mdb_stat(txn, n->replay, &st);
    if (rc != MDB_SUCCESS)
        return mk_node_err(rc, "cannot read the replay cache");
    /* bounded: never a silent acceptance (the caller aborts the put) */
    if (st.ms_entries > n->cfg.replay_max)
        MK_FAIL(MK_E_UNAVAILABLE, "replay cache full");
    return MK_OK;
}

static mk_err put_record(MDB_txn *txn, mk_node *n, const mk_record *r)
{
    MDB_stat st;
    uint64_t seq = 0;
    uint8_t buf[MK_NODE_RECORD_MAX], key[8];
    size_t len = 0;
    MK_GUARD(mk_node_record_encode(r, buf, sizeof buf, &len));
    int rc = mdb_stat(txn, n->journal, &st);
    if (rc != MDB_SUCCESS)
        return mk_node_err(rc, "cannot read the record journal");
    if (st.ms_entries >= n->cfg.journal_max)
        MK_FAIL(MK_E_UNAVAILABLE, "record journal full (records are not "
                                  "being drained into the store)");
    if (!mk_node_meta_u64(txn, n, "seq", &seq) || seq == 0)
        MK_FAIL(MK_E_UNAVAILABLE, "node state without a record sequence");
    mk_node_put_u64(key, seq);
    MDB_val k = {.mv_size = sizeof key, .mv_data = key};
    MDB_val v = {.mv_size = len, .mv_data = buf};
    /* APPEND: sequence numbers only grow, so the put is at the right edge
     * without a search; a key out of order fails instead of overwriting */
    rc = mdb_put(txn, n->journal, &k, &v, MDB_APPEND);
    if (rc != MDB_SUCCESS)
        return mk_node_err(rc, "cannot write the record journal");
    return mk_node_meta_put_u64(txn, n, "seq", seq + 1);
}

mk_err mk_node_answer_commit(mk_node *n, const mk_node_answer *a,
                             mk_node_gen_seen *seen)
{
    MDB_txn *txn = NULL;
    bool dirty = false;
    uint64_t mark = 0;
    mk_err rc;
    memset(seen, 0, sizeof *seen);
    if (a->digest != NULL && a->expires_unix == 0)
        MK_FAIL(MK_E_ARG, "replay entry without an expiry");

    /* an answer that writes nothing and read no row from the store (an
     * unauthenticated refusal, doc/profile.md §9.39) only compares the
     * generation: a read transaction, no writer lock */
    bool write = a->digest != NULL || a->record != NULL || a->fresh;
    MK_GUARD(mk_node_txn(n, !write, &txn));
    MK_GUARD_GOTO(check_gen(txn, n, a, seen, &dirty), rc, abort);
    if (a->digest != NULL || a->record != NULL) {
        (void)mk_node_meta_u64(txn, n, "mark", &mark);
        if (a->now_unix > mark) {
            mark = a->now_unix;
            MK_GUARD_GOTO(mk_node_meta_put_u64(txn, n, "mark", mark), rc,
                          abort);
        }
        if (a->digest != NULL)
            MK_GUARD_GOTO(put_replay(txn, n, a, mark), rc, abort);
        if (a->record != NULL)
            MK_GUARD_GOTO(put_record(txn, n, a->record), rc, abort);
        dirty = true;
    }
    if (!dirty) { /* a check only: nothing to commit or to sync */
        mdb_txn_abort(txn);
        return MK_OK;
    }
    MK_GUARD(mk_node_commit(txn, "cannot commit to the node state"));
    return mk_node_sync_after_commit(n);
abort:
    mdb_txn_abort(txn);
    return rc;
}

mk_err mk_node_replay_prune(mk_node *n, uint64_t now_unix, uint64_t *deleted)
{
    uint64_t total = 0;
    size_t d;
    do {
        MDB_txn *txn = NULL;
        uint64_t mark = 0;
        mk_err rc;
        MK_GUARD(mk_node_txn(n, false, &txn));
        (void)mk_node_meta_u64(txn, n, "mark", &mark);
        if (now_unix > mark) {
            mark = now_unix;
            MK_GUARD_GOTO(mk_node_meta_put_u64(txn, n, "mark", mark), rc,
                          abort);
        }
        /* batches of their own: the writer mutex is never held long */
        MK_GUARD_GOTO(mk_node_replay_reclaim(txn, n, mark, PRUNE_BATCH, &d),
                      rc, abort);
        MK_GUARD(mk_node_commit(txn, "cannot prune the replay cache"));
        total += d;
        continue;
    abort:
        mdb_txn_abort(txn);
        return rc;
    } while (d == PRUNE_BATCH);
    if (deleted != NULL)
        *deleted = total;
    return MK_OK;
}
