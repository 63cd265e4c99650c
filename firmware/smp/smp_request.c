/* The SMP request's CBOR map and the error replies (smp_server_internal.h). */
#include <string.h>

#include "smp_server_internal.h"

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

bool smp_request_decode(const uint8_t *body, size_t len, smp_request_t *q)
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

void smp_reply_error(smp_reply_t *a, int group_rc, int generic_rc)
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

void smp_reply_rc(smp_reply_t *a, int rc)
{
  a->w.len = 0;
  a->w.overflow = false;
  cbor_put_map(&a->w, 1);
  cbor_put_cstr(&a->w, "rc");
  cbor_put_uint(&a->w, (uint64_t)rc);
}
