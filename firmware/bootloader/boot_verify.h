/* The image check behind boot_config_t.validate (docs/bootloader.md, "Validity
   hook"): the TLV areas well formed, only the types MCUboot allows unprotected
   outside the protected area, the target TLV (when present) naming this target,
   the SHA256 TLV equal to SHA-256 over header, body and protected TLVs (mbedTLS),
   a KEYHASH (or PUBKEY) naming the built-in key, and the ED25519 signature of the
   digest verified with it (libsodium). */
#ifndef BOOT_VERIFY_H
#define BOOT_VERIFY_H

#include <stdint.h>

#include "boot_flash.h"
#include "boot_image.h"

typedef struct boot_verify_policy {
  const char *target;         /* "mps2-an385"; NULL takes any target */
  const uint8_t *ed25519_key; /* the 32 raw bytes of the one key images must be signed with */
} boot_verify_policy_t;

/* A boot_validate_fn; ctx is a const boot_verify_policy_t. */
int boot_verify_image(void *ctx, const boot_flash_t *flash, uint32_t slot, const boot_image_t *image);

#endif
