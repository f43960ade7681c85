/* store_node.c - the store's answers committed to the node state (store.h,
 * node.h): which node a connection commits to, the answer_commit of the
 * mk_kms_store interface, and the generation a change of the operator's
 * rows publishes.
 *
 * The lookups an answer is computed on come from this connection (its
 * cache, or a read transaction of the database); the answer's writes (the
 * replay entry and the record) go to the node in one LMDB transaction,
 * which also checks that those lookups are of the node's current
 * generation (node.h). The database is not written on the answer path.
 */
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store/store_int.h"

mk_err mk_store_meta_get_i64(mk_sqlstore *s, const char *key, int64_t *v)
{
    sqlite3_stmt *st = NULL;
    mk_err rc = MK_OK;
    MK_GUARD(mk_store_stmt(s, ST_META_GET, &st));
    MK_GUARD_GOTO(mk_store_bind_text(s, st, 1, key), rc, done);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
        *v = sqlite3_column_int64(st, 0);
    else if (step == SQLITE_ROW || step == SQLITE_DONE)
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0, "no such meta value");
    else
        rc = mk_store_db_err(s, step, "cannot read the store");
done:
    mk_store_stmt_done(st);
    return rc;
}

mk_err mk_store_meta_put_i64(mk_sqlstore *s, const char *key, int64_t v)
{
    sqlite3_stmt *st = NULL;
    mk_err rc;
    MK_GUARD(mk_store_stmt(s, ST_META_PUT, &st));
    MK_GUARD_GOTO(mk_store_bind_text(s, st, 1, key), rc, fail);
    MK_GUARD_GOTO(mk_store_bind_i64(s, st, 2, v), rc, fail);
    return mk_store_exec(s, st, "cannot write the store");
fail:
    mk_store_stmt_done(st);
    return rc;
}

/* Has this store ever answered (a record drained into it)? Then a missing
 * node file may have held replay entries: open it with the restart rule. */
static mk_err has_answered(mk_sqlstore *s, bool *yes)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM records LIMIT 1", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return mk_store_db_err(s, rc, "cannot read the records");
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return mk_store_db_err(s, rc, "cannot read the records");
    *yes = rc == SQLITE_ROW;
    return MK_OK;
}

mk_err mk_sqlstore_node_open(mk_sqlstore *s, const mk_node_config *cfg,
                             mk_node **out)
{
    mk_node_config c;
    struct stat sb;
    bool answered = false;
    mk_node *n = NULL;
    *out = NULL;
    if (cfg != NULL) {
        c = *cfg;
    } else {
        mk_node_config_defaults(&c);
        c.replay_max = c.journal_max = c.kv_max = 0; /* adopt */
    }
    if (c.path[0] == '\0')
        MK_GUARD(mk_node_default_path(s->path, c.path, sizeof c.path));
    if (stat(c.path, &sb) != 0)
        MK_GUARD(has_answered(s, &answered));
    MK_GUARD(mk_node_open(&c,
                          answered ? MK_NODE_CREATE_RECOVER
                                   : MK_NODE_CREATE_FRESH,
                          &n));
    mk_node_close(s->node); /* a node attached before */
    s->node = n;
    *out = n;
    return MK_OK;
}

void mk_sqlstore_attach_node(mk_sqlstore *s, mk_node *n)
{
    mk_node *ref = n != NULL ? mk_node_ref(n) : NULL;
    mk_node_close(s->node);
    s->node = ref;
}

/* The node of this connection, the default one opened if none yet. */
static mk_err node_of(mk_sqlstore *s, mk_node **out)
{
    if (s->node == NULL)
        return mk_sqlstore_node_open(s, NULL, out);
    *out = s->node;
    return MK_OK;
}

mk_err mk_store_answer_commit(mk_sqlstore *s, const mk_answer_write *w)
{
    mk_store_cache *c = &s->cache;
    mk_node *n = NULL;
    /* the flags belong to this answer, whatever the outcome: the next
     * answer starts with no rows to check */
    mk_node_answer a = {
        .digest = w->digest,
        .expires_unix = w->expires_unix,
        .now_unix = w->now_unix,
        .record = w->record,
        .note = w->note,
        .replayed = w->replayed,
        .used = c->used,
        .used_gen = c->used_gen,
        .fresh = c->fresh,
        .fresh_gen = c->fresh_gen,
    };
    c->used = c->fresh = false;
    MK_GUARD(mk_store_answer_check(w));
    MK_GUARD(node_of(s, &n));
    mk_node_gen_seen seen;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mk_err rc = mk_node_answer_commit(n, &a, &seen);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t us = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
                 (t1.tv_nsec - t0.tv_nsec) / 1000;
    mk_node_stats_observe(n, MK_NODE_STAT_COMMIT_HIST,
                          us > 0 ? (uint64_t)us : 0);
    if (seen.read) /* arm the cache, or drop it (store_cache.c) */
        mk_store_cache_confirm(s, seen.known, seen.gen);
    if (rc == MK_E_STALE) /* count it and drop the cache */
        rc = mk_store_cache_stale(s);
    if (rc == MK_OK && seen.replayed) /* recorded: an Error 1 */
        return mk_err_raise(MK_E_MIKEY_TS, -1, 0, "replayed message");
    if (rc == MK_OK && seen.note_refused != NULL) /* recorded: a 403 */
        return mk_err_raise(MK_E_POLICY, -1, 0, seen.note_refused);
    return rc;
}

mk_err mk_store_identity_rate_take(mk_node *n, mk_bytes psk_id,
                                   uint32_t rate_milli, uint32_t burst,
                                   uint64_t now_ms, uint32_t *retry_after_s)
{
    static const char prefix[] = "identity ";
    uint8_t key[sizeof prefix - 1 + MK_PSK_ID_MAX];
    mk_buf b;
    mk_buf_init(&b, key, sizeof key);
    MK_GUARD(mk_buf_put(&b, prefix, sizeof prefix - 1));
    MK_GUARD(mk_buf_put(&b, psk_id.p, psk_id.n));
    return mk_node_rate_take(n, MK_BYTES(key, b.n), rate_milli, burst, now_ms,
                             retry_after_s);
}

mk_err mk_store_rate_take(mk_sqlstore *s, mk_bytes psk_id, uint32_t rate_milli,
                          uint32_t burst, uint64_t now_ms,
                          uint32_t *retry_after_s)
{
    mk_node *n = NULL;
    MK_GUARD(node_of(s, &n));
    return mk_store_identity_rate_take(n, psk_id, rate_milli, burst, now_ms,
                                       retry_after_s);
}

void mk_store_changed(mk_sqlstore *s)
{
    bool known = false;
    int64_t gen = 0;
    mk_store_cache_drop(s);
    /* Publish to the node every process answers through, so that an
     * answer computed on the old rows is refused from now on. Without a
     * node attached, the default one, if it exists (a kmsd of this store
     * has run): a missing node has nothing to refuse. */
    mk_node *n = s->node;
    mk_node *opened = NULL;
    if (n == NULL) {
        mk_node_config c;
        struct stat sb;
        mk_node_config_defaults(&c);
        c.replay_max = c.journal_max = c.kv_max = 0;
        if (mk_node_default_path(s->path, c.path, sizeof c.path) != MK_OK ||
            stat(c.path, &sb) != 0 ||
            mk_node_open(&c, MK_NODE_CREATE_FRESH, &opened) != MK_OK) {
            mk_err_clear();
            return;
        }
        n = opened;
    }
    if (mk_store_gen_read(s, &known, &gen) == MK_OK && known)
        mk_err_drop(mk_node_publish_gen(n, gen, false),
                    "the node catches up at the next maintenance");
    /* a failure here leaves the node behind until mk_sqlstore_maintain
     * publishes the generation (kmsd does every few hundred ms) */
    mk_err_clear();
    mk_node_close(opened);
}
