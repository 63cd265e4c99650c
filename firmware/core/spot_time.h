/* Unix milliseconds <-> ISO-8601 UTC text with milliseconds. */
#ifndef SPOT_TIME_H
#define SPOT_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOT_TIME_ISO_LEN 24 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */

/* Writes SPOT_TIME_ISO_LEN chars and a NUL; years outside 0..9999 are clamped. */
void spot_time_iso(int64_t unix_ms, char out[SPOT_TIME_ISO_LEN + 1]);

/* Parses "YYYY-MM-DDTHH:MM:SS[.fff]" then "Z" or "+HH:MM"/"-HH:MM" (fraction of 1..3 digits). */
bool spot_time_parse_iso(const char *text, size_t len, int64_t *unix_ms);

#endif
