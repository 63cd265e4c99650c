/* The core under the WebSocket transport: one post for the whole connection,
 * acknowledged in parts (spot_post_ack_through), and the ring overflowing
 * behind it (spot_post_behind). */
#include "spot_harness.h"

static size_t read_all(spot_t *s, uint8_t *buf, size_t cap)
{
  size_t len = 0, n;
  while ((n = spot_post_read(s, buf + len, cap - len)) > 0) len += n;
  return len;
}

static void acknowledgements_in_parts_free_the_ring_while_the_post_goes_on(void **state)
{
  (void)state;
  static uint8_t buf[16384];
  spot_t *s = start(SPOT_ENCODING_JSON, "at 100 tag aa01 enter antenna 1 rssi -400\n", NULL);
  spot_post_ack_through(s, 5); /* no post open: nothing */
  spot_connected(s);
  spot_post_info_t info;
  spot_post_begin(s, &info);
  assert_int_equal(info.first_seq, 1);
  assert_false(spot_post_unacknowledged(s));
  assert_true(read_all(s, buf, sizeof buf) > 0); /* spot create, config create */
  assert_true(spot_post_unacknowledged(s));
  spot_post_ack_through(s, 1);
  assert_true(spot_post_pending(s));
  assert_true(spot_post_unacknowledged(s));
  spot_post_ack_through(s, 99); /* more than was handed out: only what was */
  assert_false(spot_post_unacknowledged(s));
  assert_false(spot_post_pending(s));
  /* the same post carries what comes next, numbered on */
  run_until(s, T0, T0 + 2000);
  assert_true(spot_post_pending(s));
  uint8_t piece[16];
  assert_int_equal(spot_post_read(s, piece, sizeof piece), sizeof piece); /* part of the next event */
  assert_false(spot_post_at_event_boundary(s));
  spot_post_ack_through(s, 3); /* the event cut off is not released */
  assert_true(spot_post_pending(s));
  spot_post_fail(s); /* the connection ends */
  spot_post_begin(s, &info);
  assert_int_equal(info.first_seq, 3);
  assert_false(spot_post_behind(s));
  spot_post_fail(s);
}

static void a_ring_overflowing_behind_the_post_is_told(void **state)
{
  (void)state;
  static uint8_t buf[16384];
  spot_t *s = start(SPOT_ENCODING_JSON, "rate 1000\nat 0 tag aa01 enter antenna 1 rssi -400\n", NULL);
  const char cmd[] = "[\"config\",\"update\",{\"send_hits\":true}]";
  spot_command_input(s, (const uint8_t *)cmd, sizeof cmd - 1);
  spot_connected(s);
  spot_post_info_t info;
  spot_post_begin(s, &info);
  read_all(s, buf, sizeof buf);
  assert_false(spot_post_behind(s));
  run_until(s, T0, T0 + 2000); /* 2000 hits, far more than the ring holds, none read */
  assert_true(spot_post_behind(s));
  spot_post_fail(s);
  assert_false(spot_post_behind(s)); /* no post open */
  read_post_json(s);
  assert_non_null(strstr(got[got_count - 1].text, "retransmit ring full"));
}

/* One WebSocket connection in PB, as the client drives the core: the introduction
 * queued (intro), then the numbering asked for the handshake. Every frame's own seq
 * must be the one its place in the connection gives (X-Spot-Seq + index). */
static spot_post_info_t ws_connection_pb(spot_t *s, bool intro)
{
  spot_post_info_t info;
  if (intro) spot_connected(s);
  spot_post_begin(s, &info);
  post_len = 0;
  size_t n;
  while ((n = spot_post_read(s, post_bytes + post_len, 5)) > 0) post_len += n;
  got_count = 0;
  frame_pb_stream_t rx;
  frame_pb_stream_reset(&rx);
  for (size_t i = 0; i < post_len;) {
    uint32_t len = 0;
    int shift = 0;
    while (post_bytes[i] & 0x80) len |= (uint32_t)(post_bytes[i++] & 0x7f) << (shift += 7, shift - 7);
    len |= (uint32_t)post_bytes[i++] << shift;
    const char *why = NULL;
    if (!frame_pb_decode(&rx, post_bytes + i, len, &frame, &why)) fail_msg("%s", why);
    assert_true(frame.has_seq);
    assert_int_equal(frame.seq, info.first_seq + (uint64_t)got_count);
    note(&frame, frame.seq);
    i += len;
  }
  return info;
}

static void a_connection_carries_its_announced_numbering(void **state)
{
  (void)state;
  spot_t *s = start(SPOT_ENCODING_PB,
                    "at 0 tag aa01 enter antenna 1 rssi -400\nat 500 tag aa02 enter antenna 1 rssi -400\n"
                    "at 4000 tag aa03 enter antenna 1 rssi -400\n",
                    NULL);
  run_until(s, T0, T0 + 3000); /* read before any connection */
  assert_int_equal(spot_last_seq(s), 2); /* two presences read, numbered 1 and 2 */
  spot_post_info_t first = ws_connection_pb(s, true);
  assert_int_equal(first.first_seq, 1);
  assert_int_equal(spot_last_seq(s), 4); /* the introduction went in front of them */
  assert_int_equal(got[0].body, spot_v1_Frame_spot_create_tag);
  assert_int_equal(got[1].body, spot_v1_Frame_config_create_tag);
  int presences_first = got_count - 2;
  assert_true(presences_first >= 2);
  spot_post_ack_through(s, 1); /* only the spot create committed, then the connection drops */
  spot_post_fail(s);
  run_until(s, T0 + 3010, T0 + 6000);
  spot_post_info_t second = ws_connection_pb(s, true);
  assert_int_equal(second.first_seq, 2);
  /* what the first connection sent comes again first, with its numbers; then the new introduction */
  assert_int_equal(got[0].body, spot_v1_Frame_config_create_tag);
  assert_int_equal(find(spot_v1_Frame_spot_create_tag, NULL, 0), 1 + presences_first);
  assert_int_not_equal(find(spot_v1_Frame_presence_create_tag, "aa03", 0), -1);
  spot_post_fail(s);
}

static void a_full_ring_at_the_connection_is_not_behind_it(void **state)
{
  (void)state;
  spot_t *s = start(SPOT_ENCODING_JSON, "rate 1000\nat 0 tag aa01 enter antenna 1 rssi -400\n", NULL);
  const char cmd[] = "[\"config\",\"update\",{\"send_hits\":true}]";
  spot_command_input(s, (const uint8_t *)cmd, sizeof cmd - 1);
  run_until(s, T0, T0 + 2000); /* the ring full of events never sent */
  spot_connected(s);            /* the introduction drops two of them ... */
  spot_post_info_t info = read_post_json(s); /* ... before the numbering is asked for */
  assert_false(spot_post_behind(s));
  assert_int_equal(got_count, SPOT_RING_EVENTS);
  assert_int_equal(got[0].body, spot_v1_Frame_spot_create_tag); /* the introduction kept */
  assert_int_equal(got[1].body, spot_v1_Frame_config_create_tag);
  assert_int_equal(got[2].body, spot_v1_Frame_hit_create_tag);
  assert_non_null(strstr(got[got_count - 1].text, "retransmit ring full")); /* the drops said */
  assert_true(spot_post_unacknowledged(s));
  spot_post_ack_through(s, info.first_seq + (uint64_t)got_count - 1);
  assert_false(spot_post_unacknowledged(s));
  spot_post_fail(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(acknowledgements_in_parts_free_the_ring_while_the_post_goes_on),
      cmocka_unit_test(a_ring_overflowing_behind_the_post_is_told),
      cmocka_unit_test(a_connection_carries_its_announced_numbering),
      cmocka_unit_test(a_full_ring_at_the_connection_is_not_behind_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
