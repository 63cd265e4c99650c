/* The boot decision (docs/bootloader.md, "Boot decision"): rules 1..5 over the
   two trailers, the start and the finish of a swap. */
#include "boot.h"

#include "boot_swap.h"
#include "boot_trailer.h"

static bool is_swap_type(uint8_t type)
{
  return type == BOOT_SWAP_TEST || type == BOOT_SWAP_PERM || type == BOOT_SWAP_REVERT;
}

static int check_image(const boot_config_t *config, uint32_t slot)
{
  boot_image_t image;
  int rc = boot_image_read(config->flash, config->map, slot, &image);
  if (rc != BOOT_OK) {
    return rc;
  }
  return config->validate(config->validate_ctx, config->flash, slot, &image);
}

/* Rule 5: the primary runs when its image holds. */
static int boot_primary(const boot_config_t *config, boot_result_t *out, const char *reason)
{
  int rc = check_image(config, config->map->primary);
  if (rc == BOOT_EFLASH) {
    return rc;
  }
  out->action = rc == BOOT_OK ? BOOT_RUN_PRIMARY : BOOT_NO_IMAGE;
  out->reason = rc == BOOT_OK ? reason : "no valid image in the primary slot";
  return BOOT_OK;
}

/* Sectors a swap moves: those the larger image covers; all when one has no image. */
static int swap_sectors(const boot_config_t *config, uint32_t *sectors)
{
  const boot_map_t *map = config->map;
  const uint32_t slots[2] = {map->primary, map->secondary};
  uint32_t most = 0;
  for (unsigned i = 0; i < 2; i++) {
    boot_image_t image;
    int rc = boot_image_read(config->flash, map, slots[i], &image);
    if (rc == BOOT_EFLASH) {
      return rc;
    }
    uint32_t n = rc == BOOT_OK ? boot_image_sectors(map, &image) : boot_image_sectors_max(map);
    most = n > most ? n : most;
  }
  *sectors = most;
  return BOOT_OK;
}

static int revert_trial(const boot_config_t *config, const boot_trailer_t *secondary, boot_result_t *out);

static int finish_swap(const boot_config_t *config, uint8_t type, uint32_t sectors, boot_result_t *out)
{
  const boot_flash_t *flash = config->flash;
  const boot_map_t *map = config->map;
  int rc = boot_swap_resume(flash, map, sectors);
  if (rc == BOOT_OK) {
    rc = boot_trailer_erase(flash, map, map->secondary);
  }
  if (rc == BOOT_OK && type != BOOT_SWAP_REVERT) {
    /* Checked before the swap; a copy that went wrong is a failed upgrade, reverted now. */
    rc = check_image(config, map->primary);
    if (rc == BOOT_EINVALID) {
      const boot_trailer_t erased = {0};
      return revert_trial(config, &erased, out);
    }
  }
  if (rc == BOOT_OK && type != BOOT_SWAP_TEST) {
    rc = boot_trailer_set_image_ok(flash, map, map->primary);
  }
  if (rc == BOOT_OK) {
    rc = boot_trailer_set_copy_done(flash, map, map->primary);
  }
  if (rc != BOOT_OK) {
    return rc;
  }
  out->swap = type;
  out->trial = type == BOOT_SWAP_TEST;
  return boot_primary(config, out,
                      type == BOOT_SWAP_TEST   ? "new image swapped in for a trial boot"
                      : type == BOOT_SWAP_PERM ? "new image swapped in, permanent"
                                               : "trial image not confirmed: old image swapped back");
}

/* Erase the primary trailer, then size, type and magic: from the magic on, rule 1 owns it. */
static int start_swap(const boot_config_t *config, uint8_t type, boot_result_t *out)
{
  const boot_flash_t *flash = config->flash;
  const boot_map_t *map = config->map;
  uint32_t sectors = 0;
  int rc = swap_sectors(config, &sectors);
  if (rc == BOOT_OK) {
    rc = boot_trailer_erase(flash, map, map->primary);
  }
  if (rc == BOOT_OK) {
    rc = boot_trailer_set_swap_size(flash, map, map->primary, sectors);
  }
  if (rc == BOOT_OK) {
    rc = boot_trailer_set_swap_info(flash, map, map->primary, type);
  }
  if (rc == BOOT_OK) {
    rc = boot_trailer_set_magic(flash, map, map->primary);
  }
  return rc == BOOT_OK ? finish_swap(config, type, sectors, out) : rc;
}

/* Rule 3: the trial image did not confirm (or failed its check right after the swap). */
static int revert_trial(const boot_config_t *config, const boot_trailer_t *secondary, boot_result_t *out)
{
  const boot_flash_t *flash = config->flash;
  const boot_map_t *map = config->map;
  int rc = check_image(config, map->secondary);
  if (rc == BOOT_EFLASH) {
    return rc;
  }
  if (rc != BOOT_OK) {
    /* Nothing to go back to: the primary stays as it is, settled (no resume next time). */
    rc = boot_trailer_set_image_ok(flash, map, map->primary);
    if (rc == BOOT_OK) {
      rc = boot_trailer_set_copy_done(flash, map, map->primary);
    }
    return rc == BOOT_OK ? boot_primary(config, out, "trial image not confirmed, but no valid old image to go back to: kept")
                         : rc;
  }
  if (secondary->any_written) {
    rc = boot_trailer_erase(flash, map, map->secondary); /* a request the trial image should not have made */
  }
  if (rc == BOOT_OK) {
    rc = boot_trailer_set_swap_info(flash, map, map->secondary, BOOT_SWAP_REVERT);
  }
  if (rc == BOOT_OK) {
    rc = boot_trailer_set_magic(flash, map, map->secondary);
  }
  return rc == BOOT_OK ? start_swap(config, BOOT_SWAP_REVERT, out) : rc;
}

int boot_go(const boot_config_t *config, boot_result_t *out)
{
  const boot_flash_t *flash = config->flash;
  const boot_map_t *map = config->map;
  out->action = BOOT_NO_IMAGE;
  out->swap = 0;
  out->trial = false;
  out->reason = "";
  if (!boot_map_valid(map)) {
    out->reason = "flash map unusable: the trailer does not fit a sector";
    return BOOT_EINVALID;
  }
  boot_trailer_t primary, secondary;
  int rc = boot_trailer_read(flash, map, map->primary, &primary);
  if (rc == BOOT_OK) {
    rc = boot_trailer_read(flash, map, map->secondary, &secondary);
  }
  if (rc != BOOT_OK) {
    return rc;
  }
  /* 1: a swap in progress */
  if (primary.magic && !primary.copy_done && is_swap_type(primary.swap_type) && primary.swap_size >= 1
      && primary.swap_size <= boot_image_sectors_max(map)) {
    return finish_swap(config, primary.swap_type, primary.swap_size, out);
  }
  /* 2: a revert marked but not started */
  if (secondary.magic && secondary.swap_type == BOOT_SWAP_REVERT) {
    return start_swap(config, BOOT_SWAP_REVERT, out);
  }
  /* 3: a trial image that did not confirm */
  if (primary.magic && primary.copy_done && !primary.image_ok) {
    return revert_trial(config, &secondary, out);
  }
  /* 4: an upgrade requested */
  const char *reason = "primary image";
  if (secondary.magic) {
    rc = check_image(config, map->secondary);
    if (rc == BOOT_EFLASH) {
      return rc;
    }
    if (rc == BOOT_OK) {
      return start_swap(config, secondary.image_ok ? BOOT_SWAP_PERM : BOOT_SWAP_TEST, out);
    }
    rc = boot_trailer_erase(flash, map, map->secondary);
    if (rc != BOOT_OK) {
      return rc;
    }
    reason = "secondary image refused (malformed, too big, bad hash or signature): request dropped";
  }
  /* 5 */
  return boot_primary(config, out, reason);
}

int boot_request_upgrade(const boot_flash_t *flash, const boot_map_t *map, bool permanent)
{
  int rc = BOOT_OK;
  if (permanent) {
    rc = boot_trailer_set_image_ok(flash, map, map->secondary);
  }
  if (rc == BOOT_OK) {
    rc = boot_trailer_set_swap_info(flash, map, map->secondary, permanent ? BOOT_SWAP_PERM : BOOT_SWAP_TEST);
  }
  return rc == BOOT_OK ? boot_trailer_set_magic(flash, map, map->secondary) : rc;
}

int boot_primary_on_trial(const boot_flash_t *flash, const boot_map_t *map, bool *trial)
{
  boot_trailer_t primary;
  int rc = boot_trailer_read(flash, map, map->primary, &primary);
  if (rc == BOOT_OK) {
    *trial = primary.magic && primary.copy_done && !primary.image_ok;
  }
  return rc;
}

/* Like MCUboot's: image_ok is written whenever the primary trailer is in use and
   it is not yet set; an erased trailer is an image that is already permanent. */
int boot_confirm(const boot_flash_t *flash, const boot_map_t *map)
{
  boot_trailer_t primary;
  int rc = boot_trailer_read(flash, map, map->primary, &primary);
  if (rc != BOOT_OK || !primary.magic || primary.image_ok) {
    return rc;
  }
  return boot_trailer_set_image_ok(flash, map, map->primary);
}
