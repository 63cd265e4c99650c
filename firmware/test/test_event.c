/* Events as the ring keeps them and their Frame form (event.c): every kind, numbering, text limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config_apply.h"
#include "event.h"
#include "frame_json.h"
#include "pb_encode.h"
#include "spot.h"

static spot_config_t config;
static spot_v1_Frame frame;

static event_context_t context(const char *version) {
  spot_config_defaults(&config);
  event_context_t ctx = {.serial = 4711, .version = version, .config = &config};
  return ctx;
}

static void filled(char *dst, size_t len, char c) {
  memset(dst, c, len);
  dst[len] = '\0';
}

static void event_log_clears_the_event_and_keeps_short_text(void **state) {
  (void)state;
  spot_event_t ev;
  memset(&ev, 0xa5, sizeof ev);
  event_log(&ev, 1767225600000, SPOT_LOG_WARN, LOG_CODE_RING_OVERFLOW, "ring full: 3 events dropped");
  assert_int_equal(ev.kind, EVENT_LOG_CREATE);
  assert_int_equal(ev.time, 1767225600000);
  assert_int_equal(ev.u.log.level, SPOT_LOG_WARN);
  assert_int_equal(ev.u.log.code, LOG_CODE_RING_OVERFLOW);
  assert_string_equal(ev.u.log.text, "ring full: 3 events dropped");
  assert_int_equal(ev.boot, 0);
  assert_int_equal(ev.seq, 0);
}

static void event_log_takes_empty_text(void **state) {
  (void)state;
  spot_event_t ev;
  event_log(&ev, 0, SPOT_LOG_INFO, 0, "");
  assert_string_equal(ev.u.log.text, "");
}

static void event_log_truncates_text_at_the_limit(void **state) {
  (void)state;
  char exact[SPOT_LOG_TEXT_MAX], longer[SPOT_LOG_TEXT_MAX + 40];
  filled(exact, SPOT_LOG_TEXT_MAX - 1, 'a');
  filled(longer, sizeof longer - 1, 'b');
  spot_event_t ev;
  event_log(&ev, 5, SPOT_LOG_ERROR, 9, exact);
  assert_string_equal(ev.u.log.text, exact);
  event_log(&ev, 5, SPOT_LOG_ERROR, 9, longer);
  assert_int_equal(strlen(ev.u.log.text), SPOT_LOG_TEXT_MAX - 1);
  assert_int_equal(ev.u.log.text[SPOT_LOG_TEXT_MAX - 2], 'b');
}

static void log_event_becomes_log_create(void **state) {
  (void)state;
  event_context_t ctx = context("1.0.0");
  spot_event_t ev;
  event_log(&ev, 1234, SPOT_LOG_ERROR, LOG_CODE_COMMAND_MALFORMED, "command: not JSON");
  event_to_frame(&ev, &ctx, false, &frame);
  assert_int_equal(frame.which_body, spot_v1_Frame_log_create_tag);
  const spot_v1_LogMessage *l = &frame.body.log_create;
  assert_true(l->has_level && l->has_code && l->has_text && l->has_time);
  assert_int_equal(l->level, spot_v1_LogLevel_LOG_LEVEL_ERROR);
  assert_int_equal(l->code, LOG_CODE_COMMAND_MALFORMED);
  assert_string_equal(l->text, "command: not JSON");
  assert_int_equal(l->time, 1234);
}

static void numbering_only_when_asked_and_numbered(void **state) {
  (void)state;
  event_context_t ctx = context("1.0.0");
  spot_event_t ev;
  event_log(&ev, 1, SPOT_LOG_INFO, 0, "x");
  ev.boot = 7;
  ev.seq = 42;
  event_to_frame(&ev, &ctx, true, &frame);
  assert_true(frame.has_boot && frame.has_seq);
  assert_int_equal(frame.boot, 7);
  assert_int_equal(frame.seq, 42);
  event_to_frame(&ev, &ctx, false, &frame); /* JSON streams carry no numbering */
  assert_false(frame.has_boot || frame.has_seq);
  ev.seq = 0; /* seq 0 = not numbered, even on a PB stream */
  event_to_frame(&ev, &ctx, true, &frame);
  assert_false(frame.has_boot || frame.has_seq);
  ev.seq = UINT64_MAX;
  event_to_frame(&ev, &ctx, true, &frame);
  assert_true(frame.seq == UINT64_MAX);
}

static void spot_create_carries_context_and_counters(void **state) {
  (void)state;
  event_context_t ctx = context("2.3.4");
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_SPOT_CREATE;
  ev.time = 1000;
  ev.u.spot.boot_count = 3;
  ev.u.spot.watchdog_count = 1;
  ev.u.spot.presence_create_count = 17;
  ev.u.spot.time_started = 900;
  event_to_frame(&ev, &ctx, false, &frame);
  assert_int_equal(frame.which_body, spot_v1_Frame_spot_create_tag);
  const spot_v1_SpotInfo *s = &frame.body.spot_create;
  assert_int_equal(s->spot_id, 4711);
  assert_string_equal(s->version, "2.3.4");
  assert_true(s->has_online && s->online);
  assert_string_equal(s->pcb_version, "sim");
  assert_int_equal(s->rfid_swr_count, 4);
  assert_true(s->rfid_swr[3] > 1.0 && s->rfid_swr[3] < 1.5);
  assert_int_equal(s->boot_count, 3);
  assert_int_equal(s->watchdog_count, 1);
  assert_int_equal(s->presence_create_count, 17);
  assert_int_equal(s->time_started, 900);
  assert_int_equal(s->time, 1000);
  assert_true(s->has_output_1 && s->has_output_2 && s->has_input_1 && s->has_input_2);
}

static void spot_create_without_version_or_with_a_long_one(void **state) {
  (void)state;
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_SPOT_CREATE;
  event_context_t ctx = context(NULL);
  event_to_frame(&ev, &ctx, false, &frame);
  assert_true(frame.body.spot_create.has_version);
  assert_string_equal(frame.body.spot_create.version, "");
  char longer[SPOT_VERSION_MAX + 10];
  filled(longer, sizeof longer - 1, 'v');
  ctx = context(longer);
  event_to_frame(&ev, &ctx, false, &frame);
  assert_int_equal(strlen(frame.body.spot_create.version), sizeof frame.body.spot_create.version - 1);
}

static void alive_is_spot_update_online_only(void **state) {
  (void)state;
  event_context_t ctx = context("1.0.0");
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_SPOT_ALIVE;
  event_to_frame(&ev, &ctx, false, &frame);
  assert_int_equal(frame.which_body, spot_v1_Frame_spot_update_tag);
  assert_true(frame.body.spot_update.has_online && frame.body.spot_update.online);
}

static void config_create_has_every_key_and_update_only_the_changed(void **state) {
  (void)state;
  event_context_t ctx = context("1.0.0");
  config.rfid_power_dbm = 21;
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_CONFIG_CREATE;
  ev.u.config.keys = 0; /* create ignores the mask */
  event_to_frame(&ev, &ctx, false, &frame);
  assert_int_equal(frame.which_body, spot_v1_Frame_config_create_tag);
  assert_true(frame.body.config_create.has_rfid_power_dbm && frame.body.config_create.has_hostname);
  assert_int_equal(frame.body.config_create.rfid_power_dbm, 21);

  ev.kind = EVENT_CONFIG_UPDATE;
  ev.u.config.keys = (uint64_t)1 << SPOT_CONFIG_KEY_RFID_POWER_DBM;
  event_to_frame(&ev, &ctx, false, &frame);
  assert_int_equal(frame.which_body, spot_v1_Frame_config_update_tag);
  assert_true(frame.body.config_update.has_rfid_power_dbm);
  assert_int_equal(frame.body.config_update.rfid_power_dbm, 21);
  assert_false(frame.body.config_update.has_hostname || frame.body.config_update.has_brain_address);

  ev.u.config.keys = 0; /* nothing changed: an empty update */
  event_to_frame(&ev, &ctx, false, &frame);
  assert_int_equal(frame.which_body, spot_v1_Frame_config_update_tag);
  assert_false(frame.body.config_update.has_rfid_power_dbm || frame.body.config_update.has_hostname);
}

/* The largest event (config create with every text key at its longest, numbered) fits one encoded event in
 * both encodings, at the default SPOT_EVENT_BYTES and at mps2's (SPOT_MPS2_EVENT_BYTES, from firmware.mk). */
static void longest_config_create_fits_the_event_buffer(void **state) {
  (void)state;
  event_context_t ctx = context("1.0.0");
  for (int i = 0; i < SPOT_CONFIG_KEY_COUNT; i++) {
    const spot_config_key_t *k = &spot_config_keys[i];
    if (k->type == SPOT_CONFIG_STRING || k->type == SPOT_CONFIG_OBJECT) filled((char *)&config + k->offset, k->size - 1u, 'z');
  }
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_CONFIG_CREATE;
  ev.boot = UINT32_MAX;
  ev.seq = UINT64_MAX;
  event_to_frame(&ev, &ctx, true, &frame);
  size_t size = 0;
  assert_true(pb_get_encoded_size(&size, spot_v1_Frame_fields, &frame));
  assert_true(size > 0);
  assert_true(size <= SPOT_EVENT_BYTES);
  static uint8_t json[SPOT_EVENT_BYTES];
  size_t json_len = frame_json_encode(&frame, json, sizeof json);
  assert_true(json_len > size);
  assert_memory_equal(json, "[\"config\",\"create\",{", 20);
  assert_true(json_len <= SPOT_MPS2_EVENT_BYTES);
}

static void hit_copies_item_antenna_and_signal(void **state) {
  (void)state;
  event_context_t ctx = context("1.0.0");
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_HIT_CREATE;
  ev.time = 77;
  strcpy(ev.u.hit.item.code, "e28011700000020a1b2c3d01");
  ev.u.hit.item.codetype = spot_v1_ItemCodeType_ITEM_CODE_TYPE_EPC_GEN2;
  ev.u.hit.antenna = 3;
  ev.u.hit.signal_strength = INT16_MIN;
  event_to_frame(&ev, &ctx, false, &frame);
  assert_int_equal(frame.which_body, spot_v1_Frame_hit_create_tag);
  const spot_v1_Hit *h = &frame.body.hit_create;
  assert_string_equal(h->item_code, "e28011700000020a1b2c3d01");
  assert_int_equal(h->item_codetype, spot_v1_ItemCodeType_ITEM_CODE_TYPE_EPC_GEN2);
  assert_int_equal(h->antenna, 3);
  assert_int_equal(h->signal_strength, INT16_MIN);
  assert_int_equal(h->time, 77);
}

static void presences_map_to_their_actions_with_the_longest_item_code(void **state) {
  (void)state;
  event_context_t ctx = context("1.0.0");
  const struct {
    uint8_t kind;
    pb_size_t tag;
  } cases[] = {
      {EVENT_PRESENCE_CREATE, spot_v1_Frame_presence_create_tag},
      {EVENT_PRESENCE_UPDATE, spot_v1_Frame_presence_update_tag},
      {EVENT_PRESENCE_DELETE, spot_v1_Frame_presence_delete_tag},
  };
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  filled(ev.u.presence.item.code, SPOT_ITEM_CODE_MAX - 1, 'f');
  ev.u.presence.item.codetype = spot_v1_ItemCodeType_ITEM_CODE_TYPE_BLUETOOTH_LE;
  ev.u.presence.time_started = 100;
  ev.u.presence.hold_delay_s = UINT16_MAX;
  ev.u.presence.proximity = spot_v1_Proximity_PROXIMITY_NEAR;
  ev.time = 250;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ev.kind = cases[i].kind;
    event_to_frame(&ev, &ctx, false, &frame);
    assert_int_equal(frame.which_body, cases[i].tag);
    /* the three actions share one Presence layout in the oneof */
    const spot_v1_Presence *p = &frame.body.presence_create;
    assert_string_equal(p->item_code, ev.u.presence.item.code);
    assert_int_equal(p->item_codetype, spot_v1_ItemCodeType_ITEM_CODE_TYPE_BLUETOOTH_LE);
    assert_int_equal(p->time_started, 100);
    assert_int_equal(p->time_last, 250);
    assert_int_equal(p->proximity, spot_v1_Proximity_PROXIMITY_NEAR);
    assert_int_equal(p->hold_delay_s, UINT16_MAX);
    assert_true(p->has_item_code && p->has_time_last && p->has_hold_delay_s);
  }
}

static void brain_sense_sets_only_the_masked_values(void **state) {
  (void)state;
  event_context_t ctx = context("1.0.0");
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_BRAIN_SENSE_UPDATE;
  ev.time = 9;
  for (int i = 0; i < 5; i++) ev.u.brain_sense.bs[i] = (i + 1) * 10;
  ev.u.brain_sense.mask = 0x15; /* bs1, bs3, bs5 */
  event_to_frame(&ev, &ctx, false, &frame);
  assert_int_equal(frame.which_body, spot_v1_Frame_brain_sense_update_tag);
  const spot_v1_BrainSense *b = &frame.body.brain_sense_update;
  assert_true(b->has_bs1 && !b->has_bs2 && b->has_bs3 && !b->has_bs4 && b->has_bs5);
  assert_int_equal(b->bs1, 10);
  assert_int_equal(b->bs3, 30);
  assert_int_equal(b->bs5, 50);
  assert_int_equal(b->time, 9);

  ev.u.brain_sense.mask = 0; /* no value: only the time */
  event_to_frame(&ev, &ctx, false, &frame);
  assert_false(b->has_bs1 || b->has_bs2 || b->has_bs3 || b->has_bs4 || b->has_bs5);
  assert_true(b->has_time);
  ev.u.brain_sense.mask = 0xff; /* bits above bs5 are ignored */
  event_to_frame(&ev, &ctx, false, &frame);
  assert_true(b->has_bs1 && b->has_bs2 && b->has_bs3 && b->has_bs4 && b->has_bs5);
}

static void a_frame_starts_clean_whatever_was_in_it(void **state) {
  (void)state;
  event_context_t ctx = context("1.0.0");
  memset(&frame, 0xff, sizeof frame);
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_SPOT_ALIVE;
  event_to_frame(&ev, &ctx, false, &frame);
  assert_false(frame.has_boot || frame.has_seq);
  assert_int_equal(frame.which_body, spot_v1_Frame_spot_update_tag);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(event_log_clears_the_event_and_keeps_short_text),
      cmocka_unit_test(event_log_takes_empty_text),
      cmocka_unit_test(event_log_truncates_text_at_the_limit),
      cmocka_unit_test(log_event_becomes_log_create),
      cmocka_unit_test(numbering_only_when_asked_and_numbered),
      cmocka_unit_test(spot_create_carries_context_and_counters),
      cmocka_unit_test(spot_create_without_version_or_with_a_long_one),
      cmocka_unit_test(alive_is_spot_update_online_only),
      cmocka_unit_test(config_create_has_every_key_and_update_only_the_changed),
      cmocka_unit_test(longest_config_create_fits_the_event_buffer),
      cmocka_unit_test(hit_copies_item_antenna_and_signal),
      cmocka_unit_test(presences_map_to_their_actions_with_the_longest_item_code),
      cmocka_unit_test(brain_sense_sets_only_the_masked_values),
      cmocka_unit_test(a_frame_starts_clean_whatever_was_in_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
