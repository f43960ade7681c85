/* kmsd_log.c - see kmsd_log.h. */
#include "fcgi/kmsd_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static const char *log_ident = "kmsd";
static bool log_syslog;
/* set by the main thread on SIGHUP while workers log */
static atomic_int log_level = MK_LOG_INFO;

void kmsd_log_init(const char *ident, bool use_syslog, mk_log_level level)
{
    log_ident = ident;
    log_syslog = use_syslog;
    atomic_store(&log_level, (int)level);
    if (use_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void kmsd_log_set_level(mk_log_level level)
{
    atomic_store(&log_level, (int)level);
}

bool kmsd_log_enabled(mk_log_level level)
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

void kmsd_log(mk_log_level level, const char *fmt, ...)
{
    if (!kmsd_log_enabled(level))
        return;
    char msg[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* one line per event, whatever a formatted value held */
    for (char *p = msg; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';
    if (log_syslog) {
        syslog(syslog_priority(level), "%s: %s", mk_log_level_name(level), msg);
        return;
    }
    char line[LOG_LINE_MAX + 128];
    char stamp[32] = "";
    struct timespec ts;
    struct tm tm;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0 &&
        gmtime_r(&ts.tv_sec, &tm) != NULL)
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int len = snprintf(line, sizeof line, "%s %s[%ld]: %s: %s\n", stamp,
                       log_ident, (long)getpid(), mk_log_level_name(level),
                       msg);
    if (len < 0)
        return;
    size_t total = (size_t)len < sizeof line ? (size_t)len : sizeof line - 1;
    if (total > 0 && line[total - 1] != '\n')
        line[total - 1] = '\n';
    const char *p = line;
    while (total > 0) {
        ssize_t w = write(STDERR_FILENO, p, total);
        if (w <= 0)
            return; /* nowhere to report a failing log */
        p += w;
        total -= (size_t)w;
    }
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
    if (log_file == NULL || log_file[0] == '\0') {
        /* back from a file to the standard error kmsd was started with */
        if (stderr_at_start >= 0 && !onto_stderr(stderr_at_start))
            MK_FAIL(MK_E_IO, "cannot put standard error back");
        return MK_OK;
    }
    int fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        MK_FAIL(MK_E_IO, "cannot open the log file");
    if (stderr_at_start < 0)
        stderr_at_start = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    bool ok = onto_stderr(fd);
    int saved = errno;
    close(fd);
    if (!ok) {
        errno = saved;
        MK_FAIL(MK_E_IO, "cannot put the log file on descriptor 2");
    }
    return MK_OK;
}

void kmsd_log_close(void)
{
    if (stderr_at_start >= 0) {
        close(stderr_at_start);
        stderr_at_start = -1;
    }
    if (log_syslog)
        closelog();
}
