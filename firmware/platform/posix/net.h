/* Non-blocking IPv4 TCP for the Linux targets (host and ARM under qemu-arm). */
#ifndef POSIX_NET_H
#define POSIX_NET_H

#include <stddef.h>
#include <stdint.h>

/* Splits "host[:port]" (port 80 when absent). Host: a dotted quad or "localhost";
   names are not resolved (no resolver in a static binary under qemu-arm). */
int net_parse_address(const char *text, uint32_t *ip_be, uint16_t *port, char *reason, size_t reason_cap);

/* The host part of "host[:port]" as written (for the TLS name check); -1 if it does not fit. */
int net_host_of(const char *address, char *host, size_t cap);

/* Starts a connect; returns the socket or -1 with a reason. */
int net_connect_start(const char *address, char *reason, size_t reason_cap);
/* After the socket became writable: 0 = connected, else errno with a reason. */
int net_connect_result(int fd, char *reason, size_t reason_cap);
/* Listening socket on all IPv4 addresses; port 0 = any. Returns -1 with a reason. */
int net_listen(uint16_t port, char *reason, size_t reason_cap);
/* Port a listening socket is bound to. */
uint16_t net_local_port(int fd);
int net_accept(int listen_fd);
void net_close(int fd);

#endif
