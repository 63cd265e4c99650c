/* The core as a platform main drives it: scenario -> numbered events in posts,
 * retransmission, commands, the stream, persisted state. */
#include "spot_harness.h"


#define D1 "e28011700000020a1b2c3d01"
#define D2 "e28011700000020a1b2c3d02"
#define D3 "e28011700000020a1b2c3d03"
#define BLE "c0ffee000001"

static void default_scenario_gives_the_documented_presences(spot_encoding_t enc) {
  spot_t *s = start(enc, NULL, NULL);
  spot_connected(s);
  run_until(s, T0, T0 + 8000);
  spot_post_info_t info = enc == SPOT_ENCODING_PB ? read_post_pb(s) : read_post_json(s);
  assert_int_equal(info.boot, 1);
  assert_int_equal(info.first_seq, 1);
  assert_int_equal(got[0].body, spot_v1_Frame_spot_create_tag);
  assert_int_equal(got[1].body, spot_v1_Frame_config_create_tag);
  const struct {
    pb_size_t body;
    const char *code;
    int proximity;
  } want[] = {
      {spot_v1_Frame_presence_create_tag, D1, spot_v1_Proximity_PROXIMITY_IMMEDIATE},
      {spot_v1_Frame_presence_create_tag, D2, spot_v1_Proximity_PROXIMITY_FAR},
      {spot_v1_Frame_presence_create_tag, BLE, spot_v1_Proximity_PROXIMITY_NEAR},
      {spot_v1_Frame_presence_update_tag, D2, spot_v1_Proximity_PROXIMITY_NEAR},
      {spot_v1_Frame_presence_create_tag, D3, spot_v1_Proximity_PROXIMITY_NEAR},
      {spot_v1_Frame_presence_delete_tag, D1, spot_v1_Proximity_PROXIMITY_IMMEDIATE},
      {spot_v1_Frame_presence_delete_tag, BLE, spot_v1_Proximity_PROXIMITY_NEAR},
      {spot_v1_Frame_presence_delete_tag, D2, spot_v1_Proximity_PROXIMITY_NEAR},
  };
  int n = (int)(sizeof want / sizeof want[0]);
  assert_int_equal(got_count, 2 + n);
  for (int i = 0; i < n; i++) {
    assert_int_equal(got[2 + i].body, want[i].body);
    assert_string_equal(got[2 + i].code, want[i].code);
    assert_int_equal(got[2 + i].proximity, want[i].proximity);
    assert_int_equal(got[2 + i].seq, 3 + (uint64_t)i);
  }
  spot_post_ack(s);
  assert_false(spot_post_pending(s));
  assert_int_equal(spot_state(s)->presence_create_count, 4);
}

static void default_scenario_json(void **state) {
  (void)state;
  default_scenario_gives_the_documented_presences(SPOT_ENCODING_JSON);
}

static void default_scenario_pb(void **state) {
  (void)state;
  default_scenario_gives_the_documented_presences(SPOT_ENCODING_PB);
}

/* Issue 4: tags read before the network is up must not overtake the introduction. */
static void events_waiting_before_the_first_connection_follow_the_introduction(spot_encoding_t enc) {
  spot_t *s = start(enc, "at 0 tag aa01 enter antenna 1 rssi -400\nat 50 tag aa02 enter antenna 1 rssi -400\n", NULL);
  run_until(s, T0, T0 + 200); /* two presences wait in the ring, nothing was ever posted */
  spot_connected(s);
  spot_post_info_t info = enc == SPOT_ENCODING_PB ? read_post_pb(s) : read_post_json(s);
  assert_int_equal(info.first_seq, 1);
  assert_int_equal(got_count, 4);
  assert_int_equal(got[0].body, spot_v1_Frame_spot_create_tag);
  assert_int_equal(got[1].body, spot_v1_Frame_config_create_tag);
  assert_int_equal(got[2].body, spot_v1_Frame_presence_create_tag);
  assert_string_equal(got[2].code, "aa01");
  assert_int_equal(got[3].body, spot_v1_Frame_presence_create_tag);
  assert_string_equal(got[3].code, "aa02");
  for (int i = 0; i < got_count; i++) assert_int_equal(got[i].seq, 1 + (uint64_t)i);
  spot_post_ack(s);
  run_until(s, T0 + 210, T0 + 300);
  spot_post_begin(s, &info); /* numbering goes on after the renumbered events */
  assert_int_equal(info.first_seq, 5);
  spot_post_fail(s);
}

static void waiting_events_follow_the_introduction_json(void **state) {
  (void)state;
  events_waiting_before_the_first_connection_follow_the_introduction(SPOT_ENCODING_JSON);
}

static void waiting_events_follow_the_introduction_pb(void **state) {
  (void)state;
  events_waiting_before_the_first_connection_follow_the_introduction(SPOT_ENCODING_PB);
}

static void unacknowledged_post_is_sent_again_with_the_same_numbers(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "at 0 tag aa01 enter antenna 1 rssi -400\n", NULL);
  spot_connected(s);
  run_until(s, T0, T0 + 100);
  static uint8_t first[4096];
  spot_post_info_t a = read_post_json(s);
  size_t first_len = post_len;
  memcpy(first, post_bytes, post_len);
  spot_post_fail(s); /* no 200 */
  run_until(s, T0 + 110, T0 + 200);
  spot_post_info_t b = read_post_json(s);
  assert_int_equal(b.first_seq, a.first_seq);
  assert_true(post_len == first_len); /* nothing new happened: same bytes */
  assert_memory_equal(post_bytes, first, first_len);
  spot_post_ack(s);
  spot_post_info_t c;
  spot_post_begin(s, &c);
  assert_int_equal(c.first_seq, a.first_seq + (uint64_t)got_count);
  spot_post_fail(s);
}

static void events_made_while_the_server_is_down_follow_the_retransmitted_ones(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_PB, "at 0 tag aa01 enter antenna 1 rssi -400\nat 2000 tag aa02 enter antenna 1 rssi -400\n",
                    NULL);
  spot_connected(s);
  run_until(s, T0, T0 + 100);
  spot_post_info_t a = read_post_pb(s);
  int first_count = got_count;
  spot_post_fail(s);
  run_until(s, T0 + 110, T0 + 3000); /* aa02 arrives, aa01 is deleted meanwhile */
  spot_connected(s);
  spot_post_info_t b = read_post_pb(s);
  assert_int_equal(b.first_seq, a.first_seq);
  assert_true(got_count > first_count);
  for (int i = 0; i < got_count; i++) assert_int_equal(got[i].seq, b.first_seq + (uint64_t)i);
  assert_int_equal(got[0].body, spot_v1_Frame_spot_create_tag);
  assert_true(find(spot_v1_Frame_presence_create_tag, "aa02", 0) > find(spot_v1_Frame_presence_create_tag, "aa01", 0));
  assert_true(find(spot_v1_Frame_spot_create_tag, NULL, 1) > find(spot_v1_Frame_presence_create_tag, "aa01", 0));
  /* The retransmitted events come first, then the new introduction, then what was never sent. */
  assert_int_equal(find(spot_v1_Frame_spot_create_tag, NULL, 1), first_count);
  assert_int_equal(got[first_count + 1].body, spot_v1_Frame_config_create_tag);
  assert_true(find(spot_v1_Frame_presence_create_tag, "aa02", 0) > first_count + 1);
  spot_post_ack(s);
  assert_false(spot_post_pending(s));
}

static void a_slow_stream_skips_and_says_so(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "rate 500\nat 0 tag aa01 enter antenna 1 rssi -400\n", NULL);
  const char cmd[] = "[\"config\",\"update\",{\"send_hits\":true}]";
  spot_command_input(s, (const uint8_t *)cmd, sizeof cmd - 1);
  spot_stream_open(s);
  run_until(s, T0, T0 + 2000); /* 1000 hits, nobody reading */
  static char out[512 * 1024];
  size_t len = 0, n;
  while ((n = spot_stream_read(s, (uint8_t *)out + len, 4096)) > 0) len += n;
  out[len] = '\0';
  assert_non_null(strstr(out, "events skipped"));
  assert_non_null(strstr(out, "[\"hit\",\"create\""));
}

static void a_post_cut_in_the_middle_of_an_event_resends_that_event(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "", NULL);
  spot_connected(s);
  spot_post_info_t info;
  uint8_t buf[64];
  spot_post_begin(s, &info);
  assert_true(spot_post_read(s, buf, sizeof buf) == sizeof buf); /* part of spot create */
  assert_false(spot_post_at_event_boundary(s));
  spot_post_ack(s);
  spot_post_begin(s, &info);
  assert_int_equal(info.first_seq, 1);
  spot_post_fail(s);
}

static void ring_overflow_is_said_in_a_log_event(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "rate 1000\nat 0 tag aa01 enter antenna 1 rssi -400\n", NULL);
  const char cmd[] = "[\"config\",\"update\",{\"send_hits\":true}]";
  spot_command_input(s, (const uint8_t *)cmd, sizeof cmd - 1);
  run_until(s, T0, T0 + 2000); /* 2000 hits, far more than the ring holds */
  read_post_json(s);
  assert_int_equal(got_count, SPOT_RING_EVENTS);
  assert_int_equal(got[got_count - 1].body, spot_v1_Frame_log_create_tag);
  assert_non_null(strstr(got[got_count - 1].text, "retransmit ring full"));
  assert_non_null(strstr(got[got_count - 1].text, "oldest events dropped"));
  assert_int_equal(got[0].body, spot_v1_Frame_hit_create_tag);
}

/* A ring full of events never sent at the connection: the introduction (and the boot
 * findings behind it) goes first, and the log event saying what overflowed, queued
 * when the post begins, pushes out the oldest waiting event, never the introduction. */
static void a_full_ring_at_the_connection_keeps_the_introduction(void **state) {
  (void)state;
  spot_persist_t old;
  memset(&old, 0, sizeof old);
  old.config_schema = SPOT_CONFIG_SCHEMA_ID;
  spot_config_defaults(&old.config);
  old.config.rfid_blf = 9999; /* corrupt: one boot finding */
  spot_t *s = start(SPOT_ENCODING_JSON, "rate 1000\nat 0 tag aa01 enter antenna 1 rssi -400\n", &old);
  const char cmd[] = "[\"config\",\"update\",{\"send_hits\":true}]";
  spot_command_input(s, (const uint8_t *)cmd, sizeof cmd - 1);
  run_until(s, T0, T0 + 2000); /* 2000 hits, far more than the ring holds, never sent */
  spot_connected(s);
  spot_post_info_t info = read_post_json(s);
  assert_int_equal(got_count, SPOT_RING_EVENTS);
  assert_int_equal(got[0].body, spot_v1_Frame_spot_create_tag);
  assert_int_equal(got[1].body, spot_v1_Frame_config_create_tag);
  assert_string_equal(got[2].text, "stored config: rfid_blf was invalid, factory default used");
  assert_int_equal(got[3].body, spot_v1_Frame_hit_create_tag);
  assert_non_null(strstr(got[got_count - 1].text, "retransmit ring full"));
  for (int i = 0; i < got_count; i++) assert_int_equal(got[i].seq, info.first_seq + (uint64_t)i);
  /* More overflow before any acknowledgement: the introduction still stays. */
  spot_post_fail(s);
  run_until(s, T0 + 2010, T0 + 3000);
  info = read_post_json(s);
  assert_int_equal(got[0].body, spot_v1_Frame_spot_create_tag);
  assert_int_equal(got[1].body, spot_v1_Frame_config_create_tag);
  assert_int_equal(got[2].body, spot_v1_Frame_log_create_tag);
  for (int i = 0; i < got_count; i++) assert_int_equal(got[i].seq, info.first_seq + (uint64_t)i);
  /* Acknowledged: the introduction is released like any event. */
  spot_post_ack(s);
  run_until(s, T0 + 3010, T0 + 4000);
  read_post_json(s);
  assert_int_equal(got[0].body, spot_v1_Frame_hit_create_tag);
  spot_post_fail(s);
}

static void stream_introduces_itself_then_goes_live_with_alive_signals(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "at 500 tag aa01 enter antenna 1 rssi -400\n", NULL);
  static char out[8192];
  size_t len = 0, n;
  spot_stream_open(s);
  run_until(s, T0, T0 + 1200);
  while ((n = spot_stream_read(s, (uint8_t *)out + len, 11)) > 0) len += n;
  out[len] = '\0';
  const char *spot_create = strstr(out, "[\"spot\",\"create\",{\"spot_id\":4711,\"version\":\"2.3.1\",\"pcb_version\":\"sim\",\"online\":true,\"dip_mask\":0,\"rfid_swr\":[1.2,1.2,1.2,1.2]");
  const char *config_create = strstr(out, "[\"config\",\"create\",{\"rfid_power_dbm\":27,");
  const char *alive = strstr(out, "[\"spot\",\"update\",{\"online\":true}]\n\n");
  const char *presence = strstr(out, "[\"presence\",\"create\",{\"item_code\":\"aa01\"");
  assert_true(spot_create == out);
  assert_non_null(config_create);
  assert_non_null(alive);
  assert_non_null(presence);
  assert_true(spot_create < config_create);
}

static void disabled_antennas_read_nothing(void **state) {
  (void)state;
  spot_persist_t old;
  memset(&old, 0, sizeof old);
  old.config_schema = SPOT_CONFIG_SCHEMA_ID;
  spot_config_defaults(&old.config);
  old.config.antenna_disable_mask = 2; /* antenna 2 */
  old.config.rfid_blf = 9999;          /* corrupt: back to the default, said in a log event */
  spot_t *s = start(SPOT_ENCODING_JSON,
                    "at 0 tag aa01 enter antenna 1 rssi -400\nat 0 tag aa02 enter antenna 2 rssi -400\n", &old);
  spot_connected(s);
  run_until(s, T0, T0 + 1000);
  read_post_json(s);
  assert_int_equal(spot_config(s)->rfid_blf, 320);
  assert_int_equal(got[0].body, spot_v1_Frame_spot_create_tag); /* spot create stays first */
  assert_int_equal(got[2].body, spot_v1_Frame_log_create_tag);
  assert_string_equal(got[2].text, "stored config: rfid_blf was invalid, factory default used");
  assert_true(find(spot_v1_Frame_presence_create_tag, "aa01", 0) > 0);
  assert_int_equal(find(spot_v1_Frame_presence_create_tag, "aa02", 0), -1);
}

static void boot_findings_follow_the_introduction_even_when_events_wait(void **state) {
  (void)state;
  spot_persist_t old;
  memset(&old, 0, sizeof old);
  old.config_schema = SPOT_CONFIG_SCHEMA_ID;
  spot_config_defaults(&old.config);
  old.config.rfid_blf = 9999; /* corrupt */
  spot_t *s = start(SPOT_ENCODING_JSON, "at 0 tag aa01 enter antenna 1 rssi -400\n", &old);
  run_until(s, T0, T0 + 100);
  spot_connected(s);
  read_post_json(s);
  assert_int_equal(got_count, 4);
  assert_int_equal(got[0].body, spot_v1_Frame_spot_create_tag);
  assert_int_equal(got[1].body, spot_v1_Frame_config_create_tag);
  assert_string_equal(got[2].text, "stored config: rfid_blf was invalid, factory default used");
  assert_string_equal(got[3].code, "aa01");
  spot_post_fail(s);
}

static void the_stream_neither_repeats_nor_loses_events_renumbered_by_a_connection(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "at 0 tag aa01 enter antenna 1 rssi -400\nat 500 tag aa02 enter antenna 1 rssi -400\n", NULL);
  static char out[16384];
  size_t len = 0, n;
  spot_stream_open(s);
  run_until(s, T0, T0 + 100);
  while ((n = spot_stream_read(s, (uint8_t *)out + len, 64)) > 0) len += n; /* aa01 streamed, not yet posted */
  spot_connected(s);
  run_until(s, T0 + 110, T0 + 600);
  while ((n = spot_stream_read(s, (uint8_t *)out + len, 64)) > 0) len += n;
  out[len] = '\0';
  const char *first = strstr(out, "\"item_code\":\"aa01\"");
  assert_non_null(first);
  assert_null(strstr(first + 1, "\"item_code\":\"aa01\""));
  assert_non_null(strstr(out, "\"item_code\":\"aa02\""));
}

static void config_stored_by_another_layout_is_not_trusted(void **state) {
  (void)state;
  spot_persist_t old;
  memset(&old, 0, sizeof old);
  old.config_schema = SPOT_CONFIG_SCHEMA_ID ^ 1;
  old.boot_count = 7;
  spot_config_defaults(&old.config);
  strcpy(old.config.hostname, "kept?");
  spot_t *s = start(SPOT_ENCODING_JSON, "", &old);
  assert_int_equal(spot_state(s)->boot_count, 8);
  assert_string_equal(spot_config(s)->hostname, "spot");
  assert_int_equal(plog.saved.config_schema, SPOT_CONFIG_SCHEMA_ID);
  read_post_json(s);
  assert_int_equal(got_count, 0); /* said after the first spot create, not before */
  spot_stream_open(s);
  static char out[8192];
  size_t len = 0, n;
  while ((n = spot_stream_read(s, (uint8_t *)out + len, 256)) > 0) len += n;
  out[len] = '\0';
  const char *config_create = strstr(out, "[\"config\",\"create\"");
  const char *log = strstr(out, "stored config has another layout (older firmware): factory defaults used");
  assert_non_null(config_create);
  assert_non_null(log);
  assert_true(config_create < log);
}

static void bad_scenario_is_reported_and_the_spot_runs_without_tags(void **state) {
  (void)state;
  spot_init_t init = {1, "x", SPOT_ENCODING_JSON, NULL, 0, false, T0, "at zero tag", 11, true, 0};
  spot_t *s = &the_spot;
  assert_false(spot_init(s, &platform, &init));
  assert_string_equal(spot_last_error(s), "scenario line 1: bad time \"zero\"");
  run_until(s, T0, T0 + 3000);
  assert_false(spot_post_pending(s));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_scenario_json),
      cmocka_unit_test(default_scenario_pb),
      cmocka_unit_test(waiting_events_follow_the_introduction_json),
      cmocka_unit_test(waiting_events_follow_the_introduction_pb),
      cmocka_unit_test(unacknowledged_post_is_sent_again_with_the_same_numbers),
      cmocka_unit_test(events_made_while_the_server_is_down_follow_the_retransmitted_ones),
      cmocka_unit_test(a_post_cut_in_the_middle_of_an_event_resends_that_event),
      cmocka_unit_test(a_slow_stream_skips_and_says_so),
      cmocka_unit_test(ring_overflow_is_said_in_a_log_event),
      cmocka_unit_test(a_full_ring_at_the_connection_keeps_the_introduction),
      cmocka_unit_test(stream_introduces_itself_then_goes_live_with_alive_signals),
      cmocka_unit_test(disabled_antennas_read_nothing),
      cmocka_unit_test(boot_findings_follow_the_introduction_even_when_events_wait),
      cmocka_unit_test(the_stream_neither_repeats_nor_loses_events_renumbered_by_a_connection),
      cmocka_unit_test(config_stored_by_another_layout_is_not_trusted),
      cmocka_unit_test(bad_scenario_is_reported_and_the_spot_runs_without_tags),
  };
  return cmocka_run_group_tests_name("spot", tests, NULL, NULL);
}
