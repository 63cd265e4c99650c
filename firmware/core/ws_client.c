/* WebSocket client of the spot protocol (see ws_client.h): connection
 * lifecycle, backoff, timeouts, the events written as binary messages. The
 * handshake is ws_handshake.c, the gateway's frames ws_reader.c, its text
 * messages (acknowledgements) ws_ack.c. */
#include "ws_client.h"

#include <string.h>

#include "text.h"
#include "ws_client_internal.h"
#include "ws_frame.h"

/* A data frame: header (16-bit length and mask at most) + payload. */
#define DATA_HEAD_MAX 8u
/* Room always kept free for a pong or a close: header + the largest control payload. */
#define CONTROL_RESERVE (6u + WS_CLIENT_CONTROL_BYTES)
/* Smallest payload worth a frame of its own. */
#define DATA_MIN 64u
#define DATA_FRAME_MAX 0xffffu

void ws_client_set_error(ws_client_t *c, const char *what, const char *detail)
{
  text_t t;
  text_init(&t, c->last_error, sizeof c->last_error);
  if (what) text_str(&t, what);
  if (detail) text_str(&t, detail);
}

void ws_client_set_state(ws_client_t *c, ws_client_state_t state, uint64_t now_ms)
{
  c->state = state;
  c->state_since_ms = now_ms;
}

void ws_out_bytes(ws_client_t *c, const void *bytes, size_t len)
{
  if (len > sizeof c->out - c->out_len) {
    len = sizeof c->out - c->out_len; /* callers check room first; never overrun */
  }
  memcpy(c->out + c->out_len, bytes, len);
  c->out_len += len;
}

void ws_out_text(ws_client_t *c, const char *text)
{
  ws_out_bytes(c, text, strlen(text));
}

void ws_out_decimal(ws_client_t *c, uint64_t value)
{
  char digits[21];
  size_t n = 0;
  do {
    digits[n++] = (char)('0' + value % 10u);
    value /= 10u;
  } while (value);
  while (n) {
    ws_out_bytes(c, &digits[--n], 1);
  }
}

static void random_bytes(ws_client_t *c, uint8_t *out, size_t len)
{
  c->opt.random(c->opt.random_ctx, out, len);
}

bool ws_client_control(ws_client_t *c, uint8_t opcode, const uint8_t *payload, size_t len)
{
  if (len > WS_CLIENT_CONTROL_BYTES || sizeof c->out - c->out_len < 6u + len) {
    return false;
  }
  uint8_t mask[4];
  random_bytes(c, mask, sizeof mask);
  c->out_len += ws_frame_head_write(c->out + c->out_len, true, opcode, len, mask);
  uint8_t *data = c->out + c->out_len;
  if (len) {
    memcpy(data, payload, len);
  }
  ws_mask(data, len, mask, 0);
  c->out_len += len;
  return true;
}

static uint32_t next_backoff(ws_client_t *c)
{
  uint32_t wait = c->backoff_ms;
  if (c->jitter_state) {
    c->jitter_state ^= c->jitter_state << 13; /* xorshift32 */
    c->jitter_state ^= c->jitter_state >> 17;
    c->jitter_state ^= c->jitter_state << 5;
    wait += c->jitter_state % (wait / 2u + 1u);
  }
  c->backoff_ms = c->backoff_ms >= c->opt.backoff_max_ms / 2u ? c->opt.backoff_max_ms : c->backoff_ms * 2u;
  return wait;
}

void ws_client_end_connection(ws_client_t *c, uint64_t now_ms, bool backoff)
{
  if (c->post_open) {
    c->post_open = false;
    if (c->spot.post_end) {
      c->spot.post_end(c->spot.ctx);
    }
  }
  if (c->message_opcode == WS_OP_BINARY && c->spot.commands_end) {
    c->spot.commands_end(c->spot.ctx); /* a command message cut off: the reader starts afresh */
  }
  c->message_opcode = 0;
  c->message_out_open = false;
  c->waiting = false;
  c->reconnect_at_ms = now_ms + (backoff ? next_backoff(c) : 0u);
}

void ws_client_fail(ws_client_t *c, uint64_t now_ms, const char *what, const char *detail)
{
  ws_client_set_error(c, what, detail);
  ws_client_end_connection(c, now_ms, true);
  c->out_len = 0;
  ws_client_set_state(c, WS_CLIENT_CLOSING, now_ms);
}

/* Sends our close frame (code, no reason) and waits for the gateway's. */
static void start_close(ws_client_t *c, uint64_t now_ms, uint16_t code, bool backoff)
{
  uint8_t payload[2] = {(uint8_t)(code >> 8), (uint8_t)code};
  ws_client_end_connection(c, now_ms, backoff);
  if (!ws_client_control(c, WS_OP_CLOSE, payload, sizeof payload)) {
    c->out_len = 0; /* no room even for a close: the socket just closes */
    ws_client_set_state(c, WS_CLIENT_CLOSING, now_ms);
    return;
  }
  ws_client_set_state(c, WS_CLIENT_CLOSE_SENT, now_ms);
}

void ws_client_protocol_error(ws_client_t *c, uint64_t now_ms, uint16_t code, const char *what)
{
  /* RFC 6455 7.1.7: the close frame goes out, nothing more is read, the socket closes. */
  ws_client_set_error(c, "protocol error: ", what);
  start_close(c, now_ms, code, true);
  ws_client_set_state(c, WS_CLIENT_CLOSING, now_ms);
}

void ws_client_init(ws_client_t *c, const ws_client_spot_t *spot, const ws_client_options_t *opt, uint64_t now_ms)
{
  memset(c, 0, sizeof *c);
  c->spot = *spot;
  c->opt = *opt;
  if (c->opt.backoff_min_ms == 0) {
    c->opt.backoff_min_ms = 200;
  }
  if (c->opt.backoff_max_ms < c->opt.backoff_min_ms) {
    c->opt.backoff_max_ms = c->opt.backoff_min_ms;
  }
  if (c->opt.connect_timeout_ms == 0) {
    c->opt.connect_timeout_ms = 5000;
  }
  if (c->opt.response_timeout_ms == 0) {
    c->opt.response_timeout_ms = 10000;
  }
  if (c->opt.close_timeout_ms == 0) {
    c->opt.close_timeout_ms = 2000;
  }
  text_copy(c->host, sizeof c->host, opt->host);
  c->opt.host = c->host;
  c->backoff_ms = c->opt.backoff_min_ms;
  c->jitter_state = c->opt.jitter_seed;
  c->reconnect_at_ms = now_ms;
  c->intro_due = true;
  ws_client_set_state(c, WS_CLIENT_DISCONNECTED, now_ms);
}

void ws_client_reconfigure(ws_client_t *c, const char *host)
{
  text_copy(c->host, sizeof c->host, host);
}

bool ws_client_wants_connect(const ws_client_t *c, uint64_t now_ms)
{
  return c->state == WS_CLIENT_DISCONNECTED && now_ms >= c->reconnect_at_ms;
}

void ws_client_connecting(ws_client_t *c, uint64_t now_ms)
{
  ws_client_set_state(c, WS_CLIENT_CONNECTING, now_ms);
}

void ws_client_connected(ws_client_t *c, uint64_t now_ms)
{
  c->out_len = 0;
  ws_reader_reset(c);
  /* The introduction goes in before the numbering is asked for, as over HTTP (a full
   * ring drops events to make room: the announced X-Spot-Seq must come after that).
   * One per accepted connection: while handshakes are refused one after another (a
   * wrong token, a stopping gateway), each on a new TCP connection, the one queued
   * stays waiting instead of more filling the ring. */
  if (c->intro_due && c->spot.connected) {
    c->spot.connected(c->spot.ctx);
  }
  c->intro_due = false;
  ws_handshake_begin(c, now_ms);
}

void ws_client_connect_failed(ws_client_t *c, uint64_t now_ms, const char *reason)
{
  ws_client_set_error(c, "connect failed: ", reason);
  c->reconnect_at_ms = now_ms + next_backoff(c);
  ws_client_set_state(c, WS_CLIENT_DISCONNECTED, now_ms);
}

void ws_client_disconnected(ws_client_t *c, uint64_t now_ms, const char *reason)
{
  c->out_len = 0;
  ws_reader_reset(c);
  if (c->state == WS_CLIENT_CLOSING) {
    ws_client_set_state(c, WS_CLIENT_DISCONNECTED, now_ms); /* reconnect_at set when closing began */
    return;
  }
  if (c->state != WS_CLIENT_CLOSE_SENT) {
    ws_client_set_error(c, "connection lost: ", reason && reason[0] ? reason : "closed without a close frame");
    ws_client_end_connection(c, now_ms, true);
  }
  ws_client_set_state(c, WS_CLIENT_DISCONNECTED, now_ms);
}

bool ws_client_wants_close(const ws_client_t *c)
{
  return c->state == WS_CLIENT_CLOSING && c->out_len == 0;
}

void ws_client_close(ws_client_t *c, uint64_t now_ms)
{
  if (c->state == WS_CLIENT_OPEN) {
    ws_client_set_error(c, "closed by the spot", "");
    start_close(c, now_ms, WS_CLOSE_NORMAL, true);
  } else if (c->state == WS_CLIENT_CONNECTING || c->state == WS_CLIENT_HANDSHAKE) {
    ws_client_fail(c, now_ms, "closed by the spot", "");
  }
}

/* The spot's events as binary messages: each frame takes what the spot has now;
 * a frame ending inside an event is continued by a continuation frame. */
static void fill_messages(ws_client_t *c)
{
  while (c->spot.post_read) {
    size_t room = sizeof c->out - c->out_len;
    if (room < DATA_HEAD_MAX + CONTROL_RESERVE + DATA_MIN) {
      return;
    }
    size_t cap = room - DATA_HEAD_MAX - CONTROL_RESERVE;
    if (cap > DATA_FRAME_MAX) {
      cap = DATA_FRAME_MAX;
    }
    uint8_t *data = c->out + c->out_len + DATA_HEAD_MAX;
    size_t n = 0;
    for (size_t got = 1; got > 0 && n < cap; n += got) {
      got = c->spot.post_read(c->spot.ctx, data + n, cap - n);
    }
    if (n == 0) {
      return;
    }
    bool fin = !c->spot.post_at_event_boundary || c->spot.post_at_event_boundary(c->spot.ctx);
    uint8_t mask[4];
    random_bytes(c, mask, sizeof mask);
    uint8_t head[WS_FRAME_HEAD_MAX];
    size_t head_len = ws_frame_head_write(head, fin, c->message_out_open ? WS_OP_CONTINUATION : WS_OP_BINARY, n, mask);
    memmove(c->out + c->out_len + head_len, data, n);
    memcpy(c->out + c->out_len, head, head_len);
    ws_mask(c->out + c->out_len + head_len, n, mask, 0);
    c->out_len += head_len + n;
    c->message_out_open = !fin;
  }
}

static void tick_open(ws_client_t *c, uint64_t now_ms)
{
  if (!c->message_out_open && c->spot.behind && c->spot.behind(c->spot.ctx)) {
    /* Events the connection had still to send were dropped: its numbering cannot
     * go on. A new connection starts at the oldest kept event, at once. */
    ws_client_set_error(c, "events dropped from the full ring: reconnecting with new numbering", "");
    start_close(c, now_ms, WS_CLOSE_NORMAL, false);
    return;
  }
  fill_messages(c);
  if (!c->spot.unacknowledged || !c->spot.unacknowledged(c->spot.ctx)) {
    c->waiting = false;
  } else if (!c->waiting) {
    c->waiting = true;
    c->waiting_since_ms = now_ms;
  } else if (now_ms - c->waiting_since_ms >= c->opt.response_timeout_ms) {
    ws_client_fail(c, now_ms, "no acknowledgement in time", "");
  }
}

void ws_client_tick(ws_client_t *c, uint64_t now_ms)
{
  switch (c->state) {
  case WS_CLIENT_CONNECTING:
    if (now_ms - c->state_since_ms >= c->opt.connect_timeout_ms) {
      ws_client_fail(c, now_ms, "connect timed out", "");
    }
    break;
  case WS_CLIENT_HANDSHAKE:
    if (now_ms - c->state_since_ms >= c->opt.response_timeout_ms) {
      ws_client_fail(c, now_ms, "no answer to the opening handshake in time", "");
    }
    break;
  case WS_CLIENT_OPEN:
    tick_open(c, now_ms);
    break;
  case WS_CLIENT_CLOSE_SENT:
    if (now_ms - c->state_since_ms >= c->opt.close_timeout_ms) {
      ws_client_set_state(c, WS_CLIENT_CLOSING, now_ms); /* the gateway did not answer the close */
    }
    break;
  case WS_CLIENT_CLOSING:
    if (now_ms - c->state_since_ms >= c->opt.close_timeout_ms) {
      c->out_len = 0; /* the socket takes nothing more: close it anyway */
    }
    break;
  case WS_CLIENT_DISCONNECTED:
    break;
  }
}

void ws_client_input(ws_client_t *c, const uint8_t *bytes, size_t len, uint64_t now_ms)
{
  if (c->state == WS_CLIENT_HANDSHAKE) {
    size_t used = ws_handshake_input(c, bytes, len, now_ms);
    bytes += used;
    len -= used;
  }
  if (c->state == WS_CLIENT_OPEN || c->state == WS_CLIENT_CLOSE_SENT) {
    ws_reader_input(c, bytes, len, now_ms);
    if (c->state == WS_CLIENT_OPEN) {
      fill_messages(c);
    }
  }
}

const uint8_t *ws_client_output(const ws_client_t *c, size_t *len)
{
  *len = c->out_len;
  return c->out;
}

void ws_client_sent(ws_client_t *c, size_t n)
{
  if (n >= c->out_len) {
    c->out_len = 0;
    return;
  }
  memmove(c->out, c->out + n, c->out_len - n);
  c->out_len -= n;
}

bool ws_client_open(const ws_client_t *c)
{
  return c->state == WS_CLIENT_OPEN;
}

const char *ws_client_last_error(const ws_client_t *c)
{
  return c->last_error;
}
