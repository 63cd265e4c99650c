/* The core as a platform main drives it: scenario -> numbered events in posts,
 * retransmission, commands, the stream, persisted state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "frame_json.h"
#include "frame_pb.h"
#include "spot.h"

#define T0 1772352000000ULL /* 2026-03-01T08:00:00Z */

typedef struct platform_log {
  spot_persist_t saved;
  int saves;
  char fw_url[128];
  char fw_version[32];
  int config_changes;
} platform_log_t;

static platform_log_t plog;

static bool p_save(void *ctx, const spot_persist_t *st) {
  (void)ctx;
  plog.saved = *st;
  plog.saves++;
  return true;
}
static void p_firmware(void *ctx, const char *url, const char *version) {
  (void)ctx;
  strcpy(plog.fw_url, url);
  strcpy(plog.fw_version, version);
}
static void p_config_changed(void *ctx, const spot_config_t *c) {
  (void)ctx;
  (void)c;
  plog.config_changes++;
}

static const spot_platform_t platform = {NULL, p_save, NULL, NULL, p_firmware, p_config_changed};

static spot_t *start(spot_encoding_t enc, const char *scenario, const spot_persist_t *persisted) {
  memset(&plog, 0, sizeof plog);
  spot_init_t init = {4711, "2.3.1", enc, persisted, false, T0, scenario, scenario ? strlen(scenario) : 0, true};
  spot_t *s = spot_instance();
  assert_true(spot_init(s, &platform, &init));
  return s;
}

static void run_until(spot_t *s, uint64_t from, uint64_t to) {
  for (uint64_t t = from; t <= to; t += 10) spot_tick(s, t);
}

/* One decoded event of a post. */
typedef struct got {
  pb_size_t body;
  char code[65];
  int proximity;
  uint64_t seq;
  char text[300];
} got_t;

static got_t got[512];
static int got_count;
static uint8_t post_bytes[256 * 1024];
static size_t post_len;
static spot_v1_Frame frame;

static void note(const spot_v1_Frame *f, uint64_t seq) {
  assert_true(got_count < 512);
  got_t *g = &got[got_count++];
  memset(g, 0, sizeof *g);
  g->body = f->which_body;
  g->seq = seq;
  const spot_v1_Presence *p = NULL;
  if (f->which_body == spot_v1_Frame_presence_create_tag) p = &f->body.presence_create;
  if (f->which_body == spot_v1_Frame_presence_update_tag) p = &f->body.presence_update;
  if (f->which_body == spot_v1_Frame_presence_delete_tag) p = &f->body.presence_delete;
  if (p) {
    strcpy(g->code, p->item_code);
    g->proximity = p->proximity;
  }
  if (f->which_body == spot_v1_Frame_log_create_tag) strcpy(g->text, f->body.log_create.text);
}

/* Reads one whole post (in small pieces, like chunks) and decodes its JSON events. */
static spot_post_info_t read_post_json(spot_t *s) {
  spot_post_info_t info;
  spot_post_begin(s, &info);
  post_len = 0;
  size_t n;
  while ((n = spot_post_read(s, post_bytes + post_len, 7)) > 0) post_len += n;
  assert_true(spot_post_at_event_boundary(s));
  got_count = 0;
  size_t start = 0;
  for (size_t i = 0; i + 1 < post_len; i++) {
    if (post_bytes[i] == '\n' && post_bytes[i + 1] == '\n') {
      const char *why = NULL;
      if (!frame_json_decode((const char *)post_bytes + start, i - start, &frame, &why)) fail_msg("%s", why);
      note(&frame, info.first_seq + (uint64_t)got_count);
      start = i + 2;
      i++;
    }
  }
  assert_int_equal(start, post_len);
  return info;
}

static spot_post_info_t read_post_pb(spot_t *s) {
  spot_post_info_t info;
  spot_post_begin(s, &info);
  post_len = 0;
  size_t n;
  while ((n = spot_post_read(s, post_bytes + post_len, 5)) > 0) post_len += n;
  got_count = 0;
  frame_pb_stream_t rx;
  frame_pb_stream_reset(&rx);
  size_t i = 0;
  while (i < post_len) {
    uint32_t len = 0;
    int shift = 0;
    while (post_bytes[i] & 0x80) len |= (uint32_t)(post_bytes[i++] & 0x7f) << (shift += 7, shift - 7);
    len |= (uint32_t)post_bytes[i++] << shift;
    const char *why = NULL;
    if (!frame_pb_decode(&rx, post_bytes + i, len, &frame, &why)) fail_msg("%s", why);
    assert_true(frame.has_seq);
    assert_int_equal(frame.boot, info.boot);
    note(&frame, frame.seq);
    i += len;
  }
  return info;
}

static int find(pb_size_t body, const char *code, int from) {
  for (int i = from; i < got_count; i++)
    if (got[i].body == body && (code == NULL || strcmp(got[i].code, code) == 0)) return i;
  return -1;
}

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

static void config_update_command_is_applied_and_reported(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "", NULL);
  const char body[] = "[\"config\",\"update\",{\"send_hits\":true,\"brain_address\":\"10.1.1.1\",\"colour\":1,"
                      "\"rfid_power_dbm\":77}]\n\n";
  spot_command_input(s, (const uint8_t *)body, sizeof body - 1);
  spot_command_end(s);
  assert_true(spot_config(s)->send_hits);
  assert_string_equal(spot_config(s)->brain_address, "10.1.1.1");
  assert_int_equal(spot_config(s)->rfid_power_dbm, 27);
  assert_true(plog.saved.config.send_hits);
  assert_int_equal(plog.config_changes, 1);
  read_post_json(s);
  assert_int_equal(got_count, 3);
  assert_int_equal(got[0].body, spot_v1_Frame_log_create_tag);
  assert_string_equal(got[0].text, "config update: rfid_power_dbm=77 outside 0..33, rejected");
  assert_int_equal(got[1].body, spot_v1_Frame_log_create_tag);
  assert_string_equal(got[1].text, "config update: unknown key \"colour\" ignored");
  assert_int_equal(got[2].body, spot_v1_Frame_config_update_tag);
  /* The config update event names exactly the changed keys. */
  const char *start_of_last = strstr((const char *)post_bytes, "[\"config\",\"update\"");
  assert_non_null(start_of_last);
  assert_memory_equal(start_of_last,
                      "[\"config\",\"update\",{\"brain_address\":\"10.1.1.1\",\"send_hits\":true}]\n\n",
                      strlen("[\"config\",\"update\",{\"brain_address\":\"10.1.1.1\",\"send_hits\":true}]\n\n"));
}

static void reset_restores_factory_defaults(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "", NULL);
  const char a[] = "[\"config\",\"update\",{\"hostname\":\"door\"}]";
  spot_command_input(s, (const uint8_t *)a, sizeof a - 1);
  assert_string_equal(spot_config(s)->hostname, "door");
  const char b[] = "[\"config\",\"update\",{\"reset\":true}]";
  spot_command_input(s, (const uint8_t *)b, sizeof b - 1);
  assert_string_equal(spot_config(s)->hostname, "spot");
  read_post_json(s);
  assert_int_equal(got_count, 2); /* two config updates, each with the hostname */
  assert_int_equal(got[1].body, spot_v1_Frame_config_update_tag);
}

static void firmware_update_and_counters_and_brain_senses(void **state) {
  (void)state;
  spot_persist_t old;
  memset(&old, 0, sizeof old);
  old.magic = SPOT_PERSIST_MAGIC;
  old.version = SPOT_PERSIST_VERSION;
  old.boot_count = 41;
  old.presence_create_count = 9;
  spot_config_defaults(&old.config);
  spot_t *s = start(SPOT_ENCODING_JSON, "", &old);
  assert_int_equal(spot_state(s)->boot_count, 42);
  assert_int_equal(plog.saved.boot_count, 42);
  const char body[] = "[\"firmware\",\"update\",{\"url\":\"/firmware/beta/beta22.bin\",\"version\":\"beta22\"}]"
                      "[\"firmware\",\"update\",{\"reset_counters\":true}]"
                      "[\"brain_sense\",\"update\",{\"bs1\":5,\"bs3\":-2}]"
                      "[\"door\",\"open\",{}]";
  spot_command_input(s, (const uint8_t *)body, sizeof body - 1);
  spot_command_end(s);
  assert_string_equal(plog.fw_url, "/firmware/beta/beta22.bin");
  assert_string_equal(plog.fw_version, "beta22");
  assert_string_equal(spot_state(s)->firmware_version, "beta22");
  assert_int_equal(spot_state(s)->boot_count, 0);
  assert_int_equal(spot_state(s)->presence_create_count, 0);
  assert_int_equal(spot_state(s)->brain_sense[0], 5);
  assert_int_equal(spot_state(s)->brain_sense[2], -2);
  spot_post_info_t info = read_post_json(s);
  assert_int_equal(info.boot, 42); /* numbering keeps this run's boot */
  assert_int_equal(find(spot_v1_Frame_brain_sense_update_tag, NULL, 0) >= 0, 1);
  assert_string_equal(got[got_count - 1].text, "command door open not supported, ignored");
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

static void stream_commands_do_not_mix_with_a_response_body(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "", NULL);
  spot_stream_open(s);
  const char half[] = "[\"config\",\"update\",{\"hostname\":";
  const char rest[] = "\"desk\"}]";
  const char body[] = "[\"config\",\"update\",{\"telnet\":true}]";
  spot_stream_command_input(s, (const uint8_t *)half, sizeof half - 1);
  spot_command_input(s, (const uint8_t *)body, sizeof body - 1); /* a response body arrives meanwhile */
  spot_command_end(s);
  spot_stream_command_input(s, (const uint8_t *)rest, sizeof rest - 1);
  assert_true(spot_config(s)->telnet);
  assert_string_equal(spot_config(s)->hostname, "desk");
}

static void invalid_persisted_state_means_factory_defaults(void **state) {
  (void)state;
  spot_persist_t junk;
  memset(&junk, 0xab, sizeof junk);
  spot_t *s = start(SPOT_ENCODING_JSON, "", &junk);
  assert_int_equal(spot_state(s)->boot_count, 1);
  assert_string_equal(spot_config(s)->hostname, "spot");
}

static void bad_scenario_is_reported_and_the_spot_runs_without_tags(void **state) {
  (void)state;
  spot_init_t init = {1, "x", SPOT_ENCODING_JSON, NULL, false, T0, "at zero tag", 11, true};
  spot_t *s = spot_instance();
  assert_false(spot_init(s, &platform, &init));
  assert_string_equal(spot_last_error(s), "scenario line 1: bad time \"zero\"");
  run_until(s, T0, T0 + 3000);
  assert_false(spot_post_pending(s));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_scenario_json),
      cmocka_unit_test(default_scenario_pb),
      cmocka_unit_test(unacknowledged_post_is_sent_again_with_the_same_numbers),
      cmocka_unit_test(events_made_while_the_server_is_down_follow_the_retransmitted_ones),
      cmocka_unit_test(a_post_cut_in_the_middle_of_an_event_resends_that_event),
      cmocka_unit_test(a_slow_stream_skips_and_says_so),
      cmocka_unit_test(config_update_command_is_applied_and_reported),
      cmocka_unit_test(reset_restores_factory_defaults),
      cmocka_unit_test(firmware_update_and_counters_and_brain_senses),
      cmocka_unit_test(ring_overflow_is_said_in_a_log_event),
      cmocka_unit_test(stream_introduces_itself_then_goes_live_with_alive_signals),
      cmocka_unit_test(stream_commands_do_not_mix_with_a_response_body),
      cmocka_unit_test(invalid_persisted_state_means_factory_defaults),
      cmocka_unit_test(bad_scenario_is_reported_and_the_spot_runs_without_tags),
  };
  return cmocka_run_group_tests_name("spot", tests, NULL, NULL);
}
