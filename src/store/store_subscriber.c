/* store_subscriber.c - subscribers, their IMPUs and policy (profile §4, §5):
 * the lookups of the KMS core and the administration of store.h. */
#include <string.h>
#include <time.h>

#include "store/store_int.h"
#include "util/uri.h"

bool mk_sqlstore_impu_ok(const char *uri)
{
    if (uri == NULL)
        return false;
    size_t n = strnlen(uri, MK_URI_MAX);
    /* doc/profile.md §9.35: the IDRi / IDRr the KMS accepts */
    return n < MK_URI_MAX && mk_uri_sip_tel_ok(MK_BYTES(uri, n));
}

/* A responder pattern: a non-empty fnmatch(3) pattern of printable bytes. */
static bool pattern_ok(const char *p)
{
    size_t n = strnlen(p, MK_URI_MAX);
    if (n == 0 || n >= MK_URI_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

mk_err mk_store_subscriber_check(const mk_subscriber *sub)
{
    if (sub->psk_id_len == 0 || sub->psk_id_len > MK_PSK_ID_MAX)
        MK_FAIL(MK_E_VALUE, "PSK id must be 1 to 128 bytes");
    if (sub->psk.n != 16 && sub->psk.n != 32)
        MK_FAIL(MK_E_VALUE, "PSK must be 16 or 32 bytes");
    if (sub->n_impu == 0 || sub->n_impu > MK_IMPU_MAX)
        MK_FAIL(MK_E_VALUE, "a subscriber has 1 to 8 IMPUs");
    for (size_t i = 0; i < sub->n_impu; i++) {
        if (!mk_sqlstore_impu_ok(sub->impu[i]))
            MK_FAIL(MK_E_VALUE,
                    "IMPU must be a sip:, sips: or tel: URI (RFC 3261 / "
                    "RFC 3966 characters)");
        for (size_t j = 0; j < i; j++)
            if (strcmp(sub->impu[i], sub->impu[j]) == 0)
                MK_FAIL(MK_E_VALUE, "IMPU given twice");
    }
    if (sub->policy.n_patterns > MK_PATTERN_MAX)
        MK_FAIL(MK_E_VALUE, "at most 8 responder patterns");
    for (size_t i = 0; i < sub->policy.n_patterns; i++)
        if (!pattern_ok(sub->policy.responder_patterns[i]))
            MK_FAIL(MK_E_VALUE, "responder pattern empty or not printable");
    return MK_OK;
}

/* The row at the current step of a subscriber SELECT (column order of
 * ST_SUB_BY_*): everything but the PSK; its wrapped bytes are copied. */
static mk_err read_row(sqlite3_stmt *st, mk_subscriber *out, int64_t *rowid,
                       uint8_t *wrapped, size_t *wrapped_len)
{
    *rowid = sqlite3_column_int64(st, 0);
    mk_bytes id = mk_store_col_blob(st, 1);
    mk_bytes w = mk_store_col_blob(st, 2);
    if (id.n == 0 || id.n > MK_PSK_ID_MAX || w.n > MK_WRAPPED_MAX)
        MK_FAIL(MK_E_INTERNAL, "stored subscriber row is malformed");
    memcpy(out->psk_id, id.p, id.n);
    out->psk_id_len = id.n;
    if (w.n > 0)
        memcpy(wrapped, w.p, w.n);
    *wrapped_len = w.n;
    out->active = sqlite3_column_int(st, 3) != 0;
    sqlite3_int64 ml = sqlite3_column_int64(st, 4);
    out->policy.max_lifetime =
        ml < 0 ? 0 : ml > UINT32_MAX ? UINT32_MAX : (uint32_t)ml;
    out->policy.forking_allowed = sqlite3_column_int(st, 5) != 0;
    out->policy.reuse_allowed = sqlite3_column_int(st, 6) != 0;
    out->policy.initiator_keys_allowed = sqlite3_column_int(st, 7) != 0;
    out->policy.responder_keys_allowed = sqlite3_column_int(st, 8) != 0;
    return MK_OK;
}

/* Fill a fixed array of strings from a one-column SELECT by subscriber. */
static mk_err read_list(mk_sqlstore *s, mk_st id, int64_t rowid,
                        char (*dst)[MK_URI_MAX], size_t max, size_t *n)
{
    sqlite3_stmt *st = NULL;
    mk_err rc = MK_OK;
    MK_GUARD(mk_store_stmt(s, id, &st));
    *n = 0;
    if ((rc = mk_store_bind_i64(s, st, 1, rowid)) != MK_OK) {
        mk_store_stmt_done(st);
        return rc;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == max) {
            rc = mk_err_raise(MK_E_INTERNAL, -1, 0,
                              "stored subscriber has too many entries");
            goto done;
        }
        MK_GUARD_GOTO(mk_store_col_text(st, 0, dst[*n], MK_URI_MAX), rc,
                      done);
        (*n)++;
    }
    if (step != SQLITE_DONE)
        rc = mk_store_db_err(s, step, "cannot read a subscriber");
done:
    mk_store_stmt_done(st);
    return rc;
}

static mk_err read_lists(mk_sqlstore *s, int64_t rowid, mk_subscriber *out)
{
    MK_GUARD(read_list(s, ST_IMPUS_OF, rowid, out->impu, MK_IMPU_MAX,
                       &out->n_impu));
    return read_list(s, ST_PATTERNS_OF, rowid,
                     out->policy.responder_patterns, MK_PATTERN_MAX,
                     &out->policy.n_patterns);
}

/* One subscriber by a bound single-row SELECT, PSK unwrapped. Runs inside
 * the caller's read transaction. */
static mk_err load_row(mk_sqlstore *s, sqlite3_stmt *st, mk_subscriber *out)
{
    uint8_t wrapped[MK_WRAPPED_MAX];
    size_t wn = 0;
    int64_t rowid = 0;
    mk_err rc = MK_OK;

    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        mk_store_stmt_done(st);
        MK_FAIL(MK_E_NOT_FOUND, "no such subscriber");
    }
    if (step != SQLITE_ROW) {
        rc = mk_store_db_err(s, step, "cannot read a subscriber");
        mk_store_stmt_done(st);
        return rc;
    }
    rc = read_row(st, out, &rowid, wrapped, &wn);
    mk_store_stmt_done(st);
    MK_GUARD(rc);
    MK_GUARD(read_lists(s, rowid, out));
    rc = mk_store_unwrap(s, MK_WRAP_DOMAIN_PSK,
                         MK_BYTES(out->psk_id, out->psk_id_len),
                         MK_BYTES(wrapped, wn), &out->psk);
    if (rc == MK_OK && out->psk.n != 16 && out->psk.n != 32)
        rc = mk_err_raise(MK_E_INTERNAL, -1, 0, "stored PSK has a bad length");
    return rc;
}

/* load_row, then the subscriber kept in the cache (under impu too, when it
 * is the proof that this IMPU has exactly one owner). */
static mk_err load_one(mk_sqlstore *s, sqlite3_stmt *st, mk_bytes impu,
                       mk_subscriber *out)
{
    MK_GUARD(load_row(s, st, out));
    return mk_store_cache_sub_put(s, out, impu);
}

/* The end of a lookup's read transaction: nothing of a subscriber that
 * failed to load stays in out. */
static mk_err read_end(mk_sqlstore *s, mk_err rc, mk_subscriber *out)
{
    rc = mk_store_end(s, rc);
    if (rc != MK_OK)
        mk_subscriber_wipe(out);
    return rc;
}

mk_err mk_sqlstore_subscriber_get(mk_sqlstore *s, mk_bytes psk_id,
                                  mk_subscriber *out)
{
    sqlite3_stmt *st = NULL;
    mk_err rc;

    mk_subscriber_wipe(out);
    if (psk_id.n == 0 || psk_id.n > MK_PSK_ID_MAX)
        MK_FAIL(MK_E_NOT_FOUND, "no such subscriber");
    if (mk_store_cache_sub_by_psk_id(s, psk_id, out))
        return MK_OK;
    /* one snapshot for the row, its IMPUs / patterns and the generation
     * the cache keeps it under */
    MK_GUARD(mk_store_begin_read(s));
    MK_GUARD_GOTO(mk_store_stmt(s, ST_SUB_BY_PSK_ID, &st), rc, done);
    MK_GUARD_GOTO(mk_store_bind_blob(s, st, 1, psk_id), rc, done);
    rc = load_one(s, st, MK_BYTES_NONE, out);
done:
    return read_end(s, rc, out);
}

/* The owner of an IMPU; MK_E_NOT_FOUND when none or several (profile §4). */
static mk_err owner_of(mk_sqlstore *s, mk_bytes impu, int64_t *rowid)
{
    sqlite3_stmt *st = NULL;
    mk_err rc = MK_OK;
    MK_GUARD(mk_store_stmt(s, ST_IMPU_OWNERS, &st));
    int br = sqlite3_bind_text(st, 1, (const char *)impu.p, (int)impu.n,
                               SQLITE_STATIC);
    if (br != SQLITE_OK)
        return mk_store_db_err(s, br, "bind");
    size_t owners = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        *rowid = sqlite3_column_int64(st, 0);
        owners++;
    }
    if (step != SQLITE_DONE)
        rc = mk_store_db_err(s, step, "cannot look up an IMPU");
    else if (owners == 0)
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0, "no subscriber has this IMPU");
    else if (owners > 1)
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0,
                          "IMPU belongs to several subscribers");
    mk_store_stmt_done(st);
    return rc;
}

mk_err mk_store_subscriber_by_impu(mk_sqlstore *s, mk_bytes impu,
                                   mk_subscriber *out)
{
    sqlite3_stmt *st = NULL;
    int64_t rowid = 0;
    mk_err rc;

    mk_subscriber_wipe(out);
    /* not a URI we could have stored: no owner */
    if (impu.n == 0 || impu.n >= MK_URI_MAX ||
        memchr(impu.p, '\0', impu.n) != NULL)
        MK_FAIL(MK_E_NOT_FOUND, "no subscriber has this IMPU");
    if (mk_store_cache_sub_by_impu(s, impu, out))
        return MK_OK;
    MK_GUARD(mk_store_begin_read(s));
    MK_GUARD_GOTO(owner_of(s, impu, &rowid), rc, done);
    MK_GUARD_GOTO(mk_store_stmt(s, ST_SUB_BY_ROWID, &st), rc, done);
    MK_GUARD_GOTO(mk_store_bind_i64(s, st, 1, rowid), rc, done);
    /* kept with the proof that this IMPU has exactly one owner */
    rc = load_one(s, st, impu, out);
done:
    return read_end(s, rc, out);
}

mk_err mk_sqlstore_subscriber_add(mk_sqlstore *s, const mk_subscriber *sub)
{
    uint8_t wrapped[MK_WRAPPED_MAX];
    size_t wn = 0;
    sqlite3_stmt *st = NULL;
    mk_err rc;

    MK_GUARD(mk_store_subscriber_check(sub));
    mk_bytes psk_id = MK_BYTES(sub->psk_id, sub->psk_id_len);
    MK_GUARD(mk_store_wrap(s, MK_WRAP_DOMAIN_PSK, psk_id,
                           mk_key_bytes(&sub->psk), wrapped, sizeof wrapped,
                           &wn));
    MK_GUARD(mk_store_begin_write(s));
    MK_GUARD_GOTO(mk_store_stmt(s, ST_SUB_INSERT, &st), rc, done);
    MK_GUARD_GOTO(mk_store_bind_blob(s, st, 1, psk_id), rc, done);
    MK_GUARD_GOTO(mk_store_bind_blob(s, st, 2, MK_BYTES(wrapped, wn)), rc,
                  done);
    const int64_t cols[] = {
        sub->active ? 1 : 0,                          /* 3 */
        sub->policy.max_lifetime,                     /* 4 */
        sub->policy.forking_allowed ? 1 : 0,          /* 5 */
        sub->policy.reuse_allowed ? 1 : 0,            /* 6 */
        (int64_t)time(NULL),                          /* 7 */
        sub->policy.initiator_keys_allowed ? 1 : 0,   /* 8 */
        sub->policy.responder_keys_allowed ? 1 : 0,   /* 9 */
    };
    for (int i = 0; i < (int)(sizeof cols / sizeof cols[0]); i++)
        MK_GUARD_GOTO(mk_store_bind_i64(s, st, 3 + i, cols[i]), rc, done);
    rc = mk_store_exec(s, st, "cannot add the subscriber");
    if (rc == MK_E_EXISTS)
        mk_err_raise(rc, -1, 0, "a subscriber with this PSK id exists");
    if (rc != MK_OK)
        goto done;
    int64_t rowid = sqlite3_last_insert_rowid(s->db);

    for (size_t i = 0; i < sub->n_impu; i++) {
        MK_GUARD_GOTO(mk_store_stmt(s, ST_IMPU_INSERT, &st), rc, done);
        MK_GUARD_GOTO(mk_store_bind_i64(s, st, 1, rowid), rc, done);
        MK_GUARD_GOTO(mk_store_bind_i64(s, st, 2, (int64_t)i), rc, done);
        MK_GUARD_GOTO(mk_store_bind_text(s, st, 3, sub->impu[i]), rc, done);
        MK_GUARD_GOTO(mk_store_exec(s, st, "cannot add an IMPU"), rc, done);
    }
    for (size_t i = 0; i < sub->policy.n_patterns; i++) {
        MK_GUARD_GOTO(mk_store_stmt(s, ST_PATTERN_INSERT, &st), rc, done);
        MK_GUARD_GOTO(mk_store_bind_i64(s, st, 1, rowid), rc, done);
        MK_GUARD_GOTO(mk_store_bind_i64(s, st, 2, (int64_t)i), rc, done);
        MK_GUARD_GOTO(mk_store_bind_text(s, st, 3,
                                         sub->policy.responder_patterns[i]),
                      rc, done);
        MK_GUARD_GOTO(mk_store_exec(s, st, "cannot add a pattern"), rc, done);
    }
done:
    mk_wipe(wrapped, sizeof wrapped);
    rc = mk_store_end(s, rc);
    if (rc == MK_OK) /* every process refuses the old rows from now on */
        mk_store_changed(s);
    return rc;
}

/* A one-statement change of a subscriber by PSK id: MK_E_NOT_FOUND when
 * no row changed. */
static mk_err change_one(mk_sqlstore *s, mk_st id, mk_bytes psk_id,
                         int value, const char *what)
{
    sqlite3_stmt *st = NULL;
    if (psk_id.n == 0 || psk_id.n > MK_PSK_ID_MAX)
        MK_FAIL(MK_E_NOT_FOUND, "no such subscriber");
    MK_GUARD(mk_store_stmt(s, id, &st));
    mk_err rc = mk_store_bind_blob(s, st, 1, psk_id);
    if (rc == MK_OK && id == ST_SUB_SET_ACTIVE)
        rc = mk_store_bind_i64(s, st, 2, value);
    if (rc == MK_OK)
        rc = mk_store_exec(s, st, what);
    else
        mk_store_stmt_done(st);
    MK_GUARD(rc);
    if (sqlite3_changes(s->db) == 0)
        MK_FAIL(MK_E_NOT_FOUND, "no such subscriber");
    mk_store_changed(s); /* as in mk_sqlstore_subscriber_add */
    return MK_OK;
}

mk_err mk_sqlstore_subscriber_set_active(mk_sqlstore *s, mk_bytes psk_id,
                                         bool active)
{
    return change_one(s, ST_SUB_SET_ACTIVE, psk_id, active ? 1 : 0,
                      "cannot change the subscriber");
}

mk_err mk_sqlstore_subscriber_remove(mk_sqlstore *s, mk_bytes psk_id)
{
    /* IMPUs and patterns go with it (ON DELETE CASCADE) */
    return change_one(s, ST_SUB_DELETE, psk_id, 0,
                      "cannot remove the subscriber");
}

mk_err mk_sqlstore_subscriber_list(mk_sqlstore *s, mk_sqlstore_subscriber_cb cb,
                                   void *arg)
{
    sqlite3_stmt *st = NULL;
    mk_subscriber sub;
    uint8_t wrapped[MK_WRAPPED_MAX];
    mk_err rc;

    MK_GUARD(mk_store_begin_read(s));
    MK_GUARD_GOTO(mk_store_stmt(s, ST_SUB_LIST, &st), rc, done);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t wn = 0;
        int64_t rowid = 0;
        mk_subscriber_wipe(&sub);
        MK_GUARD_GOTO(read_row(st, &sub, &rowid, wrapped, &wn), rc, done);
        MK_GUARD_GOTO(read_lists(s, rowid, &sub), rc, done);
        MK_GUARD_GOTO(cb(arg, &sub, wn >= 8 ? wn - 8 : 0), rc, done);
    }
    rc = step == SQLITE_DONE
             ? MK_OK
             : mk_store_db_err(s, step, "cannot list the subscribers");
done:
    mk_store_stmt_done(st);
    mk_wipe(wrapped, sizeof wrapped);
    mk_subscriber_wipe(&sub);
    return mk_store_end(s, rc);
}

mk_err mk_sqlstore_impu_owners(mk_sqlstore *s, const char *impu,
                               size_t *count)
{
    sqlite3_stmt *st = NULL;
    mk_err rc = MK_OK;
    MK_GUARD(mk_store_stmt(s, ST_IMPU_COUNT_OWNERS, &st));
    MK_GUARD(mk_store_bind_text(s, st, 1, impu));
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(st, 0);
    else
        rc = mk_store_db_err(s, step, "cannot look up an IMPU");
    mk_store_stmt_done(st);
    return rc;
}
