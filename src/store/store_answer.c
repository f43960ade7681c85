/* store_answer.c - the writes of one KMS answer in one transaction
 * (answer_commit of kms/kms_store.h): its replay-cache entry, if any, and
 * its record.
 *
 * A commit costs system calls (WAL frame writes, file locks), more than the
 * SQL itself: one commit per answer instead of one per write. The record
 * is checked before anything is written, so that the only failures inside
 * the transaction are the database's (busy, I/O) or the replay verdict,
 * and either undoes the whole answer.
 */
#include "store/store_int.h"

mk_err mk_store_answer_commit(mk_sqlstore *s, const uint8_t *digest,
                              uint64_t expires_unix, uint64_t now_unix,
                              const mk_record *r)
{
    mk_err rc;
    MK_GUARD(mk_store_record_check(r));
    if (s->writer != NULL)
        return mk_store_writer_answer(s->writer, digest, expires_unix,
                                      now_unix, r);
    if (digest == NULL) /* one statement: its own transaction */
        return mk_store_record_write(s, r);
    /* BEGIN IMMEDIATE: the busy timeout applies here, and the replay
     * verdict is taken under the write lock */
    MK_GUARD(mk_store_begin_write(s));
    rc = mk_store_replay_insert(s, digest, expires_unix, now_unix);
    if (rc == MK_OK)
        rc = mk_store_record_write(s, r);
    rc = mk_store_end(s, rc); /* a replay rolls back: nothing written */
    if (rc == MK_OK)
        mk_store_replay_prune_due(s, now_unix);
    return rc;
}
