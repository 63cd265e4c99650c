#include "json_scan.h"

#include <string.h>
#if __STDC_HOSTED__
#include <stdlib.h>
#endif

void json_scan_init(json_scan_t *s, const char *text, size_t len) {
  s->p = text;
  s->end = text + len;
}

void json_scan_ws(json_scan_t *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

json_type_t json_scan_peek(json_scan_t *s) {
  json_scan_ws(s);
  if (s->p >= s->end) return JSON_NONE;
  switch (*s->p) {
    case '{': return JSON_OBJECT;
    case '[': return JSON_ARRAY;
    case '"': return JSON_STRING;
    case 't': return JSON_TRUE;
    case 'f': return JSON_FALSE;
    case 'n': return JSON_NULL;
    default: return (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) ? JSON_NUMBER : JSON_NONE;
  }
}

bool json_scan_take(json_scan_t *s, char c) {
  json_scan_ws(s);
  if (s->p < s->end && *s->p == c) {
    s->p++;
    return true;
  }
  return false;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool read_hex4(json_scan_t *s, unsigned *v) {
  if (s->end - s->p < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex_value(s->p[i]);
    if (h < 0) return false;
    *v = *v << 4 | (unsigned)h;
  }
  s->p += 4;
  return true;
}

/* Appends the UTF-8 form of code point cp; false if out is full. */
static bool put_utf8(char *out, size_t cap, size_t *n, unsigned cp) {
  char b[4];
  size_t k;
  if (cp < 0x80) { b[0] = (char)cp; k = 1; }
  else if (cp < 0x800) { b[0] = (char)(0xc0 | cp >> 6); b[1] = (char)(0x80 | (cp & 0x3f)); k = 2; }
  else if (cp < 0x10000) {
    b[0] = (char)(0xe0 | cp >> 12); b[1] = (char)(0x80 | (cp >> 6 & 0x3f)); b[2] = (char)(0x80 | (cp & 0x3f)); k = 3;
  } else {
    b[0] = (char)(0xf0 | cp >> 18); b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    b[2] = (char)(0x80 | (cp >> 6 & 0x3f)); b[3] = (char)(0x80 | (cp & 0x3f)); k = 4;
  }
  if (*n + k >= cap) return false;
  memcpy(out + *n, b, k);
  *n += k;
  return true;
}

bool json_scan_string(json_scan_t *s, char *out, size_t cap, size_t *len) {
  if (!json_scan_take(s, '"') || cap == 0) return false;
  size_t n = 0;
  while (s->p < s->end) {
    char c = *s->p++;
    if (c == '"') {
      out[n] = '\0';
      if (len) *len = n;
      return true;
    }
    if ((unsigned char)c < 0x20) return false;
    if (c != '\\') {
      if (n + 1 >= cap) return false;
      out[n++] = c;
      continue;
    }
    if (s->p >= s->end) return false;
    char e = *s->p++;
    unsigned cp;
    switch (e) {
      case '"': case '\\': case '/': cp = (unsigned char)e; break;
      case 'b': cp = '\b'; break;
      case 'f': cp = '\f'; break;
      case 'n': cp = '\n'; break;
      case 'r': cp = '\r'; break;
      case 't': cp = '\t'; break;
      case 'u': {
        if (!read_hex4(s, &cp)) return false;
        unsigned lo;
        if (cp >= 0xd800 && cp < 0xdc00 && s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u') {
          json_scan_t look = {s->p + 2, s->end};
          if (read_hex4(&look, &lo) && lo >= 0xdc00 && lo < 0xe000) {
            s->p = look.p;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
        }
        break;
      }
      default: return false;
    }
    if (cp == 0) return false; /* C strings end at NUL: such text stays raw JSON (extra_json) */
    if (!put_utf8(out, cap, &n, cp)) return false;
  }
  return false;
}

static bool skip_string(json_scan_t *s) {
  s->p++; /* opening quote */
  while (s->p < s->end) {
    char c = *s->p++;
    if (c == '"') return true;
    if (c == '\\') {
      if (s->p >= s->end) return false;
      s->p++;
    }
  }
  return false;
}

static bool skip_literal(json_scan_t *s, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) return false;
  s->p += n;
  return true;
}

static bool skip_number(json_scan_t *s) {
  const char *start = s->p;
  if (s->p < s->end && *s->p == '-') s->p++;
  const char *digits = s->p;
  while (s->p < s->end && ((*s->p >= '0' && *s->p <= '9') || *s->p == '.' || *s->p == 'e' ||
                           *s->p == 'E' || *s->p == '+' || *s->p == '-'))
    s->p++;
  return s->p > digits && s->p > start;
}

/* Skips a value nested at most 32 deep (enough for control_schema). */
static bool skip_value(json_scan_t *s, int depth) {
  if (depth > 32) return false;
  switch (json_scan_peek(s)) {
    case JSON_STRING: return skip_string(s);
    case JSON_NUMBER: return skip_number(s);
    case JSON_TRUE: return skip_literal(s, "true");
    case JSON_FALSE: return skip_literal(s, "false");
    case JSON_NULL: return skip_literal(s, "null");
    case JSON_OBJECT:
      s->p++;
      if (json_scan_take(s, '}')) return true;
      do {
        if (json_scan_peek(s) != JSON_STRING || !skip_string(s) || !json_scan_take(s, ':') ||
            !skip_value(s, depth + 1))
          return false;
      } while (json_scan_take(s, ','));
      return json_scan_take(s, '}');
    case JSON_ARRAY:
      s->p++;
      if (json_scan_take(s, ']')) return true;
      do {
        if (!skip_value(s, depth + 1)) return false;
      } while (json_scan_take(s, ','));
      return json_scan_take(s, ']');
    default: return false;
  }
}

bool json_scan_value(json_scan_t *s, const char **start, size_t *len) {
  json_scan_ws(s);
  const char *from = s->p;
  if (!skip_value(s, 0)) return false;
  if (start) *start = from;
  if (len) *len = (size_t)(s->p - from);
  return true;
}

bool json_text_int(const char *text, size_t len, int64_t *v) {
  if (len == 0 || len > 20) return false;
  size_t i = 0;
  bool negative = text[0] == '-';
  if (negative) i++;
  if (i == len) return false;
  uint64_t acc = 0;
  for (; i < len; i++) {
    if (text[i] < '0' || text[i] > '9') return false;
    unsigned d = (unsigned)(text[i] - '0');
    if (acc > (UINT64_MAX - d) / 10) return false;
    acc = acc * 10 + d;
  }
  if (negative ? acc > (uint64_t)INT64_MAX + 1 : acc > (uint64_t)INT64_MAX) return false;
  *v = negative ? (int64_t)(0 - acc) : (int64_t)acc;
  return true;
}

#if __STDC_HOSTED__
bool json_text_double(const char *text, size_t len, double *v) {
  char tmp[40];
  if (len == 0 || len >= sizeof tmp) return false;
  memcpy(tmp, text, len);
  tmp[len] = '\0';
  if (!(tmp[0] == '-' || (tmp[0] >= '0' && tmp[0] <= '9'))) return false;
  char *end;
  *v = strtod(tmp, &end);
  return end == tmp + len;
}
#else
/* Without strtod (newlib's needs a heap): digits and a power of ten, close
 * enough for config values; not always the nearest double. */
bool json_text_double(const char *t, size_t len, double *v) {
  size_t i = 0;
  bool neg = len > 0 && t[0] == '-';
  if (neg) i++;
  double m = 0;
  int exp10 = 0, digits = 0;
  while (i < len && t[i] >= '0' && t[i] <= '9') { m = m * 10 + (t[i++] - '0'); digits++; }
  if (i < len && t[i] == '.') {
    i++;
    while (i < len && t[i] >= '0' && t[i] <= '9') { m = m * 10 + (t[i++] - '0'); exp10--; digits++; }
  }
  if (digits == 0) return false;
  if (i < len && (t[i] == 'e' || t[i] == 'E')) {
    i++;
    bool eneg = i < len && t[i] == '-';
    if (i < len && (t[i] == '-' || t[i] == '+')) i++;
    int e = 0, ed = 0;
    while (i < len && t[i] >= '0' && t[i] <= '9' && e < 10000) { e = e * 10 + (t[i++] - '0'); ed++; }
    if (ed == 0) return false;
    exp10 += eneg ? -e : e;
  }
  if (i != len) return false;
  for (; exp10 > 0; exp10--) m *= 10;
  for (; exp10 < 0; exp10++) m /= 10;
  *v = neg ? -m : m;
  return true;
}
#endif

bool json_scan_int(json_scan_t *s, int64_t *v) {
  if (json_scan_peek(s) != JSON_NUMBER) return false;
  const char *start = s->p;
  json_scan_t probe = *s;
  if (!skip_number(&probe)) return false;
  if (!json_text_int(start, (size_t)(probe.p - start), v)) {
    double d; /* 1e3 or 5.0 are integers too */
    if (!json_text_double(start, (size_t)(probe.p - start), &d) || !(d > -9.2e18 && d < 9.2e18) ||
        d != (double)(int64_t)d)
      return false;
    *v = (int64_t)d;
  }
  s->p = probe.p;
  return true;
}

bool json_scan_double(json_scan_t *s, double *v) {
  if (json_scan_peek(s) != JSON_NUMBER) return false;
  const char *start = s->p;
  json_scan_t probe = *s;
  if (!skip_number(&probe) || !json_text_double(start, (size_t)(probe.p - start), v)) return false;
  s->p = probe.p;
  return true;
}

size_t json_compact_copy(char *dst, size_t cap, const char *src, size_t len) {
  size_t n = 0;
  bool in_string = false, escape = false;
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    if (!in_string && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) continue;
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    }
    if (n + 1 >= cap) return (size_t)-1;
    dst[n++] = c;
  }
  if (cap > 0) dst[n] = '\0';
  return n;
}
