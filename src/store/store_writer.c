/* store_writer.c - group commit for the writes of many threads (store.h,
 * mk_sqlstore_writer).
 *
 * Each answer writes a replay entry and a record (answer_commit). Committed
 * one answer at a time, a connection spends most of its time on the
 * per-commit system calls (WAL frame writes, file locks), and every thread
 * of a server contends for the one SQLite write lock. Here the threads hand
 * their answers to one writer thread that runs whatever has queued up in
 * ONE transaction and wakes every caller after the commit: a caller returns
 * only once its answer is committed (same durability as a direct call), and
 * under load one commit carries many answers. Within the batch each answer
 * stays all-or-nothing: a replayed digest skips that answer's record, and
 * the record fields were checked before queueing, so any other failure is
 * the database's and undoes the batch.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define MK_WRITER_CACHE_KIB 256

/* One queued answer; lives on the caller's stack until done. */
typedef struct wop {
    const uint8_t *digest; /* NULL: the record alone */
    uint64_t expires_unix, now_unix;
    const mk_record *record;
    /* the caller's lookups were served from its cache, with rows of this
     * generation (store_cache.c): checked against the batch's */
    bool used;
    int64_t used_gen;
    mk_gen_seen seen; /* what the batch read, handed back */
    mk_err result;
    const char *what; /* detail of result, re-raised on the caller's thread */
    bool done;
    struct wop *next;
} wop;

struct mk_sqlstore_writer {
    mk_sqlstore *store; /* the writer thread's own connection */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work; /* writer waits for ops */
    pthread_cond_t done; /* callers wait for their op */
    wop *head, *tail;    /* queued, not yet taken */
    bool stop;
    uint64_t batches, ops; /* for mk_sqlstore_writer_stats */
};

static void run_one(mk_sqlstore *s, wop *op, const mk_gen_seen *seen)
{
    mk_err_clear();
    op->result = MK_OK;
    op->seen = *seen;
    /* before anything of it is written; the batch goes on without it */
    if (op->used && (!seen->known || seen->gen != op->used_gen))
        op->result = mk_err_raise(MK_E_STALE, -1, 0,
                                  "the lookups of this answer came from a "
                                  "snapshot that is no longer current; "
                                  "nothing written");
    else if (op->digest != NULL)
        op->result = mk_store_replay_insert(s, op->digest, op->expires_unix,
                                            op->now_unix);
    if (op->result == MK_OK)
        op->result = mk_store_record_write(s, op->record);
    op->what = mk_err_last()->what;
}

/* Anything but the replay verdict or a stale answer is a failure of the
 * database (the record was checked before queueing) and undoes the whole
 * transaction. */
static bool is_db_failure(mk_err e)
{
    return e != MK_OK && e != MK_E_MIKEY_TS && e != MK_E_STALE;
}

static void fail_all(wop *batch, mk_err e, const char *what)
{
    for (wop *op = batch; op != NULL; op = op->next) {
        op->result = e;
        op->what = what;
        op->seen.read = false; /* rolled back: tells the caller nothing */
    }
}

/* Run a batch in one write transaction; every op gets its result. */
static void run_batch(mk_sqlstore *s, wop *batch)
{
    mk_gen_seen seen = {.read = true};
    mk_err rc = mk_store_begin_write(s);
    if (rc != MK_OK) {
        fail_all(batch, rc, mk_err_last()->what);
        return;
    }
    /* under the write lock: it cannot move during the batch (answers do
     * not write the rows it counts) */
    rc = mk_store_gen_read(s, &seen.known, &seen.gen);
    if (rc != MK_OK) {
        const char *what = mk_err_last()->what;
        (void)mk_store_end(s, rc); /* rollback */
        fail_all(batch, rc, what);
        return;
    }
    for (wop *op = batch; op != NULL; op = op->next) {
        run_one(s, op, &seen);
        if (is_db_failure(op->result)) {
            rc = op->result;
            break;
        }
    }
    if (rc != MK_OK) {
        const char *what = mk_err_last()->what;
        (void)mk_store_end(s, rc); /* rollback */
        fail_all(batch, rc, what);
        return;
    }
    rc = mk_store_end(s, MK_OK);
    if (rc != MK_OK) {
        fail_all(batch, rc, mk_err_last()->what);
        return;
    }
    uint64_t now = 0;
    for (wop *op = batch; op != NULL; op = op->next)
        if (op->digest != NULL && op->now_unix > now)
            now = op->now_unix;
    if (now > 0)
        mk_store_replay_prune_due(s, now);
}

static void *writer_main(void *arg)
{
    mk_sqlstore_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->head == NULL && !w->stop)
            pthread_cond_wait(&w->work, &w->mu);
        if (w->head == NULL && w->stop)
            break;
        wop *batch = w->head;
        w->head = w->tail = NULL;
        pthread_mutex_unlock(&w->mu);

        run_batch(w->store, batch);

        pthread_mutex_lock(&w->mu);
        w->batches++;
        for (wop *op = batch, *next; op != NULL; op = next) {
            next = op->next; /* op may go away once done is seen */
            op->done = true;
            w->ops++;
        }
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Queue op and wait for its commit. */
static mk_err submit(mk_sqlstore_writer *w, wop *op)
{
    op->done = false;
    op->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
        pthread_mutex_unlock(&w->mu);
        MK_FAIL(MK_E_UNAVAILABLE, "store writer stopped");
    }
    if (w->tail != NULL)
        w->tail->next = op;
    else
        w->head = op;
    w->tail = op;
    pthread_cond_signal(&w->work);
    while (!op->done)
        pthread_cond_wait(&w->done, &w->mu);
    pthread_mutex_unlock(&w->mu);
    if (op->result != MK_OK)
        return mk_err_raise(op->result, -1, 0,
                            op->what ? op->what : "store write failed");
    return MK_OK;
}

mk_err mk_store_writer_answer(mk_sqlstore_writer *w, const uint8_t *digest,
                              uint64_t expires_unix, uint64_t now_unix,
                              const mk_record *r, bool used, int64_t used_gen,
                              mk_gen_seen *seen)
{
    wop op = {.digest = digest, .expires_unix = expires_unix,
              .now_unix = now_unix, .record = r, .used = used,
              .used_gen = used_gen};
    mk_err rc = submit(w, &op);
    *seen = op.seen;
    return rc;
}

mk_err mk_sqlstore_writer_start(const char *path, mk_bytes master_key,
                                uint32_t busy_timeout_ms, bool durable,
                                mk_sqlstore_writer **out)
{
    *out = NULL;
    mk_sqlstore_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        MK_FAIL(MK_E_UNAVAILABLE, "out of memory");
    mk_err rc = mk_sqlstore_open_existing(path, master_key, busy_timeout_ms,
                                          &w->store);
    if (rc == MK_OK && durable)
        rc = mk_sqlstore_set_durable(w->store, true);
    /* The writer only appends: replay entries and records land at the
     * right edge of their B-trees (keys that grow with time), so a few
     * dozen pages are its working set. A small cache keeps it from
     * holding every page it ever wrote (SQLite's default would grow the
     * process by up to 2 MiB over the first thousands of answers). */
    if (rc == MK_OK)
        rc = mk_store_set_page_cache(w->store, MK_WRITER_CACHE_KIB);
    if (rc != MK_OK) {
        mk_err_detail keep = *mk_err_last();
        mk_sqlstore_close(w->store);
        free(w);
        return mk_err_raise(keep.code, keep.payload, keep.offset, keep.what);
    }
    if (pthread_mutex_init(&w->mu, NULL) != 0)
        goto fail_store;
    if (pthread_cond_init(&w->work, NULL) != 0)
        goto fail_mu;
    if (pthread_cond_init(&w->done, NULL) != 0)
        goto fail_work;
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
        goto fail_done;
    *out = w;
    return MK_OK;

fail_done:
    pthread_cond_destroy(&w->done);
fail_work:
    pthread_cond_destroy(&w->work);
fail_mu:
    pthread_mutex_destroy(&w->mu);
fail_store:
    mk_sqlstore_close(w->store);
    free(w);
    MK_FAIL(MK_E_UNAVAILABLE, "cannot start the store writer thread");
}

void mk_sqlstore_writer_stop(mk_sqlstore_writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true; /* what is queued is still written */
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    mk_sqlstore_close(w->store);
    free(w);
}

void mk_sqlstore_writer_stats(mk_sqlstore_writer *w, uint64_t *batches,
                              uint64_t *ops)
{
    pthread_mutex_lock(&w->mu);
    *batches = w->batches;
    *ops = w->ops;
    pthread_mutex_unlock(&w->mu);
}

void mk_sqlstore_set_writer(mk_sqlstore *s, mk_sqlstore_writer *w)
{
    s->writer = w;
}
