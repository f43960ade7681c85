/* kmsctl.h - what the files of the kmsctl tool share (not a library API).
 *
 * Exit codes: KC_OK 0, KC_FAIL 1 (operational error), KC_USAGE 2 (bad
 * command line). Messages go to stderr, results to stdout.
 */
#ifndef MK_TOOLS_KMSCTL_H
#define MK_TOOLS_KMSCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/pgstore.h"
#include "store/store.h"

enum { KC_OK = 0, KC_FAIL = 1, KC_USAGE = 2 };

typedef struct kmsctl {
    const char *store_path;
    const char *key_path;
    uint32_t busy_timeout_ms;
    /* the node state: from --config, else NULL (the store's default node
     * file, sizes adopted from it) */
    const mk_node_config *node_cfg;
    uint32_t records_keep_days; /* from --config; 0: not set */
    mk_sqlstore *store; /* opened by kc_open */
    mk_pgstore *pg;     /* ... instead, for a postgresql:// store */
    /* opened with it (the store's reference); with a PostgreSQL store
     * only when --config names node_state (kmsctl stats) */
    mk_node *node;
    bool own_node;      /* node is kmsctl's reference (close it) */
} kmsctl;

/* "kmsctl: <message>" and a hint at --help; returns KC_USAGE. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
int kc_usage(const char *fmt, ...);

/* "kmsctl: <context>: <reason>" for an mk_err (with SQLite's message when
 * the store failed); returns KC_FAIL. */
int kc_fail(kmsctl *k, mk_err e, const char *context);

/* Open the existing store with the master key, and its node state (so
 * that operator changes reach every kmsd at its next answer); KC_OK or an
 * exit code. */
int kc_open(kmsctl *k);

/* Option matching: 0 when argv[*i] is not `name`; 1 when it is, with
 * *val set (from "--name VALUE" or "--name=VALUE", *i moved past it);
 * -1 when the value is missing (a usage error was printed). */
int kc_opt(int argc, char **argv, int *i, const char *name, const char **val);
/* 1 when argv[*i] is the flag `name` (no value), else 0. */
int kc_flag(char **argv, int i, const char *name);

/* Decimal unsigned number in [0, max]; false if not one. */
bool kc_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* PSK id bytes as text: printable ASCII as is, else "0x" + hex. */
void kc_psk_id_text(const uint8_t *id, size_t n, char *out, size_t cap);

const char *kc_tk_state_name(mk_tk_state s);

/* The store operations on whichever store kc_open opened (store.h,
 * pgstore.h). */
mk_err kc_subscriber_add(kmsctl *k, const mk_subscriber *sub) MK_MUST_USE;
mk_err kc_subscriber_get(kmsctl *k, mk_bytes psk_id, mk_subscriber *out) MK_MUST_USE;
mk_err kc_subscriber_set_active(kmsctl *k, mk_bytes psk_id, bool active) MK_MUST_USE;
mk_err kc_subscriber_remove(kmsctl *k, mk_bytes psk_id) MK_MUST_USE;
mk_err kc_subscriber_list(kmsctl *k, mk_sqlstore_subscriber_cb cb, void *arg) MK_MUST_USE;
mk_err kc_impu_owners(kmsctl *k, const char *impu, size_t *count) MK_MUST_USE;
mk_err kc_ticket_key_rotate(kmsctl *k, uint64_t now_unix,
                            mk_ticket_key_info *created) MK_MUST_USE;
mk_err kc_ticket_key_retire(kmsctl *k, mk_bytes id) MK_MUST_USE;
mk_err kc_ticket_key_list(kmsctl *k, mk_sqlstore_ticket_key_cb cb, void *arg) MK_MUST_USE;
mk_err kc_records(kmsctl *k, uint64_t since_unix, const char *subscriber,
                  mk_sqlstore_record_cb cb, void *arg) MK_MUST_USE;
mk_err kc_records_prune(kmsctl *k, uint64_t before_unix, size_t max,
                        size_t *deleted) MK_MUST_USE;

int kc_cmd_subscriber(kmsctl *k, int argc, char **argv);
int kc_cmd_ticketkey(kmsctl *k, int argc, char **argv);
int kc_cmd_records(kmsctl *k, int argc, char **argv);
int kc_cmd_replay(kmsctl *k, int argc, char **argv);
int kc_cmd_stats(kmsctl *k, int argc, char **argv);

#endif
