/* Command-line parsing for the Linux spot targets. */
#include "cli.h"
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: spot [options]\n"
    "  --brain HOST:PORT   server to post events to (default: config brain_address)\n"
    "  --serial N          the spot's serial number (default 4711)\n"
    "  --encoding json|pb  event encoding (default json)\n"
    "  --scenario FILE     simulated reader scenario (default: built-in)\n"
    "  --run-seconds N     stop after N seconds, once the last post is answered\n"
    "  --telnet-port N     serve the telnet stream on port N (0 = any free port)\n"
    "  --state-dir DIR     the spot's flash: config, boot count (default: none)\n"
    "  --flood             generate events as fast as the brain takes them\n"
    "  --spots N           run N spots (serials serial..serial+N-1), one process each\n"
    "  --no-http           do not post (telnet stream only)\n"
    "  --transport http|websocket\n"
    "                      posts (default), or one WebSocket connection that carries\n"
    "                      events up and commands down (docs/websocket.md)\n"
    "  --tls               post over TLS (1.2), the gateway's certificate verified\n"
    "                      against the system CAs (" TLS_DEFAULT_CA_FILE ")\n"
    "  --ca FILE           post over TLS, verified against the CA certificate(s) in FILE\n"
    "  --tls-name NAME     the name the certificate must hold (default: the brain\n"
    "                      address's host; needed when the brain is given by IP address)\n"
    "  --token TOKEN       send Authorization: Bearer TOKEN on every post\n"
    "                      (default: $SPOT_TOKEN; none when unset or empty)\n"
    "  --version, --help\n";

/* A token goes into a header line: visible ASCII only, so it can neither end the line nor the head. */
static int check_token(const char *token)
{
  if (!token) {
    return 0;
  }
  size_t len = strlen(token);
  for (size_t i = 0; i < len; i++) {
    if (token[i] <= ' ' || token[i] > '~') {
      fprintf(stderr, "spot: --token (or SPOT_TOKEN): character %zu is not visible ASCII (no spaces or control characters)\n", i + 1);
      return 2;
    }
  }
  if (len > 512) {
    fprintf(stderr, "spot: --token (or SPOT_TOKEN): %zu characters, at most 512\n", len);
    return 2;
  }
  return 0;
}

static int parse_uint(const char *flag, const char *text, unsigned long max, unsigned long *out)
{
  char *end;
  errno = 0;
  unsigned long v = text ? strtoul(text, &end, 10) : 0;
  if (!text || *text == '\0' || *text == '-' || *end != '\0' || errno || v > max) {
    fprintf(stderr, "spot: %s needs a number from 0 to %lu, got '%s'\n", flag, max, text ? text : "");
    return -1;
  }
  *out = v;
  return 0;
}

int spot_cli_parse(spot_cli_t *cli, int argc, char **argv, const char *version)
{
  memset(cli, 0, sizeof *cli);
  cli->serial = 4711;
  cli->telnet_port = -1;
  cli->spots = 1;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    unsigned long n;
    if (strcmp(flag, "--help") == 0) {
      fputs(usage, stdout);
      return 1;
    } else if (strcmp(flag, "--version") == 0) {
      printf("spot %s\n", version);
      return 1;
    } else if (strcmp(flag, "--flood") == 0) {
      cli->flood = true;
      continue;
    } else if (strcmp(flag, "--no-http") == 0) {
      cli->no_http = true;
      continue;
    } else if (strcmp(flag, "--tls") == 0) {
      cli->tls = true;
      continue;
    }
    if (!value) {
      fprintf(stderr, "spot: %s needs a value\n%s", flag, usage);
      return 2;
    }
    i++;
    if (strcmp(flag, "--brain") == 0) {
      cli->brain = value;
    } else if (strcmp(flag, "--serial") == 0) {
      if (parse_uint(flag, value, 0xffffffffUL, &n)) return 2;
      cli->serial = (uint32_t)n;
    } else if (strcmp(flag, "--encoding") == 0) {
      if (strcmp(value, "json") != 0 && strcmp(value, "pb") != 0) {
        fprintf(stderr, "spot: --encoding is json or pb, got '%s'\n", value);
        return 2;
      }
      cli->pb = strcmp(value, "pb") == 0;
    } else if (strcmp(flag, "--transport") == 0) {
      if (strcmp(value, "http") != 0 && strcmp(value, "websocket") != 0) {
        fprintf(stderr, "spot: --transport is http or websocket, got '%s'\n", value);
        return 2;
      }
      cli->websocket = strcmp(value, "websocket") == 0;
    } else if (strcmp(flag, "--scenario") == 0) {
      cli->scenario = value;
    } else if (strcmp(flag, "--run-seconds") == 0) {
      if (parse_uint(flag, value, 86400UL * 365, &n)) return 2;
      cli->run_seconds = (uint32_t)n;
    } else if (strcmp(flag, "--telnet-port") == 0) {
      if (parse_uint(flag, value, 65535, &n)) return 2;
      cli->telnet_port = (int)n;
    } else if (strcmp(flag, "--ca") == 0) {
      cli->ca_file = value;
      cli->tls = true;
    } else if (strcmp(flag, "--tls-name") == 0) {
      if (*value == '\0' || strlen(value) >= 128) {
        fprintf(stderr, "spot: --tls-name needs a name of 1 to 127 characters\n");
        return 2;
      }
      cli->tls_name = value;
    } else if (strcmp(flag, "--token") == 0) {
      cli->token = value;
    } else if (strcmp(flag, "--state-dir") == 0) {
      cli->state_dir = value;
    } else if (strcmp(flag, "--spots") == 0) {
      if (parse_uint(flag, value, 10000, &n) || n == 0) return 2;
      cli->spots = (uint32_t)n;
    } else {
      fprintf(stderr, "spot: unknown option %s\n%s", flag, usage);
      return 2;
    }
  }
  if (!cli->token) {
    cli->token = getenv("SPOT_TOKEN");
  }
  if (cli->websocket && cli->flood) {
    fprintf(stderr, "spot: --flood paces HTTP posts; it does not go with --transport websocket\n");
    return 2;
  }
  return check_token(cli->token);
}
