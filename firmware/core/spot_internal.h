/* The core's state and the helpers its two halves share (spot.c, spot_commands.c).
 * Not part of the public API. */
#ifndef SPOT_INTERNAL_H
#define SPOT_INTERNAL_H

#include "command_reader.h"
#include "event.h"
#include "frame_pb.h"
#include "presence.h"
#include "ring.h"
#include "sim_reader.h"
#include "spot.h"

/* An encoded event being handed out in pieces. */
typedef struct outbox {
  uint8_t buf[SPOT_EVENT_BYTES];
  size_t len;
  size_t pos;
  frame_pb_stream_t pb;
} outbox_t;

typedef enum stream_phase { STREAM_SPOT_CREATE, STREAM_CONFIG_CREATE, STREAM_LIVE } stream_phase_t;

struct spot {
  spot_platform_t platform;
  spot_persist_t state;
  uint32_t serial;
  char version[SPOT_VERSION_MAX];
  spot_encoding_t encoding;
  bool http;
  int64_t now;
  int64_t time_started;
  uint32_t boot; /* numbering boot: the boot count of this run */
  /* What the boot found wrong in the stored state, said after the first spot create. */
  bool boot_logs_pending;
  bool boot_other_schema;
  uint64_t boot_fixed_keys;
  uint64_t next_seq;
  uint64_t sent_end; /* seq one past the newest event a post ever carried (even in part) */
  uint64_t intro_at; /* nonzero while spot_connected() puts events in front of the unsent ones */
  presence_engine_t presence;
  sim_reader_t sim;
  ring_t ring;
  bool post_open;
  uint64_t post_next; /* seq of the next event to encode into the post */
  outbox_t post;
  bool stream_open;
  uint8_t stream_phase;
  uint64_t stream_next;
  int64_t stream_last_alive;
  outbox_t stream;
  command_reader_t commands;
#if SPOT_STREAM_COMMAND_READER
  command_reader_t stream_commands;
#endif
  union {
    spot_v1_Frame frame;   /* for encoding and decoding, never both at once */
    spot_config_t config;  /* factory defaults while the stored config is checked at init */
  } scratch;
  char error[128];
};

void spot_copy_text(char *dst, size_t size, const char *src);
/* Persists the state through the platform (a failure is kept as the last error). */
void spot_save(spot_t *s);
void spot_console(spot_t *s, spot_log_level_t level, const char *text);
/* Numbers ev and keeps it until acknowledged (HTTP) or streamed; during
 * spot_connected() it goes in front of the events never sent, else last. */
void spot_queue_event(spot_t *s, spot_event_t *ev);
void spot_queue_log(spot_t *s, spot_log_level_t level, uint16_t code, const char *text);
/* Command reader callbacks (spot_commands.c). */
void spot_apply_command(void *ctx, spot_v1_Frame *f);
void spot_command_error(void *ctx, const char *why);

#endif
