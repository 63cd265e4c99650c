// StallWatch with a fake clock: since when a connected upstream with a backlog has acknowledged nothing.
import test from 'ava';
import { StallWatch } from '../../gateway/src/upstream/stall-watch.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('connected with a backlog and no ack: the time counts from the CONNACK', (t) => {
  const c = clock();
  const watch = new StallWatch(c.now);
  c.advance(5000);
  watch.connected();
  const connectedAt = c.now();
  t.is(watch.noAckSince(true, true), connectedAt);
  c.advance(61_000);
  t.is(watch.noAckSince(true, true), connectedAt);
  t.is(c.now() - watch.noAckSince(true, true)!, 61_000);
});

test('every ack starts the time again', (t) => {
  const c = clock();
  const watch = new StallWatch(c.now);
  watch.connected();
  t.not(watch.noAckSince(true, true), null);
  c.advance(30_000);
  watch.acked();
  const ackedAt = c.now();
  c.advance(30_000);
  t.is(watch.noAckSince(true, true), ackedAt);
});

test('no backlog, or no connection: not stalled, whatever the last ack', (t) => {
  const c = clock();
  const watch = new StallWatch(c.now);
  watch.connected();
  c.advance(3_600_000);
  t.is(watch.noAckSince(true, false), null, 'an idle site is not stalled');
  t.is(watch.noAckSince(false, true), null, 'disconnected is reported on its own (downSinceMs)');
});

test('a backlog after a long idle time counts from when it was first seen, not from the last ack an hour ago', (t) => {
  const c = clock();
  const watch = new StallWatch(c.now);
  watch.connected();
  watch.acked();
  c.advance(3_600_000);
  t.is(watch.noAckSince(true, false), null);
  c.advance(1000);
  const seenAt = c.now();
  t.is(watch.noAckSince(true, true), seenAt);
  c.advance(10_000);
  t.is(watch.noAckSince(true, true), seenAt);
  // The backlog went (acks) and came back: seen again from the later read.
  watch.acked();
  t.is(watch.noAckSince(true, false), null);
  c.advance(5000);
  t.is(watch.noAckSince(true, true), c.now());
});
