/* Millisecond time from the Cortex-M3 SysTick on the 25 MHz core clock. */
#include "mps2.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

#define CSR_ENABLE 1u
#define CSR_TICKINT 2u
#define CSR_CLKSOURCE_CPU 4u

static volatile uint32_t ticks_low;
static volatile uint32_t ticks_high;

void systick_handler(void);

void systick_handler(void)
{
  if (++ticks_low == 0) {
    ticks_high++;
  }
}

void mps2_time_init(void)
{
  SYST_RVR = MPS2_CPU_HZ / 1000u - 1u;
  SYST_CVR = 0;
  SYST_CSR = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE_CPU;
}

uint64_t mps2_time_ms(void)
{
  uint32_t high, low;
  do {
    high = ticks_high;
    low = ticks_low;
  } while (high != ticks_high);
  return ((uint64_t)high << 32) | low;
}

void mps2_wait_for_interrupt(void)
{
  __asm volatile("wfi");
}
