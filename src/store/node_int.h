/* node_int.h - what the node_*.c files (and the store's drain) share; not a
 * public header (node.h is).
 *
 * Owns: struct mk_node (the LMDB environment and its databases), the
 * LMDB -> mk_err mapping, the big-endian helpers of the on-file layout and
 * the journal reader used by the store's drain (store_drain.c).
 *
 * On-file layout (format version 1):
 * - "meta": short text keys -> values
 *     "version"    u64 BE, 1
 *     "node_id"    16 random bytes: names this node's journal in the store
 *     "mark"       u64 BE unix seconds (node.h)
 *     "gen"        i64 BE, the store generation known to the node
 *     "seq"        u64 BE, sequence number of the next journal record
 *     "floor"      u64 BE, the mark set by the last unclean-restart rule
 * - "replay":  32-byte digest -> u64 BE expiry
 * - "journal": u64 BE sequence number -> encoded mk_record (node_journal.c)
 * - "kv0".."kv3": key -> u64 BE expiry || value (node_kv.c)
 */
#ifndef MK_STORE_NODE_INT_H
#define MK_STORE_NODE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <sys/types.h>

#include "store/node.h"

#define MK_NODE_FORMAT 1

struct mk_node {
    MDB_env *env;
    MDB_dbi meta, replay, journal, kv[MK_NODE_KV__COUNT];
    mk_node_config cfg;
    uint8_t node_id[16];
    uint64_t floor_unix;  /* mark raised at this open (0: not) */
    char set_aside[MK_NODE_PATH_MAX + 64]; /* an earlier file, set aside at
                                             this open ("" none) */
    unsigned page_size;   /* LMDB's */
    void *map_addr;       /* LMDB's map of the file in this process, */
    size_t map_len;       /* found in /proc/self/maps (NULL: unknown) */
    uint64_t reserved;    /* bytes of the file whose blocks this process
                           * has reserved (node_env.c reserve_space) */
    int drain_fd;         /* PATH-drain, flock(2): one process drains */
    uint64_t *stats;      /* PATH-stats, mapped: MK_NODE_STATS_SLOTS */
    pthread_mutex_t drain_mu; /* ... and one thread of it */
    /* registry (node_env.c) */
    dev_t dev;
    ino_t ino;
    pid_t pid;
    unsigned refs;
    struct mk_node *next;
    /* group sync of a durable node (node_env.c) */
    pthread_mutex_t sync_mu;
    pthread_cond_t sync_cv;
    uint64_t commits, synced;
    bool syncing;
    /* group commit of a durable node's answers (node_answer.c) */
    pthread_mutex_t group_mu;
    pthread_cond_t group_cv;
    struct mk_node_slot *group_head, **group_tail;
    bool group_leading;
    /* mk_node_maintain's memory: where each kv sweep stopped, and a lower
     * store generation seen once (it must be seen twice to be set) */
    uint8_t kv_sweep_key[MK_NODE_KV__COUNT][MK_NODE_KV_KEY_MAX];
    size_t kv_sweep_len[MK_NODE_KV__COUNT];
    bool low_gen_seen;
    int64_t low_gen;
};

/* Map an LMDB result (not MDB_SUCCESS) to mk_err and raise it with what:
 * MDB_MAP_FULL, I/O, MDB_PANIC, MDB_CORRUPTED... -> MK_E_UNAVAILABLE;
 * MDB_INVALID / MDB_VERSION_MISMATCH -> MK_E_CONFIG. */
mk_err mk_node_err(int rc, const char *what) MK_MUST_USE;

/* Allocate the first `bytes` of a file that is written through a map, so
 * that a full disk is an error now, not a SIGBUS later:
 * MK_E_UNAVAILABLE "disk full (node state)". */
mk_err mk_node_reserve_file(int fd, uint64_t bytes) MK_MUST_USE;
/* Begin a transaction (write unless rdonly; a write first reserves the
 * disk blocks its pages may need). */
mk_err mk_node_txn(mk_node *n, bool rdonly, MDB_txn **out) MK_MUST_USE;
/* Commit, mapping the error; the transaction is gone either way. */
mk_err mk_node_commit(MDB_txn *txn, const char *what) MK_MUST_USE;
/* After a commit that the answer waits for: the shared msync of a
 * durable node (no-op otherwise). */
mk_err mk_node_sync_after_commit(mk_node *n) MK_MUST_USE;

/* mk_node_kv_update (node.h) inside the caller's write transaction txn,
 * which the caller commits or aborts. */
mk_err mk_node_kv_update_in(MDB_txn *txn, mk_node *n, mk_node_table t,
                            mk_bytes key, uint64_t now_unix, mk_node_kv_fn fn,
                            void *arg) MK_MUST_USE;
/* The J = 0 note of an answer (node_ticket.c, doc/profile.md §9.37) in
 * the answer's transaction: put, or passed (same responder within the
 * grace; *refused NULL); for any other resolve *refused says why, and
 * nothing is written. */
mk_err mk_node_note_apply(MDB_txn *txn, mk_node *n,
                          const mk_resolve_note *note, uint64_t now_unix,
                          const char **refused) MK_MUST_USE;

/* Big-endian integers of the layout. */
void mk_node_put_u64(uint8_t *p, uint64_t v);
uint64_t mk_node_get_u64(const uint8_t *p);
/* A meta value as u64 (false: absent or not 8 bytes). */
bool mk_node_meta_u64(MDB_txn *txn, mk_node *n, const char *key,
                      uint64_t *out);
mk_err mk_node_meta_put_u64(MDB_txn *txn, mk_node *n, const char *key,
                            uint64_t v) MK_MUST_USE;

/* A file of the node that root has just opened or created gets the owner
 * of the directory it is in (node_env.c): kmsctl run as root must not leave
 * files that kmsd, running as the service's user, cannot open. Not root,
 * or a directory owned by root: nothing changes. */
void mk_node_own(const char *node_path, int fd);

/* The restart rule (node_boot.c), before LMDB opens the file: after a
 * restart of the machine, a file that a non-durable process used in the
 * previous boot is renamed to `aside` (and *create becomes
 * MK_NODE_CREATE_RECOVER); PATH-boot is brought up to date. */
mk_err mk_node_boot_check(const mk_node_config *cfg, mk_node_create *create,
                          char *aside, size_t cap) MK_MUST_USE;

/* Map PATH-stats (node_stats.c); unmap it. */
mk_err mk_node_stats_open(mk_node *n) MK_MUST_USE;
void mk_node_stats_close(mk_node *n);

/* --- the journal, for the drain (node_journal.c) --- */

/* Encoded size bound of one record. */
#define MK_NODE_RECORD_MAX 4096
mk_err mk_node_record_encode(const mk_record *r, uint8_t *out, size_t cap,
                             size_t *len) MK_MUST_USE;
mk_err mk_node_record_decode(mk_bytes in, mk_record *r) MK_MUST_USE;

/* Call cb for each journal record with seq > after, in order, at most max;
 * *last = the last seq given (after, if none). One read transaction. A
 * callback error stops and is returned. */
typedef mk_err (*mk_node_journal_cb)(void *arg, uint64_t seq,
                                     const mk_record *r);
mk_err mk_node_journal_read(mk_node *n, uint64_t after, size_t max,
                            mk_node_journal_cb cb, void *arg,
                            uint64_t *last) MK_MUST_USE;
/* Delete the journal records with seq <= upto. */
mk_err mk_node_journal_trim(mk_node *n, uint64_t upto) MK_MUST_USE;
/* The drain election: flock(2) on PATH-drain. wait_ms 0: try once. */
bool mk_node_drain_lock(mk_node *n, uint32_t wait_ms);
void mk_node_drain_unlock(mk_node *n);

#endif
