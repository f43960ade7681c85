/* kms-znd - the Zn daemon of a KMS node (doc/profile.md §10): the node's
 * one Diameter identity and connection to the BSF (TS 29.109), serving
 * the kmsd processes and threads of the machine over a Unix socket.
 *
 *   kms-znd [--config FILE] [--verbose] [--syslog]
 *
 * Reads the KMS configuration (kms.conf: zn_socket, zn_diameter_conf,
 * zn_realm, zn_bsf, zn_timeout_ms); the freeDiameter file it names holds
 * the node's Diameter identity, realm, TLS credentials, transport (TCP or
 * SCTP) and the BSF as a peer. Under mod_fcgid a machine runs many kmsd
 * processes; they all ask this one daemon, so the BSF sees one NAF peer
 * per node, not one per process.
 *
 * A kmsd asks one question per connection round (zn_wire.h): the B-TID
 * and the NAF_Id; kms-znd sends a Bootstrapping-Info-Request to zn_bsf in
 * zn_realm and answers with the verdict (ok with IMPI, Ks_NAF, expiry and
 * the IMPUs of the USS; unknown, forbidden, timeout, unavailable). Lookups
 * of the same B-TID and NAF_Id that meet in flight share one BIR, and a
 * usable answer serves the lookups of the next LINGER_MS too, so that
 * several processes missing the node's cache at once cost one BIR. When
 * the BSF is not connected the answer is "unavailable" at once (kmsd: 503).
 *
 * Signals: SIGTERM / SIGINT stop it (Diameter disconnects, the socket file
 * is removed). Exit status 0 after a stop, 1 when it cannot start, 2 on a
 * usage error.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "zn/zn_fd.h"

#include "fcgi/kmsd_io.h"
#include "fcgi/kmsd_listen.h"
#include "fcgi/kmsd_log.h"
#include "front/config.h"
#include "gba/zn_wire.h"
#include "util/ntp.h"

#define PROG "kms-znd"
#define CONN_MAX 256          /* kmsd connections served at once */
#define FLIGHTS_MAX 4096      /* distinct lookups in flight or lingering */
#define LINGER_MS 2000        /* a usable answer serves late twins */
#define IDLE_MS 60000         /* a silent kmsd connection is closed */
#define KEY_MAX (MK_GBA_BTID_MAX + 1 + MK_GBA_NAF_ID_MAX)

static const char usage_text[] =
    "usage: " PROG " [--config FILE] [--verbose] [--syslog]\n"
    "\n"
    "The Zn daemon of a KMS node: one Diameter connection to the BSF for\n"
    "every kmsd process of the machine. --config defaults to\n"
    "$MIKEYKMS_CONFIG, else /etc/mikeykms/kms.conf.\n";

static mk_config cfg;
static atomic_int conns;

static long mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000L + t.tv_nsec / 1000L;
}

/* ------------------------------------------------------------------ */
/* lookups in flight                                                   */

typedef struct flight {
    struct flight *next;
    uint8_t key[KEY_MAX];
    size_t key_len;
    uint8_t btid[MK_GBA_BTID_MAX];
    size_t btid_len;
    bool done;
    long done_us, sent_us;
    int refs;            /* waiting threads + the BIR not yet answered */
    mk_zn_answer ans;    /* holds Ks_NAF once done: wiped when freed */
    pthread_cond_t cond;
} flight;

static pthread_mutex_t fl_mu = PTHREAD_MUTEX_INITIALIZER;
static flight *flights;
static size_t n_flights;

static bool lingers(const flight *f, long now_us)
{
    /* 401 and 403 are answers too; a timeout or no connection is not */
    return f->ans.status != MK_ZN_TIMEOUT &&
           f->ans.status != MK_ZN_UNAVAILABLE &&
           now_us - f->done_us <= LINGER_MS * 1000L &&
           (f->ans.status != MK_ZN_OK ||
            f->ans.info.expires_unix > (uint64_t)time(NULL));
}

/* Free what nobody needs any more; fl_mu held. */
static void sweep(long now_us)
{
    flight **pp = &flights;
    while (*pp != NULL) {
        flight *f = *pp;
        if (f->refs == 0 && f->done && !lingers(f, now_us)) {
            *pp = f->next;
            mk_gba_info_wipe(&f->ans.info);
            pthread_cond_destroy(&f->cond);
            free(f);
            n_flights--;
        } else {
            pp = &f->next;
        }
    }
}

/* The BIR's outcome, once; fl_mu taken here. */
static void finish(flight *f, const mk_zn_answer *a)
{
    char btid[MK_GBA_BTID_MAX + 1];
    long us;
    pthread_mutex_lock(&fl_mu);
    f->ans = *a;
    f->done = true;
    f->done_us = mono_us();
    us = f->done_us - f->sent_us;
    memcpy(btid, f->btid, f->btid_len);
    btid[f->btid_len] = '\0';
    f->refs--; /* f may be freed by another thread from here on */
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&fl_mu);
    kmsd_log(MK_LOG_INFO, "BIR btid=%s result=%u verdict=%s us=%ld", btid,
             (unsigned)a->result_code, mk_zn_status_name(a->status), us);
}

static uint32_t be32(const union avp_value *v)
{
    const uint8_t *p = v->os.data;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

/* A BIA into a verdict (29.109 §6.1.2, §6.3: doc/profile.md §10). */
static void read_bia(struct msg *m, mk_zn_answer *a)
{
    union avp_value *v = NULL;
    struct avp *er;
    memset(a, 0, sizeof *a);
    a->status = MK_ZN_UNAVAILABLE;
    if ((er = mk_zn_find(m, MK_ZN_AVP_EXPERIMENTAL_RESULT, 0, NULL)) != NULL) {
        if (mk_zn_find(er, MK_ZN_AVP_EXPERIMENTAL_RESULT_CODE, 0, &v) == NULL ||
            v == NULL)
            return;
        a->result_code = v->u32;
        if (v->u32 == MK_ZN_IMPI_UNKNOWN || v->u32 == MK_ZN_TID_INVALID)
            a->status = MK_ZN_UNKNOWN;
        else if (v->u32 == MK_ZN_NOT_AUTHORIZED)
            a->status = MK_ZN_FORBIDDEN;
        return;
    }
    if (mk_zn_find(m, MK_ZN_AVP_RESULT_CODE, 0, &v) == NULL || v == NULL)
        return;
    a->result_code = v->u32;
    if (v->u32 != 2001) /* DIAMETER_SUCCESS; 3002, 3004, ...: 503 */
        return;
    mk_gba_info *g = &a->info;
    const char *why = NULL;
    if (mk_zn_find(m, MK_ZN_AVP_ME_KEY, MK_ZN_VENDOR_3GPP, &v) == NULL ||
        v == NULL || v->os.len != MK_GBA_KEY_LEN)
        why = "ME-Key-Material missing or not 32 bytes";
    else if (mk_key_copy(&g->ks_naf, MK_BYTES(v->os.data, v->os.len)) != MK_OK)
        why = "ME-Key-Material not taken";
    if (why == NULL &&
        (mk_zn_find(m, MK_ZN_AVP_USER_NAME, 0, &v) == NULL || v == NULL ||
         v->os.len == 0 || v->os.len > MK_GBA_IMPI_MAX ||
         memchr(v->os.data, '\0', v->os.len) != NULL))
        why = "User-Name (IMPI) missing";
    if (why == NULL) {
        memcpy(g->impi, v->os.data, v->os.len);
        g->impi[v->os.len] = '\0';
    }
    if (why == NULL &&
        (mk_zn_find(m, MK_ZN_AVP_KEY_EXPIRY, MK_ZN_VENDOR_3GPP, &v) == NULL ||
         v == NULL || v->os.len != 4))
        why = "Key-ExpiryTime missing";
    if (why == NULL)
        g->expires_unix = mk_ntp32_to_unix(be32(v));
    if (why == NULL &&
        mk_zn_find(m, MK_ZN_AVP_CREATION_TIME, MK_ZN_VENDOR_3GPP, &v) != NULL &&
        v != NULL && v->os.len == 4)
        g->created_unix = mk_ntp32_to_unix(be32(v));
    if (why == NULL &&
        mk_zn_find(m, MK_ZN_AVP_USS, MK_ZN_VENDOR_3GPP, &v) != NULL &&
        v != NULL &&
        mk_gba_uss_impus(MK_BYTES(v->os.data, v->os.len), g) != MK_OK)
        why = "GBA-UserSecSettings unreadable";
    if (why != NULL) {
        kmsd_log(MK_LOG_ERROR, "BIA refused: %s", why);
        mk_gba_info_wipe(g);
        return;
    }
    a->status = MK_ZN_OK;
}

static void on_answer(void *data, struct msg **m)
{
    mk_zn_answer a;
    read_bia(*m, &a);
    finish(data, &a);
    mk_gba_info_wipe(&a.info);
    /* the answer's AVPs held Ks_NAF: freeDiameter frees (not wipes) */
    fd_msg_free(*m);
    *m = NULL;
}

static void on_expire(void *data, DiamId_t to, size_t tolen, struct msg **m)
{
    mk_zn_answer a;
    (void)to;
    (void)tolen;
    memset(&a, 0, sizeof a);
    a.status = MK_ZN_TIMEOUT;
    finish(data, &a);
    fd_msg_free(*m);
    *m = NULL;
}

static bool bsf_open(void)
{
    struct peer_hdr *p = NULL;
    return fd_peer_getbyid(cfg.zn_bsf, strlen(cfg.zn_bsf), 1, &p) == 0 &&
           p != NULL && fd_peer_get_state(p) == STATE_OPEN;
}

/* Build and send the BIR of f (29.109 §6.1.1). */
static int send_bir(flight *f, const mk_zn_request *rq)
{
    struct msg *m = NULL;
    struct timespec deadline;
    int r;
    if ((r = fd_msg_new(mk_zn.bir, MSGFL_ALLOC_ETEID, &m)) != 0)
        return r;
    if ((r = fd_msg_new_session(m, (os0_t)PROG, sizeof PROG - 1)) != 0 ||
        (r = mk_zn_add_vsai(m)) != 0 ||
        (r = fd_msg_add_origin(m, 0)) != 0 ||
        (r = mk_zn_add_os(m, mk_zn.dest_realm, cfg.zn_realm,
                          strlen(cfg.zn_realm))) != 0 ||
        (r = mk_zn_add_os(m, mk_zn.dest_host, cfg.zn_bsf,
                          strlen(cfg.zn_bsf))) != 0 ||
        (r = mk_zn_add_os(m, mk_zn.tid, rq->btid, rq->btid_len)) != 0 ||
        (r = mk_zn_add_os(m, mk_zn.naf_id, rq->naf_id, rq->naf_id_len)) != 0)
        goto fail;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += cfg.zn_timeout_ms / 1000;
    deadline.tv_nsec += (long)(cfg.zn_timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    f->sent_us = mono_us();
    if ((r = fd_msg_send_timeout(&m, on_answer, f, on_expire, &deadline)) != 0)
        goto fail;
    return 0;
fail:
    if (m != NULL)
        fd_msg_free(m);
    return r;
}

/* One lookup: join a twin in flight (or lingering), else send a BIR. */
static void lookup(const mk_zn_request *rq, mk_zn_answer *out)
{
    uint8_t key[KEY_MAX];
    size_t kn = rq->btid_len + 1 + rq->naf_id_len;
    flight *f;
    memset(out, 0, sizeof *out);
    memcpy(key, rq->btid, rq->btid_len);
    key[rq->btid_len] = 0;
    memcpy(key + rq->btid_len + 1, rq->naf_id, rq->naf_id_len);

    /* before fl_mu: freeDiameter's peer lock is never taken under ours */
    bool open = bsf_open();
    pthread_mutex_lock(&fl_mu);
    long now = mono_us();
    sweep(now);
    for (f = flights; f != NULL; f = f->next)
        if (f->key_len == kn && memcmp(f->key, key, kn) == 0 &&
            (!f->done || lingers(f, now)))
            break;
    bool sender = f == NULL;
    if (sender) {
        /* no connection: say so now, not after the timeout */
        if (n_flights >= FLIGHTS_MAX || !open) {
            pthread_mutex_unlock(&fl_mu);
            out->status = MK_ZN_UNAVAILABLE;
            return;
        }
        f = calloc(1, sizeof *f);
        if (f == NULL) {
            pthread_mutex_unlock(&fl_mu);
            out->status = MK_ZN_UNAVAILABLE;
            return;
        }
        memcpy(f->key, key, kn);
        f->key_len = kn;
        memcpy(f->btid, rq->btid, rq->btid_len);
        f->btid_len = rq->btid_len;
        pthread_cond_init(&f->cond, NULL);
        f->refs = 2; /* this thread, the BIR */
        f->next = flights;
        flights = f;
        n_flights++;
    } else {
        f->refs++;
    }
    pthread_mutex_unlock(&fl_mu);

    if (sender && send_bir(f, rq) != 0) {
        mk_zn_answer a;
        memset(&a, 0, sizeof a);
        a.status = MK_ZN_UNAVAILABLE;
        f->sent_us = mono_us();
        finish(f, &a);
    }

    /* freeDiameter calls back by the timeout; the margin covers a callback
     * that never comes */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += cfg.zn_timeout_ms / 1000 + 2;
    pthread_mutex_lock(&fl_mu);
    while (!f->done)
        if (pthread_cond_timedwait(&f->cond, &fl_mu, &until) == ETIMEDOUT)
            break;
    if (f->done)
        *out = f->ans;
    else
        out->status = MK_ZN_TIMEOUT;
    f->refs--;
    pthread_mutex_unlock(&fl_mu);
}

/* ------------------------------------------------------------------ */
/* kmsd connections                                                    */

/* Exactly n bytes; false on EOF, an error or IDLE_MS of silence. */
static bool read_all(int fd, uint8_t *p, size_t n)
{
    return kmsd_io_read_all(fd, p, n, IDLE_MS) == 1;
}

static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    static _Thread_local uint8_t buf[MK_ZN_FRAME_MAX];
    mk_zn_request rq;
    mk_zn_answer a;
    size_t body = 0, n = 0;
    for (;;) {
        if (!read_all(fd, buf, 4) || mk_zn_frame_len(buf, &body) != MK_OK ||
            !read_all(fd, buf + 4, body) ||
            mk_zn_request_decode(MK_BYTES(buf + 4, body), &rq) != MK_OK)
            break;
        if (rq.op == MK_ZN_OP_STATUS) {
            memset(&a, 0, sizeof a);
            a.status = bsf_open() ? MK_ZN_OK : MK_ZN_UNAVAILABLE;
        } else {
            lookup(&rq, &a);
        }
        a.op = rq.op;
        mk_err e = mk_zn_answer_encode(&a, buf, sizeof buf, &n);
        mk_gba_info_wipe(&a.info);
        bool ok = e == MK_OK && kmsd_io_write_all(fd, buf, n);
        mk_wipe(buf, sizeof buf);
        if (!ok)
            break;
    }
    close(fd);
    atomic_fetch_sub(&conns, 1);
    return NULL;
}

typedef struct acceptor {
    int listen_fd, wake_fd;
} acceptor;

static void *accept_loop(void *arg)
{
    acceptor *ac = arg;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    for (;;) {
        struct pollfd p[2] = {{.fd = ac->listen_fd, .events = POLLIN},
                              {.fd = ac->wake_fd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents != 0)
            break;
        int fd = accept(ac->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_t t;
        /* over the bound: closed at once, that kmsd answers 503 */
        if (atomic_fetch_add(&conns, 1) >= CONN_MAX ||
            pthread_create(&t, &at, serve_conn, (void *)(intptr_t)fd) != 0) {
            atomic_fetch_sub(&conns, 1);
            close(fd);
        }
    }
    pthread_attr_destroy(&at);
    return NULL;
}

/* Is somebody serving this socket already? */
static bool socket_in_use(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool used = false;
    size_t n = strlen(path);
    if (fd < 0)
        return false;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (n >= sizeof sa.sun_path) {
        close(fd);
        return false;
    }
    memcpy(sa.sun_path, path, n + 1);
    used = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return used;
}

/* ------------------------------------------------------------------ */

/* 0 to run; 1 after --help was printed; 2 on a usage error. */
static int parse_args(int argc, char **argv, const char **conf, bool *verbose,
                      bool *use_syslog)
{
    *conf = getenv("MIKEYKMS_CONFIG");
    if (*conf == NULL || (*conf)[0] == '\0')
        *conf = "/etc/mikeykms/kms.conf";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            *conf = argv[++i];
        } else if (strcmp(argv[i], "--verbose") == 0) {
            *verbose = true;
        } else if (strcmp(argv[i], "--syslog") == 0) {
            *use_syslog = true;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 1;
        } else {
            fprintf(stderr, PROG ": unknown or incomplete option '%s'\n%s",
                    argv[i], usage_text);
            return 2;
        }
    }
    return 0;
}

/* The configuration (cfg) with its Zn settings, and the socket not served
 * by another kms-znd: 0, else the exit status 1. */
static int load_config(const char *conf)
{
    mk_err e = mk_config_load(conf, &cfg);
    if (e != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "configuration: %s",
                 cfg.error[0] != '\0' ? cfg.error : mk_err_name(e));
        return 1;
    }
    kmsd_log_set_level(cfg.log_level);
    if (cfg.zn_diameter_conf[0] == '\0' || cfg.zn_realm[0] == '\0' ||
        cfg.zn_bsf[0] == '\0') {
        kmsd_log(MK_LOG_ERROR, "configuration %s: zn_diameter_conf, zn_realm "
                 "and zn_bsf are needed", conf);
        return 1;
    }
    if (socket_in_use(cfg.zn_socket)) {
        kmsd_log(MK_LOG_ERROR, "%s is served by another kms-znd: one Diameter "
                 "identity per node", cfg.zn_socket);
        return 1;
    }
    return 0;
}

/* Until SIGTERM or SIGINT, saying when the BSF comes and goes. */
static void wait_for_stop(const sigset_t *stop)
{
    bool was_open = false;
    struct timespec tick = {0, 200 * 1000 * 1000};
    for (;;) {
        int sig = sigtimedwait(stop, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            kmsd_log(MK_LOG_INFO, "signal %d: stopping", sig);
            break;
        }
        bool open = bsf_open();
        if (open != was_open)
            kmsd_log(MK_LOG_INFO, "BSF %s %s", cfg.zn_bsf,
                     open ? "connected" : "not connected");
        was_open = open;
    }
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    bool verbose = false, use_syslog = false;
    int pa = parse_args(argc, argv, &conf, &verbose, &use_syslog);
    if (pa != 0)
        return pa == 1 ? 0 : 2;

    /* every thread, freeDiameter's too, inherits this mask; the main
     * thread takes the signals with sigwait() */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    kmsd_log_init(PROG, use_syslog, MK_LOG_INFO);

    if (load_config(conf) != 0)
        return 1;

    mk_err e;
    kmsd_listen_addr la;
    char spec[MK_CONFIG_PATH_MAX + 8];
    int listen_fd = -1, pipefd[2] = {-1, -1}, rc = 1;
    pthread_t acc;
    bool acc_started = false, fd_started = false;
    snprintf(spec, sizeof spec, "unix:%s", cfg.zn_socket);
    if (kmsd_listen_parse(spec, &la) != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "zn_socket %s: %s", cfg.zn_socket,
                 mk_err_last()->what);
        return 1;
    }
    if (mk_zn_fd_start(cfg.zn_diameter_conf, verbose, NULL) != 0)
        return 1;
    fd_started = true;
    /* only the KMS's user (and its group: a web server's kmsd) */
    mode_t old = umask(0117);
    e = kmsd_listen_open(&la, &listen_fd);
    umask(old);
    if (e != MK_OK) {
        kmsd_log(MK_LOG_ERROR, "zn_socket %s: %s", cfg.zn_socket,
                 strerror(errno));
        goto out;
    }
    if (pipe(pipefd) != 0)
        goto out;
    acceptor ac = {.listen_fd = listen_fd, .wake_fd = pipefd[0]};
    if (pthread_create(&acc, NULL, accept_loop, &ac) != 0)
        goto out;
    acc_started = true;
    kmsd_log(MK_LOG_INFO, "serving %s; BSF %s in realm %s, Zn timeout %u ms",
             cfg.zn_socket, cfg.zn_bsf, cfg.zn_realm,
             (unsigned)cfg.zn_timeout_ms);

    wait_for_stop(&stop);
    rc = 0;

out:
    if (acc_started) {
        ssize_t w;
        do
            w = write(pipefd[1], "x", 1);
        while (w < 0 && errno == EINTR);
        pthread_join(acc, NULL);
    }
    if (listen_fd >= 0)
        kmsd_listen_close(&la, listen_fd);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (fd_started)
        mk_zn_fd_stop();
    kmsd_log(MK_LOG_INFO, "stopped");
    kmsd_log_close();
    return rc;
}
