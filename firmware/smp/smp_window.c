/* The serial-recovery window's decision (smp_window.h). */
#include "smp_window.h"

#include <string.h>

#include "smp_server.h"

/* Console text, a spot-protocol command, noise: not for the bootloader. */
static void ignore(void *ctx, const uint8_t *bytes, size_t len)
{
  (void)ctx;
  (void)bytes;
  (void)len;
}

static bool is_echo_request(const uint8_t *h, size_t len)
{
  return len >= SMP_HEADER_SIZE && (h[0] & 7u) == SMP_OP_WRITE && h[4] == 0 && h[5] == SMP_GROUP_OS
      && h[7] == SMP_OS_ECHO && (size_t)(h[2] << 8 | h[3]) == len - SMP_HEADER_SIZE;
}

static void on_frame(void *ctx, const uint8_t *line, size_t len)
{
  smp_window_t *w = ctx;
  size_t body = 0;
  /* A packet completed by a first frame is the whole of it: the frame is the request. */
  bool whole = smp_serial_line(&w->reader, line, len, &body) == SMP_LINE_PACKET && line[0] == SMP_MARK_FIRST_0;
  if (whole && len <= sizeof w->frame && is_echo_request(w->packet, body)) {
    memcpy(w->frame, line, len);
    w->frame_len = len;
    w->seen = true;
  }
}

void smp_window_init(smp_window_t *w)
{
  memset(w, 0, sizeof *w);
  smp_demux_init(&w->demux, false, ignore, on_frame, w);
  smp_serial_reader_init(&w->reader, w->packet, SMP_WINDOW_BODY_MAX);
}

size_t smp_window_input(smp_window_t *w, const uint8_t *bytes, size_t len)
{
  size_t i = 0;
  while (i < len && !w->seen) {
    smp_demux_input(&w->demux, bytes + i, 1);
    i++;
  }
  return i;
}
