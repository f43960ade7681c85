/* kmsd_stats.c - see kmsd_stats.h. */
#include "fcgi/kmsd_stats.h"

#include <stdio.h>

static const int statuses[] = KMSD_STATS_STATUSES;
#define N_STATUSES (sizeof statuses / sizeof statuses[0])
#define MIKEY_ERRORS 16
#define ZN_VERDICTS (MK_ZN_UNAVAILABLE + 2) /* the verdicts, then "no answer" */

_Static_assert(N_STATUSES + 1 <= KMSD_STAT_MIKEY_ERROR - KMSD_STAT_STATUS,
               "status family overlaps the next one");
_Static_assert(MK_E__COUNT <= KMSD_STAT_UNAUTH_TOTAL - KMSD_STAT_UNAUTH,
               "outcome family overlaps the next one");

static const char *const services[] = {"none", "ticketrequest",
                                       "ticketresolve"};

static unsigned status_index(int status)
{
    for (unsigned i = 0; i < N_STATUSES; i++)
        if (statuses[i] == status)
            return i;
    return (unsigned)N_STATUSES; /* "other" */
}

void kmsd_stats_count(mk_node *n, int service, int status, mk_err e,
                      bool unauthenticated_refusal)
{
    if (n == NULL)
        return;
    if (service < 0 || service > 2)
        service = 0;
    mk_node_stats_add(n, KMSD_STAT_REQUESTS, 1);
    mk_node_stats_add(n, KMSD_STAT_SERVICE + (unsigned)service, 1);
    mk_node_stats_add(n, KMSD_STAT_STATUS + status_index(status), 1);
    int no = mk_err_mikey_errno(e);
    if (status == 200 && no >= 0 && no < MIKEY_ERRORS)
        mk_node_stats_add(n, KMSD_STAT_MIKEY_ERROR + (unsigned)no, 1);
    if (unauthenticated_refusal) {
        unsigned o = (unsigned)e < (unsigned)MK_E__COUNT ? (unsigned)e
                                                         : MK_E_INTERNAL;
        mk_node_stats_add(n, KMSD_STAT_UNAUTH + o, 1);
        mk_node_stats_add(n, KMSD_STAT_UNAUTH_TOTAL, 1);
    }
}

_Static_assert(KMSD_STAT_ANSWER_HIST + MK_NODE_HIST_SLOTS <=
                   KMSD_STAT_ZN_HIST,
               "answer histogram overlaps the Zn one");
_Static_assert(KMSD_STAT_ZN_HIST + MK_NODE_HIST_SLOTS <= KMSD_STAT_ZN_VERDICT,
               "Zn histogram overlaps the verdicts");
_Static_assert(KMSD_STAT_ZN_VERDICT + ZN_VERDICTS <= KMSD_STAT_COMMIT_HIST,
               "Zn verdicts overlap the store's histogram");

/* The histogram families: MK_NODE_HIST_SLOTS slots from each base. */
static const struct hist_family {
    unsigned base;
    const char *family, *count, *sum;
} hists[] = {
    {KMSD_STAT_ANSWER_HIST, "answer_us", "answer_us_count", "answer_us_sum"},
    {KMSD_STAT_ZN_HIST, "zn_lookup_us", "zn_lookup_us_count",
     "zn_lookup_us_sum"},
    {KMSD_STAT_COMMIT_HIST, "store_commit_us", "store_commit_us_count",
     "store_commit_us_sum"},
};
#define N_HISTS (sizeof hists / sizeof hists[0])

static const struct hist_family *hist_of(unsigned slot)
{
    for (size_t i = 0; i < N_HISTS; i++)
        if (slot >= hists[i].base && slot < hists[i].base + MK_NODE_HIST_SLOTS)
            return &hists[i];
    return NULL;
}

bool kmsd_stats_in_histogram(unsigned slot) { return hist_of(slot) != NULL; }

/* A histogram slot's name: "<family>{bucket=...}", _count, _sum_us. */
static bool hist_name(unsigned slot, kmsd_stat_name *out)
{
    static const uint64_t bounds[] = MK_NODE_HIST_BOUNDS_US;
    const struct hist_family *h = hist_of(slot);
    if (h == NULL)
        return false;
    unsigned b = slot - h->base;
    if (b == MK_NODE_HIST_BUCKETS) {
        out->family = h->count;
        return true;
    }
    if (b == MK_NODE_HIST_BUCKETS + 1) {
        out->family = h->sum;
        return true;
    }
    out->family = h->family;
    out->label = "bucket";
    if (b + 1 == MK_NODE_HIST_BUCKETS)
        snprintf(out->buf, sizeof out->buf, "over %llu",
                 (unsigned long long)bounds[b - 1]);
    else
        snprintf(out->buf, sizeof out->buf, "up to %llu",
                 (unsigned long long)bounds[b]);
    out->value = out->buf;
    return true;
}

void kmsd_stats_rate_limited(mk_node *n, int by)
{
    if (n != NULL && (by == KMSD_RATE_BY_ADDRESS || by == KMSD_RATE_BY_IDENTITY))
        mk_node_stats_add(n, KMSD_STAT_RATE_LIMITED + (unsigned)by, 1);
}

void kmsd_stats_answer_time(mk_node *n, uint64_t us)
{
    if (n != NULL)
        mk_node_stats_observe(n, KMSD_STAT_ANSWER_HIST, us);
}

void kmsd_stats_zn_lookup(mk_node *n, mk_err e, mk_zn_status v, uint64_t us)
{
    if (n == NULL)
        return;
    unsigned k = e != MK_OK || (unsigned)v > MK_ZN_UNAVAILABLE
                     ? ZN_VERDICTS - 1
                     : (unsigned)v;
    mk_node_stats_observe(n, KMSD_STAT_ZN_HIST, us);
    mk_node_stats_add(n, KMSD_STAT_ZN_VERDICT + k, 1);
}

uint64_t kmsd_stats_since_us(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long us = (long long)(t1.tv_sec - t0->tv_sec) * 1000000LL +
                   (long long)(t1.tv_nsec - t0->tv_nsec) / 1000LL;
    return us > 0 ? (uint64_t)us : 0;
}

bool kmsd_stats_name(unsigned slot, kmsd_stat_name *out)
{
    out->label = out->value = NULL;
    out->buf[0] = '\0';
    if (slot == KMSD_STAT_REQUESTS) {
        out->family = "requests_total";
        return true;
    }
    if (slot >= KMSD_STAT_SERVICE && slot < KMSD_STAT_SERVICE + 3) {
        out->family = "requests";
        out->label = "service";
        out->value = services[slot - KMSD_STAT_SERVICE];
        return true;
    }
    if (slot >= KMSD_STAT_STATUS && slot <= KMSD_STAT_STATUS + N_STATUSES) {
        unsigned i = slot - KMSD_STAT_STATUS;
        out->family = "responses";
        out->label = "status";
        if (i == N_STATUSES)
            out->value = "other";
        else {
            snprintf(out->buf, sizeof out->buf, "%d", statuses[i]);
            out->value = out->buf;
        }
        return true;
    }
    if (slot >= KMSD_STAT_MIKEY_ERROR &&
        slot < KMSD_STAT_MIKEY_ERROR + MIKEY_ERRORS) {
        out->family = "mikey_errors";
        out->label = "error";
        snprintf(out->buf, sizeof out->buf, "%u",
                 slot - KMSD_STAT_MIKEY_ERROR);
        out->value = out->buf;
        return true;
    }
    if (slot >= KMSD_STAT_UNAUTH && slot < KMSD_STAT_UNAUTH + MK_E__COUNT) {
        out->family = "unauthenticated_refusals";
        out->label = "outcome";
        out->value = mk_err_name((mk_err)(slot - KMSD_STAT_UNAUTH));
        return true;
    }
    if (slot == KMSD_STAT_UNAUTH_TOTAL) {
        out->family = "unauthenticated_refusals_total";
        return true;
    }
    if (slot == KMSD_STAT_UNAUTH_LOG_DROPPED) {
        out->family = "unauthenticated_log_lines_dropped_total";
        return true;
    }
    if (slot == KMSD_STAT_RATE_LIMITED + KMSD_RATE_BY_ADDRESS ||
        slot == KMSD_STAT_RATE_LIMITED + KMSD_RATE_BY_IDENTITY) {
        out->family = "rate_limited";
        out->label = "limit";
        out->value = slot == KMSD_STAT_RATE_LIMITED ? "address" : "identity";
        return true;
    }
    if (slot >= KMSD_STAT_ZN_VERDICT &&
        slot < KMSD_STAT_ZN_VERDICT + ZN_VERDICTS) {
        unsigned v = slot - KMSD_STAT_ZN_VERDICT;
        out->family = "zn_lookups";
        out->label = "verdict";
        out->value = v == ZN_VERDICTS - 1 ? "no-answer"
                                          : mk_zn_status_name((mk_zn_status)v);
        return true;
    }
    return hist_name(slot, out);
}
