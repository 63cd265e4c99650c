/* Spot firmware for Linux (native host build and static armhf under qemu-arm):
 * the command line, the run loop, one process per spot. */
#define _GNU_SOURCE /* clock_gettime */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "linux_spot.h"
#include "net.h"

#define LOOP_MS 5
#define DRAIN_MS 5000u       /* after --run-seconds: time to get the last posts answered */
#define FLOOD_STEP_MS 10u    /* simulated time per loop turn in --flood mode */
/* Simulated steps per flood post: keeps a post's events (about 10 per step at
   rate 1000) well inside the retransmit ring, which holds them until the 200. */
#define FLOOD_STEPS_PER_POST (SPOT_RING_EVENTS / 20u)
#define EXIT_UNACKNOWLEDGED 3 /* --run-seconds ended with events the brain never acknowledged */

static linux_spot_t the_spot;
static volatile sig_atomic_t stop_requested;

void say(const linux_spot_t *ls, const char *fmt, ...)
{
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  fprintf(stderr, "spot %u: %s\n", (unsigned)ls->cli.serial, text);
}

uint64_t clock_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
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
  if (ls->cli.tls && !ls->cli.no_http) {
    /* Here, in each spot's own process: a random generator seeded before a fork would be shared. */
    char reason[320];
    ls->tls = tls_client_new(ls->cli.ca_file ? ls->cli.ca_file : TLS_DEFAULT_CA_FILE, reason, sizeof reason);
    if (!ls->tls) {
      say(ls, "%s", reason);
      return 2;
    }
  }
  spot_boot(ls, started);
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
      spot_boot(ls, now);
      continue;
    }
    if (deadline && now >= deadline && !drain_until) {
      drain_until = now + DRAIN_MS; /* no new events from here; get the last ones acknowledged */
    }
    if (drain_until) {
      bool idle = ls->cli.no_http || (link_idle(ls) && !spot_post_pending(ls->core));
      if (idle || now >= drain_until) {
        break;
      }
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
    link_output(ls, &len);
    fds[0] = (struct pollfd){ls->brain_fd, (short)(POLLIN | (ls->brain_connecting || ls->tls_want_write || len ? POLLOUT : 0)), 0};
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
  brain_goodbye(ls, clock_ms());
  bool pending = !ls->cli.no_http && spot_post_pending(ls->core);
  if (ls->cli.websocket) {
    say(ls, "run ended: WebSocket connections=%u acks=%u command messages=%u, boot %u events 1..%llu%s",
        (unsigned)ls->ws.connects, (unsigned)ls->ws.acks, (unsigned)ls->ws.command_messages,
        (unsigned)spot_state(ls->core)->boot_count, (unsigned long long)spot_last_seq(ls->core),
        pending ? ", events not acknowledged remain" : "");
  } else {
    say(ls, "run ended: posts acknowledged=%u failed=%u connects=%u%s", (unsigned)ls->http.posts_acknowledged,
        (unsigned)ls->http.posts_failed, (unsigned)ls->http.connects,
        pending ? ", events not acknowledged remain" : "");
  }
  if (ls->tls) {
    tls_close(ls->tls);
  }
  net_close(ls->brain_fd);
  tls_client_free(ls->tls);
  ls->tls = NULL;
  telnet_stop(ls);
  return pending && drain_until ? EXIT_UNACKNOWLEDGED : 0;
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
