/* kmsd_io.h - whole reads and writes on a stream socket with a deadline,
 * for the Unix socket between kmsd and kms-znd (gba/zn_wire.h).
 *
 * Owns: nothing but the loops: EINTR retried, SIGPIPE never raised
 * (MSG_NOSIGNAL), short reads and writes continued.
 */
#ifndef MK_FCGI_KMSD_IO_H
#define MK_FCGI_KMSD_IO_H

#include <stdbool.h>
#include <stddef.h>

/* All n bytes of p written; false on an error (the peer went away). */
bool kmsd_io_write_all(int fd, const void *p, size_t n);

/* All n bytes read into p, waiting at most timeout_ms for each chunk:
 * 1 read, 0 the peer closed before the first byte, -1 an error or a close
 * half-way, -2 the wait timed out. */
int kmsd_io_read_all(int fd, void *p, size_t n, int timeout_ms);

#endif
