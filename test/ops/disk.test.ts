// The data filesystem's fill warning: the reading (cached), its reason, and where it shows (healthz, status, metrics, live feed).
import fs from 'node:fs';
import test from 'ava';
import { DiskSpace, usedRatioOf } from '../../gateway/src/disk-space.js';
import { api, startTestGateway, tempDir } from '../helpers/gateway.js';

function fakeStats(blocks: number, bfree: number, bavail: number): fs.StatsFs {
  return { type: 0, bsize: 4096, blocks, bfree, bavail, files: 0, ffree: 0 };
}

test('the used ratio is df\'s: blocks used over those a user can have (root\'s reserve left out)', (t) => {
  // 1000 blocks, 100 free of which 50 reserved for root: 900 used of 950 usable.
  t.is(usedRatioOf(fakeStats(1000, 100, 50)), 900 / 950);
  t.is(usedRatioOf(fakeStats(0, 0, 0)), 0);
});

test('a reading is kept for refreshMs, then taken again; the threshold applies at once', (t) => {
  let now = 1000;
  let calls = 0;
  let stats = fakeStats(1000, 50, 50);
  const disk = new DiskSpace({
    dir: '/data',
    warnPercent: 90,
    now: () => now,
    refreshMs: 5000,
    statfs: () => {
      calls++;
      return stats;
    },
  });
  const first = disk.reading();
  t.is(first.usedRatio, 0.95);
  t.true(first.warning);
  t.is(disk.problem(), 'data filesystem of /data is 95.0 % full (above buffer.disk_warn_percent 90 %): 0 MiB free of 4 MiB');
  stats = fakeStats(1000, 900, 900);
  now += 4999;
  t.is(disk.reading().usedRatio, 0.95, 'cached');
  t.is(calls, 1);
  disk.setWarnPercent(96);
  t.false(disk.reading().warning, 'the new threshold applies to the held reading');
  t.is(disk.problem(), null);
  now += 1;
  t.is(disk.reading().usedRatio, 0.1, 'read again after refreshMs');
  t.is(calls, 2);
});

test('a filesystem that cannot be measured is a problem with the reason, not a crash', (t) => {
  const disk = new DiskSpace({ dir: '/gone', warnPercent: 90, now: () => 0, statfs: () => fs.statfsSync('/no/such/dir/at/all') });
  const r = disk.reading();
  t.is(r.error, 'ENOENT');
  t.false(r.warning);
  t.is(disk.problem(), 'data filesystem of /gone cannot be measured (ENOENT)');
});

test('the real statfs of a directory gives a ratio between 0 and 1', (t) => {
  const dir = tempDir(t);
  const r = new DiskSpace({ dir, warnPercent: 100, now: Date.now }).reading();
  t.is(r.error, null);
  t.true(r.usedRatio > 0 && r.usedRatio < 1, String(r.usedRatio));
  t.true(r.totalBytes > r.availableBytes && r.availableBytes > 0);
});

test('above buffer.disk_warn_percent: /healthz degraded naming the percentage, /api/status and /metrics warn', async (t) => {
  // The test cannot fill the disk: a threshold below what any real filesystem holds does the same.
  const gw = await startTestGateway(t, { config: { buffer: { disk_warn_percent: 0.001 } } });
  const health = await api<{ status: string; reason: string }>(gw.url, '/healthz');
  t.is(health.body.status, 'degraded');
  t.regex(health.body.reason, new RegExp(`^data filesystem of ${gw.dataDir} is \\d+\\.\\d % full \\(above buffer.disk_warn_percent 0.001 %\\): \\d+ MiB free of \\d+ MiB$`));
  const { body: status } = await api<{ disk: { path: string; usedPercent: number; warning: boolean; warnPercent: number; error: null } }>(gw.url, '/api/status');
  t.like(status.disk, { path: gw.dataDir, warning: true, warnPercent: 0.001, error: null });
  t.true(status.disk.usedPercent > 0 && status.disk.usedPercent <= 100);
  const metrics = (await api<string>(gw.url, '/metrics')).body;
  t.regex(metrics, /^spot_gateway_disk_warning 1$/m);
  const ratio = Number(/^spot_gateway_disk_used_ratio ([\d.e-]+)$/m.exec(metrics)?.[1]);
  t.true(Math.abs(ratio * 100 - status.disk.usedPercent) < 1, `${ratio} vs ${status.disk.usedPercent}`);
});

test('below the threshold nothing warns', async (t) => {
  const gw = await startTestGateway(t, { config: { buffer: { disk_warn_percent: 100 } } });
  t.is((await api<{ status: string }>(gw.url, '/healthz')).body.status, 'ok');
  t.false((await api<{ disk: { warning: boolean } }>(gw.url, '/api/status')).body.disk.warning);
  t.regex((await api<string>(gw.url, '/metrics')).body, /^spot_gateway_disk_warning 0$/m);
});

test('the dashboard\'s live feed carries the disk figures and the health reason', async (t) => {
  const gw = await startTestGateway(t, { config: { buffer: { disk_warn_percent: 0.001 } } });
  const res = await fetch(`${gw.url}/api/live`, { signal: AbortSignal.timeout(10000) });
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  await reader.cancel();
  const data = text
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trim())
    .join('');
  const frame = JSON.parse(data) as { health: { status: string; reasons: string[] }; status: { disk: { warning: boolean } } };
  t.is(frame.health.status, 'degraded');
  t.true(frame.health.reasons.some((r) => r.startsWith('data filesystem of ')));
  t.true(frame.status.disk.warning);
});
