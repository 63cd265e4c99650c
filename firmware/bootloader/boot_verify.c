/* Hash and TLV checks of an MCUboot image in a slot (firmware-image.md,
   "TLV areas", "What the hash and the signature cover"). */
#include "boot_verify.h"

#include <stdbool.h>
#include <string.h>

#include "crypto_sign_ed25519.h"
#include "mbedtls/sha256.h"

#define TLV_KEYHASH 0x01u
#define TLV_PUBKEY 0x02u
#define TLV_SHA256 0x10u
#define TLV_ED25519 0x24u
#define TLV_TARGET 0xb0u
#define KEY_SIZE 32u
#define SIG_SIZE 64u
#define SPKI_PREFIX_SIZE 12u
#define SPKI_SIZE (SPKI_PREFIX_SIZE + KEY_SIZE)
#define DIGEST_SIZE 32u
#define TARGET_MAX 64u
#define CHUNK 256u

/* MCUboot's list of types that may sit outside the protected area. */
static bool allowed_unprotected(uint16_t type)
{
  return type == TLV_KEYHASH || type == TLV_PUBKEY || (type >= 0x10u && type <= 0x12u)
      || (type >= 0x20u && type <= 0x25u) || (type >= 0x30u && type <= 0x33u);
}

/* DER SubjectPublicKeyInfo of an Ed25519 key, as imgtool hashes it for KEYHASH. */
static const uint8_t spki_prefix[SPKI_PREFIX_SIZE] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                      0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

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
  bool target_ok; /* no target TLV, or the expected one */
  bool has_digest, has_keyhash, has_pubkey, has_signature;
  uint8_t digest[DIGEST_SIZE];
  uint8_t keyhash[DIGEST_SIZE];
  uint8_t pubkey[SPKI_SIZE];
  uint8_t signature[SIG_SIZE];
} tlv_walk_t;

/* Keeps the value of a TLV the check needs (the first of each kind). */
static int keep_value(const boot_flash_t *flash, uint32_t addr, uint32_t len, uint32_t want, bool *has, uint8_t *out)
{
  if (*has || len != want) {
    return BOOT_OK;
  }
  if (flash->read(flash->ctx, addr, out, len) != BOOT_OK) {
    return BOOT_EFLASH;
  }
  *has = true;
  return BOOT_OK;
}

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
    int rc = BOOT_OK;
    if (!walk->protected_area) {
      uint32_t at = slot + off;
      rc = type == TLV_SHA256    ? keep_value(flash, at, len, DIGEST_SIZE, &walk->has_digest, walk->digest)
         : type == TLV_KEYHASH ? keep_value(flash, at, len, DIGEST_SIZE, &walk->has_keyhash, walk->keyhash)
         : type == TLV_PUBKEY  ? keep_value(flash, at, len, SPKI_SIZE, &walk->has_pubkey, walk->pubkey)
         : type == TLV_ED25519 ? keep_value(flash, at, len, SIG_SIZE, &walk->has_signature, walk->signature)
                               : BOOT_OK;
    }
    if (rc != BOOT_OK) {
      return rc;
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

/* The image names our key: by its hash (KEYHASH) or in full (PUBKEY). */
static int names_our_key(const tlv_walk_t *walk, const uint8_t key[KEY_SIZE])
{
  uint8_t spki[SPKI_SIZE];
  memcpy(spki, spki_prefix, SPKI_PREFIX_SIZE);
  memcpy(spki + SPKI_PREFIX_SIZE, key, KEY_SIZE);
  if (walk->has_pubkey && memcmp(walk->pubkey, spki, SPKI_SIZE) == 0) {
    return BOOT_OK;
  }
  uint8_t keyhash[DIGEST_SIZE];
  if (!walk->has_keyhash || mbedtls_sha256_ret(spki, SPKI_SIZE, keyhash, 0) != 0) {
    return BOOT_EINVALID;
  }
  return memcmp(keyhash, walk->keyhash, DIGEST_SIZE) == 0 ? BOOT_OK : BOOT_EINVALID;
}

int boot_verify_image(void *ctx, const boot_flash_t *flash, uint32_t slot, const boot_image_t *image)
{
  const boot_verify_policy_t *policy = ctx;
  tlv_walk_t walk = {.protected_area = true, .target = policy->target, .target_ok = true};
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
  if (!walk.has_digest || !walk.target_ok || !walk.has_signature || names_our_key(&walk, policy->ed25519_key) != BOOT_OK) {
    return BOOT_EINVALID;
  }
  uint8_t digest[DIGEST_SIZE];
  rc = hash_region(flash, slot, image->hashed_size, digest);
  if (rc != BOOT_OK) {
    return rc;
  }
  if (memcmp(digest, walk.digest, DIGEST_SIZE) != 0) {
    return BOOT_EINVALID;
  }
  /* imgtool signs the 32-byte digest, not the image (firmware-image.md). */
  return crypto_sign_ed25519_verify_detached(walk.signature, digest, DIGEST_SIZE, policy->ed25519_key) == 0
             ? BOOT_OK
             : BOOT_EINVALID;
}
