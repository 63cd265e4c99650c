/* Unit tests of the HTTP client state machine, fed bytes and time by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_client.h"

/* A spot that hands out queued event texts and records what the client tells it. */
typedef struct fake_spot {
  const char *events[8];
  size_t event_count;
  size_t next_event;
  bool at_boundary;
  int connected;
  int posts_begun;
  int acked;
  int failed;
  char commands[512];
  size_t commands_len;
  int commands_ends;
} fake_spot_t;

static void f_connected(void *ctx) { ((fake_spot_t *)ctx)->connected++; }
static void f_begin(void *ctx, uint32_t *boot, uint64_t *first_seq)
{
  fake_spot_t *f = ctx;
  f->posts_begun++;
  *boot = 3;
  *first_seq = 17 + f->next_event;
}
static size_t f_read(void *ctx, uint8_t *buf, size_t cap)
{
  fake_spot_t *f = ctx;
  if (f->next_event >= f->event_count) {
    return 0;
  }
  size_t n = strlen(f->events[f->next_event]);
  assert_true(n <= cap);
  memcpy(buf, f->events[f->next_event++], n);
  return n;
}
static bool f_boundary(void *ctx) { return ((fake_spot_t *)ctx)->at_boundary; }
static void f_done(void *ctx, bool acknowledged)
{
  fake_spot_t *f = ctx;
  if (acknowledged) {
    f->acked++;
  } else {
    f->failed++;
  }
}
static void f_commands(void *ctx, const uint8_t *bytes, size_t len)
{
  fake_spot_t *f = ctx;
  assert_true(f->commands_len + len < sizeof f->commands);
  memcpy(f->commands + f->commands_len, bytes, len);
  f->commands_len += len;
  f->commands[f->commands_len] = '\0';
}
static void f_commands_end(void *ctx) { ((fake_spot_t *)ctx)->commands_ends++; }

typedef struct fixture {
  fake_spot_t spot;
  http_client_t client;
  char sent[HTTP_CLIENT_OUT_BYTES * 2];
  size_t sent_len;
} fixture_t;

static fixture_t fx;

static void start(uint64_t now)
{
  memset(&fx, 0, sizeof fx);
  fx.spot.at_boundary = true;
  http_client_spot_t spot = {&fx.spot,  f_connected, f_begin,       f_read,
                             f_boundary, f_done,     f_commands, f_commands_end};
  http_client_options_t opt = {.host = "10.0.0.2:8080",
                               .serial = 4711,
                               .version = "2.3.1",
                               .pb = false,
                               .post_window_ms = 1000,
                               .backoff_min_ms = 200,
                               .backoff_max_ms = 1600,
                               .response_timeout_ms = 5000,
                               .connect_timeout_ms = 3000};
  http_client_init(&fx.client, &spot, &opt, now);
}

static void queue_event(const char *text) { fx.spot.events[fx.spot.event_count++] = text; }

/* Takes everything the client wants to send, as the platform would. */
static const char *drain(void)
{
  size_t len;
  const uint8_t *out = http_client_output(&fx.client, &len);
  assert_true(fx.sent_len + len < sizeof fx.sent);
  memcpy(fx.sent + fx.sent_len, out, len);
  fx.sent_len += len;
  fx.sent[fx.sent_len] = '\0';
  http_client_sent(&fx.client, len);
  return fx.sent;
}

static void feed(const char *text, uint64_t now)
{
  http_client_input(&fx.client, (const uint8_t *)text, strlen(text), now);
}

static void connect_and_post_one(uint64_t now)
{
  assert_true(http_client_wants_connect(&fx.client, now));
  http_client_connecting(&fx.client, now);
  http_client_connected(&fx.client, now);
  queue_event("[\"presence\",\"create\",{}]\n\n");
  http_client_tick(&fx.client, now);
  http_client_tick(&fx.client, now + 1000);
  drain();
  assert_int_equal(fx.client.state, HTTP_CLIENT_AWAITING);
}

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
  uint32_t expected[] = {400, 800, 1600, 1600};
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
      cmocka_unit_test(test_post_carries_the_vendor_headers_and_numbering),
      cmocka_unit_test(test_pb_encoding_names_the_pb_media_type),
      cmocka_unit_test(test_each_event_is_written_as_a_chunk_at_once),
      cmocka_unit_test(test_post_ends_after_the_window_at_an_event_boundary),
      cmocka_unit_test(test_a_post_can_be_ended_before_its_window),
      cmocka_unit_test(test_a_200_acknowledges_and_its_body_is_commands_then_keep_alive),
      cmocka_unit_test(test_posts_follow_each_other_even_without_events),
      cmocka_unit_test(test_a_chunked_response_split_at_every_byte_is_read),
      cmocka_unit_test(test_a_refusal_fails_the_post_and_the_next_waits_the_backoff),
      cmocka_unit_test(test_a_dropped_connection_fails_the_post_and_reconnects_with_growing_backoff),
      cmocka_unit_test(test_jitter_spreads_reconnects_within_half_the_backoff),
      cmocka_unit_test(test_connection_close_is_honoured_and_reconnects_at_once),
      cmocka_unit_test(test_a_body_without_length_ends_with_the_connection),
      cmocka_unit_test(test_no_response_in_time_fails_the_post),
      cmocka_unit_test(test_an_early_answer_during_the_post_fails_it),
      cmocka_unit_test(test_garbage_instead_of_a_status_line_closes_with_a_reason),
      cmocka_unit_test(test_a_dropped_200_body_ends_the_commands_and_fails_the_post),
      cmocka_unit_test(test_connect_timeout_asks_to_close),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
