/* JSON text writer into a fixed buffer, formatting like JavaScript's JSON.stringify. */
#ifndef JSON_OUT_H
#define JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct json_out {
  uint8_t *buf;
  size_t cap;
  size_t len;
  bool overflow; /* set once anything did not fit; len then stops growing */
} json_out_t;

void json_out_init(json_out_t *o, uint8_t *buf, size_t cap);
void json_out_raw(json_out_t *o, const char *text, size_t len);
void json_out_text(json_out_t *o, const char *text); /* raw, NUL-terminated */
void json_out_string(json_out_t *o, const char *s, size_t len); /* quoted, escaped */
void json_out_int(json_out_t *o, int64_t v);
void json_out_uint(json_out_t *o, uint64_t v);
void json_out_double(json_out_t *o, double v); /* shortest round-trip, JS style */
void json_out_time(json_out_t *o, int64_t unix_ms); /* "2026-03-01T08:00:00.000Z" */

#endif
