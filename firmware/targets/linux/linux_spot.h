/* The Linux spot (host and ARM under qemu-arm): state shared by its parts. */
#ifndef LINUX_SPOT_H
#define LINUX_SPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "http_client.h"
#include "spot.h"
#include "telnet.h"
#include "tls.h"
#include "ws_client.h"

#ifndef SPOT_FIRMWARE_VERSION
#define SPOT_FIRMWARE_VERSION "0.0.0-dev"
#endif

#define SCENARIO_MAX_BYTES (64u * 1024u)
#define TELNET_DEFAULT_PORT 23

typedef struct linux_spot {
  spot_cli_t cli;
  spot_t spot;   /* the core's state */
  spot_t *core;  /* &spot */
  http_client_t http;
  ws_client_t ws;        /* --transport websocket */
  uint32_t ws_connects;  /* WebSocket connections told on the console */
  telnet_t telnet;
  int brain_fd;
  bool brain_connecting;
  tls_client_t *tls;      /* --tls: the TLS client (NULL = plain HTTP) */
  bool brain_handshaking; /* TCP connected, TLS handshake under way */
  bool tls_want_write;    /* the handshake waits for the socket to take bytes */
  bool tls_told;          /* the TLS version and suite were told on the console */
  int telnet_listen_fd;
  int telnet_fd;
  char brain[128];        /* address posted to now */
  char config_brain[128]; /* config brain_address when last seen */
  char connect_error[320]; /* last connect failure told on the console, "" = connected */
  bool reboot;
  uint32_t last_boot; /* boot count of this process's previous boot (0 = none yet) */
  char scenario[SCENARIO_MAX_BYTES];
  size_t scenario_len;
} linux_spot_t;


/* One line on the console (stderr), prefixed with the spot's serial. */
void say(const linux_spot_t *ls, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t clock_ms(void);

/* spot_boot.c: the core's platform, the scenario, one boot. */
bool load_scenario(linux_spot_t *ls);
void spot_boot(linux_spot_t *ls, uint64_t now);

/* spot_io.c: sockets of the brain connection and the telnet tap. */
void telnet_start(linux_spot_t *ls, int port);
void telnet_stop(linux_spot_t *ls);
void brain_close(linux_spot_t *ls, uint64_t now, const char *reason);
void brain_step(linux_spot_t *ls, uint64_t now);
void brain_io(linux_spot_t *ls, short revents, uint64_t now);
/* The run ends: an open WebSocket gets its close frame (1000), best effort. */
void brain_goodbye(linux_spot_t *ls, uint64_t now);
void telnet_io(linux_spot_t *ls, short listen_revents, short client_revents);

/* brain_link.c: the HTTP client or the WebSocket client, as --transport says. */
bool link_wants_connect(const linux_spot_t *ls, uint64_t now);
void link_connecting(linux_spot_t *ls, uint64_t now);
void link_connected(linux_spot_t *ls, uint64_t now);
void link_connect_failed(linux_spot_t *ls, uint64_t now, const char *reason);
void link_disconnected(linux_spot_t *ls, uint64_t now, const char *reason);
bool link_wants_close(const linux_spot_t *ls);
void link_tick(linux_spot_t *ls, uint64_t now);
void link_input(linux_spot_t *ls, const uint8_t *bytes, size_t len, uint64_t now);
const uint8_t *link_output(const linux_spot_t *ls, size_t *len);
void link_sent(linux_spot_t *ls, size_t n);
/* Connected with nothing in flight: HTTP between posts, WebSocket open. */
bool link_idle(const linux_spot_t *ls);
void link_random(void *ctx, uint8_t *out, size_t len);

#endif
