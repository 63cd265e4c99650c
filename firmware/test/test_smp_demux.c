/* One UART, two streams (docs/smp.md): SMP frames sorted from the spot-protocol
   command input, for JSON lines and for PB frames (whose bytes may hold the
   markers and newlines), whole and one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smp_demux.h"

static uint8_t commands[1024];
static size_t commands_len;
static uint8_t frames[8][160];
static size_t frame_lens[8];
static size_t frame_count;

static void on_command(void *ctx, const uint8_t *bytes, size_t len)
{
  (void)ctx;
  assert_true(len > 0);
  assert_true(commands_len + len <= sizeof commands);
  memcpy(commands + commands_len, bytes, len);
  commands_len += len;
}

static void on_frame(void *ctx, const uint8_t *line, size_t len)
{
  (void)ctx;
  assert_true(frame_count < 8 && len <= sizeof frames[0]);
  memcpy(frames[frame_count], line, len);
  frame_lens[frame_count++] = len;
}

/* Runs input through a fresh demux whole, then again one byte at a time: the same outcome. */
static void run(bool pb, const uint8_t *input, size_t len, const uint8_t *want_commands, size_t want_len, size_t want_frames)
{
  for (int pass = 0; pass < 2; pass++) {
    smp_demux_t d;
    smp_demux_init(&d, pb, on_command, on_frame, NULL);
    commands_len = frame_count = 0;
    if (pass == 0) {
      smp_demux_input(&d, input, len);
    } else {
      for (size_t i = 0; i < len; i++) {
        smp_demux_input(&d, input + i, 1);
      }
    }
    assert_int_equal(commands_len, want_len);
    assert_memory_equal(commands, want_commands, want_len);
    assert_int_equal(frame_count, want_frames);
  }
}

#define ECHO "\x06\x09" "ABMKAAAJAABCAKFhZGVoZWxsb0YZ"

static void test_json_lines_and_frames(void **state)
{
  (void)state;
  static const char input[] = "{\"a\":1}\n" ECHO "\n" "\x04\x14" "QUJD\r\n" "{\"b\":\n2}\n\x06x\n";
  static const char want[] = "{\"a\":1}\n{\"b\":\n2}\n\x06x\n";
  run(false, (const uint8_t *)input, sizeof input - 1, (const uint8_t *)want, sizeof want - 1, 2);
  assert_int_equal(frame_lens[0], sizeof ECHO - 1);
  assert_memory_equal(frames[0], ECHO, sizeof ECHO - 1);
  assert_int_equal(frame_lens[1], 7);
  assert_memory_equal(frames[1], "\x04\x14" "QUJD\r", 7);
}

/* A marker only counts at a line start. */
static void test_marker_inside_a_line_is_text(void **state)
{
  (void)state;
  static const char input[] = "log " ECHO "\n";
  run(false, (const uint8_t *)input, sizeof input - 1, (const uint8_t *)input, sizeof input - 1, 0);
}

static void test_pb_frames_and_smp(void **state)
{
  (void)state;
  /* PB frames: 10 bytes holding a newline and both markers; 6 bytes opening with 08 (length 06
     at a boundary, then not 09); 4 bytes (04, then not 14); 0 bytes; then an SMP frame, then
     a 200-byte frame (two-byte length). */
  uint8_t input[400], want[400];
  size_t n = 0, w = 0;
  static const uint8_t f1[] = {0x0a, 0x06, 0x09, 0x0a, 0x04, 0x14, 0x0a, 0x41, 0x42, 0x43, 0x0a};
  static const uint8_t f2[] = {0x06, 0x08, 0x01, 0x10, 0x02, 0x18, 0x03};
  static const uint8_t f3[] = {0x04, 0x08, 0x01, 0x10, 0x02, 0x00};
  memcpy(input + n, f1, sizeof f1), n += sizeof f1;
  memcpy(input + n, f2, sizeof f2), n += sizeof f2;
  memcpy(input + n, f3, sizeof f3), n += sizeof f3;
  memcpy(want, input, n), w = n;
  memcpy(input + n, ECHO "\n", sizeof ECHO), n += sizeof ECHO;
  input[n++] = 0xc8;
  input[n++] = 0x01;
  memset(input + n, 0x06, 200);
  input[n + 199] = 0x09;
  n += 200;
  memcpy(want + w, input + n - 202, 202), w += 202;
  run(true, input, n, want, w, 1);
  assert_memory_equal(frames[0], ECHO, sizeof ECHO - 1);
}

/* A length prefix over 5 bytes: no PB stream; lines from there on. */
static void test_pb_framing_given_up(void **state)
{
  (void)state;
  static const char input[] = "\xff\xff\xff\xff\xff\xff junk\n" ECHO "\n";
  static const char want[] = "\xff\xff\xff\xff\xff\xff junk\n";
  run(true, (const uint8_t *)input, sizeof input - 1, (const uint8_t *)want, sizeof want - 1, 1);
}

static void test_overlong_frame_dropped(void **state)
{
  (void)state;
  uint8_t input[300];
  memset(input, 'A', sizeof input);
  input[0] = 0x06;
  input[1] = 0x09;
  input[199] = '\n';
  memcpy(input + 200, ECHO "\n", sizeof ECHO);
  smp_demux_t d;
  smp_demux_init(&d, false, on_command, on_frame, NULL);
  commands_len = frame_count = 0;
  smp_demux_input(&d, input, 200 + sizeof ECHO);
  assert_int_equal(d.long_lines, 1);
  assert_int_equal(frame_count, 1);
  assert_int_equal(commands_len, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_lines_and_frames),
      cmocka_unit_test(test_marker_inside_a_line_is_text),
      cmocka_unit_test(test_pb_frames_and_smp),
      cmocka_unit_test(test_pb_framing_given_up),
      cmocka_unit_test(test_overlong_frame_dropped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
