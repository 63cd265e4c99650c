// SIGHUP reload plan: the live keys apply at once (the upstream's by replacing the forwarder), every other changed key is named for a restart.
import test from 'ava';
import { defaultConfig, leafKeys, configSchema, planReload, shownValue, spotServerChanged, LIVE_KEYS, SPOT_SERVER_KEYS, UPSTREAM_KEYS, type DeepPartial, type GatewayConfig } from '../../gateway/src/config/index.js';

const base = (more: DeepPartial<GatewayConfig> = {}) => defaultConfig({ gateway: { id: 'gw' }, ...more });

test('nothing changed: nothing to apply, nothing to restart', (t) => {
  const plan = planReload(base(), base());
  t.deepEqual(plan, { running: base(), applied: [], needRestart: [], reasons: {}, restartUpstream: false });
});

test('log.level applies at once and the running configuration takes it', (t) => {
  const plan = planReload(base(), base({ log: { level: 'debug' } }));
  t.deepEqual([plan.applied, plan.needRestart, plan.running.log.level, plan.restartUpstream], [['log.level'], [], 'debug', false]);
});

test('limits and thresholds apply; keys that are not live are named for the next restart, in schema order, and keep their running value', (t) => {
  const next = base({
    http: { port: 9090, max_connections: 10 },
    buffer: { disk_warn_percent: 80, max_mb: 5 },
    mqtt: { stalled_after_s: 5 },
    commands: { max_queued_per_spot: 5, max_queued_bytes_per_spot: 70000, ttl_s: 60 },
    log: { level: 'warn' },
  });
  const plan = planReload(base(), next);
  t.deepEqual(plan.applied, ['http.max_connections', 'buffer.disk_warn_percent', 'mqtt.stalled_after_s', 'commands.max_queued_per_spot', 'commands.max_queued_bytes_per_spot', 'log.level']);
  t.deepEqual(plan.needRestart, ['http.port', 'buffer.max_mb', 'commands.ttl_s']);
  t.deepEqual(plan.reasons, {});
  t.false(plan.restartUpstream, 'no upstream configured');
  t.deepEqual(
    [plan.running.http.max_connections, plan.running.buffer.disk_warn_percent, plan.running.mqtt.stalled_after_s, plan.running.commands.max_queued_per_spot, plan.running.log.level],
    [10, 80, 5, 5, 'warn'],
  );
  t.deepEqual([plan.running.http.port, plan.running.buffer.max_mb, plan.running.commands.ttl_s], [8080, 1024, 3600], 'not live: the running values');
});

test('another broker, or another key of the forwarder, replaces the forwarder; adding or removing the upstream needs a restart', (t) => {
  const withBroker = base({ mqtt: { url: 'mqtt://a:1883' } });
  const moved = planReload(withBroker, base({ mqtt: { url: 'mqtt://b:1883', topic_prefix: 'site/' } }));
  t.deepEqual([moved.applied, moved.restartUpstream, moved.running.mqtt.url, moved.running.mqtt.topic_prefix], [['mqtt.url', 'mqtt.topic_prefix'], true, 'mqtt://b:1883', 'site/']);
  const tuned = planReload(withBroker, base({ mqtt: { url: 'mqtt://a:1883', max_in_flight: 100 } }));
  t.deepEqual([tuned.applied, tuned.restartUpstream], [['mqtt.max_in_flight'], true]);

  const added = planReload(base(), withBroker);
  t.deepEqual([added.applied, added.needRestart, added.reasons, added.restartUpstream], [[], ['mqtt.url'], { 'mqtt.url': 'an upstream added' }, false]);
  t.is(added.running.mqtt.url, undefined);
  const removed = planReload(withBroker, base());
  t.deepEqual([removed.needRestart, removed.reasons], [['mqtt.url'], { 'mqtt.url': 'the upstream removed' }]);
  t.is(removed.running.mqtt.url, 'mqtt://a:1883');
  const prefixOnly = planReload(base(), base({ mqtt: { topic_prefix: 'x/' } }));
  t.deepEqual([prefixOnly.applied, prefixOnly.restartUpstream], [['mqtt.topic_prefix'], false], 'without an upstream nothing to replace');
});

test('a queue byte limit below the running command size waits for the restart that changes both', (t) => {
  const running = base({ commands: { max_bytes: 60000, max_queued_bytes_per_spot: 70000 } });
  const plan = planReload(running, base({ commands: { max_bytes: 1000, max_queued_bytes_per_spot: 2000, max_reply_bytes: 65536 } }));
  t.deepEqual(plan.needRestart, ['commands.max_bytes', 'commands.max_queued_bytes_per_spot']);
  t.deepEqual(plan.reasons, { 'commands.max_queued_bytes_per_spot': 'below the running commands.max_bytes (60000)' });
  t.is(plan.running.commands.max_queued_bytes_per_spot, 70000);
});

test('the logged value of mqtt.url hides its password', (t) => {
  const config = base({ mqtt: { url: 'mqtt://user:secret@broker:1883' } });
  t.is(shownValue(config, 'mqtt.url'), '"mqtt://user:***@broker:1883"');
  t.is(shownValue(config, 'log.level'), '"info"');
  t.is(shownValue(base(), 'mqtt.url'), 'unset');
});

test('the live keys are keys of the schema, the upstream keys among them', (t) => {
  const keys = leafKeys(configSchema).map((k) => k.path.join('.'));
  for (const key of LIVE_KEYS) t.true(keys.includes(key), `${key} is a key of the schema`);
  for (const key of UPSTREAM_KEYS) t.true(LIVE_KEYS.includes(key), `${key} is live`);
  t.false(LIVE_KEYS.includes('http.port') || LIVE_KEYS.includes('data_dir') || LIVE_KEYS.includes('commands.max_bytes'));
});

test('spot_server.token applies at once (the next posts carry it), its logged value hidden; so does the URL, with the MQTT forwarder left alone', (t) => {
  const running = defaultConfig({ spot_server: { url: 'http://central:8080', token: 'old' } });
  const plan = planReload(running, defaultConfig({ spot_server: { url: 'http://other:8080', token: 'new' } }));
  t.deepEqual(plan.applied, ['spot_server.url', 'spot_server.token']);
  t.deepEqual(plan.needRestart, []);
  t.false(plan.restartUpstream);
  t.is(shownValue(plan.running, 'spot_server.token'), '"***"');
  t.is(shownValue(defaultConfig(), 'spot_server.token'), '""');
});

test('another spot server, or another key of its forwarder, applies and replaces the forwarder; the token alone does not; adding or removing it needs a restart', (t) => {
  const chained = base({ spot_server: { url: 'https://user:pw@central-a:8443' } });
  const moved = planReload(chained, base({ spot_server: { url: 'https://central-b:8443', timeout_s: 5 } }));
  t.deepEqual([moved.applied, moved.needRestart, moved.running.spot_server.url, moved.running.spot_server.timeout_s], [['spot_server.url', 'spot_server.timeout_s'], [], 'https://central-b:8443', 5]);
  t.true(spotServerChanged(chained, moved.running));
  t.is(shownValue(chained, 'spot_server.url'), '"https://user:***@central-a:8443"', 'the password hidden in the log line');
  const token = planReload(chained, base({ spot_server: { url: 'https://user:pw@central-a:8443', token: 'x' } }));
  t.deepEqual(token.applied, ['spot_server.token']);
  t.false(spotServerChanged(chained, token.running), 'the token goes to the running forwarder');

  const added = planReload(base(), chained);
  t.deepEqual([added.applied, added.needRestart, added.reasons], [[], ['spot_server.url'], { 'spot_server.url': 'an upstream added' }]);
  t.false(spotServerChanged(base(), chained));
  const removed = planReload(chained, base());
  t.deepEqual([removed.needRestart, removed.reasons, removed.running.spot_server.url], [['spot_server.url'], { 'spot_server.url': 'the upstream removed' }, 'https://user:pw@central-a:8443']);
  for (const key of SPOT_SERVER_KEYS) t.true(LIVE_KEYS.includes(key), `${key} is live`);
});
