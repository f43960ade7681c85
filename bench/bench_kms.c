/* bench_kms.c - not a test: in-process Ticket Requests and Ticket Resolves
 * per second of the KMS core (mk_kms_handle) over the SQLite store and the
 * node state (store/node.h), one thread, every replay entry and record
 * written to the node before the answer leaves (in the page cache; with
 * --durable an fdatasync, shared by the answers that committed meanwhile).
 * The messages are built beforehand with the UE library and only
 * mk_kms_handle is timed; afterwards the records are drained into the
 * store and that is timed apart (kmsd does it in a maintenance thread).
 *
 * --mem replaces the store by the test library's in-memory one
 * (tests/lib/mem_store.h: a hash set for the replay cache, records
 * counted): what the core itself costs.
 *
 * --threads T: T threads, each with its own KMS and store connection, all
 * committing to the one node state of the process. Run under
 * `taskset -c 0` to keep it on one core.
 *
 * Each figure also gives the CPU time (user + system) per answer: on a
 * machine shared with other work it is steadier than the elapsed time.
 *
 * usage: bench/bench_kms [--256] [--fork] [--durable] [--mem | --threads T]
 *                        [N [DIR]]
 *        defaults: 128-bit suite, no forking, N = 20000, DIR = /tmp
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kms/kms.h"
#include "lib/mem_store.h"
#include "store/store.h"
#include "ue/ue.h"
#include "util/ntp.h"

#define ALICE "sip:alice@example.com"
#define BOB "sip:bob@example.com"
#define KMS_ID "kms.example.org"

typedef struct msg {
    uint8_t b[MK_UE_MSG_MAX];
    size_t n;
} msg;

static const uint8_t master[MK_MASTER_KEY_LEN] = {9, 8, 7};
static uint8_t psk_a[32], psk_b[32];

/* CPU time of the process (user + system): on a shared machine less
 * disturbed by other load than the elapsed time */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static mk_bytes str(const char *s)
{
    return MK_BYTES(s, strlen(s));
}

static void creds(bool alice, mk_ue_creds *c)
{
    memset(c, 0, sizeof *c);
    c->psk = MK_BYTES(alice ? psk_a : psk_b, 16);
    c->psk_id = str(alice ? "alice-psk" : "bob-psk");
    c->impu = str(alice ? ALICE : BOB);
    c->kms_id = str(KMS_ID);
}

static int add_sub(mk_sqlstore *s, bool alice)
{
    mk_subscriber sub;
    memset(&sub, 0, sizeof sub);
    const char *id = alice ? "alice-psk" : "bob-psk";
    memcpy(sub.psk_id, id, strlen(id));
    sub.psk_id_len = strlen(id);
    if (mk_key_copy(&sub.psk, MK_BYTES(alice ? psk_a : psk_b, 16)) != MK_OK)
        return -1;
    strcpy(sub.impu[0], alice ? ALICE : BOB);
    sub.n_impu = 1;
    sub.active = true;
    sub.policy.forking_allowed = true;
    sub.policy.reuse_allowed = true;
    mk_err e = mk_sqlstore_subscriber_add(s, &sub);
    mk_subscriber_wipe(&sub);
    return e == MK_OK ? 0 : -1;
}

static void die(const char *what, mk_err e)
{
    fprintf(stderr, "bench_kms: %s: %s\n", what, mk_err_name(e));
    exit(1);
}

/* --- --threads: one KMS and store connection per thread --- */
typedef struct worker {
    mk_kms *kms;
    mk_sqlstore *sql;
    mk_kms_store iface;
    mk_kms_answer *ans;
    mk_service service;
    const msg *msgs; /* this thread's slice */
    unsigned count;
    uint64_t t0;
    unsigned bad;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (unsigned i = 0; i < w->count; i++) {
        mk_kms_handle(w->kms, w->service,
                      MK_BYTES(w->msgs[i].b, w->msgs[i].n), w->t0, w->ans);
        w->bad += w->ans->err != MK_OK;
    }
    return NULL;
}

/* Run msgs[0..n) of one service split over the nt workers, each on a
 * thread of its own (spawn) or, for one worker, on the calling thread;
 * returns the bad answers. */
static unsigned run_threads(worker *ws, unsigned nt, mk_service service,
                            const msg *msgs, unsigned n, bool spawn)
{
    pthread_t tid[64];
    unsigned bad = 0;
    for (unsigned t = 0; t < nt; t++) {
        unsigned lo = (unsigned)((uint64_t)n * t / nt);
        unsigned hi = (unsigned)((uint64_t)n * (t + 1) / nt);
        ws[t].service = service;
        ws[t].msgs = msgs + lo;
        ws[t].count = hi - lo;
        ws[t].bad = 0;
        if (!spawn)
            worker_main(&ws[t]);
        else if (pthread_create(&tid[t], NULL, worker_main, &ws[t]) != 0)
            die("pthread_create", MK_E_INTERNAL);
    }
    for (unsigned t = 0; t < nt; t++) {
        if (spawn)
            pthread_join(tid[t], NULL);
        bad += ws[t].bad;
    }
    return bad;
}

/* The command line (see the top of the file). */
typedef struct opts {
    const mk_suite *suite;
    bool fork, durable, mem;
    unsigned n, nthreads;
    const char *dir;
} opts;

/* 0, or the exit status of a usage error (2). */
static int parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){.suite = &mk_suite_128, .n = 20000, .dir = "/tmp"};
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (strcmp(argv[a], "--256") == 0)
            o->suite = &mk_suite_256;
        else if (strcmp(argv[a], "--fork") == 0)
            o->fork = true;
        else if (strcmp(argv[a], "--durable") == 0)
            o->durable = true;
        else if (strcmp(argv[a], "--mem") == 0)
            o->mem = true;
        else if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc &&
                 (o->nthreads = (unsigned)strtoul(argv[a + 1], NULL, 10)) >=
                     1 &&
                 o->nthreads <= 64)
            a++;
        else {
            fprintf(stderr, "usage: %s [--256] [--fork] [--durable] "
                            "[--mem | --threads T (1..64)] [N [DIR]]\n",
                    argv[0]);
            return 2;
        }
    }
    if (o->mem && o->nthreads > 0) {
        fprintf(stderr, "bench_kms: --mem and --threads exclude each other\n");
        return 2;
    }
    if (a < argc)
        o->n = (unsigned)strtoul(argv[a++], NULL, 10);
    if (a < argc)
        o->dir = argv[a++];
    if (o->n == 0)
        o->n = 1;
    return 0;
}

/* The messages, built before the clock starts: n REQUEST_INITs, and n
 * RESOLVE_INITs of one ticket (one TRANSFER_INIT), all with T = t0. */
static void build_msgs(mk_kms *kms, const mk_suite *suite, bool fork,
                       unsigned n, uint64_t t0, msg *reqs, msg *ress,
                       mk_kms_answer *ans, mk_ue_ticket *tk)
{
    mk_err e;
    mk_ue_request_params p;
    mk_ue_request_params_init(&p, suite);
    creds(true, &p.creds);
    p.idrr[0] = str(BOB);
    p.n_idrr = 1;
    if (fork)
        p.flags |= MK_TPF_I;
    p.fixed.has_t = true;
    p.fixed.t_ntp = t0;
    for (unsigned i = 0; i < n; i++)
        if ((e = mk_ue_request_init(&p, reqs[i].b, sizeof reqs[i].b,
                                    &reqs[i].n)))
            die("request_init", e);
    /* one ticket, one TRANSFER_INIT, n RESOLVE_INITs of it */
    msg one, ti;
    if ((e = mk_ue_request_init(&p, one.b, sizeof one.b, &one.n)))
        die("request_init", e);
    mk_kms_handle(kms, MK_SERVICE_TICKET_REQUEST, MK_BYTES(one.b, one.n), t0,
                  ans);
    if (ans->err)
        die("ticket request", ans->err);
    if ((e = mk_ue_accept_request_resp(&p.creds, MK_BYTES(one.b, one.n),
                                       MK_BYTES(ans->body, ans->body_len), 0,
                                       tk, NULL)))
        die("accept_request_resp", e);
    mk_ue_transfer_params tp;
    memset(&tp, 0, sizeof tp);
    tp.idri = str(ALICE);
    tp.idrr = str(BOB);
    tp.n_cs = 1;
    tp.cs[0].cs_id = 1;
    mk_ue_srtp_policy_default(suite, &tp.cs[0].policy);
    if ((e = mk_ue_transfer_init(tk, &tp, ti.b, sizeof ti.b, &ti.n)))
        die("transfer_init", e);
    mk_ue_creds bob;
    creds(false, &bob);
    mk_ue_fixed f;
    memset(&f, 0, sizeof f);
    f.has_t = true;
    f.t_ntp = t0;
    for (unsigned i = 0; i < n; i++)
        if ((e = mk_ue_resolve_init(&bob, MK_BYTES(ti.b, ti.n), &f,
                                    ress[i].b, sizeof ress[i].b,
                                    &ress[i].n)))
            die("resolve_init", e);
}

/* --threads: the workers' connections, all committing to the process's
 * one node state. */
static void open_workers(worker *ws, unsigned nthreads, const char *path,
                         mk_node *node, const mk_kms_config *cfg, uint64_t t0)
{
    mk_err e = MK_OK;
    for (unsigned t = 0; t < nthreads; t++) {
        if ((e = mk_sqlstore_open_existing(path, MK_BYTES(master, 32), 5000,
                                           &ws[t].sql)) != MK_OK)
            die("open store", e);
        mk_sqlstore_attach_node(ws[t].sql, node);
        ws[t].iface = mk_sqlstore_interface(ws[t].sql);
        ws[t].kms = mk_kms_new(cfg, &ws[t].iface, &e);
        ws[t].ans = malloc(sizeof *ws[t].ans);
        if (ws[t].kms == NULL || ws[t].ans == NULL)
            die("worker", e);
        ws[t].t0 = t0;
    }
}

/* Elapsed (s) and CPU (c) seconds at the start, after the requests and
 * after the resolves; around the drain (d, dc). */
typedef struct timing {
    double s0, s1, s2, c0, c1, c2, d0, d1, dc0, dc1;
    size_t drained;
    unsigned bad;
} timing;

static void report(const opts *o, const timing *t)
{
    printf("bench_kms: %s suite, forking %s, N=%u, %s%s\n",
           o->suite == &mk_suite_256 ? "256-bit" : "128-bit",
           o->fork ? "on" : "off", o->n,
           o->mem       ? "in-memory store (--mem)"
           : o->durable ? "node state with fdatasync (--durable)"
                        : "node state in the page cache",
           o->nthreads > 0 ? ", threads" : "");
    if (!o->mem)
        printf("  store directory: %s\n", o->dir);
    printf("  ticket requests: %9.0f /s  (%.1f us each, %.1f us CPU)\n",
           o->n / (t->s1 - t->s0), 1e6 * (t->s1 - t->s0) / o->n,
           1e6 * (t->c1 - t->c0) / o->n);
    printf("  ticket resolves: %9.0f /s  (%.1f us each, %.1f us CPU)\n",
           o->n / (t->s2 - t->s1), 1e6 * (t->s2 - t->s1) / o->n,
           1e6 * (t->c2 - t->c1) / o->n);
    printf("  answers not OK:  %u\n", t->bad);
    if (o->nthreads > 0)
        printf("  threads: %u\n", o->nthreads);
    if (!o->mem && t->drained > 0)
        printf("  records drained into the store: %zu, %.1f us each "
               "(%.1f us CPU)\n",
               t->drained, 1e6 * (t->d1 - t->d0) / (double)t->drained,
               1e6 * (t->dc1 - t->dc0) / (double)t->drained);
}

/* The store, its side files and the node state's, and the directory. */
static void remove_store(const char *path, const char *dir)
{
    unlink(path);
    static const char *const sides[] = {"-wal", "-shm", "-node",
                                        "-node-lock", "-node-drain",
                                        "-node-stats", "-node-boot"};
    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
        char side[700];
        snprintf(side, sizeof side, "%s%s", path, sides[i]);
        unlink(side);
    }
    rmdir(dir);
}

/* The SQLite store at path with its node state and the two subscribers. */
static void open_bench_store(const char *path, bool durable,
                             mk_sqlstore **sql, mk_node **node)
{
    mk_node_config ncfg;
    mk_node_config_defaults(&ncfg);
    ncfg.durable = durable;
    mk_err e = mk_sqlstore_open(path, MK_BYTES(master, 32), 5000, sql);
    if (e != MK_OK)
        die("open store", e);
    if ((e = mk_sqlstore_set_durable(*sql, durable)) != MK_OK)
        die("durable", e);
    if ((e = mk_sqlstore_node_open(*sql, &ncfg, node)) != MK_OK)
        die("node state", e);
    if (add_sub(*sql, true) || add_sub(*sql, false))
        die("subscribers", MK_E_INTERNAL);
}

int main(int argc, char **argv)
{
    opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc;
    const mk_suite *suite = o.suite;
    bool fork = o.fork, durable = o.durable, mem = o.mem;
    unsigned n = o.n, nthreads = o.nthreads;
    const char *dir = o.dir;
    memset(psk_a, 0x2b, sizeof psk_a);
    memset(psk_b, 0x3c, sizeof psk_b);

    char tmpl[512], path[600];
    snprintf(tmpl, sizeof tmpl, "%s/bench_kms.XXXXXX", dir);
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/kms.db", tmpl);
    mk_sqlstore *sql = NULL;
    mk_node *node = NULL;
    mk_err e;
    open_bench_store(path, durable, &sql, &node);
    uint64_t t0 = mk_ntp_now();
    mk_ticket_key_info tki;
    if ((e = mk_sqlstore_ticket_key_rotate(sql, mk_ntp_to_unix(t0), &tki)))
        die("ticket key", e);
    mk_kms_store iface = mk_sqlstore_interface(sql);
    /* --mem: the test library's in-memory store (tests/lib/mem_store.h),
     * filled once from the SQLite store */
    mk_mem_store ms;
    if (mem) {
        mk_subscriber sub;
        if (mk_mem_store_init(&ms, 4 * (size_t)n + 16) != MK_OK)
            die("in-memory store", MK_E_INTERNAL);
        for (int i = 0; i < 2; i++) {
            if (mk_sqlstore_subscriber_get(sql, str(i ? "bob-psk" : "alice-psk"),
                                           &sub) != MK_OK ||
                mk_mem_store_add(&ms, &sub) != MK_OK)
                die("in-memory store", MK_E_INTERNAL);
            mk_subscriber_wipe(&sub);
        }
        if (iface.ticket_key_active(iface.ctx, &ms.tk) != MK_OK)
            die("in-memory store", MK_E_INTERNAL);
        iface = mk_mem_store_interface(&ms);
    }
    mk_kms_config cfg;
    mk_kms_config_defaults(&cfg);
    mk_kms *kms = mk_kms_new(&cfg, &iface, &e);
    if (kms == NULL)
        die("mk_kms_new", e);

    msg *reqs = calloc(n, sizeof *reqs), *ress = calloc(n, sizeof *ress);
    mk_kms_answer *ans = malloc(sizeof *ans);
    mk_ue_ticket *tk = calloc(1, sizeof *tk);
    if (!reqs || !ress || !ans || !tk)
        die("memory", MK_E_INTERNAL);

    build_msgs(kms, suite, fork, n, t0, reqs, ress, ans, tk);

    /* --threads: the workers' connections, opened before the clock starts,
     * all committing to the process's one node state */
    worker ws[64];
    memset(ws, 0, sizeof ws);
    open_workers(ws, nthreads, path, node, &cfg, t0);

    /* time mk_kms_handle only; without --threads on this thread, with the
     * same loop the workers run */
    worker self = {.kms = kms, .ans = ans, .t0 = t0};
    worker *run = nthreads > 0 ? ws : &self;
    unsigned nrun = nthreads > 0 ? nthreads : 1;
    unsigned bad = 0;
    double c0 = cpu_s();
    double s0 = now_s();
    bad += run_threads(run, nrun, MK_SERVICE_TICKET_REQUEST, reqs, n,
                       nthreads > 0);
    double s1 = now_s();
    double c1 = cpu_s();
    bad += run_threads(run, nrun, MK_SERVICE_TICKET_RESOLVE, ress, n,
                       nthreads > 0);
    double s2 = now_s();
    double c2 = cpu_s();
    if (nthreads > 0) {
        for (unsigned t = 0; t < nthreads; t++) {
            mk_kms_free(ws[t].kms);
            mk_sqlstore_close(ws[t].sql);
            free(ws[t].ans);
        }
    }
    /* the records, from the node's journal into the store (kmsd's
     * maintenance thread does this while it serves) */
    size_t drained = 0;
    double d0 = now_s(), dc0 = cpu_s();
    if (!mem && (e = mk_sqlstore_drain(sql, node, 1000, SIZE_MAX,
                                       &drained)) != MK_OK)
        die("drain", e);
    double d1 = now_s(), dc1 = cpu_s();

    timing tm = {s0, s1, s2, c0, c1, c2, d0, d1, dc0, dc1, drained, bad};
    report(&o, &tm);

    mk_kms_free(kms);
    if (mem)
        mk_mem_store_free(&ms);
    mk_sqlstore_close(sql);
    mk_ue_ticket_wipe(tk);
    free(tk);
    free(reqs);
    free(ress);
    free(ans);
    remove_store(path, tmpl);
    return bad ? 1 : 0;
}
