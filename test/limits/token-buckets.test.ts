// The token buckets behind limits.spot_events_per_s and limits.api_requests_per_s, on a clock the test moves.
import test from 'ava';
import { TokenBuckets } from '../../gateway/src/limits/token-buckets.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('take: a burst goes through at once; past it the balance goes negative and the wait is the time to refill to zero', (t) => {
  const c = clock();
  const b = new TokenBuckets({ perS: 10, burst: 5 }, c.now);
  t.is(b.take('a', 5), 0, 'the burst');
  t.is(b.waitMs('a'), 0);
  t.is(b.take('a', 3), 300, 'three over: 300 ms at 10/s');
  t.is(b.waitMs('a'), 300);
  c.advance(100);
  t.is(b.waitMs('a'), 200);
  c.advance(200);
  t.is(b.waitMs('a'), 0, 'back at zero');
  c.advance(10_000);
  t.is(b.take('a', 5), 0, 'refilled, never past the burst');
  t.is(b.take('a', 1), 100);
});

test('tryTake: takes only what the bucket holds; a refusal takes nothing and tells when it will', (t) => {
  const c = clock();
  const b = new TokenBuckets({ perS: 4, burst: 2 }, c.now);
  t.is(b.tryTake('x'), 0);
  t.is(b.tryTake('x'), 0);
  t.is(b.tryTake('x'), 250, 'one token at 4/s');
  t.is(b.tryTake('x'), 250, 'the refusal took nothing');
  t.is(b.tryTake('x', 2), 500);
  c.advance(250);
  t.is(b.tryTake('x'), 0);
});

test('keys are independent: one over its rate does not hold another back', (t) => {
  const c = clock();
  const b = new TokenBuckets({ perS: 1, burst: 1 }, c.now);
  t.true(b.take('busy', 50) > 0);
  t.is(b.waitMs('quiet'), 0, 'a key never seen may go on');
  t.is(b.take('quiet', 1), 0);
  t.is(b.tryTake('other'), 0);
});

test('rate 0 is no limit and holds no keys; setRate keeps balances capped at the new burst', (t) => {
  const c = clock();
  const off = new TokenBuckets({ perS: 0, burst: 1 }, c.now);
  t.false(off.limited);
  t.is(off.take('a', 1e6), 0);
  t.is(off.tryTake('a'), 0);
  t.is(off.waitMs('a'), 0);
  t.is(off.size, 0);

  const b = new TokenBuckets({ perS: 10, burst: 100 }, c.now);
  t.is(b.take('a', 90), 0);
  b.setRate({ perS: 10, burst: 5 });
  t.deepEqual(b.current, { perS: 10, burst: 5 });
  t.is(b.take('a', 6), 100, '10 left, capped to 5 by the new burst, 6 taken: one over');
  b.setRate({ perS: 0, burst: 5 });
  t.is(b.size, 0, 'turned off: every bucket forgotten');
  t.is(b.waitMs('a'), 0);
  b.setRate({ perS: 1, burst: 1 });
  t.true(b.limited);
  t.is(b.take('a', 1), 0, 'a fresh bucket after the limit came back');
});

test('memory is bounded: full buckets are forgotten first, then the oldest, down to three quarters of the bound', (t) => {
  const c = clock();
  const b = new TokenBuckets({ perS: 1, burst: 10 }, c.now, 8);
  for (let i = 0; i < 4; i++) b.take(`full${i}`, 1);
  for (let i = 0; i < 4; i++) b.take(`debt${i}`, 100);
  t.is(b.size, 8);
  c.advance(2000); // the first four refill to full; the debts stay
  b.take('new', 1);
  t.is(b.size, 5, 'the four full ones forgotten, the new one added');
  t.true(b.waitMs('debt0') > 0, 'debts kept');
  for (let i = 0; i < 3; i++) b.take(`more${i}`, 100);
  t.is(b.size, 8);
  b.take('last', 100);
  t.is(b.size, 7, 'nothing full: the oldest dropped down to 6, then the new one');
  t.is(b.waitMs('debt0'), 0, 'the oldest (debt0) forgotten, its debt with it');
  t.is(b.waitMs('debt1'), 0);
  t.true(b.waitMs('debt2') > 0);
});

test('the default clock is performance.now', (t) => {
  const b = new TokenBuckets({ perS: 1, burst: 1 });
  t.is(b.take('a', 1), 0);
  const wait = b.take('a', 1);
  t.true(wait > 0 && wait <= 1000, `waits ${wait} ms`);
});
