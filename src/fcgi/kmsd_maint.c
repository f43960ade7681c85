/* kmsd_maint.c - see kmsd_maint.h. */
#include "fcgi/kmsd_maint.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fcgi/kmsd_log.h"
#include "store/pgstore.h"
#include "store/store.h"

#define DRAIN_CACHE_KIB 256 /* store.h, mk_sqlstore_set_page_cache */
/* Retention (doc/profile.md §9.39): a pass a minute, in batches of
 * PRUNE_BATCH records (one short write transaction each), at most
 * PRUNE_BATCHES per round so that the drain of that round is never kept
 * waiting long; a backlog is worked off round after round. */
#define PRUNE_EVERY_S 60
#define PRUNE_BATCH 1000
#define PRUNE_BATCHES 10
/* A PostgreSQL store (doc/profile.md §13.2): every node prunes the shared
 * replay cache this often (one short transaction; the entries of the
 * nodes' answers live a skew window), and sweeps its node's tables. */
#define PG_REPLAY_PRUNE_EVERY_S 5
#define PG_SWEEP_BUDGET 1000

struct kmsd_maint {
    char store_path[MK_NODE_PATH_MAX];
    mk_key master_key;
    uint32_t busy_timeout_ms;
    bool durable;        /* the drain writes with synchronous=FULL */
    mk_node *node;       /* the process's reference */
    mk_sqlstore *sql;    /* the thread's own connection, NULL until open */
    bool pg;             /* store_path is a PostgreSQL URI: then pgc */
    mk_pgstore *pgc;     /* the thread's connection, NULL until open */
    time_t next_replay_prune;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    /* the store as the workers may use it (kmsd_maint.h) */
    atomic_bool usable;
    atomic_uint epoch;
    /* a file found unfit (damaged, not a store): not opened again until
     * the path names another file or this one changes */
    bool have_unfit;
    struct stat unfit;
    /* retention: records_keep_days (0: none), the next pass, what the
     * pass under way has deleted */
    atomic_uint keep_days;
    time_t next_prune;
    bool pruning;
    size_t pruned;
};

/* The drain's connection: a small page cache (it only appends), and for a
 * durable node every commit synced, so that records the journal forgets
 * are on disk in the store (store.h). */
static mk_err tune_sql(kmsd_maint *m)
{
    MK_GUARD(mk_sqlstore_set_page_cache(m->sql, DRAIN_CACHE_KIB));
    return mk_sqlstore_set_durable(m->sql, m->durable);
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Open the store and check it (quick_check within its budget); damage is
 * MK_E_CONFIG with SQLite's report in *why. */
static mk_err open_checked(kmsd_maint *m, char *why, size_t cap)
{
    bool complete = false;
    why[0] = '\0';
    mk_err e = mk_sqlstore_open_existing(m->store_path,
                                         mk_key_bytes(&m->master_key),
                                         m->busy_timeout_ms, &m->sql);
    if (e != MK_OK) {
        m->sql = NULL;
        snprintf(why, cap, "%s", mk_sqlstore_open_errmsg());
        return e;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    e = mk_sqlstore_quick_check(m->sql, KMSD_CHECK_BUDGET_MS, &complete);
    if (e == MK_OK)
        e = tune_sql(m);
    if (e != MK_OK) {
        mk_err_detail keep = *mk_err_last();
        snprintf(why, cap, "%s", mk_sqlstore_errmsg(m->sql));
        mk_sqlstore_close(m->sql);
        m->sql = NULL;
        return mk_err_restore(&keep);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (long)(t1.tv_sec - t0.tv_sec) * 1000 +
              (t1.tv_nsec - t0.tv_nsec) / 1000000;
    if (complete)
        kmsd_log(MK_LOG_INFO, "store %s: quick_check ok (%ld ms)",
                 m->store_path, ms);
    else
        kmsd_log(MK_LOG_INFO, "store %s: quick_check stopped after %ld ms "
                 "(budget); the tables answers read checked whole",
                 m->store_path, ms);
    return MK_OK;
}

/* The path no longer names the file the process has open (removed,
 * renamed away, replaced: profile §9.43): no answer uses the store until
 * a store fit to serve is at the path again; the old file's WAL is
 * emptied into it so that no opener of the new one reads its pages. */
static void let_go(kmsd_maint *m)
{
    atomic_store(&m->usable, false);
    kmsd_log(MK_LOG_ERROR, "store %s was removed or replaced while in use "
             "(%s); answering 503 until a store fit to serve is there "
             "again; the records wait in the node state's journal",
             m->store_path, mk_sqlstore_errmsg(m->sql));
    if (mk_sqlstore_hand_over(m->sql) != MK_OK)
        kmsd_log(MK_LOG_WARN, "store %s: the old file's WAL was not "
                 "emptied: %s (%s)", m->store_path, mk_err_last()->what,
                 mk_sqlstore_errmsg(m->sql));
    mk_sqlstore_close(m->sql);
    m->sql = NULL;
    /* workers close their connections to the old file at their next
     * request (kmsd_maint_store) */
    atomic_fetch_add(&m->epoch, 1);
}

/* The thread's connection, the node attached: (re)opened and checked
 * when there is none. A file found unfit is not tried again until the
 * path names another file or it changes. */
static mk_err open_sql(kmsd_maint *m)
{
    char why[256];
    struct stat sb;
    if (m->sql != NULL)
        return MK_OK;
    bool have = stat(m->store_path, &sb) == 0;
    if (have && m->have_unfit && same_stat(&sb, &m->unfit))
        MK_FAIL(MK_E_CONFIG, "store unfit to serve (unchanged since it was "
                             "found so)");
    mk_err e = open_checked(m, why, sizeof why);
    if (e == MK_E_CONFIG) {
        /* not a store fit to serve (missing, empty, damaged, another
         * schema, no check value): 503 until that changes */
        m->have_unfit = have;
        if (have)
            m->unfit = sb;
        atomic_store(&m->usable, false);
        kmsd_log_limited(MK_LOG_ERROR, mk_err_last()->what,
                         "store %s: %s%s%s; answering 503", m->store_path,
                         mk_err_last()->what, why[0] ? ": " : "", why);
        return e;
    }
    if (e != MK_OK)
        return e;
    m->have_unfit = false;
    mk_sqlstore_attach_node(m->sql, m->node);
    if (!atomic_exchange(&m->usable, true))
        kmsd_log(MK_LOG_INFO, "store %s: in use again", m->store_path);
    return MK_OK;
}

/* Part of a retention pass (kmsd_maint_set_retention): the records older
 * than keep_days, the oldest first. */
static mk_err retention(kmsd_maint *m, time_t now)
{
    unsigned days = atomic_load(&m->keep_days);
    if (days == 0 || (!m->pruning && now < m->next_prune))
        return MK_OK;
    uint64_t before = (uint64_t)now - (uint64_t)days * 86400u;
    size_t n = PRUNE_BATCH;
    m->pruning = true;
    for (int i = 0; i < PRUNE_BATCHES && n == PRUNE_BATCH; i++) {
        MK_GUARD(m->pg ? mk_pgstore_records_prune(m->pgc, before,
                                                  PRUNE_BATCH, &n)
                       : mk_sqlstore_records_prune(m->sql, before,
                                                   PRUNE_BATCH, &n));
        m->pruned += n;
    }
    if (n < PRUNE_BATCH) { /* the pass is done */
        if (m->pruned > 0)
            kmsd_log(MK_LOG_INFO, "records: %zu older than %llu deleted "
                     "(records_keep_days = %u)", m->pruned,
                     (unsigned long long)before, days);
        m->pruning = false;
        m->pruned = 0;
        m->next_prune = now + PRUNE_EVERY_S;
    }
    return MK_OK;
}

/* The thread's PostgreSQL connection, opened (and checked) when there is
 * none; it reconnects by itself afterwards. */
static mk_err open_pg(kmsd_maint *m)
{
    if (m->pgc != NULL)
        return MK_OK;
    mk_pgstore_opts o = {.timeout_ms = m->busy_timeout_ms,
                         .durable = m->durable};
    mk_err e = mk_pgstore_open(m->store_path, mk_key_bytes(&m->master_key),
                               &o, &m->pgc);
    if (e != MK_OK)
        m->pgc = NULL;
    return e;
}

/* A round over a PostgreSQL store: no journal to drain (the answers wrote
 * their records), the shared replay cache pruned now and then, retention,
 * and this machine's node tables swept. */
static void round_pg(kmsd_maint *m)
{
    time_t now = time(NULL);
    size_t swept = 0;
    uint64_t pruned = 0;
    mk_err e = open_pg(m);
    if (e == MK_OK && now >= m->next_replay_prune) {
        e = mk_pgstore_replay_prune(m->pgc, (uint64_t)now, &pruned);
        if (e == MK_OK)
            m->next_replay_prune = now + PG_REPLAY_PRUNE_EVERY_S;
    }
    if (e == MK_OK)
        e = retention(m, now);
    if (mk_node_kv_sweep(m->node, (uint64_t)now, PG_SWEEP_BUDGET, &swept) !=
        MK_OK)
        mk_err_clear(); /* a full table answers 503 itself; retried */
    mk_node_release_pages(m->node);
    if (e == MK_OK) {
        if (pruned > 0)
            kmsd_log(MK_LOG_DEBUG, "store: %llu replay entries reclaimed",
                     (unsigned long long)pruned);
        return;
    }
    const mk_err_detail *d = mk_err_last();
    const char *cause = d->code == e && d->what ? d->what : mk_err_name(e);
    kmsd_log_limited(MK_LOG_WARN, cause, "store maintenance: %s (%s)", cause,
                     mk_pgstore_errmsg(m->pgc));
}

static void round_once(kmsd_maint *m)
{
    mk_sqlstore_upkeep u;
    if (m->pg) {
        round_pg(m);
        return;
    }
    if (m->sql != NULL && mk_sqlstore_same_file(m->sql) != MK_OK)
        let_go(m);
    mk_err e = open_sql(m);
    time_t now = time(NULL);
    if (e == MK_OK)
        e = mk_sqlstore_maintain(m->sql, m->node, (uint64_t)now, &u);
    if (e == MK_OK)
        e = retention(m, now);
    if (e == MK_OK) {
        if (u.drained > 0 || u.pruned > 0)
            kmsd_log(MK_LOG_DEBUG, "node: %zu records into the store, %llu "
                     "replay entries reclaimed", u.drained,
                     (unsigned long long)u.pruned);
        return;
    }
    if (e == MK_E_CONFIG && !atomic_load(&m->usable))
        return; /* open_sql said why */
    if (m->sql != NULL && mk_sqlstore_damaged(m->sql)) {
        /* found while serving (the drain read a damaged page): no answer
         * uses it until the file is replaced by one fit to serve */
        struct stat sb;
        atomic_store(&m->usable, false);
        kmsd_log(MK_LOG_ERROR, "store %s is damaged (%s); answering 503 "
                 "until a store fit to serve is there (a backup restored); "
                 "the records wait in the node state's journal",
                 m->store_path,
                 mk_sqlstore_errmsg(m->sql));
        m->have_unfit = stat(m->store_path, &sb) == 0;
        if (m->have_unfit)
            m->unfit = sb;
        mk_sqlstore_close(m->sql);
        m->sql = NULL;
        atomic_fetch_add(&m->epoch, 1);
        return;
    }
    /* The records wait in the journal meanwhile (bounded: answers get 503
     * once it is full); say why, once per cause and interval. */
    const mk_err_detail *d = mk_err_last();
    const char *cause = d->code == e && d->what ? d->what : mk_err_name(e);
    kmsd_log_limited(MK_LOG_WARN, cause, "node maintenance: %s%s%s", cause,
                     m->sql != NULL ? " / " : "",
                     m->sql != NULL ? mk_sqlstore_errmsg(m->sql) : "");
}

static void *run(void *arg)
{
    kmsd_maint *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        pthread_mutex_unlock(&m->mu);
        round_once(m);
        pthread_mutex_lock(&m->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)KMSD_MAINT_PERIOD_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!m->stop &&
               pthread_cond_timedwait(&m->cv, &m->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&m->mu);
    round_once(m); /* what the last answers wrote */
    return NULL;
}

static void maint_free(kmsd_maint *m)
{
    mk_sqlstore_close(m->sql);
    mk_pgstore_close(m->pgc);
    mk_node_close(m->node);
    mk_key_wipe(&m->master_key);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

mk_err kmsd_maint_start(const char *store_path, mk_bytes master_key,
                        uint32_t busy_timeout_ms, const mk_node_config *cfg,
                        kmsd_maint **out, mk_node **node)
{
    mk_err e;
    *out = NULL;
    *node = NULL;
    kmsd_maint *m = calloc(1, sizeof *m);
    if (m == NULL)
        MK_FAIL(MK_E_UNAVAILABLE, "out of memory");
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    m->busy_timeout_ms = busy_timeout_ms;
    m->durable = cfg->durable;
    if (strlen(store_path) >= sizeof m->store_path) {
        maint_free(m);
        MK_FAIL(MK_E_CONFIG, "store path too long");
    }
    strcpy(m->store_path, store_path); /* length checked above */
    if ((e = mk_key_copy(&m->master_key, master_key)) != MK_OK) {
        maint_free(m);
        return e;
    }
    atomic_init(&m->usable, true);
    atomic_init(&m->epoch, 0);
    atomic_init(&m->keep_days, 0);
    char why[256];
    why[0] = '\0';
    m->pg = mk_pgstore_is_uri(store_path);
    if (m->pg) {
        /* the node keeps this machine's rate limits and GBA cache only
         * (config.c requires its path) */
        e = mk_node_open(cfg, MK_NODE_CREATE_FRESH, &m->node);
        if (e == MK_OK && (e = open_pg(m)) == MK_E_UNAVAILABLE) {
            kmsd_log(MK_LOG_WARN, "store %s unreachable at start (%s); "
                     "answering 503 until it is", store_path,
                     mk_pgstore_errmsg(NULL));
            e = MK_OK;
        } else if (e != MK_OK) {
            snprintf(why, sizeof why, "%s", mk_pgstore_errmsg(NULL));
        }
    } else if ((e = open_checked(m, why, sizeof why)) == MK_OK) {
        mk_node *n = NULL;
        e = mk_sqlstore_node_open(m->sql, cfg, &n);
        if (e == MK_OK)
            m->node = mk_node_ref(n); /* the process's, apart from sql's */
    } else if (e == MK_E_UNAVAILABLE) {
        /* The store is busy: it cannot tell whether it ever answered, so
         * a missing node file is taken as lost (node.h restart rule). */
        mk_node_config c = *cfg;
        m->sql = NULL;
        if (c.path[0] == '\0')
            e = mk_node_default_path(store_path, c.path, sizeof c.path);
        else
            e = MK_OK;
        if (e == MK_OK)
            e = mk_node_open(&c, MK_NODE_CREATE_RECOVER, &m->node);
    }
    if (e != MK_OK) {
        mk_err_detail keep = *mk_err_last();
        if (why[0] != '\0')
            kmsd_log(MK_LOG_ERROR, "store %s: %s", store_path, why);
        maint_free(m);
        return mk_err_restore(&keep);
    }
    mk_node_status st;
    if (!m->pg && mk_node_status_get(m->node, &st) == MK_OK) {
        if (st.set_aside[0] != '\0')
            kmsd_log(MK_LOG_WARN, "node state: the machine restarted since a "
                     "process without durable = yes used it; that file was "
                     "set aside as %s (kmsctl records salvage %s moves the "
                     "records it may hold into the store)",
                     st.set_aside, st.set_aside);
        if (st.floor_raised_now)
            kmsd_log(MK_LOG_WARN, "node state: new after a restart or a lost "
                     "file; messages with T before %llu are refused "
                     "(doc/profile.md §7)",
                     (unsigned long long)(st.floor_unix - cfg->skew_seconds));
    }
    if (pthread_create(&m->thread, NULL, run, m) != 0) {
        maint_free(m);
        MK_FAIL(MK_E_UNAVAILABLE, "cannot start the maintenance thread");
    }
    *out = m;
    *node = m->node;
    return MK_OK;
}

void kmsd_maint_set_retention(kmsd_maint *m, uint32_t keep_days)
{
    if (m != NULL)
        atomic_store(&m->keep_days, keep_days);
}

bool kmsd_maint_store(kmsd_maint *m, unsigned *epoch)
{
    if (m == NULL) {
        *epoch = 0;
        return true;
    }
    *epoch = atomic_load(&m->epoch);
    return atomic_load(&m->usable);
}

void kmsd_maint_stop(kmsd_maint *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    maint_free(m);
}
