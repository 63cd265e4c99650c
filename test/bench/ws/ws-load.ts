// make bench-ws: N spots each holding a WebSocket and sending JSON messages as fast as the gateway
// acknowledges them (a window of messages in flight per spot). Its own process, as the C load
// generator is for posts. Args: port spots seconds events_per_message window messages_file (one
// message per line, base64: run.ts writes it). Prints, last, JSON: {"sentEvents":n,"ackedEvents":n,"elapsedMs":n}
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const args = process.argv.slice(2);
const [port, spots, seconds, perMessage, windowMessages] = args.slice(0, 5).map(Number) as [number, number, number, number, number];
const FIRST_SERIAL = 5000;
/** The messages the spots cycle through, made once by run.ts from the C load generator's bytes. */
const messages = readFileSync(args[5]!, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => Buffer.from(line, 'base64'));

let sentEvents = 0;
let ackedEvents = 0;
let running = true;
const started = performance.now();

interface Spot {
  ws: WebSocket;
  sent: number;
  acked: number;
}

function pump(spot: Spot): void {
  while (running && spot.ws.readyState === WebSocket.OPEN && spot.sent - spot.acked < windowMessages * perMessage) {
    spot.ws.send(messages[(spot.sent / perMessage) % messages.length]!);
    spot.sent += perMessage;
    sentEvents += perMessage;
  }
}

function open(serial: number): Promise<Spot> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/spots/${serial}/events/`, ['spot-json.v1'], {
      perMessageDeflate: false,
      headers: { 'X-Spot-Boot': '1', 'X-Spot-Seq': '1' },
      // A zero masking key: ws then sends the bytes as they are (no XOR pass over every message),
      // so this generator costs little of the CPU it measures, as the C one for posts.
      generateMask: (mask: Buffer) => mask.fill(0),
    });
    const spot: Spot = { ws, sent: 0, acked: 0 };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const ack = (JSON.parse(data.toString()) as { ack?: { events: number } }).ack;
      if (!ack) return;
      ackedEvents += ack.events - spot.acked;
      spot.acked = ack.events;
      pump(spot);
    });
    ws.once('open', () => resolve(spot));
    ws.once('error', reject);
  });
}

const all = await Promise.all(Array.from({ length: spots }, (_, i) => open(FIRST_SERIAL + i)));
for (const spot of all) pump(spot);
await new Promise((r) => setTimeout(r, seconds * 1000));
running = false;
// The last acks (bounded): what is in flight is committed within a few commits.
const deadline = performance.now() + 15_000;
while (all.some((s) => s.acked < s.sent) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const elapsedMs = Math.round(performance.now() - started);
for (const spot of all) spot.ws.close(1000);
const cpu = process.cpuUsage();
console.log(JSON.stringify({ sentEvents, ackedEvents, elapsedMs, cpuMs: Math.round((cpu.user + cpu.system) / 1000) }));
