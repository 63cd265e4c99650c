/* Spot firmware for the Cortex-M3 board mps2-an385 under qemu-system-arm: the spot
 * protocol streams out of UART0 (like telnet mode) and commands come in on it,
 * with SMP frames on the same UART (spot_smp.c). Under the bootloader the flash is
 * a host file (--flash PATH, docs/bootloader.md) and the version is the image's.
 * Options arrive through the semihosting command line (qemu -append "..."):
 *   --serial N  --encoding json|pb  --run-seconds N (then exit code 0)  --flash PATH. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "mps2.h"
#include "mps2_flash.h"
#include "spot.h"
#include "spot_smp.h"

#ifndef SPOT_FIRMWARE_VERSION
#define SPOT_FIRMWARE_VERSION "0.0.0-dev"
#endif

/* Unix time at boot when the host does not tell (2026-01-01T00:00:00Z). */
#define FALLBACK_EPOCH_S 1767225600u

typedef struct mps2_options {
  uint32_t serial;
  bool pb;
  uint32_t run_seconds;
} mps2_options_t;

/* Finds "--name value" in the command line; returns the value's start or NULL. */
static const char *option(const char *cmdline, const char *name)
{
  size_t n = strlen(name);
  for (const char *p = cmdline; *p; p++) {
    if ((p == cmdline || p[-1] == ' ') && strncmp(p, name, n) == 0 && p[n] == ' ') {
      return p + n + 1;
    }
  }
  return NULL;
}

static uint32_t number(const char *text, uint32_t fallback)
{
  uint32_t v = 0;
  if (!text || *text < '0' || *text > '9') {
    return fallback;
  }
  while (*text >= '0' && *text <= '9') {
    v = v * 10u + (uint32_t)(*text++ - '0');
  }
  return v;
}

/* The --flash path (up to the next space). */
static void flash_path(char *out, size_t cap)
{
  const char *v = option(mps2_cmdline(), "--flash");
  size_t n = 0;
  while (v && v[n] && v[n] != ' ' && n + 1 < cap) {
    out[n] = v[n];
    n++;
  }
  out[n] = '\0';
}

static void parse_options(mps2_options_t *o)
{
  const char *cmdline = mps2_cmdline();
  o->serial = number(option(cmdline, "--serial"), 4711);
  const char *encoding = option(cmdline, "--encoding");
  o->pb = encoding && strncmp(encoding, "pb", 2) == 0;
  o->run_seconds = number(option(cmdline, "--run-seconds"), 0);
}

static bool keep_state(void *ctx, const uint8_t *record, size_t len)
{
  (void)ctx;
  (void)record;
  (void)len;
  return true; /* no flash on this board: the state lives until power-off */
}

static void reset(void *ctx)
{
  (void)ctx;
  mps2_reset();
}

static void debug_log(void *ctx, spot_log_level_t level, const char *text)
{
  (void)ctx;
  (void)level;
  mps2_debug(text);
  mps2_debug("\n");
}

#if SPOT_MPS2_TRIAL_FAILS
/* A build that never reaches its gateway when it runs on trial (a broken upgrade):
 * it neither confirms nor answers, and its watchdog resets it after a moment. */
static void fail_trial(void)
{
  bool trial = false;
  const boot_map_t map = BOOT_MAP_MPS2_AN385;
  if (!mps2_smp_in_slot() || boot_primary_on_trial(mps2_flash(), &map, &trial) != BOOT_OK || !trial) {
    return;
  }
  mps2_debug("mps2: built to fail its trial: no confirm, reset\n");
  uint64_t until = mps2_time_ms() + 300u;
  while (mps2_time_ms() < until) {
    mps2_wait_for_interrupt();
  }
  mps2_reset();
}
#endif

int main(void)
{
  static uint8_t out[256];
  static uint8_t in[128];
  static char version[SPOT_VERSION_MAX];
  static mps2_smp_t smp;
  char path[96];
  mps2_options_t opt;
  mps2_uart_init();
  mps2_time_init();
  parse_options(&opt);
  if (mps2_smp_in_slot()) {
    flash_path(path, sizeof path);
    if (mps2_flash_attach(path) != 0) {
      mps2_debug("mps2: no flash file: the flash lasts until QEMU ends\n");
    }
  }
#if SPOT_MPS2_TRIAL_FAILS
  fail_trial();
#endif
  mps2_smp_image_version(version, sizeof version);
  uint32_t host_s = mps2_host_time_s();
  uint64_t epoch_ms = (uint64_t)(host_s ? host_s : FALLBACK_EPOCH_S) * 1000u;

  static const spot_platform_t platform = {NULL, keep_state, reset, debug_log, NULL, NULL};
  spot_init_t init = {
      .serial = opt.serial,
      .version = version[0] ? version : SPOT_FIRMWARE_VERSION,
      .encoding = opt.pb ? SPOT_ENCODING_PB : SPOT_ENCODING_JSON,
      .persisted = NULL,
      .persisted_len = 0,
      .watchdog_reset = false,
      .now_ms = epoch_ms,
      .scenario = NULL,
      .scenario_len = 0,
      .http = false,
      /* No flash: the boot number comes from the host's clock; without it every start is boot 1. */
      .boot_count_floor = host_s ? spot_boot_count_from_clock((uint64_t)host_s * 1000u) : 0,
  };
  static spot_t core;
  spot_t *spot = &core;
  spot_init(spot, &platform, &init);
  spot_stream_open(spot); /* the UART is always connected */
  mps2_smp_init(&smp, spot, opt.pb, opt.serial, init.version);

  uint64_t last_tick = UINT64_MAX;
  for (;;) {
    uint64_t uptime = mps2_time_ms();
    if (opt.run_seconds && uptime >= opt.run_seconds * 1000ull) {
      char text[96];
      snprintf(text, sizeof text, "mps2: run ended after %u s, stack high-water %u of %u bytes\n",
               (unsigned)opt.run_seconds, (unsigned)mps2_stack_used(), (unsigned)mps2_stack_size());
      mps2_debug(text);
      return 0;
    }
    /* Once per millisecond: the loop also runs for every received byte (an SMP upload). */
    if (uptime != last_tick) {
      spot_tick(spot, epoch_ms + uptime);
      last_tick = uptime;
    }
    size_t n;
    while ((n = spot_stream_read(spot, out, sizeof out)) > 0) {
      mps2_uart_write(out, n);
    }
    /* The stream is drained to an event boundary: SMP answers go out between events. */
    while ((n = mps2_uart_read(in, sizeof in)) > 0) {
      mps2_smp_input(&smp, in, n);
    }
    mps2_smp_poll(&smp);
    mps2_wait_for_interrupt();
  }
}
