/* HTTP client state machine of the spot protocol (see http_client.h): connection
 * and post lifecycle, backoff, timeouts. The request is written by http_request.c,
 * the response read by http_response.c. */
#include "http_client.h"

#include <string.h>

#include "http_client_internal.h"
#include "text.h"

void http_client_set_error(http_client_t *c, const char *what, const char *detail)
{
  text_t t;
  text_init(&t, c->last_error, sizeof c->last_error);
  if (what) text_str(&t, what);
  if (detail) text_str(&t, detail);
}

void http_client_set_state(http_client_t *c, http_client_state_t state, uint64_t now_ms)
{
  c->state = state;
  c->state_since_ms = now_ms;
}

static void end_commands(http_client_t *c)
{
  if (c->commands_open) {
    c->commands_open = false;
    if (c->spot.commands_end) {
      c->spot.commands_end(c->spot.ctx);
    }
  }
}

void http_client_finish_post(http_client_t *c, bool acknowledged)
{
  end_commands(c);
  if (!c->post_done_pending) {
    return;
  }
  c->post_done_pending = false;
  if (acknowledged) {
    c->posts_acknowledged++;
  } else {
    c->posts_failed++;
  }
  if (c->spot.post_done) {
    c->spot.post_done(c->spot.ctx, acknowledged);
  }
}

uint32_t http_client_next_backoff(http_client_t *c)
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

void http_client_abort(http_client_t *c, uint64_t now_ms, const char *what, const char *detail)
{
  http_client_set_error(c, what, detail);
  http_client_finish_post(c, false);
  c->out_len = 0;
  c->reconnect_at_ms = now_ms + http_client_next_backoff(c);
  http_client_set_state(c, HTTP_CLIENT_CLOSING, now_ms);
}

void http_client_init(http_client_t *c, const http_client_spot_t *spot, const http_client_options_t *opt,
                      uint64_t now_ms)
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
  if (c->opt.response_timeout_ms == 0) {
    c->opt.response_timeout_ms = 10000;
  }
  if (c->opt.connect_timeout_ms == 0) {
    c->opt.connect_timeout_ms = 5000;
  }
  if (c->opt.post_window_ms == 0) {
    c->opt.post_window_ms = 1000;
  }
  text_copy(c->host, sizeof c->host, opt->host);
  c->opt.host = c->host;
  c->backoff_ms = c->opt.backoff_min_ms;
  c->jitter_state = c->opt.jitter_seed;
  c->reconnect_at_ms = now_ms;
  http_client_set_state(c, HTTP_CLIENT_DISCONNECTED, now_ms);
}

void http_client_reconfigure(http_client_t *c, const char *host, uint32_t post_window_ms)
{
  text_copy(c->host, sizeof c->host, host);
  if (post_window_ms) {
    c->opt.post_window_ms = post_window_ms;
  }
}

void http_client_end_post(http_client_t *c)
{
  if (c->state == HTTP_CLIENT_POSTING) {
    c->end_post_early = true;
  }
}

bool http_client_wants_connect(const http_client_t *c, uint64_t now_ms)
{
  return c->state == HTTP_CLIENT_DISCONNECTED && now_ms >= c->reconnect_at_ms;
}

void http_client_connecting(http_client_t *c, uint64_t now_ms)
{
  http_client_set_state(c, HTTP_CLIENT_CONNECTING, now_ms);
}

void http_client_connected(http_client_t *c, uint64_t now_ms)
{
  c->out_len = 0;
  c->connects++;
  c->next_post_at_ms = now_ms;
  http_client_set_state(c, HTTP_CLIENT_IDLE, now_ms);
  if (c->spot.connected) {
    c->spot.connected(c->spot.ctx);
  }
}

void http_client_connect_failed(http_client_t *c, uint64_t now_ms, const char *reason)
{
  http_client_set_error(c, "connect failed: ", reason);
  c->reconnect_at_ms = now_ms + http_client_next_backoff(c);
  http_client_set_state(c, HTTP_CLIENT_DISCONNECTED, now_ms);
}

void http_client_disconnected(http_client_t *c, uint64_t now_ms, const char *reason)
{
  if (http_response_ends_with_close(c)) {
    http_response_complete(c, now_ms);
  }
  if (c->state == HTTP_CLIENT_CLOSING) {
    http_client_set_state(c, HTTP_CLIENT_DISCONNECTED, now_ms); /* reconnect_at set when closing began */
    return;
  }
  http_client_set_error(c, "connection lost: ", reason);
  http_client_finish_post(c, false);
  c->out_len = 0;
  c->reconnect_at_ms = now_ms + http_client_next_backoff(c);
  http_client_set_state(c, HTTP_CLIENT_DISCONNECTED, now_ms);
}

bool http_client_wants_close(const http_client_t *c)
{
  return c->state == HTTP_CLIENT_CLOSING;
}

void http_client_tick(http_client_t *c, uint64_t now_ms)
{
  switch (c->state) {
  case HTTP_CLIENT_CONNECTING:
    if (now_ms - c->state_since_ms >= c->opt.connect_timeout_ms) {
      http_client_abort(c, now_ms, "connect timed out", "");
    }
    break;
  case HTTP_CLIENT_IDLE:
    if (c->out_len == 0 && now_ms >= c->next_post_at_ms) {
      http_request_begin(c, now_ms);
      http_request_fill_chunks(c);
    }
    break;
  case HTTP_CLIENT_POSTING:
    http_request_fill_chunks(c);
    if ((c->end_post_early || now_ms - c->state_since_ms >= c->opt.post_window_ms) &&
        (!c->spot.post_at_event_boundary || c->spot.post_at_event_boundary(c->spot.ctx))) {
      http_request_end_body(c);
      c->end_post_early = false;
      http_client_set_state(c, HTTP_CLIENT_AWAITING, now_ms);
    }
    break;
  case HTTP_CLIENT_AWAITING:
    if (now_ms - c->state_since_ms >= c->opt.response_timeout_ms) {
      http_client_abort(c, now_ms, "no response to the post in time", "");
    }
    break;
  case HTTP_CLIENT_DISCONNECTED:
  case HTTP_CLIENT_CLOSING:
    break;
  }
}

const uint8_t *http_client_output(const http_client_t *c, size_t *len)
{
  *len = c->out_len;
  return c->out;
}

void http_client_sent(http_client_t *c, size_t n)
{
  if (n >= c->out_len) {
    c->out_len = 0;
    return;
  }
  memmove(c->out, c->out + n, c->out_len - n);
  c->out_len -= n;
}

const char *http_client_last_error(const http_client_t *c)
{
  return c->last_error;
}
