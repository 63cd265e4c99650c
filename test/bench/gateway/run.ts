// make bench-gateway: the gateway (child process) forwarding to a real Mosquitto,
// loaded by N simulated spots; the same load against a null sink and against a sink that
// only decodes; latency at a fixed rate. Prints one summary line last.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { startMosquitto } from '../../helpers/mosquitto.js';
import { getJson, SITE_BROKER_CONFIG, startGateway, stopGateway } from './gateway-process.js';
import { benchTool, runLoad, type LoadOptions } from './loadgen.js';
import { startNullSink } from './null-sink.js';
import { histogramQuantile, type HistogramSnapshot } from '../../../gateway/src/duration-histogram.js';

const SPOTS = Number(process.env.BENCH_SPOTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_EPS ?? 20000);
/**
 * Percent of the spots that pretty-print their events with tabs, as the vendor's spots do
 * (spot-protocol.md); the others write compact JSON, as this project's firmware does. Half and
 * half by default: a site with both. The gateway stores and forwards compact text either way.
 */
const PRETTY_SHARE = Number(process.env.BENCH_PRETTY_SHARE ?? 50);

/** Cumulative events committed to the buffer (acknowledged = committed; the 200 comes at the post's end). */
function storedCount(status: any): number {
  return Number(status?.ingest?.eventsStored ?? 0);
}

/** Cumulative events the MQTT upstream got acknowledged by the broker. */
function forwardedCount(status: any): number {
  const up = status?.upstreams?.mqtt ?? status?.perUpstream?.mqtt ?? {};
  return Number(up.acked ?? up.forwarded ?? 0);
}

/** CPU seconds (user + system) the process used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Posts of at most a second, as spots make them, and in the throughput phase of at most
 * POST_EVENTS events (ten times a busy spot's second): without that bound the load generator
 * wrote up to ~120k events/s into socket buffers while the gateway read ~60k/s, and posts
 * were still unanswered 15 s after the run.
 */
const POST_EVENTS = 2000;

function loadOptions(port: number, rate: number, stamp: boolean, durationMs: number): LoadOptions {
  const postEvents = rate === 0 ? POST_EVENTS : 0;
  return { host: '127.0.0.1', port, spots: SPOTS, durationMs, rate, postWindowMs: 1000, postEvents, firstSerial: 1000, stampEvents: stamp, prettyShare: PRETTY_SHARE };
}

/**
 * Latency samples of events written in the first seconds are left out: connections opening and
 * V8 still compiling (the gateway's event-loop delay p99 is 40-90 ms in seconds 2-4 of its life,
 * 12-25 ms from the 5th on). What a site sees is the gateway after months, not its first seconds.
 */
const LATENCY_WARMUP_MS = 5000;
/** Seconds measured after the warm-up; longer gives a steadier p99 on a noisy machine (BENCH_LATENCY_SECONDS). */
const LATENCY_MEASURE_MS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10) * 1000;

/** The gateway's histograms on /metrics: its WAL fsyncs, and its MQTT upstream's receipt -> PUBACK times. */
interface GatewayHistograms {
  fsync: HistogramSnapshot;
  delivery: HistogramSnapshot;
}

/** One histogram of a Prometheus text; `labels`: the series' labels before `le`, e.g. `upstream="mqtt",`. */
function histogramIn(text: string, name: string, labels = ''): HistogramSnapshot {
  const boundsMs: number[] = [];
  const counts: number[] = [];
  const series = labels ? `{${labels.replace(/,$/, '')}}` : '';
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{${labels}le="([^"]+)"\\} (\\d+)$`, 'gm'))) {
    if (m[1] !== '+Inf') boundsMs.push(Number(m[1]) * 1000);
    counts.push(Number(m[2]));
  }
  const value = (suffix: string) => Number(new RegExp(`^${name}_${suffix}${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { boundsMs, counts, count: value('count'), sumMs: value('sum') * 1000, maxMs: boundsMs.at(-1) ?? 0 };
}

async function gatewayHistograms(port: number): Promise<GatewayHistograms> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return {
    fsync: histogramIn(text, 'spot_gateway_wal_fsync_seconds'),
    delivery: histogramIn(text, 'spot_gateway_upstream_delivery_seconds', 'upstream="mqtt",'),
  };
}

/**
 * p99 of chunk written -> message received, measured by a consumer in its own process; over the
 * same seconds, the p99 of the gateway's WAL fsyncs (the disk's share: docs/architecture.md) and
 * of its own receipt -> PUBACK times (the gateway's and the broker's share, without the legs from
 * the spots and to the consumer).
 */
async function measureLatency(
  port: number,
  mqttUrl: string,
): Promise<{ p99: number; count: number; fsyncP99: number | null; upstreamP99: number | null }> {
  const runMs = LATENCY_WARMUP_MS + LATENCY_MEASURE_MS + 3000;
  const consumer = spawn(benchTool('latency-consumer'), [mqttUrl, String(LATENCY_WARMUP_MS), String(runMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  consumer.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => consumer.once('exit', r));
  try {
    const deadline = Date.now() + 20_000;
    while (!out.includes('ready')) {
      if (Date.now() > deadline || consumer.exitCode !== null) throw new Error('latency consumer did not subscribe within 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    // Assigned in the timer: declared wide so that the read after the load is not narrowed to null.
    let before = null as Promise<GatewayHistograms> | null;
    const warm = setTimeout(() => {
      before = gatewayHistograms(port);
    }, LATENCY_WARMUP_MS);
    await runLoad(loadOptions(port, LATENCY_RATE, true, LATENCY_WARMUP_MS + LATENCY_MEASURE_MS));
    clearTimeout(warm);
    const after = await gatewayHistograms(port);
    const from = before ? await before : null;
    const fsyncP99 = from ? histogramQuantile(from.fsync, after.fsync, 0.99) : null;
    const upstreamP99 = from ? histogramQuantile(from.delivery, after.delivery, 0.99) : null;
    await Promise.race([exited, new Promise((r) => setTimeout(r, runMs + 20_000))]);
    const result = JSON.parse(out.trim().split('\n').pop()!) as { p99: number; count: number };
    return { ...result, fsyncP99, upstreamP99 };
  } finally {
    consumer.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const broker = await startMosquitto({ extraConfig: SITE_BROKER_CONFIG });
  let gw: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    // Latency first, on a fresh gateway and a quiet disk: after the throughput phase the kernel is
    // still writing back its gigabyte of WAL and database pages, and every fsync waits behind that.
    gw = await startGateway(broker.url);
    const latency = await measureLatency(gw.port, broker.url);
    const p99 = latency.p99;
    console.log(`gateway latency: ${latency.count} events measured at ${LATENCY_RATE}/s after a ${LATENCY_WARMUP_MS} ms warm-up`);
    const rssLatency = peakRssMb(gw.child.pid!);
    await stopGateway(gw);
    gw = undefined;

    // The same with buffer.forward after-commit: the WAL fsync out of the path to the broker.
    gw = await startGateway(broker.url, { SPOT_GATEWAY_BUFFER_FORWARD: 'after-commit' });
    const latencyAfterCommit = await measureLatency(gw.port, broker.url);
    console.log(`gateway latency (buffer.forward after-commit): ${latencyAfterCommit.count} events measured`);
    await stopGateway(gw);
    gw = undefined;

    gw = await startGateway(broker.url);
    const pid = gw.child.pid!;
    const before = await getJson(gw.port, '/api/status');
    const cpuBefore = cpuSeconds(pid);
    let cpuAtStop = cpuBefore;
    // Counted when the load stops (the posts still open then are answered afterwards).
    const port = gw.port;
    const afterAtStop = new Promise<any>((resolve) =>
      setTimeout(() => {
        cpuAtStop = cpuSeconds(pid);
        resolve(getJson(port, '/api/status'));
      }, SECONDS * 1000),
    );
    const load = await runLoad(loadOptions(gw.port, 0, false, SECONDS * 1000));
    const after = await afterAtStop;
    const stored = storedCount(after) - storedCount(before);
    const forwarded = forwardedCount(after) - forwardedCount(before);
    const storedEps = stored / (load.elapsedMs / 1000);
    const forwardedEps = forwarded / (load.elapsedMs / 1000);
    console.log(
      `gateway load: sent=${load.sentEvents} stored=${stored} answered_200=${load.ackedEvents} failed_posts=${load.failedPosts} forwarded=${forwarded}`,
    );
    const rss = peakRssMb(gw.child.pid!);
    await stopGateway(gw);
    gw = undefined;

    const sink = await startNullSink();
    const nullLoad = await runLoad(loadOptions(sink.port, 0, false, SECONDS * 1000));
    await sink.close();
    const nullEps = nullLoad.ackedEvents / (nullLoad.elapsedMs / 1000);

    // The same load against a sink that decodes every event and discards it: the ratio the
    // gateway can be held to (storing and forwarding over receiving), not only node's parser.
    const decodeSink = await startNullSink({ decode: true });
    const decodeLoad = await runLoad(loadOptions(decodeSink.port, 0, false, SECONDS * 1000));
    await decodeSink.close();
    if (decodeSink.decoded() < decodeLoad.ackedEvents) throw new Error(`the decoding sink decoded ${decodeSink.decoded()} of ${decodeLoad.ackedEvents} events`);
    const decodeEps = decodeLoad.ackedEvents / (decodeLoad.elapsedMs / 1000);
    const f = (n: number) => Math.round(n);
    console.log(
      `gateway: stored_eps=${f(storedEps)} forwarded_eps=${f(forwardedEps)} null_sink_eps=${f(nullEps)} ` +
        `ratio=${(storedEps / nullEps).toFixed(2)} p99_ms=${p99.toFixed(1)} rss_mb=${f(rss)} latency_rss_mb=${f(rssLatency)} ` +
        // The gateway's CPU time per stored event over the load: steadier than events/s on a shared machine.
        `cpu_us_per_event=${((cpuAtStop - cpuBefore) * 1e6 / stored).toFixed(1)} ` +
        `p99_after_commit_ms=${latencyAfterCommit.p99.toFixed(1)} ` +
        // The disk's share of p99_ms: the WAL fsyncs of those seconds (bucketed, so approximate).
        `fsync_p99_ms=${latency.fsyncP99 === null ? 'n/a' : latency.fsyncP99.toFixed(1)} ` +
        // The gateway's own receipt -> PUBACK over those seconds (its histogram: ms buckets, approximate).
        `upstream_p99_ms=${latency.upstreamP99 === null ? 'n/a' : latency.upstreamP99.toFixed(1)} ` +
        `decode_sink_eps=${f(decodeEps)} ratio_to_decode=${(storedEps / decodeEps).toFixed(2)}`,
    );
  } finally {
    if (gw) {
      gw.child.kill('SIGKILL');
      rmSync(gw.dataDir, { recursive: true, force: true });
    }
    await broker.stop();
  }
}

main().catch((err) => {
  console.error(`bench-gateway failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
