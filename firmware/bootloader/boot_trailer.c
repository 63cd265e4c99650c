/* Slot trailer fields and swap status entries (docs/bootloader.md, "Trailer"). */
#include "boot_trailer.h"

#include <string.h>

#define MAGIC_SIZE 16u
#define OFF_MAGIC 16u
#define OFF_IMAGE_OK 24u
#define OFF_COPY_DONE 32u
#define OFF_SWAP_INFO 40u
#define OFF_SWAP_SIZE 48u
#define STATUS_STEPS 3u
#define FLAG_SET 0x01u

/* MCUboot's trailer magic for write units of up to 8 bytes (a format constant). */
static const uint8_t trailer_magic[MAGIC_SIZE] = {
  0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
};

static uint32_t slot_end(const boot_map_t *map, uint32_t slot)
{
  return slot + map->slot_sectors * map->sector_size;
}

static uint32_t status_base(const boot_map_t *map)
{
  return slot_end(map, map->primary) - OFF_SWAP_SIZE - boot_image_sectors_max(map) * STATUS_STEPS * BOOT_WRITE_SIZE;
}

bool boot_map_valid(const boot_map_t *map)
{
  if (map->sector_size == 0 || map->sector_size % BOOT_WRITE_SIZE != 0 || map->slot_sectors < 2) {
    return false;
  }
  uint64_t trailer = OFF_SWAP_SIZE + (uint64_t)(map->slot_sectors - 1) * STATUS_STEPS * BOOT_WRITE_SIZE;
  return trailer <= map->sector_size;
}

uint32_t boot_image_sectors_max(const boot_map_t *map)
{
  return map->slot_sectors - 1;
}

static bool all_erased(const uint8_t *p, uint32_t len)
{
  for (uint32_t i = 0; i < len; i++) {
    if (p[i] != 0xff) {
      return false;
    }
  }
  return true;
}

int boot_trailer_read(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot, boot_trailer_t *out)
{
  uint8_t raw[OFF_SWAP_SIZE];
  uint32_t base = slot_end(map, slot) - OFF_SWAP_SIZE;
  if (flash->read(flash->ctx, base, raw, sizeof raw) != BOOT_OK) {
    return BOOT_EFLASH;
  }
  const uint8_t *magic = raw + OFF_SWAP_SIZE - OFF_MAGIC;
  uint8_t image_ok = raw[OFF_SWAP_SIZE - OFF_IMAGE_OK];
  uint8_t copy_done = raw[OFF_SWAP_SIZE - OFF_COPY_DONE];
  uint8_t swap_info = raw[OFF_SWAP_SIZE - OFF_SWAP_INFO];
  const uint8_t *size = raw;
  out->magic = memcmp(magic, trailer_magic, MAGIC_SIZE) == 0;
  out->image_ok = image_ok == FLAG_SET;
  out->copy_done = copy_done == FLAG_SET;
  out->any_written = !all_erased(raw, sizeof raw);
  out->swap_type = swap_info == 0xff ? 0 : (uint8_t)(swap_info & 0x0fu);
  out->swap_size = all_erased(size, 4) ? 0
                 : (uint32_t)size[0] | (uint32_t)size[1] << 8 | (uint32_t)size[2] << 16 | (uint32_t)size[3] << 24;
  return BOOT_OK;
}

int boot_trailer_erase(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot)
{
  return flash->erase(flash->ctx, slot_end(map, slot) - map->sector_size);
}

/* Writes one field (whole write units) unless it already holds the value. */
static int program_once(const boot_flash_t *flash, uint32_t addr, const uint8_t *value, uint32_t len)
{
  uint8_t now[MAGIC_SIZE];
  if (flash->read(flash->ctx, addr, now, len) != BOOT_OK) {
    return BOOT_EFLASH;
  }
  if (memcmp(now, value, len) == 0) {
    return BOOT_OK;
  }
  if (!all_erased(now, len)) {
    return BOOT_EINVALID;
  }
  return flash->program(flash->ctx, addr, value, len);
}

static int set_unit(const boot_flash_t *flash, uint32_t addr, const uint8_t *head, uint32_t head_len)
{
  uint8_t unit[BOOT_WRITE_SIZE];
  memset(unit, 0xff, sizeof unit);
  memcpy(unit, head, head_len);
  return program_once(flash, addr, unit, sizeof unit);
}

int boot_trailer_set_magic(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot)
{
  return program_once(flash, slot_end(map, slot) - OFF_MAGIC, trailer_magic, MAGIC_SIZE);
}

int boot_trailer_set_image_ok(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot)
{
  const uint8_t set = FLAG_SET;
  return set_unit(flash, slot_end(map, slot) - OFF_IMAGE_OK, &set, 1);
}

int boot_trailer_set_copy_done(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot)
{
  const uint8_t set = FLAG_SET;
  return set_unit(flash, slot_end(map, slot) - OFF_COPY_DONE, &set, 1);
}

int boot_trailer_set_swap_info(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot, uint8_t type)
{
  const uint8_t info = (uint8_t)(type & 0x0fu); /* image number 0 in the high nibble */
  return set_unit(flash, slot_end(map, slot) - OFF_SWAP_INFO, &info, 1);
}

int boot_trailer_set_swap_size(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot, uint32_t sectors)
{
  const uint8_t le[4] = {(uint8_t)sectors, (uint8_t)(sectors >> 8), (uint8_t)(sectors >> 16), (uint8_t)(sectors >> 24)};
  return set_unit(flash, slot_end(map, slot) - OFF_SWAP_SIZE, le, sizeof le);
}

int boot_status_set(const boot_flash_t *flash, const boot_map_t *map, uint32_t entry)
{
  const uint8_t set = FLAG_SET;
  return set_unit(flash, status_base(map) + entry * BOOT_WRITE_SIZE, &set, 1);
}

int boot_status_first_open(const boot_flash_t *flash, const boot_map_t *map, uint32_t entries, uint32_t *out)
{
  uint32_t base = status_base(map);
  for (uint32_t i = 0; i < entries; i++) {
    uint8_t unit[BOOT_WRITE_SIZE];
    if (flash->read(flash->ctx, base + i * BOOT_WRITE_SIZE, unit, sizeof unit) != BOOT_OK) {
      return BOOT_EFLASH;
    }
    if (all_erased(unit, sizeof unit)) {
      *out = i;
      return BOOT_OK;
    }
  }
  *out = entries;
  return BOOT_OK;
}
