/* libsodium's SHA-512 interface, as its Ed25519 verify calls it, computed by
   mbedTLS's SHA-512 built small (MBEDTLS_SHA512_SMALLER, no SHA-384): its
   rounds in a loop instead of libsodium's unrolled transform, which saves the
   bootloader about 6 KiB of flash (docs/bootloader.md, "Validity hook").
   mbedTLS's context lives inside libsodium's state, which has the same size. */
#include <stddef.h>

#include "crypto_hash_sha512.h"
#include "mbedtls/sha512.h"

_Static_assert(sizeof(mbedtls_sha512_context) <= sizeof(crypto_hash_sha512_state),
               "mbedTLS's SHA-512 context must fit libsodium's state");
_Static_assert(_Alignof(mbedtls_sha512_context) <= _Alignof(crypto_hash_sha512_state),
               "and be no more aligned");

static mbedtls_sha512_context *context(crypto_hash_sha512_state *state)
{
  return (mbedtls_sha512_context *)(void *)state;
}

int crypto_hash_sha512_init(crypto_hash_sha512_state *state)
{
  mbedtls_sha512_init(context(state));
  return mbedtls_sha512_starts_ret(context(state), 0) == 0 ? 0 : -1;
}

int crypto_hash_sha512_update(crypto_hash_sha512_state *state, const unsigned char *in, unsigned long long inlen)
{
  return mbedtls_sha512_update_ret(context(state), in, (size_t)inlen) == 0 ? 0 : -1;
}

int crypto_hash_sha512_final(crypto_hash_sha512_state *state, unsigned char *out)
{
  return mbedtls_sha512_finish_ret(context(state), out) == 0 ? 0 : -1;
}

/* The one-shot form (libsodium's signing uses it: the tests sign their images). */
int crypto_hash_sha512(unsigned char *out, const unsigned char *in, unsigned long long inlen)
{
  crypto_hash_sha512_state state;
  int rc = crypto_hash_sha512_init(&state);
  if (rc == 0) {
    rc = crypto_hash_sha512_update(&state, in, inlen);
  }
  return rc == 0 ? crypto_hash_sha512_final(&state, out) : rc;
}
