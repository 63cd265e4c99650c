// spots.forget_after_s end to end: a silent spot with nothing pending leaves the registry and the
// counts; its stored events stay; a spot with a queued command is kept.
import test from 'ava';
import { api, JSON_EVENTS, postChunks, startTestGateway, waitFor } from '../helpers/gateway.js';
import { jsonText, presence } from './events.js';

test('a spot silent for spots.forget_after_s with nothing pending is forgotten; its events stay, a spot with a queued command stays', async (t) => {
  const gw = await startTestGateway(t, { config: { spots: { offline_after_s: 0.2, forget_after_s: 1 } } });
  for (const serial of [41, 42]) {
    t.is((await postChunks(gw.port, serial, [jsonText([presence(serial)])], { headers: JSON_EVENTS })).status, 200);
  }
  const queued = await api(gw.url, '/api/spots/42/commands', { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 20 } } });
  t.is(queued.status, 202);

  await waitFor(async () => ((await api(gw.url, '/api/spots/41')).status === 404 ? true : undefined), 10_000, 'spot 41 to be forgotten');
  const { body: status } = await api<{ spots: { known: number } }>(gw.url, '/api/status');
  t.is(status.spots.known, 1);
  t.is((await api(gw.url, '/api/spots/42')).status, 200, 'its command is still queued');
  const { body: events } = await api<unknown[]>(gw.url, '/api/events?spot=41');
  t.is(events.length, 1, 'no upstream: its event stays in the buffer');
  const metrics = await (await fetch(`${gw.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  t.regex(metrics, /^spot_gateway_spots_known 1$/m);
});
