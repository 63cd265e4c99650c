/* UART echo for mps2-an385 under QEMU: every byte received on UART0 goes back
 * out. `make bench-flash` measures with it what the emulated UART carries into
 * the guest and back per second: the ceiling of an upload over the same pty. */
#include <stddef.h>
#include <stdint.h>

#include "mps2.h"

int main(void)
{
  static uint8_t buf[256];
  mps2_uart_init();
  mps2_time_init();
  mps2_uart_write((const uint8_t *)"echo: ready\n", 12);
  for (;;) {
    size_t n;
    while ((n = mps2_uart_read(buf, sizeof buf)) > 0) {
      mps2_uart_write(buf, n);
    }
    mps2_wait_for_interrupt();
  }
}
