// Command line of make bench-gateway's load generator, and how it fails.
#ifndef LOADGEN_ARGS_H
#define LOADGEN_ARGS_H

#include <stdbool.h>

struct options {
    const char *host;
    const char *port;
    long spots;
    double seconds;
    double rate;
    long window_ms;
    long post_events;   /* a post also ends once it holds this many events (0: only the window) */
    long first_serial;
    long pretty_share;  /* percent of the spots that pretty-print their events as the vendor's do */
    bool stamp;
};

/** Prints `loadgen: <message>` to stderr and exits 1. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** The options of `argv` over the defaults; fails with the usage on a bad argument. */
struct options parse_arguments(int argc, char **argv);

#endif
