/* Boot numbers: counted in flash, or taken from the clock by a spot without
 * flash, so that the gateway never sees one boot number twice for a serial. */
#include "spot_harness.h"

#define T0_BOOT 68284800u /* T0 (2026-03-01T08:00:00Z) in seconds since 2024-01-01 */

static spot_t *start_with_floor(const spot_persist_t *persisted, uint32_t floor) {
  memset(&plog, 0, sizeof plog);
  spot_init_t init = {4711, "2.3.1", SPOT_ENCODING_JSON, record_of(persisted),
                      persisted ? SPOT_STATE_RECORD_BYTES : 0, false, T0, "", 0, true, floor};
  spot_t *s = &the_spot;
  assert_true(spot_init(s, &platform, &init));
  return s;
}

static spot_persist_t flash_with_boot_count(uint32_t boot_count) {
  spot_persist_t p;
  memset(&p, 0, sizeof p);
  p.config_schema = SPOT_CONFIG_SCHEMA_ID;
  p.boot_count = boot_count;
  spot_config_defaults(&p.config);
  return p;
}

static void the_clock_count_is_seconds_since_2024_and_only_grows(void **state) {
  (void)state;
  assert_int_equal(spot_boot_count_from_clock(T0), T0_BOOT);
  assert_int_equal(spot_boot_count_from_clock(T0 + 999), T0_BOOT);
  assert_int_equal(spot_boot_count_from_clock(T0 + 1000), T0_BOOT + 1);
  assert_int_equal(spot_boot_count_from_clock(SPOT_BOOT_CLOCK_EPOCH_S * 1000ull + 1000), 1);
  /* A clock before 2024 gives no count at all: the spot falls back to counting from 1. */
  assert_int_equal(spot_boot_count_from_clock(SPOT_BOOT_CLOCK_EPOCH_S * 1000ull), 0);
  assert_int_equal(spot_boot_count_from_clock(0), 0);
  assert_int_equal(spot_boot_count_from_clock(UINT64_MAX), UINT32_MAX);
}

static void a_spot_without_flash_posts_its_clock_boot_number(void **state) {
  (void)state;
  spot_t *s = start_with_floor(NULL, spot_boot_count_from_clock(T0));
  assert_int_equal(spot_state(s)->boot_count, T0_BOOT);
  assert_int_equal(plog.saved.boot_count, T0_BOOT);
  spot_connected(s);
  spot_post_info_t info = read_post_json(s);
  assert_int_equal(info.boot, T0_BOOT);
  assert_int_equal(info.first_seq, 1);
}

static void the_floor_never_lowers_a_count_kept_in_flash(void **state) {
  (void)state;
  spot_persist_t flash = flash_with_boot_count(T0_BOOT + 5);
  spot_t *s = start_with_floor(&flash, T0_BOOT);
  assert_int_equal(spot_state(s)->boot_count, T0_BOOT + 6);
  flash = flash_with_boot_count(41);
  s = start_with_floor(&flash, 0);
  assert_int_equal(spot_state(s)->boot_count, 42);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_clock_count_is_seconds_since_2024_and_only_grows),
      cmocka_unit_test(a_spot_without_flash_posts_its_clock_boot_number),
      cmocka_unit_test(the_floor_never_lowers_a_count_kept_in_flash),
  };
  return cmocka_run_group_tests_name("spot boot numbers", tests, NULL, NULL);
}
