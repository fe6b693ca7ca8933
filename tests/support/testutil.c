/* testutil.c - repository lookup and the HTTP stub server (see testutil.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

/* ------------------------------------------------------------------ */
/* Repository root                                                      */

static bool is_root(const char *dir)
{
    char p[4096];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/include/gpuledger/err.h", dir) >= (int)sizeof p)
        return false;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

const char *gl_test_root(char *buf, size_t cap)
{
    const char *env = getenv("GPULEDGER_ROOT");
    if (env && *env) {
        if (strlen(env) >= cap)
            return NULL;
        memcpy(buf, env, strlen(env) + 1);
        return buf;
    }
    char dir[4096];
    if (!getcwd(dir, sizeof dir))
        return NULL;
    for (;;) {
        if (is_root(dir)) {
            if (strlen(dir) >= cap)
                return NULL;
            memcpy(buf, dir, strlen(dir) + 1);
            return buf;
        }
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return NULL;
        *slash = '\0';
    }
}

/* ------------------------------------------------------------------ */
/* HTTP stub                                                            */

/* A request head or body larger than this is refused (connection closed). */
#define STUB_MAX_REQUEST (16u << 20)
#define STUB_POLL_MS 50

struct gl_stub {
    int listen_fd;
    pthread_t thread;
    gl_stub_fn fn;
    void *ctx;
    char url[64];
    atomic_bool stop;
    atomic_uint connections;
    atomic_uint requests;
};

/* Wait until fd is readable or the stub is told to stop.  1 readable,
 * 0 stop, -1 error. */
static int wait_readable(gl_stub *s, int fd)
{
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, STUB_POLL_MS);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
    return 0;
}

static const char *find_header(const char *head, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n"))
        if (!strncasecmp(p + 2, name, nl) && p[2 + nl] == ':')
            return p + 2 + nl + 1;
    return NULL;
}

static bool send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Read one request into `in` (head + body).  Returns the head length
 * (through the blank line) and sets *body_len, or 0 on close/stop/error. */
static size_t read_request(gl_stub *s, int fd, gl_buf *in, size_t *body_len)
{
    size_t head_len = 0, want = 0;
    for (;;) {
        if (!head_len && in->len >= 4) {
            for (size_t i = 0; i + 4 <= in->len; i++)
                if (!memcmp(in->data + i, "\r\n\r\n", 4)) {
                    head_len = i + 4;
                    break;
                }
            if (head_len) {
                char save = (char)in->data[head_len - 2];
                in->data[head_len - 2] = '\0';
                const char *cl = find_header((const char *)in->data, "Content-Length");
                *body_len = cl ? strtoul(cl, NULL, 10) : 0;
                in->data[head_len - 2] = (uint8_t)save;
                if (*body_len > STUB_MAX_REQUEST)
                    return 0;
                want = head_len + *body_len;
            }
        }
        if (head_len && in->len >= want)
            return head_len;
        if (in->len > STUB_MAX_REQUEST || wait_readable(s, fd) != 1)
            return 0;
        if (gl_buf_reserve(in, 65536, NULL) != GL_OK)
            return 0;
        ssize_t r = recv(fd, in->data + in->len, in->cap - in->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        in->len += (size_t)r;
    }
}

/* Does the answer's head carry "Connection: close"? */
static bool wants_close(const gl_buf *resp)
{
    const uint8_t *end = memmem(resp->data, resp->len, "\r\n\r\n", 4);
    char *head = strndup((const char *)resp->data, end ? (size_t)(end - resp->data) : resp->len);
    if (!head)
        return true;
    const char *v = find_header(head, "Connection");
    while (v && *v == ' ')
        v++;
    bool close_it = v && !strncasecmp(v, "close", 5);
    free(head);
    return close_it;
}

static void serve_connection(gl_stub *s, int fd)
{
    gl_buf in = GL_BUF_INIT, resp = GL_BUF_INIT;
    for (;;) {
        size_t body_len = 0;
        size_t head_len = read_request(s, fd, &in, &body_len);
        if (!head_len)
            break;
        /* NUL-terminate head and body in place for the handler. */
        char *copy = malloc(head_len + body_len + 2);
        if (!copy)
            break;
        memcpy(copy, in.data, head_len);
        copy[head_len - 2] = '\0';
        char *body = copy + head_len;
        memcpy(body, in.data + head_len, body_len);
        body[body_len] = '\0';
        /* Keep whatever followed (a pipelined request) for the next turn. */
        size_t used = head_len + body_len;
        memmove(in.data, in.data + used, in.len - used);
        in.len -= used;

        gl_buf_reset(&resp);
        unsigned n = atomic_fetch_add(&s->requests, 1);
        s->fn(s->ctx, n, copy, body, body_len, &resp);
        free(copy);
        if (resp.len == 0 || !send_all(fd, resp.data, resp.len) || wants_close(&resp))
            break;
    }
    gl_buf_release(&in);
    gl_buf_release(&resp);
    close(fd);
}

static void *stub_main(void *arg)
{
    gl_stub *s = arg;
    while (wait_readable(s, s->listen_fd) == 1) {
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add(&s->connections, 1);
        serve_connection(s, fd);
    }
    return NULL;
}

gl_stub *gl_stub_start(gl_stub_fn fn, void *ctx)
{
    gl_stub *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "gl_stub_start: out of memory\n");
        return NULL;
    }
    s->fn = fn;
    s->ctx = ctx;
    atomic_init(&s->stop, false);
    atomic_init(&s->connections, 0);
    atomic_init(&s->requests, 0);
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) ||
        listen(s->listen_fd, 16) || getsockname(s->listen_fd, (struct sockaddr *)&a, &alen)) {
        fprintf(stderr, "gl_stub_start: cannot listen on 127.0.0.1: %s\n", strerror(errno));
        if (s->listen_fd >= 0)
            close(s->listen_fd);
        free(s);
        return NULL;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u/", (unsigned)ntohs(a.sin_port));
    int e = pthread_create(&s->thread, NULL, stub_main, s);
    if (e) {
        fprintf(stderr, "gl_stub_start: cannot start a thread: %s\n", strerror(e));
        close(s->listen_fd);
        free(s);
        return NULL;
    }
    return s;
}

const char *gl_stub_url(const gl_stub *s) { return s->url; }

unsigned gl_stub_connections(const gl_stub *s) { return atomic_load(&((gl_stub *)s)->connections); }

unsigned gl_stub_requests(const gl_stub *s) { return atomic_load(&((gl_stub *)s)->requests); }

void gl_stub_stop(gl_stub *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    free(s);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

void gl_stub_reply(gl_buf *resp, int status, const char *extra_headers, const void *body, size_t body_len)
{
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nContent-Type: application/json\r\n%s\r\n",
                     status, reason(status), body_len, extra_headers ? extra_headers : "");
    if (n < 0 || (size_t)n >= sizeof head)
        return;
    if (gl_buf_append(resp, head, (size_t)n, NULL) == GL_OK)
        gl_buf_append(resp, body, body_len, NULL);
}
