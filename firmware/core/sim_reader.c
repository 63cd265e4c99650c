#include "sim_reader.h"

#include <string.h>

#include "text.h"

const char sim_default_scenario[] =
    "# built-in scenario: see docs/firmware.md\n"
    "seed 1\n"
    "rate 60\n"
    "at 0 tag e28011700000020a1b2c3d01 enter antenna 1 rssi -400\n"
    "at 300 tag e28011700000020a1b2c3d02 enter antenna 2 rssi -700\n"
    "at 600 ble c0ffee000001 enter antenna 1 rssi -60\n"
    "at 1500 tag e28011700000020a1b2c3d02 move rssi -520\n"
    "at 2500 tag e28011700000020a1b2c3d01 leave\n"
    "at 3000 tag e28011700000020a1b2c3d03 enter antenna 1 rssi -550\n"
    "at 3500 ble c0ffee000001 leave\n"
    "at 4000 tag e28011700000020a1b2c3d02 leave\n";

typedef struct line_reader {
  const char *p;
  const char *end;
} line_reader_t;

/* Next space-separated word of the line; false at the end of the line. */
static bool next_word(line_reader_t *r, const char **w, size_t *n) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r')) r->p++;
  if (r->p >= r->end) return false;
  *w = r->p;
  while (r->p < r->end && *r->p != ' ' && *r->p != '\t' && *r->p != '\r') r->p++;
  *n = (size_t)(r->p - *w);
  return true;
}

static bool word_is(const char *w, size_t n, const char *lit) { return strlen(lit) == n && memcmp(w, lit, n) == 0; }

static bool word_int(const char *w, size_t n, int64_t min, int64_t max, int64_t *v) {
  size_t i = 0;
  bool neg = n > 0 && w[0] == '-';
  if (neg) i++;
  if (i == n || n - i > 10) return false;
  int64_t acc = 0;
  for (; i < n; i++) {
    if (w[i] < '0' || w[i] > '9') return false;
    acc = acc * 10 + (w[i] - '0');
  }
  *v = neg ? -acc : acc;
  return *v >= min && *v <= max;
}

static int find_tag(sim_reader_t *sim, const char *code, size_t n, uint8_t codetype) {
  for (int i = 0; i < sim->tag_count; i++)
    if (sim->tags[i].item.codetype == codetype && strlen(sim->tags[i].item.code) == n &&
        memcmp(sim->tags[i].item.code, code, n) == 0)
      return i;
  return -1;
}

static bool fail(sim_reader_t *sim, unsigned line, const char *why, const char *w, size_t n) {
  text_t t;
  text_init(&t, sim->error, sizeof sim->error);
  text_str(&t, "scenario line ");
  text_int(&t, line);
  text_str(&t, ": ");
  text_str(&t, why);
  text_str(&t, " \"");
  text_strn(&t, w, n > 24 ? 24 : n);
  text_str(&t, "\"");
  return false;
}

/* "at <ms> tag|ble <code> enter|move|leave [antenna <n>] [rssi <v>]" */
static bool parse_at(sim_reader_t *sim, line_reader_t *r, unsigned line) {
  const char *w = "";
  size_t n = 0;
  int64_t v;
  sim_step_t step;
  memset(&step, 0, sizeof step);
  if (!next_word(r, &w, &n) || !word_int(w, n, 0, 86400000, &v)) return fail(sim, line, "bad time", w, n);
  step.at_ms = (uint32_t)v;
  if (sim->step_count > 0 && step.at_ms < sim->steps[sim->step_count - 1].at_ms)
    return fail(sim, line, "time goes back", w, n);
  if (!next_word(r, &w, &n) || !(word_is(w, n, "tag") || word_is(w, n, "ble")))
    return fail(sim, line, "expected tag or ble, got", w, n);
  uint8_t codetype = word_is(w, n, "ble") ? spot_v1_ItemCodeType_ITEM_CODE_TYPE_BLUETOOTH_LE
                                          : spot_v1_ItemCodeType_ITEM_CODE_TYPE_EPC_GEN2;
  const char *code;
  size_t code_len;
  if (!next_word(r, &code, &code_len) || code_len >= SPOT_ITEM_CODE_MAX) return fail(sim, line, "bad item code", w, n);
  int tag = find_tag(sim, code, code_len, codetype);
  if (tag < 0) {
    if (sim->tag_count >= SPOT_SIM_TAGS)
      return fail(sim, line, "too many tags (max " SPOT_STR(SPOT_SIM_TAGS) ")", code, code_len);
    tag = sim->tag_count++;
    memcpy(sim->tags[tag].item.code, code, code_len);
    sim->tags[tag].item.code[code_len] = '\0';
    sim->tags[tag].item.codetype = codetype;
  }
  step.tag = (uint8_t)tag;
  if (!next_word(r, &w, &n)) return fail(sim, line, "missing action after", code, code_len);
  if (word_is(w, n, "enter")) step.action = SIM_ENTER;
  else if (word_is(w, n, "move")) step.action = SIM_MOVE;
  else if (word_is(w, n, "leave")) step.action = SIM_LEAVE;
  else return fail(sim, line, "unknown action", w, n);
  while (next_word(r, &w, &n)) {
    if (word_is(w, n, "antenna")) {
      if (!next_word(r, &w, &n) || !word_int(w, n, 1, 8, &v)) return fail(sim, line, "antenna must be 1..8, got", w, n);
      step.antenna = (uint8_t)v;
    } else if (word_is(w, n, "rssi")) {
      if (!next_word(r, &w, &n) || !word_int(w, n, -1500, 0, &v))
        return fail(sim, line, "rssi must be -1500..0, got", w, n);
      step.has_signal = true;
      step.signal = (int16_t)v;
    } else {
      return fail(sim, line, "unknown word", w, n);
    }
  }
  if (step.action == SIM_ENTER && (!step.has_signal || step.antenna == 0))
    return fail(sim, line, "enter needs antenna and rssi:", code, code_len);
  if (sim->step_count >= SPOT_SIM_STEPS)
    return fail(sim, line, "too many steps (max " SPOT_STR(SPOT_SIM_STEPS) ")", "", 0);
  sim->steps[sim->step_count++] = step;
  return true;
}

bool sim_parse(sim_reader_t *sim, const char *text, size_t len) {
  memset(sim, 0, sizeof *sim);
  sim->rate = 50;
  sim->seed = 1;
  const char *p = text, *end = text + len;
  unsigned line = 0;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL) eol = end;
    line++;
    line_reader_t r = {p, eol};
    const char *w;
    size_t n;
    int64_t v;
    p = eol < end ? eol + 1 : end;
    if (!next_word(&r, &w, &n) || w[0] == '#') continue;
    if (word_is(w, n, "seed")) {
      if (!next_word(&r, &w, &n) || !word_int(w, n, 0, 4294967295LL, &v)) return fail(sim, line, "bad seed", w, n);
      sim->seed = (uint32_t)v;
    } else if (word_is(w, n, "rate")) {
      if (!next_word(&r, &w, &n) || !word_int(w, n, 1, SIM_MAX_RATE, &v))
        return fail(sim, line, "rate must be 1.." SPOT_STR(SIM_MAX_RATE) " hits/s, got", w, n);
      sim->rate = (uint32_t)v;
    } else if (word_is(w, n, "at")) {
      if (!parse_at(sim, &r, line)) return false;
      continue;
    } else {
      return fail(sim, line, "unknown directive", w, n);
    }
    if (next_word(&r, &w, &n)) return fail(sim, line, "unexpected", w, n);
  }
  return true;
}

void sim_start(sim_reader_t *sim, int64_t now_ms) {
  sim->start_ms = now_ms;
  sim->last_ms = now_ms;
  sim->prng = sim->seed ? sim->seed : 0x9e3779b9u;
  sim->next_step = 0;
  sim->budget = 0;
  sim->next_tag = 0;
  for (int i = 0; i < sim->tag_count; i++) sim->tags[i].present = false;
}

static uint32_t xorshift32(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *s = x;
  return x;
}

static void apply_step(sim_reader_t *sim, const sim_step_t *st) {
  sim_tag_t *t = &sim->tags[st->tag];
  if (st->action == SIM_LEAVE) {
    t->present = false;
    return;
  }
  t->present = true;
  if (st->antenna) t->antenna = st->antenna;
  if (st->has_signal) t->signal = st->signal;
}

/* One read of the next present tag (round robin); false if none is present. */
static bool read_one(sim_reader_t *sim, int64_t time, sim_hit_fn hit, void *ctx) {
  for (int k = 0; k < sim->tag_count; k++) {
    uint8_t i = (uint8_t)((sim->next_tag + k) % sim->tag_count);
    sim_tag_t *t = &sim->tags[i];
    if (!t->present) continue;
    sim->next_tag = (uint8_t)(i + 1);
    bool bt = t->item.codetype == spot_v1_ItemCodeType_ITEM_CODE_TYPE_BLUETOOTH_LE;
    int32_t span = bt ? 2 : SIM_NOISE_TENTHS;
    int32_t noise = (int32_t)(xorshift32(&sim->prng) % (uint32_t)(2 * span + 1)) - span;
    presence_hit_t h;
    h.item = t->item;
    h.antenna = t->antenna;
    h.signal_strength = (int16_t)(t->signal + noise);
    h.time = time;
    hit(ctx, &h);
    return true;
  }
  return false;
}

void sim_advance(sim_reader_t *sim, int64_t now_ms, sim_hit_fn hit, void *ctx) {
  /* Millisecond by millisecond so steps and reads interleave in time order. */
  for (int64_t t = sim->last_ms + 1; t <= now_ms; t++) {
    while (sim->next_step < sim->step_count && sim->start_ms + sim->steps[sim->next_step].at_ms <= t)
      apply_step(sim, &sim->steps[sim->next_step++]);
    sim->budget += sim->rate;
    while (sim->budget >= 1000) {
      sim->budget -= 1000;
      if (!read_one(sim, t, hit, ctx)) break;
    }
    if (now_ms - t > 60000) { /* after a long pause, skip reads rather than replay minutes of them */
      t = now_ms - 60000;
    }
  }
  if (now_ms > sim->last_ms) sim->last_ms = now_ms;
}
