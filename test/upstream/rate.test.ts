import test from 'ava';
import { RateMeter } from '../../gateway/src/upstream/rate.js';

test('the rate is the average of the last 5 complete seconds, and decays to 0 when acks stop', (t) => {
  let now = 1_000_000;
  const rate = new RateMeter(() => now, 5);
  for (let s = 0; s < 5; s++) {
    rate.add(100 * (s + 1));
    now += 1000;
  }
  t.is(rate.perSecond(), (100 + 200 + 300 + 400 + 500) / 5);
  rate.add(10_000);
  t.is(rate.perSecond(), 300, 'the current, incomplete second does not count yet');
  now += 1000;
  t.is(rate.perSecond(), (200 + 300 + 400 + 500 + 10_000) / 5);
  now += 60_000;
  t.is(rate.perSecond(), 0);
});
