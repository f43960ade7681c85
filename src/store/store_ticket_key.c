/* store_ticket_key.c - versioned ticket protection keys (profile §6): one
 * active key seals new tickets, resolve-only keys open the tickets they
 * sealed, retired keys are destroyed. */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/* The row at the current step of ST_TK_ACTIVE / ST_TK_BY_ID, unwrapped. */
static mk_err read_key(mk_sqlstore *s, sqlite3_stmt *st, mk_ticket_key *out)
{
    mk_bytes id = mk_store_col_blob(st, 0);
    if (id.n == 0 || id.n > MK_TK_ID_MAX)
        MK_FAIL(MK_E_INTERNAL, "stored ticket key id is malformed");
    memcpy(out->id, id.p, id.n);
    out->id_len = id.n;
    int state = sqlite3_column_int(st, 2);
    if (state != MK_TK_ACTIVE && state != MK_TK_RESOLVE_ONLY)
        MK_FAIL(MK_E_INTERNAL, "stored ticket key state is wrong");
    out->state = (mk_tk_state)state;
    MK_GUARD(mk_store_unwrap(s, MK_WRAP_DOMAIN_TPK, id,
                             mk_store_col_blob(st, 1), &out->key));
    if (out->key.n != MK_TPK_LEN)
        MK_FAIL(MK_E_INTERNAL, "stored ticket key has a bad length");
    return MK_OK;
}

static mk_err one_key(mk_sqlstore *s, sqlite3_stmt *st, mk_ticket_key *out)
{
    mk_err rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = read_key(s, st, out);
    else if (step == SQLITE_DONE)
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0, "no such ticket key");
    else
        rc = mk_store_db_err(s, step, "cannot read a ticket key");
    mk_store_stmt_done(st);
    if (rc != MK_OK) {
        mk_key_wipe(&out->key);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

/* The key found by st, read with the generation in one read transaction
 * and kept in the cache. */
static mk_err key_and_generation(mk_sqlstore *s, sqlite3_stmt *st,
                                 mk_ticket_key *out)
{
    mk_err rc = mk_store_begin_read(s);
    if (rc != MK_OK) {
        mk_store_stmt_done(st);
        return rc;
    }
    rc = one_key(s, st, out);
    if (rc == MK_OK)
        rc = mk_store_cache_tk_put(s, out);
    rc = mk_store_end(s, rc);
    if (rc != MK_OK) {
        mk_key_wipe(&out->key);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

mk_err mk_store_ticket_key_active(mk_sqlstore *s, mk_ticket_key *out)
{
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    if (mk_store_cache_tk_active(s, out))
        return MK_OK;
    MK_GUARD(mk_store_stmt(s, ST_TK_ACTIVE, &st));
    mk_err rc = key_and_generation(s, st, out);
    if (rc == MK_E_NOT_FOUND)
        mk_err_raise(rc, -1, 0, "no active ticket key (kmsctl ticketkey rotate)");
    return rc;
}

mk_err mk_store_ticket_key_by_id(mk_sqlstore *s, mk_bytes id,
                                 mk_ticket_key *out)
{
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    if (id.n == 0 || id.n > MK_TK_ID_MAX)
        MK_FAIL(MK_E_NOT_FOUND, "no such ticket key");
    if (mk_store_cache_tk_by_id(s, id, out))
        return MK_OK;
    MK_GUARD(mk_store_stmt(s, ST_TK_BY_ID, &st));
    mk_err rc = mk_store_bind_blob(s, st, 1, id);
    if (rc != MK_OK) {
        mk_store_stmt_done(st);
        return rc;
    }
    return key_and_generation(s, st, out);
}

static mk_err max_version(mk_sqlstore *s, int64_t *v)
{
    sqlite3_stmt *st = NULL;
    MK_GUARD(mk_store_stmt(s, ST_TK_MAX_VERSION, &st));
    mk_err rc = MK_OK;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    else
        rc = mk_store_db_err(s, step, "cannot read the ticket keys");
    mk_store_stmt_done(st);
    return rc;
}

mk_err mk_store_ticket_key_new(const mk_key *master, int64_t max_version,
                               uint64_t now_unix, mk_store_new_tk *out)
{
    mk_key tpk = {0};
    char id[MK_TK_ID_MAX];
    memset(out, 0, sizeof *out);
    if (max_version < 0 || max_version >= 99999999)
        MK_FAIL(MK_E_INTERNAL, "ticket key versions exhausted");
    uint32_t v = (uint32_t)max_version + 1;
    /* the id names the version (profile §6): "tpk-0001" */
    int idn = snprintf(id, sizeof id, "tpk-%04u", (unsigned)v);
    if (idn < 0 || (size_t)idn >= sizeof id)
        MK_FAIL(MK_E_INTERNAL, "ticket key id longer than its bound");
    tpk.n = MK_TPK_LEN;
    mk_err rc = mk_random(tpk.b, MK_TPK_LEN);
    if (rc == MK_OK)
        rc = mk_store_wrap_under(master, MK_WRAP_DOMAIN_TPK,
                                 MK_BYTES(id, (size_t)idn), mk_key_bytes(&tpk),
                                 out->wrapped, sizeof out->wrapped,
                                 &out->wrapped_len);
    mk_key_wipe(&tpk);
    if (rc != MK_OK) {
        mk_wipe(out->wrapped, sizeof out->wrapped);
        return rc;
    }
    memcpy(out->info.id, id, (size_t)idn);
    out->info.id_len = (size_t)idn;
    out->info.version = v;
    out->info.state = MK_TK_ACTIVE;
    out->info.created_unix = now_unix;
    return MK_OK;
}

mk_err mk_sqlstore_ticket_key_rotate(mk_sqlstore *s, uint64_t now_unix,
                                     mk_ticket_key_info *created)
{
    mk_store_new_tk k;
    int64_t max = 0;
    sqlite3_stmt *st = NULL;
    mk_err rc;

    memset(&k, 0, sizeof k);
    MK_GUARD(mk_store_begin_write(s));
    MK_GUARD_GOTO(max_version(s, &max), rc, done);
    MK_GUARD_GOTO(mk_store_ticket_key_new(&s->master, max, now_unix, &k), rc,
                  done);
    MK_GUARD_GOTO(mk_store_exec_id(s, ST_TK_DEMOTE_ACTIVE,
                                   "cannot demote the active ticket key"),
                  rc, done);
    MK_GUARD_GOTO(mk_store_stmt(s, ST_TK_INSERT, &st), rc, done);
    MK_GUARD_GOTO(mk_store_bind_i64(s, st, 1, k.info.version), rc, done);
    MK_GUARD_GOTO(mk_store_bind_blob(s, st, 2,
                                     MK_BYTES(k.info.id, k.info.id_len)),
                  rc, done);
    MK_GUARD_GOTO(mk_store_bind_blob(s, st, 3,
                                     MK_BYTES(k.wrapped, k.wrapped_len)),
                  rc, done);
    MK_GUARD_GOTO(mk_store_bind_u64(s, st, 4, now_unix), rc, done);
    MK_GUARD_GOTO(mk_store_exec(s, st, "cannot add the ticket key"), rc,
                  done);
    if (created != NULL)
        *created = k.info;
done:
    mk_wipe(k.wrapped, sizeof k.wrapped);
    rc = mk_store_end(s, rc);
    if (rc == MK_OK) /* every process refuses the old rows from now on */
        mk_store_changed(s);
    return rc;
}

mk_err mk_sqlstore_ticket_key_retire(mk_sqlstore *s, mk_bytes id)
{
    sqlite3_stmt *st = NULL;
    mk_err rc;

    if (id.n == 0 || id.n > MK_TK_ID_MAX)
        MK_FAIL(MK_E_NOT_FOUND, "no such ticket key");
    MK_GUARD(mk_store_begin_write(s));
    MK_GUARD_GOTO(mk_store_stmt(s, ST_TK_STATE_BY_ID, &st), rc, done);
    MK_GUARD_GOTO(mk_store_bind_blob(s, st, 1, id), rc, done);
    int step = sqlite3_step(st);
    int state = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    mk_store_stmt_done(st);
    if (step == SQLITE_DONE) {
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0, "no such ticket key");
        goto done;
    }
    if (step != SQLITE_ROW) {
        rc = mk_store_db_err(s, step, "cannot read the ticket keys");
        goto done;
    }
    if (state == MK_TK_ACTIVE) {
        rc = mk_err_raise(MK_E_VALUE, -1, 0,
                          "the active ticket key cannot be retired "
                          "(rotate first)");
        goto done;
    }
    if (state == MK_TK_RETIRED) {
        rc = MK_OK;
        goto done;
    }
    MK_GUARD_GOTO(mk_store_stmt(s, ST_TK_RETIRE, &st), rc, done);
    MK_GUARD_GOTO(mk_store_bind_blob(s, st, 1, id), rc, done);
    rc = mk_store_exec(s, st, "cannot retire the ticket key");
done:
    rc = mk_store_end(s, rc);
    if (rc != MK_OK)
        return rc;
    /* every process drops and wipes the key at its next answer */
    mk_store_changed(s);
    /* The row's bytes are zeroed in the page (secure_delete), but the WAL
     * still holds the page as it was: copy it out and cut the WAL, so no
     * file of the store keeps the wrapped key (doc/profile.md §9.38). A
     * key retired before gets this again: "run it again" repairs a
     * checkpoint that a reader kept from completing. */
    return mk_store_wal_truncate(s);
}

mk_err mk_sqlstore_ticket_key_list(mk_sqlstore *s,
                                   mk_sqlstore_ticket_key_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    mk_err rc = MK_OK;
    MK_GUARD(mk_store_stmt(s, ST_TK_LIST, &st));
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        mk_ticket_key_info k;
        memset(&k, 0, sizeof k);
        mk_bytes id = mk_store_col_blob(st, 0);
        if (id.n == 0 || id.n > MK_TK_ID_MAX) {
            rc = mk_err_raise(MK_E_INTERNAL, -1, 0,
                              "stored ticket key id is malformed");
            break;
        }
        memcpy(k.id, id.p, id.n);
        k.id_len = id.n;
        k.version = (uint32_t)sqlite3_column_int64(st, 1);
        k.state = (mk_tk_state)sqlite3_column_int(st, 2);
        sqlite3_int64 c = sqlite3_column_int64(st, 3);
        k.created_unix = c < 0 ? 0 : (uint64_t)c;
        rc = cb(arg, &k);
        if (rc != MK_OK)
            break;
    }
    if (rc == MK_OK && step != SQLITE_DONE)
        rc = mk_store_db_err(s, step, "cannot list the ticket keys");
    mk_store_stmt_done(st);
    return rc;
}
