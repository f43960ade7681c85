/* store_replay.c - the replay cache shared by every responder process
 * (profile §7, RFC 3830 §5.4): one row per authenticated message digest,
 * until the message's timestamp has left the skew window. */
#include "store/store_int.h"

#define PRUNE_ALL_BATCH 10000

/* Delete up to `limit` expired entries in one statement; *n = how many. */
static mk_err prune_batch(mk_sqlstore *s, uint64_t now_unix, int limit,
                          uint64_t *n)
{
    sqlite3_stmt *st = NULL;
    MK_GUARD(mk_store_stmt(s, ST_REPLAY_PRUNE, &st));
    mk_err rc = mk_store_bind_u64(s, st, 1, now_unix);
    if (rc != MK_OK) {
        mk_store_stmt_done(st);
        return rc;
    }
    sqlite3_bind_int(st, 2, limit);
    MK_GUARD(mk_store_exec(s, st, "cannot prune the replay cache"));
    *n = (uint64_t)sqlite3_changes(s->db);
    return MK_OK;
}

mk_err mk_store_replay_insert(mk_sqlstore *s, const uint8_t digest[32],
                              uint64_t expires_unix, uint64_t now_unix)
{
    sqlite3_stmt *st = NULL;
    mk_err rc;
    const mk_bytes d = MK_BYTES(digest, 32);

    /* Run inside the caller's write transaction (BEGIN IMMEDIATE): the
     * INSERT and, on conflict, the conditional UPDATE are evaluated under
     * SQLite's write lock, so two connections (or processes) inserting the
     * same digest cannot both succeed. */
    MK_GUARD(mk_store_stmt(s, ST_REPLAY_INSERT, &st));
    MK_GUARD_GOTO(mk_store_bind_blob(s, st, 1, d), rc, fail);
    MK_GUARD_GOTO(mk_store_bind_u64(s, st, 2, expires_unix), rc, fail);
    MK_GUARD(mk_store_exec(s, st, "cannot write the replay cache"));
    if (sqlite3_changes(s->db) == 0) {
        /* present: take it over only if it has expired */
        MK_GUARD(mk_store_stmt(s, ST_REPLAY_REVIVE, &st));
        MK_GUARD_GOTO(mk_store_bind_blob(s, st, 1, d), rc, fail);
        MK_GUARD_GOTO(mk_store_bind_u64(s, st, 2, expires_unix), rc, fail);
        MK_GUARD_GOTO(mk_store_bind_u64(s, st, 3, now_unix), rc, fail);
        MK_GUARD(mk_store_exec(s, st, "cannot write the replay cache"));
        if (sqlite3_changes(s->db) == 0)
            MK_FAIL(MK_E_MIKEY_TS, "replayed message");
    }
    s->replay_inserts++;
    return MK_OK;
fail:
    mk_store_stmt_done(st);
    return rc;
}

void mk_store_replay_prune_due(mk_sqlstore *s, uint64_t now_unix)
{
    /* Keep the table near its live size: at most MK_REPLAY_PRUNE_BATCH
     * deletions per MK_REPLAY_PRUNE_EVERY inserts per connection, in a
     * statement of its own (the answers are already committed). */
    if (s->replay_inserts - s->replay_pruned_at < MK_REPLAY_PRUNE_EVERY)
        return;
    s->replay_pruned_at = s->replay_inserts;
    uint64_t n;
    (void)prune_batch(s, now_unix, MK_REPLAY_PRUNE_BATCH, &n);
    mk_err_clear();
}

mk_err mk_sqlstore_replay_prune(mk_sqlstore *s, uint64_t now_unix,
                                uint64_t *deleted)
{
    uint64_t total = 0, n;
    /* batches, each its own transaction: the write lock is never held
     * long enough to make a responder wait past its busy timeout */
    do {
        MK_GUARD(prune_batch(s, now_unix, PRUNE_ALL_BATCH, &n));
        total += n;
    } while (n == PRUNE_ALL_BATCH);
    if (deleted != NULL)
        *deleted = total;
    return MK_OK;
}

mk_err mk_sqlstore_replay_count(mk_sqlstore *s, uint64_t *count)
{
    sqlite3_stmt *st = NULL;
    MK_GUARD(mk_store_stmt(s, ST_REPLAY_COUNT, &st));
    mk_err rc = MK_OK;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *count = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = mk_store_db_err(s, step, "cannot count the replay cache");
    mk_store_stmt_done(st);
    return rc;
}
