/* The response side of the HTTP client: reads the brain's answer to a post
 * (Content-Length, chunked, or until close), decides the post's outcome, and
 * hands the body of a 200 to the spot as commands. */
#include <string.h>

#include "http_client_internal.h"

void http_response_expect(http_client_t *c)
{
  c->parse_step = PARSE_STATUS_LINE;
  c->line_len = 0;
  c->status = 0;
  c->body_mode = HTTP_BODY_NONE;
  c->server_closes = false;
}

bool http_response_ends_with_close(const http_client_t *c)
{
  return c->state == HTTP_CLIENT_AWAITING && c->parse_step == PARSE_BODY_UNTIL_CLOSE;
}

void http_response_complete(http_client_t *c, uint64_t now_ms)
{
  c->parse_step = PARSE_DONE;
  bool ok = c->status == 200 && c->state == HTTP_CLIENT_AWAITING;
  if (!ok) {
    char status[24] = "server answered ";
    size_t n = strlen(status);
    status[n++] = (char)('0' + (c->status / 100) % 10);
    status[n++] = (char)('0' + (c->status / 10) % 10);
    status[n++] = (char)('0' + c->status % 10);
    status[n] = '\0';
    http_client_set_error(c, status, c->state == HTTP_CLIENT_AWAITING ? "" : " before the post ended");
  }
  http_client_finish_post(c, ok);
  if (ok) {
    c->backoff_ms = c->opt.backoff_min_ms;
    c->next_post_at_ms = now_ms;
  } else {
    c->next_post_at_ms = now_ms + http_client_next_backoff(c); /* a refusing server (503) is not hammered */
  }
  if (c->server_closes || c->state != HTTP_CLIENT_AWAITING) {
    c->out_len = 0;
    c->reconnect_at_ms = c->next_post_at_ms;
    http_client_set_state(c, HTTP_CLIENT_CLOSING, now_ms);
  } else {
    http_client_set_state(c, HTTP_CLIENT_IDLE, now_ms);
  }
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
  size_t n = strlen(name);
  if (len <= n || line[n] != ':') {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    char a = line[i];
    if (a >= 'A' && a <= 'Z') {
      a = (char)(a - 'A' + 'a');
    }
    if (a != name[i]) {
      return false;
    }
  }
  const char *v = line + n + 1;
  while (*v == ' ' || *v == '\t') {
    v++;
  }
  *value = v;
  return true;
}

static bool contains_word(const char *text, const char *word)
{
  size_t n = strlen(word);
  for (const char *p = text; *p; p++) {
    size_t i = 0;
    while (i < n && p[i]) {
      char a = p[i];
      if (a >= 'A' && a <= 'Z') {
        a = (char)(a - 'A' + 'a');
      }
      if (a != word[i]) {
        break;
      }
      i++;
    }
    if (i == n) {
      return true;
    }
  }
  return false;
}

/* Parses a decimal or hex number at the start of text; false if none. */
static bool parse_number(const char *text, unsigned base, uint64_t *value)
{
  uint64_t v = 0;
  size_t digits = 0;
  for (const char *p = text;; p++) {
    unsigned d;
    if (*p >= '0' && *p <= '9') {
      d = (unsigned)(*p - '0');
    } else if (base == 16 && *p >= 'a' && *p <= 'f') {
      d = (unsigned)(*p - 'a' + 10);
    } else if (base == 16 && *p >= 'A' && *p <= 'F') {
      d = (unsigned)(*p - 'A' + 10);
    } else {
      break;
    }
    if (v > (UINT64_MAX - d) / base) {
      return false;
    }
    v = v * base + d;
    digits++;
  }
  *value = v;
  return digits > 0;
}

static void headers_done(http_client_t *c, uint64_t now_ms)
{
  if (c->status >= 100 && c->status < 200) {
    c->parse_step = PARSE_STATUS_LINE; /* interim response: the real one follows */
    return;
  }
  switch (c->body_mode) {
  case HTTP_BODY_CHUNKED:
    c->parse_step = PARSE_CHUNK_SIZE;
    break;
  case HTTP_BODY_LENGTH:
    c->parse_step = PARSE_BODY_LENGTH;
    if (c->body_left == 0) {
      http_response_complete(c, now_ms);
    }
    break;
  case HTTP_BODY_NONE:
  case HTTP_BODY_UNTIL_CLOSE:
    if (c->status == 204 || c->status == 304) {
      http_response_complete(c, now_ms);
    } else {
      c->body_mode = HTTP_BODY_UNTIL_CLOSE;
      c->server_closes = true;
      c->parse_step = PARSE_BODY_UNTIL_CLOSE;
    }
    break;
  }
}

/* One complete line (CR LF stripped) of the status, headers, chunk sizes or trailers. */
static void parse_line(http_client_t *c, uint64_t now_ms)
{
  const char *line = c->line;
  size_t len = c->line_len;
  const char *value;
  uint64_t number;
  switch (c->parse_step) {
  case PARSE_STATUS_LINE:
    if (len == 0) {
      return; /* tolerate a blank line before the status */
    }
    if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || !parse_number(line + 9, 10, &number) || number > 999) {
      http_client_abort(c, now_ms, "bad HTTP status line from the brain: ", line);
      return;
    }
    c->status = (int)number;
    c->body_mode = HTTP_BODY_NONE;
    c->body_left = 0;
    c->parse_step = PARSE_HEADERS;
    return;
  case PARSE_HEADERS:
    if (len == 0) {
      headers_done(c, now_ms);
    } else if (header_is(line, len, "content-length", &value)) {
      if (!parse_number(value, 10, &number)) {
        http_client_abort(c, now_ms, "bad Content-Length from the brain: ", value);
        return;
      }
      if (c->body_mode != HTTP_BODY_CHUNKED) {
        c->body_mode = HTTP_BODY_LENGTH;
        c->body_left = number;
      }
    } else if (header_is(line, len, "transfer-encoding", &value) && contains_word(value, "chunked")) {
      c->body_mode = HTTP_BODY_CHUNKED;
    } else if (header_is(line, len, "connection", &value) && contains_word(value, "close")) {
      c->server_closes = true;
    }
    return;
  case PARSE_CHUNK_SIZE:
    if (!parse_number(line, 16, &number)) {
      http_client_abort(c, now_ms, "bad chunk size in the brain's response: ", line);
      return;
    }
    c->body_left = number;
    c->parse_step = number ? PARSE_CHUNK_DATA : PARSE_TRAILERS;
    return;
  case PARSE_CHUNK_DATA_END:
    c->parse_step = PARSE_CHUNK_SIZE;
    return;
  case PARSE_TRAILERS:
    if (len == 0) {
      http_response_complete(c, now_ms);
    }
    return;
  default:
    return;
  }
}

static void body_bytes(http_client_t *c, const uint8_t *bytes, size_t len)
{
  if (c->status == 200 && len && c->spot.commands) {
    c->commands_open = true;
    c->spot.commands(c->spot.ctx, bytes, len);
  }
}

void http_client_input(http_client_t *c, const uint8_t *bytes, size_t len, uint64_t now_ms)
{
  size_t i = 0;
  while (i < len) {
    if (c->state != HTTP_CLIENT_POSTING && c->state != HTTP_CLIENT_AWAITING) {
      if (c->state == HTTP_CLIENT_IDLE) {
        http_client_abort(c, now_ms, "unexpected bytes from the brain between posts", "");
      }
      return;
    }
    switch (c->parse_step) {
    case PARSE_BODY_LENGTH:
    case PARSE_CHUNK_DATA: {
      size_t n = len - i;
      if (n > c->body_left) {
        n = (size_t)c->body_left;
      }
      body_bytes(c, bytes + i, n);
      i += n;
      c->body_left -= n;
      if (c->body_left == 0) {
        if (c->parse_step == PARSE_BODY_LENGTH) {
          http_response_complete(c, now_ms);
        } else {
          c->parse_step = PARSE_CHUNK_DATA_END;
          c->line_len = 0;
        }
      }
      continue;
    }
    case PARSE_BODY_UNTIL_CLOSE:
      body_bytes(c, bytes + i, len - i);
      return;
    case PARSE_DONE:
      return;
    default:
      break;
    }
    uint8_t b = bytes[i++];
    if (b == '\n') {
      if (c->line_len && c->line[c->line_len - 1] == '\r') {
        c->line_len--;
      }
      c->line[c->line_len] = '\0';
      parse_line(c, now_ms);
      c->line_len = 0;
    } else if (c->line_len + 1 < sizeof c->line) {
      c->line[c->line_len++] = (char)b; /* longer lines are cut: only short headers matter */
    }
  }
}
