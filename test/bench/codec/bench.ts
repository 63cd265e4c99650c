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
import { GARBAGE_KINDS } from './garbage.js';

const EVENTS = 50000;
const CHUNK = 16384;
const ROUNDS = Number(process.env.BENCH_CODEC_ROUNDS ?? 30);
const MB = 1 << 20;
/** Garbage is fed in pieces of this size, as node's HTTP parser hands a socket read over. */
const GARBAGE_PIECE = 65536;
const GARBAGE_ROUNDS = 8;

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

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/** Best of GARBAGE_ROUNDS: MB of the body decoded per CPU-second, checking it yields no event. */
function garbageRate(name: string, makeDecoder: () => StreamDecoder, body: Uint8Array): number {
  let best = 0;
  for (let round = 0; round < GARBAGE_ROUNDS; round++) {
    const decoder = makeDecoder();
    let records = 0;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < body.length; i += GARBAGE_PIECE) records += decoder.push(body.subarray(i, i + GARBAGE_PIECE)).length;
    records += decoder.end().length;
    best = Math.max(best, body.length / MB / cpuSeconds(cpu0));
    if (records > 16) throw new Error(`${name}: ${records} items for one body of garbage`);
  }
  return best;
}

/** The ceiling of any byte loop in this process: a bare scan that reads every byte once. */
function scanRate(body: Uint8Array): number {
  let best = 0;
  let sink = 0;
  for (let round = 0; round < GARBAGE_ROUNDS; round++) {
    const cpu0 = process.cpuUsage();
    for (let r = 0; r < 16; r++) for (let i = 0; i < body.length; i++) sink = (sink + body[i]!) | 0;
    best = Math.max(best, (16 * body.length) / MB / cpuSeconds(cpu0));
  }
  if (sink === 0.5) console.log('unreachable');
  return best;
}

const rate = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
let worstPb = { kind: '', mbs: Infinity };
let worstJson = { kind: '', mbs: Infinity };
const zeros = { pb: 0, json: 0 };
console.log(`garbage: 1 MB bodies in pieces of ${GARBAGE_PIECE} bytes, best of ${GARBAGE_ROUNDS} rounds, MB per CPU-second:`);
for (const kind of GARBAGE_KINDS) {
  const body = kind.make(MB);
  const pbMbs = garbageRate(`pb ${kind.name}`, () => createPbDecoder(), body);
  const jsonMbs = garbageRate(`json ${kind.name}`, () => createJsonDecoder(), body);
  if (kind.name === 'zeros') Object.assign(zeros, { pb: pbMbs, json: jsonMbs });
  if (pbMbs < worstPb.mbs) worstPb = { kind: kind.name, mbs: pbMbs };
  if (jsonMbs < worstJson.mbs) worstJson = { kind: kind.name, mbs: jsonMbs };
  console.log(`garbage: ${kind.name.padEnd(16)} pb ${rate(pbMbs).padStart(6)}  json ${rate(jsonMbs).padStart(6)}  (${kind.what})`);
}
// Ceilings measured in the same process: each decoder on the valid stream above, and a bare scan.
const validJsonMbs = (jsonEps * json.length) / EVENTS / MB;
const validPbMbs = (pbEps * pb.length) / EVENTS / MB;
const scanMbs = scanRate(GARBAGE_KINDS[0]!.make(MB));
console.log(`ceilings: valid stream json ${rate(validJsonMbs)} MB/s, pb ${rate(validPbMbs)} MB/s; bare byte scan ${rate(scanMbs)} MB/s`);
console.log(
  `garbage: zeros pb ${(zeros.pb / validPbMbs).toFixed(2)}, json ${(zeros.json / validJsonMbs).toFixed(2)} of the valid stream's MB/s;` +
    ` worst kind pb ${worstPb.kind} ${(worstPb.mbs / validPbMbs).toFixed(2)}, json ${worstJson.kind} ${(worstJson.mbs / validJsonMbs).toFixed(2)}`,
);
console.log(
  `codec: json_decode_eps=${Math.round(jsonEps)} pb_decode_eps=${Math.round(pbEps)} pb_bytes_ratio=${(pb.length / json.length).toFixed(3)}` +
    ` garbage_pb_mb_s=${rate(zeros.pb)} garbage_json_mb_s=${rate(zeros.json)}` +
    ` garbage_worst_pb_mb_s=${rate(worstPb.mbs)} garbage_worst_pb=${worstPb.kind} garbage_worst_json_mb_s=${rate(worstJson.mbs)} garbage_worst_json=${worstJson.kind}` +
    ` valid_pb_mb_s=${rate(validPbMbs)} valid_json_mb_s=${rate(validJsonMbs)} scan_mb_s=${rate(scanMbs)}`,
);
