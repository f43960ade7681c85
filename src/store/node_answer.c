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

/* Everything an answer writes, in txn; *dirty when it wrote. */
static mk_err apply_answer(MDB_txn *txn, mk_node *n, const mk_node_answer *a,
                           mk_node_gen_seen *seen, bool *dirty)
{
    uint64_t mark = 0;
    MK_GUARD(check_gen(txn, n, a, seen, dirty));
    if (a->digest == NULL && a->record == NULL)
        return MK_OK;
    (void)mk_node_meta_u64(txn, n, "mark", &mark);
    if (a->now_unix > mark) {
        mark = a->now_unix;
        MK_GUARD(mk_node_meta_put_u64(txn, n, "mark", mark));
    }
    if (a->digest != NULL) {
        mk_err rc = put_replay(txn, n, a, mark);
        if (rc == MK_E_MIKEY_TS && a->replayed != NULL) {
            /* nothing was put: the answer is the Error 1 of a copy */
            mk_err_clear();
            seen->replayed = true;
            MK_GUARD(put_record(txn, n, a->replayed));
            *dirty = true;
            return MK_OK;
        }
        MK_GUARD(rc);
    }
    const mk_record *rec = a->record;
    if (a->note != NULL) {
        MK_GUARD(mk_node_note_apply(txn, n, a->note, a->now_unix,
                                    &seen->note_refused));
        if (seen->note_refused)
            rec = a->note->refused;
    }
    if (rec != NULL)
        MK_GUARD(put_record(txn, n, rec));
    *dirty = true;
    return MK_OK;
}

/* One answer, one transaction: the path of a node that is not durable,
 * where a commit costs a few microseconds and nothing waits for a sync. */
static mk_err commit_one(mk_node *n, const mk_node_answer *a,
                         mk_node_gen_seen *seen, bool write)
{
    MDB_txn *txn = NULL;
    bool dirty = false;
    MK_GUARD(mk_node_txn(n, !write, &txn));
    mk_err rc = apply_answer(txn, n, a, seen, &dirty);
    if (rc != MK_OK || !dirty) { /* failed, or a check only */
        mdb_txn_abort(txn);
        return rc;
    }
    MK_GUARD(mk_node_commit(txn, "cannot commit to the node state"));
    return mk_node_sync_after_commit(n);
}

/* Group commit of a durable node (node.h). Each answer waiting in a
 * process is a slot on the node's queue; one waiting thread at a time
 * leads: it takes up to GROUP_MAX slots, applies each in a nested
 * transaction of ONE write transaction (an answer that fails, a replay
 * say, aborts only its own child), commits and syncs once, and hands
 * every slot its result. Why: with durable = yes an answer cannot leave
 * before the sync, so 16 threads each committing and syncing alone spent
 * their time in the writer lock, a pwrite per page per commit and the
 * hand-offs between them (7 400-8 700 answers/s, doc/benchmarks.md);
 * one transaction per group writes each touched page once and syncs
 * once. GROUP_MAX bounds what one transaction adds far below the
 * RESERVE_AHEAD the transaction reserved (node_env.c). */
#define GROUP_MAX 64

struct mk_node_slot {
    const mk_node_answer *a;
    mk_node_gen_seen *seen;
    mk_err rc;
    mk_err_detail detail; /* raised in the leader's thread, copied */
    bool done;
    struct mk_node_slot *next;
};

static void slot_fail(struct mk_node_slot *s, mk_err rc)
{
    const mk_err_detail *d = mk_err_last();
    s->rc = rc;
    if (d->code == rc)
        s->detail = *d;
    else
        s->detail = (mk_err_detail){.code = rc, .payload = -1};
}

static void commit_group(mk_node *n, struct mk_node_slot *batch)
{
    MDB_txn *txn = NULL;
    bool any = false;
    mk_err rc = mk_node_txn(n, false, &txn);
    for (struct mk_node_slot *s = batch; s != NULL; s = s->next) {
        MDB_txn *child = NULL;
        bool dirty = false;
        if (rc != MK_OK) {
            slot_fail(s, rc);
            continue;
        }
        int r = mdb_txn_begin(n->env, txn, 0, &child);
        mk_err e = r == MDB_SUCCESS
                       ? apply_answer(child, n, s->a, s->seen, &dirty)
                       : mk_node_err(r, "cannot begin a node state "
                                        "transaction");
        if (e == MK_OK && dirty)
            e = mk_node_commit(child, "cannot commit to the node state");
        else if (child != NULL)
            mdb_txn_abort(child);
        if (e != MK_OK)
            slot_fail(s, e);
        else
            any = any || dirty;
    }
    if (rc != MK_OK)
        return;
    if (!any) {
        mdb_txn_abort(txn);
        return;
    }
    rc = mk_node_commit(txn, "cannot commit to the node state");
    if (rc == MK_OK)
        rc = mk_node_sync_after_commit(n);
    if (rc != MK_OK) /* nothing of the group is written, or known on disk */
        for (struct mk_node_slot *s = batch; s != NULL; s = s->next)
            if (s->rc == MK_OK)
                slot_fail(s, rc);
}

static mk_err commit_grouped(mk_node *n, const mk_node_answer *a,
                             mk_node_gen_seen *seen)
{
    struct mk_node_slot me = {.a = a, .seen = seen, .rc = MK_OK};
    pthread_mutex_lock(&n->group_mu);
    *n->group_tail = &me;
    n->group_tail = &me.next;
    while (!me.done) {
        if (n->group_leading) {
            pthread_cond_wait(&n->group_cv, &n->group_mu);
            continue;
        }
        /* lead: take the first GROUP_MAX slots off the queue */
        struct mk_node_slot *batch = n->group_head, **end = &n->group_head;
        for (unsigned i = 0; i < GROUP_MAX && *end != NULL; i++)
            end = &(*end)->next;
        n->group_head = *end;
        if (n->group_head == NULL)
            n->group_tail = &n->group_head;
        *end = NULL;
        n->group_leading = true;
        pthread_mutex_unlock(&n->group_mu);
        commit_group(n, batch);
        pthread_mutex_lock(&n->group_mu);
        for (struct mk_node_slot *s = batch, *next; s != NULL; s = next) {
            next = s->next; /* s may be gone once done is seen */
            s->done = true;
        }
        n->group_leading = false;
        pthread_cond_broadcast(&n->group_cv);
    }
    pthread_mutex_unlock(&n->group_mu);
    if (me.rc != MK_OK)
        return mk_err_raise(me.rc, me.detail.payload, me.detail.offset,
                            me.detail.what);
    return MK_OK;
}

mk_err mk_node_answer_commit(mk_node *n, const mk_node_answer *a,
                             mk_node_gen_seen *seen)
{
    memset(seen, 0, sizeof *seen);
    if (a->digest != NULL && a->expires_unix == 0)
        MK_FAIL(MK_E_ARG, "replay entry without an expiry");
    if (a->note != NULL && (a->record == NULL || a->note->refused == NULL))
        MK_FAIL(MK_E_ARG, "a note without its records");
    if (a->replayed != NULL && a->digest == NULL)
        MK_FAIL(MK_E_ARG, "a replayed record without a replay entry");
    /* an answer that writes nothing and read no row from the store (an
     * unauthenticated refusal, doc/profile.md §9.39) only compares the
     * generation: a read transaction, no writer lock, no sync to wait
     * for */
    bool write = a->digest != NULL || a->record != NULL || a->fresh;
    if (!write || !n->cfg.durable)
        return commit_one(n, a, seen, write);
    return commit_grouped(n, a, seen);
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
