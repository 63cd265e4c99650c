/* The gateway's frames (RFC 6455 section 5): headers checked, control frames
 * answered, text messages (acknowledgements) collected, binary messages
 * (commands) streamed to the spot's command reader. */
#include <string.h>

#include "ws_client_internal.h"
#include "ws_frame.h"

void ws_reader_reset(ws_client_t *c)
{
  c->head_len = 0;
  c->head_need = 2;
  c->frame_left = 0;
  c->message_opcode = 0;
  c->text_len = 0;
  c->text_overflow = false;
  c->utf8_need = 0;
  c->control_len = 0;
}

/* One byte of a text message through the UTF-8 check (RFC 3629 section 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF). False = not UTF-8. */
static bool utf8_byte(ws_client_t *c, uint8_t b)
{
  if (c->utf8_need > 0) {
    if (b < c->utf8_lo || b > c->utf8_hi) {
      return false;
    }
    c->utf8_need--;
    c->utf8_lo = 0x80;
    c->utf8_hi = 0xbf;
    return true;
  }
  c->utf8_lo = 0x80;
  c->utf8_hi = 0xbf;
  if (b < 0x80) {
    return true;
  } else if (b >= 0xc2 && b <= 0xdf) {
    c->utf8_need = 1;
  } else if (b >= 0xe0 && b <= 0xef) {
    c->utf8_need = 2;
    if (b == 0xe0) {
      c->utf8_lo = 0xa0; /* no overlong 3-byte form */
    } else if (b == 0xed) {
      c->utf8_hi = 0x9f; /* no surrogates */
    }
  } else if (b >= 0xf0 && b <= 0xf4) {
    c->utf8_need = 3;
    if (b == 0xf0) {
      c->utf8_lo = 0x90; /* no overlong 4-byte form */
    } else if (b == 0xf4) {
      c->utf8_hi = 0x8f; /* nothing above U+10FFFF */
    }
  } else {
    return false;
  }
  return true;
}

static bool is_control(uint8_t opcode)
{
  return opcode >= 0x8u;
}

static void close_received(ws_client_t *c, uint64_t now_ms)
{
  if (c->control_len == 1) {
    ws_client_protocol_error(c, now_ms, WS_CLOSE_PROTOCOL_ERROR, "close frame with a 1-byte payload");
    return;
  }
  uint16_t code = c->control_len >= 2 ? (uint16_t)(c->control[0] << 8 | c->control[1]) : 0;
  /* RFC 6455 7.4: the defined codes (and 1012..1014 registered since), and 3000..4999;
   * 1005, 1006 and 1015 are never sent. */
  bool defined = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  if (c->control_len >= 2 && !defined) {
    ws_client_protocol_error(c, now_ms, WS_CLOSE_PROTOCOL_ERROR, "close frame with an undefined code");
    return;
  }
  c->close_code = code;
  if (c->state == WS_CLIENT_OPEN) {
    /* Answered with the same code (none if it sent none), then the socket closes. */
    char detail[WS_CLIENT_CONTROL_BYTES + 8];
    size_t n = 0;
    if (code) {
      for (uint32_t div = 10000; div; div /= 10) {
        if (code >= div || n > 0 || div == 1) {
          detail[n++] = (char)('0' + code / div % 10);
        }
      }
    } else {
      memcpy(detail, "no code", 7);
      n = 7;
    }
    for (size_t i = 2; i < c->control_len; i++) {
      if (i == 2) {
        detail[n++] = ' ';
      }
      uint8_t b = c->control[i];
      detail[n++] = b >= ' ' && b <= '~' ? (char)b : '?';
    }
    detail[n] = '\0';
    ws_client_set_error(c, "closed by the gateway: ", detail);
    ws_client_end_connection(c, now_ms, true);
    ws_client_control(c, WS_OP_CLOSE, c->control, c->control_len >= 2 ? 2u : 0u);
  }
  ws_client_set_state(c, WS_CLIENT_CLOSING, now_ms);
}

static void frame_end(ws_client_t *c, uint64_t now_ms)
{
  uint8_t opcode = c->frame_opcode;
  if (opcode == WS_OP_PING) {
    c->pings++;
    ws_client_control(c, WS_OP_PONG, c->control, c->control_len); /* no room: a later ping is answered */
  } else if (opcode == WS_OP_CLOSE) {
    close_received(c, now_ms);
  } else if (!is_control(opcode) && c->frame_fin) {
    uint8_t message = c->message_opcode;
    c->message_opcode = 0;
    if (message == WS_OP_TEXT) {
      if (c->utf8_need > 0) {
        ws_client_protocol_error(c, now_ms, WS_CLOSE_INVALID_DATA, "text message ends inside a UTF-8 sequence");
      } else if (c->text_overflow) {
        c->acks_ignored++;
      } else {
        ws_client_text(c, c->text, c->text_len, now_ms);
      }
    } else {
      c->command_messages++;
      if (c->spot.commands_end) {
        c->spot.commands_end(c->spot.ctx);
      }
    }
  }
}

/* A complete header: checked, then the frame's payload is expected. */
static bool frame_begin(ws_client_t *c, uint64_t now_ms)
{
  ws_frame_head_t h;
  if (!ws_frame_head_read(c->head, &h)) {
    ws_client_protocol_error(c, now_ms, WS_CLOSE_PROTOCOL_ERROR, "frame length not in its shortest form");
    return false;
  }
  const char *wrong = NULL;
  if (h.rsv) {
    wrong = "reserved bits set without an extension";
  } else if (h.masked) {
    wrong = "masked frame from the gateway";
  } else if (is_control(h.opcode)) {
    if (h.opcode != WS_OP_CLOSE && h.opcode != WS_OP_PING && h.opcode != WS_OP_PONG) {
      wrong = "unknown control opcode";
    } else if (!h.fin || h.len > WS_CLIENT_CONTROL_BYTES) {
      wrong = "fragmented or oversized control frame";
    }
  } else if (h.opcode == WS_OP_CONTINUATION) {
    if (c->message_opcode == 0) {
      wrong = "continuation frame without a message";
    }
  } else if (h.opcode != WS_OP_TEXT && h.opcode != WS_OP_BINARY) {
    wrong = "unknown data opcode";
  } else if (c->message_opcode != 0) {
    wrong = "new message inside a fragmented one";
  }
  if (wrong) {
    ws_client_protocol_error(c, now_ms, WS_CLOSE_PROTOCOL_ERROR, wrong);
    return false;
  }
  c->frame_fin = h.fin;
  c->frame_opcode = h.opcode;
  c->frame_left = h.len;
  if (is_control(h.opcode)) {
    c->control_len = 0;
  } else if (h.opcode != WS_OP_CONTINUATION) {
    c->message_opcode = h.opcode;
    c->text_len = 0;
    c->text_overflow = false;
    c->utf8_need = 0;
  }
  return true;
}

/* False when the bytes broke the connection (a text message that is not UTF-8). */
static bool payload(ws_client_t *c, const uint8_t *bytes, size_t n, uint64_t now_ms)
{
  if (is_control(c->frame_opcode)) {
    memcpy(c->control + c->control_len, bytes, n); /* at most 125 in all: checked in frame_begin */
    c->control_len += n;
  } else if (c->message_opcode == WS_OP_TEXT) {
    for (size_t i = 0; i < n; i++) {
      if (!utf8_byte(c, bytes[i])) {
        ws_client_protocol_error(c, now_ms, WS_CLOSE_INVALID_DATA, "text message that is not UTF-8");
        return false;
      }
    }
    if (c->text_len + n >= sizeof c->text) {
      c->text_overflow = true;
    } else {
      memcpy(c->text + c->text_len, bytes, n);
      c->text_len += n;
    }
  } else if (c->spot.commands) {
    c->spot.commands(c->spot.ctx, bytes, n);
  }
  return true;
}

void ws_reader_input(ws_client_t *c, const uint8_t *bytes, size_t len, uint64_t now_ms)
{
  size_t i = 0;
  while (c->state == WS_CLIENT_OPEN || c->state == WS_CLIENT_CLOSE_SENT) {
    if (c->head_len < c->head_need) {
      if (i == len) {
        return;
      }
      c->head[c->head_len++] = bytes[i++];
      if (c->head_len == 2) {
        c->head_need = ws_frame_head_size(c->head);
      }
      if (c->head_len < c->head_need) {
        continue;
      }
      if (!frame_begin(c, now_ms)) {
        return;
      }
    }
    size_t n = len - i;
    if (n > c->frame_left) {
      n = (size_t)c->frame_left;
    }
    if (!payload(c, bytes + i, n, now_ms)) {
      return;
    }
    i += n;
    c->frame_left -= n;
    if (c->frame_left > 0) {
      return;
    }
    c->head_len = 0;
    c->head_need = 2;
    frame_end(c, now_ms);
  }
}
