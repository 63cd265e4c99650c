// applyLive on a running gateway: http.max_connections bounds the next connections at once.
import net from 'node:net';
import test from 'ava';
import { defaultConfig } from '../../gateway/src/config/index.js';
import { api, startTestGateway, within } from '../helpers/gateway.js';

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

test('a lower http.max_connections closes the next connection at once; a higher one lets it serve', async (t) => {
  const gw = await startTestGateway(t);
  const next = (max: number) => defaultConfig({ ...gw.config, http: { ...gw.config.http, max_connections: max } });
  await gw.running.applyLive(next(1), false);
  const held = await connect(gw.port);
  t.teardown(() => held.destroy());
  // The server counts the held connection once it has accepted it: a request on it answers.
  held.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await within(new Promise((resolve) => held.once('data', resolve)), 5000, 'an answer on the held connection');
  const refused = await connect(gw.port);
  let answer = '';
  refused.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  await within(new Promise((resolve) => refused.once('close', resolve)), 5000, 'the second connection closed by the gateway');
  t.regex(answer, /^HTTP\/1\.1 503 /, 'told why before the close');
  t.regex(answer, /http\.max_connections\)/);

  await gw.running.applyLive(next(10), false);
  t.is((await api(gw.url, '/healthz')).status, 200, 'served again under the higher bound');
});
