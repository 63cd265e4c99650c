/* The spot's SMP server, image upload (docs/smp.md, "The spot's server"), over the
   bootloader tests' simulated flash on the mps2 map: resume after a cut link and
   after a power cut before every flash operation of an upload (whole and torn),
   and the upload's refusals. */
#include "smp_image_fixture.h"

/* The same len and sha again: answered with the offset reached, no byte written; another
   sha starts over; a retried last chunk is answered with the end and the match. */
static void test_resume_after_cut_link(void **state)
{
  (void)state;
  uint32_t off = 0;
  for (int i = 0; i < 5; i++) {
    off = (uint32_t)upload(1, &image_b, off, 1952, i == 0).off;
  }
  assert_int_equal(off, 5 * 1952);
  uint64_t ops = sim.ops;
  answer_t a = upload(1, &image_b, 0, 1952, true);
  assert_int_equal(a.off, 5 * 1952);
  assert_int_equal(sim.ops, ops);
  uint32_t resumed = 1;
  assert_true(upload_all(&image_b, 1952, &resumed));
  assert_int_equal(resumed, 5 * 1952);
  assert_slot_holds(map.secondary, &image_b);
  a = upload(1, &image_b, image_b.len - 100, 100, false);
  assert_int_equal(a.off, image_b.len);
  assert_int_equal(a.match, 1);
  a = upload(1, &image_b, 0, 1952, true);
  assert_int_equal(a.off, image_b.len);
  /* another image: from the start */
  a = upload(1, &image_c, 0, 1952, true);
  assert_int_equal(a.off, 1952);
  assert_true(upload_all(&image_c, 1952, &resumed));
  assert_int_equal(resumed, 0);
  assert_slot_holds(map.secondary, &image_c);
  assert_int_equal(sim.violations, 0);
}

/* A power cut before every flash operation of an upload in chunks of 1004 bytes (the
   8-byte units straddle chunks), whole and torn: after power-on the server finds the
   offset by scanning the slot, the flasher resumes from it, the slot ends byte for byte. */
static void sweep(bool torn, uint32_t *points, uint32_t *resumed_max)
{
  sim_flash_t clean;
  setup(NULL);
  clean = sim;
  uint64_t base = sim.ops;
  assert_true(upload_all(&image_b, 1004, NULL));
  uint64_t total = sim.ops - base;
  for (uint64_t n = 1; n <= total; n++) {
    sim = clean;
    assert_int_equal(smp_server_init(&server, &config), BOOT_OK);
    sim.cut_before = sim.ops + n;
    sim.torn = torn;
    assert_false(upload_all(&image_b, 1004, NULL)); /* the power went */
    sim_flash_power_on(&sim);
    sim.torn = false;
    assert_int_equal(smp_server_init(&server, &config), BOOT_OK);
    uint32_t resumed = 0;
    assert_true(upload_all(&image_b, 1004, &resumed));
    assert_slot_holds(map.secondary, &image_b);
    assert_int_equal(sim.violations, 0);
    assert_int_equal(resumed % map.sector_size, 0);
    *resumed_max = resumed > *resumed_max ? resumed : *resumed_max;
    (*points)++;
  }
}

static void test_resume_after_power_cut(void **state)
{
  (void)state;
  uint32_t points = 0, resumed_max = 0;
  sweep(false, &points, &resumed_max);
  sweep(true, &points, &resumed_max);
  assert_true(resumed_max >= 6 * map.sector_size); /* resumed well into the image, not from 0 */
  printf("smp upload: %u power cuts (whole and torn), each resumed from the scanned offset (at most %u), image intact\n",
         points, resumed_max);
}

static void test_upload_refusals(void **state)
{
  (void)state;
  /* not started: a later offset */
  answer_t a = upload(1, &image_b, 1952, 100, false);
  assert_int_equal(a.err_group, 1);
  assert_int_equal(a.err_rc, 3);
  /* too large for the slot */
  test_image_t big = image_b;
  big.len = 31 * 4096 + 8;
  a = upload(1, &big, 0, 100, true);
  assert_int_equal(a.err_rc, 30);
  a = upload(0, &big, 0, 100, true);
  assert_int_equal(a.rc, SMP_RC_EINVAL);
  /* started: a wrong offset is answered with the expected one */
  a = upload(1, &image_b, 0, 1000, true);
  assert_int_equal(a.off, 1000);
  a = upload(1, &image_b, 3000, 100, false);
  assert_int_equal(a.off, 1000);
  /* more data than the image */
  uint32_t off = 1000;
  while (image_b.len - off > 1952) {
    off = (uint32_t)upload(1, &image_b, off, 1952, false).off;
  }
  a = upload(1, &image_b, off, image_b.len - off + 8, false);
  assert_int_equal(a.err_rc, 31);
  /* missing keys, another image number, a sha of the wrong size */
  uint8_t body[64], msg[80];
  static const struct {
    const char *keys;
    uint64_t rc;
  } cases[] = {{"o", 21}, {"d", 20}, {"odi", 9}, {"odls", 24}, {"od0", 21}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cbor_writer_t w;
    cbor_writer_init(&w, body, sizeof body);
    cbor_put_map(&w, strlen(cases[i].keys));
    for (const char *k = cases[i].keys; *k; k++) {
      if (*k == 'o') {
        cbor_put_cstr(&w, "off");
        cbor_put_uint(&w, 0);
      } else if (*k == 'd') {
        cbor_put_cstr(&w, "data");
        cbor_put_bytes(&w, (const uint8_t *)"abcd", 4);
      } else if (*k == 'i') {
        cbor_put_cstr(&w, "image");
        cbor_put_uint(&w, 1);
      } else if (*k == 'l') {
        cbor_put_cstr(&w, "len");
        cbor_put_uint(&w, 100);
      } else if (*k == 's') {
        cbor_put_cstr(&w, "sha");
        cbor_put_bytes(&w, (const uint8_t *)"short", 5);
      } else {
        cbor_put_cstr(&w, "len");
        cbor_put_uint(&w, 0);
      }
    }
    size_t len = smp_message(msg, 1, SMP_OP_WRITE, SMP_GROUP_IMAGE, 6, SMP_IMAGE_UPLOAD, body, w.len);
    a = read_answer(smp_exchange(&server, msg, len));
    assert_int_equal(a.err_group, 1);
    assert_int_equal(a.err_rc, cases[i].rc);
  }
  /* an unknown image command */
  size_t len = smp_message(msg, 1, SMP_OP_WRITE, SMP_GROUP_IMAGE, 6, 9, (const uint8_t *)"\xa0", 1);
  a = read_answer(smp_exchange(&server, msg, len));
  assert_int_equal(a.rc, SMP_RC_ENOTSUP);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_resume_after_cut_link, setup),
      cmocka_unit_test_setup(test_resume_after_power_cut, setup),
      cmocka_unit_test_setup(test_upload_refusals, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
