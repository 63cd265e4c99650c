/* Shared by the parts of the HTTP client (http_client.c: connection and post
 * lifecycle, http_request.c: request head and chunk writer, http_response.c:
 * response parser and command delivery). Not part of the API: http_client.h is. */
#ifndef HTTP_CLIENT_INTERNAL_H
#define HTTP_CLIENT_INTERNAL_H

#include "http_client.h"

/* Where the response parser is (http_client_t.parse_step). */
enum http_parse_step {
  PARSE_STATUS_LINE,
  PARSE_HEADERS,
  PARSE_BODY_LENGTH,
  PARSE_CHUNK_SIZE,
  PARSE_CHUNK_DATA,
  PARSE_CHUNK_DATA_END,
  PARSE_TRAILERS,
  PARSE_BODY_UNTIL_CLOSE,
  PARSE_DONE
};

/* http_client.c */
void http_client_set_state(http_client_t *c, http_client_state_t state, uint64_t now_ms);
void http_client_set_error(http_client_t *c, const char *what, const char *detail);
/* Tells the spot the open post's outcome (once per post) and ends its commands. */
void http_client_finish_post(http_client_t *c, bool acknowledged);
/* The next wait before a reconnect or post, with jitter; doubles the backoff. */
uint32_t http_client_next_backoff(http_client_t *c);
/* Something went wrong on an open socket: fail the post, have it closed, and
 * connect again after the backoff. */
void http_client_abort(http_client_t *c, uint64_t now_ms, const char *what, const char *detail);

/* http_request.c */
/* Writes the request head and opens the post (state POSTING). */
void http_request_begin(http_client_t *c, uint64_t now_ms);
/* Moves the spot's next bytes into the output buffer, one chunk per read. */
void http_request_fill_chunks(http_client_t *c);
/* Writes the zero-length chunk that ends the post's body. */
void http_request_end_body(http_client_t *c);

/* http_response.c */
/* Readies the parser for the response to the post being begun. */
void http_response_expect(http_client_t *c);
/* The response has no length: the connection's end completes it. */
bool http_response_ends_with_close(const http_client_t *c);
void http_response_complete(http_client_t *c, uint64_t now_ms);

#endif
