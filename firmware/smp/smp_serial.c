/* SMP serial framing (smp_serial.h): base64 (RFC 4648, with padding) per frame. */
#include "smp_serial.h"

#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* CRC-16/XMODEM: polynomial 0x1021, initial 0, no reflection, no final xor. */
uint16_t smp_crc16(uint16_t crc, const uint8_t *data, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    crc ^= (uint16_t)(data[i] << 8);
    for (int bit = 0; bit < 8; bit++) {
      crc = (uint16_t)(crc & 0x8000u ? ((unsigned)crc << 1) ^ 0x1021u : (unsigned)crc << 1);
    }
  }
  return crc;
}

static int sextet(uint8_t c)
{
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 text (a multiple of 4 characters, '=' padding only at the end);
   the byte count, or -1. */
static int decode64(const uint8_t *text, size_t len, uint8_t *out)
{
  if (len == 0 || len % 4u != 0) {
    return -1;
  }
  size_t n = 0;
  for (size_t i = 0; i < len; i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      uint8_t c = text[i + (size_t)k];
      if (c == '=' && i + 4 == len && k >= 2) {
        v[k] = 0;
        pad++;
      } else if (pad > 0 || (v[k] = sextet(c)) < 0) {
        return -1;
      }
    }
    uint32_t bits = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    out[n++] = (uint8_t)(bits >> 16);
    if (pad < 2) {
      out[n++] = (uint8_t)(bits >> 8);
    }
    if (pad < 1) {
      out[n++] = (uint8_t)bits;
    }
  }
  return (int)n;
}

void smp_serial_reader_init(smp_serial_reader_t *r, uint8_t *buf, size_t body_max)
{
  r->buf = buf;
  r->cap = body_max + 2u;
  r->len = 0;
  r->expected = 0;
  r->in_packet = false;
  r->dropped_why = NULL;
  r->dropped = 0;
}

static smp_line_result_t drop(smp_serial_reader_t *r, const char *why)
{
  r->in_packet = false;
  r->len = 0;
  r->dropped_why = why;
  r->dropped++;
  return SMP_LINE_DROPPED;
}

smp_line_result_t smp_serial_line(smp_serial_reader_t *r, const uint8_t *line, size_t len, size_t *body_len)
{
  uint8_t raw[SMP_FRAME_RAW_MAX];
  if (len > 0 && line[len - 1] == '\r') {
    len--;
  }
  bool first = len >= 2 && line[0] == SMP_MARK_FIRST_0 && line[1] == SMP_MARK_FIRST_1;
  bool next = len >= 2 && line[0] == SMP_MARK_NEXT_0 && line[1] == SMP_MARK_NEXT_1;
  if (!first && !next) {
    return drop(r, "no SMP marker");
  }
  if (first && r->in_packet) {
    drop(r, "a new packet began before the last one was complete");
  }
  if (next && !r->in_packet) {
    return drop(r, "a continuation frame without a first frame");
  }
  if (len - 2 > SMP_FRAME_MAX - 3u) {
    return drop(r, "a frame over 127 bytes");
  }
  int n = decode64(line + 2, len - 2, raw);
  if (n < 0) {
    return drop(r, "a frame that is not base64");
  }
  const uint8_t *data = raw;
  if (first) {
    if (n < 2) {
      return drop(r, "a first frame without the packet length");
    }
    r->expected = (size_t)raw[0] << 8 | raw[1];
    if (r->expected < 2u + 8u || r->expected > r->cap) {
      return drop(r, r->expected > r->cap ? "a packet longer than the buffer" : "a packet shorter than an SMP header");
    }
    r->in_packet = true;
    r->len = 0;
    data += 2;
    n -= 2;
  }
  if ((size_t)n > r->expected - r->len) {
    return drop(r, "a packet longer than its length");
  }
  memcpy(r->buf + r->len, data, (size_t)n);
  r->len += (size_t)n;
  if (r->len < r->expected) {
    return SMP_LINE_MORE;
  }
  r->in_packet = false;
  if (smp_crc16(0, r->buf, r->len) != 0) {
    r->len = 0;
    return drop(r, "a packet whose CRC does not match");
  }
  *body_len = r->len - 2u;
  r->len = 0;
  return SMP_LINE_PACKET;
}

/* The i-th raw byte of a packet on the line: length, body, CRC. */
static uint8_t raw_at(const uint8_t *body, size_t len, uint16_t crc, size_t i)
{
  size_t total = len + 2u;
  if (i < 2) {
    return (uint8_t)(i == 0 ? total >> 8 : total);
  }
  if (i < 2 + len) {
    return body[i - 2];
  }
  return (uint8_t)(i == 2 + len ? crc >> 8 : crc);
}

void smp_serial_write(const uint8_t *body, size_t len, smp_put_fn put, void *ctx)
{
  uint8_t line[SMP_FRAME_MAX];
  uint16_t crc = smp_crc16(0, body, len);
  size_t raw_len = len + 4u;
  for (size_t start = 0; start < raw_len; start += SMP_FRAME_RAW_MAX) {
    size_t end = start + SMP_FRAME_RAW_MAX < raw_len ? start + SMP_FRAME_RAW_MAX : raw_len;
    size_t n = 0;
    line[n++] = start == 0 ? SMP_MARK_FIRST_0 : SMP_MARK_NEXT_0;
    line[n++] = start == 0 ? SMP_MARK_FIRST_1 : SMP_MARK_NEXT_1;
    for (size_t i = start; i < end; i += 3) {
      size_t k = end - i;
      uint32_t bits = 0;
      for (size_t j = 0; j < 3; j++) {
        bits = bits << 8 | (j < k ? raw_at(body, len, crc, i + j) : 0u);
      }
      for (size_t j = 0; j < 4; j++) {
        line[n++] = j <= k ? (uint8_t)alphabet[bits >> (18u - 6u * j) & 63u] : (uint8_t)'=';
      }
    }
    line[n++] = '\n';
    put(ctx, line, n);
  }
}

size_t smp_serial_encoded_size(size_t len)
{
  size_t raw = len + 4u;
  size_t lines = (raw + SMP_FRAME_RAW_MAX - 1u) / SMP_FRAME_RAW_MAX;
  return lines * 3u + (raw / 3u) * 4u + (raw % 3u ? 4u : 0u);
}
