/* The spot's SMP server, protocol side (docs/smp.md): the specification's
   exchanges of the OS group (MCUmgr parameters, OS/application info, reset),
   errors in both protocol versions, the CBOR subset of requests, and a server
   without the flash. The serial framing is in test_smp_framing.c, the image
   group in test_smp_image.c and test_smp_upload.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot_sim_flash.h"
#include "smp_server.h"
#include "smp_test_util.h"

static sim_flash_t sim;
static boot_flash_t flash;
static const boot_map_t map = BOOT_MAP_MPS2_AN385;
static smp_server_t server;
static const smp_server_config_t config = {
    &flash, &map, "spot", "spot-4711", "2.1.0", "2026-01-01", "arm", "cortex-m3", "mps2-an385", false,
};
static int setup(void **state)
{
  (void)state;
  sim_flash_init(&sim, map.scratch + map.sector_size, map.sector_size);
  flash = sim_flash_interface(&sim);
  assert_int_equal(smp_server_init(&server, &config), BOOT_OK);
  return 0;
}

static size_t request(uint8_t version, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body, size_t body_len)
{
  uint8_t msg[256];
  size_t len = smp_message(msg, version, op, group, 1, id, body, body_len);
  return smp_exchange(&server, msg, len);
}

static void test_mcumgr_parameters(void **state)
{
  (void)state;
  size_t n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
  assert_int_equal(server.buf[0], 0x09); /* version 1, read response */
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "buf_size"), SMP_BUF_SIZE);
  assert_true(SMP_BUF_SIZE >= 2048);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "buf_count"), 1);
}

static void info(const char *format, const char *expect)
{
  uint8_t body[64];
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, format ? 1 : 0);
  if (format) {
    cbor_put_cstr(&w, "format");
    cbor_put_cstr(&w, format);
  }
  size_t n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, w.len);
  cbor_item_t v;
  assert_true(smp_find(server.buf + 8, n, NULL, "output", &v));
  assert_int_equal(v.major, CBOR_TEXT);
  assert_int_equal(v.arg, strlen(expect));
  assert_memory_equal(v.data, expect, strlen(expect));
}

static void test_os_info(void **state)
{
  (void)state;
  info(NULL, "spot");
  info("s", "spot");
  info("rvi", "2.1.0 2.1.0 mps2-an385");
  info("a", "spot spot-4711 2.1.0 2.1.0 2026-01-01 arm cortex-m3 mps2-an385 spot");
  uint8_t body[16];
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, 1);
  cbor_put_cstr(&w, "format");
  cbor_put_cstr(&w, "sq");
  size_t n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, w.len);
  assert_int_equal(smp_uint(server.buf + 8, n, "err", "group"), 0);
  assert_int_equal(smp_uint(server.buf + 8, n, "err", "rc"), 2); /* invalid format */
  n = request(0, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, w.len);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_EINVAL);
}

static void test_reset_answers_then_resets(void **state)
{
  (void)state;
  size_t n = request(1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, (const uint8_t *)"\xa0", 1);
  assert_int_equal(n, 1);
  assert_int_equal(server.buf[8], 0xa0);
  assert_int_equal(server.buf[0], 0x0b);
  assert_true(server.reset_requested);
  assert_false(server.bootloader_requested);
}

/* boot_mode 1: reset into the bootloader's serial recovery (MCUmgr's boot mode; 0 is the
   application); other values are refused, and so is 1 by a server without the flash. */
static uint64_t reset_with_boot_mode(uint64_t mode)
{
  uint8_t body[16];
  cbor_writer_t w;
  cbor_writer_init(&w, body, sizeof body);
  cbor_put_map(&w, 1);
  cbor_put_cstr(&w, "boot_mode");
  cbor_put_uint(&w, mode);
  server.reset_requested = server.bootloader_requested = false;
  size_t n = request(1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, body, w.len);
  return n == 1 && server.buf[8] == 0xa0 ? 0 : smp_uint(server.buf + 8, n, NULL, "rc");
}

static void test_reset_into_the_bootloader(void **state)
{
  (void)state;
  assert_int_equal(reset_with_boot_mode(SMP_BOOT_MODE_BOOTLOADER), 0);
  assert_true(server.reset_requested && server.bootloader_requested);
  assert_int_equal(reset_with_boot_mode(SMP_BOOT_MODE_NORMAL), 0);
  assert_true(server.reset_requested && !server.bootloader_requested);
  assert_int_equal(reset_with_boot_mode(2), SMP_RC_EINVAL);
  assert_false(server.reset_requested);
  smp_server_config_t bare = config;
  bare.flash = NULL;
  assert_int_equal(smp_server_init(&server, &bare), BOOT_OK);
  assert_int_equal(reset_with_boot_mode(SMP_BOOT_MODE_BOOTLOADER), SMP_RC_ENOTSUP);
  assert_false(server.reset_requested);
  assert_int_equal(reset_with_boot_mode(SMP_BOOT_MODE_NORMAL), 0);
}

static void test_protocol_errors(void **state)
{
  (void)state;
  /* an unknown group and an unknown command: rc 8 (not supported) in both versions */
  size_t n = request(1, SMP_OP_READ, 64, 0, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_ENOTSUP);
  n = request(0, SMP_OP_READ, SMP_GROUP_OS, 3, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_ENOTSUP);
  /* echo as a read is answered as a read (smp_group_0.rst: OP 0 or 2), here refused for its missing "d" */
  n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_ECHO, (const uint8_t *)"\xa0", 1);
  assert_int_equal(server.buf[0] & 7, SMP_OP_READ_RSP);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_EINVAL);
  /* a version this server does not know: too new, answered as version 1 */
  n = request(2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_ENOTSUP_VERSION);
  assert_int_equal(server.buf[0] >> 3, 1);
  /* not CBOR, a map cut short, a key that is not text, "d" that is not text */
  static const uint8_t *bodies[] = {(const uint8_t *)"\xff", (const uint8_t *)"\xa1\x61\x64", (const uint8_t *)"\xa1\x01\x02",
                                    (const uint8_t *)"\xa1\x61\x64\x01"};
  static const size_t lens[] = {1, 3, 3, 4};
  for (size_t i = 0; i < 4; i++) {
    n = request(1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, bodies[i], lens[i]);
    assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_EINVAL);
  }
  /* echo without "d" */
  n = request(1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_EINVAL);
  /* a response (op 1) or a header alone with a wrong length is not answered / refused */
  uint8_t msg[16];
  size_t len = smp_message(msg, 1, SMP_OP_READ_RSP, SMP_GROUP_OS, 1, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
  memcpy(server.buf, msg, len);
  assert_int_equal(smp_server_handle(&server, len), 0);
  assert_int_equal(smp_server_handle(&server, 4), 0);
  len = smp_message(msg, 1, SMP_OP_READ, SMP_GROUP_OS, 1, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
  msg[3] = 5;
  n = smp_exchange(&server, msg, len);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_EINVAL);
}

/* Unknown keys, nested values, tags and an indefinite map are skipped; an empty body is an empty map. */
static void test_cbor_subset(void **state)
{
  (void)state;
  static const uint8_t body[] = {0xbf, 0x61, 0x78, 0x82, 0x01, 0xa1, 0x61, 0x79, 0x20, /* "x": [1, {"y": -1}] */
                                 0x61, 0x74, 0xc1, 0x1a, 0x00, 0x01, 0x00, 0x00,       /* "t": tag 1 (65536) */
                                 0x61, 0x64, 0x62, 0x68, 0x69,                         /* "d": "hi" */
                                 0x61, 0x66, 0xf5, 0xff};                              /* "f": true, break */
  size_t n = request(1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, sizeof body);
  cbor_item_t v;
  assert_true(smp_find(server.buf + 8, n, NULL, "r", &v));
  assert_int_equal(v.arg, 2);
  assert_memory_equal(v.data, "hi", 2);
  n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, NULL, 0);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "buf_size"), SMP_BUF_SIZE);
  /* the writer's shortest heads, and a full buffer */
  uint8_t small[12];
  cbor_writer_t w;
  cbor_writer_init(&w, small, sizeof small);
  cbor_put_uint(&w, 23);
  cbor_put_uint(&w, 24);
  cbor_put_uint(&w, 0x1234);
  cbor_put_uint(&w, 0x12345678);
  static const uint8_t heads[] = {0x17, 0x18, 0x18, 0x19, 0x12, 0x34, 0x1a, 0x12, 0x34, 0x56, 0x78};
  assert_int_equal(w.len, sizeof heads);
  assert_memory_equal(small, heads, sizeof heads);
  assert_false(w.overflow);
  cbor_put_uint(&w, 0x100000000ull);
  assert_true(w.overflow);
  cbor_reader_t r;
  cbor_item_t item;
  static const uint8_t big[] = {0x1b, 0, 0, 0, 1, 0, 0, 0, 0};
  cbor_reader_init(&r, big, sizeof big);
  assert_true(cbor_read(&r, &item));
  assert_int_equal(item.arg, 0x100000000ull);
  cbor_reader_init(&r, big, 5);
  assert_false(cbor_read(&r, &item));
  static const uint8_t indefinite_text[] = {0x7f, 0x61, 0x61, 0xff};
  cbor_reader_init(&r, indefinite_text, sizeof indefinite_text);
  assert_false(cbor_read(&r, &item));
}

static void test_no_flash_no_image_group(void **state)
{
  (void)state;
  smp_server_config_t bare = config;
  bare.flash = NULL;
  assert_int_equal(smp_server_init(&server, &bare), BOOT_OK);
  size_t n = request(1, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMAGE_STATE, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "rc"), SMP_RC_ENOTSUP);
  n = request(1, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, (const uint8_t *)"\xa0", 1);
  assert_int_equal(smp_uint(server.buf + 8, n, NULL, "buf_size"), SMP_BUF_SIZE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_mcumgr_parameters, setup),
      cmocka_unit_test_setup(test_os_info, setup),
      cmocka_unit_test_setup(test_reset_answers_then_resets, setup),
      cmocka_unit_test_setup(test_reset_into_the_bootloader, setup),
      cmocka_unit_test_setup(test_protocol_errors, setup),
      cmocka_unit_test_setup(test_cbor_subset, setup),
      cmocka_unit_test_setup(test_no_flash_no_image_group, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
