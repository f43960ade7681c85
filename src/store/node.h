/* node.h - the node's shared state: what every kmsd process and thread of
 * one machine must agree on at the speed of memory, in one LMDB environment
 * next to the SQLite store (store.h keeps the operator's data:
 * subscribers, ticket keys, and the records once they are drained).
 *
 * Owns: mk_node (one LMDB environment, opened once per process and shared
 * by its threads) and what lives in it:
 * - the replay cache (doc/profile.md §7): one entry per authenticated
 *   initial message, keyed by the 32-byte digest of kms/replay.c (T in
 *   unix seconds first, so entries sort by age), until the message's T
 *   has left the skew window. Exact across processes: an entry is put
 *   with MDB_NOOVERWRITE inside a write transaction, and LMDB admits one
 *   writer at a time (a process-shared robust mutex: a writer killed
 *   while holding it is recovered by the next one). Bounded by
 *   replay_max entries; a full cache answers 503, never a silent
 *   acceptance. Expired entries are reclaimed by the answers themselves
 *   (a few from the oldest end per answer) and by mk_node_maintain.
 * - the replay mark: the latest time any answer has used ("now"). An
 *   entry whose expiry is at or before the mark is dead and may be
 *   reclaimed; a message whose entry would be dead is refused with Error
 *   1 whatever the clock says now. So a clock that jumps forward and back
 *   can never bring back a message whose entry was reclaimed
 *   (doc/profile.md §7).
 * - the record journal (doc/profile.md §8): every answer's record is
 *   appended in the same write transaction as its replay entry, before
 *   the answer leaves; mk_node_drain moves journal entries into the
 *   store's records table in batches (one SQLite transaction each, and a
 *   per-node "drained up to" sequence number in the same transaction, so
 *   that a crash between the two never loses or doubles a record).
 *   Bounded by journal_max entries; a full journal answers 503.
 * - the generation of the store's operator rows (subscribers, IMPUs,
 *   responder patterns, ticket keys): the newest SQLite generation
 *   (store.h) known to the node. An answer computed on rows cached at
 *   another generation is refused at commit with MK_E_STALE (nothing
 *   written) and the KMS core runs it again on fresh rows; see
 *   mk_node_publish_gen for who moves it.
 * - small tables with expiry for the other parts of the node (mk_node_kv:
 *   caches, single-use values, token buckets), each bounded.
 * - shared counters (mk_node_stats_*): a fixed array of 64-bit counters in
 *   a memory-mapped file, added to atomically by every process without a
 *   transaction: what metrics and per-outcome counts are made of.
 *
 * Durability: durable = false (default): a commit is in the operating
 *   system's page cache when the answer leaves, so it survives a kill -9
 *   of any process (like SQLite's WAL with synchronous=NORMAL), not a
 *   power loss. After a restart of the machine (the kernel's boot id
 *   changed, PATH-boot) the file a non-durable process used may be
 *   inconsistent and miss its last entries: it is set aside (renamed
 *   PATH.unclean-TIME; `kmsctl records salvage` moves its records into the
 *   store), a new one is made and the mark is raised to now + skew, so
 *   messages with T older than the restart are refused (RFC 3830 §5.4 lets
 *   a responder refuse what it cannot prove fresh). durable = true: an
 *   msync before the answer leaves, shared by the answers that committed
 *   meanwhile in this process; such a file is kept across a restart.
 *
 * Files: PATH (the LMDB data file, sparse, as large as the bounds allow)
 * and PATH-lock (LMDB's reader table and writer mutex), PATH-drain (an
 * flock(2) that elects the one process that drains the journal at a
 * time), PATH-stats (the shared counters) and PATH-boot (the boot id and
 * durability of the processes that used the file since that boot). The file never grows past its map
 * size, computed from replay_max, journal_max and kv_max.
 *
 * Processes and threads: open a node once per process (mk_node_open
 * returns the process's existing handle for the same file, counted);
 * every function is safe to call from any thread. After fork(), a child
 * must open the node again (it does: the handle records its pid).
 *
 * Errors: MK_E_MIKEY_TS (replay, or older than the mark), MK_E_STALE,
 * MK_E_UNAVAILABLE (full, I/O, a damaged file: answered 503 and logged),
 * MK_E_CONFIG (bad settings, not a node file), MK_E_ARG.
 */
#ifndef MK_STORE_NODE_H
#define MK_STORE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kms/kms_store.h"
#include "util/err.h"

#define MK_NODE_PATH_MAX 4096

typedef struct mk_node_config {
    char path[MK_NODE_PATH_MAX]; /* the data file; "" = mk_node_default_path */
    uint64_t replay_max;         /* entries, default 4 000 000 */
    uint64_t journal_max;        /* undrained records, default 1 000 000 */
    uint64_t kv_max;             /* entries per kv table, default 1 000 000 */
    bool durable;                /* msync before an answer leaves */
    uint32_t skew_seconds;       /* the KMS skew window, for the restart rule */
} mk_node_config;

void mk_node_config_defaults(mk_node_config *c);
/* The node file of a store: STORE_PATH "-node". MK_E_CONFIG if too long. */
mk_err mk_node_default_path(const char *store_path, char *out, size_t cap) MK_MUST_USE;

typedef struct mk_node mk_node;

/* How mk_node_open treats a missing file. */
typedef enum mk_node_create {
    /* create it empty: nothing was ever answered over this store (kmsctl
     * init, tests that make a new store) */
    MK_NODE_CREATE_FRESH = 0,
    /* create it, and since the entries of an earlier file may be gone,
     * raise the mark to now + skew (kmsd, and any process that answers
     * over an existing store) */
    MK_NODE_CREATE_RECOVER = 1,
    /* an existing file exactly as it is, without the restart rule: a file
     * that was set aside, to salvage its journal (kmsctl records salvage) */
    MK_NODE_OPEN_AS_IS = 2,
} mk_node_create;

/* Open (or create) the node file. If this process has it open already,
 * the same handle is returned (counted; settings must match). A caller
 * with all three sizes 0 adopts: the handle already open, or the map size
 * the file records (a new file gets the defaults). */
mk_err mk_node_open(const mk_node_config *cfg, mk_node_create create,
                    mk_node **out) MK_MUST_USE;
/* One more reference to an open node (closed by one more mk_node_close). */
mk_node *mk_node_ref(mk_node *n);
void mk_node_close(mk_node *n); /* NULL is fine; the last close closes */

/* --- the answer path --- */

/* What one answer writes, and what its lookups were computed on. */
typedef struct mk_node_answer {
    const uint8_t *digest;   /* 32-byte replay key (kms/replay.c) or NULL */
    uint64_t expires_unix;   /* the entry's expiry (T + skew + 1) */
    uint64_t now_unix;       /* the answer's clock */
    const mk_record *record; /* NULL: nothing to record */
    /* the J = 0 note of a resolve (kms_store.h), NULL: none; with a
     * record (note->refused is recorded in its place when refused) */
    const mk_resolve_note *note;
    /* with a digest: recorded in place of record when the entry is taken
     * (MK_E_MIKEY_TS; seen->replayed), NULL: nothing written then */
    const mk_record *replayed;
    /* rows served from a cache, read at generation used_gen */
    bool used;
    int64_t used_gen;
    /* rows read from the store during this answer, at fresh_gen */
    bool fresh;
    int64_t fresh_gen;
} mk_node_answer;

/* The generation the commit compared with (for the caller's cache). */
typedef struct mk_node_gen_seen {
    bool read;  /* false: the commit failed before reading it */
    bool known; /* false: no generation published yet */
    int64_t gen;
    /* not NULL: the answer's note was refused, for this reason; the commit
     * wrote its replay entry and note->refused instead of its record (the
     * caller answers 403) */
    const char *note_refused;
    /* the replay entry was taken (or dead at the mark): the commit wrote
     * a->replayed and nothing else (the caller answers Error 1) */
    bool replayed;
} mk_node_gen_seen;

/* Commit one answer in ONE write transaction: the generation check (a
 * fresh generation newer than the node's is published first; rows of any
 * other generation than the node's make the answer MK_E_STALE), the
 * replay entry (MK_E_MIKEY_TS if taken, or if it would be dead at the
 * mark, unless a->replayed is given: then that record is written and
 * seen->replayed set), the J = 0 note, the record in the journal (or, the
 * note refused, the refusal's: seen->note_refused), the mark, and a few
 * reclaimed
 * entries. Nothing is written unless everything is. Returns after the
 * sync when the node is durable; a durable node's answers that wait at
 * the same time in one process share one transaction, each answer in a
 * nested one of its own (all-or-nothing per answer as above). */
mk_err mk_node_answer_commit(mk_node *n, const mk_node_answer *a,
                             mk_node_gen_seen *seen) MK_MUST_USE;

/* --- the generation of the store's operator rows --- */

/* Tell the node the store's current generation gen, read by the caller
 * in a transaction of the store. Raised only (max): a publisher that read
 * gen before a newer one was published cannot take it back. Called by
 * the store after every operator change it commits (kmsctl), and with
 * lower = true by mk_node_maintain when it reads, twice in a row, a
 * generation lower than the node's (the store file was restored from a
 * backup): then it is set. */
mk_err mk_node_publish_gen(mk_node *n, int64_t gen, bool lower) MK_MUST_USE;

/* --- maintenance, status --- */

typedef struct mk_node_status {
    uint64_t replay_entries, replay_max;
    uint64_t journal_entries, journal_max;
    uint64_t mark_unix;      /* 0 = none yet */
    uint64_t floor_unix;     /* mark set by the last restart rule, 0 = never */
    bool floor_raised_now;   /* ... by this process's open of the file */
    char set_aside[MK_NODE_PATH_MAX + 64]; /* the earlier file this open set
                                             aside ("" none) */
    uint64_t oldest_expiry;  /* of the replay entries, 0 = empty */
    bool gen_known;
    int64_t gen;
    uint64_t next_seq;       /* sequence number of the next record */
    uint64_t map_bytes;      /* the file's bound */
    uint64_t used_bytes;     /* pages in use */
    uint8_t node_id[16];
    bool durable;
} mk_node_status;
mk_err mk_node_status_get(mk_node *n, mk_node_status *out) MK_MUST_USE;

/* Unmap the pages of the node file this process has read (they stay in
 * the page cache, shared by every process): without it each process's
 * resident size would grow with the live replay cache it has walked,
 * although none of it is its own memory. Called by mk_sqlstore_maintain. */
void mk_node_release_pages(mk_node *n);

/* Delete every replay entry that is dead at max(mark, now_unix), in
 * batches of short transactions; *deleted may be NULL. Also raises the
 * mark to now_unix. */
mk_err mk_node_replay_prune(mk_node *n, uint64_t now_unix,
                            uint64_t *deleted) MK_MUST_USE;

/* --- one waiter for a locked store (store.h, shared waits) ---
 * A word of the node's shared counters file holds until when (monotonic
 * milliseconds, the same clock in every process) one connection of the
 * machine waits for the store. Claim: true when no wait is under way
 * (the word is before now_ms), and this one until until_ms now is. Release:
 * the claim that holds until_ms ends (a later claim is left alone). */
bool mk_node_wait_claim(mk_node *n, uint64_t now_ms, uint64_t until_ms);
void mk_node_wait_release(mk_node *n, uint64_t until_ms);

/* --- small tables with expiry (mk_node_kv) ---
 * Each table holds up to kv_max entries of (key <= 128 bytes, value <= 256
 * bytes, expiry). An entry whose expiry is <= now is absent. */
typedef enum mk_node_table {
    MK_NODE_KV_GBA = 0,    /* GBA: Ks_NAF by B-TID, wrapped (src/gba) */
    MK_NODE_KV_NONCE = 1,  /* HTTP Digest nonces, single use */
    MK_NODE_KV_RATE = 2,   /* rate-limit token buckets */
    MK_NODE_KV_TICKET = 3, /* tickets resolved (reuse policy) */
    MK_NODE_KV__COUNT
} mk_node_table;

#define MK_NODE_KV_KEY_MAX 128
#define MK_NODE_KV_VAL_MAX 256

/* Put; with only_new, MK_E_EXISTS if a live entry is there. MK_E_UNAVAILABLE
 * when the table is full. */
mk_err mk_node_kv_put(mk_node *n, mk_node_table t, mk_bytes key,
                      mk_bytes val, uint64_t expires_unix, uint64_t now_unix,
                      bool only_new) MK_MUST_USE;
/* Get a live entry: *len bytes copied into val (cap); MK_E_NOT_FOUND. */
mk_err mk_node_kv_get(mk_node *n, mk_node_table t, mk_bytes key,
                      uint64_t now_unix, uint8_t *val, size_t cap,
                      size_t *len, uint64_t *expires_unix) MK_MUST_USE;
/* Get and delete in one transaction (single-use values): MK_E_NOT_FOUND
 * when absent or dead, so of two takers exactly one succeeds. */
mk_err mk_node_kv_take(mk_node *n, mk_node_table t, mk_bytes key,
                       uint64_t now_unix, uint8_t *val, size_t cap,
                       size_t *len) MK_MUST_USE;
/* Read-modify-write in one write transaction: fn gets the live value
 * (found false: none) and writes the new one into out (*out_len, at most
 * MK_NODE_KV_VAL_MAX; 0 with *expires 0 deletes it). fn's error aborts
 * the transaction and is returned. */
typedef mk_err (*mk_node_kv_fn)(void *arg, bool found, mk_bytes cur,
                                uint64_t cur_expires, uint8_t *out,
                                size_t *out_len, uint64_t *expires);
mk_err mk_node_kv_update(mk_node *n, mk_node_table t, mk_bytes key,
                         uint64_t now_unix, mk_node_kv_fn fn, void *arg) MK_MUST_USE;
mk_err mk_node_kv_delete(mk_node *n, mk_node_table t, mk_bytes key) MK_MUST_USE;
/* Delete dead entries: at most `budget` entries looked at per table, from
 * where the previous sweep of this process stopped. One thread at a time
 * (the maintenance thread). */
mk_err mk_node_kv_sweep(mk_node *n, uint64_t now_unix, size_t budget,
                        size_t *deleted) MK_MUST_USE;

/* Rate limits (node_rate.c, doc/profile.md §12.2): take one token from
 * the bucket `name` (any bytes: a client address, a PSK identity) that
 * holds at most `burst` tokens and gains rate_milli / 1000 a second
 * (1 = one token every 1000 s), shared by every
 * process of the machine. MK_OK when a token was there; MK_E_RATE_LIMITED
 * when none was, *retry_after_s the seconds until one is (at least 1);
 * MK_E_UNAVAILABLE when the table is full (kv_max buckets, each gone once
 * it is full again). */
mk_err mk_node_rate_take(mk_node *n, mk_bytes name, uint32_t rate_milli,
                         uint32_t burst, uint64_t now_ms,
                         uint32_t *retry_after_s) MK_MUST_USE;

/* --- shared counters (node_stats.c) ---
 * MK_NODE_STATS_SLOTS counters of 64 bits, zero in a new file, shared by
 * every process of the machine; what each slot means is the caller's
 * (one header of the caller's names them all). Adding is one atomic
 * instruction: no lock, no system call. */
#define MK_NODE_STATS_SLOTS 4096
/* Out-of-range slots are ignored (the count is lost, never another's). */
void mk_node_stats_add(mk_node *n, unsigned slot, uint64_t delta);
void mk_node_stats_set(mk_node *n, unsigned slot, uint64_t value);
uint64_t mk_node_stats_get(const mk_node *n, unsigned slot);

/* Latency histograms in the counters: MK_NODE_HIST_SLOTS slots from a base,
 * one per bucket (a duration counts in the first bucket whose bound in
 * microseconds, MK_NODE_HIST_BOUNDS_US, it does not exceed; the last
 * bucket takes the rest), then the count and the sum of the durations in
 * microseconds. Readers make them cumulative (Prometheus "le"). */
#define MK_NODE_HIST_BOUNDS_US \
    {100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 250000, 1000000}
#define MK_NODE_HIST_BUCKETS 12 /* the bounds and one above them all */
#define MK_NODE_HIST_SLOTS (MK_NODE_HIST_BUCKETS + 2)
void mk_node_stats_observe(mk_node *n, unsigned base, uint64_t us);
/* The store's own family (store_node.c): the duration of each answer's
 * commit to the node state (slot layout listed in fcgi/kmsd_stats.h). */
#define MK_NODE_STAT_COMMIT_HIST 320

#endif
