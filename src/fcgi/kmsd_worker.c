/* kmsd_worker.c - see kmsd_worker.h. */
#include "fcgi/kmsd_worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/kmsd_body.h"
#include "fcgi/kmsd_log.h"
#include "fcgi/kmsd_stats.h"
#include "fcgi/kmsd_status.h"
#include "fcgi/kmsd_maint.h"
#include "util/ntp.h"

struct kmsd_worker {
    kmsd_shared *sh;
    int index;
    kmsd_live live;     /* this worker's copy of sh->live */
    unsigned live_gen;  /* the sh->live_gen it was taken at */
    mk_sqlstore *sql;
    mk_pgstore *pg;     /* instead of sql with a PostgreSQL store */
    mk_kms_store iface; /* function table over sql or pg; mk_kms points at it */
    mk_kms *kms;
    FCGX_Request req;
    uint8_t *body;      /* body_max + 1 */
    size_t body_cap;
    uint8_t *msg;       /* mk_http_msg_max */
    size_t msg_cap;
    mk_kms_answer *answer;
    mk_http_reply *reply;
    char *status_page;  /* KMSD_STATUS_MAX, at the first status request */
    unsigned epoch; /* of the store file sql has open (kmsd_maint_store) */
    kmsd_gba *gba;      /* NULL when GBA is off */
};

kmsd_worker *kmsd_worker_new(kmsd_shared *shared, int index)
{
    kmsd_worker *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->sh = shared;
    w->index = index;
    /* before the workers run: nobody writes sh->live meanwhile */
    w->live = shared->live;
    w->live_gen = atomic_load(&shared->live_gen);
    w->body_cap = w->live.binding.body_max + 1;
    w->msg_cap = mk_http_msg_max(&w->live.binding);
    w->body = malloc(w->body_cap);
    w->msg = malloc(w->msg_cap);
    w->answer = malloc(sizeof *w->answer);
    w->reply = malloc(sizeof *w->reply);
    if (shared->gba.on)
        w->gba = kmsd_gba_new(&shared->gba, shared->node,
                              &shared->master_key);
    if (w->body == NULL || w->msg == NULL || w->answer == NULL ||
        w->reply == NULL || (shared->gba.on && w->gba == NULL) ||
        FCGX_InitRequest(&w->req, shared->listen_fd, 0) != 0) {
        kmsd_worker_free(w);
        return NULL;
    }
    return w;
}

static void close_core(kmsd_worker *w)
{
    mk_kms_free(w->kms);
    w->kms = NULL;
    mk_sqlstore_close(w->sql);
    w->sql = NULL;
    mk_pgstore_close(w->pg);
    w->pg = NULL;
}

void kmsd_worker_free(kmsd_worker *w)
{
    if (w == NULL)
        return;
    close_core(w);
    kmsd_gba_free(w->gba);
    FCGX_Free(&w->req, 1);
    if (w->msg != NULL)
        mk_wipe(w->msg, w->msg_cap);
    if (w->answer != NULL)
        mk_wipe(w->answer, sizeof *w->answer);
    free(w->body);
    free(w->msg);
    free(w->answer);
    free(w->reply);
    free(w->status_page);
    free(w);
}

mk_err kmsd_worker_open(kmsd_worker *w)
{
    if (w->kms != NULL)
        return MK_OK;
    mk_err e;
    if (w->sh->pg && w->pg == NULL) {
        /* a server that is down is retried at the next request (503 until
         * then); the connection reconnects by itself afterwards */
        mk_pgstore_opts o = {.timeout_ms = w->sh->busy_timeout_ms,
                             .durable = w->sh->durable,
                             .node = w->sh->node};
        e = mk_pgstore_open(w->sh->store_path,
                            mk_key_bytes(&w->sh->master_key), &o, &w->pg);
        if (e != MK_OK) {
            w->pg = NULL;
            return e;
        }
        w->iface = mk_pgstore_interface(w->pg);
    } else if (!w->sh->pg && w->sql == NULL) {
        /* a lookup that must wait for a locked store waits alone: the
         * other workers of the machine give up at once meanwhile
         * (doc/profile.md §9.45); a check writes nothing */
        mk_sqlstore_opts o = {.busy_timeout_ms = w->sh->busy_timeout_ms,
                              .read_only = w->sh->check_only,
                              .node = w->sh->node,
                              .shared_waits = true};
        (void)kmsd_maint_store(w->sh->maint, &w->epoch);
        e = mk_sqlstore_open_with(w->sh->store_path,
                                  mk_key_bytes(&w->sh->master_key), &o,
                                  &w->sql);
        if (e != MK_OK) {
            w->sql = NULL;
            return e;
        }
        w->iface = mk_sqlstore_interface(w->sql);
    }
    e = MK_OK;
    w->kms = mk_kms_new(&w->live.kms_config, &w->iface, &e);
    if (w->kms == NULL)
        return e != MK_OK ? e : MK_E_INTERNAL;
    if (w->gba != NULL)
        mk_kms_set_keysource(w->kms, kmsd_gba_keysource(w->gba));
    return MK_OK;
}

/* Between two requests: take the settings a reload published since the
 * last one (kmsd_live). */
static void take_live(kmsd_worker *w)
{
    kmsd_shared *sh = w->sh;
    if (atomic_load_explicit(&sh->live_gen, memory_order_acquire) ==
        w->live_gen)
        return;
    pthread_mutex_lock(&sh->live_lock);
    w->live = sh->live;
    w->live_gen = atomic_load(&sh->live_gen);
    pthread_mutex_unlock(&sh->live_lock);
    /* kmsd_reload checked the configuration the way mk_kms_new does */
    if (w->kms != NULL &&
        mk_kms_set_config(w->kms, &w->live.kms_config) != MK_OK)
        kmsd_log(MK_LOG_ERROR, "worker %d: reloaded KMS settings refused",
                 w->index);
}

/* ------------------------------------------------------------------ */

/* The detail of e if it was the last error raised on this thread. */
static const char *what_of(mk_err e)
{
    const mk_err_detail *d = mk_err_last();
    return d->code == e ? d->what : NULL;
}

/* doc/profile.md §12.2: the limit per client address, before any work
 * on the request. MK_OK (a token, or no limit), or MK_E_RATE_LIMITED with
 * *wait the seconds to the next token. A limit that cannot be checked
 * (the node's table full) limits nothing: logged, never a refusal of
 * everyone. */
static mk_err address_limit(const kmsd_worker *w, const mk_http_cgi *v,
                            uint32_t *wait)
{
    const mk_rate_limit *l = &w->live.rate_address;
    char name[96];
    *wait = 0;
    if (l->rate_milli == 0 || w->sh->node == NULL || v->remote_addr == NULL)
        return MK_OK;
    int n = snprintf(name, sizeof name, "address %s", v->remote_addr);
    if (n < 0 || (size_t)n >= sizeof name) { /* set by the server: never */
        kmsd_log(MK_LOG_WARN, "rate limit per address not checked: "
                 "REMOTE_ADDR longer than an address");
        return MK_OK;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ms = (uint64_t)now.tv_sec * 1000 +
                      (uint64_t)now.tv_nsec / 1000000;
    mk_err e = mk_node_rate_take(w->sh->node, MK_BYTES(name, (size_t)n),
                                 l->rate_milli, l->burst, now_ms, wait);
    if (e != MK_OK && e != MK_E_RATE_LIMITED) {
        kmsd_log(MK_LOG_WARN, "rate limit per address not checked: %s",
                 mk_err_name(e));
        mk_err_clear();
        return MK_OK;
    }
    return e;
}

/* The CGI variables of the request, in one pass over envp (eight
 * FCGX_GetParam calls scanned it eight times); the first occurrence of a
 * name counts, as with FCGX_GetParam. */
static void cgi_vars(char **envp, mk_http_cgi *v)
{
    static const struct {
        const char *name;
        size_t len;
        size_t at;
    } want[] = {
#define CGI_VAR(n, f) {n, sizeof n - 1, offsetof(mk_http_cgi, f)}
        CGI_VAR("REQUEST_METHOD", request_method),
        CGI_VAR("SERVER_PROTOCOL", server_protocol),
        CGI_VAR("SCRIPT_NAME", script_name),
        CGI_VAR("PATH_INFO", path_info),
        CGI_VAR("REQUEST_URI", request_uri),
        CGI_VAR("QUERY_STRING", query_string),
        CGI_VAR("CONTENT_TYPE", content_type),
        CGI_VAR("CONTENT_LENGTH", content_length),
        CGI_VAR("REMOTE_ADDR", remote_addr),
        CGI_VAR("HTTP_AUTHORIZATION", authorization),
#undef CGI_VAR
    };
    memset(v, 0, sizeof *v);
    for (char **p = envp; p != NULL && *p != NULL; p++) {
        const char *eq = strchr(*p, '=');
        if (eq == NULL)
            continue;
        size_t len = (size_t)(eq - *p);
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            const char **slot = (const char **)((char *)v + want[i].at);
            if (want[i].len == len && memcmp(*p, want[i].name, len) == 0) {
                if (*slot == NULL)
                    *slot = eq + 1;
                break;
            }
        }
    }
}

/* May the line of a refusal of an unauthenticated request be logged now
 * (kmsd_log.h rate limit)? Says how many were left out before it, and
 * counts the one left out now. */
static bool unauth_log_allowed(const kmsd_shared *sh)
{
    unsigned long dropped = 0;
    if (!kmsd_log_unauth_allowed(&dropped)) {
        if (sh->node != NULL)
            mk_node_stats_add(sh->node, KMSD_STAT_UNAUTH_LOG_DROPPED, 1);
        return false;
    }
    if (dropped > 0)
        kmsd_log_request("%lu lines of refusals of unauthenticated "
                         "requests were left out (rate limit, doc/profile.md "
                         "§9.39)", dropped);
    return true;
}

/* The worker's store before a request that needs it: MK_OK, or
 * MK_E_UNAVAILABLE (answer 503) with its cause logged once per interval.
 * A connection to a file the path no longer names is closed first
 * (kmsd_maint_store). */
static mk_err worker_store(kmsd_worker *w)
{
    unsigned epoch = 0;
    bool usable = kmsd_maint_store(w->sh->maint, &epoch);
    if (w->sql != NULL && epoch != w->epoch)
        close_core(w);
    if (!usable) {
        static const char gone[] = "store removed, replaced or unfit to "
                                   "serve";
        kmsd_log_limited(MK_LOG_WARN, gone, "answered 503: %s (the "
                         "maintenance thread says why)", gone);
        return mk_err_raise(MK_E_UNAVAILABLE, -1, 0, gone);
    }
    mk_err e = kmsd_worker_open(w);
    if (e == MK_OK)
        return MK_OK;
    const mk_err_detail *d = mk_err_last();
    const char *cause = d->code == e && d->what ? d->what : mk_err_name(e);
    kmsd_log_limited(MK_LOG_WARN, cause, "answered 503: store %s not "
                     "usable: %s (%s)", w->sh->store_path, cause,
                     mk_sqlstore_open_errmsg());
    return MK_E_UNAVAILABLE;
}

/* A request for the health or metrics page (kmsd_status.h): not one of
 * the annex's, so it is neither counted with them nor timed. */
static void serve_status(kmsd_worker *w, mk_http_page page,
                         const mk_http_cgi *v, const struct timespec *t0)
{
    const kmsd_live *live = &w->live;
    if (w->status_page == NULL &&
        (w->status_page = malloc(KMSD_STATUS_MAX)) == NULL) {
        kmsd_log(MK_LOG_ERROR, "worker %d: out of memory for a status page",
                 w->index);
        return; /* libfcgi ends the request without an answer */
    }
    kmsd_status_in in = {
        .node = w->sh->node,
        .ticket_key_max_age = live->ticket_key_max_age,
        .retry_after = live->retry_after,
        .now_unix = mk_ntp_to_unix(mk_ntp_now()),
    };
    in.store_err = worker_store(w);
    in.sql = in.store_err == MK_OK ? w->sql : NULL;
    in.pg = in.store_err == MK_OK ? w->pg : NULL;
    mk_err_clear();
    if (w->gba != NULL && page == MK_HTTP_PAGE_HEALTH) {
        /* the reason is a static string (util/err.h) */
        in.zn = kmsd_gba_zn_health(w->gba) == MK_OK ? "ok"
                : mk_err_last()->what != NULL ? mk_err_last()->what
                                              : "failed";
        mk_err_clear();
    }
    size_t len = 0;
    int status = kmsd_status_page(page, v->request_method, &in,
                                  w->status_page, KMSD_STATUS_MAX, &len);
    int put = FCGX_PutStr(w->status_page, (int)len, w->req.out);
    int flushed = FCGX_FFlush(w->req.out);
    kmsd_log_request("status=%d page=%s us=%llu%s", status,
                     page == MK_HTTP_PAGE_HEALTH    ? "health"
                     : page == MK_HTTP_PAGE_METRICS ? "metrics"
                                                    : "-",
                     (unsigned long long)kmsd_stats_since_us(t0),
                     (put < 0 || flushed < 0) ? " client=gone" : "");
}

/* What one request comes to (serve): decided by decide / kms_answer,
 * sent, counted and logged by send_answer. */
typedef struct answer_state {
    mk_service service;
    size_t msg_n;        /* bytes of the decoded message in w->msg */
    bool handled;        /* the KMS core answered: w->answer holds it */
    bool authenticated;  /* the core verified the sender */
    bool stale;          /* Ua Digest: the nonce was stale (doc/profile.md
                            §10) */
    int status;
    const char *what;
    mk_bytes mikey;      /* the MIKEY answer of a 200 */
    uint32_t retry_after;
    uint64_t now;
    mk_err e;
} answer_state;

/* The KMS core's answer to the message in w->msg. */
static void kms_answer(kmsd_worker *w, mk_bytes ua_user, answer_state *a)
{
    mk_kms_handle_ua(w->kms, a->service, MK_BYTES(w->msg, a->msg_n), a->now,
                     ua_user, w->answer);
    a->handled = true;
    a->e = w->answer->err;
    a->status = w->answer->http_status;
    a->authenticated = w->answer->authenticated;
    if (a->e == MK_E_RATE_LIMITED) {
        a->retry_after = w->answer->retry_after;
        a->what = "too many requests for this identity";
        kmsd_stats_rate_limited(w->sh->node, KMSD_RATE_BY_IDENTITY);
    }
    if (a->e == MK_E_INTERNAL) {
        /* profile §2: a bug that still yields an answer is a 503 (the
         * UE retries) and is logged; the detail is a static reason */
        const char *d = what_of(a->e);
        kmsd_log(MK_LOG_ERROR, "bug in the KMS core: %s",
                 d != NULL ? d : "no detail");
    } else if (a->e == MK_E_UNAVAILABLE) {
        /* why the UE is told to come back: store locked, disk full,
         * node state full (a static reason, never a value of the
         * request), once per cause and interval */
        const char *d = what_of(a->e);
        if (d == NULL)
            d = "no detail";
        kmsd_log_limited(MK_LOG_WARN, d, "answered 503: %s", d);
    }
    if (a->status == 200)
        a->mikey = MK_BYTES(w->answer->body, w->answer->body_len);
    else if (a->status == 400 || a->status == 401 || a->status == 504)
        a->what = what_of(a->e); /* names a payload / field, never a value */
}

/* The answer to a request of the KMS mount: the address's rate, the HTTP
 * binding (annex X1) and Ua Digest, the store, then the KMS core. */
static void decide(kmsd_worker *w, const mk_http_cgi *v, size_t body_n,
                   answer_state *a)
{
    const kmsd_shared *sh = w->sh;
    const kmsd_live *live = &w->live;
    uint32_t wait = 0;
    mk_bytes ua_user = MK_BYTES_NONE; /* doc/profile.md §10: Ua */
    a->retry_after = live->retry_after;
    a->now = mk_ntp_now();
    a->e = address_limit(w, v, &wait);
    if (a->e == MK_E_RATE_LIMITED) {
        a->status = 503;
        a->what = "too many requests from this address";
        a->retry_after = wait;
        kmsd_stats_rate_limited(sh->node, KMSD_RATE_BY_ADDRESS);
    } else if ((a->e = mk_http_decide(&live->binding, v,
                                      MK_BYTES(w->body, body_n), &a->service,
                                      w->msg, w->msg_cap, &a->msg_n)) !=
                   MK_OK ||
               (sh->gba.digest &&
                (a->e = kmsd_gba_ua_check(
                     w->gba, v->request_method, v->request_uri,
                     v->authorization, MK_BYTES(w->body, body_n),
                     mk_ntp_to_unix(a->now), &ua_user, &a->stale)) !=
                    MK_OK)) {
        a->status = mk_err_http_status(a->e);
        a->what = what_of(a->e);
    } else if ((a->e = worker_store(w)) != MK_OK) {
        /* store busy or down: the UE retries (profile §2) */
        a->status = 503;
    } else {
        kms_answer(w, ua_user, a);
    }
}

/* The HTTP answer written, counted and logged; the message and the
 * answer's bytes wiped. */
static void send_answer(kmsd_worker *w, answer_state *a,
                        const struct timespec *t0)
{
    const kmsd_shared *sh = w->sh;
    mk_err rc;
    char challenge[MK_DIGEST_HEADER_MAX];
    if (a->retry_after == 0)
        a->retry_after = 1;
    if (a->status == 401 && w->gba != NULL &&
        kmsd_gba_challenge(w->gba, a->stale, mk_ntp_to_unix(a->now),
                           challenge, sizeof challenge) == MK_OK)
        /* RFC 7235 §3.1: a fresh challenge with every 401 */
        rc = mk_http_reply_format_401(w->reply, a->e, a->what, challenge,
                                      a->retry_after);
    else
        rc = mk_http_reply_format(w->reply, a->status, a->e, a->what,
                                  a->mikey, a->retry_after);
    if (rc != MK_OK)
        kmsd_log(MK_LOG_ERROR,
                 "bug: status %d with error '%s' answered as 503 (%s)",
                 a->status, mk_err_name(a->e), mk_err_name(rc));

    /* doc/profile.md §9.39: every answer counted, before it leaves; a
     * refusal of a request whose sender was not authenticated has no
     * record, and its log line is rate-limited (anyone can send such
     * requests, as fast as they like); the others are logged one line
     * each */
    bool unauth = !a->authenticated && a->e != MK_OK;
    kmsd_stats_count(sh->node, (int)a->service, w->reply->status, a->e,
                     unauth);
    bool log_it = !unauth || unauth_log_allowed(sh);

    int put = FCGX_PutStr(w->reply->text, (int)w->reply->len, w->req.out);
    int flushed = FCGX_FFlush(w->req.out);
    uint64_t took = kmsd_stats_since_us(t0);
    kmsd_stats_answer_time(sh->node, took);

    if (log_it)
        kmsd_log_request("status=%d service=%s err=\"%s\" us=%llu%s%s",
                         w->reply->status,
                         mk_http_service_name((int)a->service),
                         mk_err_name(a->e), (unsigned long long)took,
                         (put < 0 || flushed < 0) ? " client=gone" : "",
                         unauth ? " auth=no" : "");

    mk_wipe(w->msg, a->msg_n);
    /* the answer's bytes (ciphertext and public fields; mk_kms_handle wipes
     * a refused one itself), not the whole 8 KiB buffer */
    if (a->handled)
        mk_wipe(w->answer->body, w->answer->body_len);
}

static void serve(kmsd_worker *w)
{
    const kmsd_shared *sh = w->sh;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mk_err_clear();

    mk_http_cgi v;
    cgi_vars(w->req.envp, &v);
    kmsd_gba_begin(w->gba);

    size_t body_n = kmsd_body_read(w->req.in, w->body, w->body_cap);
    if (body_n == w->body_cap) /* bounded, see KMSD_DRAIN_MAX */
        kmsd_body_drain(w->req.in, KMSD_DRAIN_MAX);
    if (FCGX_GetError(w->req.in) != 0) {
        /* The connection ended before the end of the body (the client or
         * the web server went away): nothing to answer, nothing to act on.
         * libfcgi closes the connection in FCGX_Finish_r. Anyone can do
         * that: logged at the bounded rate (§9.39). */
        if (unauth_log_allowed(sh))
            kmsd_log_request("status=- service=- err=\"%s\" us=%llu "
                             "client=gone", "body incomplete",
                             (unsigned long long)kmsd_stats_since_us(&t0));
        return;
    }

    mk_http_page page = mk_http_status_page(w->live.status_mount, &v);
    if (page != MK_HTTP_PAGE_NONE) {
        serve_status(w, page, &v, &t0);
        return;
    }

    answer_state a = {.service = (mk_service)0, .mikey = MK_BYTES_NONE};
    decide(w, &v, body_n, &a);
    send_answer(w, &a, &t0);
}

static void report_fatal(kmsd_shared *sh)
{
    atomic_store(&sh->fatal, 1);
    pthread_kill(sh->main_thread, SIGTERM);
}

void *kmsd_worker_run(void *arg)
{
    kmsd_worker *w = arg;
    kmsd_shared *sh = w->sh;
    for (;;) {
        struct pollfd p[2] = {
            {.fd = sh->listen_fd, .events = POLLIN},
            {.fd = sh->wake_fd, .events = POLLIN},
        };
        int r = poll(p, 2, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            kmsd_log(MK_LOG_ERROR, "worker %d: poll: %s", w->index,
                     strerror(errno));
            report_fatal(sh);
            break;
        }
        if (p[1].revents != 0)
            break; /* shutting down; nothing is in flight here */
        if ((p[0].revents & (POLLERR | POLLNVAL)) != 0) {
            kmsd_log(MK_LOG_ERROR, "worker %d: listening socket failed",
                     w->index);
            report_fatal(sh);
            break;
        }
        if ((p[0].revents & POLLIN) == 0)
            continue;
        /* The listening socket is non-blocking: when another worker (or
         * process) took the connection, accept fails with EAGAIN. */
        int a = FCGX_Accept_r(&w->req);
        if (a < 0) {
            if (a == -EAGAIN || a == -EWOULDBLOCK || a == -EINTR ||
                a == -ECONNABORTED || a == -EPROTO || a == -ECONNRESET)
                continue;
            if (a == -EMFILE || a == -ENFILE || a == -ENOBUFS ||
                a == -ENOMEM) {
                kmsd_log(MK_LOG_WARN, "worker %d: accept: %s", w->index,
                         strerror(-a));
                struct timespec pause = {0, 100 * 1000 * 1000};
                nanosleep(&pause, NULL);
                continue;
            }
            kmsd_log(MK_LOG_ERROR, "worker %d: accept failed (%d)", w->index,
                     a);
            report_fatal(sh);
            break;
        }
        take_live(w);
        serve(w);
        FCGX_Finish_r(&w->req);
    }
    return NULL;
}
