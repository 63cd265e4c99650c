#include "command_reader.h"

#include <stdio.h>
#include <string.h>

#include "frame_json.h"

void command_reader_init(command_reader_t *r, bool pb, spot_v1_Frame *scratch, command_frame_fn on_frame,
                         command_error_fn on_error, void *ctx) {
  memset(r, 0, sizeof *r);
  r->pb = pb;
  r->frame = scratch;
  r->on_frame = on_frame;
  r->on_error = on_error;
  r->ctx = ctx;
  frame_pb_stream_reset(&r->pb_stream);
}

static void reset_message(command_reader_t *r) {
  r->len = 0;
  r->in_message = false;
  r->oversize = false;
  r->depth = 0;
  r->in_string = false;
  r->escape = false;
  r->have_length = false;
  r->length = 0;
  r->length_shift = 0;
  r->received = 0;
}

static void error(command_reader_t *r, const char *why) {
  if (r->on_error) r->on_error(r->ctx, why);
}

static void finish(command_reader_t *r) {
  const char *why = NULL;
  if (r->oversize) {
    error(r, "command over " SPOT_STR(SPOT_COMMAND_BYTES) " bytes, skipped");
  } else if (r->pb ? frame_pb_decode(&r->pb_stream, r->buf, r->len, r->frame, &why)
                   : frame_json_decode((const char *)r->buf, r->len, r->frame, &why)) {
    r->on_frame(r->ctx, r->frame);
  } else {
    error(r, why);
  }
  reset_message(r);
}

static void keep(command_reader_t *r, uint8_t b) {
  if (r->len < sizeof r->buf) r->buf[r->len++] = b;
  else r->oversize = true;
}

static void json_byte(command_reader_t *r, uint8_t b) {
  if (!r->in_message) {
    if (b == ' ' || b == '\t' || b == '\r' || b == '\n') return;
    if (b != '[') {
      if (!r->in_stray) error(r, "stray bytes between commands, skipped"); /* once per run of them */
      r->in_stray = true;
      return;
    }
    r->in_stray = false;
    r->in_message = true;
  }
  keep(r, b);
  if (r->in_string) {
    if (r->escape) r->escape = false;
    else if (b == '\\') r->escape = true;
    else if (b == '"') r->in_string = false;
    return;
  }
  if (b == '"') r->in_string = true;
  else if (b == '[' || b == '{') r->depth++;
  else if ((b == ']' || b == '}') && --r->depth == 0) finish(r);
}

static void pb_byte(command_reader_t *r, uint8_t b) {
  if (!r->have_length) {
    r->length |= (uint32_t)(b & 0x7f) << r->length_shift;
    r->length_shift += 7;
    if (b & 0x80) {
      if (r->length_shift >= 35) {
        error(r, "bad frame length varint");
        reset_message(r);
      }
      return;
    }
    r->have_length = true;
    r->in_message = true;
    if (r->length > FRAME_PB_MAX_BYTES) {
      error(r, "frame over 65536 bytes, stream abandoned");
      reset_message(r);
      return;
    }
    if (r->length == 0) finish(r);
    return;
  }
  keep(r, b);
  if (++r->received == r->length) finish(r);
}

void command_reader_input(command_reader_t *r, const uint8_t *bytes, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (r->pb) pb_byte(r, bytes[i]);
    else json_byte(r, bytes[i]);
  }
}

void command_reader_end(command_reader_t *r) {
  if (r->in_message || r->len > 0) error(r, "command cut off at the end of the body");
  reset_message(r);
  frame_pb_stream_reset(&r->pb_stream);
}
