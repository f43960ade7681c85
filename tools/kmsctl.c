/* kmsctl - operator CLI of the KMS store: create it, manage subscribers and
 * ticket keys, read and prune the records, prune the replay cache, read
 * kmsd's counters.
 *
 * Global options (before the command): --store PATH, --master-key PATH,
 * or --config FILE (store and master_key read from the KMS configuration
 * file; --store / --master-key given as well take precedence).
 */
#include "kmsctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "front/config.h"
#include "store/master_key.h"

static const char usage_text[] =
    "usage: kmsctl [--config FILE] [--store PATH] [--master-key PATH]\n"
    "              [--busy-timeout MS] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  init                      create the store and, if missing, the master\n"
    "                            key file (mode 0600; never overwritten) and\n"
    "                            the first ticket key; --store may be a\n"
    "                            postgresql:// URI (doc/profile.md §13)\n"
    "  migrate                   bring an existing store's schema forward\n"
    "  migrate-store --from SQLITE_FILE --to postgresql://...\n"
    "                            copy a SQLite store (subscribers, ticket\n"
    "                            keys, records; keys stay wrapped) into a\n"
    "                            new PostgreSQL database\n"
    "  subscriber add --psk-id ID (--psk-file FILE | --psk - |\n"
    "                 --generate [--show-psk])\n"
    "                 --impu URI [--impu URI...] [--allow-responder PATTERN...]\n"
    "                 [--max-lifetime SEC] [--forking yes|no] [--reuse yes|no]\n"
    "                 [--initiator-keys yes|no] [--responder-keys yes|no]\n"
    "                 [--disabled]\n"
    "  subscriber list\n"
    "  subscriber show ID [--show-psk]\n"
    "  subscriber disable|enable|remove ID\n"
    "  ticketkey rotate          new active key; the old one resolves only\n"
    "  ticketkey list\n"
    "  ticketkey retire ID       destroy a resolve-only key\n"
    "  records [--since UNIX_TIME] [--subscriber ID]   JSON lines (moves\n"
    "                            the node's journal into the store first)\n"
    "  records salvage FILE      move the records of a node file that was\n"
    "                            set aside after an unclean restart\n"
    "  records prune [--before UNIX_TIME]   delete older records (default:\n"
    "                            records_keep_days of --config)\n"
    "  replay prune              delete dead replay-cache entries\n"
    "  replay status             entries, bounds, mark, journal, node id\n"
    "  stats                     kmsd's counters of this machine (requests,\n"
    "                            statuses, unauthenticated refusals)\n"
    "\n"
    "exit status: 0 ok, 1 operational error, 2 usage error\n";

int kc_usage(const char *fmt, ...)
{
    va_list ap;
    fputs("kmsctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(kmsctl --help for usage)\n", stderr);
    return KC_USAGE;
}

int kc_fail(kmsctl *k, mk_err e, const char *context)
{
    const mk_err_detail *d = mk_err_last();
    const char *what = d->code == e && d->what ? d->what : mk_err_name(e);
    const char *sql = k != NULL && k->store != NULL
                          ? mk_sqlstore_errmsg(k->store)
                      : k != NULL && k->pg != NULL ? mk_pgstore_errmsg(k->pg)
                                                   : "";
    if ((e == MK_E_UNAVAILABLE || e == MK_E_INTERNAL) && sql[0] != '\0')
        fprintf(stderr, "kmsctl: %s: %s (%s)\n", context, what, sql);
    else
        fprintf(stderr, "kmsctl: %s: %s\n", context, what);
    return KC_FAIL;
}

int kc_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        kc_usage("%s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int kc_flag(char **argv, int i, const char *name)
{
    return strcmp(argv[i], name) == 0;
}

bool kc_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

void kc_psk_id_text(const uint8_t *id, size_t n, char *out, size_t cap)
{
    bool printable = n > 0;
    for (size_t i = 0; i < n; i++)
        if (id[i] <= 0x20 || id[i] >= 0x7f)
            printable = false;
    size_t o = 0;
    if (printable && n < cap) {
        memcpy(out, id, n);
        out[n] = '\0';
        return;
    }
    static const char hex[] = "0123456789abcdef";
    if (cap < 3) {
        if (cap > 0)
            out[0] = '\0';
        return;
    }
    out[o++] = '0';
    out[o++] = 'x';
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        out[o++] = hex[id[i] >> 4];
        out[o++] = hex[id[i] & 15];
    }
    out[o] = '\0';
}

const char *kc_tk_state_name(mk_tk_state s)
{
    switch (s) {
    case MK_TK_ACTIVE: return "active";
    case MK_TK_RESOLVE_ONLY: return "resolve_only";
    case MK_TK_RETIRED: return "retired";
    }
    return "unknown";
}

static int need_paths(kmsctl *k)
{
    if (k->store_path == NULL)
        return kc_usage("no store: give --store PATH or --config FILE");
    if (mk_pgstore_is_uri(k->store_path) && !mk_pgstore_built()) {
        fprintf(stderr, "kmsctl: %s\n", MK_PGSTORE_NOT_BUILT);
        return KC_FAIL;
    }
    if (k->key_path == NULL)
        return kc_usage(
            "no master key: give --master-key PATH or --config FILE");
    return KC_OK;
}

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* The store operations on whichever store is open (kmsctl.h). */
mk_err kc_subscriber_add(kmsctl *k, const mk_subscriber *sub)
{
    return k->pg != NULL ? mk_pgstore_subscriber_add(k->pg, sub)
                         : mk_sqlstore_subscriber_add(k->store, sub);
}

mk_err kc_subscriber_get(kmsctl *k, mk_bytes psk_id, mk_subscriber *out)
{
    return k->pg != NULL ? mk_pgstore_subscriber_get(k->pg, psk_id, out)
                         : mk_sqlstore_subscriber_get(k->store, psk_id, out);
}

mk_err kc_subscriber_set_active(kmsctl *k, mk_bytes psk_id, bool active)
{
    return k->pg != NULL
               ? mk_pgstore_subscriber_set_active(k->pg, psk_id, active)
               : mk_sqlstore_subscriber_set_active(k->store, psk_id, active);
}

mk_err kc_subscriber_remove(kmsctl *k, mk_bytes psk_id)
{
    return k->pg != NULL ? mk_pgstore_subscriber_remove(k->pg, psk_id)
                         : mk_sqlstore_subscriber_remove(k->store, psk_id);
}

mk_err kc_subscriber_list(kmsctl *k, mk_sqlstore_subscriber_cb cb, void *arg)
{
    return k->pg != NULL ? mk_pgstore_subscriber_list(k->pg, cb, arg)
                         : mk_sqlstore_subscriber_list(k->store, cb, arg);
}

mk_err kc_impu_owners(kmsctl *k, const char *impu, size_t *count)
{
    return k->pg != NULL ? mk_pgstore_impu_owners(k->pg, impu, count)
                         : mk_sqlstore_impu_owners(k->store, impu, count);
}

mk_err kc_ticket_key_rotate(kmsctl *k, uint64_t now_unix,
                            mk_ticket_key_info *created)
{
    return k->pg != NULL
               ? mk_pgstore_ticket_key_rotate(k->pg, now_unix, created)
               : mk_sqlstore_ticket_key_rotate(k->store, now_unix, created);
}

mk_err kc_ticket_key_retire(kmsctl *k, mk_bytes id)
{
    return k->pg != NULL ? mk_pgstore_ticket_key_retire(k->pg, id)
                         : mk_sqlstore_ticket_key_retire(k->store, id);
}

mk_err kc_ticket_key_list(kmsctl *k, mk_sqlstore_ticket_key_cb cb, void *arg)
{
    return k->pg != NULL ? mk_pgstore_ticket_key_list(k->pg, cb, arg)
                         : mk_sqlstore_ticket_key_list(k->store, cb, arg);
}

mk_err kc_records(kmsctl *k, uint64_t since_unix, const char *subscriber,
                  mk_sqlstore_record_cb cb, void *arg)
{
    return k->pg != NULL
               ? mk_pgstore_records(k->pg, since_unix, subscriber, cb, arg)
               : mk_sqlstore_records(k->store, since_unix, subscriber, cb,
                                     arg);
}

mk_err kc_records_prune(kmsctl *k, uint64_t before_unix, size_t max,
                        size_t *deleted)
{
    return k->pg != NULL
               ? mk_pgstore_records_prune(k->pg, before_unix, max, deleted)
               : mk_sqlstore_records_prune(k->store, before_unix, max,
                                           deleted);
}

/* The master key file, or a message and false. */
static bool load_key(kmsctl *k, mk_key *mkey)
{
    mk_err e = mk_master_key_load(k->key_path, mkey);
    if (e == MK_OK)
        return true;
    fprintf(stderr, "kmsctl: %s: %s\n", k->key_path,
            mk_err_last()->what ? mk_err_last()->what : mk_err_name(e));
    return false;
}

/* A PostgreSQL store: open (init: create or migrate), and the node of
 * --config's node_state when there is one (kmsctl stats). */
static int open_pg(kmsctl *k, const mk_key *mkey, bool init)
{
    mk_pgstore_opts o = {.timeout_ms = k->busy_timeout_ms,
                         .durable = k->node_cfg != NULL && k->node_cfg->durable,
                         .init = init};
    mk_err e = mk_pgstore_open(k->store_path, mk_key_bytes(mkey), &o, &k->pg);
    if (e != MK_OK) {
        const char *why = mk_pgstore_errmsg(NULL);
        fprintf(stderr, "kmsctl: %s: %s%s%s%s\n", k->store_path,
                mk_err_last()->what ? mk_err_last()->what : mk_err_name(e),
                why[0] ? " (" : "", why, why[0] ? ")" : "");
        return KC_FAIL;
    }
    if (k->node == NULL && k->node_cfg != NULL &&
        k->node_cfg->path[0] != '\0') {
        e = mk_node_open(k->node_cfg, MK_NODE_CREATE_FRESH, &k->node);
        if (e != MK_OK)
            return kc_fail(k, e, "node state");
        k->own_node = true;
    }
    return KC_OK;
}

static int open_node(kmsctl *k)
{
    mk_err e = mk_sqlstore_node_open(k->store, k->node_cfg, &k->node);
    /* records drained here reach the store as durably as the node holds
     * them (store.h) */
    if (e == MK_OK && k->node_cfg != NULL && k->node_cfg->durable)
        e = mk_sqlstore_set_durable(k->store, true);
    return e == MK_OK ? KC_OK : kc_fail(k, e, "node state");
}

int kc_open(kmsctl *k)
{
    mk_key mkey = {0};
    int rc = need_paths(k);
    if (rc != KC_OK)
        return rc;
    if (mk_pgstore_is_uri(k->store_path)) {
        if (!load_key(k, &mkey))
            return KC_FAIL;
        rc = open_pg(k, &mkey, false);
        mk_key_wipe(&mkey);
        return rc;
    }
    /* the more useful message first when neither exists yet */
    if (!file_exists(k->store_path)) {
        fprintf(stderr, "kmsctl: %s: store file does not exist (run kmsctl "
                        "init)\n", k->store_path);
        return KC_FAIL;
    }
    mk_err e = mk_master_key_load(k->key_path, &mkey);
    if (e != MK_OK) {
        fprintf(stderr, "kmsctl: %s: %s\n", k->key_path,
                mk_err_last()->what ? mk_err_last()->what : mk_err_name(e));
        return KC_FAIL;
    }
    e = mk_sqlstore_open_existing(k->store_path, mk_key_bytes(&mkey),
                                  k->busy_timeout_ms, &k->store);
    mk_key_wipe(&mkey);
    if (e != MK_OK)
        return kc_fail(k, e, k->store_path);
    return open_node(k);
}

static bool file_nonempty(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && st.st_size > 0;
}

static int kc_cmd_init(kmsctl *k, int argc, char **argv)
{
    mk_key mkey = {0};
    mk_err e;
    int rc = need_paths(k);
    if (rc != KC_OK)
        return rc;
    if (argc > 1)
        return kc_usage("init takes no arguments ('%s')", argv[1]);

    /* the store and its WAL hold the records: owner only by default */
    umask(077);
    if (file_exists(k->key_path)) {
        e = mk_master_key_load(k->key_path, &mkey);
        if (e != MK_OK) {
            fprintf(stderr, "kmsctl: %s: %s\n", k->key_path,
                    mk_err_last()->what ? mk_err_last()->what
                                        : mk_err_name(e));
            return KC_FAIL;
        }
        fprintf(stderr, "kmsctl: using the existing master key %s\n",
                k->key_path);
    } else {
        /* A new key cannot open a store wrapped under another one (a
         * PostgreSQL store made under another key refuses it at open:
         * its check value does not unwrap). */
        if (!mk_pgstore_is_uri(k->store_path) &&
            file_nonempty(k->store_path)) {
            fprintf(stderr,
                    "kmsctl: %s exists but the master key %s does not; "
                    "refusing to create a new key for an existing store\n",
                    k->store_path, k->key_path);
            return KC_FAIL;
        }
        e = mk_master_key_create(k->key_path, &mkey);
        if (e != MK_OK) {
            fprintf(stderr, "kmsctl: %s: %s (%s)\n", k->key_path,
                    mk_err_last()->what ? mk_err_last()->what
                                        : mk_err_name(e),
                    strerror(errno));
            return KC_FAIL;
        }
        fprintf(stderr, "kmsctl: created the master key %s (mode 0600)\n",
                k->key_path);
    }
    bool pg = mk_pgstore_is_uri(k->store_path);
    if (pg) {
        rc = open_pg(k, &mkey, true);
        mk_key_wipe(&mkey);
        if (rc != KC_OK)
            return rc;
    } else {
        e = mk_sqlstore_open(k->store_path, mk_key_bytes(&mkey),
                             k->busy_timeout_ms, &k->store);
        mk_key_wipe(&mkey);
        if (e != MK_OK)
            return kc_fail(k, e, k->store_path);
        if ((rc = open_node(k)) != KC_OK)
            return rc;
    }

    /* a store that can serve at once: one active ticket key */
    mk_kms_store iface = pg ? mk_pgstore_interface(k->pg)
                            : mk_sqlstore_interface(k->store);
    mk_ticket_key tk;
    e = iface.ticket_key_active(iface.ctx, &tk);
    mk_key_wipe(&tk.key);
    if (e == MK_E_NOT_FOUND) {
        mk_ticket_key_info info;
        e = kc_ticket_key_rotate(k, (uint64_t)time(NULL), &info);
        if (e != MK_OK)
            return kc_fail(k, e, "creating the first ticket key");
        printf("created ticket key %.*s (active)\n", (int)info.id_len,
               (const char *)info.id);
    } else if (e != MK_OK) {
        return kc_fail(k, e, k->store_path);
    }
    printf("store %s ready (schema version %d)\n", k->store_path,
           pg ? MK_PGSTORE_SCHEMA_VERSION : MK_SQLSTORE_SCHEMA_VERSION);
    return KC_OK;
}

/* `migrate`: an existing store's schema brought forward (init does it
 * too, and makes what is missing; this one makes nothing new). */
static int kc_cmd_migrate(kmsctl *k, int argc, char **argv)
{
    mk_key mkey = {0};
    int rc = need_paths(k);
    if (rc != KC_OK)
        return rc;
    if (argc > 1)
        return kc_usage("migrate takes no arguments ('%s')", argv[1]);
    bool pg = mk_pgstore_is_uri(k->store_path);
    if (!pg && !file_nonempty(k->store_path)) {
        fprintf(stderr, "kmsctl: %s: store file does not exist (run kmsctl "
                        "init)\n", k->store_path);
        return KC_FAIL;
    }
    if (!load_key(k, &mkey))
        return KC_FAIL;
    if (pg) {
        rc = open_pg(k, &mkey, true);
    } else {
        mk_err e = mk_sqlstore_open(k->store_path, mk_key_bytes(&mkey),
                                    k->busy_timeout_ms, &k->store);
        rc = e == MK_OK ? KC_OK : kc_fail(k, e, k->store_path);
    }
    mk_key_wipe(&mkey);
    if (rc == KC_OK)
        printf("store %s at schema version %d\n", k->store_path,
               pg ? MK_PGSTORE_SCHEMA_VERSION : MK_SQLSTORE_SCHEMA_VERSION);
    return rc;
}

/* `migrate-store --from SQLITE --to URI` (pgstore.h): the SQLite store
 * opened with the master key (which proves the key is the store's), its
 * node's journal drained so that every record is in the file, then every
 * row copied with its keys wrapped as they are. */
static int kc_cmd_migrate_store(kmsctl *k, int argc, char **argv)
{
    const char *from = NULL, *to = NULL, *val;
    mk_key mkey = {0};
    int m, rc;
    for (int i = 1; i < argc; i++) {
        if ((m = kc_opt(argc, argv, &i, "--from", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            from = val;
        } else if ((m = kc_opt(argc, argv, &i, "--to", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            to = val;
        } else {
            return kc_usage("migrate-store: unknown argument '%s'", argv[i]);
        }
    }
    if (from == NULL || to == NULL || mk_pgstore_is_uri(from) ||
        !mk_pgstore_is_uri(to))
        return kc_usage("migrate-store --from SQLITE_FILE --to "
                        "postgresql://...");
    if (!mk_pgstore_built()) {
        fprintf(stderr, "kmsctl: %s\n", MK_PGSTORE_NOT_BUILT);
        return KC_FAIL;
    }
    if (k->key_path == NULL)
        return kc_usage(
            "no master key: give --master-key PATH or --config FILE");
    if (!load_key(k, &mkey))
        return KC_FAIL;
    k->store_path = from;
    mk_err e = mk_sqlstore_open_existing(from, mk_key_bytes(&mkey),
                                         k->busy_timeout_ms, &k->store);
    if (e != MK_OK) {
        mk_key_wipe(&mkey);
        return kc_fail(k, e, from);
    }
    char node_path[MK_NODE_PATH_MAX];
    struct stat sb;
    if (mk_node_default_path(from, node_path, sizeof node_path) == MK_OK &&
        stat(node_path, &sb) == 0) {
        size_t moved = 0;
        if ((rc = open_node(k)) != KC_OK) {
            mk_key_wipe(&mkey);
            return rc;
        }
        e = mk_sqlstore_drain(k->store, k->node, k->busy_timeout_ms,
                              SIZE_MAX, &moved);
        if (e != MK_OK) {
            mk_key_wipe(&mkey);
            return kc_fail(k, e, "moving the node's journal");
        }
    }
    k->store_path = to;
    rc = open_pg(k, &mkey, true);
    mk_key_wipe(&mkey);
    if (rc != KC_OK)
        return rc;
    mk_pgstore_import_counts n;
    e = mk_pgstore_import_sqlite(k->pg, k->store, &n);
    if (e != MK_OK)
        return kc_fail(k, e, "migrate-store");
    printf("copied %zu subscribers, %zu ticket keys, %zu records from %s "
           "to %s\n", n.subscribers, n.ticket_keys, n.records, from, to);
    return KC_OK;
}

static int load_config(kmsctl *k, const char *path)
{
    static mk_config cfg; /* strings stay referenced by k */
    static mk_node_config node;
    mk_err e = mk_config_load(path, &cfg);
    if (e != MK_OK) {
        fprintf(stderr, "kmsctl: %s\n", cfg.error);
        return KC_FAIL;
    }
    if (k->store_path == NULL)
        k->store_path = cfg.store;
    if (k->key_path == NULL)
        k->key_path = cfg.master_key;
    k->busy_timeout_ms = cfg.busy_timeout_ms;
    k->records_keep_days = cfg.records_keep_days;
    mk_config_node(&cfg, &node);
    k->node_cfg = &node;
    return KC_OK;
}

int main(int argc, char **argv)
{
    kmsctl k = {.busy_timeout_ms = 2000};
    const char *config = NULL, *val = NULL, *busy = NULL;
    int i = 1, m;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (kc_flag(argv, i, "--help")) {
            fputs(usage_text, stdout);
            return KC_OK;
        }
        if ((m = kc_opt(argc, argv, &i, "--store", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            k.store_path = val;
        } else if ((m = kc_opt(argc, argv, &i, "--master-key", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            k.key_path = val;
        } else if ((m = kc_opt(argc, argv, &i, "--config", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            config = val;
        } else if ((m = kc_opt(argc, argv, &i, "--busy-timeout", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            busy = val;
        } else {
            return kc_usage("unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc)
        return kc_usage("no command given");
    if (config != NULL && load_config(&k, config) != KC_OK)
        return KC_FAIL;
    if (busy != NULL) {
        uint64_t ms;
        if (!kc_parse_u64(busy, 600000, &ms))
            return kc_usage("--busy-timeout: '%s' is not 0..600000", busy);
        k.busy_timeout_ms = (uint32_t)ms;
    }

    const char *cmd = argv[i];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    int rc;
    if (strcmp(cmd, "init") == 0)
        rc = kc_cmd_init(&k, sub_argc, sub_argv);
    else if (strcmp(cmd, "migrate") == 0)
        rc = kc_cmd_migrate(&k, sub_argc, sub_argv);
    else if (strcmp(cmd, "migrate-store") == 0)
        rc = kc_cmd_migrate_store(&k, sub_argc, sub_argv);
    else if (strcmp(cmd, "subscriber") == 0)
        rc = kc_cmd_subscriber(&k, sub_argc, sub_argv);
    else if (strcmp(cmd, "ticketkey") == 0)
        rc = kc_cmd_ticketkey(&k, sub_argc, sub_argv);
    else if (strcmp(cmd, "records") == 0)
        rc = kc_cmd_records(&k, sub_argc, sub_argv);
    else if (strcmp(cmd, "replay") == 0)
        rc = kc_cmd_replay(&k, sub_argc, sub_argv);
    else if (strcmp(cmd, "stats") == 0)
        rc = kc_cmd_stats(&k, sub_argc, sub_argv);
    else if (strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        rc = KC_OK;
    } else
        rc = kc_usage("unknown command '%s'", cmd);
    mk_sqlstore_close(k.store);
    mk_pgstore_close(k.pg);
    if (k.own_node)
        mk_node_close(k.node);
    if (rc == KC_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "kmsctl: cannot write the output\n");
        rc = KC_FAIL;
    }
    return rc;
}
