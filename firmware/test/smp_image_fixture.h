/* The image-side SMP tests' fixture (test_smp_image.c, test_smp_upload.c): the
   bootloader tests' simulated flash on the mps2 map with image A in the primary
   slot, the app's server over it, resets through the bootloader, and the
   requests and answers of the image group. */
#ifndef SMP_IMAGE_FIXTURE_H
#define SMP_IMAGE_FIXTURE_H

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

static inline int setup(void **state)
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
static inline void reset(void)
{
  boot_result_t result;
  sim_flash_power_on(&sim);
  assert_int_equal(boot_go(&boot_config, &result), BOOT_OK);
  assert_int_equal(result.action, BOOT_RUN_PRIMARY);
  assert_int_equal(smp_server_init(&server, &config), BOOT_OK);
}

static inline void sha_of(const test_image_t *img, uint8_t out[32])
{
  assert_int_equal(mbedtls_sha256_ret(img->bytes, img->len < IMAGE_MAX ? img->len : IMAGE_MAX, out, 0), 0);
}

static inline const uint8_t *tlv_hash(const test_image_t *img)
{
  return img->bytes + img->len - (4 + 64) - 32; /* the SHA256 TLV's value, before the signature */
}

typedef struct answer {
  uint64_t off, rc, err_rc, err_group;
  int match; /* -1 absent */
} answer_t;

static inline answer_t read_answer(size_t n)
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
static inline answer_t upload(uint8_t version, const test_image_t *img, uint32_t off, uint32_t n, bool first)
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
static inline bool upload_all(const test_image_t *img, uint32_t chunk, uint32_t *resumed_from)
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
static inline void state_of(size_t n, slot_entry_t entries[2])
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

static inline size_t state_read(void)
{
  uint8_t msg[16];
  size_t len = smp_message(msg, 1, SMP_OP_READ, SMP_GROUP_IMAGE, 3, SMP_IMAGE_STATE, (const uint8_t *)"\xa0", 1);
  return smp_exchange(&server, msg, len);
}

static inline size_t state_write(uint8_t version, const uint8_t *hash, bool confirm)
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

static inline void assert_slot_holds(uint32_t slot, const test_image_t *img)
{
  assert_memory_equal(sim.mem + slot, img->bytes, img->len);
}

#endif
