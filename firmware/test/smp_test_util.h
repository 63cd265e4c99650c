/* Helpers of the SMP server tests: requests built with the CBOR writer and
   handed to the server as the serial reader would, and a look-up of the
   response's keys with the CBOR reader. */
#ifndef SMP_TEST_UTIL_H
#define SMP_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "smp_cbor.h"
#include "smp_server.h"

/* A message (header + body) in msg; its length. */
static inline size_t smp_message(uint8_t *msg, uint8_t version, uint8_t op, uint16_t group, uint8_t seq, uint8_t id,
                                 const uint8_t *body, size_t body_len)
{
  msg[0] = (uint8_t)(version << 3 | op);
  msg[1] = 0;
  msg[2] = (uint8_t)(body_len >> 8);
  msg[3] = (uint8_t)body_len;
  msg[4] = (uint8_t)(group >> 8);
  msg[5] = (uint8_t)group;
  msg[6] = seq;
  msg[7] = id;
  if (body_len > 0) {
    memcpy(msg + 8, body, body_len);
  }
  return 8 + body_len;
}

/* Handles a message as if it had arrived whole; the response's body length. */
static inline size_t smp_exchange(smp_server_t *s, const uint8_t *msg, size_t len)
{
  memcpy(s->buf, msg, len);
  size_t answer_len = smp_server_handle(s, len);
  return answer_len == 0 ? 0 : answer_len - SMP_HEADER_SIZE;
}

/* The value of key in the response's top map (or in the map under `outer`). */
static inline bool smp_find(const uint8_t *body, size_t len, const char *outer, const char *key, cbor_item_t *value)
{
  cbor_reader_t r;
  cbor_item_t top;
  cbor_reader_init(&r, body, len);
  if (!cbor_read(&r, &top) || top.major != CBOR_MAP) {
    return false;
  }
  for (uint64_t i = 0; i < top.arg; i++) {
    cbor_item_t k, v;
    if (!cbor_read(&r, &k) || !cbor_read(&r, &v)) {
      return false;
    }
    bool match = k.major == CBOR_TEXT && k.arg == strlen(outer ? outer : key)
              && memcmp(k.data, outer ? outer : key, (size_t)k.arg) == 0;
    if (match && !outer) {
      *value = v;
      return true;
    }
    if (match && v.major == CBOR_MAP) {
      size_t start = r.pos - 1;
      cbor_reader_t rest = r;
      if (!cbor_skip(&rest, &v)) {
        return false;
      }
      return smp_find(body + start, rest.pos - start, NULL, key, value);
    }
    if (!cbor_skip(&r, &v)) {
      return false;
    }
  }
  return false;
}

static inline uint64_t smp_uint(const uint8_t *body, size_t len, const char *outer, const char *key)
{
  cbor_item_t v;
  if (!smp_find(body, len, outer, key, &v) || v.major != CBOR_UINT) {
    return UINT64_MAX;
  }
  return v.arg;
}

#endif
