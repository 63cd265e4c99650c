/* The spot core: what a platform main calls. No OS calls, no heap.
 *
 * A platform main:
 *   1. loads the persisted state (spot_persist_t bytes) from its flash, or
 *      passes NULL / a blob with a wrong magic for factory defaults;
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

#include "spot_config_gen.h"
#include "spot_limits.h"

typedef enum spot_encoding { SPOT_ENCODING_JSON = 0, SPOT_ENCODING_PB = 1 } spot_encoding_t;

typedef enum spot_log_level {
  SPOT_LOG_DEBUG = 1,
  SPOT_LOG_INFO = 2,
  SPOT_LOG_WARN = 3,
  SPOT_LOG_ERROR = 4
} spot_log_level_t;

#define SPOT_PERSIST_MAGIC 0x53504f54u /* "SPOT" */
#define SPOT_PERSIST_VERSION 2u

/* What survives a reboot: the platform stores these bytes as they are. */
typedef struct spot_persist {
  uint32_t magic;   /* SPOT_PERSIST_MAGIC */
  uint32_t version; /* SPOT_PERSIST_VERSION; another value = factory defaults */
  uint32_t config_schema; /* SPOT_CONFIG_SCHEMA_ID; another value = config back to defaults */
  uint32_t boot_count;
  uint32_t watchdog_count;
  uint32_t presence_create_count;
  int32_t brain_sense[5]; /* bs1..bs5 */
  spot_config_t config;
  char firmware_url[SPOT_URL_MAX];         /* pending `firmware update`, "" = none */
  char firmware_version[SPOT_VERSION_MAX];
} spot_persist_t;

/* The platform, behind function pointers. Any pointer may be NULL. */
typedef struct spot_platform {
  void *ctx; /* handed back to every call */
  /* Persist the state (config, counters). Return false if the flash write failed. */
  bool (*save_state)(void *ctx, const spot_persist_t *state);
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
  const spot_persist_t *persisted; /* NULL or invalid magic = factory defaults */
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

typedef struct spot spot_t; /* the whole core state; one static instance */

/* The single core instance (no heap: it lives in .bss). */
spot_t *spot_instance(void);

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

/* State to persist (also handed to platform->save_state when it changes). */
const spot_persist_t *spot_state(const spot_t *s);
const spot_config_t *spot_config(const spot_t *s);

/* Reason of the last failure, for the console ("" if none). */
const char *spot_last_error(const spot_t *s);

#endif
