/* load_client - the client of tests/kmsd_load.sh: N concurrent UEs, each
 * alternating a Ticket Request (alice) and a Ticket Resolve (bob, of the
 * ticket alice just got) against a live KMS over HTTP, every message fresh
 * (random CSB ID and RAND, current T) and every answer checked exactly as
 * mikey-ue checks it: the HTTP check of tools/mikey_ue_http.c (200,
 * application/mikey, base64) and acceptance by the UE library
 * (REQUEST_RESP: V, KEMAC, granted policy; RESOLVE_RESP: V, KEMAC and
 * TRANSFER_INIT's V with the resolved MPKi).
 *
 *   load_client --url URL --alice-psk-file F --bob-psk-file F
 *               [--clients 16] [--requests 500] [--deadline 300]
 *               [--watch-pid PID --rss-at 2000] [--answers FILE]
 *               [--duration S] [--pause-ms N] [--backoff-ms N]
 *
 * --duration S: send pairs for S seconds (requests is then only a cap),
 * counting as failed only the requests that were sent; requests= says how
 * many were. --backoff-ms N: a client that got no correct answer waits N
 * ms before its next pair, as a UE backs off after a 503 (tests of faults,
 * where an unpaced client would flood the web server).
 * --requests is per client (rounded up to an even number: request and
 * resolve come in pairs). --watch-pid reads VmRSS and RssAnon of PID (the responder)
 * once --rss-at answers have come back and again at the end. Prints
 * name=value lines: requests, ok, failed, seconds, per_second, and
 * rss_kib_at / rss_kib_end; the first few failures go to stderr. With
 * --answers, one line per answer that carried keys: "ticketrequest" or
 * "ticketresolve", the ticket id the KMS records (hex SHA-256 of the Ticket
 * Data, doc/profile.md §8) and the request as base64, so that a test can
 * match answers against `kmsctl records` and send requests again. Exit
 * status 0 only when every request got a correct answer before the
 * deadline; 1 otherwise; 2 for a bad command line. --pause-ms makes each
 * client wait that long after each request and resolve pair, a load that
 * leaves the machine room for what a test does meanwhile
 * (tests/kmsd_supervise.sh kills and probes kmsd under it).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/mikey.h"
#include "crypto/crypto.h"
#include "mikey_ue_http.h" /* tools/ */
#include "mikey_ue_io.h"
#include "ue/ue.h"
#include "util/base64.h"

#define CLIENTS_MAX 256

typedef struct cfg {
    const char *url;
    uint8_t alice_psk[MK_KEY_MAX], bob_psk[MK_KEY_MAX];
    size_t alice_psk_len, bob_psk_len;
    mk_ue_creds alice, bob;
    unsigned clients, requests;
    double deadline;       /* CLOCK_MONOTONIC seconds */
    bool duration;         /* --duration: the deadline ends the run */
    unsigned pause_ms;     /* after every pair */
    unsigned backoff_ms;   /* after a pair that failed, in addition */
    long watch_pid;
    unsigned long rss_at;
} cfg;

static cfg C;
static FILE *answers; /* --answers */
static pthread_mutex_t answers_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong answered;     /* correct answers so far */
static atomic_ulong failed;
static atomic_long rss_kib_at = -1;
static atomic_long anon_kib_at = -1;
static atomic_int printed_failures;
static atomic_ulong sent; /* requests sent (pairs count 2) */

/* Per client: everything on the heap (messages, ticket, session). */
typedef struct client {
    pthread_t th;
    unsigned id;
    ue_http *h;
    ue_http_answer ans;
    ue_msg req, ti, ri;
    mk_ue_ticket tk;
    mk_ue_session s;
    mk_ue_peer_error pe;
    unsigned long ok, bad;
} client;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A "<field>: N kB" line of /proc/PID/status in KiB (VmRSS: all resident
 * pages; RssAnon: the process's own memory, heap and stacks, where a leak
 * shows), -1 if it cannot be read. */
static long status_kib(long pid, const char *field)
{
    char path[64], line[256];
    long kib = -1;
    size_t n = strlen(field);
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':' &&
            sscanf(line + n + 1, "%ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void count_ok(client *c)
{
    unsigned long n = atomic_fetch_add(&answered, 1) + 1;
    c->ok++;
    if (C.watch_pid > 0 && n == C.rss_at) {
        atomic_store(&rss_kib_at, status_kib(C.watch_pid, "VmRSS"));
        atomic_store(&anon_kib_at, status_kib(C.watch_pid, "RssAnon"));
    }
}

static void count_bad(client *c, const char *step, mk_err e)
{
    char why[600];
    c->bad++;
    atomic_fetch_add(&failed, 1);
    if (atomic_fetch_add(&printed_failures, 1) >= 5)
        return;
    if (c->pe.present)
        ue_peer_error_text(&c->pe, why, sizeof why);
    else if (c->ans.why[0] || c->ans.status)
        ue_http_describe(&c->ans, why, sizeof why);
    else
        snprintf(why, sizeof why, "%s", mk_err_name(e));
    fprintf(stderr, "load_client: client %u: %s: %s (%s)\n", c->id, step, why,
            mk_err_name(e));
}

/* --answers: one line for an answer that carried keys. */
static void note_answer(const char *service, const mk_ue_ticket *t,
                        mk_bytes request)
{
    mk_payload tk;
    size_t used = 0;
    uint8_t h[32];
    static _Thread_local char b64[2 * MK_UE_MSG_MAX];
    size_t n = 0;
    if (answers == NULL ||
        mk_payload_decode(MK_BYTES(t->ticket, t->ticket_len), MK_PT_TICKET,
                          &tk, &used) != MK_OK ||
        mk_sha256(&tk.u.tp.ticket_data, 1, h) != MK_OK ||
        mk_base64_encode(request, b64, sizeof b64, &n) != MK_OK)
        return;
    pthread_mutex_lock(&answers_mu);
    fprintf(answers, "%s ", service);
    for (size_t i = 0; i < sizeof h; i++)
        fprintf(answers, "%02x", h[i]);
    fprintf(answers, " %.*s\n", (int)n, b64);
    pthread_mutex_unlock(&answers_mu);
}

/* One Ticket Request and the Ticket Resolve of its ticket. */
static void pair(client *c)
{
    mk_ue_request_params rq;
    mk_ue_transfer_params tp;
    mk_ue_fixed none;
    mk_err e;

    memset(&none, 0, sizeof none);
    memset(&c->pe, 0, sizeof c->pe);
    memset(&c->ans, 0, sizeof c->ans);
    mk_ue_request_params_init(&rq, &mk_suite_128);
    rq.creds = C.alice;
    rq.idrr[0] = C.bob.impu;
    rq.n_idrr = 1;
    e = mk_ue_request_init(&rq, c->req.b, sizeof c->req.b, &c->req.n);
    if (e == MK_OK)
        e = ue_http_post(c->h, "ticketrequest", ue_msg_bytes(&c->req),
                         &c->ans);
    if (e == MK_OK)
        e = mk_ue_accept_request_resp(&C.alice, ue_msg_bytes(&c->req),
                                      ue_msg_bytes(&c->ans.msg), 0, &c->tk,
                                      &c->pe);
    if (e != MK_OK) {
        count_bad(c, "ticketrequest", e);
        /* no ticket: the resolve of this pair cannot be made */
        count_bad(c, "ticketresolve (no ticket)", e);
        mk_ue_ticket_wipe(&c->tk);
        return;
    }
    count_ok(c);
    note_answer("ticketrequest", &c->tk, ue_msg_bytes(&c->req));

    memset(&tp, 0, sizeof tp);
    tp.idri = C.alice.impu;
    tp.idrr = C.bob.impu;
    tp.n_cs = 1;
    tp.cs[0].cs_id = 1;
    mk_ue_srtp_policy_default(c->tk.suite, &tp.cs[0].policy);
    memset(&c->ans, 0, sizeof c->ans);
    e = mk_ue_transfer_init(&c->tk, &tp, c->ti.b, sizeof c->ti.b, &c->ti.n);
    if (e == MK_OK)
        e = mk_ue_resolve_init(&C.bob, ue_msg_bytes(&c->ti), &none, c->ri.b,
                               sizeof c->ri.b, &c->ri.n);
    if (e == MK_OK)
        e = ue_http_post(c->h, "ticketresolve", ue_msg_bytes(&c->ri),
                         &c->ans);
    if (e == MK_OK)
        e = mk_ue_accept_resolve_resp(&C.bob, ue_msg_bytes(&c->ti),
                                      ue_msg_bytes(&c->ri),
                                      ue_msg_bytes(&c->ans.msg), &c->s,
                                      &c->pe);
    if (e != MK_OK) {
        count_bad(c, "ticketresolve", e);
    } else {
        count_ok(c);
        note_answer("ticketresolve", &c->tk, ue_msg_bytes(&c->ri));
    }
    mk_ue_ticket_wipe(&c->tk);
    mk_ue_session_wipe(&c->s);
}

static void *run_client(void *arg)
{
    client *c = arg;
    for (unsigned i = 0; i < C.requests; i += 2) {
        if (now_s() > C.deadline && C.duration)
            break;
        if (now_s() > C.deadline) {
            unsigned long left = C.requests - i;
            c->bad += left;
            atomic_fetch_add(&failed, left);
            if (atomic_fetch_add(&printed_failures, 1) < 5)
                fprintf(stderr, "load_client: client %u: deadline passed, "
                                "%lu requests not sent\n", c->id, left);
            break;
        }
        unsigned long bad = c->bad;
        pair(c);
        atomic_fetch_add(&sent, 2);
        unsigned wait_ms = C.pause_ms + (c->bad != bad ? C.backoff_ms : 0);
        if (wait_ms > 0) {
            struct timespec ts = {.tv_sec = wait_ms / 1000,
                                  .tv_nsec = (long)(wait_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static int usage(const char *why)
{
    fprintf(stderr, "load_client: %s\nusage: load_client --url URL "
            "--alice-psk-file F --bob-psk-file F [--clients N] "
            "[--requests N] [--deadline S] [--watch-pid PID --rss-at N] "
            "[--answers FILE] [--duration S] [--pause-ms N] "
            "[--backoff-ms N]\n",
            why);
    return 2;
}

static int read_psk(const char *path, uint8_t *psk, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    int rc = 0;
    if (ue_read_all(path, &text, &n) != MK_OK ||
        ue_hex(text, psk, MK_KEY_MAX, len) != MK_OK || *len == 0)
        rc = -1;
    if (text) {
        mk_wipe(text, n);
        free(text);
    }
    return rc;
}

static mk_bytes str(const char *s)
{
    return MK_BYTES(s, strlen(s));
}

int main(int argc, char **argv)
{
    const char *alice_file = NULL, *bob_file = NULL;
    double deadline_s = 300, t0, t1;
    client *cl;
    unsigned long total;
    long rss_end = -1, anon_end = -1;
    int rc = 0;

    C.clients = 16;
    C.requests = 500;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage("an option without its value");
        i++;
        if (strcmp(o, "--url") == 0)
            C.url = v;
        else if (strcmp(o, "--alice-psk-file") == 0)
            alice_file = v;
        else if (strcmp(o, "--bob-psk-file") == 0)
            bob_file = v;
        else if (strcmp(o, "--clients") == 0)
            C.clients = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(o, "--requests") == 0)
            C.requests = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(o, "--deadline") == 0)
            deadline_s = strtod(v, NULL);
        else if (strcmp(o, "--duration") == 0) {
            deadline_s = strtod(v, NULL);
            C.duration = true;
        } else if (strcmp(o, "--backoff-ms") == 0)
            C.backoff_ms = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(o, "--watch-pid") == 0)
            C.watch_pid = strtol(v, NULL, 10);
        else if (strcmp(o, "--rss-at") == 0)
            C.rss_at = strtoul(v, NULL, 10);
        else if (strcmp(o, "--pause-ms") == 0)
            C.pause_ms = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(o, "--answers") == 0) {
            if ((answers = fopen(v, "w")) == NULL)
                return usage("cannot write the --answers file");
        }
        else
            return usage("unknown option");
    }
    if (!C.url || !alice_file || !bob_file)
        return usage("--url, --alice-psk-file and --bob-psk-file are needed");
    if (C.clients == 0 || C.clients > CLIENTS_MAX || C.requests == 0 ||
        deadline_s <= 0)
        return usage("--clients 1..256, --requests and --deadline > 0");
    C.requests += C.requests & 1;
    if (read_psk(alice_file, C.alice_psk, &C.alice_psk_len) != 0 ||
        read_psk(bob_file, C.bob_psk, &C.bob_psk_len) != 0)
        return usage("cannot read a PSK file (hex)");
    C.alice.psk = MK_BYTES(C.alice_psk, C.alice_psk_len);
    C.alice.psk_id = str("alice");
    C.alice.impu = str("sip:alice@example.org");
    C.alice.kms_id = str("kms.example.org");
    C.bob.psk = MK_BYTES(C.bob_psk, C.bob_psk_len);
    C.bob.psk_id = str("bob");
    C.bob.impu = str("sip:bob@example.org");
    C.bob.kms_id = C.alice.kms_id;

    if (ue_http_global_init() != MK_OK)
        return 1;
    cl = calloc(C.clients, sizeof *cl);
    if (!cl)
        return 1;
    for (unsigned i = 0; i < C.clients; i++) {
        cl[i].id = i;
        if (ue_http_open(C.url, &cl[i].h) != MK_OK)
            return usage("cannot open the URL");
    }
    t0 = now_s();
    C.deadline = t0 + deadline_s;
    for (unsigned i = 0; i < C.clients; i++)
        if (pthread_create(&cl[i].th, NULL, run_client, &cl[i]) != 0) {
            fprintf(stderr, "load_client: cannot start client %u\n", i);
            return 1;
        }
    for (unsigned i = 0; i < C.clients; i++)
        pthread_join(cl[i].th, NULL);
    t1 = now_s();
    if (C.watch_pid > 0) {
        rss_end = status_kib(C.watch_pid, "VmRSS");
        anon_end = status_kib(C.watch_pid, "RssAnon");
    }

    total = C.duration ? atomic_load(&sent)
                       : (unsigned long)C.clients * C.requests;
    printf("requests=%lu\nok=%lu\nfailed=%lu\nseconds=%.2f\n"
           "per_second=%.0f\n",
           total, atomic_load(&answered), atomic_load(&failed), t1 - t0,
           (double)atomic_load(&answered) / (t1 - t0));
    if (C.watch_pid > 0)
        printf("rss_kib_at=%ld\nrss_kib_end=%ld\nanon_kib_at=%ld\n"
               "anon_kib_end=%ld\n",
               atomic_load(&rss_kib_at), rss_end, atomic_load(&anon_kib_at),
               anon_end);
    if (atomic_load(&answered) != total || atomic_load(&failed) != 0)
        rc = 1;
    if (answers != NULL && fclose(answers) != 0)
        rc = 1;
    for (unsigned i = 0; i < C.clients; i++) {
        ue_http_close(cl[i].h);
        mk_wipe(&cl[i], sizeof cl[i]);
    }
    free(cl);
    mk_wipe(C.alice_psk, sizeof C.alice_psk);
    mk_wipe(C.bob_psk, sizeof C.bob_psk);
    ue_http_global_cleanup();
    return rc;
}
