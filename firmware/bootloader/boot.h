/* The bootloader's upgrade core: which image to run, the swap of an uploaded
   image for a trial boot, the revert of a trial that did not confirm, and the
   application's side of it (request an upgrade, confirm itself).
   docs/bootloader.md gives the rules, the trailer and what each power cut leaves. */
#ifndef BOOT_H
#define BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "boot_flash.h"
#include "boot_image.h"

/* The image check (hash, signature, target) of the image at slot with the given
   extent: BOOT_OK when it may run, BOOT_EINVALID when not, BOOT_EFLASH on a read
   failure (never taken as an instruction to change anything). */
typedef int (*boot_validate_fn)(void *ctx, const boot_flash_t *flash, uint32_t slot, const boot_image_t *image);

typedef struct boot_config {
  const boot_flash_t *flash;
  const boot_map_t *map;
  boot_validate_fn validate;
  void *validate_ctx;
} boot_config_t;

typedef enum {
  BOOT_RUN_PRIMARY, /* jump to the primary slot's image */
  BOOT_NO_IMAGE,    /* nothing valid to run: stay in the bootloader (serial recovery) */
} boot_action_t;

typedef struct boot_result {
  boot_action_t action;
  uint8_t swap;       /* BOOT_SWAP_TEST/PERM/REVERT when a swap ran (or was resumed), else 0 */
  bool trial;         /* the primary runs on trial: it must confirm before the next reset */
  const char *reason; /* one line for the console, e.g. "secondary image refused: ..." */
} boot_result_t;

/* Decides, swaps or reverts as the trailers say, and says what to run.
   BOOT_OK, BOOT_EFLASH (the flash failed: reset and call again),
   BOOT_EINVALID (a bad map or trailer state not written by us). */
int boot_go(const boot_config_t *config, boot_result_t *out);

/* The application's side (SMP image state write, MCUboot's public API). */
/* Marks the secondary image for one trial boot, or to stay when permanent. */
int boot_request_upgrade(const boot_flash_t *flash, const boot_map_t *map, bool permanent);
/* The running image confirms itself: no revert at the next reset. */
int boot_confirm(const boot_flash_t *flash, const boot_map_t *map);
/* Whether the running image is on trial (would be reverted at the next reset). */
int boot_primary_on_trial(const boot_flash_t *flash, const boot_map_t *map, bool *trial);

#endif
