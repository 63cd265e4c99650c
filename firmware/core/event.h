/* The events the spot makes, as kept in the retransmit ring, and their Frame form. */
#ifndef EVENT_H
#define EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "spot.pb.h"
#include "spot_config_gen.h"
#include "spot_limits.h"

typedef enum spot_event_kind {
  EVENT_SPOT_CREATE,
  EVENT_SPOT_ALIVE, /* ["spot","update",{"online":true}] */
  EVENT_CONFIG_CREATE,
  EVENT_CONFIG_UPDATE,
  EVENT_HIT_CREATE,
  EVENT_PRESENCE_CREATE,
  EVENT_PRESENCE_UPDATE,
  EVENT_PRESENCE_DELETE,
  EVENT_LOG_CREATE,
  EVENT_BRAIN_SENSE_UPDATE
} spot_event_kind_t;

typedef struct spot_item {
  char code[SPOT_ITEM_CODE_MAX];
  uint8_t codetype; /* spot_v1_ItemCodeType */
} spot_item_t;

typedef struct spot_event {
  uint8_t kind;  /* spot_event_kind_t */
  uint32_t boot; /* numbering: boot count and seq (0 = not numbered) */
  uint64_t seq;
  int64_t time;  /* unix ms; presences: time_last */
  union {
    struct {
      spot_item_t item;
      int64_t time_started;
      uint16_t hold_delay_s;
      uint8_t proximity; /* spot_v1_Proximity */
    } presence;
    struct {
      spot_item_t item;
      uint8_t antenna;
      int16_t signal_strength; /* tenths of dBm (Bluetooth: dBm) */
    } hit;
    struct {
      uint8_t level; /* spot_log_level_t */
      uint16_t code;
      char text[SPOT_LOG_TEXT_MAX];
    } log;
    struct {
      uint64_t keys; /* bit i = spot_config_keys[i] changed (values as they are when sent) */
    } config;
    struct {
      uint32_t boot_count;
      uint32_t watchdog_count;
      uint32_t presence_create_count;
      int64_t time_started;
    } spot;
    struct {
      int32_t bs[5];
      uint8_t mask; /* bit i = bs(i+1) set */
    } brain_sense;
  } u;
} spot_event_t;

/* What a Frame needs beyond the event itself. */
typedef struct event_context {
  uint32_t serial;
  const char *version;
  const spot_config_t *config;
} event_context_t;

/* Log codes of the core's log events (LogMessage.code). */
enum {
  LOG_CODE_RING_OVERFLOW = 1,
  LOG_CODE_CONFIG_UNKNOWN_KEY = 2,
  LOG_CODE_CONFIG_BAD_VALUE = 3,
  LOG_CODE_COMMAND_MALFORMED = 4,
  LOG_CODE_ITEM_TABLE_FULL = 5,
  LOG_CODE_COMMAND_UNSUPPORTED = 6,
  LOG_CODE_FIRMWARE_UPDATE = 7,
  LOG_CODE_STATE_REJECTED = 8
};

void event_log(spot_event_t *ev, int64_t time, uint8_t level, uint16_t code, const char *text);

/* Fills f from ev. with_numbering adds Frame boot/seq (PB streams). */
void event_to_frame(const spot_event_t *ev, const event_context_t *ctx, bool with_numbering, spot_v1_Frame *f);

#endif
