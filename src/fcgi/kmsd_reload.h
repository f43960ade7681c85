/* kmsd_reload.h - the settings kmsd takes from its configuration file that
 * can change while it serves, and SIGHUP: read the file again and apply
 * them without stopping.
 *
 * Live on SIGHUP (from the next request each worker takes): kms_id,
 * skew_window, max_ticket_lifetime, default_ticket_lifetime,
 * accepted_protocols, retry_after, log_level, mount, ticket_reuse_grace,
 * records_keep_days (the maintenance thread's next retention pass), and
 * log_file (opened again in any case, for log rotation; kmsd_log.h).
 * Kept until a restart, with a warning naming each one that changed:
 * store, master_key, listen, body_max (the workers' buffers are sized
 * from it), busy_timeout_ms (set on the store connections when they
 * open), node_state, replay_max, journal_max, kv_max and durable (the
 * node state is opened once, at start), and every GBA key (gba,
 * kms_fqdn, ua_protocol_id, ua_auth, ua_digest_algorithm,
 * ua_nonce_lifetime, gba_forking, zn_socket, zn_timeout_ms: kmsd's GBA
 * settings are made once, at start; doc/profile.md §10; zn_realm, zn_bsf
 * and zn_diameter_conf are kms-znd's, read at its start). A
 * file that does not load, or holds a value the HTTP binding refuses,
 * changes nothing and is logged. Requests in flight finish with the
 * settings they started with.
 *
 * Owns: that split of mk_config, and kmsd_live's construction.
 */
#ifndef MK_FCGI_KMSD_RELOAD_H
#define MK_FCGI_KMSD_RELOAD_H

#include "fcgi/kmsd_worker.h"
#include "front/config.h"
#include "util/err.h"

/* The live settings from a loaded configuration: HTTP binding (mount,
 * accepted protocols, body cap), the KMS core's settings, Retry-After.
 * MK_E_CONFIG (detail in mk_err_last) when the binding refuses a value. */
mk_err kmsd_live_from_config(const mk_config *cfg, kmsd_live *out) MK_MUST_USE;

/* Main thread, on SIGHUP: load `path` again and apply it to sh->live (for
 * the workers), to the log level and log file, and to *running (which then
 * describes what kmsd runs with). Logs one line saying what changed, and a
 * warning for each setting that needs a restart. */
void kmsd_reload(const char *path, mk_config *running, kmsd_shared *sh);

#endif
