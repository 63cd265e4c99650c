/* Sockets of the Linux spot: the brain connection and the telnet tap. */
#define _GNU_SOURCE /* MSG_NOSIGNAL */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "linux_spot.h"
#include "net.h"

void telnet_start(linux_spot_t *ls, int port)
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

void telnet_stop(linux_spot_t *ls)
{
  if (ls->telnet_fd >= 0) {
    net_close(ls->telnet_fd);
    ls->telnet_fd = -1;
    telnet_closed(&ls->telnet);
  }
  net_close(ls->telnet_listen_fd);
  ls->telnet_listen_fd = -1;
}

/* Connect failures are told once per distinct reason, not once per retry. */
static void connect_failed(linux_spot_t *ls, uint64_t now, const char *reason)
{
  link_connect_failed(ls, now, reason);
  if (strcmp(reason, ls->connect_error) != 0) {
    snprintf(ls->connect_error, sizeof ls->connect_error, "%s", reason);
    say(ls, "cannot connect to %s: %s; retrying", ls->brain, reason);
  }
}

/* TLS (if any) and the socket, without telling the HTTP client. */
static void brain_socket_close(linux_spot_t *ls)
{
  if (ls->tls) {
    tls_close(ls->tls);
  }
  net_close(ls->brain_fd);
  ls->brain_fd = -1;
  ls->brain_connecting = false;
  ls->brain_handshaking = false;
  ls->tls_want_write = false;
}

void brain_close(linux_spot_t *ls, uint64_t now, const char *reason)
{
  brain_socket_close(ls);
  link_disconnected(ls, now, reason);
}

/* The name the gateway's certificate must hold: --tls-name, else the host of the brain address. */
static void tls_server_name(const linux_spot_t *ls, char *name, size_t cap)
{
  if (ls->cli.tls_name) {
    snprintf(name, cap, "%s", ls->cli.tls_name);
    return;
  }
  if (net_host_of(ls->brain, name, cap) != 0) {
    name[0] = '\0'; /* no name: the check fails and says so */
  }
}

/* The connection is usable: the HTTP client starts its posts. */
static void brain_ready(linux_spot_t *ls, uint64_t now)
{
  if (ls->connect_error[0]) {
    say(ls, "connected to %s", ls->brain);
    ls->connect_error[0] = '\0';
  }
  link_connected(ls, now);
  link_tick(ls, now);
}

/* One step of the TLS handshake; true once TLS is up. A failure is told like a failed connect. */
static bool brain_handshake(linux_spot_t *ls, uint64_t now)
{
  char reason[320];
  int ret = tls_handshake(ls->tls, &ls->tls_want_write, reason, sizeof reason);
  if (ret == TLS_AGAIN) {
    return false;
  }
  ls->brain_handshaking = false;
  ls->tls_want_write = false;
  if (ret != 0) {
    brain_socket_close(ls);
    connect_failed(ls, now, reason);
    return false;
  }
  if (!ls->tls_told) {
    char text[128];
    say(ls, "TLS to %s: %s", ls->brain, tls_describe(ls->tls, text, sizeof text));
    ls->tls_told = true;
  }
  return true;
}

void brain_step(linux_spot_t *ls, uint64_t now)
{
  char reason[128];
  link_tick(ls, now);
  if (link_wants_close(ls)) {
    brain_close(ls, now, "");
  }
  if (link_wants_connect(ls, now)) {
    ls->brain_fd = net_connect_start(ls->brain, reason, sizeof reason);
    if (ls->brain_fd < 0) {
      connect_failed(ls, now, reason);
    } else {
      ls->brain_connecting = true;
      link_connecting(ls, now);
    }
  }
}

/* What the brain sent, decrypted with TLS: all of it (mbedTLS may hold more than the socket shows). */
static void brain_read(linux_spot_t *ls, uint64_t now)
{
  char reason[256];
  uint8_t buf[4096];
  do {
    ssize_t n = ls->tls ? tls_recv(ls->tls, buf, sizeof buf, reason, sizeof reason) : recv(ls->brain_fd, buf, sizeof buf, 0);
    if (n > 0) {
      link_input(ls, buf, (size_t)n, now);
      continue;
    }
    if (n == 0) {
      brain_close(ls, now, "the brain closed the connection");
    } else if (ls->tls ? n == TLS_FAILED : (errno != EAGAIN && errno != EINTR)) {
      brain_close(ls, now, ls->tls ? reason : strerror(errno));
    }
    return;
  } while (ls->tls && ls->brain_fd >= 0);
}

static void brain_write(linux_spot_t *ls, const uint8_t *out, size_t len, uint64_t now)
{
  char reason[256];
  ssize_t n = ls->tls ? tls_send(ls->tls, out, len, reason, sizeof reason) : send(ls->brain_fd, out, len, MSG_NOSIGNAL);
  if (n > 0) {
    link_sent(ls, (size_t)n);
  } else if (ls->tls ? n == TLS_FAILED : (n < 0 && errno != EAGAIN && errno != EINTR)) {
    brain_close(ls, now, ls->tls ? reason : strerror(errno));
  }
}

void brain_io(linux_spot_t *ls, short revents, uint64_t now)
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
      connect_failed(ls, now, reason);
      return;
    }
    if (ls->tls) {
      char name[128];
      tls_server_name(ls, name, sizeof name);
      if (tls_open(ls->tls, ls->brain_fd, name, reason, sizeof reason) != 0) {
        brain_socket_close(ls);
        connect_failed(ls, now, reason);
        return;
      }
      ls->brain_handshaking = true;
    } else {
      brain_ready(ls, now);
    }
  }
  if (ls->brain_handshaking) {
    if (!brain_handshake(ls, now)) {
      return;
    }
    brain_ready(ls, now);
  }
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    brain_read(ls, now);
    if (ls->brain_fd < 0) {
      return;
    }
  }
  size_t len;
  const uint8_t *out = link_output(ls, &len);
  if (len && !link_wants_close(ls)) {
    brain_write(ls, out, len, now);
  }
  if (ls->cli.websocket && ls->ws.connects != ls->ws_connects) {
    ls->ws_connects = ls->ws.connects;
    say(ls, "WebSocket open to %s (%s)", ls->brain, ls->cli.pb ? "spot-pb.v1" : "spot-json.v1");
  }
}

void brain_goodbye(linux_spot_t *ls, uint64_t now)
{
  if (!ls->cli.websocket || ls->brain_fd < 0 || !ws_client_open(&ls->ws)) {
    return;
  }
  ws_client_close(&ls->ws, now);
  size_t len;
  const uint8_t *out = ws_client_output(&ls->ws, &len);
  brain_write(ls, out, len, now); /* one try: the process is ending */
}

void telnet_io(linux_spot_t *ls, short listen_revents, short client_revents)
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
