/* Builds short messages in a fixed buffer (newlib-nano's snprintf needs a heap). */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct text {
  char *buf;
  size_t cap; /* NUL included; text that does not fit is cut */
  size_t len;
} text_t;

void text_init(text_t *t, char *buf, size_t cap);
void text_str(text_t *t, const char *s);
void text_strn(text_t *t, const char *s, size_t n); /* at most n bytes of s */
void text_int(text_t *t, int64_t v);
void text_double(text_t *t, double v);
/* Copies src (NULL: nothing) into dst, cut to fit cap with its NUL. */
void text_copy(char *dst, size_t cap, const char *src);

#endif
