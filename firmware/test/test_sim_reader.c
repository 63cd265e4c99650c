/* Simulated reader: scenario parsing (with reasons) and deterministic reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim_reader.h"

static sim_reader_t sim;

typedef struct reads {
  int count;
  int per_tag[4];
  int64_t first_time[4];
  int64_t last_time[4];
  int16_t min_signal[4];
  int16_t max_signal[4];
  uint32_t checksum;
} reads_t;

static void count_read(void *ctx, const presence_hit_t *hit) {
  reads_t *r = ctx;
  int i = hit->item.code[strlen(hit->item.code) - 1] - '1';
  assert_true(i >= 0 && i < 4);
  if (r->per_tag[i] == 0) {
    r->first_time[i] = hit->time;
    r->min_signal[i] = r->max_signal[i] = hit->signal_strength;
  }
  r->per_tag[i]++;
  r->last_time[i] = hit->time;
  if (hit->signal_strength < r->min_signal[i]) r->min_signal[i] = hit->signal_strength;
  if (hit->signal_strength > r->max_signal[i]) r->max_signal[i] = hit->signal_strength;
  r->count++;
  r->checksum = r->checksum * 31 + (uint32_t)(hit->signal_strength + 2000) + (uint32_t)hit->time;
}

static bool parse(const char *text) { return sim_parse(&sim, text, strlen(text)); }

static void scenario_lines_parse(void **state) {
  (void)state;
  assert_true(parse("# comment\n\nseed 7\nrate 100\n"
                    "at 0 tag e2001 enter antenna 1 rssi -400\n"
                    "at 500 tag e2001 move rssi -650 antenna 2\r\n"
                    "at 900 ble c0ffee2 enter antenna 1 rssi -60\n"
                    "at 1000 tag e2001 leave"));
  assert_int_equal(sim.seed, 7);
  assert_int_equal(sim.rate, 100);
  assert_int_equal(sim.tag_count, 2);
  assert_int_equal(sim.step_count, 4);
  assert_int_equal(sim.steps[1].action, SIM_MOVE);
  assert_int_equal(sim.steps[1].antenna, 2);
  assert_int_equal(sim.steps[1].signal, -650);
  assert_int_equal(sim.tags[1].item.codetype, spot_v1_ItemCodeType_ITEM_CODE_TYPE_BLUETOOTH_LE);
}

static void bad_lines_are_reported_with_line_and_word(void **state) {
  (void)state;
  assert_false(parse("seed 1\nat 0 tag e2001 jump\n"));
  assert_string_equal(sim.error, "scenario line 2: unknown action \"jump\"");
  assert_false(parse("rate 5000\n"));
  assert_string_equal(sim.error, "scenario line 1: rate must be 1..1000 hits/s, got \"5000\"");
  assert_false(parse("at 10 tag a enter antenna 1 rssi -1\nat 5 tag a leave\n"));
  assert_string_equal(sim.error, "scenario line 2: time goes back \"5\"");
  assert_false(parse("at 0 tag a enter rssi -400\n"));
  assert_string_equal(sim.error, "scenario line 1: enter needs antenna and rssi: \"a\"");
  assert_false(parse("wobble\n"));
  assert_string_equal(sim.error, "scenario line 1: unknown directive \"wobble\"");
}

static void reads_follow_the_rate_and_the_scenario(void **state) {
  (void)state;
  reads_t r;
  memset(&r, 0, sizeof r);
  assert_true(parse("rate 200\nat 0 tag x1 enter antenna 1 rssi -400\nat 1000 tag x2 enter antenna 2 rssi -700\n"
                    "at 2000 tag x1 leave\n"));
  sim_start(&sim, 10000);
  for (int64_t t = 10000; t <= 13000; t += 7) sim_advance(&sim, t, count_read, &r);
  sim_advance(&sim, 13000, count_read, &r);
  assert_int_equal(r.count, 600); /* 200 hits/s for 3 s */
  /* x1 alone for 1 s (200), shares for 1 s (100 each), then x2 alone (200); +-1 at the edges. */
  assert_in_range(r.per_tag[0], 299, 301);
  assert_int_equal(r.per_tag[0] + r.per_tag[1], 600);
  assert_true(r.last_time[0] <= 12000);
  assert_true(r.first_time[1] >= 11000);
  assert_true(r.min_signal[0] >= -400 - SIM_NOISE_TENTHS && r.max_signal[0] <= -400 + SIM_NOISE_TENTHS);
  assert_true(r.min_signal[0] < r.max_signal[0]); /* noise is there */
}

static void same_seed_same_reads(void **state) {
  (void)state;
  const char *text = "seed 99\nrate 150\nat 0 tag x1 enter antenna 1 rssi -500\nat 300 tag x2 enter antenna 1 rssi -500\n";
  reads_t a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  assert_true(parse(text));
  sim_start(&sim, 0);
  sim_advance(&sim, 2000, count_read, &a); /* one big step */
  assert_true(parse(text));
  sim_start(&sim, 0);
  for (int64_t t = 0; t <= 2000; t += 13) sim_advance(&sim, t, count_read, &b); /* many small ones */
  sim_advance(&sim, 2000, count_read, &b);
  assert_int_equal(a.count, b.count);
  assert_int_equal(a.checksum, b.checksum);
}

static void default_scenario_parses(void **state) {
  (void)state;
  assert_true(parse(sim_default_scenario));
  assert_true(sim.step_count >= 6);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(scenario_lines_parse),
      cmocka_unit_test(bad_lines_are_reported_with_line_and_word),
      cmocka_unit_test(reads_follow_the_rate_and_the_scenario),
      cmocka_unit_test(same_seed_same_reads),
      cmocka_unit_test(default_scenario_parses),
  };
  return cmocka_run_group_tests_name("sim_reader", tests, NULL, NULL);
}
