/* The bootloader's guarantee under power cuts (docs/bootloader.md): cut before
   every flash operation of an upgrade, a revert, a permanent upgrade and a
   confirm (and once more during the recovery), then power up and run the spot
   until nothing changes. Always exactly image A or B in the primary slot, the
   other intact in the secondary, and the one expected: B once B confirmed
   itself (or was requested permanent), else A. A secondary that is cut short,
   corrupt, unsigned or too big never replaces A. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"
#include "boot_sim_flash.h"
#include "boot_test_image.h"
#include "boot_trailer.h"

static sim_flash_t sim;
static boot_flash_t flash;
static boot_map_t map;
static boot_config_t config;
static test_image_t image_a, image_b, image_bad;

/* Cut points exercised, for the summary line. */
static unsigned long cuts_upgrade, cuts_revert, cuts_permanent, cuts_nested, cuts_refused, cuts_torn, cuts_bad_copy;

/* A small geometry keeps the nested sweep fast; the mps2 one is the real map. */
static const boot_map_t small_map = {1024u, 12u, 0x1000u, 0x4000u, 0x7000u};
static const boot_map_t mps2_map = BOOT_MAP_MPS2_AN385;

static void install(uint32_t slot, const test_image_t *img)
{
  memset(sim.mem + slot, 0xff, map.slot_sectors * map.sector_size);
  memcpy(sim.mem + slot, img->bytes, img->len);
}

/* The factory state: A in the primary (erased trailer: permanent), `second` uploaded to the secondary. */
static void setup_flash(const boot_map_t *m, const test_image_t *second)
{
  map = *m;
  sim_flash_init(&sim, map.scratch + map.sector_size, map.sector_size);
  flash = sim_flash_interface(&sim);
  config = (boot_config_t){&flash, &map, validate, NULL};
  install(map.primary, &image_a);
  if (second) {
    install(map.secondary, second);
  }
}

static bool slot_holds(uint32_t slot, const test_image_t *img)
{
  return memcmp(sim.mem + slot, img->bytes, img->len) == 0;
}

typedef struct life {
  bool permanent;   /* request a permanent upgrade instead of a test */
  bool b_confirms;  /* B confirms itself when it runs */
  bool requested;   /* the request completed */
  bool b_confirmed; /* B ran and its confirm completed */
  unsigned boots;
} life_t;

/* Powered up: boot, let the image that runs do what it does, reset; until a round
   changes nothing in the flash. BOOT_EFLASH when the power was cut. */
static int run_until_stable(life_t *life)
{
  for (int round = 0; round < 8; round++) {
    uint64_t before = sim.ops;
    boot_result_t result;
    int rc = boot_go(&config, &result);
    if (rc == BOOT_EFLASH) {
      return rc;
    }
    assert_int_equal(rc, BOOT_OK);
    life->boots++;
    if (result.action != BOOT_RUN_PRIMARY) {
      fail_msg("boot %u found nothing to run: %s", life->boots, result.reason);
    }
    bool runs_a = slot_holds(map.primary, &image_a), runs_b = slot_holds(map.primary, &image_b);
    if (!runs_a && !runs_b) {
      fail_msg("boot %u ran neither A nor B (%s)", life->boots, result.reason);
    }
    if (runs_b && life->b_confirms) {
      rc = boot_confirm(&flash, &map);
      if (rc == BOOT_EFLASH) {
        return rc;
      }
      assert_int_equal(rc, BOOT_OK);
      life->b_confirmed = true;
    }
    if (sim.ops == before) {
      return BOOT_OK;
    }
  }
  fail_msg("the spot did not settle within 8 boots");
  return BOOT_EINVALID;
}

/* The whole story from A running: request, then resets until it settles. */
static int run_life(life_t *life)
{
  int rc = boot_request_upgrade(&flash, &map, life->permanent);
  if (rc != BOOT_OK) {
    return rc;
  }
  life->requested = true;
  return run_until_stable(life);
}

static void check_end(const life_t *life, const test_image_t *expected, const test_image_t *other, const char *what,
                      uint64_t cut)
{
  if (sim.violations != 0) {
    fail_msg("%s, cut before op %llu: %u writes over programmed flash", what, (unsigned long long)cut, sim.violations);
  }
  if (!slot_holds(map.primary, expected) || !slot_holds(map.secondary, other)) {
    fail_msg("%s, cut before op %llu: primary %s, secondary %s (expected %s in the primary, B confirmed %d)", what,
             (unsigned long long)cut,
             slot_holds(map.primary, &image_a) ? "A" : slot_holds(map.primary, &image_b) ? "B" : "neither",
             slot_holds(map.secondary, &image_a) ? "A" : slot_holds(map.secondary, &image_b) ? "B" : "neither",
             expected == &image_a ? "A" : "B", life->b_confirmed);
  }
  boot_trailer_t p, s;
  assert_int_equal(boot_trailer_read(&flash, &map, map.primary, &p), BOOT_OK);
  assert_int_equal(boot_trailer_read(&flash, &map, map.secondary, &s), BOOT_OK);
  if ((p.magic && !(p.copy_done && p.image_ok)) || s.magic) {
    fail_msg("%s, cut before op %llu: not settled (primary magic %d copy_done %d image_ok %d, secondary magic %d)", what,
             (unsigned long long)cut, p.magic, p.copy_done, p.image_ok, s.magic);
  }
}

/* BAD_COPY: B passes its check in the secondary, fails it in the primary (a copy gone wrong). */
typedef enum { UPGRADE, REVERT, PERMANENT, BAD_COPY } scenario_t;

static const char *scenario_name(scenario_t s)
{
  return s == UPGRADE ? "upgrade" : s == REVERT ? "revert" : s == PERMANENT ? "permanent" : "bad copy";
}

static int b_fails_in_the_primary(void *ctx, const boot_flash_t *f, uint32_t slot, const boot_image_t *image)
{
  if (slot == map.primary && image->version[0] == 2) {
    return BOOT_EINVALID;
  }
  return validate(ctx, f, slot, image);
}

static life_t new_life(scenario_t s)
{
  config.validate = s == BAD_COPY ? b_fails_in_the_primary : validate;
  return (life_t){.permanent = s == PERMANENT, .b_confirms = s == UPGRADE || s == BAD_COPY};
}

static const test_image_t *expected_image(scenario_t s, const life_t *life)
{
  bool b = s == UPGRADE ? life->b_confirmed : s == PERMANENT ? life->requested : false; /* REVERT, BAD_COPY: A */
  return b ? &image_b : &image_a;
}

static void check_scenario_end(scenario_t s, const life_t *life, uint64_t cut)
{
  const test_image_t *expected = expected_image(s, life);
  check_end(life, expected, expected == &image_a ? &image_b : &image_a, scenario_name(s), cut);
}

static uint8_t snapshot[SIM_FLASH_BYTES];

/* Cuts before every operation N of the scenario; with `nested`, also before every
   operation M of the recovery after each N. Returns the cut points run. */
static unsigned long sweep_cuts(const boot_map_t *m, scenario_t s, bool nested, bool torn)
{
  setup_flash(m, &image_b);
  life_t clean = new_life(s);
  assert_int_equal(run_life(&clean), BOOT_OK);
  check_scenario_end(s, &clean, 0);
  const uint64_t total = sim.ops;
  unsigned long points = 0;
  for (uint64_t n = 1; n <= total; n++) {
    setup_flash(m, &image_b);
    sim.cut_before = n;
    sim.torn = torn;
    life_t life = new_life(s);
    assert_int_equal(run_life(&life), BOOT_EFLASH);
    sim_flash_power_on(&sim);
    if (!nested) {
      assert_int_equal(run_until_stable(&life), BOOT_OK);
      check_scenario_end(s, &life, n);
      points++;
      continue;
    }
    memcpy(snapshot, sim.mem, sim.size);
    const life_t cut_life = life;
    const uint64_t at_power_on = sim.ops;
    assert_int_equal(run_until_stable(&life), BOOT_OK);
    const uint64_t recovery = sim.ops - at_power_on;
    for (uint64_t k = 1; k <= recovery; k++) {
      memcpy(sim.mem, snapshot, sim.size);
      sim.ops = at_power_on;
      sim.cut_before = at_power_on + k;
      life = cut_life;
      assert_int_equal(run_until_stable(&life), BOOT_EFLASH);
      sim_flash_power_on(&sim);
      assert_int_equal(run_until_stable(&life), BOOT_OK);
      check_scenario_end(s, &life, n);
      points++;
    }
  }
  return points;
}

static unsigned long sweep(const boot_map_t *m, scenario_t s, bool nested)
{
  return sweep_cuts(m, s, nested, false);
}

static void make_images(uint32_t a_body, uint32_t b_body)
{
  make_image(&image_a, a_body, 1, GOOD);
  make_image(&image_b, b_body, 2, GOOD);
}

static void upgrade_survives_a_power_cut_at_every_operation(void **state)
{
  (void)state;
  make_images(3000, 6500);
  cuts_upgrade += sweep(&small_map, UPGRADE, false);
  make_images(20000, 40000);
  cuts_upgrade += sweep(&mps2_map, UPGRADE, false);
}

static void revert_survives_a_power_cut_at_every_operation(void **state)
{
  (void)state;
  make_images(3000, 6500);
  cuts_revert += sweep(&small_map, REVERT, false);
  make_images(40000, 20000);
  cuts_revert += sweep(&mps2_map, REVERT, false);
}

static void permanent_upgrade_survives_a_power_cut_at_every_operation(void **state)
{
  (void)state;
  make_images(6500, 3000);
  cuts_permanent += sweep(&small_map, PERMANENT, false);
}

static void a_second_cut_during_recovery_still_ends_with_a_or_b(void **state)
{
  (void)state;
  make_images(3000, 6500);
  cuts_nested += sweep(&small_map, UPGRADE, true);
  cuts_nested += sweep(&small_map, REVERT, true);
}

/* A cut in the middle of a program (its first half written) or of an erase (the
   first half of the sector erased); in the nested sweeps the second cut is torn too. */
static void a_torn_write_or_erase_still_ends_with_a_or_b(void **state)
{
  (void)state;
  make_images(3000, 6500);
  cuts_torn += sweep_cuts(&small_map, UPGRADE, true, true);
  cuts_torn += sweep_cuts(&small_map, REVERT, true, true);
  cuts_torn += sweep_cuts(&small_map, PERMANENT, false, true);
  make_images(20000, 40000);
  cuts_torn += sweep_cuts(&mps2_map, UPGRADE, false, true);
}

/* B checked good in the secondary but not in the primary: reverted before it ever runs. */
static void an_upgrade_whose_copy_goes_wrong_ends_with_a(void **state)
{
  (void)state;
  make_images(3000, 6500);
  cuts_bad_copy += sweep(&small_map, BAD_COPY, true);
}

/* A bad secondary with a request, a cut before every operation: A stays. */
static void refused(image_kind_t kind, bool permanent)
{
  make_images(3000, 6500);
  make_image(&image_bad, 6500, 3, kind);
  setup_flash(&small_map, &image_bad);
  life_t clean = {.permanent = permanent};
  assert_int_equal(run_life(&clean), BOOT_OK);
  const uint64_t total = sim.ops;
  for (uint64_t n = 0; n <= total; n++) {
    setup_flash(&small_map, &image_bad);
    sim.cut_before = n;
    life_t life = {.permanent = permanent};
    if (run_life(&life) == BOOT_EFLASH) {
      sim_flash_power_on(&sim);
      assert_int_equal(run_until_stable(&life), BOOT_OK);
    }
    assert_true(slot_holds(map.primary, &image_a));
    assert_int_equal(sim.violations, 0);
    boot_trailer_t s;
    assert_int_equal(boot_trailer_read(&flash, &map, map.secondary, &s), BOOT_OK);
    assert_false(s.magic);
    cuts_refused++;
  }
}

static void an_interrupted_upload_never_replaces_the_primary(void **state)
{
  (void)state;
  refused(CUT_SHORT, false);
  refused(CUT_SHORT, true);
}

static void a_corrupt_secondary_never_replaces_the_primary(void **state)
{
  (void)state;
  refused(CORRUPT, false);
  refused(CORRUPT, true);
}

static void an_unsigned_secondary_never_replaces_the_primary(void **state)
{
  (void)state;
  refused(UNSIGNED, false);
}

static void a_secondary_bigger_than_the_slot_never_replaces_the_primary(void **state)
{
  (void)state;
  refused(TOO_BIG, false);
}

static void summary(void **state)
{
  (void)state;
  printf("power-cut: upgrade %lu cut points, revert %lu, permanent %lu, nested %lu, torn %lu, bad copy %lu, "
         "refused images %lu, all ended with A or B intact\n",
         cuts_upgrade, cuts_revert, cuts_permanent, cuts_nested, cuts_torn, cuts_bad_copy, cuts_refused);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(upgrade_survives_a_power_cut_at_every_operation),
    cmocka_unit_test(revert_survives_a_power_cut_at_every_operation),
    cmocka_unit_test(permanent_upgrade_survives_a_power_cut_at_every_operation),
    cmocka_unit_test(a_second_cut_during_recovery_still_ends_with_a_or_b),
    cmocka_unit_test(a_torn_write_or_erase_still_ends_with_a_or_b),
    cmocka_unit_test(an_upgrade_whose_copy_goes_wrong_ends_with_a),
    cmocka_unit_test(an_interrupted_upload_never_replaces_the_primary),
    cmocka_unit_test(a_corrupt_secondary_never_replaces_the_primary),
    cmocka_unit_test(an_unsigned_secondary_never_replaces_the_primary),
    cmocka_unit_test(a_secondary_bigger_than_the_slot_never_replaces_the_primary),
    cmocka_unit_test(summary),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
