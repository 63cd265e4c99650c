// Slow headers (slowloris), http.max_connections and http.max_connections_per_address: each refusal's
// answer and counter, and a real spot getting in while slow clients hold connections (docs/limits.md).
import net from 'node:net';
import test from 'ava';
import { defaultConfig } from '../../gateway/src/config/index.js';
import { JSON_EVENTS, SpotConnection, startTestGateway, waitFor } from '../helpers/gateway.js';
import { Dribbler, metric, parseAnswer, RawClient, rawGet } from '../helpers/raw-client.js';
import { within } from '../helpers/wait.js';
import { jsonText, presence } from './events.js';

async function metrics(port: number, from = '127.0.0.9'): Promise<string> {
  const answer = await rawGet(port, '/metrics', from);
  if (answer.status !== 200) throw new Error(`/metrics answered ${answer.status}: ${answer.body}`);
  return answer.body;
}

/** A post from `localAddress` on its own connection; its status. */
async function postFrom(port: number, localAddress: string, serial: number, events: number[]): Promise<number> {
  const client = new RawClient(port, localAddress);
  try {
    await client.ready();
    const body = Buffer.from(jsonText(events.map(presence)));
    const head = `POST /api/spots/${serial}/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${JSON_EVENTS['Content-Type']}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    client.write(Buffer.concat([Buffer.from(head), body]));
    return parseAnswer(await client.whenClosed(10000, `the answer to spot ${serial}'s post`)).status;
  } finally {
    client.close();
  }
}

test('headers dribbled byte by byte are answered 408 after http.header_timeout_ms and closed, and counted; so is a silent connection', async (t) => {
  const gw = await startTestGateway(t, { config: { http: { header_timeout_ms: 400 } } });
  const slow = new Dribbler(gw.port, '127.0.0.1', 50);
  const silent = new RawClient(gw.port);
  t.teardown(() => {
    slow.close();
    silent.close();
  });
  const answer = parseAnswer(await slow.whenClosed(10000, 'the slow connection closed'));
  t.is(answer.status, 408);
  t.is(answer.headers.connection, 'close');
  t.deepEqual(JSON.parse(answer.body), { error: 'request timeout', reason: 'request line and headers not received within http.header_timeout_ms' });
  t.is(parseAnswer(await silent.whenClosed(10000, 'the silent connection closed')).status, 408);
  const text = await metrics(gw.port);
  t.is(metric(text, 'spot_gateway_request_timeouts_total{phase="headers"}'), 2);
  t.is(metric(text, 'spot_gateway_request_timeouts_total{phase="body"}'), 0);
  // A spot whose headers come whole is served as ever.
  t.is(await postFrom(gw.port, '127.0.0.2', 31, [1]), 200);
});

test('slow clients fill their address\'s connections, then all of them: a spot from another address still gets in until the whole bound is taken; a shorter header timeout (SIGHUP) frees them', async (t) => {
  const gw = await startTestGateway(t, { config: { http: { max_connections: 4, max_connections_per_address: 2, header_timeout_ms: 60000 } } });
  const held: RawClient[] = [];
  t.teardown(() => held.forEach((c) => c.close()));
  const dribble = (from: string): Dribbler => {
    const d = new Dribbler(gw.port, from);
    held.push(d);
    return d;
  };
  const slow = [dribble('127.0.0.1'), dribble('127.0.0.1')];
  for (const s of slow) await s.ready();
  await waitFor(async () => metric(await metrics(gw.port), 'spot_gateway_connections_open')! >= 3, 5000, 'the two slow connections counted (and the scrape)');

  // A third from the same address: refused at once with 503, told why.
  const third = new RawClient(gw.port, '127.0.0.1');
  held.push(third);
  const refused = parseAnswer(await third.whenClosed(5000, 'the third connection from 127.0.0.1 closed'));
  t.is(refused.status, 503);
  t.is(refused.headers['retry-after'], '1');
  t.regex(JSON.parse(refused.body).reason, /^connection refused: 127\.0\.0\.1 holds 2 connections, the most one address may \(http\.max_connections_per_address\)/);

  // A spot elsewhere is not kept out by them.
  t.is(await postFrom(gw.port, '127.0.0.2', 32, [1, 2]), 200);

  // Slow clients from a second address take the rest of the bound: now a spot is refused, told why.
  const more = [dribble('127.0.0.3'), dribble('127.0.0.3')];
  for (const s of more) await s.ready();
  const full = await waitFor(
    async () => {
      const c = new RawClient(gw.port, '127.0.0.4');
      held.push(c);
      c.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      const answer = parseAnswer(await c.whenClosed(5000, 'a connection from 127.0.0.4 answered'));
      // Until the gateway saw the earlier post's connection close, there was room for one more.
      return answer.status === 503 ? answer : undefined;
    },
    5000,
    'a connection refused at http.max_connections',
  );
  t.regex(JSON.parse(full.body).reason, /the gateway holds its 4 connections \(http\.max_connections\)/);

  // The header timeout lowered at a reload: the slow connections are answered 408 and closed.
  await gw.running.applyLive(defaultConfig({ ...gw.config, http: { ...gw.config.http, header_timeout_ms: 300 } }), false);
  for (const s of [...slow, ...more]) t.is(parseAnswer(await s.whenClosed(10000, 'a slow connection closed at the new header timeout')).status, 408);
  // The slow connections' slots are free once their 408s are written; the post's own connection may still be closing.
  await waitFor(async () => (await postFrom(gw.port, '127.0.0.4', 33, [3])) === 200, 10000, 'a post once the slow connections are gone');

  const text = await metrics(gw.port);
  t.is(metric(text, 'spot_gateway_request_timeouts_total{phase="headers"}'), 4);
  t.is(metric(text, 'spot_gateway_connections_refused_total{limit="max_connections_per_address"}'), 1);
  t.true(metric(text, 'spot_gateway_connections_refused_total{limit="max_connections"}')! >= 1);
});

test('http.max_connections_per_address 0: one address may take every connection up to http.max_connections', async (t) => {
  const gw = await startTestGateway(t, { config: { http: { max_connections: 3, max_connections_per_address: 0 } } });
  const conns = [new SpotConnection(gw.port), new SpotConnection(gw.port), new SpotConnection(gw.port)];
  t.teardown(() => conns.forEach((c) => c.close()));
  for (const [i, c] of conns.entries()) t.is((await c.post(40 + i, jsonText([presence(i)]), { headers: JSON_EVENTS })).status, 200);
});

test('a connection refused at the bound is answered 503 and not counted as a header timeout; a silent one beside it is', async (t) => {
  const gw = await startTestGateway(t, { config: { http: { max_connections: 2, header_timeout_ms: 150 } } });
  // One connection holds a slot with a finished request (an idle keep-alive connection has no header timeout).
  const held = new SpotConnection(gw.port);
  t.teardown(() => held.close());
  t.is((await held.post(51, jsonText([presence(1)]), { headers: JSON_EVENTS })).status, 200);
  const filler = new RawClient(gw.port, '127.0.0.2');
  t.teardown(() => filler.close());
  // The filler sends nothing: it is answered 408 after 150 ms. The one refused meanwhile lingers a second, silent as well.
  await filler.ready();
  const refused = new RawClient(gw.port, '127.0.0.3');
  t.teardown(() => refused.close());
  const text = await refused.whenClosed(10000, 'the refused connection closed');
  t.is(parseAnswer(text).status, 503);
  t.is(parseAnswer(await filler.whenClosed(10000, 'the silent filler closed')).status, 408);
  // The filler's slot is free once its 408 is written.
  const counted = await waitFor(
    () => metrics(gw.port).then((text) => metric(text, 'spot_gateway_request_timeouts_total{phase="headers"}'), () => undefined),
    5000,
    'the metrics once a slot is free',
  );
  t.is(counted, 1, 'the filler only');
});

test('a connection answered 408 frees its slot when the answer is written: the next one from its address is admitted at once, though the client keeps its side open', async (t) => {
  const gw = await startTestGateway(t, { config: { http: { max_connections_per_address: 1, header_timeout_ms: 200 } } });
  // Half-open allowed: this client never closes its side, so the gateway's connection could linger its second.
  const slow = net.connect({ port: gw.port, host: '127.0.0.1', localAddress: '127.0.0.5', allowHalfOpen: true });
  t.teardown(() => slow.destroy());
  let answer = '';
  slow.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  slow.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => slow.once('end', resolve));
  slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  await within(ended, 10000, 'the 408 and the end of the gateway\'s side');
  t.is(parseAnswer(answer).status, 408);
  t.false(slow.destroyed, 'the slow client still holds its connection');
  // At once, not after the linger: the address is at its bound of 1 until the 408's slot is free.
  const next = await rawGet(gw.port, '/healthz', '127.0.0.5');
  t.is(next.status, 200, next.body);
  const text = await metrics(gw.port);
  t.is(metric(text, 'spot_gateway_connections_refused_total{limit="max_connections_per_address"}'), 0);
});
