/* SSRAM1 as the spot's NOR flash, written through to a host file (semihosting). */
#include "mps2_flash.h"

#include <string.h>

#include "mps2.h"

#define SYS_OPEN 0x01
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_SEEK 0x0A
#define SYS_FLEN 0x0C
#define MODE_READ_WRITE_BINARY 3 /* "r+b" */
#define MODE_CREATE_BINARY 7     /* "w+b" */

/* Block RAM at 0x01000000 is used by neither image's startup code: the file handle
   opened at power-on is handed over there across guest resets. */
typedef struct handoff {
  uint32_t magic;
  int32_t handle;
} handoff_t;
#define HANDOFF ((volatile handoff_t *)0x01000000u)
#define HANDOFF_MAGIC 0x464c5348u

static int32_t file = -1;
static uint32_t operations;
static uint32_t cut_before;

uint32_t mps2_flash_operations(void)
{
  return operations;
}

void mps2_flash_cut_before(uint32_t operation)
{
  cut_before = operation;
}

/* Counts a program or erase; the planned power cut ends the run here. */
static void count_operation(void)
{
  operations++;
  if (cut_before != 0 && operations >= cut_before) {
    mps2_exit(MPS2_EXIT_POWER_CUT);
  }
}

static uint8_t *mem(uint32_t addr)
{
  return (uint8_t *)(uintptr_t)addr;
}

static int32_t seek(uint32_t pos)
{
  uint32_t arg[2] = {(uint32_t)file, pos};
  return mps2_semihost(SYS_SEEK, arg);
}

/* 0 when all `len` bytes were written to or read from the file at `pos`. */
static int file_io(int op, uint32_t pos, uint8_t *buf, uint32_t len)
{
  if (seek(pos) != 0) {
    return -1;
  }
  uint32_t arg[3] = {(uint32_t)file, (uint32_t)(uintptr_t)buf, len};
  return mps2_semihost(op, arg) == 0 ? 0 : -1;
}

static int32_t open_file(const char *path, int mode)
{
  uint32_t arg[3] = {(uint32_t)(uintptr_t)path, (uint32_t)mode, (uint32_t)strlen(path)};
  return mps2_semihost(SYS_OPEN, arg);
}

int mps2_flash_attach(const char *path)
{
  if (HANDOFF->magic == HANDOFF_MAGIC) {
    file = HANDOFF->handle;
    return 0;
  }
  if (!path || !*path) {
    return -1;
  }
  file = open_file(path, MODE_READ_WRITE_BINARY);
  uint32_t flen_arg = (uint32_t)file;
  if (file >= 0 && mps2_semihost(SYS_FLEN, &flen_arg) == (int32_t)MPS2_FLASH_BYTES) {
    if (file_io(SYS_READ, MPS2_FLASH_WRITABLE, mem(MPS2_FLASH_WRITABLE), MPS2_FLASH_BYTES - MPS2_FLASH_WRITABLE) != 0) {
      return -1;
    }
  } else {
    /* A new spot: its flash is erased. */
    file = file >= 0 ? file : open_file(path, MODE_CREATE_BINARY);
    if (file < 0) {
      return -1;
    }
    memset(mem(MPS2_FLASH_WRITABLE), 0xff, MPS2_FLASH_BYTES - MPS2_FLASH_WRITABLE);
    for (uint32_t pos = 0; pos < MPS2_FLASH_BYTES; pos += MPS2_FLASH_SECTOR) {
      if (file_io(SYS_WRITE, pos, mem(MPS2_FLASH_WRITABLE), MPS2_FLASH_SECTOR) != 0) {
        return -1;
      }
    }
  }
  HANDOFF->handle = file;
  HANDOFF->magic = HANDOFF_MAGIC;
  return 0;
}

static int in_writable(uint32_t addr, uint32_t len)
{
  return addr >= MPS2_FLASH_WRITABLE && addr <= MPS2_FLASH_BYTES && len <= MPS2_FLASH_BYTES - addr;
}

static int flash_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
  (void)ctx;
  if (addr > MPS2_FLASH_BYTES || len > MPS2_FLASH_BYTES - addr) {
    return BOOT_EFLASH;
  }
  memcpy(buf, mem(addr), len);
  return BOOT_OK;
}

static int flash_program(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
  (void)ctx;
  if (!in_writable(addr, len) || addr % BOOT_WRITE_SIZE != 0 || len % BOOT_WRITE_SIZE != 0) {
    return BOOT_EFLASH;
  }
  count_operation();
  for (uint32_t i = 0; i < len; i++) {
    if (mem(addr)[i] != 0xff) {
      return BOOT_EFLASH; /* NOR flash: a unit is programmed once per erase */
    }
  }
  memcpy(mem(addr), buf, len);
  return file < 0 || file_io(SYS_WRITE, addr, mem(addr), len) == 0 ? BOOT_OK : BOOT_EFLASH;
}

static int flash_erase(void *ctx, uint32_t addr)
{
  (void)ctx;
  if (!in_writable(addr, MPS2_FLASH_SECTOR) || addr % MPS2_FLASH_SECTOR != 0) {
    return BOOT_EFLASH;
  }
  count_operation();
  memset(mem(addr), 0xff, MPS2_FLASH_SECTOR);
  return file < 0 || file_io(SYS_WRITE, addr, mem(addr), MPS2_FLASH_SECTOR) == 0 ? BOOT_OK : BOOT_EFLASH;
}

const boot_flash_t *mps2_flash(void)
{
  static const boot_flash_t flash = {0, flash_read, flash_program, flash_erase};
  return &flash;
}
