/* Shared by the parts of the WebSocket client (ws_client.c: connection
 * lifecycle, output; ws_handshake.c: the opening handshake; ws_reader.c: the
 * gateway's frames; ws_ack.c: its text messages). Not part of the API:
 * ws_client.h is. */
#ifndef WS_CLIENT_INTERNAL_H
#define WS_CLIENT_INTERNAL_H

#include "ws_client.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* RFC 6455 1.3 */
#define WS_KEY_TEXT_BYTES 25u    /* base64 of 16 bytes, NUL included */
#define WS_ACCEPT_TEXT_BYTES 29u /* base64 of a SHA-1 digest, NUL included */

/* RFC 6455 7.4.1 status codes the client sends */
#define WS_CLOSE_NORMAL 1000u
#define WS_CLOSE_PROTOCOL_ERROR 1002u
#define WS_CLOSE_INVALID_DATA 1007u /* a text message that is not UTF-8 */
#define WS_CLOSE_TOO_BIG 1009u

/* ws_client.c */
void ws_client_set_state(ws_client_t *c, ws_client_state_t state, uint64_t now_ms);
void ws_client_set_error(ws_client_t *c, const char *what, const char *detail);
void ws_out_bytes(ws_client_t *c, const void *bytes, size_t len);
void ws_out_text(ws_client_t *c, const char *text);
void ws_out_decimal(ws_client_t *c, uint64_t value);
/* Queues a control frame (masked); false when there is no room. */
bool ws_client_control(ws_client_t *c, uint8_t opcode, const uint8_t *payload, size_t len);
/* The connection is over from the spot's side: ends the post, connects again after the backoff. */
void ws_client_end_connection(ws_client_t *c, uint64_t now_ms, bool backoff);
/* Something went wrong: the socket is closed without a close handshake. */
void ws_client_fail(ws_client_t *c, uint64_t now_ms, const char *what, const char *detail);
/* A protocol error in the gateway's frames: close with code (1002, 1007) naming it,
 * then the socket. */
void ws_client_protocol_error(ws_client_t *c, uint64_t now_ms, uint16_t code, const char *what);

/* ws_handshake.c */
/* Sec-WebSocket-Key: base64 of the 16 bytes. */
void ws_handshake_key(const uint8_t nonce[16], char key[WS_KEY_TEXT_BYTES]);
/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)). */
void ws_handshake_accept(const char *key, char accept[WS_ACCEPT_TEXT_BYTES]);
/* Writes the request (state HANDSHAKE). */
void ws_handshake_begin(ws_client_t *c, uint64_t now_ms);
/* Reads the response; returns the bytes used (the rest are frames once OPEN). */
size_t ws_handshake_input(ws_client_t *c, const uint8_t *bytes, size_t len, uint64_t now_ms);

/* ws_ack.c */
/* A text message from the gateway (an acknowledgement or an error). */
void ws_client_text(ws_client_t *c, const char *text, size_t len, uint64_t now_ms);

/* ws_reader.c */
void ws_reader_reset(ws_client_t *c);
void ws_reader_input(ws_client_t *c, const uint8_t *bytes, size_t len, uint64_t now_ms);

#endif
