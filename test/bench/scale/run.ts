// make bench-scale: a gateway that has seen many distinct spots, idle but for one pending event.
// Real posts (one event from each of BENCH_SCALE_SPOTS serials) to a gateway (child process)
// forwarding to a real Mosquitto; once all is forwarded the broker stops and one more event is
// posted, so it stays pending. Then: the gateway's CPU over BENCH_SCALE_IDLE_SECONDS, the latency
// of /healthz and /metrics, its RSS. Prints one summary line last.
import http from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { startMosquitto } from '../../helpers/mosquitto.js';
import { SITE_BROKER_CONFIG, startGateway, stopGateway } from '../gateway/gateway-process.js';

const SPOTS = Number(process.env.BENCH_SCALE_SPOTS ?? 100_000);
const IDLE_SECONDS = Number(process.env.BENCH_SCALE_IDLE_SECONDS ?? 10);
/** Posts in flight at once while the spots are made. */
const CONCURRENCY = 32;
const FIRST_SERIAL = 1_000_000;
/** Every request of the bench is bounded; before this work /metrics took up to 22 s. */
const REQUEST_TIMEOUT_MS = 120_000;

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function request(port: number, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: body === undefined ? {} : { 'Content-Type': 'text/x-intellifi-events', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function eventBody(i: number): string {
  const code = (0xe2801170_0000_0000n + BigInt(i)).toString(16).padStart(24, '0');
  return `["presence","create",{"item_code":"${code}","proximity":"near"}]\n\n`;
}

async function post(port: number, serial: number, i: number): Promise<void> {
  const res = await request(port, 'POST', `/api/spots/${serial}/events/`, eventBody(i));
  if (res.status !== 200) throw new Error(`spot ${serial}: post answered ${res.status}: ${res.text}`);
}

async function status(port: number): Promise<any> {
  return JSON.parse((await request(port, 'GET', '/api/status')).text);
}

/** Polls `check` until it holds; bounded. */
async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench-scale: ${what} not reached within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Median and p95 of `n` sequential requests, in ms. */
async function latency(port: number, path: string, n: number): Promise<{ median: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await request(port, 'GET', path);
    times.push(performance.now() - t0);
    if (res.status !== 200 && res.status !== 404) throw new Error(`GET ${path} answered ${res.status}`);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(n / 2)]!, p95: times[Math.min(n - 1, Math.ceil(n * 0.95) - 1)]! };
}

async function main(): Promise<void> {
  const broker = await startMosquitto({ extraConfig: SITE_BROKER_CONFIG });
  let gw: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    gw = await startGateway(broker.url);
    const { port } = gw;
    const pid = gw.child.pid!;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < SPOTS) {
          const i = next++;
          await post(port, FIRST_SERIAL + i, i);
        }
      }),
    );
    const seedS = (performance.now() - t0) / 1000;
    console.log(`scale: ${SPOTS} spots posted one event each in ${seedS.toFixed(1)} s (${Math.round(SPOTS / seedS)} posts/s)`);
    await waitFor('every event forwarded', 600_000, async () => Number((await status(port)).upstreams?.mqtt?.lag ?? 1) === 0);
    // The broker goes away: the next event stays pending, as through any outage.
    await broker.stop();
    await post(port, FIRST_SERIAL, SPOTS);
    await waitFor('one spot pending', 60_000, async () => Number((await status(port)).upstreams?.mqtt?.spotsPending ?? 0) === 1);
    // Every spot offline (spots.offline_after_s, 10 s) and their disconnected states dealt with.
    await waitFor('every spot offline', 120_000, async () => Number((await status(port)).spots?.online ?? 1) === 0);
    const known = Number((await status(port)).spots?.known ?? NaN);

    const cpu0 = cpuSeconds(pid);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleCpuPct = ((cpuSeconds(pid) - cpu0) / ((performance.now() - w0) / 1000)) * 100;

    // The floor: an unknown path, answered 404 by the same HTTP server without touching the store.
    const floor = await latency(port, '/no-such-path', 20);
    const healthz = await latency(port, '/healthz', 20);
    const metrics = await latency(port, '/metrics', 10);
    const statusMs = await latency(port, '/api/status', 10);
    const rss = memoryMb(pid, 'VmRSS');
    const hwm = memoryMb(pid, 'VmHWM');
    const f1 = (n: number) => n.toFixed(1);
    console.log(
      `scale: p95 healthz_ms=${f1(healthz.p95)} metrics_ms=${f1(metrics.p95)}; /api/status median ${f1(statusMs.median)} ms; ` +
        `404 floor median ${f1(floor.median)} ms; peak rss (VmHWM, seeding included) ${Math.round(hwm)} MB`,
    );
    console.log(
      `scale: known_spots=${known} idle_cpu_pct=${f1(idleCpuPct)} healthz_ms=${f1(healthz.median)} metrics_ms=${f1(metrics.median)} rss_mb=${Math.round(rss)}`,
    );
    await stopGateway(gw);
    gw = undefined;
  } finally {
    agent.destroy();
    if (gw) {
      gw.child.kill('SIGKILL');
      rmSync(gw.dataDir, { recursive: true, force: true });
    }
    await broker.kill();
  }
}

main().catch((err) => {
  console.error(`bench-scale failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
