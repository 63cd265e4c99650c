/* Test fixture of the HTTP client: a fake spot that hands out queued event
 * texts and records what the client tells it, plus helpers that play the
 * platform (drain the output, feed response bytes). Included by
 * test_http_client.c, test_http_request.c and test_http_response.c. */
#ifndef HTTP_CLIENT_FIXTURE_H
#define HTTP_CLIENT_FIXTURE_H

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

static inline void f_connected(void *ctx) { ((fake_spot_t *)ctx)->connected++; }
static inline void f_begin(void *ctx, uint32_t *boot, uint64_t *first_seq)
{
  fake_spot_t *f = ctx;
  f->posts_begun++;
  *boot = 3;
  *first_seq = 17 + f->next_event;
}
static inline size_t f_read(void *ctx, uint8_t *buf, size_t cap)
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
static inline bool f_boundary(void *ctx) { return ((fake_spot_t *)ctx)->at_boundary; }
static inline void f_done(void *ctx, bool acknowledged)
{
  fake_spot_t *f = ctx;
  if (acknowledged) {
    f->acked++;
  } else {
    f->failed++;
  }
}
static inline void f_commands(void *ctx, const uint8_t *bytes, size_t len)
{
  fake_spot_t *f = ctx;
  assert_true(f->commands_len + len < sizeof f->commands);
  memcpy(f->commands + f->commands_len, bytes, len);
  f->commands_len += len;
  f->commands[f->commands_len] = '\0';
}
static inline void f_commands_end(void *ctx) { ((fake_spot_t *)ctx)->commands_ends++; }

typedef struct fixture {
  fake_spot_t spot;
  http_client_t client;
  char sent[HTTP_CLIENT_OUT_BYTES * 2];
  size_t sent_len;
} fixture_t;

static fixture_t fx;

static inline void start(uint64_t now)
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

static inline void queue_event(const char *text) { fx.spot.events[fx.spot.event_count++] = text; }

/* Takes everything the client wants to send, as the platform would. */
static inline const char *drain(void)
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

static inline void feed(const char *text, uint64_t now)
{
  http_client_input(&fx.client, (const uint8_t *)text, strlen(text), now);
}

static inline void connect_and_post_one(uint64_t now)
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

#endif
