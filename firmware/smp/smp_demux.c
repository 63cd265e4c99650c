/* Sorting SMP frames from command input (smp_demux.h). */
#include "smp_demux.h"

#include <string.h>

enum {
  AT_START,  /* a line start (text) or a frame boundary (PB) */
  MARKER,    /* held a first marker byte */
  IN_SMP,    /* inside an SMP frame, until its newline */
  IN_TEXT,   /* inside a command line */
  PB_LENGTH, /* inside a PB length prefix */
  PB_BODY,   /* inside a PB frame */
};

#define PB_LENGTH_BYTES_MAX 5u

void smp_demux_init(smp_demux_t *d, bool pb, smp_bytes_fn on_command, smp_bytes_fn on_frame, void *ctx)
{
  memset(d, 0, sizeof *d);
  d->pb = pb;
  d->state = AT_START;
  d->on_command = on_command;
  d->on_frame = on_frame;
  d->ctx = ctx;
}

static bool is_marker_start(uint8_t b)
{
  return b == SMP_MARK_FIRST_0 || b == SMP_MARK_NEXT_0;
}

/* A command byte: where it leaves the framing. */
static void command_byte(smp_demux_t *d, uint8_t b)
{
  if (d->state == PB_BODY) {
    if (--d->pb_left == 0) {
      d->state = AT_START;
    }
  } else if (d->state == PB_LENGTH) {
    d->pb_length |= (uint32_t)(b & 0x7fu) << d->pb_shift;
    d->pb_shift = (uint8_t)(d->pb_shift + 7u);
    if (b & 0x80u) {
      if (d->pb_shift >= 7u * PB_LENGTH_BYTES_MAX) {
        d->pb = false; /* not a PB stream any more: lines from here on */
        d->state = IN_TEXT;
      }
    } else {
      d->pb_left = d->pb_length;
      d->state = d->pb_left ? PB_BODY : AT_START;
    }
  } else {
    d->state = b == '\n' ? AT_START : IN_TEXT;
  }
}

/* The first byte of a command line or PB frame. */
static void start_command(smp_demux_t *d, uint8_t b)
{
  if (d->pb) {
    d->state = PB_LENGTH;
    d->pb_length = 0;
    d->pb_shift = 0;
  } else {
    d->state = IN_TEXT;
  }
  command_byte(d, b);
}

static void frame_byte(smp_demux_t *d, uint8_t b)
{
  if (b == '\n') {
    if (!d->line_long) {
      d->on_frame(d->ctx, d->line, d->line_len);
    } else {
      d->long_lines++;
    }
    d->line_len = 0;
    d->line_long = false;
    d->state = AT_START;
  } else if (d->line_len < sizeof d->line) {
    d->line[d->line_len++] = b;
  } else {
    d->line_long = true;
  }
}

#define NO_RUN ((size_t)-1)

void smp_demux_input(smp_demux_t *d, const uint8_t *bytes, size_t len)
{
  size_t run = NO_RUN; /* start of the command bytes not handed on yet */
  for (size_t i = 0; i < len; i++) {
    uint8_t b = bytes[i];
    if (d->state == MARKER) {
      if ((d->held == SMP_MARK_FIRST_0 && b == SMP_MARK_FIRST_1) || (d->held == SMP_MARK_NEXT_0 && b == SMP_MARK_NEXT_1)) {
        d->line[0] = d->held;
        d->line[1] = b;
        d->line_len = 2;
        d->line_long = false;
        d->state = IN_SMP;
        continue;
      }
      /* Not a marker after all: the held byte is command input, b is looked at anew. */
      d->state = AT_START;
      d->on_command(d->ctx, &d->held, 1);
      start_command(d, d->held);
    }
    if (d->state == IN_SMP) {
      frame_byte(d, b);
      continue;
    }
    if (d->state == AT_START && is_marker_start(b)) {
      if (run != NO_RUN) {
        d->on_command(d->ctx, bytes + run, i - run);
        run = NO_RUN;
      }
      d->held = b;
      d->state = MARKER;
      continue;
    }
    if (run == NO_RUN) {
      run = i;
    }
    if (d->state == AT_START) {
      start_command(d, b);
    } else {
      command_byte(d, b);
    }
  }
  if (run != NO_RUN) {
    d->on_command(d->ctx, bytes + run, len - run);
  }
}
