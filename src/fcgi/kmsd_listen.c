/* kmsd_listen.c - see kmsd_listen.h. */
#include "fcgi/kmsd_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

mk_err kmsd_listen_parse(const char *spec, kmsd_listen_addr *out)
{
    memset(out, 0, sizeof *out);
    MK_ENSURE(spec != NULL && spec[0] != '\0', MK_E_CONFIG, "listen: empty");
    if (strncmp(spec, "unix:", 5) == 0) {
        const char *path = spec + 5;
        size_t n = strlen(path);
        MK_ENSURE(n > 0, MK_E_CONFIG, "listen: unix: needs a path");
        MK_ENSURE(n < sizeof out->path, MK_E_CONFIG,
                  "listen: unix socket path too long");
        out->is_unix = true;
        memcpy(out->path, path, n + 1);
        return MK_OK;
    }
    const char *colon;
    const char *host = spec;
    size_t hn;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        MK_ENSURE(close != NULL && close[1] == ':', MK_E_CONFIG,
                  "listen: expected [IPv6]:PORT");
        host = spec + 1;
        hn = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        MK_ENSURE(colon != NULL, MK_E_CONFIG,
                  "listen: expected unix:PATH or HOST:PORT");
        hn = (size_t)(colon - spec);
        MK_ENSURE(memchr(spec, ':', hn) == NULL, MK_E_CONFIG,
                  "listen: an IPv6 address needs [brackets]");
    }
    MK_ENSURE(hn > 0 && hn < sizeof out->host, MK_E_CONFIG,
              "listen: bad host");
    memcpy(out->host, host, hn);
    out->host[hn] = '\0';
    const char *port = colon + 1;
    MK_ENSURE(*port != '\0' && strlen(port) <= 5, MK_E_CONFIG,
              "listen: bad port");
    unsigned long v = 0;
    for (const char *p = port; *p != '\0'; p++) {
        MK_ENSURE(*p >= '0' && *p <= '9', MK_E_CONFIG, "listen: bad port");
        v = v * 10 + (unsigned long)(*p - '0');
    }
    MK_ENSURE(v >= 1 && v <= 65535, MK_E_CONFIG, "listen: port out of range");
    out->port = (unsigned)v;
    struct in_addr a4;
    struct in6_addr a6;
    bool v6 = strchr(out->host, ':') != NULL;
    MK_ENSURE(v6 ? inet_pton(AF_INET6, out->host, &a6) == 1
                 : inet_pton(AF_INET, out->host, &a4) == 1,
              MK_E_CONFIG, "listen: host must be a numeric address");
    return MK_OK;
}

bool kmsd_listen_is_loopback(const kmsd_listen_addr *a)
{
    if (a->is_unix)
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, a->host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, a->host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

/* Bind the new socket fd to sa and listen; closed on failure (errno
 * kept for the caller's message). */
static mk_err bind_listen(int fd, const struct sockaddr *sa, socklen_t len,
                          int *fd_out)
{
    if (bind(fd, sa, len) != 0 || listen(fd, KMSD_LISTEN_BACKLOG) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        MK_FAIL(MK_E_IO, "listen: bind/listen");
    }
    *fd_out = fd;
    return MK_OK;
}

static mk_err open_unix(const kmsd_listen_addr *a, int *fd_out)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
    struct stat st;
    if (lstat(a->path, &st) == 0) {
        /* replace a stale socket, never anything else */
        MK_ENSURE(S_ISSOCK(st.st_mode), MK_E_IO,
                  "listen: path exists and is not a socket");
        MK_ENSURE(unlink(a->path) == 0, MK_E_IO,
                  "listen: cannot remove the old socket");
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    MK_ENSURE(fd >= 0, MK_E_IO, "listen: socket");
    return bind_listen(fd, (struct sockaddr *)&sun, sizeof sun, fd_out);
}

static mk_err open_inet(const kmsd_listen_addr *a, int *fd_out)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, a->host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)a->port);
        len = sizeof *s4;
    } else if (inet_pton(AF_INET6, a->host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)a->port);
        len = sizeof *s6;
    } else {
        MK_FAIL(MK_E_CONFIG, "listen: host must be a numeric address");
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    MK_ENSURE(fd >= 0, MK_E_IO, "listen: socket");
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    return bind_listen(fd, (struct sockaddr *)&ss, len, fd_out);
}

mk_err kmsd_listen_open(const kmsd_listen_addr *a, int *fd_out)
{
    return a->is_unix ? open_unix(a, fd_out) : open_inet(a, fd_out);
}

bool kmsd_fd_is_listening(int fd)
{
    int v = 0;
    socklen_t len = sizeof v;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

void kmsd_listen_close(const kmsd_listen_addr *a, int fd)
{
    if (fd >= 0)
        close(fd);
    if (a != NULL && a->is_unix && a->path[0] != '\0')
        (void)unlink(a->path);
}
