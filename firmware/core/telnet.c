/* Telnet tap state machine (see telnet.h). */
#include "telnet.h"

#include <string.h>

#define IAC 255u
#define SB 250u
#define SE 240u
#define WILL 251u
#define DONT 254u

enum iac_step { IAC_NONE, IAC_SEEN, IAC_OPTION, IAC_SUB, IAC_SUB_IAC };

void telnet_init(telnet_t *t, const telnet_spot_t *spot, bool filter_iac)
{
  memset(t, 0, sizeof *t);
  t->spot = *spot;
  t->filter_iac = filter_iac;
}

bool telnet_accept(telnet_t *t)
{
  if (t->client) {
    t->clients_refused++;
    return false;
  }
  t->client = true;
  t->iac_step = IAC_NONE;
  t->out_len = 0;
  if (t->spot.open) {
    t->spot.open(t->spot.ctx);
  }
  return true;
}

void telnet_closed(telnet_t *t)
{
  if (!t->client) {
    return;
  }
  t->client = false;
  t->out_len = 0;
  if (t->spot.close) {
    t->spot.close(t->spot.ctx);
  }
}

bool telnet_has_client(const telnet_t *t)
{
  return t->client;
}

void telnet_tick(telnet_t *t)
{
  while (t->client && t->spot.read && t->out_len < sizeof t->out) {
    size_t n = t->spot.read(t->spot.ctx, t->out + t->out_len, sizeof t->out - t->out_len);
    if (n == 0) {
      break;
    }
    t->out_len += n;
  }
}

/* Drops telnet commands (IAC x, IAC WILL/WONT/DO/DONT opt, IAC SB ... IAC SE);
 * IAC IAC is a literal 255, which JSON text never holds, so it is dropped too. */
static size_t strip_iac(telnet_t *t, const uint8_t *in, size_t len, uint8_t *out)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t b = in[i];
    switch (t->iac_step) {
    case IAC_NONE:
      if (b == IAC) {
        t->iac_step = IAC_SEEN;
      } else {
        out[n++] = b;
      }
      break;
    case IAC_SEEN:
      t->iac_step = b == SB ? IAC_SUB : (b >= WILL && b <= DONT) ? IAC_OPTION : IAC_NONE;
      break;
    case IAC_OPTION:
      t->iac_step = IAC_NONE;
      break;
    case IAC_SUB:
      t->iac_step = b == IAC ? IAC_SUB_IAC : IAC_SUB;
      break;
    case IAC_SUB_IAC:
      t->iac_step = b == SE ? IAC_NONE : IAC_SUB;
      break;
    default:
      t->iac_step = IAC_NONE;
      break;
    }
  }
  return n;
}

void telnet_input(telnet_t *t, const uint8_t *bytes, size_t len)
{
  if (!t->client || !t->spot.commands) {
    return;
  }
  if (!t->filter_iac) {
    t->spot.commands(t->spot.ctx, bytes, len);
    return;
  }
  uint8_t clean[256];
  while (len) {
    size_t piece = len < sizeof clean ? len : sizeof clean;
    size_t n = strip_iac(t, bytes, piece, clean);
    if (n) {
      t->spot.commands(t->spot.ctx, clean, n);
    }
    bytes += piece;
    len -= piece;
  }
}

const uint8_t *telnet_output(const telnet_t *t, size_t *len)
{
  *len = t->out_len;
  return t->out;
}

void telnet_sent(telnet_t *t, size_t n)
{
  if (n >= t->out_len) {
    t->out_len = 0;
    return;
  }
  memmove(t->out, t->out + n, t->out_len - n);
  t->out_len -= n;
}
