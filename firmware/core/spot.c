#include "spot.h"

#include <string.h>

#include "config_apply.h"
#include "frame_json.h"
#include "spot_internal.h"
#include "state_record.h"
#include "text.h"

void spot_save(spot_t *s) {
  if (!s->platform.save_state) return;
  state_record_seal(&s->record);
  if (!s->platform.save_state(s->platform.ctx, (const uint8_t *)&s->record, sizeof s->record))
    text_copy(s->error, sizeof s->error, "state not saved: flash write failed");
}

void spot_console(spot_t *s, spot_log_level_t level, const char *text) {
  if (s->platform.log) s->platform.log(s->platform.ctx, level, text);
}

void spot_queue_event(spot_t *s, spot_event_t *ev) {
  if (!s->http && !s->stream_open) return; /* nobody to send it to */
  ev->boot = s->boot;
  if (s->intro_at != 0) {
    uint64_t given = ring_insert(&s->ring, s->intro_at, ev);
    /* The stream keeps its place: the events it already wrote moved up one number. */
    if (s->stream_open && s->stream_next > s->intro_at) s->stream_next++;
    s->intro_at = given + 1;
    s->next_seq = ring_end_seq(&s->ring);
    return;
  }
  ev->seq = s->next_seq++;
  ring_push(&s->ring, ev);
}

void spot_queue_log(spot_t *s, spot_log_level_t level, uint16_t code, const char *text) {
  spot_event_t ev;
  event_log(&ev, s->now, (uint8_t)level, code, text);
  spot_console(s, level, text);
  spot_queue_event(s, &ev);
}

static void on_presence_event(void *ctx, const spot_event_t *ev) {
  spot_t *s = ctx;
  spot_event_t copy = *ev;
  if (ev->kind == EVENT_PRESENCE_CREATE) s->record.state.presence_create_count++;
  spot_queue_event(s, &copy);
}

static void on_sim_hit(void *ctx, const presence_hit_t *hit) {
  spot_t *s = ctx;
  /* A disabled antenna reads nothing. */
  uint32_t mask = (uint32_t)s->record.state.config.antenna_disable_mask;
  if (hit->antenna >= 1 && hit->antenna <= 8 && (mask >> (hit->antenna - 1) & 1)) return;
  presence_hit(&s->presence, &s->record.state.config, hit);
}

uint32_t spot_boot_count_from_clock(uint64_t unix_ms) {
  uint64_t seconds = unix_ms / 1000u;
  if (seconds <= SPOT_BOOT_CLOCK_EPOCH_S) return 0;
  seconds -= SPOT_BOOT_CLOCK_EPOCH_S;
  return seconds > UINT32_MAX ? UINT32_MAX : (uint32_t)seconds;
}

bool spot_init(spot_t *s, const spot_platform_t *platform, const spot_init_t *init) {
  memset(s, 0, sizeof *s);
#if !SPOT_HTTP_POST
  if (init->http) return false; /* built without posts */
#endif
  if (platform) s->platform = *platform;
  bool loaded = false, other_schema = false;
  if (init->persisted != NULL)
    loaded = state_record_open(init->persisted, init->persisted_len, &s->record.state, s->boot_record_rejected,
                               sizeof s->boot_record_rejected) == STATE_RECORD_OK;
  if (loaded && s->record.state.config_schema != SPOT_CONFIG_SCHEMA_ID) {
    other_schema = true; /* counters still count; the config is another layout */
    spot_config_defaults(&s->record.state.config);
    s->record.state.config_schema = SPOT_CONFIG_SCHEMA_ID;
  }
  uint32_t floor = init->boot_count_floor;
  if (!loaded) { /* s->record.state is all zero here */
    s->record.state.config_schema = SPOT_CONFIG_SCHEMA_ID;
    spot_config_defaults(&s->record.state.config);
    /* A rejected record lost the boot count: the clock's keeps the number from repeating. */
    uint32_t from_clock = spot_boot_count_from_clock(init->now_ms);
    if (init->persisted != NULL && from_clock > floor) floor = from_clock;
  }
  uint64_t fixed = config_sanitize(&s->record.state.config, &s->scratch.config);
  s->record.state.boot_count++;
  if (s->record.state.boot_count < floor) s->record.state.boot_count = floor;
  if (init->watchdog_reset) s->record.state.watchdog_count++;
  spot_save(s);
  s->serial = init->serial;
  text_copy(s->version, sizeof s->version, init->version ? init->version : "");
  s->encoding = init->encoding;
  s->http = init->http;
  s->now = (int64_t)init->now_ms;
  s->time_started = s->now;
  s->boot = s->record.state.boot_count;
  s->next_seq = 1;
  s->sent_end = 1;
  ring_init(&s->ring);
  presence_init(&s->presence, on_presence_event, s);
  bool pb = s->encoding == SPOT_ENCODING_PB;
  command_reader_init(&s->commands, pb, &s->scratch.frame, spot_apply_command, spot_command_error, s);
#if SPOT_STREAM_COMMAND_READER
  command_reader_init(&s->stream_commands, pb, &s->scratch.frame, spot_apply_command, spot_command_error, s);
#endif
  bool ok = true;
  const char *text = init->scenario ? init->scenario : sim_default_scenario;
  size_t len = init->scenario ? init->scenario_len : strlen(sim_default_scenario);
  if (!sim_parse(&s->sim, text, len)) {
    text_copy(s->error, sizeof s->error, s->sim.error);
    sim_parse(&s->sim, "", 0);
    ok = false;
  }
  sim_start(&s->sim, s->now);
  s->boot_other_schema = other_schema;
  s->boot_fixed_keys = fixed;
  s->boot_logs_pending = s->boot_record_rejected[0] != '\0' || other_schema || fixed != 0;
  return ok;
}

/* Boot findings go out once, after the first spot create (HTTP or stream). */
static void say_boot_findings(spot_t *s) {
  if (!s->boot_logs_pending) return;
  s->boot_logs_pending = false;
  if (s->boot_record_rejected[0] != '\0') {
    char line[SPOT_LOG_TEXT_MAX];
    text_t t;
    text_init(&t, line, sizeof line);
    text_str(&t, "stored state rejected (");
    text_str(&t, s->boot_record_rejected);
    text_str(&t, "): factory defaults used");
    spot_queue_log(s, SPOT_LOG_WARN, LOG_CODE_STATE_REJECTED, line);
  }
  if (s->boot_other_schema)
    spot_queue_log(s, SPOT_LOG_WARN, LOG_CODE_CONFIG_BAD_VALUE,
                   "stored config has another layout (older firmware): factory defaults used");
  for (int i = 0; i < SPOT_CONFIG_KEY_COUNT; i++) {
    if (!(s->boot_fixed_keys >> i & 1)) continue;
    char line[SPOT_LOG_TEXT_MAX];
    text_t t;
    text_init(&t, line, sizeof line);
    text_str(&t, "stored config: ");
    text_str(&t, spot_config_keys[i].name);
    text_str(&t, " was invalid, factory default used");
    spot_queue_log(s, SPOT_LOG_WARN, LOG_CODE_CONFIG_BAD_VALUE, line);
  }
}

void spot_tick(spot_t *s, uint64_t now_ms) {
  int64_t now = (int64_t)now_ms;
  if (now < s->now) now = s->now; /* a clock step back must not replay the scenario */
  sim_advance(&s->sim, now, on_sim_hit, s);
  s->now = now;
  presence_tick(&s->presence, &s->record.state.config, now);
}

static void fill_spot_create(spot_t *s, spot_event_t *ev) {
  memset(ev, 0, sizeof *ev);
  ev->kind = EVENT_SPOT_CREATE;
  ev->time = s->now;
  ev->u.spot.boot_count = s->record.state.boot_count;
  ev->u.spot.watchdog_count = s->record.state.watchdog_count;
  ev->u.spot.presence_create_count = s->record.state.presence_create_count;
  ev->u.spot.time_started = s->time_started;
}

/* The introduction goes in front of every event no post has carried yet (those
 * are renumbered: the gateway never saw their numbers). Events an earlier post
 * carried keep their numbers and stay in front of it: the gateway drops any seq
 * at or below the highest it stored for the boot, so numbers must only rise.
 * The introduction (with the boot findings) is the ring's kept run until
 * acknowledged: an overflow drops the events behind it, never it. */
void spot_connected(spot_t *s) {
  ring_keep_none(&s->ring);
  s->intro_at = s->sent_end > s->ring.first_seq ? s->sent_end : s->ring.first_seq;
  spot_event_t ev;
  fill_spot_create(s, &ev);
  spot_queue_event(s, &ev);
  memset(&ev, 0, sizeof ev);
  ev.kind = EVENT_CONFIG_CREATE;
  ev.time = s->now;
  spot_queue_event(s, &ev);
  say_boot_findings(s);
  s->intro_at = 0;
}

/* Encodes ev into the outbox; an event too large is replaced by a log event saying so. */
static void encode(spot_t *s, spot_outbox_t *out, const spot_event_t *ev, bool numbered) {
  event_context_t ctx = {s->serial, s->version, &s->record.state.config};
  event_to_frame(ev, &ctx, numbered, &s->scratch.frame);
  out->pos = 0;
  out->len = s->encoding == SPOT_ENCODING_PB ? frame_pb_encode(&out->pb, &s->scratch.frame, out->buf, sizeof out->buf)
                                             : frame_json_encode(&s->scratch.frame, out->buf, sizeof out->buf);
  if (out->len == 0) {
    spot_event_t log;
    event_log(&log, ev->time, SPOT_LOG_ERROR, LOG_CODE_RING_OVERFLOW,
              "event over " SPOT_STR(SPOT_EVENT_BYTES) " bytes, not sent");
    log.boot = ev->boot;
    log.seq = ev->seq; /* keeps the post's numbering consecutive */
    event_to_frame(&log, &ctx, numbered, &s->scratch.frame);
    out->len = s->encoding == SPOT_ENCODING_PB ? frame_pb_encode(&out->pb, &s->scratch.frame, out->buf, sizeof out->buf)
                                               : frame_json_encode(&s->scratch.frame, out->buf, sizeof out->buf);
  }
}

static size_t drain(spot_outbox_t *out, uint8_t *buf, size_t cap) {
  size_t n = out->len - out->pos;
  if (n > cap) n = cap;
  memcpy(buf, out->buf + out->pos, n);
  out->pos += n;
  return n;
}

#if SPOT_HTTP_POST
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
    spot_queue_log(s, SPOT_LOG_WARN, LOG_CODE_RING_OVERFLOW, text);
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
      if (s->post_next > s->sent_end) s->sent_end = s->post_next;
    }
    total += drain(&s->post, buf + total, cap - total);
  }
  return total;
}

bool spot_post_at_event_boundary(const spot_t *s) { return s->post.pos == s->post.len; }

/* The events read whole so far: an event cut off in the middle is not among them. */
static uint64_t post_whole_end(const spot_t *s) { return s->post.pos == s->post.len ? s->post_next : s->post_next - 1; }

void spot_post_ack(spot_t *s) {
  if (!s->post_open) return;
  /* An event cut off in the middle was not received whole: it goes again. */
  ring_release(&s->ring, post_whole_end(s));
  s->post_open = false;
  s->post.len = s->post.pos = 0;
}

void spot_post_ack_through(spot_t *s, uint64_t seq) {
  if (!s->post_open) return;
  uint64_t upto = seq + 1;
  uint64_t whole = post_whole_end(s);
  if (upto > whole) upto = whole; /* never beyond what was handed out */
  ring_release(&s->ring, upto);
}

bool spot_post_unacknowledged(const spot_t *s) {
  return s->post_open && s->ring.count > 0 && s->ring.first_seq < s->post_next;
}

bool spot_post_behind(const spot_t *s) { return s->post_open && s->post_next < s->ring.first_seq; }

void spot_post_fail(spot_t *s) {
  s->post_open = false;
  s->post.len = s->post.pos = 0;
}

#endif

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
  say_boot_findings(s); /* right after the stream's own spot create and config create */
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
  if (s->now - s->stream_last_alive >= (int64_t)s->record.state.config.alive_ds * 100) {
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

const spot_persist_t *spot_state(const spot_t *s) { return &s->record.state; }

const spot_config_t *spot_config(const spot_t *s) { return &s->record.state.config; }

uint64_t spot_last_seq(const spot_t *s) { return s->next_seq - 1; }

const char *spot_last_error(const spot_t *s) { return s->error; }
