/* The WebSocket opening handshake: the request's headers, the RFC 6455 section 1.3
 * key/accept pair, and the response checks of section 4.1. */
#include "ws_client_fixture.h"
#include "ws_client_internal.h"

static void the_rfc_key_gives_the_rfc_accept(void **state)
{
  (void)state;
  char key[WS_KEY_TEXT_BYTES];
  char accept[WS_ACCEPT_TEXT_BYTES];
  ws_handshake_key((const uint8_t *)"the sample nonce", key);
  assert_string_equal(key, RFC_KEY);
  ws_handshake_accept(key, accept);
  assert_string_equal(accept, RFC_ACCEPT);
}

static void the_request_carries_key_subprotocol_numbering_and_token(void **state)
{
  (void)state;
  start_with(true, "s3cret");
  assert_true(ws_client_wants_connect(&fx.client, 0));
  ws_client_connecting(&fx.client, 0);
  ws_client_connected(&fx.client, 0);
  assert_int_equal(fx.spot.connected, 1);
  assert_int_equal(fx.spot.begun, 1);
  drain();
  assert_string_equal((const char *)fx.sent,
                      "GET /api/spots/4711/events/ HTTP/1.1\r\n"
                      "Host: 10.0.0.2:8080\r\n"
                      "Upgrade: websocket\r\n"
                      "Connection: Upgrade\r\n"
                      "Sec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Key: " RFC_KEY "\r\n"
                      "Sec-WebSocket-Protocol: spot-pb.v1\r\n"
                      "User-Agent: spot/2.3.1\r\n"
                      "Authorization: Bearer s3cret\r\n"
                      "X-Spot-Boot: 7\r\n"
                      "X-Spot-Seq: 1041\r\n"
                      "\r\n");
  assert_int_equal(fx.client.state, WS_CLIENT_HANDSHAKE);
}

static void a_101_in_pieces_with_a_frame_behind_it_opens_the_connection(void **state)
{
  (void)state;
  start();
  ws_client_connecting(&fx.client, 0);
  ws_client_connected(&fx.client, 0);
  drain();
  assert_non_null(strstr((const char *)fx.sent, "Sec-WebSocket-Protocol: spot-json.v1\r\n"));
  assert_null(strstr((const char *)fx.sent, "Authorization"));
  static const char response[] = "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\n"
                                 "CONNECTION: keep-alive, Upgrade\r\nSec-WebSocket-Accept:  " RFC_ACCEPT " \r\n"
                                 "Sec-WebSocket-Protocol: spot-json.v1\r\nSec-WebSocket-Extensions: \r\n\r\n"
                                 "\x82\x03"
                                 "abc";
  for (size_t i = 0; i < sizeof response - 1; i++) {
    feed(response + i, 1, 10);
  }
  assert_int_equal(fx.client.state, WS_CLIENT_OPEN);
  assert_true(ws_client_open(&fx.client));
  assert_int_equal(fx.client.connects, 1);
  assert_string_equal(fx.spot.commands, "abc"); /* the bytes after the head were a frame */
  assert_int_equal(fx.spot.commands_ends, 1);
}

/* Feeds a response to a fresh handshake; returns the client's error. */
static const char *answer(const char *response)
{
  start();
  ws_client_connecting(&fx.client, 0);
  ws_client_connected(&fx.client, 0);
  drain();
  feed_text(response, 5);
  return ws_client_last_error(&fx.client);
}

static void a_response_that_breaks_section_4_1_fails_the_connection_naming_why(void **state)
{
  (void)state;
  static const struct {
    const char *response;
    const char *error;
  } cases[] = {
      {SWITCHING "Sec-WebSocket-Protocol: spot-pb.v1\r\n\r\n",
       "upgrade failed: the gateway chose a subprotocol not offered: spot-pb.v1"},
      {SWITCHING "\r\n", "upgrade failed: no Sec-WebSocket-Protocol (the subprotocol offered)"},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
       "upgrade failed: Sec-WebSocket-Accept does not match the key: AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", "upgrade failed: Upgrade is not websocket: h2c"},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " RFC_ACCEPT
       "\r\nSec-WebSocket-Protocol: spot-json.v1\r\n\r\n",
       "upgrade failed: no Connection: Upgrade"},
      {"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n", "upgrade failed: no Upgrade: websocket"},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
       "upgrade failed: no Sec-WebSocket-Accept"},
      {SWITCHING "Sec-WebSocket-Protocol: spot-json.v1\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
       "upgrade failed: the gateway chose an extension not offered: permessage-deflate"},
      {"SSH-2.0-OpenSSH\r\n", "upgrade failed: not an HTTP status line: SSH-2.0-OpenSSH"},
      {"HTTP/1.1 401 Unauthorized\r\nContent-Length: 37\r\n\r\n{\"error\":\"unauthorized\",\"reason\":\"x\"}\r\n",
       "upgrade refused: 401 {\"error\":\"unauthorized\",\"reason\":\"x\"}"},
      {"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n", "upgrade refused: 503 "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_string_equal(answer(cases[i].response), cases[i].error);
    assert_true(ws_client_wants_close(&fx.client));
    assert_int_equal(fx.spot.ended, 1); /* the post is over: its events go again */
    assert_int_equal(fx.client.connects, 0);
    ws_client_disconnected(&fx.client, 5, "");
    assert_false(ws_client_wants_connect(&fx.client, 204));
    assert_true(ws_client_wants_connect(&fx.client, 205));
    /* refused again: the introduction queued for the first attempt is still waiting */
    ws_client_connecting(&fx.client, 205);
    ws_client_connected(&fx.client, 205);
    feed_text(cases[i].response, 206);
    assert_int_equal(fx.spot.connected, 1);
    assert_int_equal(fx.spot.begun, 2);
    ws_client_disconnected(&fx.client, 206, "");
  }
}

static void a_refusal_cut_short_is_told_as_a_lost_connection(void **state)
{
  (void)state;
  answer("HTTP/1.1 409 Conflict\r\nContent-Length: 100\r\n\r\n{\"error\"");
  assert_int_equal(fx.client.state, WS_CLIENT_HANDSHAKE);
  ws_client_disconnected(&fx.client, 6, "the brain closed the connection");
  assert_string_equal(ws_client_last_error(&fx.client), "connection lost: the brain closed the connection");
  assert_int_equal(fx.spot.ended, 1);
}

static void no_answer_in_time_fails_the_handshake(void **state)
{
  (void)state;
  start();
  ws_client_connecting(&fx.client, 0);
  ws_client_tick(&fx.client, 2999);
  assert_int_equal(fx.client.state, WS_CLIENT_CONNECTING);
  ws_client_connected(&fx.client, 3000);
  ws_client_tick(&fx.client, 7999);
  assert_int_equal(fx.client.state, WS_CLIENT_HANDSHAKE);
  ws_client_tick(&fx.client, 8000);
  assert_string_equal(ws_client_last_error(&fx.client), "no answer to the opening handshake in time");
  assert_true(ws_client_wants_close(&fx.client));
  start();
  ws_client_connecting(&fx.client, 0);
  ws_client_tick(&fx.client, 3000);
  assert_string_equal(ws_client_last_error(&fx.client), "connect timed out");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_rfc_key_gives_the_rfc_accept),
      cmocka_unit_test(the_request_carries_key_subprotocol_numbering_and_token),
      cmocka_unit_test(a_101_in_pieces_with_a_frame_behind_it_opens_the_connection),
      cmocka_unit_test(a_response_that_breaks_section_4_1_fails_the_connection_naming_why),
      cmocka_unit_test(a_refusal_cut_short_is_told_as_a_lost_connection),
      cmocka_unit_test(no_answer_in_time_fails_the_handshake),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
