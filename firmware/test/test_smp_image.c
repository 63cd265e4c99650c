/* The spot's SMP server, image side (docs/smp.md, "The spot's server"), over the
   bootloader tests' simulated flash on the mps2 map: upload into the secondary
   slot, image state read and write (the MCUboot trailer the bootloader reads),
   the bootloader's swap, trial and revert around them, resume after a cut link
   and after a power cut before every flash operation of an upload (whole and
   torn), and the refusals. */
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
#include "mbedtls/sha256.h"
#include "smp_server.h"
#include "smp_test_util.h"

static sim_flash_t sim;
static boot_flash_t flash;
static const boot_map_t map = BOOT_MAP_MPS2_AN385;
static boot_config_t boot_config;
static smp_server_t server;
static test_image_t image_a, image_b, image_c;
static const smp_server_config_t config = {&flash, &map, "spot", "spot-1", "1.0.0", "-", "arm", "cortex-m3", "mps2-an385", false};

static int setup(void **state)
{
  (void)state;
  sim_flash_init(&sim, map.scratch + map.sector_size, map.sector_size);
  flash = sim_flash_interface(&sim);
  boot_config = (boot_config_t){&flash, &map, validate, NULL};
  make_image(&image_a, 20000, 1, GOOD);
  make_image(&image_b, 30000, 2, GOOD);
  make_image(&image_c, 25000, 3, GOOD);
  memcpy(sim.mem + map.primary, image_a.bytes, image_a.len);
  assert_int_equal(smp_server_init(&server, &config), BOOT_OK);
  return 0;
}

/* A reset: the bootloader decides, the app's server starts again. */
static void reset(void)
{
  boot_result_t result;
  sim_flash_power_on(&sim);
  assert_int_equal(boot_go(&boot_config, &result), BOOT_OK);
  assert_int_equal(result.action, BOOT_RUN_PRIMARY);
  assert_int_equal(smp_server_init(&server, &config), BOOT_OK);
}

static void sha_of(const test_image_t *img, uint8_t out[32])
{
  assert_int_equal(mbedtls_sha256_ret(img->bytes, img->len < IMAGE_MAX ? img->len : IMAGE_MAX, out, 0), 0);
}

static const uint8_t *tlv_hash(const test_image_t *img)
{
  return img->bytes + img->len - (4 + 64) - 32; /* the SHA256 TLV's value, before the signature */
}

typedef struct answer {
  uint64_t off, rc, err_rc, err_group;
  int match; /* -1 absent */
} answer_t;

static answer_t read_answer(size_t n)
{
  answer_t a = {0, 0, 0, 0, -1};
  const uint8_t *body = server.buf + 8;
  a.off = smp_uint(body, n, NULL, "off");
  a.rc = smp_uint(body, n, NULL, "rc");
  a.err_rc = smp_uint(body, n, "err", "rc");
  a.err_group = smp_uint(body, n, "err", "group");
  cbor_item_t v;
  if (smp_find(body, n, NULL, "match", &v)) {
    a.match = v.arg == CBOR_TRUE;
  }
  return a;
}

/* One upload request: the first carries len and sha. */
static answer_t upload(uint8_t version, const test_image_t *img, uint32_t off, uint32_t n, bool first)
{
  static uint8_t body[SMP_BUF_SIZE], msg[SMP_BUF_SIZE + 8];
  uint8_t sha[32];
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, first ? 4 : 2);
  if (first) {
    sha_of(img, sha);
    cbor_put_cstr(&w, "len");
    cbor_put_uint(&w, img->len);
    cbor_put_cstr(&w, "sha");
    cbor_put_bytes(&w, sha, sizeof sha);
  }
  cbor_put_cstr(&w, "off");
  cbor_put_uint(&w, off);
  cbor_put_cstr(&w, "data");
  cbor_put_bytes(&w, img->bytes + off, n);
  assert_false(w.overflow);
  size_t len = smp_message(msg, version, SMP_OP_WRITE, SMP_GROUP_IMAGE, 5, SMP_IMAGE_UPLOAD, body, w.len);
  return read_answer(smp_exchange(&server, msg, len));
}

/* Uploads an image as the gateway's flasher does (chunk bytes at a time, from the offset the
   device answers), starting with a first request; false when a request fails. */
static bool upload_all(const test_image_t *img, uint32_t chunk, uint32_t *resumed_from)
{
  uint32_t off = 0;
  bool first = true;
  int requests = 0;
  while (off < img->len) {
    uint32_t n = img->len - off < chunk ? img->len - off : chunk;
    answer_t a = upload(1, img, off, n, first);
    if (a.off == UINT64_MAX || ++requests > 1000) {
      return false;
    }
    if (first && resumed_from) {
      *resumed_from = a.off == n ? 0 : (uint32_t)a.off;
    }
    if (a.off == img->len) {
      assert_int_equal(a.match, 1);
    }
    first = false;
    off = (uint32_t)a.off;
  }
  return true;
}

typedef struct slot_entry {
  bool present;
  uint64_t slot;
  char version[16];
  uint8_t hash[32];
  bool pending, confirmed, active, permanent;
} slot_entry_t;

/* Image state: the two entries by slot. */
static void state_of(size_t n, slot_entry_t entries[2])
{
  memset(entries, 0, 2 * sizeof *entries);
  cbor_item_t images;
  assert_true(smp_find(server.buf + 8, n, NULL, "images", &images));
  assert_int_equal(images.major, CBOR_ARRAY);
  cbor_reader_t r;
  cbor_reader_init(&r, images.data ? images.data : server.buf + 8, n);
  /* find the array again to read its items */
  const uint8_t *body = server.buf + 8;
  size_t at = 0;
  while (body[at] != 0x80 + images.arg || body[at - 1] != 's') {
    at++;
  }
  cbor_reader_init(&r, body + at + 1, n - at - 1);
  for (uint64_t i = 0; i < images.arg; i++) {
    cbor_item_t map_item;
    assert_true(cbor_read(&r, &map_item));
    size_t start = r.pos - 1;
    cbor_reader_t rest = r;
    assert_true(cbor_skip(&rest, &map_item));
    const uint8_t *m = r.buf + start;
    size_t mlen = rest.pos - start;
    slot_entry_t e = {0};
    cbor_item_t v;
    e.present = true;
    e.slot = smp_uint(m, mlen, NULL, "slot");
    assert_int_equal(smp_uint(m, mlen, NULL, "image"), 0);
    assert_true(smp_find(m, mlen, NULL, "version", &v));
    memcpy(e.version, v.data, (size_t)v.arg);
    assert_true(smp_find(m, mlen, NULL, "hash", &v));
    assert_int_equal(v.arg, 32);
    memcpy(e.hash, v.data, 32);
    assert_true(smp_find(m, mlen, NULL, "pending", &v));
    e.pending = v.arg == CBOR_TRUE;
    assert_true(smp_find(m, mlen, NULL, "confirmed", &v));
    e.confirmed = v.arg == CBOR_TRUE;
    assert_true(smp_find(m, mlen, NULL, "active", &v));
    e.active = v.arg == CBOR_TRUE;
    assert_true(smp_find(m, mlen, NULL, "permanent", &v));
    e.permanent = v.arg == CBOR_TRUE;
    assert_true(smp_find(m, mlen, NULL, "bootable", &v));
    assert_true(e.slot < 2);
    entries[e.slot] = e;
    r = rest;
  }
}

static size_t state_read(void)
{
  uint8_t msg[16];
  size_t len = smp_message(msg, 1, SMP_OP_READ, SMP_GROUP_IMAGE, 3, SMP_IMAGE_STATE, (const uint8_t *)"\xa0", 1);
  return smp_exchange(&server, msg, len);
}

static size_t state_write(uint8_t version, const uint8_t *hash, bool confirm)
{
  uint8_t body[64], msg[80];
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, hash ? 2 : 1);
  if (hash) {
    cbor_put_cstr(&w, "hash");
    cbor_put_bytes(&w, hash, 32);
  }
  cbor_put_cstr(&w, "confirm");
  cbor_put_bool(&w, confirm);
  size_t len = smp_message(msg, version, SMP_OP_WRITE, SMP_GROUP_IMAGE, 4, SMP_IMAGE_STATE, body, w.len);
  return smp_exchange(&server, msg, len);
}

static void assert_slot_holds(uint32_t slot, const test_image_t *img)
{
  assert_memory_equal(sim.mem + slot, img->bytes, img->len);
}

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
      cmocka_unit_test_setup(test_resume_after_cut_link, setup),
      cmocka_unit_test_setup(test_resume_after_power_cut, setup),
      cmocka_unit_test_setup(test_upload_refusals, setup),
      cmocka_unit_test_setup(test_state_write_refusals, setup),
      cmocka_unit_test_setup(test_recovery_upload_swapped_in, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
