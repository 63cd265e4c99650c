/* The gateway's text messages on a spot's WebSocket (docs/websocket.md): the
 * acknowledgement {"ack":{"events":N,"boot":B,"seq":S}} that frees the ring, and the
 * error {"error":..,"reason":..} sent before a close. Anything else is ignored. */
#include <string.h>

#include "json_scan.h"
#include "ws_client_internal.h"

/* {"ack":{"events":N,"boot":B,"seq":S}}: every key optional, others skipped. */
static bool parse_ack(json_scan_t *s, int64_t *events, int64_t *boot, int64_t *seq)
{
  if (!json_scan_take(s, '{')) {
    return false;
  }
  bool first = true;
  while (!json_scan_take(s, '}')) {
    if (!first && !json_scan_take(s, ',')) {
      return false;
    }
    first = false;
    char key[16];
    size_t key_len;
    if (!json_scan_string(s, key, sizeof key, &key_len) || !json_scan_take(s, ':')) {
      return false;
    }
    int64_t *into = strcmp(key, "events") == 0 ? events : strcmp(key, "boot") == 0 ? boot : strcmp(key, "seq") == 0 ? seq : NULL;
    const char *start;
    size_t len;
    if (into ? !json_scan_int(s, into) || *into < 0 : !json_scan_value(s, &start, &len)) {
      return false;
    }
  }
  return true;
}

static void apply_ack(ws_client_t *c, int64_t events, int64_t boot, int64_t seq, uint64_t now_ms)
{
  uint64_t through;
  if (seq >= 0) {
    if (boot >= 0 && (uint64_t)boot != c->boot) {
      c->acks_ignored++; /* another boot's numbering: not ours to release */
      return;
    }
    through = (uint64_t)seq;
  } else if (events > 0) {
    through = c->first_seq + (uint64_t)events - 1u;
  } else {
    c->acks_ignored++;
    return;
  }
  if (events >= 0) {
    if ((uint64_t)events < c->acked_events) {
      c->acks_ignored++; /* `events` only grows: a stale or broken ack */
      return;
    }
    c->acked_events = (uint64_t)events;
  }
  c->acks++;
  if (c->spot.acknowledged && through >= c->first_seq) {
    c->spot.acknowledged(c->spot.ctx, through);
  }
  c->waiting_since_ms = now_ms; /* progress: the ack timeout starts again */
}

void ws_client_text(ws_client_t *c, const char *text, size_t len, uint64_t now_ms)
{
  json_scan_t s;
  json_scan_init(&s, text, len);
  char key[16];
  size_t key_len;
  if (!json_scan_take(&s, '{') || !json_scan_string(&s, key, sizeof key, &key_len) || !json_scan_take(&s, ':')) {
    c->acks_ignored++;
    return;
  }
  if (strcmp(key, "ack") == 0) {
    int64_t events = -1, boot = -1, seq = -1;
    if (!parse_ack(&s, &events, &boot, &seq) || !json_scan_take(&s, '}') || (json_scan_ws(&s), s.p != s.end)) {
      c->acks_ignored++;
      return;
    }
    apply_ack(c, events, boot, seq, now_ms);
    return;
  }
  if (strcmp(key, "error") == 0) {
    /* {"error":"...","reason":"..."}: kept as the reason the gateway is about to close */
    char error[64], reason[80];
    size_t n;
    if (json_scan_string(&s, error, sizeof error, &n)) {
      ws_client_set_error(c, "gateway error: ", error);
      if (json_scan_take(&s, ',') && json_scan_string(&s, key, sizeof key, &key_len) && strcmp(key, "reason") == 0 &&
          json_scan_take(&s, ':') && json_scan_string(&s, reason, sizeof reason, &n)) {
        char detail[sizeof error + sizeof reason + 2];
        size_t e = strlen(error), r = strlen(reason);
        memcpy(detail, error, e);
        memcpy(detail + e, ": ", 2);
        memcpy(detail + e + 2, reason, r + 1);
        ws_client_set_error(c, "gateway error: ", detail);
      }
      return;
    }
  }
  c->acks_ignored++;
}
