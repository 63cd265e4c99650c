/* Presence engine: tag reads (hits) -> presence create / update / delete events. */
#ifndef PRESENCE_H
#define PRESENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "spot_config_gen.h"
#include "spot_limits.h"

#define PRESENCE_AUTO_HOLD_MIN_S 2
#define PRESENCE_AUTO_HOLD_MAX_S 60

/* One raw read of a tag. */
typedef struct presence_hit {
  spot_item_t item;
  uint8_t antenna;
  int16_t signal_strength; /* RFID: tenths of dBm; Bluetooth LE: dBm */
  int64_t time;            /* unix ms */
} presence_hit_t;

typedef struct presence_item {
  bool used;
  spot_item_t item;
  int64_t time_started;
  int64_t time_last;
  uint32_t reads;
  int16_t window[SPOT_MAX_WINDOW];
  uint8_t window_count;
  uint8_t window_next;
  uint8_t proximity;
  uint16_t hold_delay_s;
} presence_item_t;

/* Receives each event the engine makes (the core numbers and queues it). */
typedef void (*presence_emit_fn)(void *ctx, const spot_event_t *ev);

typedef struct presence_engine {
  presence_item_t items[SPOT_MAX_ITEMS];
  uint32_t untracked;   /* hits of new items dropped because the table was full */
  bool table_full_said; /* one log event per full episode */
  presence_emit_fn emit;
  void *emit_ctx;
} presence_engine_t;

void presence_init(presence_engine_t *e, presence_emit_fn emit, void *ctx);

/* A read: `hit create` (if send_hits), then presence create or update. */
void presence_hit(presence_engine_t *e, const spot_config_t *cfg, const presence_hit_t *hit);

/* Deletes items not read for their hold delay. */
void presence_tick(presence_engine_t *e, const spot_config_t *cfg, int64_t now);

/* Proximity for a mean signal, from the current one (hysteresis); PROXIMITY_UNSPECIFIED = fresh. */
uint8_t presence_proximity(const spot_config_t *cfg, uint8_t codetype, int32_t mean, uint8_t current);

/* Hold delay of an item under the config (auto rule in docs/firmware.md). */
uint16_t presence_hold_delay_s(const spot_config_t *cfg, const presence_item_t *it);

#endif
