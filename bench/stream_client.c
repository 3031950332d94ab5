/* The subscribers of bench/streams_bench.py: many streams held by one process, each
 * receipt timed with the clock the bench reads (CLOCK_MONOTONIC, Python's perf_counter).
 *
 * A client written in Python costs about 10 us of CPU per event it reads; on a 2-core machine
 * that shares its cores with the server, the bench then measured its own client as much as
 * the server. This one costs about 1 us.
 *
 *   stream_client PORT REQUESTS
 *
 * REQUESTS holds one request per stream, each as "<length>\n<bytes>". The client opens them
 * (at most 64 at a time), waits for each stream's first event ("connected"), and prints
 * "ready N". Then it reads commands on stdin:
 *
 *   watch MARKER TIMEOUT_MS   prints "watching", then, once every stream received MARKER or
 *                             the timeout passed, one line: the time each stream received it
 *                             (seconds, CLOCK_MONOTONIC; -1 for none), in request order
 *   quit                      closes every stream and exits
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OPENING_AT_ONCE 64
#define TAIL 127

typedef struct {
    int fd;
    int opened;
    double seen;  /* when the watched marker arrived; -1: not yet */
    size_t tail_len;
    char tail[TAIL];  /* the last bytes received: a marker may span two reads */
    char *request;
    size_t request_len;
} stream_t;

static stream_t *streams;
static int count, opened, next_to_open, port;
static int ep;
static char marker[256];
static size_t marker_len;
static int watching, seen_count;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what, int i) {
    fprintf(stderr, "stream_client: stream %d: %s: %s\n", i, what, strerror(errno));
    exit(1);
}

static void open_next(void) {
    int i = next_to_open++;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket", i);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) fail("connect", i);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t sent = 0;
    while (sent < streams[i].request_len) {
        ssize_t n = write(fd, streams[i].request + sent, streams[i].request_len - sent);
        if (n <= 0) fail("write", i);
        sent += (size_t)n;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    streams[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl", i);
}

/* Search `needle` in the stream's tail followed by `data`. */
static int contains(stream_t *s, const char *data, size_t len, const char *needle, size_t n) {
    if (memmem(data, len, needle, n)) return 1;
    if (s->tail_len == 0 || n < 2) return 0;
    char joined[2 * TAIL];
    size_t head = len < n - 1 ? len : n - 1;
    memcpy(joined, s->tail, s->tail_len);
    memcpy(joined + s->tail_len, data, head);
    return memmem(joined, s->tail_len + head, needle, n) != NULL;
}

static void keep_tail(stream_t *s, const char *data, size_t len) {
    if (len >= TAIL) {
        memcpy(s->tail, data + len - TAIL, TAIL);
        s->tail_len = TAIL;
        return;
    }
    size_t keep = s->tail_len + len > TAIL ? TAIL - len : s->tail_len;
    memmove(s->tail, s->tail + s->tail_len - keep, keep);
    memcpy(s->tail + keep, data, len);
    s->tail_len = keep + len;
}

/* One read a readiness (epoll is level-triggered): what is left beyond the buffer is
   reported again, and no read is made only to hear EAGAIN, which on 5,000 streams is a
   system call each that the server's writes would wait on, sharing the cores. */
static void on_data(int i) {
    static char buf[1 << 16];
    stream_t *s = &streams[i];
    ssize_t n = read(s->fd, buf, sizeof buf);
    if (n == 0) {
        fprintf(stderr, "stream_client: stream %d closed by the server\n", i);
        exit(1);
    }
    if (n < 0) {
        if (errno == EAGAIN) return;
        fail("read", i);
    }
    double t = now();
    if (!s->opened) {
        if (s->tail_len == 0 && n >= 12 && buf[9] != '1' && buf[9] != '2') {
            fprintf(stderr, "stream_client: stream %d refused: %.*s\n", i,
                    (int)(n < 300 ? n : 300), buf);
            exit(1);
        }
        if (contains(s, buf, (size_t)n, "connected", 9)) {
            s->opened = 1;
            opened++;
            if (next_to_open < count) open_next();
        }
    }
    if (watching && s->seen < 0 && contains(s, buf, (size_t)n, marker, marker_len)) {
        s->seen = t;
        seen_count++;
    }
    keep_tail(s, buf, (size_t)n);
}

static int run_until(double deadline, int (*done)(void)) {
    struct epoll_event events[1024];
    while (!done()) {
        double left = deadline - now();
        if (left <= 0) return 0;
        int k = epoll_wait(ep, events, 1024, (int)(left * 1000) + 1);
        for (int j = 0; j < k; j++) on_data((int)events[j].data.u32);
    }
    return 1;
}

static int all_opened(void) { return opened == count; }
static int all_seen(void) { return seen_count == count; }

static void load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) fail("open requests", -1);
    size_t len;
    int cap = 1024;
    streams = calloc((size_t)cap, sizeof *streams);
    while (fscanf(f, "%zu", &len) == 1 && fgetc(f) == '\n') {
        if (count == cap) {
            cap *= 2;
            streams = realloc(streams, (size_t)cap * sizeof *streams);
        }
        stream_t *s = &streams[count++];
        memset(s, 0, sizeof *s);
        s->request = malloc(len);
        s->request_len = len;
        if (fread(s->request, 1, len, f) != len) fail("read requests", count);
    }
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: stream_client PORT REQUESTS\n");
        return 2;
    }
    port = atoi(argv[1]);
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    load(argv[2]);
    ep = epoll_create1(0);
    while (next_to_open < count && next_to_open < OPENING_AT_ONCE) open_next();
    if (!run_until(now() + 300, all_opened)) {
        fprintf(stderr, "stream_client: %d of %d streams opened in 300 s\n", opened, count);
        return 1;
    }
    printf("ready %d\n", count);
    fflush(stdout);

    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        int timeout_ms;
        if (strncmp(line, "quit", 4) == 0) break;
        if (sscanf(line, "watch %255s %d", marker, &timeout_ms) != 2) {
            fprintf(stderr, "stream_client: unknown command: %s", line);
            return 2;
        }
        marker_len = strlen(marker);
        for (int i = 0; i < count; i++) streams[i].seen = -1;
        seen_count = 0;
        watching = 1;
        printf("watching\n");
        fflush(stdout);
        run_until(now() + timeout_ms / 1000.0, all_seen);
        watching = 0;
        for (int i = 0; i < count; i++) printf(i ? " %.6f" : "%.6f", streams[i].seen);
        printf("\n");
        fflush(stdout);
    }
    for (int i = 0; i < count; i++) close(streams[i].fd);
    return 0;
}
