/* The spot's SMP server, protocol side (docs/smp.md): the serial framing against
   frames computed apart (Python's binascii.crc_hqx and base64), the CRC check
   value, the specification's exchanges of the OS group (echo, MCUmgr
   parameters, OS/application info, reset), errors in both protocol versions,
   and damaged, duplicated and lost frames. The image group is in test_smp_image.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot_sim_flash.h"
#include "smp_serial.h"
#include "smp_server.h"
#include "smp_test_util.h"

static sim_flash_t sim;
static boot_flash_t flash;
static const boot_map_t map = BOOT_MAP_MPS2_AN385;
static smp_server_t server;

/* What the server wrote to the line. */
static uint8_t out[8192];
static size_t out_len;
static size_t out_lines;
static size_t longest_line;

static void put(void *ctx, const uint8_t *bytes, size_t len)
{
  (void)ctx;
  assert_true(out_len + len <= sizeof out);
  memcpy(out + out_len, bytes, len);
  out_len += len;
  out_lines++;
  longest_line = len > longest_line ? len : longest_line;
}

static const smp_server_config_t config = {
    &flash, &map, "spot", "spot-4711", "2.1.0", "2026-01-01", "arm", "cortex-m3", "mps2-an385", false,
};

static int setup(void **state)
{
  (void)state;
  sim_flash_init(&sim, map.scratch + map.sector_size, map.sector_size);
  flash = sim_flash_interface(&sim);
  assert_int_equal(smp_server_init(&server, &config), BOOT_OK);
  out_len = out_lines = longest_line = 0;
  return 0;
}

/* Feeds the text of frames (lines ending in \n) to the server. */
static void feed(const char *text, size_t len)
{
  const uint8_t *p = (const uint8_t *)text;
  while (len > 0) {
    const uint8_t *nl = memchr(p, '\n', len);
    assert_non_null(nl);
    smp_server_line(&server, p, (size_t)(nl - p), put, NULL);
    len -= (size_t)(nl - p) + 1;
    p = nl + 1;
  }
}

static void test_crc_check_value(void **state)
{
  (void)state;
  assert_int_equal(smp_crc16(0, (const uint8_t *)"123456789", 9), 0x31c3);
}

/* OS echo, SMP version 2, sequence 0x42: {"d": "hello"} answered {"r": "hello"};
   both frames as Python computes them. */
static const char echo_request[] = "\x06\x09" "ABMKAAAJAABCAKFhZGVoZWxsb0YZ\n";
static const char echo_response[] = "\x06\x09" "ABMLAAAJAABCAKFhcmVoZWxsb8Cl\n";

static void test_echo_frames_byte_for_byte(void **state)
{
  (void)state;
  feed(echo_request, sizeof echo_request - 1);
  assert_int_equal(out_len, sizeof echo_response - 1);
  assert_memory_equal(out, echo_response, out_len);
  assert_int_equal(server.requests, 1);
}

static void test_echo_frame_with_cr(void **state)
{
  (void)state;
  char line[sizeof echo_request + 1];
  memcpy(line, echo_request, sizeof echo_request - 2);
  memcpy(line + sizeof echo_request - 2, "\r\n", 2);
  feed(line, sizeof echo_request);
  assert_memory_equal(out, echo_response, sizeof echo_response - 1);
}

/* An echo of 600 characters: the request and the answer span continuation frames. */
static void test_long_echo_over_continuation_frames(void **state)
{
  (void)state;
  uint8_t body[700], msg[720];
  char text[600];
  for (size_t i = 0; i < sizeof text; i++) {
    text[i] = (char)('a' + i % 26);
  }
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, 1);
  cbor_put_cstr(&w, "d");
  cbor_put_text(&w, text, sizeof text);
  size_t len = smp_message(msg, 1, SMP_OP_WRITE, SMP_GROUP_OS, 7, SMP_OS_ECHO, body, w.len);
  /* The client's side: the serial writer itself, read back by the server. */
  uint8_t frames[1200];
  out_len = 0;
  smp_serial_write(msg, len, put, NULL);
  assert_true(out_lines > 1);
  assert_true(longest_line <= SMP_FRAME_MAX);
  assert_int_equal(out_len, smp_serial_encoded_size(len));
  memcpy(frames, out, out_len);
  size_t frames_len = out_len;
  out_len = out_lines = longest_line = 0;
  feed((const char *)frames, frames_len);
  assert_true(out_lines > 1);
  assert_true(longest_line <= SMP_FRAME_MAX);
  /* Read the answer back with the reader. */
  static uint8_t back[SMP_BUF_SIZE + 2];
  smp_serial_reader_t reader;
  smp_serial_reader_init(&reader, back, SMP_BUF_SIZE);
  const uint8_t *p = out;
  size_t body_len = 0;
  smp_line_result_t r = SMP_LINE_MORE;
  while (p < out + out_len) {
    const uint8_t *nl = memchr(p, '\n', (size_t)(out + out_len - p));
    r = smp_serial_line(&reader, p, (size_t)(nl - p), &body_len);
    p = nl + 1;
  }
  assert_int_equal(r, SMP_LINE_PACKET);
  assert_int_equal(back[0], 0x0b);
  assert_int_equal(back[6], 7);
  cbor_item_t v;
  assert_true(smp_find(back + 8, body_len - 8, NULL, "r", &v));
  assert_int_equal(v.major, CBOR_TEXT);
  assert_int_equal(v.arg, sizeof text);
  assert_memory_equal(v.data, text, sizeof text);
}

static void test_corrupted_frame_is_dropped(void **state)
{
  (void)state;
  char bad[sizeof echo_request];
  memcpy(bad, echo_request, sizeof bad);
  bad[12] = bad[12] == 'A' ? 'B' : 'A'; /* one base64 character: the CRC no longer holds */
  feed(bad, sizeof bad - 1);
  assert_int_equal(out_len, 0);
  assert_int_equal(server.reader.dropped, 1);
  assert_string_equal(server.reader.dropped_why, "a packet whose CRC does not match");
  bad[5] = '*'; /* not base64 */
  feed(bad, sizeof bad - 1);
  assert_string_equal(server.reader.dropped_why, "a frame that is not base64");
  feed(echo_request, sizeof echo_request - 1); /* the retry is answered */
  assert_memory_equal(out, echo_response, sizeof echo_response - 1);
}

static void test_duplicated_request_answered_twice(void **state)
{
  (void)state;
  feed(echo_request, sizeof echo_request - 1);
  feed(echo_request, sizeof echo_request - 1);
  assert_int_equal(out_len, 2 * (sizeof echo_response - 1));
  assert_memory_equal(out + out_len / 2, echo_response, out_len / 2);
}

/* A lost continuation frame: the next first frame drops the incomplete packet and is answered;
   a continuation without its first frame is dropped. */
static void test_lost_frames(void **state)
{
  (void)state;
  uint8_t body[300], msg[320];
  char text[250];
  memset(text, 'x', sizeof text);
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, 1);
  cbor_put_cstr(&w, "d");
  cbor_put_text(&w, text, sizeof text);
  size_t len = smp_message(msg, 1, SMP_OP_WRITE, SMP_GROUP_OS, 9, SMP_OS_ECHO, body, w.len);
  smp_serial_write(msg, len, put, NULL);
  assert_int_equal(out_lines, 3);
  uint8_t frames[600];
  memcpy(frames, out, out_len);
  const uint8_t *second = (const uint8_t *)memchr(frames, '\n', out_len) + 1;
  const uint8_t *third = (const uint8_t *)memchr(second, '\n', (size_t)(frames + out_len - second)) + 1;
  out_len = out_lines = 0;
  /* first frame, (second lost), then a new request */
  feed((const char *)frames, (size_t)(second - frames));
  feed(echo_request, sizeof echo_request - 1);
  assert_memory_equal(out, echo_response, sizeof echo_response - 1);
  assert_string_equal(server.reader.dropped_why, "a new packet began before the last one was complete");
  /* the third frame alone */
  feed((const char *)third, (size_t)((const uint8_t *)memchr(third, '\n', 200) - third) + 1);
  assert_string_equal(server.reader.dropped_why, "a continuation frame without a first frame");
  assert_int_equal(server.requests, 1);
}

static void test_frame_limits(void **state)
{
  (void)state;
  size_t body_len;
  /* a packet claiming more than the buffer */
  static const char too_long[] = "\x06\x09" "CAoAAAk=";
  assert_int_equal(smp_serial_line(&server.reader, (const uint8_t *)too_long, sizeof too_long - 1, &body_len), SMP_LINE_DROPPED);
  assert_string_equal(server.reader.dropped_why, "a packet longer than the buffer");
  uint8_t line[140];
  memset(line, 'A', sizeof line);
  line[0] = 0x06;
  line[1] = 0x09;
  assert_int_equal(smp_serial_line(&server.reader, line, 130, &body_len), SMP_LINE_DROPPED);
  assert_string_equal(server.reader.dropped_why, "a frame over 127 bytes");
  assert_int_equal(smp_serial_line(&server.reader, (const uint8_t *)"hello", 5, &body_len), SMP_LINE_DROPPED);
  /* more bytes than the length said: length 10 (8 + CRC) but 12 bytes carried */
  static const char over[] = "\x06\x09" "AAoAAAAAAAAAAAAAAA==";
  assert_int_equal(smp_serial_line(&server.reader, (const uint8_t *)over, sizeof over - 1, &body_len), SMP_LINE_DROPPED);
  assert_string_equal(server.reader.dropped_why, "a packet longer than its length");
}

static size_t request(uint8_t version, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body, size_t body_len)
{
  uint8_t msg[256];
  size_t len = smp_message(msg, version, op, group, 1, id, body, body_len);
  return smp_exchange(&server, msg, len);
}

static void test_mcumgr_parameters(void **state)
{
  (void)state;
  size_t n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
  assert_int_equal(server.buf[0], 0x09); /* version 1, read response */
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "buf_size"), SMP_BUF_SIZE);
  assert_true(SMP_BUF_SIZE >= 2048);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "buf_count"), 1);
}

static void info(const char *format, const char *expect)
{
  uint8_t body[64];
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, format ? 1 : 0);
  if (format) {
    cbor_put_cstr(&w, "format");
    cbor_put_cstr(&w, format);
  }
  size_t n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, w.len);
  cbor_item_t v;
  assert_true(smp_find(server.buf + 8, n, NULL, "output", &v));
  assert_int_equal(v.major, CBOR_TEXT);
  assert_int_equal(v.arg, strlen(expect));
  assert_memory_equal(v.data, expect, strlen(expect));
}

static void test_os_info(void **state)
{
  (void)state;
  info(NULL, "spot");
  info("s", "spot");
  info("rvi", "2.1.0 2.1.0 mps2-an385");
  info("a", "spot spot-4711 2.1.0 2.1.0 2026-01-01 arm cortex-m3 mps2-an385 spot");
  uint8_t body[16];
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, 1);
  cbor_put_cstr(&w, "format");
  cbor_put_cstr(&w, "sq");
  size_t n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, w.len);
  assert_int_equal(smp_uint(server.buf + 8, n, "err", "group"), 0);
  assert_int_equal(smp_uint(server.buf + 8, n, "err", "rc"), 2); /* invalid format */
  n = request(0, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, w.len);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_EINVAL);
}

static void test_reset_answers_then_resets(void **state)
{
  (void)state;
  size_t n = request(1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, (const uint8_t *)"\xa0", 1);
  assert_int_equal(n, 1);
  assert_int_equal(server.buf[8], 0xa0);
  assert_int_equal(server.buf[0], 0x0b);
  assert_true(server.reset_requested);
  assert_false(server.bootloader_requested);
}

/* boot_mode 1: reset into the bootloader's serial recovery (MCUmgr's boot mode; 0 is the
   application); other values are refused, and so is 1 by a server without the flash. */
static uint64_t reset_with_boot_mode(uint64_t mode)
{
  uint8_t body[16];
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, 1);
  cbor_put_cstr(&w, "boot_mode");
  cbor_put_uint(&w, mode);
  server.reset_requested = server.bootloader_requested = false;
  size_t n = request(1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, body, w.len);
  return n == 1 && server.buf[8] == 0xa0 ? 0 : smp_uint(server.buf + 8, n, NULL, "rc");
}

static void test_reset_into_the_bootloader(void **state)
{
  (void)state;
  assert_int_equal(reset_with_boot_mode(SMP_BOOT_MODE_BOOTLOADER), 0);
  assert_true(server.reset_requested && server.bootloader_requested);
  assert_int_equal(reset_with_boot_mode(SMP_BOOT_MODE_NORMAL), 0);
  assert_true(server.reset_requested && !server.bootloader_requested);
  assert_int_equal(reset_with_boot_mode(2), SMP_RC_EINVAL);
  assert_false(server.reset_requested);
  smp_server_config_t bare = config;
  bare.flash = NULL;
  assert_int_equal(smp_server_init(&server, &bare), BOOT_OK);
  assert_int_equal(reset_with_boot_mode(SMP_BOOT_MODE_BOOTLOADER), SMP_RC_ENOTSUP);
  assert_false(server.reset_requested);
  assert_int_equal(reset_with_boot_mode(SMP_BOOT_MODE_NORMAL), 0);
}

static void test_protocol_errors(void **state)
{
  (void)state;
  /* an unknown group and an unknown command: rc 8 (not supported) in both versions */
  size_t n = request(1, SMP_OP_READ, 64, 0, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_ENOTSUP);
  n = request(0, SMP_OP_READ, SMP_GROUP_OS, 3, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_ENOTSUP);
  /* echo as a read is answered as a read (smp_group_0.rst: OP 0 or 2), here refused for its missing "d" */
  n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_ECHO, (const uint8_t *)"\xa0", 1);
  assert_int_equal(server.buf[0] & 7, SMP_OP_READ_RSP);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_EINVAL);
  /* a version this server does not know: too new, answered as version 1 */
  n = request(2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_ENOTSUP_VERSION);
  assert_int_equal(server.buf[0] >> 3, 1);
  /* not CBOR, a map cut short, a key that is not text, "d" that is not text */
  static const uint8_t *bodies[] = {(const uint8_t *)"\xff", (const uint8_t *)"\xa1\x61\x64", (const uint8_t *)"\xa1\x01\x02",
                                    (const uint8_t *)"\xa1\x61\x64\x01"};
  static const size_t lens[] = {1, 3, 3, 4};
  for (size_t i = 0; i < 4; i++) {
    n = request(1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, bodies[i], lens[i]);
    assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_EINVAL);
  }
  /* echo without "d" */
  n = request(1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_EINVAL);
  /* a response (op 1) or a header alone with a wrong length is not answered / refused */
  uint8_t msg[16];
  size_t len = smp_message(msg, 1, SMP_OP_READ_RSP, SMP_GROUP_OS, 1, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
  memcpy(server.buf, msg, len);
  assert_int_equal(smp_server_handle(&server, len), 0);
  assert_int_equal(smp_server_handle(&server, 4), 0);
  len = smp_message(msg, 1, SMP_OP_READ, SMP_GROUP_OS, 1, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
  msg[3] = 5;
  n = smp_exchange(&server, msg, len);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_EINVAL);
}

/* Unknown keys, nested values, tags and an indefinite map are skipped; an empty body is an empty map. */
static void test_cbor_subset(void **state)
{
  (void)state;
  static const uint8_t body[] = {0xbf, 0x61, 0x78, 0x82, 0x01, 0xa1, 0x61, 0x79, 0x20, /* "x": [1, {"y": -1}] */
                                 0x61, 0x74, 0xc1, 0x1a, 0x00, 0x01, 0x00, 0x00,       /* "t": tag 1 (65536) */
                                 0x61, 0x64, 0x62, 0x68, 0x69,                         /* "d": "hi" */
                                 0x61, 0x66, 0xf5, 0xff};                              /* "f": true, break */
  size_t n = request(1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, sizeof body);
  cbor_item_t v;
  assert_true(smp_find(server.buf + 8, n, NULL, "r", &v));
  assert_int_equal(v.arg, 2);
  assert_memory_equal(v.data, "hi", 2);
  n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, NULL, 0);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "buf_size"), SMP_BUF_SIZE);
  /* the writer's shortest heads, and a full buffer */
  uint8_t small[12];
  cbor_writer_t w;
  cbor_writer_init(&w, small, sizeof small);
  cbor_put_uint(&w, 23);
  cbor_put_uint(&w, 24);
  cbor_put_uint(&w, 0x1234);
  cbor_put_uint(&w, 0x12345678);
  static const uint8_t heads[] = {0x17, 0x18, 0x18, 0x19, 0x12, 0x34, 0x1a, 0x12, 0x34, 0x56, 0x78};
  assert_int_equal(w.len, sizeof heads);
  assert_memory_equal(small, heads, sizeof heads);
  assert_false(w.overflow);
  cbor_put_uint(&w, 0x100000000ull);
  assert_true(w.overflow);
  cbor_reader_t r;
  cbor_item_t item;
  static const uint8_t big[] = {0x1b, 0, 0, 0, 1, 0, 0, 0, 0};
  cbor_reader_init(&r, big, sizeof big);
  assert_true(cbor_read(&r, &item));
  assert_int_equal(item.arg, 0x100000000ull);
  cbor_reader_init(&r, big, 5);
  assert_false(cbor_read(&r, &item));
  static const uint8_t indefinite_text[] = {0x7f, 0x61, 0x61, 0xff};
  cbor_reader_init(&r, indefinite_text, sizeof indefinite_text);
  assert_false(cbor_read(&r, &item));
}

static void test_no_flash_no_image_group(void **state)
{
  (void)state;
  smp_server_config_t bare = config;
  bare.flash = NULL;
  assert_int_equal(smp_server_init(&server, &bare), BOOT_OK);
  size_t n = request(1, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_ENOTSUP);
  n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "buf_size"), SMP_BUF_SIZE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_crc_check_value, setup),
      cmocka_unit_test_setup(test_echo_frames_byte_for_byte, setup),
      cmocka_unit_test_setup(test_echo_frame_with_cr, setup),
      cmocka_unit_test_setup(test_long_echo_over_continuation_frames, setup),
      cmocka_unit_test_setup(test_corrupted_frame_is_dropped, setup),
      cmocka_unit_test_setup(test_duplicated_request_answered_twice, setup),
      cmocka_unit_test_setup(test_lost_frames, setup),
      cmocka_unit_test_setup(test_frame_limits, setup),
      cmocka_unit_test_setup(test_mcumgr_parameters, setup),
      cmocka_unit_test_setup(test_os_info, setup),
      cmocka_unit_test_setup(test_reset_answers_then_resets, setup),
      cmocka_unit_test_setup(test_reset_into_the_bootloader, setup),
      cmocka_unit_test_setup(test_protocol_errors, setup),
      cmocka_unit_test_setup(test_cbor_subset, setup),
      cmocka_unit_test_setup(test_no_flash_no_image_group, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
