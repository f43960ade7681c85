/* store_vfs.c - the SQLite VFS the store opens its connections with: the
 * default (unix) VFS, except that the frames a WAL commit appends are
 * written to the WAL file in ONE write instead of two per page.
 *
 * Why: a commit of one answer appends 3 to 5 frames (a 24-byte frame
 * header and a page each), which SQLite writes as 6 to 10 pwrite calls; in
 * a virtual machine a system call costs microseconds, and these writes
 * were a third of the time of an answer. Here the WAL file keeps the
 * appended bytes in a buffer and writes them with one call.
 *
 * When the buffered bytes reach the file:
 * - at the commit frame: the frame header whose "database size after
 *   commit" field is not 0 (the WAL format, sqlite.org/fileformat2.html
 *   §4.1) marks the last frame of a transaction; the write of its page
 *   writes the whole buffer and returns that write's result, so a failure
 *   fails the commit. SQLite publishes the frames to other connections
 *   (the wal-index header in shared memory) only after these writes have
 *   returned, so no reader ever looks for a frame that is still buffered;
 * - before any other operation on the WAL file (read, size, truncate,
 *   sync, close, file control ...), and before a write that does not
 *   continue the buffered bytes or does not fit the buffer.
 * Only appends are buffered: a write below the end of the last commit
 * frame (SQLite rewriting frame checksums of the transaction it commits,
 * possibly after its commit frame) goes to the file at once.
 * Durability is unchanged: when a commit returns, its frames are in the
 * file (OS page cache) exactly as with the plain VFS; a process that dies
 * with bytes still buffered dies before its commit, which is then lost as
 * it would be without the buffer. Every other file (the database, its
 * shared memory) is the default VFS's own object, untouched.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "store/store_int.h"

#define WAL_BUF_CAP (128 * 1024) /* a commit of an answer: ~20 KiB */
#define WAL_FRAME_HDR 24

typedef struct wal_file {
    sqlite3_file base;  /* methods: wal_methods */
    sqlite3_file *real; /* the default VFS's file, right after this struct */
    unsigned char *buf; /* appended bytes not yet written */
    size_t n;
    sqlite3_int64 off;  /* file offset of buf[0] */
    /* end of the last commit frame written: where the next transaction
     * appends; a write below it rewrites frames already written */
    sqlite3_int64 commit_end;
    sqlite3_int64 through_commit_page; /* see wal_write; -1: none */
    bool commit_page;   /* the next buffered write is a commit frame's page */
} wal_file;

static sqlite3_vfs shim;
static sqlite3_vfs *real_vfs;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool registered;
static atomic_uint_fast64_t stat_writes, stat_commits;

static int real_write(wal_file *w, const void *p, int amt, sqlite3_int64 off)
{
    atomic_fetch_add_explicit(&stat_writes, 1, memory_order_relaxed);
    return w->real->pMethods->xWrite(w->real, p, amt, off);
}

static int flush(wal_file *w)
{
    if (w->n == 0)
        return SQLITE_OK;
    size_t n = w->n;
    w->n = 0;
    return real_write(w, w->buf, (int)n, w->off);
}

/* The database size after the commit in a frame header (WAL format: page
 * number, then this field, 0 in every frame but a transaction's last). */
static bool is_commit_header(const void *p, int amt)
{
    const unsigned char *h = p;
    return amt == WAL_FRAME_HDR && (h[4] | h[5] | h[6] | h[7]) != 0;
}

/* Appends are buffered: the WAL header at offset 0 (a restarted log) and
 * everything from the end of the last commit on. Below that end SQLite
 * rewrites frames of the transaction it is committing (frame checksums
 * after an in-place page update, possibly after the commit frame): those
 * are written at once, so that nothing is left buffered once the commit
 * has returned. */
static int wal_write(sqlite3_file *f, const void *p, int amt,
                     sqlite3_int64 off)
{
    wal_file *w = (wal_file *)f;
    int rc;
    bool append = amt > 0 && (off == 0 || off >= w->commit_end);
    if (w->n > 0 && (!append || off != w->off + (sqlite3_int64)w->n ||
                     (size_t)amt > WAL_BUF_CAP - w->n))
        if ((rc = flush(w)) != SQLITE_OK)
            return rc;
    if (append && w->buf == NULL)
        w->buf = sqlite3_malloc(WAL_BUF_CAP); /* NULL: written at once */
    if (!append || (size_t)amt > WAL_BUF_CAP || w->buf == NULL) {
        /* A commit frame written at once (another process restarted the
         * log below our commit_end): its page moves commit_end. */
        w->commit_page = false;
        if (off == w->through_commit_page)
            w->commit_end = off + amt;
        w->through_commit_page = is_commit_header(p, amt) ? off + amt : -1;
        return real_write(w, p, amt, off);
    }
    w->through_commit_page = -1;
    if (w->n == 0)
        w->off = off;
    memcpy(w->buf + w->n, p, (size_t)amt);
    w->n += (size_t)amt;
    if (w->commit_page) {
        /* the last frame of the transaction: all of it goes to the file
         * now, and a failure fails the commit */
        w->commit_page = false;
        w->commit_end = off + amt;
        atomic_fetch_add_explicit(&stat_commits, 1, memory_order_relaxed);
        return flush(w);
    }
    w->commit_page = is_commit_header(p, amt);
    return SQLITE_OK;
}

/* Every other method: write what is buffered, then the default VFS's. */
#define FLUSH_FIRST(w)                                                       \
    do {                                                                     \
        int rc_ = flush(w);                                                  \
        if (rc_ != SQLITE_OK)                                                \
            return rc_;                                                      \
    } while (0)

static int wal_close(sqlite3_file *f)
{
    wal_file *w = (wal_file *)f;
    int rc = flush(w);
    int rc2 = w->real->pMethods->xClose(w->real);
    sqlite3_free(w->buf);
    w->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wal_read(sqlite3_file *f, void *p, int amt, sqlite3_int64 off)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xRead(w->real, p, amt, off);
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    if (w->commit_end > size)
        w->commit_end = size;
    return w->real->pMethods->xTruncate(w->real, size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xSync(w->real, flags);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xFileSize(w->real, size);
}

static int wal_lock(sqlite3_file *f, int lock)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xLock(w->real, lock);
}

static int wal_unlock(sqlite3_file *f, int lock)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xUnlock(w->real, lock);
}

static int wal_check_reserved(sqlite3_file *f, int *out)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xCheckReservedLock(w->real, out);
}

static int wal_file_control(sqlite3_file *f, int op, void *arg)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xFileControl(w->real, op, arg);
}

static int wal_sector_size(sqlite3_file *f)
{
    wal_file *w = (wal_file *)f;
    return w->real->pMethods->xSectorSize(w->real);
}

static int wal_device(sqlite3_file *f)
{
    wal_file *w = (wal_file *)f;
    return w->real->pMethods->xDeviceCharacteristics(w->real);
}

/* SQLite maps shared memory and pages of the database file only, never of
 * the WAL file; these forward for completeness. */
static int wal_shm_map(sqlite3_file *f, int pg, int pgsz, int extend,
                       void volatile **pp)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xShmMap(w->real, pg, pgsz, extend, pp);
}

static int wal_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xShmLock(w->real, offset, n, flags);
}

static void wal_shm_barrier(sqlite3_file *f)
{
    wal_file *w = (wal_file *)f;
    (void)flush(w);
    w->real->pMethods->xShmBarrier(w->real);
}

static int wal_shm_unmap(sqlite3_file *f, int del)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xShmUnmap(w->real, del);
}

static int wal_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xFetch(w->real, off, amt, pp);
}

static int wal_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    wal_file *w = (wal_file *)f;
    FLUSH_FIRST(w);
    return w->real->pMethods->xUnfetch(w->real, off, p);
}

static const sqlite3_io_methods wal_methods = {
    .iVersion = 3,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device,
    .xShmMap = wal_shm_map,
    .xShmLock = wal_shm_lock,
    .xShmBarrier = wal_shm_barrier,
    .xShmUnmap = wal_shm_unmap,
    .xFetch = wal_fetch,
    .xUnfetch = wal_unfetch,
};

/* Files other than a WAL are opened by the default VFS into f itself
 * (szOsFile is large enough): they keep its methods, no indirection. */
static int shim_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f,
                     int flags, int *out_flags)
{
    (void)vfs;
    if ((flags & SQLITE_OPEN_WAL) == 0)
        return real_vfs->xOpen(real_vfs, name, f, flags, out_flags);
    wal_file *w = (wal_file *)f;
    memset(w, 0, sizeof *w);
    w->real = (sqlite3_file *)(w + 1);
    w->through_commit_page = -1;
    int rc = real_vfs->xOpen(real_vfs, name, w->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (w->real->pMethods != NULL)
            w->real->pMethods->xClose(w->real);
        w->base.pMethods = NULL; /* SQLite then does not call xClose */
        return rc;
    }
    w->base.pMethods = &wal_methods;
    return SQLITE_OK;
}

/* The rest of the VFS is the default one's, called with its own object. */
static int shim_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    (void)v;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}
static int shim_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int shim_full_pathname(sqlite3_vfs *v, const char *name, int n,
                              char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static void *shim_dl_open(sqlite3_vfs *v, const char *name)
{
    (void)v;
    return real_vfs->xDlOpen(real_vfs, name);
}
static void shim_dl_error(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    real_vfs->xDlError(real_vfs, n, msg);
}
static void (*shim_dl_sym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    (void)v;
    return real_vfs->xDlSym(real_vfs, h, sym);
}
static void shim_dl_close(sqlite3_vfs *v, void *h)
{
    (void)v;
    real_vfs->xDlClose(real_vfs, h);
}
static int shim_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int shim_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}
static int shim_current_time(sqlite3_vfs *v, double *t)
{
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, t);
}
static int shim_last_error(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    return real_vfs->xGetLastError(real_vfs, n, msg);
}
static int shim_current_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
    (void)v;
    if (real_vfs->iVersion >= 2 && real_vfs->xCurrentTimeInt64 != NULL)
        return real_vfs->xCurrentTimeInt64(real_vfs, t);
    double d = 0;
    int rc = real_vfs->xCurrentTime(real_vfs, &d);
    *t = (sqlite3_int64)(d * 86400000.0);
    return rc;
}

static void register_shim(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    if (real_vfs == NULL)
        return;
    shim = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(wal_file) + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname,
        .zName = MK_STORE_VFS_NAME,
        .xOpen = shim_open,
        .xDelete = shim_delete,
        .xAccess = shim_access,
        .xFullPathname = shim_full_pathname,
        .xDlOpen = shim_dl_open,
        .xDlError = shim_dl_error,
        .xDlSym = shim_dl_sym,
        .xDlClose = shim_dl_close,
        .xRandomness = shim_randomness,
        .xSleep = shim_sleep,
        .xCurrentTime = shim_current_time,
        .xGetLastError = shim_last_error,
        .xCurrentTimeInt64 = shim_current_time64,
    };
    registered = sqlite3_vfs_register(&shim, 0) == SQLITE_OK;
}

const char *mk_store_vfs(void)
{
    pthread_once(&once, register_shim);
    return registered ? MK_STORE_VFS_NAME : NULL;
}

void mk_store_vfs_stats(uint64_t *writes, uint64_t *commits)
{
    *writes = atomic_load_explicit(&stat_writes, memory_order_relaxed);
    *commits = atomic_load_explicit(&stat_commits, memory_order_relaxed);
}
