/* HTTP client of the spot protocol, as a state machine without OS calls.
 *
 * The platform owns the TCP socket. It asks http_client_wants_connect(), opens
 * the connection and reports it (http_client_connected / _connect_failed /
 * _disconnected), feeds received bytes (http_client_input), sends what
 * http_client_output() holds (then http_client_sent), closes the socket when
 * http_client_wants_close() says so, and calls http_client_tick() often.
 *
 * Posts follow each other at once while connected, empty or not, like the
 * vendor's spots: a post's end is when commands come down.
 * One post: chunked `POST /api/spots/<serial>/events/`, each piece the spot
 * hands over written as one chunk at once, ended after the post window at an
 * event boundary; then the response is read (Content-Length, chunked or until
 * close). 200 acknowledges the post's events and its body carries commands;
 * anything else, or a lost connection, fails the post (the spot resends).
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef HTTP_CLIENT_OUT_BYTES
#define HTTP_CLIENT_OUT_BYTES 8192
#endif
#define HTTP_CLIENT_LINE_BYTES 256
#define HTTP_CLIENT_HOST_BYTES 128

/* What the client needs from the spot (bound to spot.h by the platform). */
typedef struct http_client_spot {
  void *ctx;
  /* A new connection: the spot queues its `spot create` and `config create`. */
  void (*connected)(void *ctx);
  void (*post_begin)(void *ctx, uint32_t *boot, uint64_t *first_seq);
  /* Up to cap bytes of encoded events; 0 = nothing now. */
  size_t (*post_read)(void *ctx, uint8_t *buf, size_t cap);
  bool (*post_at_event_boundary)(void *ctx);
  /* The post's outcome: true = 200 and the whole response read. */
  void (*post_done)(void *ctx, bool acknowledged);
  /* Body of a 200 response (commands), in pieces, then its end. */
  void (*commands)(void *ctx, const uint8_t *bytes, size_t len);
  void (*commands_end)(void *ctx);
} http_client_spot_t;

typedef struct http_client_options {
  const char *host;      /* Host header: the brain address as configured */
  uint32_t serial;
  const char *version;   /* User-Agent: spot/<version> */
  bool pb;               /* application/x-intellifi-events-pb, else JSON */
  const char *token;     /* Authorization: Bearer <token> on every post; NULL or "" = none (docs/security.md) */
  uint32_t post_window_ms;
  uint32_t backoff_min_ms;   /* first reconnect delay; doubles per failure */
  uint32_t backoff_max_ms;
  uint32_t response_timeout_ms; /* ended post without a complete response */
  uint32_t connect_timeout_ms;
  /* Nonzero: each backoff wait grows by a pseudo-random 0..50 %, so many spots
   * do not reconnect in step after an outage. 0 = exact waits (tests). */
  uint32_t jitter_seed;
} http_client_options_t;

typedef enum http_client_state {
  HTTP_CLIENT_DISCONNECTED, /* waiting for the backoff to pass */
  HTTP_CLIENT_CONNECTING,
  HTTP_CLIENT_IDLE,         /* connected, no post open */
  HTTP_CLIENT_POSTING,      /* request body open */
  HTTP_CLIENT_AWAITING,     /* body ended, reading the response */
  HTTP_CLIENT_CLOSING       /* the platform must close the socket */
} http_client_state_t;

typedef enum http_body_mode { HTTP_BODY_NONE, HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED, HTTP_BODY_UNTIL_CLOSE } http_body_mode_t;

typedef struct http_client {
  http_client_spot_t spot;
  http_client_options_t opt;
  char host[HTTP_CLIENT_HOST_BYTES];
  http_client_state_t state;
  uint64_t state_since_ms;
  uint64_t reconnect_at_ms;
  uint32_t backoff_ms;
  uint32_t jitter_state;
  bool post_done_pending; /* a post was begun and its outcome not yet told */
  bool end_post_early;
  uint64_t next_post_at_ms; /* after a refused post: wait the backoff */
  /* bytes waiting to be sent */
  uint8_t out[HTTP_CLIENT_OUT_BYTES];
  size_t out_len;
  /* response parser */
  int parse_step;
  char line[HTTP_CLIENT_LINE_BYTES];
  size_t line_len;
  int status;
  http_body_mode_t body_mode;
  uint64_t body_left;      /* Content-Length or current chunk */
  bool server_closes;      /* Connection: close */
  bool commands_open;      /* part of a 200 body went to the spot */
  /* counters for the console and tests */
  uint32_t posts_acknowledged;
  uint32_t posts_failed;
  uint32_t connects;
  char last_error[96];
} http_client_t;

void http_client_init(http_client_t *c, const http_client_spot_t *spot, const http_client_options_t *opt,
                      uint64_t now_ms);
/* Changes the Host header and post window (after a config update); takes effect
 * with the next connection / post. */
void http_client_reconfigure(http_client_t *c, const char *host, uint32_t post_window_ms);

/* Ends the open post at the next event boundary, before its window is over
 * (a load generator keeps posts within the spot's retransmit ring). */
void http_client_end_post(http_client_t *c);

bool http_client_wants_connect(const http_client_t *c, uint64_t now_ms);
void http_client_connecting(http_client_t *c, uint64_t now_ms);
void http_client_connected(http_client_t *c, uint64_t now_ms);
void http_client_connect_failed(http_client_t *c, uint64_t now_ms, const char *reason);
void http_client_disconnected(http_client_t *c, uint64_t now_ms, const char *reason);
bool http_client_wants_close(const http_client_t *c);

void http_client_tick(http_client_t *c, uint64_t now_ms);
void http_client_input(http_client_t *c, const uint8_t *bytes, size_t len, uint64_t now_ms);

const uint8_t *http_client_output(const http_client_t *c, size_t *len);
void http_client_sent(http_client_t *c, size_t n);

/* Why the last post failed or the connection dropped ("" if none). */
const char *http_client_last_error(const http_client_t *c);

#endif
