/* A small JSON reader over a buffer (no heap): values are read or skipped in place. */
#ifndef JSON_SCAN_H
#define JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct json_scan {
  const char *p;
  const char *end;
} json_scan_t;

typedef enum json_type {
  JSON_NONE, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_TRUE, JSON_FALSE, JSON_NULL
} json_type_t;

void json_scan_init(json_scan_t *s, const char *text, size_t len);
void json_scan_ws(json_scan_t *s);
/* Type of the next value (after whitespace), JSON_NONE at the end or on a bad byte. */
json_type_t json_scan_peek(json_scan_t *s);
/* Consumes c (after whitespace) if it is next. */
bool json_scan_take(json_scan_t *s, char c);
/* Reads a string value, unescaped into out (NUL-terminated); false if bad or too long. */
bool json_scan_string(json_scan_t *s, char *out, size_t cap, size_t *len);
/* Skips one value of any type; its text is [*start, *start + *len). */
bool json_scan_value(json_scan_t *s, const char **start, size_t *len);
/* Reads a number value as an integer (no fraction or exponent), or as a double. */
bool json_scan_int(json_scan_t *s, int64_t *v);
bool json_scan_double(json_scan_t *s, double *v);

/* Copies JSON text without the whitespace outside strings; returns its length,
 * or (size_t)-1 if it does not fit in cap (NUL included). */
size_t json_compact_copy(char *dst, size_t cap, const char *src, size_t len);

/* Parses the whole text as an integer / a double (for numbers sent as strings). */
bool json_text_int(const char *text, size_t len, int64_t *v);
bool json_text_double(const char *text, size_t len, double *v);

#endif
