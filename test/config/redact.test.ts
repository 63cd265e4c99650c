// A password in a configured URL never reaches the log or the status: only the user name stays.
import test from 'ava';
import { redactUrl } from '../../gateway/src/config/redact.js';
import { spawnGateway, tempDir } from '../helpers/gateway.js';
import { closedPort } from '../helpers/cli-io.js';
import path from 'node:path';

test('the password of a URL is replaced, the rest kept; URLs without one are unchanged', (t) => {
  t.is(redactUrl('mqtt://user:s3cr%40t@broker:1883'), 'mqtt://user:***@broker:1883');
  t.is(redactUrl('mqtts://:only-password@broker'), 'mqtts://:***@broker');
  t.is(redactUrl('mqtt://user@broker:1883/x?a=b:c@d'), 'mqtt://user@broker:1883/x?a=b:c@d');
  t.is(redactUrl('mqtt://broker:1883'), 'mqtt://broker:1883');
  t.is(redactUrl('https://a:b@central.example/api'), 'https://a:***@central.example/api');
});

test('the gateway logs its MQTT upstream without the password', async (t) => {
  const port = await closedPort();
  const gw = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: path.join(tempDir(t), 'data'), SPOT_GATEWAY_MQTT_URL: `mqtt://site:hunter2@127.0.0.1:${port}` } });
  await gw.kill();
  const out = gw.stdout();
  t.true(out.includes(`forwarding to mqtt://site:***@127.0.0.1:${port}`), out);
  t.false(out.includes('hunter2'));
});
