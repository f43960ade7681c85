/* store.h - the SQLite store of the KMS: subscribers with their wrapped PSKs
 * and IMPUs, versioned ticket keys (TPKs), and the audit records
 * (doc/profile.md §4, §6, §8).
 *
 * Owns: mk_sqlstore (one SQLite connection to one database file), its
 * implementation of the mk_kms_store interface (kms/kms_store.h), the
 * administration API used by kmsctl, and the drain of the node's record
 * journal into the records table.
 *
 * The answer path does not write this database. The lookups of an answer
 * (subscriber, ticket key) are served from the connection's cache or read
 * here; the answer's replay entry and record are committed to the node
 * state (store/node.h: LMDB, shared by every process of the machine) in
 * one transaction that also checks the lookups were current. Records
 * reach the records table through mk_sqlstore_drain (kmsd's maintenance
 * thread every few hundred milliseconds, and kmsctl before it reads them).
 *
 * Storage:
 * - One database file in WAL mode, synchronous=NORMAL (FULL with
 *   mk_sqlstore_set_durable): written by operators (kmsctl) and by the
 *   drain.
 * - PSKs and ticket keys are stored AES-KW wrapped (RFC 3394) under the
 *   32-byte master key; the wrap's 8-byte IV is bound to the row's identity
 *   (first 8 bytes of SHA-256(domain || 0x00 || id)), so a wrapped key moved
 *   to another row fails to unwrap. A check value wrapped under the master
 *   key is kept in the database: opening a store with another master key
 *   fails with MK_E_UNWRAP. The database file alone reveals no key.
 * - A retired ticket key is destroyed: its wrapped bytes are zeroed in
 *   their page (secure_delete on every connection) and the WAL that held
 *   the page's earlier image is checkpointed and cut to 0 bytes; every
 *   connection wipes its unwrapped copy when it drops its cache.
 * - The schema version is PRAGMA user_version. Only mk_sqlstore_open
 *   (kmsctl init) creates a store or migrates an older one forward (and
 *   refuses a newer one, MK_E_CONFIG); every other open requires an
 *   existing store of this schema with its master key check value, and
 *   writes nothing while it opens (profile §9.43).
 * - The path is checked before every transaction: a connection whose path
 *   no longer names the file it opened (removed, renamed, replaced) reads
 *   and writes nothing more (MK_E_UNAVAILABLE), and its close neither
 *   checkpoints into that file nor removes the -wal / -shm files, which
 *   are named after the path and may belong to the new file by then.
 * - Lookups are cached per connection (store_cache.c): subscribers by PSK
 *   id and by IMPU, ticket keys. The database keeps a generation number
 *   that triggers bump at every change of those rows, by any writer. An
 *   answer's commit to the node compares the generation of the rows it
 *   used with the node's (node.h); rows of another generation make the
 *   commit MK_E_STALE (nothing written; the KMS core runs the request
 *   again, kms/kms_store.h). Every change made through this API publishes
 *   the new generation to the node (mk_store_changed), so that a kmsctl
 *   change applies from the next answer of every process; a change made
 *   behind its back (sqlite3 shell, a restored file) is published by the
 *   next mk_sqlstore_maintain or by the first lookup that reads the
 *   database. A connection serves cached rows only once one of its
 *   answer_commits has found the node at the cache's generation.
 *
 * Concurrency: any number of processes may open the same file. An
 * mk_sqlstore is NOT thread-safe (the connection is opened with
 * SQLITE_OPEN_NOMUTEX and caches its prepared statements): open one
 * mk_sqlstore per thread; they may share one mk_node. A wait for another
 * connection's lock polls every 20 us to 1 ms. Every function that finds
 * the database locked by another connection for longer than
 * busy_timeout_ms, or cannot read or write it (I/O error, disk full, a
 * page found damaged while serving), returns MK_E_UNAVAILABLE (HTTP 503);
 * SQLite's "database is locked" never surfaces as any other error.
 *
 * Errors: MK_OK; MK_E_NOT_FOUND (lookup found nothing); MK_E_EXISTS (insert
 * met an existing row); MK_E_VALUE / MK_E_ARG (a value the store refuses);
 * MK_E_UNWRAP (a key does not unwrap under the master key);
 * MK_E_UNAVAILABLE (busy / I/O / disk full / damaged while serving / file
 * replaced); MK_E_CONFIG (not a store, missing or empty file, another
 * schema, no check value, damage found by an open or a check);
 * MK_E_STALE and MK_E_MIKEY_TS (answer_commit, node.h); MK_E_INTERNAL
 * (anything else SQLite reports). The thread's mk_err_last() names the
 * cause (a store failure: "store locked by another connection", "disk
 * full (store)", "I/O error on the store", "store damaged", ...);
 * mk_sqlstore_errmsg() holds the operation and SQLite's own message.
 */
#ifndef MK_STORE_STORE_H
#define MK_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kms/kms_store.h"
#include "store/node.h"
#include "util/cursor.h"
#include "util/err.h"

#define MK_SQLSTORE_SCHEMA_VERSION 5
#define MK_MASTER_KEY_LEN 32

typedef struct mk_sqlstore mk_sqlstore;

/* Open the store at path for kmsctl init: create it if the file does not
 * exist (or is empty), migrate an older schema, write the master key
 * check value if there is none. master_key is MK_MASTER_KEY_LEN bytes
 * (copied, wiped at close). */
mk_err mk_sqlstore_open(const char *path, mk_bytes master_key,
                        uint32_t busy_timeout_ms, mk_sqlstore **out) MK_MUST_USE;
/* Open an existing store (servers and every kmsctl command except init):
 * a missing or empty file, another schema version, a missing check value
 * or a file that is not a database is MK_E_CONFIG, so that a mistyped
 * path or a truncated store is an error instead of a new empty store.
 * Writes nothing while opening. */
mk_err mk_sqlstore_open_existing(const char *path, mk_bytes master_key,
                                 uint32_t busy_timeout_ms, mk_sqlstore **out) MK_MUST_USE;
typedef struct mk_sqlstore_opts {
    uint32_t busy_timeout_ms;
    /* SQLITE_OPEN_READONLY: a check (kmsd --check-config) that writes
     * nothing at all; such a connection only reads */
    bool read_only;
    /* attached from the first statement on (mk_sqlstore_attach_node) */
    mk_node *node;
    /* Waits for a locked store are shared by the connections of node's
     * machine: while one of them waits (up to busy_timeout_ms), the
     * others give up at once (MK_E_UNAVAILABLE) instead of queueing their
     * waits behind it, so every answer refused for a lock is refused
     * within busy_timeout_ms (kmsd's workers; profile §9.45). Needs node. */
    bool shared_waits;
} mk_sqlstore_opts;
/* mk_sqlstore_open_existing with options. */
mk_err mk_sqlstore_open_with(const char *path, mk_bytes master_key,
                             const mk_sqlstore_opts *o, mk_sqlstore **out) MK_MUST_USE;
/* SQLite's message of the last open that failed on this thread ("" if
 * none): why a file is not a store. */
const char *mk_sqlstore_open_errmsg(void);
void mk_sqlstore_close(mk_sqlstore *s); /* NULL is fine */

/* MK_OK while the store's path names the file s opened; MK_E_UNAVAILABLE
 * once it was removed, renamed away or replaced (profile §9.43). */
mk_err mk_sqlstore_same_file(mk_sqlstore *s) MK_MUST_USE;
/* After mk_sqlstore_same_file failed, before closing s: copy what the
 * WAL holds for s's file into it and empty the WAL, so that whoever opens
 * the file that now has the path does not read s's pages from a WAL of
 * the same name. MK_E_UNAVAILABLE when readers kept it from finishing. */
mk_err mk_sqlstore_hand_over(mk_sqlstore *s) MK_MUST_USE;
/* SQLite's quick_check of the whole store, interrupted after budget_ms
 * (0: no limit); if interrupted, the tables an answer reads (subscribers,
 * IMPUs, patterns, ticket keys, meta) are checked whole and *complete is
 * false. Damage is MK_E_CONFIG with SQLite's report in
 * mk_sqlstore_errmsg (profile §9.44). */
mk_err mk_sqlstore_quick_check(mk_sqlstore *s, uint32_t budget_ms,
                               bool *complete) MK_MUST_USE;

/* The mk_kms_store function table over this connection (ctx = s). Its
 * answer_commit goes to the connection's node (below). */
mk_kms_store mk_sqlstore_interface(mk_sqlstore *s);

/* --- the node state the answers commit to (store/node.h) --- */

/* Open the node of this store with cfg (NULL: the default path
 * STORE-node, adopting the sizes the file or the process has) and attach
 * it to s; *out is s's reference (closed with s). A missing node file is
 * created; if the store has answered before (it holds records), with the
 * restart rule of node.h, since the entries of a lost file may be gone. */
mk_err mk_sqlstore_node_open(mk_sqlstore *s, const mk_node_config *cfg,
                             mk_node **out) MK_MUST_USE;
/* Commit s's answers to n (a reference is taken; NULL detaches). Without
 * a node, the first answer_commit opens the default one as above. */
void mk_sqlstore_attach_node(mk_sqlstore *s, mk_node *n);

/* Move up to max records from n's journal into the records table, in
 * batches (store_drain.c: exactly once, across crashes). Only one process
 * drains at a time: wait_ms 0 returns MK_OK with *moved 0 at once if
 * another is at it; otherwise wait up to wait_ms (MK_E_UNAVAILABLE). */
mk_err mk_sqlstore_drain(mk_sqlstore *s, mk_node *n, uint32_t wait_ms,
                         size_t max, size_t *moved) MK_MUST_USE;

/* One round of the node's upkeep (kmsd's maintenance thread, a few times
 * a second; kmsctl): drain what is there, publish the store's generation
 * (a lower one only when seen twice in a row: a restored backup), reclaim
 * dead replay entries, sweep dead kv entries, free the reader slots of
 * killed processes, unmap the node pages this process read
 * (mk_node_release_pages). Every step runs; the first error is returned. */
typedef struct mk_sqlstore_upkeep {
    size_t drained;  /* records moved into the store */
    uint64_t pruned; /* replay entries reclaimed */
    size_t swept;    /* kv entries deleted */
} mk_sqlstore_upkeep;
mk_err mk_sqlstore_maintain(mk_sqlstore *s, mk_node *n, uint64_t now_unix,
                            mk_sqlstore_upkeep *u) MK_MUST_USE;

/* What the cache of looked-up rows did on this connection (for tests and
 * benchmarks). */
typedef struct mk_sqlstore_cache_counts {
    uint64_t hits;   /* lookups answered from the cache */
    uint64_t misses; /* lookups that read the database */
    uint64_t stale;  /* answer_commits refused with MK_E_STALE */
    uint64_t drops;  /* times the entries were dropped (generation moved,
                      * or this connection changed rows itself) */
} mk_sqlstore_cache_counts;
void mk_sqlstore_cache_stats(const mk_sqlstore *s,
                             mk_sqlstore_cache_counts *out);

/* The connection's page cache, at most kib KiB (SQLite's default: 2 MiB).
 * A connection that only appends (the drain: records land at the right
 * edge of their B-tree) needs a few dozen pages; a small cache keeps it
 * from holding every page it ever wrote. */
mk_err mk_sqlstore_set_page_cache(mk_sqlstore *s, unsigned kib) MK_MUST_USE;

/* synchronous=FULL (true) or NORMAL (false, the default): FULL for the
 * drain of a durable node, so that records the journal forgets are on
 * disk in the store. */
mk_err mk_sqlstore_set_durable(mk_sqlstore *s, bool full) MK_MUST_USE;
/* Has SQLite found the file damaged (a page it could not read as one)
 * on this connection, by any operation since it was opened? */
bool mk_sqlstore_damaged(const mk_sqlstore *s);
/* SQLite's message of the last failure on this connection ("" if none). */
const char *mk_sqlstore_errmsg(const mk_sqlstore *s);

/* --- subscribers (profile §4, §5) --- */

/* An IMPU the store accepts: a SIP or TEL URI (util/uri.h
 * mk_uri_sip_tel_ok) shorter than MK_URI_MAX. */
bool mk_sqlstore_impu_ok(const char *uri);

/* Add a subscriber: psk_id 1..MK_PSK_ID_MAX bytes, PSK of 16 or 32 bytes,
 * 1..MK_IMPU_MAX distinct IMPUs (mk_sqlstore_impu_ok), up to MK_PATTERN_MAX
 * non-empty responder patterns. MK_E_EXISTS if the psk_id is taken,
 * MK_E_VALUE if a field is refused. */
mk_err mk_sqlstore_subscriber_add(mk_sqlstore *s, const mk_subscriber *sub) MK_MUST_USE;
/* The subscriber with its PSK unwrapped (same as the interface lookup). */
mk_err mk_sqlstore_subscriber_get(mk_sqlstore *s, mk_bytes psk_id,
                                  mk_subscriber *out) MK_MUST_USE;
mk_err mk_sqlstore_subscriber_set_active(mk_sqlstore *s, mk_bytes psk_id,
                                         bool active) MK_MUST_USE;
mk_err mk_sqlstore_subscriber_remove(mk_sqlstore *s, mk_bytes psk_id) MK_MUST_USE;
/* Every subscriber in psk_id order, WITHOUT its PSK (psk.n == 0; the PSK
 * length is given as psk_len). A callback error stops the walk and is
 * returned. */
typedef mk_err (*mk_sqlstore_subscriber_cb)(void *arg, const mk_subscriber *s,
                                            size_t psk_len);
mk_err mk_sqlstore_subscriber_list(mk_sqlstore *s, mk_sqlstore_subscriber_cb cb,
                                   void *arg) MK_MUST_USE;
/* How many subscribers own this IMPU (a lookup by IMPU needs exactly 1).
 * IMPUs are compared byte for byte, here and in the interface lookup: no
 * SIP URI equivalence (RFC 3261 §19.1.4) is applied, so provision them in
 * the form the UEs send. */
mk_err mk_sqlstore_impu_owners(mk_sqlstore *s, const char *impu,
                               size_t *count) MK_MUST_USE;

/* --- ticket keys (profile §6) --- */

typedef struct mk_ticket_key_info {
    uint8_t id[MK_TK_ID_MAX]; /* "tpk-0001", "tpk-0002", ... */
    size_t id_len;
    uint32_t version;
    mk_tk_state state;
    uint64_t created_unix;
} mk_ticket_key_info;

/* Draw a new 32-byte TPK (mk_random) that becomes the active key; the
 * previously active key becomes resolve-only. One transaction. */
mk_err mk_sqlstore_ticket_key_rotate(mk_sqlstore *s, uint64_t now_unix,
                                     mk_ticket_key_info *created) MK_MUST_USE;
/* Make a resolve-only key retired and erase its wrapped bytes, then empty
 * the WAL so that no page image of them is left (doc/profile.md §9.38).
 * MK_E_NOT_FOUND if no such key, MK_E_VALUE if it is the active key
 * (rotate first); retiring a retired key is MK_OK (and empties the WAL
 * again). MK_E_UNAVAILABLE, with the key retired, when a reader kept the
 * WAL from being emptied within the busy timeout: call again. */
mk_err mk_sqlstore_ticket_key_retire(mk_sqlstore *s, mk_bytes id) MK_MUST_USE;
typedef mk_err (*mk_sqlstore_ticket_key_cb)(void *arg,
                                            const mk_ticket_key_info *k);
mk_err mk_sqlstore_ticket_key_list(mk_sqlstore *s,
                                   mk_sqlstore_ticket_key_cb cb, void *arg) MK_MUST_USE;

/* --- records (profile §8) --- */

/* Every record with time_unix >= since_unix, of one subscriber (the
 * record's subscriber text) or of all (subscriber NULL), in insertion
 * order. A callback error stops the walk and is returned. */
typedef mk_err (*mk_sqlstore_record_cb)(void *arg, const mk_record *r);
mk_err mk_sqlstore_records(mk_sqlstore *s, uint64_t since_unix,
                           const char *subscriber, mk_sqlstore_record_cb cb,
                           void *arg) MK_MUST_USE;
/* Retention (doc/profile.md §9.39): delete the records with time_unix <
 * before_unix, the oldest first, at most max of them in one transaction
 * (the write lock is held for one batch only: answers never wait for it,
 * the drain does); *deleted says how many. Call again while *deleted ==
 * max. The deleted rows are zeroed in their pages (secure_delete). */
mk_err mk_sqlstore_records_prune(mk_sqlstore *s, uint64_t before_unix,
                                 size_t max, size_t *deleted) MK_MUST_USE;

#endif
