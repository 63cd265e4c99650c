/* snprintf for the Cortex-M3 build: newlib's needs a heap, this one does not.
 * Supports flags - 0 +, width and precision (also *), length h l ll z, and
 * conversions d i u x X c s p % e f g. Floating point is formatted with double
 * arithmetic: exact for the short values the core prints (config limits). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct sink {
  char *buf;
  size_t cap;
  size_t len; /* length the full text would have */
} sink_t;

static void put(sink_t *s, char c)
{
  if (s->len + 1 < s->cap) {
    s->buf[s->len] = c;
  }
  s->len++;
}

static void put_padded(sink_t *s, const char *text, size_t n, int width, bool left, char pad)
{
  int fill = width > (int)n ? width - (int)n : 0;
  if (!left && pad == '0' && n && (text[0] == '-' || text[0] == '+')) {
    put(s, *text++); /* the sign goes before zero padding */
    n--;
  }
  for (; !left && fill > 0; fill--) {
    put(s, pad);
  }
  for (size_t i = 0; i < n; i++) {
    put(s, text[i]);
  }
  for (; left && fill > 0; fill--) {
    put(s, ' ');
  }
}

static size_t format_unsigned(char *out, uint64_t v, unsigned base, bool upper)
{
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v);
  for (size_t i = 0; i < n; i++) {
    out[i] = tmp[n - 1 - i];
  }
  return n;
}

/* d.ddd...e±XX with `precision` digits after the point. */
static size_t format_exp(char *out, double v, int precision)
{
  size_t n = 0;
  if (v < 0) {
    out[n++] = '-';
    v = -v;
  }
  int exp10 = 0;
  if (v != 0) {
    while (v >= 10.0) {
      v /= 10.0;
      exp10++;
    }
    while (v < 1.0) {
      v *= 10.0;
      exp10--;
    }
  }
  double round = 0.5;
  for (int i = 0; i < precision; i++) {
    round /= 10.0;
  }
  v += round;
  if (v >= 10.0) {
    v /= 10.0;
    exp10++;
  }
  for (int i = 0; i <= precision; i++) {
    int d = (int)v;
    out[n++] = (char)('0' + d);
    if (i == 0 && precision > 0) {
      out[n++] = '.';
    }
    v = (v - d) * 10.0;
  }
  out[n++] = 'e';
  out[n++] = exp10 < 0 ? '-' : '+';
  unsigned e = (unsigned)(exp10 < 0 ? -exp10 : exp10);
  if (e < 10) {
    out[n++] = '0';
  }
  n += format_unsigned(out + n, e, 10, false);
  return n;
}

static size_t format_fixed(char *out, double v, int precision)
{
  size_t n = 0;
  if (v < 0) {
    out[n++] = '-';
    v = -v;
  }
  double round = 0.5;
  for (int i = 0; i < precision; i++) {
    round /= 10.0;
  }
  v += round;
  if (v >= 1e18) {
    return n + format_exp(out + n, v, 6);
  }
  uint64_t whole = (uint64_t)v;
  n += format_unsigned(out + n, whole, 10, false);
  v -= (double)whole;
  if (precision > 0) {
    out[n++] = '.';
  }
  for (int i = 0; i < precision; i++) {
    v *= 10.0;
    int d = (int)v;
    out[n++] = (char)('0' + d);
    v -= d;
  }
  return n;
}

/* %g: the shorter of %e and %f with `precision` significant digits, trailing zeros cut. */
static size_t format_general(char *out, double v, int precision)
{
  if (precision == 0) {
    precision = 1;
  }
  char e_form[40];
  e_form[format_exp(e_form, v, precision - 1)] = '\0';
  const char *e = strchr(e_form, 'e');
  int exp10 = 0;
  for (const char *d = e + 2; *d; d++) {
    exp10 = exp10 * 10 + (*d - '0');
  }
  if (e[1] == '-') {
    exp10 = -exp10;
  }
  size_t n;
  if (exp10 < -4 || exp10 >= precision) {
    n = format_exp(out, v, precision - 1);
  } else {
    n = format_fixed(out, v, precision - 1 - exp10);
  }
  char *point = memchr(out, '.', n);
  if (point) {
    char *exp_part = memchr(out, 'e', n);
    size_t end = exp_part ? (size_t)(exp_part - out) : n;
    size_t cut = end;
    while (cut > 0 && out[cut - 1] == '0') {
      cut--;
    }
    if (cut > 0 && out[cut - 1] == '.') {
      cut--;
    }
    memmove(out + cut, out + end, n - end);
    n -= end - cut;
  }
  return n;
}

int vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
  sink_t s = {buf, cap, 0};
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      put(&s, *p);
      continue;
    }
    p++;
    bool left = false, plus = false;
    char pad = ' ';
    for (;; p++) {
      if (*p == '-') {
        left = true;
      } else if (*p == '0') {
        pad = '0';
      } else if (*p == '+') {
        plus = true;
      } else {
        break;
      }
    }
    int width = 0, precision = -1;
    if (*p == '*') {
      width = va_arg(ap, int);
      p++;
    } else {
      while (*p >= '0' && *p <= '9') {
        width = width * 10 + (*p++ - '0');
      }
    }
    if (*p == '.') {
      p++;
      precision = 0;
      if (*p == '*') {
        precision = va_arg(ap, int);
        p++;
      } else {
        while (*p >= '0' && *p <= '9') {
          precision = precision * 10 + (*p++ - '0');
        }
      }
    }
    int longs = 0;
    while (*p == 'l' || *p == 'h' || *p == 'z') {
      longs += *p == 'l' ? 1 : *p == 'z' ? 2 : 0;
      p++;
    }
    char tmp[64];
    size_t n = 0;
    switch (*p) {
    case 'd':
    case 'i': {
      int64_t v = longs >= 2 ? va_arg(ap, long long) : longs == 1 ? va_arg(ap, long) : va_arg(ap, int);
      if (v < 0) {
        tmp[n++] = '-';
      } else if (plus) {
        tmp[n++] = '+';
      }
      n += format_unsigned(tmp + n, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, false);
      put_padded(&s, tmp, n, width, left, pad);
      break;
    }
    case 'u':
    case 'x':
    case 'X': {
      uint64_t v = longs >= 2 ? va_arg(ap, unsigned long long)
                   : longs == 1 ? va_arg(ap, unsigned long)
                                : va_arg(ap, unsigned);
      n = format_unsigned(tmp, v, *p == 'u' ? 10 : 16, *p == 'X');
      put_padded(&s, tmp, n, width, left, pad);
      break;
    }
    case 'p':
      tmp[0] = '0';
      tmp[1] = 'x';
      n = 2 + format_unsigned(tmp + 2, (uintptr_t)va_arg(ap, void *), 16, false);
      put_padded(&s, tmp, n, width, left, ' ');
      break;
    case 'c':
      tmp[0] = (char)va_arg(ap, int);
      put_padded(&s, tmp, 1, width, left, ' ');
      break;
    case 's': {
      const char *text = va_arg(ap, const char *);
      if (!text) {
        text = "(null)";
      }
      size_t len = 0;
      while (text[len] && (precision < 0 || len < (size_t)precision)) {
        len++;
      }
      put_padded(&s, text, len, width, left, ' ');
      break;
    }
    case 'e':
    case 'f':
    case 'g': {
      double v = va_arg(ap, double);
      if (v != v) {
        n = (size_t)snprintf(tmp, sizeof tmp, "nan");
      } else if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308) {
        n = (size_t)snprintf(tmp, sizeof tmp, v < 0 ? "-inf" : "inf");
      } else {
        int prec = precision < 0 ? 6 : precision > 30 ? 30 : precision;
        n = *p == 'e' ? format_exp(tmp, v, prec) : *p == 'f' ? format_fixed(tmp, v, prec) : format_general(tmp, v, prec);
      }
      put_padded(&s, tmp, n, width, left, pad);
      break;
    }
    case '%':
      put(&s, '%');
      break;
    default:
      put(&s, '%');
      if (*p) {
        put(&s, *p);
      } else {
        p--;
      }
      break;
    }
  }
  if (cap) {
    buf[s.len < cap ? s.len : cap - 1] = '\0';
  }
  return (int)s.len;
}

int snprintf(char *buf, size_t cap, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}
