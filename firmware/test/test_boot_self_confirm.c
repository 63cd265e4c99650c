/* The app's confirm of its trial image, retried within the boot
   (boot_self_confirm.h, docs/bootloader.md "The app's confirm"): a flash that
   fails a read or a write some number of times, over the simulated flash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"
#include "boot_self_confirm.h"
#include "boot_sim_flash.h"
#include "boot_trailer.h"

static sim_flash_t sim;
static const boot_map_t map = BOOT_MAP_MPS2_AN385;
static boot_flash_t flash; /* the simulated flash behind the failures below */
static int failing_reads, failing_programs;

static int flaky_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
  if (failing_reads > 0) {
    failing_reads--;
    return BOOT_EFLASH;
  }
  return sim_flash_read(ctx, addr, buf, len);
}

static int flaky_program(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
  if (failing_programs > 0) {
    failing_programs--;
    return BOOT_EFLASH;
  }
  return sim_flash_program(ctx, addr, buf, len);
}

/* A primary slot whose image runs on trial: magic and copy_done, no image_ok. */
static int on_trial(void **state)
{
  (void)state;
  sim_flash_init(&sim, map.scratch + map.sector_size, map.sector_size);
  flash = (boot_flash_t){&sim, flaky_read, flaky_program, sim_flash_erase};
  failing_reads = failing_programs = 0;
  assert_int_equal(boot_trailer_set_magic(&flash, &map, map.primary), BOOT_OK);
  assert_int_equal(boot_trailer_set_copy_done(&flash, &map, map.primary), BOOT_OK);
  return 0;
}

static bool trial(void)
{
  bool on = false;
  assert_int_equal(boot_primary_on_trial(&flash, &map, &on), BOOT_OK);
  return on;
}

static void confirms_at_the_first_poll_once_asked(void **state)
{
  (void)state;
  boot_self_confirm_t c;
  boot_self_confirm_init(&c);
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, 1000), BOOT_SELF_CONFIRM_IDLE); /* not asked */
  assert_true(trial());
  boot_self_confirm_ask(&c, 1000);
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, 1000), BOOT_SELF_CONFIRM_CONFIRMED);
  assert_false(trial());
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, 5000), BOOT_SELF_CONFIRM_IDLE);
  boot_self_confirm_ask(&c, 5000); /* done: asking again does nothing */
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, 5000), BOOT_SELF_CONFIRM_IDLE);
  assert_int_equal(sim.violations, 0);
}

static void a_write_failing_once_is_tried_again_later_in_the_boot(void **state)
{
  (void)state;
  boot_self_confirm_t c;
  boot_self_confirm_init(&c);
  failing_programs = 1;
  boot_self_confirm_ask(&c, 1000);
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, 1000), BOOT_SELF_CONFIRM_RETRY);
  assert_true(trial());
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, 1000 + BOOT_SELF_CONFIRM_RETRY_MS - 1),
                   BOOT_SELF_CONFIRM_IDLE); /* not yet */
  assert_true(trial());
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, 1000 + BOOT_SELF_CONFIRM_RETRY_MS),
                   BOOT_SELF_CONFIRM_CONFIRMED);
  assert_false(trial());
  assert_int_equal(sim.violations, 0);
}

static void a_read_failing_is_tried_again_too(void **state)
{
  (void)state;
  boot_self_confirm_t c;
  boot_self_confirm_init(&c);
  failing_reads = 2;
  boot_self_confirm_ask(&c, 0);
  uint64_t now = 0;
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, now), BOOT_SELF_CONFIRM_RETRY);
  now += BOOT_SELF_CONFIRM_RETRY_MS;
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, now), BOOT_SELF_CONFIRM_RETRY);
  now += BOOT_SELF_CONFIRM_RETRY_MS;
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, now), BOOT_SELF_CONFIRM_CONFIRMED);
  assert_false(trial());
}

static void gives_up_after_the_last_try_and_stays_on_trial(void **state)
{
  (void)state;
  boot_self_confirm_t c;
  boot_self_confirm_init(&c);
  failing_programs = 1000;
  boot_self_confirm_ask(&c, 0);
  uint64_t now = 0;
  for (int i = 1; i < BOOT_SELF_CONFIRM_TRIES; i++) {
    assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, now), BOOT_SELF_CONFIRM_RETRY);
    now += BOOT_SELF_CONFIRM_RETRY_MS;
  }
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, now), BOOT_SELF_CONFIRM_GAVE_UP);
  assert_int_equal(failing_programs, 1000 - BOOT_SELF_CONFIRM_TRIES); /* one write per try, no more */
  failing_programs = 0;
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, now + 60000), BOOT_SELF_CONFIRM_IDLE);
  boot_self_confirm_ask(&c, now + 60000); /* given up: not asked again within the boot */
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, now + 60000), BOOT_SELF_CONFIRM_IDLE);
  assert_true(trial()); /* the next boot reverts it */
}

static void an_image_confirmed_already_is_left_as_it_is(void **state)
{
  (void)state;
  assert_int_equal(boot_confirm(&flash, &map), BOOT_OK); /* the flasher got there first */
  uint64_t ops = sim.ops;
  boot_self_confirm_t c;
  boot_self_confirm_init(&c);
  boot_self_confirm_ask(&c, 0);
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, 0), BOOT_SELF_CONFIRM_ALREADY);
  assert_int_equal(sim.ops, ops); /* nothing written */
  assert_int_equal(boot_self_confirm_poll(&c, &flash, &map, 1000), BOOT_SELF_CONFIRM_IDLE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(confirms_at_the_first_poll_once_asked, on_trial),
      cmocka_unit_test_setup(a_write_failing_once_is_tried_again_later_in_the_boot, on_trial),
      cmocka_unit_test_setup(a_read_failing_is_tried_again_too, on_trial),
      cmocka_unit_test_setup(gives_up_after_the_last_try_and_stays_on_trial, on_trial),
      cmocka_unit_test_setup(an_image_confirmed_already_is_left_as_it_is, on_trial),
  };
  return cmocka_run_group_tests_name("boot_self_confirm", tests, NULL, NULL);
}
