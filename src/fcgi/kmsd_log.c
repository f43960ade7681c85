/* kmsd_log.c - see kmsd_log.h. */
#include "fcgi/kmsd_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024
/* One write(2) of at most PIPE_BUF bytes to a pipe is never interleaved
 * with another writer's (POSIX write()): the buffer never holds more. */
#define LOG_BUF_MAX PIPE_BUF
#define LOG_FLUSH_SECONDS 1

static const char *log_ident = "kmsd";
static bool log_syslog;
/* set by the main thread on SIGHUP while workers log */
static atomic_int log_level = MK_LOG_INFO;
static long log_pid; /* kmsd does not fork; a child refreshes it anyway */

/* The request lines not yet written, and the thread that writes them one
 * second after the first of them at most. Everything below under mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv; /* lines in an empty buffer, or stop */
static char buf[LOG_BUF_MAX];
static size_t buf_n;
static pthread_t flusher;
static bool flusher_on, flusher_stop;
static pthread_once_t flusher_once = PTHREAD_ONCE_INIT;

static void refresh_pid(void) { log_pid = (long)getpid(); }

void kmsd_log_init(const char *ident, bool use_syslog, mk_log_level level)
{
    log_ident = ident;
    log_syslog = use_syslog;
    atomic_store(&log_level, (int)level);
    refresh_pid();
    (void)pthread_atfork(NULL, NULL, refresh_pid);
    if (use_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void kmsd_log_set_level(mk_log_level level)
{
    atomic_store(&log_level, (int)level);
}

static bool kmsd_log_enabled(mk_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level,
                                              memory_order_relaxed);
}

static int syslog_priority(mk_log_level level)
{
    switch (level) {
    case MK_LOG_ERROR: return LOG_ERR;
    case MK_LOG_WARN: return LOG_WARNING;
    case MK_LOG_INFO: return LOG_INFO;
    case MK_LOG_DEBUG: return LOG_DEBUG;
    }
    return LOG_INFO;
}

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere to report a failing log */
        p += w;
        n -= (size_t)w;
    }
}

/* Under mu. */
static void flush_locked(void)
{
    write_all(buf, buf_n);
    buf_n = 0;
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!flusher_stop) {
        if (buf_n == 0) {
            pthread_cond_wait(&cv, &mu);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += LOG_FLUSH_SECONDS;
        /* woken early only to stop (or by a line in a buffer that a
         * writer emptied meanwhile: the deadline stays) */
        while (!flusher_stop && buf_n > 0 &&
               pthread_cond_timedwait(&cv, &mu, &until) != ETIMEDOUT)
            ;
        flush_locked();
    }
    flush_locked();
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* exit() without kmsd_log_close: what is buffered still gets out, unless
 * a thread holds the lock (it then writes the lines itself) */
static void flush_at_exit(void)
{
    if (pthread_mutex_trylock(&mu) == 0) {
        flush_locked();
        pthread_mutex_unlock(&mu);
    }
}

static void flusher_start(void)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0)
        return;
    bool ok = pthread_condattr_setclock(&a, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(&cv, &a) == 0;
    pthread_condattr_destroy(&a);
    /* without the thread, request lines are written at once */
    if (ok && pthread_create(&flusher, NULL, flusher_main, NULL) == 0) {
        flusher_on = true;
        (void)atexit(flush_at_exit);
    }
}

/* "STAMP IDENT[PID]: " for the current second into p (cap bytes), kept per
 * thread: formatting the time once a second, not for every line. Its
 * length, 0 when there is none. */
static size_t line_prefix(char *p, size_t cap)
{
    static _Thread_local time_t sec = (time_t)-1;
    static _Thread_local char prefix[96];
    static _Thread_local size_t prefix_n;
    static _Thread_local long pid;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        ts.tv_sec = 0;
    if (ts.tv_sec != sec || pid != log_pid || prefix_n == 0) {
        char stamp[32] = "";
        struct tm tm;
        if (ts.tv_sec != 0 && gmtime_r(&ts.tv_sec, &tm) != NULL)
            strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        int n = snprintf(prefix, sizeof prefix, "%s %s[%ld]: ", stamp,
                         log_ident, log_pid);
        prefix_n = n > 0 && (size_t)n < sizeof prefix ? (size_t)n : 0;
        sec = ts.tv_sec;
        pid = log_pid;
    }
    if (prefix_n >= cap)
        return 0;
    memcpy(p, prefix, prefix_n);
    return prefix_n;
}

/* The line "STAMP IDENT[PID]: LEVEL: MSG\n" (or MSG alone for syslog) of
 * fmt into line (cap > LOG_LINE_MAX + 64 bytes) and its length into *len;
 * false when there is none. MSG is at most LOG_LINE_MAX - 1 characters. */
static bool format_line(char *line, size_t cap, mk_log_level level,
                        const char *fmt, va_list ap, size_t *len)
    __attribute__((format(printf, 4, 0)));
static bool format_line(char *line, size_t cap, mk_log_level level,
                        const char *fmt, va_list ap, size_t *len)
{
    size_t off = 0;
    if (!log_syslog) {
        const char *lv = mk_log_level_name(level);
        size_t lvn = strlen(lv);
        off = line_prefix(line, cap);
        if (off + lvn + 2 + LOG_LINE_MAX + 1 > cap)
            return false;
        memcpy(line + off, lv, lvn);
        memcpy(line + off + lvn, ": ", 2);
        off += lvn + 2;
    }
    int n = vsnprintf(line + off, LOG_LINE_MAX, fmt, ap);
    if (n < 0)
        return false;
    if (n >= LOG_LINE_MAX) /* a longer message ends in "...", not cut */
        memcpy(line + off + LOG_LINE_MAX - 4, "...", 4);
    size_t end = off + strlen(line + off);
    /* one line per event, whatever a formatted value held */
    for (char *p = line + off; p < line + end; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';
    if (!log_syslog)
        line[end++] = '\n';
    line[end] = '\0';
    *len = end;
    return true;
}

/* Stderr: a line written at once, after the queued ones. Under mu. */
static void put_now(const char *line, size_t n)
{
    if (buf_n + n <= sizeof buf) {
        /* the queued lines and this one in one write */
        memcpy(buf + buf_n, line, n);
        buf_n += n;
        flush_locked();
    } else {
        flush_locked();
        write_all(line, n);
    }
}

/* Stderr: a request line queued (kmsd_log.h). Under mu. */
static void put_later(const char *line, size_t n)
{
    if (buf_n + n > sizeof buf)
        flush_locked();
    memcpy(buf + buf_n, line, n);
    buf_n += n;
    if (!flusher_on)
        flush_locked();
    else if (buf_n == n)
        pthread_cond_signal(&cv); /* the first line: the second starts */
}

static void vlog(mk_log_level level, bool later, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vlog(mk_log_level level, bool later, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX + 128];
    size_t n = 0;
    if (!kmsd_log_enabled(level))
        return;
    if (!format_line(line, sizeof line, level, fmt, ap, &n))
        return;
    if (log_syslog) {
        syslog(syslog_priority(level), "%s: %s", mk_log_level_name(level),
               line);
        return;
    }
    if (later)
        pthread_once(&flusher_once, flusher_start);
    pthread_mutex_lock(&mu);
    if (later)
        put_later(line, n);
    else
        put_now(line, n);
    pthread_mutex_unlock(&mu);
}

void kmsd_log(mk_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, false, fmt, ap);
    va_end(ap);
}

void kmsd_log_request(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(MK_LOG_INFO, true, fmt, ap);
    va_end(ap);
}

/* The standard error kmsd was started with, kept once a log_file took
 * descriptor 2 (-1 before). */
static int stderr_at_start = -1;

static bool onto_stderr(int fd)
{
    int r;
    do
        r = dup2(fd, STDERR_FILENO);
    while (r < 0 && errno == EINTR);
    return r >= 0;
}

mk_err kmsd_log_open(const char *log_file)
{
    if (log_syslog) {
        closelog();
        openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
        return MK_OK;
    }
    mk_err rc = MK_OK;
    int fd = -1;
    if (log_file != NULL && log_file[0] != '\0') {
        fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
            MK_FAIL(MK_E_IO, "cannot open the log file");
    }
    /* the queued request lines go where they were logged, the next ones
     * to the new place */
    pthread_mutex_lock(&mu);
    flush_locked();
    if (fd < 0) {
        /* back from a file to the standard error kmsd was started with */
        if (stderr_at_start >= 0 && !onto_stderr(stderr_at_start))
            rc = mk_err_raise(MK_E_IO, -1, 0,
                              "cannot put standard error back");
    } else {
        if (stderr_at_start < 0)
            stderr_at_start = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (!onto_stderr(fd))
            rc = mk_err_raise(MK_E_IO, -1, 0,
                              "cannot put the log file on descriptor 2");
        int saved = errno;
        close(fd);
        errno = saved;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static pthread_mutex_t unauth_mu = PTHREAD_MUTEX_INITIALIZER;
static double unauth_tokens = KMSD_LOG_UNAUTH_BURST;
static struct timespec unauth_last;
static unsigned long unauth_dropped;

bool kmsd_log_unauth_allowed(unsigned long *dropped)
{
    struct timespec now;
    bool ok;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&unauth_mu);
    if (unauth_last.tv_sec != 0 || unauth_last.tv_nsec != 0) {
        double dt = (double)(now.tv_sec - unauth_last.tv_sec) +
                    (double)(now.tv_nsec - unauth_last.tv_nsec) / 1e9;
        unauth_tokens += dt * KMSD_LOG_UNAUTH_PER_S;
        if (unauth_tokens > KMSD_LOG_UNAUTH_BURST)
            unauth_tokens = KMSD_LOG_UNAUTH_BURST;
    }
    unauth_last = now;
    ok = unauth_tokens >= 1.0;
    if (ok) {
        unauth_tokens -= 1.0;
        *dropped = unauth_dropped;
        unauth_dropped = 0;
    } else {
        unauth_dropped++;
        *dropped = 0;
    }
    pthread_mutex_unlock(&unauth_mu);
    return ok;
}

/* kmsd_log_limited: the keys seen, when each was last logged and how
 * many of its lines were left out since. A full table logs every line of
 * a new key (never silent). */
#define LIMITED_KEYS 32
static pthread_mutex_t limited_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const char *key;
    time_t last;
    unsigned long left_out;
} limited[LIMITED_KEYS];

void kmsd_log_limited(mk_log_level level, const char *key, const char *fmt,
                      ...)
{
    if (!kmsd_log_enabled(level))
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    unsigned long left_out = 0;
    bool log_it = true;
    pthread_mutex_lock(&limited_mu);
    size_t i = 0;
    while (i < LIMITED_KEYS && limited[i].key != NULL && limited[i].key != key)
        i++;
    if (i < LIMITED_KEYS && limited[i].key == key) {
        if (now.tv_sec - limited[i].last < KMSD_LOG_REPEAT_S) {
            limited[i].left_out++;
            log_it = false;
        } else {
            left_out = limited[i].left_out;
            limited[i].left_out = 0;
            limited[i].last = now.tv_sec;
        }
    } else if (i < LIMITED_KEYS) {
        limited[i].key = key;
        limited[i].last = now.tv_sec;
    }
    pthread_mutex_unlock(&limited_mu);
    if (!log_it)
        return;
    char msg[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w < 0)
        return;
    if (left_out > 0)
        kmsd_log(level, "%s (%lu more like it since the last one logged)",
                 msg, left_out);
    else
        kmsd_log(level, "%s", msg);
}

void kmsd_log_close(void)
{
    pthread_mutex_lock(&mu);
    bool join = flusher_on;
    flusher_stop = true;
    if (join)
        pthread_cond_signal(&cv);
    flush_locked();
    pthread_mutex_unlock(&mu);
    if (join) {
        pthread_join(flusher, NULL);
        flusher_on = false;
    }
    if (stderr_at_start >= 0) {
        close(stderr_at_start);
        stderr_at_start = -1;
    }
    if (log_syslog)
        closelog();
}
