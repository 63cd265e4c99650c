/* Unit tests of the HTTP client's request side: the post's head, chunks, window. */
#include "http_client_fixture.h"

static void test_post_carries_the_vendor_headers_and_numbering(void **state)
{
  (void)state;
  start(1000);
  assert_true(http_client_wants_connect(&fx.client, 1000));
  http_client_connecting(&fx.client, 1000);
  http_client_connected(&fx.client, 1000);
  assert_int_equal(fx.spot.connected, 1);
  queue_event("[\"spot\",\"create\",{}]\n\n");
  http_client_tick(&fx.client, 1001);
  const char *sent = drain();
  assert_non_null(strstr(sent, "POST /api/spots/4711/events/ HTTP/1.1\r\n"));
  assert_int_equal(strncmp(sent, "POST /api/spots/4711/events/ HTTP/1.1\r\n", 39), 0);
  assert_non_null(strstr(sent, "\r\nHost: 10.0.0.2:8080\r\n"));
  assert_non_null(strstr(sent, "\r\nUser-Agent: spot/2.3.1\r\n"));
  assert_non_null(strstr(sent, "\r\nAccept: text/x-intellifi-events\r\n"));
  assert_non_null(strstr(sent, "\r\nContent-Type: text/x-intellifi-events\r\n"));
  assert_non_null(strstr(sent, "\r\nCache-Control: no-cache\r\n"));
  assert_non_null(strstr(sent, "\r\nTransfer-Encoding: chunked\r\n"));
  assert_non_null(strstr(sent, "\r\nX-Spot-Boot: 3\r\n"));
  assert_non_null(strstr(sent, "\r\nX-Spot-Seq: 17\r\n\r\n"));
}

static void test_a_token_goes_in_an_authorization_header_and_none_without_one(void **state)
{
  (void)state;
  start(0);
  http_client_connected(&fx.client, 0);
  queue_event("x");
  http_client_tick(&fx.client, 0);
  assert_null(strstr(drain(), "Authorization"));

  start(0);
  fx.client.opt.token = "sgt_abc-DEF_123";
  http_client_connected(&fx.client, 0);
  queue_event("x");
  http_client_tick(&fx.client, 0);
  const char *sent = drain();
  assert_non_null(strstr(sent, "\r\nAuthorization: Bearer sgt_abc-DEF_123\r\nCache-Control: no-cache\r\n"));
  const char *end = strstr(sent, "\r\n\r\n");
  assert_true(strstr(sent, "Authorization") < end); /* in the head, not the body */

  start(0);
  fx.client.opt.token = "";
  http_client_connected(&fx.client, 0);
  queue_event("x");
  http_client_tick(&fx.client, 0);
  assert_null(strstr(drain(), "Authorization"));
}

static void test_pb_encoding_names_the_pb_media_type(void **state)
{
  (void)state;
  start(0);
  fx.client.opt.pb = true;
  http_client_connected(&fx.client, 0);
  queue_event("x");
  http_client_tick(&fx.client, 0);
  const char *sent = drain();
  assert_non_null(strstr(sent, "\r\nContent-Type: application/x-intellifi-events-pb\r\n"));
  assert_non_null(strstr(sent, "\r\nAccept: application/x-intellifi-events-pb\r\n"));
}

static void test_each_event_is_written_as_a_chunk_at_once(void **state)
{
  (void)state;
  static char big[301];
  memset(big, 'a', 300);
  start(0);
  http_client_connected(&fx.client, 0);
  queue_event("[\"a\",\"b\",{}]\n\n");
  http_client_tick(&fx.client, 0);
  const char *sent = drain();
  assert_non_null(strstr(sent, "\r\n\r\ne\r\n[\"a\",\"b\",{}]\n\n\r\n"));
  queue_event(big);
  http_client_tick(&fx.client, 10);
  sent = drain();
  const char *chunk = strstr(sent, "12c\r\naaaa");
  assert_non_null(chunk);
  assert_int_equal(strlen(chunk), 5 + 300 + 2);
  assert_null(strstr(sent, "0\r\n\r\n"));
}

static void test_post_ends_after_the_window_at_an_event_boundary(void **state)
{
  (void)state;
  start(0);
  http_client_connected(&fx.client, 0);
  queue_event("e1");
  http_client_tick(&fx.client, 0);
  http_client_tick(&fx.client, 999);
  assert_int_equal(fx.client.state, HTTP_CLIENT_POSTING);
  fx.spot.at_boundary = false;
  http_client_tick(&fx.client, 1000);
  assert_int_equal(fx.client.state, HTTP_CLIENT_POSTING);
  fx.spot.at_boundary = true;
  http_client_tick(&fx.client, 1200);
  assert_int_equal(fx.client.state, HTTP_CLIENT_AWAITING);
  const char *sent = drain();
  size_t len = strlen(sent);
  assert_string_equal(sent + len - 5, "0\r\n\r\n");
}

static void test_a_post_can_be_ended_before_its_window(void **state)
{
  (void)state;
  start(0);
  http_client_connected(&fx.client, 0);
  queue_event("e1");
  http_client_tick(&fx.client, 0);
  http_client_end_post(&fx.client);
  http_client_tick(&fx.client, 10);
  assert_int_equal(fx.client.state, HTTP_CLIENT_AWAITING);
  drain();
  feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 20);
  http_client_tick(&fx.client, 20);
  http_client_tick(&fx.client, 30);
  assert_int_equal(fx.client.state, HTTP_CLIENT_POSTING); /* the next post runs its full window */
}

static void test_posts_follow_each_other_even_without_events(void **state)
{
  (void)state;
  start(0);
  http_client_connected(&fx.client, 0);
  http_client_tick(&fx.client, 0);
  assert_int_equal(fx.client.state, HTTP_CLIENT_POSTING);
  http_client_tick(&fx.client, 1000);
  const char *sent = drain();
  assert_non_null(strstr(sent, "X-Spot-Seq: 17\r\n\r\n0\r\n\r\n"));
  feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1010);
  http_client_tick(&fx.client, 1010);
  assert_int_equal(fx.client.state, HTTP_CLIENT_POSTING);
  assert_int_equal(fx.spot.posts_begun, 2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_post_carries_the_vendor_headers_and_numbering),
      cmocka_unit_test(test_a_token_goes_in_an_authorization_header_and_none_without_one),
      cmocka_unit_test(test_pb_encoding_names_the_pb_media_type),
      cmocka_unit_test(test_each_event_is_written_as_a_chunk_at_once),
      cmocka_unit_test(test_post_ends_after_the_window_at_an_event_boundary),
      cmocka_unit_test(test_a_post_can_be_ended_before_its_window),
      cmocka_unit_test(test_posts_follow_each_other_even_without_events),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
