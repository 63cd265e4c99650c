// What `flash` shows while it uploads: a redrawn bar with bytes/s and time left on a terminal,
// one line per 10 % otherwise, JSON objects with --json; the clock is injected.
import test from 'ava';
import { flashReporter } from '../../gateway/src/cli/flash-progress.js';

function sink() {
  let out = '';
  let err = '';
  return { out: (s: string) => (out += s), err: (s: string) => (err += s), text: () => ({ out, err }) };
}

test('on a terminal: one redrawn bar with the rate and the time left, a newline at 100 %', (t) => {
  const s = sink();
  let now = 1000;
  const report = flashReporter(s, 'tty', () => now);
  report({ kind: 'progress', progress: { off: 1000, total: 4000, sent: 1000 } });
  now += 1000;
  report({ kind: 'progress', progress: { off: 2000, total: 4000, sent: 2000 } });
  now += 1000;
  report({ kind: 'progress', progress: { off: 4000, total: 4000, sent: 4000 } });
  const { err } = s.text();
  t.true(err.includes('\r[###############...............] 2000/4000 bytes 50% 1000 B/s 2 s left'), JSON.stringify(err));
  t.true(err.endsWith('4000/4000 bytes 100% 1500 B/s 0 s left\n'), JSON.stringify(err));
  t.false(err.slice(0, -1).includes('\n'));
});

test('without a terminal: one line per 10 %, and a resumed upload counts its rate from where it resumed', (t) => {
  const s = sink();
  let now = 0;
  const report = flashReporter(s, 'lines', () => now);
  report({ kind: 'resumed', offset: 5000, total: 10000 });
  for (let off = 5100; off <= 10000; off += 100) {
    now += 100;
    report({ kind: 'progress', progress: { off, total: 10000, sent: off - 5000 } });
  }
  const lines = s.text().err.trim().split('\n');
  t.is(lines[0], 'resuming the upload at offset 5000 of 10000 (the device holds that much already)');
  t.deepEqual(
    lines.slice(1).map((l) => /(\d+)%/.exec(l)![1]),
    ['51', '60', '70', '80', '90', '100'],
  );
  t.regex(lines.at(-1)!, /^upload 10000\/10000 bytes 100% 1000 B\/s 0 s left$/);
});

test('--json: one object per event on stdout, nothing on stderr', (t) => {
  const s = sink();
  const report = flashReporter(s, 'json');
  report({ kind: 'reset' });
  report({ kind: 'progress', progress: { off: 10, total: 20, sent: 10 } });
  t.deepEqual(s.text().out.trim().split('\n').map((l) => JSON.parse(l) as unknown), [{ kind: 'reset' }, { kind: 'progress', off: 10, total: 20, sent: 10 }]);
  t.is(s.text().err, '');
});
