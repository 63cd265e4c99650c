// make bench-codec: decode a realistic mixed stream on one core and print events per second.
// Rates are events per CPU-second of this process (user + system, GC threads included), best
// of several rounds: on a shared machine wall time mostly measures the neighbours.
import {
  canonicalize,
  concatBytes,
  createJsonDecoder,
  createPbDecoder,
  createPbEncoder,
  encodeJsonEvent,
  type SpotEventBody,
  type StreamDecoder,
} from '../../../gateway/src/protocol/index.js';
import { mixedEvents } from './stream.js';

const EVENTS = 50000;
const CHUNK = 16384;
const ROUNDS = 30;

function chunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) out.push(bytes.slice(i, i + CHUNK));
  return out;
}

/** Decodes the stream ROUNDS times; returns the best rate in events per CPU-second. */
function measure(name: string, makeDecoder: () => StreamDecoder, pieces: Uint8Array[]): number {
  let bestCpu = 0;
  let bestWall = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const decoder = makeDecoder();
    let events = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const piece of pieces) {
      for (const item of decoder.push(piece)) if (item.kind === 'event') events++;
    }
    for (const item of decoder.end()) if (item.kind === 'event') events++;
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    if (events !== EVENTS) throw new Error(`${name}: decoded ${events} of ${EVENTS} events`);
    bestCpu = Math.max(bestCpu, events / ((cpu.user + cpu.system) / 1e6));
    bestWall = Math.max(bestWall, events / wall);
  }
  console.log(`${name}: best of ${ROUNDS} rounds: ${Math.round(bestCpu)} events per CPU-second, ${Math.round(bestWall)} events per wall-second`);
  return bestCpu;
}

const events = mixedEvents(EVENTS);
const json = concatBytes(events.map((e) => encodeJsonEvent(e)));
const encoder = createPbEncoder();
const pb = concatBytes(events.map((e) => encoder.encode(e)));
const kinds = new Map<string, number>();
for (const e of events) kinds.set(`${e.resource} ${e.action}`, (kinds.get(`${e.resource} ${e.action}`) ?? 0) + 1);
console.log(`stream: ${EVENTS} events (${[...kinds].map(([k, n]) => `${k}: ${n}`).join(', ')})`);
console.log(`stream: JSON ${json.length} bytes, PB ${pb.length} bytes, pieces of ${CHUNK} bytes`);

/** The decoder gives back exactly the events that were encoded (the rates are of correct work). */
function check(name: string, decoder: StreamDecoder, pieces: Uint8Array[], expected: SpotEventBody[]): void {
  const canonical = (e: SpotEventBody): string => JSON.stringify([e.resource, e.action, canonicalize(e.resource, e.action, e.data)]);
  let n = 0;
  for (const item of [...pieces.flatMap((piece) => decoder.push(piece)), ...decoder.end()]) {
    if (item.kind !== 'event') throw new Error(`${name}: message ${item.rejected.index} rejected: ${item.rejected.reason}`);
    if (canonical(item.event) !== canonical(expected[n]!)) throw new Error(`${name}: event ${n} decoded differently from what was encoded`);
    n++;
  }
  if (n !== expected.length) throw new Error(`${name}: decoded ${n} of ${expected.length} events`);
}

// Checked first, holding every decoded event at once like a slow consumer: if V8 could still
// pretenure the decoders' event objects, this is what would make it, and the rates would drop.
check('json decode', createJsonDecoder(), chunks(json), events);
check('pb decode', createPbDecoder(), chunks(pb), events);
const jsonEps = measure('json decode', () => createJsonDecoder(), chunks(json));
const pbEps = measure('pb decode', () => createPbDecoder(), chunks(pb));
console.log(`codec: json_decode_eps=${Math.round(jsonEps)} pb_decode_eps=${Math.round(pbEps)} pb_bytes_ratio=${(pb.length / json.length).toFixed(3)}`);
