// The event mix of make bench-gateway's load generator: byte for byte what spots send.
#ifndef LOADGEN_EVENTS_H
#define LOADGEN_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Upper bound of one event's bytes, stamp and pretty-printing included: sizes the chunk buffer. */
#define MAX_EVENT_BYTES 512

/** Copies `n` bytes to `p`; returns the end. Inline: the generator's hot path is copying. */
static inline char *put(char *p, const char *s, size_t n) {
    memcpy(p, s, n);
    return p + n;
}
#define PUT(p, literal) put(p, literal, sizeof(literal) - 1)

/** Fills the item codes table; call once before put_event. */
void init_events(void);

/**
 * Writes event `n` of spot `serial` (with the real-time `bench_t` when `stamp`); returns the end.
 * `pretty`: laid out as the vendor's spots write it (spot-protocol.md): a line feed and a tab
 * before each key, a tab after its colon, a line feed before the closing brace. The same data.
 */
char *put_event(char *p, long serial, uint64_t n, bool stamp, bool pretty);

#endif
