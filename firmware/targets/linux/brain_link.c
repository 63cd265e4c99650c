/* The brain connection's protocol client: the HTTP posts or the WebSocket
 * (--transport), behind one set of calls for the socket code (spot_io.c) and
 * the run loop (main.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/random.h>
#include <unistd.h>

#include "linux_spot.h"

bool link_wants_connect(const linux_spot_t *ls, uint64_t now)
{
  return ls->cli.websocket ? ws_client_wants_connect(&ls->ws, now) : http_client_wants_connect(&ls->http, now);
}

void link_connecting(linux_spot_t *ls, uint64_t now)
{
  if (ls->cli.websocket) {
    ws_client_connecting(&ls->ws, now);
  } else {
    http_client_connecting(&ls->http, now);
  }
}

void link_connected(linux_spot_t *ls, uint64_t now)
{
  if (ls->cli.websocket) {
    ws_client_connected(&ls->ws, now);
  } else {
    http_client_connected(&ls->http, now);
  }
}

void link_connect_failed(linux_spot_t *ls, uint64_t now, const char *reason)
{
  if (ls->cli.websocket) {
    ws_client_connect_failed(&ls->ws, now, reason);
  } else {
    http_client_connect_failed(&ls->http, now, reason);
  }
}

void link_disconnected(linux_spot_t *ls, uint64_t now, const char *reason)
{
  if (ls->cli.websocket) {
    ws_client_disconnected(&ls->ws, now, reason);
  } else {
    http_client_disconnected(&ls->http, now, reason);
  }
}

bool link_wants_close(const linux_spot_t *ls)
{
  return ls->cli.websocket ? ws_client_wants_close(&ls->ws) : http_client_wants_close(&ls->http);
}

void link_tick(linux_spot_t *ls, uint64_t now)
{
  if (ls->cli.websocket) {
    ws_client_tick(&ls->ws, now);
  } else {
    http_client_tick(&ls->http, now);
  }
}

void link_input(linux_spot_t *ls, const uint8_t *bytes, size_t len, uint64_t now)
{
  if (ls->cli.websocket) {
    ws_client_input(&ls->ws, bytes, len, now);
  } else {
    http_client_input(&ls->http, bytes, len, now);
  }
}

const uint8_t *link_output(const linux_spot_t *ls, size_t *len)
{
  return ls->cli.websocket ? ws_client_output(&ls->ws, len) : http_client_output(&ls->http, len);
}

void link_sent(linux_spot_t *ls, size_t n)
{
  if (ls->cli.websocket) {
    ws_client_sent(&ls->ws, n);
  } else {
    http_client_sent(&ls->http, n);
  }
}

bool link_idle(const linux_spot_t *ls)
{
  return ls->cli.websocket ? ws_client_open(&ls->ws) : ls->http.state == HTTP_CLIENT_IDLE;
}

/* The handshake key and the frame masks: the kernel's generator (RFC 6455 10.3). */
void link_random(void *ctx, uint8_t *out, size_t len)
{
  size_t got = 0;
  while (got < len) {
    ssize_t n = getrandom(out + got, len - got, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      say(ctx, "getrandom failed: the WebSocket key and masks cannot be made");
      _exit(1);
    }
    got += (size_t)n;
  }
}
