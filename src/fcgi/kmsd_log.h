/* kmsd_log.h - kmsd's log: one line per event on stderr (under mod_fcgid
 * that is Apache's error log) or, with --syslog, to syslog(3) as facility
 * daemon.
 *
 * Owns: the process-wide log level and destination. Callers never log keys,
 * PSKs, message bodies or anything derived from them: a request line holds
 * status, service, error name and duration only.
 */
#ifndef MK_FCGI_KMSD_LOG_H
#define MK_FCGI_KMSD_LOG_H

#include <stdbool.h>

#include "front/config.h"

/* Before any thread starts. ident is the program name ("kmsd"). */
void kmsd_log_init(const char *ident, bool use_syslog, mk_log_level level);
void kmsd_log_set_level(mk_log_level level);
bool kmsd_log_enabled(mk_log_level level);
/* One line (a trailing newline is added; control characters in the
 * formatted text are replaced). Thread-safe: each line is one write(2). */
void kmsd_log(mk_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kmsd_log_close(void);

#endif
