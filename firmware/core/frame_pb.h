/* Spot-protocol PB stream: varint length + Frame, with both send-layer tricks
 * (timestamp offsets, item references) applied on encode and undone on decode. */
#ifndef FRAME_PB_H
#define FRAME_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spot.pb.h"
#include "spot_limits.h"

#define FRAME_PB_MAX_BYTES 65536u

/* Per-stream send-layer state; starts empty at the start of each stream. */
typedef struct frame_pb_stream {
  int64_t previous_time;
  uint8_t item_count;
  char items[SPOT_ITEM_TABLE][SPOT_ITEM_CODE_MAX];
  char error[40]; /* reason of the last decode failure that needed words of its own */
} frame_pb_stream_t;

void frame_pb_stream_reset(frame_pb_stream_t *st);

/* Applies the tricks to f (f is changed) and writes the length-prefixed frame.
 * Returns the byte count, 0 if it does not fit in cap. */
size_t frame_pb_encode(frame_pb_stream_t *st, spot_v1_Frame *f, uint8_t *buf, size_t cap);

/* Decodes one Frame (no length prefix) and undoes the tricks. False with a reason
 * (valid until the next decode on st). */
bool frame_pb_decode(frame_pb_stream_t *st, const uint8_t *bytes, size_t len, spot_v1_Frame *f, const char **why);

#endif
