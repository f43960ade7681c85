/* node_stats.c - the node's shared counters (node.h, mk_node_stats_*).
 *
 * PATH-stats is a file of MK_NODE_STATS_SLOTS 64-bit counters after a
 * 64-byte header, mapped shared by every process. Counting must cost
 * nothing on the answer path: an atomic add on the mapped page, no
 * transaction, no system call. A process killed between two adds loses
 * nothing that was added; the file is not synced (counters are not
 * records), so a power loss may take back the last seconds of counts.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/node_int.h"

#define STATS_MAGIC "mkstats1"
#define STATS_HEADER 8 /* header slots: the magic, the store wait, reserved */
#define STATS_BYTES ((STATS_HEADER + MK_NODE_STATS_SLOTS) * sizeof(uint64_t))

mk_err mk_node_stats_open(mk_node *n)
{
    char path[MK_NODE_PATH_MAX + 8];
    struct stat sb;
    snprintf(path, sizeof path, "%s-stats", n->cfg.path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        MK_FAIL(MK_E_UNAVAILABLE, "cannot open the node's counters");
    mk_node_own(n->cfg.path, fd);
    /* a new file grows to its size with zeros, its blocks allocated (it
     * is written through the map: node_env.c); one of another size or
     * kind is not ours */
    if (fstat(fd, &sb) != 0) {
        close(fd);
        MK_FAIL(MK_E_UNAVAILABLE, "cannot size the node's counters");
    }
    if (sb.st_size != 0 && (size_t)sb.st_size != STATS_BYTES) {
        close(fd);
        MK_FAIL(MK_E_CONFIG, "the node's counters file has another size");
    }
    mk_err rc = mk_node_reserve_file(fd, STATS_BYTES);
    if (rc != MK_OK) {
        close(fd);
        return rc;
    }
    void *m = mmap(NULL, STATS_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   0);
    close(fd);
    if (m == MAP_FAILED)
        MK_FAIL(MK_E_UNAVAILABLE, "cannot map the node's counters");
    uint64_t *p = m;
    /* the magic is written once, by whoever finds the file zero; the
     * counters are zero then whoever writes it */
    char magic[8];
    memcpy(magic, STATS_MAGIC, sizeof magic);
    uint64_t want, zero = 0;
    memcpy(&want, magic, sizeof want);
    if (!__atomic_compare_exchange_n(&p[0], &zero, want, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
        zero != want) {
        munmap(m, STATS_BYTES);
        MK_FAIL(MK_E_CONFIG, "the node's counters file is not ours");
    }
    n->stats = p + STATS_HEADER;
    return MK_OK;
}

void mk_node_stats_close(mk_node *n)
{
    if (n->stats != NULL)
        munmap(n->stats - STATS_HEADER, STATS_BYTES);
    n->stats = NULL;
}

void mk_node_stats_add(mk_node *n, unsigned slot, uint64_t delta)
{
    if (slot < MK_NODE_STATS_SLOTS)
        __atomic_fetch_add(&n->stats[slot], delta, __ATOMIC_RELAXED);
}

void mk_node_stats_set(mk_node *n, unsigned slot, uint64_t value)
{
    if (slot < MK_NODE_STATS_SLOTS)
        __atomic_store_n(&n->stats[slot], value, __ATOMIC_RELAXED);
}

uint64_t mk_node_stats_get(const mk_node *n, unsigned slot)
{
    if (slot >= MK_NODE_STATS_SLOTS)
        return 0;
    return __atomic_load_n(&n->stats[slot], __ATOMIC_RELAXED);
}

void mk_node_stats_observe(mk_node *n, unsigned base, uint64_t us)
{
    static const uint64_t bounds[] = MK_NODE_HIST_BOUNDS_US;
    _Static_assert(sizeof bounds / sizeof bounds[0] + 1 ==
                       MK_NODE_HIST_BUCKETS,
                   "one bucket per bound and one above them");
    unsigned b = 0;
    while (b < MK_NODE_HIST_BUCKETS - 1 && us > bounds[b])
        b++;
    mk_node_stats_add(n, base + b, 1);
    mk_node_stats_add(n, base + MK_NODE_HIST_BUCKETS, 1);
    mk_node_stats_add(n, base + MK_NODE_HIST_BUCKETS + 1, us);
}

/* The header's word 1: the store wait of node.h (mk_node_wait_claim). */
#define WAIT_WORD 1

bool mk_node_wait_claim(mk_node *n, uint64_t now_ms, uint64_t until_ms)
{
    uint64_t *w = n->stats - STATS_HEADER + WAIT_WORD;
    uint64_t cur = __atomic_load_n(w, __ATOMIC_ACQUIRE);
    do {
        if (cur > now_ms)
            return false;
    } while (!__atomic_compare_exchange_n(w, &cur, until_ms, false,
                                          __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    return true;
}

void mk_node_wait_release(mk_node *n, uint64_t until_ms)
{
    uint64_t *w = n->stats - STATS_HEADER + WAIT_WORD;
    uint64_t expect = until_ms;
    (void)__atomic_compare_exchange_n(w, &expect, 0, false, __ATOMIC_ACQ_REL,
                                      __ATOMIC_RELAXED);
}
