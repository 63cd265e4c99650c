#include "text.h"

#include <string.h>

#include "json_out.h"

void text_init(text_t *t, char *buf, size_t cap) {
  t->buf = buf;
  t->cap = cap;
  t->len = 0;
  if (cap > 0) buf[0] = '\0';
}

void text_strn(text_t *t, const char *s, size_t n) {
  size_t i = 0;
  while (i < n && s[i] != '\0' && t->len + 1 < t->cap) t->buf[t->len++] = s[i++];
  if (t->cap > 0) t->buf[t->len] = '\0';
}

void text_str(text_t *t, const char *s) { text_strn(t, s, strlen(s)); }

void text_int(text_t *t, int64_t v) {
  uint8_t tmp[24];
  json_out_t o;
  json_out_init(&o, tmp, sizeof tmp);
  json_out_int(&o, v);
  text_strn(t, (const char *)tmp, o.len);
}

void text_double(text_t *t, double v) {
  uint8_t tmp[32];
  json_out_t o;
  json_out_init(&o, tmp, sizeof tmp);
  json_out_double(&o, v);
  text_strn(t, (const char *)tmp, o.len);
}

void text_copy(char *dst, size_t cap, const char *src) {
  text_t t;
  text_init(&t, dst, cap);
  if (src) text_str(&t, src);
}
