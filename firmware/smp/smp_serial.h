/* SMP over a serial line (docs/smp.md, "Serial transport"): packets cut into
   frames of at most 127 bytes, each a marker (06 09 first, 04 14 continuation),
   base64 and a newline; the first frame opens with the total length (body + 2),
   the last ends with the CRC-16/XMODEM of the body. No heap: the reader decodes
   into the caller's packet buffer, the writer hands out one line at a time. */
#ifndef SMP_SERIAL_H
#define SMP_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMP_FRAME_MAX 127u       /* marker, base64 and newline */
#define SMP_FRAME_RAW_MAX 93u    /* raw bytes one frame carries: 124 base64 characters */
#define SMP_MARK_FIRST_0 0x06u
#define SMP_MARK_FIRST_1 0x09u
#define SMP_MARK_NEXT_0 0x04u
#define SMP_MARK_NEXT_1 0x14u

uint16_t smp_crc16(uint16_t crc, const uint8_t *data, size_t len);

typedef enum {
  SMP_LINE_MORE,    /* a frame taken, the packet is not complete yet */
  SMP_LINE_PACKET,  /* the packet is complete: smp_serial_reader_t.body, body_len */
  SMP_LINE_DROPPED, /* the frame, or the packet it belonged to, was dropped: .dropped_why */
} smp_line_result_t;

typedef struct smp_serial_reader {
  uint8_t *buf;      /* body + CRC as they arrive */
  size_t cap;        /* the largest body taken, + 2 for the CRC */
  size_t len;        /* bytes of the packet received */
  size_t expected;   /* total length from the first frame (body + CRC) */
  bool in_packet;
  const char *dropped_why;
  uint32_t dropped;
} smp_serial_reader_t;

/* buf holds body_max + 2 bytes. */
void smp_serial_reader_init(smp_serial_reader_t *r, uint8_t *buf, size_t body_max);
/* One frame: the line from its marker to before its newline (a CR before the
   newline is allowed). On SMP_LINE_PACKET the body is buf[0..*body_len). */
smp_line_result_t smp_serial_line(smp_serial_reader_t *r, const uint8_t *line, size_t len, size_t *body_len);

/* Writes a packet as frames; each line (marker to newline) goes to put. */
typedef void (*smp_put_fn)(void *ctx, const uint8_t *bytes, size_t len);
void smp_serial_write(const uint8_t *body, size_t len, smp_put_fn put, void *ctx);
/* Bytes smp_serial_write puts on the line for a body of len bytes. */
size_t smp_serial_encoded_size(size_t len);

#endif
