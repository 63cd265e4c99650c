/* Where an MCUboot image ends in its slot: the header and the TLV info headers,
   checked against the slot, before anything trusts the image (firmware-image.md). */
#ifndef BOOT_IMAGE_H
#define BOOT_IMAGE_H

#include <stdint.h>

#include "boot_flash.h"

typedef struct boot_image {
  uint32_t hdr_size;
  uint32_t img_size;
  uint32_t protect_tlv_size;
  uint32_t hashed_size; /* header + body + protected TLV area */
  uint32_t total_size;  /* ... + unprotected TLV area: the bytes from the slot start */
  uint8_t version[8];   /* iv_major, iv_minor, iv_revision (LE), iv_build_num (LE) */
} boot_image_t;

/* BOOT_OK with the extent, BOOT_EINVALID when the slot holds no well-formed image
   that fits boot_image_sectors_max(map) sectors, BOOT_EFLASH on a read failure. */
int boot_image_read(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot, boot_image_t *out);

/* Sectors the image covers, rounded up. */
uint32_t boot_image_sectors(const boot_map_t *map, const boot_image_t *image);

#endif
