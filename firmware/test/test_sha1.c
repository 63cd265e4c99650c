/* SHA-1 against the test vectors of RFC 3174 section 7.3, base64 against RFC 4648 section 10. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sha1.h"

static void hex_of(const uint8_t *d, char *out)
{
  for (size_t i = 0; i < SHA1_DIGEST_BYTES; i++) {
    snprintf(out + 2 * i, 3, "%02X", d[i]);
  }
}

/* RFC 3174's test driver: the text hashed `repeat` times over. */
static void check(const char *text, size_t repeat, const char *expected)
{
  sha1_t s;
  uint8_t digest[SHA1_DIGEST_BYTES];
  char hex[2 * SHA1_DIGEST_BYTES + 1];
  sha1_init(&s);
  for (size_t i = 0; i < repeat; i++) {
    sha1_update(&s, text, strlen(text));
  }
  sha1_final(&s, digest);
  hex_of(digest, hex);
  assert_string_equal(hex, expected);
}

static void rfc3174_test_vectors(void **state)
{
  (void)state;
  check("abc", 1, "A9993E364706816ABA3E25717850C26C9CD0D89D");
  check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, "84983E441C3BD26EBAAE4AA1F95129E5E54670F1");
  check("a", 1000000, "34AA973CD4C4DAA4F61EEB2BDBAD27316534016F");
  check("0123456701234567012345670123456701234567012345670123456701234567", 10,
        "DEA356A2CDDD90C7A7ECEDC5EBB563934F460452");
}

static void the_empty_message_and_a_block_boundary(void **state)
{
  (void)state;
  check("", 1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709");
  /* 55 and 56 bytes: the padding fits in the block, or needs another */
  check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1, "C1C8BBDC22796E28C0E15163D20899B65621D65A");
  check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1, "C2DB330F6083854C99D4B5BFB6E8F29F201BE699");
}

static void base64_rfc4648_vectors_and_too_small_a_buffer(void **state)
{
  (void)state;
  static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  char text[16];
  for (size_t i = 0; i < 7; i++) {
    assert_int_equal(base64_encode((const uint8_t *)in[i], strlen(in[i]), text, sizeof text), strlen(out[i]));
    assert_string_equal(text, out[i]);
  }
  assert_int_equal(base64_encode((const uint8_t *)"foobar", 6, text, 8), 0); /* 8 + NUL needed */
  assert_int_equal(base64_encode((const uint8_t *)"foobar", 6, text, 9), 8);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc3174_test_vectors),
      cmocka_unit_test(the_empty_message_and_a_block_boundary),
      cmocka_unit_test(base64_rfc4648_vectors_and_too_small_a_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
