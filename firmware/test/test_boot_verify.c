/* The bootloader's image check (boot_verify.c): SHA-256 from Debian's mbedTLS
   against FIPS 180-2's "abc", then MCUboot images built byte by byte from
   firmware-image.md: a good one passes, a flip of any hashed byte fails, and so
   do a missing hash, another target, a protected-only TLV moved out of the
   protected area and records that do not fill their area. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot_image.h"
#include "boot_sim_flash.h"
#include "boot_verify.h"
#include "mbedtls/sha256.h"

#define SLOT 0x8000u
#define BODY 1500u
#define TARGET "mps2-an385"

static sim_flash_t sim;
static boot_flash_t flash;
static const boot_map_t map = BOOT_MAP_MPS2_AN385;
static uint32_t image_len, hashed_len;

static void put16(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static uint8_t *tlv(uint8_t *p, uint32_t type, const void *value, uint32_t len)
{
  put16(p, type);
  put16(p + 2, len);
  memcpy(p + 4, value, len);
  return p + 4 + len;
}

/* Header (0x200, --pad-header), body, protected [target], unprotected
   [SHA256, KEYHASH, ED25519] with `unprot_extra` put first in the unprotected area. */
static void build(const char *target, uint32_t unprot_extra_type)
{
  sim_flash_init(&sim, map.scratch + map.sector_size, map.sector_size);
  flash = sim_flash_interface(&sim);
  uint8_t *img = sim.mem + SLOT;
  const uint8_t head[32] = {0x3d, 0xb8, 0xf3, 0x96, 0, 0, 0, 0, 0x00, 0x02, 0, 0, (uint8_t)BODY, BODY >> 8, 0, 0,
                            0,    0,    0,    0,    1, 2, 3, 0, 0,    0,    0, 0, 0,            0,         0, 0};
  memcpy(img, head, sizeof head);
  for (uint32_t i = 0; i < BODY; i++) {
    img[0x200 + i] = (uint8_t)(i * 7 + 3);
  }
  uint8_t *p = img + 0x200 + BODY;
  uint32_t prot = target ? 4 + 4 + (uint32_t)strlen(target) : 0;
  img[10] = (uint8_t)prot;
  if (target) {
    put16(p, 0x6908);
    put16(p + 2, prot);
    p = tlv(p + 4, 0xb0, target, (uint32_t)strlen(target));
  }
  hashed_len = (uint32_t)(p - img);
  uint8_t digest[32], zeros[64] = {0};
  assert_int_equal(mbedtls_sha256_ret(img, hashed_len, digest, 0), 0);
  uint8_t *info = p;
  p += 4;
  if (unprot_extra_type) {
    p = tlv(p, unprot_extra_type, "x", 1);
  }
  p = tlv(p, 0x10, digest, 32);
  p = tlv(p, 0x01, zeros, 32);
  p = tlv(p, 0x24, zeros, 64);
  put16(info, 0x6907);
  put16(info + 2, (uint32_t)(p - info));
  image_len = (uint32_t)(p - img);
}

static int check(const char *target)
{
  boot_image_t image;
  int rc = boot_image_read(&flash, &map, SLOT, &image);
  return rc == BOOT_OK ? boot_verify_image((void *)target, &flash, SLOT, &image) : rc;
}

static void sha256_of_abc_is_the_fips_vector(void **state)
{
  (void)state;
  const uint8_t expected[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  uint8_t digest[32];
  assert_int_equal(mbedtls_sha256_ret((const uint8_t *)"abc", 3, digest, 0), 0);
  assert_memory_equal(digest, expected, 32);
}

static void a_good_image_passes_with_or_without_its_target(void **state)
{
  (void)state;
  build(TARGET, 0);
  assert_int_equal(check(TARGET), BOOT_OK);
  assert_int_equal(check(NULL), BOOT_OK);
  build(NULL, 0); /* plain imgtool sign: no target TLV */
  assert_int_equal(check(TARGET), BOOT_OK);
}

static void every_flipped_hashed_byte_fails(void **state)
{
  (void)state;
  build(TARGET, 0);
  for (uint32_t i = 0; i < hashed_len; i++) {
    sim.mem[SLOT + i] ^= 0x01;
    if (check(TARGET) == BOOT_OK) {
      fail_msg("byte %u flipped and the image still passes", i);
    }
    sim.mem[SLOT + i] ^= 0x01;
  }
  assert_int_equal(check(TARGET), BOOT_OK);
}

static void a_flipped_hash_tlv_fails(void **state)
{
  (void)state;
  build(TARGET, 0);
  sim.mem[SLOT + hashed_len + 4 + 4 + 5] ^= 0x80;
  assert_int_equal(check(TARGET), BOOT_EINVALID);
}

static void another_target_fails(void **state)
{
  (void)state;
  build("nrf52840", 0);
  assert_int_equal(check(TARGET), BOOT_EINVALID);
  assert_int_equal(check(NULL), BOOT_OK);
}

static void a_protected_only_tlv_outside_the_protected_area_fails(void **state)
{
  (void)state;
  build(TARGET, 0xb0);
  assert_int_equal(check(TARGET), BOOT_EINVALID);
  build(TARGET, 0x50); /* SEC_CNT */
  assert_int_equal(check(TARGET), BOOT_EINVALID);
}

static void records_that_overrun_their_area_fail(void **state)
{
  (void)state;
  build(TARGET, 0);
  sim.mem[SLOT + image_len - 64 - 2] = 65; /* the signature's length one byte past the area */
  assert_int_equal(check(TARGET), BOOT_EINVALID);
}

static void a_read_failure_is_not_a_verdict(void **state)
{
  (void)state;
  build(TARGET, 0);
  boot_image_t image;
  assert_int_equal(boot_image_read(&flash, &map, SLOT, &image), BOOT_OK);
  sim.dead = true;
  assert_int_equal(boot_verify_image(TARGET, &flash, SLOT, &image), BOOT_EFLASH);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(sha256_of_abc_is_the_fips_vector),
    cmocka_unit_test(a_good_image_passes_with_or_without_its_target),
    cmocka_unit_test(every_flipped_hashed_byte_fails),
    cmocka_unit_test(a_flipped_hash_tlv_fails),
    cmocka_unit_test(another_target_fails),
    cmocka_unit_test(a_protected_only_tlv_outside_the_protected_area_fails),
    cmocka_unit_test(records_that_overrun_their_area_fail),
    cmocka_unit_test(a_read_failure_is_not_a_verdict),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
