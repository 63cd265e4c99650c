/* The spot's SMP server (smp_server.h). */
#include "smp_server.h"

#include <string.h>

#include "boot.h"
#include "boot_trailer.h"
#include "smp_cbor.h"

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
/* The OS group's (os_mgmt_err_code_t). */
#define OS_ERR_INVALID_FORMAT 2

#define FORMAT_MAX 16u
#define VERSION_TEXT_MAX 48u

typedef struct text_field {
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
typedef struct request {
  bytes_field_t d, format, hash, sha, data; /* d and format text, the rest byte strings */
  bool_field_t confirm;
  uint_field_t image, len, off, boot_mode;
} request_t;

typedef struct reply {
  smp_server_t *s;
  cbor_writer_t w;
  uint8_t version; /* the request's: 0 answers {"rc"}, 1 {"err": {group, rc}} */
  uint16_t group;
} reply_t;

int smp_server_init(smp_server_t *s, const smp_server_config_t *config)
{
  memset(s, 0, sizeof *s);
  s->config = *config;
  smp_serial_reader_init(&s->reader, s->buf, SMP_BUF_SIZE);
  return config->flash ? smp_upload_load(&s->upload, config->flash, config->map) : BOOT_OK;
}

static bool key_is(const cbor_item_t *key, const char *name)
{
  size_t n = strlen(name);
  return key->arg == n && memcmp(key->data, name, n) == 0;
}

static bool take_bytes(cbor_reader_t *r, uint8_t major, bytes_field_t *f)
{
  cbor_item_t v;
  if (!cbor_read(r, &v) || v.major != major) {
    return false;
  }
  f->present = true;
  f->data = v.data;
  f->len = (size_t)v.arg;
  return true;
}

static bool take_uint(cbor_reader_t *r, uint_field_t *f)
{
  cbor_item_t v;
  if (!cbor_read(r, &v) || v.major != CBOR_UINT) {
    return false;
  }
  f->present = true;
  f->value = v.arg;
  return true;
}

static bool take_bool(cbor_reader_t *r, bool_field_t *f)
{
  cbor_item_t v;
  if (!cbor_read(r, &v) || v.major != CBOR_SIMPLE || (v.arg != CBOR_TRUE && v.arg != CBOR_FALSE)) {
    return false;
  }
  f->present = true;
  f->value = v.arg == CBOR_TRUE;
  return true;
}

/* The request's map: known keys with the wrong type make it invalid. An empty
   body is an empty map. */
static bool decode_request(const uint8_t *body, size_t len, request_t *q)
{
  cbor_reader_t r;
  cbor_item_t map;
  memset(q, 0, sizeof *q);
  if (len == 0) {
    return true;
  }
  cbor_reader_init(&r, body, len);
  if (!cbor_read(&r, &map) || map.major != CBOR_MAP) {
    return false;
  }
  for (uint64_t i = 0; map.indefinite || i < map.arg; i++) {
    cbor_item_t key;
    if (!cbor_read(&r, &key)) {
      return false;
    }
    if (key.is_break && map.indefinite) {
      break;
    }
    if (key.major != CBOR_TEXT) {
      return false;
    }
    bool ok;
    if (key_is(&key, "d")) {
      ok = take_bytes(&r, CBOR_TEXT, &q->d);
    } else if (key_is(&key, "format")) {
      ok = take_bytes(&r, CBOR_TEXT, &q->format);
    } else if (key_is(&key, "hash")) {
      ok = take_bytes(&r, CBOR_BYTES, &q->hash);
    } else if (key_is(&key, "sha")) {
      ok = take_bytes(&r, CBOR_BYTES, &q->sha);
    } else if (key_is(&key, "data")) {
      ok = take_bytes(&r, CBOR_BYTES, &q->data);
    } else if (key_is(&key, "confirm")) {
      ok = take_bool(&r, &q->confirm);
    } else if (key_is(&key, "image")) {
      ok = take_uint(&r, &q->image);
    } else if (key_is(&key, "len")) {
      ok = take_uint(&r, &q->len);
    } else if (key_is(&key, "off")) {
      ok = take_uint(&r, &q->off);
    } else if (key_is(&key, "boot_mode")) {
      ok = take_uint(&r, &q->boot_mode);
    } else {
      cbor_item_t value;
      ok = cbor_read(&r, &value) && cbor_skip(&r, &value);
    }
    if (!ok) {
      return false;
    }
  }
  return r.pos == len;
}

/* {"rc": n} in the original protocol, {"err": {"group": g, "rc": n}} in version 2. */
static void reply_error(reply_t *a, int group_rc, int generic_rc)
{
  a->w.len = 0;
  a->w.overflow = false;
  if (a->version == 0) {
    cbor_put_map(&a->w, 1);
    cbor_put_cstr(&a->w, "rc");
    cbor_put_uint(&a->w, (uint64_t)generic_rc);
    return;
  }
  cbor_put_map(&a->w, 1);
  cbor_put_cstr(&a->w, "err");
  cbor_put_map(&a->w, 2);
  cbor_put_cstr(&a->w, "group");
  cbor_put_uint(&a->w, a->group);
  cbor_put_cstr(&a->w, "rc");
  cbor_put_uint(&a->w, (uint64_t)group_rc);
}

static void reply_rc(reply_t *a, int rc)
{
  a->w.len = 0;
  a->w.overflow = false;
  cbor_put_map(&a->w, 1);
  cbor_put_cstr(&a->w, "rc");
  cbor_put_uint(&a->w, (uint64_t)rc);
}

/* --- OS group ------------------------------------------------------------- */

static void os_echo(reply_t *a, const request_t *q)
{
  if (!q->d.present) {
    reply_rc(a, SMP_RC_EINVAL);
    return;
  }
  cbor_put_map(&a->w, 1);
  cbor_put_cstr(&a->w, "r");
  cbor_put_text(&a->w, (const char *)q->d.data, q->d.len);
}

#if SMP_WITH_OS_INFO
static const char *info_field(const smp_server_config_t *c, char letter)
{
  switch (letter) {
    case 's': return c->kernel;
    case 'n': return c->node;
    case 'r': return c->release;
    case 'v': return c->release;
    case 'b': return c->build;
    case 'm': return c->machine;
    case 'p': return c->processor;
    case 'i': return c->platform;
    case 'o': return c->kernel;
    default: return NULL;
  }
}

/* OS/application info: the fields the format letters name, joined by spaces in
   their natural order s n r v b m p i o whatever the order of the letters
   (smp_group_0.rst, "OS/Application Info Request"); "a" is all of them, no
   format is "s". A letter that names no field refuses the request. */
static void os_info(reply_t *a, const request_t *q)
{
  static const char natural[] = "snrvbmpio";
  char format[sizeof natural];
  const smp_server_config_t *c = &a->s->config;
  const char *given = q->format.present ? (const char *)q->format.data : "s";
  size_t given_len = q->format.present ? q->format.len : 1u;
  bool all = false;
  if (given_len == 0 || given_len > FORMAT_MAX) {
    reply_error(a, OS_ERR_INVALID_FORMAT, SMP_RC_EINVAL);
    return;
  }
  for (size_t i = 0; i < given_len; i++) {
    all = all || given[i] == 'a';
    if (given[i] != 'a' && (given[i] == '\0' || !strchr(natural, given[i]))) {
      reply_error(a, OS_ERR_INVALID_FORMAT, SMP_RC_EINVAL);
      return;
    }
  }
  size_t n = 0;
  for (const char *f = natural; *f; f++) {
    if (all || memchr(given, *f, given_len)) {
      format[n++] = *f;
    }
  }
  format[n] = '\0';
  size_t total = 0;
  for (const char *f = format; *f; f++) {
    const char *field = info_field(c, *f);
    if (!field) {
      reply_error(a, OS_ERR_INVALID_FORMAT, SMP_RC_EINVAL);
      return;
    }
    total += strlen(field) + (f == format ? 0u : 1u);
  }
  cbor_writer_t *w = &a->w;
  cbor_put_map(w, 1);
  cbor_put_cstr(w, "output");
  cbor_put_text_head(w, total);
  for (const char *f = format; *f; f++) {
    if (f != format) {
      cbor_put_raw(w, (const uint8_t *)" ", 1);
    }
    const char *field = info_field(c, *f);
    cbor_put_raw(w, (const uint8_t *)field, strlen(field));
  }
}

#endif

static void os_params(reply_t *a)
{
  cbor_put_map(&a->w, 2);
  cbor_put_cstr(&a->w, "buf_size");
  cbor_put_uint(&a->w, SMP_BUF_SIZE);
  cbor_put_cstr(&a->w, "buf_count");
  cbor_put_uint(&a->w, 1);
}

/* Reset, into the application or (boot_mode 1) the bootloader's serial recovery,
   which only a server with the flash (under the bootloader) can ask for. */
static void os_reset(reply_t *a, const request_t *q)
{
  uint64_t mode = q->boot_mode.present ? q->boot_mode.value : SMP_BOOT_MODE_NORMAL;
  if (mode > SMP_BOOT_MODE_BOOTLOADER) {
    reply_rc(a, SMP_RC_EINVAL);
    return;
  }
  if (mode == SMP_BOOT_MODE_BOOTLOADER && !a->s->config.flash) {
    reply_rc(a, SMP_RC_ENOTSUP);
    return;
  }
  cbor_put_map(&a->w, 0);
  a->s->reset_requested = true;
  a->s->bootloader_requested = mode == SMP_BOOT_MODE_BOOTLOADER;
}

static void handle_os(reply_t *a, uint8_t op, uint8_t id, const request_t *q)
{
  if (id == SMP_OS_ECHO) {
    os_echo(a, q); /* read or write (smp_group_0.rst, "Echo request") */
  } else if (id == SMP_OS_RESET && op == SMP_OP_WRITE) {
    os_reset(a, q);
  } else if (id == SMP_OS_PARAMS && op == SMP_OP_READ) {
    os_params(a);
#if SMP_WITH_OS_INFO
  } else if (id == SMP_OS_INFO && op == SMP_OP_READ) {
    os_info(a, q);
#endif
  } else {
    reply_rc(a, SMP_RC_ENOTSUP);
  }
}

/* --- image group ---------------------------------------------------------- */

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

static void image_state_body(reply_t *a)
{
  slots_t sl;
  if (read_slots(a->s, &sl) != BOOT_OK) {
    reply_error(a, IMG_ERR_UNKNOWN, SMP_RC_UNKNOWN);
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
static void image_state_write(reply_t *a, const request_t *q)
{
  smp_server_t *s = a->s;
  uint8_t hash[SMP_HASH_SIZE];
  slots_t sl;
  bool confirm = q->confirm.present && q->confirm.value;
  if (q->hash.present && q->hash.len != SMP_HASH_SIZE) {
    reply_error(a, IMG_ERR_INVALID_HASH, SMP_RC_EINVAL);
    return;
  }
  if (q->hash.present) {
    memcpy(hash, q->hash.data, SMP_HASH_SIZE);
  }
  if (read_slots(s, &sl) != BOOT_OK) {
    reply_error(a, IMG_ERR_UNKNOWN, SMP_RC_UNKNOWN);
    return;
  }
  int rc;
  if (!q->hash.present || (sl.primary.present && memcmp(hash, sl.primary.hash, SMP_HASH_SIZE) == 0)) {
    if (!confirm) {
      reply_error(a, q->hash.present ? IMG_ERR_TEST_TO_ACTIVE_DENIED : IMG_ERR_INVALID_HASH, SMP_RC_EINVAL);
      return;
    }
    rc = boot_confirm(s->config.flash, s->config.map);
  } else if (sl.secondary_listed && memcmp(hash, sl.secondary.hash, SMP_HASH_SIZE) == 0) {
    if (sl.trial) {
      /* The secondary holds the image a revert goes back to. */
      reply_error(a, IMG_ERR_ALREADY_PENDING, SMP_RC_EBADSTATE);
      return;
    }
    rc = boot_request_upgrade(s->config.flash, s->config.map, confirm);
  } else {
    reply_error(a, IMG_ERR_HASH_NOT_FOUND, SMP_RC_ENOENT);
    return;
  }
  if (rc == BOOT_EINVALID) {
    reply_error(a, IMG_ERR_ALREADY_PENDING, SMP_RC_EBADSTATE); /* the other kind of request is set */
  } else if (rc != BOOT_OK) {
    reply_error(a, IMG_ERR_FLASH_WRITE_FAILED, SMP_RC_UNKNOWN);
  } else {
    image_state_body(a);
  }
}

#endif

static void upload_offset(reply_t *a)
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
static void image_upload(reply_t *a, const request_t *q)
{
  smp_server_t *s = a->s;
  smp_upload_t *u = &s->upload;
  const boot_flash_t *flash = s->config.flash;
  const boot_map_t *map = s->config.map;
  if (!q->off.present || !q->data.present) {
    reply_error(a, q->off.present ? IMG_ERR_INVALID_LENGTH : IMG_ERR_INVALID_OFFSET, SMP_RC_EINVAL);
    return;
  }
  if (q->image.present && q->image.value != 0) {
    reply_error(a, IMG_ERR_NO_FREE_SLOT, SMP_RC_EINVAL); /* one image pair on a spot */
    return;
  }
  if (q->off.value == 0) {
    bool trial = true;
    if (boot_primary_on_trial(flash, map, &trial) != BOOT_OK || trial) {
      /* The running image has not confirmed: the secondary holds the image a revert needs. */
      reply_error(a, IMG_ERR_NO_FREE_SLOT, SMP_RC_EBADSTATE);
      return;
    }
    if (!q->len.present || q->len.value == 0) {
      reply_error(a, IMG_ERR_INVALID_LENGTH, SMP_RC_EINVAL);
      return;
    }
    if (q->len.value > smp_upload_capacity(map)) {
      reply_error(a, IMG_ERR_TOO_LARGE, SMP_RC_EINVAL);
      return;
    }
    if (q->sha.present && q->sha.len != SMP_HASH_SIZE) {
      reply_error(a, IMG_ERR_INVALID_HASH, SMP_RC_EINVAL);
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
      reply_error(a, IMG_ERR_FLASH_WRITE_FAILED, SMP_RC_UNKNOWN);
      return;
    }
  }
  if (!u->active) {
    reply_error(a, IMG_ERR_NO_IMAGE, SMP_RC_EBADSTATE); /* no upload under way to continue */
    return;
  }
  if (q->off.value != u->off) {
    upload_offset(a);
    return;
  }
  if (q->data.len > u->len - u->off) {
    reply_error(a, IMG_ERR_DATA_OVERRUN, SMP_RC_EINVAL);
    return;
  }
  if (smp_upload_write(u, flash, map, q->data.data, (uint32_t)q->data.len) != BOOT_OK) {
    /* The RAM state may be ahead of the flash now: the flash says where it stands. */
    smp_upload_load(u, flash, map);
    reply_error(a, IMG_ERR_FLASH_WRITE_FAILED, SMP_RC_UNKNOWN);
    return;
  }
  upload_offset(a);
}

static void handle_image(reply_t *a, uint8_t op, uint8_t id, const request_t *q)
{
  if (!a->s->config.flash) {
    reply_rc(a, SMP_RC_ENOTSUP); /* not running from a slot: no images to manage */
  } else if (id == SMP_IMAGE_STATE && op == SMP_OP_READ) {
    image_state_body(a);
#if SMP_WITH_STATE_WRITE
  } else if (id == SMP_IMAGE_STATE && op == SMP_OP_WRITE) {
    image_state_write(a, q);
#endif
  } else if (id == SMP_IMAGE_UPLOAD && op == SMP_OP_WRITE) {
    image_upload(a, q);
  } else {
    reply_rc(a, SMP_RC_ENOTSUP);
  }
}

size_t smp_server_handle(smp_server_t *s, size_t len)
{
  uint8_t *h = s->buf;
  if (len < SMP_HEADER_SIZE) {
    return 0;
  }
  uint8_t op = h[0] & 7u;
  uint8_t version = (uint8_t)(h[0] >> 3 & 3u);
  uint16_t data_len = (uint16_t)(h[2] << 8 | h[3]);
  uint16_t group = (uint16_t)(h[4] << 8 | h[5]);
  uint8_t id = h[7];
  if (op != SMP_OP_READ && op != SMP_OP_WRITE) {
    return 0; /* a response, or a reserved op: nothing to answer */
  }
  request_t q;
  reply_t a = {s, {0}, version > 1u ? 1u : version, group};
  cbor_writer_init(&a.w, s->buf + SMP_HEADER_SIZE, SMP_BUF_SIZE - SMP_HEADER_SIZE);
  s->requests++;
  if (version > 1u) {
    reply_rc(&a, SMP_RC_ENOTSUP_VERSION);
  } else if ((h[0] >> 5) != 0 || data_len != len - SMP_HEADER_SIZE
             || !decode_request(s->buf + SMP_HEADER_SIZE, data_len, &q)) {
    reply_rc(&a, SMP_RC_EINVAL);
  } else if (group == SMP_GROUP_OS) {
    handle_os(&a, op, id, &q);
  } else if (group == SMP_GROUP_IMAGE) {
    handle_image(&a, op, id, &q);
  } else {
    reply_rc(&a, SMP_RC_ENOTSUP);
  }
  if (a.w.overflow) {
    reply_rc(&a, SMP_RC_EMSGSIZE);
  }
  h[0] = (uint8_t)(a.version << 3 | (op + 1u));
  h[1] = 0;
  h[2] = (uint8_t)(a.w.len >> 8);
  h[3] = (uint8_t)a.w.len;
  /* group, sequence number and command id stay as the request had them */
  return SMP_HEADER_SIZE + a.w.len;
}

void smp_server_line(smp_server_t *s, const uint8_t *line, size_t len, smp_put_fn put, void *ctx)
{
  size_t body_len = 0;
  if (smp_serial_line(&s->reader, line, len, &body_len) != SMP_LINE_PACKET) {
    return;
  }
  size_t out = smp_server_handle(s, body_len);
  if (out > 0) {
    smp_serial_write(s->buf, out, put, ctx);
  }
}
