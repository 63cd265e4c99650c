/* The spot's SMP server against the exchanges Zephyr's SMP specification describes
   (docs/smp.md, "Conformance"): each request is built here byte by byte from the
   specification's text (the 8-byte header of smp_protocol.rst, "Frame: The
   envelope"; the CBOR maps of the group documents written out as bytes), framed
   for the serial line as smp_transport.rst ("UART/serial and console") gives it,
   with a base64 coder and a CRC-16 of this file's own; the answer's frames are
   taken apart the same way and its CBOR is decoded by this file's own reader, then
   checked for the header fields, keys and value types the specification gives.
   Nothing of the server's framing or CBOR code is used to read its answers. */
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

static int setup(void **state)
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
static uint16_t crc16(const uint8_t *p, size_t n)
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

static size_t base64_encode(const uint8_t *in, size_t n, char *out)
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

static size_t base64_decode(const char *in, size_t n, uint8_t *out)
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
static size_t frame_packet(const uint8_t *body, size_t n, char *out)
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

static void put(void *ctx, const uint8_t *bytes, size_t len)
{
  (void)ctx;
  assert_true(len <= 127); /* the frame limit, marker and newline included */
  assert_true(line_len + len <= sizeof line_out);
  memcpy(line_out + line_len, bytes, len);
  line_len += len;
}

/* The answer's frames taken apart: its body (header + CBOR) in out; its length. */
static size_t unframe(uint8_t *out)
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
static item_t next_item(const uint8_t *p, size_t len, size_t *pos)
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
static bool lookup(const uint8_t *body, size_t len, item_t m, const char *key, item_t *value)
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

static void expect_type(item_t v, int type)
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

static item_t field(const uint8_t *body, size_t len, item_t m, const char *key, int type)
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

static item_t get(const answer_t *a, const char *key, int type)
{
  return field(a->cbor, a->cbor_len, a->top, key, type);
}

static bool has(const answer_t *a, const char *key)
{
  item_t v;
  return lookup(a->cbor, a->cbor_len, a->top, key, &v);
}

#define CBOR(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})
static const uint8_t EMPTY_MAP[] = {0xa0};

/* --- smp_group_0.rst ----------------------------------------------------------- */

/* "Echo request": OP 0 or 2, group 0, command 0, {"d": (str)}; "Echo response": OP 1 or 3, {"r": (str)}. */
static void test_echo(void **state)
{
  (void)state;
  for (uint8_t op = 0; op <= 2; op += 2) {
    const answer_t *a = exchange(1, op, 0, 0x10, 0, CBOR(0xa1, 0x61, 'd', 0x65, 'h', 'e', 'l', 'l', 'o'));
    item_t r = get(a, "r", T_STR);
    assert_int_equal(r.arg, 5);
    assert_memory_equal(r.data, "hello", 5);
    assert_false(has(a, "rc")); /* "rc" appears only on an error (smp_protocol.rst, "Minimal response") */
  }
}

/* "System reset request": OP 2, group 0, command 5, an empty map, or {"force": (int)};
   the response is an empty map when it succeeds. */
static void test_system_reset(void **state)
{
  (void)state;
  const answer_t *a = exchange(1, 2, 0, 0x11, 5, EMPTY_MAP, sizeof EMPTY_MAP);
  assert_int_equal(a->top.arg, 0);
  assert_true(server.reset_requested);
  server.reset_requested = false;
  a = exchange(1, 2, 0, 0x12, 5, CBOR(0xa1, 0x65, 'f', 'o', 'r', 'c', 'e', 0x01));
  assert_int_equal(a->top.arg, 0);
  assert_true(server.reset_requested);
}

/* "MCUmgr Parameters Request": OP 0, group 0, command 6, an empty map; the response
   {"buf_size": (uint), "buf_count": (uint)}, the size counting header and CBOR. */
static void test_mcumgr_parameters(void **state)
{
  (void)state;
  const answer_t *a = exchange(1, 0, 0, 0x13, 6, EMPTY_MAP, sizeof EMPTY_MAP);
  assert_int_equal(get(a, "buf_size", T_UINT).arg, SMP_BUF_SIZE);
  assert_true(get(a, "buf_count", T_UINT).arg >= 1);
}

/* "OS/Application Info Request": OP 0, group 0, command 7, {"format": (str)} optional
   ("s" without it); the response {"output": (str)}, the fields in their natural order
   s n r v b m p i o whatever the order of the letters. */
static void test_os_application_info(void **state)
{
  (void)state;
  const answer_t *a = exchange(1, 0, 0, 0x14, 7, EMPTY_MAP, sizeof EMPTY_MAP);
  item_t out = get(a, "output", T_STR);
  assert_int_equal(out.arg, 4);
  assert_memory_equal(out.data, "spot", 4);
  a = exchange(1, 0, 0, 0x15, 7, CBOR(0xa1, 0x66, 'f', 'o', 'r', 'm', 'a', 't', 0x62, 'i', 'v'));
  out = get(a, "output", T_STR);
  static const char expect[] = "3.1.4 mps2-an385"; /* v before i */
  assert_int_equal(out.arg, sizeof expect - 1);
  assert_memory_equal(out.data, expect, sizeof expect - 1);
}

/* smp_protocol.rst, "Minimal response": a command the server lacks (task statistics, group 0
   command 2) still gets a header and a map, {"rc": (int)} (an SMP error, not a group's, so
   "rc" in version 2 as well); 8 is MGMT_ERR_ENOTSUP. */
static void test_minimal_response(void **state)
{
  (void)state;
  for (uint8_t ver = 0; ver <= 1; ver++) {
    const answer_t *a = exchange(ver, 0, 0, 0x16, 2, EMPTY_MAP, sizeof EMPTY_MAP);
    assert_int_equal(get(a, "rc", T_INT).arg, 8);
    assert_int_equal(a->top.arg, 1);
  }
  /* image erase (group 1 command 5) is not served either */
  const answer_t *a = exchange(1, 2, 1, 0x17, 5, EMPTY_MAP, sizeof EMPTY_MAP);
  assert_int_equal(get(a, "rc", T_INT).arg, 8);
}

/* --- smp_group_1.rst ----------------------------------------------------------- */

/* "Get state of images response": {"images": [{"image" (uint, opt), "slot" (uint),
   "version" (str), "hash" (byte str), "bootable", "pending", "confirmed", "active",
   "permanent" (bool, opt)}]}; slot 0 is the running one. */
static item_t check_image_entry(const answer_t *a, item_t entry, uint64_t slot)
{
  expect_type(entry, T_MAP);
  assert_int_equal(field(a->cbor, a->cbor_len, entry, "slot", T_UINT).arg, slot);
  item_t image;
  if (lookup(a->cbor, a->cbor_len, entry, "image", &image)) {
    expect_type(image, T_UINT);
    assert_int_equal(image.arg, 0);
  }
  field(a->cbor, a->cbor_len, entry, "version", T_STR);
  assert_int_equal(field(a->cbor, a->cbor_len, entry, "hash", T_BYTES).arg, 32);
  static const char *const flags[] = {"bootable", "pending", "confirmed", "active", "permanent"};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    item_t v;
    if (lookup(a->cbor, a->cbor_len, entry, flags[i], &v)) {
      expect_type(v, T_BOOL);
    }
  }
  return entry;
}

static bool flag(const answer_t *a, item_t entry, const char *name)
{
  item_t v;
  return lookup(a->cbor, a->cbor_len, entry, name, &v) && v.arg == 21;
}

/* The entries of an image state answer. */
static size_t entries(const answer_t *a, item_t out[2])
{
  item_t images = get(a, "images", T_ARRAY);
  assert_true(images.arg <= 2);
  size_t pos = images.start + 1;
  for (uint64_t i = 0; i < images.arg; i++) {
    out[i] = next_item(a->cbor, a->cbor_len, &pos);
  }
  return (size_t)images.arg;
}

static void test_get_state_of_images(void **state)
{
  (void)state;
  item_t e[2];
  const answer_t *a = exchange(1, 0, 1, 0x20, 0, EMPTY_MAP, sizeof EMPTY_MAP);
  assert_int_equal(entries(a, e), 1);
  check_image_entry(a, e[0], 0);
  assert_true(flag(a, e[0], "active") && flag(a, e[0], "confirmed"));
  item_t version = field(a->cbor, a->cbor_len, e[0], "version", T_STR);
  assert_int_equal(version.arg, 5);
  assert_memory_equal(version.data, "1.0.0", 5);
}

/* "Image upload request": OP 2, group 1, command 1, {"image" (uint, opt), "len" (uint,
   with off 0), "off" (uint), "sha" (byte str, opt), "data" (byte str), "upgrade" (bool,
   opt)}; "Image upload response": {"off" (uint), "match" (bool, opt, the last one)}.
   Then "Set state of image request" {"hash", "confirm": false}: the answer has the
   form of the state read, the uploaded image pending. */
static void test_image_upload_and_set_state(void **state)
{
  (void)state;
  static uint8_t req[SMP_BUF_SIZE];
  uint8_t sha[32];
  assert_int_equal(mbedtls_sha256_ret(image_b.bytes, image_b.len, sha, 0), 0);
  const uint32_t chunk = 1024;
  uint64_t off = 0;
  bool matched = false;
  for (uint8_t seq = 0x30; off < image_b.len; seq++) {
    size_t n = 0, take = image_b.len - off < chunk ? image_b.len - (size_t)off : chunk;
    req[n++] = off == 0 ? 0xa6 : 0xa2; /* a map of 6 pairs, later of 2 */
    if (off == 0) {
      memcpy(req + n, "\x65image\x00", 7); /* "image": 0 */
      n += 7;
      memcpy(req + n, "\x63len\x19", 5); /* "len": (uint, two bytes) */
      n += 5;
      req[n++] = (uint8_t)(image_b.len >> 8);
      req[n++] = (uint8_t)image_b.len;
      memcpy(req + n, "\x63sha\x58\x20", 6); /* "sha": 32 bytes */
      n += 6;
      memcpy(req + n, sha, 32);
      n += 32;
      memcpy(req + n, "\x67upgrade\xf4", 9); /* "upgrade": false */
      n += 9;
    }
    memcpy(req + n, "\x63off\x19", 5); /* "off": (uint, two bytes) */
    n += 5;
    req[n++] = (uint8_t)(off >> 8);
    req[n++] = (uint8_t)off;
    memcpy(req + n, "\x64" "data\x59", 6); /* "data": (byte str, two-byte length) */
    n += 6;
    req[n++] = (uint8_t)(take >> 8);
    req[n++] = (uint8_t)take;
    memcpy(req + n, image_b.bytes + off, take);
    n += take;
    const answer_t *a = exchange(1, 2, 1, seq, 1, req, n);
    uint64_t next = get(a, "off", T_UINT).arg;
    assert_int_equal(next, off + take);
    if (next == image_b.len) {
      matched = get(a, "match", T_BOOL).arg == 21;
    } else {
      assert_false(has(a, "match"));
    }
    off = next;
  }
  assert_true(matched);

  /* the hash image state lists is the image's SHA256 TLV */
  item_t e[2];
  const answer_t *a = exchange(1, 0, 1, 0x40, 0, EMPTY_MAP, sizeof EMPTY_MAP);
  assert_int_equal(entries(a, e), 2);
  item_t hash = field(a->cbor, a->cbor_len, check_image_entry(a, e[1], 1), "hash", T_BYTES);
  uint8_t tlv_hash[32];
  memcpy(tlv_hash, hash.data, 32);
  assert_false(flag(a, e[1], "pending") || flag(a, e[1], "active"));

  uint8_t set[49] = {0xa2, 0x64, 'h', 'a', 's', 'h', 0x58, 0x20}; /* "hash": 32 bytes */
  memcpy(set + 8, tlv_hash, 32);
  memcpy(set + 40, "\x67" "confirm" "\xf4", 9); /* "confirm": false */
  a = exchange(1, 2, 1, 0x41, 0, set, sizeof set);
  assert_int_equal(entries(a, e), 2);
  check_image_entry(a, e[0], 0);
  check_image_entry(a, e[1], 1);
  assert_true(flag(a, e[1], "pending"));
  assert_false(flag(a, e[1], "permanent"));
}

/* The error forms ("In case of error"): version 2 (Ver 1) {"err": {"group" (uint), "rc"
   (uint)}}, version 1 (Ver 0) {"rc" (int)}: an upload whose "len" is larger than the slot. */
static void test_error_forms(void **state)
{
  (void)state;
  const uint8_t too_big[] = {0xa3, 0x63, 'l', 'e', 'n', 0x1a, 0x00, 0x10, 0x00, 0x00, /* "len": 1 MiB */
                             0x63, 'o', 'f', 'f', 0x00, 0x64, 'd', 'a', 't', 'a', 0x41, 0x00};
  const answer_t *a = exchange(1, 2, 1, 0x50, 1, too_big, sizeof too_big);
  item_t err = get(a, "err", T_MAP);
  assert_int_equal(field(a->cbor, a->cbor_len, err, "group", T_UINT).arg, 1);
  assert_true(field(a->cbor, a->cbor_len, err, "rc", T_UINT).arg > 0);
  assert_false(has(a, "off"));
  a = exchange(0, 2, 1, 0x51, 1, too_big, sizeof too_big);
  assert_true(get(a, "rc", T_INT).arg > 0);
  assert_false(has(a, "err"));
}

/* --- smp_transport.rst ----------------------------------------------------------- */

/* A packet longer than one frame: the initial frame, partial frames, the CRC in the last;
   the answer comes back the same way, every frame within 127 bytes (put checks it). */
static void test_fragmented_packets(void **state)
{
  (void)state;
  static uint8_t req[400];
  size_t n = 0;
  req[n++] = 0xa1;
  req[n++] = 0x61;
  req[n++] = 'd';
  req[n++] = 0x79; /* text, two-byte length: 300 */
  req[n++] = 0x01;
  req[n++] = 0x2c;
  for (int i = 0; i < 300; i++) {
    req[n++] = (uint8_t)('A' + i % 26);
  }
  const answer_t *a = exchange(1, 2, 0, 0x60, 0, req, n);
  item_t r = get(a, "r", T_STR);
  assert_int_equal(r.arg, 300);
  assert_memory_equal(r.data, req + 6, 300);
  size_t frames = 0;
  for (size_t i = 0; i < line_len; i++) {
    frames += line_out[i] == '\n';
  }
  assert_true(frames >= 4); /* 318 raw bytes: 4 frames of at most 93 */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_echo, setup),
      cmocka_unit_test_setup(test_system_reset, setup),
      cmocka_unit_test_setup(test_mcumgr_parameters, setup),
      cmocka_unit_test_setup(test_os_application_info, setup),
      cmocka_unit_test_setup(test_minimal_response, setup),
      cmocka_unit_test_setup(test_get_state_of_images, setup),
      cmocka_unit_test_setup(test_image_upload_and_set_state, setup),
      cmocka_unit_test_setup(test_error_forms, setup),
      cmocka_unit_test_setup(test_fragmented_packets, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
