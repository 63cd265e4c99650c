/* The spot's SMP server, serial side (docs/smp.md): the framing against frames
   computed apart (Python's binascii.crc_hqx and base64), the CRC check value,
   frames over the limits, and damaged, duplicated and lost frames. The OS group
   and the protocol errors are in test_smp_server.c, the image group in
   test_smp_image.c and test_smp_upload.c. */
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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
