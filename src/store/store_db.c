/* store_db.c - connection, statement cache, error mapping, transactions
 * (store_int.h), and opening / closing a store (store.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store/store_int.h"

/* Every SQL text the store runs (schema DDL aside: store_schema.c). */
static const char *const st_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_GET] = "SELECT v FROM meta WHERE k = ?1",
    [ST_META_PUT] = "INSERT OR REPLACE INTO meta(k, v) VALUES (?1, ?2)",
    /* store_schema.c v2; an integer (typeof checked by the reader) */
    [ST_GEN_GET] = "SELECT v FROM meta WHERE k = 'generation'",
    [ST_SUB_BY_PSK_ID] =
        "SELECT id, psk_id, psk_wrapped, active, max_lifetime, forking, reuse, "
        "initiator_keys, responder_keys "
        "FROM subscribers WHERE psk_id = ?1",
    [ST_SUB_BY_ROWID] =
        "SELECT id, psk_id, psk_wrapped, active, max_lifetime, forking, reuse, "
        "initiator_keys, responder_keys "
        "FROM subscribers WHERE id = ?1",
    [ST_SUB_LIST] =
        "SELECT id, psk_id, psk_wrapped, active, max_lifetime, forking, reuse, "
        "initiator_keys, responder_keys "
        "FROM subscribers ORDER BY psk_id",
    [ST_SUB_INSERT] =
        "INSERT INTO subscribers(psk_id, psk_wrapped, active, max_lifetime, "
        "forking, reuse, created, initiator_keys, responder_keys) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_SUB_SET_ACTIVE] = "UPDATE subscribers SET active = ?2 WHERE psk_id = ?1",
    [ST_SUB_DELETE] = "DELETE FROM subscribers WHERE psk_id = ?1",
    /* two rows are enough to tell "exactly one owner" from "ambiguous" */
    [ST_IMPU_OWNERS] = "SELECT subscriber FROM impus WHERE impu = ?1 LIMIT 2",
    [ST_IMPU_COUNT_OWNERS] = "SELECT count(*) FROM impus WHERE impu = ?1",
    [ST_IMPUS_OF] =
        "SELECT impu FROM impus WHERE subscriber = ?1 ORDER BY pos",
    [ST_IMPU_INSERT] =
        "INSERT INTO impus(subscriber, pos, impu) VALUES (?1, ?2, ?3)",
    [ST_PATTERNS_OF] = "SELECT pattern FROM responder_patterns "
                       "WHERE subscriber = ?1 ORDER BY pos",
    [ST_PATTERN_INSERT] = "INSERT INTO responder_patterns(subscriber, pos, "
                          "pattern) VALUES (?1, ?2, ?3)",
    [ST_TK_ACTIVE] =
        "SELECT id, key_wrapped, state FROM ticket_keys WHERE state = 0",
    /* a retired key resolves nothing, so it is not handed out */
    [ST_TK_BY_ID] = "SELECT id, key_wrapped, state FROM ticket_keys "
                    "WHERE id = ?1 AND state IN (0, 1)",
    [ST_TK_MAX_VERSION] = "SELECT coalesce(max(version), 0) FROM ticket_keys",
    [ST_TK_DEMOTE_ACTIVE] = "UPDATE ticket_keys SET state = 1 WHERE state = 0",
    [ST_TK_INSERT] = "INSERT INTO ticket_keys(version, id, key_wrapped, state, "
                     "created) VALUES (?1, ?2, ?3, 0, ?4)",
    [ST_TK_STATE_BY_ID] = "SELECT state FROM ticket_keys WHERE id = ?1",
    [ST_TK_RETIRE] = "UPDATE ticket_keys SET state = 2, key_wrapped = x'' "
                     "WHERE id = ?1 AND state = 1",
    [ST_TK_LIST] = "SELECT id, version, state, created FROM ticket_keys "
                   "ORDER BY version",
    [ST_RECORD_INSERT] =
        "INSERT INTO records(time, service, subscriber, initiator, responder, "
        "ticket_id, valid_from, valid_to, spis, outcome) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_RECORDS_SINCE] =
        "SELECT time, service, subscriber, initiator, responder, ticket_id, "
        "valid_from, valid_to, spis, outcome FROM records WHERE time >= ?1 "
        "ORDER BY id",
    [ST_RECORDS_SINCE_SUB] =
        "SELECT time, service, subscriber, initiator, responder, ticket_id, "
        "valid_from, valid_to, spis, outcome FROM records "
        "WHERE subscriber = ?2 AND time >= ?1 ORDER BY id",
    /* the oldest first, a bounded batch (records_by_time) */
    [ST_RECORDS_PRUNE] =
        "DELETE FROM records WHERE id IN (SELECT id FROM records "
        "WHERE time < ?1 ORDER BY time LIMIT ?2)",
};

/* The cause of a SQLite failure as the operator should read it in a log
 * line (static: it becomes the error's detail, store_int.h). */
static const char *cause_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return "store locked by another connection";
    case SQLITE_FULL:
        return "disk full (store)";
    case SQLITE_IOERR:
        return "I/O error on the store";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return "store damaged";
    case SQLITE_READONLY:
        return "store is read-only";
    case SQLITE_CANTOPEN:
        return "store cannot be opened";
    case SQLITE_NOMEM:
        return "out of memory (store)";
    case SQLITE_PROTOCOL:
        return "store locking protocol failed";
    default:
        return NULL;
    }
}

mk_err mk_store_db_err(mk_sqlstore *s, int rc, const char *what)
{
    if (s != NULL && s->db != NULL)
        snprintf(s->errmsg, sizeof s->errmsg, "%s: %s", what,
                 sqlite3_errmsg(s->db));
    else if (s != NULL)
        snprintf(s->errmsg, sizeof s->errmsg, "%s: %s", what,
                 sqlite3_errstr(rc));
    mk_err e;
    switch (rc & 0xff) {
    case SQLITE_BUSY:   /* another connection holds the lock past timeout */
    case SQLITE_LOCKED: /* shared-cache / same-connection conflict */
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
        e = MK_E_UNAVAILABLE;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        /* a damaged file: refused at open (kmsd does not start on it),
         * 503 while serving (profile §9.44) */
        e = s != NULL && s->opening ? MK_E_CONFIG : MK_E_UNAVAILABLE;
        if (s != NULL)
            s->damaged = true;
        break;
    case SQLITE_CONSTRAINT:
        e = MK_E_EXISTS;
        break;
    default:
        e = MK_E_INTERNAL;
        break;
    }
    /* the detail names the cause (locked, disk full, damaged); the
     * operation and SQLite's own words are in s->errmsg */
    const char *cause = cause_of(rc);
    return mk_err_raise(e, -1, 0, cause != NULL ? cause : what);
}

mk_err mk_store_stmt(mk_sqlstore *s, mk_st id, sqlite3_stmt **out)
{
    if (s->st[id] == NULL) {
        int rc = sqlite3_prepare_v3(s->db, st_sql[id], -1,
                                    SQLITE_PREPARE_PERSISTENT, &s->st[id],
                                    NULL);
        if (rc != SQLITE_OK) {
            s->st[id] = NULL;
            return mk_store_db_err(s, rc, "cannot prepare a store statement");
        }
    }
    *out = s->st[id];
    return MK_OK;
}

void mk_store_stmt_done(sqlite3_stmt *st)
{
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

mk_err mk_store_exec(mk_sqlstore *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    mk_err e = MK_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = mk_store_db_err(s, rc, what);
    mk_store_stmt_done(st);
    return e;
}

mk_err mk_store_exec_id(mk_sqlstore *s, mk_st id, const char *what)
{
    sqlite3_stmt *st = NULL;
    MK_GUARD(mk_store_stmt(s, id, &st));
    return mk_store_exec(s, st, what);
}

mk_err mk_sqlstore_same_file(mk_sqlstore *s)
{
    struct stat sb;
    if (stat(s->path, &sb) != 0 || sb.st_dev != s->dev ||
        sb.st_ino != s->ino) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "%.160s no longer names the file this connection has open "
                 "(removed, renamed or replaced)", s->path);
        MK_FAIL(MK_E_UNAVAILABLE, "store file removed or replaced while "
                                  "open");
    }
    return MK_OK;
}

/* After a wait for a lock that this connection led for its machine
 * (busy_wait): the next one may lead. */
static void wait_done(mk_sqlstore *s)
{
    if (s->wait_until_ms != 0) {
        mk_node_wait_release(s->node, s->wait_until_ms);
        s->wait_until_ms = 0;
    }
}

/* Every transaction first checks that the path still names the file the
 * connection has open: a connection to a removed or replaced store
 * neither reads it nor writes into it (profile §9.43). */
static mk_err begin(mk_sqlstore *s, mk_st id, const char *what)
{
    MK_GUARD(mk_sqlstore_same_file(s));
    mk_err rc = mk_store_exec_id(s, id, what);
    if (rc != MK_OK)
        wait_done(s);
    return rc;
}

mk_err mk_store_begin_read(mk_sqlstore *s)
{
    return begin(s, ST_BEGIN, "cannot begin a store transaction");
}

mk_err mk_store_begin_write(mk_sqlstore *s)
{
    return begin(s, ST_BEGIN_IMMEDIATE, "cannot begin a store write");
}

mk_err mk_store_end(mk_sqlstore *s, mk_err rc)
{
    wait_done(s);
    if (rc == MK_OK)
        rc = mk_store_exec_id(s, ST_COMMIT, "cannot commit to the store");
    /* the rollback only cleans up: the first error and its detail stay */
    if (rc != MK_OK && !sqlite3_get_autocommit(s->db))
        MK_KEEP_FIRST(rc, mk_store_exec_id(s, ST_ROLLBACK, "rollback"));
    return rc;
}

mk_err mk_store_bind_blob(mk_sqlstore *s, sqlite3_stmt *st, int i, mk_bytes b)
{
    if (b.n > INT_MAX)
        MK_FAIL(MK_E_ARG, "value too large for the store");
    /* a zero-length blob must bind as x'' and not as NULL */
    static const uint8_t empty[1];
    int rc = sqlite3_bind_blob(st, i, b.n ? (const void *)b.p : empty,
                               (int)b.n, SQLITE_STATIC);
    return rc == SQLITE_OK ? MK_OK : mk_store_db_err(s, rc, "bind");
}

mk_err mk_store_bind_text(mk_sqlstore *s, sqlite3_stmt *st, int i,
                          const char *t)
{
    int rc = sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
    return rc == SQLITE_OK ? MK_OK : mk_store_db_err(s, rc, "bind");
}

mk_err mk_store_bind_u64(mk_sqlstore *s, sqlite3_stmt *st, int i, uint64_t v)
{
    if (v > (uint64_t)INT64_MAX)
        MK_FAIL(MK_E_ARG, "integer too large for the store");
    int rc = sqlite3_bind_int64(st, i, (sqlite3_int64)v);
    return rc == SQLITE_OK ? MK_OK : mk_store_db_err(s, rc, "bind");
}

mk_err mk_store_bind_i64(mk_sqlstore *s, sqlite3_stmt *st, int i, int64_t v)
{
    int rc = sqlite3_bind_int64(st, i, (sqlite3_int64)v);
    return rc == SQLITE_OK ? MK_OK : mk_store_db_err(s, rc, "bind");
}

mk_bytes mk_store_col_blob(sqlite3_stmt *st, int i)
{
    const void *p = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    if (p == NULL || n <= 0)
        return MK_BYTES_NONE;
    return MK_BYTES(p, (size_t)n);
}

mk_err mk_store_col_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    int n = sqlite3_column_bytes(st, i);
    if (t == NULL || n <= 0) {
        out[0] = '\0';
        return MK_OK;
    }
    if ((size_t)n >= cap)
        MK_FAIL(MK_E_INTERNAL, "stored text longer than its field");
    memcpy(out, t, (size_t)n);
    out[n] = '\0';
    return MK_OK;
}

/* A value wrapped under the master key, written by kmsctl init (may_write);
 * every other open unwraps it, so a wrong master key is refused at once
 * (and not at the first subscriber lookup). */
static mk_err check_master_key(mk_sqlstore *s, bool may_write)
{
    static const char name[] = "master_key_check";
    static const uint8_t zero[16];
    sqlite3_stmt *st = NULL;
    mk_err rc;
    mk_key probe = {0};

    MK_GUARD(may_write ? mk_store_begin_write(s) : mk_store_begin_read(s));
    MK_GUARD_GOTO(mk_store_stmt(s, ST_META_GET, &st), rc, done);
    MK_GUARD_GOTO(mk_store_bind_text(s, st, 1, name), rc, done);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        rc = mk_store_unwrap(s, MK_WRAP_DOMAIN_CHECK, MK_BYTES_NONE,
                             mk_store_col_blob(st, 0), &probe);
        mk_store_stmt_done(st);
        if (rc == MK_OK && (probe.n != sizeof zero ||
                            memcmp(probe.b, zero, sizeof zero) != 0))
            rc = MK_E_UNWRAP;
        if (rc == MK_E_UNWRAP)
            mk_err_raise(rc, -1, 0,
                         "the master key does not match this store");
        goto done;
    }
    mk_store_stmt_done(st);
    if (step != SQLITE_DONE) {
        rc = mk_store_db_err(s, step, "cannot read the store");
        goto done;
    }
    if (!may_write) {
        /* only kmsctl init writes it; a store without it was not made by
         * kmsctl init, or lost rows (profile §9.43) */
        rc = mk_err_raise(MK_E_CONFIG, -1, 0,
                          "store has no master key check value (not made by "
                          "kmsctl init, or damaged)");
        goto done;
    }
    uint8_t wrapped[sizeof zero + 8];
    size_t wn;
    MK_GUARD_GOTO(mk_store_wrap(s, MK_WRAP_DOMAIN_CHECK, MK_BYTES_NONE,
                                MK_BYTES(zero, sizeof zero), wrapped,
                                sizeof wrapped, &wn),
                  rc, done);
    MK_GUARD_GOTO(mk_store_stmt(s, ST_META_PUT, &st), rc, done);
    MK_GUARD_GOTO(mk_store_bind_text(s, st, 1, name), rc, done);
    MK_GUARD_GOTO(mk_store_bind_blob(s, st, 2, MK_BYTES(wrapped, wn)), rc,
                  done);
    rc = mk_store_exec(s, st, "cannot write the store");
done:
    mk_key_wipe(&probe);
    return mk_store_end(s, rc);
}

/* Run a pragma (no bound values); `want`, when not NULL, is the expected
 * single text result (journal_mode answers the mode it ended up in). */
static mk_err pragma(mk_sqlstore *s, const char *sql, const char *want,
                     const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return mk_store_db_err(s, rc, what);
    mk_err e = MK_OK;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && want != NULL) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (t == NULL || strcmp((const char *)t, want) != 0)
            e = mk_err_raise(MK_E_CONFIG, -1, 0, what);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        e = mk_store_db_err(s, rc, what);
    }
    sqlite3_finalize(st);
    return e;
}

/* Waiting for another connection's lock. SQLite's own busy_timeout
 * handler sleeps 1, 2, 5, 10 ... ms, while the store's write transactions
 * last tens of microseconds: with several responder processes most of the
 * time would go to sleeping. Poll from 20 us up, doubling to 1 ms, until
 * busy_timeout_ms has passed since the first call of this wait (count 0);
 * then give up, and the caller answers MK_E_UNAVAILABLE. */
static int busy_wait(void *arg, int count)
{
    mk_sqlstore *s = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (count == 0)
        s->busy_since = now;
    int64_t waited_us = (int64_t)(now.tv_sec - s->busy_since.tv_sec) * 1000000 +
                        (now.tv_nsec - s->busy_since.tv_nsec) / 1000;
    int64_t left_us = (int64_t)s->busy_timeout_ms * 1000 - waited_us;
    if (left_us <= 0)
        return 0;
    /* Shared waits (store.h): while another connection of the machine
     * waits for the store, give up at once rather than queue behind it. */
    if (count == 0 && s->shared_waits && s->node != NULL &&
        s->wait_until_ms == 0) {
        uint64_t now_ms = (uint64_t)now.tv_sec * 1000u +
                          (uint64_t)now.tv_nsec / 1000000u;
        uint64_t until = now_ms + s->busy_timeout_ms;
        if (!mk_node_wait_claim(s->node, now_ms, until))
            return 0;
        s->wait_until_ms = until;
    }
    int64_t us = count < 6 ? (int64_t)20 << count : 1000;
    if (us > left_us)
        us = left_us;
    struct timespec d = {.tv_sec = 0, .tv_nsec = (long)us * 1000};
    nanosleep(&d, NULL);
    return 1;
}

/* SQLite's message of the last open that failed on this thread. */
static _Thread_local char open_errmsg[256];

const char *mk_sqlstore_open_errmsg(void)
{
    return open_errmsg;
}

/* The schema of an existing store must be this program's (only kmsctl
 * init creates or migrates one: profile §9.43). */
static mk_err check_schema(mk_sqlstore *s)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (v < 0)
        return mk_store_db_err(s, rc, "cannot read the store version");
    if (v == MK_SQLSTORE_SCHEMA_VERSION)
        return MK_OK;
    snprintf(s->errmsg, sizeof s->errmsg,
             "schema version %d, this program's is %d", v,
             MK_SQLSTORE_SCHEMA_VERSION);
    if (v == 0)
        MK_FAIL(MK_E_CONFIG, "not a store made by kmsctl init (no schema)");
    if (v < MK_SQLSTORE_SCHEMA_VERSION)
        MK_FAIL(MK_E_CONFIG,
                "store schema older than this program (kmsctl init "
                "upgrades it)");
    MK_FAIL(MK_E_CONFIG, "store schema is newer than this program");
}

/* What an open does (store.h): create and migrate (kmsctl init), serve an
 * existing store without writing to it while opening, or check one
 * read-only. */
typedef enum open_mode { OPEN_INIT, OPEN_EXISTING, OPEN_CHECK } open_mode;

/* An existing store's file (profile §9.43): SQLite takes an empty file
 * for an empty database; a store truncated to nothing is not one. *sb:
 * the file, to check that the connection opens this one. */
static mk_err check_file(const char *path, struct stat *sb)
{
    if (stat(path, sb) != 0)
        MK_FAIL(MK_E_CONFIG, "store file does not exist (run kmsctl init)");
    if (!S_ISREG(sb->st_mode))
        MK_FAIL(MK_E_CONFIG, "store is not a regular file");
    if (sb->st_size == 0)
        MK_FAIL(MK_E_CONFIG, "store file is empty (0 bytes): truncated, "
                             "or not made by kmsctl init");
    return MK_OK;
}

/* The connection's settings, by open mode. */
static mk_err set_pragmas(mk_sqlstore *s, open_mode mode)
{
    if (mode == OPEN_INIT) {
        /* journal_mode=WAL: readers never wait for the writer, and a
         * commit appends to one file. It is persistent, so after the first
         * open this is a read. A database that cannot do WAL (e.g. a
         * network file system) is refused rather than silently slow or
         * unsafe. */
        MK_GUARD(pragma(s, "PRAGMA journal_mode=WAL", "wal",
                        "the store cannot use WAL mode"));
    } else {
        /* a read: an existing store is in WAL mode since kmsctl init made
         * it; a file that is not a database fails here with SQLite's
         * reason (mk_sqlstore_errmsg) */
        MK_GUARD(pragma(s, "PRAGMA journal_mode", "wal",
                        "store is not in WAL mode (not made by kmsctl "
                        "init)"));
    }
    /* Deleted or overwritten content is overwritten with zeros in the
     * page, so that a retired ticket key's wrapped bytes do not survive in
     * a page's free space (doc/profile.md §9.38); the WAL's old images
     * are removed by the retire's checkpoint. A connection setting, so
     * every connection sets it, a check's too (it writes nothing). */
    MK_GUARD(pragma(s, "PRAGMA secure_delete=ON", "1",
                    "cannot enable secure_delete"));
    if (mode != OPEN_CHECK) {
        /* NORMAL in WAL: durable against a process crash, not a power
         * loss (store.h); FULL via mk_sqlstore_set_durable. */
        MK_GUARD(pragma(s, "PRAGMA synchronous=NORMAL", NULL,
                        "cannot set synchronous"));
        MK_GUARD(pragma(s, "PRAGMA foreign_keys=ON", NULL,
                        "cannot enable foreign keys"));
        /* A checkpoint (copying the WAL into the database) syncs both
         * files even with synchronous=NORMAL, milliseconds each: every
         * 10000 pages (~40 MiB of WAL) instead of SQLite's 1000, as the
         * drain commits a batch of records every few hundred
         * milliseconds; journal_size_limit gives the space back when a
         * long reader had let the WAL grow past that. Neither changes
         * what a commit guarantees. */
        MK_GUARD(pragma(s, "PRAGMA wal_autocheckpoint=10000", NULL,
                        "cannot set wal_autocheckpoint"));
        MK_GUARD(pragma(s, "PRAGMA journal_size_limit=67108864", NULL,
                        "cannot set journal_size_limit"));
    }
    return MK_OK;
}

static mk_err open_store(const char *path, mk_bytes master_key,
                         const mk_sqlstore_opts *o, open_mode mode,
                         mk_sqlstore **out)
{
    mk_err rc = MK_OK;
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        MK_FAIL(MK_E_CONFIG, "no store path given");
    if (master_key.n != MK_MASTER_KEY_LEN)
        MK_FAIL(MK_E_ARG, "the master key must be 32 bytes");
    if (o->busy_timeout_ms > INT_MAX)
        MK_FAIL(MK_E_ARG, "busy timeout too large");
    struct stat sb;
    if (mode != OPEN_INIT)
        MK_GUARD(check_file(path, &sb));

    if (strlen(path) >= sizeof ((mk_sqlstore *)0)->path)
        MK_FAIL(MK_E_CONFIG, "store path too long");
    mk_sqlstore *s = calloc(1, sizeof *s);
    if (s == NULL)
        MK_FAIL(MK_E_UNAVAILABLE, "out of memory");
    strcpy(s->path, path); /* length checked above */
    s->opening = true;
    MK_GUARD_GOTO(mk_key_copy(&s->master, master_key), rc, fail);
    if (o->node != NULL)
        s->node = mk_node_ref(o->node);
    s->shared_waits = o->shared_waits;

    /* NOMUTEX: the caller keeps one connection per thread (store.h). */
    int flags = (mode == OPEN_CHECK ? SQLITE_OPEN_READONLY
                                    : SQLITE_OPEN_READWRITE) |
                SQLITE_OPEN_NOMUTEX |
                (mode == OPEN_INIT ? SQLITE_OPEN_CREATE : 0);
    int sr = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (sr != SQLITE_OK) {
        rc = mk_store_db_err(s, sr, "cannot open the store");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* the file the connection has open, for mk_sqlstore_same_file (every
     * transaction checks it, from the first one of this open on) */
    struct stat now;
    if (stat(path, &now) != 0 ||
        (mode != OPEN_INIT &&
         (now.st_dev != sb.st_dev || now.st_ino != sb.st_ino))) {
        rc = mk_err_raise(MK_E_UNAVAILABLE, -1, 0,
                          "store file removed or replaced while opening");
        goto fail;
    }
    s->dev = now.st_dev;
    s->ino = now.st_ino;
    /* first, so that every later step waits for other processes */
    s->busy_timeout_ms = o->busy_timeout_ms;
    sqlite3_busy_handler(s->db, busy_wait, s);
    /* The -wal and -shm files are named after the store's path, not its
     * file: this connection never deletes them when it closes (another
     * process may have them open for a file that replaced this one), and
     * mk_sqlstore_close does not checkpoint into a file the path no
     * longer names (profile §9.43). */
    int persist = 1;
    sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);

    MK_GUARD_GOTO(set_pragmas(s, mode), rc, fail);
    if (mode == OPEN_INIT)
        MK_GUARD_GOTO(mk_store_migrate(s), rc, fail);
    else
        MK_GUARD_GOTO(check_schema(s), rc, fail);
    MK_GUARD_GOTO(check_master_key(s, mode == OPEN_INIT), rc, fail);
    /* what was read above is the file the path still names */
    MK_GUARD_GOTO(mk_sqlstore_same_file(s), rc, fail);
    wait_done(s);
    s->opening = false;
    *out = s;
    return MK_OK;

fail:
    {
        mk_err_detail keep = *mk_err_last();
        wait_done(s);
        snprintf(open_errmsg, sizeof open_errmsg, "%s", s->errmsg);
        mk_sqlstore_close(s);
        (void)mk_err_restore(&keep);
    }
    return rc;
}

mk_err mk_sqlstore_open(const char *path, mk_bytes master_key,
                        uint32_t busy_timeout_ms, mk_sqlstore **out)
{
    mk_sqlstore_opts o = {.busy_timeout_ms = busy_timeout_ms};
    return open_store(path, master_key, &o, OPEN_INIT, out);
}

mk_err mk_sqlstore_open_existing(const char *path, mk_bytes master_key,
                                 uint32_t busy_timeout_ms, mk_sqlstore **out)
{
    mk_sqlstore_opts o = {.busy_timeout_ms = busy_timeout_ms};
    return open_store(path, master_key, &o, OPEN_EXISTING, out);
}

mk_err mk_sqlstore_open_with(const char *path, mk_bytes master_key,
                             const mk_sqlstore_opts *o, mk_sqlstore **out)
{
    return open_store(path, master_key, o,
                      o->read_only ? OPEN_CHECK : OPEN_EXISTING, out);
}

void mk_sqlstore_close(mk_sqlstore *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    /* The last connection to close checkpoints the WAL into the file and
     * empties it (PERSIST_WAL: never removes it). Not when the path names
     * another file now: the -wal and -shm files by that name may already
     * be the new file's (profile §9.43). */
    if (s->db != NULL && s->ino != 0 && mk_sqlstore_same_file(s) != MK_OK) {
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        mk_err_clear();
    }
    sqlite3_close(s->db);
    mk_node_close(s->node);
    mk_key_wipe(&s->master);
    mk_wipe(s, sizeof *s);
    free(s);
}

mk_err mk_store_wal_truncate(mk_sqlstore *s)
{
    int log = -1, done = -1;
    /* TRUNCATE waits (busy handler) for the readers of older snapshots,
     * copies every frame into the database and cuts the WAL to 0 bytes */
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL,
                                       SQLITE_CHECKPOINT_TRUNCATE, &log,
                                       &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return mk_store_db_err(s, rc, "cannot checkpoint the store");
    if (rc == SQLITE_BUSY || log != 0 || done != 0)
        return mk_store_db_err(s, SQLITE_BUSY,
                               "the store's WAL could not be emptied (a "
                               "reader held it); run the command again");
    return MK_OK;
}

mk_err mk_sqlstore_set_page_cache(mk_sqlstore *s, unsigned kib)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%u", kib);
    return pragma(s, sql, NULL, "cannot set cache_size");
}

mk_err mk_sqlstore_set_durable(mk_sqlstore *s, bool full)
{
    return pragma(s, full ? "PRAGMA synchronous=FULL"
                          : "PRAGMA synchronous=NORMAL",
                  NULL, "cannot set synchronous");
}

bool mk_sqlstore_damaged(const mk_sqlstore *s)
{
    return s != NULL && s->damaged;
}

const char *mk_sqlstore_errmsg(const mk_sqlstore *s)
{
    return s != NULL ? s->errmsg : "";
}

/* --- checks of an open store (store.h) --- */

typedef struct check_budget {
    struct timespec until;
    bool expired;
} check_budget;

/* SQLite's progress handler: interrupt the check once its time is up. */
static int check_progress(void *arg)
{
    check_budget *b = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > b->until.tv_sec ||
        (now.tv_sec == b->until.tv_sec && now.tv_nsec >= b->until.tv_nsec))
        b->expired = true;
    return b->expired;
}

/* Run one quick_check statement: MK_OK when SQLite answers "ok";
 * MK_E_CONFIG with its first lines in s->errmsg when it finds damage;
 * *interrupted when the budget ran out first. */
static mk_err run_check(mk_sqlstore *s, const char *sql, check_budget *b,
                        bool *interrupted)
{
    sqlite3_stmt *st = NULL;
    *interrupted = false;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return mk_store_db_err(s, rc, "cannot check the store");
    if (b != NULL)
        sqlite3_progress_handler(s->db, 1000, check_progress, b);
    size_t o = 0;
    bool ok = false;
    int lines = 0;
    s->errmsg[0] = '\0';
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (t == NULL)
            continue;
        if (lines++ == 0 && strcmp(t, "ok") == 0) {
            ok = true;
            continue;
        }
        if (o < sizeof s->errmsg - 1) {
            int w = snprintf(s->errmsg + o, sizeof s->errmsg - o, "%s%s",
                             o == 0 ? "quick_check: " : "; ", t);
            if (w > 0)
                o += (size_t)w;
        }
    }
    sqlite3_progress_handler(s->db, 0, NULL, NULL);
    sqlite3_finalize(st);
    if (rc == SQLITE_INTERRUPT && b != NULL && b->expired) {
        *interrupted = true;
        return MK_OK;
    }
    if (rc != SQLITE_DONE)
        return mk_store_db_err(s, rc, "quick_check");
    if (!ok || lines != 1)
        MK_FAIL(MK_E_CONFIG, "store damaged (quick_check)");
    return MK_OK;
}

mk_err mk_sqlstore_quick_check(mk_sqlstore *s, uint32_t budget_ms,
                               bool *complete)
{
    /* the tables every answer reads: small, always checked whole */
    static const char *const operator_tables[] = {
        "PRAGMA quick_check(meta)", "PRAGMA quick_check(subscribers)",
        "PRAGMA quick_check(impus)", "PRAGMA quick_check(responder_patterns)",
        "PRAGMA quick_check(ticket_keys)",
    };
    check_budget b = {.expired = false};
    bool interrupted = false;
    mk_err rc;
    *complete = true;
    MK_GUARD(mk_sqlstore_same_file(s));
    clock_gettime(CLOCK_MONOTONIC, &b.until);
    b.until.tv_sec += budget_ms / 1000;
    b.until.tv_nsec += (long)(budget_ms % 1000) * 1000000L;
    if (b.until.tv_nsec >= 1000000000L) {
        b.until.tv_sec++;
        b.until.tv_nsec -= 1000000000L;
    }
    /* damage found by the check is a store that must not serve */
    s->opening = true;
    rc = run_check(s, "PRAGMA quick_check", budget_ms ? &b : NULL,
                   &interrupted);
    for (size_t i = 0; rc == MK_OK && interrupted &&
                       i < sizeof operator_tables / sizeof operator_tables[0];
         i++) {
        bool again = false;
        *complete = false;
        rc = run_check(s, operator_tables[i], NULL, &again);
    }
    s->opening = false;
    return rc;
}

mk_err mk_sqlstore_hand_over(mk_sqlstore *s)
{
    /* no mk_sqlstore_same_file here: the path names another file, and
     * this is the last thing done with the one still open */
    return mk_store_wal_truncate(s);
}
