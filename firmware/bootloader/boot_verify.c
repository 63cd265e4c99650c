/* Hash and TLV checks of an MCUboot image in a slot (firmware-image.md,
   "TLV areas", "What the hash and the signature cover"). */
#include "boot_verify.h"

#include <stdbool.h>
#include <string.h>

#include "mbedtls/sha256.h"

#define TLV_KEYHASH 0x01u
#define TLV_PUBKEY 0x02u
#define TLV_SHA256 0x10u
#define TLV_TARGET 0xb0u
#define DIGEST_SIZE 32u
#define TARGET_MAX 64u
#define CHUNK 256u

/* MCUboot's list of types that may sit outside the protected area. */
static bool allowed_unprotected(uint16_t type)
{
  return type == TLV_KEYHASH || type == TLV_PUBKEY || (type >= 0x10u && type <= 0x12u)
      || (type >= 0x20u && type <= 0x25u) || (type >= 0x30u && type <= 0x33u);
}

static int hash_region(const boot_flash_t *flash, uint32_t slot, uint32_t len, uint8_t digest[DIGEST_SIZE])
{
  mbedtls_sha256_context sha;
  uint8_t chunk[CHUNK];
  int rc = BOOT_OK;
  mbedtls_sha256_init(&sha);
  if (mbedtls_sha256_starts_ret(&sha, 0) != 0) {
    rc = BOOT_EINVALID;
  }
  for (uint32_t off = 0; rc == BOOT_OK && off < len; off += CHUNK) {
    uint32_t n = len - off < CHUNK ? len - off : CHUNK;
    if (flash->read(flash->ctx, slot + off, chunk, n) != BOOT_OK) {
      rc = BOOT_EFLASH;
    } else if (mbedtls_sha256_update_ret(&sha, chunk, n) != 0) {
      rc = BOOT_EINVALID;
    }
  }
  if (rc == BOOT_OK && mbedtls_sha256_finish_ret(&sha, digest) != 0) {
    rc = BOOT_EINVALID;
  }
  mbedtls_sha256_free(&sha);
  return rc;
}

typedef struct tlv_walk {
  bool protected_area;
  const char *target;
  bool target_ok;     /* no target TLV, or the expected one */
  bool has_digest;
  uint8_t digest[DIGEST_SIZE];
} tlv_walk_t;

/* Walks the records of one area [from, to): they must fill it exactly. */
static int walk_area(const boot_flash_t *flash, uint32_t slot, uint32_t from, uint32_t to, tlv_walk_t *walk)
{
  uint32_t off = from;
  while (off < to) {
    uint8_t head[4];
    if (to - off < sizeof head) {
      return BOOT_EINVALID;
    }
    if (flash->read(flash->ctx, slot + off, head, sizeof head) != BOOT_OK) {
      return BOOT_EFLASH;
    }
    uint16_t type = (uint16_t)(head[0] | head[1] << 8);
    uint32_t len = (uint32_t)(head[2] | head[3] << 8);
    off += sizeof head;
    if (len > to - off || (!walk->protected_area && !allowed_unprotected(type))) {
      return BOOT_EINVALID;
    }
    if (!walk->protected_area && type == TLV_SHA256 && len == DIGEST_SIZE) {
      if (flash->read(flash->ctx, slot + off, walk->digest, DIGEST_SIZE) != BOOT_OK) {
        return BOOT_EFLASH;
      }
      walk->has_digest = true;
    }
    if (walk->protected_area && type == TLV_TARGET && walk->target) {
      char name[TARGET_MAX];
      if (len > TARGET_MAX) {
        walk->target_ok = false;
      } else if (flash->read(flash->ctx, slot + off, name, len) != BOOT_OK) {
        return BOOT_EFLASH;
      } else {
        walk->target_ok = len == strlen(walk->target) && memcmp(name, walk->target, len) == 0;
      }
    }
    off += len;
  }
  return BOOT_OK;
}

int boot_verify_image(void *ctx, const boot_flash_t *flash, uint32_t slot, const boot_image_t *image)
{
  tlv_walk_t walk = {.protected_area = true, .target = ctx, .target_ok = true};
  uint32_t body_end = image->hdr_size + image->img_size;
  int rc = BOOT_OK;
  if (image->protect_tlv_size > 0) {
    rc = walk_area(flash, slot, body_end + 4, image->hashed_size, &walk);
  }
  walk.protected_area = false;
  if (rc == BOOT_OK) {
    rc = walk_area(flash, slot, image->hashed_size + 4, image->total_size, &walk);
  }
  if (rc != BOOT_OK) {
    return rc;
  }
  if (!walk.has_digest || !walk.target_ok) {
    return BOOT_EINVALID;
  }
  uint8_t digest[DIGEST_SIZE];
  rc = hash_region(flash, slot, image->hashed_size, digest);
  if (rc != BOOT_OK) {
    return rc;
  }
  return memcmp(digest, walk.digest, DIGEST_SIZE) == 0 ? BOOT_OK : BOOT_EINVALID;
}
