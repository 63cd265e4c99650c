/* The spot's SMP server against the exchanges Zephyr's SMP specification describes
   (docs/smp.md, "Conformance"), OS group and transport: each request is built here
   byte by byte from the specification's text (the 8-byte header of
   smp_protocol.rst, "Frame: The envelope"; the CBOR maps of smp_group_0.rst written
   out as bytes) and exchanged through smp_spec_exchange.h, which frames it and
   reads the answer without the server's own code; then the answer is checked for
   the header fields, keys and value types the specification gives. The image
   group's exchanges are in test_smp_spec_image.c. */
#include "smp_spec_exchange.h"

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
      cmocka_unit_test_setup(test_fragmented_packets, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
