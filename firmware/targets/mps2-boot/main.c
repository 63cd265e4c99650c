/* The mps2-an385 bootloader: attach the flash (host file), let the upgrade core
   decide (swap, revert, or boot as it is), then jump to the primary image's
   vector table; serial recovery (recovery.h) instead when the application asked
   for it (the retained boot mode), when no valid image is there to run, or when an
   SMP echo request came on UART0 within BOOT_RECOVERY_WINDOW_MS of the reset (the
   window; its bytes queue from the reset on, so the decision's time counts in it).
   Command line (semihosting -append, shared with the app):
   --flash FILE, and for tests --power-cut-before N (flash operation N ends the
   run with exit code 9). Says what it did, with the number of flash operations,
   on UART0 and, with semihosting, the console. */
#include <stdint.h>
#include <string.h>

#include "boot.h"
#include "boot_verify.h"
#include "mps2.h"
#include "mps2_flash.h"
#include "recovery.h"
#include "smp_window.h"

#define PATH_MAX_LEN 120u

/* How long after the reset an SMP echo request keeps the bootloader in serial
   recovery (docs/bootloader.md, "Serial recovery"): a host that sends one every
   few milliseconds lands a whole frame in it many times over, and the boot it
   delays is a tenth of a second at most (less the time the boot decision took). */
#ifndef BOOT_RECOVERY_WINDOW_MS
#define BOOT_RECOVERY_WINDOW_MS 100u
#endif

static const boot_map_t map = BOOT_MAP_MPS2_AN385;
/* The key images must be signed with (generated from BOOT_KEY by make). */
extern const uint8_t boot_ed25519_key[32];

/* Copies the value of option `name` ("--flash ") from the command line; "" when absent. */
static void option(const char *name, char *out, size_t cap)
{
  const char *cmdline = mps2_cmdline();
  out[0] = '\0';
  for (const char *p = cmdline; *p; p++) {
    if ((p == cmdline || p[-1] == ' ') && strncmp(p, name, strlen(name)) == 0) {
      p += strlen(name);
      size_t n = 0;
      while (p[n] && p[n] != ' ' && n + 1 < cap) {
        n++;
      }
      memcpy(out, p, n);
      out[n] = '\0';
      return;
    }
  }
}

static uint32_t number(const char *text)
{
  uint32_t n = 0;
  while (*text >= '0' && *text <= '9') {
    n = n * 10u + (uint32_t)(*text++ - '0');
  }
  return n;
}

/* Appends n in decimal at out; returns the new end. */
static char *decimal(char *out, uint32_t n)
{
  char digits[11];
  size_t nd = 0;
  do {
    digits[nd++] = (char)('0' + n % 10u);
    n /= 10u;
  } while (n);
  while (nd) {
    *out++ = digits[--nd];
  }
  return out;
}

/* Appends text at p without passing end; returns the new end. */
static char *append(char *p, const char *end, const char *text)
{
  while (*text && p < end) {
    *p++ = *text++;
  }
  return p;
}

/* "boot: <a><b> (<n> flash operations, stack <m> bytes, <t> ms)" on UART0 and the
   semihosting console; t counts from the reset. */
static void say(const char *a, const char *b)
{
  char line[200], number_text[12];
  const char *end = line + sizeof line - 2;
  char *p = append(line, end, "boot: ");
  p = append(p, end, a);
  p = append(p, end, b);
  p = append(p, end, " (");
  *decimal(number_text, mps2_flash_operations()) = '\0';
  p = append(p, end, number_text);
  p = append(p, end, " flash operations, stack ");
  *decimal(number_text, (uint32_t)mps2_stack_used()) = '\0';
  p = append(p, end, number_text);
  p = append(p, end, " bytes, ");
  *decimal(number_text, (uint32_t)mps2_time_ms()) = '\0';
  p = append(p, end, number_text);
  p = append(p, end, " ms)");
  *p++ = '\n';
  *p = '\0';
  mps2_uart_write((const uint8_t *)line, (size_t)(p - line));
  mps2_debug(line);
}

/* The window: until BOOT_RECOVERY_WINDOW_MS after the reset (and at least once), the
   bytes UART0 received are looked at for an SMP echo request; one keeps the
   bootloader in serial recovery, which answers it. Anything else is dropped. */
__attribute__((noinline)) static void recovery_window(void)
{
  smp_window_t window;
  smp_window_init(&window);
  for (;;) {
    uint8_t byte;
    while (mps2_uart_read(&byte, 1) == 1) {
      if (smp_window_input(&window, &byte, 1) == 1 && window.seen) {
        say("serial recovery: an SMP echo request within the window", "");
        recovery_run(&map, say, window.frame, window.frame_len);
      }
    }
    if (mps2_time_ms() >= BOOT_RECOVERY_WINDOW_MS) {
      return;
    }
    mps2_uart_nudge();
    mps2_wait_for_interrupt();
  }
}

/* Hands the core over to the image whose vector table is at `vectors`: interrupts,
   SysTick and its pending exception off, VTOR and the main stack pointer set, then
   its reset handler. */
__attribute__((noreturn)) static void jump(uint32_t vectors)
{
  volatile uint32_t *nvic_icer = (volatile uint32_t *)0xE000E180u;
  volatile uint32_t *nvic_icpr = (volatile uint32_t *)0xE000E280u;
  volatile uint32_t *syst_csr = (volatile uint32_t *)0xE000E010u;
  volatile uint32_t *icsr = (volatile uint32_t *)0xE000ED04u;
  volatile uint32_t *vtor = (volatile uint32_t *)0xE000ED08u;
  *syst_csr = 0;
  *icsr = 1u << 25; /* PENDSTCLR */
  nvic_icer[0] = 0xffffffffu;
  nvic_icpr[0] = 0xffffffffu;
  *vtor = vectors;
  const volatile uint32_t *table = (const volatile uint32_t *)(uintptr_t)vectors;
  uint32_t sp = table[0], pc = table[1];
  __asm volatile("dsb\n isb\n msr msp, %0\n bx %1\n" : : "r"(sp), "r"(pc) : "memory");
  __builtin_unreachable();
}

int main(void)
{
  mps2_uart_init(); /* from here on UART0's bytes queue for the window */
  mps2_time_init();
  char path[PATH_MAX_LEN], cut[12];
  option("--flash ", path, sizeof path);
  option("--power-cut-before ", cut, sizeof cut);
  if (mps2_flash_attach(path) != 0) {
    say("flash not kept in a file (no semihosting or no --flash FILE): ", "changes last until QEMU stops");
  }
  mps2_flash_cut_before(number(cut));
  if (mps2_boot_mode_take() == MPS2_BOOT_MODE_RECOVERY) {
    say("serial recovery asked for by the application", "");
    recovery_run(&map, say, NULL, 0);
  }
  const boot_verify_policy_t policy = {"mps2-an385", boot_ed25519_key};
  boot_config_t config = {mps2_flash(), &map, boot_verify_image, (void *)&policy};
  boot_result_t result;
  int rc = boot_go(&config, &result);
  while (rc == BOOT_EFLASH) {
    say("flash operation failed, again: ", result.reason);
    rc = boot_go(&config, &result);
  }
  if (rc != BOOT_OK || result.action != BOOT_RUN_PRIMARY) {
    say("nothing to run: ", result.reason);
    recovery_run(&map, say, NULL, 0);
  }
  /* Said before the window: the line gives the decision's own time, and it is the first
     output since the reset (QEMU's pty backend looks for input again when the guest writes). */
  say(result.reason, "");
  recovery_window();
  const uint8_t *header = (const uint8_t *)(uintptr_t)map.primary;
  uint32_t hdr_size = (uint32_t)(header[8] | header[9] << 8);
  jump(map.primary + hdr_size);
}
