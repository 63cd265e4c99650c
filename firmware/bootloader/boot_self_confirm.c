/* The app's confirm of its trial image, retried (boot_self_confirm.h). */
#include "boot_self_confirm.h"

#include "boot.h"

void boot_self_confirm_init(boot_self_confirm_t *c)
{
  c->pending = false;
  c->tries = 0;
  c->next_ms = 0;
}

void boot_self_confirm_ask(boot_self_confirm_t *c, uint64_t now_ms)
{
  if (c->pending || c->tries > 0) {
    return;
  }
  c->pending = true;
  c->next_ms = now_ms;
}

boot_self_confirm_step_t boot_self_confirm_poll(boot_self_confirm_t *c, const boot_flash_t *flash,
                                                const boot_map_t *map, uint64_t now_ms)
{
  if (!c->pending || now_ms < c->next_ms) {
    return BOOT_SELF_CONFIRM_IDLE;
  }
  c->tries++;
  bool trial = false;
  int rc = boot_primary_on_trial(flash, map, &trial);
  if (rc == BOOT_OK && !trial) {
    c->pending = false;
    return BOOT_SELF_CONFIRM_ALREADY;
  }
  if (rc == BOOT_OK && boot_confirm(flash, map) == BOOT_OK) {
    c->pending = false;
    return BOOT_SELF_CONFIRM_CONFIRMED;
  }
  if (c->tries >= (uint8_t)BOOT_SELF_CONFIRM_TRIES) {
    c->pending = false;
    return BOOT_SELF_CONFIRM_GAVE_UP;
  }
  c->next_ms = now_ms + BOOT_SELF_CONFIRM_RETRY_MS;
  return BOOT_SELF_CONFIRM_RETRY;
}
