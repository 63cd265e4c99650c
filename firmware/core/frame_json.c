#include "frame_json.h"

#include <pb_common.h>
#include <string.h>

#include "json_out.h"
#include "json_scan.h"
#include "spot_json_gen.h"
#include "spot_limits.h"
#include "spot_time.h"

static const spot_json_body_t *body_by_tag(pb_size_t tag) {
  for (int i = 0; i < SPOT_JSON_BODY_COUNT; i++)
    if (spot_json_bodies[i].tag == tag) return &spot_json_bodies[i];
  return NULL;
}

static int64_t read_signed(const pb_field_iter_t *it, const void *p) {
  if (it->data_size == sizeof(int64_t)) return *(const int64_t *)p;
  if (it->data_size == sizeof(int32_t)) return *(const int32_t *)p;
  return *(const int8_t *)p;
}

static uint64_t read_unsigned(const pb_field_iter_t *it, const void *p) {
  if (it->data_size == sizeof(uint64_t)) return *(const uint64_t *)p;
  if (it->data_size == sizeof(uint32_t)) return *(const uint32_t *)p;
  return *(const uint8_t *)p;
}

/* Whether a field is present; *count = elements for repeated fields. */
static bool field_present(const pb_field_iter_t *it, pb_size_t *count) {
  *count = 1;
  switch (PB_HTYPE(it->type)) {
    case PB_HTYPE_OPTIONAL: return *(const bool *)it->pSize;
    case PB_HTYPE_REPEATED: *count = *(const pb_size_t *)it->pSize; return *count > 0;
    default: /* proto3 singular: absent when it holds the default */
      if (PB_LTYPE(it->type) == PB_LTYPE_STRING) return ((const char *)it->pData)[0] != '\0';
      return read_unsigned(it, it->pData) != 0;
  }
}

static void write_enum(json_out_t *o, const spot_json_field_t *jf, int64_t v) {
  if (v >= 0 && v < jf->enum_count && jf->enum_names[v] != NULL)
    json_out_string(o, jf->enum_names[v], strlen(jf->enum_names[v]));
  else json_out_int(o, v);
}

static void write_scalar(json_out_t *o, const spot_json_field_t *jf, const pb_field_iter_t *it, const void *p) {
  switch (jf->kind) {
    case SPOT_JSON_STRING: json_out_string(o, (const char *)p, strlen((const char *)p)); break;
    case SPOT_JSON_BOOL: json_out_text(o, *(const bool *)p ? "true" : "false"); break;
    case SPOT_JSON_INT: json_out_int(o, read_signed(it, p)); break;
    case SPOT_JSON_UINT: json_out_uint(o, read_unsigned(it, p)); break;
    case SPOT_JSON_DOUBLE: json_out_double(o, *(const double *)p); break;
    case SPOT_JSON_TIME: json_out_time(o, read_signed(it, p)); break;
    case SPOT_JSON_RAW: json_out_text(o, (const char *)p); break;
    default: break;
  }
}

/* The members of a JSON object text, without its braces ("" for "{}"). */
static bool object_members(const char *text, const char **inner, size_t *len) {
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n')) n--;
  size_t i = 0;
  while (i < n && (text[i] == ' ' || text[i] == '\n')) i++;
  if (n - i < 2 || text[i] != '{' || text[n - 1] != '}') return false;
  *inner = text + i + 1;
  *len = n - i - 2;
  return true;
}

static void write_object(json_out_t *o, const spot_json_message_t *m, const void *msg) {
  pb_field_iter_t it;
  bool first = true;
  json_out_raw(o, "{", 1);
  if (!pb_field_iter_begin_const(&it, m->desc, msg)) {
    json_out_raw(o, "}", 1);
    return;
  }
  for (int i = 0; i < m->field_count; i++) {
    const spot_json_field_t *jf = &m->fields[i];
    pb_size_t count;
    if (jf->kind == SPOT_JSON_ITEM_REF || !pb_field_iter_find(&it, jf->tag) || !field_present(&it, &count))
      continue;
    if (jf->kind == SPOT_JSON_EXTRA) {
      const char *inner;
      size_t n;
      if (object_members((const char *)it.pData, &inner, &n) && n > 0) {
        if (!first) json_out_raw(o, ",", 1);
        json_out_raw(o, inner, n);
        first = false;
      }
      continue;
    }
    if (!first) json_out_raw(o, ",", 1);
    first = false;
    json_out_string(o, jf->name, strlen(jf->name));
    json_out_raw(o, ":", 1);
    if (jf->kind == SPOT_JSON_ENUM) {
      write_enum(o, jf, read_signed(&it, it.pData));
    } else if (PB_HTYPE(it.type) == PB_HTYPE_REPEATED) {
      json_out_raw(o, "[", 1);
      for (pb_size_t k = 0; k < count; k++) {
        if (k > 0) json_out_raw(o, ",", 1);
        write_scalar(o, jf, &it, (const char *)it.pData + (size_t)k * it.data_size);
      }
      json_out_raw(o, "]", 1);
    } else {
      write_scalar(o, jf, &it, it.pData);
    }
  }
  json_out_raw(o, "}", 1);
}

size_t frame_json_encode(const spot_v1_Frame *f, uint8_t *buf, size_t cap) {
  const spot_json_body_t *b = body_by_tag(f->which_body);
  if (b == NULL) return 0;
  json_out_t o;
  json_out_init(&o, buf, cap);
  json_out_raw(&o, "[", 1);
  if (f->which_body == spot_v1_Frame_generic_tag) {
    const spot_v1_GenericEvent *g = &f->body.generic;
    json_out_string(&o, g->resource, strlen(g->resource));
    json_out_raw(&o, ",", 1);
    json_out_string(&o, g->action, strlen(g->action));
    json_out_raw(&o, ",", 1);
    json_out_text(&o, g->json[0] != '\0' ? g->json : "{}");
  } else {
    json_out_string(&o, b->resource, strlen(b->resource));
    json_out_raw(&o, ",", 1);
    json_out_string(&o, b->action, strlen(b->action));
    json_out_raw(&o, ",", 1);
    write_object(&o, b->message, &f->body);
  }
  json_out_raw(&o, "]\n\n", 3);
  return o.overflow ? 0 : o.len;
}

/* --- decoding ------------------------------------------------------------- */

static const spot_json_field_t *field_by_name(const spot_json_message_t *m, const char *name) {
  for (int i = 0; i < m->field_count; i++) {
    const spot_json_field_t *jf = &m->fields[i];
    if (jf->kind != SPOT_JSON_ITEM_REF && jf->kind != SPOT_JSON_EXTRA && strcmp(jf->name, name) == 0) return jf;
  }
  return NULL;
}

static bool store_signed(const pb_field_iter_t *it, int64_t v) {
  if (it->data_size == sizeof(int64_t)) *(int64_t *)it->pData = v;
  else if (v < INT32_MIN || v > INT32_MAX) return false;
  else *(int32_t *)it->pData = (int32_t)v;
  return true;
}

static bool store_unsigned(const pb_field_iter_t *it, int64_t v) {
  if (v < 0) return false;
  if (it->data_size == sizeof(uint64_t)) *(uint64_t *)it->pData = (uint64_t)v;
  else if (v > (int64_t)UINT32_MAX) return false;
  else *(uint32_t *)it->pData = (uint32_t)v;
  return true;
}

static bool store_text(const pb_field_iter_t *it, const char *text, size_t len) {
  if (len >= it->data_size) return false;
  memcpy(it->pData, text, len);
  ((char *)it->pData)[len] = '\0';
  return true;
}

/* Reads the value at s into the field; false (s unchanged) if it does not fit its type. */
static bool read_field(json_scan_t *s, const spot_json_field_t *jf, const pb_field_iter_t *it) {
  json_scan_t at = *s;
  char text[SPOT_JSON_TEXT_MAX];
  size_t len;
  int64_t iv;
  json_type_t t = json_scan_peek(&at);
  bool ok = false;
  switch (jf->kind) {
    case SPOT_JSON_STRING:
      if (t == JSON_STRING) ok = json_scan_string(&at, (char *)it->pData, it->data_size, NULL);
      else if (t == JSON_NUMBER) {
        const char *v;
        ok = json_scan_value(&at, &v, &len) && store_text(it, v, len);
      }
      break;
    case SPOT_JSON_BOOL:
      if (t == JSON_TRUE || t == JSON_FALSE) {
        *(bool *)it->pData = t == JSON_TRUE;
        ok = json_scan_value(&at, NULL, NULL);
      } else if (t == JSON_STRING && json_scan_string(&at, text, sizeof text, &len)) {
        ok = strcmp(text, "true") == 0 || strcmp(text, "false") == 0;
        *(bool *)it->pData = strcmp(text, "true") == 0;
      }
      break;
    case SPOT_JSON_INT:
    case SPOT_JSON_UINT:
      if (t == JSON_NUMBER) ok = json_scan_int(&at, &iv);
      else if (t == JSON_STRING) ok = json_scan_string(&at, text, sizeof text, &len) && json_text_int(text, len, &iv);
      if (ok) ok = jf->kind == SPOT_JSON_INT ? store_signed(it, iv) : store_unsigned(it, iv);
      break;
    case SPOT_JSON_DOUBLE:
      if (t == JSON_NUMBER) ok = json_scan_double(&at, (double *)it->pData);
      else if (t == JSON_STRING)
        ok = json_scan_string(&at, text, sizeof text, &len) && json_text_double(text, len, (double *)it->pData);
      break;
    case SPOT_JSON_TIME:
      if (t == JSON_STRING) ok = json_scan_string(&at, text, sizeof text, &len) && spot_time_parse_iso(text, len, &iv);
      else if (t == JSON_NUMBER) ok = json_scan_int(&at, &iv);
      if (ok) ok = store_signed(it, iv);
      break;
    case SPOT_JSON_ENUM:
      if (t == JSON_STRING && json_scan_string(&at, text, sizeof text, &len)) {
        for (int v = 0; v < jf->enum_count; v++) {
          if (jf->enum_names[v] != NULL && strcmp(jf->enum_names[v], text) == 0) {
            ok = store_signed(it, v);
            break;
          }
        }
      }
      break;
    case SPOT_JSON_RAW:
      if (t == JSON_OBJECT) {
        const char *v;
        ok = json_scan_value(&at, &v, &len) &&
             json_compact_copy((char *)it->pData, it->data_size, v, len) != (size_t)-1;
      }
      break;
    default: break;
  }
  if (ok) *s = at;
  return ok;
}

/* Reads a JSON array of scalars into a repeated field. */
static bool read_repeated(json_scan_t *s, const spot_json_field_t *jf, pb_field_iter_t *it) {
  json_scan_t at = *s;
  pb_size_t *count = (pb_size_t *)it->pSize;
  void *base = it->pData;
  *count = 0;
  /* An empty list has no PB form: it stays in extra_json (docs/protocol.md). */
  if (!json_scan_take(&at, '[') || json_scan_take(&at, ']')) return false;
  {
    do {
      if (*count >= it->array_size) return false;
      it->pData = (char *)base + (size_t)*count * it->data_size;
      bool ok = read_field(&at, jf, it);
      it->pData = base;
      if (!ok) return false;
      (*count)++;
    } while (json_scan_take(&at, ','));
    if (!json_scan_take(&at, ']')) return false;
  }
  *s = at;
  return true;
}

/* Appends "key":value to extra_json (an object text) of the message. */
static bool append_extra(pb_field_iter_t *extra, const char *key_text, size_t key_len, const char *value,
                         size_t value_len) {
  if (extra == NULL) return false;
  char *text = (char *)extra->pData;
  bool *has = (bool *)extra->pSize;
  size_t n = *has ? strlen(text) : 0;
  if (n + 3 + key_len >= extra->data_size) return false;
  if (n == 0) {
    text[n++] = '{';
  } else {
    n--; /* overwrite the closing brace */
    text[n++] = ',';
  }
  memcpy(text + n, key_text, key_len);
  n += key_len;
  text[n++] = ':';
  size_t copied = json_compact_copy(text + n, extra->data_size - n, value, value_len);
  if (copied == (size_t)-1 || n + copied + 1 >= extra->data_size) return false; /* the decode fails whole */
  n += copied;
  text[n++] = '}';
  text[n] = '\0';
  *has = true;
  return true;
}

static void mark_present(pb_field_iter_t *it) {
  if (PB_HTYPE(it->type) == PB_HTYPE_OPTIONAL) *(bool *)it->pSize = true;
}

static bool read_object(json_scan_t *s, const spot_json_message_t *m, void *msg, const char **why) {
  pb_field_iter_t it, extra_it;
  pb_field_iter_t *extra = NULL;
  if (!pb_field_iter_begin(&it, m->desc, msg)) {
    *why = "message has no fields";
    return false;
  }
  if (pb_field_iter_begin(&extra_it, m->desc, msg) && pb_field_iter_find(&extra_it, 100)) extra = &extra_it;
  if (!json_scan_take(s, '{')) {
    *why = "third element is not an object";
    return false;
  }
  if (json_scan_take(s, '}')) return true;
  do {
    char key[SPOT_JSON_TEXT_MAX];
    json_scan_ws(s);
    const char *key_text = s->p;
    if (!json_scan_string(s, key, sizeof key, NULL)) {
      *why = "bad object key";
      return false;
    }
    size_t key_len = (size_t)(s->p - key_text);
    if (!json_scan_take(s, ':')) {
      *why = "missing ':' after a key";
      return false;
    }
    const spot_json_field_t *jf = field_by_name(m, key);
    bool stored = false;
    if (jf != NULL && pb_field_iter_find(&it, jf->tag)) {
      stored = PB_HTYPE(it.type) == PB_HTYPE_REPEATED ? read_repeated(s, jf, &it) : read_field(s, jf, &it);
      if (stored) mark_present(&it);
    }
    if (!stored) {
      const char *value;
      size_t value_len;
      if (!json_scan_value(s, &value, &value_len)) {
        *why = "bad JSON value";
        return false;
      }
      if (!append_extra(extra, key_text, key_len, value, value_len)) {
        *why = "unknown keys do not fit in extra_json";
        return false;
      }
    }
  } while (json_scan_take(s, ','));
  if (!json_scan_take(s, '}')) {
    *why = "object not closed";
    return false;
  }
  return true;
}

bool frame_json_decode(const char *text, size_t len, spot_v1_Frame *f, const char **why) {
  json_scan_t s;
  char resource[32], action[32];
  const char *dummy;
  if (why == NULL) why = &dummy;
  memset(f, 0, sizeof *f);
  json_scan_init(&s, text, len);
  if (!json_scan_take(&s, '[') || !json_scan_string(&s, resource, sizeof resource, NULL) || !json_scan_take(&s, ',') ||
      !json_scan_string(&s, action, sizeof action, NULL) || !json_scan_take(&s, ',') ||
      json_scan_peek(&s) != JSON_OBJECT) {
    *why = "not a [string,string,object] triple";
    return false;
  }
  const spot_json_body_t *b = NULL;
  for (int i = 0; i < SPOT_JSON_BODY_COUNT; i++) {
    const spot_json_body_t *c = &spot_json_bodies[i];
    if (strcmp(c->resource, resource) == 0 && strcmp(c->action, action) == 0) b = c;
  }
  if (b == NULL) {
    spot_v1_GenericEvent *g = &f->body.generic;
    const char *obj;
    size_t obj_len;
    f->which_body = spot_v1_Frame_generic_tag;
    strcpy(g->resource, resource);
    strcpy(g->action, action);
    if (!json_scan_value(&s, &obj, &obj_len) || obj_len >= sizeof g->json) {
      *why = "event object too large or malformed";
      return false;
    }
    if (json_compact_copy(g->json, sizeof g->json, obj, obj_len) == (size_t)-1) {
      *why = "event object too large";
      return false;
    }
  } else {
    f->which_body = b->tag;
    if (!read_object(&s, b->message, &f->body, why)) return false;
  }
  if (!json_scan_take(&s, ']')) {
    *why = "triple not closed";
    return false;
  }
  json_scan_ws(&s);
  if (s.p != s.end) {
    *why = "bytes after the event";
    return false;
  }
  return true;
}
