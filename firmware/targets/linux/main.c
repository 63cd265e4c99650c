/* Spot firmware for Linux (native host build and static armhf under qemu-arm):
 * wires the core to sockets, the state directory and the clock. */
#define _GNU_SOURCE /* MSG_NOSIGNAL, clock_gettime */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "flash.h"
#include "http_client.h"
#include "net.h"
#include "spot.h"
#include "telnet.h"

#ifndef SPOT_FIRMWARE_VERSION
#define SPOT_FIRMWARE_VERSION "0.0.0-dev"
#endif

#define SCENARIO_MAX_BYTES (64u * 1024u)
#define LOOP_MS 5
#define DRAIN_MS 5000u       /* after --run-seconds: time to get the last posts answered */
#define FLOOD_STEP_MS 10u    /* simulated time per loop turn in --flood mode */
/* Simulated steps per flood post: keeps a post's events (about 10 per step at
   rate 1000) well inside the retransmit ring, which holds them until the 200. */
#define FLOOD_STEPS_PER_POST (SPOT_RING_EVENTS / 20u)
#define TELNET_DEFAULT_PORT 23
#define READER_WAIT_MS 2000u /* longest wait for the first connection before reading tags */

typedef struct linux_spot {
  spot_cli_t cli;
  spot_t *core;
  http_client_t http;
  telnet_t telnet;
  int brain_fd;
  bool brain_connecting;
  int telnet_listen_fd;
  int telnet_fd;
  char brain[128];        /* address posted to now */
  char config_brain[128]; /* config brain_address when last seen */
  bool reboot;
  char scenario[SCENARIO_MAX_BYTES];
  size_t scenario_len;
} linux_spot_t;

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

static linux_spot_t the_spot;
static volatile sig_atomic_t stop_requested;

static void say(const linux_spot_t *ls, const char *fmt, ...)
{
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  fprintf(stderr, "spot %u: %s\n", (unsigned)ls->cli.serial, text);
}

static uint64_t clock_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- the platform the core sees ------------------------------------------- */
static bool save_state(void *ctx, const spot_persist_t *state)
{
  linux_spot_t *ls = ctx;
  char reason[300];
  if (!ls->cli.state_dir) {
    return true;
  }
  if (!flash_save(ls->cli.state_dir, state, reason, sizeof reason)) {
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

static void telnet_start(linux_spot_t *ls, int port)
{
  char reason[128];
  if (ls->telnet_listen_fd >= 0) {
    return;
  }
  ls->telnet_listen_fd = net_listen((uint16_t)port, reason, sizeof reason);
  if (ls->telnet_listen_fd < 0) {
    say(ls, "telnet off: %s", reason);
    return;
  }
  say(ls, "telnet listening on port %u", (unsigned)net_local_port(ls->telnet_listen_fd));
}

static void telnet_stop(linux_spot_t *ls)
{
  if (ls->telnet_fd >= 0) {
    net_close(ls->telnet_fd);
    ls->telnet_fd = -1;
    telnet_closed(&ls->telnet);
  }
  net_close(ls->telnet_listen_fd);
  ls->telnet_listen_fd = -1;
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
static void core_commands(void *ctx, const uint8_t *bytes, size_t len) { spot_command_input(((linux_spot_t *)ctx)->core, bytes, len); }
static void core_commands_end(void *ctx) { spot_command_end(((linux_spot_t *)ctx)->core); }
static void tn_open(void *ctx) { spot_stream_open(((linux_spot_t *)ctx)->core); }
static size_t tn_read(void *ctx, uint8_t *buf, size_t cap) { return spot_stream_read(((linux_spot_t *)ctx)->core, buf, cap); }
static void tn_close(void *ctx) { spot_stream_close(((linux_spot_t *)ctx)->core); }

static bool load_scenario(linux_spot_t *ls)
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

static void boot(linux_spot_t *ls, uint64_t now)
{
  static spot_persist_t persisted;
  static const spot_platform_t platform = {&the_spot, save_state, request_reset, core_log, firmware_update,
                                           config_changed};
  char reason[300];
  const spot_persist_t *state = NULL;
  if (ls->cli.state_dir) {
    mkdir(ls->cli.state_dir, 0755);
    if (flash_load(ls->cli.state_dir, &persisted, reason, sizeof reason)) {
      state = &persisted;
    } else {
      say(ls, "%s", reason);
    }
  }
  spot_init_t init = {
      .serial = ls->cli.serial,
      .version = SPOT_FIRMWARE_VERSION,
      .encoding = ls->cli.pb ? SPOT_ENCODING_PB : SPOT_ENCODING_JSON,
      .persisted = state,
      .watchdog_reset = false,
      .now_ms = now,
      .scenario = ls->cli.scenario ? ls->scenario : ls->cli.flood ? flood_scenario : NULL,
      .scenario_len = ls->cli.scenario ? ls->scenario_len : ls->cli.flood ? sizeof flood_scenario - 1 : 0,
      .http = !ls->cli.no_http,
  };
  ls->core = spot_instance();
  ls->reboot = false;
  if (!spot_init(ls->core, &platform, &init)) {
    say(ls, "scenario not used: %s", spot_last_error(ls->core));
  }
  const spot_config_t *config = spot_config(ls->core);
  snprintf(ls->config_brain, sizeof ls->config_brain, "%s", config->brain_address);
  snprintf(ls->brain, sizeof ls->brain, "%s", ls->cli.brain ? ls->cli.brain : config->brain_address);
  static const http_client_spot_t hc_spot = {&the_spot, hc_connected, hc_post_begin,
                                             hc_post_read, hc_at_boundary, hc_post_done, core_commands,
                                             core_commands_end};
  http_client_options_t opt = {
      .host = ls->brain,
      .serial = ls->cli.serial,
      .version = SPOT_FIRMWARE_VERSION,
      .pb = ls->cli.pb,
      .post_window_ms = (uint32_t)config->post_window_ms,
      .backoff_min_ms = 200,
      .backoff_max_ms = 2000,
  };
  http_client_init(&ls->http, &hc_spot, &opt, now);
  if (ls->cli.flood) {
    /* A flood is hits: switched on as the brain would, by a command. */
    spot_command_input(ls->core, (const uint8_t *)flood_command, sizeof flood_command - 1);
    spot_command_end(ls->core);
  }
  static const telnet_spot_t tn_spot = {&the_spot, tn_open, tn_read, tn_close, core_commands};
  telnet_init(&ls->telnet, &tn_spot, !ls->cli.pb);
  say(ls, "firmware %s, boot %u, %s encoding, %s", SPOT_FIRMWARE_VERSION,
      (unsigned)spot_state(ls->core)->boot_count, ls->cli.pb ? "pb" : "json",
      ls->cli.no_http ? "not posting" : ls->brain);
  if (ls->cli.telnet_port >= 0) {
    telnet_start(ls, ls->cli.telnet_port);
  } else if (config->telnet) {
    telnet_start(ls, TELNET_DEFAULT_PORT);
  }
}

/* --- socket plumbing -------------------------------------------------------- */
static void brain_close(linux_spot_t *ls, uint64_t now, const char *reason)
{
  net_close(ls->brain_fd);
  ls->brain_fd = -1;
  ls->brain_connecting = false;
  http_client_disconnected(&ls->http, now, reason);
}

static void brain_step(linux_spot_t *ls, uint64_t now)
{
  char reason[128];
  http_client_tick(&ls->http, now);
  if (http_client_wants_close(&ls->http)) {
    brain_close(ls, now, "");
  }
  if (http_client_wants_connect(&ls->http, now)) {
    ls->brain_fd = net_connect_start(ls->brain, reason, sizeof reason);
    if (ls->brain_fd < 0) {
      http_client_connect_failed(&ls->http, now, reason);
    } else {
      ls->brain_connecting = true;
      http_client_connecting(&ls->http, now);
    }
  }
}

static void brain_io(linux_spot_t *ls, short revents, uint64_t now)
{
  char reason[128];
  if (ls->brain_connecting) {
    if (!(revents & (POLLOUT | POLLERR | POLLHUP))) {
      return;
    }
    ls->brain_connecting = false;
    if (net_connect_result(ls->brain_fd, reason, sizeof reason) != 0) {
      net_close(ls->brain_fd);
      ls->brain_fd = -1;
      http_client_connect_failed(&ls->http, now, reason);
      return;
    }
    http_client_connected(&ls->http, now);
    http_client_tick(&ls->http, now);
  }
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    uint8_t buf[4096];
    ssize_t n = recv(ls->brain_fd, buf, sizeof buf, 0);
    if (n > 0) {
      http_client_input(&ls->http, buf, (size_t)n, now);
    } else if (n == 0) {
      brain_close(ls, now, "the brain closed the connection");
      return;
    } else if (errno != EAGAIN && errno != EINTR) {
      brain_close(ls, now, strerror(errno));
      return;
    }
  }
  size_t len;
  const uint8_t *out = http_client_output(&ls->http, &len);
  if (len && ls->brain_fd >= 0 && !http_client_wants_close(&ls->http)) {
    ssize_t n = send(ls->brain_fd, out, len, MSG_NOSIGNAL);
    if (n > 0) {
      http_client_sent(&ls->http, (size_t)n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      brain_close(ls, now, strerror(errno));
    }
  }
}

static void telnet_io(linux_spot_t *ls, short listen_revents, short client_revents)
{
  if (listen_revents & POLLIN) {
    int fd = net_accept(ls->telnet_listen_fd);
    if (fd >= 0 && telnet_accept(&ls->telnet)) {
      ls->telnet_fd = fd;
    } else if (fd >= 0) {
      (void)!send(fd, TELNET_BUSY_MESSAGE, sizeof TELNET_BUSY_MESSAGE - 1, MSG_NOSIGNAL);
      net_close(fd);
    }
  }
  if (ls->telnet_fd < 0) {
    return;
  }
  if (client_revents & (POLLIN | POLLHUP | POLLERR)) {
    uint8_t buf[1024];
    ssize_t n = recv(ls->telnet_fd, buf, sizeof buf, 0);
    if (n > 0) {
      telnet_input(&ls->telnet, buf, (size_t)n);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      net_close(ls->telnet_fd);
      ls->telnet_fd = -1;
      telnet_closed(&ls->telnet);
      return;
    }
  }
  telnet_tick(&ls->telnet);
  size_t len;
  const uint8_t *out = telnet_output(&ls->telnet, &len);
  if (len) {
    ssize_t n = send(ls->telnet_fd, out, len, MSG_NOSIGNAL);
    if (n > 0) {
      telnet_sent(&ls->telnet, (size_t)n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      net_close(ls->telnet_fd);
      ls->telnet_fd = -1;
      telnet_closed(&ls->telnet);
    }
  }
}

/* Runs one boot of the spot until the run ends, a signal, or a reboot request. */
static int run(linux_spot_t *ls)
{
  uint64_t started = clock_ms();
  uint64_t deadline = ls->cli.run_seconds ? started + ls->cli.run_seconds * 1000ull : 0;
  uint64_t drain_until = 0;
  uint64_t sim_now = started;
  uint32_t flood_steps = 0;
  uint32_t flood_post = 0;
  bool reading = ls->cli.no_http;
  boot(ls, started);
  for (;;) {
    uint64_t now = clock_ms();
    if (stop_requested) {
      say(ls, "stopped by signal");
      break;
    }
    if (ls->reboot) {
      say(ls, "rebooting");
      brain_close(ls, now, "reboot");
      telnet_stop(ls);
      boot(ls, now);
      continue;
    }
    if (deadline && now >= deadline && !drain_until) {
      drain_until = now + DRAIN_MS; /* no new events from here; get the last ones acknowledged */
    }
    if (drain_until) {
      bool idle = ls->cli.no_http || (ls->http.state == HTTP_CLIENT_IDLE && !spot_post_pending(ls->core));
      if (idle || now >= drain_until) {
        break;
      }
    } else if (!reading) {
      /* The network comes up before the reader, so `spot create` leads the first post. */
      reading = ls->http.connects > 0 || http_client_last_error(&ls->http)[0] != '\0' ||
                now - started >= READER_WAIT_MS;
    } else if (ls->cli.flood) {
      size_t queued;
      http_client_output(&ls->http, &queued);
      uint32_t post = ls->http.posts_acknowledged + ls->http.posts_failed;
      if (post != flood_post) {
        flood_post = post;
        flood_steps = 0;
      }
      if (ls->http.state == HTTP_CLIENT_POSTING && queued < HTTP_CLIENT_OUT_BYTES / 2) {
        if (flood_steps < FLOOD_STEPS_PER_POST) {
          sim_now += FLOOD_STEP_MS; /* simulated time runs as fast as the brain takes events */
          flood_steps++;
        } else {
          http_client_end_post(&ls->http);
        }
      }
      spot_tick(ls->core, sim_now); /* only simulated time: a slow brain slows the reader down */
    } else {
      spot_tick(ls->core, now);
    }
    if (!ls->cli.no_http) {
      brain_step(ls, now);
    }
    telnet_tick(&ls->telnet);

    struct pollfd fds[3];
    size_t len;
    http_client_output(&ls->http, &len);
    fds[0] = (struct pollfd){ls->brain_fd, (short)(POLLIN | (ls->brain_connecting || len ? POLLOUT : 0)), 0};
    fds[1] = (struct pollfd){ls->telnet_listen_fd, POLLIN, 0};
    telnet_output(&ls->telnet, &len);
    fds[2] = (struct pollfd){ls->telnet_fd, (short)(POLLIN | (len ? POLLOUT : 0)), 0};
    http_client_output(&ls->http, &len);
    int timeout = ls->cli.flood && ls->http.state == HTTP_CLIENT_POSTING && len < HTTP_CLIENT_OUT_BYTES / 2 && !drain_until ? 0 : LOOP_MS;
    if (poll(fds, 3, timeout) < 0 && errno != EINTR) {
      say(ls, "poll: %s", strerror(errno));
      return 1;
    }
    now = clock_ms();
    if (ls->brain_fd >= 0) {
      brain_io(ls, fds[0].revents, now);
    }
    if (ls->telnet_listen_fd >= 0) {
      telnet_io(ls, fds[1].revents, ls->telnet_fd >= 0 ? fds[2].revents : 0);
    }
  }
  bool pending = !ls->cli.no_http && spot_post_pending(ls->core);
  say(ls, "run ended: posts acknowledged=%u failed=%u connects=%u%s", (unsigned)ls->http.posts_acknowledged,
      (unsigned)ls->http.posts_failed, (unsigned)ls->http.connects,
      pending ? ", events not acknowledged remain" : "");
  net_close(ls->brain_fd);
  telnet_stop(ls);
  return 0;
}

static pid_t children[10000];
static uint32_t child_count;

static void on_signal(int sig)
{
  stop_requested = 1;
  for (uint32_t i = 0; i < child_count; i++) {
    kill(children[i], sig);
  }
}

/* --spots N: one process per spot, so every spot has its own core instance. */
static int run_many(linux_spot_t *ls)
{
  uint32_t first = ls->cli.serial;
  const char *state_root = ls->cli.state_dir;
  static char state_dir[4096];
  for (uint32_t i = 0; i < ls->cli.spots; i++) {
    pid_t pid = fork();
    if (pid < 0) {
      say(ls, "fork for spot %u: %s", (unsigned)(first + i), strerror(errno));
      break;
    }
    if (pid == 0) {
      child_count = 0;
      ls->cli.serial = first + i;
      if (state_root) {
        mkdir(state_root, 0755);
        snprintf(state_dir, sizeof state_dir, "%s/%u", state_root, (unsigned)ls->cli.serial);
        ls->cli.state_dir = state_dir;
      }
      _exit(run(ls));
    }
    children[child_count++] = pid;
  }
  int worst = 0;
  for (uint32_t i = 0; i < child_count; i++) {
    int status;
    while (waitpid(children[i], &status, 0) < 0 && errno == EINTR) {
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    worst = code > worst ? code : worst;
  }
  return worst;
}

int main(int argc, char **argv)
{
  linux_spot_t *ls = &the_spot;
  int parsed = spot_cli_parse(&ls->cli, argc, argv, SPOT_FIRMWARE_VERSION);
  if (parsed) {
    return parsed == 1 ? 0 : 2;
  }
  ls->brain_fd = -1;
  ls->telnet_fd = -1;
  ls->telnet_listen_fd = -1;
  if (!load_scenario(ls)) {
    return 2;
  }
  setvbuf(stderr, NULL, _IOLBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  return ls->cli.spots > 1 ? run_many(ls) : run(ls);
}
