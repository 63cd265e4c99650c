#include "event.h"

#include <string.h>

#include "config_apply.h"
#include "text.h"

#define EVENT_SIM_ANTENNAS 4

void event_log(spot_event_t *ev, int64_t time, uint8_t level, uint16_t code, const char *text) {
  memset(ev, 0, sizeof *ev);
  ev->kind = EVENT_LOG_CREATE;
  ev->time = time;
  ev->u.log.level = level;
  ev->u.log.code = code;
  text_copy(ev->u.log.text, sizeof ev->u.log.text, text);
}

static void fill_presence(const spot_event_t *ev, spot_v1_Presence *p) {
  p->has_item_code = true;
  text_copy(p->item_code, sizeof p->item_code, ev->u.presence.item.code);
  p->has_item_codetype = true;
  p->item_codetype = (spot_v1_ItemCodeType)ev->u.presence.item.codetype;
  p->has_time_started = true;
  p->time_started = ev->u.presence.time_started;
  p->has_time_last = true;
  p->time_last = ev->time;
  p->has_proximity = true;
  p->proximity = (spot_v1_Proximity)ev->u.presence.proximity;
  p->has_hold_delay_s = true;
  p->hold_delay_s = ev->u.presence.hold_delay_s;
}

static void fill_spot(const spot_event_t *ev, const event_context_t *ctx, spot_v1_SpotInfo *s) {
  s->has_spot_id = true;
  s->spot_id = ctx->serial;
  s->has_version = true;
  text_copy(s->version, sizeof s->version, ctx->version ? ctx->version : "");
  s->has_online = true;
  s->online = true;
  s->has_pcb_version = true;
  text_copy(s->pcb_version, sizeof s->pcb_version, "sim");
  s->has_dip_mask = true;
  s->dip_mask = 0;
  s->rfid_swr_count = EVENT_SIM_ANTENNAS; /* the simulated antennas are well matched */
  for (pb_size_t i = 0; i < EVENT_SIM_ANTENNAS; i++) s->rfid_swr[i] = 1.2;
  s->has_boot_count = true;
  s->boot_count = ev->u.spot.boot_count;
  s->has_watchdog_count = true;
  s->watchdog_count = ev->u.spot.watchdog_count;
  s->has_presence_create_count = true;
  s->presence_create_count = ev->u.spot.presence_create_count;
  s->has_time_started = true;
  s->time_started = ev->u.spot.time_started;
  s->has_time = true;
  s->time = ev->time;
  s->has_output_1 = s->has_output_2 = s->has_input_1 = s->has_input_2 = true;
}

void event_to_frame(const spot_event_t *ev, const event_context_t *ctx, bool with_numbering, spot_v1_Frame *f) {
  memset(f, 0, sizeof *f);
  switch ((spot_event_kind_t)ev->kind) {
    case EVENT_SPOT_CREATE:
      f->which_body = spot_v1_Frame_spot_create_tag;
      fill_spot(ev, ctx, &f->body.spot_create);
      break;
    case EVENT_SPOT_ALIVE:
      f->which_body = spot_v1_Frame_spot_update_tag;
      f->body.spot_update.has_online = true;
      f->body.spot_update.online = true;
      break;
    case EVENT_CONFIG_CREATE:
    case EVENT_CONFIG_UPDATE: {
      bool create = ev->kind == EVENT_CONFIG_CREATE;
      spot_v1_Config *c = create ? &f->body.config_create : &f->body.config_update;
      f->which_body = create ? spot_v1_Frame_config_create_tag : spot_v1_Frame_config_update_tag;
      config_to_pb(ctx->config, create ? CONFIG_ALL_KEYS : ev->u.config.keys, c);
      break;
    }
    case EVENT_HIT_CREATE: {
      spot_v1_Hit *h = &f->body.hit_create;
      f->which_body = spot_v1_Frame_hit_create_tag;
      h->has_item_code = true;
      text_copy(h->item_code, sizeof h->item_code, ev->u.hit.item.code);
      h->has_item_codetype = true;
      h->item_codetype = (spot_v1_ItemCodeType)ev->u.hit.item.codetype;
      h->has_antenna = true;
      h->antenna = ev->u.hit.antenna;
      h->has_signal_strength = true;
      h->signal_strength = ev->u.hit.signal_strength;
      h->has_time = true;
      h->time = ev->time;
      break;
    }
    case EVENT_PRESENCE_CREATE:
      f->which_body = spot_v1_Frame_presence_create_tag;
      fill_presence(ev, &f->body.presence_create);
      break;
    case EVENT_PRESENCE_UPDATE:
      f->which_body = spot_v1_Frame_presence_update_tag;
      fill_presence(ev, &f->body.presence_update);
      break;
    case EVENT_PRESENCE_DELETE:
      f->which_body = spot_v1_Frame_presence_delete_tag;
      fill_presence(ev, &f->body.presence_delete);
      break;
    case EVENT_LOG_CREATE: {
      spot_v1_LogMessage *l = &f->body.log_create;
      f->which_body = spot_v1_Frame_log_create_tag;
      l->has_level = true;
      l->level = (spot_v1_LogLevel)ev->u.log.level;
      l->has_text = true;
      text_copy(l->text, sizeof l->text, ev->u.log.text);
      l->has_code = true;
      l->code = ev->u.log.code;
      l->has_time = true;
      l->time = ev->time;
      break;
    }
    case EVENT_BRAIN_SENSE_UPDATE: {
      spot_v1_BrainSense *b = &f->body.brain_sense_update;
      bool *has[5] = {&b->has_bs1, &b->has_bs2, &b->has_bs3, &b->has_bs4, &b->has_bs5};
      int32_t *val[5] = {&b->bs1, &b->bs2, &b->bs3, &b->bs4, &b->bs5};
      f->which_body = spot_v1_Frame_brain_sense_update_tag;
      for (int i = 0; i < 5; i++) {
        *has[i] = ev->u.brain_sense.mask >> i & 1;
        *val[i] = ev->u.brain_sense.bs[i];
      }
      b->has_time = true;
      b->time = ev->time;
      break;
    }
  }
  if (with_numbering && ev->seq != 0) {
    f->has_boot = true;
    f->boot = ev->boot;
    f->has_seq = true;
    f->seq = ev->seq;
  }
}
