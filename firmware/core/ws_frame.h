/* RFC 6455 section 5 framing, without state: a frame's header written or read,
 * and the masking of a payload. */
#ifndef WS_FRAME_H
#define WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
  WS_OP_CONTINUATION = 0x0,
  WS_OP_TEXT = 0x1,
  WS_OP_BINARY = 0x2,
  WS_OP_CLOSE = 0x8,
  WS_OP_PING = 0x9,
  WS_OP_PONG = 0xA
};

#define WS_FRAME_HEAD_MAX 14u /* 2 + 8 (64-bit length) + 4 (mask) */

/* Writes a frame header for a payload of len bytes: 7-bit length up to 125,
 * 16-bit up to 65535, else 64-bit; with mask (4 bytes) set the MASK bit and
 * the key follow. Returns the header's size. */
size_t ws_frame_head_write(uint8_t *out, bool fin, uint8_t opcode, uint64_t len, const uint8_t *mask);

/* The header's whole size given its first two bytes. */
size_t ws_frame_head_size(const uint8_t first_two[2]);

typedef struct ws_frame_head {
  bool fin;
  uint8_t rsv;    /* RSV1..3 as bits 2..0 */
  uint8_t opcode;
  bool masked;
  uint8_t mask[4];
  uint64_t len;
} ws_frame_head_t;

/* Reads a complete header (ws_frame_head_size() bytes). False when the length
 * is not in its minimal form's range or has its most significant bit set. */
bool ws_frame_head_read(const uint8_t *head, ws_frame_head_t *h);

/* XORs data with the mask, as the bytes at offset.. of a payload (RFC 6455 5.3). */
void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);

#endif
