/* Retransmit ring: numbered events kept until a post carrying them is
 * acknowledged; full = the oldest is dropped (and counted), except the kept
 * run (the introduction of the latest connection) while it is the oldest. */
#ifndef RING_H
#define RING_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "spot_limits.h"

typedef struct ring {
  spot_event_t events[SPOT_RING_EVENTS];
  uint64_t first_seq;  /* seq of the oldest kept event (events[head]) */
  uint32_t head;       /* index of the oldest kept event */
  uint32_t count;
  uint32_t dropped;    /* dropped since the last ring_take_dropped() */
  uint32_t keep_count; /* events in the kept run, 0 = none */
  uint64_t keep_seq;   /* seq of the first event of the kept run */
} ring_t;

void ring_init(ring_t *r);

/* Appends ev (already numbered: seq = one past the newest); full = one event
 * is dropped first: the oldest, or, when the kept run is the oldest, the first
 * event behind it, the run moving up one number into its place (the last event
 * of the run when it fills the ring). */
void ring_push(ring_t *r, const spot_event_t *ev);

/* Puts ev in front of the kept event numbered seq (first_seq <= seq <= end):
 * the events from there on move up one number. Full = one event is dropped
 * first, as by ring_push(); when that was the event at seq, its number stays
 * unused. ev joins the kept run when it lands right behind it, else starts a
 * new one. Returns the number ev got. Only for events never sent: their
 * numbers are still free. */
uint64_t ring_insert(ring_t *r, uint64_t seq, const spot_event_t *ev);

/* Ends the kept run: its events are dropped like any other from now on. */
void ring_keep_none(ring_t *r);

/* The kept event with this seq, or NULL if not (or no longer) kept. */
const spot_event_t *ring_get(const ring_t *r, uint64_t seq);

/* Seq one past the newest kept event (first_seq when empty). */
uint64_t ring_end_seq(const ring_t *r);

/* Forgets every event with seq < upto (the kept run's among them). */
void ring_release(ring_t *r, uint64_t upto);

/* Returns and clears the count of events dropped by overflow. */
uint32_t ring_take_dropped(ring_t *r);

#endif
