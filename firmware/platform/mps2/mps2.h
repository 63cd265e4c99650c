/* Board support for QEMU mps2-an385: CMSDK UART0, SysTick time, semihosting. */
#ifndef MPS2_H
#define MPS2_H

#include <stddef.h>
#include <stdint.h>

#define MPS2_CPU_HZ 25000000u
#define MPS2_EXIT_FAULT 3

/* UART0 at 0x40004000: received bytes are queued by the RX interrupt; a full queue
   leaves the next byte in the UART (flow control: none is lost). */
void mps2_uart_init(void);
void mps2_uart_write(const uint8_t *data, size_t len);
/* Copies up to cap received bytes; returns how many. */
size_t mps2_uart_read(uint8_t *buf, size_t cap);
/* Reads DATA while nothing was received (nothing is lost): QEMU's model of the UART
   asks its backend for input again only then, so bytes that waited on the host side
   since before the reset come in at once instead of after QEMU's next look. */
void mps2_uart_nudge(void);

/* Milliseconds since boot, from a 1 kHz SysTick interrupt. */
void mps2_time_init(void);
uint64_t mps2_time_ms(void);
/* Sleeps until the next interrupt (tick or received byte). */
void mps2_wait_for_interrupt(void);

/* Bytes of the stack ever used (painted at reset), and its size. */
size_t mps2_stack_used(void);
size_t mps2_stack_size(void);

/* Semihosting: the command line QEMU was given (-append), or "" without
   semihosting; and the exit code ending the run (loops when unavailable). */
const char *mps2_cmdline(void);
/* Host time in seconds since 1970 (semihosting SYS_TIME), 0 without semihosting. */
uint32_t mps2_host_time_s(void);
/* Debug text to the host's console (semihosting SYS_WRITE0); dropped without. */
void mps2_debug(const char *text);
/* The boot mode handed from the application to the bootloader across a guest
   reset (retained in block RAM, as MCUboot's retained boot mode; a power-on
   clears it): MPS2_BOOT_MODE_RECOVERY keeps the bootloader in serial recovery. */
#define MPS2_BOOT_MODE_NORMAL 0u
#define MPS2_BOOT_MODE_RECOVERY 1u
void mps2_boot_mode_set(uint32_t mode);
/* The mode set before the reset, cleared as it is read; MPS2_BOOT_MODE_NORMAL when none. */
uint32_t mps2_boot_mode_take(void);
/* Resets the system (AIRCR SYSRESETREQ). */
void mps2_reset(void) __attribute__((noreturn));
void mps2_exit(int code) __attribute__((noreturn));
/* One semihosting call (ARM's operation numbers); -1 without a host that answers. */
int32_t mps2_semihost(int32_t op, void *arg);

#endif
