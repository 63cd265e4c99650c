// Not a test: append throughput of the store alone. `node --import tsx test/store/bench-append.ts [seconds] [durability] [events/s] [retain seconds]`
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../gateway/src/store/index.js';
import type { Durability, NewEvent } from '../../gateway/src/store/types.js';

const seconds = Number(process.argv[2] ?? 5);
const durability = (process.argv[3] ?? 'full') as Durability;
/** Offered load in events/s; 0 = as fast as the store takes them. */
const rate = Number(process.argv[4] ?? 0);
/** buffer.retain in seconds: 0 prunes forwarded events at once; more keeps them (and pruning waits). */
const retainS = Number(process.argv[5] ?? 0);
const spots = 200;
const perPost = 20;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spot-store-bench-'));
const store = openStore({ dataDir, durability, upstreams: ['mqtt'], retainMs: retainS * 1000 });
let stored = 0;
const latencies: number[] = [];
const end = Date.now() + seconds * 1000;

// A forwarder stand-in: advances cursors so pruning runs as it would in the gateway.
const forwarder = setInterval(() => {
  for (const p of store.pendingSpots('mqtt')) store.advanceCursor('mqtt', p.spot, p.lastId);
}, 20);

async function spot(i: number): Promise<void> {
  let seq = 0;
  // Spots are not in step with each other: spread their first post over one period.
  if (rate > 0) await new Promise((r) => setTimeout(r, Math.random() * ((perPost * spots * 1000) / rate)));
  while (Date.now() < end) {
    const batch: NewEvent[] = Array.from({ length: perPost }, () => ({
      spot: `spot-${String(i).padStart(4, '0')}`,
      resource: 'presence',
      action: 'update',
      data: `{"item":"E200341201234567${String(seq).padStart(8, '0')}","antenna":${seq % 4},"rssi":-${40 + (seq % 30)},"time":"2026-11-26T10:00:00.000Z"}`,
      pb: null,
      encoding: 'json',
      timeReceived: Date.now(),
      boot: 1,
      seq: ++seq,
    }));
    const t0 = performance.now();
    await store.append(batch);
    latencies.push(performance.now() - t0);
    stored += batch.length;
    if (rate > 0) await new Promise((r) => setTimeout(r, Math.max(0, (perPost * spots * 1000) / rate - (performance.now() - t0))));
  }
}

const rssStart = process.memoryUsage().rss;
const cpuStart = process.cpuUsage();
const t0 = performance.now();
await Promise.all(Array.from({ length: spots }, (_, i) => spot(i)));
const elapsed = (performance.now() - t0) / 1000;
clearInterval(forwarder);
const cpu = process.cpuUsage(cpuStart);
latencies.sort((a, b) => a - b);
const s = store.status();
await store.close();
fs.rmSync(dataDir, { recursive: true, force: true });
console.log(
  `store-append: durability=${durability} retain_s=${retainS} offered=${rate || 'max'} cpu_us_per_event=${((cpu.user + cpu.system) / stored).toFixed(1)} eps=${Math.round(stored / elapsed)} commits_per_s=${Math.round(s.commits / elapsed)} ` +
    `p50_ms=${latencies[Math.floor(latencies.length / 2)]!.toFixed(1)} p99_ms=${latencies[Math.floor(latencies.length * 0.99)]!.toFixed(1)} ` +
    `events_left=${s.events} rss_mb=${Math.round(process.memoryUsage().rss / 1048576)} (start ${Math.round(rssStart / 1048576)})`,
);
