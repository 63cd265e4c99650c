/* Retransmit ring: keeps numbered events until released; overflow drops the oldest
 * (behind the kept run while the run is the oldest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

static ring_t ring;

static void push(uint64_t seq) {
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_LOG_CREATE;
  ev.seq = seq;
  ev.time = (int64_t)seq * 10;
  ring_push(&ring, &ev);
}

static void events_are_kept_in_order_until_released(void **state) {
  (void)state;
  ring_init(&ring);
  for (uint64_t s = 1; s <= 5; s++) push(s);
  assert_int_equal(ring.count, 5);
  assert_int_equal(ring_get(&ring, 3)->time, 30);
  assert_null(ring_get(&ring, 6));
  ring_release(&ring, 4);
  assert_int_equal(ring.count, 2);
  assert_null(ring_get(&ring, 3));
  assert_int_equal(ring_get(&ring, 4)->seq, 4);
  assert_int_equal(ring_end_seq(&ring), 6);
  ring_release(&ring, 6);
  assert_int_equal(ring.count, 0);
  assert_int_equal(ring_end_seq(&ring), 6);
}

static void overflow_drops_the_oldest_and_counts(void **state) {
  (void)state;
  ring_init(&ring);
  for (uint64_t s = 1; s <= SPOT_RING_EVENTS + 3; s++) push(s);
  assert_int_equal(ring.count, SPOT_RING_EVENTS);
  assert_int_equal(ring.first_seq, 4);
  assert_null(ring_get(&ring, 3));
  assert_int_equal(ring_get(&ring, SPOT_RING_EVENTS + 3)->time, (SPOT_RING_EVENTS + 3) * 10);
  assert_int_equal(ring_take_dropped(&ring), 3);
  assert_int_equal(ring_take_dropped(&ring), 0);
}

static void wraps_around_many_times(void **state) {
  (void)state;
  ring_init(&ring);
  uint64_t next = 1;
  for (int round = 0; round < 10; round++) {
    for (int i = 0; i < SPOT_RING_EVENTS / 2 + 1; i++) push(next++);
    ring_release(&ring, next - 1);
    assert_int_equal(ring.count, 1);
    assert_int_equal(ring_get(&ring, next - 1)->seq, next - 1);
  }
}

static uint64_t insert(uint64_t seq, int64_t time) {
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_SPOT_CREATE;
  ev.time = time;
  return ring_insert(&ring, seq, &ev);
}

static void insert_puts_an_event_in_front_and_renumbers_the_rest(void **state) {
  (void)state;
  ring_init(&ring);
  for (uint64_t s = 1; s <= 4; s++) push(s);
  assert_int_equal(insert(3, 777), 3);
  assert_int_equal(ring.count, 5);
  assert_int_equal(ring.first_seq, 1);
  assert_int_equal(ring_get(&ring, 2)->time, 20);
  assert_int_equal(ring_get(&ring, 3)->time, 777);
  assert_int_equal(ring_get(&ring, 4)->time, 30);
  assert_int_equal(ring_get(&ring, 4)->seq, 4);
  assert_int_equal(ring_get(&ring, 5)->time, 40);
  assert_int_equal(ring_end_seq(&ring), 6);
  assert_int_equal(insert(6, 888), 6); /* at the end: nothing moves */
  assert_int_equal(ring_get(&ring, 6)->time, 888);
}

static void insert_into_an_empty_ring_takes_the_next_number(void **state) {
  (void)state;
  ring_init(&ring);
  for (uint64_t s = 1; s <= 3; s++) push(s);
  ring_release(&ring, 4);
  assert_int_equal(insert(4, 5), 4);
  assert_int_equal(ring.first_seq, 4);
  assert_int_equal(ring_end_seq(&ring), 5);
}

static void insert_into_a_full_ring_drops_the_oldest(void **state) {
  (void)state;
  ring_init(&ring);
  for (uint64_t s = 1; s <= SPOT_RING_EVENTS; s++) push(s);
  assert_int_equal(insert(3, 777), 3); /* drops 1; 3 and up move up */
  assert_int_equal(ring.count, SPOT_RING_EVENTS);
  assert_int_equal(ring.first_seq, 2);
  assert_int_equal(ring_get(&ring, 3)->time, 777);
  assert_int_equal(ring_get(&ring, 4)->time, 30);
  assert_int_equal(ring_end_seq(&ring), SPOT_RING_EVENTS + 2);
  assert_int_equal(ring_take_dropped(&ring), 1);
  /* In front of the oldest: the oldest goes, its number stays unused. */
  assert_int_equal(insert(2, 999), 3);
  assert_int_equal(ring.first_seq, 3);
  assert_int_equal(ring_get(&ring, 3)->time, 999);
  assert_int_equal(ring_get(&ring, 4)->time, 777);
  assert_int_equal(ring_end_seq(&ring), SPOT_RING_EVENTS + 3);
  assert_int_equal(ring_take_dropped(&ring), 1);
  for (uint64_t seq = ring.first_seq; seq < ring_end_seq(&ring); seq++) assert_int_equal(ring_get(&ring, seq)->seq, seq);
}

static void overflow_drops_behind_the_kept_run_while_it_is_the_oldest(void **state) {
  (void)state;
  ring_init(&ring);
  for (uint64_t s = 1; s <= SPOT_RING_EVENTS; s++) push(s);
  assert_int_equal(insert(1, 111), 2); /* full: 1 goes, the run starts at 2 */
  /* Full: the run is the oldest, the event behind it goes (the run takes its number 3). */
  assert_int_equal(insert(3, 222), 4);
  assert_int_equal(ring.keep_seq, 3);
  assert_int_equal(ring.keep_count, 2);
  assert_int_equal(ring_get(&ring, 3)->time, 111);
  assert_int_equal(ring_get(&ring, 4)->time, 222);
  assert_int_equal(ring_get(&ring, 5)->time, 30); /* what was 3 before the inserts */
  push(ring_end_seq(&ring)); /* full: the run moves up again over the event behind it */
  assert_int_equal(ring.first_seq, 4);
  assert_int_equal(ring_get(&ring, 4)->time, 111);
  assert_int_equal(ring_get(&ring, 5)->time, 222);
  assert_int_equal(ring_get(&ring, 6)->time, 40);
  assert_int_equal(ring_take_dropped(&ring), 3);
  for (uint64_t seq = ring.first_seq; seq < ring_end_seq(&ring); seq++) assert_int_equal(ring_get(&ring, seq)->seq, seq);
  ring_release(&ring, 5); /* the run's first acknowledged: the rest stays kept */
  assert_int_equal(ring.keep_seq, 5);
  assert_int_equal(ring.keep_count, 1);
  push(ring_end_seq(&ring)); /* room: nothing dropped */
  push(ring_end_seq(&ring));
  assert_int_equal(ring_take_dropped(&ring), 1);
  assert_int_equal(ring_get(&ring, 6)->time, 222);
  ring_keep_none(&ring); /* no run: the oldest goes */
  push(ring_end_seq(&ring));
  assert_int_equal(ring.first_seq, 7);
  assert_int_equal(ring_get(&ring, 7)->time, 50);
}

static void events_in_front_of_the_kept_run_go_first(void **state) {
  (void)state;
  ring_init(&ring);
  for (uint64_t s = 1; s <= SPOT_RING_EVENTS - 1; s++) push(s);
  assert_int_equal(insert(3, 777), 3); /* fills the ring; 1 and 2 are in front of the run */
  push(ring_end_seq(&ring));
  assert_int_equal(ring.first_seq, 2);
  assert_int_equal(ring_get(&ring, 3)->time, 777);
  ring_release(&ring, 99999); /* everything acknowledged: the run too */
  assert_int_equal(ring.keep_count, 0);
  assert_int_equal(insert(ring_end_seq(&ring), 5), ring.first_seq); /* a new run in an empty ring */
  assert_int_equal(ring.keep_count, 1);
  assert_int_equal(ring.keep_seq, ring.first_seq);
}

static void a_kept_run_filling_the_ring_loses_its_last_never_its_first(void **state) {
  (void)state;
  ring_init(&ring);
  for (int i = 0; i < SPOT_RING_EVENTS; i++) insert(ring_end_seq(&ring), 1000 + i);
  assert_int_equal(ring.keep_count, SPOT_RING_EVENTS);
  assert_int_equal(insert(ring_end_seq(&ring), 5000), SPOT_RING_EVENTS + 1);
  assert_int_equal(ring.first_seq, 2);
  assert_int_equal(ring.keep_count, SPOT_RING_EVENTS); /* lost one, gained one */
  assert_int_equal(ring_get(&ring, 2)->time, 1000);    /* the first kept, moved up one number */
  assert_int_equal(ring_get(&ring, SPOT_RING_EVENTS)->time, 1000 + SPOT_RING_EVENTS - 2);
  assert_int_equal(ring_get(&ring, SPOT_RING_EVENTS + 1)->time, 5000);
  assert_int_equal(ring_take_dropped(&ring), 1);
  for (uint64_t seq = ring.first_seq; seq < ring_end_seq(&ring); seq++) assert_int_equal(ring_get(&ring, seq)->seq, seq);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(events_are_kept_in_order_until_released),
      cmocka_unit_test(overflow_drops_the_oldest_and_counts),
      cmocka_unit_test(wraps_around_many_times),
      cmocka_unit_test(insert_puts_an_event_in_front_and_renumbers_the_rest),
      cmocka_unit_test(insert_into_an_empty_ring_takes_the_next_number),
      cmocka_unit_test(insert_into_a_full_ring_drops_the_oldest),
      cmocka_unit_test(overflow_drops_behind_the_kept_run_while_it_is_the_oldest),
      cmocka_unit_test(events_in_front_of_the_kept_run_go_first),
      cmocka_unit_test(a_kept_run_filling_the_ring_loses_its_last_never_its_first),
  };
  return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
