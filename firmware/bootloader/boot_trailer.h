/* The slot trailer at the end of each slot (MCUboot's offsets for an 8-byte write
   unit) and the swap status entries in the primary trailer. Every field is
   programmed at most once after its sector was erased. */
#ifndef BOOT_TRAILER_H
#define BOOT_TRAILER_H

#include <stdbool.h>
#include <stdint.h>

#include "boot_flash.h"

/* swap_info types, MCUboot's numbers. */
#define BOOT_SWAP_TEST 2u
#define BOOT_SWAP_PERM 3u
#define BOOT_SWAP_REVERT 4u

typedef struct boot_trailer {
  bool magic;        /* all 16 magic bytes present */
  bool image_ok;     /* 0x01 */
  bool copy_done;    /* 0x01 */
  bool any_written;  /* some field is not erased */
  uint8_t swap_type; /* low nibble of swap_info; 0 when erased */
  uint32_t swap_size; /* sectors; 0 when erased */
} boot_trailer_t;

/* Whether a map is usable: equal slots, the trailer and status fit the trailer sector. */
bool boot_map_valid(const boot_map_t *map);
/* Sectors an image may take: all but the trailer sector. */
uint32_t boot_image_sectors_max(const boot_map_t *map);

int boot_trailer_read(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot, boot_trailer_t *out);
/* Erases the slot's trailer sector. */
int boot_trailer_erase(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot);

/* Each writes its field unless it already holds the value; BOOT_EINVALID when it
   holds another one. */
int boot_trailer_set_magic(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot);
int boot_trailer_set_image_ok(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot);
int boot_trailer_set_copy_done(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot);
int boot_trailer_set_swap_info(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot, uint8_t type);
int boot_trailer_set_swap_size(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot, uint32_t sectors);

/* Swap status in the primary trailer: entry 3 * sector + step. */
int boot_status_set(const boot_flash_t *flash, const boot_map_t *map, uint32_t entry);
/* The first entry not yet written among the first `entries`, or `entries` when all are. */
int boot_status_first_open(const boot_flash_t *flash, const boot_map_t *map, uint32_t entries, uint32_t *out);

#endif
