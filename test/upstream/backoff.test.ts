import test from 'ava';
import { Backoff } from '../../gateway/src/upstream/backoff.js';

test('reconnect delays double from 0.5 s up to 30 s, jittered within the upper half', (t) => {
  const high = new Backoff({ random: () => 0.999999 });
  const low = new Backoff({ random: () => 0 });
  const ceilings = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
  for (const ceiling of ceilings) {
    t.is(high.next(), ceiling);
    t.is(low.next(), ceiling / 2);
  }
});

test('jitter spreads delays: different random values give different delays', (t) => {
  let r = 0;
  const values = [0.1, 0.5, 0.9];
  const backoff = new Backoff({ random: () => values[r++ % values.length]! });
  const delays = [backoff.next(), backoff.next(), backoff.next()];
  t.deepEqual(delays, [275, 750, 1900]);
});

test('a successful connection resets the delay to the minimum', (t) => {
  const backoff = new Backoff({ random: () => 0.999999, minMs: 100, maxMs: 1000 });
  t.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()], [100, 200, 400, 800, 1000]);
  backoff.reset();
  t.is(backoff.attempts, 0);
  t.is(backoff.next(), 100);
});

test('nonsense bounds are refused', (t) => {
  t.throws(() => new Backoff({ minMs: 0 }), { message: /0 < minMs <= maxMs/ });
  t.throws(() => new Backoff({ minMs: 10, maxMs: 5 }), { message: /0 < minMs <= maxMs/ });
});
