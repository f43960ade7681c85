/* kmsd_listen.h - the FastCGI listening socket of kmsd.
 *
 * Owns: parsing a --listen value and opening it, and recognising the socket
 * a process manager (mod_fcgid, spawn-fcgi) hands over on file descriptor 0
 * (FCGI_LISTENSOCK_FILENO, FastCGI spec §2.2).
 *
 * Forms: "unix:PATH" (a stale socket file at PATH is replaced; any other
 * kind of file there is an error), "HOST:PORT" with HOST a numeric IPv4
 * address, "[IPv6]:PORT". FastCGI carries no authentication, so a TCP
 * socket should be on loopback; kmsd_listen_is_loopback tells.
 */
#ifndef MK_FCGI_KMSD_LISTEN_H
#define MK_FCGI_KMSD_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define KMSD_LISTEN_BACKLOG 128

typedef struct kmsd_listen_addr {
    bool is_unix;
    char path[108];   /* sun_path */
    char host[64];    /* numeric address, without brackets */
    unsigned port;
} kmsd_listen_addr;

/* Parse a --listen value. MK_E_CONFIG (with mk_err_last()->what) when it is
 * not one of the forms above. Pure. */
mk_err kmsd_listen_parse(const char *spec, kmsd_listen_addr *out) MK_MUST_USE;
bool kmsd_listen_is_loopback(const kmsd_listen_addr *a);

/* Create, bind and listen. MK_E_IO on a system error (errno kept). */
mk_err kmsd_listen_open(const kmsd_listen_addr *a, int *fd_out) MK_MUST_USE;

/* True when fd is a socket in the listening state (SO_ACCEPTCONN). */
bool kmsd_fd_is_listening(int fd);

/* Close a socket made by kmsd_listen_open and remove its unix path. */
void kmsd_listen_close(const kmsd_listen_addr *a, int fd);

#endif
