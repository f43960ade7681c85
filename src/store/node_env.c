/* node_env.c - opening the node's LMDB environment once per process, its
 * meta values, the shared sync of a durable node, status (node.h; the restart rule is node_boot.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "store/node_int.h"
#include "util/path.h"

/* Map size per entry, with the B-tree's slack: a replay entry is 32 + 8
 * bytes of data and 8 of node header; a record is at most
 * MK_NODE_RECORD_MAX; a kv entry at most 8 + 128 + 256. */
#define REPLAY_BYTES 160u
#define JOURNAL_BYTES (MK_NODE_RECORD_MAX + 256u)
#define KV_BYTES 1024u
#define MAP_BASE (16u << 20)

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static mk_node *registry;

void mk_node_config_defaults(mk_node_config *c)
{
    memset(c, 0, sizeof *c);
    c->replay_max = 4000000;
    c->journal_max = 1000000;
    c->kv_max = 100000;
    c->durable = false;
    c->skew_seconds = 300;
}

mk_err mk_node_default_path(const char *store_path, char *out, size_t cap)
{
    int w = snprintf(out, cap, "%s-node", store_path);
    if (w < 0 || (size_t)w >= cap)
        MK_FAIL(MK_E_CONFIG, "node state path too long");
    return MK_OK;
}

mk_err mk_node_err(int rc, const char *what)
{
    switch (rc) {
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return mk_err_raise(MK_E_CONFIG, -1, 0, what);
    case EINVAL:
        return mk_err_raise(MK_E_ARG, -1, 0, what);
    /* full, I/O, a damaged or panicked environment: 503, the detail
     * naming the cause for the log (what the operation was matters less) */
    case ENOSPC:
    case EDQUOT:
        return mk_err_raise(MK_E_UNAVAILABLE, -1, 0, "disk full (node state)");
    case MDB_MAP_FULL:
        return mk_err_raise(MK_E_UNAVAILABLE, -1, 0,
                            "node state file full (its map size)");
    case EIO:
        return mk_err_raise(MK_E_UNAVAILABLE, -1, 0,
                            "I/O error on the node state");
    case MDB_CORRUPTED:
    case MDB_PANIC:
    case MDB_PAGE_NOTFOUND:
        return mk_err_raise(MK_E_UNAVAILABLE, -1, 0, "node state damaged");
    default:
        return mk_err_raise(MK_E_UNAVAILABLE, -1, 0, what);
    }
}

/* Disk blocks reserved ahead of the pages in use, before every write
 * transaction. With MDB_WRITEMAP a commit writes its pages through the
 * map, into a sparse file: a page whose block the file system cannot
 * allocate (disk full) is a SIGBUS that kills the process, not an error.
 * So the file's blocks are allocated (posix_fallocate) at least
 * RESERVE_AHEAD beyond the last page in use (512 pages of 4 KiB: more than
 * any one of our transactions adds; a prune batch of 10000 entries
 * copies about 200), RESERVE_CHUNK more when the disk has it, and a disk
 * that cannot give RESERVE_AHEAD is MK_E_UNAVAILABLE ("disk full (node
 * state)": 503) before anything is written (profile §9.46). */
#define RESERVE_AHEAD (2u << 20)
#define RESERVE_CHUNK (16u << 20)

/* The first `bytes` of a file written through a map (node_int.h). */
mk_err mk_node_reserve_file(int fd, uint64_t bytes)
{
    int r = posix_fallocate(fd, 0, (off_t)bytes);
    if (r == ENOSPC || r == EDQUOT)
        MK_FAIL(MK_E_UNAVAILABLE, "disk full (node state)");
    if (r != 0)
        MK_FAIL(MK_E_UNAVAILABLE, "I/O error on the node state (cannot "
                                  "reserve its blocks)");
    return MK_OK;
}

static mk_err reserve_space(mk_node *n)
{
    MDB_envinfo info;
    if (mdb_env_info(n->env, &info) != MDB_SUCCESS)
        MK_FAIL(MK_E_UNAVAILABLE, "cannot read the node state's size");
    uint64_t need = (uint64_t)(info.me_last_pgno + 1) * n->page_size +
                    RESERVE_AHEAD;
    if (need > info.me_mapsize)
        need = info.me_mapsize;
    uint64_t have = __atomic_load_n(&n->reserved, __ATOMIC_RELAXED);
    if (need <= have)
        return MK_OK;
    uint64_t to = need + RESERVE_CHUNK;
    if (to > info.me_mapsize)
        to = info.me_mapsize;
    int fd = -1;
    if (mdb_env_get_fd(n->env, &fd) != MDB_SUCCESS)
        MK_FAIL(MK_E_UNAVAILABLE, "cannot reach the node state's file");
    /* blocks already there (another process reserved them) cost nothing;
     * a disk too full for the chunk may still have what is needed now */
    if (posix_fallocate(fd, 0, (off_t)to) != 0)
        to = need;
    MK_GUARD(mk_node_reserve_file(fd, to));
    __atomic_store_n(&n->reserved, to, __ATOMIC_RELAXED);
    return MK_OK;
}

mk_err mk_node_txn(mk_node *n, bool rdonly, MDB_txn **out)
{
    *out = NULL;
    if (!rdonly)
        MK_GUARD(reserve_space(n));
    int rc = mdb_txn_begin(n->env, NULL, rdonly ? MDB_RDONLY : 0, out);
    if (rc != MDB_SUCCESS) {
        *out = NULL;
        return mk_node_err(rc, "cannot begin a node state transaction");
    }
    return MK_OK;
}

mk_err mk_node_commit(MDB_txn *txn, const char *what)
{
    int rc = mdb_txn_commit(txn);
    return rc == MDB_SUCCESS ? MK_OK : mk_node_err(rc, what);
}

void mk_node_put_u64(uint8_t *p, uint64_t v)
{
    mk_buf b;
    mk_buf_init(&b, p, 8);
    (void)mk_buf_u64(&b, v); /* 8 bytes always fit */
}

uint64_t mk_node_get_u64(const uint8_t *p)
{
    mk_cursor c;
    uint64_t v = 0;
    mk_cur_init(&c, MK_BYTES(p, 8));
    if (mk_cur_u64(&c, &v) != MK_OK) /* 8 bytes always there */
        return 0;
    return v;
}

static MDB_val meta_key(const char *key)
{
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key};
    return k;
}

bool mk_node_meta_u64(MDB_txn *txn, mk_node *n, const char *key,
                      uint64_t *out)
{
    MDB_val k = meta_key(key), v;
    if (mdb_get(txn, n->meta, &k, &v) != MDB_SUCCESS || v.mv_size != 8)
        return false;
    *out = mk_node_get_u64(v.mv_data);
    return true;
}

static mk_err mk_node_meta_put(MDB_txn *txn, mk_node *n, const char *key,
                               const void *val, size_t len)
{
    MDB_val k = meta_key(key);
    MDB_val v = {.mv_size = len, .mv_data = (void *)val};
    int rc = mdb_put(txn, n->meta, &k, &v, 0);
    return rc == MDB_SUCCESS ? MK_OK
                             : mk_node_err(rc, "cannot write node state");
}

mk_err mk_node_meta_put_u64(MDB_txn *txn, mk_node *n, const char *key,
                            uint64_t v)
{
    uint8_t b[8];
    mk_node_put_u64(b, v);
    return mk_node_meta_put(txn, n, key, b, sizeof b);
}

/* First open of the file in this process: create the meta values of a new
 * file (with the restart rule's mark when the entries of an earlier file
 * may be lost: node.h), or check those of an existing one. */
static mk_err open_meta(mk_node *n, MDB_txn *txn, mk_node_create create)
{
    uint64_t version = 0;
    MDB_val k = meta_key("version"), v;
    int rc = mdb_get(txn, n->meta, &k, &v);

    if (rc == MDB_NOTFOUND) { /* a new file */
        if (create == MK_NODE_OPEN_AS_IS)
            MK_FAIL(MK_E_CONFIG, "not a node state file (empty)");
        MK_GUARD(mk_random(n->node_id, sizeof n->node_id));
        MK_GUARD(mk_node_meta_put_u64(txn, n, "version", MK_NODE_FORMAT));
        MK_GUARD(mk_node_meta_put(txn, n, "node_id", n->node_id,
                                  sizeof n->node_id));
        MK_GUARD(mk_node_meta_put_u64(txn, n, "seq", 1));
        if (create == MK_NODE_CREATE_RECOVER) {
            /* refuse every message older than now (RFC 3830 §5.4,
             * doc/profile.md §7) */
            n->floor_unix = (uint64_t)time(NULL) + n->cfg.skew_seconds;
            MK_GUARD(mk_node_meta_put_u64(txn, n, "mark", n->floor_unix));
            MK_GUARD(mk_node_meta_put_u64(txn, n, "floor", n->floor_unix));
        }
        return MK_OK;
    }
    if (rc != MDB_SUCCESS)
        return mk_node_err(rc, "cannot read node state");
    if (!mk_node_meta_u64(txn, n, "version", &version) ||
        version != MK_NODE_FORMAT)
        MK_FAIL(MK_E_CONFIG, "node state file of another format");
    k = meta_key("node_id");
    if (mdb_get(txn, n->meta, &k, &v) != MDB_SUCCESS ||
        v.mv_size != sizeof n->node_id)
        MK_FAIL(MK_E_CONFIG, "node state file without a node id");
    memcpy(n->node_id, v.mv_data, sizeof n->node_id);
    return MK_OK;
}

static mk_err open_dbs(mk_node *n, mk_node_create create)
{
    MDB_txn *txn = NULL;
    mk_err rc;
    MK_GUARD(mk_node_txn(n, false, &txn));
    int r = mdb_dbi_open(txn, "meta", MDB_CREATE, &n->meta);
    if (r == MDB_SUCCESS)
        r = mdb_dbi_open(txn, "replay", MDB_CREATE, &n->replay);
    if (r == MDB_SUCCESS)
        r = mdb_dbi_open(txn, "journal", MDB_CREATE, &n->journal);
    for (int t = 0; r == MDB_SUCCESS && t < MK_NODE_KV__COUNT; t++) {
        char name[8];
        snprintf(name, sizeof name, "kv%d", t);
        r = mdb_dbi_open(txn, name, MDB_CREATE, &n->kv[t]);
    }
    if (r != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return mk_node_err(r, "cannot open the node state's tables");
    }
    rc = open_meta(n, txn, create);
    if (rc != MK_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mk_node_commit(txn, "cannot write node state");
}

static uint64_t map_size(const mk_node_config *c)
{
    uint64_t m = MAP_BASE + c->replay_max * REPLAY_BYTES +
                 c->journal_max * JOURNAL_BYTES +
                 c->kv_max * MK_NODE_KV__COUNT * KV_BYTES;
    return (m + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
}

static mk_err check_config(const mk_node_config *c)
{
    if (c->path[0] == '\0' ||
        memchr(c->path, '\0', sizeof c->path) == NULL)
        MK_FAIL(MK_E_CONFIG, "node state path missing");
    if (c->replay_max == 0 && c->journal_max == 0 && c->kv_max == 0)
        return MK_OK; /* adopt what the file or the process has */
    /* the bounds keep map_size within 64 bits */
    if (c->replay_max == 0 || c->replay_max > ((uint64_t)1 << 36) ||
        c->journal_max == 0 || c->journal_max > ((uint64_t)1 << 32) ||
        c->kv_max == 0 || c->kv_max > ((uint64_t)1 << 32))
        MK_FAIL(MK_E_CONFIG, "node state sizes out of range");
    return MK_OK;
}

/* The owner of the node file's directory, false when nothing is to be
 * done (not root, or a directory root owns). */
static bool dir_owner(const char *node_path, uid_t *uid, gid_t *gid)
{
    char dir[MK_NODE_PATH_MAX];
    struct stat ds;
    if (geteuid() != 0 || !mk_path_dir(node_path, dir, sizeof dir))
        return false;
    if (stat(dir, &ds) != 0 || ds.st_uid == 0)
        return false;
    *uid = ds.st_uid;
    *gid = ds.st_gid;
    return true;
}

void mk_node_own(const char *node_path, int fd)
{
    struct stat fs;
    uid_t uid;
    gid_t gid;
    if (fd < 0 || !dir_owner(node_path, &uid, &gid) || fstat(fd, &fs) != 0 ||
        (fs.st_uid == uid && fs.st_gid == gid))
        return;
    /* best effort: kmsd reports the file it cannot open */
    if (fchown(fd, uid, gid) != 0)
        return;
}

/* By name, for LMDB's lock file: opening and closing a descriptor of it
 * would drop the fcntl(2) locks LMDB holds on it (they belong to the
 * process and the file, and any close releases them), and the next
 * process to open the node would then take itself for the only user and
 * reset the writer mutex under a running transaction. */
static void own_by_name(const char *node_path, const char *file)
{
    struct stat fs;
    uid_t uid;
    gid_t gid;
    if (!dir_owner(node_path, &uid, &gid) || lstat(file, &fs) != 0 ||
        !S_ISREG(fs.st_mode) || (fs.st_uid == uid && fs.st_gid == gid))
        return;
    if (chown(file, uid, gid) != 0)
        return; /* as above */
}

/* LMDB's PATH-lock holds the reader slots, written through a map: a
 * sparse file there would be a SIGBUS on a full disk, like the data file
 * (reserve_space). Its blocks are allocated before mdb_env_open, the only
 * time this process may open and close a descriptor of it (after, a close
 * would drop LMDB's fcntl locks: own_by_name). A new file is made as
 * large as LMDB's table of maxreaders (1024) slots of 64 bytes and its
 * header could need (LMDB keeps a larger file as it is, and takes more
 * slots from it); an existing one keeps its size, which its users map. */
#define LOCK_FILE_BYTES (1024u * 64u + 8192u)
static mk_err reserve_lock_file(const char *node_path)
{
    char lock[MK_NODE_PATH_MAX + 8];
    struct stat sb;
    snprintf(lock, sizeof lock, "%s-lock", node_path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return MK_OK; /* mdb_env_open says why */
    mk_err rc = MK_OK;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
        rc = mk_node_reserve_file(fd, sb.st_size > 0 ? (uint64_t)sb.st_size
                                                     : LOCK_FILE_BYTES);
    close(fd);
    return rc;
}

static mk_node *registry_find(dev_t dev, ino_t ino)
{
    for (mk_node *n = registry; n != NULL; n = n->next)
        if (n->dev == dev && n->ino == ino && n->pid == getpid())
            return n;
    return NULL;
}

static void node_free(mk_node *n)
{
    if (n->env != NULL)
        mdb_env_close(n->env);
    if (n->drain_fd >= 0)
        close(n->drain_fd);
    mk_node_stats_close(n);
    pthread_cond_destroy(&n->sync_cv);
    pthread_mutex_destroy(&n->sync_mu);
    pthread_cond_destroy(&n->group_cv);
    pthread_mutex_destroy(&n->group_mu);
    pthread_mutex_destroy(&n->drain_mu);
    mk_wipe(n, sizeof *n);
    free(n);
}

/* Where LMDB mapped the file in this process (for mk_node_release_pages).
 * LMDB does not say: mdb_env_info's me_mapaddr is the address recorded in
 * the file, which is NULL unless MDB_FIXEDMAP. The kernel does: the one
 * mapping at offset 0 of the file's device and inode in /proc/self/maps
 * (one environment per file per process: the registry). Not found: no
 * release, as before. */
static void find_map(mk_node *n)
{
    struct stat sb;
    int fd = -1;
    char line[512];
    n->map_addr = NULL;
    n->map_len = 0;
    if (mdb_env_get_fd(n->env, &fd) != MDB_SUCCESS || fstat(fd, &sb) != 0)
        return;
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long start, end, off, ino;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %*4s %lx %x:%x %lu", &start, &end, &off,
                   &maj, &min, &ino) != 6)
            continue;
        if (ino == (unsigned long)sb.st_ino && off == 0 &&
            makedev(maj, min) == sb.st_dev && end > start) {
            n->map_addr = (void *)start;
            n->map_len = end - start;
            break;
        }
    }
    fclose(f);
}

/* The LMDB environment of the node file: sizes (adopt_existing with sizes
 * 0: the file's own), flags, the file opened, its page size, the reader
 * slots of killed processes cleared, its files given the directory's
 * owner. */
static mk_err open_env(mk_node *n, const mk_node_config *cfg,
                       bool adopt_existing)
{
    const mk_node_config *sized = &n->cfg;
    int r = mdb_env_create(&n->env);
    if (r == MDB_SUCCESS)
        r = mdb_env_set_maxdbs(n->env, 3 + MK_NODE_KV__COUNT);
    /* sizes 0: take the map size the file records (kmsctl without the
     * configuration); a new file gets the defaults */
    if (r == MDB_SUCCESS && !(cfg->replay_max == 0 && adopt_existing))
        r = mdb_env_set_mapsize(n->env, (size_t)map_size(sized));
    if (r == MDB_SUCCESS)
        r = mdb_env_set_maxreaders(n->env, 1024);
    /* WRITEMAP: a commit writes its pages into the shared map instead of
     * one pwrite(2) per dirty page (some nine system calls an answer,
     * most of its cost), and they are in the page cache when it returns,
     * so they survive a crash of any process. The map is as large as the
     * configured bounds, so is the (sparse) file. The pages a process
     * touched are unmapped from it now and then (mk_node_release_pages),
     * so they count in its memory only while it uses them.
     * NOSYNC: durable nodes sync explicitly, shared (node.h); a machine
     * that stops without that may leave the file inconsistent, which the
     * restart rule handles (node_boot.c). NOTLS: read transactions are
     * not tied to threads.
     * A durable node does without WRITEMAP: each sync writes back the
     * pages dirtied through the map, which write-protects them in every
     * process (a TLB shootdown per page, measured at ~200 us of CPU per
     * answer with 16 threads) and makes the next commit fault on each of
     * them again; with pwrite(2) commits the sync finds dirty pages in
     * the page cache and nothing mapped writable. Processes with and
     * without WRITEMAP may share one file (LMDB keeps no such flag in
     * it). */
    unsigned flags = MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOTLS | MDB_NORDAHEAD;
    if (!cfg->durable)
        flags |= MDB_WRITEMAP;
    if (r == MDB_SUCCESS) {
        MK_GUARD(reserve_lock_file(cfg->path));
        r = mdb_env_open(n->env, cfg->path, flags, 0600);
    }
    if (r != MDB_SUCCESS)
        return r == ENOENT ? mk_err_raise(MK_E_CONFIG, -1, 0,
                                          "node state directory does not exist")
                           : mk_node_err(r, "cannot open the node state");
    MDB_stat est;
    if (mdb_env_stat(n->env, &est) != MDB_SUCCESS)
        MK_FAIL(MK_E_UNAVAILABLE, "cannot read the node state");
    n->page_size = est.ms_psize;
    int dead = 0;
    (void)mdb_reader_check(n->env, &dead); /* slots of killed processes */
    find_map(n);
    {
        /* LMDB made them; give them the directory's owner (mk_node_own) */
        char lock[MK_NODE_PATH_MAX + 8];
        int efd = -1;
        if (mdb_env_get_fd(n->env, &efd) == MDB_SUCCESS)
            mk_node_own(cfg->path, efd);
        snprintf(lock, sizeof lock, "%s-lock", cfg->path);
        own_by_name(cfg->path, lock);
    }
    return MK_OK;
}

static mk_err node_new(const mk_node_config *cfg, mk_node_create create,
                       mk_node **out)
{
    mk_err rc;
    struct stat sb0;
    char aside[MK_NODE_PATH_MAX + 64] = "";
    if (create == MK_NODE_OPEN_AS_IS && stat(cfg->path, &sb0) != 0)
        MK_FAIL(MK_E_CONFIG, "no node state file there");
    /* before LMDB reads a file the machine may have left inconsistent */
    MK_GUARD(mk_node_boot_check(cfg, &create, aside, sizeof aside));
    bool adopt_existing = stat(cfg->path, &sb0) == 0;
    mk_node_config sized = *cfg;
    if (cfg->replay_max == 0) { /* adopt: the defaults' sizes for checks */
        mk_node_config d;
        mk_node_config_defaults(&d);
        sized.replay_max = d.replay_max;
        sized.journal_max = d.journal_max;
        sized.kv_max = d.kv_max;
    }
    mk_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        MK_FAIL(MK_E_UNAVAILABLE, "out of memory");
    n->cfg = sized;
    n->drain_fd = -1;
    pthread_mutex_init(&n->sync_mu, NULL);
    pthread_cond_init(&n->sync_cv, NULL);
    pthread_mutex_init(&n->group_mu, NULL);
    pthread_cond_init(&n->group_cv, NULL);
    n->group_tail = &n->group_head;
    pthread_mutex_init(&n->drain_mu, NULL);
    MK_GUARD_GOTO(open_env(n, cfg, adopt_existing), rc, fail);
    MK_GUARD_GOTO(open_dbs(n, create), rc, fail);

    char lock[MK_NODE_PATH_MAX + 8];
    snprintf(lock, sizeof lock, "%s-drain", cfg->path);
    n->drain_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    mk_node_own(cfg->path, n->drain_fd);
    if (n->drain_fd < 0) {
        rc = mk_err_raise(MK_E_UNAVAILABLE, -1, 0,
                          "cannot open the node state's drain lock");
        goto fail;
    }
    MK_GUARD_GOTO(mk_node_stats_open(n), rc, fail);
    struct stat sb;
    if (stat(cfg->path, &sb) != 0) {
        rc = mk_err_raise(MK_E_UNAVAILABLE, -1, 0,
                          "node state file vanished while opening it");
        goto fail;
    }
    n->dev = sb.st_dev;
    n->ino = sb.st_ino;
    snprintf(n->set_aside, sizeof n->set_aside, "%s", aside);
    n->pid = getpid();
    n->refs = 1;
    *out = n;
    return MK_OK;
fail:
    {
        mk_err_detail keep = *mk_err_last();
        node_free(n);
        (void)mk_err_restore(&keep);
    }
    return rc;
}

mk_err mk_node_open(const mk_node_config *cfg, mk_node_create create,
                    mk_node **out)
{
    *out = NULL;
    MK_GUARD(check_config(cfg));
    mk_err rc = MK_OK;
    pthread_mutex_lock(&registry_mu);
    struct stat sb;
    mk_node *n = stat(cfg->path, &sb) == 0 ? registry_find(sb.st_dev,
                                                           sb.st_ino)
                                           : NULL;
    if (n != NULL) {
        /* LMDB must not open one file twice in a process: share it */
        if (cfg->replay_max != 0 && (n->cfg.durable != cfg->durable ||
                                     n->cfg.replay_max != cfg->replay_max ||
                                     n->cfg.journal_max != cfg->journal_max ||
                                     n->cfg.kv_max != cfg->kv_max))
            rc = mk_err_raise(MK_E_CONFIG, -1, 0,
                              "node state already open with other settings");
        else
            n->refs++;
    } else {
        rc = node_new(cfg, create, &n);
        if (rc == MK_OK) {
            n->next = registry;
            registry = n;
        }
    }
    pthread_mutex_unlock(&registry_mu);
    if (rc == MK_OK)
        *out = n;
    return rc;
}

mk_node *mk_node_ref(mk_node *n)
{
    pthread_mutex_lock(&registry_mu);
    n->refs++;
    pthread_mutex_unlock(&registry_mu);
    return n;
}

void mk_node_close(mk_node *n)
{
    if (n == NULL)
        return;
    pthread_mutex_lock(&registry_mu);
    if (--n->refs > 0) {
        pthread_mutex_unlock(&registry_mu);
        return;
    }
    for (mk_node **p = &registry; *p != NULL; p = &(*p)->next)
        if (*p == n) {
            *p = n->next;
            break;
        }
    pthread_mutex_unlock(&registry_mu);
    if (n->pid == getpid())
        node_free(n);
    /* else: a handle inherited through fork(): the parent's to close */
}

mk_err mk_node_sync_after_commit(mk_node *n)
{
    if (!n->cfg.durable)
        return MK_OK;
    mk_err rc = MK_OK;
    pthread_mutex_lock(&n->sync_mu);
    uint64_t mine = ++n->commits;
    while (n->synced < mine && rc == MK_OK) {
        if (n->syncing) {
            pthread_cond_wait(&n->sync_cv, &n->sync_mu);
            continue;
        }
        /* lead a sync for every commit counted so far: they are all in
         * the file, and one msync covers them */
        uint64_t target = n->commits;
        n->syncing = true;
        pthread_mutex_unlock(&n->sync_mu);
        int r = mdb_env_sync(n->env, 1);
        pthread_mutex_lock(&n->sync_mu);
        n->syncing = false;
        if (r == MDB_SUCCESS) {
            if (target > n->synced)
                n->synced = target;
        } else {
            rc = mk_node_err(r, "cannot sync the node state");
        }
        pthread_cond_broadcast(&n->sync_cv);
    }
    pthread_mutex_unlock(&n->sync_mu);
    return rc;
}

mk_err mk_node_publish_gen(mk_node *n, int64_t gen, bool lower)
{
    MDB_txn *txn = NULL;
    uint64_t cur = 0;
    MK_GUARD(mk_node_txn(n, false, &txn));
    bool known = mk_node_meta_u64(txn, n, "gen", &cur);
    if (known && ((int64_t)cur == gen || ((int64_t)cur > gen && !lower))) {
        mdb_txn_abort(txn);
        return MK_OK;
    }
    mk_err rc = mk_node_meta_put_u64(txn, n, "gen", (uint64_t)gen);
    if (rc != MK_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mk_node_commit(txn, "cannot write node state");
}

mk_err mk_node_status_get(mk_node *n, mk_node_status *out)
{
    MDB_txn *txn = NULL;
    MDB_stat st;
    MDB_envinfo info;
    memset(out, 0, sizeof *out);
    MK_GUARD(mk_node_txn(n, true, &txn));
    out->replay_max = n->cfg.replay_max;
    out->journal_max = n->cfg.journal_max;
    out->durable = n->cfg.durable;
    memcpy(out->node_id, n->node_id, sizeof out->node_id);
    if (mdb_stat(txn, n->replay, &st) == MDB_SUCCESS)
        out->replay_entries = st.ms_entries;
    if (mdb_stat(txn, n->journal, &st) == MDB_SUCCESS)
        out->journal_entries = st.ms_entries;
    (void)mk_node_meta_u64(txn, n, "mark", &out->mark_unix);
    (void)mk_node_meta_u64(txn, n, "seq", &out->next_seq);
    (void)mk_node_meta_u64(txn, n, "floor", &out->floor_unix);
    out->floor_raised_now = n->floor_unix != 0;
    snprintf(out->set_aside, sizeof out->set_aside, "%s", n->set_aside);
    uint64_t g = 0;
    out->gen_known = mk_node_meta_u64(txn, n, "gen", &g);
    out->gen = (int64_t)g;
    MDB_cursor *c = NULL;
    MDB_val k, v;
    if (mdb_cursor_open(txn, n->replay, &c) == MDB_SUCCESS) {
        if (mdb_cursor_get(c, &k, &v, MDB_FIRST) == MDB_SUCCESS &&
            v.mv_size == 8)
            out->oldest_expiry = mk_node_get_u64(v.mv_data);
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    if (mdb_env_info(n->env, &info) == MDB_SUCCESS &&
        mdb_env_stat(n->env, &st) == MDB_SUCCESS) {
        out->map_bytes = info.me_mapsize;
        out->used_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
    }
    return MK_OK;
}

bool mk_node_drain_lock(mk_node *n, uint32_t wait_ms)
{
    struct timespec pause = {0, 10 * 1000 * 1000};
    for (uint32_t waited = 0;; waited += 10) {
        /* flock(2) belongs to the open file, which the process's threads
         * share: the mutex elects the thread, the flock the process */
        if (pthread_mutex_trylock(&n->drain_mu) == 0) {
            if (flock(n->drain_fd, LOCK_EX | LOCK_NB) == 0)
                return true;
            int e = errno;
            pthread_mutex_unlock(&n->drain_mu);
            if (e != EWOULDBLOCK && e != EINTR)
                return false;
        }
        if (waited >= wait_ms)
            return false;
        nanosleep(&pause, NULL);
    }
}

void mk_node_drain_unlock(mk_node *n)
{
    (void)flock(n->drain_fd, LOCK_UN);
    pthread_mutex_unlock(&n->drain_mu);
}

void mk_node_release_pages(mk_node *n)
{
    MDB_envinfo info;
    MDB_stat st;
    if (n->map_addr == NULL || mdb_env_info(n->env, &info) != MDB_SUCCESS ||
        mdb_env_stat(n->env, &st) != MDB_SUCCESS)
        return;
    size_t used = (size_t)(info.me_last_pgno + 1) * st.ms_psize;
    if (used > n->map_len)
        used = n->map_len;
    /* The map is read-only and shared: LMDB writes through pwrite(2), so
     * no page of it is dirty here, and a page dropped from this process is
     * still in the page cache; the next access maps it again. */
    (void)madvise(n->map_addr, used, MADV_DONTNEED);
}
