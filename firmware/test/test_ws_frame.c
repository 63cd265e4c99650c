/* RFC 6455 framing: headers with 7-, 16- and 64-bit lengths, masking (the RFC's section 5.7 examples). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ws_frame.h"

static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};

static void a_masked_hello_is_the_rfc_example(void **state)
{
  (void)state;
  static const uint8_t expected[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  uint8_t frame[32];
  size_t n = ws_frame_head_write(frame, true, WS_OP_TEXT, 5, mask);
  memcpy(frame + n, "Hello", 5);
  ws_mask(frame + n, 5, mask, 0);
  assert_int_equal(n + 5, sizeof expected);
  assert_memory_equal(frame, expected, sizeof expected);
  /* unmasking is the same operation; a payload masked in pieces keeps its offset */
  ws_mask(frame + n, 2, mask, 0);
  ws_mask(frame + n + 2, 3, mask, 2);
  assert_memory_equal(frame + n, "Hello", 5);
}

static void unmasked_and_fragmented_frames_are_the_rfc_examples(void **state)
{
  (void)state;
  uint8_t head[WS_FRAME_HEAD_MAX];
  assert_int_equal(ws_frame_head_write(head, true, WS_OP_TEXT, 5, NULL), 2);
  assert_memory_equal(head, ((const uint8_t[]){0x81, 0x05}), 2);
  assert_int_equal(ws_frame_head_write(head, false, WS_OP_TEXT, 3, NULL), 2);
  assert_memory_equal(head, ((const uint8_t[]){0x01, 0x03}), 2);
  assert_int_equal(ws_frame_head_write(head, true, WS_OP_CONTINUATION, 2, NULL), 2);
  assert_memory_equal(head, ((const uint8_t[]){0x80, 0x02}), 2);
  assert_int_equal(ws_frame_head_write(head, true, WS_OP_PING, 5, NULL), 2);
  assert_memory_equal(head, ((const uint8_t[]){0x89, 0x05}), 2);
}

static void lengths_take_7_16_or_64_bits(void **state)
{
  (void)state;
  uint8_t head[WS_FRAME_HEAD_MAX];
  ws_frame_head_t h;
  /* 125: the last 7-bit length */
  assert_int_equal(ws_frame_head_write(head, true, WS_OP_BINARY, 125, NULL), 2);
  assert_int_equal(head[1], 125);
  /* 256 bytes: 126 then 16 bits (the RFC's 0x82 0x7E 0x0100) */
  assert_int_equal(ws_frame_head_write(head, true, WS_OP_BINARY, 256, NULL), 4);
  assert_memory_equal(head, ((const uint8_t[]){0x82, 0x7e, 0x01, 0x00}), 4);
  assert_int_equal(ws_frame_head_size(head), 4);
  assert_true(ws_frame_head_read(head, &h));
  assert_int_equal(h.len, 256);
  /* 64 KiB: 127 then 64 bits (the RFC's 0x82 0x7F 0x0000000000010000) */
  assert_int_equal(ws_frame_head_write(head, true, WS_OP_BINARY, 65536, NULL), 10);
  assert_memory_equal(head, ((const uint8_t[]){0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}), 10);
  assert_int_equal(ws_frame_head_size(head), 10);
  assert_true(ws_frame_head_read(head, &h));
  assert_int_equal(h.len, 65536);
  assert_true(h.fin);
  assert_int_equal(h.opcode, WS_OP_BINARY);
  assert_false(h.masked);
  /* masked: 4 more bytes, the key read back */
  assert_int_equal(ws_frame_head_write(head, false, WS_OP_BINARY, 70000, mask), 14);
  assert_int_equal(ws_frame_head_size(head), 14);
  assert_true(ws_frame_head_read(head, &h));
  assert_true(h.masked);
  assert_false(h.fin);
  assert_memory_equal(h.mask, mask, 4);
  assert_int_equal(h.len, 70000);
}

static void lengths_not_in_their_shortest_form_or_over_63_bits_are_refused(void **state)
{
  (void)state;
  ws_frame_head_t h;
  assert_false(ws_frame_head_read((const uint8_t[]){0x82, 0x7e, 0x00, 0x7d}, &h));             /* 125 in 16 bits */
  assert_false(ws_frame_head_read((const uint8_t[]){0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, &h)); /* 65535 in 64 */
  assert_false(ws_frame_head_read((const uint8_t[]){0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, &h));    /* top bit */
  assert_true(ws_frame_head_read((const uint8_t[]){0xf2, 0x00}, &h));
  assert_int_equal(h.rsv, 7); /* reserved bits are reported, the reader decides */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_masked_hello_is_the_rfc_example),
      cmocka_unit_test(unmasked_and_fragmented_frames_are_the_rfc_examples),
      cmocka_unit_test(lengths_take_7_16_or_64_bits),
      cmocka_unit_test(lengths_not_in_their_shortest_form_or_over_63_bits_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
