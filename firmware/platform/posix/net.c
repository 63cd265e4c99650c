/* Non-blocking IPv4 TCP sockets for the Linux targets. */
#define _GNU_SOURCE /* accept4, SOCK_NONBLOCK */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void set_reason(char *reason, size_t cap, const char *what, const char *detail)
{
  if (reason && cap) {
    snprintf(reason, cap, "%s%s", what, detail);
  }
}

int net_parse_address(const char *text, uint32_t *ip_be, uint16_t *port, char *reason, size_t reason_cap)
{
  char host[128];
  const char *colon = strrchr(text, ':');
  size_t host_len = colon ? (size_t)(colon - text) : strlen(text);
  if (host_len == 0 || host_len >= sizeof host) {
    set_reason(reason, reason_cap, "bad brain address: ", text);
    return -1;
  }
  memcpy(host, text, host_len);
  host[host_len] = '\0';
  *port = 80;
  if (colon) {
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || p <= 0 || p > 65535) {
      set_reason(reason, reason_cap, "bad port in address: ", text);
      return -1;
    }
    *port = (uint16_t)p;
  }
  if (strcmp(host, "localhost") == 0) {
    snprintf(host, sizeof host, "127.0.0.1");
  }
  struct in_addr addr;
  if (inet_pton(AF_INET, host, &addr) != 1) {
    set_reason(reason, reason_cap, "not an IPv4 address (names are not resolved): ", host);
    return -1;
  }
  *ip_be = addr.s_addr;
  return 0;
}

int net_host_of(const char *address, char *host, size_t cap)
{
  const char *colon = strrchr(address, ':');
  size_t len = colon ? (size_t)(colon - address) : strlen(address);
  if (cap == 0 || len >= cap) {
    return -1;
  }
  memcpy(host, address, len);
  host[len] = '\0';
  return 0;
}

static int make_socket(char *reason, size_t cap)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    set_reason(reason, cap, "socket: ", strerror(errno));
  }
  return fd;
}

int net_connect_start(const char *address, char *reason, size_t reason_cap)
{
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  uint16_t port;
  if (net_parse_address(address, &sa.sin_addr.s_addr, &port, reason, reason_cap) != 0) {
    return -1;
  }
  sa.sin_port = htons(port);
  int fd = make_socket(reason, reason_cap);
  if (fd < 0) {
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* each event goes out at once */
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
    set_reason(reason, reason_cap, strerror(errno), "");
    close(fd);
    return -1;
  }
  return fd;
}

int net_connect_result(int fd, char *reason, size_t reason_cap)
{
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    err = errno;
  }
  if (err) {
    set_reason(reason, reason_cap, strerror(err), "");
  }
  return err;
}

int net_listen(uint16_t port, char *reason, size_t reason_cap)
{
  int fd = make_socket(reason, reason_cap);
  if (fd < 0) {
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_ANY);
  sa.sin_port = htons(port);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0) {
    set_reason(reason, reason_cap, "telnet listen: ", strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t net_local_port(int fd)
{
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    return 0;
  }
  return ntohs(sa.sin_port);
}

int net_accept(int listen_fd)
{
  int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

void net_close(int fd)
{
  if (fd >= 0) {
    close(fd);
  }
}
