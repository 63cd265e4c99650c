// Commands: REST -> durable queue -> body of the spot's next response, exactly once.
import test from 'ava';
import { createPbDecoder } from '../../gateway/src/protocol/index.js';
import { api, JSON_EVENTS, PB_EVENTS, postChunks, SpotConnection, startTestGateway, waitFor } from '../helpers/gateway.js';
import { jsonText, pbStream, presence } from './events.js';

interface ApiCommand {
  id: number;
  state: string;
  source: string;
  data: Record<string, unknown>;
  timeDelivered: number | null;
}

test('a command queued by REST arrives in the next response exactly once and is marked delivered', async (t) => {
  const gw = await startTestGateway(t);
  const queued = await api<{ id: number; state: string }>(gw.url, '/api/spots/4711/commands', {
    body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 20, send_hits: true } },
  });
  t.is(queued.status, 202);
  t.is(queued.body.state, 'queued');
  const second = await api<{ id: number }>(gw.url, '/api/spots/4711/commands', {
    body: { resource: 'firmware', action: 'update', data: { url: '/firmware/beta/beta22.bin', version: 'beta22' } },
  });
  t.is(second.status, 202);

  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  const first = await conn.post(4711, jsonText([presence(1)]), { headers: JSON_EVENTS });
  t.is(first.status, 200);
  t.is(first.headers['content-type'], 'text/x-intellifi-events');
  t.is(
    first.body.toString(),
    '["config","update",{"rfid_power_dbm":20,"send_hits":true}]\n\n["firmware","update",{"url":"/firmware/beta/beta22.bin","version":"beta22"}]\n\n',
  );
  const list = await waitFor(async () => {
    const { body } = await api<ApiCommand[]>(gw.url, '/api/spots/4711/commands');
    return body.every((c) => c.state === 'delivered') ? body : undefined;
  }, 5000, 'both commands to be marked delivered');
  t.is(list.length, 2);
  t.true(list.every((c) => c.source === 'api' && typeof c.timeDelivered === 'number'));

  // Next post on the same keep-alive connection: nothing again.
  const next = await conn.post(4711, jsonText([presence(2)]), { headers: JSON_EVENTS });
  t.is(next.status, 200);
  t.is(next.body.length, 0);
});

test('commands for a PB spot go out as a PB stream', async (t) => {
  const gw = await startTestGateway(t);
  t.is((await api(gw.url, '/api/spots/9/commands', { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 12 } } })).status, 202);
  const res = await postChunks(gw.port, 9, [pbStream([presence(1)])], { headers: PB_EVENTS });
  t.is(res.status, 200);
  t.is(res.headers['content-type'], 'application/x-intellifi-events-pb');
  const items = [...createPbDecoder().push(res.body), ...createPbDecoder().end()];
  t.is(items.length, 1);
  const item = items[0]!;
  t.is(item.kind, 'event');
  if (item.kind === 'event') t.deepEqual([item.event.resource, item.event.action, item.event.data.rfid_power_dbm], ['config', 'update', 12]);
});

test('commands go only to their own spot', async (t) => {
  const gw = await startTestGateway(t);
  t.is((await api(gw.url, '/api/spots/1/commands', { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 5 } } })).status, 202);
  const other = await postChunks(gw.port, 2, [jsonText([presence(1)])], { headers: JSON_EVENTS });
  t.is(other.body.length, 0);
  const { body } = await api<ApiCommand[]>(gw.url, '/api/spots/1/commands');
  t.is(body[0]!.state, 'queued');
});

test('invalid commands are refused with the key and the reason', async (t) => {
  const gw = await startTestGateway(t);
  const cases: Array<[unknown, RegExp]> = [
    [{ resource: 'config', action: 'update', data: { rfid_power_dbm: 'high' } }, /rfid_power_dbm/],
    [{ resource: 'config', action: 'update', data: { no_such_key: 1 } }, /no_such_key/],
    [{ resource: 'config', action: 'update', data: { hostname: 'spot\u0000' } }, /^config update: data\.hostname: holds U\+0000 \(NUL\) at character 4; a spot's hostname is visible ASCII/],
    [{ resource: 'firmware', action: 'update', data: { url: '/f.bin', version: '2.3\n' } }, /^firmware update: data\.version: holds U\+000A \(line feed\)/],
    [{ resource: 'config', action: 'update' }, /data/],
    [{ resource: 'config', action: 'update', data: {}, extra: 1 }, /extra/],
    [{ resource: 'teleport', action: 'now', data: {} }, /teleport/],
    [[1, 2], /object/],
  ];
  for (const [body, reason] of cases) {
    const res = await api<{ error: string; reason: string }>(gw.url, '/api/spots/3/commands', { body });
    t.is(res.status, 400, JSON.stringify(body));
    t.regex(res.body.reason, reason, JSON.stringify(body));
  }
  const bad = await api<{ reason: string }>(gw.url, '/api/spots/x1/commands', { body: { resource: 'config', action: 'update', data: {} } });
  t.is(bad.status, 400);
  t.regex(bad.body.reason, /serial/);
  const { body: list } = await api<ApiCommand[]>(gw.url, '/api/spots/3/commands');
  t.is(list.length, 0);
});

test('a command past its TTL is not delivered and shows as expired', async (t) => {
  const gw = await startTestGateway(t, { config: { commands: { ttl_s: 0.4 } } });
  t.is((await api(gw.url, '/api/spots/12/commands', { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 9 } } })).status, 202);
  const list = await waitFor(async () => {
    const { body } = await api<ApiCommand[]>(gw.url, '/api/spots/12/commands');
    return body[0]?.state === 'expired' ? body : undefined;
  }, 5000, 'the command to be marked expired');
  t.is(list.length, 1);
  const res = await postChunks(gw.port, 12, [jsonText([presence(1)])], { headers: JSON_EVENTS });
  t.is(res.status, 200);
  t.is(res.body.length, 0, 'nothing delivered');
  const { body: after } = await api<ApiCommand[]>(gw.url, '/api/spots/12/commands');
  t.deepEqual(after.map((c) => c.state), ['expired']);
});
