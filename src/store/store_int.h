/* store_int.h - what the files of src/store share, not a public header.
 *
 * Owns: the connection struct, the per-connection prepared statement cache
 * (every SQL text the store runs is in the table of store_db.c, indexed by
 * mk_st), the SQLite -> mk_err mapping, the transaction helpers and the key
 * wrapping helpers.
 */
#ifndef MK_STORE_STORE_INT_H
#define MK_STORE_STORE_INT_H

#include <sqlite3.h>
#include <sys/types.h>
#include <time.h>

#include "store/node.h"
#include "store/store.h"

/* Every statement the store prepares, cached per connection. */
typedef enum mk_st {
    ST_BEGIN,
    ST_BEGIN_IMMEDIATE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_META_GET,
    ST_META_PUT,
    ST_GEN_GET,
    ST_SUB_BY_PSK_ID,
    ST_SUB_BY_ROWID,
    ST_SUB_LIST,
    ST_SUB_INSERT,
    ST_SUB_SET_ACTIVE,
    ST_SUB_DELETE,
    ST_IMPU_OWNERS,
    ST_IMPU_COUNT_OWNERS,
    ST_IMPUS_OF,
    ST_IMPU_INSERT,
    ST_PATTERNS_OF,
    ST_PATTERN_INSERT,
    ST_TK_ACTIVE,
    ST_TK_BY_ID,
    ST_TK_MAX_VERSION,
    ST_TK_DEMOTE_ACTIVE,
    ST_TK_INSERT,
    ST_TK_STATE_BY_ID,
    ST_TK_RETIRE,
    ST_TK_LIST,
    ST_RECORD_INSERT,
    ST_RECORDS_SINCE,
    ST_RECORDS_SINCE_SUB,
    ST_RECORDS_PRUNE,
    ST__COUNT
} mk_st;

/* A key unwrapped before, by this connection (store_wrap.c). */
#define MK_WRAPPED_MAX (MK_KEY_MAX + 8)
#define MK_UNWRAP_CACHE_SLOTS 64
typedef struct mk_unwrap_slot {
    const char *domain;     /* one of the MK_WRAP_DOMAIN_* literals */
    uint8_t id[MK_PSK_ID_MAX];
    size_t id_len;
    uint8_t wrapped[MK_WRAPPED_MAX];
    size_t wrapped_len;     /* 0: slot empty */
    mk_key key;
} mk_unwrap_slot;

/* The rows this connection looked up (store_cache.c): subscribers by PSK
 * id and by IMPU, ticket keys (the active one and by id), all read at one
 * generation of the database (meta 'generation', bumped by triggers on
 * every change of those rows, store_schema.c). */
#define MK_SUB_CACHE_SLOTS 256 /* direct-mapped by PSK id */
#define MK_IMPU_CACHE_SLOTS 256 /* direct-mapped by IMPU -> subscriber slot */
#define MK_TK_CACHE_SLOTS 8 /* replaced in turn */
#define MK_GEN_MIXED INT64_MIN /* no generation equals it */
typedef struct mk_sub_slot {
    bool used;
    /* bit i: a lookup by impu[i] found exactly this subscriber (the IMPU has
     * one owner); a lookup by PSK id needs no such proof, the id is unique */
    uint8_t impu_ok;
    mk_subscriber sub; /* PSK wiped when the slot is emptied */
} mk_sub_slot;
typedef struct mk_impu_slot {
    bool used;
    uint16_t sub;  /* index in subs; checked against the slot's IMPU */
    uint8_t impu;  /* index in that subscriber's impu[] */
} mk_impu_slot;
typedef struct mk_tk_slot {
    bool used;
    mk_ticket_key tk; /* key wiped when the slot is emptied */
} mk_tk_slot;
typedef struct mk_store_cache {
    bool gen_known;  /* gen is the generation every entry was read at */
    int64_t gen;
    /* An answer_commit has seen, under the write lock, that gen is still
     * current. Entries are served only then: a connection that never
     * commits answers (kmsctl, the admin API) always reads the database. */
    bool armed;
    /* This answer was served from the cache, with rows of generation
     * used_gen: its answer_commit checks them (MK_E_STALE). Cleared by
     * every answer_commit, and only there. */
    bool used;
    int64_t used_gen;
    /* This answer read rows from the database, at generation fresh_gen
     * (MK_GEN_MIXED: at two different ones); its answer_commit publishes
     * it to the node (node.h). Cleared like `used`. */
    bool fresh;
    int64_t fresh_gen;
    unsigned tk_next; /* the ticket key slot replaced next */
    mk_sqlstore_cache_counts stats;
    mk_sub_slot subs[MK_SUB_CACHE_SLOTS];
    mk_impu_slot impus[MK_IMPU_CACHE_SLOTS];
    mk_tk_slot tks[MK_TK_CACHE_SLOTS];
} mk_store_cache;

struct mk_sqlstore {
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
    mk_key master;          /* MK_MASTER_KEY_LEN bytes, wiped at close */
    char path[MK_NODE_PATH_MAX]; /* the database file */
    dev_t dev;              /* ... the file it named at open */
    ino_t ino;
    bool opening;           /* damage is MK_E_CONFIG (refused), not 503 */
    bool damaged;           /* SQLite found the file damaged (CORRUPT, NOTADB) */
    uint32_t busy_timeout_ms;
    struct timespec busy_since; /* start of the current wait for a lock */
    bool shared_waits;      /* store.h, mk_sqlstore_opts */
    uint64_t wait_until_ms; /* this connection leads its node's wait */
    /* the node state the answers commit to (node.h); opened at the first
     * answer_commit with the defaults unless mk_sqlstore_attach_node gave
     * one; a counted reference either way */
    mk_node *node;
    char errmsg[256];       /* last SQLite message */
    /* unwrapped keys by (domain, id, wrapped bytes); wiped with the
     * struct at close */
    mk_unwrap_slot unwrapped[MK_UNWRAP_CACHE_SLOTS];
    /* looked-up rows; wiped with the struct at close */
    mk_store_cache cache;
};

/* Map a SQLite result code to mk_err; the detail raised names the cause
 * (locked, disk full, I/O error, damaged, ...) or, for other codes,
 * `what`; "what: sqlite3_errmsg" is copied for mk_sqlstore_errmsg.
 * BUSY/LOCKED, I/O, full disk and out-of-memory -> MK_E_UNAVAILABLE;
 * CORRUPT / NOTADB -> MK_E_CONFIG while opening or checking, else
 * MK_E_UNAVAILABLE; CONSTRAINT -> MK_E_EXISTS; anything else ->
 * MK_E_INTERNAL. */
mk_err mk_store_db_err(mk_sqlstore *s, int rc, const char *what) MK_MUST_USE;

/* The cached statement `id`, reset and with its bindings cleared. */
mk_err mk_store_stmt(mk_sqlstore *s, mk_st id, sqlite3_stmt **out) MK_MUST_USE;
/* Reset after use (keeps the statement cached, releases its read lock). */
void mk_store_stmt_done(sqlite3_stmt *st);

/* Run a statement that returns no rows (sqlite3_step == SQLITE_DONE). */
mk_err mk_store_exec(mk_sqlstore *s, sqlite3_stmt *st, const char *what) MK_MUST_USE;
/* Run a cached statement without parameters (BEGIN, COMMIT, ...). */
mk_err mk_store_exec_id(mk_sqlstore *s, mk_st id, const char *what) MK_MUST_USE;

/* Transactions. begin_write takes the write lock at once (BEGIN
 * IMMEDIATE), so the busy timeout applies at that point and a transaction
 * never has to upgrade a read lock (which SQLite reports as BUSY without
 * waiting). end commits when rc == MK_OK and rolls back otherwise; it
 * returns rc, or the commit's error. */
mk_err mk_store_begin_read(mk_sqlstore *s) MK_MUST_USE;
mk_err mk_store_begin_write(mk_sqlstore *s) MK_MUST_USE;
mk_err mk_store_end(mk_sqlstore *s, mk_err rc) MK_MUST_USE;

/* Bind helpers: MK_E_INTERNAL on a bind failure (argument out of range). */
mk_err mk_store_bind_blob(mk_sqlstore *s, sqlite3_stmt *st, int i,
                          mk_bytes b) MK_MUST_USE;
mk_err mk_store_bind_text(mk_sqlstore *s, sqlite3_stmt *st, int i,
                          const char *t) MK_MUST_USE;
/* uint64 values above INT64_MAX are refused (MK_E_ARG). */
mk_err mk_store_bind_u64(mk_sqlstore *s, sqlite3_stmt *st, int i,
                         uint64_t v) MK_MUST_USE;
/* Any integer the store keeps signed (row ids, flags, counts). */
mk_err mk_store_bind_i64(mk_sqlstore *s, sqlite3_stmt *st, int i,
                         int64_t v) MK_MUST_USE;
/* Column i as a byte span valid until the next step/reset. */
mk_bytes mk_store_col_blob(sqlite3_stmt *st, int i);
/* Copy column i (TEXT) into out (cap bytes incl. NUL); MK_E_INTERNAL if
 * it does not fit (the store wrote it, so it always should). */
mk_err mk_store_col_text(sqlite3_stmt *st, int i, char *out, size_t cap) MK_MUST_USE;

/* Key wrapping under the master key, the IV bound to (domain, id); see
 * store.h. Wrapped output is plain.n + 8 bytes. */
#define MK_WRAP_DOMAIN_PSK "mikeykms psk"
#define MK_WRAP_DOMAIN_TPK "mikeykms tpk"
#define MK_WRAP_DOMAIN_CHECK "mikeykms master key check"
mk_err mk_store_wrap(const mk_sqlstore *s, const char *domain, mk_bytes id,
                     mk_bytes plain, uint8_t *out, size_t cap,
                     size_t *outlen) MK_MUST_USE;
/* MK_E_UNWRAP when the integrity check fails (wrong master key, or the
 * wrapped key belongs to another row). `domain` must be one of the
 * MK_WRAP_DOMAIN_* literals (the cache compares the pointer). The result of
 * a successful unwrap is kept in s->unwrapped: the same (domain, id,
 * wrapped bytes) is answered from there, without AES or SHA-256; since
 * unwrapping is deterministic under the connection's one master key, the
 * answer is the same, and a row whose wrapped value changed (new PSK,
 * rotated key) simply misses. */
mk_err mk_store_unwrap(mk_sqlstore *s, const char *domain, mk_bytes id,
                       mk_bytes wrapped, mk_key *out) MK_MUST_USE;
/* The same wrap and unwrap under an explicit master key, without the
 * unwrap cache (the PostgreSQL store, pgstore.h, wraps exactly as this
 * one does, so that wrapped values move between them unchanged). */
mk_err mk_store_wrap_under(const mk_key *master, const char *domain,
                           mk_bytes id, mk_bytes plain, uint8_t *out,
                           size_t cap, size_t *outlen) MK_MUST_USE;
mk_err mk_store_unwrap_under(const mk_key *master, const char *domain,
                             mk_bytes id, mk_bytes wrapped, mk_key *out) MK_MUST_USE;
/* A new subscriber's fields as mk_sqlstore_subscriber_add checks them
 * (MK_E_VALUE). */
mk_err mk_store_subscriber_check(const mk_subscriber *sub) MK_MUST_USE;
/* Wipe every key the unwrap cache holds: a row that changed must not
 * leave its old key in memory, where it would merely miss (a retired
 * ticket key is destroyed, doc/profile.md §9.38). mk_store_cache_drop
 * calls it. */
void mk_store_unwrap_forget(mk_sqlstore *s);

/* Copy the whole WAL into the database and cut it to 0 bytes (a TRUNCATE
 * checkpoint), waiting for readers up to the busy timeout: the old page
 * images of changed rows leave the files (with secure_delete, which every
 * connection sets, the database keeps none either). MK_E_UNAVAILABLE when
 * a reader kept it from completing. */
mk_err mk_store_wal_truncate(mk_sqlstore *s) MK_MUST_USE;

/* Schema (store_schema.c): bring the database to
 * MK_SQLSTORE_SCHEMA_VERSION inside one write transaction. */
mk_err mk_store_migrate(mk_sqlstore *s) MK_MUST_USE;

/* The mk_kms_store operations (kms/kms_store.h has their contracts);
 * store_iface.c puts them in the function table. */
mk_err mk_store_subscriber_by_impu(mk_sqlstore *s, mk_bytes impu,
                                   mk_subscriber *out) MK_MUST_USE;
mk_err mk_store_ticket_key_active(mk_sqlstore *s, mk_ticket_key *out) MK_MUST_USE;
mk_err mk_store_ticket_key_by_id(mk_sqlstore *s, mk_bytes id,
                                 mk_ticket_key *out) MK_MUST_USE;
mk_err mk_store_answer_commit(mk_sqlstore *s,
                              const mk_answer_write *w) MK_MUST_USE;
/* The rate limit per PSK identity (kms_store.h rate_take) on this
 * connection's node. */
mk_err mk_store_rate_take(mk_sqlstore *s, mk_bytes psk_id, uint32_t rate_milli,
                          uint32_t burst, uint64_t now_ms,
                          uint32_t *retry_after_s) MK_MUST_USE;
/* The same on node n, for either store: the bucket "identity " || psk_id
 * (node.h mk_node_rate_take), named apart from kmsd's per-address ones. */
mk_err mk_store_identity_rate_take(mk_node *n, mk_bytes psk_id,
                                   uint32_t rate_milli, uint32_t burst,
                                   uint64_t now_ms,
                                   uint32_t *retry_after_s) MK_MUST_USE;

/* A ticket protection key is 32 bytes (profile §6). */
#define MK_TPK_LEN 32
/* A new ticket key for either store to insert (profile §6): version
 * max_version + 1 (MK_E_INTERNAL past 99 999 999), its id "tpk-NNNN"
 * naming the version, a fresh random TPK wrapped under master (the clear
 * key is wiped before this returns). info is what the caller hands back
 * as `created` once the row is in. */
typedef struct mk_store_new_tk {
    mk_ticket_key_info info; /* id, version, MK_TK_ACTIVE, created */
    uint8_t wrapped[MK_WRAPPED_MAX];
    size_t wrapped_len;
} mk_store_new_tk;
mk_err mk_store_ticket_key_new(const mk_key *master, int64_t max_version,
                               uint64_t now_unix,
                               mk_store_new_tk *out) MK_MUST_USE;

/* record_write: one record into the records table (the drain,
 * store_drain.c); its fields must have passed mk_store_record_check, so
 * that any failure is one of the database. */
mk_err mk_store_record_check(const mk_record *r) MK_MUST_USE; /* MK_E_ARG */
/* Every record of w checked as above, and what goes together present (a
 * note with both records, a replayed record with an entry, expiries that
 * fit): MK_E_ARG before anything is written, in either store. */
mk_err mk_store_answer_check(const mk_answer_write *w) MK_MUST_USE;
mk_err mk_store_record_write(mk_sqlstore *s, const mk_record *r) MK_MUST_USE;

/* Meta values (integers) of the database, in the caller's transaction:
 * MK_E_NOT_FOUND when absent or not an integer. */
mk_err mk_store_meta_get_i64(mk_sqlstore *s, const char *key, int64_t *v) MK_MUST_USE;
mk_err mk_store_meta_put_i64(mk_sqlstore *s, const char *key, int64_t v) MK_MUST_USE;

/* After an operator change this connection committed: drop its cache and
 * tell the node the new generation (node.h), so that every process
 * refuses answers on the old rows from its next commit on. */
void mk_store_changed(mk_sqlstore *s);

/* --- the cache of looked-up rows (store_cache.c) --- */

/* The generation, read in the caller's transaction. *known is false when
 * the row is missing or not an integer (edited by hand): nothing is cached
 * then, and a commit of cached rows is stale. */
mk_err mk_store_gen_read(mk_sqlstore *s, bool *known, int64_t *gen) MK_MUST_USE;
/* Wipe every entry and forget the generation (not the `used` flag: the
 * answer in progress is still checked at its commit). */
void mk_store_cache_drop(mk_sqlstore *s);
/* Hits: true with *out filled (and the answer marked as served from the
 * cache) when the cache is armed and holds the entry; false otherwise, *out
 * untouched. */
bool mk_store_cache_sub_by_psk_id(mk_sqlstore *s, mk_bytes psk_id,
                                  mk_subscriber *out);
bool mk_store_cache_sub_by_impu(mk_sqlstore *s, mk_bytes impu,
                                mk_subscriber *out);
bool mk_store_cache_tk_active(mk_sqlstore *s, mk_ticket_key *out);
bool mk_store_cache_tk_by_id(mk_sqlstore *s, mk_bytes id,
                             mk_ticket_key *out);
/* After a successful lookup in the database, inside ITS read transaction:
 * read the generation (a new one drops every entry) and keep the row.
 * by_impu: the IMPU the subscriber was found by (MK_BYTES_NONE: by PSK
 * id). Only a failure to read the generation is returned. */
mk_err mk_store_cache_sub_put(mk_sqlstore *s, const mk_subscriber *sub,
                              mk_bytes by_impu) MK_MUST_USE;
mk_err mk_store_cache_tk_put(mk_sqlstore *s, const mk_ticket_key *tk) MK_MUST_USE;
/* The generation an answer's commit found at the node (known: as
 * mk_store_gen_read): the cache is armed when it is the cache's, dropped
 * when it is not. */
void mk_store_cache_confirm(mk_sqlstore *s, bool known, int64_t gen);
/* MK_E_STALE with its detail, counted; the cache is dropped. */
mk_err mk_store_cache_stale(mk_sqlstore *s) MK_MUST_USE;

#endif
