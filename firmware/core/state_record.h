/* The persisted state as a record a platform stores byte for byte: header (magic,
 * format version, payload length, CRC-32) + spot_persist_t; layout in docs/firmware.md. */
#ifndef STATE_RECORD_H
#define STATE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "spot.h"

typedef enum state_record_check {
  STATE_RECORD_OK = 0,
  STATE_RECORD_TRUNCATED,     /* fewer bytes than the header, or than the header says */
  STATE_RECORD_BAD_MAGIC,     /* not a spot state record ("bad magic") */
  STATE_RECORD_OTHER_VERSION, /* another format, e.g. 2: the raw struct of older firmware */
  STATE_RECORD_OTHER_LENGTH,  /* a payload of another size: another layout */
  STATE_RECORD_BAD_CRC        /* damaged: a torn write, a flipped bit */
} state_record_check_t;

/* Fills record->header for record->state: after it the record's bytes are ready to store. */
void state_record_seal(spot_state_record_t *record);

/* Checks len bytes as a record. OK: the payload is copied to *state (bytes after the
 * record are ignored). Otherwise *state is untouched and why says the cause in
 * words ("CRC-32 mismatch", "format version 2, expected 3"). */
state_record_check_t state_record_open(const uint8_t *bytes, size_t len, spot_persist_t *state, char *why,
                                       size_t why_cap);

#endif
