import test from 'ava';
import { histogramQuantile } from '../../gateway/src/duration-histogram.js';
import { SYNC_BOUNDS_MS, SyncHistogram } from '../../gateway/src/store/sync-histogram.js';
import { event, openTestStore, tempDir } from './helpers.js';

test('durations land in cumulative buckets; quantiles interpolate within the bucket', (t) => {
  const h = new SyncHistogram();
  t.is(histogramQuantile(null, h.snapshot(), 0.99), null, 'nothing recorded');
  for (let i = 0; i < 98; i++) h.record(1.5); // (1, 2] ms
  h.record(30); // (20, 50]
  h.record(7000); // over the last bound
  const s = h.snapshot();
  t.is(s.count, 100);
  t.is(s.counts.length, SYNC_BOUNDS_MS.length + 1);
  t.is(s.counts[SYNC_BOUNDS_MS.indexOf(1)], 0);
  t.is(s.counts[SYNC_BOUNDS_MS.indexOf(2)], 98);
  t.is(s.counts[SYNC_BOUNDS_MS.indexOf(50)], 99);
  t.is(s.counts.at(-1), 100);
  t.is(s.maxMs, 7000);
  t.is(Math.round(s.sumMs), 98 * 1.5 + 30 + 7000);
  t.is(histogramQuantile(null, s, 0.5), 1 + 50 / 98);
  t.is(histogramQuantile(null, s, 0.99), 50, 'the 99th of 100 is the one in (20, 50]: the top of its bucket');
  t.is(histogramQuantile(null, s, 1), 7000, 'the open last bucket ends at the maximum');
});

test('no quantile is above the slowest sync recorded', (t) => {
  const h = new SyncHistogram();
  h.record(1.3); // in (1, 2]: interpolation alone would say 2
  t.is(histogramQuantile(null, h.snapshot(), 0.99), 1.3);
});

test('a quantile between two snapshots counts only the syncs in between', (t) => {
  const h = new SyncHistogram();
  for (let i = 0; i < 1000; i++) h.record(0.3);
  const before = h.snapshot();
  for (let i = 0; i < 10; i++) h.record(150);
  const after = h.snapshot();
  t.is(histogramQuantile(before, after, 0.5), 150, 'the middle of (100, 200]');
  t.is(histogramQuantile(after, after, 0.5), null);
  t.true(histogramQuantile(null, after, 0.5)! <= 0.5, 'since the start, the fast ones dominate');
});

test('the store times the fsyncs its acknowledgements wait for (durability full only)', async (t) => {
  const full = openTestStore(t, { dataDir: tempDir(t) });
  await full.append([event('1')]);
  const w = full.status().walSync;
  t.true(w.count >= 1, `fsyncs timed: ${w.count}`);
  t.true(w.sumMs > 0);
  const normal = openTestStore(t, { dataDir: tempDir(t), durability: 'normal' });
  await normal.append([event('1')]);
  t.is(normal.status().walSync.count, 0, 'nothing waits for an fsync');
});
