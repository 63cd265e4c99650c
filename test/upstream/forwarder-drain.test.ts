// With the broker up and no new input, the forwarder drains to lag 0: no freed window slot and no
// stored event may be left without a pump to use it (docs/mqtt.md, "Nothing left behind").
import fs from 'node:fs';
import test from 'ava';
import fc from 'fast-check';
import { MqttForwarder, type ForwardSource, type MqttForwarderOptions } from '../../gateway/src/upstream/index.js';
import { eventIdOf, scriptedForwarder, tick, type FakeClient, type FakeTimers } from './fake-client.js';
import { jsonEvent, MemorySource } from './fake-source.js';
import { tempDir } from '../helpers/gateway.js';
import { openStore, type AppendOutcome, type NewEvent } from '../../gateway/src/store/index.js';

function setup(extra: Partial<MqttForwarderOptions>, source: ForwardSource) {
  return scriptedForwarder(source, extra);
}

test('spot-state messages take at most half the window: events go out beside them, and the states follow as slots free', async (t) => {
  const source = new MemorySource('inst');
  const { forwarder, clients } = setup({}, source);
  forwarder.start();
  const client = clients[0]!;
  client.connack({ receiveMaximum: 4 });
  // Many spots come online at once: their connected messages wait for the state half of the window.
  for (const spot of ['1', '2', '3', '4', '5']) forwarder.publishSpotState(spot, 'connected');
  source.append(jsonEvent('1', 1), jsonEvent('2', 2), jsonEvent('3', 3));
  await tick();
  t.deepEqual(client.published.map((p) => p.topic), ['gateways/gw1/state', 'spots/1/connected', 'from/1/json/presence/create', 'from/2/json/presence/create']);
  for (let round = 0; round < 10 && client.pending().length > 0; round++) {
    client.ackAll();
    await tick();
  }
  t.deepEqual(client.events().map(eventIdOf), ['inst:1', 'inst:2', 'inst:3']);
  t.is(client.published.filter((p) => p.topic.startsWith('spots/')).length, 5);
  t.is(forwarder.status().lagEvents, 0);
  t.is(forwarder.status().inFlight, 0);
  t.is(forwarder.status().spotStatesQueued, 0);
});

// --- the invariant over random interleavings ------------------------------------------------

const SERIALS = ['1', '2', '3', '4', '5'];

type Step =
  | { kind: 'append'; spots: number[]; pb: boolean }
  | { kind: 'acks'; picks: number[]; refusal: 'none' | 'permanent' | 'transient' }
  | { kind: 'lateAcks' }
  | { kind: 'spotState'; spot: number; online: boolean }
  | { kind: 'drop' }
  | { kind: 'connect'; receiveMaximum: number }
  | { kind: 'storeReads'; fail: boolean }
  | { kind: 'cursorReads'; fail: boolean }
  | { kind: 'retry' }
  | { kind: 'fsyncFails' }
  | { kind: 'silence'; turns: number };

const spot = fc.integer({ min: 0, max: SERIALS.length - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), spots: fc.array(spot, { minLength: 1, maxLength: 8 }), pb: fc.boolean() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('acks' as const),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
      refusal: fc.constantFrom('none', 'none', 'none', 'none', 'permanent', 'transient'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lateAcks' as const) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('spotState' as const), spot, online: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('connect' as const), receiveMaximum: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('storeReads' as const), fail: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cursorReads' as const), fail: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fsyncFails' as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('silence' as const), turns: fc.integer({ min: 1, max: 3 }) }) },
);

const isEvent = (topic: string): boolean => topic.startsWith('from/');

/** stop() with a scripted broker: everything it waits for is acked, every bound it sets elapses. */
async function stopped(forwarder: MqttForwarder, clients: FakeClient[], timers: FakeTimers): Promise<void> {
  let done = false;
  const stopping = forwarder.stop().then(() => (done = true));
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set when stop() resolves
  for (let i = 0; i < 100 && !done; i++) {
    for (const c of clients) c.ackAll();
    while (timers.pending.size > 0) timers.fire();
    await tick();
  }
  await stopping;
}

/** Where the forwarder reads from: the in-memory source, or the real store on a temp dir. */
interface World {
  source: ForwardSource;
  /** One commit holding an event for each of these spots (PB form or not). */
  append(spots: number[], pb: boolean): void;
  /** Store reads (or cursor reads) fail until set back; the real store cannot be made to. */
  failReads(fail: boolean): void;
  failCursorReads(fail: boolean): void;
  /** The store's next WAL fsync fails (its appends get 503; their rows stay in the database). */
  failNextFsync(): void;
  /** A moment of real time: the real store commits and syncs in the background. */
  pause(): Promise<void>;
  /** Every append committed and handed over. */
  settle(): Promise<void>;
  /** The ids stored for a spot, in order. */
  stored(spot: string): number[];
  close(): Promise<void>;
}

function memoryWorld(handOver: boolean): World {
  const source = new MemorySource('inst');
  source.handOver = handOver;
  let n = 0;
  return {
    source,
    append: (spots, pb) => void source.append(...spots.map((i) => ({ ...jsonEvent(SERIALS[i]!, n++), pb: pb ? new Uint8Array([n]) : null }))),
    failReads: (fail) => void (source.failReads = fail),
    failCursorReads: (fail) => void (source.failCursorReads = fail),
    failNextFsync: () => {},
    pause: tick,
    settle: async () => {},
    stored: (spot) => source.events.filter((e) => e.spot === spot).map((e) => e.id),
    close: async () => {},
  };
}

/** fs.fsync (the store's WAL fsync off the event loop) with failures on demand; this file's process only. */
const realFsync = fs.fsync;
let fsyncsToFail = 0;
Object.assign(fs, {
  fsync: (fd: number, done: (err: NodeJS.ErrnoException | null) => void): void => {
    if (fsyncsToFail === 0) return realFsync(fd, done);
    fsyncsToFail--;
    process.nextTick(() => done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })));
  },
});

function storeWorld(dataDir: string): World {
  const store = openStore({ dataDir, upstreams: ['mqtt'], commitIntervalMs: 1 });
  const appends: Array<Promise<unknown>> = [];
  const ids = new Map<string, Set<number>>();
  const note = (spot: string, id: number): void => void (ids.get(spot) ?? ids.set(spot, new Set()).get(spot)!).add(id);
  let n = 0;
  return {
    source: store,
    append: (spots, pb) => {
      const events: NewEvent[] = spots.map((i) => ({ ...jsonEvent(SERIALS[i]!, n++), pb: pb ? new Uint8Array([n]) : null, encoding: 'json', boot: null, seq: null }));
      appends.push(
        store.append(events).then(
          (outcomes: AppendOutcome[]) => outcomes.forEach((o, k) => 'id' in o && note(events[k]!.spot, o.id)),
          // A failed fsync: the rows are stored all the same, and not forwarded (nor pruned) yet.
          () => {
            for (const spot of new Set(spots.map((i) => SERIALS[i]!))) {
              for (const e of store.listEvents({ spot, after: store.cursor('mqtt', spot), limit: 10_000 })) note(spot, e.id);
            }
          },
        ),
      );
    },
    failReads: () => {},
    failCursorReads: () => {},
    failNextFsync: () => void (fsyncsToFail = 1),
    // Silence: the store's commit timer runs and what was appended so far is committed (or failed).
    pause: async () => {
      await Promise.allSettled(appends);
      await tick();
    },
    settle: async () => {
      fsyncsToFail = 0;
      await Promise.all(appends);
      await store.flush();
    },
    stored: (spot) => [...(ids.get(spot) ?? [])].sort((a, b) => a - b),
    close: () => store.close(),
  };
}

/**
 * Runs the script against a forwarder with a scripted broker, then lets the broker ack everything
 * with no new input: true when the lag reached 0 and every event went out in order per spot.
 */
async function drainsAfter(world: World, script: Step[], firstReceiveMaximum: number, maxInFlight: number, batchPerTurn: number): Promise<boolean> {
  let clock = 1_000_000;
  const { forwarder, clients, timers } = setup({ maxInFlight, batchPerTurn, now: () => clock }, world.source);
  /** What each connection may have unacknowledged: the broker's Receive Maximum (the window is at least 2: an event with a PB form). */
  const limits = new Map<FakeClient, number>();
  const connackNewest = (receiveMaximum: number): void => {
    // The backoff (or the store retry) elapses; the store retry alone opens no connection.
    while (forwarder.status().state === 'disconnected' && timers.pending.size > 0) timers.fire();
    if (forwarder.status().state === 'connecting') {
      limits.set(clients.at(-1)!, Math.min(receiveMaximum, maxInFlight));
      clients.at(-1)!.connack({ receiveMaximum });
    }
  };
  /** Every connection stayed within its limit, counting what it had in flight, state messages too. */
  const withinLimits = (): boolean => clients.every((c) => c.pending().length <= (limits.get(c) ?? 0));
  let spotStates = 0;
  forwarder.start();
  connackNewest(firstReceiveMaximum);
  try {
    for (const s of script) {
      clock += 10;
      const client = clients.at(-1)!;
      switch (s.kind) {
        case 'append':
          world.append(s.spots, s.pb);
          break;
        case 'acks': {
          const pending = client.pending();
          if (pending.length === 0) break;
          const code = s.refusal === 'permanent' ? 0x87 : 0x97;
          for (const pick of s.picks) {
            const p = pending[pick % pending.length]!;
            if (p.acked) continue;
            p.acked = true;
            p.cb(s.refusal === 'none' ? undefined : Object.assign(new Error('Publish error'), { code }));
          }
          break;
        }
        case 'lateAcks':
          for (const old of clients.slice(0, -1)) old.ackAll();
          break;
        case 'spotState':
          forwarder.publishSpotState(SERIALS[s.spot]!, s.online ? 'connected' : 'disconnected');
          spotStates++;
          break;
        case 'drop':
          client.emit('close');
          break;
        case 'connect':
          connackNewest(s.receiveMaximum);
          break;
        case 'storeReads':
          world.failReads(s.fail);
          break;
        case 'cursorReads':
          world.failCursorReads(s.fail);
          break;
        case 'retry':
          if (timers.delays().includes(1000)) timers.fire(1000);
          break;
        case 'fsyncFails':
          world.failNextFsync();
          break;
        case 'silence':
          for (let i = 0; i < s.turns; i++) await world.pause();
          break;
      }
      if (!withinLimits()) return false;
    }

    // The broker is up from here on and acks everything; nothing new is stored.
    world.failReads(false);
    world.failCursorReads(false);
    await world.settle();
    for (let round = 0; round < 500; round++) {
      clock += 1000;
      connackNewest(8);
      await tick();
      if (!withinLimits()) return false;
      const acked = clients.at(-1)!.ackAll();
      if (timers.delays().includes(1000)) timers.fire(1000);
      else if (acked === 0 && forwarder.status().state === 'connected') {
        await tick();
        if (clients.at(-1)!.pending().length === 0) break;
      }
    }
    await tick();
    const status = forwarder.status();
    if (status.lagEvents !== 0 || status.state !== 'connected' || status.spotStatesQueued !== 0) return false;
    // Every spot state went out, or was counted as dropped (disconnected, replaced before it went out).
    const statesSent = clients.reduce((n, c) => n + c.published.filter((p) => p.topic.startsWith('spots/')).length, 0);
    if (statesSent + status.spotStatesDropped !== spotStates) return false;
    // On each connection every spot's events go out in id order; a consumer dropping event_ids
    // it has seen (the replay after a reconnect) gets every event once, in order per spot.
    const seen = new Map<string, number[]>();
    const ids = new Set<number>();
    for (const c of clients) {
      const lastOnConnection = new Map<string, number>();
      for (const p of c.published) {
        if (!isEvent(p.topic) || p.topic.endsWith('/pb')) continue;
        const spot = p.topic.split('/')[1]!;
        const id = Number(String(eventIdOf(p)).split(':').at(-1));
        if (id <= (lastOnConnection.get(spot) ?? 0)) return false;
        lastOnConnection.set(spot, id);
        if (ids.has(id)) continue;
        ids.add(id);
        seen.set(spot, [...(seen.get(spot) ?? []), id]);
      }
    }
    return SERIALS.every((spot) => (seen.get(spot) ?? []).join() === world.stored(spot).join());
  } finally {
    await stopped(forwarder, clients, timers);
    await world.close();
  }
}

const script = fc.array(step, { minLength: 5, maxLength: 80, size: 'large' });
const receiveMaximum = fc.integer({ min: 1, max: 8 });
const maxInFlight = fc.integer({ min: 2, max: 10 });
const batchPerTurn = fc.integer({ min: 1, max: 4 });

test('random appends, acks, connects, drops, spot states, store failures and silence: once the broker is up and acks everything, the lag reaches 0 and every event went out in order per spot', async (t) => {
  const property = fc.asyncProperty(script, receiveMaximum, maxInFlight, batchPerTurn, fc.boolean(), (steps, rm, window, batch, handOver) =>
    drainsAfter(memoryWorld(handOver), steps, rm, window, batch),
  );
  await t.notThrowsAsync(fc.assert(property, { numRuns: 300 }));
});

test('the same with the real store: its commits, fsyncs (some failing) and hand-overs interleaved with the rest, the lag reaches 0 and every stored event went out in order per spot', async (t) => {
  let run = 0;
  const property = fc.asyncProperty(script, receiveMaximum, maxInFlight, batchPerTurn, (steps, rm, window, batch) =>
    drainsAfter(storeWorld(tempDir(t, `spot-drain-${run++}-`)), steps, rm, window, batch),
  );
  await t.notThrowsAsync(fc.assert(property, { numRuns: 40 }));
});
