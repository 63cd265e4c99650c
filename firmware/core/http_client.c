/* HTTP client state machine of the spot protocol (see http_client.h). */
#include "http_client.h"

#include <string.h>

enum parse_step {
  PARSE_STATUS_LINE,
  PARSE_HEADERS,
  PARSE_BODY_LENGTH,
  PARSE_CHUNK_SIZE,
  PARSE_CHUNK_DATA,
  PARSE_CHUNK_DATA_END,
  PARSE_TRAILERS,
  PARSE_BODY_UNTIL_CLOSE,
  PARSE_DONE
};

/* Room kept free in the output buffer for the chunk that ends a post. */
#define LAST_CHUNK "0\r\n\r\n"
#define LAST_CHUNK_LEN 5u
/* Chunk header "<hex>\r\n" for any size the buffer can hold, and the CRLF after. */
#define CHUNK_HEAD_MAX 10u
#define CHUNK_OVERHEAD (CHUNK_HEAD_MAX + 2u)

static void copy_text(char *dst, size_t cap, const char *src)
{
  size_t n = 0;
  while (src && src[n] && n + 1 < cap) {
    dst[n] = src[n];
    n++;
  }
  dst[n] = '\0';
}

static void set_error(http_client_t *c, const char *what, const char *detail)
{
  copy_text(c->last_error, sizeof c->last_error, what);
  if (detail && detail[0]) {
    size_t n = strlen(c->last_error);
    copy_text(c->last_error + n, sizeof c->last_error - n, detail);
  }
}

static void out_bytes(http_client_t *c, const void *bytes, size_t len)
{
  if (len > sizeof c->out - c->out_len) {
    len = sizeof c->out - c->out_len; /* callers check room first; never overrun */
  }
  memcpy(c->out + c->out_len, bytes, len);
  c->out_len += len;
}

static void out_text(http_client_t *c, const char *text)
{
  out_bytes(c, text, strlen(text));
}

static void out_decimal(http_client_t *c, uint64_t value)
{
  char digits[21];
  size_t n = 0;
  do {
    digits[n++] = (char)('0' + value % 10u);
    value /= 10u;
  } while (value);
  while (n) {
    out_bytes(c, &digits[--n], 1);
  }
}

static size_t format_hex(char *buf, size_t value)
{
  static const char hex[] = "0123456789abcdef";
  char tmp[sizeof(size_t) * 2];
  size_t n = 0;
  do {
    tmp[n++] = hex[value & 0xfu];
    value >>= 4;
  } while (value);
  for (size_t i = 0; i < n; i++) {
    buf[i] = tmp[n - 1 - i];
  }
  return n;
}

static void set_state(http_client_t *c, http_client_state_t state, uint64_t now_ms)
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

static void finish_post(http_client_t *c, bool acknowledged)
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

static uint32_t next_backoff(http_client_t *c)
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

/* Something went wrong on an open socket: fail the post, have it closed, and
 * connect again after the backoff. */
static void abort_connection(http_client_t *c, uint64_t now_ms, const char *what, const char *detail)
{
  set_error(c, what, detail);
  finish_post(c, false);
  c->out_len = 0;
  c->reconnect_at_ms = now_ms + next_backoff(c);
  set_state(c, HTTP_CLIENT_CLOSING, now_ms);
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
  copy_text(c->host, sizeof c->host, opt->host);
  c->opt.host = c->host;
  c->backoff_ms = c->opt.backoff_min_ms;
  c->jitter_state = c->opt.jitter_seed;
  c->reconnect_at_ms = now_ms;
  set_state(c, HTTP_CLIENT_DISCONNECTED, now_ms);
}

void http_client_reconfigure(http_client_t *c, const char *host, uint32_t post_window_ms)
{
  copy_text(c->host, sizeof c->host, host);
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
  set_state(c, HTTP_CLIENT_CONNECTING, now_ms);
}

void http_client_connected(http_client_t *c, uint64_t now_ms)
{
  c->out_len = 0;
  c->connects++;
  c->next_post_at_ms = now_ms;
  set_state(c, HTTP_CLIENT_IDLE, now_ms);
  if (c->spot.connected) {
    c->spot.connected(c->spot.ctx);
  }
}

void http_client_connect_failed(http_client_t *c, uint64_t now_ms, const char *reason)
{
  set_error(c, "connect failed: ", reason);
  c->reconnect_at_ms = now_ms + next_backoff(c);
  set_state(c, HTTP_CLIENT_DISCONNECTED, now_ms);
}

static void response_complete(http_client_t *c, uint64_t now_ms);

void http_client_disconnected(http_client_t *c, uint64_t now_ms, const char *reason)
{
  if (c->state == HTTP_CLIENT_AWAITING && c->parse_step == PARSE_BODY_UNTIL_CLOSE) {
    response_complete(c, now_ms); /* a body without length ends with the connection */
  }
  if (c->state == HTTP_CLIENT_CLOSING) {
    set_state(c, HTTP_CLIENT_DISCONNECTED, now_ms); /* reconnect_at set when closing began */
    return;
  }
  set_error(c, "connection lost: ", reason);
  finish_post(c, false);
  c->out_len = 0;
  c->reconnect_at_ms = now_ms + next_backoff(c);
  set_state(c, HTTP_CLIENT_DISCONNECTED, now_ms);
}

bool http_client_wants_close(const http_client_t *c)
{
  return c->state == HTTP_CLIENT_CLOSING;
}

static void begin_post(http_client_t *c, uint64_t now_ms)
{
  uint32_t boot = 0;
  uint64_t first_seq = 0;
  if (c->spot.post_begin) {
    c->spot.post_begin(c->spot.ctx, &boot, &first_seq);
  }
  const char *type = c->opt.pb ? "application/x-intellifi-events-pb" : "text/x-intellifi-events";
  out_text(c, "POST /api/spots/");
  out_decimal(c, c->opt.serial);
  out_text(c, "/events/ HTTP/1.1\r\nHost: ");
  out_text(c, c->host);
  out_text(c, "\r\nUser-Agent: spot/");
  out_text(c, c->opt.version);
  out_text(c, "\r\nAccept: ");
  out_text(c, type);
  out_text(c, "\r\nContent-Type: ");
  out_text(c, type);
  out_text(c, "\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nX-Spot-Boot: ");
  out_decimal(c, boot);
  out_text(c, "\r\nX-Spot-Seq: ");
  out_decimal(c, first_seq);
  out_text(c, "\r\n\r\n");
  c->post_done_pending = true;
  c->end_post_early = false;
  c->parse_step = PARSE_STATUS_LINE;
  c->line_len = 0;
  c->status = 0;
  c->body_mode = HTTP_BODY_NONE;
  c->server_closes = false;
  set_state(c, HTTP_CLIENT_POSTING, now_ms);
}

/* Moves the spot's next bytes into the output buffer, one chunk per read. */
static void fill_chunks(http_client_t *c)
{
  while (c->spot.post_read) {
    size_t room = sizeof c->out - c->out_len;
    if (room <= CHUNK_OVERHEAD + LAST_CHUNK_LEN) {
      return;
    }
    uint8_t *data = c->out + c->out_len + CHUNK_HEAD_MAX;
    size_t n = c->spot.post_read(c->spot.ctx, data, room - CHUNK_OVERHEAD - LAST_CHUNK_LEN);
    if (n == 0) {
      return;
    }
    char head[CHUNK_HEAD_MAX];
    size_t head_len = format_hex(head, n);
    head[head_len++] = '\r';
    head[head_len++] = '\n';
    memmove(c->out + c->out_len + head_len, data, n);
    memcpy(c->out + c->out_len, head, head_len);
    c->out_len += head_len + n;
    out_text(c, "\r\n");
  }
}

void http_client_tick(http_client_t *c, uint64_t now_ms)
{
  switch (c->state) {
  case HTTP_CLIENT_CONNECTING:
    if (now_ms - c->state_since_ms >= c->opt.connect_timeout_ms) {
      abort_connection(c, now_ms, "connect timed out", "");
    }
    break;
  case HTTP_CLIENT_IDLE:
    if (c->out_len == 0 && now_ms >= c->next_post_at_ms) {
      begin_post(c, now_ms);
      fill_chunks(c);
    }
    break;
  case HTTP_CLIENT_POSTING:
    fill_chunks(c);
    if ((c->end_post_early || now_ms - c->state_since_ms >= c->opt.post_window_ms) &&
        (!c->spot.post_at_event_boundary || c->spot.post_at_event_boundary(c->spot.ctx))) {
      out_text(c, LAST_CHUNK);
      c->end_post_early = false;
      set_state(c, HTTP_CLIENT_AWAITING, now_ms);
    }
    break;
  case HTTP_CLIENT_AWAITING:
    if (now_ms - c->state_since_ms >= c->opt.response_timeout_ms) {
      abort_connection(c, now_ms, "no response to the post in time", "");
    }
    break;
  case HTTP_CLIENT_DISCONNECTED:
  case HTTP_CLIENT_CLOSING:
    break;
  }
}

static void response_complete(http_client_t *c, uint64_t now_ms)
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
    set_error(c, status, c->state == HTTP_CLIENT_AWAITING ? "" : " before the post ended");
  }
  finish_post(c, ok);
  if (ok) {
    c->backoff_ms = c->opt.backoff_min_ms;
    c->next_post_at_ms = now_ms;
  } else {
    c->next_post_at_ms = now_ms + next_backoff(c); /* a refusing server (503) is not hammered */
  }
  if (c->server_closes || c->state != HTTP_CLIENT_AWAITING) {
    c->out_len = 0;
    c->reconnect_at_ms = c->next_post_at_ms;
    set_state(c, HTTP_CLIENT_CLOSING, now_ms);
  } else {
    set_state(c, HTTP_CLIENT_IDLE, now_ms);
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
      response_complete(c, now_ms);
    }
    break;
  case HTTP_BODY_NONE:
  case HTTP_BODY_UNTIL_CLOSE:
    if (c->status == 204 || c->status == 304) {
      response_complete(c, now_ms);
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
      abort_connection(c, now_ms, "bad HTTP status line from the brain: ", line);
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
        abort_connection(c, now_ms, "bad Content-Length from the brain: ", value);
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
      abort_connection(c, now_ms, "bad chunk size in the brain's response: ", line);
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
      response_complete(c, now_ms);
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
        abort_connection(c, now_ms, "unexpected bytes from the brain between posts", "");
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
          response_complete(c, now_ms);
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
