/* store_drain.c - moving the node's record journal into the store's
 * records table, and the node's other upkeep (store.h,
 * mk_sqlstore_drain / mk_sqlstore_maintain).
 *
 * Exactly once: each batch is one SQLite transaction that inserts the
 * records with sequence numbers above the node's "drained" mark (meta key
 * "drained:<node id in hex>") and moves the mark; only after that commit
 * are those records trimmed from the journal. A crash before the commit
 * leaves both as they were; a crash after it leaves records that the next
 * drain skips (their numbers are at or below the mark) and trims. One
 * process drains at a time (node.h, PATH-drain).
 */
#include <stdio.h>
#include <string.h>

#include "store/node_int.h"
#include "store/store_int.h"

#define DRAIN_BATCH 1024
#define SWEEP_BUDGET 1024

static void drained_key(const mk_node *n, char *out, size_t cap)
{
    static const char hexd[] = "0123456789abcdef";
    size_t o = (size_t)snprintf(out, cap, "drained:");
    for (size_t i = 0; i < sizeof n->node_id && o + 2 < cap; i++) {
        out[o++] = hexd[n->node_id[i] >> 4];
        out[o++] = hexd[n->node_id[i] & 15];
    }
    out[o] = '\0';
}

static mk_err insert_one(void *arg, uint64_t seq, const mk_record *r)
{
    mk_sqlstore *s = arg;
    (void)seq;
    /* The node wrote it after mk_store_record_check; a record that still
     * fails it is kept as a visible gap, not dropped in silence. */
    if (mk_store_record_check(r) != MK_OK) {
        mk_record gap;
        memset(&gap, 0, sizeof gap);
        gap.time_unix = r->time_unix <= INT64_MAX ? r->time_unix : 0;
        gap.service = r->service;
        snprintf(gap.outcome, sizeof gap.outcome, "damaged journal record");
        return mk_store_record_write(s, &gap);
    }
    return mk_store_record_write(s, r);
}

/* One batch: *moved records, *more when the batch was full. */
static mk_err drain_batch(mk_sqlstore *s, mk_node *n, const char *key,
                          size_t *moved, bool *more)
{
    int64_t done = 0;
    uint64_t last = 0;
    mk_err rc;
    *moved = 0;
    *more = false;
    MK_GUARD(mk_store_begin_write(s));
    rc = mk_store_meta_get_i64(s, key, &done);
    if (rc == MK_E_NOT_FOUND) {
        done = 0;
        rc = MK_OK;
        mk_err_clear();
    }
    if (rc == MK_OK && done < 0)
        rc = mk_err_raise(MK_E_INTERNAL, -1, 0, "drained mark negative");
    if (rc == MK_OK)
        rc = mk_node_journal_read(n, (uint64_t)done, DRAIN_BATCH,
                                  insert_one, s, &last);
    if (rc == MK_OK && last > (uint64_t)done)
        rc = mk_store_meta_put_i64(s, key, (int64_t)last);
    MK_GUARD(mk_store_end(s, rc));
    /* the store has them: forget them (also those at or below an older
     * mark, left by a crash between the commit and this trim) */
    MK_GUARD(mk_node_journal_trim(n, last));
    *moved = (size_t)(last - (uint64_t)done);
    *more = *moved == DRAIN_BATCH;
    return MK_OK;
}

mk_err mk_sqlstore_drain(mk_sqlstore *s, mk_node *n, uint32_t wait_ms,
                         size_t max, size_t *moved)
{
    char key[64];
    size_t total = 0, m;
    bool more = true;
    mk_err rc = MK_OK;
    *moved = 0;
    if (!mk_node_drain_lock(n, wait_ms)) {
        if (wait_ms == 0)
            return MK_OK; /* another process is at it */
        MK_FAIL(MK_E_UNAVAILABLE, "another process holds the drain lock");
    }
    drained_key(n, key, sizeof key);
    while (more && total < max && rc == MK_OK) {
        rc = drain_batch(s, n, key, &m, &more);
        total += m;
    }
    mk_node_drain_unlock(n);
    *moved = total;
    return rc;
}

/* The store's generation, published to the node (node.h): raised at once,
 * lowered only when seen twice in a row (a restored backup), so that a
 * publisher that read it just before an operator change cannot take the
 * change back. */
static mk_err publish_gen(mk_sqlstore *s, mk_node *n)
{
    bool known = false;
    int64_t gen = 0;
    mk_node_status st;
    MK_GUARD(mk_store_gen_read(s, &known, &gen));
    if (!known)
        return MK_OK;
    MK_GUARD(mk_node_status_get(n, &st));
    if (!st.gen_known || gen > st.gen) {
        n->low_gen_seen = false;
        return mk_node_publish_gen(n, gen, false);
    }
    if (gen == st.gen) {
        n->low_gen_seen = false;
        return MK_OK;
    }
    if (n->low_gen_seen && n->low_gen == gen) {
        n->low_gen_seen = false;
        return mk_node_publish_gen(n, gen, true);
    }
    n->low_gen_seen = true;
    n->low_gen = gen;
    return MK_OK;
}

mk_err mk_sqlstore_maintain(mk_sqlstore *s, mk_node *n, uint64_t now_unix,
                            mk_sqlstore_upkeep *u)
{
    mk_err first = MK_OK, rc;
    int dead = 0;
    memset(u, 0, sizeof *u);
    s->errmsg[0] = '\0'; /* what fails in this round, not an older one */
#define STEP(call)                     \
    do {                               \
        rc = (call);                   \
        if (rc != MK_OK && first == MK_OK) \
            first = rc;                \
    } while (0)
    STEP(mk_sqlstore_drain(s, n, 0, 64 * DRAIN_BATCH, &u->drained));
    STEP(publish_gen(s, n));
    STEP(mk_node_replay_prune(n, now_unix, &u->pruned));
    STEP(mk_node_kv_sweep(n, now_unix, SWEEP_BUDGET, &u->swept));
#undef STEP
    /* reader slots of processes killed inside a read transaction */
    (void)mdb_reader_check(n->env, &dead);
    mk_node_release_pages(n);
    return first;
}
