/* Commands through the core: what each does, what it reports upstream. */
#include "spot_harness.h"

static void config_update_command_is_applied_and_reported(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "", NULL);
  const char body[] = "[\"config\",\"update\",{\"send_hits\":true,\"brain_address\":\"10.1.1.1\",\"colour\":1,"
                      "\"rfid_power_dbm\":77}]\n\n";
  spot_command_input(s, (const uint8_t *)body, sizeof body - 1);
  spot_command_end(s);
  assert_true(spot_config(s)->send_hits);
  assert_string_equal(spot_config(s)->brain_address, "10.1.1.1");
  assert_int_equal(spot_config(s)->rfid_power_dbm, 27);
  assert_true(plog.saved.config.send_hits);
  assert_int_equal(plog.config_changes, 1);
  read_post_json(s);
  assert_int_equal(got_count, 3);
  assert_int_equal(got[0].body, spot_v1_Frame_log_create_tag);
  assert_string_equal(got[0].text, "config update: rfid_power_dbm=77 outside 0..33, rejected");
  assert_int_equal(got[1].body, spot_v1_Frame_log_create_tag);
  assert_string_equal(got[1].text, "config update: unknown key \"colour\" ignored");
  assert_int_equal(got[2].body, spot_v1_Frame_config_update_tag);
  /* The config update event names exactly the changed keys. */
  const char *start_of_last = strstr((const char *)post_bytes, "[\"config\",\"update\"");
  assert_non_null(start_of_last);
  assert_memory_equal(start_of_last,
                      "[\"config\",\"update\",{\"brain_address\":\"10.1.1.1\",\"send_hits\":true}]\n\n",
                      strlen("[\"config\",\"update\",{\"brain_address\":\"10.1.1.1\",\"send_hits\":true}]\n\n"));
}

static void reset_restores_factory_defaults(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "", NULL);
  assert_int_equal(spot_commands_applied(s), 0);
  const char a[] = "[\"config\",\"update\",{\"hostname\":\"door\"}]";
  spot_command_input(s, (const uint8_t *)a, sizeof a - 1);
  assert_string_equal(spot_config(s)->hostname, "door");
  assert_int_equal(spot_commands_applied(s), 1); /* the mps2 app's sign that its link is up */
  const char b[] = "[\"config\",\"update\",{\"reset\":true}]";
  spot_command_input(s, (const uint8_t *)b, sizeof b - 1);
  assert_string_equal(spot_config(s)->hostname, "spot");
  read_post_json(s);
  assert_int_equal(got_count, 2); /* two config updates, each with the hostname */
  assert_int_equal(got[1].body, spot_v1_Frame_config_update_tag);
}

static void firmware_update_and_counters_and_brain_senses(void **state) {
  (void)state;
  spot_persist_t old;
  memset(&old, 0, sizeof old);
  old.config_schema = SPOT_CONFIG_SCHEMA_ID;
  old.boot_count = 41;
  old.presence_create_count = 9;
  spot_config_defaults(&old.config);
  spot_t *s = start(SPOT_ENCODING_JSON, "", &old);
  assert_int_equal(spot_state(s)->boot_count, 42);
  assert_int_equal(plog.saved.boot_count, 42);
  const char body[] = "[\"firmware\",\"update\",{\"url\":\"/firmware/beta/beta22.bin\",\"version\":\"beta22\"}]"
                      "[\"firmware\",\"update\",{\"reset_counters\":true}]"
                      "[\"brain_sense\",\"update\",{\"bs1\":5,\"bs3\":-2}]"
                      "[\"door\",\"open\",{}]";
  spot_command_input(s, (const uint8_t *)body, sizeof body - 1);
  spot_command_end(s);
  assert_string_equal(plog.fw_url, "/firmware/beta/beta22.bin");
  assert_string_equal(plog.fw_version, "beta22");
  assert_string_equal(spot_state(s)->firmware_version, "beta22");
  assert_int_equal(spot_state(s)->boot_count, 0);
  assert_int_equal(spot_state(s)->presence_create_count, 0);
  assert_int_equal(spot_state(s)->brain_sense[0], 5);
  assert_int_equal(spot_state(s)->brain_sense[2], -2);
  spot_post_info_t info = read_post_json(s);
  assert_int_equal(info.boot, 42); /* numbering keeps this run's boot */
  assert_int_equal(find(spot_v1_Frame_brain_sense_update_tag, NULL, 0) >= 0, 1);
  assert_string_equal(got[got_count - 1].text, "command door open not supported, ignored");
}

static void firmware_update_with_text_outside_the_rule_is_rejected(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "", NULL);
  plog.fw_url[0] = '\0';
  const char body[] = "[\"firmware\",\"update\",{\"url\":\"/fw/a\\nb.bin\",\"version\":\"2\"}]"
                      "[\"firmware\",\"update\",{\"url\":\"/fw/c.bin\",\"version\":\"beta 3\"}]";
  spot_command_input(s, (const uint8_t *)body, sizeof body - 1);
  spot_command_end(s);
  assert_string_equal(plog.fw_url, ""); /* neither update was started */
  assert_string_equal(spot_state(s)->firmware_version, "");
  read_post_json(s);
  assert_int_equal(got_count >= 2, 1);
  assert_string_equal(got[got_count - 2].text, "firmware update: url holds U+000A (line feed) at character 5 (visible ASCII only), rejected");
  assert_string_equal(got[got_count - 1].text, "firmware update: version holds U+0020 (space) at character 4 (visible ASCII only), rejected");
}

static void stream_commands_do_not_mix_with_a_response_body(void **state) {
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "", NULL);
  spot_stream_open(s);
  const char half[] = "[\"config\",\"update\",{\"hostname\":";
  const char rest[] = "\"desk\"}]";
  const char body[] = "[\"config\",\"update\",{\"telnet\":true}]";
  spot_stream_command_input(s, (const uint8_t *)half, sizeof half - 1);
  spot_command_input(s, (const uint8_t *)body, sizeof body - 1); /* a response body arrives meanwhile */
  spot_command_end(s);
  spot_stream_command_input(s, (const uint8_t *)rest, sizeof rest - 1);
  assert_true(spot_config(s)->telnet);
  assert_string_equal(spot_config(s)->hostname, "desk");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(config_update_command_is_applied_and_reported),
      cmocka_unit_test(reset_restores_factory_defaults),
      cmocka_unit_test(firmware_update_and_counters_and_brain_senses),
      cmocka_unit_test(firmware_update_with_text_outside_the_rule_is_rejected),
      cmocka_unit_test(stream_commands_do_not_mix_with_a_response_body),
  };
  return cmocka_run_group_tests_name("spot_commands", tests, NULL, NULL);
}
