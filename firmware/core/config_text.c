#include "config_text.h"

#include <stdint.h>
#include <string.h>

/* Decodes the UTF-8 sequence at p (NUL-terminated text): its length, 0 when it is
 * not UTF-8. Surrogates decode (a JSON \u escape of a lone one gives their bytes). */
static size_t utf8_next(const unsigned char *p, uint32_t *cp) {
  unsigned char b = p[0];
  size_t n;
  uint32_t v, least;
  if (b < 0x80) {
    *cp = b;
    return 1;
  }
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2, v = b & 0x1fu, least = 0x80;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3, v = b & 0x0fu, least = 0x800;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4, v = b & 0x07u, least = 0x10000;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0; /* the NUL at the end stops here too */
    v = v << 6 | (p[i] & 0x3fu);
  }
  if (v < least || v > 0x10ffff) return 0;
  *cp = v;
  return n;
}

static void text_hex(text_t *t, uint32_t v, int digits) {
  char out[9];
  int n = 0;
  while (n < 8 && (n < digits || v >> (4 * n) != 0)) n++;
  for (int i = 0; i < n; i++) out[i] = "0123456789ABCDEF"[v >> (4 * (n - 1 - i)) & 0xfu];
  text_strn(t, out, (size_t)n);
}

static const char *char_name(uint32_t cp) {
  switch (cp) {
    case 0x09: return " (tab)";
    case 0x0a: return " (line feed)";
    case 0x0d: return " (carriage return)";
    case 0x20: return " (space)";
    case 0x7f: return " (DEL)";
    default: return cp >= 0xd800 && cp <= 0xdfff ? " (an unpaired surrogate)" : "";
  }
}

static bool refused(uint32_t cp, bool visible_ascii) {
  if (visible_ascii) return cp < 0x21 || cp > 0x7e;
  return cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff);
}

bool config_text_ok(const char *text, size_t min_len, bool visible_ascii, text_t *why) {
  const unsigned char *p = (const unsigned char *)text;
  for (size_t at = 0, character = 0; p[at] != '\0'; character++) {
    uint32_t cp = 0;
    size_t n = utf8_next(p + at, &cp);
    if (n == 0) {
      text_str(why, " holds the byte 0x");
      text_hex(why, p[at], 2);
      text_str(why, ", not UTF-8, at byte ");
      text_int(why, (int64_t)at);
      text_str(why, ", rejected");
      return false;
    }
    if (refused(cp, visible_ascii)) {
      text_str(why, " holds U+");
      text_hex(why, cp, 4);
      text_str(why, char_name(cp));
      text_str(why, " at character ");
      text_int(why, (int64_t)character);
      text_str(why, visible_ascii ? " (visible ASCII only), rejected" : " (no control characters), rejected");
      return false;
    }
    at += n;
  }
  size_t len = strlen(text);
  if (len >= min_len) return true;
  if (len == 0) {
    text_str(why, " is empty");
  } else {
    text_str(why, " is ");
    text_int(why, (int64_t)len);
    text_str(why, " bytes long");
  }
  text_str(why, " (at least ");
  text_int(why, (int64_t)min_len);
  text_str(why, min_len == 1 ? " byte), rejected" : " bytes), rejected");
  return false;
}
