/* RFC 6455 framing (see ws_frame.h). */
#include "ws_frame.h"

#include <string.h>

size_t ws_frame_head_write(uint8_t *out, bool fin, uint8_t opcode, uint64_t len, const uint8_t *mask)
{
  size_t n = 0;
  out[n++] = (uint8_t)((fin ? 0x80u : 0u) | (opcode & 0x0fu));
  uint8_t mask_bit = mask ? 0x80u : 0u;
  if (len <= 125u) {
    out[n++] = (uint8_t)(mask_bit | len);
  } else if (len <= 0xffffu) {
    out[n++] = (uint8_t)(mask_bit | 126u);
    out[n++] = (uint8_t)(len >> 8);
    out[n++] = (uint8_t)len;
  } else {
    out[n++] = (uint8_t)(mask_bit | 127u);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out[n++] = (uint8_t)(len >> shift);
    }
  }
  if (mask) {
    memcpy(out + n, mask, 4);
    n += 4;
  }
  return n;
}

size_t ws_frame_head_size(const uint8_t first_two[2])
{
  uint8_t len7 = first_two[1] & 0x7fu;
  size_t n = 2u + (len7 == 126u ? 2u : len7 == 127u ? 8u : 0u);
  return n + (first_two[1] & 0x80u ? 4u : 0u);
}

bool ws_frame_head_read(const uint8_t *head, ws_frame_head_t *h)
{
  h->fin = (head[0] & 0x80u) != 0;
  h->rsv = (uint8_t)(head[0] >> 4 & 0x07u);
  h->opcode = head[0] & 0x0fu;
  h->masked = (head[1] & 0x80u) != 0;
  uint8_t len7 = head[1] & 0x7fu;
  size_t n = 2;
  if (len7 == 126u) {
    h->len = (uint64_t)head[2] << 8 | head[3];
    n = 4;
    if (h->len <= 125u) {
      return false; /* RFC 6455 5.2: the minimal number of bytes must be used */
    }
  } else if (len7 == 127u) {
    h->len = 0;
    for (size_t i = 0; i < 8; i++) {
      h->len = h->len << 8 | head[2 + i];
    }
    n = 10;
    if (h->len >> 63 || h->len <= 0xffffu) {
      return false;
    }
  } else {
    h->len = len7;
  }
  if (h->masked) {
    memcpy(h->mask, head + n, 4);
  } else {
    memset(h->mask, 0, sizeof h->mask);
  }
  return true;
}

void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
  for (size_t i = 0; i < len; i++) {
    data[i] ^= mask[(offset + i) & 3u];
  }
}
