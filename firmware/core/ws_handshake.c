/* The WebSocket opening handshake (RFC 6455 section 4.1): the spot's request
 * with the post's headers, and the checks of the gateway's response. */
#include <string.h>

#include "sha1.h"
#include "ws_client_internal.h"

enum ws_seen { SEEN_UPGRADE = 1, SEEN_CONNECTION = 2, SEEN_ACCEPT = 4, SEEN_PROTOCOL = 8 };

void ws_handshake_key(const uint8_t nonce[16], char key[WS_KEY_TEXT_BYTES])
{
  base64_encode(nonce, 16, key, WS_KEY_TEXT_BYTES);
}

void ws_handshake_accept(const char *key, char accept[WS_ACCEPT_TEXT_BYTES])
{
  sha1_t sha;
  uint8_t digest[SHA1_DIGEST_BYTES];
  sha1_init(&sha);
  sha1_update(&sha, key, strlen(key));
  sha1_update(&sha, WS_GUID, sizeof WS_GUID - 1);
  sha1_final(&sha, digest);
  base64_encode(digest, sizeof digest, accept, WS_ACCEPT_TEXT_BYTES);
}

static const char *subprotocol(const ws_client_t *c)
{
  return c->opt.pb ? "spot-pb.v1" : "spot-json.v1";
}

void ws_handshake_begin(ws_client_t *c, uint64_t now_ms)
{
  uint32_t boot = 0;
  uint64_t first_seq = 0;
  if (c->spot.post_begin) {
    c->spot.post_begin(c->spot.ctx, &boot, &first_seq);
  }
  c->post_open = true;
  c->boot = boot;
  c->first_seq = first_seq;
  c->acked_events = 0;
  uint8_t nonce[16];
  char key[WS_KEY_TEXT_BYTES];
  c->opt.random(c->opt.random_ctx, nonce, sizeof nonce);
  ws_handshake_key(nonce, key);
  ws_handshake_accept(key, c->accept);
  ws_out_text(c, "GET /api/spots/");
  ws_out_decimal(c, c->opt.serial);
  ws_out_text(c, "/events/ HTTP/1.1\r\nHost: ");
  ws_out_text(c, c->host);
  ws_out_text(c, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ");
  ws_out_text(c, key);
  ws_out_text(c, "\r\nSec-WebSocket-Protocol: ");
  ws_out_text(c, subprotocol(c));
  ws_out_text(c, "\r\nUser-Agent: spot/");
  ws_out_text(c, c->opt.version);
  if (c->opt.token && c->opt.token[0]) {
    ws_out_text(c, "\r\nAuthorization: Bearer ");
    ws_out_text(c, c->opt.token);
  }
  ws_out_text(c, "\r\nX-Spot-Boot: ");
  ws_out_decimal(c, boot);
  ws_out_text(c, "\r\nX-Spot-Seq: ");
  ws_out_decimal(c, first_seq);
  ws_out_text(c, "\r\n\r\n");
  c->line_len = 0;
  c->status = 0;
  c->seen = 0;
  c->refused_body = false;
  c->body_len = 0;
  ws_client_set_state(c, WS_CLIENT_HANDSHAKE, now_ms);
}

static char lower(char ch)
{
  return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool same_text(const char *a, size_t a_len, const char *b)
{
  size_t b_len = strlen(b);
  if (a_len != b_len) {
    return false;
  }
  for (size_t i = 0; i < a_len; i++) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

/* Whether a comma-separated header value holds token (case-insensitive). */
static bool has_token(const char *value, const char *token)
{
  const char *p = value;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == ',') {
      p++;
    }
    const char *start = p;
    while (*p && *p != ',') {
      p++;
    }
    const char *end = p;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
      end--;
    }
    if (end > start && same_text(start, (size_t)(end - start), token)) {
      return true;
    }
  }
  return false;
}

static void status_line(ws_client_t *c, const char *line, uint64_t now_ms)
{
  const char *p = strchr(line, ' ');
  int status = 0;
  if (strncmp(line, "HTTP/1.", 7) == 0 && p) {
    for (p++; *p >= '0' && *p <= '9' && status < 1000; p++) {
      status = status * 10 + (*p - '0');
    }
  }
  if (status < 100 || status > 999) {
    ws_client_fail(c, now_ms, "upgrade failed: not an HTTP status line: ", line);
    return;
  }
  c->status = status;
}

static void header_line(ws_client_t *c, char *line, uint64_t now_ms)
{
  char *colon = strchr(line, ':');
  if (!colon) {
    return; /* not a header: ignored */
  }
  size_t name_len = (size_t)(colon - line);
  char *value = colon + 1;
  while (*value == ' ' || *value == '\t') {
    value++;
  }
  size_t value_len = strlen(value);
  while (value_len && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t')) {
    value[--value_len] = '\0';
  }
  if (c->status != 101) {
    if (same_text(line, name_len, "content-length")) {
      uint64_t n = 0;
      for (const char *p = value; *p >= '0' && *p <= '9' && n < 1000000u; p++) {
        n = n * 10u + (uint64_t)(*p - '0');
      }
      c->body_left = n;
    }
    return;
  }
  if (same_text(line, name_len, "upgrade")) {
    if (!same_text(value, value_len, "websocket")) {
      ws_client_fail(c, now_ms, "upgrade failed: Upgrade is not websocket: ", value);
      return;
    }
    c->seen |= SEEN_UPGRADE;
  } else if (same_text(line, name_len, "connection")) {
    if (has_token(value, "upgrade")) {
      c->seen |= SEEN_CONNECTION;
    }
  } else if (same_text(line, name_len, "sec-websocket-accept")) {
    if (strcmp(value, c->accept) != 0) {
      ws_client_fail(c, now_ms, "upgrade failed: Sec-WebSocket-Accept does not match the key: ", value);
      return;
    }
    c->seen |= SEEN_ACCEPT;
  } else if (same_text(line, name_len, "sec-websocket-protocol")) {
    if (strcmp(value, subprotocol(c)) != 0) {
      ws_client_fail(c, now_ms, "upgrade failed: the gateway chose a subprotocol not offered: ", value);
      return;
    }
    c->seen |= SEEN_PROTOCOL;
  } else if (same_text(line, name_len, "sec-websocket-extensions") && value_len > 0) {
    ws_client_fail(c, now_ms, "upgrade failed: the gateway chose an extension not offered: ", value);
  }
}

static void refused(ws_client_t *c, uint64_t now_ms)
{
  char what[48] = "upgrade refused: ";
  size_t n = strlen(what);
  int status = c->status;
  what[n++] = (char)('0' + status / 100 % 10);
  what[n++] = (char)('0' + status / 10 % 10);
  what[n++] = (char)('0' + status % 10);
  what[n++] = ' ';
  what[n] = '\0';
  c->body[c->body_len] = '\0';
  ws_client_fail(c, now_ms, what, c->body);
}

/* The blank line after the headers: the handshake succeeded, or the refusal's body follows. */
static void head_end(ws_client_t *c, uint64_t now_ms)
{
  if (c->status != 101) {
    c->refused_body = true;
    if (c->body_left == 0) {
      refused(c, now_ms);
    }
    return;
  }
  static const struct {
    uint8_t bit;
    const char *missing;
  } needed[] = {
      {SEEN_UPGRADE, "no Upgrade: websocket"},
      {SEEN_CONNECTION, "no Connection: Upgrade"},
      {SEEN_ACCEPT, "no Sec-WebSocket-Accept"},
      {SEEN_PROTOCOL, "no Sec-WebSocket-Protocol (the subprotocol offered)"},
  };
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
    if (!(c->seen & needed[i].bit)) {
      ws_client_fail(c, now_ms, "upgrade failed: ", needed[i].missing);
      return;
    }
  }
  c->intro_due = true; /* the next connection introduces the spot again */
  c->connects++;
  c->backoff_ms = c->opt.backoff_min_ms;
  c->close_code = 0;
  c->last_error[0] = '\0';
  ws_client_set_state(c, WS_CLIENT_OPEN, now_ms);
}

size_t ws_handshake_input(ws_client_t *c, const uint8_t *bytes, size_t len, uint64_t now_ms)
{
  size_t i = 0;
  while (i < len && c->state == WS_CLIENT_HANDSHAKE) {
    if (c->refused_body) {
      uint8_t b = bytes[i++];
      if (c->body_len + 1 < sizeof c->body && b >= ' ' && b <= '~') {
        c->body[c->body_len++] = (char)b;
      }
      if (--c->body_left == 0) {
        refused(c, now_ms);
      }
      continue;
    }
    char ch = (char)bytes[i++];
    if (ch != '\n') {
      if (ch != '\r' && c->line_len + 1 < sizeof c->line) {
        c->line[c->line_len++] = ch; /* a longer line keeps its start */
      }
      continue;
    }
    c->line[c->line_len] = '\0';
    size_t line_len = c->line_len;
    c->line_len = 0;
    if (c->status == 0) {
      status_line(c, c->line, now_ms);
    } else if (line_len == 0) {
      head_end(c, now_ms);
    } else {
      header_line(c, c->line, now_ms);
    }
  }
  return i;
}
