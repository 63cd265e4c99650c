/* MCUboot image extent: header fields and the two TLV info headers. */
#include "boot_image.h"

#include "boot_trailer.h"

#define IMAGE_MAGIC 0x96f3b83du
#define IMAGE_HEADER_SIZE 32u
#define TLV_INFO_MAGIC 0x6907u
#define TLV_PROT_INFO_MAGIC 0x6908u
#define TLV_INFO_SIZE 4u

static uint32_t le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

/* Reads a TLV info header at offset; its total size (info header included) or 0. */
static int read_tlv_info(const boot_flash_t *flash, uint32_t slot, uint32_t offset, uint16_t magic, uint32_t *tot)
{
  uint8_t info[TLV_INFO_SIZE];
  if (flash->read(flash->ctx, slot + offset, info, sizeof info) != BOOT_OK) {
    return BOOT_EFLASH;
  }
  if (le16(info) != magic || le16(info + 2) < TLV_INFO_SIZE) {
    return BOOT_EINVALID;
  }
  *tot = le16(info + 2);
  return BOOT_OK;
}

int boot_image_read(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot, boot_image_t *out)
{
  uint8_t hdr[IMAGE_HEADER_SIZE];
  if (flash->read(flash->ctx, slot, hdr, sizeof hdr) != BOOT_OK) {
    return BOOT_EFLASH;
  }
  if (le32(hdr) != IMAGE_MAGIC) {
    return BOOT_EINVALID;
  }
  const uint64_t room = (uint64_t)boot_image_sectors_max(map) * map->sector_size;
  out->hdr_size = le16(hdr + 8);
  out->protect_tlv_size = le16(hdr + 10);
  out->img_size = le32(hdr + 12);
  for (unsigned i = 0; i < sizeof out->version; i++) {
    out->version[i] = hdr[20 + i];
  }
  uint64_t end = (uint64_t)out->hdr_size + out->img_size;
  if (out->hdr_size < IMAGE_HEADER_SIZE || end + out->protect_tlv_size + TLV_INFO_SIZE > room) {
    return BOOT_EINVALID;
  }
  if (out->protect_tlv_size > 0) {
    uint32_t tot = 0;
    int rc = read_tlv_info(flash, slot, (uint32_t)end, TLV_PROT_INFO_MAGIC, &tot);
    if (rc != BOOT_OK) {
      return rc;
    }
    if (tot != out->protect_tlv_size) {
      return BOOT_EINVALID;
    }
  }
  end += out->protect_tlv_size;
  out->hashed_size = (uint32_t)end;
  uint32_t tot = 0;
  int rc = read_tlv_info(flash, slot, (uint32_t)end, TLV_INFO_MAGIC, &tot);
  if (rc != BOOT_OK) {
    return rc;
  }
  end += tot;
  if (end > room) {
    return BOOT_EINVALID;
  }
  out->total_size = (uint32_t)end;
  return BOOT_OK;
}

uint32_t boot_image_sectors(const boot_map_t *map, const boot_image_t *image)
{
  return (image->total_size + map->sector_size - 1) / map->sector_size;
}
