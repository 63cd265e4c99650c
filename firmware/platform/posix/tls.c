/* TLS client of the Linux targets over mbedTLS 2.28 (docs/tls.md). */
#define _GNU_SOURCE /* MSG_NOSIGNAL */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

struct tls_client {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_x509_crt ca;
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
  bool open;
  int fd;
  size_t pending_write; /* a write that returned WANT_WRITE is repeated with this length */
  const char *ca_file;
};

static void mbed_reason(char *reason, size_t cap, const char *what, int ret)
{
  char text[160];
  mbedtls_strerror(ret, text, sizeof text);
  snprintf(reason, cap, "%s: %s (-0x%04x)", what, text, (unsigned)-ret);
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
  const tls_client_t *t = ctx;
  ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);
  if (n >= 0) {
    return (int)n;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  }
  return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
  const tls_client_t *t = ctx;
  ssize_t n = recv(t->fd, buf, len, 0);
  if (n >= 0) {
    return (int)n;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    return MBEDTLS_ERR_SSL_WANT_READ;
  }
  return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

tls_client_t *tls_client_new(const char *ca_file, char *reason, size_t cap)
{
  tls_client_t *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(reason, cap, "TLS: out of memory");
    return NULL;
  }
  t->fd = -1;
  t->ca_file = ca_file;
  mbedtls_entropy_init(&t->entropy);
  mbedtls_ctr_drbg_init(&t->drbg);
  mbedtls_x509_crt_init(&t->ca);
  mbedtls_ssl_config_init(&t->conf);
  mbedtls_ssl_init(&t->ssl);
  static const unsigned char personal[] = "spot tls client";
  int ret = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, personal, sizeof personal - 1);
  if (ret != 0) {
    mbed_reason(reason, cap, "TLS: seeding the random generator", ret);
    tls_client_free(t);
    return NULL;
  }
  ret = mbedtls_x509_crt_parse_file(&t->ca, ca_file);
  if (ret != 0) {
    /* > 0: some certificates of a bundle did not parse; the others are used. */
    if (ret < 0 || t->ca.version == 0) {
      char what[256];
      snprintf(what, sizeof what, "CA file %s: no certificate read", ca_file);
      mbed_reason(reason, cap, what, ret < 0 ? ret : MBEDTLS_ERR_X509_INVALID_FORMAT);
      tls_client_free(t);
      return NULL;
    }
  }
  ret = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) {
    mbed_reason(reason, cap, "TLS: configuration", ret);
    tls_client_free(t);
    return NULL;
  }
  /* TLS 1.2 only (1.0 and 1.1 are deprecated: RFC 8996; 1.3 is experimental in this mbedTLS). */
  mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
  mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
  return t;
}

void tls_client_free(tls_client_t *t)
{
  if (!t) {
    return;
  }
  mbedtls_ssl_free(&t->ssl);
  mbedtls_ssl_config_free(&t->conf);
  mbedtls_x509_crt_free(&t->ca);
  mbedtls_ctr_drbg_free(&t->drbg);
  mbedtls_entropy_free(&t->entropy);
  free(t);
}

int tls_open(tls_client_t *t, int fd, const char *server_name, char *reason, size_t cap)
{
  tls_close(t);
  mbedtls_ssl_init(&t->ssl);
  int ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
  if (ret == 0) {
    ret = mbedtls_ssl_set_hostname(&t->ssl, server_name);
  }
  if (ret != 0) {
    mbed_reason(reason, cap, "TLS setup", ret);
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_init(&t->ssl);
    return TLS_FAILED;
  }
  t->fd = fd;
  t->pending_write = 0;
  t->open = true;
  mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
  return 0;
}

/* Why the server's certificate was refused, in mbedTLS's words, one line. */
static void verify_reason(const tls_client_t *t, uint32_t flags, char *reason, size_t cap)
{
  char info[256];
  int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
  /* One line: the flags come one per line. */
  for (int i = 0; i < n && info[i]; i++) {
    if (info[i] == '\n') {
      info[i] = (i + 1 < n && info[i + 1]) ? ';' : '\0';
    }
  }
  snprintf(reason, cap, "TLS handshake failed: the gateway's certificate is refused (%s) checked against CA file %s", n > 0 ? info : "unknown reason",
           t->ca_file);
}

int tls_handshake(tls_client_t *t, bool *want_write, char *reason, size_t cap)
{
  *want_write = false;
  int ret = mbedtls_ssl_handshake(&t->ssl);
  if (ret == 0) {
    return 0;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
    return TLS_AGAIN;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
    *want_write = true;
    return TLS_AGAIN;
  }
  uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
  if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0 && flags != (uint32_t)-1) {
    verify_reason(t, flags, reason, cap);
  } else {
    mbed_reason(reason, cap, "TLS handshake failed", ret);
  }
  return TLS_FAILED;
}

const char *tls_describe(tls_client_t *t, char *buf, size_t cap)
{
  snprintf(buf, cap, "%s %s", mbedtls_ssl_get_version(&t->ssl), mbedtls_ssl_get_ciphersuite(&t->ssl));
  return buf;
}

ssize_t tls_recv(tls_client_t *t, void *buf, size_t len, char *reason, size_t cap)
{
  int ret = mbedtls_ssl_read(&t->ssl, buf, len);
  if (ret > 0) {
    return ret;
  }
  if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
    return 0;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
    return TLS_AGAIN;
  }
  mbed_reason(reason, cap, "TLS read", ret);
  return TLS_FAILED;
}

ssize_t tls_send(tls_client_t *t, const void *buf, size_t len, char *reason, size_t cap)
{
  /* mbedTLS holds the record it made of the first call: the retry must have the same length. */
  size_t n = t->pending_write ? t->pending_write : len;
  int ret = mbedtls_ssl_write(&t->ssl, buf, n);
  if (ret >= 0) {
    t->pending_write = 0;
    return ret;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ) {
    t->pending_write = n;
    return TLS_AGAIN;
  }
  mbed_reason(reason, cap, "TLS write", ret);
  return TLS_FAILED;
}

void tls_close(tls_client_t *t)
{
  if (!t->open) {
    return;
  }
  (void)mbedtls_ssl_close_notify(&t->ssl); /* best effort: the socket is non-blocking */
  mbedtls_ssl_free(&t->ssl);
  mbedtls_ssl_init(&t->ssl);
  t->open = false;
  t->fd = -1;
}
