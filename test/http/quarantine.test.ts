// Poison events and stalled upstreams, end to end: a real gateway (SQLite store, HTTP) forwarding to a
// broker stand-in on a real socket that drops the connection on a chosen event, flaps, or never acks.
import test from 'ava';
import { createLogger } from '../../gateway/src/log.js';
import { startBrokerStandIn, type StandInMessage } from '../helpers/broker-stand-in.js';
import { api, JSON_EVENTS, PB_EVENTS, postChunks, startTestGateway, tempDir, waitFor } from '../helpers/gateway.js';
import { jsonText, pbStream, presence } from './events.js';

type Health = { status: string; reason: string | null };
type Quarantined = { id: number; eventId: number; stableEventId: string; spot: string; data: { item_code: string }; strikes: number; reason: string };
type UpstreamStatus = { state: string; quarantined: number; lag: number; noAckSinceMs: number | null };

const code = (i: number) => String(presence(i).data.item_code);
/** An item code no other event of these tests holds. */
const POISON = 0xdead;

/** Item codes per spot, each event once (a redelivery carries the same event_id), in arrival order. */
function deliveredBySpot(messages: readonly StandInMessage[]): Map<string, string[]> {
  const seen = new Set<string>();
  const out = new Map<string, string[]>();
  for (const m of messages) {
    const spot = /from\/(\d+)\/json\//.exec(m.topic)?.[1];
    if (!spot || seen.has(m.eventId ?? '')) continue;
    seen.add(m.eventId ?? '');
    out.set(spot, [...(out.get(spot) ?? []), JSON.parse(m.payload.toString()).item_code as string]);
  }
  return out;
}

/** A gateway logger whose lines (warn and up) the test reads. */
function logLines(): { logger: ReturnType<typeof createLogger>; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) } });
  return { logger, lines };
}

async function status(url: string): Promise<UpstreamStatus> {
  return (await api<{ upstreams: { mqtt: UpstreamStatus } }>(url, '/api/status')).body.upstreams.mqtt;
}

test('an event the broker drops the connection on is quarantined, the rest of every spot goes through, and it can be resent once the broker takes it', async (t) => {
  const broker = await startBrokerStandIn(t);
  broker.dropWhen((m) => m.payload.toString().includes(code(POISON)));
  const log = logLines();
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url, poison_after_drops: 3 } }, logger: log.logger });
  const plan = new Map<string, number[]>([
    ['41', [...Array.from({ length: 10 }, (_, i) => i), POISON, ...Array.from({ length: 10 }, (_, i) => 10 + i)]],
    ['42', Array.from({ length: 20 }, (_, i) => 100 + i)],
    ['43', Array.from({ length: 20 }, (_, i) => 200 + i)],
  ]);
  for (const [spot, items] of plan) {
    t.is((await postChunks(gw.port, spot, [jsonText(items.map(presence))], { headers: JSON_EVENTS })).status, 200);
  }

  // Every event but the poison arrives, each spot in order, the poison's spot included.
  const expected = new Map([...plan].map(([spot, items]) => [spot, items.filter((i) => i !== POISON).map(code)]));
  const complete = () => [...expected].every(([spot, codes]) => (deliveredBySpot(broker.delivered).get(spot) ?? []).length >= codes.length);
  await waitFor(complete, 20_000, 'every event but the poison delivered');
  t.deepEqual(deliveredBySpot(broker.delivered), expected);
  t.true(broker.drops() >= 4, `the broker dropped ${broker.drops()} connections: the loss that named it, then 3 strikes`);

  // Kept, listed with the reason, counted everywhere.
  const { body: listed } = await api<Quarantined[]>(gw.url, '/api/quarantine');
  t.is(listed.length, 1);
  const [entry] = listed;
  t.is(entry!.spot, '41');
  t.is(entry!.data.item_code, code(POISON));
  t.is(entry!.strikes, 3);
  t.regex(entry!.reason, /^the broker dropped the connection 3 times with this event alone in flight \(last: connection closed\)$/);
  t.is(entry!.stableEventId, `${gw.running.store.instanceId}:${entry!.eventId}`);
  // Logged once, at error level, naming the spot, the event and why.
  const said = log.lines.filter((l) => / quarantined: /.test(l.msg));
  t.is(said.length, 1, JSON.stringify(said));
  t.is(said[0]!.level, 50);
  t.regex(said[0]!.msg, new RegExp(`^mqtt: spot 41: event ${entry!.eventId} quarantined: the broker dropped the connection 3 times with this event alone in flight \\(last: connection closed\\)`));
  t.is((await status(gw.url)).quarantined, 1);
  const health = (await api<Health>(gw.url, '/healthz')).body;
  t.is(health.status, 'degraded');
  t.regex(health.reason!, /upstream mqtt: 1 event\(s\) quarantined .*GET \/api\/quarantine/);
  t.regex((await api<string>(gw.url, '/metrics')).body, /^spot_gateway_upstream_quarantined_events\{upstream="mqtt"\} 1$/m);
  t.is(broker.delivered.filter((m) => m.payload.toString().includes(code(POISON))).length, 0);

  // The cause is fixed: the resend delivers it with its own event_id, and the quarantine empties.
  broker.dropWhen(null);
  const resent = await api<{ state: string }>(gw.url, `/api/quarantine/${entry!.id}/resend`, { method: 'POST' });
  t.deepEqual([resent.status, resent.body.state], [202, 'resending']);
  await waitFor(async () => (await api<Quarantined[]>(gw.url, '/api/quarantine')).body.length === 0, 10_000, 'the quarantine to empty');
  t.deepEqual(
    broker.delivered.filter((m) => m.payload.toString().includes(code(POISON))).map((m) => m.eventId),
    [entry!.stableEventId],
  );
  t.like((await api<Health>(gw.url, '/healthz')).body, { status: 'ok', reason: null });
  t.regex((await api<string>(gw.url, '/metrics')).body, /^spot_gateway_upstream_quarantined_events\{upstream="mqtt"\} 0$/m);
  t.is((await status(gw.url)).lag, 0);
});

test('connections dropped at a different event each time (a flapping network) quarantine nothing and lose nothing', async (t) => {
  const broker = await startBrokerStandIn(t);
  broker.dropAtNth(5, 5);
  const log = logLines();
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url, poison_after_drops: 2 } }, logger: log.logger });
  const plan = new Map<string, number[]>([
    ['51', Array.from({ length: 15 }, (_, i) => i)],
    ['52', Array.from({ length: 15 }, (_, i) => 100 + i)],
  ]);
  for (const [spot, items] of plan) {
    t.is((await postChunks(gw.port, spot, [jsonText(items.map(presence))], { headers: JSON_EVENTS })).status, 200);
  }
  const expected = new Map([...plan].map(([spot, items]) => [spot, items.map(code)]));
  await waitFor(async () => (await status(gw.url)).lag === 0, 20_000, 'everything acknowledged');
  t.deepEqual(deliveredBySpot(broker.delivered), expected);
  t.is(broker.drops(), 5);
  t.deepEqual((await api<Quarantined[]>(gw.url, '/api/quarantine')).body, []);
  t.is((await status(gw.url)).quarantined, 0);
  t.like((await api<Health>(gw.url, '/healthz')).body, { status: 'ok', reason: null });
  t.deepEqual(log.lines.filter((l) => /strike|quarantin|alone in flight/.test(l.msg)), [], 'no strike was ever counted');
});

test('/healthz: degraded while the upstream is connected with a backlog and acknowledges nothing for mqtt.stalled_after_s, naming it, the lag and how long; ok once it acknowledges again', async (t) => {
  const broker = await startBrokerStandIn(t);
  broker.neverAck(true);
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url, stalled_after_s: 1 } } });
  await waitFor(async () => (await status(gw.url)).state === 'connected', 10_000, 'the forwarder to connect');
  t.like((await api<Health>(gw.url, '/healthz')).body, { status: 'ok', reason: null }, 'connected and idle is not stalled');
  t.is((await postChunks(gw.port, 61, [jsonText([presence(1), presence(2), presence(3)])], { headers: JSON_EVENTS })).status, 200);

  const degraded = await waitFor(
    async () => {
      const h = (await api<Health>(gw.url, '/healthz')).body;
      return h.status === 'degraded' ? h : undefined;
    },
    10_000,
    'healthz degraded',
  );
  t.regex(degraded.reason!, /^upstream mqtt has acknowledged nothing for \d+ s while 3 events wait \(connected\)$/);
  const stalled = await status(gw.url);
  t.is(stalled.state, 'connected', 'it is the stall that is reported, not a lost connection');
  t.is(typeof stalled.noAckSinceMs, 'number');

  // The broker acknowledges again (after a reconnect the events go out again): ok.
  broker.neverAck(false);
  broker.kick();
  await waitFor(async () => (await status(gw.url)).lag === 0, 10_000, 'the events acknowledged after the reconnect');
  t.like((await api<Health>(gw.url, '/healthz')).body, { status: 'ok', reason: null });
  t.deepEqual(deliveredBySpot(broker.delivered).get('61'), [1, 2, 3].map(code));
});

test('strikes survive a gateway restart: a poison event cannot wedge a site across restarts', async (t) => {
  const broker = await startBrokerStandIn(t);
  let poisonDrops = 0;
  broker.dropWhen((m) => {
    if (!m.payload.toString().includes(code(POISON))) return false;
    // The loss that names it, then 2 strikes; then the broker takes no connection until the restart.
    if (++poisonDrops === 3) broker.refuseConnects(true);
    return true;
  });
  const dataDir = tempDir(t);
  const config = { mqtt: { url: broker.url, poison_after_drops: 3 } };
  const first = await startTestGateway(t, { config, dataDir });
  t.is((await postChunks(first.port, 71, [jsonText([presence(1), presence(POISON), presence(2)])], { headers: JSON_EVENTS })).status, 200);
  await waitFor(() => broker.refused() > 0, 20_000, 'two strikes, then connections refused');
  t.deepEqual((await api<Quarantined[]>(first.url, '/api/quarantine')).body, [], 'two strikes: not quarantined yet');
  await first.stop();

  broker.refuseConnects(false);
  const log = logLines();
  const second = await startTestGateway(t, { config, dataDir, logger: log.logger });
  const [entry] = await waitFor(async () => {
    const { body } = await api<Quarantined[]>(second.url, '/api/quarantine');
    return body.length > 0 ? body : undefined;
  }, 20_000, 'the quarantine after the restart');
  t.is(poisonDrops, 4, 'one more drop after the restart was the third strike');
  t.is(entry!.strikes, 3);
  t.deepEqual(log.lines.filter((l) => /with this event alone in flight/.test(l.msg)).map((l) => / quarantined: /.test(l.msg)), [true]);
  await waitFor(async () => (await status(second.url)).lag === 0, 10_000, 'the rest delivered');
  t.deepEqual(deliveredBySpot(broker.delivered).get('71'), [1, 2].map(code));

  // Discarded by hand: gone, and the gateway is healthy again.
  const deleted = await api<{ deleted: boolean }>(second.url, `/api/quarantine/${entry!.id}`, { method: 'DELETE' });
  t.deepEqual([deleted.status, deleted.body.deleted], [200, true]);
  t.deepEqual((await api<Quarantined[]>(second.url, '/api/quarantine')).body, []);
  t.like((await api<Health>(second.url, '/healthz')).body, { status: 'ok', reason: null });
  t.is((await api(second.url, `/api/quarantine/${entry!.id}`, { method: 'DELETE' })).status, 404);
});

test('a PB poison event, on a broker that refuses the command subscription with a SUBACK code: quarantined with its PB form; a resend without a connection is refused with 503, later both forms go out with the original event_id', async (t) => {
  const broker = await startBrokerStandIn(t);
  broker.denySubscribes(true);
  broker.dropWhen((m) => m.topic.includes('/json/') && m.payload.toString().includes(code(POISON)));
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url, poison_after_drops: 2 } } });
  t.is((await postChunks(gw.port, 81, [pbStream([presence(1), presence(POISON), presence(2)])], { headers: PB_EVENTS })).status, 200);
  const [entry] = await waitFor(async () => {
    const { body } = await api<Array<Quarantined & { pbBase64: string | null }>>(gw.url, '/api/quarantine?upstream=mqtt');
    return body.length > 0 ? body : undefined;
  }, 20_000, 'the PB poison quarantined');
  t.truthy(entry!.pbBase64);
  await waitFor(async () => (await status(gw.url)).lag === 0, 10_000, 'the rest delivered');

  broker.dropWhen(null);
  broker.refuseConnects(true);
  broker.kick();
  await waitFor(async () => (await status(gw.url)).state !== 'connected', 10_000, 'the connection gone');
  const refused = await api<{ reason: string }>(gw.url, `/api/quarantine/${entry!.id}/resend`, { method: 'POST' });
  t.is(refused.status, 503);
  t.truthy(refused.headers.get('retry-after'));
  t.regex(refused.body.reason, /^upstream mqtt has no connection now; event \d+ of spot 81 stays quarantined/);
  t.is((await api(gw.url, '/api/quarantine/999/resend', { method: 'POST' })).status, 404);
  t.is((await api(gw.url, '/api/quarantine/x/resend', { method: 'POST' })).status, 400);

  broker.refuseConnects(false);
  await waitFor(async () => (await status(gw.url)).state === 'connected', 20_000, 'connected again');
  t.is((await api(gw.url, `/api/quarantine/${entry!.id}/resend`, { method: 'POST' })).status, 202);
  await waitFor(async () => (await api<Quarantined[]>(gw.url, '/api/quarantine')).body.length === 0, 10_000, 'the quarantine to empty');
  const resent = broker.delivered.filter((m) => m.eventId === entry!.stableEventId);
  t.deepEqual(resent.map((m) => m.topic).sort(), ['from/81/json/presence/update', 'from/81/pb']);
});

test('a broker that drops the connection on every event gets one event quarantined, not all of them; /healthz says so; the rest goes out once it takes events again', async (t) => {
  const broker = await startBrokerStandIn(t);
  broker.dropWhen(() => true);
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url, poison_after_drops: 2 } } });
  t.is((await postChunks(gw.port, 91, [jsonText([1, 2, 3, 4].map(presence))], { headers: JSON_EVENTS })).status, 200);
  type Suspect = { spot: string; eventId: number; strikes: number; withheld: boolean };
  const withheld = await waitFor(
    async () => {
      const s = (await api<{ upstreams: { mqtt: { poisonSuspect: Suspect | null } } }>(gw.url, '/api/status')).body.upstreams.mqtt.poisonSuspect;
      return s?.withheld ? s : undefined;
    },
    20_000,
    'the second event withheld',
  );
  t.is(withheld.spot, '91');
  const health = (await api<Health>(gw.url, '/healthz')).body;
  t.regex(health.reason!, new RegExp(`upstream mqtt: the broker dropped the connection 2 times with event ${withheld.eventId} of spot 91 alone in flight and has taken no event since the last quarantine`));
  const drops = broker.drops();
  await waitFor(() => broker.drops() >= drops + 2, 10_000, 'more drops');
  t.is((await api<Quarantined[]>(gw.url, '/api/quarantine')).body.length, 1, 'still only the first one');

  broker.dropWhen(null);
  await waitFor(async () => (await status(gw.url)).lag === 0, 10_000, 'the rest delivered');
  t.deepEqual(deliveredBySpot(broker.delivered).get('91'), [2, 3, 4].map(code));
  t.is((await status(gw.url)).quarantined, 1);
});

test('/healthz: a broker that drops every connection before taking anything (here: at the subscription) is a stall, not a poison: degraded, nothing quarantined', async (t) => {
  const broker = await startBrokerStandIn(t);
  broker.refuseSubscribes(true);
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url, stalled_after_s: 1, poison_after_drops: 2 } } });
  t.is((await postChunks(gw.port, 95, [jsonText([presence(1), presence(2)])], { headers: JSON_EVENTS })).status, 200);
  const degraded = await waitFor(
    async () => {
      const h = (await api<Health>(gw.url, '/healthz')).body;
      return h.status === 'degraded' && broker.drops() >= 4 ? h : undefined;
    },
    20_000,
    'healthz degraded after several drops',
  );
  t.regex(degraded.reason!, /^upstream mqtt has acknowledged nothing for \d+ s while 2 events wait \(reconnected \d+ times meanwhile\)$/);
  t.deepEqual((await api<Quarantined[]>(gw.url, '/api/quarantine')).body, [], 'the events are not to blame');
  broker.refuseSubscribes(false);
  await waitFor(async () => (await status(gw.url)).lag === 0, 10_000, 'delivered once the broker takes the subscription');
  t.like((await api<Health>(gw.url, '/healthz')).body, { status: 'ok', reason: null });
});
