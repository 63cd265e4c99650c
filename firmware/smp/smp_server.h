/* The spot's SMP server (docs/smp.md, "The spot's server"): OS group (echo,
   reset, MCUmgr parameters, OS/application info) and image group (state read
   and write, upload to the secondary slot), over the serial framing of
   smp_serial.h. Portable, no heap: one buffer holds a request and then its
   response. */
#ifndef SMP_SERVER_H
#define SMP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot_flash.h"
#include "smp_image.h"
#include "smp_serial.h"

/* The largest SMP message (header + CBOR) taken or sent: MCUmgr parameters'
   buf_size. 2 KiB gives the flasher chunks of 1952 bytes. */
#ifndef SMP_BUF_SIZE
#define SMP_BUF_SIZE 2048u
#endif
#define SMP_HEADER_SIZE 8u
/* What a server leaves out at compile time (the bootloader's serial recovery
   answers neither, as MCUboot's does not): OS/application info, image state write. */
#ifndef SMP_WITH_OS_INFO
#define SMP_WITH_OS_INFO 1
#endif
#ifndef SMP_WITH_STATE_WRITE
#define SMP_WITH_STATE_WRITE 1
#endif

#define SMP_OP_READ 0u
#define SMP_OP_READ_RSP 1u
#define SMP_OP_WRITE 2u
#define SMP_OP_WRITE_RSP 3u
#define SMP_GROUP_OS 0u
#define SMP_GROUP_IMAGE 1u
#define SMP_OS_ECHO 0u
#define SMP_OS_RESET 5u
#define SMP_OS_PARAMS 6u
#define SMP_OS_INFO 7u
#define SMP_IMAGE_STATE 0u
#define SMP_IMAGE_UPLOAD 1u

/* MCUmgr's generic codes (mcumgr_err_t), the "rc" of the original protocol. */
#define SMP_RC_UNKNOWN 1
#define SMP_RC_EINVAL 3
#define SMP_RC_ENOENT 5
#define SMP_RC_EBADSTATE 6
#define SMP_RC_EMSGSIZE 7
#define SMP_RC_ENOTSUP 8
#define SMP_RC_ENOTSUP_VERSION 13 /* protocol too new */

/* OS reset's "boot_mode": 0 the application, 1 the bootloader's serial recovery. */
#define SMP_BOOT_MODE_NORMAL 0u
#define SMP_BOOT_MODE_BOOTLOADER 1u

typedef struct smp_server_config {
  const boot_flash_t *flash; /* NULL: no image management (the image group answers rc 8) */
  const boot_map_t *map;
  /* OS/application info: the fields of its format letters. */
  const char *kernel;    /* s, and o */
  const char *node;      /* n */
  const char *release;   /* r, v: the running firmware's version */
  const char *build;     /* b */
  const char *machine;   /* m */
  const char *processor; /* p */
  const char *platform;  /* i */
  /* The bootloader's serial recovery: no image runs, so the primary's is not listed active. */
  bool recovery;
} smp_server_config_t;

typedef struct smp_server {
  smp_server_config_t config;
  uint8_t buf[SMP_BUF_SIZE + 2u]; /* a request with its CRC, then the response */
  smp_serial_reader_t reader;
  smp_upload_t upload;
  uint32_t requests; /* answered requests (each had a good CRC and header) */
  bool reset_requested; /* OS reset answered: reset once the answer is out */
  bool bootloader_requested; /* ... with boot_mode 1: into the bootloader's serial recovery */
} smp_server_t;

/* Finds an upload under way (power cut) in the flash. BOOT_OK or BOOT_EFLASH. */
int smp_server_init(smp_server_t *s, const smp_server_config_t *config);
/* One frame (marker to before the newline). When it completes a request, the
   response goes out through put as serial frames. */
void smp_server_line(smp_server_t *s, const uint8_t *line, size_t len, smp_put_fn put, void *ctx);
/* The same for one whole SMP message (header + CBOR): the response message is
   left in s->buf; its length, or 0 when there is none (a response, a bad header). */
size_t smp_server_handle(smp_server_t *s, size_t len);

#endif
