/* Cortex-M3 reset, vector table and fault handling for QEMU mps2-an385. */
#include <stdint.h>

#include "mps2.h"

extern uint32_t _data_start, _data_end, _data_load, _bss_start, _bss_end, _stack_limit, _stack_top;

#define STACK_PAINT 0x57AC57ACu

int main(void);
void reset_handler(void);
void hard_fault_handler(void);
void default_handler(void);
void systick_handler(void);
void uart0_rx_handler(void);

void reset_handler(void)
{
  const uint32_t *src = &_data_load;
  for (uint32_t *dst = &_data_start; dst < &_data_end;) {
    *dst++ = *src++;
  }
  for (uint32_t *dst = &_bss_start; dst < &_bss_end;) {
    *dst++ = 0;
  }
  /* Paint the stack below this frame so its high-water mark can be measured. */
  uint32_t *sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t *p = &_stack_limit; p < sp - 16;) {
    *p++ = STACK_PAINT;
  }
  int code = main();
  mps2_exit(code);
}

size_t mps2_stack_used(void)
{
  const uint32_t *p = &_stack_limit;
  while (p < &_stack_top && *p == STACK_PAINT) {
    p++;
  }
  return (size_t)((const uint8_t *)&_stack_top - (const uint8_t *)p);
}

size_t mps2_stack_size(void)
{
  return (size_t)((const uint8_t *)&_stack_top - (const uint8_t *)&_stack_limit);
}

void default_handler(void)
{
  mps2_exit(MPS2_EXIT_FAULT);
}

/* A semihosting call (bkpt 0xab) without a debugger attached escalates to a
   HardFault: skip the instruction and return -1 so the firmware runs on. Any
   other HardFault ends the run with an exit code. */
__attribute__((naked)) void hard_fault_handler(void)
{
  __asm volatile(
    "tst lr, #4\n"
    "ite eq\n"
    "mrseq r0, msp\n"
    "mrsne r0, psp\n"
    "b mps2_hard_fault\n");
}

void mps2_hard_fault(uint32_t *frame);
void mps2_hard_fault(uint32_t *frame)
{
  volatile uint32_t *hfsr = (volatile uint32_t *)0xE000ED2Cu;
  volatile uint32_t *dfsr = (volatile uint32_t *)0xE000ED30u;
  uint16_t insn = *(const uint16_t *)frame[6];
  if (insn == 0xBEABu) {
    *dfsr = *dfsr; /* write-one-to-clear the debug and fault status */
    *hfsr = *hfsr;
    frame[0] = (uint32_t)-1;
    frame[6] += 2;
    return;
  }
  for (;;) {
    mps2_exit(MPS2_EXIT_FAULT);
  }
}

/* The Cortex-M3 vector table: 16 system entries then the CMSDK interrupts. */
__attribute__((section(".vectors"), used)) static void (*const vectors[16 + 32])(void) = {
  [0] = (void (*)(void))(&_stack_top),
  [1] = reset_handler,
  [2] = default_handler,  /* NMI */
  [3] = hard_fault_handler,
  [4] = default_handler,  /* MemManage */
  [5] = default_handler,  /* BusFault */
  [6] = default_handler,  /* UsageFault */
  [11] = default_handler,   /* SVCall */
  [14] = default_handler,   /* PendSV */
  [15] = systick_handler,
  [16 + 0] = uart0_rx_handler,
};
