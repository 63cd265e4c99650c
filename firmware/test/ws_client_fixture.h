/* Test fixture of the WebSocket client: a fake spot that hands out queued event
 * texts and records what the client tells it, a scripted random source, and
 * helpers that play the platform and the gateway (drain the output, feed the
 * 101 and frames). Included by test_ws_handshake.c and test_ws_client.c. */
#ifndef WS_CLIENT_FIXTURE_H
#define WS_CLIENT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ws_client.h"
#include "ws_frame.h"

/* RFC 6455 section 1.3: the key of the nonce "the sample nonce" and its accept. */
#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/* RFC 6455 section 5.7: the masking key of its masked "Hello". */
static const uint8_t rfc_mask[4] = {0x37, 0xfa, 0x21, 0x3d};

typedef struct fake_ws_spot {
  const char *events[32];
  size_t event_count;
  size_t next_event;
  size_t split; /* nonzero: the next read hands out only this many bytes of the event */
  size_t event_pos;
  bool stall;
  int connected;
  int begun;
  int ended;
  uint64_t acked_through;
  int acks;
  bool unacked;
  bool behind;
  char commands[512];
  size_t commands_len;
  int commands_ends;
} fake_ws_spot_t;

static inline void w_connected(void *ctx) { ((fake_ws_spot_t *)ctx)->connected++; }
static inline void w_begin(void *ctx, uint32_t *boot, uint64_t *first_seq)
{
  fake_ws_spot_t *f = ctx;
  f->begun++;
  *boot = 7;
  *first_seq = 1041;
}
static inline size_t w_read(void *ctx, uint8_t *buf, size_t cap)
{
  fake_ws_spot_t *f = ctx;
  if (f->next_event >= f->event_count) {
    return 0;
  }
  const char *ev = f->events[f->next_event];
  size_t n = strlen(ev) - f->event_pos;
  if (f->stall) {
    f->stall = false;
    return 0;
  }
  if (f->split && f->split < n) {
    n = f->split;
    f->split = 0;
    f->stall = true;
  }
  assert_true(n <= cap);
  memcpy(buf, ev + f->event_pos, n);
  f->event_pos += n;
  if (f->event_pos == strlen(ev)) {
    f->event_pos = 0;
    f->next_event++;
  }
  return n;
}
static inline bool w_boundary(void *ctx) { return ((fake_ws_spot_t *)ctx)->event_pos == 0; }
static inline void w_acked(void *ctx, uint64_t through)
{
  fake_ws_spot_t *f = ctx;
  f->acks++;
  f->acked_through = through;
}
static inline void w_end(void *ctx) { ((fake_ws_spot_t *)ctx)->ended++; }
static inline bool w_unacked(void *ctx) { return ((fake_ws_spot_t *)ctx)->unacked; }
static inline bool w_behind(void *ctx) { return ((fake_ws_spot_t *)ctx)->behind; }
static inline void w_commands(void *ctx, const uint8_t *bytes, size_t len)
{
  fake_ws_spot_t *f = ctx;
  assert_true(f->commands_len + len < sizeof f->commands);
  memcpy(f->commands + f->commands_len, bytes, len);
  f->commands_len += len;
  f->commands[f->commands_len] = '\0';
}
static inline void w_commands_end(void *ctx) { ((fake_ws_spot_t *)ctx)->commands_ends++; }

/* The random source: "the sample nonce" for every key, then the RFC's mask for every frame. */
static inline void w_random(void *ctx, uint8_t *out, size_t len)
{
  (void)ctx;
  if (len == 16) {
    memcpy(out, "the sample nonce", 16);
  } else {
    for (size_t i = 0; i < len; i++) {
      out[i] = rfc_mask[i % 4];
    }
  }
}

typedef struct ws_fixture {
  fake_ws_spot_t spot;
  ws_client_t client;
  uint8_t sent[WS_CLIENT_OUT_BYTES * 2];
  size_t sent_len;
} ws_fixture_t;

static ws_fixture_t fx;

static inline void start_with(bool pb, const char *token)
{
  memset(&fx, 0, sizeof fx);
  ws_client_spot_t spot = {&fx.spot, w_connected, w_begin, w_read, w_boundary, w_acked,
                           w_end, w_unacked, w_behind, w_commands, w_commands_end};
  ws_client_options_t opt = {.host = "10.0.0.2:8080",
                             .serial = 4711,
                             .version = "2.3.1",
                             .pb = pb,
                             .token = token,
                             .backoff_min_ms = 200,
                             .backoff_max_ms = 1600,
                             .connect_timeout_ms = 3000,
                             .response_timeout_ms = 5000,
                             .close_timeout_ms = 1000,
                             .random = w_random};
  ws_client_init(&fx.client, &spot, &opt, 0);
}

static inline void start(void) { start_with(false, NULL); }

static inline void queue_event(const char *text) { fx.spot.events[fx.spot.event_count++] = text; }

/* Takes everything the client wants to send, as the platform would. */
static inline size_t drain(void)
{
  size_t len;
  const uint8_t *out = ws_client_output(&fx.client, &len);
  assert_true(fx.sent_len + len < sizeof fx.sent);
  memcpy(fx.sent + fx.sent_len, out, len);
  fx.sent_len += len;
  fx.sent[fx.sent_len] = '\0';
  ws_client_sent(&fx.client, len);
  return len;
}

static inline void forget_sent(void) { fx.sent_len = 0; }

static inline void feed(const void *bytes, size_t len, uint64_t now)
{
  ws_client_input(&fx.client, bytes, len, now);
}

static inline void feed_text(const char *text, uint64_t now) { feed(text, strlen(text), now); }

#define SWITCHING                                                                                                    \
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT \
  "\r\n"

/* Connects, answers the handshake with a 101 and leaves the request out of fx.sent. */
static inline void open_connection(uint64_t now)
{
  assert_true(ws_client_wants_connect(&fx.client, now));
  ws_client_connecting(&fx.client, now);
  ws_client_connected(&fx.client, now);
  drain();
  forget_sent();
  feed_text(SWITCHING "Sec-WebSocket-Protocol: spot-json.v1\r\n\r\n", now);
  assert_int_equal(fx.client.state, WS_CLIENT_OPEN);
}

/* A server frame (unmasked) of the payload. */
static inline void feed_frame(bool fin, uint8_t opcode, const void *payload, size_t len, uint64_t now)
{
  uint8_t head[WS_FRAME_HEAD_MAX];
  size_t n = ws_frame_head_write(head, fin, opcode, len, NULL);
  feed(head, n, now);
  feed(payload, len, now);
}

/* A whole text message in one frame. */
static inline void feed_message(const char *text, uint64_t now)
{
  feed_frame(true, WS_OP_TEXT, text, strlen(text), now);
}

/* Unmasks the client frame at fx.sent + at; returns its payload's length and where it starts. */
static inline size_t sent_frame(size_t at, ws_frame_head_t *h, uint8_t *payload, size_t cap)
{
  assert_true(at + 2 <= fx.sent_len);
  size_t head = ws_frame_head_size(fx.sent + at);
  assert_true(ws_frame_head_read(fx.sent + at, h));
  assert_true(h->masked); /* RFC 6455 5.3: every client frame */
  assert_true(at + head + h->len <= fx.sent_len);
  assert_true(h->len <= cap);
  memcpy(payload, fx.sent + at + head, (size_t)h->len);
  ws_mask(payload, (size_t)h->len, h->mask, 0);
  return head + (size_t)h->len;
}

#endif
