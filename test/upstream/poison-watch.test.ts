// The poison rules with fake events: who is suspected at a loss, what counts as a strike, when to quarantine.
import test from 'ava';
import { PoisonWatch, type EventRef } from '../../gateway/src/upstream/poison-watch.js';

const ev = (spot: string, id: number): EventRef => ({ spot, id });

/** One connection that sends the probe (if any) and then loses the connection with `oldest` first in flight. */
function connectionLost(watch: PoisonWatch, oldest: EventRef | null): ReturnType<PoisonWatch['lost']> {
  watch.connected();
  if (watch.probeDue()) watch.probeSent();
  return watch.lost(oldest);
}

test('a loss with events in flight suspects the oldest of them; the next connection sends it alone first', (t) => {
  const watch = new PoisonWatch(3);
  watch.connected();
  t.is(watch.probeDue(), null, 'nothing suspected yet: no probe');
  t.deepEqual(watch.lost(ev('7', 12)), { kind: 'suspect', event: ev('7', 12), strikes: 0 });
  watch.connected();
  t.deepEqual(watch.probeDue(), { spot: '7', id: 12, strikes: 0 });
  t.false(watch.probeInFlight);
  watch.probeSent();
  t.true(watch.probeInFlight, 'pipelining waits for its PUBACK');
  t.is(watch.probeDue(), null);
});

test('losses with the suspect alone in flight are strikes; at the limit it is to be quarantined', (t) => {
  const watch = new PoisonWatch(3);
  watch.connected();
  watch.lost(ev('7', 12));
  t.deepEqual(connectionLost(watch, ev('7', 12)), { kind: 'strike', event: ev('7', 12), strikes: 1 });
  t.deepEqual(connectionLost(watch, ev('7', 12)), { kind: 'strike', event: ev('7', 12), strikes: 2 });
  t.deepEqual(connectionLost(watch, ev('7', 12)), { kind: 'quarantine', event: ev('7', 12), strikes: 3 });
  watch.quarantined();
  t.is(watch.suspect, null);
  watch.connected();
  t.is(watch.probeDue(), null, 'after the quarantine the replay pipelines again');
});

test('the suspect acknowledged alone is cleared: it was not the poison', (t) => {
  const watch = new PoisonWatch(3);
  watch.connected();
  watch.lost(ev('7', 12));
  connectionLost(watch, ev('7', 12));
  watch.connected();
  watch.probeSent();
  t.false(watch.acked('8', 3), 'another event proves nothing about the suspect');
  t.true(watch.acked('7', 12));
  t.is(watch.suspect, null);
  t.false(watch.probeInFlight);
});

test('a flapping network moves the suspect and never adds up strikes', (t) => {
  const watch = new PoisonWatch(3);
  const verdicts = [];
  for (let i = 0; i < 50; i++) {
    watch.connected();
    const probe = watch.probeDue();
    if (probe) {
      watch.probeSent();
      t.true(watch.acked(probe.spot, probe.id), 'the probe gets through');
    }
    // Pipelined again; the connection drops with some later event first in flight.
    verdicts.push(watch.lost(ev(String(i % 3), 100 + i)));
  }
  t.true(verdicts.every((v) => v.kind === 'suspect' && v.strikes === 0), JSON.stringify(verdicts.find((v) => v.kind !== 'suspect')));
});

test('drops with nothing in flight (before CONNACK, or before any publish) name nothing and keep the suspect as it was', (t) => {
  const watch = new PoisonWatch(2);
  for (let i = 0; i < 10; i++) t.deepEqual(connectionLost(watch, null), { kind: 'nothing' });
  t.is(watch.suspect, null);
  watch.connected();
  watch.lost(ev('7', 12));
  connectionLost(watch, ev('7', 12));
  // The connection after the strike is lost before the probe went out: no strike for it.
  watch.connected();
  t.deepEqual(watch.lost(null), { kind: 'nothing' });
  t.deepEqual(watch.suspect, { spot: '7', id: 12, strikes: 1 });
  t.deepEqual(connectionLost(watch, ev('7', 12)), { kind: 'quarantine', event: ev('7', 12), strikes: 2 });
});

test('a loss while pipelining with another event oldest starts over with that one, at 0 strikes', (t) => {
  const watch = new PoisonWatch(3);
  watch.connected();
  watch.lost(ev('7', 12));
  connectionLost(watch, ev('7', 12));
  connectionLost(watch, ev('7', 12));
  t.deepEqual(watch.suspect, { spot: '7', id: 12, strikes: 2 });
  // The probe is lost with something else oldest: it cannot have been alone (e.g. a suspect dropped meanwhile).
  watch.connected();
  t.deepEqual(watch.lost(ev('9', 40)), { kind: 'suspect', event: ev('9', 40), strikes: 0 });
  t.deepEqual(watch.suspect, { spot: '9', id: 40, strikes: 0 });
});

test('a broker that takes no event at all gets one event quarantined, not every one', (t) => {
  const watch = new PoisonWatch(2);
  watch.connected();
  watch.lost(ev('7', 1));
  connectionLost(watch, ev('7', 1));
  t.is(connectionLost(watch, ev('7', 1)).kind, 'quarantine');
  watch.quarantined();
  watch.connected();
  watch.lost(ev('7', 2));
  connectionLost(watch, ev('7', 2));
  t.deepEqual(connectionLost(watch, ev('7', 2)), { kind: 'withheld', event: ev('7', 2), strikes: 2 });
  t.deepEqual(connectionLost(watch, ev('7', 2)), { kind: 'withheld', event: ev('7', 2), strikes: 3 }, 'still sent alone, still not quarantined');
  // Once the broker takes it, the next poison can be quarantined again.
  watch.connected();
  watch.probeSent();
  t.true(watch.acked('7', 2));
  watch.connected();
  watch.lost(ev('7', 3));
  connectionLost(watch, ev('7', 3));
  t.is(connectionLost(watch, ev('7', 3)).kind, 'quarantine');
});

test('strikes saved before a restart count on', (t) => {
  const watch = new PoisonWatch(3, { spot: '7', id: 12, strikes: 2 });
  watch.connected();
  t.deepEqual(watch.probeDue(), { spot: '7', id: 12, strikes: 2 }, 'the first connection after the restart sends it alone');
  watch.probeSent();
  t.deepEqual(watch.lost(ev('7', 12)), { kind: 'quarantine', event: ev('7', 12), strikes: 3 });
});

test('a limit below 1 is refused', (t) => {
  t.throws(() => new PoisonWatch(0), { instanceOf: RangeError });
});

test('a loss before everything else the connection sent was acknowledged (subscription, state messages) is no strike: the broker may have dropped it for those', (t) => {
  const watch = new PoisonWatch(2);
  watch.connected();
  watch.lost(ev('7', 12));
  for (let i = 0; i < 5; i++) {
    watch.connected();
    watch.probeSent();
    t.deepEqual(watch.lost(ev('7', 12), false), { kind: 'suspect', event: ev('7', 12), strikes: 0 });
  }
  watch.connected();
  watch.probeSent();
  t.deepEqual(watch.lost(ev('7', 12), true), { kind: 'strike', event: ev('7', 12), strikes: 1 });
});
