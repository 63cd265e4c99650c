/* The Linux targets' brain address: "host[:port]" parsed for the connect, and its host kept as
 * written for the TLS name check (platform/posix/net.c). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net.h"

static void an_address_gives_its_ip_and_port_and_localhost_is_the_loopback(void **state) {
  (void)state;
  uint32_t ip;
  uint16_t port;
  char reason[96];
  assert_int_equal(net_parse_address("10.1.2.3:8443", &ip, &port, reason, sizeof reason), 0);
  assert_int_equal(ip, inet_addr("10.1.2.3"));
  assert_int_equal(port, 8443);
  assert_int_equal(net_parse_address("localhost", &ip, &port, reason, sizeof reason), 0);
  assert_int_equal(ip, inet_addr("127.0.0.1"));
  assert_int_equal(port, 80);
}

static void a_bad_address_is_refused_with_the_reason(void **state) {
  (void)state;
  uint32_t ip;
  uint16_t port;
  char reason[96];
  assert_int_equal(net_parse_address("10.1.2.3:0", &ip, &port, reason, sizeof reason), -1);
  assert_string_equal(reason, "bad port in address: 10.1.2.3:0");
  assert_int_equal(net_parse_address("gateway.site1.lan:8443", &ip, &port, reason, sizeof reason), -1);
  assert_string_equal(reason, "not an IPv4 address (names are not resolved): gateway.site1.lan");
  assert_int_equal(net_parse_address(":80", &ip, &port, reason, sizeof reason), -1);
  assert_string_equal(reason, "bad brain address: :80");
}

static void the_host_for_the_name_check_is_kept_as_written(void **state) {
  (void)state;
  char host[16];
  assert_int_equal(net_host_of("localhost:8443", host, sizeof host), 0);
  assert_string_equal(host, "localhost");
  assert_int_equal(net_host_of("10.1.2.3", host, sizeof host), 0);
  assert_string_equal(host, "10.1.2.3");
  assert_int_equal(net_host_of("a-name-too-long-for-it:1", host, sizeof host), -1);
  assert_int_equal(net_host_of("exactly15chars.:1", host, sizeof host), 0);
  assert_string_equal(host, "exactly15chars.");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_address_gives_its_ip_and_port_and_localhost_is_the_loopback),
      cmocka_unit_test(a_bad_address_is_refused_with_the_reason),
      cmocka_unit_test(the_host_for_the_name_check_is_kept_as_written),
  };
  return cmocka_run_group_tests_name("net_address", tests, NULL, NULL);
}
