/* Command line of the Linux spot targets (host and ARM under qemu-arm). */
#ifndef SPOT_CLI_H
#define SPOT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct spot_cli {
  const char *brain;      /* --brain HOST:PORT; NULL = config brain_address */
  uint32_t serial;        /* --serial N */
  bool pb;                /* --encoding pb */
  const char *scenario;   /* --scenario FILE; NULL = the core's built-in one */
  uint32_t run_seconds;   /* --run-seconds N; 0 = until stopped */
  int telnet_port;        /* --telnet-port N; -1 = config telnet on port 23 */
  const char *state_dir;  /* --state-dir DIR; NULL = nothing persists */
  bool flood;             /* --flood: events as fast as the brain takes them */
  uint32_t spots;         /* --spots N: N spots (serial, serial+1, ...) */
  bool no_http;           /* --no-http: stream only (telnet) */
  bool tls;               /* --tls (or --ca): posts over TLS, the certificate verified */
  const char *ca_file;    /* --ca FILE; NULL = TLS_DEFAULT_CA_FILE */
  const char *tls_name;   /* --tls-name NAME; NULL = the host of the brain address */
  const char *token;      /* --token T, else $SPOT_TOKEN; NULL = no Authorization header */
  bool websocket;         /* --transport websocket: one WebSocket instead of posts */
} spot_cli_t;

/* Fills cli from argv. Returns 0 to run, 1 after --help/--version (printed),
   2 on a usage error (reason printed to stderr). */
int spot_cli_parse(spot_cli_t *cli, int argc, char **argv, const char *version);

#endif
