/* pgstore.h - the PostgreSQL store: what the SQLite store (store.h) keeps,
 * in one PostgreSQL database that any number of kmsd nodes (machines)
 * share, plus what the SQLite store keeps in each machine's node state
 * and must now be exact across machines: the replay cache and the tickets
 * resolved (doc/profile.md §13).
 *
 * Owns: mk_pgstore (one libpq connection), its mk_kms_store interface
 * (kms/kms_store.h), its versioned schema and forward migrations, the
 * administration API kmsctl uses (the same as store.h's, over the same
 * record types), and the import of an SQLite store (kmsctl migrate-store).
 *
 * Selected by the configuration: `store = postgresql://...` (or
 * postgres://..., a libpq URI). The URI must not hold a password: libpq
 * reads it from a password file (passfile=..., PGPASSFILE, ~/.pgpass) or
 * its environment (PGPASSWORD), so that the store string is safe to log.
 *
 * Answers (doc/profile.md §13.2):
 * - Lookups are cached per connection, at the generation of the operator
 *   rows (kms_state.gen, bumped by triggers on every change of
 *   subscribers, IMPUs, responder patterns and ticket keys, whoever makes
 *   it). A lookup that misses reads the row and the generation in one
 *   statement.
 * - answer_commit is ONE statement (one round trip): the generation check,
 *   the replay entry (INSERT ... ON CONFLICT DO NOTHING: of two copies
 *   committed at two nodes, exactly one inserts it), the J = 0 note of a
 *   resolve (INSERT ... ON CONFLICT DO UPDATE, which returns the note as
 *   another node may just have committed it: exact across nodes) and the
 *   record (the answer's; the refusal's when the note is refused; the
 *   Error 1's when the entry was taken first), all or nothing. Rows of another generation: MK_E_STALE, nothing written.
 *   An entry whose expiry is at or before kms_state.mark (raised by the
 *   prune before it deletes) is refused: a message whose entry may be
 *   gone is never accepted again.
 * - rate_take uses the machine's node state (store/node.h): rate limits
 *   stay per machine.
 * - synchronous_commit follows `durable` (on / off).
 *
 * Failures: a connection that is lost, a server that is down, restarting,
 * in recovery or read-only, a statement over timeout_ms: MK_E_UNAVAILABLE
 * (503 with Retry-After); the next call reconnects (at most one attempt
 * every MK_PG_RECONNECT_MS, so that a dead server costs the answers no
 * wait). Errors otherwise as store.h: MK_E_NOT_FOUND, MK_E_EXISTS,
 * MK_E_VALUE, MK_E_UNWRAP, MK_E_CONFIG (not a store of ours, another
 * schema, a password in the URI), MK_E_INTERNAL.
 *
 * Not thread-safe: one mk_pgstore per thread.
 */
#ifndef MK_STORE_PGSTORE_H
#define MK_STORE_PGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kms/kms_store.h"
#include "store/node.h"
#include "store/store.h"

#define MK_PGSTORE_SCHEMA_VERSION 1
#define MK_PG_RECONNECT_MS 250

typedef struct mk_pgstore mk_pgstore;

/* Is this `store` value a PostgreSQL connection URI? */
bool mk_pgstore_is_uri(const char *store);
/* Was this program built with the PostgreSQL store (libpq's headers)?
 * Without it every open fails with MK_E_CONFIG; callers say so early. */
bool mk_pgstore_built(void);
#define MK_PGSTORE_NOT_BUILT                                                 \
    "this build has no PostgreSQL store (configure found no libpq)"

typedef struct mk_pgstore_opts {
    uint32_t timeout_ms; /* connect and statement timeout; 0 = 2000 */
    bool durable;        /* synchronous_commit on (else off) */
    /* create the schema or migrate it forward, write the master key check
     * value (kmsctl init / migrate); otherwise the schema must be ours and
     * current and the check value must unwrap */
    bool init;
    /* the machine's node state, for rate limits (a reference is taken);
     * NULL: no rate limits */
    mk_node *node;
} mk_pgstore_opts;

/* Connect and check. MK_E_UNAVAILABLE when the server cannot be reached
 * (try again later); MK_E_CONFIG, MK_E_UNWRAP as above. */
mk_err mk_pgstore_open(const char *uri, mk_bytes master_key,
                       const mk_pgstore_opts *o, mk_pgstore **out) MK_MUST_USE;
void mk_pgstore_close(mk_pgstore *p); /* NULL is fine */
/* The server's message of the last failure on this connection, or of the
 * last failed open on this thread (p NULL); "" if none. */
const char *mk_pgstore_errmsg(const mk_pgstore *p);

mk_kms_store mk_pgstore_interface(mk_pgstore *p);

/* One round of upkeep (kmsd's maintenance thread, any node; kmsctl replay
 * prune): raise the mark to now_unix and delete the replay entries and
 * resolved-ticket notes dead at it, in one transaction. */
mk_err mk_pgstore_replay_prune(mk_pgstore *p, uint64_t now_unix,
                               uint64_t *deleted) MK_MUST_USE;

typedef struct mk_pgstore_status {
    int schema_version;
    int64_t gen;
    uint64_t mark_unix;
    uint64_t replay_entries;
    uint64_t records;
    bool synchronous_commit;
} mk_pgstore_status;
mk_err mk_pgstore_status_get(mk_pgstore *p, mk_pgstore_status *out) MK_MUST_USE;

void mk_pgstore_cache_stats(const mk_pgstore *p,
                            mk_sqlstore_cache_counts *out);

/* --- administration: as the mk_sqlstore_* functions of store.h --- */
mk_err mk_pgstore_subscriber_add(mk_pgstore *p, const mk_subscriber *sub) MK_MUST_USE;
mk_err mk_pgstore_subscriber_get(mk_pgstore *p, mk_bytes psk_id,
                                 mk_subscriber *out) MK_MUST_USE;
mk_err mk_pgstore_subscriber_set_active(mk_pgstore *p, mk_bytes psk_id,
                                        bool active) MK_MUST_USE;
mk_err mk_pgstore_subscriber_remove(mk_pgstore *p, mk_bytes psk_id) MK_MUST_USE;
mk_err mk_pgstore_subscriber_list(mk_pgstore *p, mk_sqlstore_subscriber_cb cb,
                                  void *arg) MK_MUST_USE;
mk_err mk_pgstore_impu_owners(mk_pgstore *p, const char *impu,
                              size_t *count) MK_MUST_USE;
mk_err mk_pgstore_ticket_key_rotate(mk_pgstore *p, uint64_t now_unix,
                                    mk_ticket_key_info *created) MK_MUST_USE;
/* The wrapped bytes are overwritten with an empty value and the table is
 * vacuumed; PostgreSQL keeps no secure_delete, so the old tuple's bytes
 * (wrapped under the master key) may stay in free page space and in the
 * WAL until overwritten (doc/profile.md §13.4). */
mk_err mk_pgstore_ticket_key_retire(mk_pgstore *p, mk_bytes id) MK_MUST_USE;
mk_err mk_pgstore_ticket_key_list(mk_pgstore *p,
                                  mk_sqlstore_ticket_key_cb cb, void *arg) MK_MUST_USE;
mk_err mk_pgstore_records(mk_pgstore *p, uint64_t since_unix,
                          const char *subscriber, mk_sqlstore_record_cb cb,
                          void *arg) MK_MUST_USE;
mk_err mk_pgstore_records_prune(mk_pgstore *p, uint64_t before_unix,
                                size_t max, size_t *deleted) MK_MUST_USE;

/* kmsctl migrate-store: copy the subscribers (wrapped PSKs as they are),
 * ticket keys (wrapped as they are) and records of the SQLite store s
 * (opened with the same master key, its node's journal drained) into an
 * empty PostgreSQL store, in one transaction. No key is unwrapped: the
 * wrap binds the IV to (domain, PSK id / key id), which both stores
 * share. MK_E_EXISTS if the PostgreSQL store holds subscribers or
 * records already. */
typedef struct mk_pgstore_import_counts {
    size_t subscribers, ticket_keys, records;
} mk_pgstore_import_counts;
mk_err mk_pgstore_import_sqlite(mk_pgstore *p, mk_sqlstore *s,
                                mk_pgstore_import_counts *n) MK_MUST_USE;

#endif
