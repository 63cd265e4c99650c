/* The image side of the spot's SMP server: what each slot holds (version and the
   SHA-256 TLV, as image state lists them) and the upload into the secondary slot
   through the bootloader's flash interface, resumable across a cut link and a
   power cut (docs/smp.md, "The spot's server"). */
#ifndef SMP_IMAGE_H
#define SMP_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "boot_flash.h"

#define SMP_HASH_SIZE 32u
/* The upload record: "SMPU", the length (LE), a has-sha byte, padding, the sha.
   Programmed at the start of the secondary's trailer sector, whose second half
   holds the MCUboot trailer; the bootloader's erase of that sector (a request
   consumed or dropped) removes it. */
#define SMP_UPLOAD_RECORD_SIZE 48u
#define SMP_UPLOAD_MAGIC 0x55504d53u /* "SMPU" */

typedef struct smp_slot_info {
  bool present; /* a well-formed MCUboot image with a SHA256 TLV */
  uint8_t version[8];
  uint8_t hash[SMP_HASH_SIZE];
} smp_slot_info_t;

/* BOOT_OK (present or not), or BOOT_EFLASH. */
int smp_slot_read(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot, smp_slot_info_t *out);
/* "X.Y.Z", with ".B" when the build number is not 0; out holds 48 bytes. */
void smp_version_text(const uint8_t version[8], char *out);

typedef struct smp_upload {
  bool active;   /* an upload record is in flash */
  bool has_sha;
  uint32_t len;
  uint32_t off;  /* bytes taken; off - off % 8 of them programmed */
  uint8_t sha[SMP_HASH_SIZE];
  uint8_t tail[BOOT_WRITE_SIZE]; /* the bytes of the unit not yet programmed */
  bool erase_at_off; /* found after a power cut: the sector at off is erased before it is written */
} smp_upload_t;

/* Bytes an image may take in the secondary slot (all but its trailer sector). */
uint32_t smp_upload_capacity(const boot_map_t *map);
/* Finds an upload under way after a reset: the record, then the offset by
   scanning the slot: the start of the sector holding the last programmed byte
   (that sector is erased again when the upload goes on). */
int smp_upload_load(smp_upload_t *u, const boot_flash_t *flash, const boot_map_t *map);
/* Starts an upload of len bytes (len <= capacity): erases the trailer sector
   and the sectors the image needs, then programs the record. */
int smp_upload_start(smp_upload_t *u, const boot_flash_t *flash, const boot_map_t *map, uint32_t len, const uint8_t *sha);
/* Takes n bytes at u->off (n <= len - off); the last unit is padded with 0xff. */
int smp_upload_write(smp_upload_t *u, const boot_flash_t *flash, const boot_map_t *map, const uint8_t *data, uint32_t n);
/* SHA-256 of len bytes of flash from addr (mbedTLS). BOOT_OK, BOOT_EFLASH, BOOT_EINVALID. */
int smp_flash_sha256(const boot_flash_t *flash, uint32_t addr, uint32_t len, uint8_t out[SMP_HASH_SIZE]);

#endif
