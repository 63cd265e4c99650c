/* The spot's SMP server, image side (docs/smp.md, "The spot's server"), over the
   bootloader tests' simulated flash on the mps2 map: image state read and write
   (the MCUboot trailer the bootloader reads), the bootloader's swap, trial and
   revert around them, the bootloader's serial recovery, and the state write's
   refusals. The upload's resume and refusals are in test_smp_upload.c. */
#include "smp_image_fixture.h"

/* Upload, test, reset (swap: trial boot), confirm, reset: B stays. */
static void test_upload_test_confirm(void **state)
{
  (void)state;
  slot_entry_t e[2];
  state_of(state_read(), e);
  assert_true(e[0].present && e[0].active && e[0].confirmed);
  assert_string_equal(e[0].version, "1.0.0");
  assert_memory_equal(e[0].hash, tlv_hash(&image_a), 32);
  assert_false(e[1].present);

  /* the first answer names the next offset, the last one the match */
  answer_t a = upload(1, &image_b, 0, 1952, true);
  assert_int_equal(a.off, 1952);
  assert_int_equal(a.match, -1);
  state_of(state_read(), e);
  assert_false(e[1].present); /* not listed while the upload is under way */
  assert_true(upload_all(&image_b, 1952, NULL));
  assert_slot_holds(map.secondary, &image_b);
  assert_int_equal(sim.violations, 0);
  state_of(state_read(), e);
  assert_true(e[1].present);
  assert_string_equal(e[1].version, "2.0.0");
  assert_memory_equal(e[1].hash, tlv_hash(&image_b), 32);
  assert_false(e[1].pending || e[1].active || e[1].confirmed);

  /* test: the secondary trailer holds the request */
  state_of(state_write(1, tlv_hash(&image_b), false), e);
  assert_true(e[1].pending);
  assert_false(e[1].permanent);
  boot_trailer_t t;
  assert_int_equal(boot_trailer_read(&flash, &map, map.secondary, &t), BOOT_OK);
  assert_true(t.magic);
  assert_int_equal(t.swap_type, BOOT_SWAP_TEST);

  reset();
  state_of(state_read(), e);
  assert_string_equal(e[0].version, "2.0.0");
  assert_true(e[0].active);
  assert_false(e[0].confirmed);
  assert_string_equal(e[1].version, "1.0.0");
  assert_false(e[1].pending);

  /* on trial: no upload (the secondary holds the way back), no test of the other slot */
  a = upload(1, &image_c, 0, 1000, true);
  assert_int_equal(a.err_group, 1);
  assert_int_equal(a.err_rc, 9);
  a = upload(0, &image_c, 0, 1000, true);
  assert_int_equal(a.rc, SMP_RC_EBADSTATE);
  answer_t r = read_answer(state_write(1, tlv_hash(&image_a), false));
  assert_int_equal(r.err_rc, 28);

  /* confirm (the running image's hash) */
  state_of(state_write(1, tlv_hash(&image_b), true), e);
  assert_true(e[0].confirmed);
  reset();
  state_of(state_read(), e);
  assert_string_equal(e[0].version, "2.0.0");
  assert_true(e[0].confirmed);
  assert_slot_holds(map.primary, &image_b);
  assert_slot_holds(map.secondary, &image_a);
  assert_int_equal(sim.violations, 0);
}

/* A trial that does not confirm: reverted at the next reset, the new image back in the
   secondary and not pending; confirm with no hash confirms the running image. */
static void test_unconfirmed_trial_reverted(void **state)
{
  (void)state;
  slot_entry_t e[2];
  assert_true(upload_all(&image_b, 1952, NULL));
  state_write(1, tlv_hash(&image_b), false);
  reset();
  state_of(state_read(), e);
  assert_string_equal(e[0].version, "2.0.0");
  reset();
  state_of(state_read(), e);
  assert_string_equal(e[0].version, "1.0.0");
  assert_true(e[0].confirmed && e[0].active);
  assert_true(e[1].present);
  assert_string_equal(e[1].version, "2.0.0");
  assert_false(e[1].pending);
  assert_slot_holds(map.primary, &image_a);
  /* a permanent request: the image stays without a confirm */
  state_of(state_write(1, tlv_hash(&image_b), true), e);
  assert_true(e[1].pending && e[1].permanent);
  reset();
  reset();
  state_of(state_read(), e);
  assert_string_equal(e[0].version, "2.0.0");
  assert_true(e[0].confirmed);
  /* confirm without a hash: the running one; nothing to do when it is confirmed */
  state_of(state_write(1, NULL, true), e);
  assert_true(e[0].confirmed);
}

static void test_state_write_refusals(void **state)
{
  (void)state;
  uint8_t unknown[32];
  memset(unknown, 0x5a, sizeof unknown);
  answer_t a = read_answer(state_write(1, unknown, false));
  assert_int_equal(a.err_group, 1);
  assert_int_equal(a.err_rc, 8);
  a = read_answer(state_write(0, unknown, true));
  assert_int_equal(a.rc, SMP_RC_ENOENT);
  /* test of the running image; test without a hash */
  a = read_answer(state_write(1, tlv_hash(&image_a), false));
  assert_int_equal(a.err_rc, 33);
  a = read_answer(state_write(1, NULL, false));
  assert_int_equal(a.err_rc, 24);
  /* an upload under way is not an image to test */
  upload(1, &image_b, 0, 1952, true);
  a = read_answer(state_write(1, tlv_hash(&image_b), false));
  assert_int_equal(a.err_rc, 8);
  /* test, then permanent: the trailer already holds the other request */
  assert_true(upload_all(&image_b, 1952, NULL));
  state_write(1, tlv_hash(&image_b), false);
  a = read_answer(state_write(1, tlv_hash(&image_b), true));
  assert_int_equal(a.err_rc, 28);
  /* a hash of another size */
  uint8_t body[16], msg[32];
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, 1);
  cbor_put_cstr(&w, "hash");
  cbor_put_bytes(&w, unknown, 4);
  size_t len = smp_message(msg, 1, SMP_OP_WRITE, SMP_GROUP_IMAGE, 6, SMP_IMAGE_STATE, body, w.len);
  a = read_answer(smp_exchange(&server, msg, len));
  assert_int_equal(a.err_rc, 24);
  /* a new upload drops the request */
  upload(1, &image_c, 0, 1952, true);
  boot_trailer_t t;
  assert_int_equal(boot_trailer_read(&flash, &map, map.secondary, &t), BOOT_OK);
  assert_false(t.magic);
}

/* The bootloader's serial recovery (firmware/targets/mps2-boot/recovery.c): no image runs, so
   the primary's is listed, not active; an erased primary, an upload into the secondary, the
   permanent request recovery writes once it is complete: the next boot swaps it in for good. */
static void test_recovery_upload_swapped_in(void **state)
{
  (void)state;
  smp_server_config_t recovery = config;
  recovery.recovery = true;
  slot_entry_t e[2];
  assert_int_equal(smp_server_init(&server, &recovery), BOOT_OK);
  state_of(state_read(), e);
  assert_true(e[0].present && !e[0].active);

  memset(sim.mem + map.primary, 0xff, map.slot_sectors * map.sector_size);
  boot_result_t result;
  assert_int_equal(boot_go(&boot_config, &result), BOOT_OK);
  assert_int_equal(result.action, BOOT_NO_IMAGE);
  assert_int_equal(smp_server_init(&server, &recovery), BOOT_OK);
  state_of(state_read(), e);
  assert_false(e[0].present || e[1].present);
  assert_true(upload_all(&image_b, 1952, NULL));
  state_of(state_read(), e);
  assert_true(e[1].present && !e[1].pending);
  assert_int_equal(boot_request_upgrade(&flash, &map, true), BOOT_OK);
  state_of(state_read(), e);
  assert_true(e[1].pending && e[1].permanent);

  sim_flash_power_on(&sim);
  assert_int_equal(boot_go(&boot_config, &result), BOOT_OK);
  assert_int_equal(result.action, BOOT_RUN_PRIMARY);
  assert_int_equal(result.swap, BOOT_SWAP_PERM);
  assert_false(result.trial);
  assert_slot_holds(map.primary, &image_b);
  assert_int_equal(sim.violations, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_upload_test_confirm, setup),
      cmocka_unit_test_setup(test_unconfirmed_trial_reverted, setup),
      cmocka_unit_test_setup(test_state_write_refusals, setup),
      cmocka_unit_test_setup(test_recovery_upload_swapped_in, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
