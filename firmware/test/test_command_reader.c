/* Command byte streams cut anywhere: JSON by bracket depth, PB by length prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "command_reader.h"
#include "frame_json.h"

static command_reader_t reader;
static spot_v1_Frame scratch;
static pb_size_t bodies[16];
static int frame_count;
static char errors[4][96];
static int error_count;
static char last_brain[128];

static void on_frame(void *ctx, spot_v1_Frame *f) {
  (void)ctx;
  assert_true(frame_count < 16);
  bodies[frame_count++] = f->which_body;
  if (f->which_body == spot_v1_Frame_config_update_tag && f->body.config_update.has_brain_address)
    strcpy(last_brain, f->body.config_update.brain_address);
}

static void on_error(void *ctx, const char *why) {
  (void)ctx;
  assert_non_null(why);
  assert_true(why[0] != '\0');
  if (error_count < 4) strncpy(errors[error_count], why, sizeof errors[0] - 1);
  error_count++;
}

static int setup_json(void **state) {
  (void)state;
  frame_count = error_count = 0;
  memset(errors, 0, sizeof errors);
  command_reader_init(&reader, false, &scratch, on_frame, on_error, NULL);
  return 0;
}

static int setup_pb(void **state) {
  setup_json(state);
  command_reader_init(&reader, true, &scratch, on_frame, on_error, NULL);
  return 0;
}

static const char body[] =
    "[\"config\",\"update\",{\"brain_address\":\"10.0.0.2:8080\"}]\n\n"
    "\n  \n[\"firmware\",\"update\",{\"url\":\"/firmware/beta/beta22.bin\",\"version\":\"beta22\"}]\n\n"
    "[\"brain_sense\",\"update\",{\"bs1\":3,\"note\":\"a ] in a string\"}]\n\n";

static void json_body_split_at_every_byte_gives_the_same_commands(void **state) {
  for (size_t cut = 0; cut <= sizeof body - 1; cut++) {
    setup_json(state);
    command_reader_input(&reader, (const uint8_t *)body, cut);
    command_reader_input(&reader, (const uint8_t *)body + cut, sizeof body - 1 - cut);
    command_reader_end(&reader);
    assert_int_equal(error_count, 0);
    assert_int_equal(frame_count, 3);
    assert_int_equal(bodies[0], spot_v1_Frame_config_update_tag);
    assert_int_equal(bodies[1], spot_v1_Frame_firmware_update_tag);
    assert_int_equal(bodies[2], spot_v1_Frame_brain_sense_update_tag);
    assert_string_equal(last_brain, "10.0.0.2:8080");
  }
}

static void bad_json_command_is_reported_and_the_next_one_still_applies(void **state) {
  (void)state;
  const char text[] = "xyz[\"config\",\"update\",{\"a\" 1}]\n\n[\"config\",\"update\",{\"brain_address\":\"b\"}]";
  command_reader_input(&reader, (const uint8_t *)text, sizeof text - 1);
  command_reader_end(&reader);
  assert_int_equal(frame_count, 1);
  assert_int_equal(error_count, 2);
  assert_string_equal(errors[0], "stray bytes between commands, skipped");
  assert_string_equal(errors[1], "missing ':' after a key");
}

static void oversized_json_command_is_skipped_whole(void **state) {
  (void)state;
  static char big[SPOT_COMMAND_BYTES + 200];
  strcpy(big, "[\"config\",\"update\",{\"hostname\":\"");
  size_t n = strlen(big);
  memset(big + n, 'h', sizeof big - n - 10);
  strcpy(big + sizeof big - 10, "\"}]");
  command_reader_input(&reader, (const uint8_t *)big, strlen(big));
  const char next[] = "[\"config\",\"update\",{\"brain_address\":\"ok\"}]";
  command_reader_input(&reader, (const uint8_t *)next, sizeof next - 1);
  assert_int_equal(error_count, 1);
  assert_string_equal(errors[0], "command over " SPOT_STR(SPOT_COMMAND_BYTES) " bytes, skipped");
  assert_int_equal(frame_count, 1);
  assert_string_equal(last_brain, "ok");
}

static void cut_off_command_is_reported_at_the_end_of_the_body(void **state) {
  (void)state;
  command_reader_input(&reader, (const uint8_t *)"[\"config\",\"upd", 15);
  command_reader_end(&reader);
  assert_int_equal(frame_count, 0);
  assert_int_equal(error_count, 1);
  assert_string_equal(errors[0], "command cut off at the end of the body");
}

static size_t encode_pb(frame_pb_stream_t *st, const char *json, uint8_t *buf, size_t cap) {
  static spot_v1_Frame f;
  assert_true(frame_json_decode(json, strlen(json), &f, NULL));
  size_t n = frame_pb_encode(st, &f, buf, cap);
  assert_true(n > 0);
  return n;
}

static void pb_frames_split_anywhere_are_decoded(void **state) {
  uint8_t stream[512];
  size_t len = 0;
  frame_pb_stream_t st;
  frame_pb_stream_reset(&st);
  len += encode_pb(&st, "[\"config\",\"update\",{\"brain_address\":\"10.0.0.9\"}]", stream + len, sizeof stream - len);
  len += encode_pb(&st, "[\"firmware\",\"update\",{\"reset_counters\":true}]", stream + len, sizeof stream - len);
  len += encode_pb(&st, "[\"brain_sense\",\"update\",{\"bs2\":-4}]", stream + len, sizeof stream - len);
  for (size_t cut = 0; cut <= len; cut++) {
    setup_pb(state);
    command_reader_input(&reader, stream, cut);
    command_reader_input(&reader, stream + cut, len - cut);
    command_reader_end(&reader);
    assert_int_equal(error_count, 0);
    assert_int_equal(frame_count, 3);
    assert_int_equal(bodies[2], spot_v1_Frame_brain_sense_update_tag);
    assert_string_equal(last_brain, "10.0.0.9");
  }
}

static void pb_garbage_is_reported(void **state) {
  (void)state;
  const uint8_t junk[] = {0x03, 0xff, 0xff, 0xff};
  command_reader_input(&reader, junk, sizeof junk);
  command_reader_end(&reader);
  assert_int_equal(frame_count, 0);
  assert_int_equal(error_count, 1);
}

static uint32_t prng = 12345;
static uint32_t next_random(void) {
  prng ^= prng << 13;
  prng ^= prng >> 17;
  prng ^= prng << 5;
  return prng;
}

/* Random bytes and mutated commands: never a crash (ASan/UBSan watch), and the
 * reader is still able to apply a good command once the body ends. */
static void garbage_and_mutations_never_break_the_reader(void **state) {
  static uint8_t buf[4096];
  uint8_t pb_cmd[256];
  frame_pb_stream_t st;
  frame_pb_stream_reset(&st);
  size_t pb_len = encode_pb(&st, "[\"config\",\"update\",{\"brain_address\":\"ok\",\"rfid_power_dbm\":20}]", pb_cmd,
                            sizeof pb_cmd);
  for (int pb = 0; pb < 2; pb++) {
    for (int round = 0; round < 400; round++) {
      if (pb) setup_pb(state);
      else setup_json(state);
      size_t n = next_random() % sizeof buf;
      if (round % 2 == 0) {
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)next_random();
      } else { /* a valid body with a few bytes changed */
        n = pb ? pb_len : sizeof body - 1;
        memcpy(buf, pb ? (const void *)pb_cmd : (const void *)body, n);
        for (int k = 0; k < 3; k++) buf[next_random() % n] = (uint8_t)next_random();
      }
      command_reader_input(&reader, buf, n);
      command_reader_end(&reader);
      frame_count = 0;
      last_brain[0] = '\0';
      if (pb) command_reader_input(&reader, pb_cmd, pb_len);
      else command_reader_input(&reader, (const uint8_t *)body, sizeof body - 1);
      assert_true(frame_count >= 1);
      assert_string_equal(last_brain, pb ? "ok" : "10.0.0.2:8080");
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(json_body_split_at_every_byte_gives_the_same_commands, setup_json),
      cmocka_unit_test_setup(bad_json_command_is_reported_and_the_next_one_still_applies, setup_json),
      cmocka_unit_test_setup(oversized_json_command_is_skipped_whole, setup_json),
      cmocka_unit_test_setup(cut_off_command_is_reported_at_the_end_of_the_body, setup_json),
      cmocka_unit_test_setup(pb_frames_split_anywhere_are_decoded, setup_pb),
      cmocka_unit_test_setup(pb_garbage_is_reported, setup_pb),
      cmocka_unit_test(garbage_and_mutations_never_break_the_reader),
  };
  return cmocka_run_group_tests_name("command_reader", tests, NULL, NULL);
}
