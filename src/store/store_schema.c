/* store_schema.c - the schema and its forward migrations.
 *
 * The version is PRAGMA user_version (0 for an empty file). migrations[i]
 * brings version i to version i + 1; a new schema version appends one
 * entry and bumps MK_SQLSTORE_SCHEMA_VERSION. Migrations never edit an
 * earlier entry: a deployed store has already run it.
 */
#include <stdio.h>

#include "store/store_int.h"

/* v0 -> v1: the first schema. */
static const char v1[] =
    /* small settings: the master key check value */
    "CREATE TABLE meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);"
    /* profile §4 and §5: one row per subscriber, policy in columns */
    "CREATE TABLE subscribers ("
    "  id INTEGER PRIMARY KEY,"
    "  psk_id BLOB NOT NULL UNIQUE,"
    "  psk_wrapped BLOB NOT NULL,"      /* AES-KW under the master key */
    "  active INTEGER NOT NULL CHECK (active IN (0, 1)),"
    "  max_lifetime INTEGER NOT NULL DEFAULT 0," /* seconds, 0 = default */
    "  forking INTEGER NOT NULL CHECK (forking IN (0, 1)),"
    "  reuse INTEGER NOT NULL CHECK (reuse IN (0, 1)),"
    "  created INTEGER NOT NULL);"
    /* an IMPU once per subscriber; several subscribers may share one, and
     * a lookup by it then finds none (profile §4) */
    "CREATE TABLE impus ("
    "  subscriber INTEGER NOT NULL REFERENCES subscribers(id)"
    "    ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL,"           /* order: the first IMPU matters */
    "  impu TEXT NOT NULL,"
    "  PRIMARY KEY (subscriber, impu));"
    "CREATE INDEX impus_by_impu ON impus(impu);"
    "CREATE TABLE responder_patterns ("
    "  subscriber INTEGER NOT NULL REFERENCES subscribers(id)"
    "    ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL,"
    "  pattern TEXT NOT NULL,"
    "  PRIMARY KEY (subscriber, pos));"
    /* profile §6; state 0 active, 1 resolve-only, 2 retired */
    "CREATE TABLE ticket_keys ("
    "  version INTEGER PRIMARY KEY,"
    "  id BLOB NOT NULL UNIQUE,"
    "  key_wrapped BLOB NOT NULL,"      /* x'' once retired */
    "  state INTEGER NOT NULL CHECK (state IN (0, 1, 2)),"
    "  created INTEGER NOT NULL);"
    /* at most one active key, enforced by the database */
    "CREATE UNIQUE INDEX ticket_keys_one_active ON ticket_keys(state)"
    "  WHERE state = 0;"
    /* profile §7 */
    "CREATE TABLE replay ("
    "  digest BLOB PRIMARY KEY,"
    "  expires INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX replay_by_expiry ON replay(expires);"
    /* profile §8 */
    "CREATE TABLE records ("
    "  id INTEGER PRIMARY KEY,"
    "  time INTEGER NOT NULL,"
    "  service INTEGER NOT NULL,"
    "  subscriber TEXT NOT NULL,"
    "  initiator TEXT NOT NULL,"
    "  responder TEXT NOT NULL,"
    "  ticket_id TEXT NOT NULL,"
    "  valid_from INTEGER NOT NULL,"
    "  valid_to INTEGER NOT NULL,"
    "  spis TEXT NOT NULL,"
    "  outcome TEXT NOT NULL);"
    /* One index: every index is one more page written per answer. Time
     * serves `since` queries and retention; a query by subscriber reads
     * the time range it is given. */
    "CREATE INDEX records_by_time ON records(time);";

/* v1 -> v2: the generation of the rows a lookup reads (subscribers, their
 * IMPUs and patterns, ticket keys). Every connection caches what it looked
 * up (store_cache.c) and checks, inside the transaction that writes an
 * answer, that the generation is still the one its cached rows came from.
 * Triggers make every writer bump it, whoever it is: kmsctl, another
 * process, or the sqlite3 shell. It is an INTEGER kept in meta's v (a
 * column of BLOB affinity stores an integer as it is given, so v + 1 stays
 * an integer). Only these four tables: the replay cache and the records,
 * which every answer writes, do not bump it. */
#define GEN_TRIGGER(table, event)                                            \
    "CREATE TRIGGER " table "_" event "_generation AFTER " event " ON "     \
    table " BEGIN UPDATE meta SET v = v + 1 WHERE k = 'generation'; END;"
#define GEN_TRIGGERS(table)                                                  \
    GEN_TRIGGER(table, "INSERT") GEN_TRIGGER(table, "UPDATE")                \
    GEN_TRIGGER(table, "DELETE")
static const char v2[] =
    "INSERT INTO meta(k, v) VALUES ('generation', 1);"
    GEN_TRIGGERS("subscribers") GEN_TRIGGERS("impus")
    GEN_TRIGGERS("responder_patterns") GEN_TRIGGERS("ticket_keys");

/* v2 -> v3: the replay cache moved to the node state (node.h), where the
 * answers commit; its table here is no longer written or read. The
 * records stay, filled by the drain of the node's journal. */
static const char v3[] = "DROP TABLE replay;";

/* v3 -> v4: the subscriber's policy for the TP flags L and M (RFC 6043
 * §6.10: the Initiator / the Responder may supply session keys), no for
 * every existing subscriber (doc/profile.md §9.34). */
static const char v4[] =
    "ALTER TABLE subscribers ADD COLUMN initiator_keys INTEGER NOT NULL "
    "DEFAULT 0 CHECK (initiator_keys IN (0, 1));"
    "ALTER TABLE subscribers ADD COLUMN responder_keys INTEGER NOT NULL "
    "DEFAULT 0 CHECK (responder_keys IN (0, 1));";

/* v4 -> v5: a record's responder is a JSON array of the responders
 * (doc/profile.md §9.35); an earlier record held them comma separated, a
 * form that cannot be split again (a SIP URI may hold a comma): it becomes
 * one element, quotes and backslashes as '?' like the records write. */
static const char v5[] =
    "UPDATE records SET responder = CASE WHEN responder = '' THEN '[]' "
    "ELSE '[\"' || replace(replace(responder, '\\', '?'), '\"', '?') || "
    "'\"]' END;";

static const char *const migrations[MK_SQLSTORE_SCHEMA_VERSION] = {
    v1, v2, v3, v4, v5};

static mk_err user_version(mk_sqlstore *s, int *v)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return mk_store_db_err(s, rc, "cannot read the store version");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return mk_store_db_err(s, rc, "cannot read the store version");
    return MK_OK;
}

static mk_err exec_sql(mk_sqlstore *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? MK_OK : mk_store_db_err(s, rc, what);
}

mk_err mk_store_migrate(mk_sqlstore *s)
{
    int v = 0;
    mk_err rc;

    MK_GUARD(user_version(s, &v));
    if (v == MK_SQLSTORE_SCHEMA_VERSION)
        return MK_OK;
    /* Under the write lock, read again: another process may have migrated
     * the file in between. */
    MK_GUARD(mk_store_begin_write(s));
    MK_GUARD_GOTO(user_version(s, &v), rc, done);
    if (v < 0 || v > MK_SQLSTORE_SCHEMA_VERSION) {
        rc = mk_err_raise(MK_E_CONFIG, -1, 0,
                          "store schema is newer than this program");
        goto done;
    }
    for (int i = v; i < MK_SQLSTORE_SCHEMA_VERSION; i++)
        MK_GUARD_GOTO(exec_sql(s, migrations[i], "cannot migrate the store"),
                      rc, done);
    char set[48];
    snprintf(set, sizeof set, "PRAGMA user_version=%d",
             MK_SQLSTORE_SCHEMA_VERSION);
    /* user_version lives in the database header: part of this commit */
    rc = exec_sql(s, set, "cannot set the store version");
done:
    return mk_store_end(s, rc);
}
