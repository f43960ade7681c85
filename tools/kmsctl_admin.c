/* kmsctl_admin.c - `kmsctl ticketkey rotate|list|retire`, `kmsctl records`
 * (JSON lines, profile §8; `records prune`, §9.39), `kmsctl replay
 * prune|status` and `kmsctl stats`. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/kmsd_stats.h"
#include "kms/kms.h"
#include "kmsctl.h"
#include "tool_json.h"

#define PRUNE_BATCH 1000

/* --- ticket keys --- */

static void utc(uint64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "%llu", (unsigned long long)t);
}

static mk_err list_tk(void *arg, const mk_ticket_key_info *t)
{
    char when[32];
    (void)arg;
    utc(t->created_unix, when, sizeof when);
    printf("%.*s\t%s\tcreated %s\n", (int)t->id_len, (const char *)t->id,
           kc_tk_state_name(t->state), when);
    return MK_OK;
}

int kc_cmd_ticketkey(kmsctl *k, int argc, char **argv)
{
    if (argc < 2)
        return kc_usage("ticketkey: rotate, list or retire ID");
    const char *op = argv[1];
    int rc;
    if (strcmp(op, "rotate") == 0 || strcmp(op, "list") == 0) {
        if (argc != 2)
            return kc_usage("ticketkey %s takes no arguments", op);
        if ((rc = kc_open(k)) != KC_OK)
            return rc;
        if (op[0] == 'l') {
            mk_err e = kc_ticket_key_list(k, list_tk, NULL);
            return e == MK_OK ? KC_OK : kc_fail(k, e, "ticketkey list");
        }
        mk_ticket_key_info t;
        mk_err e = kc_ticket_key_rotate(k,
                                                 (uint64_t)time(NULL), &t);
        if (e != MK_OK)
            return kc_fail(k, e, "ticketkey rotate");
        printf("%.*s is the active ticket key; the previous one now only "
               "resolves\n",
               (int)t.id_len, (const char *)t.id);
        return KC_OK;
    }
    if (strcmp(op, "retire") == 0) {
        if (argc != 3)
            return kc_usage("ticketkey retire needs exactly one ID");
        if ((rc = kc_open(k)) != KC_OK)
            return rc;
        mk_err e = kc_ticket_key_retire(k, MK_BYTES(argv[2], strlen(argv[2])));
        if (e != MK_OK)
            return kc_fail(k, e, argv[2]);
        printf("%s retired (key destroyed)\n", argv[2]);
        return KC_OK;
    }
    return kc_usage("ticketkey: unknown operation '%s'", op);
}

/* --- records --- */

/* A JSON string (tool_json.h). Records hold what the core wrote; bytes
 * outside printable ASCII are escaped so every line is valid JSON
 * whatever they are. */
static void json_str(const char *s)
{
    tool_json_str((const uint8_t *)s, strlen(s));
}

/* The responders: the JSON array of strings the records hold (doc/
 * profile.md §9.35), printed as it is when it has that form (strings of
 * printable ASCII without quote or backslash); anything else, say a row
 * edited by hand, as a one-element array of its text. */
static bool responders_ok(const char *s)
{
    if (*s++ != '[')
        return false;
    if (*s == ']')
        return s[1] == '\0';
    for (;;) {
        if (*s++ != '"')
            return false;
        while (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\')
            s++;
        if (*s++ != '"')
            return false;
        if (*s == ']')
            return s[1] == '\0';
        if (*s++ != ',')
            return false;
    }
}

static void json_responders(const char *s)
{
    if (responders_ok(s)) {
        fputs(s, stdout);
    } else if (*s == '\0') {
        fputs("[]", stdout);
    } else {
        putchar('[');
        json_str(s);
        putchar(']');
    }
}

static mk_err print_record(void *arg, const mk_record *r)
{
    (void)arg;
    printf("{\"time_unix\":%llu,\"service\":",
           (unsigned long long)r->time_unix);
    if (r->service == MK_SERVICE_TICKET_REQUEST)
        json_str("ticketrequest");
    else if (r->service == MK_SERVICE_TICKET_RESOLVE)
        json_str("ticketresolve");
    else
        printf("%d", r->service);
    printf(",\"subscriber\":");
    json_str(r->subscriber);
    printf(",\"initiator\":");
    json_str(r->initiator);
    printf(",\"responders\":");
    json_responders(r->responder);
    printf(",\"ticket_id\":");
    json_str(r->ticket_id);
    printf(",\"valid_from\":%llu,\"valid_to\":%llu,\"spis\":",
           (unsigned long long)r->valid_from, (unsigned long long)r->valid_to);
    json_str(r->spis);
    printf(",\"outcome\":");
    json_str(r->outcome);
    printf("}\n");
    return ferror(stdout) ? mk_err_raise(MK_E_IO, -1, 0, "cannot write")
                          : MK_OK;
}

/* `records salvage FILE`: a node file set aside by the restart rule
 * (store/node.h) may hold records its drain had not moved yet; move them,
 * exactly once (the store keeps a drained mark per node id). */
static int records_salvage(kmsctl *k, const char *file)
{
    mk_node_config c;
    mk_node *old = NULL;
    size_t moved = 0;
    int rc = kc_open(k);
    if (rc != KC_OK)
        return rc;
    if (k->pg != NULL)
        return kc_usage("records salvage: a PostgreSQL store has no node "
                        "journal (the answers write their records)");
    mk_node_config_defaults(&c);
    c.replay_max = c.journal_max = c.kv_max = 0; /* the file's own map */
    if (strlen(file) >= sizeof c.path)
        return kc_usage("records salvage: path too long");
    strcpy(c.path, file); /* length checked above */
    mk_err e = mk_node_open(&c, MK_NODE_OPEN_AS_IS, &old);
    if (e != MK_OK)
        return kc_fail(k, e, file);
    e = mk_sqlstore_drain(k->store, old, k->busy_timeout_ms, SIZE_MAX, &moved);
    mk_node_close(old);
    if (e != MK_OK)
        return kc_fail(k, e, "records salvage");
    printf("moved %zu records of %s into the store\n", moved, file);
    return KC_OK;
}

/* kc_opt for a UNIX time (seconds, at most INT64_MAX): 1 with *t set, 0
 * when argv[*i] is not `name`, -1 after a usage error. */
static int opt_time(int argc, char **argv, int *i, const char *name,
                    uint64_t *t)
{
    const char *val;
    int m = kc_opt(argc, argv, i, name, &val);
    if (m <= 0)
        return m;
    if (!kc_parse_u64(val, INT64_MAX, t)) {
        kc_usage("%s: '%s' is not a UNIX time", name, val);
        return -1;
    }
    return 1;
}

/* records prune [--before T]: the oldest first, in batches (store.h) */
static int records_prune(kmsctl *k, int argc, char **argv)
{
    uint64_t before = 0;
    bool have = false;
    int m, rc;
    for (int i = 1; i < argc; i++) {
        if ((m = opt_time(argc, argv, &i, "--before", &before)) != 0) {
            if (m < 0)
                return KC_USAGE;
            have = true;
        } else {
            return kc_usage("records prune: unknown argument '%s'", argv[i]);
        }
    }
    if (!have && k->records_keep_days == 0)
        return kc_usage("records prune: give --before UNIX_TIME, or "
                        "records_keep_days in the --config file");
    if (!have)
        before = (uint64_t)time(NULL) -
                 (uint64_t)k->records_keep_days * 86400u;
    if ((rc = kc_open(k)) != KC_OK)
        return rc;
    /* what the journal holds first, so that every old record goes */
    size_t moved = 0, n = 0, total = 0;
    mk_err e = k->pg != NULL ? MK_OK
                             : mk_sqlstore_drain(k->store, k->node,
                                                 k->busy_timeout_ms, SIZE_MAX,
                                                 &moved);
    if (e != MK_OK)
        return kc_fail(k, e, "records prune (moving the node's journal)");
    do {
        e = kc_records_prune(k, before, PRUNE_BATCH, &n);
        if (e != MK_OK)
            return kc_fail(k, e, "records prune");
        total += n;
    } while (n == PRUNE_BATCH);
    printf("pruned %zu records older than %llu\n", total,
           (unsigned long long)before);
    return KC_OK;
}

int kc_cmd_records(kmsctl *k, int argc, char **argv)
{
    uint64_t since = 0;
    if (argc == 3 && strcmp(argv[1], "salvage") == 0)
        return records_salvage(k, argv[2]);
    const char *val, *subscriber = NULL;
    int m, rc;
    if (argc >= 2 && strcmp(argv[1], "prune") == 0)
        return records_prune(k, argc - 1, argv + 1);
    for (int i = 1; i < argc; i++) {
        if ((m = opt_time(argc, argv, &i, "--since", &since)) != 0) {
            if (m < 0)
                return KC_USAGE;
        } else if ((m = kc_opt(argc, argv, &i, "--subscriber", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            subscriber = val;
        } else {
            return kc_usage("records: unknown argument '%s'", argv[i]);
        }
    }
    if ((rc = kc_open(k)) != KC_OK)
        return rc;
    /* every answer's record is in the node's journal when the answer
     * leaves; move what is there into the store first, so that the list
     * is complete up to now */
    size_t moved = 0;
    /* a PostgreSQL store: every node's answers wrote their records
     * (doc/profile.md §13.2), nothing to move */
    mk_err e = k->pg != NULL ? MK_OK
                             : mk_sqlstore_drain(k->store, k->node,
                                                 k->busy_timeout_ms, SIZE_MAX,
                                                 &moved);
    if (e != MK_OK)
        return kc_fail(k, e, "records (moving the node's journal)");
    e = kc_records(k, since, subscriber, print_record, NULL);
    return e == MK_OK ? KC_OK : kc_fail(k, e, "records");
}

/* --- replay cache --- */

/* The shared replay cache of a PostgreSQL store (pgstore.h). */
static int replay_status_pg(kmsctl *k)
{
    mk_pgstore_status st;
    mk_err e = mk_pgstore_status_get(k->pg, &st);
    if (e != MK_OK)
        return kc_fail(k, e, "replay status");
    printf("store postgresql\nschema_version %d\n", st.schema_version);
    printf("replay_entries %llu\n", (unsigned long long)st.replay_entries);
    printf("mark_unix %llu\n", (unsigned long long)st.mark_unix);
    printf("records %llu\n", (unsigned long long)st.records);
    printf("generation %lld\n", (long long)st.gen);
    printf("synchronous_commit %s\n", st.synchronous_commit ? "on" : "off");
    return KC_OK;
}

static int replay_status(kmsctl *k)
{
    if (k->pg != NULL)
        return replay_status_pg(k);
    mk_node_status st;
    mk_err e = mk_node_status_get(k->node, &st);
    if (e != MK_OK)
        return kc_fail(k, e, "replay status");
    char id[2 * sizeof st.node_id + 1];
    for (size_t i = 0; i < sizeof st.node_id; i++)
        snprintf(id + 2 * i, 3, "%02x", st.node_id[i]);
    printf("node_id %s\n", id);
    printf("replay_entries %llu\nreplay_max %llu\n",
           (unsigned long long)st.replay_entries,
           (unsigned long long)st.replay_max);
    printf("oldest_expiry_unix %llu\n", (unsigned long long)st.oldest_expiry);
    /* messages whose entry would expire at or before the mark are refused
     * (node.h): after a clock that ran ahead, this says until when */
    printf("mark_unix %llu\n", (unsigned long long)st.mark_unix);
    printf("restart_floor_unix %llu\n", (unsigned long long)st.floor_unix);
    printf("journal_entries %llu\njournal_max %llu\n",
           (unsigned long long)st.journal_entries,
           (unsigned long long)st.journal_max);
    printf("next_record_seq %llu\n", (unsigned long long)st.next_seq);
    printf("generation %lld%s\n", (long long)st.gen,
           st.gen_known ? "" : " (none published)");
    printf("file_bytes_used %llu\nfile_bytes_max %llu\n",
           (unsigned long long)st.used_bytes,
           (unsigned long long)st.map_bytes);
    return KC_OK;
}

int kc_cmd_replay(kmsctl *k, int argc, char **argv)
{
    bool prune = argc == 2 && strcmp(argv[1], "prune") == 0;
    bool status = argc == 2 && strcmp(argv[1], "status") == 0;
    if (!prune && !status)
        return kc_usage("replay: 'replay prune' or 'replay status'");
    int rc = kc_open(k);
    if (rc != KC_OK)
        return rc;
    if (status)
        return replay_status(k);
    uint64_t n = 0;
    mk_err e = k->pg != NULL
                   ? mk_pgstore_replay_prune(k->pg, (uint64_t)time(NULL), &n)
                   : mk_node_replay_prune(k->node, (uint64_t)time(NULL), &n);
    if (e != MK_OK)
        return kc_fail(k, e, "replay prune");
    printf("pruned %llu dead replay entries\n", (unsigned long long)n);
    return KC_OK;
}

/* --- kmsd's counters (fcgi/kmsd_stats.h) --- */

/* One line per named slot: `family value` or `family{label="v"} value`,
 * the form of a Prometheus text exposition without its comments. */
int kc_cmd_stats(kmsctl *k, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return kc_usage("stats takes no arguments");
    int rc = kc_open(k);
    if (rc != KC_OK)
        return rc;
    if (k->node == NULL) /* a PostgreSQL store without --config */
        return kc_usage("stats: give --config FILE (its node_state holds "
                        "this machine's counters)");
    for (unsigned slot = 0; slot < KMSD_STAT_END; slot++) {
        kmsd_stat_name nm;
        if (!kmsd_stats_name(slot, &nm))
            continue;
        unsigned long long v =
            (unsigned long long)mk_node_stats_get(k->node, slot);
        if (nm.label != NULL)
            printf("%s{%s=\"%s\"} %llu\n", nm.family, nm.label, nm.value, v);
        else
            printf("%s %llu\n", nm.family, v);
    }
    return KC_OK;
}
