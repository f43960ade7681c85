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

    /* Each statement commits on its own (autocommit): a single INSERT,
     * and on conflict a single conditional UPDATE, are each atomic under
     * SQLite's write lock, so two processes inserting the same digest
     * cannot both succeed. */
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
    /* Keep the table near its live size: a bounded batch now and then,
     * at most MK_REPLAY_PRUNE_BATCH per MK_REPLAY_PRUNE_EVERY inserts per
     * connection. The entry above is committed; a failed prune only
     * delays cleaning. */
    if (++s->replay_inserts % MK_REPLAY_PRUNE_EVERY == 0) {
        uint64_t n;
        (void)prune_batch(s, now_unix, MK_REPLAY_PRUNE_BATCH, &n);
        mk_err_clear();
    }
    return MK_OK;
fail:
    mk_store_stmt_done(st);
    return rc;
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
