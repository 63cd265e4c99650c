/* The image check behind boot_config_t.validate (docs/bootloader.md, "Validity
   hook"): the TLV areas well formed, only the types MCUboot allows unprotected
   outside the protected area, the SHA256 TLV equal to SHA-256 over header, body
   and protected TLVs, and the target TLV, when present, naming this target.
   Not yet: the ED25519 signature with the built-in key (libsodium). */
#ifndef BOOT_VERIFY_H
#define BOOT_VERIFY_H

#include <stdint.h>

#include "boot_flash.h"
#include "boot_image.h"

/* A boot_validate_fn: ctx is the target name ("mps2-an385"), or NULL to take any. */
int boot_verify_image(void *ctx, const boot_flash_t *flash, uint32_t slot, const boot_image_t *image);

#endif
