// The Linux spot firmware's TLS mode (mbedTLS) against the gateway's HTTPS listener, with a CA made by the test (docs/tls.md).
// The API is read over the gateway's plain listener beside it.
import test from 'ava';
import { api, startTestGateway, waitFor, within, type TestGateway } from '../helpers/gateway.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';
import { startSpot, type LinuxTarget } from './spot-process.js';
import { EXPECTED, SCENARIO, presences, storedEvents } from './spot-scenarios.js';

async function httpsGateway(t: Parameters<typeof startTestGateway>[0], ca: TestCa): Promise<{ gateway: TestGateway; plain: { url: string } }> {
  const pair = ca.issue('gateway-fw');
  const gateway = await startTestGateway(t, { config: { http: { tls_cert_file: pair.cert, tls_key_file: pair.key, plain_port: 0 } } });
  const plainPort = gateway.running.plainPort;
  if (plainPort === null) throw new Error('no plain listener');
  return { gateway, plain: { url: `http://127.0.0.1:${plainPort}` } };
}

const runs: Array<{ target: LinuxTarget; serial: number; brain: (port: number) => string; extra: string[] }> = [
  { target: 'host', serial: 5201, brain: (port) => `localhost:${port}`, extra: [] },
  // By IP address, the name to check given apart (the spot's mbedTLS matches DNS names, not IP entries).
  { target: 'arm-linux', serial: 5202, brain: (port) => `127.0.0.1:${port}`, extra: ['--tls-name', 'localhost'] },
];

for (const run of runs) {
  test.serial(`${run.target} spot over TLS verified against the test CA: its events are stored and a command reaches it`, async (t) => {
    const ca = makeTestCa(t);
    const { gateway, plain } = await httpsGateway(t, ca);
    const spot = startSpot(t, {
      target: run.target,
      serial: run.serial,
      brain: run.brain(gateway.port),
      scenario: SCENARIO,
      runSeconds: 8,
      extraArgs: ['--ca', ca.caFile, ...run.extra],
    });
    await waitFor(async () => (await api(plain.url, `/api/spots/${run.serial}`)).status === 200, 20000, `the spot to post: ${spot.console()}`);
    const queued = await api(plain.url, `/api/spots/${run.serial}/commands`, { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 22 } } });
    t.is(queued.status, 202);
    const update = await waitFor(
      async () => (await storedEvents(plain, run.serial)).find((e) => e.resource === 'config' && e.action === 'update'),
      20000,
      'the spot to report the config update it was sent',
    );
    t.is(update.data.rfid_power_dbm, 22);
    t.is(await within(spot.exited, 40000, 'the spot to finish its run'), 0, spot.console());
    t.regex(spot.console(), new RegExp(`TLS to ${run.brain(gateway.port).replace(/\./g, '\\.')}: TLSv1\\.2 TLS-ECDHE-ECDSA-WITH-AES-\\d+-GCM-SHA\\d+`));
    t.regex(spot.console(), /posts acknowledged=\d+ failed=0/);
    t.deepEqual(presences(await storedEvents(plain, run.serial)), EXPECTED, spot.console());
    const status = await api<{ tls: { handshakeFailures: number } }>(plain.url, '/api/status');
    t.is(status.body.tls.handshakeFailures, 0);
  });
}

test.serial('a spot given another CA, or checking an IP address the certificate holds only as IP, refuses the gateway and says why', async (t) => {
  const ca = makeTestCa(t);
  const other = makeTestCa(t, 'B');
  const { gateway, plain } = await httpsGateway(t, ca);
  const wrongCa = startSpot(t, { target: 'host', serial: 5203, brain: `localhost:${gateway.port}`, scenario: SCENARIO, extraArgs: ['--ca', other.caFile] });
  const byIp = startSpot(t, { target: 'host', serial: 5204, brain: `127.0.0.1:${gateway.port}`, scenario: SCENARIO, extraArgs: ['--ca', ca.caFile] });
  const refused = await waitFor(() => /cannot connect to localhost:\d+: TLS handshake failed: (.*); retrying/.exec(wrongCa.console())?.[1], 15000, `the refusal: ${wrongCa.console()}`);
  t.regex(refused, /the gateway's certificate is refused \(.*not correctly signed by the trusted CA.*\) checked against CA file .*ca\.pem/);
  const mismatch = await waitFor(() => /cannot connect to 127\.0\.0\.1:\d+: TLS handshake failed: (.*); retrying/.exec(byIp.console())?.[1], 15000, `the name refusal: ${byIp.console()}`);
  t.regex(mismatch, /Common Name \(CN\) does not match/);
  // Said once per reason, not at every retry.
  const seen = await waitFor(
    async () => {
      const { tls } = (await api<{ tls: { handshakeFailures: number; lastHandshakeFailure: { reason: string } | null } }>(plain.url, '/api/status')).body;
      return tls.handshakeFailures >= 4 && tls;
    },
    15000,
    'retries',
  );
  // The last spot's alert, as OpenSSL names it on the gateway's side: both spots retry, so either
  // is last (an unknown CA for one, a name that does not match for the other).
  t.regex(seen.lastHandshakeFailure?.reason ?? '', /^(tlsv1 alert unknown ca|sslv3 alert bad certificate)$/);
  t.is(wrongCa.console().match(/TLS handshake failed/g)?.length, 1, wrongCa.console());
  t.is((await api(plain.url, '/api/spots/5203')).status, 404, 'nothing posted');
  t.is((await api(plain.url, '/api/spots/5204')).status, 404, 'nothing posted');
  await wrongCa.kill();
  await byIp.kill();
});

test('a CA file that cannot be read stops the spot at start', async (t) => {
  const spot = startSpot(t, { target: 'host', serial: 5205, brain: 'localhost:9', scenario: SCENARIO, extraArgs: ['--ca', '/nonexistent/ca.pem'] });
  t.is(await within(spot.exited, 10000, 'the spot to exit'), 2);
  t.regex(spot.console(), /spot 5205: CA file \/nonexistent\/ca\.pem: no certificate read: .*\(-0x[0-9a-f]{4}\)/);
});
