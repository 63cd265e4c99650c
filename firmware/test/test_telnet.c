/* Unit tests of the telnet tap state machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "telnet.h"

typedef struct fake_stream {
  int opened;
  int closed;
  const char *pending;
  uint8_t commands[256];
  size_t commands_len;
} fake_stream_t;

static fake_stream_t fs;
static telnet_t tn;

static void f_open(void *ctx) { ((fake_stream_t *)ctx)->opened++; }
static void f_close(void *ctx) { ((fake_stream_t *)ctx)->closed++; }
static size_t f_read(void *ctx, uint8_t *buf, size_t cap)
{
  fake_stream_t *f = ctx;
  size_t n = f->pending ? strlen(f->pending) : 0;
  n = n < cap ? n : cap;
  memcpy(buf, f->pending, n);
  f->pending = n ? f->pending + n : NULL;
  return n;
}
static void f_commands(void *ctx, const uint8_t *bytes, size_t len)
{
  fake_stream_t *f = ctx;
  assert_true(f->commands_len + len <= sizeof f->commands);
  memcpy(f->commands + f->commands_len, bytes, len);
  f->commands_len += len;
}

static void start(bool json)
{
  memset(&fs, 0, sizeof fs);
  telnet_spot_t spot = {&fs, f_open, f_read, f_close, f_commands};
  telnet_init(&tn, &spot, json);
}

static void test_one_client_is_served_and_a_second_is_refused(void **state)
{
  (void)state;
  start(true);
  assert_true(telnet_accept(&tn));
  assert_int_equal(fs.opened, 1);
  assert_false(telnet_accept(&tn));
  assert_int_equal(tn.clients_refused, 1);
  assert_int_equal(fs.opened, 1);
  telnet_closed(&tn);
  assert_int_equal(fs.closed, 1);
  assert_true(telnet_accept(&tn));
  assert_int_equal(fs.opened, 2);
}

static void test_the_stream_goes_to_the_client_and_nowhere_without_one(void **state)
{
  (void)state;
  start(true);
  fs.pending = "[\"spot\",\"update\",{\"online\":true}]\n\n";
  telnet_tick(&tn);
  size_t len;
  telnet_output(&tn, &len);
  assert_int_equal(len, 0);
  telnet_accept(&tn);
  telnet_tick(&tn);
  const uint8_t *out = telnet_output(&tn, &len);
  assert_int_equal(len, strlen("[\"spot\",\"update\",{\"online\":true}]\n\n"));
  assert_memory_equal(out, "[\"spot\",\"update\"", 16);
  telnet_sent(&tn, 5);
  out = telnet_output(&tn, &len);
  assert_memory_equal(out, "t\",\"update\"", 11);
}

static void test_telnet_negotiation_is_removed_from_json_commands(void **state)
{
  (void)state;
  static const uint8_t typed[] = {0xff, 0xfb, 0x01, '[', '"', 'c', 0xff, 0xfa, 0x18, 0x00, 'x', 0xff, 0xf0, '"', ']', 0xff, 0xf1, '\n'};
  start(true);
  telnet_accept(&tn);
  for (size_t i = 0; i < sizeof typed; i++) {
    telnet_input(&tn, typed + i, 1);
  }
  assert_int_equal(fs.commands_len, 6);
  assert_memory_equal(fs.commands, "[\"c\"]\n", 6);
}

static void test_pb_commands_pass_untouched(void **state)
{
  (void)state;
  static const uint8_t frame[] = {0x04, 0x22, 0x02, 0xff, 0xfb};
  start(false);
  telnet_accept(&tn);
  telnet_input(&tn, frame, sizeof frame);
  assert_int_equal(fs.commands_len, sizeof frame);
  assert_memory_equal(fs.commands, frame, sizeof frame);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_client_is_served_and_a_second_is_refused),
      cmocka_unit_test(test_the_stream_goes_to_the_client_and_nowhere_without_one),
      cmocka_unit_test(test_telnet_negotiation_is_removed_from_json_commands),
      cmocka_unit_test(test_pb_commands_pass_untouched),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
