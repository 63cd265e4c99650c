// A spot without flash (no --state-dir) run twice against one gateway: the second run is a new boot to the
// gateway, so none of its events is taken for a retransmission of the first run's.
import test from 'ava';
import { api, startTestGateway, within } from '../helpers/gateway.js';
import { startSpot } from './spot-process.js';
import { EXPECTED, SCENARIO, presences, storedEvents, type StoredEvent } from './spot-scenarios.js';

const describe = (e: StoredEvent) => (e.resource === 'presence' ? `presence ${presences([e])[0]!}` : `${e.resource} ${e.action}`);
const ONE_RUN = ['spot create', 'config create', ...EXPECTED.map((p) => `presence ${p}`)];

for (const encoding of ['json', 'pb'] as const) {
  test.serial(`a spot without --state-dir run twice (${encoding}): every event of both runs is stored, none taken for a duplicate`, async (t) => {
    const gateway = await startTestGateway(t);
    const serial = encoding === 'json' ? 5121 : 5122;
    const brain = `127.0.0.1:${gateway.port}`;
    const consoles: string[] = [];
    for (let run = 1; run <= 2; run++) {
      const spot = startSpot(t, { target: 'host', serial, brain, encoding, scenario: SCENARIO, runSeconds: 7 });
      t.is(await within(spot.exited, 30000, `run ${run} of the spot to finish`), 0, spot.console());
      consoles.push(spot.console());
    }

    const events = await storedEvents(gateway, serial);
    t.deepEqual(events.map(describe), [...ONE_RUN, ...ONE_RUN], `both runs stored in full:\n${consoles.join('\n')}`);
    const boots = events.filter((e) => e.resource === 'spot').map((e) => Number(e.data.boot_count));
    t.true(boots[1]! > boots[0]!, `the second run has a higher boot number: ${boots.join(', ')}`);
    const record = await api<{ events: number; rejected: number; duplicates: number }>(gateway.url, `/api/spots/${serial}`);
    t.deepEqual(
      { events: record.body.events, rejected: record.body.rejected, duplicates: record.body.duplicates },
      { events: ONE_RUN.length * 2, rejected: 0, duplicates: 0 },
    );
  });
}
