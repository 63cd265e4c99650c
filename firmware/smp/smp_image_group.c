/* SMP's image group (docs/smp.md): state read and write, upload to the secondary slot. */
#include <string.h>

#include "boot.h"
#include "boot_trailer.h"
#include "smp_server_internal.h"

/* The image group's own codes (Zephyr's img_mgmt_err_code_t), for SMP version 2. */
#define IMG_ERR_UNKNOWN 1
#define IMG_ERR_NO_IMAGE 3
#define IMG_ERR_HASH_NOT_FOUND 8
#define IMG_ERR_NO_FREE_SLOT 9
#define IMG_ERR_FLASH_WRITE_FAILED 12
#define IMG_ERR_INVALID_OFFSET 20
#define IMG_ERR_INVALID_LENGTH 21
#define IMG_ERR_INVALID_HASH 24
#define IMG_ERR_ALREADY_PENDING 28
#define IMG_ERR_TOO_LARGE 30
#define IMG_ERR_DATA_OVERRUN 31
#define IMG_ERR_TEST_TO_ACTIVE_DENIED 33

#define VERSION_TEXT_MAX 48u

typedef struct slots {
  smp_slot_info_t primary, secondary;
  bool secondary_listed; /* an image, and no upload under way into it */
  bool trial;            /* the primary runs on trial */
  bool pending, permanent;
} slots_t;

static int read_slots(smp_server_t *s, slots_t *out)
{
  const boot_flash_t *flash = s->config.flash;
  const boot_map_t *map = s->config.map;
  boot_trailer_t secondary;
  int rc = smp_slot_read(flash, map, map->primary, &out->primary);
  if (rc == BOOT_OK) {
    rc = smp_slot_read(flash, map, map->secondary, &out->secondary);
  }
  if (rc == BOOT_OK) {
    rc = boot_primary_on_trial(flash, map, &out->trial);
  }
  if (rc == BOOT_OK) {
    rc = boot_trailer_read(flash, map, map->secondary, &secondary);
  }
  if (rc != BOOT_OK) {
    return rc;
  }
  const smp_upload_t *u = &s->upload;
  out->secondary_listed = out->secondary.present && !(u->active && u->off < u->len);
  out->pending = secondary.magic && secondary.swap_type != BOOT_SWAP_REVERT;
  out->permanent = out->pending && (secondary.image_ok || secondary.swap_type == BOOT_SWAP_PERM);
  return BOOT_OK;
}

static void put_slot(cbor_writer_t *w, uint32_t slot, const smp_slot_info_t *info, bool active, bool confirmed,
                     bool pending, bool permanent)
{
  char version[VERSION_TEXT_MAX];
  smp_version_text(info->version, version);
  cbor_put_map(w, 9);
  cbor_put_cstr(w, "image");
  cbor_put_uint(w, 0);
  cbor_put_cstr(w, "slot");
  cbor_put_uint(w, slot);
  cbor_put_cstr(w, "version");
  cbor_put_cstr(w, version);
  cbor_put_cstr(w, "hash");
  cbor_put_bytes(w, info->hash, SMP_HASH_SIZE);
  cbor_put_cstr(w, "bootable");
  cbor_put_bool(w, true);
  cbor_put_cstr(w, "pending");
  cbor_put_bool(w, pending);
  cbor_put_cstr(w, "confirmed");
  cbor_put_bool(w, confirmed);
  cbor_put_cstr(w, "active");
  cbor_put_bool(w, active);
  cbor_put_cstr(w, "permanent");
  cbor_put_bool(w, permanent);
}

static void image_state_body(smp_reply_t *a)
{
  slots_t sl;
  if (read_slots(a->s, &sl) != BOOT_OK) {
    smp_reply_error(a, IMG_ERR_UNKNOWN, SMP_RC_UNKNOWN);
    return;
  }
  size_t n = (sl.primary.present ? 1u : 0u) + (sl.secondary_listed ? 1u : 0u);
  cbor_put_map(&a->w, 1);
  cbor_put_cstr(&a->w, "images");
  cbor_put_array(&a->w, n);
  if (sl.primary.present) {
    put_slot(&a->w, 0, &sl.primary, !a->s->config.recovery, !sl.trial, false, false);
  }
  if (sl.secondary_listed) {
    put_slot(&a->w, 1, &sl.secondary, false, false, sl.pending, sl.permanent);
  }
}

#if SMP_WITH_STATE_WRITE
/* Set state: confirm the running image (no hash, or its hash), or mark the
   secondary's image for a test boot (confirm false) or for good (confirm true). */
static void image_state_write(smp_reply_t *a, const smp_request_t *q)
{
  smp_server_t *s = a->s;
  uint8_t hash[SMP_HASH_SIZE];
  slots_t sl;
  bool confirm = q->confirm.present && q->confirm.value;
  if (q->hash.present && q->hash.len != SMP_HASH_SIZE) {
    smp_reply_error(a, IMG_ERR_INVALID_HASH, SMP_RC_EINVAL);
    return;
  }
  if (q->hash.present) {
    memcpy(hash, q->hash.data, SMP_HASH_SIZE);
  }
  if (read_slots(s, &sl) != BOOT_OK) {
    smp_reply_error(a, IMG_ERR_UNKNOWN, SMP_RC_UNKNOWN);
    return;
  }
  int rc;
  if (!q->hash.present || (sl.primary.present && memcmp(hash, sl.primary.hash, SMP_HASH_SIZE) == 0)) {
    if (!confirm) {
      smp_reply_error(a, q->hash.present ? IMG_ERR_TEST_TO_ACTIVE_DENIED : IMG_ERR_INVALID_HASH, SMP_RC_EINVAL);
      return;
    }
    rc = boot_confirm(s->config.flash, s->config.map);
  } else if (sl.secondary_listed && memcmp(hash, sl.secondary.hash, SMP_HASH_SIZE) == 0) {
    if (sl.trial) {
      /* The secondary holds the image a revert goes back to. */
      smp_reply_error(a, IMG_ERR_ALREADY_PENDING, SMP_RC_EBADSTATE);
      return;
    }
    rc = boot_request_upgrade(s->config.flash, s->config.map, confirm);
  } else {
    smp_reply_error(a, IMG_ERR_HASH_NOT_FOUND, SMP_RC_ENOENT);
    return;
  }
  if (rc == BOOT_EINVALID) {
    smp_reply_error(a, IMG_ERR_ALREADY_PENDING, SMP_RC_EBADSTATE); /* the other kind of request is set */
  } else if (rc != BOOT_OK) {
    smp_reply_error(a, IMG_ERR_FLASH_WRITE_FAILED, SMP_RC_UNKNOWN);
  } else {
    image_state_body(a);
  }
}

#endif

static void upload_offset(smp_reply_t *a)
{
  smp_server_t *s = a->s;
  const smp_upload_t *u = &s->upload;
  bool done = u->off == u->len && u->has_sha;
  uint8_t digest[SMP_HASH_SIZE];
  bool match = false;
  if (done) {
    match = smp_flash_sha256(s->config.flash, s->config.map->secondary, u->len, digest) == BOOT_OK
         && memcmp(digest, u->sha, SMP_HASH_SIZE) == 0;
  }
  cbor_put_map(&a->w, done ? 2u : 1u);
  cbor_put_cstr(&a->w, "off");
  cbor_put_uint(&a->w, u->off);
  if (done) {
    cbor_put_cstr(&a->w, "match");
    cbor_put_bool(&a->w, match);
  }
}

/* Upload: the first request (off 0) names the upload by len and sha; the same
   one again answers the offset reached (resume), another one starts over. Any
   other offset than the one expected is answered with the one expected. */
static void image_upload(smp_reply_t *a, const smp_request_t *q)
{
  smp_server_t *s = a->s;
  smp_upload_t *u = &s->upload;
  const boot_flash_t *flash = s->config.flash;
  const boot_map_t *map = s->config.map;
  if (!q->off.present || !q->data.present) {
    smp_reply_error(a, q->off.present ? IMG_ERR_INVALID_LENGTH : IMG_ERR_INVALID_OFFSET, SMP_RC_EINVAL);
    return;
  }
  if (q->image.present && q->image.value != 0) {
    smp_reply_error(a, IMG_ERR_NO_FREE_SLOT, SMP_RC_EINVAL); /* one image pair on a spot */
    return;
  }
  if (q->off.value == 0) {
    bool trial = true;
    if (boot_primary_on_trial(flash, map, &trial) != BOOT_OK || trial) {
      /* The running image has not confirmed: the secondary holds the image a revert needs. */
      smp_reply_error(a, IMG_ERR_NO_FREE_SLOT, SMP_RC_EBADSTATE);
      return;
    }
    if (!q->len.present || q->len.value == 0) {
      smp_reply_error(a, IMG_ERR_INVALID_LENGTH, SMP_RC_EINVAL);
      return;
    }
    if (q->len.value > smp_upload_capacity(map)) {
      smp_reply_error(a, IMG_ERR_TOO_LARGE, SMP_RC_EINVAL);
      return;
    }
    if (q->sha.present && q->sha.len != SMP_HASH_SIZE) {
      smp_reply_error(a, IMG_ERR_INVALID_HASH, SMP_RC_EINVAL);
      return;
    }
    if (u->active && q->sha.present && u->has_sha && u->len == q->len.value
        && memcmp(u->sha, q->sha.data, SMP_HASH_SIZE) == 0 && u->off > 0) {
      upload_offset(a); /* resume */
      return;
    }
    uint8_t sha[SMP_HASH_SIZE] = {0};
    if (q->sha.present) {
      memcpy(sha, q->sha.data, SMP_HASH_SIZE);
    }
    if (smp_upload_start(u, flash, map, (uint32_t)q->len.value, q->sha.present ? sha : NULL) != BOOT_OK) {
      u->active = false;
      smp_reply_error(a, IMG_ERR_FLASH_WRITE_FAILED, SMP_RC_UNKNOWN);
      return;
    }
  }
  if (!u->active) {
    smp_reply_error(a, IMG_ERR_NO_IMAGE, SMP_RC_EBADSTATE); /* no upload under way to continue */
    return;
  }
  if (q->off.value != u->off) {
    upload_offset(a);
    return;
  }
  if (q->data.len > u->len - u->off) {
    smp_reply_error(a, IMG_ERR_DATA_OVERRUN, SMP_RC_EINVAL);
    return;
  }
  if (smp_upload_write(u, flash, map, q->data.data, (uint32_t)q->data.len) != BOOT_OK) {
    /* The RAM state may be ahead of the flash now: the flash says where it stands. */
    smp_upload_load(u, flash, map);
    smp_reply_error(a, IMG_ERR_FLASH_WRITE_FAILED, SMP_RC_UNKNOWN);
    return;
  }
  upload_offset(a);
}

void smp_image_group(smp_reply_t *a, uint8_t op, uint8_t id, const smp_request_t *q)
{
  if (!a->s->config.flash) {
    smp_reply_rc(a, SMP_RC_ENOTSUP); /* not running from a slot: no images to manage */
  } else if (id == SMP_IMAGE_STATE && op == SMP_OP_READ) {
    image_state_body(a);
#if SMP_WITH_STATE_WRITE
  } else if (id == SMP_IMAGE_STATE && op == SMP_OP_WRITE) {
    image_state_write(a, q);
#endif
  } else if (id == SMP_IMAGE_UPLOAD && op == SMP_OP_WRITE) {
    image_upload(a, q);
  } else {
    smp_reply_rc(a, SMP_RC_ENOTSUP);
  }
}
