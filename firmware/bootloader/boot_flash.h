/* The bootloader's view of the platform: a NOR flash and where the slots are.
   Portable: the mps2 driver, the app's SMP upload and the test's simulated flash
   all hand the core one of these. */
#ifndef BOOT_FLASH_H
#define BOOT_FLASH_H

#include <stdint.h>

/* Results shared by the bootloader modules. */
#define BOOT_OK 0
#define BOOT_EFLASH (-1)   /* the platform failed an operation (a power cut in the simulator) */
#define BOOT_EINVALID (-2) /* an image or a trailer field that does not hold */

/* A program writes whole write units, each of which must be erased (0xff) before. */
#define BOOT_WRITE_SIZE 8u

/* Each function returns BOOT_OK or BOOT_EFLASH. Addresses are absolute. */
typedef struct boot_flash {
  void *ctx;
  int (*read)(void *ctx, uint32_t addr, void *buf, uint32_t len);
  /* addr and len are multiples of BOOT_WRITE_SIZE; every unit written was erased. */
  int (*program)(void *ctx, uint32_t addr, const void *buf, uint32_t len);
  /* Erases the sector starting at addr (sets it to 0xff). */
  int (*erase)(void *ctx, uint32_t addr);
} boot_flash_t;

/* Two slots of slot_sectors sectors each (the last one is the trailer sector,
   never swapped) and one scratch sector. */
typedef struct boot_map {
  uint32_t sector_size;
  uint32_t slot_sectors;
  uint32_t primary;
  uint32_t secondary;
  uint32_t scratch;
} boot_map_t;

/* The mps2-an385 spot (docs/bootloader.md). */
#define BOOT_MAP_MPS2_AN385 {4096u, 32u, 0x00008000u, 0x00028000u, 0x00048000u}

#endif
