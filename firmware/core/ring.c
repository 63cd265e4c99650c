#include "ring.h"

#include <string.h>

void ring_init(ring_t *r) {
  memset(r, 0, sizeof *r);
  r->first_seq = 1;
}

void ring_push(ring_t *r, const spot_event_t *ev) {
  if (r->count == SPOT_RING_EVENTS) {
    r->head = (r->head + 1) % SPOT_RING_EVENTS;
    r->count--;
    r->first_seq++;
    r->dropped++;
  }
  if (r->count == 0) r->first_seq = ev->seq;
  r->events[(r->head + r->count) % SPOT_RING_EVENTS] = *ev;
  r->count++;
}

static spot_event_t *slot(ring_t *r, uint32_t i) { return &r->events[(r->head + i) % SPOT_RING_EVENTS]; }

uint64_t ring_insert(ring_t *r, uint64_t seq, const spot_event_t *ev) {
  if (r->count == 0) r->first_seq = seq;
  uint32_t at = (uint32_t)(seq - r->first_seq);
  if (r->count == SPOT_RING_EVENTS) {
    r->head = (r->head + 1) % SPOT_RING_EVENTS;
    r->count--;
    r->first_seq++;
    r->dropped++;
    if (at > 0) at--;
  }
  for (uint32_t i = r->count; i > at; i--) *slot(r, i) = *slot(r, i - 1);
  r->count++;
  uint64_t given = r->first_seq + at; /* seq, or seq + 1 when the dropped event was the one at seq */
  *slot(r, at) = *ev;
  for (uint32_t i = at; i < r->count; i++) slot(r, i)->seq = given + (i - at);
  return given;
}

const spot_event_t *ring_get(const ring_t *r, uint64_t seq) {
  if (seq < r->first_seq || seq >= r->first_seq + r->count) return NULL;
  return &r->events[(r->head + (uint32_t)(seq - r->first_seq)) % SPOT_RING_EVENTS];
}

uint64_t ring_end_seq(const ring_t *r) { return r->first_seq + r->count; }

void ring_release(ring_t *r, uint64_t upto) {
  while (r->count > 0 && r->first_seq < upto) {
    r->head = (r->head + 1) % SPOT_RING_EVENTS;
    r->count--;
    r->first_seq++;
  }
  if (r->count == 0 && upto > r->first_seq) r->first_seq = upto;
}

uint32_t ring_take_dropped(ring_t *r) {
  uint32_t n = r->dropped;
  r->dropped = 0;
  return n;
}
