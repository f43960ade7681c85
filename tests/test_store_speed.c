/* test_store_speed.c - not a test: how many (replay entry + record) pairs
 * per second the store writes, each pair as the KMS core writes it (one
 * answer_commit, one transaction), with synchronous=NORMAL and FULL; with
 * PROCS > 1, that many processes write into one store at the same time
 * (the figure is the total).
 *
 * With THREADS > 1, each process runs that many threads, each with its own
 * connection; GROUP 1 attaches them to one mk_sqlstore_writer (group
 * commit).
 *
 * usage: tests/test_store_speed [PAIRS [DIR [PROCS [THREADS [GROUP]]]]]
 *        defaults: 20000 /tmp 1 1 0; PAIRS per thread
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const uint8_t master[32] = {1, 2, 3};

/* Write `pairs` pairs through one connection (or the writer w); returns 0
 * or 1. */
static int write_pairs(const char *path, unsigned pairs, unsigned who,
                       bool full, mk_sqlstore_writer *w)
{
    mk_sqlstore *s = NULL;
    mk_err e = mk_sqlstore_open(path, MK_BYTES(master, 32), 10000, &s);
    if (e == MK_OK)
        e = mk_sqlstore_set_durable(s, full);
    if (e == MK_OK)
        mk_sqlstore_set_writer(s, w);
    if (e != MK_OK) {
        fprintf(stderr, "open %s: %s\n", path, mk_err_name(e));
        mk_sqlstore_close(s);
        return 1;
    }
    mk_kms_store t = mk_sqlstore_interface(s);
    mk_record r;
    memset(&r, 0, sizeof r);
    r.service = 1;
    snprintf(r.subscriber, sizeof r.subscriber, "user%u", who);
    snprintf(r.initiator, sizeof r.initiator, "sip:alice@example.org");
    snprintf(r.responder, sizeof r.responder, "sip:bob@example.org");
    snprintf(r.spis, sizeof r.spis, "01020304,05060708");
    snprintf(r.outcome, sizeof r.outcome, "ok");
    uint64_t now = (uint64_t)time(NULL);
    for (unsigned i = 0; i < pairs && e == MK_OK; i++) {
        uint8_t d[32];
        /* spread like real digests: a cheap mix of (who, i) */
        uint64_t x = ((uint64_t)who << 32 | i) * 0x9e3779b97f4a7c15ull;
        for (int j = 0; j < 32; j++) {
            x ^= x >> 29;
            x *= 0xbf58476d1ce4e5b9ull;
            d[j] = (uint8_t)(x >> 56);
        }
        r.time_unix = now;
        snprintf(r.ticket_id, sizeof r.ticket_id, "%064x", i);
        e = t.answer_commit(t.ctx, d, now + 600, now, &r);
    }
    mk_sqlstore_close(s);
    if (e != MK_OK) {
        fprintf(stderr, "insert: %s\n", mk_err_name(e));
        return 1;
    }
    return 0;
}

typedef struct job {
    const char *path;
    unsigned pairs, who;
    bool full;
    mk_sqlstore_writer *w;
    int rc;
} job;

static void *thread_main(void *arg)
{
    job *j = arg;
    j->rc = write_pairs(j->path, j->pairs, j->who, j->full, j->w);
    return NULL;
}

/* One process: `threads` threads (a writer shared when group). */
static int process_pairs(const char *path, unsigned pairs, unsigned proc,
                         unsigned threads, bool group, bool full)
{
    if (threads <= 1 && !group)
        return write_pairs(path, pairs, proc << 8, full, NULL);
    mk_sqlstore_writer *w = NULL;
    if (group && mk_sqlstore_writer_start(path, MK_BYTES(master, 32), 10000,
                                          full, &w) != MK_OK)
        return 1;
    pthread_t th[64];
    job jobs[64];
    int rc = 0;
    for (unsigned t = 0; t < threads; t++) {
        jobs[t] = (job){path, pairs, proc << 8 | t, full, w, 0};
        if (pthread_create(&th[t], NULL, thread_main, &jobs[t]) != 0)
            return 1;
    }
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        rc |= jobs[t].rc;
    }
    if (w != NULL) {
        uint64_t batches, ops;
        mk_sqlstore_writer_stats(w, &batches, &ops);
        fprintf(stderr, "  writer: %llu writes in %llu commits (%.1f per "
                        "commit)\n",
                (unsigned long long)ops, (unsigned long long)batches,
                batches ? (double)ops / (double)batches : 0.0);
    }
    mk_sqlstore_writer_stop(w);
    return rc;
}

static int run(const char *dir, unsigned pairs, unsigned procs,
               unsigned threads, bool group, bool full)
{
    char path[512];
    snprintf(path, sizeof path, "%s/mk-speed-%ld.db", dir, (long)getpid());
    mk_sqlstore *s = NULL;
    /* create the store before the clock starts */
    if (mk_sqlstore_open(path, MK_BYTES(master, 32), 2000, &s) != MK_OK) {
        fprintf(stderr, "cannot create %s\n", path);
        return 1;
    }
    int rc = 0;
    double t0 = now_s();
    if (procs <= 1) {
        rc = process_pairs(path, pairs, 0, threads, group, full);
    } else {
        for (unsigned p = 0; p < procs; p++)
            if (fork() == 0)
                _exit(process_pairs(path, pairs, p, threads, group, full));
        for (unsigned p = 0; p < procs; p++) {
            int st = 0;
            if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                rc = 1;
        }
    }
    double dt = now_s() - t0;
    mk_sqlstore_close(s);
    char side[600];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    if (rc != 0)
        return rc;
    unsigned total = pairs * procs * threads;
    printf("synchronous=%s, %u process(es) x %u thread(s)%s: %u pairs in "
           "%.3f s = %.0f pairs/s\n",
           full ? "FULL  " : "NORMAL", procs, threads,
           group ? " + group commit" : "", total, dt, total / dt);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned pairs = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    unsigned procs = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 1;
    if (pairs == 0)
        pairs = 20000;
    unsigned threads = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 1;
    bool group = argc > 5 && strcmp(argv[5], "1") == 0;
    if (procs == 0 || procs > 64)
        procs = 1;
    if (threads == 0 || threads > 64)
        threads = 1;
    int rc = run(dir, pairs, procs, threads, group, false);
    /* FULL fsyncs every commit: fewer pairs keep the run short */
    if (rc == 0)
        rc = run(dir, pairs / 10 ? pairs / 10 : 1, procs, threads, group,
                 true);
    return rc;
}
