/* PB stream framing and the two send-layer tricks, both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frame_pb.h"

static spot_v1_Frame frame;
static frame_pb_stream_t tx, rx;

static void make_hit(const char *code, int64_t time) {
  memset(&frame, 0, sizeof frame);
  frame.which_body = spot_v1_Frame_hit_create_tag;
  frame.body.hit_create.has_item_code = true;
  strcpy(frame.body.hit_create.item_code, code);
  frame.body.hit_create.has_antenna = true;
  frame.body.hit_create.antenna = 2;
  frame.body.hit_create.has_time = true;
  frame.body.hit_create.time = time;
}

/* Reads the varint length prefix; returns the prefix size. */
static size_t prefix(const uint8_t *b, uint32_t *len) {
  size_t i = 0;
  *len = 0;
  do {
    *len |= (uint32_t)(b[i] & 0x7f) << (7 * i);
  } while (b[i++] & 0x80);
  return i;
}

static void first_frame_goes_out_absolute_and_in_full(void **state) {
  (void)state;
  uint8_t buf[128];
  frame_pb_stream_reset(&tx);
  make_hit("e200", 1000);
  size_t n = frame_pb_encode(&tx, &frame, buf, sizeof buf);
  assert_true(n > 0);
  uint32_t len;
  size_t p = prefix(buf, &len);
  assert_int_equal(p + len, n);
  /* Frame field 5 (hit_create), then Hit: item_code "e200", antenna 2, time 1000 (sint64 zigzag 2000). */
  const uint8_t want[] = {0x2a, 0x0b, 0x0a, 0x04, 'e', '2', '0', '0', 0x20, 0x02, 0x48, 0xd0, 0x0f};
  assert_int_equal(len, sizeof want);
  assert_memory_equal(buf + p, want, sizeof want);
}

static void repeated_codes_become_references_and_times_offsets(void **state) {
  (void)state;
  uint8_t buf[128];
  frame_pb_stream_reset(&tx);
  make_hit("e200", 1000);
  frame_pb_encode(&tx, &frame, buf, sizeof buf);
  make_hit("e200", 1250);
  size_t n = frame_pb_encode(&tx, &frame, buf, sizeof buf);
  uint32_t len;
  size_t p = prefix(buf, &len);
  assert_int_equal(p + len, n);
  /* item_ref 1 (field 2), antenna 2, time +250 (zigzag 500 = 0xf4 0x03). */
  const uint8_t want[] = {0x2a, 0x07, 0x10, 0x01, 0x20, 0x02, 0x48, 0xf4, 0x03};
  assert_int_equal(len, sizeof want);
  assert_memory_equal(buf + p, want, sizeof want);
}

static void decoder_undoes_both_tricks(void **state) {
  (void)state;
  uint8_t buf[3][128];
  size_t n[3];
  const char *codes[3] = {"e200", "e300", "e200"};
  const int64_t times[3] = {1000, 900, 5000};
  frame_pb_stream_reset(&tx);
  for (int i = 0; i < 3; i++) {
    make_hit(codes[i], times[i]);
    n[i] = frame_pb_encode(&tx, &frame, buf[i], sizeof buf[i]);
    assert_true(n[i] > 0);
  }
  frame_pb_stream_reset(&rx);
  for (int i = 0; i < 3; i++) {
    uint32_t len;
    size_t p = prefix(buf[i], &len);
    const char *why = NULL;
    assert_true(frame_pb_decode(&rx, buf[i] + p, len, &frame, &why));
    assert_int_equal(frame.which_body, spot_v1_Frame_hit_create_tag);
    assert_true(frame.body.hit_create.has_item_code);
    assert_false(frame.body.hit_create.has_item_ref);
    assert_string_equal(frame.body.hit_create.item_code, codes[i]);
    assert_int_equal(frame.body.hit_create.time, times[i]);
  }
}

static void unknown_reference_is_malformed(void **state) {
  (void)state;
  const uint8_t bytes[] = {0x2a, 0x02, 0x10, 0x03};
  const char *why = NULL;
  frame_pb_stream_reset(&rx);
  assert_false(frame_pb_decode(&rx, bytes, sizeof bytes, &frame, &why));
  assert_string_equal(why, "unknown item reference 3");
}

static void each_stream_keeps_its_own_decode_reason(void **state) {
  (void)state;
  const uint8_t ref3[] = {0x2a, 0x02, 0x10, 0x03}, ref7[] = {0x2a, 0x02, 0x10, 0x07};
  frame_pb_stream_t a, b;
  const char *why_a = NULL, *why_b = NULL;
  frame_pb_stream_reset(&a);
  frame_pb_stream_reset(&b);
  assert_false(frame_pb_decode(&a, ref3, sizeof ref3, &frame, &why_a));
  assert_false(frame_pb_decode(&b, ref7, sizeof ref7, &frame, &why_b));
  assert_string_equal(why_a, "unknown item reference 3");
  assert_string_equal(why_b, "unknown item reference 7");
}

static void full_table_sends_new_codes_in_full(void **state) {
  (void)state;
  uint8_t buf[128];
  char code[8];
  frame_pb_stream_reset(&tx);
  for (int i = 0; i < SPOT_ITEM_TABLE + 1; i++) {
    code[0] = 'c';
    code[1] = (char)('a' + i / 26);
    code[2] = (char)('a' + i % 26);
    code[3] = '\0';
    make_hit(code, 0);
    frame.body.hit_create.has_time = false;
    assert_true(frame_pb_encode(&tx, &frame, buf, sizeof buf) > 0);
  }
  assert_int_equal(tx.item_count, SPOT_ITEM_TABLE);
  make_hit(code, 0); /* the one that found the table full */
  frame_pb_encode(&tx, &frame, buf, sizeof buf);
  assert_true(frame.body.hit_create.has_item_code);
  assert_false(frame.body.hit_create.has_item_ref);
}

static void numbering_travels_in_the_frame(void **state) {
  (void)state;
  uint8_t buf[128];
  frame_pb_stream_reset(&tx);
  make_hit("e200", 7);
  frame.has_boot = true;
  frame.boot = 12;
  frame.has_seq = true;
  frame.seq = 300;
  size_t n = frame_pb_encode(&tx, &frame, buf, sizeof buf);
  uint32_t len;
  size_t p = prefix(buf, &len);
  assert_int_equal(p + len, n);
  frame_pb_stream_reset(&rx);
  assert_true(frame_pb_decode(&rx, buf + p, len, &frame, NULL));
  assert_int_equal(frame.boot, 12);
  assert_int_equal(frame.seq, 300);
}

static void too_small_buffer_fails_cleanly(void **state) {
  (void)state;
  uint8_t buf[4];
  frame_pb_stream_reset(&tx);
  make_hit("e200", 1000);
  assert_int_equal(frame_pb_encode(&tx, &frame, buf, sizeof buf), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(first_frame_goes_out_absolute_and_in_full),
      cmocka_unit_test(repeated_codes_become_references_and_times_offsets),
      cmocka_unit_test(decoder_undoes_both_tricks),
      cmocka_unit_test(unknown_reference_is_malformed),
      cmocka_unit_test(each_stream_keeps_its_own_decode_reason),
      cmocka_unit_test(full_table_sends_new_codes_in_full),
      cmocka_unit_test(numbering_travels_in_the_frame),
      cmocka_unit_test(too_small_buffer_fails_cleanly),
  };
  return cmocka_run_group_tests_name("frame_pb", tests, NULL, NULL);
}
