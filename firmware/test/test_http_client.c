/* Unit tests of the HTTP client's connection lifecycle: reconnects, backoff, timeouts. */
#include "http_client_fixture.h"

static void test_a_dropped_connection_fails_the_post_and_reconnects_with_growing_backoff(void **state)
{
  (void)state;
  start(0);
  connect_and_post_one(0);
  http_client_disconnected(&fx.client, 1500, "connection reset by peer");
  assert_int_equal(fx.spot.failed, 1);
  assert_string_equal(http_client_last_error(&fx.client), "connection lost: connection reset by peer");
  assert_false(http_client_wants_connect(&fx.client, 1699));
  assert_true(http_client_wants_connect(&fx.client, 1700));
  uint64_t now = 1700;
  const uint32_t expected[] = {400, 800, 1600, 1600};
  for (size_t i = 0; i < 4; i++) {
    http_client_connecting(&fx.client, now);
    http_client_connect_failed(&fx.client, now, "connection refused");
    assert_false(http_client_wants_connect(&fx.client, now + expected[i] - 1));
    assert_true(http_client_wants_connect(&fx.client, now + expected[i]));
    now += expected[i];
  }
  assert_int_equal(fx.spot.failed, 1); /* failed connects have no post to fail */
  http_client_connecting(&fx.client, now);
  http_client_connected(&fx.client, now);
  assert_int_equal(fx.spot.connected, 2);
  fx.spot.next_event = 0;
  http_client_tick(&fx.client, now);
  http_client_tick(&fx.client, now + 1000);
  feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", now + 1001);
  assert_int_equal(fx.spot.acked, 1);
  /* a success resets the backoff */
  http_client_disconnected(&fx.client, now + 2000, "eof");
  assert_true(http_client_wants_connect(&fx.client, now + 2200));
}

static void test_jitter_spreads_reconnects_within_half_the_backoff(void **state)
{
  (void)state;
  uint64_t waits[2];
  for (uint32_t seed = 1; seed <= 2; seed++) {
    start(0);
    fx.client.jitter_state = seed * 2654435761u;
    http_client_connecting(&fx.client, 0);
    http_client_connect_failed(&fx.client, 0, "refused");
    waits[seed - 1] = fx.client.reconnect_at_ms;
    assert_true(waits[seed - 1] >= 200 && waits[seed - 1] <= 300);
  }
  assert_true(waits[0] != waits[1]);
}

static void test_connection_close_is_honoured_and_reconnects_at_once(void **state)
{
  (void)state;
  start(0);
  connect_and_post_one(0);
  feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 1100);
  assert_int_equal(fx.spot.acked, 1);
  assert_true(http_client_wants_close(&fx.client));
  http_client_disconnected(&fx.client, 1100, "");
  assert_true(http_client_wants_connect(&fx.client, 1100));
}

static void test_no_response_in_time_fails_the_post(void **state)
{
  (void)state;
  start(0);
  connect_and_post_one(0);
  http_client_tick(&fx.client, 1000 + 4999);
  assert_false(http_client_wants_close(&fx.client));
  http_client_tick(&fx.client, 1000 + 5000);
  assert_true(http_client_wants_close(&fx.client));
  assert_int_equal(fx.spot.failed, 1);
  assert_string_equal(http_client_last_error(&fx.client), "no response to the post in time");
}

static void test_connect_timeout_asks_to_close(void **state)
{
  (void)state;
  start(0);
  http_client_connecting(&fx.client, 0);
  http_client_tick(&fx.client, 2999);
  assert_false(http_client_wants_close(&fx.client));
  http_client_tick(&fx.client, 3000);
  assert_true(http_client_wants_close(&fx.client));
  http_client_disconnected(&fx.client, 3000, "");
  assert_true(http_client_wants_connect(&fx.client, 3200));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_a_dropped_connection_fails_the_post_and_reconnects_with_growing_backoff),
      cmocka_unit_test(test_jitter_spreads_reconnects_within_half_the_backoff),
      cmocka_unit_test(test_connection_close_is_honoured_and_reconnects_at_once),
      cmocka_unit_test(test_no_response_in_time_fails_the_post),
      cmocka_unit_test(test_connect_timeout_asks_to_close),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
