/* SHA-1 (FIPS 180-4, as RFC 3174 describes it) for the WebSocket opening
 * handshake's Sec-WebSocket-Accept check, and base64 (RFC 4648 section 4).
 * Not for anything that needs collision resistance. */
#ifndef SHA1_H
#define SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_BYTES 20u

typedef struct sha1 {
  uint32_t h[5];
  uint64_t length; /* bytes hashed so far */
  uint8_t block[64];
  size_t fill;
} sha1_t;

void sha1_init(sha1_t *s);
void sha1_update(sha1_t *s, const void *data, size_t len);
void sha1_final(sha1_t *s, uint8_t digest[SHA1_DIGEST_BYTES]);

/* Base64 of len bytes into out (NUL-terminated); returns the text's length, or 0
 * when it does not fit in cap (4 * ceil(len / 3) + 1 bytes needed). */
size_t base64_encode(const uint8_t *bytes, size_t len, char *out, size_t cap);

#endif
