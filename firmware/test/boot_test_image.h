/* MCUboot-format test images for the bootloader tests, and a validity hook that
   stands in for SHA-256 and ed25519: an FNV-1a "hash" over header, body and
   protected TLVs in the SHA256 TLV, its inverse as the "signature". */
#ifndef BOOT_TEST_IMAGE_H
#define BOOT_TEST_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "boot.h"

#define IMAGE_MAX 0x10000u
#define HDR_SIZE 0x200u
#define TLV_SHA256 0x10u
#define TLV_ED25519 0x24u
#define TLV_TARGET 0xb0u
#define TARGET "mps2-an385"

typedef struct test_image {
  uint8_t bytes[IMAGE_MAX];
  uint32_t len;
} test_image_t;

typedef enum { GOOD, UNSIGNED, CORRUPT, CUT_SHORT, TOO_BIG } image_kind_t;

static inline void put16(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *p, uint32_t v)
{
  put16(p, v);
  put16(p + 2, v >> 16);
}

static inline uint64_t fnv1a(uint64_t h, const uint8_t *p, uint32_t len)
{
  for (uint32_t i = 0; i < len; i++) {
    h = (h ^ p[i]) * 0x100000001b3ull;
  }
  return h;
}
#define FNV_START 0xcbf29ce484222325ull

/* An MCUboot image (firmware-image.md): header padded to 0x200, body, a protected
   target TLV, an unprotected "hash" (FNV-1a here, standing in for SHA-256) and,
   when signed, a "signature" (the hash inverted, standing in for ed25519). */
static inline void make_image(test_image_t *img, uint32_t body_len, uint32_t seed, image_kind_t kind)
{
  memset(img->bytes, 0xff, sizeof img->bytes);
  uint8_t *h = img->bytes;
  put32(h, 0x96f3b83du);
  put32(h + 4, 0);
  put16(h + 8, HDR_SIZE);
  uint32_t prot = 4 + 4 + (uint32_t)strlen(TARGET);
  put16(h + 10, prot);
  put32(h + 12, body_len);
  put32(h + 16, 0);
  h[20] = (uint8_t)seed;
  memset(h + 21, 0, 11);
  uint32_t x = seed * 2654435761u + 1;
  for (uint32_t i = 0; i < body_len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    img->bytes[HDR_SIZE + i] = (uint8_t)x;
  }
  uint8_t *p = img->bytes + HDR_SIZE + body_len;
  put16(p, 0x6908u);
  put16(p + 2, prot);
  put16(p + 4, TLV_TARGET);
  put16(p + 6, (uint32_t)strlen(TARGET));
  memcpy(p + 8, TARGET, strlen(TARGET));
  uint32_t hashed = HDR_SIZE + body_len + prot;
  uint64_t digest = fnv1a(FNV_START, img->bytes, hashed);
  uint8_t *u = img->bytes + hashed;
  uint32_t unprot = 4 + 4 + 32 + (kind == UNSIGNED ? 0 : 4 + 64);
  put16(u, 0x6907u);
  put16(u + 2, unprot);
  put16(u + 4, TLV_SHA256);
  put16(u + 6, 32);
  memset(u + 8, 0, 32);
  memcpy(u + 8, &digest, sizeof digest);
  if (kind != UNSIGNED) {
    uint64_t sig = ~digest;
    put16(u + 40, TLV_ED25519);
    put16(u + 42, 64);
    memset(u + 44, 0, 64);
    memcpy(u + 44, &sig, sizeof sig);
  }
  img->len = hashed + unprot;
  if (kind == CORRUPT) {
    img->bytes[HDR_SIZE + body_len / 2] ^= 0x10;
  } else if (kind == CUT_SHORT) {
    img->len = img->len * 3 / 5; /* the upload stopped here; the rest stays erased */
    memset(img->bytes + img->len, 0xff, sizeof img->bytes - img->len);
  } else if (kind == TOO_BIG) {
    put32(h + 12, 0x7fff0000u);
  }
}

/* The validity hook: the "hash" over the hashed region and the "signature". */
static inline int validate(void *ctx, const boot_flash_t *f, uint32_t slot, const boot_image_t *image)
{
  (void)ctx;
  uint8_t buf[256];
  uint64_t digest = FNV_START;
  for (uint32_t off = 0; off < image->hashed_size; off += sizeof buf) {
    uint32_t len = image->hashed_size - off < sizeof buf ? image->hashed_size - off : (uint32_t)sizeof buf;
    if (f->read(f->ctx, slot + off, buf, len) != BOOT_OK) {
      return BOOT_EFLASH;
    }
    digest = fnv1a(digest, buf, len);
  }
  bool hash_ok = false, signed_ok = false;
  for (uint32_t off = image->hashed_size + 4; off + 4 <= image->total_size;) {
    uint8_t tlv[4 + 64];
    if (f->read(f->ctx, slot + off, tlv, 4) != BOOT_OK) {
      return BOOT_EFLASH;
    }
    uint32_t type = (uint32_t)(tlv[0] | tlv[1] << 8), len = (uint32_t)(tlv[2] | tlv[3] << 8);
    if (len > 64 || f->read(f->ctx, slot + off + 4, tlv + 4, len) != BOOT_OK) {
      return len > 64 ? BOOT_EINVALID : BOOT_EFLASH;
    }
    uint64_t v = 0;
    memcpy(&v, tlv + 4, sizeof v);
    hash_ok |= type == TLV_SHA256 && len == 32 && v == digest;
    signed_ok |= type == TLV_ED25519 && len == 64 && v == ~digest;
    off += 4 + len;
  }
  return hash_ok && signed_ok ? BOOT_OK : BOOT_EINVALID;
}

#endif
