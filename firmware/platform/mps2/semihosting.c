/* ARM semihosting (bkpt 0xab): command line and exit code. Without a host that
   answers, startup.c's HardFault handler turns each call into a -1 result. */
#include "mps2.h"

#define SYS_WRITE0 0x04
#define SYS_TIME 0x11
#define SYS_GET_CMDLINE 0x15
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

int32_t mps2_semihost(int32_t op, void *arg)
{
  register int32_t r0 __asm("r0") = op;
  register void *r1 __asm("r1") = arg;
  __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static char cmdline[160];

const char *mps2_cmdline(void)
{
  struct {
    char *buf;
    int32_t len;
  } arg = {cmdline, (int32_t)sizeof cmdline - 1};
  if (mps2_semihost(SYS_GET_CMDLINE, &arg) != 0) {
    cmdline[0] = '\0';
  } else {
    cmdline[arg.len] = '\0';
  }
  return cmdline;
}

void mps2_exit(int code)
{
  uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
  mps2_semihost(SYS_EXIT_EXTENDED, block);
  for (;;) {
    __asm volatile("wfi");
  }
}

uint32_t mps2_host_time_s(void)
{
  int32_t t = mps2_semihost(SYS_TIME, 0);
  return t < 0 ? 0u : (uint32_t)t;
}

static int semihosting_state; /* 0 unknown, 1 answers, -1 absent */

void mps2_debug(const char *text)
{
  if (semihosting_state == 0) {
  semihosting_state = mps2_host_time_s() ? 1 : -1;
  }
  if (semihosting_state > 0) {
  mps2_semihost(SYS_WRITE0, (void *)text);
  }
}

void mps2_reset(void)
{
  volatile uint32_t *aircr = (volatile uint32_t *)0xE000ED0Cu;
  __asm volatile("dsb");
  *aircr = 0x05FA0004u;
  for (;;) {
  __asm volatile("wfi");
  }
}
