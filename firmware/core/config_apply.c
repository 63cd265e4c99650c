#include "config_apply.h"

#include <pb_common.h>
#include <string.h>

#include "config_text.h"
#include "json_scan.h"
#include "spot_limits.h"
#include "text.h"

_Static_assert(SPOT_CONFIG_KEY_COUNT <= 64, "changed-keys masks are 64 bits");

static char *field_text(spot_config_t *c, const spot_config_key_t *k) { return (char *)c + k->offset; }

void config_to_pb(const spot_config_t *c, uint64_t mask, spot_v1_Config *m) {
  pb_field_iter_t it;
  if (!pb_field_iter_begin(&it, spot_v1_Config_fields, m)) return;
  for (int i = 0; i < SPOT_CONFIG_KEY_COUNT; i++) {
    const spot_config_key_t *k = &spot_config_keys[i];
    if (!(mask >> i & 1) || !pb_field_iter_find(&it, k->proto_field)) continue;
    const char *src = (const char *)c + k->offset;
    switch (k->type) {
      case SPOT_CONFIG_BOOL: *(bool *)it.pData = *(const bool *)src; break;
      case SPOT_CONFIG_INT: *(int32_t *)it.pData = *(const int32_t *)src; break; /* uint32 fields hold >= 0 */
      case SPOT_CONFIG_NUMBER: *(double *)it.pData = *(const double *)src; break;
      case SPOT_CONFIG_ENUM: text_copy((char *)it.pData, it.data_size, k->values[*(const uint8_t *)src]); break;
      default: text_copy((char *)it.pData, it.data_size, src); break;
    }
    *(bool *)it.pSize = true;
  }
}

bool config_is_ipv4(const char *t) {
  for (int part = 0; part < 4; part++) {
    int digits = 0, value = 0;
    while (*t >= '0' && *t <= '9' && digits < 4) {
      value = value * 10 + (*t++ - '0');
      digits++;
    }
    if (digits == 0 || digits > 3 || value > 255) return false;
    if (part < 3 && *t++ != '.') return false;
  }
  return *t == '\0';
}

/* Validates the field's value for key k; on success stores it in c, returns whether it changed. */
static bool apply_key(spot_config_t *c, const spot_config_key_t *k, const pb_field_iter_t *it, text_t *why,
                      bool *changed) {
  char *dst = field_text(c, k);
  *changed = false;
  text_str(why, "config update: ");
  text_str(why, k->name);
  switch (k->type) {
    case SPOT_CONFIG_BOOL: {
      bool v = *(const bool *)it->pData;
      *changed = *(bool *)dst != v;
      *(bool *)dst = v;
      return true;
    }
    case SPOT_CONFIG_INT: {
      int64_t v = PB_LTYPE(it->type) == PB_LTYPE_UVARINT ? (int64_t) * (const uint32_t *)it->pData
                                                         : (int64_t) * (const int32_t *)it->pData;
      if (v < k->min || v > k->max) {
        text_str(why, "=");
        text_int(why, v);
        text_str(why, " outside ");
        text_int(why, (int64_t)k->min);
        text_str(why, "..");
        text_int(why, (int64_t)k->max);
        text_str(why, ", rejected");
        return false;
      }
      *changed = *(int32_t *)dst != (int32_t)v;
      *(int32_t *)dst = (int32_t)v;
      return true;
    }
    case SPOT_CONFIG_NUMBER: {
      double v = *(const double *)it->pData;
      if (!(v >= k->min && v <= k->max)) {
        text_str(why, " outside ");
        text_double(why, k->min);
        text_str(why, "..");
        text_double(why, k->max);
        text_str(why, ", rejected");
        return false;
      }
      *changed = *(double *)dst != v;
      *(double *)dst = v;
      return true;
    }
    case SPOT_CONFIG_ENUM: {
      const char *v = (const char *)it->pData;
      for (uint8_t i = 0; i < k->value_count; i++) {
        if (strcmp(k->values[i], v) == 0) {
          *changed = *(uint8_t *)dst != i;
          *(uint8_t *)dst = i;
          return true;
        }
      }
      text_str(why, "=\"");
      text_strn(why, v, 24);
      text_str(why, "\" is not one of its values, rejected");
      return false;
    }
    default: {
      const char *v = (const char *)it->pData;
      if (strlen(v) >= k->size) {
        text_str(why, " longer than ");
        text_int(why, k->size - 1);
        text_str(why, " characters, rejected");
        return false;
      }
      if (k->type == SPOT_CONFIG_STRING && !config_text_ok(v, (size_t)k->min, k->visible_ascii, why)) return false;
      if (k->type == SPOT_CONFIG_IPV4 && !config_is_ipv4(v)) {
        text_str(why, "=\"");
        text_strn(why, v, 24);
        text_str(why, "\" is not an IPv4 address, rejected");
        return false;
      }
      if (k->type == SPOT_CONFIG_OBJECT && v[0] != '{') {
        text_str(why, " is not a JSON object, rejected");
        return false;
      }
      *changed = strcmp(dst, v) != 0;
      text_copy(dst, k->size, v);
      return true;
    }
  }
}

static const char *type_name(spot_config_type_t t) {
  static const char *const names[] = {"bool", "int", "number", "enum", "string", "ipv4", "object"};
  return names[t];
}

/* Keys in extra_json either are unknown or held a value of the wrong type. */
static void report_extra(const char *extra, config_reject_fn reject, void *ctx) {
  json_scan_t s;
  char key[SPOT_JSON_TEXT_MAX];
  char buf[SPOT_LOG_TEXT_MAX];
  text_t why;
  json_scan_init(&s, extra, strlen(extra));
  if (!json_scan_take(&s, '{') || json_scan_take(&s, '}')) return;
  do {
    if (!json_scan_string(&s, key, sizeof key, NULL) || !json_scan_take(&s, ':') || !json_scan_value(&s, NULL, NULL))
      return;
    int i = spot_config_key_index(key, strlen(key));
    if (i < 0) {
      text_init(&why, buf, sizeof buf);
      text_str(&why, "config update: unknown key \"");
      text_strn(&why, key, 40);
      text_str(&why, "\" ignored");
      if (reject) reject(ctx, true, buf);
    } else {
      text_init(&why, buf, sizeof buf);
      text_str(&why, "config update: ");
      text_strn(&why, key, 40);
      text_str(&why, " needs a value of type ");
      text_str(&why, type_name(spot_config_keys[i].type));
      text_str(&why, ", rejected");
      if (reject) reject(ctx, false, buf);
    }
  } while (json_scan_take(&s, ','));
}

uint64_t config_apply_pb(spot_config_t *c, const spot_v1_Config *m, config_reject_fn reject, void *ctx) {
  pb_field_iter_t it;
  uint64_t changed_mask = 0;
  char buf[SPOT_LOG_TEXT_MAX];
  text_t why;
  if (!pb_field_iter_begin_const(&it, spot_v1_Config_fields, m)) return 0;
  for (int i = 0; i < SPOT_CONFIG_KEY_COUNT; i++) {
    const spot_config_key_t *k = &spot_config_keys[i];
    bool changed;
    if (!pb_field_iter_find(&it, k->proto_field) || !*(const bool *)it.pSize) continue;
    text_init(&why, buf, sizeof buf);
    if (!apply_key(c, k, &it, &why, &changed)) {
      if (reject) reject(ctx, false, buf);
    } else if (changed) {
      changed_mask |= (uint64_t)1 << i;
    }
  }
  if (m->has_extra_json) report_extra(m->extra_json, reject, ctx);
  return changed_mask;
}

static bool key_valid(spot_config_t *c, const spot_config_key_t *k) {
  char *field = field_text(c, k);
  switch (k->type) {
    case SPOT_CONFIG_BOOL: return *(uint8_t *)field <= 1;
    case SPOT_CONFIG_INT: return *(int32_t *)field >= k->min && *(int32_t *)field <= k->max;
    case SPOT_CONFIG_NUMBER: return *(double *)field >= k->min && *(double *)field <= k->max;
    case SPOT_CONFIG_ENUM: return *(uint8_t *)field < k->value_count;
    default:
      if (memchr(field, '\0', k->size) == NULL) return false;
      if (k->type == SPOT_CONFIG_STRING) {
        text_t unsaid; /* the reason is not needed: the default is said instead */
        text_init(&unsaid, NULL, 0);
        return config_text_ok(field, (size_t)k->min, k->visible_ascii, &unsaid);
      }
      if (k->type == SPOT_CONFIG_IPV4) return config_is_ipv4(field);
      if (k->type == SPOT_CONFIG_OBJECT) return field[0] == '{';
      return true;
  }
}

uint64_t config_sanitize(spot_config_t *c, spot_config_t *defaults) {
  uint64_t fixed = 0;
  spot_config_defaults(defaults);
  for (int i = 0; i < SPOT_CONFIG_KEY_COUNT; i++) {
    const spot_config_key_t *k = &spot_config_keys[i];
    if (key_valid(c, k)) continue;
    memcpy(field_text(c, k), (const char *)defaults + k->offset, k->size);
    fixed |= (uint64_t)1 << i;
  }
  return fixed;
}
