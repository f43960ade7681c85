/* test_http_fcgiclient.c - a raw FastCGI client for the kmsd integration
 * tests (tests/kmsd_*.sh): it talks to kmsd's socket directly, so that a
 * test can send what no web server would forward (a CONTENT_LENGTH that
 * lies, a body that stops half-way, a client that vanishes) and check that
 * kmsd neither hangs nor dies.
 *
 *   test_http_fcgiclient [options] unix:PATH|127.0.0.1:PORT
 *     -p NAME=VALUE   a FastCGI parameter (CGI variable), repeatable
 *     -b TEXT         the body (FCGI_STDIN)
 *     -f FILE         the body from a file
 *     -z N            the body is N bytes of 'A'
 *     --hold MS       wait MS milliseconds after the parameters, before the
 *                     body (a request "in flight")
 *     --abort-body    send half of the body, then close (no end of stdin)
 *     --no-read       close right after sending, without reading the answer
 *     -t SEC          give up waiting for the answer after SEC (default 10)
 *     --elapsed FILE  write to FILE the milliseconds from the connect to the
 *                     end of the answer (what kmsd and the wait for one of
 *                     its threads took, without this program's own start)
 *
 * Prints the FCGI_STDOUT stream. Exit status: 0 answer complete
 * (FCGI_END_REQUEST seen), 3 connection closed before the end, 4 timeout,
 * 2 usage, 1 connect or I/O error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define FCGI_BEGIN_REQUEST 1
#define FCGI_END_REQUEST 3
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_STDOUT 6
#define FCGI_STDERR 7
#define FCGI_RESPONDER 1
#define MAX_PARAMS 64
#define REQ_ID 1

static int connect_to(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        if (strlen(spec + 5) >= sizeof sun.sun_path)
            return -1;
        strcpy(sun.sun_path, spec + 5);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
            return -1;
        return fd;
    }
    char host[64];
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || (size_t)(colon - spec) >= sizeof host)
        return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0)
        return -1;
    return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

static int record(int fd, int type, const uint8_t *content, size_t n)
{
    uint8_t h[8] = {1, (uint8_t)type, 0, REQ_ID, (uint8_t)(n >> 8),
                    (uint8_t)n, 0, 0};
    if (write_all(fd, h, sizeof h) != 0)
        return -1;
    return n > 0 ? write_all(fd, content, n) : 0;
}

static int stream(int fd, int type, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t chunk = n - off > 65535 ? 65535 : n - off;
        if (record(fd, type, p + off, chunk) != 0)
            return -1;
        off += chunk;
    }
    return 0;
}

static size_t put_len(uint8_t *out, size_t len)
{
    if (len < 128) {
        out[0] = (uint8_t)len;
        return 1;
    }
    out[0] = (uint8_t)(0x80 | (len >> 24));
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    return 4;
}

static int read_exact(int fd, uint8_t *p, size_t n, int timeout_ms)
{
    size_t off = 0;
    while (off < n) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = poll(&pf, 1, timeout_ms);
        if (r == 0)
            return 4;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return 1;
        ssize_t got = read(fd, p + off, n - off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno == ECONNRESET ? 3 : 1;
        if (got == 0)
            return 3;
        off += (size_t)got;
    }
    return 0;
}

static int usage(void)
{
    fputs("usage: test_http_fcgiclient [-p NAME=VALUE]... [-b TEXT|-f FILE|"
          "-z N] [--hold MS]\n"
          "       [--abort-body] [--no-read] [-t SEC] [--elapsed FILE]\n"
          "       unix:PATH|HOST:PORT\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *params[MAX_PARAMS];
    size_t nparams = 0;
    uint8_t *body = NULL;
    size_t body_n = 0;
    long hold_ms = 0;
    int abort_body = 0, no_read = 0;
    int timeout_s = 10;
    const char *target = NULL, *elapsed = NULL;
    struct timespec t0, t1;

    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int more = i + 1 < argc;
        if (strcmp(o, "-p") == 0 && more) {
            if (nparams == MAX_PARAMS || strchr(argv[i + 1], '=') == NULL)
                return usage();
            params[nparams++] = argv[++i];
        } else if (strcmp(o, "-b") == 0 && more) {
            free(body);
            body_n = strlen(argv[i + 1]);
            body = malloc(body_n + 1);
            if (body == NULL)
                return 1;
            memcpy(body, argv[++i], body_n);
        } else if (strcmp(o, "-z") == 0 && more) {
            free(body);
            body_n = strtoul(argv[++i], NULL, 10);
            body = malloc(body_n + 1);
            if (body == NULL)
                return 1;
            memset(body, 'A', body_n);
        } else if (strcmp(o, "-f") == 0 && more) {
            FILE *f = fopen(argv[++i], "rb");
            if (f == NULL)
                return 1;
            free(body);
            body = NULL;
            body_n = 0;
            size_t cap = 0;
            for (;;) {
                if (body_n == cap) {
                    cap = cap ? cap * 2 : 65536;
                    uint8_t *nb = realloc(body, cap);
                    if (nb == NULL)
                        return 1;
                    body = nb;
                }
                size_t got = fread(body + body_n, 1, cap - body_n, f);
                if (got == 0)
                    break;
                body_n += got;
            }
            fclose(f);
        } else if (strcmp(o, "--hold") == 0 && more) {
            hold_ms = atol(argv[++i]);
        } else if (strcmp(o, "--abort-body") == 0) {
            abort_body = 1;
        } else if (strcmp(o, "--no-read") == 0) {
            no_read = 1;
        } else if (strcmp(o, "-t") == 0 && more) {
            timeout_s = atoi(argv[++i]);
        } else if (strcmp(o, "--elapsed") == 0 && more) {
            elapsed = argv[++i];
        } else if (o[0] != '-' && target == NULL) {
            target = o;
        } else {
            return usage();
        }
    }
    if (target == NULL)
        return usage();

    clock_gettime(CLOCK_MONOTONIC, &t0);
    int fd = connect_to(target);
    if (fd < 0) {
        fprintf(stderr, "fcgiclient: cannot connect to %s: %s\n", target,
                strerror(errno));
        return 1;
    }
    uint8_t begin[8] = {0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0};
    if (record(fd, FCGI_BEGIN_REQUEST, begin, sizeof begin) != 0)
        return 1;
    for (size_t i = 0; i < nparams; i++) {
        const char *eq = strchr(params[i], '=');
        size_t nn = (size_t)(eq - params[i]);
        size_t vn = strlen(eq + 1);
        if (nn + vn + 8 > 65535)
            return usage();
        uint8_t buf[65535];
        size_t n = put_len(buf, nn);
        n += put_len(buf + n, vn);
        memcpy(buf + n, params[i], nn);
        n += nn;
        memcpy(buf + n, eq + 1, vn);
        n += vn;
        if (record(fd, FCGI_PARAMS, buf, n) != 0)
            return 1;
    }
    if (record(fd, FCGI_PARAMS, NULL, 0) != 0)
        return 1;
    if (hold_ms > 0) {
        struct timespec ts = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (abort_body) {
        (void)stream(fd, FCGI_STDIN, body, body_n / 2);
        close(fd);
        free(body);
        return 0;
    }
    /* the body may be refused half-way (kmsd stops reading at its cap and
     * then drains); a write error is not fatal, the answer still counts */
    (void)stream(fd, FCGI_STDIN, body, body_n);
    (void)record(fd, FCGI_STDIN, NULL, 0);
    free(body);
    if (no_read) {
        close(fd);
        return 0;
    }

    int rc;
    for (;;) {
        uint8_t h[8];
        rc = read_exact(fd, h, sizeof h, timeout_s * 1000);
        if (rc != 0)
            break;
        size_t clen = ((size_t)h[4] << 8) | h[5];
        size_t plen = h[6];
        static uint8_t content[65535 + 255];
        rc = read_exact(fd, content, clen + plen, timeout_s * 1000);
        if (rc != 0)
            break;
        if (h[1] == FCGI_STDOUT)
            fwrite(content, 1, clen, stdout);
        else if (h[1] == FCGI_STDERR)
            fwrite(content, 1, clen, stderr);
        else if (h[1] == FCGI_END_REQUEST)
            break;
    }
    fflush(stdout);
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (elapsed != NULL) {
        FILE *f = fopen(elapsed, "w");
        if (f == NULL)
            return 1;
        fprintf(f, "%ld\n", (long)(t1.tv_sec - t0.tv_sec) * 1000 +
                                (t1.tv_nsec - t0.tv_nsec) / 1000000);
        fclose(f);
    }
    if (rc == 4)
        fprintf(stderr, "fcgiclient: timeout\n");
    return rc;
}
