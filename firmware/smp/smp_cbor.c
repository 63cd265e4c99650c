/* CBOR subset for SMP (smp_cbor.h). */
#include "smp_cbor.h"

#include <string.h>

#define SKIP_DEPTH_MAX 8u

void cbor_writer_init(cbor_writer_t *w, uint8_t *buf, size_t cap)
{
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->overflow = false;
}

static bool room(cbor_writer_t *w, size_t n)
{
  if (w->overflow || n > w->cap - w->len) {
    w->overflow = true;
    return false;
  }
  return true;
}

/* A head in its shortest form, as RFC 8949's preferred serialization asks. */
static void put_head(cbor_writer_t *w, uint8_t major, uint64_t arg)
{
  uint8_t head[9];
  size_t n;
  head[0] = (uint8_t)(major << 5);
  if (arg < 24u) {
    head[0] |= (uint8_t)arg;
    n = 1;
  } else if (arg <= 0xffu) {
    head[0] |= 24u;
    head[1] = (uint8_t)arg;
    n = 2;
  } else if (arg <= 0xffffu) {
    head[0] |= 25u;
    n = 3;
  } else if (arg <= 0xffffffffu) {
    head[0] |= 26u;
    n = 5;
  } else {
    head[0] |= 27u;
    n = 9;
  }
  for (size_t i = 1; n > 2 && i < n; i++) {
    head[i] = (uint8_t)(arg >> (8u * (n - 1 - i)));
  }
  if (room(w, n)) {
    memcpy(w->buf + w->len, head, n);
    w->len += n;
  }
}

void cbor_put_uint(cbor_writer_t *w, uint64_t v)
{
  put_head(w, CBOR_UINT, v);
}

void cbor_put_bool(cbor_writer_t *w, bool v)
{
  put_head(w, CBOR_SIMPLE, v ? CBOR_TRUE : CBOR_FALSE);
}

void cbor_put_raw(cbor_writer_t *w, const uint8_t *bytes, size_t len)
{
  if (room(w, len)) {
    memmove(w->buf + w->len, bytes, len);
    w->len += len;
  }
}

void cbor_put_text_head(cbor_writer_t *w, size_t len)
{
  put_head(w, CBOR_TEXT, len);
}

static void put_string(cbor_writer_t *w, uint8_t major, const void *bytes, size_t len)
{
  put_head(w, major, len);
  cbor_put_raw(w, bytes, len);
}

void cbor_put_text(cbor_writer_t *w, const char *text, size_t len)
{
  put_string(w, CBOR_TEXT, text, len);
}

void cbor_put_cstr(cbor_writer_t *w, const char *text)
{
  put_string(w, CBOR_TEXT, text, strlen(text));
}

void cbor_put_bytes(cbor_writer_t *w, const uint8_t *bytes, size_t len)
{
  put_string(w, CBOR_BYTES, bytes, len);
}

void cbor_put_map(cbor_writer_t *w, size_t pairs)
{
  put_head(w, CBOR_MAP, pairs);
}

void cbor_put_array(cbor_writer_t *w, size_t items)
{
  put_head(w, CBOR_ARRAY, items);
}

void cbor_reader_init(cbor_reader_t *r, const uint8_t *buf, size_t len)
{
  r->buf = buf;
  r->len = len;
  r->pos = 0;
}

bool cbor_read(cbor_reader_t *r, cbor_item_t *item)
{
  if (r->pos >= r->len) {
    return false;
  }
  uint8_t first = r->buf[r->pos++];
  uint8_t info = first & 0x1fu;
  item->major = (uint8_t)(first >> 5);
  item->indefinite = false;
  item->is_break = false;
  item->arg = 0;
  item->data = NULL;
  if (info < 24u) {
    item->arg = info;
  } else if (info <= 27u) {
    size_t n = (size_t)1 << (info - 24u);
    if (n > r->len - r->pos) {
      return false;
    }
    for (size_t i = 0; i < n; i++) {
      item->arg = item->arg << 8 | r->buf[r->pos++];
    }
  } else if (info == 31u && (item->major == CBOR_ARRAY || item->major == CBOR_MAP)) {
    item->indefinite = true;
  } else if (info == 31u && item->major == CBOR_SIMPLE) {
    item->is_break = true;
  } else {
    return false; /* reserved values, indefinite strings */
  }
  if (item->major == CBOR_BYTES || item->major == CBOR_TEXT) {
    if (item->arg > r->len - r->pos) {
      return false;
    }
    item->data = r->buf + r->pos;
    r->pos += (size_t)item->arg;
  }
  return true;
}

static bool skip_depth(cbor_reader_t *r, const cbor_item_t *item, unsigned depth)
{
  if (item->major == CBOR_TAG) {
    cbor_item_t inner;
    return depth < SKIP_DEPTH_MAX && cbor_read(r, &inner) && !inner.is_break && skip_depth(r, &inner, depth + 1);
  }
  if (item->major != CBOR_ARRAY && item->major != CBOR_MAP) {
    return !item->is_break;
  }
  if (depth >= SKIP_DEPTH_MAX) {
    return false;
  }
  uint64_t per_entry = item->major == CBOR_MAP ? 2u : 1u;
  for (uint64_t i = 0; item->indefinite || i < item->arg * per_entry; i++) {
    cbor_item_t inner;
    if (!cbor_read(r, &inner)) {
      return false;
    }
    if (inner.is_break) {
      /* between entries: i even in a map (a mask, not a 64-bit division libgcc would bring in) */
      return item->indefinite && (per_entry == 1u || (i & 1u) == 0);
    }
    if (!skip_depth(r, &inner, depth + 1)) {
      return false;
    }
  }
  return true;
}

bool cbor_skip(cbor_reader_t *r, const cbor_item_t *item)
{
  return skip_depth(r, item, 0);
}
