/* WebSocket client of the spot protocol (docs/websocket.md, RFC 6455), as a
 * state machine without OS calls and without a heap.
 *
 * The platform owns the TCP socket (and TLS, for wss) exactly as for the HTTP
 * client: it asks ws_client_wants_connect(), opens the connection and reports
 * it (ws_client_connecting / _connected / _connect_failed / _disconnected),
 * feeds received bytes (ws_client_input), sends what ws_client_output() holds
 * (then ws_client_sent), closes the socket when ws_client_wants_close() says
 * so, and calls ws_client_tick() often.
 *
 * One connection: the opening handshake `GET /api/spots/<serial>/events/`
 * offering the spot's encoding as subprotocol (spot-json.v1 or spot-pb.v1),
 * with the numbering of the oldest unacknowledged event (X-Spot-Boot/X-Spot-Seq)
 * and the token as the posts send them; after the 101 the spot's events go up
 * as masked binary messages of whole events (an event larger than a frame is
 * continued in continuation frames of the same message). The gateway's text
 * acknowledgements free the ring up to the seq they name; its binary messages
 * are commands, fed to the spot's command reader one message at a time. Pings
 * are answered, closes are answered, and after any end of the connection the
 * client reconnects after a backoff and sends again from the oldest
 * unacknowledged event.
 */
#ifndef WS_CLIENT_H
#define WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef WS_CLIENT_OUT_BYTES
#define WS_CLIENT_OUT_BYTES 8192
#endif
#define WS_CLIENT_LINE_BYTES 256
#define WS_CLIENT_HOST_BYTES 128
#define WS_CLIENT_TEXT_BYTES 256 /* a text message (ack, error) longer than this is ignored */
#define WS_CLIENT_CONTROL_BYTES 125 /* RFC 6455 5.5: a control frame's payload */

/* What the client needs from the spot (bound to spot.h by the platform). */
typedef struct ws_client_spot {
  void *ctx;
  /* A new connection: the spot queues its `spot create` and `config create` (not
   * again while handshakes are refused: one introduction per accepted connection). */
  void (*connected)(void *ctx);
  /* The connection's numbering: boot and seq of the first event it will carry. */
  void (*post_begin)(void *ctx, uint32_t *boot, uint64_t *first_seq);
  /* Up to cap bytes of encoded events; 0 = nothing now. */
  size_t (*post_read)(void *ctx, uint8_t *buf, size_t cap);
  bool (*post_at_event_boundary)(void *ctx);
  /* The gateway committed every event up to and including seq: drop them from the ring. */
  void (*acknowledged)(void *ctx, uint64_t through_seq);
  /* The connection is over: what was not acknowledged goes again on the next one. */
  void (*post_end)(void *ctx);
  /* Events were sent and are not acknowledged yet (NULL = never: no ack timeout). */
  bool (*unacknowledged)(void *ctx);
  /* The next event to send was dropped (ring overflow): the numbering must start afresh. */
  bool (*behind)(void *ctx);
  /* A binary message from the gateway (commands), in pieces, then its end. */
  void (*commands)(void *ctx, const uint8_t *bytes, size_t len);
  void (*commands_end)(void *ctx);
} ws_client_spot_t;

typedef struct ws_client_options {
  const char *host;    /* Host header: the brain address as configured */
  uint32_t serial;
  const char *version; /* User-Agent: spot/<version> */
  bool pb;             /* subprotocol spot-pb.v1, else spot-json.v1 */
  const char *token;   /* Authorization: Bearer <token>; NULL or "" = none */
  uint32_t backoff_min_ms; /* first reconnect delay; doubles per failure */
  uint32_t backoff_max_ms;
  uint32_t connect_timeout_ms;
  uint32_t response_timeout_ms; /* for the 101, and for an acknowledgement of sent events */
  uint32_t close_timeout_ms;    /* for the gateway's side of the close handshake */
  uint32_t jitter_seed;         /* nonzero: backoff waits grow by a pseudo-random 0..50 % */
  /* Unpredictable bytes for the handshake key and the frame masks (RFC 6455 10.3). */
  void (*random)(void *ctx, uint8_t *out, size_t len);
  void *random_ctx;
} ws_client_options_t;

typedef enum ws_client_state {
  WS_CLIENT_DISCONNECTED, /* waiting for the backoff to pass */
  WS_CLIENT_CONNECTING,
  WS_CLIENT_HANDSHAKE,    /* request written, reading the response */
  WS_CLIENT_OPEN,
  WS_CLIENT_CLOSE_SENT,   /* our close frame is out; waiting for the gateway's */
  WS_CLIENT_CLOSING       /* the platform must close the socket (once the output is sent) */
} ws_client_state_t;

typedef struct ws_client {
  ws_client_spot_t spot;
  ws_client_options_t opt;
  char host[WS_CLIENT_HOST_BYTES];
  ws_client_state_t state;
  uint64_t state_since_ms;
  uint64_t reconnect_at_ms;
  uint32_t backoff_ms;
  uint32_t jitter_state;
  /* this connection */
  bool post_open;        /* post_begin called, post_end not yet */
  bool intro_due;        /* the next connection calls spot.connected (none since the last 101) */
  uint32_t boot;         /* X-Spot-Boot sent */
  uint64_t first_seq;    /* X-Spot-Seq sent */
  uint64_t acked_events; /* the highest `events` acknowledged */
  bool waiting;          /* sent events are waiting for an acknowledgement */
  uint64_t waiting_since_ms; /* since then, or since the last acknowledgement */
  char accept[32];       /* the Sec-WebSocket-Accept expected */
  bool message_out_open; /* a binary message is continued in the next frame */
  /* bytes waiting to be sent */
  uint8_t out[WS_CLIENT_OUT_BYTES];
  size_t out_len;
  /* handshake response */
  char line[WS_CLIENT_LINE_BYTES];
  size_t line_len;
  int status;
  uint8_t seen;          /* headers checked: WS_SEEN_* bits */
  bool refused_body;     /* reading the body of a refusal */
  uint64_t body_left;
  char body[120];
  size_t body_len;
  /* frame reader */
  uint8_t head[14];
  size_t head_len;
  size_t head_need;
  bool frame_fin;
  uint8_t frame_opcode;
  uint64_t frame_left;
  uint8_t message_opcode; /* data message being received: 1 text, 2 binary, 0 none */
  char text[WS_CLIENT_TEXT_BYTES];
  size_t text_len;
  bool text_overflow;
  uint8_t utf8_need;     /* continuation bytes the text still owes (RFC 3629) */
  uint8_t utf8_lo, utf8_hi; /* the range of the next one */
  uint8_t control[WS_CLIENT_CONTROL_BYTES];
  size_t control_len;
  /* counters for the console and tests */
  uint32_t connects;      /* handshakes completed */
  uint32_t acks;          /* acknowledgements applied */
  uint32_t acks_ignored;  /* text messages that were no usable acknowledgement */
  uint32_t command_messages;
  uint32_t pings;
  uint16_t close_code;    /* the gateway's last close code (0 = none) */
  char last_error[160];
} ws_client_t;

void ws_client_init(ws_client_t *c, const ws_client_spot_t *spot, const ws_client_options_t *opt, uint64_t now_ms);
/* Changes the Host header (after a config update); takes effect with the next connection. */
void ws_client_reconfigure(ws_client_t *c, const char *host);

bool ws_client_wants_connect(const ws_client_t *c, uint64_t now_ms);
void ws_client_connecting(ws_client_t *c, uint64_t now_ms);
/* TCP (and TLS) is up: writes the opening handshake. */
void ws_client_connected(ws_client_t *c, uint64_t now_ms);
void ws_client_connect_failed(ws_client_t *c, uint64_t now_ms, const char *reason);
void ws_client_disconnected(ws_client_t *c, uint64_t now_ms, const char *reason);
bool ws_client_wants_close(const ws_client_t *c);
/* Starts the close handshake (code 1000); the client connects again after the backoff. */
void ws_client_close(ws_client_t *c, uint64_t now_ms);

void ws_client_tick(ws_client_t *c, uint64_t now_ms);
void ws_client_input(ws_client_t *c, const uint8_t *bytes, size_t len, uint64_t now_ms);

const uint8_t *ws_client_output(const ws_client_t *c, size_t *len);
void ws_client_sent(ws_client_t *c, size_t n);

/* True while the connection is open (after the 101, before any close). */
bool ws_client_open(const ws_client_t *c);
/* Why the last connection failed or ended ("" if none). */
const char *ws_client_last_error(const ws_client_t *c);

#endif
