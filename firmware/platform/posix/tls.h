/* TLS client of the Linux targets (mbedTLS, Debian's source): TLS over a
 * connected non-blocking socket, the certificate verified against a CA file, TLS 1.2.
 * The core never sees it: the target feeds the HTTP client the decrypted bytes. */
#ifndef POSIX_TLS_H
#define POSIX_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The CA bundle used when --tls is given without --ca. */
#define TLS_DEFAULT_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

#define TLS_AGAIN (-2)  /* would block: poll and call again */
#define TLS_FAILED (-1) /* the TLS connection is over: the reason says why */

typedef struct tls_client tls_client_t;

/* Seeds the random generator and reads the CA file once; NULL with a reason. */
tls_client_t *tls_client_new(const char *ca_file, char *reason, size_t cap);
void tls_client_free(tls_client_t *t);

/* TLS over fd (connected), checking the certificate against server_name. */
int tls_open(tls_client_t *t, int fd, const char *server_name, char *reason, size_t cap);
/* Drives the handshake: 0 = done, TLS_AGAIN, TLS_FAILED. *want_write: poll for POLLOUT. */
int tls_handshake(tls_client_t *t, bool *want_write, char *reason, size_t cap);
/* "TLSv1.2 TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256" once the handshake is done. */
const char *tls_describe(tls_client_t *t, char *buf, size_t cap);
/* Decrypted bytes: > 0, 0 = closed by the peer, TLS_AGAIN, TLS_FAILED. */
ssize_t tls_recv(tls_client_t *t, void *buf, size_t len, char *reason, size_t cap);
/* Bytes of buf taken: > 0, TLS_AGAIN (call again with at least the same bytes), TLS_FAILED. */
ssize_t tls_send(tls_client_t *t, const void *buf, size_t len, char *reason, size_t cap);
/* Ends TLS on the connection (a close_notify if it can go at once); the socket stays the caller's. */
void tls_close(tls_client_t *t);

#endif
