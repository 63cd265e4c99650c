/* The app's confirm of its own trial image (docs/bootloader.md, "The app's
   confirm"), retried within the boot: a flash failure on the way (reading the
   trailer, writing image_ok) is tried again BOOT_SELF_CONFIRM_RETRY_MS later, up
   to BOOT_SELF_CONFIRM_TRIES tries in all; after the last the image stays on
   trial until the next boot (which reverts it). The clock is the caller's. */
#ifndef BOOT_SELF_CONFIRM_H
#define BOOT_SELF_CONFIRM_H

#include <stdbool.h>
#include <stdint.h>

#include "boot_flash.h"

#define BOOT_SELF_CONFIRM_TRIES 5
#define BOOT_SELF_CONFIRM_RETRY_MS 200u

typedef enum boot_self_confirm_step {
  BOOT_SELF_CONFIRM_IDLE,      /* nothing to do now: not asked, finished, or the next try is later */
  BOOT_SELF_CONFIRM_CONFIRMED, /* this try wrote image_ok */
  BOOT_SELF_CONFIRM_ALREADY,   /* the image was not on trial (the flasher confirmed it first) */
  BOOT_SELF_CONFIRM_RETRY,     /* this try failed; another follows */
  BOOT_SELF_CONFIRM_GAVE_UP,   /* the last try failed: on trial until the next boot */
} boot_self_confirm_step_t;

typedef struct boot_self_confirm {
  bool pending;     /* asked, neither confirmed nor given up */
  uint8_t tries;    /* tries made */
  uint64_t next_ms; /* the next try at or after this time */
} boot_self_confirm_t;

void boot_self_confirm_init(boot_self_confirm_t *c);
/* The image has earned its confirm: the first try is at the next poll. A second call does nothing. */
void boot_self_confirm_ask(boot_self_confirm_t *c, uint64_t now_ms);
/* Makes the try that is due, if any, and says how it went. */
boot_self_confirm_step_t boot_self_confirm_poll(boot_self_confirm_t *c, const boot_flash_t *flash,
                                                const boot_map_t *map, uint64_t now_ms);

#endif
