/* SMP's OS group (docs/smp.md): echo, reset, MCUmgr parameters, OS/application info. */
#include <string.h>

#include "smp_server_internal.h"

/* The OS group's (os_mgmt_err_code_t). */
#define OS_ERR_INVALID_FORMAT 2

#define FORMAT_MAX 16u

static void os_echo(smp_reply_t *a, const smp_request_t *q)
{
  if (!q->d.present) {
    smp_reply_rc(a, SMP_RC_EINVAL);
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
static void os_info(smp_reply_t *a, const smp_request_t *q)
{
  static const char natural[] = "snrvbmpio";
  char format[sizeof natural];
  const smp_server_config_t *c = &a->s->config;
  const char *given = q->format.present ? (const char *)q->format.data : "s";
  size_t given_len = q->format.present ? q->format.len : 1u;
  bool all = false;
  if (given_len == 0 || given_len > FORMAT_MAX) {
    smp_reply_error(a, OS_ERR_INVALID_FORMAT, SMP_RC_EINVAL);
    return;
  }
  for (size_t i = 0; i < given_len; i++) {
    all = all || given[i] == 'a';
    if (given[i] != 'a' && (given[i] == '\0' || !strchr(natural, given[i]))) {
      smp_reply_error(a, OS_ERR_INVALID_FORMAT, SMP_RC_EINVAL);
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
      smp_reply_error(a, OS_ERR_INVALID_FORMAT, SMP_RC_EINVAL);
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

static void os_params(smp_reply_t *a)
{
  cbor_put_map(&a->w, 2);
  cbor_put_cstr(&a->w, "buf_size");
  cbor_put_uint(&a->w, SMP_BUF_SIZE);
  cbor_put_cstr(&a->w, "buf_count");
  cbor_put_uint(&a->w, 1);
}

/* Reset, into the application or (boot_mode 1) the bootloader's serial recovery,
   which only a server with the flash (under the bootloader) can ask for. */
static void os_reset(smp_reply_t *a, const smp_request_t *q)
{
  uint64_t mode = q->boot_mode.present ? q->boot_mode.value : SMP_BOOT_MODE_NORMAL;
  if (mode > SMP_BOOT_MODE_BOOTLOADER) {
    smp_reply_rc(a, SMP_RC_EINVAL);
    return;
  }
  if (mode == SMP_BOOT_MODE_BOOTLOADER && !a->s->config.flash) {
    smp_reply_rc(a, SMP_RC_ENOTSUP);
    return;
  }
  cbor_put_map(&a->w, 0);
  a->s->reset_requested = true;
  a->s->bootloader_requested = mode == SMP_BOOT_MODE_BOOTLOADER;
}

void smp_os_group(smp_reply_t *a, uint8_t op, uint8_t id, const smp_request_t *q)
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
    smp_reply_rc(a, SMP_RC_ENOTSUP);
  }
}
