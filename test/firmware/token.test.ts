// The spot firmware's --token against a gateway with auth.spots token: the host build and the ARM build under qemu-arm.
import test from 'ava';
import { startTestGateway, tempDir, within } from '../helpers/gateway.js';
import { request, seedAuth } from '../auth/http.js';
import { startSpot } from './spot-process.js';
import { EXPECTED, SCENARIO, presences, storedEvents } from './spot-scenarios.js';

for (const target of ['host', 'arm-linux'] as const) {
  test.serial(`${target} spot with --token posts a scenario to a gateway with auth.spots token; without it, every post gets 401`, async (t) => {
    const dataDir = tempDir(t);
    const serial = target === 'host' ? 5301 : 5302;
    const seeded = await seedAuth(dataDir, { spotTokens: [String(serial)] });
    const gateway = await startTestGateway(t, { dataDir, config: { auth: { spots: 'token' } } });
    const brain = `127.0.0.1:${gateway.port}`;

    const spot = startSpot(t, { target, serial, brain, scenario: SCENARIO, runSeconds: 7, extraArgs: ['--token', seeded.perSpot.get(String(serial))!.token] });
    t.is(await within(spot.exited, 30000, 'the spot to finish its run'), 0, spot.console());
    t.regex(spot.console(), /posts acknowledged=\d+ failed=0/);
    const events = await storedEvents(gateway, serial);
    t.deepEqual(presences(events), EXPECTED, spot.console());

    // The same spot without its token: refused, nothing stored, counted for it.
    const other = serial + 10;
    const bare = startSpot(t, { target, serial: other, brain, scenario: SCENARIO, runSeconds: 3 });
    await within(bare.exited, 30000, 'the spot without a token to finish');
    t.regex(bare.console(), /401/);
    t.deepEqual(await storedEvents(gateway, other), []);
    const metrics = (await request<string>(`${gateway.url}/metrics`)).body;
    t.regex(metrics, new RegExp(`spot_gateway_spot_auth_failures_total\\{spot="${other}"\\} [1-9]`));
  });
}

test.serial('the spot refuses a token that would break its header line', async (t) => {
  const spot = startSpot(t, { target: 'host', serial: 5399, extraArgs: ['--token', 'abc def'] });
  t.is(await within(spot.exited, 10000, 'the spot to refuse'), 2);
  t.regex(spot.console(), /--token \(or SPOT_TOKEN\): character 4 is not visible ASCII/);
});
