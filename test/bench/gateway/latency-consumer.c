// Latency consumer for make bench-gateway, in its own process and in C so the instrument is not
// what is slow. Usage: latency-consumer <mqtt url> <warm-up ms> <run ms> [<report ms>]. A bare
// MQTT 3.1.1 subscriber to from/+/json/# (QoS 0): prints "ready" once subscribed; the latency of a
// message is the real-time clock when it is read minus its "bench_t" stamp; messages stamped within
// the warm-up after the first message arrived are left out. After run ms it prints one JSON line:
// {"count","p50","p99","max"} (milliseconds); with <report ms>, such a line also every so often.
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOPIC_FILTER "from/+/json/#"
#define KEEPALIVE_S 120
#define STAMP "\"bench_t\":"
/* A blocking read (one system call per wake-up, not two) returns this often to check the time. */
static const struct timespec READ_TIMEOUT_TS = {0, 20 * 1000000};

static const char *const USAGE =
    "usage: latency-consumer <mqtt url> <warm-up ms> <run ms> [<report ms>]\n"
    "  <report ms>: also print the line every so often, for the messages read since the last one";

/** Latencies in microseconds. */
static int64_t *latencies;
static size_t latency_count, latency_cap;
static int64_t warmup_us;
static int64_t measure_from_us = INT64_MAX;

static _Noreturn void fail(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs("latency consumer: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

static int64_t clock_us(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long milliseconds(const char *name, const char *value) {
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || errno != 0 || v < 0)
        fail("%s must be a whole number of milliseconds >= 0 (got \"%s\")\n%s", name, value, USAGE);
    return v;
}

/** mqtt://host[:port][/] into host and port (1883 when absent). */
static void parse_url(const char *url, char *host, size_t host_size, char *port, size_t port_size) {
    const char *scheme = "mqtt://";
    if (strncmp(url, scheme, strlen(scheme)) != 0) fail("<mqtt url> must start with mqtt:// (got \"%s\")\n%s", url, USAGE);
    const char *start = url + strlen(scheme);
    size_t host_len = strcspn(start, ":/");
    if (host_len == 0 || host_len >= host_size) fail("<mqtt url> has no usable host (got \"%s\")", url);
    memcpy(host, start, host_len);
    host[host_len] = '\0';
    snprintf(port, port_size, "1883");
    if (start[host_len] == ':') {
        const char *p = start + host_len + 1;
        size_t port_len = strcspn(p, "/");
        char *end;
        long n = strtol(p, &end, 10);
        if (port_len == 0 || port_len >= port_size || end != p + port_len || n < 1 || n > 65535)
            fail("<mqtt url> has a bad port (got \"%s\")", url);
        memcpy(port, p, port_len);
        port[port_len] = '\0';
    }
}

static int connect_broker(const char *host, const char *port) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *addr;
    int rc = getaddrinfo(host, port, &hints, &addr);
    if (rc != 0) fail("cannot resolve %s: %s", host, gai_strerror(rc));
    int fd = socket(addr->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, addr->ai_addr, addr->ai_addrlen) != 0)
        fail("cannot connect to the broker at %s:%s: %s", host, port, strerror(errno));
    freeaddrinfo(addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval timeout = {.tv_usec = READ_TIMEOUT_TS.tv_nsec / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

static void send_all(int fd, const unsigned char *data, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("cannot write to the broker: %s", strerror(errno));
        data += n;
        len -= (size_t)n;
    }
}

/** CONNECT (clean session) and SUBSCRIBE at QoS 0; both bodies are under 128 bytes. */
static void subscribe(int fd) {
    char client_id[48];
    int id_len = snprintf(client_id, sizeof client_id, "bench-latency-%d", (int)getpid());
    unsigned char packet[128], *p = packet;
    *p++ = 0x10;
    *p++ = (unsigned char)(10 + 2 + id_len);
    memcpy(p, "\0\4MQTT\4\2", 8);
    p += 8;
    *p++ = KEEPALIVE_S >> 8;
    *p++ = KEEPALIVE_S & 0xff;
    *p++ = 0;
    *p++ = (unsigned char)id_len;
    memcpy(p, client_id, (size_t)id_len);
    p += id_len;
    size_t filter_len = strlen(TOPIC_FILTER);
    *p++ = 0x82;
    *p++ = (unsigned char)(2 + 2 + filter_len + 1);
    *p++ = 0;
    *p++ = 1; /* packet id */
    *p++ = 0;
    *p++ = (unsigned char)filter_len;
    memcpy(p, TOPIC_FILTER, filter_len);
    p += filter_len;
    *p++ = 0; /* QoS 0 */
    send_all(fd, packet, (size_t)(p - packet));
}

static void record(int64_t latency_us) {
    if (latency_count == latency_cap) {
        latency_cap = latency_cap ? latency_cap * 2 : 65536;
        latencies = realloc(latencies, latency_cap * sizeof *latencies);
        if (!latencies) fail("out of memory for %zu latencies", latency_cap);
    }
    latencies[latency_count++] = latency_us;
}

/** The stamp after "bench_t": in microseconds (digits past the third decimal ignored), or -1. */
static int64_t stamp_us(const unsigned char *at, const unsigned char *end) {
    int64_t whole = 0, fraction = 0;
    int decimals = 0;
    bool digits = false;
    while (at < end && *at >= '0' && *at <= '9') whole = whole * 10 + (*at++ - '0'), digits = true;
    if (at < end && *at == '.')
        for (at++; at < end && *at >= '0' && *at <= '9'; at++)
            if (decimals < 3) fraction = fraction * 10 + (*at - '0'), decimals++;
    if (!digits) return -1;
    while (decimals++ < 3) fraction *= 10;
    return whole * 1000 + fraction;
}

static void on_publish(const unsigned char *payload, size_t len, int64_t now_us) {
    if (measure_from_us == INT64_MAX) measure_from_us = now_us + warmup_us;
    const unsigned char *at = memmem(payload, len, STAMP, strlen(STAMP));
    if (!at) return;
    int64_t stamp = stamp_us(at + strlen(STAMP), payload + len);
    if (stamp >= 0 && stamp >= measure_from_us) record(now_us - stamp);
}

/** Handles the complete packets in buf; returns the bytes consumed. */
static size_t on_packets(const unsigned char *buf, size_t len, int64_t now_us, size_t *need) {
    size_t i = 0;
    *need = 0;
    while (i < len) {
        size_t rest = 0, k = i + 1;
        unsigned shift = 0;
        bool complete = false;
        while (k < len && k < i + 5) {
            unsigned char b = buf[k++];
            rest |= (size_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80)) {
                complete = true;
                break;
            }
        }
        if (!complete && k == i + 5) fail("malformed packet from the broker (remaining length over 4 bytes)");
        if (!complete || k + rest > len) {
            *need = complete ? k + rest - i : 0;
            break;
        }
        unsigned type = buf[i] & 0xf0;
        if (type == 0x30 && rest >= 2) {
            size_t topic_len = (size_t)buf[k] << 8 | buf[k + 1];
            size_t header = 2 + topic_len + ((buf[i] & 0x06) ? 2 : 0);
            if (header <= rest) on_publish(buf + k + header, rest - header, now_us);
        } else if (type == 0x20 && rest >= 2 && buf[k + 1] != 0) {
            fail("broker refused the connection (code %d)", buf[k + 1]);
        } else if (type == 0x90 && rest >= 3) {
            if (buf[k + 2] == 0x80) fail("broker refused the subscription to %s", TOPIC_FILTER);
            fputs("ready\n", stdout);
            fflush(stdout);
        }
        i = k + rest;
    }
    return i;
}

static int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/** One JSON line for these latencies (sorted in place): count, median, 99th percentile, maximum. */
static void print_summary(int64_t *values, size_t count) {
    if (count == 0) {
        puts("{\"count\":0,\"p50\":null,\"p99\":null,\"max\":null}");
    } else {
        qsort(values, count, sizeof *values, by_value);
        size_t p50 = count / 2, p99 = (size_t)((double)count * 0.99);
        if (p99 >= count) p99 = count - 1;
        printf("{\"count\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}\n", count, (double)values[p50] / 1000,
               (double)values[p99] / 1000, (double)values[count - 1] / 1000);
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) fail("expected 3 or 4 arguments, got %d\n%s", argc - 1, USAGE);
    char host[256], port[8];
    parse_url(argv[1], host, sizeof host, port, sizeof port);
    warmup_us = (int64_t)milliseconds("<warm-up ms>", argv[2]) * 1000;
    int64_t run_us = (int64_t)milliseconds("<run ms>", argv[3]) * 1000;
    int64_t report_us = argc == 5 ? (int64_t)milliseconds("<report ms>", argv[4]) * 1000 : 0;
    int64_t start = clock_us(CLOCK_MONOTONIC), deadline = start + run_us, next_ping = start + KEEPALIVE_S / 2 * 1000000LL;
    int64_t next_report = start + report_us;
    size_t reported = 0;

    int fd = connect_broker(host, port);
    subscribe(fd);
    size_t cap = 1 << 18, len = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) fail("out of memory");
    bool open = true;
    for (int64_t now = start; now < deadline; now = clock_us(CLOCK_MONOTONIC)) {
        if (open && now >= next_ping) {
            send_all(fd, (const unsigned char *)"\xc0\0", 2);
            next_ping += KEEPALIVE_S / 2 * 1000000LL;
        }
        if (report_us > 0 && now >= next_report) {
            print_summary(latencies + reported, latency_count - reported);
            reported = latency_count;
            next_report += report_us;
        }
        if (!open) {
            nanosleep(&READ_TIMEOUT_TS, NULL);
            continue;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        int64_t read_at = clock_us(CLOCK_REALTIME);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n <= 0) {
            fprintf(stderr, "latency consumer: the broker closed the connection%s%s\n", n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
            open = false;
            continue;
        }
        len += (size_t)n;
        size_t need;
        size_t used = on_packets(buf, len, read_at, &need);
        memmove(buf, buf + used, len - used);
        len -= used;
        if (need > cap || len == cap) {
            while (cap < need || cap == len) cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) fail("out of memory for a %zu-byte packet", need);
        }
    }
    if (open) send_all(fd, (const unsigned char *)"\xe0\0", 2);
    close(fd);
    print_summary(latencies, latency_count);
    return 0;
}
