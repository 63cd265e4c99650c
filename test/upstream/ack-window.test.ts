import test from 'ava';
import { AckWindow } from '../../gateway/src/upstream/ack-window.js';

test('the cursor passes an event sent to json and pb only after both PUBACKs', (t) => {
  const w = new AckWindow();
  w.sent('4711', 1, 2);
  t.is(w.inFlight, 2);
  t.deepEqual(w.acked('4711', 1), { eventDone: false });
  t.deepEqual(w.acked('4711', 1), { eventDone: true, advanceTo: 1 });
  t.is(w.inFlight, 0);
});

test('out-of-order acks never let the cursor pass an unacked event', (t) => {
  const w = new AckWindow();
  w.sent('a', 1, 1);
  w.sent('a', 2, 2);
  w.sent('a', 3, 1);
  t.deepEqual(w.acked('a', 3), { eventDone: true });
  t.deepEqual(w.acked('a', 2), { eventDone: false });
  t.deepEqual(w.acked('a', 1), { eventDone: true, advanceTo: 1 });
  t.deepEqual(w.acked('a', 2), { eventDone: true, advanceTo: 3 });
  t.is(w.events, 0);
});

test('spots are independent; unknown and repeated acks change nothing', (t) => {
  const w = new AckWindow();
  w.sent('a', 1, 1);
  w.sent('b', 2, 1);
  t.deepEqual(w.acked('b', 2), { eventDone: true, advanceTo: 2 });
  t.deepEqual(w.acked('b', 2), { eventDone: false });
  t.deepEqual(w.acked('c', 9), { eventDone: false });
  t.is(w.inFlight, 1);
  w.clear();
  t.is(w.inFlight, 0);
  t.deepEqual(w.acked('a', 1), { eventDone: false });
});
