/* The request side of the HTTP client: the post's head with the vendor's
 * headers and numbering, and each piece the spot hands over as one chunk. */
#include <string.h>

#include "http_client_internal.h"

/* Room kept free in the output buffer for the chunk that ends a post. */
#define LAST_CHUNK "0\r\n\r\n"
#define LAST_CHUNK_LEN 5u
/* Chunk header "<hex>\r\n" for any size the buffer can hold, and the CRLF after. */
#define CHUNK_HEAD_MAX 10u
#define CHUNK_OVERHEAD (CHUNK_HEAD_MAX + 2u)

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

void http_request_begin(http_client_t *c, uint64_t now_ms)
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
  if (c->opt.token && c->opt.token[0]) {
    out_text(c, "\r\nAuthorization: Bearer ");
    out_text(c, c->opt.token);
  }
  out_text(c, "\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nX-Spot-Boot: ");
  out_decimal(c, boot);
  out_text(c, "\r\nX-Spot-Seq: ");
  out_decimal(c, first_seq);
  out_text(c, "\r\n\r\n");
  c->post_done_pending = true;
  c->end_post_early = false;
  http_response_expect(c);
  http_client_set_state(c, HTTP_CLIENT_POSTING, now_ms);
}

void http_request_fill_chunks(http_client_t *c)
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

void http_request_end_body(http_client_t *c)
{
  out_text(c, LAST_CHUNK);
}
