// The state messages' share of the window, their queue (one per spot, bounded) and its counts.
import test from 'ava';
import { StateOutbox, type StateMessage } from '../../gateway/src/upstream/state-outbox.js';

const message = (topic: string): StateMessage => ({ topic, payload: '{}', retain: false });

function sending(outbox: StateOutbox, window: number, room: number, reserved: boolean, gatewayOnly = false): string[] {
  const sent: string[] = [];
  outbox.send(window, room, reserved, gatewayOnly, (m) => (sent.push(m.topic), true));
  return sent;
}

function filled(spots: number): StateOutbox {
  const outbox = new StateOutbox();
  for (let i = 0; i < spots; i++) outbox.spotState(String(i), message(`s${i}`));
  return outbox;
}

test('state messages hold at most half the window; their sure share leaves events two slots', (t) => {
  for (const [window, sure, half] of [[2, 0, 1], [3, 1, 1], [4, 2, 2], [20, 10, 10], [8192, 4096, 4096]] as const) {
    const outbox = filled(10_000);
    t.is(sending(outbox, window, window, true).length, sure, `window ${window}: sure share`);
    t.is(sending(outbox, window, window, false).length, half - sure, `window ${window}: up to half with what events left`);
    t.is(outbox.inFlight, half);
    outbox.acked();
    t.is(sending(outbox, window, 1, false).length, 1, 'a PUBACK frees one slot');
  }
});

test('never more than the room: the window may be full of events', (t) => {
  const outbox = filled(10);
  t.deepEqual(sending(outbox, 20, 0, true), []);
  t.deepEqual(sending(outbox, 20, 2, false), ['s0', 's1']);
});

test('the gateway state goes first and fits even where spot states have no sure share', (t) => {
  const outbox = filled(3);
  outbox.gatewayState({ topic: 'online', payload: 'online', retain: true });
  t.deepEqual(sending(outbox, 2, 2, true), ['online']);
  t.deepEqual(sending(outbox, 2, 1, false), [], 'half of 2 is taken by online');
});

test('gatewayOnly: spot states wait, online does not', (t) => {
  const outbox = filled(3);
  outbox.gatewayState({ topic: 'online', payload: 'online', retain: true });
  t.deepEqual(sending(outbox, 20, 20, true, true), ['online']);
  t.is(outbox.queued, 3);
});

test('one message per spot, the latest, in its first place; beyond the limit the oldest goes; lost() drops what waits; all counted', (t) => {
  const outbox = new StateOutbox(3);
  outbox.spotState('a', message('a/connected'));
  outbox.spotState('b', message('b/connected'));
  outbox.spotState('a', message('a/disconnected'));
  t.is(outbox.dropped, 1);
  outbox.spotState('c', message('c/connected'));
  outbox.spotState('d', message('d/connected'));
  t.is(outbox.dropped, 2, 'a, the oldest waiting, made room for d');
  t.deepEqual(sending(outbox, 4, 1, true), ['b/connected']);
  outbox.lost();
  t.is(outbox.queued, 0);
  t.is(outbox.inFlight, 0);
  t.is(outbox.dropped, 4, 'c and d never went out');
  outbox.droppedOne();
  t.is(outbox.dropped, 5);
});
