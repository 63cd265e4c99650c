/* Unit tests of the HTTP client's response side: outcome of a post, commands, framing of the answer. */
#include "http_client_fixture.h"

static void test_a_200_acknowledges_and_its_body_is_commands_then_keep_alive(void **state)
{
  (void)state;
  start(0);
  connect_and_post_one(0);
  feed("HTTP/1.1 200 OK\r\nContent-Type: text/x-intellifi-events\r\nContent-Length: 32\r\n\r\n"
       "[\"config\",\"update\",{\"a\":1}]\n\n",
       1100);
  assert_int_equal(fx.spot.acked, 0); /* 29 of 32 body bytes so far */
  feed("  \n", 1100);
  assert_int_equal(fx.spot.acked, 1);
  assert_int_equal(fx.spot.failed, 0);
  assert_string_equal(fx.spot.commands, "[\"config\",\"update\",{\"a\":1}]\n\n  \n");
  assert_int_equal(fx.spot.commands_ends, 1);
  assert_int_equal(fx.client.state, HTTP_CLIENT_IDLE);
  assert_false(http_client_wants_close(&fx.client));
  queue_event("e2");
  http_client_tick(&fx.client, 1101);
  assert_int_equal(fx.client.state, HTTP_CLIENT_POSTING);
  assert_int_equal(fx.spot.posts_begun, 2);
  assert_int_equal(fx.client.connects, 1);
}

static void test_a_chunked_response_split_at_every_byte_is_read(void **state)
{
  (void)state;
  const char *response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n";
  start(0);
  connect_and_post_one(0);
  for (size_t i = 0; response[i]; i++) {
    http_client_input(&fx.client, (const uint8_t *)response + i, 1, 1100);
  }
  assert_int_equal(fx.spot.acked, 1);
  assert_string_equal(fx.spot.commands, "hello world");
  assert_int_equal(fx.spot.commands_ends, 1);
  assert_int_equal(fx.client.state, HTTP_CLIENT_IDLE);
}

static void test_a_refusal_fails_the_post_and_the_next_waits_the_backoff(void **state)
{
  (void)state;
  start(0);
  connect_and_post_one(0);
  feed("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 13\r\n\r\nstore is full", 1100);
  assert_int_equal(fx.spot.failed, 1);
  assert_int_equal(fx.spot.acked, 0);
  assert_int_equal(fx.spot.commands_len, 0); /* an error text is not commands */
  assert_string_equal(http_client_last_error(&fx.client), "server answered 503");
  fx.spot.next_event = 0; /* the spot resends the post's events */
  http_client_tick(&fx.client, 1100 + 199);
  assert_int_equal(fx.client.state, HTTP_CLIENT_IDLE);
  http_client_tick(&fx.client, 1100 + 200);
  assert_int_equal(fx.client.state, HTTP_CLIENT_POSTING);
  const char *sent = drain();
  assert_non_null(strstr(sent, "X-Spot-Seq: 17\r\n"));
}

static void test_a_body_without_length_ends_with_the_connection(void **state)
{
  (void)state;
  start(0);
  connect_and_post_one(0);
  feed("HTTP/1.0 200 OK\r\n\r\n[\"firmware\",\"update\",{}]\n\n", 1100);
  assert_int_equal(fx.spot.acked, 0);
  http_client_disconnected(&fx.client, 1200, "eof");
  assert_int_equal(fx.spot.acked, 1);
  assert_int_equal(fx.spot.failed, 0);
  assert_string_equal(fx.spot.commands, "[\"firmware\",\"update\",{}]\n\n");
  assert_true(http_client_wants_connect(&fx.client, 1200));
}

static void test_an_early_answer_during_the_post_fails_it(void **state)
{
  (void)state;
  start(0);
  http_client_connected(&fx.client, 0);
  queue_event("e1");
  http_client_tick(&fx.client, 0);
  feed("HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad", 10);
  assert_int_equal(fx.spot.failed, 1);
  assert_true(http_client_wants_close(&fx.client));
  assert_string_equal(http_client_last_error(&fx.client), "server answered 400 before the post ended");
}

static void test_garbage_instead_of_a_status_line_closes_with_a_reason(void **state)
{
  (void)state;
  start(0);
  connect_and_post_one(0);
  feed("SSH-2.0-OpenSSH\r\n", 1100);
  assert_true(http_client_wants_close(&fx.client));
  assert_int_equal(fx.spot.failed, 1);
  assert_string_equal(http_client_last_error(&fx.client), "bad HTTP status line from the brain: SSH-2.0-OpenSSH");
}

static void test_a_dropped_200_body_ends_the_commands_and_fails_the_post(void **state)
{
  (void)state;
  start(0);
  connect_and_post_one(0);
  feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[\"config\"", 1100);
  http_client_disconnected(&fx.client, 1200, "eof");
  assert_int_equal(fx.spot.failed, 1);
  assert_int_equal(fx.spot.commands_ends, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_a_200_acknowledges_and_its_body_is_commands_then_keep_alive),
      cmocka_unit_test(test_a_chunked_response_split_at_every_byte_is_read),
      cmocka_unit_test(test_a_refusal_fails_the_post_and_the_next_waits_the_backoff),
      cmocka_unit_test(test_a_body_without_length_ends_with_the_connection),
      cmocka_unit_test(test_an_early_answer_during_the_post_fails_it),
      cmocka_unit_test(test_garbage_instead_of_a_status_line_closes_with_a_reason),
      cmocka_unit_test(test_a_dropped_200_body_ends_the_commands_and_fails_the_post),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
