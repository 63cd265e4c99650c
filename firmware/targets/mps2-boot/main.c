/* The mps2-an385 bootloader: attach the flash (host file), let the upgrade core
   decide (swap, revert, or boot as it is), then jump to the primary image's
   vector table. Command line (semihosting -append, shared with the app):
   --flash FILE. Says what it did on UART0 and, with semihosting, the console. */
#include <stdint.h>
#include <string.h>

#include "boot.h"
#include "boot_verify.h"
#include "mps2.h"
#include "mps2_flash.h"

#define EXIT_NO_IMAGE 4
#define PATH_MAX_LEN 120u

static const boot_map_t map = BOOT_MAP_MPS2_AN385;

/* Copies the value of "--flash PATH" from the command line; "" when absent. */
static void flash_path(char *out, size_t cap)
{
  const char *cmdline = mps2_cmdline();
  const char *name = "--flash ";
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

static void say(const char *a, const char *b)
{
  mps2_uart_write((const uint8_t *)a, strlen(a));
  mps2_uart_write((const uint8_t *)b, strlen(b));
  mps2_uart_write((const uint8_t *)"\n", 1);
  mps2_debug(a);
  mps2_debug(b);
  mps2_debug("\n");
}

/* Hands the core over to the image whose vector table is at `vectors`: interrupts
   and SysTick off, VTOR and the main stack pointer set, then its reset handler. */
__attribute__((noreturn)) static void jump(uint32_t vectors)
{
  volatile uint32_t *nvic_icer = (volatile uint32_t *)0xE000E180u;
  volatile uint32_t *nvic_icpr = (volatile uint32_t *)0xE000E280u;
  volatile uint32_t *syst_csr = (volatile uint32_t *)0xE000E010u;
  volatile uint32_t *vtor = (volatile uint32_t *)0xE000ED08u;
  *syst_csr = 0;
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
  mps2_uart_init();
  char path[PATH_MAX_LEN];
  flash_path(path, sizeof path);
  if (mps2_flash_attach(path) != 0) {
    say("boot: flash not kept in a file (no semihosting or no --flash FILE): ", "changes last until QEMU stops");
  }
  boot_config_t config = {mps2_flash(), &map, boot_verify_image, (void *)"mps2-an385"};
  boot_result_t result;
  int rc = boot_go(&config, &result);
  while (rc == BOOT_EFLASH) {
    say("boot: flash operation failed, again: ", result.reason);
    rc = boot_go(&config, &result);
  }
  if (rc != BOOT_OK || result.action != BOOT_RUN_PRIMARY) {
    say("boot: nothing to run: ", result.reason);
    mps2_exit(EXIT_NO_IMAGE);
  }
  say("boot: ", result.reason);
  const uint8_t *header = (const uint8_t *)(uintptr_t)map.primary;
  uint32_t hdr_size = (uint32_t)(header[8] | header[9] << 8);
  jump(map.primary + hdr_size);
}
