// Events: byte for byte the mix spots send (presences, hits, a config update every 20th).
#define _POSIX_C_SOURCE 200809L
#include "loadgen-events.h"

#include <stdio.h>
#include <time.h>

#define ITEM_CODES 500

static char item_codes[ITEM_CODES][25];

void init_events(void) {
    for (int i = 0; i < ITEM_CODES; i++) snprintf(item_codes[i], sizeof item_codes[i], "e2801170000002%010llx", 0x0a1b2c3d00ULL + (unsigned)i);
}

static char *put_uint(char *p, uint64_t v) {
    char digits[20];
    int i = 0;
    do digits[i++] = (char)('0' + v % 10); while ((v /= 10) > 0);
    while (i > 0) *p++ = digits[--i];
    return p;
}

static char *put_digits3(char *p, unsigned v) {
    *p++ = (char)('0' + v / 100);
    *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

/** ISO 8601 in UTC with milliseconds, as Date.toISOString(); the seconds part is cached. */
static char *put_iso_time(char *p, int64_t ms) {
    static int64_t cached_second = -1;
    static char head[32];
    int64_t second = ms / 1000;
    if (second != cached_second) {
        time_t t = (time_t)second;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S.", &tm);
        cached_second = second;
    }
    p = put(p, head, 20);
    p = put_digits3(p, (unsigned)(ms % 1000));
    *p++ = 'Z';
    return p;
}

/** `,"bench_t":<ms since the epoch, 3 decimals>` from the real-time clock. */
static char *put_stamp(char *p) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    p = PUT(p, ",\"bench_t\":");
    p = put_uint(p, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
    *p++ = '.';
    return put_digits3(p, (unsigned)(ts.tv_nsec / 1000 % 1000));
}

static char *put_compact(char *p, long serial, uint64_t n, bool stamp) {
    static const char *const actions[] = {"create", "update", "delete"};
    static const char *const proximities[] = {"immediate", "near", "far"};
    const char *code = item_codes[((uint64_t)serial * 7 + n) % ITEM_CODES];
    unsigned k = (unsigned)(n % 20);
    if (k == 19) {
        p = PUT(p, "[\"config\",\"update\",{\"rfid_power_dbm\":");
        p = put_uint(p, 20 + n % 10);
    } else if (k >= 15) {
        p = PUT(p, "[\"hit\",\"create\",{\"time\":\"");
        p = put_iso_time(p, 1780000000000LL + (int64_t)n * 10);
        p = PUT(p, "\",\"item_code\":\"");
        p = put(p, code, 24);
        p = PUT(p, "\",\"item_codetype\":\"EPC Gen2\",\"antenna\":");
        p = put_uint(p, 1 + n % 4);
        p = PUT(p, ",\"signal_strength\":-");
        p = put_uint(p, 400 + n % 300);
    } else {
        const char *action = actions[k % 3], *proximity = proximities[n % 3];
        p = PUT(p, "[\"presence\",\"");
        p = put(p, action, 6);
        p = PUT(p, "\",{\"item_code\":\"");
        p = put(p, code, 24);
        p = PUT(p, "\",\"item_codetype\":\"EPC Gen2\",\"time_started\":\"");
        char *time_started = p;
        p = put_iso_time(p, 1780000000000LL + (int64_t)n * 10);
        p = PUT(p, "\",\"time_last\":\"");
        p = put(p, time_started, 24);
        p = PUT(p, "\",\"proximity\":\"");
        p = put(p, proximity, strlen(proximity));
        p = PUT(p, "\",\"hold_delay_s\":4");
    }
    if (stamp) p = put_stamp(p);
    return PUT(p, "}]\n\n");
}

/** The compact event at `src` laid out as the vendor's spots do; keys and values are left as they are. */
static char *put_pretty(char *p, const char *src, const char *end) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (; src < end; src++) {
        char c = *src;
        if (in_string) {
            *p++ = c;
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        if (c == '}' && depth == 1) *p++ = '\n';
        *p++ = c;
        if (c == '{' && ++depth == 1) p = PUT(p, "\n\t");
        else if (c == '}') depth--;
        else if (c == ',' && depth == 1) p = PUT(p, "\n\t");
        else if (c == ':' && depth == 1) *p++ = '\t';
    }
    return p;
}

char *put_event(char *p, long serial, uint64_t n, bool stamp, bool pretty) {
    if (!pretty) return put_compact(p, serial, n, stamp);
    char compact[MAX_EVENT_BYTES];
    char *end = put_compact(compact, serial, n, stamp);
    return put_pretty(p, compact, end);
}
