/* kmsd_maint.c - see kmsd_maint.h. */
#include "fcgi/kmsd_maint.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/kmsd_log.h"
#include "store/store.h"

#define FAILURE_LOG_EVERY_S 60
#define DRAIN_CACHE_KIB 256 /* store.h, mk_sqlstore_set_page_cache */

struct kmsd_maint {
    char store_path[MK_NODE_PATH_MAX];
    mk_key master_key;
    uint32_t busy_timeout_ms;
    bool durable;        /* the drain writes with synchronous=FULL */
    mk_node *node;       /* the process's reference */
    mk_sqlstore *sql;    /* the thread's own connection, NULL until open */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    time_t failure_logged; /* last time a failure was logged */
};

/* The drain's connection: a small page cache (it only appends), and for a
 * durable node every commit synced, so that records the journal forgets
 * are on disk in the store (store.h). */
static mk_err tune_sql(kmsd_maint *m)
{
    MK_GUARD(mk_sqlstore_set_page_cache(m->sql, DRAIN_CACHE_KIB));
    return mk_sqlstore_set_durable(m->sql, m->durable);
}

/* The store connection of the thread, the node attached. */
static mk_err open_sql(kmsd_maint *m)
{
    if (m->sql != NULL)
        return MK_OK;
    MK_GUARD(mk_sqlstore_open_existing(m->store_path,
                                       mk_key_bytes(&m->master_key),
                                       m->busy_timeout_ms, &m->sql));
    mk_sqlstore_attach_node(m->sql, m->node);
    return tune_sql(m);
}

static void round_once(kmsd_maint *m)
{
    mk_sqlstore_upkeep u;
    mk_err e = open_sql(m);
    if (e == MK_OK)
        e = mk_sqlstore_maintain(m->sql, m->node, (uint64_t)time(NULL), &u);
    if (e == MK_OK) {
        if (u.drained > 0 || u.pruned > 0)
            kmsd_log(MK_LOG_DEBUG, "node: %zu records into the store, %llu "
                     "replay entries reclaimed", u.drained,
                     (unsigned long long)u.pruned);
        return;
    }
    /* The records wait in the journal meanwhile (bounded: answers get 503
     * once it is full); say why, but not five times a second. */
    time_t now = time(NULL);
    if (now - m->failure_logged >= FAILURE_LOG_EVERY_S) {
        const mk_err_detail *d = mk_err_last();
        kmsd_log(MK_LOG_WARN, "node maintenance: %s: %s%s%s", mk_err_name(e),
                 d->code == e && d->what ? d->what : "",
                 m->sql != NULL ? " / " : "",
                 m->sql != NULL ? mk_sqlstore_errmsg(m->sql) : "");
        m->failure_logged = now;
    }
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
    e = mk_sqlstore_open_existing(store_path, master_key, busy_timeout_ms,
                                  &m->sql);
    if (e == MK_OK)
        e = tune_sql(m);
    if (e == MK_OK) {
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
        maint_free(m);
        return mk_err_raise(keep.code, keep.payload, keep.offset, keep.what);
    }
    mk_node_status st;
    if (mk_node_status_get(m->node, &st) == MK_OK) {
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
