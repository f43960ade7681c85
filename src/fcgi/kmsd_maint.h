/* kmsd_maint.h - kmsd's node state and its maintenance thread.
 *
 * Owns: the process's mk_node (store/node.h: the replay cache and record
 * journal every worker commits its answers to) and one thread with a store
 * connection of its own that, every KMSD_MAINT_PERIOD_MS, runs
 * mk_sqlstore_maintain: moves the records from the node's journal into the
 * store's records table (one process of the machine at a time), publishes
 * the store's generation, reclaims dead replay entries. A store that is
 * busy or down is retried at the next period; its failures are logged at
 * most once a minute, with the reason.
 */
#ifndef MK_FCGI_KMSD_MAINT_H
#define MK_FCGI_KMSD_MAINT_H

#include "crypto/crypto.h"
#include "store/node.h"
#include "util/err.h"

#define KMSD_MAINT_PERIOD_MS 200

typedef struct kmsd_maint kmsd_maint;

/* Open the node (cfg; path "" = the store's default node file) and start
 * the thread. The node is opened with the restart rule when its file is
 * missing and the store has answered before, or cannot be asked (busy).
 * *node is the process's node for the workers (valid until stop). */
mk_err kmsd_maint_start(const char *store_path, mk_bytes master_key,
                        uint32_t busy_timeout_ms, const mk_node_config *cfg,
                        kmsd_maint **out, mk_node **node);
/* One more round now and stop the thread; closes the node. NULL is fine. */
void kmsd_maint_stop(kmsd_maint *m);

#endif
