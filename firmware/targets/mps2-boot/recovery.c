/* Serial recovery on UART0 (recovery.h). */
#include "recovery.h"

#include <stdbool.h>
#include <string.h>

#include "boot.h"
#include "mps2.h"
#include "mps2_flash.h"
#include "smp_demux.h"
#include "smp_server.h"

typedef struct recovery {
  smp_server_t server;
  const boot_map_t *map;
  recovery_say_fn say;
  bool marked; /* the upload completed last is marked for the next boot */
} recovery_t;

static void uart_put(void *ctx, const uint8_t *bytes, size_t len)
{
  (void)ctx;
  mps2_uart_write(bytes, len);
}

/* Nothing but SMP is served here: other input (a terminal's typing) is dropped. */
static void drop(void *ctx, const uint8_t *bytes, size_t len)
{
  (void)ctx;
  (void)bytes;
  (void)len;
}

static bool is_upload(const uint8_t *h, size_t len)
{
  return len >= SMP_HEADER_SIZE && (h[0] & 7u) == SMP_OP_WRITE && h[4] == 0 && h[5] == SMP_GROUP_IMAGE
      && h[7] == SMP_IMAGE_UPLOAD;
}

/* One frame; a request completed is answered. An upload request that leaves the
   upload complete marks it (a permanent upgrade request: the next boot checks the
   image and swaps it in), so that the reset, or a power cycle, boots it. */
static void on_frame(void *ctx, const uint8_t *line, size_t len)
{
  recovery_t *r = ctx;
  smp_server_t *s = &r->server;
  size_t body = 0;
  if (smp_serial_line(&s->reader, line, len, &body) != SMP_LINE_PACKET) {
    return;
  }
  bool upload = is_upload(s->buf, body);
  size_t out = smp_server_handle(s, body);
  if (out > 0) {
    smp_serial_write(s->buf, out, uart_put, NULL);
  }
  bool complete = s->upload.active && s->upload.off == s->upload.len;
  if (upload && !complete) {
    r->marked = false; /* a new upload erased the trailer sector, and a mark with it */
  }
  if (upload && complete && !r->marked) {
    if (boot_request_upgrade(mps2_flash(), r->map, true) == BOOT_OK) {
      r->marked = true;
      r->say("serial recovery: image uploaded, ", "marked to be swapped in at the next boot");
    } else {
      r->say("serial recovery: marking the uploaded image failed (flash)", "");
    }
  }
}

void recovery_run(const boot_map_t *map, recovery_say_fn say, const uint8_t *frame, size_t frame_len)
{
  /* On the stack, whose Ed25519 frames are gone by now: the 8 KiB of RAM hold it there. */
  recovery_t r;
  smp_demux_t demux;
  smp_server_config_t config;
  memset(&config, 0, sizeof config);
  config.flash = mps2_flash();
  config.map = map;
  config.recovery = true;
  r.map = map;
  r.say = say;
  r.marked = false;
  if (smp_server_init(&r.server, &config) != BOOT_OK) {
    say("serial recovery: reading an upload under way failed (flash): ", "a new upload starts over");
  }
  smp_demux_init(&demux, false, drop, on_frame, &r);
  mps2_time_init(); /* the tick ends a wait that began just after a byte came in */
  say("serial recovery: waiting for SMP on UART0", "");
  if (frame_len > 0) {
    on_frame(&r, frame, frame_len);
  }
  for (;;) {
    uint8_t bytes[64];
    size_t n = mps2_uart_read(bytes, sizeof bytes);
    if (n > 0) {
      smp_demux_input(&demux, bytes, n);
    } else if (r.server.reset_requested) {
      if (r.server.bootloader_requested) {
        mps2_boot_mode_set(MPS2_BOOT_MODE_RECOVERY);
      }
      say("serial recovery: reset", r.server.bootloader_requested ? " (into serial recovery again)" : "");
      mps2_reset();
    } else {
      mps2_wait_for_interrupt();
    }
  }
}
