/* Every conformance vector of shared-schema/vectors: the C encoders give the
 * same bytes as the TypeScript ones (JSON text, PB frame, PB stream with tricks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame_json.h"
#include "frame_pb.h"
#include "json_scan.h"

#define TEXT_MAX (64 * 1024)

static char *load(const char *file, size_t *len) {
  const char *dir = getenv("SPOT_VECTORS_DIR");
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir ? dir : "shared-schema/vectors", file);
  FILE *f = fopen(path, "rb");
  if (f == NULL) fail_msg("cannot open %s (set SPOT_VECTORS_DIR)", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex) / 2;
  assert_true(n <= cap);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
  return n;
}

static void hex_of(const uint8_t *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
  out[2 * n] = '\0';
}

typedef struct vector_case {
  char name[128];
  char *json;
  char *json_compact;
  char *pb_hex;
  bool has_boot, has_seq;
  int64_t boot, seq;
} vector_case_t;

static spot_v1_Frame frame;
static uint8_t bytes[TEXT_MAX];
static char hex[2 * TEXT_MAX + 1];

static void encode_both_and_compare(const vector_case_t *c, const char *from) {
  size_t n = frame_json_encode(&frame, bytes, sizeof bytes);
  if (n != strlen(c->json_compact) || memcmp(bytes, c->json_compact, n) != 0)
    fail_msg("%s (from %s): JSON\n got  %.*s\n want %s", c->name, from, (int)n, (const char *)bytes, c->json_compact);
  frame.has_boot = c->has_boot;
  frame.boot = (uint32_t)c->boot;
  frame.has_seq = c->has_seq;
  frame.seq = (uint64_t)c->seq;
  frame_pb_stream_t fresh;
  frame_pb_stream_reset(&fresh);
  n = frame_pb_encode(&fresh, &frame, bytes, sizeof bytes);
  assert_true(n > 0);
  size_t skip = 0;
  while (bytes[skip] & 0x80) skip++;
  skip++; /* the vectors hold the Frame without its length prefix */
  hex_of(bytes + skip, n - skip, hex);
  if (strcmp(hex, c->pb_hex) != 0) fail_msg("%s (from %s): PB\n got  %s\n want %s", c->name, from, hex, c->pb_hex);
}

/* A string holding U+0000 has no form in nanopb's NUL-terminated char arrays:
 * the firmware keeps it, unread, as raw JSON in extra_json (nothing is lost;
 * the key moves to the end of the object). */
static int nul_cases;

static bool holds_nul_string(const vector_case_t *c) { return strstr(c->json_compact, "\\u0000") != NULL; }

static void check_nul_case(const vector_case_t *c) {
  const char *why = NULL;
  if (!frame_json_decode(c->json_compact, strlen(c->json_compact), &frame, &why)) fail_msg("%s: %s", c->name, why);
  size_t n = frame_json_encode(&frame, bytes, sizeof bytes - 1);
  assert_true(n > 0);
  bytes[n] = '\0';
  const char *text = strstr(c->json_compact, "\"text\":");
  assert_non_null(text);
  const char *end = strstr(text, "\",\"");
  assert_non_null(end);
  static char needle[TEXT_MAX];
  memcpy(needle, text, (size_t)(end + 1 - text));
  needle[end + 1 - text] = '\0';
  assert_non_null(strstr((const char *)bytes, needle));
  print_message("%s: U+0000 kept in extra_json (nanopb strings are NUL-terminated)\n", c->name);
  nul_cases++;
}

static void check_case(const vector_case_t *c) {
  const char *why = NULL;
  if (holds_nul_string(c)) {
    check_nul_case(c);
    return;
  }
  /* canonical JSON text -> Frame -> JSON and PB */
  if (!frame_json_decode(c->json_compact, strlen(c->json_compact), &frame, &why))
    fail_msg("%s: json_compact does not decode: %s", c->name, why);
  encode_both_and_compare(c, "json_compact");
  /* the text as a spot sent it (pretty, tabs, CRLF, drifted types) */
  if (!frame_json_decode(c->json, strlen(c->json), &frame, &why)) fail_msg("%s: json does not decode: %s", c->name, why);
  encode_both_and_compare(c, "json");
  /* PB bytes -> Frame -> JSON and PB */
  size_t n = unhex(c->pb_hex, bytes, sizeof bytes);
  frame_pb_stream_t fresh;
  frame_pb_stream_reset(&fresh);
  static uint8_t pb[TEXT_MAX];
  memcpy(pb, bytes, n);
  if (!frame_pb_decode(&fresh, pb, n, &frame, &why)) fail_msg("%s: pb_hex does not decode: %s", c->name, why);
  assert_int_equal(frame.has_boot, c->has_boot);
  assert_int_equal(frame.has_seq, c->has_seq);
  encode_both_and_compare(c, "pb_hex");
}

static char *dup_string(json_scan_t *s) {
  static char tmp[TEXT_MAX];
  size_t len;
  assert_true(json_scan_string(s, tmp, sizeof tmp, &len));
  char *out = malloc(len + 1);
  memcpy(out, tmp, len + 1);
  return out;
}

static void every_event_vector(void **state) {
  (void)state;
  size_t len;
  char *file = load("events.json", &len);
  json_scan_t s;
  json_scan_init(&s, file, len);
  int cases = 0;
  assert_true(json_scan_take(&s, '['));
  do {
    vector_case_t c;
    memset(&c, 0, sizeof c);
    assert_true(json_scan_take(&s, '{'));
    do {
      char key[64];
      assert_true(json_scan_string(&s, key, sizeof key, NULL));
      assert_true(json_scan_take(&s, ':'));
      if (strcmp(key, "name") == 0) assert_true(json_scan_string(&s, c.name, sizeof c.name, NULL));
      else if (strcmp(key, "json") == 0) c.json = dup_string(&s);
      else if (strcmp(key, "json_compact") == 0) c.json_compact = dup_string(&s);
      else if (strcmp(key, "pb_hex") == 0) c.pb_hex = dup_string(&s);
      else if (strcmp(key, "boot") == 0) c.has_boot = json_scan_int(&s, &c.boot);
      else if (strcmp(key, "seq") == 0) c.has_seq = json_scan_int(&s, &c.seq);
      else assert_true(json_scan_value(&s, NULL, NULL));
    } while (json_scan_take(&s, ','));
    assert_true(json_scan_take(&s, '}'));
    assert_non_null(c.json_compact);
    assert_non_null(c.pb_hex);
    check_case(&c);
    cases++;
    free(c.json);
    free(c.json_compact);
    free(c.pb_hex);
  } while (json_scan_take(&s, ','));
  assert_true(json_scan_take(&s, ']'));
  print_message("%d of %d event vectors byte-identical (JSON text as sent, canonical JSON and PB, both directions)\n",
                cases - nul_cases, cases);
  assert_true(cases >= 30);
  free(file);
}

/* One stream: every event encoded in order on one PB stream and one JSON stream. */
static void check_stream(const char *name, const char *events, size_t events_len, const char *want_pb_hex,
                         const char *want_json) {
  static uint8_t pb[4 * TEXT_MAX];
  static char json[4 * TEXT_MAX];
  static char text[TEXT_MAX];
  size_t pb_len = 0, json_len = 0;
  frame_pb_stream_t st;
  frame_pb_stream_reset(&st);
  json_scan_t s;
  json_scan_init(&s, events, events_len);
  assert_true(json_scan_take(&s, '['));
  do {
    char resource[64] = "", action[64] = "";
    const char *data = NULL;
    size_t data_len = 0;
    int64_t boot = 0, seq = 0;
    bool has_boot = false, has_seq = false;
    assert_true(json_scan_take(&s, '{'));
    do {
      char key[32];
      assert_true(json_scan_string(&s, key, sizeof key, NULL));
      assert_true(json_scan_take(&s, ':'));
      if (strcmp(key, "resource") == 0) assert_true(json_scan_string(&s, resource, sizeof resource, NULL));
      else if (strcmp(key, "action") == 0) assert_true(json_scan_string(&s, action, sizeof action, NULL));
      else if (strcmp(key, "data") == 0) assert_true(json_scan_value(&s, &data, &data_len));
      else if (strcmp(key, "boot") == 0) has_boot = json_scan_int(&s, &boot);
      else if (strcmp(key, "seq") == 0) has_seq = json_scan_int(&s, &seq);
      else assert_true(json_scan_value(&s, NULL, NULL));
    } while (json_scan_take(&s, ','));
    assert_true(json_scan_take(&s, '}'));
    int head = snprintf(text, sizeof text, "[\"%s\",\"%s\",", resource, action);
    size_t body = json_compact_copy(text + head, sizeof text - (size_t)head - 2, data, data_len);
    assert_true(body != (size_t)-1);
    strcat(text, "]");
    const char *why = NULL;
    if (!frame_json_decode(text, strlen(text), &frame, &why)) fail_msg("%s: event does not decode: %s", name, why);
    size_t n = frame_json_encode(&frame, (uint8_t *)json + json_len, sizeof json - json_len);
    assert_true(n > 0);
    json_len += n;
    frame.has_boot = has_boot;
    frame.boot = (uint32_t)boot;
    frame.has_seq = has_seq;
    frame.seq = (uint64_t)seq;
    n = frame_pb_encode(&st, &frame, pb + pb_len, sizeof pb - pb_len);
    assert_true(n > 0);
    pb_len += n;
  } while (json_scan_take(&s, ','));
  static char got_hex[8 * TEXT_MAX + 1];
  hex_of(pb, pb_len, got_hex);
  if (strcmp(got_hex, want_pb_hex) != 0) fail_msg("%s: PB stream\n got  %s\n want %s", name, got_hex, want_pb_hex);
  if (json_len != strlen(want_json) || memcmp(json, want_json, json_len) != 0)
    fail_msg("%s: JSON stream differs", name);
}

static void every_stream_vector(void **state) {
  (void)state;
  size_t len;
  char *file = load("streams.json", &len);
  json_scan_t s;
  json_scan_init(&s, file, len);
  int streams = 0;
  assert_true(json_scan_take(&s, '['));
  do {
    char name[128] = "";
    const char *events = NULL;
    size_t events_len = 0;
    char *pb_hex = NULL, *json = NULL;
    assert_true(json_scan_take(&s, '{'));
    do {
      char key[64];
      assert_true(json_scan_string(&s, key, sizeof key, NULL));
      assert_true(json_scan_take(&s, ':'));
      if (strcmp(key, "name") == 0) assert_true(json_scan_string(&s, name, sizeof name, NULL));
      else if (strcmp(key, "events") == 0) assert_true(json_scan_value(&s, &events, &events_len));
      else if (strcmp(key, "pb_stream_hex") == 0) pb_hex = dup_string(&s);
      else if (strcmp(key, "json_stream") == 0) json = dup_string(&s);
      else assert_true(json_scan_value(&s, NULL, NULL));
    } while (json_scan_take(&s, ','));
    assert_true(json_scan_take(&s, '}'));
    assert_non_null(events);
    assert_non_null(pb_hex);
    assert_non_null(json);
    check_stream(name, events, events_len, pb_hex, json);
    streams++;
    free(pb_hex);
    free(json);
  } while (json_scan_take(&s, ','));
  print_message("%d stream vectors byte-identical (PB with both send-layer tricks, JSON)\n", streams);
  assert_true(streams >= 3);
  free(file);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_event_vector),
      cmocka_unit_test(every_stream_vector),
  };
  return cmocka_run_group_tests_name("vectors", tests, NULL, NULL);
}
