/* kmsd_status.c - see kmsd_status.h. */
#include "fcgi/kmsd_status.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "fcgi/kmsd_stats.h"

/* Text with a sticky overflow: a page that does not fit is never sent
 * cut short (it becomes a 503). */
typedef struct text {
    char *p;
    size_t cap, n;
    bool over;
} text;

static void put(text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
    if (t->over)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= t->cap - t->n)
        t->over = true;
    else
        t->n += (size_t)w;
}

/* A ticket key id as JSON / label text: printable ASCII without quotes or
 * backslashes, anything else '?' (ids are kmsctl's "tpk-0001"). */
static void key_id_text(const mk_ticket_key_info *k, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < k->id_len && n + 1 < cap; i++) {
        uint8_t c = k->id[i];
        out[n++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
                       ? (char)c
                       : '?';
    }
    out[n] = '\0';
}

/* ---- metrics ---- */

/* The Prometheus name of a counter family of kmsd_stats.h: labelled
 * families say what they are split by ("responses" by "status" ->
 * mikeykms_responses_by_status_total), so that no name holds both a
 * total and its parts. */
static void metric_name(const kmsd_stat_name *nm, char *out, size_t cap)
{
    size_t fl = strlen(nm->family);
    bool total = fl > 6 && strcmp(nm->family + fl - 6, "_total") == 0;
    if (nm->label != NULL)
        snprintf(out, cap, "mikeykms_%.*s_by_%s_total",
                 (int)(total ? fl - 6 : fl), nm->family, nm->label);
    else
        snprintf(out, cap, "mikeykms_%s%s", nm->family,
                 total ? "" : "_total");
}

static void counters(text *t, mk_node *n)
{
    char last[96] = "";
    for (unsigned slot = 0; slot < KMSD_STAT_END; slot++) {
        kmsd_stat_name nm;
        char name[96];
        /* the histograms are written by histogram() */
        if (kmsd_stats_in_histogram(slot) || !kmsd_stats_name(slot, &nm))
            continue;
        metric_name(&nm, name, sizeof name);
        if (strcmp(name, last) != 0) {
            put(t, "# TYPE %s counter\n", name);
            memcpy(last, name, sizeof last);
        }
        unsigned long long v =
            n != NULL ? (unsigned long long)mk_node_stats_get(n, slot) : 0;
        if (nm.label != NULL)
            put(t, "%s{%s=\"%s\"} %llu\n", name, nm.label, nm.value, v);
        else
            put(t, "%s %llu\n", name, v);
    }
}

/* A histogram of the node's counters (MK_NODE_HIST_*) in seconds. */
static void histogram(text *t, mk_node *n, unsigned base, const char *name,
                      const char *help)
{
    static const uint64_t bounds[] = MK_NODE_HIST_BOUNDS_US;
    unsigned long long cum = 0;
    put(t, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (unsigned b = 0; b + 1 < MK_NODE_HIST_BUCKETS; b++) {
        cum += n != NULL ? mk_node_stats_get(n, base + b) : 0;
        put(t, "%s_bucket{le=\"%g\"} %llu\n", name,
            (double)bounds[b] / 1e6, cum);
    }
    uint64_t count = n != NULL ? mk_node_stats_get(n, base +
                                                   MK_NODE_HIST_BUCKETS)
                               : 0;
    uint64_t sum = n != NULL ? mk_node_stats_get(n, base +
                                                 MK_NODE_HIST_BUCKETS + 1)
                             : 0;
    put(t, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)count);
    put(t, "%s_sum %.6f\n%s_count %llu\n", name, (double)sum / 1e6, name,
        (unsigned long long)count);
}

typedef struct key_walk {
    text *t;             /* metrics: one line per key; NULL for health */
    uint64_t now_unix;
    bool have_active;
    uint64_t active_age;
    char active_id[MK_TK_ID_MAX + 1];
} key_walk;

static uint64_t age_of(const mk_ticket_key_info *k, uint64_t now)
{
    return now > k->created_unix ? now - k->created_unix : 0;
}

static mk_err key_cb(void *arg, const mk_ticket_key_info *k)
{
    key_walk *kw = arg;
    if (k->state == MK_TK_RETIRED)
        return MK_OK;
    char id[MK_TK_ID_MAX + 1];
    key_id_text(k, id, sizeof id);
    bool active = k->state == MK_TK_ACTIVE;
    if (active) {
        kw->have_active = true;
        kw->active_age = age_of(k, kw->now_unix);
        memcpy(kw->active_id, id, sizeof id);
    }
    if (kw->t != NULL)
        put(kw->t, "mikeykms_ticket_key_age_seconds{key=\"%s\",state=\"%s\"} "
                   "%llu\n",
            id, active ? "active" : "resolve-only",
            (unsigned long long)age_of(k, kw->now_unix));
    return MK_OK;
}

/* The ticket keys of whichever store the worker has. */
static mk_err key_list(const kmsd_status_in *in, key_walk *kw)
{
    if (in->pg != NULL)
        return mk_pgstore_ticket_key_list(in->pg, key_cb, kw);
    return mk_sqlstore_ticket_key_list(in->sql, key_cb, kw);
}

static void metrics(text *t, const kmsd_status_in *in)
{
    put(t, "# mikeykms: counters of every kmsd process of this node\n");
    counters(t, in->node);
    histogram(t, in->node, KMSD_STAT_ANSWER_HIST,
              "mikeykms_answer_duration_seconds",
              "From the request read to the answer written, by kmsd.");
    histogram(t, in->node, KMSD_STAT_ZN_HIST,
              "mikeykms_zn_lookup_duration_seconds",
              "A lookup of a B-TID through kms-znd (GBA): the BIR/BIA "
              "round trip to the BSF.");
    histogram(t, in->node, KMSD_STAT_COMMIT_HIST,
              "mikeykms_store_commit_duration_seconds",
              "The commit of one answer's replay entry and record to the "
              "node state.");
    mk_node_status st;
    if (in->node != NULL && mk_node_status_get(in->node, &st) == MK_OK) {
        put(t, "# TYPE mikeykms_replay_cache_entries gauge\n"
               "mikeykms_replay_cache_entries %llu\n"
               "# TYPE mikeykms_replay_cache_capacity gauge\n"
               "mikeykms_replay_cache_capacity %llu\n"
               "# TYPE mikeykms_record_journal_entries gauge\n"
               "mikeykms_record_journal_entries %llu\n"
               "# TYPE mikeykms_record_journal_capacity gauge\n"
               "mikeykms_record_journal_capacity %llu\n",
            (unsigned long long)st.replay_entries,
            (unsigned long long)st.replay_max,
            (unsigned long long)st.journal_entries,
            (unsigned long long)st.journal_max);
    }
    mk_err_clear();
    if (in->sql != NULL || in->pg != NULL) {
        key_walk kw = {.t = t, .now_unix = in->now_unix};
        put(t, "# HELP mikeykms_ticket_key_age_seconds Age of each ticket "
               "key that is not retired.\n"
               "# TYPE mikeykms_ticket_key_age_seconds gauge\n");
        mk_err_drop(key_list(in, &kw),
                    "the page goes on without the keys not listed; the "
                    "health page reports the store");
        mk_err_clear();
    }
}

/* ---- health ---- */

/* Each check: "ok" or the reason it failed (static or in buf). */
typedef struct checks {
    const char *store, *selftest, *ticket_key, *node_state, *zn;
    char key_buf[160];
    bool ok;
} checks;

static void run_checks(const kmsd_status_in *in, checks *c)
{
    memset(c, 0, sizeof *c);
    c->store = c->selftest = c->ticket_key = c->node_state = "ok";
    key_walk kw = {.now_unix = in->now_unix};
    if (in->sql == NULL && in->pg == NULL) {
        c->store = "the store cannot be opened";
        c->ticket_key = "not checked (no store)";
    } else if (key_list(in, &kw) != MK_OK) {
        c->store = "the store cannot be read";
        c->ticket_key = "not checked (store not readable)";
    } else if (!kw.have_active) {
        c->ticket_key = "no active ticket key (kmsctl ticketkey rotate)";
    } else if (in->ticket_key_max_age != 0 &&
               kw.active_age > in->ticket_key_max_age) {
        snprintf(c->key_buf, sizeof c->key_buf,
                 "active ticket key %s is %llu s old, over "
                 "ticket_key_max_age %u (kmsctl ticketkey rotate)",
                 kw.active_id, (unsigned long long)kw.active_age,
                 (unsigned)in->ticket_key_max_age);
        c->ticket_key = c->key_buf;
    }
    /* the known-answer tests kmsd ran at start, run again: a library
     * swapped underneath a running service shows here */
    if (mk_crypto_selftest() != MK_OK)
        c->selftest = "a known-answer test of the crypto failed";
    mk_node_status st;
    if (in->node == NULL || mk_node_status_get(in->node, &st) != MK_OK)
        c->node_state = "the node state cannot be read";
    else if (st.replay_entries >= st.replay_max)
        c->node_state = "replay cache full";
    else if (st.journal_entries >= st.journal_max)
        c->node_state = "record journal full (records not drained)";
    mk_err_clear();
    c->zn = in->zn; /* NULL: GBA off, not a check */
    c->ok = strcmp(c->store, "ok") == 0 && strcmp(c->selftest, "ok") == 0 &&
            strcmp(c->ticket_key, "ok") == 0 &&
            strcmp(c->node_state, "ok") == 0 &&
            (c->zn == NULL || strcmp(c->zn, "ok") == 0);
}

static void health(text *t, const checks *c)
{
    put(t,
        "{\"status\":\"%s\",\"checks\":{\"store\":\"%s\","
        "\"crypto_selftest\":\"%s\",\"ticket_key\":\"%s\","
        "\"node_state\":\"%s\"",
        c->ok ? "ok" : "unavailable", c->store, c->selftest, c->ticket_key,
        c->node_state);
    if (c->zn != NULL)
        put(t, ",\"zn\":\"%s\"", c->zn);
    put(t, "}}\n");
}

/* ---- the response ---- */

/* The header block at out[0], then the body (built at body->p, above the
 * header's room) moved down behind it. */
static int respond(int status, const char *type, const char *extra,
                   const text *body, bool head, char *out, size_t room,
                   size_t *len)
{
    const char *phrase = mk_http_status_phrase(status);
    int w = snprintf(out, room,
                     "Status: %d %s\r\nContent-Type: %s\r\n"
                     "Cache-Control: no-store\r\n%sContent-Length: %zu\r\n\r\n",
                     status, phrase, type, extra, body->n);
    if (w < 0 || (size_t)w >= room) { /* the header never is that long */
        *len = 0;
        return -1;
    }
    *len = (size_t)w;
    if (!head) {
        memmove(out + *len, body->p, body->n);
        *len += body->n;
    }
    return status;
}

int kmsd_status_page(mk_http_page page, const char *method,
                     const kmsd_status_in *in, char *out, size_t cap,
                     size_t *len)
{
    /* the body is built in the upper part of out, then moved down behind
     * the header block (at most some 200 bytes) */
    enum { HEADER_ROOM = 512 };
    if (cap <= 2 * HEADER_ROOM) {
        *len = 0;
        return -1;
    }
    text t = {.p = out + HEADER_ROOM, .cap = cap - HEADER_ROOM};
    char extra[64] = "";
    int status = 200;
    const char *type = "text/plain; charset=utf-8";
    bool head = method != NULL && strcmp(method, "HEAD") == 0;
    bool get = method != NULL && strcmp(method, "GET") == 0;

    if (page == MK_HTTP_PAGE_UNKNOWN) {
        status = 404;
        put(&t, "no such page (health, metrics)\n");
    } else if (!get && !head) {
        status = 405;
        snprintf(extra, sizeof extra, "Allow: GET, HEAD\r\n");
        put(&t, "only GET and HEAD\n");
    } else if (page == MK_HTTP_PAGE_METRICS) {
        type = "text/plain; version=0.0.4; charset=utf-8";
        metrics(&t, in);
    } else {
        checks c;
        run_checks(in, &c);
        type = "application/json";
        health(&t, &c);
        if (!c.ok) {
            status = 503;
            snprintf(extra, sizeof extra, "Retry-After: %u\r\n",
                     (unsigned)in->retry_after);
        }
    }
    if (t.over) { /* never a page cut short */
        t.n = 0;
        t.over = false;
        status = 503;
        type = "text/plain";
        snprintf(extra, sizeof extra, "Retry-After: %u\r\n",
                 (unsigned)in->retry_after);
        put(&t, "status page larger than its buffer\n");
    }
    return respond(status, type, extra, &t, head, out, HEADER_ROOM, len);
}
