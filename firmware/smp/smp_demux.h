/* One UART, two streams (docs/smp.md): sorts the bytes the host sends into SMP
   frames and the spot-protocol command input. Text (JSON): a line that starts
   with 06 09 or 04 14 is an SMP frame up to its newline, every other byte is
   command input. PB: SMP frames start only where a PB frame could start (after
   a whole frame: varint length, that many bytes); a length prefix over 5 bytes
   ends the PB framing, and from there on lines are sorted as for text. */
#ifndef SMP_DEMUX_H
#define SMP_DEMUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smp_serial.h"

typedef void (*smp_bytes_fn)(void *ctx, const uint8_t *bytes, size_t len);

typedef struct smp_demux {
  bool pb;
  uint8_t state;
  uint8_t held; /* a first marker byte, waiting for the second */
  uint32_t pb_left;
  uint32_t pb_length;
  uint8_t pb_shift;
  uint8_t line[SMP_FRAME_MAX + 1u]; /* an SMP frame without its newline (a CR may end it) */
  size_t line_len;
  bool line_long; /* over 128 bytes: dropped at its newline */
  uint32_t long_lines;
  smp_bytes_fn on_command;
  smp_bytes_fn on_frame; /* a whole frame, marker to before the newline */
  void *ctx;
} smp_demux_t;

void smp_demux_init(smp_demux_t *d, bool pb, smp_bytes_fn on_command, smp_bytes_fn on_frame, void *ctx);
void smp_demux_input(smp_demux_t *d, const uint8_t *bytes, size_t len);

#endif
