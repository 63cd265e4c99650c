// Load generator for make bench-gateway: N simulated spots posting chunked JSON event streams,
// as real spots do (one keep-alive connection each, one post per window, events as chunks).
// In C so the instrument takes little of the CPU it shares with the gateway it measures.
// Prints one JSON line: {"sentEvents","ackedEvents","failedPosts","elapsedMs"}; events of posts
// answered 200 are acknowledged, i.e. stored.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loadgen-args.h"
#include "loadgen-events.h"

#define PACED_MAX_CHUNK 50
#define THROUGHPUT_CHUNK 20
#define PACER_GROUPS 10
#define RESPONSE_WAIT_MS 15000

/** Bytes to send (or received), consumed from `off`. */
struct buffer {
    char *data;
    size_t off, len, cap;
};

struct spot {
    int fd;
    long serial;
    bool pretty;        /* writes its events as the vendor's spots do (--pretty-share) */
    uint64_t n;         /* events made so far: picks the next event of the mix */
    bool posting;       /* request head written, body open */
    bool waiting;       /* body ended, response awaited */
    bool closed;
    uint32_t mask;      /* epoll events registered */
    uint64_t in_post;
    int64_t post_started;
    uint64_t credit;    /* paced: events granted, not yet written */
    struct buffer out, in;
};

static struct options opt;
static struct spot *spots;
static int epoll_fd;
static int64_t now_ms, start_ms;
static bool stopped;
static long open_spots, lost_spots;
static uint64_t sent_events, acked_events, failed_posts;
static uint64_t due_events; /* paced: events the clock has granted so far */
static char scratch[PACED_MAX_CHUNK * MAX_EVENT_BYTES];

static int64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- buffers and sockets --- */

static char *reserve(struct buffer *b, size_t extra) {
    if (b->off == b->len) b->off = b->len = 0;
    if (b->len + extra > b->cap) {
        if (b->off > 0) {
            memmove(b->data, b->data + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        }
        while (b->len + extra > b->cap) b->cap = b->cap ? b->cap * 2 : 16384;
        b->data = realloc(b->data, b->cap);
        if (!b->data) fail("out of memory");
    }
    return b->data + b->len;
}

static void append(struct buffer *b, const char *s, size_t n) {
    memcpy(reserve(b, n), s, n);
    b->len += n;
}

static void watch(struct spot *s, uint32_t mask) {
    if (s->closed || mask == s->mask) return;
    struct epoll_event ev = {.events = mask, .data.ptr = s};
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, s->fd, &ev);
    s->mask = mask;
}

/** What the spot waits for: responses always; writability while bytes are pending, and in
 * throughput mode while its post is open (it writes whenever the socket accepts). */
static void update_watch(struct spot *s) {
    bool pending = s->out.off < s->out.len;
    bool hungry = opt.rate == 0 && s->posting && !stopped;
    watch(s, EPOLLIN | (pending || hungry ? EPOLLOUT : 0));
}

/** Closes a spot's connection; `why` is set when it is lost before the run's end (reported once). */
static void close_spot(struct spot *s, const char *why) {
    if (s->closed) return;
    if (why && !stopped && lost_spots++ == 0)
        fprintf(stderr, "loadgen: spot %ld lost its connection %lld ms into the run: %s\n", s->serial, (long long)(now_ms - start_ms), why);
    if (s->waiting) failed_posts++;
    close(s->fd);
    s->closed = true;
    s->posting = s->waiting = false;
    free(s->out.data);
    free(s->in.data);
    s->out = s->in = (struct buffer){0};
    open_spots--;
}

/** Sends what is pending; false when the socket is full (EPOLLOUT resumes) or closed. */
static bool flush(struct spot *s) {
    while (s->out.off < s->out.len) {
        ssize_t n = send(s->fd, s->out.data + s->out.off, s->out.len - s->out.off, MSG_NOSIGNAL);
        if (n > 0) {
            s->out.off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            update_watch(s);
            return false;
        } else {
            close_spot(s, strerror(errno));
            return false;
        }
    }
    return true;
}

static void write_chunk(struct spot *s, unsigned count) {
    char *end = scratch;
    for (unsigned i = 0; i < count; i++) end = put_event(end, s->serial, s->n++, opt.stamp, s->pretty);
    size_t body = (size_t)(end - scratch);
    char head[16];
    int head_len = snprintf(head, sizeof head, "%zx\r\n", body);
    char *p = reserve(&s->out, (size_t)head_len + body + 2);
    p = put(p, head, (size_t)head_len);
    p = put(p, scratch, body);
    p = PUT(p, "\r\n");
    s->out.len = (size_t)(p - s->out.data);
    s->in_post += count;
    sent_events += count;
}

static void end_post(struct spot *s) {
    s->posting = false;
    s->waiting = true;
    append(&s->out, "0\r\n\r\n", 5);
    if (flush(s)) update_watch(s);
}

/* The post is over: its window passed, or (--post-events) it holds enough events. Bounding the
 * events per post bounds how far a spot writes ahead of the server's answers in throughput mode. */
static bool window_over(const struct spot *s) {
    return stopped || now_ms - s->post_started >= opt.window_ms || (opt.post_events > 0 && s->in_post >= (uint64_t)opt.post_events);
}

/** Paced: writes the granted events, at most 50 per chunk. Bytes queue behind a full socket, so
 * a slow server shows as latency (events are stamped when written here), not as a lower rate. */
static void pump_paced(struct spot *s) {
    while (s->posting && !s->closed) {
        if (window_over(s)) {
            end_post(s);
            return;
        }
        if (s->credit == 0) return;
        unsigned count = s->credit < PACED_MAX_CHUNK ? (unsigned)s->credit : PACED_MAX_CHUNK;
        s->credit -= count;
        write_chunk(s, count);
        if (s->out.off < s->out.len && (s->mask & EPOLLOUT)) continue; /* already waiting for room */
        flush(s);
    }
}

static void begin_post(struct spot *s) {
    if (stopped) {
        close_spot(s, NULL);
        return;
    }
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /api/spots/%ld/events/ HTTP/1.1\r\nHost: %s\r\nUser-Agent: spot/bench\r\n"
                     "Transfer-Encoding: chunked\r\nAccept: text/x-intellifi-events\r\n"
                     "Content-Type: text/x-intellifi-events\r\nCache-Control: no-cache\r\n\r\n",
                     s->serial, opt.host);
    s->in_post = 0;
    s->posting = true;
    s->post_started = now_ms;
    append(&s->out, head, (size_t)n);
    if (!flush(s)) return;
    if (opt.rate > 0) pump_paced(s);
    else update_watch(s);
}

/* --- responses --- */

/** The value of header `name` (lower case, with the colon) in `head`, or NULL. */
static const char *header_value(const char *head, size_t len, const char *name) {
    size_t name_len = strlen(name);
    for (const char *line = head; line && line < head + len;) {
        const char *next = memmem(line, (size_t)(head + len - line), "\r\n", 2);
        if (next) next += 2;
        if ((size_t)(head + len - line) > name_len && strncasecmp(line, name, name_len) == 0) {
            line += name_len;
            while (*line == ' ' || *line == '\t') line++;
            return line;
        }
        line = next;
    }
    return NULL;
}

/** Consumes one complete response from the spot's input; false when more bytes are needed. */
static bool take_response(struct spot *s) {
    char *start = s->in.data + s->in.off;
    size_t avail = s->in.len - s->in.off;
    char *head_end = memmem(start, avail, "\r\n\r\n", 4);
    if (!head_end) return false;
    size_t head_len = (size_t)(head_end - start), body_start = head_len + 4, done;
    const char *space = memchr(start, ' ', head_len);
    int status = space ? atoi(space + 1) : 0;
    const char *length = header_value(start, head_len, "content-length:");
    const char *encoding = header_value(start, head_len, "transfer-encoding:");
    if (length) {
        done = body_start + strtoul(length, NULL, 10);
        if (done > avail) return false;
    } else if (encoding && strncasecmp(encoding, "chunked", 7) == 0) {
        char *last = memmem(start + body_start, avail - body_start, "0\r\n\r\n", 5);
        if (!last) return false;
        done = (size_t)(last - start) + 5;
    } else {
        done = body_start;
    }
    s->in.off += done;
    /* An answer before the body's end (an error) still needs the body ended before the next post. */
    if (s->posting) append(&s->out, "0\r\n\r\n", 5);
    s->posting = s->waiting = false;
    if (status == 200) acked_events += s->in_post;
    else failed_posts++;
    begin_post(s);
    return true;
}

static void on_readable(struct spot *s) {
    ssize_t n;
    do n = read(s->fd, reserve(&s->in, 65536), 65536); while (n < 0 && errno == EINTR);
    if (n <= 0) {
        if (n == 0) close_spot(s, "closed by the server");
        else if (errno != EAGAIN && errno != EWOULDBLOCK) close_spot(s, strerror(errno));
        return;
    }
    s->in.len += (size_t)n;
    while (!s->closed && take_response(s)) {}
}

static void on_writable(struct spot *s) {
    if (!flush(s)) return;
    if (opt.rate > 0) {
        pump_paced(s);
    } else if (s->posting) {
        if (window_over(s)) {
            end_post(s);
            return;
        }
        write_chunk(s, THROUGHPUT_CHUNK);
        flush(s);
    }
    update_watch(s);
}

/* --- the run --- */

static void connect_spots(void) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *addr;
    int rc = getaddrinfo(opt.host, opt.port, &hints, &addr);
    if (rc != 0) fail("cannot resolve --host %s: %s", opt.host, gai_strerror(rc));
    for (long i = 0; i < opt.spots; i++) {
        struct spot *s = &spots[i];
        s->serial = opt.first_serial + i;
        /* Spread evenly: of any 100 consecutive spots, pretty_share pretty-print. */
        s->pretty = (i + 1) * opt.pretty_share / 100 > i * opt.pretty_share / 100;
        s->fd = socket(addr->ai_family, SOCK_STREAM, 0);
        if (s->fd < 0 || connect(s->fd, addr->ai_addr, addr->ai_addrlen) != 0)
            fail("spot %ld: cannot connect to %s:%s: %s", s->serial, opt.host, opt.port, strerror(errno));
        int one = 1;
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(s->fd, F_SETFL, O_NONBLOCK);
        s->mask = EPOLLIN;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, s->fd, &ev);
    }
    freeaddrinfo(addr);
    open_spots = opt.spots;
}

/** Paced: credit follows the clock, so a late tick does not lower the rate. The spots take turns
 * across each 1/rate-per-spot period, one group per ms, as real spots are not synchronised. */
static void pace(int64_t elapsed) {
    static uint64_t granted[PACER_GROUPS];
    double per_spot_per_ms = opt.rate / 1000 / (double)opt.spots;
    for (long g = 0; g < PACER_GROUPS; g++) {
        double since = (double)(elapsed - g);
        uint64_t due = since > 0 ? (uint64_t)(since * per_spot_per_ms) : 0;
        if (due <= granted[g]) continue;
        uint64_t whole = due - granted[g];
        granted[g] = due;
        for (long i = g; i < opt.spots; i += PACER_GROUPS) {
            struct spot *s = &spots[i];
            s->credit += whole;
            due_events += whole;
            if (s->posting && !s->closed) pump_paced(s);
        }
    }
}

static void tick(int64_t t0, int64_t stop_at, int64_t *elapsed_ms) {
    if (stopped) return;
    if (now_ms >= stop_at) {
        *elapsed_ms = now_ms - t0;
        stopped = true;
        for (long i = 0; i < opt.spots; i++)
            if (spots[i].posting && !spots[i].closed) end_post(&spots[i]);
        return;
    }
    if (opt.rate > 0) pace(now_ms - t0);
    for (long i = 0; i < opt.spots; i++)
        if (spots[i].posting && !spots[i].closed && window_over(&spots[i])) end_post(&spots[i]);
}

static void run(void) {
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec every_ms = {.it_interval = {0, 1000000}, .it_value = {0, 1000000}};
    struct epoll_event timer_ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (timer < 0 || timerfd_settime(timer, 0, &every_ms, NULL) != 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer, &timer_ev) != 0)
        fail("cannot start the 1 ms timer: %s", strerror(errno));
    int64_t t0 = start_ms = now_ms = monotonic_ms();
    int64_t stop_at = t0 + (int64_t)(opt.seconds * 1000 + 0.5), deadline = stop_at + RESPONSE_WAIT_MS;
    int64_t elapsed_ms = -1;
    for (long i = 0; i < opt.spots; i++) begin_post(&spots[i]);
    struct epoll_event events[256];
    while (open_spots > 0 && now_ms < deadline) {
        int n = epoll_wait(epoll_fd, events, 256, 100);
        now_ms = monotonic_ms();
        for (int i = 0; i < n; i++) {
            struct spot *s = events[i].data.ptr;
            if (!s) {
                uint64_t expirations;
                if (read(timer, &expirations, sizeof expirations) > 0) tick(t0, stop_at, &elapsed_ms);
                continue;
            }
            if (!s->closed && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(s);
            if (!s->closed && (events[i].events & EPOLLOUT)) on_writable(s);
        }
        if (!stopped && now_ms >= stop_at) tick(t0, stop_at, &elapsed_ms);
    }
    if (elapsed_ms < 0) elapsed_ms = now_ms - t0;
    if (lost_spots > 0) fprintf(stderr, "loadgen: %ld of %ld spots lost their connection before the run's end\n", lost_spots, opt.spots);
    if (open_spots > 0)
        fprintf(stderr, "loadgen: %ld spots had no answer to their last post %d s after the run\n", open_spots, RESPONSE_WAIT_MS / 1000);
    double eps = elapsed_ms > 0 ? (double)sent_events * 1000 / (double)elapsed_ms : 0;
    if (opt.rate > 0)
        fprintf(stderr, "loadgen: %ld spots sent %llu events in %lld ms: %.0f events/s (asked %.0f/s; the clock made %llu due, %llu of them not sent)\n",
                opt.spots, (unsigned long long)sent_events, (long long)elapsed_ms, eps, opt.rate, (unsigned long long)due_events,
                (unsigned long long)(due_events - sent_events));
    else
        fprintf(stderr, "loadgen: %ld spots sent %llu events in %lld ms: %.0f events/s (as fast as the server took them)\n",
                opt.spots, (unsigned long long)sent_events, (long long)elapsed_ms, eps);
    printf("{\"sentEvents\":%llu,\"ackedEvents\":%llu,\"failedPosts\":%llu,\"elapsedMs\":%lld}\n", (unsigned long long)sent_events,
           (unsigned long long)acked_events, (unsigned long long)failed_posts, (long long)elapsed_ms);
}

int main(int argc, char **argv) {
    opt = parse_arguments(argc, argv);
    init_events();
    spots = calloc((size_t)opt.spots, sizeof *spots);
    epoll_fd = epoll_create1(0);
    if (!spots || epoll_fd < 0) fail("cannot set up %ld spots: %s", opt.spots, strerror(errno));
    connect_spots();
    run();
    return 0;
}
