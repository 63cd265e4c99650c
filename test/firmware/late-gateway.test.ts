// The ARM Linux spot under qemu-arm booted while its gateway is down: what it read meanwhile reaches the
// gateway, once, behind its introduction (spot create, config create).
import net, { type AddressInfo } from 'node:net';
import test from 'ava';
import { api, startTestGateway, waitFor, within } from '../helpers/gateway.js';
import { startSpot } from './spot-process.js';
import { connectTelnet } from './telnet-client.js';
import { EXPECTED, SCENARIO, presences, storedEvents, type StoredEvent } from './spot-scenarios.js';

/** A port nothing listens on (taken from the kernel, then released), so the spot's connects are refused. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The boot number a spot without flash takes from the clock: seconds since 2024-01-01 (docs/firmware.md). */
function clockBootCount(): number {
  return Math.floor(Date.now() / 1000) - Date.UTC(2024, 0, 1) / 1000;
}

for (const encoding of ['json', 'pb'] as const) {
  test.serial(`arm-linux spot started before its gateway (${encoding}): spot create, config create, then every scenario event once`, async (t) => {
    const serial = encoding === 'json' ? 5111 : 5112;
    const port = await freePort();
    const bootBefore = clockBootCount();
    const spot = startSpot(t, { target: 'arm-linux', serial, brain: `127.0.0.1:${port}`, encoding, scenario: SCENARIO, runSeconds: 10, telnetPort: 0 });
    await waitFor(() => /cannot connect to 127\.0\.0\.1:\d+: .*; retrying/.test(spot.console()), 15000, 'the spot to find the gateway down');
    const bootAfter = clockBootCount();
    // Its telnet tap streams what it reads live: the gateway starts once a presence went by on it.
    const telnetPort = Number(await waitFor(() => /telnet listening on port (\d+)/.exec(spot.console())?.[1], 10000, 'the telnet port'));
    const tap = await connectTelnet(t, telnetPort, encoding);
    await waitFor(() => tap.events.some((e) => e.resource === 'presence'), 15000, () => `a presence read with the gateway down: ${spot.console()}`);
    t.is(spot.child.exitCode, null, `the spot still runs while the gateway is down: ${spot.console()}`);

    const gateway = await startTestGateway(t, { config: { http: { port } } });
    t.is(await within(spot.exited, 40000, 'the spot to finish its run'), 0, spot.console());
    t.regex(spot.console(), /connected to 127\.0\.0\.1:\d+/);
    t.regex(spot.console(), /posts acknowledged=\d+ failed=0/);

    const events = await storedEvents(gateway, serial);
    const describe = (e: StoredEvent) =>
      e.resource === 'presence' ? `presence ${presences([e])[0]!}` : `${e.resource} ${e.action}`;
    t.deepEqual(
      events.map(describe),
      ['spot create', 'config create', ...EXPECTED.map((p) => `presence ${p}`)],
      `the introduction first, then what the spot read while the gateway was down, each event once: ${spot.console()}`,
    );
    t.is(events[0]!.data.spot_id, serial);
    const boot = Number(events[0]!.data.boot_count);
    t.true(bootBefore <= boot && boot <= bootAfter, `without flash the boot number is the clock's (${bootBefore}..${bootAfter}): ${boot}`);
    t.true(
      Date.parse(String(events[2]!.data.time_started)) < Date.parse(String(events[0]!.data.time)),
      'the first presence was read before the spot could connect',
    );
    const record = await api<{ events: number; rejected: number; duplicates: number }>(gateway.url, `/api/spots/${serial}`);
    t.deepEqual(
      { events: record.body.events, rejected: record.body.rejected, duplicates: record.body.duplicates },
      { events: events.length, rejected: 0, duplicates: 0 },
      'nothing malformed, and nothing sent twice (the gateway dropped no retransmission)',
    );
  });
}
