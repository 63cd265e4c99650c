/* The mps2 bootloader's serial recovery (docs/bootloader.md, "Serial recovery"):
   the spot's SMP server (firmware/smp) on UART0, without OS info and state write,
   until an OS reset. An uploaded image goes to the secondary slot as the app's
   upload does; once it is complete it is marked for a permanent swap, which the
   next boot checks (hash, signature) and performs. `frame` (marker to before its
   newline; NULL when frame_len is 0) is a request that came before: it is answered first. */
#ifndef MPS2_BOOT_RECOVERY_H
#define MPS2_BOOT_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "boot_flash.h"

/* One line for UART0 and the semihosting console: a, then b. */
typedef void (*recovery_say_fn)(const char *a, const char *b);

__attribute__((noreturn)) void recovery_run(const boot_map_t *map, recovery_say_fn say, const uint8_t *frame, size_t frame_len);

#endif
