/* Doubles on bare-metal builds: json_out.c and json_scan.c compiled with
 * -ffreestanding (as for mps2), where snprintf and strtod are not used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json_out.h"
#include "json_scan.h"

static const char *text_of(double v, char *buf, size_t cap) {
  json_out_t o;
  json_out_init(&o, (uint8_t *)buf, cap - 1);
  json_out_double(&o, v);
  buf[o.len] = '\0';
  return buf;
}

static void config_like_values_are_written_like_javascript(void **state) {
  (void)state;
  char b[40];
  assert_string_equal(text_of(3.0, b, sizeof b), "3");
  assert_string_equal(text_of(1.2, b, sizeof b), "1.2");
  assert_string_equal(text_of(2.5, b, sizeof b), "2.5");
  assert_string_equal(text_of(20.5, b, sizeof b), "20.5");
  assert_string_equal(text_of(-0.125, b, sizeof b), "-0.125");
  assert_string_equal(text_of(1.1, b, sizeof b), "1.1");
  assert_string_equal(text_of(1e21, b, sizeof b), "1e+21");
  assert_string_equal(text_of(0.000001, b, sizeof b), "0.000001");
  assert_string_equal(text_of(4294967295.0, b, sizeof b), "4294967295");
}

static void decimal_text_reads_back(void **state) {
  (void)state;
  double v;
  assert_true(json_text_double("2.5", 3, &v));
  assert_true(v == 2.5);
  assert_true(json_text_double("-1.25e2", 7, &v));
  assert_true(v == -125.0);
  assert_true(json_text_double("3", 1, &v));
  assert_true(v == 3.0);
  assert_true(json_text_double("1.1", 3, &v));
  assert_true(v > 1.0999999 && v < 1.1000001);
  assert_false(json_text_double("abc", 3, &v));
  assert_false(json_text_double("1e", 2, &v));
  assert_false(json_text_double("", 0, &v));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(config_like_values_are_written_like_javascript),
      cmocka_unit_test(decimal_text_reads_back),
  };
  return cmocka_run_group_tests_name("freestanding_numbers", tests, NULL, NULL);
}
