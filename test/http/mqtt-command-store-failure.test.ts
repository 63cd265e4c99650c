// An MQTT command that meets a store that cannot write is not acknowledged: tried again in order until the
// store writes, and delivered again by the broker when the gateway stops meanwhile (docs/mqtt.md, Downstream).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import mqtt from 'mqtt';
import { createLogger } from '../../gateway/src/log.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { api, startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';
import { can, probePrivileges } from '../helpers/privileges.js';

// chattr +i stops writes even for root (docs/storage.md, "Testing the failure paths as root").
const { canChattr } = probePrivileges();
if (!canChattr) console.log('mqtt-command-store-failure.test: chattr +i not permitted here (needs root on ext4): skipped');

interface LogLine {
  level: number;
  msg: string;
}

function recorder(): { lines: LogLine[]; logger: ReturnType<typeof createLogger> } {
  const lines: LogLine[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) } });
  return { lines, logger };
}

/** The data dir, the database and its WAL (not the -shm file: it is memory-mapped, and an immutable one kills the process with SIGBUS). */
function storeFiles(dataDir: string): string[] {
  const db = path.join(dataDir, 'spot-gateway.db');
  return [dataDir, db, `${db}-wal`].filter((f) => fs.existsSync(f));
}

async function connected(gw: TestGateway): Promise<void> {
  await waitFor(async () => (await api<{ upstreams: { mqtt: { state: string } } }>(gw.url, '/api/status')).body.upstreams.mqtt.state === 'connected', 10000, 'the forwarder to connect');
}

/** The spot's queued commands by their rfid_power_dbm, but the probes (0). */
async function queuedPowers(gw: TestGateway, spot: number): Promise<number[]> {
  const { body } = await api<Array<{ source: string; data: { rfid_power_dbm: number } }>>(gw.url, `/api/spots/${spot}/commands?after=0`);
  return body.map((c) => c.data.rfid_power_dbm).filter((p) => p !== 0);
}

/** Publishes a probe command ({rfid_power_dbm: 0}) until one is queued: the gateway's command subscription is in place. */
async function subscribed(gw: TestGateway, client: mqtt.MqttClient, spot: number): Promise<void> {
  await waitFor(async () => {
    await client.publishAsync(`to/${spot}/json/config/update`, JSON.stringify({ rfid_power_dbm: 0 }), { qos: 1 });
    const { body } = await api<unknown[]>(gw.url, `/api/spots/${spot}/commands?after=0`);
    return body.length > 0 || undefined;
  }, 10000, 'the command subscription to be in place');
}

const command = (power: number): string => JSON.stringify({ rfid_power_dbm: power });

(canChattr ? test : test.skip)('commands met by a read-only store are held unacknowledged and queued in order, each once, when it writes again', async (t) => {
  const broker = await startMosquitto({ t });
  const { lines, logger } = recorder();
  const gw = await startTestGateway(t, { logger, config: { mqtt: { url: broker.url } } });
  t.teardown(() => can('chattr', ['-i', ...storeFiles(gw.dataDir)]));
  await connected(gw);
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.teardown(() => client.endAsync());
  await subscribed(gw, client, 61);

  await client.publishAsync('to/61/json/config/update', command(10), { qos: 1 });
  await waitFor(async () => ((await queuedPowers(gw, 61)).length === 1 ? true : undefined), 10000, 'the first command to be queued');

  execFileSync('chattr', ['+i', ...storeFiles(gw.dataDir)]);
  for (const power of [11, 12, 13]) await client.publishAsync('to/61/json/config/update', command(power), { qos: 1 });
  const held = await waitFor(
    async () => {
      const waiting = (await api<{ upstreams: { mqtt: { commandsWaiting: number } } }>(gw.url, '/api/status')).body.upstreams.mqtt.commandsWaiting;
      return waiting === 3 ? waiting : undefined;
    },
    10000,
    'the three commands to be held',
  );
  t.is(held, 3);
  const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg);
  const notQueued = warnings.filter((m) => m.startsWith('mqtt: command not queued yet: to/61/json/config/update: '));
  t.is(notQueued.length, 1, `one warning for the held head, not one per retry:\n${warnings.join('\n')}`);
  t.regex(notQueued[0]!, /cannot write|I\/O error/);
  t.regex(notQueued[0]!, /not acknowledged, tried again every 1000 ms/);
  t.false(warnings.some((m) => m.startsWith('mqtt: command ignored')), 'a store failure is not a refusal');

  execFileSync('chattr', ['-i', ...storeFiles(gw.dataDir)]);
  const powers = await waitFor(async () => {
    const queued = await queuedPowers(gw, 61);
    return queued.length >= 4 ? queued : undefined;
  }, 15000, 'the held commands to be queued');
  t.deepEqual(powers, [10, 11, 12, 13], 'each once, in the order published');
  const { body: status } = await api<{ upstreams: { mqtt: { commandsWaiting: number; commandsAccepted: number; commandsRejected: number } } }>(gw.url, '/api/status');
  t.like(status.upstreams.mqtt, { commandsWaiting: 0, commandsRejected: 0 });
  t.true(lines.some((l) => l.level === 30 && /^mqtt: command queued after the store failed: to\/61\/json\/config\/update \(\d+ tries\)$/.test(l.msg)));
});

(canChattr ? test : test.skip)('a command held when the gateway stops is delivered again by the broker and queued by the next start', async (t) => {
  const broker = await startMosquitto({ t });
  const first = recorder();
  const gw = await startTestGateway(t, { logger: first.logger, config: { mqtt: { url: broker.url } } });
  const files = storeFiles(gw.dataDir);
  t.teardown(() => can('chattr', ['-i', ...files]));
  await connected(gw);
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.teardown(() => client.endAsync());
  await subscribed(gw, client, 62);

  execFileSync('chattr', ['+i', ...files]);
  await client.publishAsync('to/62/json/config/update', command(20), { qos: 1 });
  await waitFor(() => (first.lines.some((l) => l.msg.startsWith('mqtt: command not queued yet: to/62/')) ? true : undefined), 10000, 'the command to be held');
  await gw.stop();
  execFileSync('chattr', ['-i', ...files]);

  const again = await startTestGateway(t, { dataDir: gw.dataDir, config: { mqtt: { url: broker.url } } });
  const powers = await waitFor(async () => {
    const queued = await queuedPowers(again, 62);
    return queued.length > 0 ? queued : undefined;
  }, 15000, 'the redelivered command to be queued');
  await client.publishAsync('to/62/json/config/update', command(21), { qos: 1 });
  t.deepEqual(
    await waitFor(async () => {
      const queued = await queuedPowers(again, 62);
      return queued.length >= 2 ? queued : undefined;
    }, 10000, 'a later command (the barrier) to be queued'),
    [20, 21],
    'the held command once, before the next',
  );
  t.deepEqual(powers, [20]);
});
