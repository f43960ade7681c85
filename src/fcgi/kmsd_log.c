/* kmsd_log.c - see kmsd_log.h. */
#include "fcgi/kmsd_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static const char *log_ident = "kmsd";
static bool log_syslog;
static volatile mk_log_level log_level = MK_LOG_INFO;
/* read once, not by a getpid(2) per line; kmsd does not fork, a child
 * would read it again */
static long log_pid;

static void refresh_pid(void) { log_pid = (long)getpid(); }

void kmsd_log_init(const char *ident, bool use_syslog, mk_log_level level)
{
    log_ident = ident;
    log_syslog = use_syslog;
    log_level = level;
    refresh_pid();
    (void)pthread_atfork(NULL, NULL, refresh_pid);
    if (use_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void kmsd_log_set_level(mk_log_level level) { log_level = level; }

bool kmsd_log_enabled(mk_log_level level) { return level <= log_level; }

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
                       log_ident, log_pid, mk_log_level_name(level),
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

void kmsd_log_close(void)
{
    if (log_syslog)
        closelog();
}
