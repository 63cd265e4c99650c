// Spot WebSocket upgrades refused before the upgrade, with the {error, reason} a post would get (docs/websocket.md, Opening).
import net from 'node:net';
import test from 'ava';
import { openAuthDb } from '../../gateway/src/auth/auth-db.js';
import { SpotTokens } from '../../gateway/src/auth/spot-tokens.js';
import { api, startTestGateway, tempDir, within } from '../helpers/gateway.js';
import { jsonText, presence } from '../http/events.js';
import { seedAuth } from '../auth/http.js';
import { WsSpot } from './ws-spot.js';

test('no supported subprotocol offered: 400 naming the two, nothing upgraded', async (t) => {
  const gw = await startTestGateway(t);
  for (const protocols of [[], ['chat', 'spot-json.v2']]) {
    const refused = await WsSpot.refused(gw.port, 41, { protocols });
    t.is(refused.status, 400);
    t.is(refused.body.error, 'bad request');
    t.regex(refused.body.reason, /no supported subprotocol offered in Sec-WebSocket-Protocol: the gateway speaks spot-json\.v1, spot-pb\.v1/);
  }
});

test('bad serial and bad numbering headers: 400 with the reason a post gets', async (t) => {
  const gw = await startTestGateway(t);
  const serial = await WsSpot.refused(gw.port, 'abc');
  t.is(serial.status, 400);
  t.regex(serial.body.reason, /serial "abc" is not a positive integer/);
  const numbering = await WsSpot.refused(gw.port, 42, { headers: { 'X-Spot-Boot': '1', 'X-Spot-Seq': 'x' } });
  t.is(numbering.status, 400);
  t.regex(numbering.body.reason, /^spot 42: /);
});

test('auth.spots token: missing or wrong token gets 401 with WWW-Authenticate; the right one opens', async (t) => {
  const dataDir = tempDir(t);
  const seeded = await seedAuth(dataDir, { siteToken: true });
  const gw = await startTestGateway(t, { dataDir, config: { auth: { spots: 'token' } } });
  const token = seeded.site!.token;
  const missing = await WsSpot.refused(gw.port, 43);
  t.is(missing.status, 401);
  t.is(missing.headers['www-authenticate'], 'Bearer realm="spot-gateway"');
  t.regex(missing.body.reason, /spot 43: no Authorization: Bearer token.*nothing of this connection was read or stored/);
  const wrong = await WsSpot.refused(gw.port, 43, { headers: { Authorization: `Bearer ${token.slice(0, -2)}xx` } });
  t.is(wrong.status, 401);
  t.regex(wrong.body.reason, /unknown token/);
  const spot = await WsSpot.open(gw.port, 43, { headers: { Authorization: `Bearer ${token}` } });
  t.teardown(() => spot.close());
  t.is(spot.protocol, 'spot-json.v1');
});

test('a token revoked while its WebSocket is open: what was sent is acknowledged, then an error and close 1008; reconnecting is refused 401', async (t) => {
  const dataDir = tempDir(t);
  const seeded = await seedAuth(dataDir, { spotTokens: ['44'] });
  const gw = await startTestGateway(t, { dataDir, config: { auth: { spots: 'token' }, http: { idle_timeout_ms: 2000 } } });
  const { id, token } = seeded.perSpot.get('44')!;
  const spot = await WsSpot.open(gw.port, 44, { headers: { Authorization: `Bearer ${token}`, 'X-Spot-Boot': '1', 'X-Spot-Seq': '1' } });
  t.teardown(() => spot.close());
  await spot.send(jsonText([presence(1), presence(2)]));
  t.deepEqual(await spot.waitAck(2), { events: 2, boot: 1, seq: 2 });
  const db = openAuthDb(dataDir);
  t.true(new SpotTokens(db).revoke(id));
  db.close();
  t.is(await spot.waitClose(5000), 1008);
  t.deepEqual(spot.errors, [{ error: 'unauthorized', reason: 'spot 44: token revoked; events acknowledged so far are stored' }]);
  t.is((await api<unknown[]>(gw.url, '/api/events?spot=44')).body.length, 2);
  const again = await WsSpot.refused(gw.port, 44, { headers: { Authorization: `Bearer ${token}` } });
  t.is(again.status, 401);
  t.regex(again.body.reason, /token revoked/);
});

/** A raw upgrade request; resolves with the status line and body of the answer. */
function rawUpgrade(port: number, method: string, path: string): Promise<{ statusLine: string; body: string }> {
  return within(
    new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(
          `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
            `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: spot-json.v1\r\nContent-Length: 0\r\n\r\n`,
        );
      });
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ statusLine: text.split('\r\n')[0]!, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
      });
    }),
    5000,
    `${method} ${path} upgrade answered`,
  );
}

test('an upgrade elsewhere gets 404, and with another method than GET 405, as JSON', async (t) => {
  const gw = await startTestGateway(t);
  const elsewhere = await rawUpgrade(gw.port, 'GET', '/api/status');
  t.is(elsewhere.statusLine, 'HTTP/1.1 404 Not Found');
  t.regex(JSON.parse(elsewhere.body).reason, /no WebSocket at \/api\/status/);
  const post = await rawUpgrade(gw.port, 'POST', '/api/spots/44/events/');
  t.is(post.statusLine, 'HTTP/1.1 405 Method Not Allowed');
  t.regex(JSON.parse(post.body).reason, /a WebSocket opens with GET/);
});
