/* kmsd - the FastCGI responder of mikeykms (annex X1, profile §2).
 *
 *   kmsd [--config FILE] [--listen unix:PATH | --listen HOST:PORT]
 *        [--threads N] [--syslog] [--check-config]
 *
 * Started by a process manager (mod_fcgid, spawn-fcgi) it serves the
 * listening socket it finds on descriptor 0 (FCGI_LISTENSOCK_FILENO);
 * otherwise it opens --listen (or the configuration's `listen`). The
 * configuration file defaults to $MIKEYKMS_CONFIG, else
 * /etc/mikeykms/kms.conf.
 *
 * Signals: SIGTERM / SIGINT finish the requests in flight, then exit 0.
 * SIGHUP reads the configuration again and reopens the log without
 * stopping (kmsd_reload.h). SIGPIPE is ignored. Exit status: 0 after a
 * clean stop (or a good --check-config), 1 when it cannot start or serve,
 * 2 on a usage error.
 */
#include <errno.h>
#include <fastcgi.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi/http_binding.h"
#include "fcgi/kmsd_listen.h"
#include "fcgi/kmsd_log.h"
#include "fcgi/kmsd_maint.h"
#include "fcgi/kmsd_reload.h"
#include "fcgi/kmsd_worker.h"
#include "front/config.h"
#include "store/master_key.h"
#include "store/pgstore.h"
#include "store/store.h"

#define KMSD_DEFAULT_CONFIG "/etc/mikeykms/kms.conf"
#define KMSD_THREADS_MAX 256

static const char usage_text[] =
    "usage: kmsd [--config FILE] [--listen unix:PATH|HOST:PORT]\n"
    "            [--threads N] [--syslog] [--check-config]\n"
    "\n"
    "Without --listen, kmsd serves the FastCGI listening socket on\n"
    "descriptor 0 (as started by mod_fcgid or spawn-fcgi), else the\n"
    "configuration's `listen`. --config defaults to $MIKEYKMS_CONFIG, else\n"
    KMSD_DEFAULT_CONFIG ".\n";

typedef struct kmsd_args {
    const char *config;
    const char *listen;
    unsigned threads;
    bool use_syslog;
    bool check_config;
} kmsd_args;

static int usage(const char *why)
{
    if (why != NULL)
        fprintf(stderr, "kmsd: %s\n", why);
    fputs(usage_text, stderr);
    return 2;
}

/* 0 ok, 1 --help printed, 2 usage error. */
static int parse_args(int argc, char **argv, kmsd_args *a)
{
    memset(a, 0, sizeof *a);
    a->threads = 1;
    a->config = getenv("MIKEYKMS_CONFIG");
    if (a->config == NULL || a->config[0] == '\0')
        a->config = KMSD_DEFAULT_CONFIG;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(o, "--config") == 0 && has_value) {
            a->config = argv[++i];
        } else if (strcmp(o, "--listen") == 0 && has_value) {
            a->listen = argv[++i];
        } else if (strcmp(o, "--threads") == 0 && has_value) {
            const char *s = argv[++i];
            char *end = NULL;
            errno = 0;
            unsigned long n = strtoul(s, &end, 10);
            if (errno != 0 || end == s || *end != '\0' || n < 1 ||
                n > KMSD_THREADS_MAX || s[0] == '-')
                return usage("--threads must be 1..256");
            a->threads = (unsigned)n;
        } else if (strcmp(o, "--syslog") == 0) {
            a->use_syslog = true;
        } else if (strcmp(o, "--check-config") == 0) {
            a->check_config = true;
        } else if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            fputs(usage_text, stdout);
            return 1;
        } else {
            fprintf(stderr, "kmsd: unknown or incomplete option '%s'\n", o);
            return usage(NULL);
        }
    }
    return 0;
}

/* The settings every worker shares, from the configuration file. */
static mk_err build_shared(const mk_config *cfg, kmsd_shared *sh)
{
    MK_GUARD(kmsd_live_from_config(cfg, &sh->live));
    sh->busy_timeout_ms = cfg->busy_timeout_ms;
    size_t sl = strlen(cfg->store);
    MK_ENSURE(sl > 0 && sl < sizeof sh->store_path, MK_E_CONFIG,
              "store path");
    memcpy(sh->store_path, cfg->store, sl + 1);
    sh->pg = mk_pgstore_is_uri(cfg->store);
    sh->durable = cfg->durable;
    return MK_OK;
}

static const char *detail(void)
{
    const char *w = mk_err_last()->what;
    return w != NULL ? w : "";
}

/* --check-config: the store opened read-only (nothing is written, not
 * even a missing check value: doc/profile.md §9.43) and checked whole. */
static mk_err check_store(kmsd_shared *sh)
{
    if (sh->pg) { /* opening it checks schema and master key, writes nothing */
        mk_pgstore_opts po = {.timeout_ms = sh->busy_timeout_ms};
        mk_pgstore *p = NULL;
        sh->check_only = true;
        mk_err pe = mk_pgstore_open(sh->store_path,
                                    mk_key_bytes(&sh->master_key), &po, &p);
        if (pe != MK_OK)
            kmsd_log(MK_LOG_ERROR, "cannot serve: store %s: %s: %s (%s)",
                     sh->store_path, mk_err_name(pe), detail(),
                     mk_pgstore_errmsg(NULL));
        mk_pgstore_close(p);
        return pe;
    }
    mk_sqlstore_opts o = {.busy_timeout_ms = sh->busy_timeout_ms,
                          .read_only = true};
    mk_sqlstore *s = NULL;
    bool complete = false;
    sh->check_only = true;
    mk_err e = mk_sqlstore_open_with(sh->store_path,
                                     mk_key_bytes(&sh->master_key), &o, &s);
    const char *why = mk_sqlstore_open_errmsg();
    if (e == MK_OK) {
        e = mk_sqlstore_quick_check(s, 0, &complete);
        why = mk_sqlstore_errmsg(s);
    }
    if (e != MK_OK)
        kmsd_log(MK_LOG_ERROR, "cannot serve: store %s: %s: %s%s%s",
                 sh->store_path, mk_err_name(e), detail(),
                 why[0] ? ": " : "", why);
    mk_sqlstore_close(s);
    return e;
}

/* What main holds from start to stop (kmsd_stop releases it). */
typedef struct kmsd_run {
    kmsd_args args;
    sigset_t stop;       /* SIGTERM, SIGINT, SIGHUP: taken by sigwait() */
    mk_config cfg;
    kmsd_shared sh;
    unsigned nthreads;
    kmsd_worker **workers;
    pthread_t *tids;
    bool *started;
    kmsd_listen_addr own; /* the socket kmsd opened itself (own_socket) */
    bool own_socket;
    const char *spec;    /* what it listens on, for the log */
    int pipefd[2];       /* wakes the workers for the stop */
    kmsd_maint *maint;
} kmsd_run;

/* Before anything can write to a closed socket or a thread exists. */
static void block_signals(sigset_t *stop)
{
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(stop);
    sigaddset(stop, SIGTERM);
    sigaddset(stop, SIGINT);
    sigaddset(stop, SIGHUP); /* not a stop: a reload */
    /* Every thread inherits the mask: no worker is ever interrupted in the
     * middle of a request; the main thread takes the signals with
     * sigwait(). */
    pthread_sigmask(SIG_BLOCK, stop, NULL);
}

/* Configuration: the log, the configuration file, the settings every
 * worker shares, the master key and GBA. 0, else the exit status (1). */
static int kmsd_configure(kmsd_run *k)
{
    mk_config *cfg = &k->cfg;
    kmsd_shared *sh = &k->sh;
    kmsd_log_init("kmsd", k->args.use_syslog, MK_LOG_INFO);

    mk_err e = mk_config_load(k->args.config, cfg);
    if (e != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "configuration: %s",
                 cfg->error[0] != '\0' ? cfg->error : mk_err_name(e));
        return 1;
    }
    kmsd_log_set_level(cfg->log_level);
    if (kmsd_log_open(cfg->log_file) != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "log_file %s: %s", cfg->log_file,
                 strerror(errno));
        return 1;
    }

    sh->listen_fd = -1;
    sh->wake_fd = -1;
    sh->main_thread = pthread_self();
    atomic_init(&sh->fatal, 0);
    pthread_mutex_init(&sh->live_lock, NULL);
    atomic_init(&sh->live_gen, 0);
    if ((e = build_shared(cfg, sh)) != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "configuration %s: %s: %s", k->args.config,
                 mk_err_name(e), detail());
        return 1;
    }
    if ((e = mk_master_key_load(cfg->master_key, &sh->master_key)) != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "master key %s: %s: %s", cfg->master_key,
                 mk_err_name(e), detail());
        return 1;
    }
    if ((e = kmsd_gba_conf_make(cfg, mk_key_bytes(&sh->master_key),
                                &sh->gba)) != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "configuration %s: GBA: %s: %s",
                 k->args.config, mk_err_name(e), detail());
        return 1;
    }
    return 0;
}

/* The listening socket: --listen, else the one on descriptor 0, else the
 * configuration's listen; none for --check-config. 0, else the exit
 * status (1, or 2 when there is nothing to listen on). */
static int kmsd_open_listener(kmsd_run *k)
{
    kmsd_shared *sh = &k->sh;
    mk_err e;
    k->spec = k->args.listen;
    if (k->args.check_config) {
        sh->listen_fd = -1;
    } else if (k->spec == NULL &&
               kmsd_fd_is_listening(FCGI_LISTENSOCK_FILENO)) {
        sh->listen_fd = FCGI_LISTENSOCK_FILENO;
    } else {
        if (k->spec == NULL && k->cfg.has_listen)
            k->spec = k->cfg.listen;
        if (k->spec == NULL) {
            kmsd_log(MK_LOG_ERROR,
                     "descriptor 0 is not a FastCGI listening socket: start "
                     "kmsd from mod_fcgid or spawn-fcgi, or give --listen");
            return 2;
        }
        if ((e = kmsd_listen_parse(k->spec, &k->own)) != MK_OK) {
            kmsd_log(MK_LOG_ERROR, "%s", detail());
            return 2;
        }
        if (!kmsd_listen_is_loopback(&k->own))
            kmsd_log(MK_LOG_WARN,
                     "listening on %s: FastCGI has no authentication; keep "
                     "this port away from untrusted hosts", k->spec);
        if ((e = kmsd_listen_open(&k->own, &sh->listen_fd)) != MK_OK) {
            kmsd_log(MK_LOG_ERROR, "%s %s: %s", detail(), k->spec,
                     strerror(errno));
            return 1;
        }
        k->own_socket = true;
    }
    if (sh->listen_fd >= 0) {
        /* Several workers (and processes) wait on this socket; whoever
         * loses the race for a connection must get EAGAIN, not block. */
        int fl = fcntl(sh->listen_fd, F_GETFL);
        if (fl < 0 || fcntl(sh->listen_fd, F_SETFL, fl | O_NONBLOCK) != 0) {
            kmsd_log(MK_LOG_ERROR, "listening socket: %s", strerror(errno));
            return 1;
        }
    }
    return 0;
}

/* The node state every worker commits its answers to (replay entry and
 * record, profile §7, §8), and the thread that drains its record journal
 * into the store. A check of the configuration writes no node file: it
 * checks the store instead. */
static int kmsd_open_node(kmsd_run *k)
{
    kmsd_shared *sh = &k->sh;
    mk_err e;
    if (k->args.check_config)
        return check_store(sh) == MK_OK ? 0 : 1;
    mk_node_config ncfg;
    mk_config_node(&k->cfg, &ncfg);
    e = kmsd_maint_start(sh->store_path, mk_key_bytes(&sh->master_key),
                         sh->busy_timeout_ms, &ncfg, &k->maint, &sh->node);
    if (e != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "cannot serve: store %s (node state): "
                 "%s: %s", sh->store_path, mk_err_name(e), detail());
        return 1;
    }
    sh->maint = k->maint;
    kmsd_maint_set_retention(k->maint, k->cfg.records_keep_days);
    return 0;
}

/* Start-up: the listening socket, the wake-up pipe, libfcgi, the node
 * state and every worker's store connection and core. 0 when kmsd can
 * serve (or the configuration checked out), else the exit status. */
static int kmsd_start(kmsd_run *k)
{
    kmsd_shared *sh = &k->sh;
    mk_err e;
    int rc;
    k->nthreads = k->args.check_config ? 1 : k->args.threads;
    k->workers = calloc(k->nthreads, sizeof *k->workers);
    k->tids = calloc(k->nthreads, sizeof *k->tids);
    k->started = calloc(k->nthreads, sizeof *k->started);
    if (k->workers == NULL || k->tids == NULL || k->started == NULL) {
        kmsd_log(MK_LOG_ERROR, "out of memory");
        return 1;
    }
    if ((rc = kmsd_open_listener(k)) != 0)
        return rc;
    if (pipe(k->pipefd) != 0) {
        kmsd_log(MK_LOG_ERROR, "pipe: %s", strerror(errno));
        return 1;
    }
    sh->wake_fd = k->pipefd[0];

    if (FCGX_Init() != 0) {
        kmsd_log(MK_LOG_ERROR, "FCGX_Init failed");
        return 1;
    }
    if ((rc = kmsd_open_node(k)) != 0)
        return rc;

    /* Every worker's store connection and core, opened now so that a wrong
     * store, a wrong master key or a failing self test stops the start. A
     * store that is only busy is retried per request (503 until then). */
    for (unsigned i = 0; i < k->nthreads; i++) {
        k->workers[i] = kmsd_worker_new(sh, (int)i);
        if (k->workers[i] == NULL) {
            kmsd_log(MK_LOG_ERROR, "out of memory");
            return 1;
        }
        e = kmsd_worker_open(k->workers[i]);
        if (e == MK_E_UNAVAILABLE && !k->args.check_config) {
            kmsd_log(MK_LOG_WARN, "store %s busy at start; will retry",
                     sh->store_path);
        } else if (e != MK_OK) {
            kmsd_log(MK_LOG_ERROR, "cannot serve: store %s: %s: %s",
                     sh->store_path, mk_err_name(e), detail());
            return 1;
        }
    }
    return 0;
}

/* Serving: the worker threads, then the signals until a stop (a SIGHUP
 * reloads), then every worker woken and joined. The exit status: 0 after
 * a clean stop, 1 after a fatal error. */
static int kmsd_serve(kmsd_run *k)
{
    kmsd_shared *sh = &k->sh;
    for (unsigned i = 0; i < k->nthreads; i++) {
        int te = pthread_create(&k->tids[i], NULL, kmsd_worker_run,
                                k->workers[i]);
        if (te != 0) {
            kmsd_log(MK_LOG_ERROR, "pthread_create: %s", strerror(te));
            atomic_store(&sh->fatal, 1);
            break;
        }
        k->started[i] = true;
    }
    kmsd_log(MK_LOG_INFO, "serving %s on %s with %u thread%s",
             sh->live.binding.mount, k->own_socket ? k->spec : "descriptor 0",
             k->nthreads, k->nthreads == 1 ? "" : "s");

    if (!atomic_load(&sh->fatal)) {
        int sig = 0;
        for (;;) {
            if (sigwait(&k->stop, &sig) != 0)
                continue;
            if (sig != SIGHUP)
                break;
            kmsd_reload(k->args.config, &k->cfg, sh);
        }
        if (!atomic_load(&sh->fatal))
            kmsd_log(MK_LOG_INFO, "signal %d: finishing requests in flight",
                     sig);
    }
    /* wake every worker; each finishes its request first */
    ssize_t wr;
    do
        wr = write(k->pipefd[1], "x", 1);
    while (wr < 0 && errno == EINTR);
    for (unsigned i = 0; i < k->nthreads; i++)
        if (k->started[i])
            pthread_join(k->tids[i], NULL);
    int rc = atomic_load(&sh->fatal) ? 1 : 0;
    kmsd_log(rc == 0 ? MK_LOG_INFO : MK_LOG_ERROR, "stopped%s",
             rc == 0 ? "" : " after an error");
    return rc;
}

/* Tear-down: whatever kmsd_start got, in reverse; secrets wiped. */
static void kmsd_stop(kmsd_run *k)
{
    for (unsigned i = 0; k->workers != NULL && i < k->nthreads; i++)
        kmsd_worker_free(k->workers[i]);
    /* after every worker: the last records reach the store */
    kmsd_maint_stop(k->maint);
    free(k->workers);
    free(k->tids);
    free(k->started);
    if (k->own_socket)
        kmsd_listen_close(&k->own, k->sh.listen_fd);
    if (k->pipefd[0] >= 0)
        close(k->pipefd[0]);
    if (k->pipefd[1] >= 0)
        close(k->pipefd[1]);
    mk_key_wipe(&k->sh.master_key);
    mk_wipe(&k->sh.gba, sizeof k->sh.gba);
    kmsd_log_close();
}

int main(int argc, char **argv)
{
    /* static: the configuration and the shared settings are large, and
     * the workers point into them until the end */
    static kmsd_run k = {.pipefd = {-1, -1}};
    int rc = parse_args(argc, argv, &k.args);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    block_signals(&k.stop);
    if ((rc = kmsd_configure(&k)) != 0)
        return rc;
    rc = kmsd_start(&k);
    if (rc == 0 && k.args.check_config)
        printf("kmsd: configuration %s OK (store %s, mount %s)\n",
               k.args.config, k.sh.store_path, k.sh.live.binding.mount);
    else if (rc == 0)
        rc = kmsd_serve(&k);
    kmsd_stop(&k);
    return rc;
}
