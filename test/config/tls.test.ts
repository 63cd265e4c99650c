// The TLS keys at load (docs/tls.md): both files or neither, the plain port only beside TLS, empty = unset.
import { writeFileSync } from 'node:fs';
import test from 'ava';
import { ConfigError, loadConfig, tlsEnabled } from '../../gateway/src/config/index.js';
import { tempDir } from '../helpers/gateway.js';

function refusal(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return 'accepted';
}

test('TLS is on with both files set, off with neither; one alone, or a plain port without TLS or on http.port, is refused naming the key', (t) => {
  const cwd = tempDir(t);
  const both = { SPOT_GATEWAY_HTTP_TLS_CERT_FILE: '/etc/tls/cert.pem', SPOT_GATEWAY_HTTP_TLS_KEY_FILE: '/etc/tls/key.pem' };
  const on = loadConfig({ cwd, env: both }).config;
  t.true(tlsEnabled(on.http));
  t.is(on.http.tls_cert_file, '/etc/tls/cert.pem');
  t.is(on.http.plain_port, undefined);
  t.false(tlsEnabled(loadConfig({ cwd, env: {} }).config.http));
  t.false(tlsEnabled(loadConfig({ cwd, env: { SPOT_GATEWAY_HTTP_TLS_CERT_FILE: '', SPOT_GATEWAY_HTTP_TLS_KEY_FILE: '' } }).config.http), 'empty variables mean unset');
  t.is(loadConfig({ cwd, env: { ...both, SPOT_GATEWAY_HTTP_PLAIN_PORT: '8081' } }).config.http.plain_port, 8081);
  t.is(loadConfig({ cwd, env: { ...both, SPOT_GATEWAY_HTTP_PLAIN_PORT: '' } }).config.http.plain_port, undefined);

  t.is(
    refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_HTTP_TLS_CERT_FILE: '/etc/tls/cert.pem' } })),
    'http.tls_key_file: must be set with http.tls_cert_file (TLS needs the certificate and its key)',
  );
  t.is(
    refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_HTTP_TLS_KEY_FILE: '/etc/tls/key.pem' } })),
    'http.tls_cert_file: must be set with http.tls_key_file (TLS needs the certificate and its key)',
  );
  t.is(
    refusal(() => loadConfig({ cwd, env: { SPOT_GATEWAY_HTTP_PLAIN_PORT: '8081' } })),
    'SPOT_GATEWAY_HTTP_PLAIN_PORT (http.plain_port): needs TLS on (http.tls_cert_file and http.tls_key_file): without TLS http.port speaks plain HTTP already',
  );
  t.is(
    refusal(() => loadConfig({ cwd, env: { ...both, SPOT_GATEWAY_HTTP_PORT: '8443', SPOT_GATEWAY_HTTP_PLAIN_PORT: '8443' } })),
    'SPOT_GATEWAY_HTTP_PLAIN_PORT (http.plain_port): must differ from http.port (8443): one port speaks HTTPS, the other plain HTTP',
  );
  t.regex(refusal(() => loadConfig({ cwd, env: { ...both, SPOT_GATEWAY_HTTP_PLAIN_PORT: '70000' } })), /http\.plain_port\): must be <= 65535/);
});

test('in the file, an empty or null TLS key is unset', (t) => {
  const cwd = tempDir(t);
  const file = `${cwd}/gateway.yaml`;
  writeFileSync(file, 'http:\n  tls_cert_file:\n  tls_key_file: ""\n  plain_port: null\nmqtt:\n  url:\n');
  const { config } = loadConfig({ cwd, file });
  t.false(tlsEnabled(config.http));
  t.is(config.http.plain_port, undefined);
  t.is(config.mqtt.url, undefined);
});
