/* test_store.c - the SQLite store through the mk_kms_store interface and
 * the administration API: round trips, keys at rest, schema, the cache of
 * looked-up rows against the node's generation, records drained from the
 * node's journal, a busy database, master key file. (The node state
 * itself: test_node.c.) */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/master_key.h"
#include "store/store.h"
#include "lib/check_main.h"
#include "lib/tmpdir.h"
#include "store/store_int.h" /* sizeof (struct mk_sqlstore) */

/* --- helpers --- */

static char dir[64];
static char db_path[128];

static const uint8_t MASTER[32] = {
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
    0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f};

static void setup(void)
{
    mk_test_dir_make(dir, sizeof dir, "store");
    snprintf(db_path, sizeof db_path, "%s/kms.db", dir);
}

static void teardown(void)
{
    mk_test_dir_remove(dir);
}

static mk_sqlstore *open_store(uint32_t busy_ms)
{
    mk_sqlstore *s = NULL;
    ck_assert_int_eq(mk_sqlstore_open(db_path, MK_BYTES(MASTER, 32), busy_ms,
                                      &s),
                     MK_OK);
    ck_assert_ptr_nonnull(s);
    return s;
}

static void fill_psk(mk_key *k, size_t n, uint8_t seed)
{
    k->n = n;
    for (size_t i = 0; i < n; i++)
        k->b[i] = (uint8_t)(seed + 7 * i);
}

static mk_subscriber make_sub(const char *id, uint8_t seed, const char *impu1,
                              const char *impu2)
{
    mk_subscriber s;
    memset(&s, 0, sizeof s);
    s.psk_id_len = strlen(id);
    memcpy(s.psk_id, id, s.psk_id_len);
    fill_psk(&s.psk, 32, seed);
    snprintf(s.impu[s.n_impu++], MK_URI_MAX, "%s", impu1);
    if (impu2 != NULL)
        snprintf(s.impu[s.n_impu++], MK_URI_MAX, "%s", impu2);
    s.active = true;
    return s;
}

static sqlite3 *raw_open(void)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    return db;
}

static sqlite3_int64 raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    sqlite3_int64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void digest_of(uint8_t d[32], unsigned who, unsigned i)
{
    memset(d, 0xa5, 32);
    d[0] = (uint8_t)who;
    d[1] = (uint8_t)(i >> 24);
    d[2] = (uint8_t)(i >> 16);
    d[3] = (uint8_t)(i >> 8);
    d[4] = (uint8_t)i;
}

static mk_record make_record(uint64_t t, const char *sub, unsigned i)
{
    mk_record r;
    memset(&r, 0, sizeof r);
    r.time_unix = t;
    r.service = 1 + (int)(i % 2);
    snprintf(r.subscriber, sizeof r.subscriber, "%s", sub);
    snprintf(r.initiator, sizeof r.initiator, "sip:%s@example.org", sub);
    snprintf(r.responder, sizeof r.responder, "[\"sip:bob@example.org\"]");
    snprintf(r.ticket_id, sizeof r.ticket_id, "%064x", i);
    r.valid_from = t;
    r.valid_to = t + 3600;
    snprintf(r.spis, sizeof r.spis, "%08x,%08x", i, i + 1);
    snprintf(r.outcome, sizeof r.outcome, "ok");
    return r;
}

/* answer_commit of a replay entry with a record of its own */
static mk_err commit_digest(const mk_kms_store *t, const uint8_t d[32],
                            uint64_t expires, uint64_t now)
{
    mk_record r = make_record(now, "replay", d[4]);
    return t->answer_commit(t->ctx, &(mk_answer_write){.digest = d, .expires_unix = expires, .now_unix = now, .record = &r});
}

/* answer_commit of a record alone */
static mk_err commit_record(const mk_kms_store *t, const mk_record *r)
{
    return t->answer_commit(t->ctx, &(mk_answer_write){.now_unix = r->time_unix, .record = r});
}

/* --- schema and opening --- */

START_TEST(test_open_creates_current_schema)
{
    mk_sqlstore *s = open_store(1000);
    mk_sqlstore_close(s);
    sqlite3 *db = raw_open();
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"),
                     MK_SQLSTORE_SCHEMA_VERSION);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
                                        NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}
END_TEST

/* What a file holds, to see that an open wrote nothing. */
static size_t file_bytes(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* profile §9.43: only kmsctl init (mk_sqlstore_open) makes a store of an
 * empty file; every other open refuses it and leaves it empty (SQLite
 * would take it for an empty database). */
START_TEST(test_empty_file_only_init_creates)
{
    int fd = open(db_path, O_CREAT | O_WRONLY | O_EXCL, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    mk_sqlstore *s = NULL;
    ck_assert_int_eq(mk_sqlstore_open_existing(db_path, MK_BYTES(MASTER, 32),
                                               1000, &s),
                     MK_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(mk_err_last()->what, "empty"));
    mk_sqlstore_opts ro = {.busy_timeout_ms = 1000, .read_only = true};
    ck_assert_int_eq(mk_sqlstore_open_with(db_path, MK_BYTES(MASTER, 32), &ro,
                                           &s),
                     MK_E_CONFIG);
    ck_assert_ptr_null(s);
    struct stat sb;
    ck_assert_int_eq(stat(db_path, &sb), 0);
    ck_assert_int_eq(sb.st_size, 0);

    s = open_store(1000); /* kmsctl init */
    mk_sqlstore_close(s);
    sqlite3 *db = raw_open();
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"),
                     MK_SQLSTORE_SCHEMA_VERSION);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
                                 "type = 'table' AND name IN ('meta', "
                                 "'subscribers', 'impus', "
                                 "'responder_patterns', 'ticket_keys', "
                                 "'records')"),
                     6);
    /* the replay cache is the node's (schema v3) */
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
                                 "name = 'replay'"),
                     0);
    sqlite3_close(db);
    /* now it is a store */
    ck_assert_int_eq(mk_sqlstore_open_existing(db_path, MK_BYTES(MASTER, 32),
                                               1000, &s),
                     MK_OK);
    mk_sqlstore_close(s);
    /* opening again does not migrate twice */
    s = open_store(1000);
    mk_sqlstore_close(s);
}
END_TEST

/* A store without its master key check value is refused by every open
 * but init's, and nothing is written; a read-only open of a good store
 * leaves every byte of it as it was. */
START_TEST(test_existing_open_writes_nothing)
{
    mk_sqlstore *s = open_store(1000);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    mk_sqlstore_close(s);
    static uint8_t before[1 << 16], after[1 << 16];
    size_t nb = file_bytes(db_path, before, sizeof before);
    mk_sqlstore_opts ro = {.busy_timeout_ms = 1000, .read_only = true};
    ck_assert_int_eq(mk_sqlstore_open_with(db_path, MK_BYTES(MASTER, 32), &ro,
                                           &s),
                     MK_OK);
    bool complete = false;
    ck_assert_int_eq(mk_sqlstore_quick_check(s, 0, &complete), MK_OK);
    ck_assert(complete);
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_subscriber out;
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("alice", 5), &out),
                     MK_OK);
    mk_subscriber_wipe(&out);
    /* a read-only connection cannot write */
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(s, MK_BYTES("alice", 5),
                                                       false),
                     MK_E_UNAVAILABLE);
    mk_sqlstore_close(s);
    ck_assert_uint_eq(file_bytes(db_path, after, sizeof after), nb);
    ck_assert_mem_eq(before, after, nb);

    sqlite3 *db = raw_open();
    ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM meta WHERE k = "
                                      "'master_key_check'",
                                  0, 0, 0),
                     SQLITE_OK);
    sqlite3_close(db);
    nb = file_bytes(db_path, before, sizeof before);
    ck_assert_int_eq(mk_sqlstore_open_existing(db_path, MK_BYTES(MASTER, 32),
                                               1000, &s),
                     MK_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(mk_err_last()->what, "check value"));
    ck_assert_uint_eq(file_bytes(db_path, after, sizeof after), nb);
    ck_assert_mem_eq(before, after, nb);
    mk_subscriber_wipe(&a);
}
END_TEST

/* A store written by the first version (schema 1: no generation, no
 * triggers, a replay table) is migrated to the current one at the next
 * open, its rows kept. The v1 file is made from a current one by undoing
 * exactly what v2 and v3 do. */
START_TEST(test_migrates_v1_file)
{
    mk_sqlstore *s = open_store(1000);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    mk_sqlstore_close(s);
    sqlite3 *db = raw_open();
    const char *count_triggers =
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'";
    ck_assert_int_eq(raw_int(db, count_triggers), 12);
    for (;;) {
        sqlite3_stmt *st;
        ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT name FROM "
                                                "sqlite_master WHERE type = "
                                                "'trigger' LIMIT 1",
                                            -1, &st, NULL),
                         SQLITE_OK);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            break;
        }
        char sql[160];
        snprintf(sql, sizeof sql, "DROP TRIGGER \"%s\"",
                 (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        ck_assert_int_eq(sqlite3_exec(db, sql, 0, 0, 0), SQLITE_OK);
    }
    ck_assert_int_eq(sqlite3_exec(db, "ALTER TABLE subscribers DROP COLUMN "
                                      "initiator_keys; ALTER TABLE "
                                      "subscribers DROP COLUMN "
                                      "responder_keys; "
                                      "DELETE FROM meta WHERE k = "
                                      "'generation'; CREATE TABLE replay ("
                                      "digest BLOB PRIMARY KEY, expires "
                                      "INTEGER NOT NULL) WITHOUT ROWID; "
                                      "CREATE INDEX replay_by_expiry ON "
                                      "replay(expires); "
                                      "PRAGMA user_version=1",
                                  0, 0, 0),
                     SQLITE_OK);
    ck_assert_int_eq(raw_int(db, count_triggers), 0);
    sqlite3_close(db);

    /* only kmsctl init migrates (profile §9.43) */
    ck_assert_int_eq(mk_sqlstore_open_existing(db_path, MK_BYTES(MASTER, 32),
                                               1000, &s),
                     MK_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(mk_err_last()->what, "older"));
    ck_assert_ptr_nonnull(strstr(mk_sqlstore_open_errmsg(), "version 1"));
    s = open_store(1000);
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_subscriber out;
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("alice", 5), &out),
                     MK_OK);
    ck_assert_mem_eq(out.psk.b, a.psk.b, 32);
    db = raw_open();
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"),
                     MK_SQLSTORE_SCHEMA_VERSION);
    ck_assert_int_eq(raw_int(db, count_triggers), 12);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
                                 "name = 'replay'"),
                     0);
    ck_assert_int_eq(raw_int(db, "SELECT v FROM meta WHERE k = 'generation'"),
                     1);
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(s, MK_BYTES("alice", 5),
                                                       false),
                     MK_OK);
    ck_assert_int_eq(raw_int(db, "SELECT v FROM meta WHERE k = 'generation'"),
                     2);
    sqlite3_close(db);
    mk_sqlstore_close(s);
    mk_subscriber_wipe(&out);
    mk_subscriber_wipe(&a);
}
END_TEST

/* v4 -> v5: responders comma separated become a JSON array of one
 * element (they cannot be split again), an empty one [] (doc/profile.md
 * §9.35). */
START_TEST(test_migrates_responders)
{
    mk_sqlstore *s = open_store(1000);
    mk_sqlstore_close(s);
    sqlite3 *db = raw_open();
    ck_assert_int_eq(sqlite3_exec(db,
                                  "INSERT INTO records(time, service, "
                                  "subscriber, initiator, responder, "
                                  "ticket_id, valid_from, valid_to, spis, "
                                  "outcome) VALUES "
                                  "(1, 1, 'a', 'sip:a@x', 'sip:b@x,sip:c@x', "
                                  "'', 0, 0, '', 'ok'), "
                                  "(2, 2, 'b', '', '', '', 0, 0, '', 'ok'), "
                                  "(3, 1, 'a', '', 'sip:\"q\\\\', '', 0, "
                                  "0, '', 'ok'); PRAGMA user_version=4",
                                  0, 0, 0),
                     SQLITE_OK);
    sqlite3_close(db);
    s = open_store(1000);
    db = raw_open();
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM records WHERE time = 1 "
                                 "AND responder = '[\"sip:b@x,sip:c@x\"]'"),
                     1);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM records WHERE time = 2 "
                                 "AND responder = '[]'"),
                     1);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM records WHERE time = 3 "
                                 "AND responder = '[\"sip:?q??\"]'"),
                     1);
    sqlite3_close(db);
    mk_sqlstore_close(s);
}
END_TEST

START_TEST(test_newer_schema_refused)
{
    sqlite3 *db = raw_open();
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version=99", 0, 0, 0),
                     SQLITE_OK);
    sqlite3_close(db);
    mk_sqlstore *s = NULL;
    ck_assert_int_eq(mk_sqlstore_open(db_path, MK_BYTES(MASTER, 32), 1000, &s),
                     MK_E_CONFIG);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_not_a_database_refused)
{
    FILE *f = fopen(db_path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database. ", f);
    fclose(f);
    mk_sqlstore *s = NULL;
    ck_assert_int_eq(mk_sqlstore_open(db_path, MK_BYTES(MASTER, 32), 1000, &s),
                     MK_E_CONFIG);
    /* SQLite's reason, not "cannot use WAL mode" (profile §9.44) */
    ck_assert_int_eq(mk_sqlstore_open_existing(db_path, MK_BYTES(MASTER, 32),
                                               1000, &s),
                     MK_E_CONFIG);
    ck_assert_str_eq(mk_err_last()->what, "store damaged");
    ck_assert_ptr_nonnull(strstr(mk_sqlstore_open_errmsg(),
                                 "file is not a database"));
}
END_TEST

/* Damage past the first pages: the open succeeds (SQLite reads little),
 * quick_check finds it and names it (profile §9.44). */
START_TEST(test_quick_check_finds_damage)
{
    mk_sqlstore *s = open_store(1000);
    char id[16];
    for (int i = 0; i < 400; i++) {
        snprintf(id, sizeof id, "sub%04d", i);
        char impu[64];
        snprintf(impu, sizeof impu, "sip:%s@example.org", id);
        mk_subscriber a = make_sub(id, (uint8_t)i, impu, NULL);
        ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
        mk_subscriber_wipe(&a);
    }
    mk_sqlstore_close(s);
    sqlite3 *db = raw_open();
    sqlite3_int64 psize = raw_int(db, "PRAGMA page_size");
    sqlite3_int64 pages = raw_int(db, "PRAGMA page_count");
    sqlite3_int64 root = raw_int(db, "SELECT rootpage FROM sqlite_master "
                                     "WHERE name = 'subscribers'");
    sqlite3_close(db);
    ck_assert_int_gt(pages, 8);
    /* garbage over the head of the subscribers' root page */
    int fd = open(db_path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    uint8_t junk[512];
    memset(junk, 0x5a, sizeof junk);
    ck_assert_int_eq(pwrite(fd, junk, sizeof junk,
                            (off_t)((root - 1) * psize)),
                     (ssize_t)sizeof junk);
    close(fd);
    ck_assert_int_eq(mk_sqlstore_open_existing(db_path, MK_BYTES(MASTER, 32),
                                               1000, &s),
                     MK_OK);
    bool complete = true;
    ck_assert_int_eq(mk_sqlstore_quick_check(s, 0, &complete), MK_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(mk_sqlstore_errmsg(s), "quick_check"));
    /* a lookup that reads it while serving is 503, not a bug */
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_subscriber out;
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("sub0399", 7),
                                            &out),
                     MK_E_UNAVAILABLE);
    ck_assert_str_eq(mk_err_last()->what, "store damaged");
    mk_sqlstore_close(s);
}
END_TEST

/* A check that runs out of time stops soon after (and then checks the
 * tables an answer reads whole); without a budget it completes. */
START_TEST(test_quick_check_budget)
{
    mk_sqlstore *s = open_store(1000);
    mk_sqlstore_close(s);
    sqlite3 *db = raw_open();
    ck_assert_int_eq(sqlite3_exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 "
                                      "UNION ALL SELECT i + 1 FROM n WHERE i "
                                      "< 200000) INSERT INTO records(time, "
                                      "service, subscriber, initiator, "
                                      "responder, ticket_id, valid_from, "
                                      "valid_to, spis, outcome) SELECT i, 1, "
                                      "'alice', 'sip:alice@example.org', "
                                      "'sip:bob@example.org', hex(i), i, i, "
                                      "'', 'ok' FROM n",
                                  0, 0, 0),
                     SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(mk_sqlstore_open_existing(db_path, MK_BYTES(MASTER, 32),
                                               1000, &s),
                     MK_OK);
    bool complete = true;
    double t0 = now_ms();
    ck_assert_int_eq(mk_sqlstore_quick_check(s, 1, &complete), MK_OK);
    ck_assert_msg(!complete, "200000 records checked within 1 ms?");
    ck_assert_msg(now_ms() - t0 < 500, "the check ran %.0f ms past a 1 ms "
                                       "budget", now_ms() - t0);
    ck_assert_int_eq(mk_sqlstore_quick_check(s, 0, &complete), MK_OK);
    ck_assert(complete);
    mk_sqlstore_close(s);
}
END_TEST

/* profile §9.43: a store replaced under an open connection (mv backup
 * over it): the connection refuses every transaction, empties the WAL
 * into its own file when handing over, and its close leaves the -wal and
 * -shm files (now the new file's) where they are; the new file is intact. */
START_TEST(test_replaced_store)
{
    char other[160], cmd[512];
    mk_sqlstore *s = open_store(1000);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    mk_sqlstore_close(s);
    /* the backup: a copy with alice only */
    snprintf(other, sizeof other, "%s/backup.db", dir);
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' \".backup '%s'\"", db_path, other);
    ck_assert_int_eq(system(cmd), 0);

    s = open_store(1000);
    mk_sqlstore *s2 = NULL;
    ck_assert_int_eq(mk_sqlstore_open_existing(db_path, MK_BYTES(MASTER, 32),
                                               1000, &s2),
                     MK_OK);
    /* rows in the WAL of the old file only */
    mk_subscriber b = make_sub("bob", 2, "sip:bob@example.org", NULL);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_OK);
    ck_assert_int_eq(mk_sqlstore_same_file(s), MK_OK);
    ck_assert_int_eq(rename(other, db_path), 0);
    ck_assert_int_eq(mk_sqlstore_same_file(s), MK_E_UNAVAILABLE);
    mk_kms_store t = mk_sqlstore_interface(s2);
    mk_subscriber out;
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("alice", 5), &out),
                     MK_E_UNAVAILABLE);
    ck_assert_str_eq(mk_err_last()->what,
                     "store file removed or replaced while open");
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_E_UNAVAILABLE);
    ck_assert_int_eq(mk_sqlstore_hand_over(s), MK_OK);
    mk_sqlstore_close(s);
    mk_sqlstore_close(s2);
    char side[160];
    snprintf(side, sizeof side, "%s-shm", db_path);
    ck_assert_int_eq(access(side, F_OK), 0);
    snprintf(side, sizeof side, "%s-wal", db_path);
    struct stat sb;
    ck_assert_int_eq(stat(side, &sb), 0);
    ck_assert_int_eq(sb.st_size, 0); /* the old file's pages are not in it */

    /* the new file opens, is intact, and is the backup: alice, no bob */
    ck_assert_int_eq(mk_sqlstore_open_existing(db_path, MK_BYTES(MASTER, 32),
                                               1000, &s),
                     MK_OK);
    bool complete = false;
    ck_assert_int_eq(mk_sqlstore_quick_check(s, 0, &complete), MK_OK);
    t = mk_sqlstore_interface(s);
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("alice", 5), &out),
                     MK_OK);
    mk_subscriber_wipe(&out);
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("bob", 3), &out),
                     MK_E_NOT_FOUND);
    mk_sqlstore_close(s);
    /* removed: the same */
    s = open_store(1000);
    ck_assert_int_eq(unlink(db_path), 0);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_E_UNAVAILABLE);
    mk_sqlstore_close(s);
    ck_assert_int_eq(access(db_path, F_OK), -1);
    mk_subscriber_wipe(&a);
    mk_subscriber_wipe(&b);
}
END_TEST

START_TEST(test_open_existing_needs_the_file)
{
    mk_sqlstore *s = NULL;
    ck_assert_int_eq(mk_sqlstore_open_existing(db_path, MK_BYTES(MASTER, 32),
                                               1000, &s),
                     MK_E_CONFIG);
    ck_assert_int_eq(access(db_path, F_OK), -1);
    /* the master key must be 32 bytes */
    ck_assert_int_eq(mk_sqlstore_open(db_path, MK_BYTES(MASTER, 16), 1000, &s),
                     MK_E_ARG);
}
END_TEST

START_TEST(test_wrong_master_key_refused)
{
    mk_sqlstore *s = open_store(1000);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    mk_sqlstore_close(s);
    uint8_t other[32];
    memcpy(other, MASTER, 32);
    other[31] ^= 1;
    s = NULL;
    ck_assert_int_eq(mk_sqlstore_open(db_path, MK_BYTES(other, 32), 1000, &s),
                     MK_E_UNWRAP);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(mk_err_last()->what, "master key"));
}
END_TEST

START_TEST(test_wrapped_psk_bound_to_its_row)
{
    mk_sqlstore *s = open_store(1000);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    mk_subscriber b = make_sub("bob", 2, "sip:bob@example.org", NULL);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_OK);
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_subscriber out;
    /* both unwrapped once, so both are in the connection's unwrap cache */
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("alice", 5), &out),
                     MK_OK);
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("bob", 3), &out),
                     MK_OK);
    /* someone with write access to the file gives bob alice's PSK */
    sqlite3 *db = raw_open();
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "UPDATE subscribers SET psk_wrapped = (SELECT "
                     "psk_wrapped FROM subscribers WHERE psk_id = "
                     "CAST('alice' AS BLOB)) WHERE psk_id = CAST('bob' AS "
                     "BLOB)",
                     0, 0, 0),
        SQLITE_OK);
    ck_assert_int_eq(sqlite3_changes(db), 1);
    sqlite3_close(db);
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("bob", 3), &out),
                     MK_E_UNWRAP);
    ck_assert_uint_eq(out.psk.n, 0);
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("alice", 5), &out),
                     MK_OK);
    mk_sqlstore_close(s);
}
END_TEST

/* --- subscribers --- */

START_TEST(test_subscriber_round_trip)
{
    mk_sqlstore *s = open_store(1000);
    mk_kms_store t = mk_sqlstore_interface(s);
    ck_assert_ptr_eq(t.ctx, s);
    ck_assert_ptr_nonnull(t.subscriber_by_psk_id);
    ck_assert_ptr_nonnull(t.subscriber_by_impu);
    ck_assert_ptr_nonnull(t.ticket_key_active);
    ck_assert_ptr_nonnull(t.ticket_key_by_id);
    ck_assert_ptr_nonnull(t.answer_commit);

    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org",
                               "tel:+15551234");
    a.psk.n = 16;
    snprintf(a.policy.responder_patterns[0], MK_URI_MAX, "sip:*@example.org");
    snprintf(a.policy.responder_patterns[1], MK_URI_MAX, "tel:+1555*");
    a.policy.n_patterns = 2;
    a.policy.max_lifetime = 7200;
    a.policy.forking_allowed = true;
    a.policy.reuse_allowed = false;
    a.policy.initiator_keys_allowed = true;
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    mk_subscriber b = make_sub("bob", 2, "sip:bob@example.org", NULL);
    b.policy.reuse_allowed = true;
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_OK);

    mk_subscriber out;
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("alice", 5), &out),
                     MK_OK);
    ck_assert_uint_eq(out.psk_id_len, 5);
    ck_assert_mem_eq(out.psk_id, "alice", 5);
    ck_assert_uint_eq(out.psk.n, 16);
    ck_assert_mem_eq(out.psk.b, a.psk.b, 16);
    ck_assert_uint_eq(out.n_impu, 2);
    ck_assert_str_eq(out.impu[0], "sip:alice@example.org"); /* order kept */
    ck_assert_str_eq(out.impu[1], "tel:+15551234");
    ck_assert(out.active);
    ck_assert_uint_eq(out.policy.n_patterns, 2);
    ck_assert_str_eq(out.policy.responder_patterns[0], "sip:*@example.org");
    ck_assert_str_eq(out.policy.responder_patterns[1], "tel:+1555*");
    ck_assert_uint_eq(out.policy.max_lifetime, 7200);
    ck_assert(out.policy.forking_allowed);
    ck_assert(!out.policy.reuse_allowed);
    ck_assert(out.policy.initiator_keys_allowed);
    ck_assert(!out.policy.responder_keys_allowed);

    /* by either IMPU */
    ck_assert_int_eq(t.subscriber_by_impu(t.ctx, MK_BYTES("tel:+15551234", 13),
                                          &out),
                     MK_OK);
    ck_assert_mem_eq(out.psk_id, "alice", 5);
    ck_assert_mem_eq(out.psk.b, a.psk.b, 16);
    ck_assert_int_eq(t.subscriber_by_impu(t.ctx,
                                          MK_BYTES("sip:bob@example.org", 19),
                                          &out),
                     MK_OK);
    ck_assert_mem_eq(out.psk_id, "bob", 3);
    ck_assert_uint_eq(out.psk.n, 32);
    ck_assert_mem_eq(out.psk.b, b.psk.b, 32);
    ck_assert_uint_eq(out.policy.n_patterns, 0);
    ck_assert(out.policy.reuse_allowed);
    ck_assert(!out.policy.forking_allowed);
    ck_assert(!out.policy.initiator_keys_allowed);
    ck_assert(!out.policy.responder_keys_allowed);

    /* misses */
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("carol", 5), &out),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("alic", 4), &out),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(t.subscriber_by_impu(t.ctx,
                                          MK_BYTES("sip:alice@example.or", 20),
                                          &out),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(t.subscriber_by_impu(t.ctx, MK_BYTES("sip:a\0b", 7),
                                          &out),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(t.subscriber_by_impu(t.ctx, MK_BYTES_NONE, &out),
                     MK_E_NOT_FOUND);
    ck_assert_uint_eq(out.psk.n, 0);
    mk_sqlstore_close(s);
}
END_TEST

START_TEST(test_ambiguous_impu_not_found)
{
    mk_sqlstore *s = open_store(1000);
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org",
                               "sip:desk@example.org");
    mk_subscriber b = make_sub("bob", 2, "sip:bob@example.org",
                               "sip:desk@example.org");
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_OK);
    size_t owners = 0;
    ck_assert_int_eq(mk_sqlstore_impu_owners(s, "sip:desk@example.org",
                                             &owners),
                     MK_OK);
    ck_assert_uint_eq(owners, 2);
    mk_subscriber out;
    const mk_bytes desk = MK_BYTES("sip:desk@example.org", 20);
    ck_assert_int_eq(t.subscriber_by_impu(t.ctx, desk, &out), MK_E_NOT_FOUND);
    ck_assert_uint_eq(out.psk.n, 0);
    /* a disabled owner still owns it */
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(s, MK_BYTES("bob", 3),
                                                       false),
                     MK_OK);
    ck_assert_int_eq(t.subscriber_by_impu(t.ctx, desk, &out), MK_E_NOT_FOUND);
    /* once bob is gone the IMPU is alice's again */
    ck_assert_int_eq(mk_sqlstore_subscriber_remove(s, MK_BYTES("bob", 3)),
                     MK_OK);
    ck_assert_int_eq(t.subscriber_by_impu(t.ctx, desk, &out), MK_OK);
    ck_assert_mem_eq(out.psk_id, "alice", 5);
    mk_sqlstore_close(s);
}
END_TEST

START_TEST(test_disable_enable_remove)
{
    mk_sqlstore *s = open_store(1000);
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    mk_subscriber out;
    const mk_bytes id = MK_BYTES("alice", 5);
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(s, id, false), MK_OK);
    /* a disabled subscriber is still found: the core refuses it (403) */
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, id, &out), MK_OK);
    ck_assert(!out.active);
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(s, id, true), MK_OK);
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, id, &out), MK_OK);
    ck_assert(out.active);
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(s, MK_BYTES("zed", 3),
                                                       false),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(mk_sqlstore_subscriber_remove(s, id), MK_OK);
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, id, &out), MK_E_NOT_FOUND);
    ck_assert_int_eq(t.subscriber_by_impu(t.ctx,
                                          MK_BYTES("sip:alice@example.org", 21),
                                          &out),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(mk_sqlstore_subscriber_remove(s, id), MK_E_NOT_FOUND);
    mk_sqlstore_close(s);
    sqlite3 *db = raw_open();
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM impus"), 0);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_add_validation)
{
    mk_sqlstore *s = open_store(1000);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_E_EXISTS);

    mk_subscriber b = make_sub("bob", 2, "sip:bob@example.org", NULL);
    b.psk.n = 20;
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_E_VALUE);
    b.psk.n = 32;
    snprintf(b.impu[0], MK_URI_MAX, "http://bob.example.org/");
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_E_VALUE);
    snprintf(b.impu[0], MK_URI_MAX, "sip:");
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_E_VALUE);
    snprintf(b.impu[0], MK_URI_MAX, "sip:bob @example.org");
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_E_VALUE);
    snprintf(b.impu[0], MK_URI_MAX, "sips:bob@example.org");
    snprintf(b.impu[1], MK_URI_MAX, "sips:bob@example.org");
    b.n_impu = 2;
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_E_VALUE);
    b.n_impu = 0;
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_E_VALUE);
    b.n_impu = 1;
    b.psk_id_len = 0;
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_E_VALUE);
    b.psk_id_len = 3;
    b.policy.n_patterns = 1; /* empty pattern */
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_E_VALUE);
    b.policy.n_patterns = 0;
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_OK);
    /* nothing half-added by the refusals */
    size_t n = 0;
    ck_assert_int_eq(mk_sqlstore_impu_owners(s, "sips:bob@example.org", &n),
                     MK_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(mk_sqlstore_impu_ok("tel:+4930123"));
    ck_assert(!mk_sqlstore_impu_ok("TEL:+4930123"));
    ck_assert(!mk_sqlstore_impu_ok("mailto:a@b"));
    /* RFC 3261 / 3966 characters only (doc/profile.md §9.35) */
    ck_assert(!mk_sqlstore_impu_ok("sip:bob@example.org\r\nX: y"));
    ck_assert(!mk_sqlstore_impu_ok("sip:\"bob\"@example.org"));
    ck_assert(!mk_sqlstore_impu_ok("sip:b\xc3\xb6" "b@example.org"));
    ck_assert(!mk_sqlstore_impu_ok("sip:bob%2@example.org"));
    ck_assert(mk_sqlstore_impu_ok("sip:b%C3%B6b@example.org"));
    ck_assert(mk_sqlstore_impu_ok("tel:*21#"));
    mk_sqlstore_close(s);
}
END_TEST

typedef struct listed {
    char ids[4][16];
    size_t psk_len[4];
    size_t n_impu[4];
    size_t n;
} listed;

static mk_err collect(void *arg, const mk_subscriber *s, size_t psk_len)
{
    listed *l = arg;
    ck_assert_uint_lt(l->n, 4);
    ck_assert_uint_eq(s->psk.n, 0); /* no PSK in a listing */
    snprintf(l->ids[l->n], 16, "%.*s", (int)s->psk_id_len,
             (const char *)s->psk_id);
    l->psk_len[l->n] = psk_len;
    l->n_impu[l->n] = s->n_impu;
    l->n++;
    return MK_OK;
}

START_TEST(test_subscriber_list)
{
    mk_sqlstore *s = open_store(1000);
    mk_subscriber b = make_sub("bob", 2, "sip:bob@example.org", NULL);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org",
                               "tel:+1555");
    a.psk.n = 16;
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &b), MK_OK);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    listed l = {0};
    ck_assert_int_eq(mk_sqlstore_subscriber_list(s, collect, &l), MK_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.ids[0], "alice");
    ck_assert_uint_eq(l.psk_len[0], 16);
    ck_assert_uint_eq(l.n_impu[0], 2);
    ck_assert_str_eq(l.ids[1], "bob");
    ck_assert_uint_eq(l.psk_len[1], 32);
    mk_sqlstore_close(s);
}
END_TEST

/* --- keys at rest --- */

static bool mem_has(const void *hay, size_t len, const uint8_t *needle,
                    size_t n)
{
    const uint8_t *h = hay;
    for (size_t i = 0; i + n <= len; i++)
        if (h[i] == needle[0] && memcmp(h + i, needle, n) == 0)
            return true;
    return false;
}

/* Every byte of the file that holds data (the node file is a sparse map
 * of its bound: holes are skipped), in chunks that overlap by n - 1. */
static bool file_contains(const char *path, const uint8_t *needle, size_t n)
{
    static uint8_t buf[1 << 20];
    int fd = open(path, O_RDONLY);
    bool found = false;
    if (fd < 0)
        return false;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t pos = lseek(fd, 0, SEEK_DATA);
    while (!found && pos >= 0 && pos < end) {
        off_t hole = lseek(fd, pos, SEEK_HOLE);
        while (!found && pos < hole) {
            ssize_t got = pread(fd, buf, sizeof buf, pos);
            ck_assert_int_gt(got, 0);
            found = mem_has(buf, (size_t)got, needle, n);
            if ((size_t)got < n || pos + got >= hole)
                pos += got;
            else
                pos += got - (off_t)(n - 1);
        }
        pos = lseek(fd, pos, SEEK_DATA);
    }
    close(fd);
    return found;
}

START_TEST(test_no_key_in_clear_on_disk)
{
    mk_sqlstore *s = open_store(1000);
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_subscriber a = make_sub("alice-psk-id", 0x41, "sip:alice@example.org",
                               NULL);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(s, 1000, NULL), MK_OK);
    mk_ticket_key tk;
    ck_assert_int_eq(t.ticket_key_active(t.ctx, &tk), MK_OK);
    ck_assert_uint_eq(tk.key.n, 32);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    /* while open, the WAL holds the newest pages */
    ck_assert(!file_contains(wal, a.psk.b, 16));
    ck_assert(!file_contains(wal, tk.key.b, 16));
    mk_sqlstore_close(s);
    /* the search works: the PSK id is stored in clear */
    ck_assert(file_contains(db_path, (const uint8_t *)"alice-psk-id", 12));
    /* no 16-byte window of either key, nor of the master key */
    for (size_t off = 0; off + 16 <= 32; off += 8) {
        ck_assert(!file_contains(db_path, a.psk.b + off, 16));
        ck_assert(!file_contains(db_path, tk.key.b + off, 16));
        ck_assert(!file_contains(db_path, MASTER + off, 16));
    }
    mk_key_wipe(&tk.key);
}
END_TEST

/* --- ticket keys --- */

typedef struct tk_list {
    char ids[8][16];
    mk_tk_state states[8];
    size_t n;
} tk_list;

static mk_err collect_tk(void *arg, const mk_ticket_key_info *k)
{
    tk_list *l = arg;
    ck_assert_uint_lt(l->n, 8);
    snprintf(l->ids[l->n], 16, "%.*s", (int)k->id_len, (const char *)k->id);
    l->states[l->n++] = k->state;
    return MK_OK;
}

/* doc/profile.md §9.38: a retired ticket key is gone from the store files
 * (no old page image in kms.db or its WAL, none in the node file) and from
 * the memory of a server connection from its next answer on, the
 * plaintext in its unwrap cache included. */
START_TEST(test_retired_key_destroyed)
{
    mk_sqlstore *srv = open_store(1000); /* a kmsd worker's connection */
    mk_sqlstore *adm = open_store(1000); /* kmsctl's */
    mk_kms_store t = mk_sqlstore_interface(srv);
    mk_ticket_key k1, k;
    char wal[160], node[160];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    snprintf(node, sizeof node, "%s-node", db_path);
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(adm, 1000, NULL), MK_OK);
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(adm, 2000, NULL), MK_OK);
    /* the wrapped bytes of tpk-0001, as a stolen file would hold them */
    uint8_t wrapped[64];
    size_t wn;
    {
        sqlite3 *db = raw_open();
        sqlite3_stmt *st;
        ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT key_wrapped FROM "
                                                "ticket_keys WHERE version = 1",
                                            -1, &st, NULL),
                         SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        wn = (size_t)sqlite3_column_bytes(st, 0);
        ck_assert_uint_eq(wn, 40);
        memcpy(wrapped, sqlite3_column_blob(st, 0), wn);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    /* the server uses tpk-0001 and commits answers: cached, armed */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8),
                                            &k1),
                         MK_OK);
        ck_assert_int_eq(t.answer_commit(t.ctx, &(mk_answer_write){.now_unix = 1000}), MK_OK);
    }
    ck_assert(file_contains(wal, wrapped, wn) ||
              file_contains(db_path, wrapped, wn));
    ck_assert(mem_has(srv, sizeof *srv, k1.key.b, 32));

    ck_assert_int_eq(
        mk_sqlstore_ticket_key_retire(adm, MK_BYTES("tpk-0001", 8)), MK_OK);
    /* the server's next answer (served from its cache) finds the change
     * at its commit: dropped, and the plaintext wiped everywhere in it */
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8), &k),
                     MK_OK);
    ck_assert_int_eq(t.answer_commit(t.ctx, &(mk_answer_write){.now_unix = 1000}), MK_E_STALE);
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8), &k),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(t.answer_commit(t.ctx, &(mk_answer_write){.now_unix = 1000}), MK_OK);
    ck_assert(!mem_has(srv, sizeof *srv, k1.key.b, 32));
    /* no page image of the wrapped key left in the files, while both
     * connections still have the store open */
    ck_assert(!file_contains(db_path, wrapped, wn));
    ck_assert(!file_contains(wal, wrapped, wn));
    ck_assert(!file_contains(node, wrapped, wn));
    /* the other key still works */
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0002", 8), &k),
                     MK_OK);
    mk_key_wipe(&k.key);
    mk_key_wipe(&k1.key);
    mk_sqlstore_close(adm);
    mk_sqlstore_close(srv);
}
END_TEST

START_TEST(test_ticket_key_rotation)
{
    mk_sqlstore *s = open_store(1000);
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_ticket_key k1, k, k2;
    ck_assert_int_eq(t.ticket_key_active(t.ctx, &k), MK_E_NOT_FOUND);

    mk_ticket_key_info info;
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(s, 1000, &info), MK_OK);
    ck_assert_uint_eq(info.id_len, 8);
    ck_assert_mem_eq(info.id, "tpk-0001", 8);
    ck_assert_uint_eq(info.version, 1);
    ck_assert_int_eq(t.ticket_key_active(t.ctx, &k1), MK_OK);
    ck_assert_mem_eq(k1.id, "tpk-0001", 8);
    ck_assert_int_eq(k1.state, MK_TK_ACTIVE);
    ck_assert_uint_eq(k1.key.n, 32);

    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(s, 2000, &info), MK_OK);
    ck_assert_mem_eq(info.id, "tpk-0002", 8);
    ck_assert_int_eq(t.ticket_key_active(t.ctx, &k2), MK_OK);
    ck_assert_mem_eq(k2.id, "tpk-0002", 8);
    ck_assert_mem_ne(k2.key.b, k1.key.b, 32);
    /* the old key still resolves, with the same bytes */
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8), &k),
                     MK_OK);
    ck_assert_int_eq(k.state, MK_TK_RESOLVE_ONLY);
    ck_assert_mem_eq(k.key.b, k1.key.b, 32);
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0002", 8), &k),
                     MK_OK);
    ck_assert_int_eq(k.state, MK_TK_ACTIVE);

    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(s, 3000, &info), MK_OK);
    /* the active key cannot be retired; a resolve-only one can */
    ck_assert_int_eq(mk_sqlstore_ticket_key_retire(s, MK_BYTES("tpk-0003", 8)),
                     MK_E_VALUE);
    ck_assert_int_eq(mk_sqlstore_ticket_key_retire(s, MK_BYTES("tpk-0001", 8)),
                     MK_OK);
    ck_assert_int_eq(mk_sqlstore_ticket_key_retire(s, MK_BYTES("tpk-0001", 8)),
                     MK_OK);
    ck_assert_int_eq(mk_sqlstore_ticket_key_retire(s, MK_BYTES("tpk-0009", 8)),
                     MK_E_NOT_FOUND);
    /* retired: resolves nothing */
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8), &k),
                     MK_E_NOT_FOUND);
    ck_assert_uint_eq(k.key.n, 0);
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("nope", 4), &k),
                     MK_E_NOT_FOUND);

    tk_list l = {0};
    ck_assert_int_eq(mk_sqlstore_ticket_key_list(s, collect_tk, &l), MK_OK);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(l.ids[0], "tpk-0001");
    ck_assert_int_eq(l.states[0], MK_TK_RETIRED);
    ck_assert_str_eq(l.ids[1], "tpk-0002");
    ck_assert_int_eq(l.states[1], MK_TK_RESOLVE_ONLY);
    ck_assert_str_eq(l.ids[2], "tpk-0003");
    ck_assert_int_eq(l.states[2], MK_TK_ACTIVE);
    mk_sqlstore_close(s);

    /* the retired key's bytes are gone from the database */
    sqlite3 *db = raw_open();
    ck_assert_int_eq(raw_int(db, "SELECT length(key_wrapped) FROM ticket_keys "
                                 "WHERE version = 1"),
                     0);
    /* and the database itself refuses a second active key */
    ck_assert_int_ne(sqlite3_exec(db, "UPDATE ticket_keys SET state = 0 "
                                      "WHERE version = 2",
                                  0, 0, 0),
                     SQLITE_OK);
    sqlite3_close(db);
    mk_key_wipe(&k1.key);
    mk_key_wipe(&k2.key);
    mk_key_wipe(&k.key);
}
END_TEST

/* A connection keeps the keys it unwrapped (store_wrap.c). What another
 * connection (kmsctl, another process) changes is seen at once: a new PSK
 * under the same PSK id, a rotated ticket key, a retired one. */
START_TEST(test_unwrap_cache_follows_the_rows)
{
    mk_sqlstore *s = open_store(1000);   /* the server's connection */
    mk_sqlstore *adm = open_store(1000); /* kmsctl's */
    mk_kms_store t = mk_sqlstore_interface(s);
    const mk_bytes id = MK_BYTES("alice", 5);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    mk_subscriber out;
    mk_ticket_key_info info;
    mk_ticket_key k1, k;

    ck_assert_int_eq(mk_sqlstore_subscriber_add(adm, &a), MK_OK);
    for (int i = 0; i < 3; i++) { /* the first unwraps, the others hit */
        ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, id, &out), MK_OK);
        ck_assert_uint_eq(out.psk.n, 32);
        ck_assert_mem_eq(out.psk.b, a.psk.b, 32);
    }
    /* the operator replaces alice's PSK (remove, add with a new one) */
    ck_assert_int_eq(mk_sqlstore_subscriber_remove(adm, id), MK_OK);
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, id, &out), MK_E_NOT_FOUND);
    mk_subscriber a2 = make_sub("alice", 99, "sip:alice@example.org", NULL);
    fill_psk(&a2.psk, 16, 99);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(adm, &a2), MK_OK);
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, id, &out), MK_OK);
    ck_assert_uint_eq(out.psk.n, 16);
    ck_assert_mem_eq(out.psk.b, a2.psk.b, 16);
    ck_assert_int_eq(t.subscriber_by_impu(t.ctx,
                                          MK_BYTES("sip:alice@example.org", 21),
                                          &out),
                     MK_OK);
    ck_assert_mem_eq(out.psk.b, a2.psk.b, 16);

    /* ticket keys: rotated and retired by the other connection */
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(adm, 1000, &info), MK_OK);
    ck_assert_int_eq(t.ticket_key_active(t.ctx, &k1), MK_OK);
    ck_assert_int_eq(t.ticket_key_active(t.ctx, &k), MK_OK);
    ck_assert_mem_eq(k.key.b, k1.key.b, 32);
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(adm, 2000, &info), MK_OK);
    ck_assert_int_eq(t.ticket_key_active(t.ctx, &k), MK_OK);
    ck_assert_mem_eq(k.id, "tpk-0002", 8);
    ck_assert_mem_ne(k.key.b, k1.key.b, 32);
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8), &k),
                     MK_OK);
    ck_assert_int_eq(k.state, MK_TK_RESOLVE_ONLY);
    ck_assert_mem_eq(k.key.b, k1.key.b, 32);
    ck_assert_int_eq(mk_sqlstore_ticket_key_retire(adm, MK_BYTES("tpk-0001", 8)),
                     MK_OK);
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8), &k),
                     MK_E_NOT_FOUND);
    ck_assert_uint_eq(k.key.n, 0);

    mk_sqlstore_close(adm);
    mk_sqlstore_close(s);
    mk_subscriber_wipe(&out);
    mk_subscriber_wipe(&a);
    mk_subscriber_wipe(&a2);
    mk_key_wipe(&k1.key);
    mk_key_wipe(&k.key);
}
END_TEST

/* --- the cache of looked-up rows (store_cache.c) --- */

static sqlite3_int64 raw_generation(sqlite3 *db)
{
    ck_assert_int_eq(raw_int(db, "SELECT typeof(v) = 'integer' FROM meta "
                                 "WHERE k = 'generation'"),
                     1);
    return raw_int(db, "SELECT v FROM meta WHERE k = 'generation'");
}

/* Run sql on the raw connection; the generation must have grown. */
static void bumps(sqlite3 *db, const char *sql)
{
    sqlite3_int64 g = raw_generation(db);
    ck_assert_msg(sqlite3_exec(db, sql, 0, 0, 0) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    ck_assert_msg(raw_generation(db) > g, "no new generation after %s", sql);
}

/* Every change of the rows a lookup reads, by any writer (here the plain
 * sqlite3 library, as the sqlite3 shell would), moves the generation;
 * what every answer writes (replay entry, record) does not. */
START_TEST(test_generation_follows_every_change)
{
    mk_sqlstore *s = open_store(1000);
    mk_kms_store t = mk_sqlstore_interface(s);
    sqlite3 *db = raw_open();
    bumps(db, "INSERT INTO subscribers(id, psk_id, psk_wrapped, active, "
              "forking, reuse, created) VALUES (7, x'01', x'00', 1, 0, 0, 0)");
    bumps(db, "UPDATE subscribers SET active = 0 WHERE id = 7");
    bumps(db, "INSERT INTO impus(subscriber, pos, impu) "
              "VALUES (7, 0, 'sip:x@example.org')");
    bumps(db, "UPDATE impus SET pos = 1 WHERE subscriber = 7");
    bumps(db, "DELETE FROM impus WHERE subscriber = 7");
    bumps(db, "INSERT INTO responder_patterns(subscriber, pos, pattern) "
              "VALUES (7, 0, 'sip:*')");
    bumps(db, "UPDATE responder_patterns SET pattern = 'tel:*'");
    bumps(db, "DELETE FROM responder_patterns");
    bumps(db, "DELETE FROM subscribers WHERE id = 7");
    bumps(db, "INSERT INTO ticket_keys(version, id, key_wrapped, state, "
              "created) VALUES (1, x'01', x'00', 1, 0)");
    bumps(db, "UPDATE ticket_keys SET state = 2");
    bumps(db, "DELETE FROM ticket_keys");
    /* and through the store's own administration calls */
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    sqlite3_int64 g = raw_generation(db);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    ck_assert_int_gt(raw_generation(db), g);
    g = raw_generation(db);
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(s, 1000, NULL), MK_OK);
    ck_assert_int_gt(raw_generation(db), g);
    /* answers do not */
    g = raw_generation(db);
    uint8_t d[32];
    digest_of(d, 50, 1);
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_OK);
    mk_record r = make_record(1000, "alice", 2);
    ck_assert_int_eq(commit_record(&t, &r), MK_OK);
    ck_assert_int_eq(raw_generation(db), g);
    sqlite3_close(db);
    mk_sqlstore_close(s);
    mk_subscriber_wipe(&a);
}
END_TEST

static mk_sqlstore_cache_counts counts(const mk_sqlstore *s)
{
    mk_sqlstore_cache_counts c;
    mk_sqlstore_cache_stats(s, &c);
    return c;
}

/* Records and replay entries of the connection's node, to see that a
 * stale commit wrote nothing. */
static sqlite3_int64 raw_rows(mk_sqlstore *s)
{
    mk_node *n = NULL;
    mk_node_status st;
    ck_assert_int_eq(mk_sqlstore_node_open(s, NULL, &n), MK_OK);
    ck_assert_int_eq(mk_node_status_get(n, &st), MK_OK);
    return (sqlite3_int64)(st.journal_entries * 1000000 + st.replay_entries);
}

/* One answer's lookups (alice by PSK id or IMPU, the active ticket key)
 * into out / k. */
static void lookups(const mk_kms_store *t, bool by_impu, mk_subscriber *out,
                    mk_ticket_key *k)
{
    if (by_impu)
        ck_assert_int_eq(t->subscriber_by_impu(
                             t->ctx, MK_BYTES("sip:alice@example.org", 21),
                             out),
                         MK_OK);
    else
        ck_assert_int_eq(t->subscriber_by_psk_id(t->ctx, MK_BYTES("alice", 5),
                                                 out),
                         MK_OK);
    ck_assert_int_eq(t->ticket_key_active(t->ctx, k), MK_OK);
}

/* The server's connection serves repeated lookups from its cache once a
 * commit has confirmed it; whatever the operator's connection changes
 * makes the next commit of an answer computed on cached rows MK_E_STALE,
 * with nothing written, and the lookups after that read the new rows. */
static void cache_goes_stale(mk_sqlstore *s, mk_sqlstore *adm, unsigned who)
{
    mk_kms_store t = mk_sqlstore_interface(s);
    const mk_bytes id = MK_BYTES("alice", 5);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    mk_subscriber out;
    mk_ticket_key k;
    uint8_t d[32];
    unsigned n = 0;
    mk_sqlstore_cache_counts c0, c1;

    ck_assert_int_eq(mk_sqlstore_subscriber_add(adm, &a), MK_OK);
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(adm, 1000, NULL), MK_OK);

    /* not confirmed by a commit yet: both lookups read the database */
    c0 = counts(s);
    lookups(&t, false, &out, &k);
    lookups(&t, false, &out, &k);
    c1 = counts(s);
    ck_assert_uint_eq(c1.hits, c0.hits);
    ck_assert_uint_eq(c1.misses, c0.misses + 4);
    digest_of(d, who, n++);
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_OK);

    /* confirmed: the next answer is served from the cache, and commits */
    c0 = counts(s);
    lookups(&t, false, &out, &k);
    c1 = counts(s);
    ck_assert_uint_eq(c1.hits, c0.hits + 2);
    ck_assert_uint_eq(c1.misses, c0.misses);
    ck_assert(out.active);
    ck_assert_mem_eq(out.psk.b, a.psk.b, 32);
    ck_assert_mem_eq(k.id, "tpk-0001", 8);
    digest_of(d, who, n++);
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_OK);
    ck_assert_uint_eq(counts(s).stale, 0);

    /* 1. the operator disables alice while an answer is in flight */
    lookups(&t, false, &out, &k);
    ck_assert_uint_eq(counts(s).hits, c1.hits + 2);
    ck_assert(out.active); /* the cached row */
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(adm, id, false),
                     MK_OK);
    sqlite3_int64 rows = raw_rows(s);
    digest_of(d, who, n);
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_E_STALE);
    ck_assert_int_eq(raw_rows(s), rows); /* nothing written */
    ck_assert_uint_eq(counts(s).stale, 1);
    c0 = counts(s);
    lookups(&t, false, &out, &k); /* the rerun reads the database */
    ck_assert_uint_eq(counts(s).misses, c0.misses + 2);
    ck_assert_uint_eq(counts(s).hits, c0.hits);
    ck_assert(!out.active);
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_OK);
    ck_assert_int_eq(raw_rows(s), rows + 1000001);
    n++;

    /* 2. the operator replaces alice's PSK; lookups by IMPU this time */
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(adm, id, true), MK_OK);
    /* alice is not cached by IMPU yet: that miss reads the new generation
     * and drops the cache, so the ticket key is read again too */
    c0 = counts(s);
    lookups(&t, true, &out, &k);
    ck_assert_uint_eq(counts(s).misses, c0.misses + 2);
    ck_assert_uint_eq(counts(s).drops, c0.drops + 1);
    ck_assert(out.active);
    digest_of(d, who, n++);
    /* nothing was served from the cache: nothing to be stale */
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_OK);
    c0 = counts(s);
    lookups(&t, true, &out, &k);
    ck_assert_uint_eq(counts(s).hits, c0.hits + 2);
    ck_assert_mem_eq(out.psk.b, a.psk.b, 32);
    ck_assert_int_eq(mk_sqlstore_subscriber_remove(adm, id), MK_OK);
    mk_subscriber a2 = make_sub("alice", 99, "sip:alice@example.org", NULL);
    fill_psk(&a2.psk, 16, 99);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(adm, &a2), MK_OK);
    rows = raw_rows(s);
    mk_record r = make_record(1000, "alice", n);
    /* a record alone (an answer refused before its replay entry) is
     * checked as well */
    ck_assert_int_eq(commit_record(&t, &r), MK_E_STALE);
    ck_assert_int_eq(raw_rows(s), rows);
    lookups(&t, true, &out, &k);
    ck_assert_uint_eq(out.psk.n, 16);
    ck_assert_mem_eq(out.psk.b, a2.psk.b, 16);
    ck_assert_int_eq(commit_record(&t, &r), MK_OK);
    ck_assert_int_eq(raw_rows(s), rows + 1000000);

    /* 3. the operator rotates the ticket key */
    lookups(&t, false, &out, &k);
    digest_of(d, who, n++);
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_OK);
    c0 = counts(s);
    lookups(&t, false, &out, &k);
    ck_assert_uint_eq(counts(s).hits, c0.hits + 2);
    ck_assert_mem_eq(k.id, "tpk-0001", 8);
    mk_key old = k.key;
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(adm, 2000, NULL), MK_OK);
    rows = raw_rows(s);
    digest_of(d, who, n);
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_E_STALE);
    ck_assert_int_eq(raw_rows(s), rows);
    lookups(&t, false, &out, &k);
    ck_assert_mem_eq(k.id, "tpk-0002", 8);
    ck_assert_mem_ne(k.key.b, old.b, 32);
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8), &k),
                     MK_OK);
    ck_assert_int_eq(k.state, MK_TK_RESOLVE_ONLY);
    ck_assert_mem_eq(k.key.b, old.b, 32);
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_OK);
    ck_assert_uint_eq(counts(s).stale, 3);

    /* 4. a retired key is not served from the cache after the commit */
    c0 = counts(s);
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8), &k),
                     MK_OK);
    ck_assert_uint_eq(counts(s).hits, c0.hits + 1);
    ck_assert_int_eq(mk_sqlstore_ticket_key_retire(adm,
                                                   MK_BYTES("tpk-0001", 8)),
                     MK_OK);
    r = make_record(1000, "bob", n + 1);
    ck_assert_int_eq(commit_record(&t, &r), MK_E_STALE);
    ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8), &k),
                     MK_E_NOT_FOUND);
    ck_assert_uint_eq(k.key.n, 0);
    /* "not found" is never cached: with the cache confirmed again, the
     * retired key is still looked up in the database each time */
    lookups(&t, false, &out, &k);
    digest_of(d, who, n + 2);
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_OK);
    c0 = counts(s);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(t.ticket_key_by_id(t.ctx, MK_BYTES("tpk-0001", 8),
                                            &k),
                         MK_E_NOT_FOUND);
    ck_assert_int_eq(t.ticket_key_active(t.ctx, &k), MK_OK); /* a hit */
    ck_assert_uint_eq(counts(s).hits, c0.hits + 1);
    ck_assert_uint_eq(counts(s).misses, c0.misses + 2);
    ck_assert_mem_eq(k.id, "tpk-0002", 8);
    digest_of(d, who, n + 3);
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_OK);
    /* an answer with no cached lookup commits, whatever changed */
    ck_assert_int_eq(mk_sqlstore_subscriber_set_active(adm, id, false),
                     MK_OK);
    r = make_record(1000, "bob", n + 4);
    ck_assert_int_eq(commit_record(&t, &r), MK_OK);

    mk_key_wipe(&old);
    mk_key_wipe(&k.key);
    mk_subscriber_wipe(&out);
    mk_subscriber_wipe(&a);
    mk_subscriber_wipe(&a2);
}

START_TEST(test_cache_stale_at_commit)
{
    mk_sqlstore *s = open_store(1000);   /* the server's connection */
    mk_sqlstore *adm = open_store(1000); /* kmsctl's */
    cache_goes_stale(s, adm, 60);
    mk_sqlstore_close(adm);
    mk_sqlstore_close(s);
}
END_TEST

/* --- records --- */

typedef struct rec_list {
    mk_record r[8];
    size_t n;
} rec_list;

static mk_err collect_rec(void *arg, const mk_record *r)
{
    rec_list *l = arg;
    ck_assert_uint_lt(l->n, 8);
    l->r[l->n++] = *r;
    return MK_OK;
}

START_TEST(test_records_round_trip)
{
    mk_sqlstore *s = open_store(1000);
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_record r1 = make_record(1000, "alice", 1);
    mk_record r2 = make_record(2000, "bob", 2);
    mk_record r3 = make_record(3000, "alice", 3);
    snprintf(r3.outcome, sizeof r3.outcome, "forbidden by policy");
    memset(r3.spis, 0, sizeof r3.spis); /* empty fields read back empty */
    memset(r3.ticket_id, 0, sizeof r3.ticket_id);
    r3.valid_from = r3.valid_to = 0;
    ck_assert_int_eq(commit_record(&t, &r1), MK_OK);
    ck_assert_int_eq(commit_record(&t, &r2), MK_OK);
    ck_assert_int_eq(commit_record(&t, &r3), MK_OK);

    /* in the node's journal until drained into the store */
    rec_list l = {0};
    ck_assert_int_eq(mk_sqlstore_records(s, 0, NULL, collect_rec, &l), MK_OK);
    ck_assert_uint_eq(l.n, 0);
    mk_node *n = NULL;
    size_t moved = 0;
    ck_assert_int_eq(mk_sqlstore_node_open(s, NULL, &n), MK_OK);
    ck_assert_int_eq(mk_sqlstore_drain(s, n, 1000, SIZE_MAX, &moved), MK_OK);
    ck_assert_uint_eq(moved, 3);
    ck_assert_int_eq(mk_sqlstore_drain(s, n, 1000, SIZE_MAX, &moved), MK_OK);
    ck_assert_uint_eq(moved, 0);
    ck_assert_int_eq(mk_sqlstore_records(s, 0, NULL, collect_rec, &l), MK_OK);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_mem_eq(&l.r[0], &r1, sizeof r1); /* every field, zero padded */
    ck_assert_mem_eq(&l.r[1], &r2, sizeof r2);
    ck_assert_mem_eq(&l.r[2], &r3, sizeof r3);

    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mk_sqlstore_records(s, 2000, NULL, collect_rec, &l),
                     MK_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.r[0].time_unix, 2000);
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mk_sqlstore_records(s, 0, "alice", collect_rec, &l),
                     MK_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.r[1].outcome, "forbidden by policy");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mk_sqlstore_records(s, 1500, "alice", collect_rec, &l),
                     MK_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.r[0].time_unix, 3000);

    /* a field without its NUL is refused, not read past */
    mk_record bad = r1;
    memset(bad.outcome, 'x', sizeof bad.outcome);
    ck_assert_int_eq(commit_record(&t, &bad), MK_E_ARG);
    mk_sqlstore_close(s);
}
END_TEST

/* Retention (doc/profile.md §9.39): records older than a time go, the
 * oldest first, in bounded batches; the newer ones stay; and a store that
 * keeps a bounded span of records stops growing. */
START_TEST(test_records_prune)
{
    mk_sqlstore *s = open_store(1000);
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_node *n = NULL;
    size_t moved = 0, d = 0;
    for (unsigned i = 0; i < 2500; i++) {
        mk_record r = make_record(1000 + i, i % 2 ? "alice" : "bob", i);
        ck_assert_int_eq(commit_record(&t, &r), MK_OK);
    }
    ck_assert_int_eq(mk_sqlstore_node_open(s, NULL, &n), MK_OK);
    ck_assert_int_eq(mk_sqlstore_drain(s, n, 1000, SIZE_MAX, &moved), MK_OK);
    ck_assert_uint_eq(moved, 2500);
    /* before 3200: 2200 records, in batches of 1000 */
    ck_assert_int_eq(mk_sqlstore_records_prune(s, 3200, 1000, &d), MK_OK);
    ck_assert_uint_eq(d, 1000);
    sqlite3 *db = raw_open();
    ck_assert_int_eq(raw_int(db, "SELECT min(time) FROM records"), 2000);
    ck_assert_int_eq(mk_sqlstore_records_prune(s, 3200, 1000, &d), MK_OK);
    ck_assert_uint_eq(d, 1000);
    ck_assert_int_eq(mk_sqlstore_records_prune(s, 3200, 1000, &d), MK_OK);
    ck_assert_uint_eq(d, 200);
    ck_assert_int_eq(mk_sqlstore_records_prune(s, 3200, 1000, &d), MK_OK);
    ck_assert_uint_eq(d, 0);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM records"), 300);
    ck_assert_int_eq(raw_int(db, "SELECT min(time) FROM records"), 3200);
    ck_assert_int_eq(mk_sqlstore_records_prune(s, 3200, 0, &d), MK_E_ARG);

    /* "days" of 5000 records each, the span kept two of them: the file
     * stops growing (freed pages are reused), within 5% of its size after
     * the third day */
    sqlite3_int64 pages[12];
    for (unsigned day = 0; day < 12; day++) {
        uint64_t base = 100000 + (uint64_t)day * 10000;
        for (unsigned i = 0; i < 5000; i++) {
            mk_record r = make_record(base + i, "alice", day * 5000 + i);
            ck_assert_int_eq(commit_record(&t, &r), MK_OK);
        }
        ck_assert_int_eq(mk_sqlstore_drain(s, n, 1000, SIZE_MAX, &moved),
                         MK_OK);
        do
            ck_assert_int_eq(mk_sqlstore_records_prune(s, base - 10000, 1000,
                                                       &d),
                             MK_OK);
        while (d == 1000);
        pages[day] = raw_int(db, "PRAGMA page_count");
    }
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM records"), 10000);
    ck_assert_msg(pages[11] == pages[9] && pages[11] * 20 <= pages[2] * 21,
                  "pages %lld after day 3, %lld after day 10, %lld after day "
                  "12", (long long)pages[2], (long long)pages[9],
                  (long long)pages[11]);
    sqlite3_close(db);
    mk_sqlstore_close(s);
}
END_TEST

/* --- a busy database --- */

/* An operator (or a backup) holds the database's write lock: answers still
 * commit (to the node), lookups still read (WAL), and what needs the
 * write lock - the drain, an operator change, a second open - reports 503
 * within the busy timeout; the records wait in the journal meanwhile. */

START_TEST(test_busy_store)
{
    mk_sqlstore *s = open_store(300);
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_subscriber a = make_sub("alice", 1, "sip:alice@example.org", NULL);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_OK);
    mk_node *n = NULL;
    ck_assert_int_eq(mk_sqlstore_node_open(s, NULL, &n), MK_OK);

    sqlite3 *db = raw_open();
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN EXCLUSIVE", 0, 0, 0), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO meta VALUES ('x', x'00')",
                                  0, 0, 0),
                     SQLITE_OK);

    uint8_t d[32];
    digest_of(d, 9, 1);
    double t0 = now_ms();
    ck_assert_int_eq(commit_digest(&t, d, 2000, 1000), MK_OK);
    ck_assert_msg(now_ms() - t0 < 200, "an answer waited for the database");

    size_t moved = 99;
    t0 = now_ms();
    ck_assert_int_eq(mk_sqlstore_drain(s, n, 0, SIZE_MAX, &moved),
                     MK_E_UNAVAILABLE);
    double dt = now_ms() - t0;
    ck_assert_msg(dt >= 250 && dt < 1500, "waited %.0f ms for a 300 ms "
                                          "timeout", dt);
    ck_assert_int_eq(mk_err_last()->code, MK_E_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(mk_sqlstore_errmsg(s), "locked"));
    ck_assert_int_eq(mk_sqlstore_ticket_key_rotate(s, 1000, NULL),
                     MK_E_UNAVAILABLE);
    ck_assert_int_eq(mk_sqlstore_subscriber_add(s, &a), MK_E_UNAVAILABLE);

    /* WAL: lookups do not wait for the writer */
    mk_subscriber out;
    t0 = now_ms();
    ck_assert_int_eq(t.subscriber_by_psk_id(t.ctx, MK_BYTES("alice", 5), &out),
                     MK_OK);
    ck_assert_msg(now_ms() - t0 < 200, "a read waited for the writer");

    /* a second open waits too and reports 503, not another error */
    mk_sqlstore *s2 = NULL;
    ck_assert_int_eq(mk_sqlstore_open(db_path, MK_BYTES(MASTER, 32), 200, &s2),
                     MK_E_UNAVAILABLE);
    ck_assert_ptr_null(s2);

    /* released: the record waiting in the journal reaches the store */
    ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", 0, 0, 0), SQLITE_OK);
    ck_assert_int_eq(mk_sqlstore_drain(s, n, 0, SIZE_MAX, &moved), MK_OK);
    ck_assert_uint_eq(moved, 1);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM records"), 1);
    sqlite3_close(db);
    mk_subscriber_wipe(&out);
    mk_subscriber_wipe(&a);
    mk_sqlstore_close(s);
}
END_TEST

/* profile §9.45: the connections of a machine share their waits for a
 * locked store. While one waits (up to its timeout), a lookup of another
 * gives up at once; so under a lock every refused answer is refused
 * within one busy timeout, however many come at once. */
typedef struct open_job {
    mk_sqlstore_opts o;
    mk_err rc;
    double ms;
} open_job;

static void *timed_open(void *arg)
{
    open_job *j = arg;
    mk_sqlstore *s = NULL;
    double t0 = now_ms();
    j->rc = mk_sqlstore_open_with(db_path, MK_BYTES(MASTER, 32), &j->o, &s);
    j->ms = now_ms() - t0;
    mk_sqlstore_close(s);
    return NULL;
}

START_TEST(test_shared_waits)
{
    mk_sqlstore *s = open_store(1000);
    mk_node *n = NULL;
    ck_assert_int_eq(mk_sqlstore_node_open(s, NULL, &n), MK_OK);
    n = mk_node_ref(n);
    mk_sqlstore_close(s);
    /* a lock that stops readers too (as ms_lock_store takes it: a kmsd
     * that starts meanwhile answers 503 until it goes) */
    sqlite3 *db = raw_open();
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE; BEGIN "
                                      "EXCLUSIVE; INSERT INTO meta VALUES "
                                      "('x', x'00')",
                                  0, 0, 0),
                     SQLITE_OK);
    mk_sqlstore_opts o = {.busy_timeout_ms = 400, .node = n,
                          .shared_waits = true};
    open_job j1 = {.o = o}, j2 = {.o = o};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, timed_open, &j1), 0);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    timed_open(&j2);
    pthread_join(th, NULL);
    ck_assert_int_eq(j1.rc, MK_E_UNAVAILABLE);
    ck_assert_int_eq(j2.rc, MK_E_UNAVAILABLE);
    ck_assert_msg(j1.ms >= 350 && j1.ms < 1500, "the waiter took %.0f ms",
                  j1.ms);
    ck_assert_msg(j2.ms < 100, "the second open queued %.0f ms", j2.ms);
    /* that wait is over: the next one waits again (and leads) */
    timed_open(&j2);
    ck_assert_msg(j2.rc == MK_E_UNAVAILABLE && j2.ms >= 350,
                  "rc %d after %.0f ms", j2.rc, j2.ms);
    /* another waiter (a claim held elsewhere): a shared-waits open gives
     * up at once, one without shared waits waits its own timeout */
    uint64_t until = (uint64_t)now_ms() + 60000;
    ck_assert(mk_node_wait_claim(n, (uint64_t)now_ms(), until));
    timed_open(&j2);
    ck_assert_msg(j2.rc == MK_E_UNAVAILABLE && j2.ms < 100,
                  "rc %d after %.0f ms", j2.rc, j2.ms);
    open_job j3 = {.o = {.busy_timeout_ms = 400}};
    timed_open(&j3);
    ck_assert_msg(j3.rc == MK_E_UNAVAILABLE && j3.ms >= 350,
                  "rc %d after %.0f ms", j3.rc, j3.ms);
    mk_node_wait_release(n, until + 1); /* not that claim: kept */
    ck_assert(!mk_node_wait_claim(n, (uint64_t)now_ms(), until));
    mk_node_wait_release(n, until);
    /* unlocked: opened at once, and the waits it led are released */
    ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", 0, 0, 0), SQLITE_OK);
    sqlite3_close(db);
    timed_open(&j1);
    ck_assert_int_eq(j1.rc, MK_OK);
    ck_assert(mk_node_wait_claim(n, (uint64_t)now_ms(), 1));
    mk_node_close(n);
}
END_TEST

/* --- master key file --- */

START_TEST(test_master_key_file)
{
    char path[160];
    snprintf(path, sizeof path, "%s/master.key", dir);
    mk_key k, again;
    ck_assert_int_eq(mk_master_key_load(path, &k), MK_E_IO);
    ck_assert_int_eq(mk_master_key_create(path, &k), MK_OK);
    ck_assert_uint_eq(k.n, 32);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(st.st_size, 65);
    ck_assert_int_eq(mk_master_key_load(path, &again), MK_OK);
    ck_assert_uint_eq(again.n, 32);
    ck_assert_mem_eq(again.b, k.b, 32);

    /* never overwritten */
    mk_key other;
    ck_assert_int_eq(mk_master_key_create(path, &other), MK_E_EXISTS);
    ck_assert_uint_eq(other.n, 0);
    ck_assert_int_eq(mk_master_key_load(path, &again), MK_OK);
    ck_assert_mem_eq(again.b, k.b, 32);

    /* group / world access refused */
    static const mode_t bad[] = {0644, 0640, 0604, 0620, 0602, 0660};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(chmod(path, bad[i]), 0);
        ck_assert_int_eq(mk_master_key_load(path, &again), MK_E_CONFIG);
        ck_assert_uint_eq(again.n, 0);
        ck_assert_ptr_nonnull(strstr(mk_err_last()->what, "group or others"));
    }
    ck_assert_int_eq(chmod(path, 0400), 0);
    ck_assert_int_eq(mk_master_key_load(path, &again), MK_OK);
    mk_key_wipe(&again);

    /* malformed content */
    static const char *const contents[] = {
        "", "00112233\n",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fz\n",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n",
        "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
    };
    char p2[160];
    snprintf(p2, sizeof p2, "%s/bad.key", dir);
    for (size_t i = 0; i < sizeof contents / sizeof contents[0]; i++) {
        unlink(p2);
        int fd = open(p2, O_CREAT | O_WRONLY | O_EXCL, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, contents[i], strlen(contents[i])),
                         (ssize_t)strlen(contents[i]));
        close(fd);
        ck_assert_int_eq(mk_master_key_load(p2, &again), MK_E_CONFIG);
    }
    /* good content, upper case hex, no final newline */
    unlink(p2);
    int fd = open(p2, O_CREAT | O_WRONLY | O_EXCL, 0600);
    const char *good =
        "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
    ck_assert_int_eq(write(fd, good, 64), 64);
    close(fd);
    ck_assert_int_eq(mk_master_key_load(p2, &again), MK_OK);
    for (int i = 0; i < 32; i++)
        ck_assert_uint_eq(again.b[i], i);
    /* a directory is not a key file */
    ck_assert_int_eq(mk_master_key_load(dir, &again), MK_E_CONFIG);
    mk_key_wipe(&k);
    mk_key_wipe(&again);
}
END_TEST

/* The key file itself, not what a link points to, and the running user's
 * (doc/profile.md §9.31): a link planted in place of the key, or a key
 * file of another user, is refused even when its content is a valid key. */
START_TEST(test_master_key_link_and_owner)
{
    char path[160], link_path[160];
    mk_key k, again;
    snprintf(path, sizeof path, "%s/master.key", dir);
    snprintf(link_path, sizeof link_path, "%s/link.key", dir);
    ck_assert_int_eq(mk_master_key_create(path, &k), MK_OK);
    ck_assert_int_eq(symlink(path, link_path), 0);
    ck_assert_int_eq(mk_master_key_load(link_path, &again), MK_E_CONFIG);
    ck_assert_uint_eq(again.n, 0);
    ck_assert_ptr_nonnull(strstr(mk_err_last()->what, "symbolic link"));
    ck_assert_int_eq(mk_master_key_load(path, &again), MK_OK);
    ck_assert_mem_eq(again.b, k.b, 32);

    /* another owner (only root can make one; as any other user the
     * refusal cannot be set up, and this part is skipped) */
    uid_t other = geteuid() == 65534 ? 65533 : 65534;
    if (chown(path, other, (gid_t)-1) == 0) {
        ck_assert_int_eq(mk_master_key_load(path, &again), MK_E_CONFIG);
        ck_assert_uint_eq(again.n, 0);
        ck_assert_ptr_nonnull(strstr(mk_err_last()->what,
                                     "not owned by the running user"));
        /* root, and the key's directory is its owner's (the package's
         * layout): the service user's key */
        ck_assert_int_eq(chown(dir, other, (gid_t)-1), 0);
        ck_assert_int_eq(mk_master_key_load(path, &again), MK_OK);
        ck_assert_int_eq(chmod(dir, 0777), 0); /* ... not anyone's dir */
        ck_assert_int_eq(mk_master_key_load(path, &again), MK_E_CONFIG);
        ck_assert_int_eq(chmod(dir, 0700), 0);
        ck_assert_int_eq(chown(dir, geteuid(), (gid_t)-1), 0);
        ck_assert_int_eq(chown(path, geteuid(), (gid_t)-1), 0);
        ck_assert_int_eq(mk_master_key_load(path, &again), MK_OK);
    } else {
        fprintf(stderr, "test_master_key_link_and_owner: cannot chown "
                        "(%s), owner check not exercised\n", strerror(errno));
    }
    mk_key_wipe(&k);
    mk_key_wipe(&again);
}
END_TEST

int main(void)
{
    const TTest *const store_tests[] = {test_open_creates_current_schema,
        test_empty_file_only_init_creates, test_existing_open_writes_nothing,
        test_migrates_v1_file, test_migrates_responders,
        test_newer_schema_refused, test_not_a_database_refused,
        test_quick_check_finds_damage, test_quick_check_budget,
        test_replaced_store, test_open_existing_needs_the_file,
        test_wrong_master_key_refused, test_wrapped_psk_bound_to_its_row,
        test_subscriber_round_trip, test_ambiguous_impu_not_found,
        test_disable_enable_remove, test_add_validation, test_subscriber_list,
        test_no_key_in_clear_on_disk, test_ticket_key_rotation,
        test_retired_key_destroyed, test_unwrap_cache_follows_the_rows,
        test_generation_follows_every_change, test_cache_stale_at_commit,
        test_records_round_trip, test_records_prune, test_busy_store,
        test_shared_waits, test_master_key_file, test_master_key_link_and_owner};
    const mk_check_opts o = {
        .suite = "store", .tcase = "store", .timeout = 120, .setup = setup,
        .teardown = teardown
    };
    return mk_check_main_opts(&o, store_tests, MK_CHECK_NELEM(store_tests));
}
