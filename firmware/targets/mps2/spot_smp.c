/* The mps2 app's SMP side (spot_smp.h). */
#include "spot_smp.h"

#include <string.h>

#include "boot.h"
#include "boot_image.h"
#include "mps2.h"
#include "mps2_flash.h"

static const boot_map_t map = BOOT_MAP_MPS2_AN385;
static char node[24];

bool mps2_smp_in_slot(void)
{
  return (uintptr_t)&mps2_smp_in_slot >= map.primary && (uintptr_t)&mps2_smp_in_slot < map.secondary;
}

void mps2_smp_image_version(char *out, size_t cap)
{
  boot_image_t image;
  char text[48];
  out[0] = '\0';
  if (!mps2_smp_in_slot() || boot_image_read(mps2_flash(), &map, map.primary, &image) != BOOT_OK) {
    return;
  }
  smp_version_text(image.version, text);
  if (strlen(text) < cap) {
    strcpy(out, text);
  }
}

static void uart_put(void *ctx, const uint8_t *bytes, size_t len)
{
  (void)ctx;
  mps2_uart_write(bytes, len);
}

static void on_frame(void *ctx, const uint8_t *line, size_t len)
{
  mps2_smp_t *m = ctx;
  smp_server_line(&m->server, line, len, uart_put, NULL);
}

static void on_command(void *ctx, const uint8_t *bytes, size_t len)
{
  mps2_smp_t *m = ctx;
  spot_stream_command_input(m->spot, bytes, len);
}

void mps2_smp_init(mps2_smp_t *m, spot_t *spot, bool pb, uint32_t serial, const char *version)
{
  char digits[12];
  int n = 0;
  memset(m, 0, sizeof *m);
  m->spot = spot;
  m->slot = mps2_smp_in_slot();
  do {
    digits[n++] = (char)('0' + serial % 10u);
    serial /= 10u;
  } while (serial && n < (int)sizeof digits);
  strcpy(node, "spot-");
  for (size_t at = 5; n > 0; at++) {
    node[at] = digits[--n];
    node[at + 1] = '\0';
  }
  smp_server_config_t config = {
      m->slot ? mps2_flash() : NULL, &map, "spot", node, version, "-", "arm", "cortex-m3", "mps2-an385", false,
  };
  if (m->slot && smp_server_init(&m->server, &config) != BOOT_OK) {
    mps2_debug("smp: flash read failed: no image management\n");
    config.flash = NULL;
  }
  if (!m->slot || config.flash == NULL) {
    smp_server_init(&m->server, &config);
  }
  bool trial = true; /* a failed read here: the confirm's own reads find out */
  m->trial = m->slot && (boot_primary_on_trial(mps2_flash(), &map, &trial) != BOOT_OK || trial);
  boot_self_confirm_init(&m->confirm);
  smp_demux_init(&m->demux, pb, on_command, on_frame, m);
}

void mps2_smp_input(mps2_smp_t *m, const uint8_t *bytes, size_t len)
{
  smp_demux_input(&m->demux, bytes, len);
}

void mps2_smp_poll(mps2_smp_t *m)
{
  if (m->server.reset_requested) {
    if (m->server.bootloader_requested) {
      mps2_boot_mode_set(MPS2_BOOT_MODE_RECOVERY);
      mps2_debug("smp: reset into the bootloader's serial recovery\n");
    } else {
      mps2_debug("smp: reset\n");
    }
    mps2_reset();
  }
  /* The spot-protocol link is up (a command from the gateway applied): the image confirms
     itself. SMP requests do not: the flasher confirms with image state write confirm=true,
     or leaves the image on trial (--test). */
  if (m->trial && spot_commands_applied(m->spot) > 0) {
    m->trial = false;
    boot_self_confirm_ask(&m->confirm, mps2_time_ms());
  }
  switch (boot_self_confirm_poll(&m->confirm, mps2_flash(), &map, mps2_time_ms())) {
    case BOOT_SELF_CONFIRM_CONFIRMED:
      mps2_debug("smp: link up (a spot-protocol command): running image confirmed\n");
      break;
    case BOOT_SELF_CONFIRM_ALREADY:
      mps2_debug("smp: link up (a spot-protocol command): running image already confirmed\n");
      break;
    case BOOT_SELF_CONFIRM_RETRY:
      mps2_debug("smp: confirming the running image failed (flash): trying again\n");
      break;
    case BOOT_SELF_CONFIRM_GAVE_UP:
      mps2_debug("smp: confirming the running image failed (flash) " SPOT_STR(BOOT_SELF_CONFIRM_TRIES)
                 " times: on trial until the next boot\n");
      break;
    case BOOT_SELF_CONFIRM_IDLE:
      break;
  }
}
