/* The spot's flash on Linux: a state directory holding the persisted core state. */
#ifndef POSIX_FLASH_H
#define POSIX_FLASH_H

#include <stdbool.h>
#include <stddef.h>

#include "spot.h"

/* Reads DIR/state.bin. False (and a reason) when absent or of another size:
   the spot then starts from factory defaults. */
bool flash_load(const char *dir, spot_persist_t *state, char *reason, size_t reason_cap);
/* Writes DIR/state.bin atomically (temporary file, fsync, rename). */
bool flash_save(const char *dir, const spot_persist_t *state, char *reason, size_t reason_cap);

#endif
