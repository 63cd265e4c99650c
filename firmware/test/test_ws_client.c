/* The WebSocket client once open: events as masked binary messages of whole
 * events, the gateway's fragmented messages, ping/pong, the close handshake,
 * timeouts and reconnects (acknowledgements: test_ws_ack.c). */
#include "ws_client_fixture.h"

#define EV1 "[\"presence\",\"create\",{\"a\":1}]\n\n"
#define EV2 "[\"presence\",\"delete\",{\"a\":2}]\n\n"

static void events_go_up_as_one_masked_binary_message(void **state)
{
  (void)state;
  start();
  open_connection(0);
  queue_event(EV1);
  queue_event(EV2);
  ws_client_tick(&fx.client, 1);
  drain();
  ws_frame_head_t h;
  uint8_t payload[256];
  size_t size = sent_frame(0, &h, payload, sizeof payload);
  assert_int_equal(size, fx.sent_len); /* one frame */
  assert_true(h.fin);
  assert_int_equal(h.opcode, WS_OP_BINARY);
  assert_memory_equal(h.mask, rfc_mask, 4);
  assert_int_equal(h.len, strlen(EV1 EV2));
  assert_memory_equal(payload, EV1 EV2, h.len);
}

static void an_event_cut_by_the_frame_is_continued_in_the_same_message(void **state)
{
  (void)state;
  start();
  open_connection(0);
  queue_event(EV1);
  fx.spot.split = 10; /* 10 bytes, then nothing until the next tick */
  ws_client_tick(&fx.client, 1);
  ws_client_tick(&fx.client, 2);
  drain();
  ws_frame_head_t h;
  uint8_t payload[256];
  size_t at = sent_frame(0, &h, payload, sizeof payload);
  assert_false(h.fin);
  assert_int_equal(h.opcode, WS_OP_BINARY);
  assert_memory_equal(payload, EV1, 10);
  sent_frame(at, &h, payload, sizeof payload);
  assert_true(h.fin);
  assert_int_equal(h.opcode, WS_OP_CONTINUATION);
  assert_memory_equal(payload, EV1 + 10, strlen(EV1) - 10);
}

static void a_full_output_waits_and_large_payloads_take_16_bit_lengths(void **state)
{
  (void)state;
  static char big[300];
  memset(big, 'x', sizeof big - 1);
  start();
  open_connection(0);
  queue_event(big);
  ws_client_tick(&fx.client, 1);
  drain();
  assert_int_equal(fx.sent[1] & 0x7f, 126); /* 299 bytes: 16-bit length */
  ws_frame_head_t h;
  uint8_t payload[512];
  sent_frame(0, &h, payload, sizeof payload);
  assert_int_equal(h.len, 299);
  /* The socket takes nothing: the output fills up to the control reserve and stops. */
  forget_sent();
  for (size_t i = 0; i < 8; i++) {
    queue_event(big);
  }
  while (fx.client.out_len < WS_CLIENT_OUT_BYTES - 400 && fx.spot.next_event < fx.spot.event_count) {
    ws_client_tick(&fx.client, 2);
  }
  size_t queued;
  ws_client_output(&fx.client, &queued);
  assert_true(queued <= WS_CLIENT_OUT_BYTES - 6 - WS_CLIENT_CONTROL_BYTES);
  /* a ping still gets its pong */
  feed_frame(true, WS_OP_PING, "p", 1, 3);
  ws_client_output(&fx.client, &queued);
  assert_int_equal(fx.client.pings, 1);
  assert_int_equal(fx.client.out[queued - 7], 0x8a);
}

static void fragmented_commands_are_one_message_with_a_ping_between(void **state)
{
  (void)state;
  start();
  open_connection(0);
  feed_frame(false, WS_OP_BINARY, "[\"config\",", 10, 1);
  feed_frame(true, WS_OP_PING, "Hello", 5, 1);
  feed_frame(false, WS_OP_CONTINUATION, "\"update\",{}", 11, 1);
  assert_int_equal(fx.spot.commands_ends, 0);
  feed_frame(true, WS_OP_CONTINUATION, "]\n\n", 3, 1);
  assert_string_equal(fx.spot.commands, "[\"config\",\"update\",{}]\n\n");
  assert_int_equal(fx.spot.commands_ends, 1);
  assert_int_equal(fx.client.command_messages, 1);
  /* the pong: the RFC's masked "Hello" with opcode 0xA */
  drain();
  static const uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  assert_int_equal(fx.sent_len, sizeof pong);
  assert_memory_equal(fx.sent, pong, sizeof pong);
  /* a second message is a second end */
  feed_frame(true, WS_OP_BINARY, "x", 1, 2);
  assert_int_equal(fx.spot.commands_ends, 2);
  /* a pong from the gateway is nothing to answer */
  forget_sent();
  feed_frame(true, WS_OP_PONG, "", 0, 3);
  assert_int_equal(drain(), 0);
}

static void a_64_bit_length_command_message_streams_through(void **state)
{
  (void)state;
  start();
  open_connection(0);
  static uint8_t body[70000];
  memset(body, ' ', sizeof body);
  uint8_t head[WS_FRAME_HEAD_MAX];
  size_t n = ws_frame_head_write(head, true, WS_OP_BINARY, sizeof body, NULL);
  assert_int_equal(n, 10);
  feed(head, n, 1);
  size_t total = 0;
  for (size_t at = 0; at < sizeof body; at += 500) {
    fx.spot.commands_len = 0; /* the fake keeps only the last piece */
    feed(body + at, 500, 1);
    total += fx.spot.commands_len;
  }
  assert_int_equal(total, sizeof body);
  assert_int_equal(fx.spot.commands_ends, 1);
  assert_int_equal(fx.client.state, WS_CLIENT_OPEN);
}

static void the_gateway_closing_is_answered_and_the_spot_reconnects(void **state)
{
  (void)state;
  start();
  open_connection(0);
  feed_message("{\"error\":\"store failed\",\"reason\":\"disk full\"}", 1);
  assert_string_equal(ws_client_last_error(&fx.client), "gateway error: store failed: disk full");
  feed_frame(true, WS_OP_CLOSE, "\x03\xe9going away", 12, 2);
  assert_string_equal(ws_client_last_error(&fx.client), "closed by the gateway: 1001 going away");
  assert_int_equal(fx.client.close_code, 1001);
  assert_int_equal(fx.spot.ended, 1);
  assert_false(ws_client_wants_close(&fx.client)); /* the answer goes out first */
  drain();
  static const uint8_t close_1001[] = {0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x34, 0x13};
  assert_memory_equal(fx.sent, close_1001, sizeof close_1001);
  assert_true(ws_client_wants_close(&fx.client));
  ws_client_disconnected(&fx.client, 3, "");
  assert_false(ws_client_wants_connect(&fx.client, 201));
  assert_true(ws_client_wants_connect(&fx.client, 202));
  open_connection(202);
  assert_int_equal(fx.spot.connected, 2);
  assert_int_equal(fx.spot.begun, 2);
  assert_int_equal(fx.client.connects, 2);
  /* a close without a code is answered without one */
  forget_sent();
  feed_frame(true, WS_OP_CLOSE, "", 0, 300);
  assert_string_equal(ws_client_last_error(&fx.client), "closed by the gateway: no code");
  drain();
  assert_int_equal(fx.sent_len, 6);
  assert_int_equal(fx.sent[1], 0x80);
  /* a code of the private range (docs/websocket.md: 4001 replaced) */
  ws_client_disconnected(&fx.client, 301, "");
  open_connection(600);
  feed_frame(true, WS_OP_CLOSE, "\x0f\xa1replaced", 10, 601);
  assert_string_equal(ws_client_last_error(&fx.client), "closed by the gateway: 4001 replaced");
}

static void the_spot_closing_waits_for_the_gateways_close(void **state)
{
  (void)state;
  start();
  open_connection(0);
  ws_client_close(&fx.client, 10);
  assert_int_equal(fx.client.state, WS_CLIENT_CLOSE_SENT);
  assert_int_equal(fx.spot.ended, 1);
  drain();
  ws_frame_head_t h;
  uint8_t payload[8];
  sent_frame(0, &h, payload, sizeof payload);
  assert_int_equal(h.opcode, WS_OP_CLOSE);
  assert_memory_equal(payload, "\x03\xe8", 2);
  /* an ack still arriving is applied; then the gateway's close ends it */
  feed_message("{\"ack\":{\"events\":1}}", 11);
  assert_int_equal(fx.spot.acked_through, 1041);
  feed_frame(true, WS_OP_CLOSE, "\x03\xe8", 2, 12);
  assert_true(ws_client_wants_close(&fx.client));
  ws_client_disconnected(&fx.client, 12, "");
  assert_int_equal(fx.spot.ended, 1);
  /* no answer to our close: the socket is closed after the close timeout */
  start();
  open_connection(0);
  ws_client_close(&fx.client, 10);
  drain();
  ws_client_tick(&fx.client, 1009);
  assert_false(ws_client_wants_close(&fx.client));
  ws_client_tick(&fx.client, 1010);
  assert_true(ws_client_wants_close(&fx.client));
  ws_client_disconnected(&fx.client, 1010, "");
  assert_int_equal(fx.client.state, WS_CLIENT_DISCONNECTED);
  /* closing before the 101 just drops the socket */
  ws_client_connecting(&fx.client, 2000);
  ws_client_close(&fx.client, 2000);
  assert_true(ws_client_wants_close(&fx.client));
}

static void protocol_errors_close_with_1002(void **state)
{
  (void)state;
  static const struct {
    uint8_t frame[6];
    size_t len;
    const char *error;
  } cases[] = {
      {{0x82, 0x81, 1, 2, 3, 4}, 6, "protocol error: masked frame from the gateway"},
      {{0xc2, 0x00}, 2, "protocol error: reserved bits set without an extension"},
      {{0x80, 0x00}, 2, "protocol error: continuation frame without a message"},
      {{0x83, 0x00}, 2, "protocol error: unknown data opcode"},
      {{0x8b, 0x00}, 2, "protocol error: unknown control opcode"},
      {{0x09, 0x00}, 2, "protocol error: fragmented or oversized control frame"},
      {{0x89, 0x7e, 0x00, 0x80}, 4, "protocol error: fragmented or oversized control frame"},
      {{0x82, 0x7e, 0x00, 0x05}, 4, "protocol error: frame length not in its shortest form"},
      {{0x88, 0x01, 0x03}, 3, "protocol error: close frame with a 1-byte payload"},
      {{0x88, 0x02, 0x03, 0xed}, 4, "protocol error: close frame with an undefined code"}, /* 1005 */
      {{0x88, 0x02, 0x03, 0xe7}, 4, "protocol error: close frame with an undefined code"}, /* 999 */
      {{0x88, 0x02, 0x13, 0x88}, 4, "protocol error: close frame with an undefined code"}, /* 5000 */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    start();
    open_connection(0);
    feed(cases[i].frame, cases[i].len, 1);
    assert_string_equal(ws_client_last_error(&fx.client), cases[i].error);
    assert_false(ws_client_wants_close(&fx.client)); /* the close frame goes out first */
    drain();
    assert_true(ws_client_wants_close(&fx.client));
    ws_frame_head_t h;
    uint8_t payload[8];
    sent_frame(0, &h, payload, sizeof payload);
    assert_memory_equal(payload, "\x03\xea", 2);
    /* nothing more is read from a connection being closed for an error */
    feed_frame(true, WS_OP_BINARY, "x", 1, 2);
    assert_int_equal(fx.spot.commands_len, 0);
  }
  /* a new message inside a fragmented one: the cut command message is ended */
  start();
  open_connection(0);
  feed_frame(false, WS_OP_BINARY, "[", 1, 1);
  feed_message("{}", 1);
  assert_string_equal(ws_client_last_error(&fx.client), "protocol error: new message inside a fragmented one");
  assert_int_equal(fx.spot.commands_ends, 1);
}

static void unacknowledged_events_time_out_and_are_sent_again(void **state)
{
  (void)state;
  start();
  open_connection(0);
  fx.spot.unacked = true;
  ws_client_tick(&fx.client, 100);
  ws_client_tick(&fx.client, 5000);
  feed_message("{\"ack\":{\"events\":1}}", 5000); /* progress */
  ws_client_tick(&fx.client, 9999);
  assert_int_equal(fx.client.state, WS_CLIENT_OPEN);
  ws_client_tick(&fx.client, 10000);
  assert_true(ws_client_wants_close(&fx.client));
  assert_string_equal(ws_client_last_error(&fx.client), "no acknowledgement in time");
  assert_int_equal(fx.spot.ended, 1);
  ws_client_disconnected(&fx.client, 10100, "");
  /* a lost connection: ended, backoff doubling per failure, reset by a 101 */
  fx.spot.unacked = false;
  open_connection(10300);
  ws_client_disconnected(&fx.client, 10400, "connection reset by peer");
  assert_string_equal(ws_client_last_error(&fx.client), "connection lost: connection reset by peer");
  assert_int_equal(fx.spot.ended, 2);
  assert_true(ws_client_wants_connect(&fx.client, 10600));
  ws_client_connecting(&fx.client, 10600);
  ws_client_connect_failed(&fx.client, 10600, "connection refused");
  assert_string_equal(ws_client_last_error(&fx.client), "connect failed: connection refused");
  assert_false(ws_client_wants_connect(&fx.client, 10999));
  assert_true(ws_client_wants_connect(&fx.client, 11000));
  ws_client_reconfigure(&fx.client, "other:81");
  ws_client_connecting(&fx.client, 11000);
  ws_client_connected(&fx.client, 11000);
  drain();
  assert_non_null(strstr((const char *)fx.sent, "Host: other:81\r\n"));
  ws_client_disconnected(&fx.client, 11001, NULL);
  assert_string_equal(ws_client_last_error(&fx.client), "connection lost: closed without a close frame");
}

static void a_ring_overflow_behind_the_connection_reconnects_at_once(void **state)
{
  (void)state;
  start();
  open_connection(0);
  fx.spot.behind = true;
  ws_client_tick(&fx.client, 50);
  assert_int_equal(fx.client.state, WS_CLIENT_CLOSE_SENT);
  assert_int_equal(fx.spot.ended, 1);
  feed_frame(true, WS_OP_CLOSE, "\x03\xe8", 2, 51);
  drain();
  assert_true(ws_client_wants_close(&fx.client));
  ws_client_disconnected(&fx.client, 51, "");
  assert_true(ws_client_wants_connect(&fx.client, 51)); /* no backoff */
}

static void defaults_jitter_partial_sends_and_a_socket_that_takes_nothing(void **state)
{
  (void)state;
  static ws_client_t c;
  ws_client_spot_t none = {0};
  ws_client_options_t opt = {.host = "h", .random = w_random};
  ws_client_init(&c, &none, &opt, 0);
  assert_int_equal(c.opt.backoff_min_ms, 200);
  assert_int_equal(c.opt.backoff_max_ms, 200);
  assert_int_equal(c.opt.connect_timeout_ms, 5000);
  assert_int_equal(c.opt.response_timeout_ms, 10000);
  assert_int_equal(c.opt.close_timeout_ms, 2000);
  /* jitter: the first wait within 200..300 ms, different per seed */
  uint64_t waits[2];
  for (uint32_t seed = 1; seed <= 2; seed++) {
    opt.jitter_seed = seed * 2654435761u;
    ws_client_init(&c, &none, &opt, 0);
    ws_client_connecting(&c, 0);
    ws_client_connect_failed(&c, 0, "refused");
    waits[seed - 1] = c.reconnect_at_ms;
    assert_true(waits[seed - 1] >= 200 && waits[seed - 1] <= 300);
  }
  assert_true(waits[0] != waits[1]);
  /* the socket takes part of the output: the rest stays, in order */
  start();
  open_connection(0);
  queue_event(EV1);
  ws_client_tick(&fx.client, 1);
  size_t before, after;
  const uint8_t *out = ws_client_output(&fx.client, &before);
  uint8_t third = out[3];
  ws_client_sent(&fx.client, 3);
  out = ws_client_output(&fx.client, &after);
  assert_int_equal(after, before - 3);
  assert_int_equal(out[0], third);
  /* a socket that takes nothing while closing: the output is dropped after the close timeout */
  ws_client_close(&fx.client, 10);
  ws_client_tick(&fx.client, 1010);
  assert_int_equal(fx.client.state, WS_CLIENT_CLOSING);
  assert_false(ws_client_wants_close(&fx.client));
  ws_client_tick(&fx.client, 2010);
  assert_true(ws_client_wants_close(&fx.client));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(events_go_up_as_one_masked_binary_message),
      cmocka_unit_test(an_event_cut_by_the_frame_is_continued_in_the_same_message),
      cmocka_unit_test(a_full_output_waits_and_large_payloads_take_16_bit_lengths),
      cmocka_unit_test(fragmented_commands_are_one_message_with_a_ping_between),
      cmocka_unit_test(a_64_bit_length_command_message_streams_through),
      cmocka_unit_test(the_gateway_closing_is_answered_and_the_spot_reconnects),
      cmocka_unit_test(the_spot_closing_waits_for_the_gateways_close),
      cmocka_unit_test(protocol_errors_close_with_1002),
      cmocka_unit_test(unacknowledged_events_time_out_and_are_sent_again),
      cmocka_unit_test(a_ring_overflow_behind_the_connection_reconnects_at_once),
      cmocka_unit_test(defaults_jitter_partial_sends_and_a_socket_that_takes_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
