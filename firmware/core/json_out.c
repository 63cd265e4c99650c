#include "json_out.h"

#include <string.h>
#if __STDC_HOSTED__
#include <stdio.h>
#include <stdlib.h>
#endif

#include "spot_time.h"

void json_out_init(json_out_t *o, uint8_t *buf, size_t cap) {
  o->buf = buf;
  o->cap = cap;
  o->len = 0;
  o->overflow = false;
}

void json_out_raw(json_out_t *o, const char *text, size_t len) {
  if (o->overflow || len > o->cap - o->len) {
    o->overflow = true;
    return;
  }
  memcpy(o->buf + o->len, text, len);
  o->len += len;
}

void json_out_text(json_out_t *o, const char *text) { json_out_raw(o, text, strlen(text)); }

void json_out_string(json_out_t *o, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  json_out_raw(o, "\"", 1);
  size_t run = 0; /* bytes copied as they are, flushed in one go */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char u[6];
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      default:
        if (c < 0x20) {
          u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
          u[4] = hex[c >> 4]; u[5] = hex[c & 15];
        }
    }
    if (esc == NULL && c >= 0x20) {
      run++;
      continue;
    }
    json_out_raw(o, s + i - run, run);
    run = 0;
    if (esc != NULL) json_out_text(o, esc);
    else json_out_raw(o, u, 6);
  }
  json_out_raw(o, s + len - run, run);
  json_out_raw(o, "\"", 1);
}

void json_out_uint(json_out_t *o, uint64_t v) {
  char tmp[21];
  int i = (int)sizeof tmp;
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  json_out_raw(o, tmp + i, sizeof tmp - (size_t)i);
}

void json_out_int(json_out_t *o, int64_t v) {
  if (v < 0) {
    json_out_raw(o, "-", 1);
    json_out_uint(o, (uint64_t)0 - (uint64_t)v);
  } else {
    json_out_uint(o, (uint64_t)v);
  }
}

#if __STDC_HOSTED__
/* Shortest digits that read back as v: returns digit count, fills digits and exp10 (d.ddd x 10^exp). */
static int shortest_digits(double v, char digits[18], int *exp10) {
  char tmp[40];
  for (int precision = 1; precision <= 17; precision++) {
    snprintf(tmp, sizeof tmp, "%.*e", precision - 1, v);
    if (precision == 17 || strtod(tmp, NULL) == v) break;
  }
  int n = 0;
  const char *p = tmp;
  while (*p != 'e') {
    if (*p >= '0' && *p <= '9') digits[n++] = *p;
    p++;
  }
  *exp10 = atoi(p + 1);
  while (n > 1 && digits[n - 1] == '0') n--;
  return n;
}
#else
/* Without a C library that formats doubles: 15 significant digits (exact for
 * config-like values, may differ from JavaScript in the last digit otherwise). */
static int shortest_digits(double v, char digits[18], int *exp10) {
  int e = 0;
  while (v >= 1e15) { v /= 10; e++; }
  while (v < 1e14) { v *= 10; e--; }
  uint64_t m = (uint64_t)(v + 0.5);
  if (m >= 1000000000000000ULL) { m /= 10; e++; }
  for (int i = 14; i >= 0; i--) {
    digits[i] = (char)('0' + m % 10);
    m /= 10;
  }
  *exp10 = e + 14;
  int n = 15;
  while (n > 1 && digits[n - 1] == '0') n--;
  return n;
}
#endif

void json_out_double(json_out_t *o, double v) {
  if (v != v || v - v != 0) { /* NaN or infinite: JSON.stringify writes null */
    json_out_text(o, "null");
    return;
  }
  if (v == 0) {
    json_out_raw(o, "0", 1);
    return;
  }
  if (v < 0) {
    json_out_raw(o, "-", 1);
    v = -v;
  }
  char d[18];
  int e;
  int k = shortest_digits(v, d, &e);
  int n = e + 1; /* position of the decimal point, as in ECMAScript Number::toString */
  if (k <= n && n <= 21) {
    json_out_raw(o, d, (size_t)k);
    for (int i = k; i < n; i++) json_out_raw(o, "0", 1);
  } else if (0 < n && n <= 21) {
    json_out_raw(o, d, (size_t)n);
    json_out_raw(o, ".", 1);
    json_out_raw(o, d + n, (size_t)(k - n));
  } else if (-6 < n && n <= 0) {
    json_out_raw(o, "0.", 2);
    for (int i = n; i < 0; i++) json_out_raw(o, "0", 1);
    json_out_raw(o, d, (size_t)k);
  } else {
    json_out_raw(o, d, 1);
    if (k > 1) {
      json_out_raw(o, ".", 1);
      json_out_raw(o, d + 1, (size_t)(k - 1));
    }
    json_out_raw(o, n - 1 >= 0 ? "e+" : "e-", 2);
    json_out_uint(o, (uint64_t)(n - 1 >= 0 ? n - 1 : 1 - n));
  }
}

void json_out_time(json_out_t *o, int64_t unix_ms) {
  char iso[SPOT_TIME_ISO_LEN + 1];
  spot_time_iso(unix_ms, iso);
  json_out_raw(o, "\"", 1);
  json_out_raw(o, iso, SPOT_TIME_ISO_LEN);
  json_out_raw(o, "\"", 1);
}
