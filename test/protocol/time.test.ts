// Timestamps: the fast ISO formatter agrees with Date, and parsing is strict.
import test from 'ava';
import fc from 'fast-check';
import { isoFromUnixMs, unixMsFromIso, MIN_ISO_MS, MAX_ISO_MS } from '../../gateway/src/protocol/time.js';

test('isoFromUnixMs writes what Date#toISOString writes, for every instant of years 0000..9999', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: MIN_ISO_MS, max: MAX_ISO_MS }), { minLength: 1, maxLength: 5 }), (list) => {
      for (const ms of list) t.is(isoFromUnixMs(ms), new Date(ms).toISOString());
    }),
    { numRuns: 3000 },
  );
  for (const ms of [MIN_ISO_MS, MAX_ISO_MS, 0, -1, -60000, -60001, 59999]) t.is(isoFromUnixMs(ms), new Date(ms).toISOString());
  t.is(isoFromUnixMs(MAX_ISO_MS + 1), undefined);
  t.is(isoFromUnixMs(MIN_ISO_MS - 1), undefined);
  t.is(isoFromUnixMs(1.5), undefined);
});

test('unixMsFromIso reads back every ISO string it could write, and refuses non-dates', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: MIN_ISO_MS, max: MAX_ISO_MS }), (ms) => {
      t.is(unixMsFromIso(new Date(ms).toISOString()), ms);
    }),
    { numRuns: 2000 },
  );
  t.is(unixMsFromIso('2026-02-29T00:00:00Z'), undefined);
  t.is(unixMsFromIso('2026-03-01T24:00:00Z'), undefined);
  t.is(unixMsFromIso('2026-03-01T08:00:00'), undefined);
  t.is(unixMsFromIso('2026-03-01T08:00:00+25:00'), undefined);
  t.is(unixMsFromIso('2024-02-29T00:00:00-00:30'), Date.UTC(2024, 1, 29, 0, 30));
});
