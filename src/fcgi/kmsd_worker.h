/* kmsd_worker.h - one kmsd worker thread: its own SQLite connection, its
 * own KMS core object and its own buffers, an accept loop on the shared
 * listening socket, and the request path (read the CGI variables and at
 * most body_max + 1 body bytes, decide with the HTTP binding, call
 * mk_kms_handle, write the response, log one line).
 *
 * Owns: kmsd_shared (what every worker reads; once the workers run only
 * its `live` part changes, see kmsd_live) and kmsd_worker. mk_sqlstore
 * and mk_kms are not thread-safe; each worker touches only its own.
 */
#ifndef MK_FCGI_KMSD_WORKER_H
#define MK_FCGI_KMSD_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "fcgi/http_binding.h"
#include "fcgi/kmsd_gba.h"
#include "front/config.h"
#include "kms/kms.h"
#include "kms/kms_store.h"
#include "store/pgstore.h"
#include "store/store.h"

/* Bytes of an oversized body read and thrown away after the first
 * body_max + 1 so that the web server can finish sending it (mod_fcgid
 * writes the whole body before it reads the answer). Beyond this the
 * connection is simply closed. */
#define KMSD_DRAIN_MAX (32u * 1024u * 1024u)

/* The settings a reload (SIGHUP, kmsd_reload.h) may change while the
 * workers serve. Each worker answers from its own copy and takes the
 * shared one again, under live_lock, between two requests when live_gen
 * has moved: a request in flight finishes with the settings it started
 * with. binding.body_max stays what it was at start (the workers' buffers
 * are sized from it). */
typedef struct kmsd_live {
    mk_http_binding binding;
    mk_kms_config kms_config;
    uint32_t retry_after;
    char status_mount[MK_CONFIG_MOUNT_MAX]; /* "" = no status pages */
    uint32_t ticket_key_max_age;            /* seconds, 0 = unchecked */
    mk_rate_limit rate_address;             /* per REMOTE_ADDR */
} kmsd_live;

typedef struct kmsd_shared {
    kmsd_live live;          /* written only by the main thread, under */
    pthread_mutex_t live_lock; /* live_lock, then live_gen is bumped */
    atomic_uint live_gen;
    char store_path[MK_CONFIG_PATH_MAX];
    /* store_path is a postgresql:// URI: every worker connects to the
     * PostgreSQL store (store/pgstore.h), the node keeps only this
     * machine's rate limits and GBA cache */
    bool pg;
    bool durable;         /* synchronous_commit of the PostgreSQL store */
    uint32_t busy_timeout_ms;
    mk_key master_key;    /* kept to reopen a store that was unavailable */
    /* The process's node state (store/node.h, kmsd_maint.h): every
     * worker's connection commits its answers to it. */
    mk_node *node;
    /* The maintenance thread: says whether the store may be used now
     * (kmsd_maint_store). NULL in a check of the configuration. */
    struct kmsd_maint *maint;
    bool check_only;      /* --check-config: the store opened read-only */
    kmsd_gba_conf gba;    /* GBA: key source and Ua (doc/profile.md §10) */
    int listen_fd;
    int wake_fd;          /* readable once the workers must stop */
    pthread_t main_thread;
    atomic_int fatal;     /* set by a worker that cannot go on */
} kmsd_shared;

typedef struct kmsd_worker kmsd_worker;

/* Allocate a worker and its buffers (sized from shared->binding). NULL when
 * out of memory. */
kmsd_worker *kmsd_worker_new(kmsd_shared *shared, int index);
void kmsd_worker_free(kmsd_worker *w);

/* Open the worker's store connection and KMS core if not yet open.
 * MK_E_UNAVAILABLE when the store is busy (try again later); any other
 * error means this process cannot serve (wrong master key, no store,
 * self test failed). Also used once at start-up and by --check-config. */
mk_err kmsd_worker_open(kmsd_worker *w) MK_MUST_USE;

/* Thread body: accept and serve until wake_fd becomes readable, finishing
 * the request in flight. Returns NULL. */
void *kmsd_worker_run(void *arg);

#endif
