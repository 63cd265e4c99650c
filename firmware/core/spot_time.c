#include "spot_time.h"

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *out, unsigned v, int n) {
  for (int i = n - 1; i >= 0; i--) {
    out[i] = (char)('0' + v % 10);
    v /= 10;
  }
}

void spot_time_iso(int64_t unix_ms, char out[SPOT_TIME_ISO_LEN + 1]) {
  const int64_t min_ms = -62167219200000LL;   /* 0000-01-01 */
  const int64_t max_ms = 253402300799999LL;   /* 9999-12-31T23:59:59.999 */
  if (unix_ms < min_ms) unix_ms = min_ms;
  if (unix_ms > max_ms) unix_ms = max_ms;
  int64_t days = unix_ms / 86400000;
  int64_t rest = unix_ms % 86400000;
  if (rest < 0) {
    rest += 86400000;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  unsigned ms = (unsigned)rest;
  put_digits(out, (unsigned)y, 4);
  out[4] = '-';
  put_digits(out + 5, m, 2);
  out[7] = '-';
  put_digits(out + 8, d, 2);
  out[10] = 'T';
  put_digits(out + 11, ms / 3600000, 2);
  out[13] = ':';
  put_digits(out + 14, ms / 60000 % 60, 2);
  out[16] = ':';
  put_digits(out + 17, ms / 1000 % 60, 2);
  out[19] = '.';
  put_digits(out + 20, ms % 1000, 3);
  out[23] = 'Z';
  out[24] = '\0';
}

static bool read_digits(const char *p, int n, unsigned *v) {
  *v = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    *v = *v * 10 + (unsigned)(p[i] - '0');
  }
  return true;
}

bool spot_time_parse_iso(const char *t, size_t len, int64_t *unix_ms) {
  unsigned y, mo, d, h, mi, s, frac = 0;
  if (len < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':') return false;
  if (!read_digits(t, 4, &y) || !read_digits(t + 5, 2, &mo) || !read_digits(t + 8, 2, &d) ||
      !read_digits(t + 11, 2, &h) || !read_digits(t + 14, 2, &mi) || !read_digits(t + 17, 2, &s))
    return false;
  size_t i = 19;
  if (t[i] == '.') {
    size_t start = ++i;
    while (i < len && t[i] >= '0' && t[i] <= '9') i++;
    size_t n = i - start;
    if (n < 1 || n > 3) return false;
    unsigned f;
    if (!read_digits(t + start, (int)n, &f)) return false;
    frac = n == 1 ? f * 100 : n == 2 ? f * 10 : f;
  }
  int64_t offset_min = 0;
  if (i + 1 == len && t[i] == 'Z') {
    i++;
  } else if (i + 6 == len && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    unsigned oh, om;
    if (!read_digits(t + i + 1, 2, &oh) || !read_digits(t + i + 4, 2, &om) || oh > 23 || om > 59) return false;
    offset_min = (int64_t)(oh * 60 + om) * (t[i] == '-' ? -1 : 1);
  } else {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return false;
  int64_t days = days_from_civil(y, mo, d);
  *unix_ms = ((days * 24 + h) * 60 + mi - offset_min) * 60000LL + (int64_t)s * 1000 + frac;
  return true;
}
