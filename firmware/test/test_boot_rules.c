/* The bootloader's rules one by one (docs/bootloader.md, "Trailer", "Requests",
   "Boot decision"): where the fields land (MCUboot's offsets), the cases the
   power-cut sweep does not reach (no old image to go back to, an empty primary,
   a trailer written by imgtool), and a spot with nothing to run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"
#include "boot_sim_flash.h"
#include "boot_test_image.h"
#include "boot_trailer.h"

static sim_flash_t sim;
static boot_flash_t flash;
static const boot_map_t map = BOOT_MAP_MPS2_AN385;
static boot_config_t config;
static test_image_t image_a, image_b;

static const uint8_t magic[16] = {0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
                                  0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80};

static void install(uint32_t slot, const test_image_t *img)
{
  memset(sim.mem + slot, 0xff, map.slot_sectors * map.sector_size);
  if (img) {
    memcpy(sim.mem + slot, img->bytes, img->len);
  }
}

static int setup(void **state)
{
  (void)state;
  sim_flash_init(&sim, map.scratch + map.sector_size, map.sector_size);
  flash = sim_flash_interface(&sim);
  config = (boot_config_t){&flash, &map, validate, NULL};
  make_image(&image_a, 20000, 1, GOOD);
  make_image(&image_b, 30000, 2, GOOD);
  install(map.primary, &image_a);
  install(map.secondary, &image_b);
  return 0;
}

static const uint8_t *slot_end(uint32_t slot)
{
  return sim.mem + slot + map.slot_sectors * map.sector_size;
}

static boot_result_t boot_ok(void)
{
  boot_result_t result;
  assert_int_equal(boot_go(&config, &result), BOOT_OK);
  assert_int_equal(sim.violations, 0);
  return result;
}

static bool holds(uint32_t slot, const test_image_t *img)
{
  return memcmp(sim.mem + slot, img->bytes, img->len) == 0;
}

static void requests_and_swap_write_mcuboot_trailer_offsets(void **state)
{
  (void)state;
  assert_int_equal(boot_request_upgrade(&flash, &map, false), BOOT_OK);
  const uint8_t *end = slot_end(map.secondary);
  assert_memory_equal(end - 16, magic, 16);
  assert_int_equal(end[-40], BOOT_SWAP_TEST);
  assert_int_equal(end[-24], 0xff);

  boot_result_t r = boot_ok();
  assert_int_equal(r.swap, BOOT_SWAP_TEST);
  assert_true(r.trial);
  const uint8_t *p = slot_end(map.primary);
  assert_memory_equal(p - 16, magic, 16);
  assert_int_equal(p[-24], 0xff); /* image_ok: not yet */
  assert_int_equal(p[-32], 0x01); /* copy_done */
  assert_int_equal(p[-40], BOOT_SWAP_TEST);
  assert_int_equal(p[-48], 8);    /* swap_size: 30000 + 0x200 + TLVs -> 8 sectors of 4 KiB */
  assert_int_equal(p[-47], 0);
  assert_int_equal(end[-16], 0xff); /* the request is consumed */
  bool trial = false;
  assert_int_equal(boot_primary_on_trial(&flash, &map, &trial), BOOT_OK);
  assert_true(trial);

  assert_int_equal(boot_confirm(&flash, &map), BOOT_OK);
  assert_int_equal(p[-24], 0x01);
  assert_int_equal(boot_primary_on_trial(&flash, &map, &trial), BOOT_OK);
  assert_false(trial);
  uint64_t ops = sim.ops;
  assert_int_equal(boot_confirm(&flash, &map), BOOT_OK);
  assert_int_equal(boot_ok().swap, 0);
  assert_int_equal(sim.ops, ops); /* confirmed and settled: nothing written */
  assert_true(holds(map.primary, &image_b));
  assert_true(holds(map.secondary, &image_a));
}

static void a_permanent_request_sets_image_ok_and_needs_no_confirm(void **state)
{
  (void)state;
  assert_int_equal(boot_request_upgrade(&flash, &map, true), BOOT_OK);
  assert_int_equal(slot_end(map.secondary)[-24], 0x01);
  assert_int_equal(slot_end(map.secondary)[-40], BOOT_SWAP_PERM);
  boot_result_t r = boot_ok();
  assert_int_equal(r.swap, BOOT_SWAP_PERM);
  assert_false(r.trial);
  assert_int_equal(boot_ok().swap, 0);
  assert_true(holds(map.primary, &image_b));
}

static void a_trial_with_its_old_image_overwritten_is_kept(void **state)
{
  (void)state;
  assert_int_equal(boot_request_upgrade(&flash, &map, false), BOOT_OK);
  assert_int_equal(boot_ok().swap, BOOT_SWAP_TEST);
  sim.mem[map.secondary + 0x300] ^= 1; /* the trial app wrote into the slot holding A */
  boot_result_t r = boot_ok();
  assert_int_equal(r.action, BOOT_RUN_PRIMARY);
  assert_int_equal(r.swap, 0);
  assert_true(holds(map.primary, &image_b));
  assert_int_equal(slot_end(map.primary)[-24], 0x01); /* kept for good: it is the only valid image */
}

static void the_first_image_into_an_empty_primary_swaps_the_whole_slot(void **state)
{
  (void)state;
  install(map.primary, NULL);
  assert_int_equal(boot_ok().action, BOOT_NO_IMAGE);
  assert_int_equal(boot_request_upgrade(&flash, &map, false), BOOT_OK);
  assert_int_equal(boot_ok().swap, BOOT_SWAP_TEST);
  assert_int_equal(slot_end(map.primary)[-48], 31);
  assert_true(holds(map.primary, &image_b));
  /* not confirmed, but there is nothing to go back to */
  boot_result_t r = boot_ok();
  assert_int_equal(r.action, BOOT_RUN_PRIMARY);
  assert_int_equal(r.swap, 0);
  assert_true(holds(map.primary, &image_b));
}

static void an_image_trailer_written_by_imgtool_boots_as_it_is(void **state)
{
  (void)state;
  uint8_t *p = sim.mem + map.primary + map.slot_sectors * map.sector_size;
  memcpy(p - 16, magic, 16); /* imgtool --pad: magic only */
  uint64_t ops = sim.ops;
  boot_result_t r = boot_ok();
  assert_int_equal(r.action, BOOT_RUN_PRIMARY);
  assert_int_equal(r.swap, 0);
  assert_int_equal(sim.ops, ops);
  assert_int_equal(boot_confirm(&flash, &map), BOOT_OK);
  assert_int_equal(p[-24], 0x01);
  r = boot_ok();
  assert_int_equal(r.swap, 0);
  assert_true(holds(map.primary, &image_a));
}

/* B passes in the secondary but not once it is in the primary (a copy gone wrong). */
static int b_fails_in_the_primary(void *ctx, const boot_flash_t *f, uint32_t slot, const boot_image_t *image)
{
  if (slot == map.primary && image->version[0] == 2) {
    return BOOT_EINVALID;
  }
  return validate(ctx, f, slot, image);
}

static void an_image_that_fails_its_check_after_the_swap_is_reverted_at_once(bool permanent)
{
  config.validate = b_fails_in_the_primary;
  assert_int_equal(boot_request_upgrade(&flash, &map, permanent), BOOT_OK);
  boot_result_t r = boot_ok();
  assert_int_equal(r.action, BOOT_RUN_PRIMARY);
  assert_int_equal(r.swap, BOOT_SWAP_REVERT);
  assert_true(holds(map.primary, &image_a));
  assert_true(holds(map.secondary, &image_b));
  uint64_t ops = sim.ops;
  assert_int_equal(boot_ok().swap, 0);
  assert_int_equal(sim.ops, ops);
}

static void a_trial_image_that_fails_its_check_after_the_swap_is_reverted_at_once(void **state)
{
  (void)state;
  an_image_that_fails_its_check_after_the_swap_is_reverted_at_once(false);
}

static void a_permanent_image_that_fails_its_check_after_the_swap_is_reverted_at_once(void **state)
{
  (void)state;
  an_image_that_fails_its_check_after_the_swap_is_reverted_at_once(true);
}

static void an_empty_flash_has_nothing_to_run_and_writes_nothing(void **state)
{
  (void)state;
  install(map.primary, NULL);
  install(map.secondary, NULL);
  boot_result_t r = boot_ok();
  assert_int_equal(r.action, BOOT_NO_IMAGE);
  assert_int_equal(sim.ops, 0);
}

static void a_map_whose_trailer_does_not_fit_a_sector_is_refused(void **state)
{
  (void)state;
  const boot_map_t bad = {512u, 32u, 0x8000u, 0xc000u, 0x10000u};
  boot_config_t c = {&flash, &bad, validate, NULL};
  boot_result_t r;
  assert_int_equal(boot_go(&c, &r), BOOT_EINVALID);
  assert_int_equal(r.action, BOOT_NO_IMAGE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(requests_and_swap_write_mcuboot_trailer_offsets, setup),
    cmocka_unit_test_setup(a_permanent_request_sets_image_ok_and_needs_no_confirm, setup),
    cmocka_unit_test_setup(a_trial_with_its_old_image_overwritten_is_kept, setup),
    cmocka_unit_test_setup(the_first_image_into_an_empty_primary_swaps_the_whole_slot, setup),
    cmocka_unit_test_setup(an_image_trailer_written_by_imgtool_boots_as_it_is, setup),
    cmocka_unit_test_setup(a_trial_image_that_fails_its_check_after_the_swap_is_reverted_at_once, setup),
    cmocka_unit_test_setup(a_permanent_image_that_fails_its_check_after_the_swap_is_reverted_at_once, setup),
    cmocka_unit_test_setup(an_empty_flash_has_nothing_to_run_and_writes_nothing, setup),
    cmocka_unit_test_setup(a_map_whose_trailer_does_not_fit_a_sector_is_refused, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
