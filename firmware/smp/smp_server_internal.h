/* What the SMP server's parts share (smp_server.c: framing and dispatch,
   smp_request.c: the request's map and the error replies, smp_os_group.c,
   smp_image_group.c). Not part of the public API. */
#ifndef SMP_SERVER_INTERNAL_H
#define SMP_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smp_cbor.h"
#include "smp_server.h"

typedef struct bytes_field {
  bool present;
  const uint8_t *data;
  size_t len;
} bytes_field_t;

typedef struct uint_field {
  bool present;
  uint64_t value;
} uint_field_t;

typedef struct bool_field {
  bool present;
  bool value;
} bool_field_t;

/* The keys SMP's requests here use; others are skipped. */
typedef struct smp_request {
  bytes_field_t d, format, hash, sha, data; /* d and format text, the rest byte strings */
  bool_field_t confirm;
  uint_field_t image, len, off, boot_mode;
} smp_request_t;

typedef struct smp_reply {
  smp_server_t *s;
  cbor_writer_t w;
  uint8_t version; /* the request's: 0 answers {"rc"}, 1 {"err": {group, rc}} */
  uint16_t group;
} smp_reply_t;

/* Decodes the request's CBOR map (body of len bytes) into q: false when it is not
   a map or a known key has the wrong type. An empty body is an empty map. */
bool smp_request_decode(const uint8_t *body, size_t len, smp_request_t *q);
/* Replaces the reply with {"rc": n} in the original protocol, {"err": {"group":
   g, "rc": n}} in version 2. */
void smp_reply_error(smp_reply_t *a, int group_rc, int generic_rc);
/* Replaces the reply with {"rc": rc}, whatever the version. */
void smp_reply_rc(smp_reply_t *a, int rc);

/* The groups: each writes its answer to one request into a->w. */
void smp_os_group(smp_reply_t *a, uint8_t op, uint8_t id, const smp_request_t *q);
void smp_image_group(smp_reply_t *a, uint8_t op, uint8_t id, const smp_request_t *q);

#endif
