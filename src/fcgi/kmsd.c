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

int main(int argc, char **argv)
{
    kmsd_args args;
    int pa = parse_args(argc, argv, &args);
    if (pa != 0)
        return pa == 1 ? 0 : 2;

    /* Before anything can write to a closed socket or a thread exists. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP); /* not a stop: a reload */
    /* Every thread inherits the mask: no worker is ever interrupted in the
     * middle of a request; the main thread takes the signals with
     * sigwait(). */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    kmsd_log_init("kmsd", args.use_syslog, MK_LOG_INFO);

    static mk_config cfg;
    mk_err e = mk_config_load(args.config, &cfg);
    if (e != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "configuration: %s",
                 cfg.error[0] != '\0' ? cfg.error : mk_err_name(e));
        return 1;
    }
    kmsd_log_set_level(cfg.log_level);
    if (kmsd_log_open(cfg.log_file) != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "log_file %s: %s", cfg.log_file,
                 strerror(errno));
        return 1;
    }

    static kmsd_shared sh;
    sh.listen_fd = -1;
    sh.wake_fd = -1;
    sh.main_thread = pthread_self();
    atomic_init(&sh.fatal, 0);
    pthread_mutex_init(&sh.live_lock, NULL);
    atomic_init(&sh.live_gen, 0);
    if ((e = build_shared(&cfg, &sh)) != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "configuration %s: %s: %s", args.config,
                 mk_err_name(e), detail());
        return 1;
    }
    if ((e = mk_master_key_load(cfg.master_key, &sh.master_key)) != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "master key %s: %s: %s", cfg.master_key,
                 mk_err_name(e), detail());
        return 1;
    }
    if ((e = kmsd_gba_conf_make(&cfg, mk_key_bytes(&sh.master_key),
                                &sh.gba)) != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "configuration %s: GBA: %s: %s", args.config,
                 mk_err_name(e), detail());
        return 1;
    }

    int rc = 1;
    unsigned nthreads = args.check_config ? 1 : args.threads;
    kmsd_worker **workers = calloc(nthreads, sizeof *workers);
    pthread_t *tids = calloc(nthreads, sizeof *tids);
    bool *started = calloc(nthreads, sizeof *started);
    kmsd_listen_addr own;
    memset(&own, 0, sizeof own);
    bool own_socket = false;
    int pipefd[2] = {-1, -1};
    kmsd_maint *maint = NULL;
    if (workers == NULL || tids == NULL || started == NULL) {
        kmsd_log(MK_LOG_ERROR, "out of memory");
        goto out;
    }

    /* The listening socket: --listen, else the one on descriptor 0, else
     * the configuration's listen. */
    const char *spec = args.listen;
    if (args.check_config) {
        sh.listen_fd = -1;
    } else if (spec == NULL && kmsd_fd_is_listening(FCGI_LISTENSOCK_FILENO)) {
        sh.listen_fd = FCGI_LISTENSOCK_FILENO;
    } else {
        if (spec == NULL && cfg.has_listen)
            spec = cfg.listen;
        if (spec == NULL) {
            kmsd_log(MK_LOG_ERROR,
                     "descriptor 0 is not a FastCGI listening socket: start "
                     "kmsd from mod_fcgid or spawn-fcgi, or give --listen");
            rc = 2;
            goto out;
        }
        if ((e = kmsd_listen_parse(spec, &own)) != MK_OK) {
            kmsd_log(MK_LOG_ERROR, "%s", detail());
            rc = 2;
            goto out;
        }
        if (!kmsd_listen_is_loopback(&own))
            kmsd_log(MK_LOG_WARN,
                     "listening on %s: FastCGI has no authentication; keep "
                     "this port away from untrusted hosts", spec);
        if ((e = kmsd_listen_open(&own, &sh.listen_fd)) != MK_OK) {
            kmsd_log(MK_LOG_ERROR, "%s %s: %s", detail(), spec,
                     strerror(errno));
            goto out;
        }
        own_socket = true;
    }
    if (sh.listen_fd >= 0) {
        /* Several workers (and processes) wait on this socket; whoever
         * loses the race for a connection must get EAGAIN, not block. */
        int fl = fcntl(sh.listen_fd, F_GETFL);
        if (fl < 0 || fcntl(sh.listen_fd, F_SETFL, fl | O_NONBLOCK) != 0) {
            kmsd_log(MK_LOG_ERROR, "listening socket: %s", strerror(errno));
            goto out;
        }
    }
    if (pipe(pipefd) != 0) {
        kmsd_log(MK_LOG_ERROR, "pipe: %s", strerror(errno));
        goto out;
    }
    sh.wake_fd = pipefd[0];

    if (FCGX_Init() != 0) {
        kmsd_log(MK_LOG_ERROR, "FCGX_Init failed");
        goto out;
    }

    /* The node state every worker commits its answers to (replay entry
     * and record, profile §7, §8), and the thread that drains its record
     * journal into the store. A check of the configuration writes no
     * node file. */
    if (!args.check_config) {
        mk_node_config ncfg;
        mk_config_node(&cfg, &ncfg);
        e = kmsd_maint_start(sh.store_path, mk_key_bytes(&sh.master_key),
                             sh.busy_timeout_ms, &ncfg, &maint, &sh.node);
        if (e != MK_OK) {
            kmsd_log(MK_LOG_ERROR, "cannot serve: store %s (node state): "
                     "%s: %s", sh.store_path, mk_err_name(e), detail());
            goto out;
        }
        sh.maint = maint;
        kmsd_maint_set_retention(maint, cfg.records_keep_days);
    } else if ((e = check_store(&sh)) != MK_OK) {
        goto out;
    }

    /* Every worker's store connection and core, opened now so that a wrong
     * store, a wrong master key or a failing self test stops the start. A
     * store that is only busy is retried per request (503 until then). */
    for (unsigned i = 0; i < nthreads; i++) {
        workers[i] = kmsd_worker_new(&sh, (int)i);
        if (workers[i] == NULL) {
            kmsd_log(MK_LOG_ERROR, "out of memory");
            goto out;
        }
        e = kmsd_worker_open(workers[i]);
        if (e == MK_E_UNAVAILABLE && !args.check_config) {
            kmsd_log(MK_LOG_WARN, "store %s busy at start; will retry",
                     sh.store_path);
        } else if (e != MK_OK) {
            kmsd_log(MK_LOG_ERROR, "cannot serve: store %s: %s: %s",
                     sh.store_path, mk_err_name(e), detail());
            goto out;
        }
    }
    if (args.check_config) {
        printf("kmsd: configuration %s OK (store %s, mount %s)\n",
               args.config, sh.store_path, sh.live.binding.mount);
        rc = 0;
        goto out;
    }

    for (unsigned i = 0; i < nthreads; i++) {
        int te = pthread_create(&tids[i], NULL, kmsd_worker_run, workers[i]);
        if (te != 0) {
            kmsd_log(MK_LOG_ERROR, "pthread_create: %s", strerror(te));
            atomic_store(&sh.fatal, 1);
            break;
        }
        started[i] = true;
    }
    kmsd_log(MK_LOG_INFO, "serving %s on %s with %u thread%s",
             sh.live.binding.mount, own_socket ? spec : "descriptor 0",
             nthreads, nthreads == 1 ? "" : "s");

    if (!atomic_load(&sh.fatal)) {
        int sig = 0;
        for (;;) {
            if (sigwait(&stop, &sig) != 0)
                continue;
            if (sig != SIGHUP)
                break;
            kmsd_reload(args.config, &cfg, &sh);
        }
        if (!atomic_load(&sh.fatal))
            kmsd_log(MK_LOG_INFO, "signal %d: finishing requests in flight",
                     sig);
    }
    /* wake every worker; each finishes its request first */
    ssize_t wr;
    do
        wr = write(pipefd[1], "x", 1);
    while (wr < 0 && errno == EINTR);
    for (unsigned i = 0; i < nthreads; i++)
        if (started[i])
            pthread_join(tids[i], NULL);
    rc = atomic_load(&sh.fatal) ? 1 : 0;
    kmsd_log(rc == 0 ? MK_LOG_INFO : MK_LOG_ERROR, "stopped%s",
             rc == 0 ? "" : " after an error");

out:
    for (unsigned i = 0; workers != NULL && i < nthreads; i++)
        kmsd_worker_free(workers[i]);
    /* after every worker: the last records reach the store */
    kmsd_maint_stop(maint);
    free(workers);
    free(tids);
    free(started);
    if (own_socket)
        kmsd_listen_close(&own, sh.listen_fd);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    mk_key_wipe(&sh.master_key);
    mk_wipe(&sh.gba, sizeof sh.gba);
    kmsd_log_close();
    return rc;
}
