/* Retransmit ring: numbered events kept until a post carrying them is
 * acknowledged; full = the oldest is dropped (and counted). */
#ifndef RING_H
#define RING_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "spot_limits.h"

typedef struct ring {
  spot_event_t events[SPOT_RING_EVENTS];
  uint64_t first_seq; /* seq of the oldest kept event (events[head]) */
  uint32_t head;      /* index of the oldest kept event */
  uint32_t count;
  uint32_t dropped;   /* dropped since the last ring_take_dropped() */
} ring_t;

void ring_init(ring_t *r);

/* Appends ev (already numbered: seq = one past the newest); drops the oldest when full. */
void ring_push(ring_t *r, const spot_event_t *ev);

/* Puts ev in front of the kept event numbered seq (first_seq <= seq <= end):
 * the events from there on move up one number. Full = the oldest is dropped
 * first; when that was the event at seq, its number stays unused. Returns the
 * number ev got. Only for events never sent: their numbers are still free. */
uint64_t ring_insert(ring_t *r, uint64_t seq, const spot_event_t *ev);

/* The kept event with this seq, or NULL if not (or no longer) kept. */
const spot_event_t *ring_get(const ring_t *r, uint64_t seq);

/* Seq one past the newest kept event (first_seq when empty). */
uint64_t ring_end_seq(const ring_t *r);

/* Forgets every event with seq < upto. */
void ring_release(ring_t *r, uint64_t upto);

/* Returns and clears the count of events dropped by overflow. */
uint32_t ring_take_dropped(ring_t *r);

#endif
