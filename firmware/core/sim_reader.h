/* Simulated RFID/Bluetooth front end: a scenario of tags entering, moving and
 * leaving, read at a fixed total hit rate with seeded, deterministic noise.
 * Scenario format: docs/firmware.md. Parsed in place, no heap. */
#ifndef SIM_READER_H
#define SIM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "presence.h"
#include "spot_limits.h"

#ifndef SPOT_SIM_STEPS
#define SPOT_SIM_STEPS 64
#endif
#define SIM_MAX_RATE 1000
#define SIM_NOISE_TENTHS 20 /* +- noise added to every RFID read (Bluetooth: +-2 dBm) */

typedef enum sim_action { SIM_ENTER, SIM_MOVE, SIM_LEAVE } sim_action_t;

typedef struct sim_step {
  uint32_t at_ms; /* from the start of the scenario */
  uint8_t tag;    /* index into tags */
  uint8_t action; /* sim_action_t */
  uint8_t antenna; /* 0 = unchanged */
  bool has_signal;
  int16_t signal;
} sim_step_t;

typedef struct sim_tag {
  spot_item_t item;
  bool present;
  uint8_t antenna;
  int16_t signal;
} sim_tag_t;

typedef struct sim_reader {
  sim_tag_t tags[SPOT_SIM_TAGS];
  uint8_t tag_count;
  sim_step_t steps[SPOT_SIM_STEPS];
  uint8_t step_count;
  uint8_t next_step;
  uint32_t rate; /* hits per second over all present tags */
  uint32_t seed;
  uint32_t prng;
  int64_t start_ms;
  int64_t last_ms;
  uint32_t budget; /* rate x elapsed ms not yet spent on hits, in 1/1000 hits */
  uint8_t next_tag; /* round robin */
  char error[96];
} sim_reader_t;

/* The scenario used when none is given: tags arrive, change proximity and leave
 * within the first 6 seconds (docs/firmware.md lists what it produces). */
extern const char sim_default_scenario[];

/* Parses text; false with sim->error like "line 3: unknown action \"jump\"". */
bool sim_parse(sim_reader_t *sim, const char *text, size_t len);

/* Starts the clock of the scenario. */
void sim_start(sim_reader_t *sim, int64_t now_ms);

/* Runs the scenario up to now, handing every read to hit(ctx, ...). */
typedef void (*sim_hit_fn)(void *ctx, const presence_hit_t *hit);
void sim_advance(sim_reader_t *sim, int64_t now_ms, sim_hit_fn hit, void *ctx);

#endif
