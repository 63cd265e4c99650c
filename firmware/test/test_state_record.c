/* The state record: a header (magic, format version, payload length, CRC-32) before
 * spot_persist_t. Every damaged byte, every cut and the older raw-struct format are
 * rejected with their cause; a sealed record opens to the state it was sealed with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crc32.h"
#include "state_record.h"

static spot_state_record_t record;
static uint8_t bytes[SPOT_STATE_RECORD_BYTES + 100];
static spot_persist_t opened;
static char why[64];

/* spot_persist_t as format 2 stored it: the raw struct, magic and version first, no CRC. */
typedef struct format2_state {
  uint32_t magic;
  uint32_t version;
  uint32_t config_schema;
  uint32_t boot_count;
  uint32_t watchdog_count;
  uint32_t presence_create_count;
  int32_t brain_sense[5];
  spot_config_t config;
  char firmware_url[SPOT_URL_MAX];
  char firmware_version[SPOT_VERSION_MAX];
} format2_state_t;

static void seal_example(void) {
  memset(&record, 0, sizeof record);
  record.state.config_schema = SPOT_CONFIG_SCHEMA_ID;
  record.state.boot_count = 41;
  record.state.watchdog_count = 2;
  record.state.presence_create_count = 9;
  record.state.brain_sense[4] = -7;
  spot_config_defaults(&record.state.config);
  strcpy(record.state.config.hostname, "door");
  strcpy(record.state.firmware_url, "/firmware/beta22.bin");
  state_record_seal(&record);
  memcpy(bytes, &record, sizeof record);
}

static uint32_t le32(const uint8_t *at) {
  return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

static state_record_check_t open_bytes(size_t len) {
  memset(&opened, 0x5a, sizeof opened);
  return state_record_open(bytes, len, &opened, why, sizeof why);
}

static void assert_untouched(void) {
  for (size_t i = 0; i < sizeof opened; i++) assert_int_equal(((const uint8_t *)&opened)[i], 0x5a);
}

static void a_sealed_record_opens_to_the_state_it_was_sealed_with(void **state) {
  (void)state;
  seal_example();
  assert_int_equal(open_bytes(SPOT_STATE_RECORD_BYTES), STATE_RECORD_OK);
  assert_memory_equal(&opened, &record.state, sizeof opened);
  assert_string_equal(why, "");
}

static void the_header_is_magic_version_length_and_crc_little_endian(void **state) {
  (void)state;
  seal_example();
  const uint8_t magic[4] = {0x54, 0x4f, 0x50, 0x53};
  assert_memory_equal(bytes, magic, 4);
  assert_int_equal(le32(bytes + 4), SPOT_STATE_FORMAT_VERSION);
  assert_int_equal(le32(bytes + 8), sizeof(spot_persist_t));
  uint32_t crc = crc32(bytes + SPOT_STATE_HEADER_BYTES, sizeof(spot_persist_t), crc32(bytes, 12, 0));
  assert_int_equal(le32(bytes + 12), crc);
  assert_int_equal(SPOT_STATE_RECORD_BYTES, SPOT_STATE_HEADER_BYTES + sizeof(spot_persist_t));
}

static void every_damaged_byte_is_rejected_with_its_cause(void **state) {
  (void)state;
  static const uint8_t flips[] = {0x01, 0x80, 0xff};
  for (size_t i = 0; i < SPOT_STATE_RECORD_BYTES; i++) {
    for (size_t f = 0; f < sizeof flips; f++) {
      seal_example();
      bytes[i] ^= flips[f];
      state_record_check_t expected = i < 4    ? STATE_RECORD_BAD_MAGIC
                                      : i < 8  ? STATE_RECORD_OTHER_VERSION
                                      : i < 12 ? STATE_RECORD_OTHER_LENGTH
                                               : STATE_RECORD_BAD_CRC;
      if (open_bytes(SPOT_STATE_RECORD_BYTES) != expected) fail_msg("byte %zu ^ 0x%02x: %s", i, flips[f], why);
      assert_untouched();
    }
  }
}

static void every_cut_is_rejected_as_truncated(void **state) {
  (void)state;
  seal_example();
  char expected[64];
  for (size_t len = 0; len < SPOT_STATE_RECORD_BYTES; len++) {
    assert_int_equal(open_bytes(len), STATE_RECORD_TRUNCATED);
    snprintf(expected, sizeof expected, "truncated: %zu of %zu bytes", len, (size_t)SPOT_STATE_RECORD_BYTES);
    assert_string_equal(why, expected);
    assert_untouched();
  }
}

static void bytes_after_the_record_are_ignored(void **state) {
  (void)state;
  seal_example();
  memset(bytes + SPOT_STATE_RECORD_BYTES, 0xff, sizeof bytes - SPOT_STATE_RECORD_BYTES);
  assert_int_equal(open_bytes(sizeof bytes), STATE_RECORD_OK);
  assert_memory_equal(&opened, &record.state, sizeof opened);
}

static void the_raw_struct_of_format_2_is_another_version(void **state) {
  (void)state;
  format2_state_t old;
  memset(&old, 0, sizeof old);
  old.magic = SPOT_STATE_MAGIC;
  old.version = 2;
  old.config_schema = SPOT_CONFIG_SCHEMA_ID;
  old.boot_count = 41;
  spot_config_defaults(&old.config);
  memcpy(bytes, &old, sizeof old);
  assert_int_equal(open_bytes(sizeof old), STATE_RECORD_OTHER_VERSION);
  assert_string_equal(why, "format version 2, expected 3");
  assert_untouched();
}

static void each_cause_is_said_in_words(void **state) {
  (void)state;
  char expected[64];
  seal_example();
  bytes[0] = 'X';
  open_bytes(SPOT_STATE_RECORD_BYTES);
  assert_string_equal(why, "bad magic");
  seal_example();
  bytes[8] = 5;
  bytes[9] = bytes[10] = bytes[11] = 0;
  open_bytes(SPOT_STATE_RECORD_BYTES);
  snprintf(expected, sizeof expected, "payload length 5, expected %zu", sizeof(spot_persist_t));
  assert_string_equal(why, expected);
  seal_example();
  bytes[SPOT_STATE_RECORD_BYTES - 1] ^= 1;
  open_bytes(SPOT_STATE_RECORD_BYTES);
  assert_string_equal(why, "CRC-32 mismatch");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_sealed_record_opens_to_the_state_it_was_sealed_with),
      cmocka_unit_test(the_header_is_magic_version_length_and_crc_little_endian),
      cmocka_unit_test(every_damaged_byte_is_rejected_with_its_cause),
      cmocka_unit_test(every_cut_is_rejected_as_truncated),
      cmocka_unit_test(bytes_after_the_record_are_ignored),
      cmocka_unit_test(the_raw_struct_of_format_2_is_another_version),
      cmocka_unit_test(each_cause_is_said_in_words),
  };
  return cmocka_run_group_tests_name("state record", tests, NULL, NULL);
}
