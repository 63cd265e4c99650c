/* The CBOR subset SMP's messages need (RFC 8949), without a heap: a writer of
   unsigned integers, text and byte strings, booleans, definite maps and arrays
   into a caller's buffer, and a reader of one item head at a time over a
   received packet. docs/smp.md ("The spot's server") says why not libcbor. */
#ifndef SMP_CBOR_H
#define SMP_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CBOR_UINT 0u
#define CBOR_NEGINT 1u
#define CBOR_BYTES 2u
#define CBOR_TEXT 3u
#define CBOR_ARRAY 4u
#define CBOR_MAP 5u
#define CBOR_TAG 6u
#define CBOR_SIMPLE 7u

#define CBOR_FALSE 20u
#define CBOR_TRUE 21u

typedef struct cbor_writer {
  uint8_t *buf;
  size_t cap;
  size_t len;
  bool overflow; /* something did not fit: the output is unusable */
} cbor_writer_t;

void cbor_writer_init(cbor_writer_t *w, uint8_t *buf, size_t cap);
void cbor_put_uint(cbor_writer_t *w, uint64_t v);
void cbor_put_bool(cbor_writer_t *w, bool v);
/* Text and byte strings may overlap the buffer (they are moved, not copied). */
void cbor_put_text(cbor_writer_t *w, const char *text, size_t len);
void cbor_put_cstr(cbor_writer_t *w, const char *text);
void cbor_put_bytes(cbor_writer_t *w, const uint8_t *bytes, size_t len);
/* A text string written in pieces: its head for len bytes, then the bytes. */
void cbor_put_text_head(cbor_writer_t *w, size_t len);
void cbor_put_raw(cbor_writer_t *w, const uint8_t *bytes, size_t len);
void cbor_put_map(cbor_writer_t *w, size_t pairs);
void cbor_put_array(cbor_writer_t *w, size_t items);

typedef struct cbor_reader {
  const uint8_t *buf;
  size_t len;
  size_t pos;
} cbor_reader_t;

/* One item head: its major type and argument; for strings also the bytes. */
typedef struct cbor_item {
  uint8_t major;
  bool indefinite; /* a map or array of unknown length (ended by a break) */
  bool is_break;   /* the 0xff that ends an indefinite map or array */
  uint64_t arg;    /* the value, the length, or the simple value */
  const uint8_t *data; /* text and byte strings: their bytes (arg of them) */
} cbor_item_t;

void cbor_reader_init(cbor_reader_t *r, const uint8_t *buf, size_t len);
/* Reads one head (and, for a string, steps over its bytes). false when the
   input ends early or uses what the subset leaves out (indefinite strings,
   reserved additional information). */
bool cbor_read(cbor_reader_t *r, cbor_item_t *item);
/* Skips the rest of the item whose head was just read (nested maps, arrays and
   tags up to a depth of 8). */
bool cbor_skip(cbor_reader_t *r, const cbor_item_t *item);

#endif
