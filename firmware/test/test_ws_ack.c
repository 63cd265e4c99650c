/* The gateway's text messages on the WebSocket: acknowledgements that free the ring
 * through their seq, malformed ones ignored safely, text that is not UTF-8 refused. */
#include "ws_client_fixture.h"

static void an_ack_frees_the_ring_through_its_seq(void **state)
{
  (void)state;
  start();
  open_connection(0);
  feed_message("{\"ack\":{\"events\":2,\"boot\":7,\"seq\":1042}}", 1);
  assert_int_equal(fx.spot.acks, 1);
  assert_int_equal(fx.spot.acked_through, 1042);
  /* without numbering: X-Spot-Seq + events - 1; in fragments; other keys skipped */
  feed_frame(false, WS_OP_TEXT, "{\"ack\": {\"events\": 5,", 21, 2);
  feed_frame(true, WS_OP_CONTINUATION, " \"later\":[1,{}]} }", 18, 2);
  assert_int_equal(fx.spot.acks, 2);
  assert_int_equal(fx.spot.acked_through, 1045);
  assert_int_equal(fx.client.acks, 2);
  assert_int_equal(fx.client.acks_ignored, 0);
}

static void malformed_acks_are_ignored_safely(void **state)
{
  (void)state;
  static const char *const bad[] = {
      "",
      "ack",
      "[1,2]",
      "{\"ack\":42}",
      "{\"ack\":{\"events\":-1}}",
      "{\"ack\":{\"events\":3,\"seq\":\"1043\"}}",
      "{\"ack\":{\"events\":3,\"boot\":8,\"seq\":1043}}", /* another boot */
      "{\"ack\":{\"events\":1}",                        /* cut short */
      "{\"ack\":{\"events\":1}} trailing",
      "{\"ack\":{\"events\":1,}}",
      "{\"ack\":{}}",
      "{\"ack\":{\"events\":0}}",
      "{\"ack\":{\"events\":1.5}}",
      "{\"ack\":{\"events\":99999999999999999999999}}",
      "{\"ack\":{\"events\":2}}", /* below the 3 already acknowledged */
      "{\"other\":1}",
      "{\"error\":7}",
  };
  start();
  open_connection(0);
  feed_message("{\"ack\":{\"events\":3}}", 1);
  assert_int_equal(fx.spot.acked_through, 1043);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    feed_frame(true, WS_OP_TEXT, bad[i], strlen(bad[i]), 2);
    assert_int_equal(fx.client.acks_ignored, i + 1);
  }
  /* a text message too long to hold */
  static char long_text[WS_CLIENT_TEXT_BYTES + 10];
  memset(long_text, ' ', sizeof long_text);
  feed_frame(true, WS_OP_TEXT, long_text, sizeof long_text, 3);
  assert_int_equal(fx.client.acks_ignored, sizeof bad / sizeof bad[0] + 1);
  assert_int_equal(fx.spot.acks, 1);
  assert_int_equal(fx.spot.acked_through, 1043);
  assert_int_equal(fx.client.state, WS_CLIENT_OPEN);
  /* an ack below the connection's first event releases nothing, but counts */
  feed_message("{\"ack\":{\"events\":4,\"seq\":12}}", 4);
  assert_int_equal(fx.spot.acks, 1);
  assert_int_equal(fx.client.acks, 2);
}

static void text_that_is_not_utf8_closes_with_1007(void **state)
{
  (void)state;
  static const char *const bad[] = {
      "\xc0\xaf",         /* overlong "/" */
      "\xe0\x80\xaf",     /* overlong, 3 bytes */
      "\xed\xa0\x80",     /* a surrogate */
      "\xf4\x90\x80\x80", /* above U+10FFFF */
      "\xf0\x80\x80\xaf", /* overlong, 4 bytes */
      "\xff",
      "\x80",
      "\xe2\x82",         /* the message ends inside a sequence */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    start();
    open_connection(0);
    feed_frame(true, WS_OP_TEXT, bad[i], strlen(bad[i]), 1);
    assert_non_null(strstr(ws_client_last_error(&fx.client), "UTF-8"));
    drain();
    ws_frame_head_t h;
    uint8_t payload[8];
    sent_frame(0, &h, payload, sizeof payload);
    assert_int_equal(h.opcode, WS_OP_CLOSE);
    assert_memory_equal(payload, "\x03\xef", 2); /* 1007 */
    assert_true(ws_client_wants_close(&fx.client));
  }
  /* valid UTF-8, split between fragments, in a message that is no ack: ignored, the connection stays */
  start();
  open_connection(0);
  feed_frame(false, WS_OP_TEXT, "{\"note\":\"\xe2", 10, 1);
  feed_frame(true, WS_OP_CONTINUATION, "\x82\xac \xf0\x9f\x98\x80 \xed\x9f\xbf\"}", 13, 1);
  assert_int_equal(fx.client.state, WS_CLIENT_OPEN);
  assert_int_equal(fx.client.acks_ignored, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_ack_frees_the_ring_through_its_seq),
      cmocka_unit_test(malformed_acks_are_ignored_safely),
      cmocka_unit_test(text_that_is_not_utf8_closes_with_1007),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
