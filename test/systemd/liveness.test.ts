// What the watchdog checks: a store write that hangs or fails, an upstream that stalls while connected; and the STATUS= line.
import test from 'ava';
import { Liveness, type LivenessSources, type UpstreamSample } from '../../gateway/src/systemd/liveness.js';
import { WriteWatch } from '../../gateway/src/systemd/write-watch.js';
import { gatewayLiveness } from '../../gateway/src/parts.js';
import type { OnlineTracker } from '../../gateway/src/ingest/index.js';
import type { StoreStatus } from '../../gateway/src/store/index.js';
import type { MqttForwarder } from '../../gateway/src/upstream/index.js';

function sources(overrides: Partial<LivenessSources> = {}): LivenessSources & { clock: { now: number } } {
  const clock = { now: 1_000_000 };
  return {
    clock,
    now: () => clock.now,
    storeError: () => null,
    storeWaitingMs: () => 0,
    spotsOnline: () => 0,
    backlog: () => 0,
    upstreams: () => [],
    ...overrides,
  };
}

test('a store write waiting for the disk longer than the limit is a fault, and clears; a failed write is not (the store recovers by itself)', (t) => {
  let waiting = 0;
  let error: string | null = null;
  const live = new Liveness(sources({ storeWaitingMs: () => waiting, storeError: () => error }), { storeWaitLimitMs: 5000 });
  t.is(live.fault(), null);
  waiting = 5000;
  t.is(live.fault(), null, 'at the limit: still waiting legitimately');
  waiting = 6200;
  t.is(live.fault(), 'store: a write has waited 6 s for the disk');
  waiting = 0;
  error = 'store /data/spot-gateway.db: disk full';
  t.is(live.fault(), null, 'a failing store answers 503 and recovers without a restart');
  t.is(live.summary(), '0 spots online; backlog 0 events; no upstream; store cannot write: store /data/spot-gateway.db: disk full');
  error = null;
  t.is(live.fault(), null);
});

test('a connected upstream with events waiting and no new acknowledgement for the stall time is a fault', (t) => {
  const u: UpstreamSample = { name: 'mqtt', state: 'connected', acked: 10, backlog: 500, inFlight: 64, downSinceMs: null };
  const s = sources({ upstreams: () => [u] });
  const live = new Liveness(s, { upstreamStallMs: 60_000 });
  t.is(live.fault(), null);
  s.clock.now += 30_000;
  u.acked = 11;
  t.is(live.fault(), null, 'an acknowledgement is progress');
  s.clock.now += 59_000;
  t.is(live.fault(), null);
  s.clock.now += 2_000;
  t.is(live.fault(), 'mqtt: connected with 500 events waiting and no acknowledgement for 61 s');
  u.acked = 12;
  t.is(live.fault(), null, 'progress again clears it');
});

test('connecting, waiting to reconnect, and having nothing to send are legitimate waits', (t) => {
  const u: UpstreamSample = { name: 'mqtt', state: 'disconnected', acked: 0, backlog: 10_000, inFlight: 0, downSinceMs: 0 };
  const s = sources({ upstreams: () => [u] });
  const live = new Liveness(s, { upstreamStallMs: 60_000 });
  for (const state of ['disconnected', 'connecting'] as const) {
    u.state = state;
    s.clock.now += 3_600_000;
    t.is(live.fault(), null, `${state} for an hour with a backlog`);
  }
  Object.assign(u, { state: 'connected', backlog: 0, inFlight: 0, downSinceMs: null });
  s.clock.now += 3_600_000;
  t.is(live.fault(), null, 'connected with nothing to send for an hour');
  u.backlog = 3;
  s.clock.now += 59_000;
  t.is(live.fault(), null, 'the stall is counted from the last time it was idle');
  s.clock.now += 2_000;
  t.regex(live.fault() ?? '', /no acknowledgement for 61 s/);
});

test('STATUS= line: spots online, backlog, upstream state, how long it is down, a store failure', (t) => {
  let u: UpstreamSample | null = null;
  let error: string | null = null;
  const s = sources({ spotsOnline: () => 1, backlog: () => 42, upstreams: () => (u ? [u] : []), storeError: () => error });
  const live = new Liveness(s);
  t.is(live.summary(), '1 spot online; backlog 42 events; no upstream');
  u = { name: 'mqtt', state: 'connected', acked: 0, backlog: 42, inFlight: 0, downSinceMs: null };
  t.is(live.summary(), '1 spot online; backlog 42 events; mqtt connected');
  u = { ...u, state: 'connecting', downSinceMs: s.clock.now - 95_000 };
  error = 'disk full';
  t.is(live.summary(), '1 spot online; backlog 42 events; mqtt connecting (down 95 s); store cannot write: disk full');
});

test('writes waiting with none completing set the age; any completion (success or failure) is progress', (t) => {
  let now = 0;
  const watch = new WriteWatch(() => now);
  const done: string[] = [];
  t.is(watch.waitingMs(), 0);
  const first = watch.track((result: string) => done.push(result));
  now = 100;
  const second = watch.track((result: string) => done.push(result));
  now = 400;
  t.is(watch.waitingMs(), 400, 'counted from when the first began waiting');
  first('failed');
  now = 700;
  t.is(watch.waitingMs(), 300, 'counted from the last completion');
  second('stored');
  now = 10_000;
  t.is(watch.waitingMs(), 0, 'nothing waits');
  t.deepEqual(done, ['failed', 'stored'], 'the callbacks are called through, with their arguments');
});

test('the upstream is followed even while the store fails: a stall is still a fault then', (t) => {
  const error: string | null = 'disk full';
  const u: UpstreamSample = { name: 'mqtt', state: 'connected', acked: 0, backlog: 100, inFlight: 8, downSinceMs: null };
  const s = sources({ upstreams: () => [u], storeError: () => error });
  const live = new Liveness(s, { upstreamStallMs: 60_000 });
  for (let i = 1; i <= 4; i++) {
    s.clock.now += 30_000;
    u.acked = i;
    t.is(live.fault(), null, 'acknowledgements go on');
  }
  s.clock.now += 61_000;
  t.is(live.fault(), 'mqtt: connected with 100 events waiting and no acknowledgement for 61 s');
});

test('two upstreams (MQTT and a spot server) are followed apart: a stall of either is the fault, the STATUS= line names both', (t) => {
  const mqtt: UpstreamSample = { name: 'mqtt', state: 'connected', acked: 0, backlog: 0, inFlight: 0, downSinceMs: null };
  const central: UpstreamSample = { name: 'spot_server', state: 'connected', acked: 5, backlog: 300, inFlight: 2, downSinceMs: null };
  const s = sources({ spotsOnline: () => 2, backlog: () => 300, upstreams: () => [mqtt, central] });
  const live = new Liveness(s, { upstreamStallMs: 60_000 });
  t.is(live.fault(), null);
  t.is(live.summary(), '2 spots online; backlog 300 events; mqtt connected; spot_server connected');
  s.clock.now += 61_000;
  t.is(live.fault(), 'spot_server: connected with 300 events waiting and no acknowledgement for 61 s', 'mqtt idle is no excuse for the spot server');
  central.acked = 6;
  Object.assign(mqtt, { backlog: 50, inFlight: 8 });
  t.is(live.fault(), null, 'the spot server moved; the MQTT stall is counted from now');
  s.clock.now += 61_000;
  t.is(live.fault(), 'mqtt: connected with 50 events waiting and no acknowledgement for 61 s');
  Object.assign(central, { state: 'disconnected', downSinceMs: s.clock.now - 10_000 });
  t.is(live.summary(), '2 spots online; backlog 300 events; mqtt connected; spot_server disconnected (down 10 s)');
});

test('the STATUS= line reads the upstreams once and takes its backlog from that reading', (t) => {
  let reads = 0;
  const mqtt: UpstreamSample = { name: 'mqtt', state: 'connected', acked: 0, backlog: 7, inFlight: 0, downSinceMs: null };
  const seen: string[][] = [];
  const s = sources({
    upstreams: () => (reads++, [mqtt]),
    backlog: (upstreams) => (seen.push(upstreams.map((u) => u.name)), 7),
  });
  const live = new Liveness(s);
  t.is(live.summary(), '0 spots online; backlog 7 events; mqtt connected');
  t.is(reads, 1);
  t.deepEqual(seen, [['mqtt']]);
});

test("a watchdog check and the STATUS= line it refreshes ask each forwarder's status once between them", (t) => {
  let asked = 0;
  const status = { state: 'connected', acked: 3, refused: 0, lagEvents: 12, inFlight: 4, downSinceMs: null };
  const forwarder = { status: () => (asked++, status) } as unknown as MqttForwarder;
  const store = { lastError: 'disk full', events: 12, perUpstream: { mqtt: { pending: 12 } } } as unknown as StoreStatus;
  const online = { onlineCount: () => 1 } as unknown as OnlineTracker;
  const live = gatewayLiveness(() => 0, () => store, new WriteWatch(() => 0), online, () => forwarder, null);
  // What the notifier does in one check that withholds the watchdog or resumes it: fault(), then the STATUS= line.
  t.is(live.fault(), null);
  t.is(live.summary(), '1 spot online; backlog 12 events; mqtt connected; store cannot write: disk full');
  t.is(asked, 1);
});
