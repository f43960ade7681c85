/* kmsd_log.h - kmsd's log: one line per event on stderr (under mod_fcgid
 * that is Apache's error log, under systemd the journal), in the file
 * `log_file` names, or, with --syslog, to syslog(3) as facility daemon.
 *
 * Owns: the process-wide log level and destination, and the buffer of the
 * per-request lines. On stderr the line of each answer (kmsd_log_request,
 * level info) is buffered and written with the lines queued before it,
 * when the next one would not fit in PIPE_BUF bytes, one second at most
 * after the first of them, before any other line (every kmsd_log call
 * writes at once, whatever its level) and at kmsd_log_close: at the
 * default level an answer costs no write(2) of its own. A kill -9 loses
 * the request lines of the last second at most; the records of the store
 * are the audit trail (profile §8), not the log. With --syslog every line
 * is one message, sent at once (syslog has no multi-line messages).
 *
 * Callers never log keys, PSKs, message bodies or anything derived from
 * them: a request line holds status, service, error name and duration
 * only.
 */
#ifndef MK_FCGI_KMSD_LOG_H
#define MK_FCGI_KMSD_LOG_H

#include <stdbool.h>

#include "front/config.h"

/* Before any thread starts (the threads of the log inherit the caller's
 * signal mask). ident is the program name ("kmsd"). */
void kmsd_log_init(const char *ident, bool use_syslog, mk_log_level level);
void kmsd_log_set_level(mk_log_level level);
/* One line (a trailing newline is added; control characters in the
 * formatted text are replaced), written at once after the buffered request
 * lines. Thread-safe: each write(2) holds whole lines, at most PIPE_BUF
 * bytes, so lines of several processes on one pipe never mix. */
void kmsd_log(mk_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The line of one answer, at level info: buffered (above). */
void kmsd_log_request(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Where the lines go, at start and again on SIGHUP (kmsd_reload.h):
 * - with --syslog: close and reopen the connection to syslog (log_file
 *   is not used);
 * - with a log_file: open it again (append, created mode 0640) and put it
 *   on descriptor 2 with dup2(2), so that the next line goes to the file
 *   that now has that name (after logrotate moved the old one) and a line
 *   being written meanwhile goes whole to one file or the other;
 * - otherwise (log_file ""): nothing to reopen; standard error belongs to
 *   whoever started kmsd (the journal, Apache's error log, a shell
 *   redirection) and is put back on descriptor 2 if a log_file had it.
 * MK_E_IO (errno set) when the file cannot be opened: the log stays where
 * it was. */
mk_err kmsd_log_open(const char *log_file) MK_MUST_USE;
/* A line that repeats at the rate of a failure (a 503 per request while
 * the store is locked, full or gone): the first line of each key is
 * written at once (kmsd_log), later ones of the same key at most once
 * every KMSD_LOG_REPEAT_S seconds, saying how many were left out
 * meanwhile. key is a static string, compared by address: the cause
 * (mk_err_last()->what). Thread-safe. */
#define KMSD_LOG_REPEAT_S 10
void kmsd_log_limited(mk_log_level level, const char *key, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));
/* Write the buffered lines, stop the log's thread, close syslog. */
void kmsd_log_close(void);

/* The request lines of refusals of unauthenticated requests (doc/
 * profile.md §9.39) are logged at a bounded rate, since anyone can send
 * them: a burst of KMSD_LOG_UNAUTH_BURST lines, then KMSD_LOG_UNAUTH_PER_S
 * a second, per process. True when one may be logged now; *dropped is
 * the number left out since the last one allowed (to say so in the line
 * that is logged). Thread-safe. */
#define KMSD_LOG_UNAUTH_BURST 20
#define KMSD_LOG_UNAUTH_PER_S 10
bool kmsd_log_unauth_allowed(unsigned long *dropped);

#endif
