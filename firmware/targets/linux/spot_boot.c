/* The core's platform on Linux, and one boot of the spot. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "flash.h"
#include "linux_spot.h"

/* --flood without --scenario: eight tags that stay for a simulated day and move
   now and then, read 1000 times per simulated second, every read a hit event. */
static const char flood_scenario[] =
    "seed 5\n"
    "rate 1000\n"
    "at 0 tag e2801170000002000000f001 enter antenna 1 rssi -400\n"
    "at 0 tag e2801170000002000000f002 enter antenna 2 rssi -520\n"
    "at 0 tag e2801170000002000000f003 enter antenna 3 rssi -700\n"
    "at 0 tag e2801170000002000000f004 enter antenna 4 rssi -430\n"
    "at 0 ble c0ffee00f005 enter antenna 1 rssi -60\n"
    "at 0 ble c0ffee00f006 enter antenna 1 rssi -80\n"
    "at 0 tag e2801170000002000000f007 enter antenna 2 rssi -610\n"
    "at 0 tag e2801170000002000000f008 enter antenna 3 rssi -480\n"
    "at 5000 tag e2801170000002000000f001 move rssi -650\n"
    "at 10000 tag e2801170000002000000f003 move rssi -420\n"
    "at 15000 tag e2801170000002000000f001 move rssi -400\n"
    "at 20000 tag e2801170000002000000f003 move rssi -700\n"
    "at 86400000 tag e2801170000002000000f001 leave\n";
static const char flood_command[] = "[\"config\",\"update\",{\"send_hits\":true}]\n\n";

static bool save_state(void *ctx, const uint8_t *record, size_t len)
{
  linux_spot_t *ls = ctx;
  char reason[300];
  if (!ls->cli.state_dir) {
    return true;
  }
  if (!flash_save(ls->cli.state_dir, record, len, reason, sizeof reason)) {
    say(ls, "saving state failed: %s", reason);
    return false;
  }
  return true;
}

static void request_reset(void *ctx)
{
  ((linux_spot_t *)ctx)->reboot = true;
}

static void core_log(void *ctx, spot_log_level_t level, const char *text)
{
  static const char *const names[] = {"", "debug", "info", "warn", "error"};
  say(ctx, "%s: %s", level >= SPOT_LOG_DEBUG && level <= SPOT_LOG_ERROR ? names[level] : "log", text);
}

static void firmware_update(void *ctx, const char *url, const char *version)
{
  say(ctx, "firmware update to %s from %s: download not implemented on this target", version, url);
}

static void config_changed(void *ctx, const spot_config_t *config)
{
  linux_spot_t *ls = ctx;
  if (strcmp(config->brain_address, ls->config_brain) != 0) {
    snprintf(ls->config_brain, sizeof ls->config_brain, "%s", config->brain_address);
    snprintf(ls->brain, sizeof ls->brain, "%s", config->brain_address);
    say(ls, "brain_address changed to %s", ls->brain);
  }
  http_client_reconfigure(&ls->http, ls->brain, (uint32_t)config->post_window_ms);
  ws_client_reconfigure(&ls->ws, ls->brain);
  if (ls->cli.telnet_port < 0) {
    if (config->telnet) {
      telnet_start(ls, TELNET_DEFAULT_PORT);
    } else {
      telnet_stop(ls);
    }
  }
}

/* --- the core behind the HTTP client and the telnet tap ------------------- */
static void hc_connected(void *ctx) { spot_connected(((linux_spot_t *)ctx)->core); }
static void hc_post_begin(void *ctx, uint32_t *boot, uint64_t *first_seq)
{
  spot_post_info_t info = {0, 0};
  spot_post_begin(((linux_spot_t *)ctx)->core, &info);
  *boot = info.boot;
  *first_seq = info.first_seq;
}
static size_t hc_post_read(void *ctx, uint8_t *buf, size_t cap) { return spot_post_read(((linux_spot_t *)ctx)->core, buf, cap); }
static bool hc_at_boundary(void *ctx) { return spot_post_at_event_boundary(((linux_spot_t *)ctx)->core); }
static void hc_post_done(void *ctx, bool acknowledged)
{
  linux_spot_t *ls = ctx;
  if (acknowledged) {
    spot_post_ack(ls->core);
  } else {
    spot_post_fail(ls->core);
    say(ls, "post not acknowledged (%s); its events will be sent again", http_client_last_error(&ls->http));
  }
}
/* --- the core behind the WebSocket client -------------------------------- */
static void ws_acknowledged(void *ctx, uint64_t through_seq) { spot_post_ack_through(((linux_spot_t *)ctx)->core, through_seq); }
static void ws_post_end(void *ctx)
{
  linux_spot_t *ls = ctx;
  spot_post_fail(ls->core);
  say(ls, "WebSocket ended (%s)%s", ws_client_last_error(&ls->ws),
      spot_post_pending(ls->core) ? "; events not acknowledged will be sent again" : "");
}
static bool ws_unacknowledged(void *ctx) { return spot_post_unacknowledged(((linux_spot_t *)ctx)->core); }
static bool ws_behind(void *ctx) { return spot_post_behind(((linux_spot_t *)ctx)->core); }
static void core_commands(void *ctx, const uint8_t *bytes, size_t len) { spot_command_input(((linux_spot_t *)ctx)->core, bytes, len); }
static void core_commands_end(void *ctx) { spot_command_end(((linux_spot_t *)ctx)->core); }
/* A reader of their own: a telnet command never mixes into a response body. */
static void tn_commands(void *ctx, const uint8_t *bytes, size_t len) { spot_stream_command_input(((linux_spot_t *)ctx)->core, bytes, len); }
static void tn_open(void *ctx) { spot_stream_open(((linux_spot_t *)ctx)->core); }
static size_t tn_read(void *ctx, uint8_t *buf, size_t cap) { return spot_stream_read(((linux_spot_t *)ctx)->core, buf, cap); }
static void tn_close(void *ctx) { spot_stream_close(((linux_spot_t *)ctx)->core); }

bool load_scenario(linux_spot_t *ls)
{
  if (!ls->cli.scenario) {
    return true;
  }
  FILE *f = fopen(ls->cli.scenario, "rb");
  if (!f) {
    say(ls, "cannot read scenario %s: %s", ls->cli.scenario, strerror(errno));
    return false;
  }
  ls->scenario_len = fread(ls->scenario, 1, sizeof ls->scenario, f);
  bool too_big = ls->scenario_len == sizeof ls->scenario && fgetc(f) != EOF;
  fclose(f);
  if (too_big) {
    say(ls, "scenario %s is over %u bytes", ls->cli.scenario, SCENARIO_MAX_BYTES);
    return false;
  }
  return true;
}

/* Without --state-dir there is no flash to count boots in: the count comes from the
   clock, and a reboot within the same second still takes the next number. */
static uint32_t boot_count_floor(linux_spot_t *ls, uint64_t now)
{
  if (ls->cli.state_dir) {
    return 0;
  }
  uint32_t from_clock = spot_boot_count_from_clock(now);
  if (from_clock == 0) {
    say(ls, "clock before 2024-01-01: without --state-dir this boot's number may repeat an earlier run's");
  }
  return from_clock > ls->last_boot ? from_clock : ls->last_boot + 1u;
}

void spot_boot(linux_spot_t *ls, uint64_t now)
{
  uint8_t persisted[SPOT_STATE_RECORD_BYTES]; /* spot_init copies what it keeps, the platform too */
  const spot_platform_t platform = {ls, save_state, request_reset, core_log, firmware_update, config_changed};
  char reason[300];
  const uint8_t *state = NULL;
  size_t state_len = 0;
  if (ls->cli.state_dir) {
    mkdir(ls->cli.state_dir, 0755);
    if (flash_load(ls->cli.state_dir, persisted, sizeof persisted, &state_len, reason, sizeof reason)) {
      state = persisted;
    } else {
      say(ls, "%s", reason);
    }
  }
  spot_init_t init = {
      .serial = ls->cli.serial,
      .version = SPOT_FIRMWARE_VERSION,
      .encoding = ls->cli.pb ? SPOT_ENCODING_PB : SPOT_ENCODING_JSON,
      .persisted = state,
      .persisted_len = state_len,
      .watchdog_reset = false,
      .now_ms = now,
      .scenario = ls->cli.scenario ? ls->scenario : ls->cli.flood ? flood_scenario : NULL,
      .scenario_len = ls->cli.scenario ? ls->scenario_len : ls->cli.flood ? sizeof flood_scenario - 1 : 0,
      .http = !ls->cli.no_http,
      .boot_count_floor = boot_count_floor(ls, now),
  };
  ls->core = &ls->spot;
  ls->reboot = false;
  if (!spot_init(ls->core, &platform, &init)) {
    say(ls, "scenario not used: %s", spot_last_error(ls->core));
  }
  ls->last_boot = spot_state(ls->core)->boot_count;
  const spot_config_t *config = spot_config(ls->core);
  snprintf(ls->config_brain, sizeof ls->config_brain, "%s", config->brain_address);
  snprintf(ls->brain, sizeof ls->brain, "%s", ls->cli.brain ? ls->cli.brain : config->brain_address);
  const http_client_spot_t hc_spot = {ls, hc_connected, hc_post_begin,
                                      hc_post_read, hc_at_boundary, hc_post_done, core_commands,
                                      core_commands_end};
  http_client_options_t opt = {
      .host = ls->brain,
      .serial = ls->cli.serial,
      .version = SPOT_FIRMWARE_VERSION,
      .pb = ls->cli.pb,
      .token = ls->cli.token,
      .post_window_ms = (uint32_t)config->post_window_ms,
      .backoff_min_ms = 200,
      .backoff_max_ms = 2000,
      .jitter_seed = ((uint32_t)(now ^ (now >> 32)) ^ (ls->cli.serial * 2654435761u)) | 1u,
  };
  http_client_init(&ls->http, &hc_spot, &opt, now);
  const ws_client_spot_t ws_spot = {ls, hc_connected, hc_post_begin, hc_post_read, hc_at_boundary, ws_acknowledged,
                                    ws_post_end, ws_unacknowledged, ws_behind, core_commands, core_commands_end};
  const ws_client_options_t ws_opt = {
      .host = ls->brain,
      .serial = ls->cli.serial,
      .version = SPOT_FIRMWARE_VERSION,
      .pb = ls->cli.pb,
      .token = ls->cli.token,
      .backoff_min_ms = opt.backoff_min_ms,
      .backoff_max_ms = opt.backoff_max_ms,
      .jitter_seed = opt.jitter_seed,
      .random = link_random,
      .random_ctx = ls,
  };
  ws_client_init(&ls->ws, &ws_spot, &ws_opt, now);
  ls->ws_connects = 0;
  if (ls->cli.flood) {
    /* A flood is hits: switched on as the brain would, by a command. */
    spot_command_input(ls->core, (const uint8_t *)flood_command, sizeof flood_command - 1);
    spot_command_end(ls->core);
  }
  const telnet_spot_t tn_spot = {ls, tn_open, tn_read, tn_close, tn_commands};
  telnet_init(&ls->telnet, &tn_spot, !ls->cli.pb);
  say(ls, "firmware %s, boot %u, %s encoding, %s%s", SPOT_FIRMWARE_VERSION,
      (unsigned)spot_state(ls->core)->boot_count, ls->cli.pb ? "pb" : "json",
      ls->cli.no_http ? "not posting" : ls->brain, ls->cli.no_http ? "" : ls->cli.websocket ? " over WebSocket" : " over HTTP");
  if (ls->cli.telnet_port >= 0) {
    telnet_start(ls, ls->cli.telnet_port);
  } else if (config->telnet) {
    telnet_start(ls, TELNET_DEFAULT_PORT);
  }
}
