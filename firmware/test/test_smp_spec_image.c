/* The spot's SMP server against the exchanges Zephyr's SMP specification describes
   (docs/smp.md, "Conformance"), image group: the requests of smp_group_1.rst built
   byte by byte from its text and exchanged through smp_spec_exchange.h (framing
   and CBOR reading of its own), the answers checked for the keys and value types
   the specification gives, and the error forms of both protocol versions. */
#include "smp_spec_exchange.h"

/* --- smp_group_1.rst ----------------------------------------------------------- */

/* "Get state of images response": {"images": [{"image" (uint, opt), "slot" (uint),
   "version" (str), "hash" (byte str), "bootable", "pending", "confirmed", "active",
   "permanent" (bool, opt)}]}; slot 0 is the running one. */
static item_t check_image_entry(const answer_t *a, item_t entry, uint64_t slot)
{
  expect_type(entry, T_MAP);
  assert_int_equal(field(a->cbor, a->cbor_len, entry, "slot", T_UINT).arg, slot);
  item_t image;
  if (lookup(a->cbor, a->cbor_len, entry, "image", &image)) {
    expect_type(image, T_UINT);
    assert_int_equal(image.arg, 0);
  }
  field(a->cbor, a->cbor_len, entry, "version", T_STR);
  assert_int_equal(field(a->cbor, a->cbor_len, entry, "hash", T_BYTES).arg, 32);
  static const char *const flags[] = {"bootable", "pending", "confirmed", "active", "permanent"};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    item_t v;
    if (lookup(a->cbor, a->cbor_len, entry, flags[i], &v)) {
      expect_type(v, T_BOOL);
    }
  }
  return entry;
}

static bool flag(const answer_t *a, item_t entry, const char *name)
{
  item_t v;
  return lookup(a->cbor, a->cbor_len, entry, name, &v) && v.arg == 21;
}

/* The entries of an image state answer. */
static size_t entries(const answer_t *a, item_t out[2])
{
  item_t images = get(a, "images", T_ARRAY);
  assert_true(images.arg <= 2);
  size_t pos = images.start + 1;
  for (uint64_t i = 0; i < images.arg; i++) {
    out[i] = next_item(a->cbor, a->cbor_len, &pos);
  }
  return (size_t)images.arg;
}

static void test_get_state_of_images(void **state)
{
  (void)state;
  item_t e[2];
  const answer_t *a = exchange(1, 0, 1, 0x20, 0, EMPTY_MAP, sizeof EMPTY_MAP);
  assert_int_equal(entries(a, e), 1);
  check_image_entry(a, e[0], 0);
  assert_true(flag(a, e[0], "active") && flag(a, e[0], "confirmed"));
  item_t version = field(a->cbor, a->cbor_len, e[0], "version", T_STR);
  assert_int_equal(version.arg, 5);
  assert_memory_equal(version.data, "1.0.0", 5);
}

/* "Image upload request": OP 2, group 1, command 1, {"image" (uint, opt), "len" (uint,
   with off 0), "off" (uint), "sha" (byte str, opt), "data" (byte str), "upgrade" (bool,
   opt)}; "Image upload response": {"off" (uint), "match" (bool, opt, the last one)}.
   Then "Set state of image request" {"hash", "confirm": false}: the answer has the
   form of the state read, the uploaded image pending. */
static void test_image_upload_and_set_state(void **state)
{
  (void)state;
  static uint8_t req[SMP_BUF_SIZE];
  uint8_t sha[32];
  assert_int_equal(mbedtls_sha256_ret(image_b.bytes, image_b.len, sha, 0), 0);
  const uint32_t chunk = 1024;
  uint64_t off = 0;
  bool matched = false;
  for (uint8_t seq = 0x30; off < image_b.len; seq++) {
    size_t n = 0, take = image_b.len - off < chunk ? image_b.len - (size_t)off : chunk;
    req[n++] = off == 0 ? 0xa6 : 0xa2; /* a map of 6 pairs, later of 2 */
    if (off == 0) {
      memcpy(req + n, "\x65image\x00", 7); /* "image": 0 */
      n += 7;
      memcpy(req + n, "\x63len\x19", 5); /* "len": (uint, two bytes) */
      n += 5;
      req[n++] = (uint8_t)(image_b.len >> 8);
      req[n++] = (uint8_t)image_b.len;
      memcpy(req + n, "\x63sha\x58\x20", 6); /* "sha": 32 bytes */
      n += 6;
      memcpy(req + n, sha, 32);
      n += 32;
      memcpy(req + n, "\x67upgrade\xf4", 9); /* "upgrade": false */
      n += 9;
    }
    memcpy(req + n, "\x63off\x19", 5); /* "off": (uint, two bytes) */
    n += 5;
    req[n++] = (uint8_t)(off >> 8);
    req[n++] = (uint8_t)off;
    memcpy(req + n, "\x64" "data\x59", 6); /* "data": (byte str, two-byte length) */
    n += 6;
    req[n++] = (uint8_t)(take >> 8);
    req[n++] = (uint8_t)take;
    memcpy(req + n, image_b.bytes + off, take);
    n += take;
    const answer_t *a = exchange(1, 2, 1, seq, 1, req, n);
    uint64_t next = get(a, "off", T_UINT).arg;
    assert_int_equal(next, off + take);
    if (next == image_b.len) {
      matched = get(a, "match", T_BOOL).arg == 21;
    } else {
      assert_false(has(a, "match"));
    }
    off = next;
  }
  assert_true(matched);

  /* the hash image state lists is the image's SHA256 TLV */
  item_t e[2];
  const answer_t *a = exchange(1, 0, 1, 0x40, 0, EMPTY_MAP, sizeof EMPTY_MAP);
  assert_int_equal(entries(a, e), 2);
  item_t hash = field(a->cbor, a->cbor_len, check_image_entry(a, e[1], 1), "hash", T_BYTES);
  uint8_t tlv_hash[32];
  memcpy(tlv_hash, hash.data, 32);
  assert_false(flag(a, e[1], "pending") || flag(a, e[1], "active"));

  uint8_t set[49] = {0xa2, 0x64, 'h', 'a', 's', 'h', 0x58, 0x20}; /* "hash": 32 bytes */
  memcpy(set + 8, tlv_hash, 32);
  memcpy(set + 40, "\x67" "confirm" "\xf4", 9); /* "confirm": false */
  a = exchange(1, 2, 1, 0x41, 0, set, sizeof set);
  assert_int_equal(entries(a, e), 2);
  check_image_entry(a, e[0], 0);
  check_image_entry(a, e[1], 1);
  assert_true(flag(a, e[1], "pending"));
  assert_false(flag(a, e[1], "permanent"));
}

/* The error forms ("In case of error"): version 2 (Ver 1) {"err": {"group" (uint), "rc"
   (uint)}}, version 1 (Ver 0) {"rc" (int)}: an upload whose "len" is larger than the slot. */
static void test_error_forms(void **state)
{
  (void)state;
  const uint8_t too_big[] = {0xa3, 0x63, 'l', 'e', 'n', 0x1a, 0x00, 0x10, 0x00, 0x00, /* "len": 1 MiB */
                             0x63, 'o', 'f', 'f', 0x00, 0x64, 'd', 'a', 't', 'a', 0x41, 0x00};
  const answer_t *a = exchange(1, 2, 1, 0x50, 1, too_big, sizeof too_big);
  item_t err = get(a, "err", T_MAP);
  assert_int_equal(field(a->cbor, a->cbor_len, err, "group", T_UINT).arg, 1);
  assert_true(field(a->cbor, a->cbor_len, err, "rc", T_UINT).arg > 0);
  assert_false(has(a, "off"));
  a = exchange(0, 2, 1, 0x51, 1, too_big, sizeof too_big);
  assert_true(get(a, "rc", T_INT).arg > 0);
  assert_false(has(a, "err"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_get_state_of_images, setup),
      cmocka_unit_test_setup(test_image_upload_and_set_state, setup),
      cmocka_unit_test_setup(test_error_forms, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
