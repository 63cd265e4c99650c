/* Splits a command byte stream (HTTP response body, UART, telnet) into
 * messages and decodes each into a Frame: JSON by bracket depth, PB by its
 * varint length prefix. Fixed buffer; an oversized message is skipped whole. */
#ifndef COMMAND_READER_H
#define COMMAND_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_pb.h"
#include "spot.pb.h"
#include "spot_limits.h"

typedef void (*command_frame_fn)(void *ctx, spot_v1_Frame *f);
typedef void (*command_error_fn)(void *ctx, const char *why);

typedef struct command_reader {
  bool pb;
  spot_v1_Frame *frame; /* decode target, shared with the encoder */
  command_frame_fn on_frame;
  command_error_fn on_error;
  void *ctx;
  uint8_t buf[SPOT_COMMAND_BYTES];
  size_t len;
  bool in_message;
  bool oversize;
  bool in_stray; /* inside bytes that start no message */
  /* JSON scanning state */
  uint16_t depth;
  bool in_string;
  bool escape;
  /* PB framing state */
  bool have_length;
  uint32_t length;
  uint32_t received;
  uint8_t length_shift;
  frame_pb_stream_t pb_stream;
} command_reader_t;

void command_reader_init(command_reader_t *r, bool pb, spot_v1_Frame *scratch, command_frame_fn on_frame,
                         command_error_fn on_error, void *ctx);
void command_reader_input(command_reader_t *r, const uint8_t *bytes, size_t len);
/* End of one body: a partial message is reported and PB stream state resets. */
void command_reader_end(command_reader_t *r);

#endif
