// StallWatch with a fake clock: since when an upstream with a backlog has acknowledged nothing.
import test from 'ava';
import { StallWatch } from '../../gateway/src/upstream/stall-watch.js';

const OUTAGE_MS = 60_000;

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('connected with a backlog and no ack: the time counts from the CONNACK', (t) => {
  const c = clock();
  const watch = new StallWatch(c.now, OUTAGE_MS);
  t.is(watch.noAckSince(true), null, 'never connected: that is the outage rule\'s business');
  c.advance(5000);
  watch.connected();
  const connectedAt = c.now();
  t.is(watch.noAckSince(true), connectedAt);
  c.advance(61_000);
  t.is(c.now() - watch.noAckSince(true)!, 61_000);
  t.is(watch.reconnects, 0);
});

test('every ack starts the time again', (t) => {
  const c = clock();
  const watch = new StallWatch(c.now, OUTAGE_MS);
  watch.connected();
  t.not(watch.noAckSince(true), null);
  c.advance(30_000);
  watch.acked();
  const ackedAt = c.now();
  c.advance(30_000);
  t.is(watch.noAckSince(true), ackedAt);
});

test('no backlog: not stalled, however long ago the last ack was', (t) => {
  const c = clock();
  const watch = new StallWatch(c.now, OUTAGE_MS);
  watch.connected();
  c.advance(3_600_000);
  t.is(watch.noAckSince(false), null, 'an idle site is not stalled');
});

test('a backlog after a long idle time counts from when it was first seen, not from the last ack an hour ago', (t) => {
  const c = clock();
  const watch = new StallWatch(c.now, OUTAGE_MS);
  watch.connected();
  watch.acked();
  c.advance(3_600_000);
  t.is(watch.noAckSince(false), null);
  c.advance(1000);
  const seenAt = c.now();
  t.is(watch.noAckSince(true), seenAt);
  c.advance(10_000);
  t.is(watch.noAckSince(true), seenAt);
  // The backlog went (acks) and came back: seen again from the later read.
  watch.acked();
  t.is(watch.noAckSince(false), null);
  c.advance(5000);
  t.is(watch.noAckSince(true), c.now());
});

test('quick reconnects without an ack do not start the time again: a broker that drops every connection is a stall', (t) => {
  const c = clock();
  const watch = new StallWatch(c.now, OUTAGE_MS);
  watch.connected();
  const firstAt = c.now();
  t.is(watch.noAckSince(true), firstAt);
  for (let i = 0; i < 100; i++) {
    c.advance(100);
    watch.disconnected();
    t.is(watch.noAckSince(true), firstAt, 'also read between two connections');
    c.advance(500);
    watch.connected();
  }
  t.is(watch.noAckSince(true), firstAt);
  t.is(c.now() - firstAt, 60_000);
  t.is(watch.reconnects, 100);
  watch.acked();
  t.is(watch.reconnects, 0);
});

test('an outage (reported on its own) hides the stall while it lasts and starts the time again at the next CONNACK', (t) => {
  const c = clock();
  const watch = new StallWatch(c.now, OUTAGE_MS);
  watch.connected();
  watch.acked();
  const ackedAt = c.now();
  t.is(watch.noAckSince(true), ackedAt);
  c.advance(1000);
  watch.disconnected();
  c.advance(OUTAGE_MS - 1);
  t.is(watch.noAckSince(true), ackedAt, 'a disconnection shorter than an outage still counts');
  c.advance(1);
  t.is(watch.noAckSince(true), null, 'an outage is not a stall');
  c.advance(600_000);
  t.is(watch.noAckSince(true), null);
  watch.connected();
  t.is(watch.noAckSince(true), c.now(), 'the time starts again: no instant "stalled for 10 min" before the first PUBACK');
  t.is(watch.reconnects, 0);
});
