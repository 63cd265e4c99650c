/* Telnet tap of the spot: one TCP client at a time receives the spot protocol
 * stream (live events plus the alive signal) and may type commands. No OS calls:
 * the platform accepts and closes sockets, moves bytes and calls the functions.
 * Plain TCP clients (nc, a test) and real telnet clients both work: telnet
 * negotiation bytes (IAC ...) are removed from the input of a JSON stream.
 */
#ifndef TELNET_H
#define TELNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef TELNET_OUT_BYTES
#define TELNET_OUT_BYTES 4096
#endif

/* The stream side of the spot (bound to spot.h's spot_stream_* by the platform). */
typedef struct telnet_spot {
  void *ctx;
  void (*open)(void *ctx);
  size_t (*read)(void *ctx, uint8_t *buf, size_t cap);
  void (*close)(void *ctx);
  void (*commands)(void *ctx, const uint8_t *bytes, size_t len);
} telnet_spot_t;

typedef struct telnet {
  telnet_spot_t spot;
  bool filter_iac;
  bool client;
  int iac_step;
  uint8_t out[TELNET_OUT_BYTES];
  size_t out_len;
  uint32_t clients_refused;
} telnet_t;

/* Text sent to a client refused because another one is connected. */
#define TELNET_BUSY_MESSAGE "spot: another telnet client is connected\r\n"

void telnet_init(telnet_t *t, const telnet_spot_t *spot, bool filter_iac);
/* A client connected. False = one is already served: send it TELNET_BUSY_MESSAGE, close it. */
bool telnet_accept(telnet_t *t);
void telnet_closed(telnet_t *t);
bool telnet_has_client(const telnet_t *t);
/* Pulls the spot's stream into the output buffer. */
void telnet_tick(telnet_t *t);
/* Bytes the client sent. */
void telnet_input(telnet_t *t, const uint8_t *bytes, size_t len);
const uint8_t *telnet_output(const telnet_t *t, size_t *len);
void telnet_sent(telnet_t *t, size_t n);

#endif
