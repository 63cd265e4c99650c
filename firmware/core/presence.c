#include "presence.h"

#include <string.h>

void presence_init(presence_engine_t *e, presence_emit_fn emit, void *ctx) {
  memset(e, 0, sizeof *e);
  e->emit = emit;
  e->emit_ctx = ctx;
}

static int32_t classify(int32_t signal, int32_t immediate, int32_t near) {
  if (signal >= immediate) return spot_v1_Proximity_PROXIMITY_IMMEDIATE;
  if (signal >= near) return spot_v1_Proximity_PROXIMITY_NEAR;
  return spot_v1_Proximity_PROXIMITY_FAR;
}

uint8_t presence_proximity(const spot_config_t *cfg, uint8_t codetype, int32_t mean, uint8_t current) {
  bool bt = codetype == spot_v1_ItemCodeType_ITEM_CODE_TYPE_BLUETOOTH_LE;
  int32_t immediate = bt ? cfg->bt_immediate : cfg->rfid_immediate;
  int32_t near = bt ? cfg->bt_near : cfg->rfid_near;
  int32_t h = bt ? cfg->bt_hysteresis : cfg->rfid_hysteresis;
  if (current == spot_v1_Proximity_PROXIMITY_UNSPECIFIED) return (uint8_t)classify(mean, immediate, near);
  /* Proximity values grow with distance: immediate 1, near 2, far 3. */
  int32_t closer = classify(mean - h, immediate, near); /* reached only when crossing by h */
  int32_t farther = classify(mean + h, immediate, near);
  if (closer < current) return (uint8_t)closer;
  if (farther > current) return (uint8_t)farther;
  return current;
}

uint16_t presence_hold_delay_s(const spot_config_t *cfg, const presence_item_t *it) {
  if (!cfg->auto_hold_delay) return (uint16_t)cfg->fixed_hold_delay_s;
  if (it->reads < 2) return PRESENCE_AUTO_HOLD_MIN_S;
  /* 3x the mean read interval, rounded up to whole seconds. */
  int64_t span = it->time_last - it->time_started;
  int64_t hold_ms = 3 * span / (int64_t)(it->reads - 1);
  int64_t hold = (hold_ms + 999) / 1000;
  if (hold < PRESENCE_AUTO_HOLD_MIN_S) hold = PRESENCE_AUTO_HOLD_MIN_S;
  if (hold > PRESENCE_AUTO_HOLD_MAX_S) hold = PRESENCE_AUTO_HOLD_MAX_S;
  return (uint16_t)hold;
}

static int32_t window_mean(const presence_item_t *it) {
  int32_t sum = 0;
  for (uint8_t i = 0; i < it->window_count; i++) sum += it->window[i];
  /* Rounds half away from zero so -425.5 and 425.5 behave alike. */
  int32_t n = it->window_count;
  return sum >= 0 ? (sum + n / 2) / n : -((-sum + n / 2) / n);
}

static void window_add(presence_item_t *it, const spot_config_t *cfg, int16_t signal) {
  bool bt = it->item.codetype == spot_v1_ItemCodeType_ITEM_CODE_TYPE_BLUETOOTH_LE;
  int32_t size = bt ? cfg->bt_max_window_size : cfg->rfid_max_window_size;
  if (size > SPOT_MAX_WINDOW) size = SPOT_MAX_WINDOW;
  if (size < 1) size = 1;
  if (it->window_count > size) { /* window shrank by a config change: keep the newest */
    it->window_count = 0;
    it->window_next = 0;
  }
  if (it->window_next >= size) it->window_next = 0;
  it->window[it->window_next] = signal;
  it->window_next = (uint8_t)((it->window_next + 1) % size);
  if (it->window_count < size) it->window_count++;
}

static void emit_presence(presence_engine_t *e, const presence_item_t *it, spot_event_kind_t kind) {
  spot_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = (uint8_t)kind;
  ev.time = it->time_last;
  ev.u.presence.item = it->item;
  ev.u.presence.time_started = it->time_started;
  ev.u.presence.hold_delay_s = it->hold_delay_s;
  ev.u.presence.proximity = it->proximity;
  e->emit(e->emit_ctx, &ev);
}

static presence_item_t *find_item(presence_engine_t *e, const spot_item_t *item) {
  for (int i = 0; i < SPOT_MAX_ITEMS; i++) {
    presence_item_t *it = &e->items[i];
    if (it->used && it->item.codetype == item->codetype && strcmp(it->item.code, item->code) == 0) return it;
  }
  return NULL;
}

static presence_item_t *free_slot(presence_engine_t *e) {
  for (int i = 0; i < SPOT_MAX_ITEMS; i++)
    if (!e->items[i].used) return &e->items[i];
  return NULL;
}

void presence_hit(presence_engine_t *e, const spot_config_t *cfg, const presence_hit_t *hit) {
  if (cfg->send_hits) {
    spot_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EVENT_HIT_CREATE;
    ev.time = hit->time;
    ev.u.hit.item = hit->item;
    ev.u.hit.antenna = hit->antenna;
    ev.u.hit.signal_strength = hit->signal_strength;
    e->emit(e->emit_ctx, &ev);
  }
  presence_item_t *it = find_item(e, &hit->item);
  if (it == NULL) {
    it = free_slot(e);
    if (it == NULL) {
      e->untracked++;
      if (!e->table_full_said) {
        spot_event_t ev;
        event_log(&ev, hit->time, 3, LOG_CODE_ITEM_TABLE_FULL,
                  "presence table full (" SPOT_STR(SPOT_MAX_ITEMS) " items): new items are not tracked");
        e->table_full_said = true;
        e->emit(e->emit_ctx, &ev);
      }
      return;
    }
    memset(it, 0, sizeof *it);
    it->used = true;
    it->item = hit->item;
    it->time_started = hit->time;
    it->time_last = hit->time;
    it->reads = 1;
    window_add(it, cfg, hit->signal_strength);
    it->proximity =
        presence_proximity(cfg, it->item.codetype, window_mean(it), spot_v1_Proximity_PROXIMITY_UNSPECIFIED);
    it->hold_delay_s = presence_hold_delay_s(cfg, it);
    emit_presence(e, it, EVENT_PRESENCE_CREATE);
    return;
  }
  it->time_last = hit->time;
  it->reads++;
  window_add(it, cfg, hit->signal_strength);
  it->hold_delay_s = presence_hold_delay_s(cfg, it);
  uint8_t proximity = presence_proximity(cfg, it->item.codetype, window_mean(it), it->proximity);
  if (proximity != it->proximity) {
    it->proximity = proximity;
    emit_presence(e, it, EVENT_PRESENCE_UPDATE);
  }
}

void presence_tick(presence_engine_t *e, const spot_config_t *cfg, int64_t now) {
  bool any_free = false;
  for (int i = 0; i < SPOT_MAX_ITEMS; i++) {
    presence_item_t *it = &e->items[i];
    if (!it->used) {
      any_free = true;
      continue;
    }
    it->hold_delay_s = presence_hold_delay_s(cfg, it);
    if (now - it->time_last >= (int64_t)it->hold_delay_s * 1000) {
      emit_presence(e, it, EVENT_PRESENCE_DELETE);
      it->used = false;
      any_free = true;
    }
  }
  if (any_free) e->table_full_said = false;
}
