/* Stored state at boot: the record the spot saved brings its config and counters
 * back; a record damaged in any byte, cut at any length, or written by older
 * firmware (the raw struct of format 2) means factory defaults and a `log create`
 * saying why, right after the introduction. */
#include "spot_harness.h"

#define T0_BOOT 68284800u /* T0 (2026-03-01T08:00:00Z) in seconds since 2024-01-01 */

static uint8_t saved[SPOT_STATE_RECORD_BYTES];
static uint8_t flash[SPOT_STATE_RECORD_BYTES];

static spot_t *boot_from(const uint8_t *bytes, size_t len) {
  memset(&plog, 0, sizeof plog);
  spot_init_t init = {4711, "2.3.1", SPOT_ENCODING_JSON, bytes, len, false, T0, "", 0, true, 0};
  assert_true(spot_init(&the_spot, &platform, &init));
  return &the_spot;
}

/* A record as the spot saves it: hostname "door", second boot. */
static void save_a_record(void) {
  spot_t *s = start(SPOT_ENCODING_JSON, "", NULL);
  const char cmd[] = "[\"config\",\"update\",{\"hostname\":\"door\"}]";
  spot_command_input(s, (const uint8_t *)cmd, sizeof cmd - 1);
  spot_command_end(s);
  assert_string_equal(plog.saved.config.hostname, "door");
  memcpy(flash, plog.record, sizeof flash);
  s = boot_from(flash, sizeof flash);
  assert_int_equal(spot_state(s)->boot_count, 2);
  memcpy(saved, plog.record, sizeof saved);
}

/* Factory defaults, a boot number from the clock (the count was lost), and the cause
 * in a log event after spot create and config create; the new record is valid. */
static void assert_rejected(spot_t *s, const char *cause) {
  assert_string_equal(spot_config(s)->hostname, "spot");
  assert_int_equal(spot_state(s)->boot_count, T0_BOOT);
  assert_int_equal(plog.saves, 1); /* p_save checks that it opens */
  assert_int_equal(plog.saved.boot_count, T0_BOOT);
  spot_connected(s);
  read_post_json(s);
  assert_int_equal(got_count, 3);
  assert_int_equal(got[0].body, spot_v1_Frame_spot_create_tag);
  assert_int_equal(got[1].body, spot_v1_Frame_config_create_tag);
  assert_int_equal(got[2].body, spot_v1_Frame_log_create_tag);
  const char head[] = "stored state rejected (", tail[] = "): factory defaults used";
  size_t len = strlen(got[2].text);
  if (strncmp(got[2].text, head, sizeof head - 1) != 0 || len < sizeof tail ||
      strcmp(got[2].text + len - (sizeof tail - 1), tail) != 0)
    fail_msg("log text: %s", got[2].text);
  if (cause != NULL) {
    char expected[SPOT_LOG_TEXT_MAX];
    snprintf(expected, sizeof expected, "%s%s%s", head, cause, tail);
    assert_string_equal(got[2].text, expected);
  }
}

static void a_saved_record_brings_the_config_and_the_count_back(void **state) {
  (void)state;
  save_a_record();
  spot_t *s = boot_from(saved, sizeof saved);
  assert_string_equal(spot_config(s)->hostname, "door");
  assert_int_equal(spot_state(s)->boot_count, 3);
  spot_connected(s);
  read_post_json(s);
  assert_int_equal(got_count, 2); /* spot create, config create: nothing to say */
}

static void a_damaged_byte_anywhere_means_factory_defaults_and_a_log_event(void **state) {
  (void)state;
  save_a_record();
  for (size_t i = 0; i < sizeof saved; i++) {
    memcpy(flash, saved, sizeof flash);
    flash[i] ^= 0xff;
    spot_t *s = boot_from(flash, sizeof flash);
    assert_rejected(s, i < 4 ? "bad magic" : i >= 12 ? "CRC-32 mismatch" : NULL);
  }
}

static void a_record_cut_at_any_length_means_factory_defaults_and_a_log_event(void **state) {
  (void)state;
  save_a_record();
  char cause[64];
  for (size_t len = 0; len < sizeof saved; len++) {
    spot_t *s = boot_from(saved, len);
    snprintf(cause, sizeof cause, "truncated: %zu of %zu bytes", len, sizeof saved);
    assert_rejected(s, cause);
  }
}

static void the_raw_struct_of_older_firmware_means_factory_defaults_and_a_log_event(void **state) {
  (void)state;
  /* Format 2 stored spot_persist_t as it was, magic and version first, no CRC. */
  struct {
    uint32_t magic, version, config_schema, boot_count, watchdog_count, presence_create_count;
    int32_t brain_sense[5];
    spot_config_t config;
    char firmware_url[SPOT_URL_MAX];
    char firmware_version[SPOT_VERSION_MAX];
  } old;
  memset(&old, 0, sizeof old);
  old.magic = SPOT_STATE_MAGIC;
  old.version = 2;
  old.config_schema = SPOT_CONFIG_SCHEMA_ID;
  old.boot_count = 41;
  spot_config_defaults(&old.config);
  strcpy(old.config.hostname, "door");
  spot_t *s = boot_from((const uint8_t *)&old, sizeof old);
  assert_rejected(s, "format version 2, expected 3");
}

static void no_record_at_all_is_a_first_boot_and_says_nothing(void **state) {
  (void)state;
  spot_t *s = boot_from(NULL, 0);
  assert_int_equal(spot_state(s)->boot_count, 1);
  assert_string_equal(spot_config(s)->hostname, "spot");
  spot_connected(s);
  read_post_json(s);
  assert_int_equal(got_count, 2);
}

static void the_rejection_is_said_on_the_stream_too(void **state) {
  (void)state;
  save_a_record();
  saved[sizeof saved - 1] ^= 1;
  spot_t *s = boot_from(saved, sizeof saved);
  spot_stream_open(s);
  static char out[8192];
  size_t len = 0, n;
  while ((n = spot_stream_read(s, (uint8_t *)out + len, 256)) > 0) len += n;
  out[len] = '\0';
  const char *config_create = strstr(out, "[\"config\",\"create\"");
  const char *log = strstr(out, "stored state rejected (CRC-32 mismatch): factory defaults used");
  assert_non_null(config_create);
  assert_non_null(log);
  assert_true(config_create < log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_saved_record_brings_the_config_and_the_count_back),
      cmocka_unit_test(a_damaged_byte_anywhere_means_factory_defaults_and_a_log_event),
      cmocka_unit_test(a_record_cut_at_any_length_means_factory_defaults_and_a_log_event),
      cmocka_unit_test(the_raw_struct_of_older_firmware_means_factory_defaults_and_a_log_event),
      cmocka_unit_test(no_record_at_all_is_a_first_boot_and_says_nothing),
      cmocka_unit_test(the_rejection_is_said_on_the_stream_too),
  };
  return cmocka_run_group_tests_name("spot stored state", tests, NULL, NULL);
}
