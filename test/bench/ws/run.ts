// make bench-ws: the WebSocket spot transport against chunked posts, on a spawned gateway (built).
// Ingest: N spots over WebSocket, then the same N spots posting (the C load generator), each as
// fast as the gateway takes; stored events/s read from the gateway over the same window.
// Commands: API call -> the spot has the command, over WebSocket and for spots posting once a
// second. Ceilings first: the JSON decoder alone on the same messages, a bare ws echo round trip; then
// what a command's writes hold the event loop for, on a store alone.
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createJsonDecoder } from '../../../gateway/src/protocol/index.js';
import { openStore } from '../../../gateway/src/store/index.js';
import { jsonText, presence } from '../../http/events.js';
import { within } from '../../helpers/wait.js';
import { getJson, startGateway, stopGateway } from '../gateway/gateway-process.js';
import { loadArguments, startBenchTool } from '../gateway/loadgen.js';

const SPOTS = Number(process.env.BENCH_WS_SPOTS ?? 20);
const WARMUP_MS = 2000;
const MEASURE_MS = Number(process.env.BENCH_WS_SECONDS ?? 8) * 1000;
const COMMANDS = Number(process.env.BENCH_WS_COMMANDS ?? 200);
/** Events per WebSocket message and messages in flight per spot. */
const EVENTS_PER_MESSAGE = 100;
const WINDOW_MESSAGES = Number(process.env.BENCH_WS_WINDOW ?? 8);
/** Spots posting once a second for the HTTP command latency; commands spread over them. */
const HTTP_COMMAND_SPOTS = 20;
const COMMAND = { resource: 'config', action: 'update', data: { rfid_power_dbm: 20 } };
const JSON_TYPE = 'text/x-intellifi-events';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const fixed = (n: number, digits = 1) => n.toFixed(digits);

/** Spots that pretty-print their events, percent (as bench-gateway: half and half). */
const PRETTY_SHARE = 50;
/** Messages the WebSocket spots cycle through. */
const MESSAGES = 64;

/**
 * The events the C load generator posts (byte for byte what bench-gateway sends), caught by a
 * server that reads its posts, cut into messages of EVENTS_PER_MESSAGE events: both transports
 * carry the same bytes.
 */
async function loadgenMessages(): Promise<Buffer[]> {
  const events: Buffer[] = [];
  const need = MESSAGES * EVENTS_PER_MESSAGE;
  const server = http.createServer((req, res) => {
    let rest = Buffer.alloc(0);
    req.on('data', (d: Buffer) => {
      rest = Buffer.concat([rest, d]);
      for (let end = rest.indexOf(']\n\n'); end >= 0; end = rest.indexOf(']\n\n')) {
        if (events.length < need) events.push(rest.subarray(0, end + 3));
        rest = rest.subarray(end + 3);
      }
    });
    req.on('end', () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const args = loadArguments({ host: '127.0.0.1', port, spots: 2, durationMs: 1000, rate: 0, postWindowMs: 1000, postEvents: 2000, firstSerial: 1000, stampEvents: false, prettyShare: PRETTY_SHARE });
  await startBenchTool('loadgen', args, { timeoutMs: 30_000 }).done;
  server.closeAllConnections();
  server.close();
  if (events.length < need) throw new Error(`the load generator sent ${events.length} events, ${need} wanted`);
  return Array.from({ length: MESSAGES }, (_, m) => Buffer.concat(events.slice(m * EVENTS_PER_MESSAGE, (m + 1) * EVENTS_PER_MESSAGE)));
}

/** The messages through the JSON decoder alone for about a second: events/s. */
function decodeCeiling(messages: Buffer[]): number {
  const decoder = createJsonDecoder();
  let events = 0;
  const start = performance.now();
  while (performance.now() - start < 1000) for (const m of messages) events += decoder.push(m).length;
  return events / ((performance.now() - start) / 1000);
}

/** A bare ws echo (server and client in this process): round trips of a command-sized message, ms. */
async function echoCeiling(count: number): Promise<number[]> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('message', (data: Buffer) => ws.send(data, { binary: true })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, { perMessageDeflate: false });
  await new Promise((r) => ws.once('open', r));
  const payload = Buffer.from(`${JSON.stringify([COMMAND.resource, COMMAND.action, COMMAND.data])}\n\n`);
  const rtts: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const back = new Promise((r) => ws.once('message', r));
    ws.send(payload);
    await within(back, 5000, 'the echo');
    rtts.push(performance.now() - t0);
  }
  ws.close();
  wss.close();
  server.close();
  return rtts;
}

/** fsyncs of a small write in the directory the gateways keep their buffer in (os.tmpdir()), ms: what a queued command waits for. */
function fsyncCeiling(count: number): number[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-ws-fsync-'));
  const fd = openSync(path.join(dir, 'f'), 'w');
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      writeSync(fd, Buffer.alloc(128, i));
      const t0 = performance.now();
      fsyncSync(fd);
      times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

/**
 * What a command's writes cost the event loop, on a store of its own in os.tmpdir(): the time `enqueue` holds
 * the loop before it returns and until it resolves (durable), and the time `markDelivered` holds it, ms.
 */
async function commandWriteCost(count: number): Promise<{ enqueue: number[]; acked: number[]; mark: number[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-ws-commands-'));
  const store = openStore({ dataDir: dir });
  const cost = { enqueue: [] as number[], acked: [] as number[], mark: [] as number[] };
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const queued = store.commands.enqueue('9001', { resource: COMMAND.resource, action: COMMAND.action, data: JSON.stringify(COMMAND.data), source: 'api' });
      cost.enqueue.push(performance.now() - t0);
      const { id } = await queued;
      cost.acked.push(performance.now() - t0);
      const t1 = performance.now();
      store.commands.markDelivered([id], Date.now());
      cost.mark.push(performance.now() - t1);
      await sleep(5);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return cost;
}

async function storedNow(port: number): Promise<number> {
  return Number((await getJson(port, '/api/status')).ingest.eventsStored);
}

/** CPU seconds (user + system) the process used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Starts `load`, lets it warm up, then events stored per second over MEASURE_MS and the gateway's CPU µs per stored event. */
async function storedRate(gw: { port: number; pid: number }, load: () => Promise<unknown>): Promise<{ eps: number; cpuUs: number; cpuShare: number }> {
  const done = load();
  await sleep(WARMUP_MS);
  const s0 = await storedNow(gw.port);
  const c0 = cpuSeconds(gw.pid);
  const t0 = performance.now();
  await sleep(MEASURE_MS);
  const s1 = await storedNow(gw.port);
  const c1 = cpuSeconds(gw.pid);
  const t1 = performance.now();
  const result = await done;
  if (process.env.BENCH_WS_VERBOSE) console.log(JSON.stringify(result));
  return { eps: (s1 - s0) / ((t1 - t0) / 1000), cpuUs: ((c1 - c0) * 1e6) / Math.max(1, s1 - s0), cpuShare: (c1 - c0) / ((t1 - t0) / 1000) };
}

function runWsLoad(port: number, messagesFile: string): Promise<unknown> {
  const seconds = (WARMUP_MS + MEASURE_MS + 1000) / 1000;
  const numbers = [port, SPOTS, seconds, EVENTS_PER_MESSAGE, WINDOW_MESSAGES].map(String);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/ws/ws-load.ts', ...numbers, messagesFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`ws-load exited ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!));
    }),
  );
}

async function runHttpLoad(port: number): Promise<unknown> {
  const durationMs = WARMUP_MS + MEASURE_MS + 1000;
  const args = loadArguments({ host: '127.0.0.1', port, spots: SPOTS, durationMs, rate: 0, postWindowMs: 1000, postEvents: 2000, firstSerial: 1000, stampEvents: false, prettyShare: PRETTY_SHARE });
  const run = await startBenchTool('loadgen', args, { timeoutMs: durationMs + 60_000 }).done;
  if (run.code !== 0) throw new Error(`loadgen failed: ${run.stderr.trim()}`);
  return run.stdout;
}

async function queueCommand(port: number, serial: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/api/spots/${serial}/commands`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(COMMAND),
    signal: AbortSignal.timeout(5000),
  });
  if (res.status !== 202) throw new Error(`command for spot ${serial}: ${res.status} ${await res.text()}`);
}

/** One spot connected over WebSocket; each command queued once the previous one arrived: API call -> message received, ms. */
async function wsCommandLatency(port: number): Promise<number[]> {
  const serial = 9001;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/spots/${serial}/events/`, ['spot-json.v1'], { perMessageDeflate: false });
  await within(new Promise((r) => ws.once('open', r)), 5000, 'the WebSocket to open');
  let arrived: (() => void) | null = null;
  ws.on('message', (_data, isBinary) => {
    if (isBinary) arrived?.();
  });
  const latencies: number[] = [];
  for (let i = 0; i < COMMANDS; i++) {
    const got = new Promise<number>((resolve) => (arrived = () => resolve(performance.now())));
    const t0 = performance.now();
    await queueCommand(port, serial);
    latencies.push((await within(got, 5000, `command ${i} over WebSocket`)) - t0);
    await sleep(Math.random() * 10);
  }
  ws.close();
  return latencies;
}

/** POST of one event; resolves with the response body (the spot's commands). */
function postOnce(agent: http.Agent, port: number, serial: number, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent, method: 'POST', path: `/api/spots/${serial}/events/`, headers: { 'Content-Type': JSON_TYPE } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Spots posting once a second, as the firmware does; a command about every 1000/HTTP_COMMAND_SPOTS ms
 * for a spot drawn at random (not in turn: that would lock each command to its spot's post phase):
 * API call -> the response carrying it, ms.
 */
async function httpCommandLatency(port: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_COMMAND_SPOTS });
  const serials = Array.from({ length: HTTP_COMMAND_SPOTS }, (_, i) => 9100 + i);
  const pending = new Map(serials.map((s) => [s, [] as number[]]));
  const latencies: number[] = [];
  let running = true;
  const body = jsonText([presence(1)]);
  const spot = async (serial: number, offsetMs: number): Promise<void> => {
    await sleep(offsetMs);
    while (running) {
      const t = performance.now();
      const reply = await postOnce(agent, port, serial, body);
      const received = performance.now();
      const commands = reply.split('\n\n').filter((s) => s.trim() !== '').length;
      const queue = pending.get(serial)!;
      for (let i = 0; i < commands && queue.length > 0; i++) latencies.push(received - queue.shift()!);
      await sleep(Math.max(0, 1000 - (performance.now() - t)));
    }
  };
  const spots = serials.map((s, i) => spot(s, (i * 1000) / HTTP_COMMAND_SPOTS));
  const spacingMs = 1000 / HTTP_COMMAND_SPOTS;
  for (let i = 0; i < COMMANDS; i++) {
    const serial = serials[Math.floor(Math.random() * serials.length)]!;
    pending.get(serial)!.push(performance.now());
    await queueCommand(port, serial);
    await sleep(spacingMs * (0.5 + Math.random()));
  }
  const deadline = performance.now() + 10_000;
  while (latencies.length < COMMANDS && performance.now() < deadline) await sleep(50);
  running = false;
  await Promise.all(spots);
  agent.destroy();
  if (latencies.length < COMMANDS) throw new Error(`only ${latencies.length} of ${COMMANDS} commands reached the posting spots`);
  return latencies;
}

async function onGateway<T>(what: (gw: { port: number; pid: number }) => Promise<T>): Promise<T> {
  const gw = await startGateway('');
  try {
    return await what({ port: gw.port, pid: gw.child.pid! });
  } finally {
    await stopGateway(gw);
  }
}

const messages = await loadgenMessages();
const messagesDir = mkdtempSync(path.join(os.tmpdir(), 'bench-ws-'));
const messagesFile = path.join(messagesDir, 'messages');
writeFileSync(messagesFile, messages.map((m) => m.toString('base64')).join('\n'));
const decodeEps = decodeCeiling(messages);
const echo = await echoCeiling(COMMANDS);
const fsyncs = fsyncCeiling(COMMANDS);
const echoP99 = quantile(echo, 0.99);
const fsyncP99 = quantile(fsyncs, 0.99);
console.log(
  `ws-ceiling: json_decode_eps=${Math.round(decodeEps)} ws_echo_rtt_p50_ms=${fixed(quantile(echo, 0.5), 2)} ws_echo_rtt_p99_ms=${fixed(echoP99, 2)} ` +
    `fsync_p50_ms=${fixed(quantile(fsyncs, 0.5), 2)} fsync_p99_ms=${fixed(fsyncP99, 2)}`,
);
const writes = await commandWriteCost(COMMANDS);
console.log(
  `ws-command-writes: enqueue_loop_p50_ms=${fixed(quantile(writes.enqueue, 0.5), 2)} enqueue_loop_p99_ms=${fixed(quantile(writes.enqueue, 0.99), 2)} ` +
    `mark_delivered_loop_p50_ms=${fixed(quantile(writes.mark, 0.5), 2)} mark_delivered_loop_p99_ms=${fixed(quantile(writes.mark, 0.99), 2)} ` +
    `enqueue_to_durable_p50_ms=${fixed(quantile(writes.acked, 0.5), 2)} enqueue_to_durable_p99_ms=${fixed(quantile(writes.acked, 0.99), 2)}`,
);
const ws = await onGateway((gw) => storedRate(gw, () => runWsLoad(gw.port, messagesFile)));
rmSync(messagesDir, { recursive: true, force: true });
const posted = await onGateway((gw) => storedRate(gw, () => runHttpLoad(gw.port)));
const { wsLatency, httpLatency } = await onGateway(async (gw) => ({ wsLatency: await wsCommandLatency(gw.port), httpLatency: await httpCommandLatency(gw.port) }));
const wsP50 = quantile(wsLatency, 0.5);
const wsP99 = quantile(wsLatency, 0.99);
const httpP50 = quantile(httpLatency, 0.5);
console.log(
  `ws-ratios: ws_stored_to_decode=${fixed(ws.eps / decodeEps, 3)} http_stored_to_decode=${fixed(posted.eps / decodeEps, 3)} ws_to_http_stored=${fixed(ws.eps / posted.eps, 2)} ` +
    `ws_cpu_us_per_event=${fixed(ws.cpuUs)} http_cpu_us_per_event=${fixed(posted.cpuUs)} ws_gateway_cpu=${fixed(ws.cpuShare, 2)} http_gateway_cpu=${fixed(posted.cpuShare, 2)} ` +
    `command_p99_to_fsync_plus_echo_p99=${fixed(wsP99 / (fsyncP99 + echoP99))} http_command_p99_ms=${fixed(quantile(httpLatency, 0.99))}`,
);
console.log(
  `ws: command_latency_p50_ms=${fixed(wsP50)} command_latency_p99_ms=${fixed(wsP99)} http_command_latency_p50_ms=${fixed(httpP50)} ws_stored_eps=${Math.round(ws.eps)} http_stored_eps=${Math.round(posted.eps)}`,
);
