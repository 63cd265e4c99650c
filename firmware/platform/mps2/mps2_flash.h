/* The spot's flash on QEMU mps2-an385: SSRAM1 treated as NOR flash (4 KiB sectors,
   8-byte write units, erase sets 0xff), kept in a host file through semihosting
   so that it survives a QEMU restart (docs/bootloader.md, "Flash under QEMU"). */
#ifndef MPS2_FLASH_H
#define MPS2_FLASH_H

#include "boot_flash.h"

#define MPS2_FLASH_BYTES 0x4A000u /* bootloader, both slots, scratch, the spot's state */
#define MPS2_FLASH_SECTOR 4096u
#define MPS2_FLASH_WRITABLE 0x8000u /* below: the bootloader, loaded by -kernel, never written */

/* Attaches the host file at `path` (created erased when missing). At a power-on
   (QEMU start) the flash is loaded from it; after a guest reset the RAM already
   holds it, and the file handle is taken over from block RAM. 0, or -1 without
   semihosting or file: the flash then lasts as long as the QEMU process. */
int mps2_flash_attach(const char *path);

/* The flash as the bootloader core and the SMP upload use it: every program and
   erase goes to RAM and, when attached, through to the file before it returns. */
const boot_flash_t *mps2_flash(void);

/* Programs and erases done since reset. */
uint32_t mps2_flash_operations(void);
/* Test hook (the bootloader's --power-cut-before N): operation N ends the run
   before it touches anything, with exit code MPS2_EXIT_POWER_CUT, as a power cut would. */
void mps2_flash_cut_before(uint32_t operation);
#define MPS2_EXIT_POWER_CUT 9

#endif
