/* The bootloader's image check (boot_verify.c): SHA-256 from Debian's mbedTLS
   against FIPS 180-2's "abc", Ed25519 from Debian's libsodium against RFC 8032's
   first vector, then MCUboot images built byte by byte from firmware-image.md and
   signed with RFC 8032's first key: a good one passes; a flip of any hashed byte
   or of the signature fails, and so do another key, a key hash naming another
   key, no signature, a missing hash, another target, a protected-only TLV moved
   out of the protected area and records that do not fill their area. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot_image.h"
#include "boot_sim_flash.h"
#include "boot_verify.h"
#include "crypto_sign_ed25519.h"
#include "mbedtls/sha256.h"

#define SLOT 0x8000u
#define BODY 1500u
#define TARGET "mps2-an385"

/* RFC 8032, 7.1, TEST 1: secret key (seed), public key, signature of the empty message. */
static const uint8_t rfc_seed[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                                     0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                                     0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const uint8_t rfc_public[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
                                       0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
                                       0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
static const uint8_t rfc_signature[64] = {
  0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86, 0xe2, 0xcc, 0x80, 0x6e, 0x82, 0x8a,
  0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9, 0x74, 0xd8, 0x73, 0xe0, 0x65, 0x22, 0x49, 0x01, 0x55,
  0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b, 0xac, 0xc6, 0x1e, 0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b,
  0xd2, 0x5b, 0xf5, 0xf0, 0x59, 0x5b, 0xbe, 0x24, 0x65, 0x51, 0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b};
/* RFC 8032, 7.1, TEST 2: another key. */
static const uint8_t rfc2_seed[32] = {0x4c, 0xcd, 0x08, 0x9b, 0x28, 0xff, 0x96, 0xda, 0x9d, 0xb6, 0xc3,
                                      0x46, 0xec, 0x11, 0x4e, 0x0f, 0x5b, 0x8a, 0x31, 0x9f, 0x35, 0xab,
                                      0xa6, 0x24, 0xda, 0x8c, 0xf6, 0xed, 0x4f, 0xb8, 0xa6, 0xfb};
static const uint8_t rfc2_public[32] = {0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a,
                                        0xa7, 0x4d, 0x1b, 0x7e, 0xbc, 0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4,
                                        0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c};
static const uint8_t spki_prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

/* How build() signs: with the RFC key, or with another key, and which key the KEYHASH names. */
typedef enum { SIGNED, OTHER_KEY, KEYHASH_OTHER, NO_SIGNATURE } signing_t;

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

static void keyhash_of(const uint8_t key[32], uint8_t out[32])
{
  uint8_t spki[44];
  memcpy(spki, spki_prefix, 12);
  memcpy(spki + 12, key, 32);
  assert_int_equal(mbedtls_sha256_ret(spki, sizeof spki, out, 0), 0);
}

/* Header (0x200, --pad-header), body, protected [target], unprotected
   [SHA256, KEYHASH, ED25519] with `unprot_extra` put first in the unprotected area. */
static void build_signed(const char *target, uint32_t unprot_extra_type, signing_t signing)
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
  uint8_t digest[32], keyhash[32], signature[64], secret[64];
  assert_int_equal(mbedtls_sha256_ret(img, hashed_len, digest, 0), 0);
  /* libsodium's secret key is the seed followed by the public key */
  bool other = signing == OTHER_KEY || signing == KEYHASH_OTHER;
  memcpy(secret, other ? rfc2_seed : rfc_seed, 32);
  memcpy(secret + 32, other ? rfc2_public : rfc_public, 32);
  keyhash_of(signing == KEYHASH_OTHER ? rfc2_public : rfc_public, keyhash);
  assert_int_equal(crypto_sign_ed25519_detached(signature, NULL, digest, 32, secret), 0);
  assert_int_equal(crypto_sign_ed25519_verify_detached(signature, digest, 32, other ? rfc2_public : rfc_public), 0);
  uint8_t *info = p;
  p += 4;
  if (unprot_extra_type) {
    p = tlv(p, unprot_extra_type, "x", 1);
  }
  p = tlv(p, 0x10, digest, 32);
  p = tlv(p, 0x01, keyhash, 32);
  if (signing != NO_SIGNATURE) {
    p = tlv(p, 0x24, signature, 64);
  }
  put16(info, 0x6907);
  put16(info + 2, (uint32_t)(p - info));
  image_len = (uint32_t)(p - img);
}

static void build(const char *target, uint32_t unprot_extra_type)
{
  build_signed(target, unprot_extra_type, SIGNED);
}

static int check(const char *target)
{
  boot_image_t image;
  const boot_verify_policy_t policy = {target, rfc_public};
  int rc = boot_image_read(&flash, &map, SLOT, &image);
  return rc == BOOT_OK ? boot_verify_image((void *)&policy, &flash, SLOT, &image) : rc;
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

static void ed25519_verifies_rfc8032_test_1(void **state)
{
  (void)state;
  assert_int_equal(crypto_sign_ed25519_verify_detached(rfc_signature, (const uint8_t *)"", 0, rfc_public), 0);
  uint8_t bad[64];
  memcpy(bad, rfc_signature, 64);
  bad[10] ^= 0x04;
  assert_int_not_equal(crypto_sign_ed25519_verify_detached(bad, (const uint8_t *)"", 0, rfc_public), 0);
}

static void the_signature_must_be_ours(void **state)
{
  (void)state;
  build_signed(TARGET, 0, NO_SIGNATURE);
  assert_int_equal(check(TARGET), BOOT_EINVALID);
  build_signed(TARGET, 0, OTHER_KEY); /* names our key, signed by another */
  assert_int_equal(check(TARGET), BOOT_EINVALID);
  build_signed(TARGET, 0, KEYHASH_OTHER); /* signed by and naming another key */
  assert_int_equal(check(TARGET), BOOT_EINVALID);
  build(TARGET, 0);
  for (uint32_t i = 0; i < 64; i++) {
    sim.mem[SLOT + image_len - 64 + i] ^= 0x20;
    if (check(TARGET) == BOOT_OK) {
      fail_msg("signature byte %u flipped and the image still passes", i);
    }
    sim.mem[SLOT + image_len - 64 + i] ^= 0x20;
  }
  assert_int_equal(check(TARGET), BOOT_OK);
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
  const boot_verify_policy_t policy = {TARGET, rfc_public};
  assert_int_equal(boot_image_read(&flash, &map, SLOT, &image), BOOT_OK);
  sim.dead = true;
  assert_int_equal(boot_verify_image((void *)&policy, &flash, SLOT, &image), BOOT_EFLASH);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(sha256_of_abc_is_the_fips_vector),
    cmocka_unit_test(ed25519_verifies_rfc8032_test_1),
    cmocka_unit_test(the_signature_must_be_ours),
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
