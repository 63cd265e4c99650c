/* SHA-1 and base64 for the WebSocket handshake (see sha1.h). */
#include "sha1.h"

#include <string.h>

static uint32_t rol(uint32_t x, unsigned n) { return x << n | x >> (32u - n); }

static void sha1_block(sha1_t *s, const uint8_t *p)
{
  uint32_t w[80];
  for (unsigned t = 0; t < 16; t++) {
    w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
  }
  for (unsigned t = 16; t < 80; t++) {
    w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  }
  uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
  for (unsigned t = 0; t < 80; t++) {
    uint32_t f, k;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999u;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1u;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdcu;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6u;
    }
    uint32_t temp = rol(a, 5) + f + e + w[t] + k;
    e = d;
    d = c;
    c = rol(b, 30);
    b = a;
    a = temp;
  }
  s->h[0] += a;
  s->h[1] += b;
  s->h[2] += c;
  s->h[3] += d;
  s->h[4] += e;
}

void sha1_init(sha1_t *s)
{
  static const uint32_t h0[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
  memcpy(s->h, h0, sizeof s->h);
  s->length = 0;
  s->fill = 0;
}

void sha1_update(sha1_t *s, const void *data, size_t len)
{
  const uint8_t *p = data;
  s->length += len;
  while (len > 0) {
    size_t n = sizeof s->block - s->fill;
    if (n > len) {
      n = len;
    }
    memcpy(s->block + s->fill, p, n);
    s->fill += n;
    p += n;
    len -= n;
    if (s->fill == sizeof s->block) {
      sha1_block(s, s->block);
      s->fill = 0;
    }
  }
}

void sha1_final(sha1_t *s, uint8_t digest[SHA1_DIGEST_BYTES])
{
  uint64_t bits = s->length * 8u;
  static const uint8_t one = 0x80, zero = 0;
  sha1_update(s, &one, 1);
  while (s->fill != 56) {
    sha1_update(s, &zero, 1);
  }
  uint8_t len_be[8];
  for (unsigned i = 0; i < 8; i++) {
    len_be[i] = (uint8_t)(bits >> (56 - 8 * i));
  }
  sha1_update(s, len_be, sizeof len_be);
  for (unsigned i = 0; i < 5; i++) {
    digest[4 * i] = (uint8_t)(s->h[i] >> 24);
    digest[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
    digest[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
    digest[4 * i + 3] = (uint8_t)s->h[i];
  }
}

size_t base64_encode(const uint8_t *bytes, size_t len, char *out, size_t cap)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t need = (len + 2u) / 3u * 4u;
  if (cap < need + 1u) {
    return 0;
  }
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)bytes[i] << 16;
    if (i + 1 < len) {
      v |= (uint32_t)bytes[i + 1] << 8;
    }
    if (i + 2 < len) {
      v |= bytes[i + 2];
    }
    out[o++] = alphabet[v >> 18 & 63u];
    out[o++] = alphabet[v >> 12 & 63u];
    out[o++] = i + 1 < len ? alphabet[v >> 6 & 63u] : '=';
    out[o++] = i + 2 < len ? alphabet[v & 63u] : '=';
  }
  out[o] = '\0';
  return o;
}
