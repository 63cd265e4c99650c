#include "spot.h"

#include <string.h>

#include "command_reader.h"
#include "config_apply.h"
#include "event.h"
#include "frame_json.h"
#include "frame_pb.h"
#include "presence.h"
#include "ring.h"
#include "sim_reader.h"
#include "text.h"

/* An encoded event being handed out in pieces. */
typedef struct outbox {
  uint8_t buf[SPOT_EVENT_BYTES];
  size_t len;
  size_t pos;
  frame_pb_stream_t pb;
} outbox_t;

typedef enum stream_phase { STREAM_SPOT_CREATE, STREAM_CONFIG_CREATE, STREAM_LIVE } stream_phase_t;

struct spot {
  spot_platform_t platform;
  spot_persist_t state;
  uint32_t serial;
  char version[SPOT_VERSION_MAX];
  spot_encoding_t encoding;
  bool http;
  int64_t now;
  int64_t time_started;
  uint32_t boot; /* numbering boot: the boot count of this run */
  uint64_t next_seq;
  presence_engine_t presence;
  sim_reader_t sim;
  ring_t ring;
  bool post_open;
  uint64_t post_next; /* seq of the next event to encode into the post */
  outbox_t post;
  bool stream_open;
  uint8_t stream_phase;
  uint64_t stream_next;
  int64_t stream_last_alive;
  outbox_t stream;
  command_reader_t commands;
#if SPOT_STREAM_COMMAND_READER
  command_reader_t stream_commands;
#endif
  spot_v1_Frame scratch; /* one Frame for encoding and decoding, never both at once */
  char error[128];
};

static spot_t the_spot;

spot_t *spot_instance(void) { return &the_spot; }

static void copy_text(char *dst, size_t size, const char *src) {
  size_t n = strlen(src);
  if (n >= size) n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static void save(spot_t *s) {
  if (s->platform.save_state && !s->platform.save_state(s->platform.ctx, &s->state))
    copy_text(s->error, sizeof s->error, "state not saved: flash write failed");
}

static void console(spot_t *s, spot_log_level_t level, const char *text) {
  if (s->platform.log) s->platform.log(s->platform.ctx, level, text);
}

/* Numbers ev and keeps it until acknowledged (HTTP) or streamed. */
static void queue_event(spot_t *s, spot_event_t *ev) {
  if (!s->http && !s->stream_open) return; /* nobody to send it to */
  ev->boot = s->boot;
  ev->seq = s->next_seq++;
  ring_push(&s->ring, ev);
}

static void queue_log(spot_t *s, spot_log_level_t level, uint16_t code, const char *text) {
  spot_event_t ev;
  event_log(&ev, s->now, (uint8_t)level, code, text);
  console(s, level, text);
  queue_event(s, &ev);
}

static void on_presence_event(void *ctx, const spot_event_t *ev) {
  spot_t *s = ctx;
  spot_event_t copy = *ev;
  if (ev->kind == EVENT_PRESENCE_CREATE) s->state.presence_create_count++;
  queue_event(s, &copy);
}

static void on_sim_hit(void *ctx, const presence_hit_t *hit) {
  spot_t *s = ctx;
  presence_hit(&s->presence, &s->state.config, hit);
}

static void apply_command(void *ctx, spot_v1_Frame *f);
static void command_error(void *ctx, const char *why);

bool spot_init(spot_t *s, const spot_platform_t *platform, const spot_init_t *init) {
  memset(s, 0, sizeof *s);
  if (platform) s->platform = *platform;
  const spot_persist_t *p = init->persisted;
  if (p != NULL && p->magic == SPOT_PERSIST_MAGIC && p->version == SPOT_PERSIST_VERSION) {
    s->state = *p;
  } else {
    s->state.magic = SPOT_PERSIST_MAGIC;
    s->state.version = SPOT_PERSIST_VERSION;
    spot_config_defaults(&s->state.config);
  }
  s->state.boot_count++;
  if (init->watchdog_reset) s->state.watchdog_count++;
  save(s);
  s->serial = init->serial;
  copy_text(s->version, sizeof s->version, init->version ? init->version : "");
  s->encoding = init->encoding;
  s->http = init->http;
  s->now = (int64_t)init->now_ms;
  s->time_started = s->now;
  s->boot = s->state.boot_count;
  s->next_seq = 1;
  ring_init(&s->ring);
  presence_init(&s->presence, on_presence_event, s);
  command_reader_init(&s->commands, s->encoding == SPOT_ENCODING_PB, &s->scratch, apply_command, command_error, s);
#if SPOT_STREAM_COMMAND_READER
  command_reader_init(&s->stream_commands, s->encoding == SPOT_ENCODING_PB, &s->scratch, apply_command, command_error,
                      s);
#endif
  bool ok = true;
  const char *text = init->scenario ? init->scenario : sim_default_scenario;
  size_t len = init->scenario ? init->scenario_len : strlen(sim_default_scenario);
  if (!sim_parse(&s->sim, text, len)) {
    copy_text(s->error, sizeof s->error, s->sim.error);
    sim_parse(&s->sim, "", 0);
    ok = false;
  }
  sim_start(&s->sim, s->now);
  return ok;
}

void spot_tick(spot_t *s, uint64_t now_ms) {
  int64_t now = (int64_t)now_ms;
  if (now < s->now) now = s->now; /* a clock step back must not replay the scenario */
  sim_advance(&s->sim, now, on_sim_hit, s);
  s->now = now;
  presence_tick(&s->presence, &s->state.config, now);
}

static void fill_spot_create(spot_t *s, spot_event_t *ev) {
  memset(ev, 0, sizeof *ev);
  ev->kind = EVENT_SPOT_CREATE;
  ev->time = s->now;
  ev->u.spot.boot_count = s->state.boot_count;
  ev->u.spot.watchdog_count = s->state.watchdog_count;
  ev->u.spot.presence_create_count = s->state.presence_create_count;
  ev->u.spot.time_started = s->time_started;
}

void spot_connected(spot_t *s) {
  spot_event_t ev;
  fill_spot_create(s, &ev);
  queue_event(s, &ev);
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_CONFIG_CREATE;
  ev.time = s->now;
  queue_event(s, &ev);
}

/* Encodes ev into the outbox; an event too large is replaced by a log event saying so. */
static void encode(spot_t *s, outbox_t *out, const spot_event_t *ev, bool numbered) {
  event_context_t ctx = {s->serial, s->version, &s->state.config};
  event_to_frame(ev, &ctx, numbered, &s->scratch);
  out->pos = 0;
  out->len = s->encoding == SPOT_ENCODING_PB ? frame_pb_encode(&out->pb, &s->scratch, out->buf, sizeof out->buf)
                                             : frame_json_encode(&s->scratch, out->buf, sizeof out->buf);
  if (out->len == 0) {
    spot_event_t log;
    event_log(&log, ev->time, SPOT_LOG_ERROR, LOG_CODE_RING_OVERFLOW,
              "event over " SPOT_STR(SPOT_EVENT_BYTES) " bytes, not sent");
    log.boot = ev->boot;
    log.seq = ev->seq; /* keeps the post's numbering consecutive */
    event_to_frame(&log, &ctx, numbered, &s->scratch);
    out->len = s->encoding == SPOT_ENCODING_PB ? frame_pb_encode(&out->pb, &s->scratch, out->buf, sizeof out->buf)
                                               : frame_json_encode(&s->scratch, out->buf, sizeof out->buf);
  }
}

static size_t drain(outbox_t *out, uint8_t *buf, size_t cap) {
  size_t n = out->len - out->pos;
  if (n > cap) n = cap;
  memcpy(buf, out->buf + out->pos, n);
  out->pos += n;
  return n;
}

/* --- HTTP posts ----------------------------------------------------------- */

bool spot_post_pending(const spot_t *s) { return s->ring.count > 0 || s->ring.dropped > 0; }

void spot_post_begin(spot_t *s, spot_post_info_t *info) {
  uint32_t dropped = ring_take_dropped(&s->ring);
  if (dropped > 0) {
    char text[SPOT_LOG_TEXT_MAX];
    text_t t;
    text_init(&t, text, sizeof text);
    text_str(&t, "retransmit ring full (" SPOT_STR(SPOT_RING_EVENTS) " events): ");
    text_int(&t, dropped);
    text_str(&t, " oldest events dropped");
    queue_log(s, SPOT_LOG_WARN, LOG_CODE_RING_OVERFLOW, text);
  }
  s->post_open = true;
  s->post_next = s->ring.count > 0 ? s->ring.first_seq : s->next_seq;
  s->post.len = s->post.pos = 0;
  frame_pb_stream_reset(&s->post.pb);
  info->boot = s->boot;
  info->first_seq = s->post_next;
}

size_t spot_post_read(spot_t *s, uint8_t *buf, size_t cap) {
  size_t total = 0;
  while (s->post_open && total < cap) {
    if (s->post.pos == s->post.len) {
      const spot_event_t *ev = ring_get(&s->ring, s->post_next);
      if (ev == NULL) break;
      encode(s, &s->post, ev, true);
      s->post_next++;
    }
    total += drain(&s->post, buf + total, cap - total);
  }
  return total;
}

bool spot_post_at_event_boundary(const spot_t *s) { return s->post.pos == s->post.len; }

void spot_post_ack(spot_t *s) {
  if (!s->post_open) return;
  /* An event cut off in the middle was not received whole: it goes again. */
  uint64_t upto = s->post.pos == s->post.len ? s->post_next : s->post_next - 1;
  ring_release(&s->ring, upto);
  s->post_open = false;
  s->post.len = s->post.pos = 0;
}

void spot_post_fail(spot_t *s) {
  s->post_open = false;
  s->post.len = s->post.pos = 0;
}

/* --- stream ---------------------------------------------------------------- */

void spot_stream_open(spot_t *s) {
  s->stream_open = true;
  s->stream_phase = STREAM_SPOT_CREATE;
  s->stream_next = ring_end_seq(&s->ring);
  s->stream_last_alive = s->now;
  s->stream.len = s->stream.pos = 0;
  frame_pb_stream_reset(&s->stream.pb);
#if SPOT_STREAM_COMMAND_READER
  command_reader_end(&s->stream_commands);
#endif
}

void spot_stream_close(spot_t *s) {
  s->stream_open = false;
  if (!s->http) ring_release(&s->ring, ring_end_seq(&s->ring));
}

/* Picks the stream's next event: introduction, alive signal, or the next live one. */
static bool stream_next_event(spot_t *s) {
  spot_event_t ev;
  if (s->stream_phase == STREAM_SPOT_CREATE) {
    fill_spot_create(s, &ev);
    s->stream_phase = STREAM_CONFIG_CREATE;
    encode(s, &s->stream, &ev, false);
    return true;
  }
  if (s->stream_phase == STREAM_CONFIG_CREATE) {
    memset(&ev, 0, sizeof ev);
    ev.kind = EVENT_CONFIG_CREATE;
    ev.time = s->now;
    s->stream_phase = STREAM_LIVE;
    encode(s, &s->stream, &ev, false);
    return true;
  }
  if (s->now - s->stream_last_alive >= (int64_t)s->state.config.alive_ds * 100) {
    memset(&ev, 0, sizeof ev);
    ev.kind = EVENT_SPOT_ALIVE;
    ev.time = s->now;
    s->stream_last_alive = s->now;
    encode(s, &s->stream, &ev, false);
    return true;
  }
  if (s->stream_next < s->ring.first_seq && s->ring.count > 0) {
    /* The stream is lossy: a reader slower than the events skips, and is told so. */
    char text[SPOT_LOG_TEXT_MAX];
    text_t t;
    text_init(&t, text, sizeof text);
    text_str(&t, "stream fell behind: ");
    text_int(&t, (int64_t)(s->ring.first_seq - s->stream_next));
    text_str(&t, " events skipped");
    event_log(&ev, s->now, SPOT_LOG_WARN, LOG_CODE_RING_OVERFLOW, text);
    s->stream_next = s->ring.first_seq;
    encode(s, &s->stream, &ev, false);
    return true;
  }
  const spot_event_t *live = ring_get(&s->ring, s->stream_next);
  if (live == NULL) return false;
  encode(s, &s->stream, live, true);
  s->stream_next++;
  if (!s->http) ring_release(&s->ring, s->stream_next);
  return true;
}

size_t spot_stream_read(spot_t *s, uint8_t *buf, size_t cap) {
  size_t total = 0;
  while (s->stream_open && total < cap) {
    if (s->stream.pos == s->stream.len && !stream_next_event(s)) break;
    total += drain(&s->stream, buf + total, cap - total);
  }
  return total;
}

/* --- commands -------------------------------------------------------------- */

static void config_rejected(void *ctx, bool unknown_key, const char *reason) {
  spot_t *s = ctx;
  queue_log(s, SPOT_LOG_WARN, unknown_key ? LOG_CODE_CONFIG_UNKNOWN_KEY : LOG_CODE_CONFIG_BAD_VALUE, reason);
}

static void config_changed(spot_t *s, uint64_t changed) {
  if (changed == 0) return;
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_CONFIG_UPDATE;
  ev.time = s->now;
  ev.u.config.keys = changed;
  queue_event(s, &ev);
  save(s);
  if (s->platform.config_changed) s->platform.config_changed(s->platform.ctx, &s->state.config);
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
    spot_config_t before = s->state.config;
    spot_config_defaults(&s->state.config);
    console(s, SPOT_LOG_INFO, "config reset to factory defaults");
    config_changed(s, config_diff(&before, &s->state.config));
    return;
  }
  config_changed(s, config_apply_pb(&s->state.config, m, config_rejected, s));
}

static void apply_firmware_update(spot_t *s, const spot_v1_FirmwareUpdate *m) {
  char text[SPOT_LOG_TEXT_MAX];
  text_t t;
  if (m->has_reset_counters && m->reset_counters) {
    s->state.boot_count = 0;
    s->state.watchdog_count = 0;
    s->state.presence_create_count = 0;
    save(s);
    queue_log(s, SPOT_LOG_INFO, LOG_CODE_FIRMWARE_UPDATE, "counters reset");
  }
  if (m->has_url) {
    copy_text(s->state.firmware_url, sizeof s->state.firmware_url, m->url);
    copy_text(s->state.firmware_version, sizeof s->state.firmware_version, m->has_version ? m->version : "");
    save(s);
    text_init(&t, text, sizeof text);
    text_str(&t, "firmware update to \"");
    text_strn(&t, s->state.firmware_version, 24);
    text_str(&t, "\" requested from ");
    text_strn(&t, s->state.firmware_url, 60);
    queue_log(s, SPOT_LOG_INFO, LOG_CODE_FIRMWARE_UPDATE, text);
    if (s->platform.firmware_update)
      s->platform.firmware_update(s->platform.ctx, s->state.firmware_url, s->state.firmware_version);
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
    if (has[i]) s->state.brain_sense[i] = val[i];
    ev.u.brain_sense.bs[i] = s->state.brain_sense[i];
    if (has[i]) ev.u.brain_sense.mask |= (uint8_t)(1u << i);
  }
  if (ev.u.brain_sense.mask == 0) return;
  save(s);
  queue_event(s, &ev); /* confirms the values upstream */
}

static void apply_command(void *ctx, spot_v1_Frame *f) {
  spot_t *s = ctx;
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
      queue_log(s, SPOT_LOG_WARN, LOG_CODE_COMMAND_UNSUPPORTED, text);
      break;
    default:
      text_str(&t, "command with frame body ");
      text_int(&t, f->which_body);
      text_str(&t, " not supported, ignored");
      queue_log(s, SPOT_LOG_WARN, LOG_CODE_COMMAND_UNSUPPORTED, text);
      break;
  }
}

static void command_error(void *ctx, const char *why) {
  spot_t *s = ctx;
  char text[SPOT_LOG_TEXT_MAX];
  text_t t;
  text_init(&t, text, sizeof text);
  text_str(&t, "command malformed: ");
  text_str(&t, why);
  queue_log(s, SPOT_LOG_WARN, LOG_CODE_COMMAND_MALFORMED, text);
}

void spot_command_input(spot_t *s, const uint8_t *bytes, size_t len) { command_reader_input(&s->commands, bytes, len); }

void spot_command_end(spot_t *s) { command_reader_end(&s->commands); }

void spot_stream_command_input(spot_t *s, const uint8_t *bytes, size_t len) {
#if SPOT_STREAM_COMMAND_READER
  command_reader_input(&s->stream_commands, bytes, len);
#else
  command_reader_input(&s->commands, bytes, len);
#endif
}

const spot_persist_t *spot_state(const spot_t *s) { return &s->state; }

const spot_config_t *spot_config(const spot_t *s) { return &s->state.config; }

const char *spot_last_error(const spot_t *s) { return s->error; }
