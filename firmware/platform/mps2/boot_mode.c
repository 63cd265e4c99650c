/* The boot mode retained across a guest reset (mps2.h). Block RAM at 0x01000000
   is used by neither image's startup code (flash.c hands its file handle over at
   its start); the record sits after that handoff. A mode counts only with its
   magic and its complement, so what a power-on or an overwrite leaves is no mode. */
#include <stdbool.h>

#include "mps2.h"

typedef struct boot_mode_record {
  uint32_t magic;
  uint32_t mode;
  uint32_t check; /* ~mode */
} boot_mode_record_t;

#define RECORD ((volatile boot_mode_record_t *)0x01000010u)
#define BOOT_MODE_MAGIC 0x424d4f44u /* "BMOD" */

void mps2_boot_mode_set(uint32_t mode)
{
  RECORD->mode = mode;
  RECORD->check = ~mode;
  RECORD->magic = BOOT_MODE_MAGIC;
}

uint32_t mps2_boot_mode_take(void)
{
  uint32_t mode = RECORD->mode;
  bool valid = RECORD->magic == BOOT_MODE_MAGIC && RECORD->check == ~mode;
  RECORD->magic = 0;
  return valid ? mode : MPS2_BOOT_MODE_NORMAL;
}
