#include "state_record.h"

#include <stddef.h>
#include <string.h>

#include "crc32.h"
#include "text.h"

#define MAGIC_AT 0
#define VERSION_AT 4
#define LENGTH_AT 8
#define CRC_AT 12

/* The payload follows the header without a gap, so the record is one run of bytes. */
_Static_assert(offsetof(spot_state_record_t, state) == SPOT_STATE_HEADER_BYTES, "payload right after the header");
_Static_assert(sizeof(spot_state_record_t) == SPOT_STATE_HEADER_BYTES + sizeof(spot_persist_t), "no tail padding");

static void put_le32(uint8_t *at, uint32_t v) {
  at[0] = (uint8_t)v;
  at[1] = (uint8_t)(v >> 8);
  at[2] = (uint8_t)(v >> 16);
  at[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *at) {
  return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

/* CRC-32 of the header's first 12 bytes, then the payload. */
static uint32_t record_crc(const uint8_t *header, const uint8_t *payload, size_t payload_len) {
  return crc32(payload, payload_len, crc32(header, CRC_AT, 0));
}

void state_record_seal(spot_state_record_t *record) {
  put_le32(record->header + MAGIC_AT, SPOT_STATE_MAGIC);
  put_le32(record->header + VERSION_AT, SPOT_STATE_FORMAT_VERSION);
  put_le32(record->header + LENGTH_AT, (uint32_t)sizeof record->state);
  put_le32(record->header + CRC_AT,
           record_crc(record->header, (const uint8_t *)&record->state, sizeof record->state));
}

/* Says "<a><n><b><m><c>" in why and returns check. */
static state_record_check_t reject(state_record_check_t check, text_t *why, const char *a, int64_t n, const char *b,
                                   int64_t m, const char *c) {
  text_str(why, a);
  text_int(why, n);
  text_str(why, b);
  text_int(why, m);
  text_str(why, c);
  return check;
}

state_record_check_t state_record_open(const uint8_t *bytes, size_t len, spot_persist_t *state, char *why,
                                       size_t why_cap) {
  text_t t;
  text_init(&t, why, why_cap);
  const int64_t whole = (int64_t)SPOT_STATE_RECORD_BYTES;
  if (len < SPOT_STATE_HEADER_BYTES)
    return reject(STATE_RECORD_TRUNCATED, &t, "truncated: ", (int64_t)len, " of ", whole, " bytes");
  if (get_le32(bytes + MAGIC_AT) != SPOT_STATE_MAGIC) {
    text_str(&t, "bad magic");
    return STATE_RECORD_BAD_MAGIC;
  }
  uint32_t version = get_le32(bytes + VERSION_AT);
  if (version != SPOT_STATE_FORMAT_VERSION)
    return reject(STATE_RECORD_OTHER_VERSION, &t, "format version ", version, ", expected ",
                  SPOT_STATE_FORMAT_VERSION, "");
  uint32_t payload_len = get_le32(bytes + LENGTH_AT);
  if (payload_len != sizeof *state)
    return reject(STATE_RECORD_OTHER_LENGTH, &t, "payload length ", payload_len, ", expected ",
                  (int64_t)sizeof *state, "");
  if (len < SPOT_STATE_RECORD_BYTES)
    return reject(STATE_RECORD_TRUNCATED, &t, "truncated: ", (int64_t)len, " of ", whole, " bytes");
  const uint8_t *payload = bytes + SPOT_STATE_HEADER_BYTES;
  if (get_le32(bytes + CRC_AT) != record_crc(bytes, payload, payload_len)) {
    text_str(&t, "CRC-32 mismatch");
    return STATE_RECORD_BAD_CRC;
  }
  memcpy(state, payload, sizeof *state);
  return STATE_RECORD_OK;
}
