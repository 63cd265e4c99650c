/* What commands do: config update, factory reset, firmware update, counters, brain senses. */
#include <string.h>

#include "config_apply.h"
#include "config_text.h"
#include "spot_internal.h"
#include "text.h"

/* --- commands -------------------------------------------------------------- */

static void config_rejected(void *ctx, bool unknown_key, const char *reason) {
  spot_t *s = ctx;
  spot_queue_log(s, SPOT_LOG_WARN, unknown_key ? LOG_CODE_CONFIG_UNKNOWN_KEY : LOG_CODE_CONFIG_BAD_VALUE, reason);
}

static void config_changed(spot_t *s, uint64_t changed) {
  if (changed == 0) return;
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_CONFIG_UPDATE;
  ev.time = s->now;
  ev.u.config.keys = changed;
  spot_queue_event(s, &ev);
  spot_save(s);
  if (s->platform.config_changed) s->platform.config_changed(s->platform.ctx, &s->record.state.config);
}

/* Keys whose values differ between two configs. */
static uint64_t config_diff(const spot_config_t *a, const spot_config_t *b) {
  uint64_t mask = 0;
  for (int i = 0; i < SPOT_CONFIG_KEY_COUNT; i++) {
    const spot_config_key_t *k = &spot_config_keys[i];
    if (memcmp((const char *)a + k->offset, (const char *)b + k->offset, k->size) != 0) mask |= (uint64_t)1 << i;
  }
  return mask;
}

static void apply_config_update(spot_t *s, const spot_v1_Config *m) {
  if (m->has_reset && m->reset) {
    spot_config_t before = s->record.state.config;
    spot_config_defaults(&s->record.state.config);
    spot_console(s, SPOT_LOG_INFO, "config reset to factory defaults");
    config_changed(s, config_diff(&before, &s->record.state.config));
    return;
  }
  config_changed(s, config_apply_pb(&s->record.state.config, m, config_rejected, s));
}

static void apply_firmware_update(spot_t *s, const spot_v1_FirmwareUpdate *m) {
  char text[SPOT_LOG_TEXT_MAX];
  text_t t;
  if (m->has_reset_counters && m->reset_counters) {
    s->record.state.boot_count = 0;
    s->record.state.watchdog_count = 0;
    s->record.state.presence_create_count = 0;
    spot_save(s);
    spot_queue_log(s, SPOT_LOG_INFO, LOG_CODE_FIRMWARE_UPDATE, "counters reset");
  }
  if (m->has_url) {
    /* The gateway's rule for both (protocol/commands.ts FIRMWARE_UPDATE_TEXT): visible ASCII. */
    text_init(&t, text, sizeof text);
    text_str(&t, "firmware update: url");
    bool ok = config_text_ok(m->url, 1, true, &t);
    if (ok && m->has_version) {
      text_init(&t, text, sizeof text);
      text_str(&t, "firmware update: version");
      ok = config_text_ok(m->version, 1, true, &t);
    }
    if (!ok) {
      spot_queue_log(s, SPOT_LOG_WARN, LOG_CODE_FIRMWARE_UPDATE, text);
      return;
    }
    spot_persist_t *st = &s->record.state;
    text_copy(st->firmware_url, sizeof st->firmware_url, m->url);
    text_copy(st->firmware_version, sizeof st->firmware_version, m->has_version ? m->version : "");
    spot_save(s);
    text_init(&t, text, sizeof text);
    text_str(&t, "firmware update to \"");
    text_strn(&t, s->record.state.firmware_version, 24);
    text_str(&t, "\" requested from ");
    text_strn(&t, s->record.state.firmware_url, 60);
    spot_queue_log(s, SPOT_LOG_INFO, LOG_CODE_FIRMWARE_UPDATE, text);
    if (s->platform.firmware_update)
      s->platform.firmware_update(s->platform.ctx, s->record.state.firmware_url, s->record.state.firmware_version);
  }
}

static void apply_brain_sense(spot_t *s, const spot_v1_BrainSense *m) {
  const bool has[5] = {m->has_bs1, m->has_bs2, m->has_bs3, m->has_bs4, m->has_bs5};
  const int32_t val[5] = {m->bs1, m->bs2, m->bs3, m->bs4, m->bs5};
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_BRAIN_SENSE_UPDATE;
  ev.time = s->now;
  for (int i = 0; i < 5; i++) {
    if (has[i]) s->record.state.brain_sense[i] = val[i];
    ev.u.brain_sense.bs[i] = s->record.state.brain_sense[i];
    if (has[i]) ev.u.brain_sense.mask |= (uint8_t)(1u << i);
  }
  if (ev.u.brain_sense.mask == 0) return;
  spot_save(s);
  spot_queue_event(s, &ev); /* confirms the values upstream */
}

void spot_apply_command(void *ctx, spot_v1_Frame *f) {
  spot_t *s = ctx;
  s->commands_applied++;
  char text[SPOT_LOG_TEXT_MAX];
  text_t t;
  text_init(&t, text, sizeof text);
  switch (f->which_body) {
    case spot_v1_Frame_config_update_tag: apply_config_update(s, &f->body.config_update); break;
    case spot_v1_Frame_firmware_update_tag: apply_firmware_update(s, &f->body.firmware_update); break;
    case spot_v1_Frame_brain_sense_update_tag: apply_brain_sense(s, &f->body.brain_sense_update); break;
    case spot_v1_Frame_generic_tag:
      text_str(&t, "command ");
      text_str(&t, f->body.generic.resource);
      text_str(&t, " ");
      text_str(&t, f->body.generic.action);
      text_str(&t, " not supported, ignored");
      spot_queue_log(s, SPOT_LOG_WARN, LOG_CODE_COMMAND_UNSUPPORTED, text);
      break;
    default:
      text_str(&t, "command with frame body ");
      text_int(&t, f->which_body);
      text_str(&t, " not supported, ignored");
      spot_queue_log(s, SPOT_LOG_WARN, LOG_CODE_COMMAND_UNSUPPORTED, text);
      break;
  }
}

void spot_command_error(void *ctx, const char *why) {
  spot_t *s = ctx;
  char text[SPOT_LOG_TEXT_MAX];
  text_t t;
  text_init(&t, text, sizeof text);
  text_str(&t, "command malformed: ");
  text_str(&t, why);
  spot_queue_log(s, SPOT_LOG_WARN, LOG_CODE_COMMAND_MALFORMED, text);
}

void spot_command_input(spot_t *s, const uint8_t *bytes, size_t len) { command_reader_input(&s->commands, bytes, len); }

void spot_command_end(spot_t *s) { command_reader_end(&s->commands); }

uint32_t spot_commands_applied(const spot_t *s) { return s->commands_applied; }

void spot_stream_command_input(spot_t *s, const uint8_t *bytes, size_t len) {
#if SPOT_STREAM_COMMAND_READER
  command_reader_input(&s->stream_commands, bytes, len);
#else
  command_reader_input(&s->commands, bytes, len);
#endif
}
