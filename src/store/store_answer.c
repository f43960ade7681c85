/* store_answer.c - the writes of one KMS answer in one transaction
 * (answer_commit of kms/kms_store.h): its replay-cache entry, if any, and
 * its record.
 *
 * A commit costs system calls (WAL frame writes, file locks), more than the
 * SQL itself: one commit per answer instead of one per write. The record
 * is checked before anything is written, so that the only failures inside
 * the transaction are the database's (busy, I/O), the replay verdict or a
 * stale cache, and each undoes the whole answer.
 *
 * The same transaction checks the lookups the answer was computed on
 * (store_cache.c): if any was served from the connection's cache and the
 * generation has moved since, nothing is written and the result is
 * MK_E_STALE.
 */
#include "store/store_int.h"

mk_err mk_store_answer_commit(mk_sqlstore *s, const uint8_t *digest,
                              uint64_t expires_unix, uint64_t now_unix,
                              const mk_record *r)
{
    mk_err rc;
    /* the flag belongs to this answer, whatever the outcome: the next
     * answer starts with no cached rows to check */
    bool used = s->cache.used;
    int64_t used_gen = s->cache.used_gen;
    s->cache.used = false;

    MK_GUARD(mk_store_record_check(r));
    if (s->writer != NULL) {
        mk_gen_seen seen = {0};
        rc = mk_store_writer_answer(s->writer, digest, expires_unix,
                                    now_unix, r, used, used_gen, &seen);
        if (seen.read) /* the cache is this thread's: update it here */
            mk_store_cache_confirm(s, seen.known, seen.gen);
        if (rc == MK_E_STALE) /* count it and drop the cache, as below */
            rc = mk_store_cache_stale(s);
        return rc;
    }
    if (digest == NULL && !used) /* one statement: its own transaction */
        return mk_store_record_write(s, r);
    /* BEGIN IMMEDIATE: the busy timeout applies here, and the replay
     * verdict is taken under the write lock */
    MK_GUARD(mk_store_begin_write(s));
    /* first, before anything is written: a stale answer writes nothing */
    rc = mk_store_cache_check(s, used, used_gen);
    if (rc == MK_OK && digest != NULL)
        rc = mk_store_replay_insert(s, digest, expires_unix, now_unix);
    if (rc == MK_OK)
        rc = mk_store_record_write(s, r);
    /* a replay or a stale answer rolls back: nothing written */
    rc = mk_store_end(s, rc);
    if (rc == MK_OK && digest != NULL)
        mk_store_replay_prune_due(s, now_unix);
    return rc;
}
