/* kmsd_io.c - see kmsd_io.h. */
#include "fcgi/kmsd_io.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

bool kmsd_io_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

int kmsd_io_read_all(int fd, void *p, size_t n, int timeout_ms)
{
    uint8_t *b = p;
    size_t got = 0;
    while (got < n) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = poll(&pf, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return -2;
        if (r < 0)
            return -1;
        ssize_t k = recv(fd, b + got, n - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0)
            return got == 0 ? 0 : -1;
        if (k < 0)
            return -1;
        got += (size_t)k;
    }
    return 1;
}
