/* kmsd_maint.h - kmsd's node state and its maintenance thread.
 *
 * Owns: the process's mk_node (store/node.h: the replay cache and record
 * journal every worker commits its answers to) and one thread with a store
 * connection of its own that, every KMSD_MAINT_PERIOD_MS, runs
 * mk_sqlstore_maintain: moves the records from the node's journal into the
 * store's records table (one process of the machine at a time), publishes
 * the store's generation, reclaims dead replay entries, and deletes the
 * records past their retention (records_keep_days). A store that is
 * busy or down is retried at the next period; its failures are logged
 * with their cause, once per cause and KMSD_LOG_REPEAT_S (kmsd_log.h).
 *
 * The store is checked when the thread opens it (at start, and again
 * after it changed): a file that is not a store fit to serve (missing,
 * empty, damaged by quick_check's judgement within KMSD_CHECK_BUDGET_MS,
 * another schema) stops kmsd at start, and later makes every answer 503
 * until it is replaced by one that is. Every period the thread also
 * checks that the store's path still names the file it opened; when not
 * (removed, renamed, replaced under it: doc/profile.md §9.43) the store is
 * unusable until a fit one is at the path, and the workers drop their
 * connections to the old file (kmsd_maint_store).
 */
#ifndef MK_FCGI_KMSD_MAINT_H
#define MK_FCGI_KMSD_MAINT_H

#include <stdbool.h>

#include "crypto/crypto.h"
#include "store/node.h"
#include "util/err.h"

#define KMSD_MAINT_PERIOD_MS 200
/* quick_check at start is stopped after this long (store.h); the tables
 * the answers read are checked whole even so */
#define KMSD_CHECK_BUDGET_MS 500

typedef struct kmsd_maint kmsd_maint;

/* Open the node (cfg; path "" = the store's default node file) and start
 * the thread. The node is opened with the restart rule when its file is
 * missing and the store has answered before, or cannot be asked (busy).
 * *node is the process's node for the workers (valid until stop). */
mk_err kmsd_maint_start(const char *store_path, mk_bytes master_key,
                        uint32_t busy_timeout_ms, const mk_node_config *cfg,
                        kmsd_maint **out, mk_node **node) MK_MUST_USE;
/* Delete the records older than keep_days (0: keep them all, the
 * default) from the store: a pass at the next round and then once a
 * minute, in bounded batches (doc/profile.md §9.39). Thread-safe. */
void kmsd_maint_set_retention(kmsd_maint *m, uint32_t keep_days);
/* For a worker before it uses the store: false when no answer may use it
 * now (answer 503 at once); *epoch moves when the file at the store's
 * path changed: a worker whose connection is of another epoch closes it
 * first. m NULL (a check of the configuration): true, epoch 0. */
bool kmsd_maint_store(kmsd_maint *m, unsigned *epoch);
/* One more round now and stop the thread; closes the node. NULL is fine. */
void kmsd_maint_stop(kmsd_maint *m);

#endif
