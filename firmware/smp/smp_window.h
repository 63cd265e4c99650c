/* The serial-recovery window at reset (docs/bootloader.md, "Serial recovery"): what
   the bootloader takes as a technician's request to stay in serial recovery, in the
   bytes UART0 received since the reset. Only an SMP echo request (group 0, command 0,
   write), whole in one frame that starts a line, with a good CRC: anything else (the
   previous image's console echoed back, noise, a flasher's image state read sent
   across the reset it asked for) leaves the boot alone. The caller keeps the time. */
#ifndef SMP_WINDOW_H
#define SMP_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smp_demux.h"
#include "smp_serial.h"

/* The largest echo request taken (header and body): what one frame carries besides
   the packet length and the CRC (93 - 4 raw bytes). */
#define SMP_WINDOW_BODY_MAX (SMP_FRAME_RAW_MAX - 4u)

typedef struct smp_window {
  smp_demux_t demux;
  smp_serial_reader_t reader;
  uint8_t packet[SMP_WINDOW_BODY_MAX + 2u];
  bool seen;                    /* an echo request came whole */
  uint8_t frame[SMP_FRAME_MAX]; /* its frame, marker to before the newline */
  size_t frame_len;
} smp_window_t;

void smp_window_init(smp_window_t *w);
/* Takes received bytes up to the newline that completes an echo request; returns how
   many it took (len when none completed). Once seen, it takes nothing more. */
size_t smp_window_input(smp_window_t *w, const uint8_t *bytes, size_t len);

#endif
