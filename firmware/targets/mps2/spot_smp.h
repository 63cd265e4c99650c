/* The mps2 app's SMP side (docs/smp.md, "The spot's server"): the UART input
   sorted into SMP frames and spot-protocol commands, the SMP server over the
   flash in its host file, reset after the answer, and the confirm of a trial
   image once its spot-protocol link is up. */
#ifndef SPOT_SMP_H
#define SPOT_SMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot_self_confirm.h"
#include "smp_demux.h"
#include "smp_server.h"
#include "spot.h"

typedef struct mps2_smp {
  smp_server_t server;
  smp_demux_t demux;
  spot_t *spot;
  bool slot;      /* running from the primary slot under the bootloader: images to manage */
  bool trial;     /* the running image must still earn its confirm */
  boot_self_confirm_t confirm;
} mps2_smp_t;

/* Whether this image runs from the primary slot (linked at the slot, under the bootloader). */
bool mps2_smp_in_slot(void);
/* The running image's version from its MCUboot header ("" when not in a slot). */
void mps2_smp_image_version(char *out, size_t cap);
void mps2_smp_init(mps2_smp_t *m, spot_t *spot, bool pb, uint32_t serial, const char *version);
/* Bytes from the UART: SMP frames are answered at once (the stream is between
   events here), everything else goes to the spot's command input. */
void mps2_smp_input(mps2_smp_t *m, const uint8_t *bytes, size_t len);
/* After the input: an answered OS reset resets now (with boot_mode 1 it leaves
   the bootloader the request for its serial recovery first); a trial image whose
   spot-protocol link came up (a command applied) confirms. SMP requests do not
   confirm: the flasher confirms over SMP, or leaves the trial (--test). */
void mps2_smp_poll(mps2_smp_t *m);

#endif
