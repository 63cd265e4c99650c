/* The spot core: what a platform main calls. No OS calls, no heap.
 *
 * A platform main:
 *   0. owns the spot_t (a static: no heap), and hands it to every call;
 *   1. loads the state record the core last saved from its flash, or passes
 *      NULL when there is none (the core checks it: docs/firmware.md);
 *   2. calls spot_init() once (the core counts the boot, at least up to
 *      init->boot_count_floor, and asks to save);
 *   3. calls spot_tick(now) often (every few ms; now = unix time in ms);
 *   4. HTTP: when spot_post_pending(), starts a post with spot_post_begin()
 *      (its X-Spot-Boot / X-Spot-Seq headers), writes what spot_post_read()
 *      returns as chunks during the post window, then reports the outcome with
 *      spot_post_ack() (200) or spot_post_fail() (anything else), and feeds the
 *      response body to spot_command_input() followed by spot_command_end();
 *      calls spot_connected() after each new TCP connection to the brain;
 *   5. stream (telnet, UART): spot_stream_open() when a client connects, then
 *      spot_stream_read() for bytes to write; command bytes read from the stream
 *      go to spot_stream_command_input().
 * All sizes are compile-time constants, overridable with -D (see spot_limits.h).
 */
#ifndef SPOT_H
#define SPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The core's own modules, for the complete struct spot at the end (not for callers). */
#include "command_reader.h"
#include "event.h"
#include "frame_pb.h"
#include "presence.h"
#include "ring.h"
#include "sim_reader.h"
#include "spot_config_gen.h"
#include "spot_limits.h"

typedef enum spot_encoding { SPOT_ENCODING_JSON = 0, SPOT_ENCODING_PB = 1 } spot_encoding_t;

typedef enum spot_log_level {
  SPOT_LOG_DEBUG = 1,
  SPOT_LOG_INFO = 2,
  SPOT_LOG_WARN = 3,
  SPOT_LOG_ERROR = 4
} spot_log_level_t;

/* What survives a reboot, the payload of the state record. */
typedef struct spot_persist {
  uint32_t config_schema; /* SPOT_CONFIG_SCHEMA_ID; another value = config back to defaults */
  uint32_t boot_count;
  uint32_t watchdog_count;
  uint32_t presence_create_count;
  int32_t brain_sense[5]; /* bs1..bs5 */
  spot_config_t config;
  char firmware_url[SPOT_URL_MAX];         /* pending `firmware update`, "" = none */
  char firmware_version[SPOT_VERSION_MAX];
} spot_persist_t;

/* The state record a platform stores, byte for byte: a 16-byte header (magic,
 * format version, payload length, CRC-32; all little-endian), then spot_persist_t
 * (docs/firmware.md, "Persisted state"). Any damage means factory defaults. */
#define SPOT_STATE_MAGIC 0x53504f54u /* the bytes 54 4f 50 53 */
#define SPOT_STATE_FORMAT_VERSION 3u /* 2 = raw spot_persist_t without header or CRC */
#define SPOT_STATE_HEADER_BYTES 16u
typedef struct spot_state_record {
  uint8_t header[SPOT_STATE_HEADER_BYTES];
  spot_persist_t state;
} spot_state_record_t;
#define SPOT_STATE_RECORD_BYTES sizeof(spot_state_record_t)

/* The platform, behind function pointers. Any pointer may be NULL. */
typedef struct spot_platform {
  void *ctx; /* handed back to every call */
  /* Persist the state record (len bytes, SPOT_STATE_RECORD_BYTES) as it is, to be
   * handed back to spot_init() at the next boot. False if the flash write failed. */
  bool (*save_state)(void *ctx, const uint8_t *record, size_t len);
  /* Reboot the spot (after a factory reset, for example). May return. */
  void (*reset)(void *ctx);
  /* Debug text for the console, one line without newline. */
  void (*log)(void *ctx, spot_log_level_t level, const char *text);
  /* A `firmware update` command arrived: download url, install version (later issue). */
  void (*firmware_update)(void *ctx, const char *url, const char *version);
  /* The config changed (a command applied it): re-read brain_address, telnet, ... */
  void (*config_changed)(void *ctx, const spot_config_t *config);
} spot_platform_t;

typedef struct spot_init {
  uint32_t serial;                /* fixed serial number, e.g. 4711 */
  const char *version;            /* firmware version, e.g. "2.3.1" */
  spot_encoding_t encoding;
  /* The state record as saved (NULL = none: factory defaults, said nowhere). A
   * record that is damaged, cut short or of another format means factory defaults,
   * said in a log event; bytes after the record are ignored. */
  const uint8_t *persisted;
  size_t persisted_len;
  bool watchdog_reset;            /* this boot was caused by the watchdog */
  uint64_t now_ms;                /* unix ms at init: time_started */
  /* Scenario text for the simulated reader (docs/firmware.md); NULL = built-in
   * default scenario; "" = no simulated tags. Read during init only. */
  const char *scenario;
  size_t scenario_len;
  bool http;                      /* events are posted (kept until a 200) */
  /* Lowest boot count this boot may take (0 = none): a platform without flash
   * passes one from its clock so that a boot number never repeats (docs/firmware.md). */
  uint32_t boot_count_floor;
} spot_init_t;

typedef struct spot_post_info {
  uint32_t boot;      /* X-Spot-Boot */
  uint64_t first_seq; /* X-Spot-Seq: seq of the post's first event */
} spot_post_info_t;

/* The whole core state: the platform owns it (see the end of this header). */
typedef struct spot spot_t;

/* The boot count a spot without flash takes from its clock: seconds since
 * 2024-01-01T00:00:00Z (0 before that), so it only grows while the clock does. */
#define SPOT_BOOT_CLOCK_EPOCH_S 1704067200u
uint32_t spot_boot_count_from_clock(uint64_t unix_ms);

/* Starts the core. Returns false with a reason in spot_last_error() if the
 * scenario does not parse (the core then runs with no simulated tags). */
bool spot_init(spot_t *s, const spot_platform_t *platform, const spot_init_t *init);

/* Advances time: runs the simulated reader and the presence engine. */
void spot_tick(spot_t *s, uint64_t now_ms);

/* A new TCP connection to the brain: queues `spot create` and `config create`
 * in front of every event no post has carried yet (docs/firmware.md). */
void spot_connected(spot_t *s);

/* HTTP posts. A post carries consecutive events starting at the oldest not
 * acknowledged one; after spot_post_fail() the next post sends them again. */
bool spot_post_pending(const spot_t *s);
void spot_post_begin(spot_t *s, spot_post_info_t *info);
/* Copies up to cap encoded bytes of the post's next events; 0 = nothing now. */
size_t spot_post_read(spot_t *s, uint8_t *buf, size_t cap);
/* True when the bytes of every event read so far are complete (a safe place to end). */
bool spot_post_at_event_boundary(const spot_t *s);
void spot_post_ack(spot_t *s);
void spot_post_fail(spot_t *s);
/* WebSocket: the open post lasts for the connection and is acknowledged in
 * parts. Releases the events up to and including seq (at most those read
 * whole); the post stays open. */
void spot_post_ack_through(spot_t *s, uint64_t seq);
/* The open post handed out events that are not acknowledged yet. */
bool spot_post_unacknowledged(const spot_t *s);
/* The open post's next event was dropped from the full ring: its numbering
 * cannot go on, a new post (connection) must start at the oldest kept event. */
bool spot_post_behind(const spot_t *s);

/* Stream (telnet, UART): live events plus `spot update` alive signals. */
void spot_stream_open(spot_t *s);
size_t spot_stream_read(spot_t *s, uint8_t *buf, size_t cap);
void spot_stream_close(spot_t *s);

/* Commands, in the spot's encoding, in pieces of any size. spot_command_end()
 * marks the end of a response body (PB stream state starts afresh). */
void spot_command_input(spot_t *s, const uint8_t *bytes, size_t len);
void spot_command_end(spot_t *s);
/* Commands arriving on the telnet/UART stream: a reader of their own, so they
 * never mix with a response body (with SPOT_STREAM_COMMAND_READER 0 they share it). */
void spot_stream_command_input(spot_t *s, const uint8_t *bytes, size_t len);
/* Commands decoded and applied since spot_init (the mps2 app's sign that its link is up). */
uint32_t spot_commands_applied(const spot_t *s);

/* The state the record holds (saved through platform->save_state when it changes). */
const spot_persist_t *spot_state(const spot_t *s);
const spot_config_t *spot_config(const spot_t *s);

/* The seq of the newest event numbered this boot (0 = none yet): what a gateway
 * that lost nothing holds up to, once every event is acknowledged. */
uint64_t spot_last_seq(const spot_t *s);

/* Reason of the last failure, for the console ("" if none). */
const char *spot_last_error(const spot_t *s);

/* --- the core's state ------------------------------------------------------
 * Complete here only so that a platform can own a spot_t without a heap (a
 * static); its fields belong to the core and are read and written by it alone. */

/* An encoded event being handed out in pieces. */
typedef struct spot_outbox {
  uint8_t buf[SPOT_EVENT_BYTES];
  size_t len;
  size_t pos;
  frame_pb_stream_t pb;
} spot_outbox_t;

struct spot {
  spot_platform_t platform;
  spot_state_record_t record; /* record.state: the state; record.header: set when saved */
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
  char boot_record_rejected[64]; /* why the stored record was not used, "" = it was (or none) */
  uint64_t next_seq;
  uint64_t sent_end; /* seq one past the newest event a post ever carried (even in part) */
  uint64_t intro_at; /* nonzero while spot_connected() puts events in front of the unsent ones */
  presence_engine_t presence;
  sim_reader_t sim;
  ring_t ring;
#if SPOT_HTTP_POST
  bool post_open;
  uint64_t post_next; /* seq of the next event to encode into the post */
  spot_outbox_t post;
#endif
  bool stream_open;
  uint8_t stream_phase;
  uint64_t stream_next;
  int64_t stream_last_alive;
  spot_outbox_t stream;
  command_reader_t commands;
  uint32_t commands_applied; /* commands decoded and applied since init */
#if SPOT_STREAM_COMMAND_READER
  command_reader_t stream_commands;
#endif
  union {
    spot_v1_Frame frame;   /* for encoding and decoding, never both at once */
    spot_config_t config;  /* factory defaults while the stored config is checked at init */
  } scratch;
  char error[128];
};

#endif
