/* Test harness for the core: a recording platform and post readers that decode
 * what the core sends. Included by test_spot*.c (each a program of its own). */
#ifndef SPOT_HARNESS_H
#define SPOT_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "frame_json.h"
#include "frame_pb.h"
#include "spot.h"
#include "state_record.h"

#define T0 1772352000000ULL /* 2026-03-01T08:00:00Z */

typedef struct platform_log {
  uint8_t record[SPOT_STATE_RECORD_BYTES]; /* the last record saved, as the flash holds it */
  spot_persist_t saved;                    /* its state */
  int saves;
  char fw_url[128];
  char fw_version[32];
  int config_changes;
} platform_log_t;

static platform_log_t plog;

static inline bool p_save(void *ctx, const uint8_t *record, size_t len) {
  (void)ctx;
  char why[64];
  assert_int_equal(len, SPOT_STATE_RECORD_BYTES);
  memcpy(plog.record, record, len);
  assert_int_equal(state_record_open(record, len, &plog.saved, why, sizeof why), STATE_RECORD_OK);
  plog.saves++;
  return true;
}
static inline void p_firmware(void *ctx, const char *url, const char *version) {
  (void)ctx;
  strcpy(plog.fw_url, url);
  strcpy(plog.fw_version, version);
}
static inline void p_config_changed(void *ctx, const spot_config_t *c) {
  (void)ctx;
  (void)c;
  plog.config_changes++;
}

static const spot_platform_t platform = {NULL, p_save, NULL, NULL, p_firmware, p_config_changed};

static spot_t the_spot; /* the tests' platform owns the core, as a main does */

/* The record a platform would hold for state (NULL: none). */
static inline const uint8_t *record_of(const spot_persist_t *state) {
  static spot_state_record_t record;
  if (state == NULL) return NULL;
  record.state = *state;
  state_record_seal(&record);
  return (const uint8_t *)&record;
}

/* Starts the spot with state as its stored record (sealed: a valid one), or none. */
static inline spot_t *start(spot_encoding_t enc, const char *scenario, const spot_persist_t *state) {
  memset(&plog, 0, sizeof plog);
  spot_init_t init = {4711, "2.3.1", enc, record_of(state), state ? SPOT_STATE_RECORD_BYTES : 0, false, T0,
                      scenario, scenario ? strlen(scenario) : 0, true, 0};
  assert_true(spot_init(&the_spot, &platform, &init));
  return &the_spot;
}

static inline void run_until(spot_t *s, uint64_t from, uint64_t to) {
  for (uint64_t t = from; t <= to; t += 10) spot_tick(s, t);
}

/* One decoded event of a post. */
typedef struct got {
  pb_size_t body;
  char code[65];
  int proximity;
  uint64_t seq;
  char text[300];
} got_t;

static got_t got[512];
static int got_count;
static uint8_t post_bytes[256 * 1024];
static size_t post_len;
static spot_v1_Frame frame;

static inline void note(const spot_v1_Frame *f, uint64_t seq) {
  assert_true(got_count < 512);
  got_t *g = &got[got_count++];
  memset(g, 0, sizeof *g);
  g->body = f->which_body;
  g->seq = seq;
  const spot_v1_Presence *p = NULL;
  if (f->which_body == spot_v1_Frame_presence_create_tag) p = &f->body.presence_create;
  if (f->which_body == spot_v1_Frame_presence_update_tag) p = &f->body.presence_update;
  if (f->which_body == spot_v1_Frame_presence_delete_tag) p = &f->body.presence_delete;
  if (p) {
    strcpy(g->code, p->item_code);
    g->proximity = p->proximity;
  }
  if (f->which_body == spot_v1_Frame_log_create_tag) strcpy(g->text, f->body.log_create.text);
}

/* Reads one whole post (in small pieces, like chunks) and decodes its JSON events. */
static inline spot_post_info_t read_post_json(spot_t *s) {
  spot_post_info_t info;
  spot_post_begin(s, &info);
  post_len = 0;
  size_t n;
  while ((n = spot_post_read(s, post_bytes + post_len, 7)) > 0) post_len += n;
  assert_true(spot_post_at_event_boundary(s));
  got_count = 0;
  size_t from = 0;
  for (size_t i = 0; i + 1 < post_len; i++) {
    if (post_bytes[i] == '\n' && post_bytes[i + 1] == '\n') {
      const char *why = NULL;
      if (!frame_json_decode((const char *)post_bytes + from, i - from, &frame, &why)) fail_msg("%s", why);
      note(&frame, info.first_seq + (uint64_t)got_count);
      from = i + 2;
      i++;
    }
  }
  assert_int_equal(from, post_len);
  return info;
}

static inline spot_post_info_t read_post_pb(spot_t *s) {
  spot_post_info_t info;
  spot_post_begin(s, &info);
  post_len = 0;
  size_t n;
  while ((n = spot_post_read(s, post_bytes + post_len, 5)) > 0) post_len += n;
  got_count = 0;
  frame_pb_stream_t rx;
  frame_pb_stream_reset(&rx);
  size_t i = 0;
  while (i < post_len) {
    uint32_t len = 0;
    int shift = 0;
    while (post_bytes[i] & 0x80) len |= (uint32_t)(post_bytes[i++] & 0x7f) << (shift += 7, shift - 7);
    len |= (uint32_t)post_bytes[i++] << shift;
    const char *why = NULL;
    if (!frame_pb_decode(&rx, post_bytes + i, len, &frame, &why)) fail_msg("%s", why);
    assert_true(frame.has_seq);
    assert_int_equal(frame.boot, info.boot);
    note(&frame, frame.seq);
    i += len;
  }
  return info;
}

static inline int find(pb_size_t body, const char *code, int from) {
  for (int i = from; i < got_count; i++)
    if (got[i].body == body && (code == NULL || strcmp(got[i].code, code) == 0)) return i;
  return -1;
}

#endif
