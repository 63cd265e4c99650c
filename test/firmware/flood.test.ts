// The native spot build as the benchmark's load generator: several spots flooding the real gateway.
import test from 'ava';
import { api, startTestGateway, within } from '../helpers/gateway.js';
import { startSpot } from './spot-process.js';

interface Status {
  buffer: { events: number; duplicates: number; rejected: number };
  ingest: { eventsStored: number; duplicates: number; rejected: number };
  spots: { known: number };
}

test('--flood --spots 3: every spot posts hits as fast as the gateway stores them, none rejected or duplicated', async (t) => {
  const gateway = await startTestGateway(t);
  const flood = startSpot(t, { target: 'host', serial: 8001, brain: `127.0.0.1:${gateway.port}`, runSeconds: 3, extraArgs: ['--flood', '--spots', '3'] });
  t.is(await within(flood.exited, 30000, 'the flood to end'), 0, flood.console());
  t.is(flood.console().match(/run ended: posts acknowledged=\d+ failed=0/g)?.length, 3, flood.console());
  t.notRegex(flood.console(), /retransmit ring full/);
  const { body: status } = await api<Status>(gateway.url, '/api/status');
  t.is(status.spots.known, 3);
  t.true(status.ingest.eventsStored > 3 * 1000, `stored ${status.ingest.eventsStored} events`);
  t.is(status.ingest.rejected, 0);
  t.is(status.ingest.duplicates, 0);
  const { body: hits } = await api<Array<{ resource: string; data: { item_code?: string; signal_strength?: number } }>>(
    gateway.url,
    '/api/events?spot=8002&limit=50',
  );
  t.true(hits.some((e) => e.resource === 'hit' && typeof e.data.signal_strength === 'number'), 'hits with a signal strength');
});
