/* The sector swap through the scratch sector: three steps per sector, each
   recorded in the primary trailer's status entries, so a cut step is redone. */
#ifndef BOOT_SWAP_H
#define BOOT_SWAP_H

#include <stdint.h>

#include "boot_flash.h"

/* Bytes copied per program operation (on the bootloader's stack). */
#define BOOT_COPY_CHUNK 256u

/* Runs the swap of sectors 0..sectors-1 from the first status entry not written. */
int boot_swap_resume(const boot_flash_t *flash, const boot_map_t *map, uint32_t sectors);

#endif
