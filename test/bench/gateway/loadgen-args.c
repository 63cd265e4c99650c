// Arguments of the load generator; fail() lives here as the arguments are its first users.
#include "loadgen-args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void fail(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

static const char *const USAGE =
    "usage: loadgen --port P [--host H] [--spots N] [--seconds S] [--rate R] [--window-ms W] [--post-events E] [--first-serial F] [--pretty-share P] [--stamp]\n"
    "  --rate 0 (the default) writes as fast as the server takes; R > 0 is R events/s in total\n"
    "  --post-events E ends a post at E events even within its window (0, the default: no bound)\n"
    "  --pretty-share P: P percent of the spots (0-100, default 0) pretty-print each event with tabs and line feeds, as the vendor's spots do";

static long whole_number(const char *name, const char *value, long min, long max) {
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
        fail("%s must be a whole number from %ld to %ld (got \"%s\")", name, min, max, value);
    return v;
}

static double number(const char *name, const char *value, double min, bool min_allowed) {
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (*value == '\0' || *end != '\0' || errno != 0 || !(v >= min) || (!min_allowed && v == min) || v > 1e9)
        fail("%s must be a number %s %g (got \"%s\")", name, min_allowed ? ">=" : ">", min, value);
    return v;
}

struct options parse_arguments(int argc, char **argv) {
    struct options opt = {"127.0.0.1", NULL, 200, 30, 0, 1000, 0, 1000, 0, false};
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        if (strcmp(name, "--stamp") == 0) {
            opt.stamp = true;
            continue;
        }
        static const char *const valued[] = {"--host", "--port", "--spots", "--seconds", "--rate", "--window-ms", "--post-events", "--first-serial", "--pretty-share"};
        bool known = false;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) known |= strcmp(name, valued[k]) == 0;
        if (!known) fail("unknown argument \"%s\"\n%s", name, USAGE);
        if (i + 1 >= argc) fail("%s needs a value\n%s", name, USAGE);
        const char *value = argv[++i];
        if (strcmp(name, "--host") == 0) {
            if (strlen(value) > 253) fail("--host is over 253 characters");
            opt.host = value;
        } else if (strcmp(name, "--port") == 0) {
            whole_number(name, value, 1, 65535);
            opt.port = value;
        } else if (strcmp(name, "--spots") == 0) {
            opt.spots = whole_number(name, value, 1, 100000);
        } else if (strcmp(name, "--seconds") == 0) {
            opt.seconds = number(name, value, 0, false);
        } else if (strcmp(name, "--rate") == 0) {
            opt.rate = number(name, value, 0, true);
        } else if (strcmp(name, "--window-ms") == 0) {
            opt.window_ms = whole_number(name, value, 1, 3600000);
        } else if (strcmp(name, "--post-events") == 0) {
            opt.post_events = whole_number(name, value, 0, 1000000000);
        } else if (strcmp(name, "--pretty-share") == 0) {
            opt.pretty_share = whole_number(name, value, 0, 100);
        } else {
            opt.first_serial = whole_number(name, value, 0, 2000000000);
        }
    }
    if (!opt.port) fail("--port is required\n%s", USAGE);
    return opt;
}
