// MQTT over TLS (mqtts://) against a real Mosquitto with a TLS listener, with a CA and certificates
// made by the openssl command line for each test: delivery, client certificates, a wrong CA and a
// certificate for another name, each refusal with its reason in the status and the log.
import { readFileSync } from 'node:fs';
import test from 'ava';
import mqtt from 'mqtt';
import { createLogger } from '../../gateway/src/log.js';
import { MqttForwarder, type TlsFiles } from '../../gateway/src/upstream/index.js';
import { api, startTestGateway, waitFor } from '../helpers/gateway.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';
import { jsonEvent, MemorySource } from './fake-source.js';

/** A TLS subscriber (mqtt.js, trusting the test CA, with the client certificate when asked) collecting event ids. */
async function tlsConsumer(t: { teardown(fn: () => unknown): void }, broker: Mosquitto, certs: TestCerts, withCert: boolean): Promise<string[]> {
  const client = await mqtt.connectAsync(broker.url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ca: readFileSync(certs.caCert),
    ...(withCert ? { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } : {}),
  });
  t.teardown(() => client.endAsync(true));
  const ids: string[] = [];
  client.on('message', (_topic, _payload, packet) => {
    const id = packet.properties?.userProperties?.event_id;
    ids.push(Array.isArray(id) ? id[0]! : (id ?? ''));
  });
  await client.subscribeAsync('from/#', { qos: 1 });
  return ids;
}

function forwarder(t: { teardown(fn: () => unknown): void }, url: string, tls: TlsFiles, source: MemorySource, warnings: string[] = []): MqttForwarder {
  const f = new MqttForwarder({
    url,
    gatewayId: 'gw-tls',
    source,
    tls,
    backoff: { minMs: 100, maxMs: 400 },
    logger: { debug() {}, info() {}, warn: (_o, msg) => warnings.push(msg), error: (_o, msg) => warnings.push(msg) },
  });
  f.start();
  t.teardown(() => f.stop());
  return f;
}

test('mqtts: events reach the broker over TLS, its certificate checked against mqtt.tls_ca_file', async (t) => {
  const certs = makeCerts(t);
  const broker = await startMosquitto({ t, tls: { caFile: certs.caCert, certFile: certs.serverCert, keyFile: certs.serverKey } });
  const received = await tlsConsumer(t, broker, certs, false);
  const source = new MemorySource('inst-tls');
  for (let i = 0; i < 50; i++) source.append(jsonEvent('301', i));
  const f = forwarder(t, broker.url, { caFile: certs.caCert }, source);
  await waitFor(() => received.length >= 50, 15_000, '50 events at the TLS subscriber');
  t.deepEqual(received, source.events.map((e) => `inst-tls:${e.id}`));
  t.is(f.status().state, 'connected');
  t.is(f.status().lastError, null);
});

test('mqtts with require_certificate: refused without a client certificate, delivered with mqtt.tls_cert_file and mqtt.tls_key_file', async (t) => {
  const certs = makeCerts(t);
  const broker = await startMosquitto({ t, tls: { caFile: certs.caCert, certFile: certs.serverCert, keyFile: certs.serverKey, requireCertificate: true } });
  const received = await tlsConsumer(t, broker, certs, true);

  const without = new MemorySource('inst-nocert');
  without.append(jsonEvent('302', 1));
  const warnings: string[] = [];
  const refused = forwarder(t, broker.url, { caFile: certs.caCert }, without, warnings);
  const reason = await waitFor(() => warnings.find((w) => w.includes('cannot connect')), 15_000, 'a refused connection logged');
  t.not(refused.status().state, 'connected');
  t.regex(reason, /cannot connect to mqtts:\/\/127\.0\.0\.1:\d+: .*TLS with 127\.0\.0\.1:\d+ failed: [^:]*alert certificate required; the broker refused the handshake \(a client certificate: mqtt\.tls_cert_file, mqtt\.tls_key_file\)/);
  t.truthy(refused.status().lastError);
  await refused.stop();

  const source = new MemorySource('inst-cert');
  for (let i = 0; i < 20; i++) source.append(jsonEvent('303', i));
  forwarder(t, broker.url, { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey }, source);
  await waitFor(() => received.filter((id) => id.startsWith('inst-cert:')).length >= 20, 15_000, '20 events with a client certificate');
  t.false(received.some((id) => id.startsWith('inst-nocert:')), 'nothing got through without a certificate');
});

test('a wrong CA: the gateway refuses the broker, and /api/status and the log say why', async (t) => {
  const certs = makeCerts(t);
  const broker = await startMosquitto({ t, tls: { caFile: certs.caCert, certFile: certs.serverCert, keyFile: certs.serverKey } });
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) } });
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url, tls_ca_file: certs.otherCaCert } }, logger });
  const expected = /^TLS with 127\.0\.0\.1:\d+ failed: .+; the broker's certificate is not trusted \(mqtt\.tls_ca_file\)/;
  const status = await waitFor(
    async () => {
      const body = (await api<{ upstreams: { mqtt: { state: string; lastError: string | null } } }>(gw.url, '/api/status')).body;
      return expected.test(body.upstreams.mqtt.lastError ?? '') ? body.upstreams.mqtt : false;
    },
    15_000,
    'the TLS failure in /api/status',
  );
  t.not(status.state, 'connected');
  t.true(lines.some((l) => /cannot connect to mqtts:\/\/127\.0\.0\.1:\d+: .*TLS with 127\.0\.0\.1:\d+ failed: .+ not trusted \(mqtt\.tls_ca_file\)/.test(l.msg)), lines.map((l) => l.msg).join('\n'));
});

test('a certificate for another name: refused naming mqtt.tls_verify_server_name; accepted with it off (the chain still checked)', async (t) => {
  const certs = makeCerts(t, 'DNS:broker.test');
  const broker = await startMosquitto({ t, tls: { caFile: certs.caCert, certFile: certs.serverCert, keyFile: certs.serverKey } });
  const strict = new MemorySource('inst-name');
  const warnings: string[] = [];
  const f = forwarder(t, broker.url, { caFile: certs.caCert }, strict, warnings);
  const reason = await waitFor(() => warnings.find((w) => w.includes('cannot connect')), 15_000, 'a refused connection logged');
  t.regex(reason, /the certificate does not name 127\.0\.0\.1 \(mqtt\.tls_verify_server_name\)/);
  await f.stop();

  const source = new MemorySource('inst-noname');
  source.append(jsonEvent('305', 1));
  const lax = forwarder(t, broker.url, { caFile: certs.caCert, verifyServerName: false }, source);
  await waitFor(() => lax.status().acked === 1, 15_000, 'the event acknowledged');
  t.is(lax.status().state, 'connected');

  const wrongCa = forwarder(t, broker.url, { caFile: certs.otherCaCert, verifyServerName: false }, new MemorySource('inst-x'), warnings);
  await waitFor(() => warnings.some((w) => w.includes('not trusted (mqtt.tls_ca_file)')), 15_000, 'the chain refused with the name check off');
  t.not(wrongCa.status().state, 'connected');
});
