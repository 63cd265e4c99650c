/* The conformance tests' own end of the line (test_smp_spec.c,
   test_smp_spec_image.c; docs/smp.md, "Conformance"): the server over the
   simulated flash with image A in the primary slot; requests framed for the
   serial line as smp_transport.rst gives it, with a base64 coder and a CRC-16 of
   this file's own; answers taken apart the same way and their CBOR decoded by
   this file's own reader, the header fields checked. Nothing of the server's
   framing or CBOR code is used to read its answers. */
#ifndef SMP_SPEC_EXCHANGE_H
#define SMP_SPEC_EXCHANGE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"
#include "boot_sim_flash.h"
#include "boot_test_image.h"
#include "mbedtls/sha256.h"
#include "smp_server.h"

static sim_flash_t sim;
static boot_flash_t flash;
static const boot_map_t map = BOOT_MAP_MPS2_AN385;
static smp_server_t server;
static test_image_t image_a, image_b;
static const smp_server_config_t config = {&flash, &map, "spot", "spot-9", "3.1.4", "-", "arm", "cortex-m3", "mps2-an385", false};

static inline int setup(void **state)
{
  (void)state;
  sim_flash_init(&sim, map.scratch + map.sector_size, map.sector_size);
  flash = sim_flash_interface(&sim);
  make_image(&image_a, 6000, 1, GOOD);
  make_image(&image_b, 7000, 2, GOOD);
  memcpy(sim.mem + map.primary, image_a.bytes, image_a.len);
  assert_int_equal(smp_server_init(&server, &config), BOOT_OK);
  return 0;
}

/* --- the transport, written from smp_transport.rst ------------------------- */

/* "CRC Details": polynomial 0x1021, initial value 0, over the raw body only. */
static inline uint16_t crc16(const uint8_t *p, size_t n)
{
  uint16_t crc = 0;
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint16_t)(p[i] << 8);
    for (int b = 0; b < 8; b++) {
      crc = (uint16_t)(crc & 0x8000u ? (uint32_t)crc << 1 ^ 0x1021u : (uint32_t)crc << 1);
    }
  }
  return crc;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static inline size_t base64_encode(const uint8_t *in, size_t n, char *out)
{
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0u) | (i + 2 < n ? in[i + 2] : 0u);
    out[o++] = b64[v >> 18 & 63u];
    out[o++] = b64[v >> 12 & 63u];
    out[o++] = i + 1 < n ? b64[v >> 6 & 63u] : '=';
    out[o++] = i + 2 < n ? b64[v & 63u] : '=';
  }
  return o;
}

static inline size_t base64_decode(const char *in, size_t n, uint8_t *out)
{
  size_t o = 0;
  assert_int_equal(n % 4, 0);
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      const char *at = strchr(b64, in[i + k]);
      if (in[i + k] == '=') {
        pad++;
        v <<= 6;
      } else {
        assert_non_null(at);
        assert_int_equal(pad, 0);
        v = v << 6 | (uint32_t)(at - b64);
      }
    }
    out[o++] = (uint8_t)(v >> 16);
    if (pad < 2) {
      out[o++] = (uint8_t)(v >> 8);
    }
    if (pad < 1) {
      out[o++] = (uint8_t)v;
    }
  }
  return o;
}

/* The packet (length, body, CRC) in pieces of 93 raw bytes, each a frame of at most 127
   bytes: the initial frame's marker 06 09, then partial frames' 04 14, each ended by 0a. */
static inline size_t frame_packet(const uint8_t *body, size_t n, char *out)
{
  static uint8_t raw[SMP_BUF_SIZE + 4];
  uint16_t crc = crc16(body, n);
  raw[0] = (uint8_t)((n + 2) >> 8);
  raw[1] = (uint8_t)(n + 2);
  memcpy(raw + 2, body, n);
  raw[2 + n] = (uint8_t)(crc >> 8);
  raw[3 + n] = (uint8_t)crc;
  size_t o = 0;
  for (size_t at = 0; at < n + 4; at += 93) {
    out[o++] = at == 0 ? 0x06 : 0x04;
    out[o++] = at == 0 ? 0x09 : 0x14;
    o += base64_encode(raw + at, n + 4 - at < 93 ? n + 4 - at : 93, out + o);
    out[o++] = '\n';
  }
  return o;
}

/* What the server wrote to the line. */
static char line_out[8192];
static size_t line_len;

static inline void put(void *ctx, const uint8_t *bytes, size_t len)
{
  (void)ctx;
  assert_true(len <= 127); /* the frame limit, marker and newline included */
  assert_true(line_len + len <= sizeof line_out);
  memcpy(line_out + line_len, bytes, len);
  line_len += len;
}

/* The answer's frames taken apart: its body (header + CBOR) in out; its length. */
static inline size_t unframe(uint8_t *out)
{
  static uint8_t raw[SMP_BUF_SIZE + 4];
  size_t raw_len = 0;
  size_t at = 0;
  bool first = true;
  while (at < line_len) {
    const char *nl = memchr(line_out + at, '\n', line_len - at);
    assert_non_null(nl);
    assert_int_equal((uint8_t)line_out[at], first ? 0x06 : 0x04);
    assert_int_equal((uint8_t)line_out[at + 1], first ? 0x09 : 0x14);
    raw_len += base64_decode(line_out + at + 2, (size_t)(nl - line_out) - at - 2, raw + raw_len);
    at = (size_t)(nl - line_out) + 1;
    first = false;
  }
  size_t total = (size_t)(raw[0] << 8 | raw[1]); /* body + 2 for the CRC, the length field not counted */
  assert_int_equal(total + 2, raw_len);
  size_t n = total - 2;
  assert_int_equal(crc16(raw + 2, n), (uint16_t)(raw[2 + n] << 8 | raw[3 + n]));
  memcpy(out, raw + 2, n);
  return n;
}

/* --- an independent CBOR reader for the answers -------------------------- */

typedef struct item {
  uint8_t major;
  uint64_t arg;        /* value, length, count of entries, or the simple value */
  const uint8_t *data; /* strings */
  size_t start, end;   /* the whole item, head to its last byte */
} item_t;

/* One whole item at *pos (definite lengths: what the specification's answers need). */
static inline item_t next_item(const uint8_t *p, size_t len, size_t *pos)
{
  item_t it = {0};
  it.start = *pos;
  assert_true(*pos < len);
  uint8_t ib = p[(*pos)++];
  it.major = ib >> 5;
  uint8_t ai = ib & 31u;
  if (ai < 24) {
    it.arg = ai;
  } else {
    assert_true(ai <= 27);
    size_t bytes = (size_t)1 << (ai - 24);
    assert_true(*pos + bytes <= len);
    for (size_t i = 0; i < bytes; i++) {
      it.arg = it.arg << 8 | p[(*pos)++];
    }
  }
  if (it.major == 2 || it.major == 3) {
    assert_true(*pos + it.arg <= len);
    it.data = p + *pos;
    *pos += (size_t)it.arg;
  } else if (it.major == 4 || it.major == 5) {
    for (uint64_t i = 0; i < it.arg * (it.major == 5 ? 2u : 1u); i++) {
      next_item(p, len, pos);
    }
  }
  it.end = *pos;
  return it;
}

/* The value of `key` in the map `m` (an item of body); false when absent. */
static inline bool lookup(const uint8_t *body, size_t len, item_t m, const char *key, item_t *value)
{
  assert_int_equal(m.major, 5);
  uint8_t ai = body[m.start] & 31u;
  size_t pos = m.start + 1 + (ai < 24 ? 0u : (size_t)1 << (ai - 24)); /* past the map's head */
  for (uint64_t i = 0; i < m.arg; i++) {
    item_t k = next_item(body, len, &pos);
    item_t v = next_item(body, len, &pos);
    assert_int_equal(k.major, 3); /* the specification's keys are all text */
    if (k.arg == strlen(key) && memcmp(k.data, key, strlen(key)) == 0) {
      *value = v;
      return true;
    }
  }
  return false;
}

/* The types the group documents write: (uint), (int), (str), (byte str), (bool), and the containers. */
enum { T_UINT, T_INT, T_STR, T_BYTES, T_BOOL, T_MAP, T_ARRAY };

static inline void expect_type(item_t v, int type)
{
  switch (type) {
    case T_UINT: assert_int_equal(v.major, 0); break;
    case T_INT: assert_true(v.major == 0 || v.major == 1); break;
    case T_STR: assert_int_equal(v.major, 3); break;
    case T_BYTES: assert_int_equal(v.major, 2); break;
    case T_BOOL: assert_true(v.major == 7 && (v.arg == 20 || v.arg == 21)); break;
    case T_MAP: assert_int_equal(v.major, 5); break;
    default: assert_int_equal(v.major, 4); break;
  }
}

static inline item_t field(const uint8_t *body, size_t len, item_t m, const char *key, int type)
{
  item_t v;
  if (!lookup(body, len, m, key, &v)) {
    fail_msg("the answer has no \"%s\"", key);
  }
  expect_type(v, type);
  return v;
}

/* --- the exchange ------------------------------------------------------------ */

typedef struct answer {
  uint8_t body[SMP_BUF_SIZE];
  size_t len;     /* header + CBOR */
  item_t top;     /* the CBOR map */
  const uint8_t *cbor;
  size_t cbor_len;
} answer_t;

static answer_t answer;

/* The header as "Frame: The envelope" draws it: Res (3 bits) | Ver (2) | OP (3), Flags,
   Data Length (16, big endian), Group ID (16, big endian), Sequence Num, Command ID. */
static const answer_t *exchange(uint8_t ver, uint8_t op, uint16_t group, uint8_t seq, uint8_t id, const uint8_t *cbor, size_t n)
{
  static uint8_t body[SMP_BUF_SIZE];
  static char frames[4096];
  body[0] = (uint8_t)(ver << 3 | op);
  body[1] = 0;
  body[2] = (uint8_t)(n >> 8);
  body[3] = (uint8_t)n;
  body[4] = (uint8_t)(group >> 8);
  body[5] = (uint8_t)group;
  body[6] = seq;
  body[7] = id;
  memcpy(body + 8, cbor, n);
  size_t frames_len = frame_packet(body, n + 8, frames);
  line_len = 0;
  for (size_t at = 0; at < frames_len;) {
    const char *nl = memchr(frames + at, '\n', frames_len - at);
    smp_server_line(&server, (const uint8_t *)frames + at, (size_t)(nl - frames) - at, put, NULL);
    at = (size_t)(nl - frames) + 1;
  }
  answer.len = unframe(answer.body);
  assert_true(answer.len >= 8);
  /* the response: same version, OP + 1, no flags, its own Data Length, the request's group, sequence and command */
  assert_int_equal(answer.body[0], (uint8_t)(ver << 3 | (op + 1)));
  assert_int_equal(answer.body[1], 0);
  assert_int_equal((size_t)(answer.body[2] << 8 | answer.body[3]), answer.len - 8);
  assert_int_equal(answer.body[4] << 8 | answer.body[5], group);
  assert_int_equal(answer.body[6], seq);
  assert_int_equal(answer.body[7], id);
  answer.cbor = answer.body + 8;
  answer.cbor_len = answer.len - 8;
  size_t pos = 0;
  answer.top = next_item(answer.cbor, answer.cbor_len, &pos);
  assert_int_equal(pos, answer.cbor_len); /* one map, nothing after it */
  expect_type(answer.top, T_MAP);
  return &answer;
}

static inline item_t get(const answer_t *a, const char *key, int type)
{
  return field(a->cbor, a->cbor_len, a->top, key, type);
}

static inline bool has(const answer_t *a, const char *key)
{
  item_t v;
  return lookup(a->cbor, a->cbor_len, a->top, key, &v);
}

#define CBOR(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})
static const uint8_t EMPTY_MAP[] = {0xa0};

#endif
