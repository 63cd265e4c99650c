/* CRC-32 (IEEE 802.3, reflected 0xEDB88320): the standard check values, and pieces add up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crc32.h"

static uint32_t crc_of(const char *text) { return crc32((const uint8_t *)text, strlen(text), 0); }

static void the_check_value_of_123456789_is_cbf43926(void **state) {
  (void)state;
  assert_int_equal(crc_of("123456789"), 0xCBF43926u);
}

static void known_values_match_zlib(void **state) {
  (void)state;
  assert_int_equal(crc_of(""), 0x00000000u);
  assert_int_equal(crc_of("a"), 0xE8B7BE43u);
  assert_int_equal(crc_of("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
  static const uint8_t zeros[32];
  assert_int_equal(crc32(zeros, sizeof zeros, 0), 0x190A55ADu);
}

static void a_crc_continued_over_pieces_equals_the_crc_of_the_whole(void **state) {
  (void)state;
  const uint8_t *text = (const uint8_t *)"123456789";
  for (size_t cut = 0; cut <= 9; cut++) assert_int_equal(crc32(text + cut, 9 - cut, crc32(text, cut, 0)), 0xCBF43926u);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_check_value_of_123456789_is_cbf43926),
      cmocka_unit_test(known_values_match_zlib),
      cmocka_unit_test(a_crc_continued_over_pieces_equals_the_crc_of_the_whole),
  };
  return cmocka_run_group_tests_name("crc32", tests, NULL, NULL);
}
