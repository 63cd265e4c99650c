/* JSON text: writer formatting like JSON.stringify, reader, ISO times, Frame <-> JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frame_json.h"
#include "json_out.h"
#include "json_scan.h"
#include "spot_time.h"

static const char *double_text(double v, char *buf, size_t cap) {
  json_out_t o;
  json_out_init(&o, (uint8_t *)buf, cap - 1);
  json_out_double(&o, v);
  buf[o.len] = '\0';
  return buf;
}

static void doubles_are_written_like_javascript(void **state) {
  (void)state;
  char b[40];
  assert_string_equal(double_text(3.0, b, sizeof b), "3");
  assert_string_equal(double_text(-2.5, b, sizeof b), "-2.5");
  assert_string_equal(double_text(0.1, b, sizeof b), "0.1");
  assert_string_equal(double_text(1e21, b, sizeof b), "1e+21");
  assert_string_equal(double_text(1e20, b, sizeof b), "100000000000000000000");
  assert_string_equal(double_text(0.000001, b, sizeof b), "0.000001");
  assert_string_equal(double_text(1e-7, b, sizeof b), "1e-7");
  assert_string_equal(double_text(1.2345678901234567, b, sizeof b), "1.2345678901234567");
  assert_string_equal(double_text(123.456, b, sizeof b), "123.456");
}

static void strings_are_escaped_like_javascript(void **state) {
  (void)state;
  uint8_t buf[64];
  json_out_t o;
  json_out_init(&o, buf, sizeof buf);
  const char s[] = "a\"b\\c\n\t\x01\xc3\xa9/";
  json_out_string(&o, s, sizeof s - 1);
  assert_false(o.overflow);
  assert_int_equal(o.len, strlen("\"a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9/\""));
  assert_memory_equal(buf, "\"a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9/\"", o.len);
}

static void writer_reports_overflow(void **state) {
  (void)state;
  uint8_t buf[4];
  json_out_t o;
  json_out_init(&o, buf, sizeof buf);
  json_out_text(&o, "abcdef");
  assert_true(o.overflow);
}

static void iso_times_round_trip(void **state) {
  (void)state;
  char iso[SPOT_TIME_ISO_LEN + 1];
  spot_time_iso(1772352000000LL, iso);
  assert_string_equal(iso, "2026-03-01T08:00:00.000Z");
  spot_time_iso(1772352001250LL, iso);
  assert_string_equal(iso, "2026-03-01T08:00:01.250Z");
  spot_time_iso(0, iso);
  assert_string_equal(iso, "1970-01-01T00:00:00.000Z");
  int64_t ms;
  assert_true(spot_time_parse_iso("2026-03-01T08:00:01.250Z", 24, &ms));
  assert_int_equal(ms, 1772352001250LL);
  assert_true(spot_time_parse_iso("2026-03-01T08:00:00Z", 20, &ms));
  assert_int_equal(ms, 1772352000000LL);
  assert_true(spot_time_parse_iso("2026-03-01T10:00:01+02:00", 25, &ms));
  assert_int_equal(ms, 1772352001000LL);
  assert_false(spot_time_parse_iso("2026-13-01T08:00:00Z", 20, &ms));
  assert_false(spot_time_parse_iso("2026-03-01 08:00:00Z", 20, &ms));
}

static void scanner_reads_strings_with_escapes(void **state) {
  (void)state;
  json_scan_t s;
  char out[32];
  size_t len;
  const char text[] = " \"a\\u00e9\\ud83d\\ude00\\n\" ";
  json_scan_init(&s, text, sizeof text - 1);
  assert_true(json_scan_string(&s, out, sizeof out, &len));
  assert_string_equal(out, "a\xc3\xa9\xf0\x9f\x98\x80\n");
  char small[3];
  json_scan_init(&s, "\"abcd\"", 6);
  assert_false(json_scan_string(&s, small, sizeof small, &len));
}

static void scanner_skips_nested_values(void **state) {
  (void)state;
  json_scan_t s;
  const char *start;
  size_t len;
  const char text[] = "{\"a\":[1,{\"b\":\"]\"}],\"c\":null} tail";
  json_scan_init(&s, text, sizeof text - 1);
  assert_true(json_scan_value(&s, &start, &len));
  assert_int_equal(len, strlen("{\"a\":[1,{\"b\":\"]\"}],\"c\":null}"));
  json_scan_init(&s, "{\"a\":", 5);
  assert_false(json_scan_value(&s, &start, &len));
}

static spot_v1_Frame frame;

static void presence_encodes_as_the_vendor_frames_it(void **state) {
  (void)state;
  memset(&frame, 0, sizeof frame);
  frame.which_body = spot_v1_Frame_presence_create_tag;
  spot_v1_Presence *p = &frame.body.presence_create;
  p->has_item_code = true;
  strcpy(p->item_code, "e28011700000020a1b2c3d4e");
  p->has_item_codetype = true;
  p->item_codetype = spot_v1_ItemCodeType_ITEM_CODE_TYPE_EPC_GEN2;
  p->has_time_started = true;
  p->time_started = 1772352001250LL;
  p->has_proximity = true;
  p->proximity = spot_v1_Proximity_PROXIMITY_NEAR;
  p->has_hold_delay_s = true;
  p->hold_delay_s = 4;
  p->has_time_last = true;
  p->time_last = 1772352001250LL;
  uint8_t buf[512];
  size_t n = frame_json_encode(&frame, buf, sizeof buf);
  const char want[] =
      "[\"presence\",\"create\",{\"item_code\":\"e28011700000020a1b2c3d4e\",\"item_codetype\":\"EPC Gen2\","
      "\"time_started\":\"2026-03-01T08:00:01.250Z\",\"proximity\":\"near\",\"hold_delay_s\":4,"
      "\"time_last\":\"2026-03-01T08:00:01.250Z\"}]\n\n";
  assert_int_equal(n, sizeof want - 1);
  assert_memory_equal(buf, want, n);
  assert_int_equal(frame_json_encode(&frame, buf, 20), 0);
}

static void decoding_keeps_unknown_keys_and_odd_values_in_extra_json(void **state) {
  (void)state;
  const char *why = NULL;
  const char text[] = "[\"spot\",\"create\",{\"spot_id\":\"201\",\"online\":\"false\",\"colour\":\"red\",\"dip_mask\":\"x\"}]";
  assert_true(frame_json_decode(text, sizeof text - 1, &frame, &why));
  assert_int_equal(frame.which_body, spot_v1_Frame_spot_create_tag);
  assert_true(frame.body.spot_create.has_spot_id);
  assert_int_equal(frame.body.spot_create.spot_id, 201);
  assert_true(frame.body.spot_create.has_online);
  assert_false(frame.body.spot_create.online);
  assert_false(frame.body.spot_create.has_dip_mask);
  assert_string_equal(frame.body.spot_create.extra_json, "{\"colour\":\"red\",\"dip_mask\":\"x\"}");
  uint8_t buf[256];
  size_t n = frame_json_encode(&frame, buf, sizeof buf);
  const char want[] = "[\"spot\",\"create\",{\"spot_id\":201,\"online\":false,\"colour\":\"red\",\"dip_mask\":\"x\"}]\n\n";
  assert_int_equal(n, sizeof want - 1);
  assert_memory_equal(buf, want, n);
}

static void undefined_events_are_carried_whole(void **state) {
  (void)state;
  const char text[] = "[\"door\",\"open\",{\"id\":7}]";
  assert_true(frame_json_decode(text, sizeof text - 1, &frame, NULL));
  assert_int_equal(frame.which_body, spot_v1_Frame_generic_tag);
  assert_string_equal(frame.body.generic.resource, "door");
  assert_string_equal(frame.body.generic.json, "{\"id\":7}");
  uint8_t buf[128];
  size_t n = frame_json_encode(&frame, buf, sizeof buf);
  assert_int_equal(n, sizeof "[\"door\",\"open\",{\"id\":7}]\n\n" - 1);
}

static void malformed_events_are_refused_with_a_reason(void **state) {
  (void)state;
  const char *why = NULL;
  assert_false(frame_json_decode("[\"config\",\"update\"]", 19, &frame, &why));
  assert_string_equal(why, "not a [string,string,object] triple");
  assert_false(frame_json_decode("[\"config\",\"update\",{\"a\":}]", 26, &frame, &why));
  assert_false(frame_json_decode("[\"config\",\"update\",{}] x", 24, &frame, &why));
  assert_string_equal(why, "bytes after the event");
}

static void control_schema_travels_as_raw_json(void **state) {
  (void)state;
  const char text[] = "[\"config\",\"update\",{\"control_schema\":{\"led\":[1,2]},\"reset\":true}]";
  assert_true(frame_json_decode(text, sizeof text - 1, &frame, NULL));
  assert_true(frame.body.config_update.has_control_schema_json);
  assert_string_equal(frame.body.config_update.control_schema_json, "{\"led\":[1,2]}");
  assert_true(frame.body.config_update.has_reset);
  assert_true(frame.body.config_update.reset);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(doubles_are_written_like_javascript),
      cmocka_unit_test(strings_are_escaped_like_javascript),
      cmocka_unit_test(writer_reports_overflow),
      cmocka_unit_test(iso_times_round_trip),
      cmocka_unit_test(scanner_reads_strings_with_escapes),
      cmocka_unit_test(scanner_skips_nested_values),
      cmocka_unit_test(presence_encodes_as_the_vendor_frames_it),
      cmocka_unit_test(decoding_keeps_unknown_keys_and_odd_values_in_extra_json),
      cmocka_unit_test(undefined_events_are_carried_whole),
      cmocka_unit_test(malformed_events_are_refused_with_a_reason),
      cmocka_unit_test(control_schema_travels_as_raw_json),
  };
  return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
