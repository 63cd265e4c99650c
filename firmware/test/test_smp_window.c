/* The serial-recovery window's decision (smp_window.h): only an SMP echo request,
   whole in one frame at a line start with a good CRC, keeps the bootloader in
   serial recovery; console text, noise and every other SMP packet leave the boot
   alone. Each input is given whole and one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smp_test_util.h"
#include "smp_window.h"

typedef struct {
  uint8_t bytes[1024];
  size_t len;
} stream_t;

static void put(void *ctx, const uint8_t *bytes, size_t len)
{
  stream_t *s = ctx;
  assert_true(s->len + len <= sizeof s->bytes);
  memcpy(s->bytes + s->len, bytes, len);
  s->len += len;
}

static void text(stream_t *s, const char *t)
{
  put(s, (const uint8_t *)t, strlen(t));
}

/* A request (version, op, group, id) with CBOR body {"d": d}, as a host sends it on the line. */
static void request(stream_t *s, uint8_t version, uint8_t op, uint16_t group, uint8_t id, const char *d)
{
  uint8_t body[200], msg[220];
  size_t n = strlen(d);
  assert_true(n < 24);
  body[0] = 0xa1;
  body[1] = 0x61;
  body[2] = 'd';
  body[3] = (uint8_t)(0x60 + n);
  memcpy(body + 4, d, n);
  size_t len = smp_message(msg, version, op, group, 7, id, body, 4 + n);
  smp_serial_write(msg, len, put, s);
}

/* A message of `size` body bytes (an echo whose text is a CBOR byte string padded out). */
static void long_echo(stream_t *s, size_t size)
{
  uint8_t body[300], msg[320];
  assert_true(size >= 5 && size - 5 < 256 && size <= sizeof body);
  body[0] = 0xa1;
  body[1] = 0x61;
  body[2] = 'd';
  body[3] = 0x78; /* text, one-byte length */
  body[4] = (uint8_t)(size - 5);
  memset(body + 5, 'x', size - 5);
  size_t len = smp_message(msg, 1, SMP_OP_WRITE, SMP_GROUP_OS, 3, SMP_OS_ECHO, body, size);
  smp_serial_write(msg, len, put, s);
}

/* Feeds the stream whole (pass 0) and one byte at a time (pass 1); both must agree.
   Returns the bytes taken; *w holds the window of the last pass. */
static size_t feed(const stream_t *s, smp_window_t *w)
{
  size_t taken[2];
  bool seen[2];
  for (int pass = 0; pass < 2; pass++) {
    smp_window_init(w);
    if (pass == 0) {
      taken[0] = smp_window_input(w, s->bytes, s->len);
    } else {
      taken[1] = 0;
      for (size_t i = 0; i < s->len; i++) {
        taken[1] += smp_window_input(w, s->bytes + i, 1);
      }
    }
    seen[pass] = w->seen;
  }
  assert_int_equal(taken[0], taken[1]);
  assert_int_equal(seen[0], seen[1]);
  return taken[0];
}

static void test_echo_request_is_taken(void **state)
{
  (void)state;
  for (uint8_t version = 0; version <= 1; version++) {
    stream_t s = {.len = 0};
    request(&s, version, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, "recover");
    size_t frame_end = s.len;
    text(&s, "after");
    smp_window_t w;
    /* Taken up to its newline, not a byte further: the rest is the recovery's. */
    assert_int_equal(feed(&s, &w), frame_end);
    assert_true(w.seen);
    assert_int_equal(w.frame_len, frame_end - 1);
    assert_memory_equal(w.frame, s.bytes, frame_end - 1);
    /* Once seen, nothing more is taken. */
    assert_int_equal(smp_window_input(&w, s.bytes, s.len), 0);
  }
}

/* What a window that opens in the middle of the host's stream sees: the end of one
   frame, console text the previous image left, then a whole one. */
static void test_echo_after_a_cut_frame_and_text(void **state)
{
  (void)state;
  stream_t s = {.len = 0};
  text(&s, "AAoAAAAAAQ==\n");                     /* the tail of a frame */
  text(&s, "spot: reader 1 up\r\n{\"event\":1}\n"); /* console and spot-protocol output echoed */
  request(&s, 1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, "recover");
  smp_window_t w;
  assert_int_equal(feed(&s, &w), s.len);
  assert_true(w.seen);
  assert_int_equal(w.frame[0], SMP_MARK_FIRST_0);
  assert_int_equal(w.frame[1], SMP_MARK_FIRST_1);
}

static void test_largest_one_frame_echo_is_taken(void **state)
{
  (void)state;
  stream_t s = {.len = 0};
  long_echo(&s, SMP_WINDOW_BODY_MAX - SMP_HEADER_SIZE);
  smp_window_t w;
  assert_int_equal(feed(&s, &w), s.len);
  assert_true(w.seen);
  assert_int_equal(w.frame_len, s.len - 1);
  assert_true(w.frame_len <= SMP_FRAME_MAX - 1u);
}

/* Nothing of this enters recovery. */
static void test_noise_and_other_packets_are_not(void **state)
{
  (void)state;
  stream_t s = {.len = 0};
  text(&s, "boot: primary image (2 flash operations, stack 4248 bytes, 100 ms)\n");
  static const uint8_t noise[] = {0x00, 0xff, 0x06, 0x08, 0x06, 0x0a, 0x04, 0x14, 'Q', '\n', 0x06, 0x09, '!', '!', '\n', 0x06, 0x09, '\n'};
  put(&s, noise, sizeof noise);
  text(&s, "log ");
  request(&s, 1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, "mid-line"); /* a marker inside a line */
  request(&s, 1, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, "");     /* a flasher's image state poll */
  request(&s, 1, SMP_OP_WRITE_RSP, SMP_GROUP_OS, SMP_OS_ECHO, "answer"); /* an echo answer, echoed back */
  request(&s, 1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_ECHO, "read");        /* echo is a write */
  request(&s, 1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, "reset");     /* another OS command */
  request(&s, 1, SMP_OP_WRITE, 0x0100, SMP_OS_ECHO, "group 256");        /* group's high byte */
  long_echo(&s, 120);                                                    /* an echo in two frames */
  stream_t bad = {.len = 0};
  request(&bad, 1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, "crc");
  bad.bytes[4] = bad.bytes[4] == 'A' ? 'B' : 'A'; /* a base64 character changed: the CRC fails */
  put(&s, bad.bytes, bad.len);
  text(&s, "\x04\x14QUJD\n"); /* a continuation frame alone */
  smp_window_t w;
  assert_int_equal(feed(&s, &w), s.len);
  assert_false(w.seen);
  assert_int_equal(w.frame_len, 0);
  /* The same window still takes an echo request that comes after all that. */
  stream_t echo = {.len = 0};
  request(&echo, 1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, "now");
  assert_int_equal(smp_window_input(&w, echo.bytes, echo.len), echo.len);
  assert_true(w.seen);
}

/* An echo header whose length field disagrees with the packet is not one. */
static void test_echo_with_a_wrong_length_field(void **state)
{
  (void)state;
  uint8_t msg[32];
  static const uint8_t body[] = {0xa1, 0x61, 'd', 0x61, 'x'};
  size_t len = smp_message(msg, 1, SMP_OP_WRITE, SMP_GROUP_OS, 1, SMP_OS_ECHO, body, sizeof body);
  msg[3]++;
  stream_t s = {.len = 0};
  smp_serial_write(msg, len, put, &s);
  smp_window_t w;
  assert_int_equal(feed(&s, &w), s.len);
  assert_false(w.seen);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_echo_request_is_taken),
      cmocka_unit_test(test_echo_after_a_cut_frame_and_text),
      cmocka_unit_test(test_largest_one_frame_echo_is_taken),
      cmocka_unit_test(test_noise_and_other_packets_are_not),
      cmocka_unit_test(test_echo_with_a_wrong_length_field),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
