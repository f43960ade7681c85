/* kmsd_stats.h - what kmsd counts in the node's shared counters (store/
 * node.h mk_node_stats_*): the ONE list of every slot, its name and its
 * meaning, so that every reader (kmsctl stats, a metrics exporter) names
 * them alike (doc/profile.md §9.39).
 *
 * Owns: the slot layout below, kmsd_stats_count (one request's counts)
 * and kmsd_stats_name (a slot's metric name and label).
 *
 * The counters live in the node file PATH-stats, shared by every kmsd
 * process and thread of the machine, and are never reset by kmsd: a
 * reader takes differences. Slot numbers are part of that file: never
 * renumber or reuse one; a new family takes a free range and is added to
 * kmsd_stats_name.
 *
 *   slot       name                                 meaning
 *   0          requests_total                       requests answered
 *   8 + s      requests{service}                    by service asked for:
 *                                                   s 0 none (refused
 *                                                   before routing), 1
 *                                                   ticketrequest, 2
 *                                                   ticketresolve
 *   16 + i     responses{status}                    by HTTP status: i is
 *                                                   the index of the status
 *                                                   in KMSD_STATS_STATUSES,
 *                                                   its last entry "other"
 *   48 + n     mikey_errors{error}                  200 answers carrying a
 *                                                   MIKEY Error message,
 *                                                   by Error number n
 *                                                   (0..15)
 *   64 + e     unauthenticated_refusals{outcome}    refusals of requests
 *                                                   whose V did not verify
 *                                                   or was never reached
 *                                                   (no record is written
 *                                                   for them), by outcome:
 *                                                   e is the mk_err, the
 *                                                   label its mk_err_name
 *   192        unauthenticated_refusals_total       their sum
 *   193        unauthenticated_log_lines_dropped_total  their log lines
 *                                                   left out by the rate
 *                                                   limit (kmsd_log.h)
 *   194 + b    rate_limited{limit}                  503s of the rate
 *                                                   limits (doc/profile.md
 *                                                   §12.2): b 0 address, 1
 *                                                   identity
 *   256 + b    answer_us{bucket}                    duration of each
 *                                                   answer (request read to
 *                                                   answer written), one
 *                                                   slot per bucket b of
 *                                                   MK_NODE_HIST_BOUNDS_US
 *                                                   (store/node.h), then
 *                                                   its count (+12) and
 *                                                   sum in us (+13)
 *   320 + b    store_commit_us{bucket}              the same for each
 *                                                   answer's commit to the
 *                                                   node state, counted by
 *                                                   the store
 *                                                   (MK_NODE_STAT_COMMIT_
 *                                                   HIST)
 *   270 + b    zn_lookup_us{bucket}                 the same for each
 *                                                   lookup of a B-TID
 *                                                   through kms-znd (the
 *                                                   BIR/BIA round trip,
 *                                                   or a twin's wait)
 *   284 + v    zn_lookups{verdict}                  those lookups by
 *                                                   verdict: v the
 *                                                   mk_zn_status (0 ok,
 *                                                   1 unknown, 2
 *                                                   forbidden, 3 timeout,
 *                                                   4 unavailable), 5 no
 *                                                   answer from kms-znd
 *   290 .. 319, 334 ..  free
 */
#ifndef MK_FCGI_KMSD_STATS_H
#define MK_FCGI_KMSD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gba/zn_wire.h"

#include "store/node.h"
#include "util/err.h"

enum {
    KMSD_STAT_REQUESTS = 0,
    KMSD_STAT_SERVICE = 8,       /* + service, 0..2 */
    KMSD_STAT_STATUS = 16,       /* + status index, < 32 */
    KMSD_STAT_MIKEY_ERROR = 48,  /* + MIKEY Error number, 0..15 */
    KMSD_STAT_UNAUTH = 64,       /* + mk_err, < 128 */
    KMSD_STAT_UNAUTH_TOTAL = 192,
    KMSD_STAT_UNAUTH_LOG_DROPPED = 193,
    KMSD_STAT_RATE_LIMITED = 194, /* + KMSD_RATE_BY_* */
    KMSD_STAT_ANSWER_HIST = 256, /* + MK_NODE_HIST_SLOTS */
    KMSD_STAT_ZN_HIST = 270,     /* + MK_NODE_HIST_SLOTS */
    KMSD_STAT_ZN_VERDICT = 284,  /* + mk_zn_status, or + 5: no answer */
    KMSD_STAT_COMMIT_HIST = MK_NODE_STAT_COMMIT_HIST,
    KMSD_STAT_END = MK_NODE_STAT_COMMIT_HIST + MK_NODE_HIST_SLOTS,
};

/* The statuses counted one by one (annex X1.2, doc/profile.md §2); any
 * other falls in "other", the last slot of the family. */
#define KMSD_STATS_STATUSES \
    {200, 400, 401, 403, 404, 405, 501, 503, 504, 505}

/* Count one answered request into n (NULL: nothing): its service (0 when
 * refused before routing), the HTTP status written, the error it was
 * answered with (the MIKEY Error number when status is 200 and e has
 * one), and whether it is a refusal of an unauthenticated request. */
void kmsd_stats_count(mk_node *n, int service, int status, mk_err e,
                      bool unauthenticated_refusal);

enum { KMSD_RATE_BY_ADDRESS = 0, KMSD_RATE_BY_IDENTITY = 1 };
/* One 503 of a rate limit (n NULL: nothing). */
void kmsd_stats_rate_limited(mk_node *n, int by);

/* The duration of one answer into its histogram (n NULL: nothing). */
void kmsd_stats_answer_time(mk_node *n, uint64_t us);

/* One lookup through kms-znd that took us: e is MK_OK when kms-znd
 * answered, with the BSF's verdict v (n NULL: nothing). */
void kmsd_stats_zn_lookup(mk_node *n, mk_err e, mk_zn_status v, uint64_t us);

/* Microseconds of CLOCK_MONOTONIC since t0 (0 if the clock went back). */
uint64_t kmsd_stats_since_us(const struct timespec *t0);

/* A slot's name: the family ("requests", "responses", ...), and for a
 * labelled family the label's name and value (label NULL otherwise).
 * false for a slot no family uses. value points into buf. */
typedef struct kmsd_stat_name {
    const char *family;
    const char *label;
    const char *value;
    char buf[32];
} kmsd_stat_name;
bool kmsd_stats_name(unsigned slot, kmsd_stat_name *out);
/* Whether slot belongs to a histogram family (answer_us, zn_lookup_us,
 * store_commit_us): readers that print histograms apart skip these. */
bool kmsd_stats_in_histogram(unsigned slot);

#endif
