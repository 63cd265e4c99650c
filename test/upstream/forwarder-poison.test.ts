// MqttForwarder with a scripted client: the suspect goes out alone, strikes quarantine it through the
// source, resends take window slots and leave the quarantine on PUBACK; the stall time in status.
import test from 'ava';
import type { MqttForwarderOptions } from '../../gateway/src/upstream/index.js';
import type { PoisonSuspect, QuarantineBook, QuarantinedEvent } from '../../gateway/src/store/types.js';
import { eventIdOf, scriptedForwarder, tick, type Published } from './fake-client.js';
import { jsonEvent, MemorySource } from './fake-source.js';

/** The store's quarantine contract, in memory, on a MemorySource. */
class MemoryQuarantine implements QuarantineBook {
  readonly entries: QuarantinedEvent[] = [];
  saved: PoisonSuspect | null = null;
  constructor(private readonly source: MemorySource) {}
  add(upstream: string, spot: string, eventId: number, reason: string, strikes: number): QuarantinedEvent {
    const next = this.source.readSpot(upstream, spot, this.source.cursor(upstream, spot), 1)[0];
    if (next?.id !== eventId) throw new Error(`spot ${spot}: event ${eventId} is not the next one`);
    const entry = { id: this.entries.length + 1, upstream, eventId, spot, resource: next.resource, action: next.action, data: next.data, pb: next.pb, encoding: 'json', timeReceived: 0, reason, strikes, timeQuarantined: 0, resends: 0, lastResendAt: null };
    this.entries.push(entry);
    this.source.advanceCursor(upstream, spot, eventId);
    return entry;
  }
  list(): QuarantinedEvent[] {
    return this.entries;
  }
  get(id: number): QuarantinedEvent | null {
    return this.entries.find((e) => e.id === id) ?? null;
  }
  count(): number {
    return this.entries.length;
  }
  remove(id: number): boolean {
    const at = this.entries.findIndex((e) => e.id === id);
    if (at >= 0) this.entries.splice(at, 1);
    return at >= 0;
  }
  noteResend(id: number, reason: string, strikes: number): void {
    const e = this.get(id)!;
    Object.assign(e, { reason, strikes: e.strikes + strikes, resends: e.resends + 1 });
  }
  suspect(): PoisonSuspect | null {
    return this.saved;
  }
  saveSuspect(_upstream: string, suspect: PoisonSuspect | null): void {
    this.saved = suspect;
  }
}

class PoisonSource extends MemorySource {
  readonly quarantine: MemoryQuarantine = new MemoryQuarantine(this);
}

function setup(extra: Partial<MqttForwarderOptions> = {}) {
  const source = new PoisonSource('inst');
  const lines: string[] = [];
  const log = (_o: object, msg: string) => lines.push(msg);
  const { forwarder, clients, timers } = scriptedForwarder(source, { logger: { debug() {}, info: log, warn: log, error: log }, poisonAfterDrops: 2, ...extra });
  /** The broker acks the current client's 'online', then drops the connection; the next one connects. */
  const reconnect = async () => {
    clients.at(-1)!.ackAll((p) => p.topic.startsWith('gateways/'));
    clients.at(-1)!.emit('close');
    timers.fire();
    clients.at(-1)!.connack();
    await tick();
  };
  return { forwarder, source, clients, timers, lines, reconnect };
}

/** The log ids of published events, from their event_id. */
const ids = (events: Published[]) => events.map((p) => String(eventIdOf(p)).split(':')[1]);

test('after a loss with events in flight, the next connection sends only the oldest of them until its PUBACK, then the replay pipelines', async (t) => {
  const { forwarder, source, clients, reconnect } = setup();
  source.append(jsonEvent('7', 1), jsonEvent('8', 2), jsonEvent('7', 3));
  forwarder.start();
  clients[0]!.connack();
  t.deepEqual(ids(clients[0]!.events()), ['1', '3', '2'], 'pipelined: spot 7 first (round robin), then 8');
  await reconnect();
  t.deepEqual(ids(clients[1]!.events()), ['1'], 'the oldest in flight at the loss, alone');
  source.append(jsonEvent('9', 4));
  await tick();
  t.deepEqual(ids(clients[1]!.events()), ['1'], 'live events wait too');
  clients[1]!.ackAll((p) => p.topic.startsWith('from/'));
  await tick();
  await tick();
  t.deepEqual(ids(clients[1]!.events()), ['1', '3', '2', '4']);
  t.is(forwarder.status().poisonSuspect, null, 'acknowledged alone: not suspected any more');
});

test('losses with the suspect alone quarantine it through the source: its spot goes on with the next event, the log names spot, event and why', async (t) => {
  const { forwarder, source, clients, lines, reconnect } = setup();
  source.append(jsonEvent('7', 1), jsonEvent('7', 2), jsonEvent('8', 3));
  forwarder.start();
  clients[0]!.connack();
  await reconnect();
  t.deepEqual(forwarder.status().poisonSuspect, { spot: '7', eventId: 1, strikes: 0, withheld: false });
  await reconnect();
  t.deepEqual(forwarder.status().poisonSuspect, { spot: '7', eventId: 1, strikes: 1, withheld: false });
  t.deepEqual(source.quarantine.saved, { spot: '7', eventId: 1, strikes: 1, since: source.quarantine.saved!.since }, 'the strike is saved');
  await reconnect();
  t.is(source.quarantine.entries.length, 1);
  t.like(source.quarantine.entries[0], { spot: '7', eventId: 1, strikes: 2 });
  t.is(source.quarantine.saved, null);
  t.is(source.cursor('mqtt', '7'), 1);
  t.deepEqual(ids(clients.at(-1)!.events()), ['2', '3'], 'the next connection pipelines from after it');
  t.is(forwarder.status().quarantined, 1);
  t.truthy(lines.find((l) => /^mqtt: spot 7: event 1 quarantined: the broker dropped the connection 2 times with this event alone in flight \(last: connection closed\)/.test(l)));
});

test('a resend takes window slots, carries the original event_id, and leaves the quarantine on its PUBACK; a loss while resending keeps it with a strike', async (t) => {
  const { forwarder, source, clients, reconnect } = setup({ maxInFlight: 2 });
  source.append(jsonEvent('7', 1));
  forwarder.start();
  t.like(forwarder.resend(1), { ok: false, status: 404 });
  clients[0]!.connack();
  await reconnect();
  await reconnect();
  await reconnect();
  t.is(source.quarantine.entries.length, 1);
  const client = clients.at(-1)!;
  // The window holds 2 messages: 'online' (not acked here) takes one, the resend the other.
  t.like(forwarder.resend(1), { ok: true });
  t.deepEqual(client.events().map((p) => [p.topic, eventIdOf(p)]), [['from/7/json/presence/create', 'inst:1']]);
  t.like(forwarder.resend(1), { ok: false, status: 409 });
  t.is(forwarder.status().inFlight, 2, 'the resend uses a window slot');
  await reconnect();
  t.like(source.quarantine.entries[0], { strikes: 3, resends: 1 });
  t.regex(source.quarantine.entries[0]!.reason, /^the connection was lost while it was being resent/);
  t.like(forwarder.resend(1), { ok: true });
  clients.at(-1)!.ackAll((p) => p.topic.startsWith('from/'));
  t.is(source.quarantine.entries.length, 0);
  t.is(forwarder.status().quarantined, 0);
});

test('a broker Receive Maximum of 1: a suspect with a PB form is probed JSON first, then PB; its resend is refused with the reason', async (t) => {
  const { forwarder, source, clients, timers } = setup();
  source.append({ spot: '7', resource: 'presence', action: 'update', data: '{}', pb: new Uint8Array([9]), timeReceived: 0 });
  forwarder.start();
  const pending = () => clients.at(-1)!.pending().map((p) => p.topic);
  /** A new connection whose broker takes one message at a time; it acknowledges 'online'. */
  const connect = async () => {
    clients.at(-1)!.connack({ receiveMaximum: 1 });
    clients.at(-1)!.ackAll((p) => p.topic.startsWith('gateways/'));
    await tick();
  };
  const drop = async () => {
    clients.at(-1)!.emit('close');
    timers.fire();
    await connect();
  };
  await connect();
  t.deepEqual(pending(), ['from/7/json/presence/update']);
  await drop();
  t.deepEqual(pending(), ['from/7/json/presence/update'], 'the probe: its JSON alone');
  clients.at(-1)!.ackAll();
  await tick();
  t.deepEqual(pending(), ['from/7/pb'], 'then its PB');
  await drop();
  clients.at(-1)!.ackAll();
  await tick();
  await drop();
  t.is(source.quarantine.entries.length, 1, 'two losses with it alone: quarantined');
  t.like(forwarder.resend(1), { ok: false, status: 503, reason: "the broker's Receive Maximum of 1 cannot take the event's JSON and PB messages at once; event 1 of spot 7 stays quarantined, try again on a broker that takes two" });
});

test('status: noAckSinceMs is the later of the CONNACK and the last ack while connected with a backlog, null otherwise', async (t) => {
  let now = 1_000_000;
  const { forwarder, source, clients } = setup({ now: () => now });
  forwarder.start();
  t.is(forwarder.status().noAckSinceMs, null, 'not connected yet');
  now += 5000;
  clients[0]!.connack();
  t.is(forwarder.status().noAckSinceMs, null, 'no backlog');
  source.append(jsonEvent('7', 1), jsonEvent('7', 2));
  await tick();
  now += 1000;
  t.is(forwarder.status().noAckSinceMs, now, 'the backlog is seen now');
  now += 60_000;
  t.is(now - forwarder.status().noAckSinceMs!, 60_000);
  clients[0]!.ackAll((p) => p.topic === 'from/7/json/presence/create' && eventIdOf(p) === 'inst:1');
  const ackedAt = now;
  now += 1000;
  t.is(forwarder.status().noAckSinceMs, ackedAt);
  clients[0]!.ackAll();
  await tick();
  t.is(forwarder.status().noAckSinceMs, null, 'caught up');
});

test('a connection the forwarder drops itself (a PUBACK with a reason code a retry may fix) names no suspect: only the broker dropping it does', async (t) => {
  const { forwarder, source, clients, timers } = setup();
  source.append(jsonEvent('7', 1), jsonEvent('7', 2));
  forwarder.start();
  clients[0]!.connack();
  const busy = Object.assign(new Error('Publish error: reason code 0x97'), { code: 0x97 });
  clients[0]!.ackAll((p) => eventIdOf(p) === 'inst:1', busy);
  t.is(forwarder.status().state, 'disconnected');
  t.is(forwarder.status().poisonSuspect, null);
  timers.fire();
  clients[1]!.connack();
  t.deepEqual(ids(clients[1]!.events()), ['1', '2'], 'the replay pipelines at once');
});

test('a loss with the suspect alone but the gateway\'s own "online" not acknowledged yet is no strike', async (t) => {
  const { forwarder, source, clients, timers } = setup();
  source.append(jsonEvent('7', 1));
  forwarder.start();
  for (let i = 0; i < 5; i++) {
    clients.at(-1)!.connack();
    clients.at(-1)!.emit('close');
    timers.fire();
  }
  t.deepEqual(forwarder.status().poisonSuspect, { spot: '7', eventId: 1, strikes: 0, withheld: false });
  t.is(source.quarantine.entries.length, 0);
});

test('spot states wait while the suspect is out alone, so a loss then still counts as a strike; they go out after its PUBACK', async (t) => {
  const { forwarder, source, clients, reconnect } = setup();
  source.append(jsonEvent('7', 1));
  forwarder.start();
  clients[0]!.connack();
  await reconnect();
  t.deepEqual(ids(clients[1]!.events()), ['1'], 'the suspect, alone');
  forwarder.publishSpotState('42', 'connected');
  await tick();
  t.deepEqual(clients[1]!.published.filter((p) => p.topic.startsWith('spots/')), [], 'not beside the probe');
  await reconnect();
  t.deepEqual(forwarder.status().poisonSuspect, { spot: '7', eventId: 1, strikes: 1, withheld: false }, 'nothing but the probe was in flight: a strike');
  const client = clients.at(-1)!;
  client.ackAll((p) => p.topic.startsWith('gateways/'));
  forwarder.publishSpotState('42', 'disconnected');
  await tick();
  t.deepEqual(client.published.map((p) => p.topic), ['gateways/gw1/state', 'from/7/json/presence/create']);
  client.ackAll();
  await tick();
  t.deepEqual(client.published.map((p) => p.topic), ['gateways/gw1/state', 'from/7/json/presence/create', 'spots/42/disconnected']);
  t.is(forwarder.status().poisonSuspect, null);
});
