/* The spot's flash on Linux: a state directory holding the persisted core state. */
#ifndef POSIX_FLASH_H
#define POSIX_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spot.h"

/* Reads up to cap bytes of DIR/state.bin into buf (*len: how many). False (and a
   reason) when it cannot be read: the spot starts from factory defaults. Whether
   the bytes are a valid record is the core's to check. */
bool flash_load(const char *dir, uint8_t *buf, size_t cap, size_t *len, char *reason, size_t reason_cap);
/* Writes the record to DIR/state.bin atomically (temporary file, fsync, rename). */
bool flash_save(const char *dir, const uint8_t *record, size_t len, char *reason, size_t reason_cap);

#endif
