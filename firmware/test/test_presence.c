/* Presence engine: create / update on proximity change / delete after the hold delay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "presence.h"

#define MAX_SEEN 256

static spot_event_t seen[MAX_SEEN];
static int seen_count;
static presence_engine_t engine;
static spot_config_t cfg;

static void record(void *ctx, const spot_event_t *ev) {
  (void)ctx;
  assert_true(seen_count < MAX_SEEN);
  seen[seen_count++] = *ev;
}

static int setup(void **state) {
  (void)state;
  seen_count = 0;
  spot_config_defaults(&cfg);
  presence_init(&engine, record, NULL);
  return 0;
}

static void read_tag(const char *code, int16_t signal, int64_t time) {
  presence_hit_t h;
  memset(&h, 0, sizeof h);
  strcpy(h.item.code, code);
  h.item.codetype = spot_v1_ItemCodeType_ITEM_CODE_TYPE_EPC_GEN2;
  h.antenna = 1;
  h.signal_strength = signal;
  h.time = time;
  presence_hit(&engine, &cfg, &h);
}

static void first_read_creates_a_presence_with_its_proximity(void **state) {
  (void)state;
  read_tag("aa01", -400, 1000); /* >= rfid_immediate -450 */
  read_tag("aa02", -500, 1001); /* >= rfid_near -600 */
  read_tag("aa03", -700, 1002);
  assert_int_equal(seen_count, 3);
  assert_int_equal(seen[0].kind, EVENT_PRESENCE_CREATE);
  assert_string_equal(seen[0].u.presence.item.code, "aa01");
  assert_int_equal(seen[0].u.presence.proximity, spot_v1_Proximity_PROXIMITY_IMMEDIATE);
  assert_int_equal(seen[1].u.presence.proximity, spot_v1_Proximity_PROXIMITY_NEAR);
  assert_int_equal(seen[2].u.presence.proximity, spot_v1_Proximity_PROXIMITY_FAR);
  assert_int_equal(seen[0].time, 1000);
  assert_int_equal(seen[0].u.presence.time_started, 1000);
  assert_int_equal(seen[0].u.presence.hold_delay_s, PRESENCE_AUTO_HOLD_MIN_S);
}

static void hits_are_events_only_with_send_hits(void **state) {
  (void)state;
  read_tag("aa01", -400, 1000);
  read_tag("aa01", -400, 1100);
  assert_int_equal(seen_count, 1);
  cfg.send_hits = true;
  read_tag("aa01", -400, 1200);
  assert_int_equal(seen_count, 2);
  assert_int_equal(seen[1].kind, EVENT_HIT_CREATE);
  assert_int_equal(seen[1].u.hit.signal_strength, -400);
  assert_int_equal(seen[1].time, 1200);
}

static void proximity_changes_only_past_the_hysteresis(void **state) {
  (void)state;
  cfg.rfid_max_window_size = 1; /* every read is the mean */
  read_tag("aa01", -650, 0);    /* far */
  read_tag("aa01", -590, 100);  /* over near (-600) but not by 30: stays far */
  assert_int_equal(seen_count, 1);
  read_tag("aa01", -569, 200); /* -600 + 30 crossed: near */
  assert_int_equal(seen_count, 2);
  assert_int_equal(seen[1].kind, EVENT_PRESENCE_UPDATE);
  assert_int_equal(seen[1].u.presence.proximity, spot_v1_Proximity_PROXIMITY_NEAR);
  read_tag("aa01", -620, 300); /* under near, within the hysteresis: stays near */
  assert_int_equal(seen_count, 2);
  read_tag("aa01", -631, 400); /* under -630: far again */
  assert_int_equal(seen_count, 3);
  assert_int_equal(seen[2].u.presence.proximity, spot_v1_Proximity_PROXIMITY_FAR);
  assert_int_equal(seen[2].u.presence.time_started, 0);
  assert_int_equal(seen[2].time, 400);
}

static void signal_is_averaged_over_the_window(void **state) {
  (void)state;
  cfg.rfid_max_window_size = 4;
  read_tag("aa01", -700, 0); /* far */
  read_tag("aa01", -300, 1); /* mean -500: near crossed by 100 */
  assert_int_equal(seen_count, 2);
  assert_int_equal(seen[1].u.presence.proximity, spot_v1_Proximity_PROXIMITY_NEAR);
  read_tag("aa01", -300, 2); /* mean -433: immediate needs -420 */
  assert_int_equal(seen_count, 2);
  read_tag("aa01", -300, 3); /* mean -400 */
  assert_int_equal(seen_count, 3);
  assert_int_equal(seen[2].u.presence.proximity, spot_v1_Proximity_PROXIMITY_IMMEDIATE);
}

static void bluetooth_uses_its_own_thresholds(void **state) {
  (void)state;
  presence_hit_t h;
  memset(&h, 0, sizeof h);
  strcpy(h.item.code, "c0ffee000001");
  h.item.codetype = spot_v1_ItemCodeType_ITEM_CODE_TYPE_BLUETOOTH_LE;
  h.signal_strength = -60; /* dBm: between bt_near -75 and bt_immediate -55 */
  presence_hit(&engine, &cfg, &h);
  assert_int_equal(seen_count, 1);
  assert_int_equal(seen[0].u.presence.proximity, spot_v1_Proximity_PROXIMITY_NEAR);
  assert_int_equal(seen[0].u.presence.item.codetype, spot_v1_ItemCodeType_ITEM_CODE_TYPE_BLUETOOTH_LE);
}

static void fixed_hold_delay_deletes_after_that_many_seconds(void **state) {
  (void)state;
  cfg.auto_hold_delay = false;
  cfg.fixed_hold_delay_s = 4;
  read_tag("aa01", -400, 1000);
  read_tag("aa01", -400, 2000);
  presence_tick(&engine, &cfg, 5999);
  assert_int_equal(seen_count, 1);
  presence_tick(&engine, &cfg, 6000);
  assert_int_equal(seen_count, 2);
  assert_int_equal(seen[1].kind, EVENT_PRESENCE_DELETE);
  assert_int_equal(seen[1].time, 2000); /* time_last */
  assert_int_equal(seen[1].u.presence.hold_delay_s, 4);
  presence_tick(&engine, &cfg, 9000);
  assert_int_equal(seen_count, 2);
  read_tag("aa01", -400, 9500); /* seen again: a new presence */
  assert_int_equal(seen[2].kind, EVENT_PRESENCE_CREATE);
}

static void auto_hold_delay_is_three_read_intervals_within_bounds(void **state) {
  (void)state;
  presence_item_t it;
  memset(&it, 0, sizeof it);
  it.reads = 1;
  assert_int_equal(presence_hold_delay_s(&cfg, &it), 2);
  it.reads = 11;
  it.time_started = 0;
  it.time_last = 10000; /* one read a second: 3 s */
  assert_int_equal(presence_hold_delay_s(&cfg, &it), 3);
  it.time_last = 100; /* fast reads: the 2 s floor */
  assert_int_equal(presence_hold_delay_s(&cfg, &it), 2);
  it.time_last = 1000000; /* slow reads: the 60 s ceiling */
  assert_int_equal(presence_hold_delay_s(&cfg, &it), 60);
  it.time_last = 3400; /* 340 ms apart: 1.02 s rounds up to 2 */
  assert_int_equal(presence_hold_delay_s(&cfg, &it), 2);
}

static void a_full_table_is_said_once(void **state) {
  (void)state;
  char code[16];
  for (int i = 0; i < SPOT_MAX_ITEMS + 3; i++) {
    code[0] = 't';
    code[1] = (char)('a' + i / 26);
    code[2] = (char)('a' + i % 26);
    code[3] = '\0';
    read_tag(code, -400, i);
  }
  assert_int_equal(seen_count, SPOT_MAX_ITEMS + 1);
  assert_int_equal(seen[SPOT_MAX_ITEMS].kind, EVENT_LOG_CREATE);
  assert_int_equal(seen[SPOT_MAX_ITEMS].u.log.code, LOG_CODE_ITEM_TABLE_FULL);
  assert_int_equal(engine.untracked, 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(first_read_creates_a_presence_with_its_proximity, setup),
      cmocka_unit_test_setup(hits_are_events_only_with_send_hits, setup),
      cmocka_unit_test_setup(proximity_changes_only_past_the_hysteresis, setup),
      cmocka_unit_test_setup(signal_is_averaged_over_the_window, setup),
      cmocka_unit_test_setup(bluetooth_uses_its_own_thresholds, setup),
      cmocka_unit_test_setup(fixed_hold_delay_deletes_after_that_many_seconds, setup),
      cmocka_unit_test_setup(auto_hold_delay_is_three_read_intervals_within_bounds, setup),
      cmocka_unit_test_setup(a_full_table_is_said_once, setup),
  };
  return cmocka_run_group_tests_name("presence", tests, NULL, NULL);
}
