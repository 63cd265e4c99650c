// Configuration: YAML file, SPOT_GATEWAY_* overrides, refusals that name the key and the reason.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { configSchema, ConfigError, leafKeys, loadConfig, parseDuration } from '../../gateway/src/config/index.js';
import { REPO_ROOT, tempDir } from '../helpers/gateway.js';

function withFile(t: Parameters<typeof tempDir>[0], text: string): { dir: string; file: string } {
  const dir = tempDir(t, 'gateway-config-');
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

test('defaults are embedded: port 8080, ./data, no MQTT upstream', (t) => {
  const { config, file } = loadConfig({ env: {}, cwd: tempDir(t), hostname: () => 'box1' });
  t.is(file, null);
  t.is(config.http.port, 8080);
  t.is(config.http.host, '0.0.0.0');
  t.is(config.data_dir, './data');
  t.is(config.mqtt.url, undefined);
  t.is(config.mqtt.topic_prefix, '');
  t.is(config.gateway.id, 'box1');
  t.is(config.spots.offline_after_s, 10);
  t.is(config.commands.ttl_s, 3600);
  t.is(config.ingest.max_event_bytes, 65536);
  t.is(config.buffer.policy, 'drop-oldest');
  t.is(config.buffer.durability, 'full');
});

test('./gateway.yaml is read when present, --config wins over it', (t) => {
  const { dir } = withFile(t, 'http:\n  port: 9001\nmqtt:\n  url: mqtt://broker:1883\n  topic_prefix: site1/\n');
  const fromCwd = loadConfig({ env: {}, cwd: dir });
  t.is(fromCwd.config.http.port, 9001);
  t.is(fromCwd.config.mqtt.url, 'mqtt://broker:1883');
  t.is(fromCwd.config.mqtt.topic_prefix, 'site1/');
  const other = path.join(dir, 'other.yaml');
  writeFileSync(other, 'http:\n  port: 9002\n');
  t.is(loadConfig({ env: {}, cwd: dir, file: 'other.yaml' }).config.http.port, 9002);
});

test('every key can be overridden by SPOT_GATEWAY_<SECTION>_<KEY>, coerced to its type', (t) => {
  const { dir } = withFile(t, 'http:\n  port: 9001\n');
  const { config } = loadConfig({
    cwd: dir,
    env: {
      SPOT_GATEWAY_HTTP_PORT: '7000',
      SPOT_GATEWAY_DATA_DIR: '/var/lib/spot',
      SPOT_GATEWAY_MQTT_URL: 'mqtt://127.0.0.1:1883',
      SPOT_GATEWAY_MQTT_TOPIC_PREFIX: 'x/',
      SPOT_GATEWAY_BUFFER_MAX_MB: '12.5',
      SPOT_GATEWAY_BUFFER_POLICY: 'reject',
      SPOT_GATEWAY_SPOTS_OFFLINE_AFTER_S: '3',
      SPOT_GATEWAY_LOG_LEVEL: 'debug',
    },
  });
  t.is(config.http.port, 7000);
  t.is(config.data_dir, '/var/lib/spot');
  t.is(config.mqtt.url, 'mqtt://127.0.0.1:1883');
  t.is(config.mqtt.topic_prefix, 'x/');
  t.is(config.buffer.max_mb, 12.5);
  t.is(config.buffer.policy, 'reject');
  t.is(config.spots.offline_after_s, 3);
  t.is(config.log.level, 'debug');
  const names = leafKeys(configSchema).map((k) => k.envName);
  for (const required of ['SPOT_GATEWAY_HTTP_PORT', 'SPOT_GATEWAY_DATA_DIR', 'SPOT_GATEWAY_MQTT_URL', 'SPOT_GATEWAY_MQTT_TOPIC_PREFIX']) {
    t.true(names.includes(required), required);
  }
});

test('an empty SPOT_GATEWAY_MQTT_URL means no MQTT upstream', (t) => {
  const { dir } = withFile(t, 'mqtt:\n  url: mqtt://broker:1883\n');
  t.is(loadConfig({ cwd: dir, env: { SPOT_GATEWAY_MQTT_URL: '' } }).config.mqtt.url, undefined);
});

test('a bad file is refused with the key path and the reason', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['http:\n  port: 70000\n', /http\.port: must be <= 65535/],
    ['http:\n  port: eighty\n', /http\.port: must be integer/],
    ['http:\n  prot: 80\n', /http\.prot: unknown key/],
    ['buffer:\n  policy: drop-newest\n', /buffer\.policy: must be one of drop-oldest, reject/],
    ['buffer:\n  retain: 2 weeks\n', /buffer\.retain: "2 weeks" is not a number of seconds, or a number followed by s, m, h or d/],
    ['buffer:\n  retain: -5\n', /buffer\.retain: "-5" is not a number of seconds/],
    ['colour: blue\n', /colour: unknown key/],
    ['http: [1, 2\n', /invalid YAML/],
    ['- a\n- b\n', /must be a mapping/],
  ];
  for (const [text, reason] of cases) {
    const { dir, file } = withFile(t, text);
    const message = refusal(() => loadConfig({ env: {}, cwd: dir }));
    t.regex(message, reason, text);
    t.true(message.includes(file), `names the file: ${message}`);
    t.false(message.includes('\n'), 'one line');
  }
  t.regex(refusal(() => loadConfig({ env: {}, cwd: tempDir(t), file: 'missing.yaml' })), /cannot read \(ENOENT\)/);
});

test('buffer.retain: 24h by default; 30m, 7d, 0 and plain seconds (also a YAML number) are durations', (t) => {
  t.is(loadConfig({ env: {}, cwd: tempDir(t) }).config.buffer.retain, '24h');
  for (const [text, ms] of [['30m', 1_800_000], ['7d', 604_800_000], ['0', 0], ['90', 90_000], ['1.5h', 5_400_000], ['45s', 45_000]] as const) {
    t.deepEqual(parseDuration(text), { ok: true, ms }, text);
  }
  t.deepEqual(parseDuration(3600), { ok: true, ms: 3_600_000 });
  t.like(parseDuration(-1), { ok: false });
  t.like(parseDuration('99999999999999d'), { ok: false, reason: '"99999999999999d" is too long' });
  const { dir } = withFile(t, 'buffer:\n  retain: 3600\n');
  t.is(loadConfig({ env: {}, cwd: dir }).config.buffer.retain, '3600');
  t.is(loadConfig({ env: { SPOT_GATEWAY_BUFFER_RETAIN: '30m' }, cwd: dir }).config.buffer.retain, '30m');
  t.regex(refusal(() => loadConfig({ cwd: dir, env: { SPOT_GATEWAY_BUFFER_RETAIN: 'forever' } })), /^SPOT_GATEWAY_BUFFER_RETAIN \(buffer\.retain\): "forever" is not /);
});

test('a bad environment value is refused naming the variable', (t) => {
  const cwd = tempDir(t);
  t.regex(refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_HTTP_PORT: 'http' } })), /^SPOT_GATEWAY_HTTP_PORT \(http\.port\): "http" is not an integer$/);
  t.regex(refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_HTTP_PORT: '-1' } })), /^SPOT_GATEWAY_HTTP_PORT \(http\.port\): must be >= 0$/);
  t.regex(refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_BUFFER_DURABILITY: 'maybe' } })), /SPOT_GATEWAY_BUFFER_DURABILITY \(buffer\.durability\): must be one of full, normal, off/);
});

test('docs/configuration.md lists every key with its variable', (t) => {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs/configuration.md'), 'utf8');
  for (const key of leafKeys(configSchema)) {
    t.true(doc.includes(`| \`${key.path.join('.')}\` | \`${key.envName}\` |`), `${key.path.join('.')} missing from docs/configuration.md`);
  }
});

test('MQTT URL and topic prefix are checked', (t) => {
  const cwd = tempDir(t);
  t.regex(refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_MQTT_URL: 'broker:1883' } })), /mqtt\.url\): must be a broker URL/);
  t.regex(refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_MQTT_TOPIC_PREFIX: 'site/+/' } })), /mqtt\.topic_prefix\): must be topic levels/);
  t.is(loadConfig({ cwd, env: { SPOT_GATEWAY_MQTT_TOPIC_PREFIX: 'site1/hall' } }).config.mqtt.topic_prefix, 'site1/hall');
});

test('a topic prefix or gateway id a broker would refuse in a topic is refused at load, naming the key and the code point', (t) => {
  const cwd = tempDir(t);
  t.is(
    refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_MQTT_TOPIC_PREFIX: 'site\u0085/hall' } })),
    'SPOT_GATEWAY_MQTT_TOPIC_PREFIX (mqtt.topic_prefix): cannot start an MQTT topic: level "site\u0085" holds U+0085, a control character MQTT brokers refuse in a topic',
  );
  t.is(
    refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_MQTT_TOPIC_PREFIX: 'a'.repeat(1025) } })),
    'SPOT_GATEWAY_MQTT_TOPIC_PREFIX (mqtt.topic_prefix): cannot start an MQTT topic: is 1025 bytes long, over the 1024 a topic prefix may take',
  );
  const { file } = withFile(t, 'gateway:\n  id: "gw\\uFFFF"\n');
  t.is(
    refusal(() => loadConfig({ cwd, file })),
    `config ${file}: gateway.id: "gw\uffff" cannot be an MQTT topic level: it holds U+FFFF, a Unicode noncharacter MQTT brokers refuse in a topic`,
  );
  t.regex(refusal(() => loadConfig({ cwd, env: {}, hostname: () => 'box/1' })), /^gateway\.id: "box\/1" cannot be an MQTT topic level: it holds "\/"/);
  t.is(loadConfig({ cwd, env: { SPOT_GATEWAY_GATEWAY_ID: 'gw-東京-🛰' } }).config.gateway.id, 'gw-東京-🛰');
});

test('command bounds: defaults at the protocol\'s message limit, and a command must fit in a reply and in a queue', (t) => {
  const { config } = loadConfig({ env: {}, cwd: tempDir(t) });
  t.deepEqual(config.commands, { ttl_s: 3600, max_bytes: 65536, max_queued_per_spot: 100, max_queued_bytes_per_spot: 1048576, max_reply_bytes: 65536 });
  t.is(config.http.max_connections, 1024);
  const { file } = withFile(t, 'commands:\n  max_bytes: 70000\n');
  t.is(
    refusal(() => loadConfig({ env: {}, file })),
    `config ${file}: commands.max_reply_bytes: must be at least commands.max_bytes, so that a command of commands.max_bytes (70000) fits in a reply`,
  );
  t.is(
    refusal(() => loadConfig({ env: { SPOT_GATEWAY_COMMANDS_MAX_QUEUED_BYTES_PER_SPOT: '1000' }, cwd: tempDir(t) })),
    'SPOT_GATEWAY_COMMANDS_MAX_QUEUED_BYTES_PER_SPOT (commands.max_queued_bytes_per_spot): must be at least commands.max_bytes, so that a command of commands.max_bytes (65536) fits in a queue',
  );
});

test('spot_server: an http(s) URL, unset when empty; its CA file only with https and readable', (t) => {
  const cwd = tempDir(t);
  t.is(loadConfig({ cwd, env: { SPOT_GATEWAY_SPOT_SERVER_URL: '' } }).config.spot_server.url, undefined);
  t.is(loadConfig({ cwd, env: { SPOT_GATEWAY_SPOT_SERVER_URL: 'https://central:8443/site' } }).config.spot_server.url, 'https://central:8443/site');
  t.regex(refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_SPOT_SERVER_URL: 'mqtt://central' } })), /spot_server\.url\): must be an http:\/\/ or https:\/\/ URL/);
  const ca = path.join(cwd, 'ca.pem');
  writeFileSync(ca, 'x');
  t.regex(
    refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_SPOT_SERVER_URL: 'http://central', SPOT_GATEWAY_SPOT_SERVER_TLS_CA_FILE: ca } })),
    /spot_server\.tls_ca_file\)?: is set, but spot_server\.url is not an https:\/\/ URL \(http:\/\/central\)/,
  );
  t.regex(refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_SPOT_SERVER_TLS_CA_FILE: ca } })), /not an https:\/\/ URL \(unset\)/);
  t.regex(
    refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_SPOT_SERVER_URL: 'https://central', SPOT_GATEWAY_SPOT_SERVER_TLS_CA_FILE: path.join(cwd, 'missing.pem') } })),
    /spot_server\.tls_ca_file\)?: cannot read .*missing\.pem/,
  );
  t.is(loadConfig({ cwd, env: { SPOT_GATEWAY_SPOT_SERVER_URL: 'https://central', SPOT_GATEWAY_SPOT_SERVER_TLS_CA_FILE: ca } }).config.spot_server.tls_ca_file, ca);
});
