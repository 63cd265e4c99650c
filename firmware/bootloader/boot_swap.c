/* Swap using the scratch sector (docs/bootloader.md, "Swap"). Sector i:
   step 0 secondary[i] -> scratch, step 1 primary[i] -> secondary[i],
   step 2 scratch -> primary[i]; the status entry 3i+k follows step k. */
#include "boot_swap.h"

#include "boot_trailer.h"

#define STEPS 3u

/* Erases the destination sector and copies the source sector into it. */
static int copy_sector(const boot_flash_t *flash, const boot_map_t *map, uint32_t from, uint32_t to)
{
  uint8_t chunk[BOOT_COPY_CHUNK];
  if (flash->erase(flash->ctx, to) != BOOT_OK) {
    return BOOT_EFLASH;
  }
  for (uint32_t off = 0; off < map->sector_size; off += BOOT_COPY_CHUNK) {
    uint32_t len = map->sector_size - off < BOOT_COPY_CHUNK ? map->sector_size - off : BOOT_COPY_CHUNK;
    if (flash->read(flash->ctx, from + off, chunk, len) != BOOT_OK
        || flash->program(flash->ctx, to + off, chunk, len) != BOOT_OK) {
      return BOOT_EFLASH;
    }
  }
  return BOOT_OK;
}

static int run_step(const boot_flash_t *flash, const boot_map_t *map, uint32_t sector, uint32_t step)
{
  uint32_t primary = map->primary + sector * map->sector_size;
  uint32_t secondary = map->secondary + sector * map->sector_size;
  switch (step) {
  case 0:
    return copy_sector(flash, map, secondary, map->scratch);
  case 1:
    return copy_sector(flash, map, primary, secondary);
  default:
    return copy_sector(flash, map, map->scratch, primary);
  }
}

int boot_swap_resume(const boot_flash_t *flash, const boot_map_t *map, uint32_t sectors)
{
  uint32_t entries = sectors * STEPS;
  uint32_t entry = 0;
  int rc = boot_status_first_open(flash, map, entries, &entry);
  for (; rc == BOOT_OK && entry < entries; entry++) {
    rc = run_step(flash, map, entry / STEPS, entry % STEPS);
    if (rc == BOOT_OK) {
      rc = boot_status_set(flash, map, entry);
    }
  }
  return rc;
}
