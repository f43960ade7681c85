/* config.h - the KMS configuration file, read by kmsd and kmsctl.
 *
 * Owns: mk_config (every setting of doc/kms.conf.sample, with its default)
 * and its parser.
 *
 * Format: one `key = value` per line; blank lines and lines whose first
 * non-blank character is `#` are ignored; key and value are trimmed of
 * blanks; a `#` elsewhere is part of the value. An unknown key, a line
 * without `=`, a key given twice, or a value out of range is an error that
 * names the file and line. Relative paths (store, master_key) are taken
 * relative to the directory of the configuration file, so that the file
 * means the same whatever the working directory of the server.
 */
#ifndef MK_FRONT_CONFIG_H
#define MK_FRONT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kms/kms.h"
#include "util/err.h"

#define MK_CONFIG_PATH_MAX 4096
#define MK_CONFIG_PROTOCOLS_MAX 8
#define MK_CONFIG_PROTOCOL_LEN 16 /* "HTTP/1.1" */
#define MK_CONFIG_MOUNT_MAX 256
#define MK_CONFIG_LISTEN_MAX 256
#define MK_CONFIG_ERROR_MAX 512
#define MK_CONFIG_FQDN_MAX 254
#define MK_CONFIG_ZN_SOCKET_DEFAULT "/run/mikeykms/kms-znd.sock"

typedef enum mk_log_level {
    MK_LOG_ERROR = 0,
    MK_LOG_WARN = 1,
    MK_LOG_INFO = 2,
    MK_LOG_DEBUG = 3,
} mk_log_level;

/* A token bucket's settings: rate_milli thousandths of a request a
 * second, burst at once; 0 = no limit. */
typedef struct mk_rate_limit {
    uint32_t rate_milli, burst;
} mk_rate_limit;

typedef struct mk_config {
    char kms_id[MK_KMS_ID_MAX];         /* kms_id, default kms.example.org */
    char store[MK_CONFIG_PATH_MAX];     /* store (required): SQLite file */
    char master_key[MK_CONFIG_PATH_MAX]; /* master_key (required): key file */
    uint32_t skew_window;               /* seconds, default 300 */
    uint32_t max_ticket_lifetime;       /* seconds, default 86400 */
    uint32_t default_ticket_lifetime;   /* seconds, default 3600 */
    uint32_t ticket_reuse_grace;        /* seconds, default 30 (§9.37) */
    char accepted_protocols[MK_CONFIG_PROTOCOLS_MAX][MK_CONFIG_PROTOCOL_LEN];
    size_t n_accepted_protocols;        /* default 1: "HTTP/1.1" */
    uint32_t retry_after;               /* seconds, default 5 */
    size_t body_max;                    /* bytes, default 65536 */
    mk_log_level log_level;             /* default info */
    char mount[MK_CONFIG_MOUNT_MAX];    /* default /keymanagement */
    uint32_t busy_timeout_ms;           /* default 2000 */
    char listen[MK_CONFIG_LISTEN_MAX];  /* optional, "" when not set */
    bool has_listen;
    /* the node state (store/node.h) */
    char node_state[MK_CONFIG_PATH_MAX]; /* "" = STORE-node */
    uint64_t replay_max;                /* entries, default 4000000 */
    uint64_t journal_max;               /* records, default 1000000 */
    uint64_t kv_max;                    /* entries per node table, 100000 */
    bool durable;                       /* default no */
    char log_file[MK_CONFIG_PATH_MAX];  /* optional, "" = standard error */
    /* records older than this many days are deleted by `kmsctl records
     * prune` (doc/profile.md §9.39); 0 = kept for ever (default) */
    uint32_t records_keep_days;
    /* health and metrics (kmsd_status.h): the mount, "" = off */
    char status_mount[MK_CONFIG_MOUNT_MAX]; /* default /kms-status */
    /* the health check fails when the active ticket key is older (its
     * rotation period, seconds; default 30 days; 0 = not checked) */
    uint32_t ticket_key_max_age;
    /* rate limits (doc/profile.md §12.2), shared by every process of the
     * node: per client address (REMOTE_ADDR) before any work, per PSK
     * identity once V verified; default none */
    mk_rate_limit rate_address;
    mk_rate_limit rate_identity;
    /* GBA: the KMS as a NAF (doc/profile.md §10) */
    bool gba;                           /* default no */
    char kms_fqdn[MK_CONFIG_FQDN_MAX];  /* NAF FQDN; "" = kms_id */
    uint8_t ua_protocol_id[5];          /* default 01 00 00 00 06 */
    bool ua_digest;                     /* ua_auth = digest (default none) */
    int ua_digest_alg;                  /* MK_HASH_MD5 (default), _SHA256 */
    uint32_t ua_nonce_lifetime;         /* seconds, default 300 */
    bool gba_forking;                   /* default no */
    char zn_socket[MK_CONFIG_PATH_MAX]; /* kms-znd's socket */
    uint32_t zn_timeout_ms;             /* default 2000 */
    char zn_realm[MK_CONFIG_FQDN_MAX];  /* Destination-Realm of BIRs */
    char zn_bsf[MK_CONFIG_FQDN_MAX];    /* Destination-Host (the BSF) */
    char zn_diameter_conf[MK_CONFIG_PATH_MAX]; /* freeDiameter's file */
    /* After a failed mk_config_load: "FILE:LINE: reason" (or "FILE:
     * reason"). Empty otherwise. */
    char error[MK_CONFIG_ERROR_MAX];
} mk_config;

/* Every default; store and master_key empty. */
void mk_config_defaults(mk_config *c);

/* Defaults, then the file. MK_E_IO if it cannot be read, MK_E_CONFIG for
 * any error in it (out->error says where and what); store and master_key
 * must be set. */
mk_err mk_config_load(const char *path, mk_config *out) MK_MUST_USE;

/* The KMS core's part of the configuration. */
void mk_config_kms(const mk_config *c, mk_kms_config *out);

/* The node state's part (path "" = the store's default node file). */
struct mk_node_config;
void mk_config_node(const mk_config *c, struct mk_node_config *out);

/* The NAF FQDN (kms_fqdn, else kms_id). */
const char *mk_config_naf_fqdn(const mk_config *c);

/* True when proto (e.g. SERVER_PROTOCOL "HTTP/1.1") is accepted (exact,
 * case-sensitive match, as HTTP-version is, RFC 9110 §2.5). */
bool mk_config_protocol_ok(const mk_config *c, const char *proto);

/* "error", "warn", "info", "debug". */
const char *mk_log_level_name(mk_log_level l);

#endif
