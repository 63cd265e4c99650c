// The mqtt.tls_* keys: defaults, and the refusals at load naming the key and the reason.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig } from '../../gateway/src/config/index.js';
import { tempDir } from '../helpers/gateway.js';

const load = (env: Record<string, string>) => loadConfig({ env, cwd: tempDir(undefined), hostname: () => 'box1' });

test('defaults: no TLS files, the server name checked', (t) => {
  const { mqtt } = load({}).config;
  t.is(mqtt.tls_ca_file, '');
  t.is(mqtt.tls_cert_file, '');
  t.is(mqtt.tls_key_file, '');
  t.true(mqtt.tls_verify_server_name);
});

test('mqtts with readable files, from the environment', (t) => {
  const dir = tempDir(t);
  for (const f of ['ca.pem', 'c.pem', 'k.pem']) writeFileSync(path.join(dir, f), 'pem');
  const { mqtt } = load({
    SPOT_GATEWAY_MQTT_URL: 'mqtts://broker:8883',
    SPOT_GATEWAY_MQTT_TLS_CA_FILE: path.join(dir, 'ca.pem'),
    SPOT_GATEWAY_MQTT_TLS_CERT_FILE: path.join(dir, 'c.pem'),
    SPOT_GATEWAY_MQTT_TLS_KEY_FILE: path.join(dir, 'k.pem'),
    SPOT_GATEWAY_MQTT_TLS_VERIFY_SERVER_NAME: 'false',
  }).config;
  t.is(mqtt.tls_ca_file, path.join(dir, 'ca.pem'));
  t.false(mqtt.tls_verify_server_name);
});

test('refusals name the key: a file without mqtts, an unreadable file, a certificate without its key, a WebSocket URL', (t) => {
  const dir = tempDir(t);
  const ca = path.join(dir, 'ca.pem');
  writeFileSync(ca, 'pem');
  t.throws(() => load({ SPOT_GATEWAY_MQTT_URL: 'mqtt://broker', SPOT_GATEWAY_MQTT_TLS_CA_FILE: ca }), {
    instanceOf: ConfigError,
    message: 'SPOT_GATEWAY_MQTT_TLS_CA_FILE (mqtt.tls_ca_file): is set, but mqtt.url is not an mqtts:// URL (mqtt://broker)',
  });
  t.throws(() => load({ SPOT_GATEWAY_MQTT_TLS_CA_FILE: ca }), { message: /mqtt\.tls_ca_file\): is set, but mqtt\.url is not an mqtts:\/\/ URL \(unset\)$/ });
  t.throws(() => load({ SPOT_GATEWAY_MQTT_URL: 'mqtts://broker', SPOT_GATEWAY_MQTT_TLS_KEY_FILE: path.join(dir, 'missing.pem') }), {
    message: new RegExp(`^SPOT_GATEWAY_MQTT_TLS_KEY_FILE \\(mqtt\\.tls_key_file\\): cannot read ${dir}/missing\\.pem: ENOENT`),
  });
  t.throws(() => load({ SPOT_GATEWAY_MQTT_URL: 'mqtts://broker', SPOT_GATEWAY_MQTT_TLS_CERT_FILE: ca }), {
    message: 'mqtt.tls_key_file: is empty, but mqtt.tls_cert_file is set: a client certificate needs both',
  });
  t.throws(() => load({ SPOT_GATEWAY_MQTT_URL: 'mqtts://broker', SPOT_GATEWAY_MQTT_TLS_KEY_FILE: ca }), {
    message: 'mqtt.tls_cert_file: is empty, but mqtt.tls_key_file is set: a client certificate needs both',
  });
  t.throws(() => load({ SPOT_GATEWAY_MQTT_URL: 'wss://broker/mqtt' }), { message: /mqtt\.url\): must be a broker URL such as mqtt:\/\/host:1883 or mqtts:\/\/host:8883 \(mqtt, mqtts, tcp, ssl\)$/ });
});
