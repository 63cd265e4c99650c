#include "ring.h"

#include <string.h>

void ring_init(ring_t *r) {
  memset(r, 0, sizeof *r);
  r->first_seq = 1;
}

static spot_event_t *slot(ring_t *r, uint32_t i) { return &r->events[(r->head + i) % SPOT_RING_EVENTS]; }

/* Drops one event of a full ring: the oldest, or, when the oldest are the kept
 * run, the first event behind it (the last of the run when the run fills the ring;
 * one event is never dropped for another). The events in front of the dropped one
 * move up one number. Returns the dropped event's place from the front. */
static uint32_t drop_one(ring_t *r) {
  uint32_t at = 0;
  if (r->keep_count > 0 && r->keep_seq == r->first_seq) {
    at = r->keep_count < r->count ? r->keep_count : r->count - 1;
    for (uint32_t i = at; i > 0; i--) {
      *slot(r, i) = *slot(r, i - 1);
      slot(r, i)->seq++;
    }
    r->keep_seq++;
    if (at < r->keep_count) r->keep_count--;
  }
  r->head = (r->head + 1) % SPOT_RING_EVENTS;
  r->count--;
  r->first_seq++;
  r->dropped++;
  return at;
}

void ring_push(ring_t *r, const spot_event_t *ev) {
  if (r->count == SPOT_RING_EVENTS) drop_one(r);
  if (r->count == 0) r->first_seq = ev->seq;
  r->events[(r->head + r->count) % SPOT_RING_EVENTS] = *ev;
  r->count++;
}

uint64_t ring_insert(ring_t *r, uint64_t seq, const spot_event_t *ev) {
  if (r->count == 0) r->first_seq = seq;
  uint32_t at = (uint32_t)(seq - r->first_seq);
  if (r->count == SPOT_RING_EVENTS && at > drop_one(r)) at--;
  for (uint32_t i = r->count; i > at; i--) *slot(r, i) = *slot(r, i - 1);
  r->count++;
  uint64_t given = r->first_seq + at; /* seq, or seq + 1 when the dropped event was the one at seq */
  *slot(r, at) = *ev;
  for (uint32_t i = at; i < r->count; i++) slot(r, i)->seq = given + (i - at);
  if (r->keep_count > 0 && given == r->keep_seq + r->keep_count) {
    r->keep_count++; /* right behind the run: joins it */
  } else {
    r->keep_seq = given;
    r->keep_count = 1;
  }
  return given;
}

void ring_keep_none(ring_t *r) { r->keep_count = 0; }

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
  if (r->keep_count > 0 && r->keep_seq < r->first_seq) {
    uint64_t gone = r->first_seq - r->keep_seq;
    r->keep_count = gone >= r->keep_count ? 0 : r->keep_count - (uint32_t)gone;
    r->keep_seq = r->first_seq;
  }
}

uint32_t ring_take_dropped(ring_t *r) {
  uint32_t n = r->dropped;
  r->dropped = 0;
  return n;
}
