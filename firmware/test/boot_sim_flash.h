/* A simulated NOR flash for the bootloader tests: RAM with erase and program
   semantics (a program writes only erased 8-byte units; anything else is counted
   as a violation and fails), and a power cut before operation N: that program or
   erase and every later operation (reads too) fail and change nothing; or, with
   `torn`, operation N is cut half way: a program leaves the first half of its
   bytes written, an erase the first half of its sector erased. */
#ifndef BOOT_SIM_FLASH_H
#define BOOT_SIM_FLASH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "boot_flash.h"

#define SIM_FLASH_BYTES 0x49000u /* covers the mps2-an385 map up to the end of scratch */

typedef struct sim_flash {
  uint8_t mem[SIM_FLASH_BYTES];
  uint32_t size;
  uint32_t sector_size;
  uint64_t ops;        /* programs and erases attempted since the last reset of the counter */
  uint64_t cut_before; /* 0: never; else the operation with this number is the first to fail */
  bool dead;           /* the power is off */
  bool torn;           /* the cut operation does half its work */
  unsigned violations; /* programs over programmed units, misaligned or outside */
} sim_flash_t;

static inline void sim_flash_init(sim_flash_t *sim, uint32_t size, uint32_t sector_size)
{
  memset(sim->mem, 0xff, sizeof sim->mem);
  sim->size = size;
  sim->sector_size = sector_size;
  sim->ops = 0;
  sim->cut_before = 0;
  sim->dead = false;
  sim->torn = false;
  sim->violations = 0;
}

/* Power back on: operations work again, no cut planned. */
static inline void sim_flash_power_on(sim_flash_t *sim)
{
  sim->dead = false;
  sim->cut_before = 0;
}

/* Counts a state-changing operation; false when the power is (now) off. */
static inline bool sim_flash_op(sim_flash_t *sim)
{
  if (sim->dead) {
    return false;
  }
  sim->ops++;
  if (sim->cut_before != 0 && sim->ops >= sim->cut_before) {
    sim->dead = true;
    return false;
  }
  return true;
}

static inline int sim_flash_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
  sim_flash_t *fl = ctx;
  if (fl->dead || (uint64_t)addr + len > fl->size) {
    return BOOT_EFLASH;
  }
  memcpy(buf, fl->mem + addr, len);
  return BOOT_OK;
}

static inline int sim_flash_program(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
  sim_flash_t *fl = ctx;
  bool alive = !fl->dead;
  if (!sim_flash_op(fl)) {
    if (alive && fl->torn && (uint64_t)addr + len <= fl->size) {
      memcpy(fl->mem + addr, buf, len / 2);
    }
    return BOOT_EFLASH;
  }
  if (addr % BOOT_WRITE_SIZE != 0 || len % BOOT_WRITE_SIZE != 0 || (uint64_t)addr + len > fl->size) {
    fl->violations++;
    return BOOT_EFLASH;
  }
  for (uint32_t i = 0; i < len; i++) {
    if (fl->mem[addr + i] != 0xff) {
      fl->violations++;
      return BOOT_EFLASH;
    }
  }
  memcpy(fl->mem + addr, buf, len);
  return BOOT_OK;
}

static inline int sim_flash_erase(void *ctx, uint32_t addr)
{
  sim_flash_t *fl = ctx;
  bool alive = !fl->dead;
  if (!sim_flash_op(fl)) {
    if (alive && fl->torn && addr % fl->sector_size == 0 && (uint64_t)addr + fl->sector_size <= fl->size) {
      memset(fl->mem + addr, 0xff, fl->sector_size / 2);
    }
    return BOOT_EFLASH;
  }
  if (addr % fl->sector_size != 0 || (uint64_t)addr + fl->sector_size > fl->size) {
    fl->violations++;
    return BOOT_EFLASH;
  }
  memset(fl->mem + addr, 0xff, fl->sector_size);
  return BOOT_OK;
}

static inline boot_flash_t sim_flash_interface(sim_flash_t *sim)
{
  boot_flash_t iface = {sim, sim_flash_read, sim_flash_program, sim_flash_erase};
  return iface;
}

#endif
