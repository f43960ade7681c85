/* store_records.c - the audit records (profile §8): one row per answer
 * that issues, resolves or refuses a ticket. */
#include <stdint.h>
#include <string.h>

#include "store/store_int.h"

/* A fixed char array field that must hold a NUL-terminated string. */
static bool field_ok(const char *f, size_t cap)
{
    return strnlen(f, cap) < cap;
}

mk_err mk_store_record_check(const mk_record *r)
{
    if (!field_ok(r->subscriber, sizeof r->subscriber) ||
        !field_ok(r->initiator, sizeof r->initiator) ||
        !field_ok(r->responder, sizeof r->responder) ||
        !field_ok(r->ticket_id, sizeof r->ticket_id) ||
        !field_ok(r->spis, sizeof r->spis) ||
        !field_ok(r->outcome, sizeof r->outcome))
        MK_FAIL(MK_E_ARG, "record field is not NUL-terminated");
    if (r->time_unix > (uint64_t)INT64_MAX ||
        r->valid_from > (uint64_t)INT64_MAX ||
        r->valid_to > (uint64_t)INT64_MAX)
        MK_FAIL(MK_E_ARG, "record time too large for the store");
    return MK_OK;
}

mk_err mk_store_answer_check(const mk_answer_write *w)
{
    const mk_record *check[] = {w->record, w->replayed,
                                w->note != NULL ? w->note->refused : NULL};
    for (size_t i = 0; i < sizeof check / sizeof check[0]; i++)
        if (check[i] != NULL)
            MK_GUARD(mk_store_record_check(check[i]));
    if (w->digest != NULL &&
        (w->expires_unix == 0 || w->expires_unix > (uint64_t)INT64_MAX))
        MK_FAIL(MK_E_ARG, "replay entry without a valid expiry");
    if (w->replayed != NULL && (w->digest == NULL || w->record == NULL))
        MK_FAIL(MK_E_ARG, "a replayed record without a replay entry");
    if (w->note == NULL)
        return MK_OK;
    if (w->record == NULL || w->note->refused == NULL)
        MK_FAIL(MK_E_ARG, "a note without its records");
    if (w->note->expires_unix <= w->now_unix ||
        w->note->expires_unix > (uint64_t)INT64_MAX)
        MK_FAIL(MK_E_ARG, "resolved-ticket entry already expired");
    return MK_OK;
}

static mk_err bind_field(mk_sqlstore *s, sqlite3_stmt *st, int i,
                         const char *f, size_t cap)
{
    size_t n = strnlen(f, cap);
    if (n == cap) /* mk_store_record_check was skipped */
        MK_FAIL(MK_E_ARG, "record field is not NUL-terminated");
    int rc = sqlite3_bind_text(st, i, f, (int)n, SQLITE_STATIC);
    return rc == SQLITE_OK ? MK_OK : mk_store_db_err(s, rc, "bind");
}

mk_err mk_store_record_write(mk_sqlstore *s, const mk_record *r)
{
    sqlite3_stmt *st = NULL;
    mk_err rc;
    MK_GUARD(mk_store_stmt(s, ST_RECORD_INSERT, &st));
    MK_GUARD_GOTO(mk_store_bind_u64(s, st, 1, r->time_unix), rc, fail);
    MK_GUARD_GOTO(mk_store_bind_i64(s, st, 2, r->service), rc, fail);
#define FIELD(i, f) \
    MK_GUARD_GOTO(bind_field(s, st, (i), r->f, sizeof r->f), rc, fail)
    FIELD(3, subscriber);
    FIELD(4, initiator);
    FIELD(5, responder);
    FIELD(6, ticket_id);
    MK_GUARD_GOTO(mk_store_bind_u64(s, st, 7, r->valid_from), rc, fail);
    MK_GUARD_GOTO(mk_store_bind_u64(s, st, 8, r->valid_to), rc, fail);
    FIELD(9, spis);
    FIELD(10, outcome);
#undef FIELD
    return mk_store_exec(s, st, "cannot write a record");
fail:
    mk_store_stmt_done(st);
    return rc;
}

static uint64_t col_u64(sqlite3_stmt *st, int i)
{
    sqlite3_int64 v = sqlite3_column_int64(st, i);
    return v < 0 ? 0 : (uint64_t)v;
}

static mk_err read_record(sqlite3_stmt *st, mk_record *r)
{
    memset(r, 0, sizeof *r);
    r->time_unix = col_u64(st, 0);
    r->service = sqlite3_column_int(st, 1);
    MK_GUARD(mk_store_col_text(st, 2, r->subscriber, sizeof r->subscriber));
    MK_GUARD(mk_store_col_text(st, 3, r->initiator, sizeof r->initiator));
    MK_GUARD(mk_store_col_text(st, 4, r->responder, sizeof r->responder));
    MK_GUARD(mk_store_col_text(st, 5, r->ticket_id, sizeof r->ticket_id));
    r->valid_from = col_u64(st, 6);
    r->valid_to = col_u64(st, 7);
    MK_GUARD(mk_store_col_text(st, 8, r->spis, sizeof r->spis));
    return mk_store_col_text(st, 9, r->outcome, sizeof r->outcome);
}

mk_err mk_sqlstore_records_prune(mk_sqlstore *s, uint64_t before_unix,
                                 size_t max, size_t *deleted)
{
    sqlite3_stmt *st = NULL;
    mk_err rc;
    *deleted = 0;
    if (max == 0 || max > (size_t)INT64_MAX)
        MK_FAIL(MK_E_ARG, "prune batch of 0 or too many records");
    MK_GUARD(mk_store_begin_write(s));
    MK_GUARD_GOTO(mk_store_stmt(s, ST_RECORDS_PRUNE, &st), rc, done);
    MK_GUARD_GOTO(mk_store_bind_u64(s, st, 1, before_unix), rc, done);
    MK_GUARD_GOTO(mk_store_bind_u64(s, st, 2, max), rc, done);
    MK_GUARD_GOTO(mk_store_exec(s, st, "cannot delete records"), rc, done);
    *deleted = (size_t)sqlite3_changes(s->db);
done:
    rc = mk_store_end(s, rc);
    if (rc != MK_OK)
        *deleted = 0;
    return rc;
}

mk_err mk_sqlstore_records(mk_sqlstore *s, uint64_t since_unix,
                           const char *subscriber, mk_sqlstore_record_cb cb,
                           void *arg)
{
    sqlite3_stmt *st = NULL;
    mk_record r;
    mk_err rc = MK_OK;

    MK_GUARD(mk_store_stmt(s, subscriber ? ST_RECORDS_SINCE_SUB
                                         : ST_RECORDS_SINCE,
                           &st));
    MK_GUARD_GOTO(mk_store_bind_u64(s, st, 1, since_unix), rc, done);
    if (subscriber != NULL)
        MK_GUARD_GOTO(mk_store_bind_text(s, st, 2, subscriber), rc, done);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        MK_GUARD_GOTO(read_record(st, &r), rc, done);
        MK_GUARD_GOTO(cb(arg, &r), rc, done);
    }
    if (step != SQLITE_DONE)
        rc = mk_store_db_err(s, step, "cannot read the records");
done:
    mk_store_stmt_done(st);
    return rc;
}
