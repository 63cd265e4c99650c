/* Config: generated defaults and table, validated updates, PB form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config_apply.h"
#include "config_text.h"
#include "frame_json.h"
#include "text.h"

static spot_config_t cfg;
static spot_v1_Frame frame;
static char reasons[8][128];
static bool unknown[8];
static int reason_count;

static void reject(void *ctx, bool unknown_key, const char *reason) {
  (void)ctx;
  assert_true(reason_count < 8);
  unknown[reason_count] = unknown_key;
  strncpy(reasons[reason_count], reason, sizeof reasons[0] - 1);
  reason_count++;
}

static uint64_t apply_json(const char *text) {
  const char *why = NULL;
  reason_count = 0;
  assert_true(frame_json_decode(text, strlen(text), &frame, &why));
  assert_int_equal(frame.which_body, spot_v1_Frame_config_update_tag);
  return config_apply_pb(&cfg, &frame.body.config_update, reject, NULL);
}

static uint64_t bit(int key) { return (uint64_t)1 << key; }

static int setup(void **state) {
  (void)state;
  spot_config_defaults(&cfg);
  return 0;
}

static void defaults_come_from_the_schema(void **state) {
  (void)state;
  assert_int_equal(cfg.rfid_power_dbm, 27);
  assert_true(cfg.auto_hold_delay);
  assert_string_equal(spot_config_keys[SPOT_CONFIG_KEY_RFID_REGION].values[cfg.rfid_region], "eu");
  assert_string_equal(cfg.brain_address, "brain.local");
  assert_string_equal(cfg.control_schema, "{}");
  assert_true(cfg.max_antenna_swr == 3.0);
  assert_int_equal(spot_config_key_index("send_hits", 9), SPOT_CONFIG_KEY_SEND_HITS);
  assert_int_equal(spot_config_key_index("nope", 4), -1);
}

static void valid_keys_are_applied_and_reported_as_changed(void **state) {
  (void)state;
  uint64_t changed = apply_json("[\"config\",\"update\",{\"brain_address\":\"192.168.0.120\",\"send_hits\":true,"
                                "\"rfid_region\":\"us\",\"max_antenna_swr\":2.5,\"rfid_power_dbm\":27}]");
  assert_int_equal(reason_count, 0);
  assert_string_equal(cfg.brain_address, "192.168.0.120");
  assert_true(cfg.send_hits);
  assert_string_equal(spot_config_keys[SPOT_CONFIG_KEY_RFID_REGION].values[cfg.rfid_region], "us");
  assert_true(cfg.max_antenna_swr == 2.5);
  /* rfid_power_dbm kept its value: not a change */
  assert_int_equal(changed, bit(SPOT_CONFIG_KEY_BRAIN_ADDRESS) | bit(SPOT_CONFIG_KEY_SEND_HITS) |
                                bit(SPOT_CONFIG_KEY_RFID_REGION) | bit(SPOT_CONFIG_KEY_MAX_ANTENNA_SWR));
}

static void bad_values_are_rejected_per_key(void **state) {
  (void)state;
  uint64_t changed = apply_json("[\"config\",\"update\",{\"rfid_power_dbm\":99,\"rfid_region\":\"mars\","
                                "\"ip\":\"10.0.0.256\",\"telnet\":true,\"fixed_hold_delay_s\":\"soon\"}]");
  assert_int_equal(changed, bit(SPOT_CONFIG_KEY_TELNET));
  assert_int_equal(cfg.rfid_power_dbm, 27);
  assert_int_equal(reason_count, 4);
  assert_string_equal(reasons[0], "config update: rfid_power_dbm=99 outside 0..33, rejected");
  assert_string_equal(reasons[1], "config update: rfid_region=\"mars\" is not one of its values, rejected");
  assert_string_equal(reasons[2], "config update: ip=\"10.0.0.256\" is not an IPv4 address, rejected");
  assert_string_equal(reasons[3], "config update: fixed_hold_delay_s needs a value of type int, rejected");
  assert_false(unknown[3]);
}

static void unknown_keys_are_ignored_and_reported(void **state) {
  (void)state;
  uint64_t changed = apply_json("[\"config\",\"update\",{\"colour\":\"red\",\"hostname\":\"door-1\"}]");
  assert_int_equal(changed, bit(SPOT_CONFIG_KEY_HOSTNAME));
  assert_int_equal(reason_count, 1);
  assert_true(unknown[0]);
  assert_string_equal(reasons[0], "config update: unknown key \"colour\" ignored");
}

static void number_as_string_is_accepted_where_lossless(void **state) {
  (void)state;
  uint64_t changed = apply_json("[\"config\",\"update\",{\"rfid_power_dbm\":\"20\",\"use_dhcp\":\"false\"}]");
  assert_int_equal(reason_count, 0);
  assert_int_equal(cfg.rfid_power_dbm, 20);
  assert_false(cfg.use_dhcp);
  assert_int_equal(changed, bit(SPOT_CONFIG_KEY_RFID_POWER_DBM) | bit(SPOT_CONFIG_KEY_USE_DHCP));
}

/* Text keys as shared-schema/spot-config.json limits them, as the gateway checks
 * them: no control characters (the JSON escapes \n, \t, \u0085 too), visible
 * ASCII where the key says so, at least minLength bytes. */
static void text_values_outside_the_schema_are_rejected(void **state) {
  (void)state;
  uint64_t changed = apply_json("[\"config\",\"update\",{\"hostname\":\"door\\n1\",\"brain_address\":\"a\\tb\","
                                "\"update_address\":\"x\\u0085\",\"dashboard_address\":\"my host\"}]");
  assert_int_equal(changed, 0);
  assert_int_equal(reason_count, 4);
  assert_string_equal(reasons[0], "config update: brain_address holds U+0009 (tab) at character 1 (visible ASCII "
                                  "only), rejected");
  assert_string_equal(reasons[1], "config update: update_address holds U+0085 at character 1 (visible ASCII only), "
                                  "rejected");
  assert_string_equal(reasons[2], "config update: dashboard_address holds U+0020 (space) at character 2 (visible "
                                  "ASCII only), rejected");
  assert_string_equal(reasons[3], "config update: hostname holds U+000A (line feed) at character 4 (visible ASCII "
                                  "only), rejected");
  assert_string_equal(cfg.hostname, "spot");
  assert_string_equal(cfg.brain_address, "brain.local");
  assert_string_equal(cfg.update_address, "");
  assert_string_equal(cfg.dashboard_address, "");
  changed = apply_json("[\"config\",\"update\",{\"brain_address\":\"\",\"update_address\":\"\"}]");
  assert_int_equal(changed, 0); /* update_address may be empty (and is) */
  assert_int_equal(reason_count, 1);
  assert_string_equal(reasons[0], "config update: brain_address is empty (at least 1 byte), rejected");
  assert_string_equal(cfg.brain_address, "brain.local");
  changed = apply_json("[\"config\",\"update\",{\"hostname\":\"door-1.example\"}]");
  assert_int_equal(reason_count, 0);
  assert_int_equal(changed, bit(SPOT_CONFIG_KEY_HOSTNAME));
}

/* The rule for text without "chars": any UTF-8 but the control characters. */
static void text_rule_without_chars_refuses_control_characters_only(void **state) {
  (void)state;
  char buf[128];
  text_t why;
  text_init(&why, buf, sizeof buf);
  assert_true(config_text_ok("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0, false, &why));
  assert_string_equal(buf, "");
  assert_false(config_text_ok("\xc3\xa9\xc2\x9f", 0, false, &why));
  assert_string_equal(buf, " holds U+009F at character 1 (no control characters), rejected");
  text_init(&why, buf, sizeof buf);
  assert_false(config_text_ok("ab\x7f", 0, false, &why));
  assert_string_equal(buf, " holds U+007F (DEL) at character 2 (no control characters), rejected");
  text_init(&why, buf, sizeof buf);
  assert_false(config_text_ok("\r", 0, false, &why));
  assert_string_equal(buf, " holds U+000D (carriage return) at character 0 (no control characters), rejected");
  text_init(&why, buf, sizeof buf);
  assert_false(config_text_ok("a\xed\xa0\x80", 0, false, &why)); /* a lone surrogate */
  assert_string_equal(buf, " holds U+D800 (an unpaired surrogate) at character 1 (no control characters), rejected");
  text_init(&why, buf, sizeof buf);
  assert_false(config_text_ok("ok\xff", 0, false, &why));
  assert_string_equal(buf, " holds the byte 0xFF, not UTF-8, at byte 2, rejected");
  text_init(&why, buf, sizeof buf);
  assert_false(config_text_ok("\xc3", 0, false, &why)); /* cut short */
  assert_string_equal(buf, " holds the byte 0xC3, not UTF-8, at byte 0, rejected");
  text_init(&why, buf, sizeof buf);
  assert_false(config_text_ok("ab", 3, false, &why));
  assert_string_equal(buf, " is 2 bytes long (at least 3 bytes), rejected");
}

static void config_create_has_every_key(void **state) {
  (void)state;
  memset(&frame, 0, sizeof frame);
  frame.which_body = spot_v1_Frame_config_create_tag;
  config_to_pb(&cfg, CONFIG_ALL_KEYS, &frame.body.config_create);
  static uint8_t buf[2048];
  size_t n = frame_json_encode(&frame, buf, sizeof buf - 1);
  assert_true(n > 0);
  buf[n] = '\0';
  for (int i = 0; i < SPOT_CONFIG_KEY_COUNT; i++) {
    char key[64];
    key[0] = '"';
    strcpy(key + 1, spot_config_keys[i].name);
    strcat(key, "\":");
    assert_non_null(strstr((char *)buf, key));
  }
  assert_non_null(strstr((char *)buf, "\"control_schema\":{}"));
  assert_non_null(strstr((char *)buf, "\"max_antenna_swr\":3,"));
  assert_null(strstr((char *)buf, "\"reset\""));
}

static void corrupt_stored_keys_go_back_to_their_defaults(void **state) {
  (void)state;
  cfg.rfid_power_dbm = 500;
  cfg.rfid_region = 200;
  memset(cfg.hostname, 'x', sizeof cfg.hostname); /* no NUL */
  strcpy(cfg.ip, "999.1.1.1");
  strcpy(cfg.brain_address, "");             /* below its minLength */
  strcpy(cfg.dashboard_address, "a\nb");     /* a control character */
  strcpy(cfg.update_address, "host.local"); /* valid: kept */
  cfg.send_hits = true;                      /* valid: kept */
  static spot_config_t defaults;
  uint64_t fixed = config_sanitize(&cfg, &defaults);
  assert_int_equal(fixed, bit(SPOT_CONFIG_KEY_RFID_POWER_DBM) | bit(SPOT_CONFIG_KEY_RFID_REGION) |
                              bit(SPOT_CONFIG_KEY_HOSTNAME) | bit(SPOT_CONFIG_KEY_IP) |
                              bit(SPOT_CONFIG_KEY_BRAIN_ADDRESS) | bit(SPOT_CONFIG_KEY_DASHBOARD_ADDRESS));
  assert_string_equal(cfg.brain_address, "brain.local");
  assert_string_equal(cfg.dashboard_address, "");
  assert_string_equal(cfg.update_address, "host.local");
  assert_int_equal(cfg.rfid_power_dbm, 27);
  assert_int_equal(cfg.rfid_region, 0);
  assert_string_equal(cfg.hostname, "spot");
  assert_string_equal(cfg.ip, "0.0.0.0");
  assert_true(cfg.send_hits);
  assert_int_equal(config_sanitize(&cfg, &defaults), 0);
}

static void ipv4_check(void **state) {
  (void)state;
  assert_true(config_is_ipv4("0.0.0.0"));
  assert_true(config_is_ipv4("255.255.255.0"));
  assert_false(config_is_ipv4("1.2.3"));
  assert_false(config_is_ipv4("1.2.3.4.5"));
  assert_false(config_is_ipv4("1.2.3.a"));
  assert_false(config_is_ipv4(""));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(defaults_come_from_the_schema, setup),
      cmocka_unit_test_setup(valid_keys_are_applied_and_reported_as_changed, setup),
      cmocka_unit_test_setup(bad_values_are_rejected_per_key, setup),
      cmocka_unit_test_setup(unknown_keys_are_ignored_and_reported, setup),
      cmocka_unit_test_setup(number_as_string_is_accepted_where_lossless, setup),
      cmocka_unit_test_setup(text_values_outside_the_schema_are_rejected, setup),
      cmocka_unit_test_setup(text_rule_without_chars_refuses_control_characters_only, setup),
      cmocka_unit_test_setup(config_create_has_every_key, setup),
      cmocka_unit_test_setup(corrupt_stored_keys_go_back_to_their_defaults, setup),
      cmocka_unit_test_setup(ipv4_check, setup),
  };
  return cmocka_run_group_tests_name("config_apply", tests, NULL, NULL);
}
