/* null_responder - the FastCGI baseline of bench/http_bench.sh: a responder
 * that does everything kmsd does around a request except the KMS work, so
 * that (kmsd req/s) / (null req/s) on the same web server, with the same
 * process count, in the same run, is the share of the front end's capacity
 * that the KMS keeps (issue target: >= 0.85).
 *
 *   null_responder [--listen-fd N] [--body-bytes N]
 *
 * Process model as kmsd's (src/fcgi/kmsd.c, kmsd_worker.c): started by
 * spawn-fcgi (or mod_fcgid) it serves the listening socket on descriptor 0
 * (FCGI_LISTENSOCK_FILENO), made non-blocking because several processes
 * wait on it; one thread polls it, accepts with FCGX_Accept_r, reads the
 * CGI variables kmsd reads and at most 64 KiB + 1 body bytes (the rest of an
 * oversized body is drained), then writes "200 application/mikey,
 * Cache-Control: no-store" with a fixed base64 body of the size of a
 * REQUEST_RESP (360 bytes of MIKEY, 480 base64 characters; --body-bytes
 * changes it). No base64 decoding, no logging, no store.
 *
 * SIGTERM / SIGINT stop it after the request in flight. Not installed.
 */
#include <errno.h>
#include <fastcgi.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fcgi/kmsd_body.h"

#define NULL_BODY_MAX (64u * 1024u)     /* kmsd's default body cap */
#define NULL_DRAIN_MAX (32u * 1024u * 1024u)
#define NULL_ANSWER_MAX 8192            /* MK_ANSWER_MAX */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int is_listening(int fd)
{
    int v = 0;
    socklen_t l = sizeof v;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 && v != 0;
}

/* The fixed answer: the CGI header block of kmsd's 200 and base64 of
 * `bytes` bytes (a recognisable pattern, not a MIKEY message). */
static int build_answer(size_t bytes, char *out, size_t cap, size_t *len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char b64[((NULL_ANSWER_MAX + 2) / 3) * 4 + 1];
    size_t k = 0;
    for (size_t i = 0; i < bytes; i += 3) {
        unsigned v = (unsigned)(i & 0xff) << 16 |
                     (unsigned)((i + 1) & 0xff) << 8 |
                     (unsigned)((i + 2) & 0xff);
        size_t left = bytes - i;
        b64[k++] = alphabet[(v >> 18) & 63];
        b64[k++] = alphabet[(v >> 12) & 63];
        b64[k++] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
        b64[k++] = left > 2 ? alphabet[v & 63] : '=';
    }
    b64[k] = '\0';
    int n = snprintf(out, cap,
                     "Status: 200 OK\r\n"
                     "Content-Type: application/mikey\r\n"
                     "Cache-Control: no-store\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     k, b64);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    *len = (size_t)n;
    return 0;
}

int main(int argc, char **argv)
{
    int fd = FCGI_LISTENSOCK_FILENO;
    size_t body_bytes = 360;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen-fd") == 0 && i + 1 < argc) {
            fd = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--body-bytes") == 0 && i + 1 < argc) {
            long b = atol(argv[++i]);
            if (b < 1 || b > (long)NULL_ANSWER_MAX) {
                fprintf(stderr, "null_responder: --body-bytes 1..%u\n",
                        NULL_ANSWER_MAX);
                return 2;
            }
            body_bytes = (size_t)b;
        } else {
            fprintf(stderr, "usage: null_responder [--listen-fd N] "
                            "[--body-bytes N]\n");
            return 2;
        }
    }

    static char answer[((NULL_ANSWER_MAX + 2) / 3) * 4 + 512];
    size_t answer_len = 0;
    if (build_answer(body_bytes, answer, sizeof answer, &answer_len) != 0)
        return 2;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: poll returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    if (!is_listening(fd)) {
        fprintf(stderr, "null_responder: descriptor %d is not a listening "
                        "socket (start it with spawn-fcgi)\n", fd);
        return 1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        perror("null_responder: fcntl");
        return 1;
    }
    if (FCGX_Init() != 0)
        return 1;
    FCGX_Request req;
    if (FCGX_InitRequest(&req, fd, 0) != 0)
        return 1;
    char *body = malloc(NULL_BODY_MAX + 1);
    if (body == NULL)
        return 1;

    fprintf(stderr, "null_responder[%ld]: serving descriptor %d\n",
            (long)getpid(), fd);
    unsigned long served = 0;
    while (!stop_requested) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            perror("null_responder: poll");
            break;
        }
        if ((p.revents & (POLLERR | POLLNVAL)) != 0)
            break;
        if ((p.revents & POLLIN) == 0)
            continue;
        int a = FCGX_Accept_r(&req);
        if (a < 0)
            continue; /* EAGAIN: another process took it */
        char **envp = req.envp;
        /* the variables kmsd's binding looks at */
        volatile const char *sink[8] = {
            FCGX_GetParam("REQUEST_METHOD", envp),
            FCGX_GetParam("SERVER_PROTOCOL", envp),
            FCGX_GetParam("SCRIPT_NAME", envp),
            FCGX_GetParam("PATH_INFO", envp),
            FCGX_GetParam("REQUEST_URI", envp),
            FCGX_GetParam("QUERY_STRING", envp),
            FCGX_GetParam("CONTENT_TYPE", envp),
            FCGX_GetParam("CONTENT_LENGTH", envp),
        };
        (void)sink;
        size_t n = kmsd_body_read(req.in, (uint8_t *)body, NULL_BODY_MAX + 1);
        if (n == NULL_BODY_MAX + 1)
            kmsd_body_drain(req.in, NULL_DRAIN_MAX);
        if (FCGX_GetError(req.in) == 0) {
            FCGX_PutStr(answer, (int)answer_len, req.out);
            FCGX_FFlush(req.out);
            served++;
        }
        FCGX_Finish_r(&req);
    }
    FCGX_Free(&req, 1);
    free(body);
    fprintf(stderr, "null_responder[%ld]: stopped after %lu requests\n",
            (long)getpid(), served);
    return 0;
}
