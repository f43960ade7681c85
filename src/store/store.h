/* store.h - the SQLite store of the KMS: subscribers with their wrapped PSKs
 * and IMPUs, versioned ticket keys (TPKs), the replay cache shared by every
 * responder process, and the audit records (profile §4, §6, §7, §8).
 *
 * Owns: mk_sqlstore (one SQLite connection to one database file), its
 * implementation of the mk_kms_store interface (kms/kms_store.h) and the
 * administration API used by kmsctl.
 *
 * Storage:
 * - One database file in WAL mode, synchronous=NORMAL: a committed answer
 *   survives a crash of any process (it is in the WAL, in the OS page
 *   cache); after a power loss the transactions committed since the last
 *   checkpoint (up to 10000 WAL pages: some 2000 answers) may be lost (the
 *   database stays consistent). The replay cache
 *   is meant to be correct across processes, not across power loss: after a
 *   power loss, messages replayed within the skew window could be accepted
 *   once more. mk_sqlstore_set_durable(s, true) selects synchronous=FULL
 *   (fsync at every commit) where that matters more than throughput.
 * - Speed: an answer is one transaction (answer_commit); the connections
 *   use a VFS that writes the frames of a commit to the WAL in one system
 *   call (store_vfs.c; same file format, other programs may open the file
 *   with plain SQLite at any time); a checkpoint runs every 10000 WAL
 *   pages (~40 MiB) instead of SQLite's 1000, as each syncs both files.
 * - PSKs and ticket keys are stored AES-KW wrapped (RFC 3394) under the
 *   32-byte master key; the wrap's 8-byte IV is bound to the row's identity
 *   (first 8 bytes of SHA-256(domain || 0x00 || id)), so a wrapped key moved
 *   to another row fails to unwrap. A check value wrapped under the master
 *   key is kept in the database: opening a store with another master key
 *   fails with MK_E_UNWRAP. The database file alone reveals no key.
 * - A retired ticket key is destroyed (its wrapped bytes are erased).
 * - The schema version is PRAGMA user_version; opening migrates an older
 *   (or empty) file forward and refuses a newer one (MK_E_CONFIG).
 * - Lookups are cached per connection (store_cache.c): subscribers by PSK
 *   id and by IMPU, ticket keys. The database keeps a generation number
 *   that triggers bump at every change of those rows, by any writer. The
 *   answer_commit of an answer whose lookups were served from the cache
 *   reads it inside its write transaction; if it moved since the cached
 *   rows were read, nothing is written and the commit returns MK_E_STALE
 *   (the KMS core then runs the request again, kms/kms_store.h), so no
 *   answer is ever committed on rows older than the commit. A connection
 *   serves cached rows only once one of its answer_commits has found the
 *   generation unchanged; connections that do not commit answers (kmsctl,
 *   the administration API below) always read the database, and the
 *   administration calls drop the cache of the connection they use.
 *
 * Concurrency: any number of processes may open the same file. An
 * mk_sqlstore is NOT thread-safe (the connection is opened with
 * SQLITE_OPEN_NOMUTEX and caches its prepared statements): open one
 * mk_sqlstore per thread. Threads of one process may in addition share an
 * mk_sqlstore_writer (group commit, below) for their replay entries and
 * records. A wait for another connection's lock polls every 20 us to 1 ms
 * (SQLite's default handler sleeps 1 ms and more, far longer than the
 * store's transactions). Every function that finds the database locked by
 * another connection for longer than busy_timeout_ms, or cannot read or
 * write it (I/O error, disk full), returns MK_E_UNAVAILABLE (HTTP 503);
 * SQLite's "database is locked" never surfaces as any other error.
 *
 * Errors: MK_OK; MK_E_NOT_FOUND (lookup found nothing); MK_E_EXISTS (insert
 * met an existing row); MK_E_VALUE / MK_E_ARG (a value the store refuses);
 * MK_E_UNWRAP (a key does not unwrap under the master key);
 * MK_E_UNAVAILABLE (busy / I/O); MK_E_CONFIG (not a store, missing file,
 * newer schema); MK_E_STALE (answer_commit only: cached lookups no
 * longer current, nothing written); MK_E_INTERNAL (anything else SQLite
 * reports). The thread's mk_err_last() names the operation;
 * mk_sqlstore_errmsg() holds SQLite's own message for logs.
 */
#ifndef MK_STORE_STORE_H
#define MK_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kms/kms_store.h"
#include "util/cursor.h"
#include "util/err.h"

#define MK_SQLSTORE_SCHEMA_VERSION 2
#define MK_MASTER_KEY_LEN 32

typedef struct mk_sqlstore mk_sqlstore;

/* Open the store at path, creating an empty one if the file does not exist.
 * master_key is MK_MASTER_KEY_LEN bytes (copied, wiped at close). */
mk_err mk_sqlstore_open(const char *path, mk_bytes master_key,
                        uint32_t busy_timeout_ms, mk_sqlstore **out);
/* Like mk_sqlstore_open, but a missing file is MK_E_CONFIG (what servers
 * and every kmsctl command except `init` use, so a mistyped path is an
 * error instead of a new empty store). */
mk_err mk_sqlstore_open_existing(const char *path, mk_bytes master_key,
                                 uint32_t busy_timeout_ms, mk_sqlstore **out);
void mk_sqlstore_close(mk_sqlstore *s); /* NULL is fine */

/* The mk_kms_store function table over this connection (ctx = s). */
mk_kms_store mk_sqlstore_interface(mk_sqlstore *s);

/* --- group commit ---
 *
 * The interface's answer_commit writes one answer (replay entry + record)
 * in one transaction. Each commit still costs a few system calls (WAL
 * frames, file locks) and serializes the threads on SQLite's write lock. A
 * writer is one thread with its own connection: the answer_commit of every
 * mk_sqlstore attached to it is queued, whatever has queued up is run in
 * ONE transaction, and each caller returns after that commit with its own
 * result (MK_E_MIKEY_TS for a replay, with nothing of that answer
 * written). Durability is that of a direct call; under load a commit
 * carries many answers. Lookups still use each thread's own connection.
 * A database failure during a batch (busy past the timeout, I/O) fails
 * every answer of that batch with MK_E_UNAVAILABLE (nothing of it is
 * kept). The cache check (above) is the same as for a direct call: each
 * answer carries its connection's "served from the cache, generation G"
 * into the queue, and the writer compares it with the generation its batch
 * transaction reads; a stale answer gets MK_E_STALE (nothing of it
 * written) while the rest of the batch is committed. */
typedef struct mk_sqlstore_writer mk_sqlstore_writer;

/* Open the existing store for the writer and start its thread; durable
 * as mk_sqlstore_set_durable says (false: synchronous=NORMAL). */
mk_err mk_sqlstore_writer_start(const char *path, mk_bytes master_key,
                                uint32_t busy_timeout_ms, bool durable,
                                mk_sqlstore_writer **out);
/* Write what is queued, stop the thread, close. Detach (or close) every
 * mk_sqlstore using it first. NULL is fine. */
void mk_sqlstore_writer_stop(mk_sqlstore_writer *w);
/* Route s's answer_commit through w (NULL: directly). */
void mk_sqlstore_set_writer(mk_sqlstore *s, mk_sqlstore_writer *w);
/* Commits and writes done so far (ops / batches = mean batch size). */
void mk_sqlstore_writer_stats(mk_sqlstore_writer *w, uint64_t *batches,
                              uint64_t *ops);

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

/* synchronous=FULL (true) or NORMAL (false, the default); see above. */
mk_err mk_sqlstore_set_durable(mk_sqlstore *s, bool full);
/* SQLite's message of the last failure on this connection ("" if none). */
const char *mk_sqlstore_errmsg(const mk_sqlstore *s);

/* --- subscribers (profile §4, §5) --- */

/* An IMPU the store accepts: starts with sip:, sips: or tel:, shorter than
 * MK_URI_MAX, no control characters or spaces. */
bool mk_sqlstore_impu_ok(const char *uri);

/* Add a subscriber: psk_id 1..MK_PSK_ID_MAX bytes, PSK of 16 or 32 bytes,
 * 1..MK_IMPU_MAX distinct IMPUs (mk_sqlstore_impu_ok), up to MK_PATTERN_MAX
 * non-empty responder patterns. MK_E_EXISTS if the psk_id is taken,
 * MK_E_VALUE if a field is refused. */
mk_err mk_sqlstore_subscriber_add(mk_sqlstore *s, const mk_subscriber *sub);
/* The subscriber with its PSK unwrapped (same as the interface lookup). */
mk_err mk_sqlstore_subscriber_get(mk_sqlstore *s, mk_bytes psk_id,
                                  mk_subscriber *out);
mk_err mk_sqlstore_subscriber_set_active(mk_sqlstore *s, mk_bytes psk_id,
                                         bool active);
mk_err mk_sqlstore_subscriber_remove(mk_sqlstore *s, mk_bytes psk_id);
/* Every subscriber in psk_id order, WITHOUT its PSK (psk.n == 0; the PSK
 * length is given as psk_len). A callback error stops the walk and is
 * returned. */
typedef mk_err (*mk_sqlstore_subscriber_cb)(void *arg, const mk_subscriber *s,
                                            size_t psk_len);
mk_err mk_sqlstore_subscriber_list(mk_sqlstore *s, mk_sqlstore_subscriber_cb cb,
                                   void *arg);
/* How many subscribers own this IMPU (a lookup by IMPU needs exactly 1).
 * IMPUs are compared byte for byte, here and in the interface lookup: no
 * SIP URI equivalence (RFC 3261 §19.1.4) is applied, so provision them in
 * the form the UEs send. */
mk_err mk_sqlstore_impu_owners(mk_sqlstore *s, const char *impu,
                               size_t *count);

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
                                     mk_ticket_key_info *created);
/* Make a resolve-only key retired and erase its wrapped bytes.
 * MK_E_NOT_FOUND if no such key, MK_E_VALUE if it is the active key
 * (rotate first); retiring a retired key is MK_OK. */
mk_err mk_sqlstore_ticket_key_retire(mk_sqlstore *s, mk_bytes id);
typedef mk_err (*mk_sqlstore_ticket_key_cb)(void *arg,
                                            const mk_ticket_key_info *k);
mk_err mk_sqlstore_ticket_key_list(mk_sqlstore *s,
                                   mk_sqlstore_ticket_key_cb cb, void *arg);

/* --- replay cache (profile §7) --- */

/* Delete every entry with expires <= now_unix, in batches (each its own
 * short transaction so responders are not held up); *deleted counts them
 * (may be NULL). The interface's answer_commit also prunes a bounded
 * batch every so often. */
mk_err mk_sqlstore_replay_prune(mk_sqlstore *s, uint64_t now_unix,
                                uint64_t *deleted);
/* Number of entries (expired or not), for tests and operators. */
mk_err mk_sqlstore_replay_count(mk_sqlstore *s, uint64_t *count);

/* --- records (profile §8) --- */

/* Every record with time_unix >= since_unix, of one subscriber (the
 * record's subscriber text) or of all (subscriber NULL), in insertion
 * order. A callback error stops the walk and is returned. */
typedef mk_err (*mk_sqlstore_record_cb)(void *arg, const mk_record *r);
mk_err mk_sqlstore_records(mk_sqlstore *s, uint64_t since_unix,
                           const char *subscriber, mk_sqlstore_record_cb cb,
                           void *arg);

#endif
