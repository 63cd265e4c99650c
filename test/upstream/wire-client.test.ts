// The gateway's MQTT connection (mqtt-wire/client.ts) against a scripted broker on a real socket:
// what it sends, and what it does with each packet a broker may send.
import net from 'node:net';
import test from 'ava';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { WireClient } from '../../gateway/src/upstream/mqtt-wire/client.js';
import type { ConnectOptions, Connack, InboundPublish } from '../../gateway/src/upstream/options.js';
import { parseBrokerUrl, tlsFailure, tlsOptions } from '../../gateway/src/upstream/mqtt-wire/target.js';

interface Scripted {
  url: string;
  /** Packets the client sent, in order. */
  got: Packet[];
  /** Bytes to the client. */
  send(packet: Packet | Buffer): void;
  /** Resolves with the first packet (from the start) that matches, or rejects after `ms`. */
  waitFor(match: (p: Packet) => boolean, ms?: number): Promise<Packet>;
  /** Resolves when the client's socket ended. */
  ended: Promise<void>;
}

async function scriptedBroker(t: { teardown(fn: () => unknown): void }, version: 4 | 5, onConnect?: (s: Scripted) => void): Promise<Scripted> {
  let socket: net.Socket | null = null;
  let endedResolve: () => void = () => {};
  const waiters: Array<() => void> = [];
  const scripted: Scripted = {
    url: '',
    got: [],
    send: (packet) => socket?.write(Buffer.isBuffer(packet) ? packet : mqttPacket.generate(packet, { protocolVersion: version })),
    waitFor: (match, ms = 5000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching packet within ${ms} ms; got ${scripted.got.map((p) => p.cmd).join(', ')}`)), ms);
        const check = (): boolean => {
          const found = scripted.got.find(match);
          if (!found) return false;
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        if (!check()) waiters.push(() => void check());
      }),
    ended: new Promise<void>((resolve) => (endedResolve = resolve)),
  };
  const server = net.createServer((s) => {
    socket = s;
    const parser = mqttPacket.parser({ protocolVersion: version });
    parser.on('packet', (p: Packet) => {
      scripted.got.push(p);
      if (p.cmd === 'connect') onConnect?.(scripted);
      for (const w of waiters.splice(0)) w();
    });
    s.on('data', (b: Buffer) => parser.parse(b));
    s.on('end', () => endedResolve());
    s.on('close', () => endedResolve());
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  scripted.url = `mqtt://127.0.0.1:${port}`;
  t.teardown(() => {
    socket?.destroy();
    server.close();
  });
  return scripted;
}

function options(extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    protocolVersion: 5,
    clientId: 'c1',
    clean: false,
    keepaliveSeconds: 30,
    connectTimeoutMs: 5000,
    will: { topic: 'gw/state', payload: Buffer.from('offline'), qos: 1, retain: true },
    sessionExpirySeconds: 3600,
    maximumPacketSize: 73728,
    ...extra,
  };
}

/** The client's next event of that name, or a rejection after `ms`. */
function next<T>(client: WireClient, event: 'connect' | 'error' | 'close', ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    client.once(event, (v: T) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

const connackOk = (properties?: Record<string, number>): Packet => ({ cmd: 'connack', sessionPresent: false, reasonCode: 0, ...(properties ? { properties } : {}) });

test('CONNECT carries the session, the will, Maximum Packet Size and the credentials of the URL; CONNACK properties reach the caller', async (t) => {
  const broker = await scriptedBroker(t, 5, (s) => s.send(connackOk({ receiveMaximum: 7, maximumPacketSize: 1000 })));
  const client = new WireClient(broker.url.replace('mqtt://', 'mqtt://us%20er:p%40ss@'), options());
  t.teardown(() => client.end(true));
  const connack = await next<Connack>(client, 'connect');
  t.deepEqual(connack, { sessionPresent: false, properties: { receiveMaximum: 7, maximumPacketSize: 1000 } });
  const connect = broker.got[0] as mqttPacket.IConnectPacket;
  t.is(connect.clientId, 'c1');
  t.false(connect.clean);
  t.is(connect.keepalive, 30);
  t.is(connect.username, 'us er');
  t.is(connect.password?.toString(), 'p@ss');
  t.deepEqual(connect.properties, { sessionExpiryInterval: 3600, maximumPacketSize: 73728 });
  t.is(connect.will?.topic, 'gw/state');
  t.true(connect.will?.retain);
  t.is(client.brokerMaximumPacketSize, 1000);
});

test('a CONNACK refusal is an error with the reason code, in words (MQTT 5 and 3.1.1)', async (t) => {
  const v5 = await scriptedBroker(t, 5, (s) => s.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0x87 }));
  const c5 = new WireClient(v5.url, options());
  const e5 = await next<Error & { code: number }>(c5, 'error');
  t.is(e5.message, 'CONNACK 0x87 (not authorized)');
  t.is(e5.code, 0x87);
  await next(c5, 'close');
  const v4 = await scriptedBroker(t, 4, (s) => s.send({ cmd: 'connack', sessionPresent: false, returnCode: 1 }));
  const c4 = new WireClient(v4.url, options({ protocolVersion: 4 }));
  const e4 = await next<Error & { code: number }>(c4, 'error');
  t.is(e4.message, 'CONNACK 0x01 (unacceptable protocol version)');
  t.is(e4.code, 1);
});

test('PUBACKs settle publishes by packet id; an error reason code becomes an error carrying it; 0x10 is a success', async (t) => {
  const broker = await scriptedBroker(t, 5, (s) => s.send(connackOk()));
  const client = new WireClient(broker.url, options());
  t.teardown(() => client.end(true));
  await next(client, 'connect');
  const results: string[] = [];
  client.publish('a', 'one', { qos: 1, properties: { contentType: 'text/plain', userProperties: { event_id: 'x:1' } } }, (err) => results.push(`one:${err ? (err as Error & { code: number }).code : 'ok'}`));
  client.publish('b', Buffer.from('two'), { qos: 1, retain: true }, (err) => results.push(`two:${err ? err.message : 'ok'}`));
  const one = (await broker.waitFor((p) => p.cmd === 'publish' && p.topic === 'a')) as mqttPacket.IPublishPacket;
  const two = (await broker.waitFor((p) => p.cmd === 'publish' && p.topic === 'b')) as mqttPacket.IPublishPacket;
  t.deepEqual(one.properties, { contentType: 'text/plain', userProperties: { event_id: 'x:1' } });
  t.true(two.retain);
  t.is(two.qos, 1);
  broker.send({ cmd: 'puback', messageId: two.messageId!, reasonCode: 0x87 });
  broker.send({ cmd: 'puback', messageId: 999, reasonCode: 0 }); // awaited by nobody: ignored
  broker.send({ cmd: 'puback', messageId: one.messageId!, reasonCode: 0x10 });
  broker.send({ cmd: 'pingresp' });
  const deadline = Date.now() + 5000;
  while (results.length < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  t.deepEqual(results, ['two:Publish error: reason code 0x87 (not authorized)', 'one:ok']);
  t.is(client.pubacksTapped, 2);
});

test("publish() refuses a packet over the broker's Maximum Packet Size at once (0x95), without sending it", async (t) => {
  const broker = await scriptedBroker(t, 5, (s) => s.send(connackOk({ maximumPacketSize: 50 })));
  const client = new WireClient(broker.url, options());
  t.teardown(() => client.end(true));
  await next(client, 'connect');
  let refused: (Error & { code?: number }) | undefined;
  client.publish('a', 'x'.repeat(100), { qos: 1 }, (err) => (refused = err));
  t.is(refused?.code, 0x95);
  t.regex(refused?.message ?? '', /over the broker's maximum of 50/);
  client.subscribe(['to/#'], { qos: 1 }, () => {});
  await broker.waitFor((p) => p.cmd === 'subscribe');
  t.false(broker.got.some((p) => p.cmd === 'publish'));
});

test('SUBACK: granted filters call back without an error, a refused one with its code and the packet', async (t) => {
  const broker = await scriptedBroker(t, 5, (s) => s.send(connackOk()));
  const client = new WireClient(broker.url, options());
  t.teardown(() => client.end(true));
  await next(client, 'connect');
  const results: Array<Error | null> = [];
  client.subscribe(['to/+/pb', 'to/+/json/+/+'], { qos: 1 }, (err) => results.push(err));
  const first = (await broker.waitFor((p) => p.cmd === 'subscribe')) as mqttPacket.ISubscribePacket;
  t.deepEqual(first.subscriptions.map((s) => [s.topic, s.qos]), [['to/+/pb', 1], ['to/+/json/+/+', 1]]);
  broker.send({ cmd: 'suback', messageId: first.messageId!, granted: [1, 1] });
  client.subscribe(['denied/#'], { qos: 1 }, (err) => results.push(err));
  const second = (await broker.waitFor((p) => p.cmd === 'subscribe' && p.messageId !== first.messageId)) as mqttPacket.ISubscribePacket;
  broker.send({ cmd: 'suback', messageId: second.messageId!, granted: [0x87] });
  broker.send({ cmd: 'suback', messageId: 4242, granted: [1] }); // for no subscribe: ignored
  const deadline = Date.now() + 5000;
  while (results.length < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  t.is(results[0], null);
  t.is((results[1] as Error & { code: number }).code, 0x87);
  t.truthy((results[1] as Error & { packet?: unknown }).packet);
});

test('an inbound QoS 1 PUBLISH is acknowledged only once the handler is done; QoS 0 is never acknowledged', async (t) => {
  const broker = await scriptedBroker(t, 5, (s) => s.send(connackOk()));
  const client = new WireClient(broker.url, options());
  t.teardown(() => client.end(true));
  const handled: Array<[InboundPublish, () => void]> = [];
  client.handleMessage = (packet, done) => handled.push([packet, done]);
  await next(client, 'connect');
  broker.send({ cmd: 'publish', qos: 1, dup: false, retain: true, topic: 'to/1/json/a/b', payload: Buffer.from('{}'), messageId: 77 });
  broker.send({ cmd: 'publish', qos: 0, dup: false, retain: false, topic: 'to/1/pb', payload: Buffer.from([1]) });
  const deadline = Date.now() + 5000;
  while (handled.length < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  t.deepEqual(handled.map(([p]) => [p.topic, p.payload.toString('hex'), p.retain]), [['to/1/json/a/b', '7b7d', true], ['to/1/pb', '01', false]]);
  client.publish('marker', '', { qos: 1 }, () => {});
  await broker.waitFor((p) => p.cmd === 'publish');
  t.false(broker.got.some((p) => p.cmd === 'puback'), 'no PUBACK before the handler is done');
  handled[0]![1]();
  handled[0]![1]();
  handled[1]![1]();
  await broker.waitFor((p) => p.cmd === 'puback');
  client.publish('marker2', '', { qos: 1 }, () => {});
  await broker.waitFor((p) => p.cmd === 'publish' && p.topic === 'marker2');
  t.deepEqual(broker.got.filter((p) => p.cmd === 'puback').map((p) => p.messageId), [77], 'one PUBACK, for the QoS 1 message');
});

for (const [name, packet, expected] of [
  ['a QoS 2 PUBLISH', { cmd: 'publish', qos: 2, dup: false, retain: false, topic: 't', payload: Buffer.from('x'), messageId: 3 }, 'the broker sent a QoS 2 PUBLISH on a QoS 1 subscription'],
  ['a DISCONNECT with a reason', { cmd: 'disconnect', reasonCode: 0x8e, properties: { reasonString: 'another client took the id' } }, 'the broker disconnected: reason 0x8e (session taken over): another client took the id'],
  ['a PUBREC', { cmd: 'pubrec', messageId: 1 }, 'the broker sent an unexpected PUBREC packet'],
  ['a second CONNACK', connackOk(), 'the broker sent a second CONNACK'],
  ['a malformed packet', Buffer.from([0x20, 0x02, 0xff, 0x00]), 'the broker sent a malformed packet: Invalid connack flags, bits 7-1 must be set to 0'],
] as Array<[string, Packet | Buffer, string]>) {
  test(`${name} after CONNACK is an error naming it, and the connection closes`, async (t) => {
    const broker = await scriptedBroker(t, 5, (s) => s.send(connackOk()));
    const client = new WireClient(broker.url, options());
    t.teardown(() => client.end(true));
    await next(client, 'connect');
    const error = next<Error>(client, 'error');
    const closed = next(client, 'close');
    broker.send(packet);
    t.is((await error).message, expected);
    await closed;
    t.throws(() => client.write(Buffer.from([0xc0, 0])), { message: 'the connection to the broker is closed' });
  });
}

test('keepalive: a PINGREQ when idle; a broker that answers nothing at all is found dead', async (t) => {
  const broker = await scriptedBroker(t, 5, (s) => s.send(connackOk()));
  const client = new WireClient(broker.url, options({ keepaliveSeconds: 1 }));
  t.teardown(() => client.end(true));
  await next(client, 'connect');
  const error = next<Error>(client, 'error', 5000);
  await broker.waitFor((p) => p.cmd === 'pingreq', 3000);
  t.is((await error).message, 'connection dead: no answer to a PINGREQ within 500 ms');
  await next(client, 'close');
});

test('keepalive: a broker answering PINGREQs keeps the connection', async (t) => {
  const broker = await scriptedBroker(t, 5, (s) => s.send(connackOk()));
  const client = new WireClient(broker.url, options({ keepaliveSeconds: 1 }));
  t.teardown(() => client.end(true));
  let errors = 0;
  client.on('error', () => errors++);
  await next(client, 'connect');
  for (let n = 1; n <= 3; n++) {
    await broker.waitFor(() => broker.got.filter((p) => p.cmd === 'pingreq').length >= n, 3000);
    broker.send({ cmd: 'pingresp' });
  }
  t.is(errors, 0);
});

test('no CONNACK within the connect timeout: an error, and the connection closes', async (t) => {
  const broker = await scriptedBroker(t, 5);
  const client = new WireClient(broker.url, options({ connectTimeoutMs: 200 }));
  t.is((await next<Error>(client, 'error')).message, 'no CONNACK within 200 ms');
  await next(client, 'close');
  let called = false;
  client.end(false, {}, () => (called = true));
  t.true(called, 'end() of a closed client calls back at once');
});

test('end(): a DISCONNECT, then the socket ends and the callback runs', async (t) => {
  const broker = await scriptedBroker(t, 5, (s) => s.send(connackOk()));
  const client = new WireClient(broker.url, options());
  await next(client, 'connect');
  const done = new Promise<void>((resolve) => client.end(false, {}, resolve));
  await broker.waitFor((p) => p.cmd === 'disconnect');
  await broker.ended;
  await done;
  t.is(broker.got.at(-1)?.cmd, 'disconnect');
});

test('end() before the CONNACK drops the socket', async (t) => {
  const broker = await scriptedBroker(t, 5);
  const client = new WireClient(broker.url, options());
  await broker.waitFor((p) => p.cmd === 'connect');
  const done = new Promise<void>((resolve) => client.end(false, {}, resolve));
  await done;
  t.false(broker.got.some((p) => p.cmd === 'disconnect'));
});

test('a refused TCP connection is an error naming it', async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const client = new WireClient(`mqtt://127.0.0.1:${port}`, options());
  const err = await next<Error & { code?: string }>(client, 'error');
  t.is(err.code, 'ECONNREFUSED');
  await next(client, 'close');
});

test('broker URLs: schemes, default ports, IPv6, credentials; bad ones refused with the reason', (t) => {
  t.deepEqual(parseBrokerUrl('mqtt://h'), { host: 'h', port: 1883, tls: false });
  t.deepEqual(parseBrokerUrl('tcp://h:1'), { host: 'h', port: 1, tls: false });
  t.deepEqual(parseBrokerUrl('mqtts://[::1]'), { host: '::1', port: 8883, tls: true });
  t.deepEqual(parseBrokerUrl('ssl://u:p@h:9'), { host: 'h', port: 9, tls: true, username: 'u', password: 'p' });
  t.throws(() => parseBrokerUrl('ws://h'), { message: 'broker URL "ws://h": scheme ws is not supported (mqtt, mqtts, tcp, ssl)' });
  t.throws(() => parseBrokerUrl('nonsense'), { message: /is not a URL/ });
  t.throws(() => parseBrokerUrl('mqtt://'), { message: /is not a URL|has no host/ });
  t.throws(() => new WireClient('mqtt://127.0.0.1:1', options({ tls: { caFile: '/nonexistent' } })), { message: 'TLS files are configured but mqtt://127.0.0.1:1 is not an mqtts:// URL' });
  t.throws(() => new WireClient('mqtts://127.0.0.1:1', options({ tls: { caFile: '/nonexistent/ca.pem' } })), { message: /^mqtt\.tls_ca_file: cannot read \/nonexistent\/ca\.pem: ENOENT/ });
});

test('a CONNACK refusal with a reason string, and a bare DISCONNECT, are reported with what they carry', async (t) => {
  const refusing = await scriptedBroker(t, 5, (s) => s.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0x86, properties: { reasonString: 'who are you' } }));
  const refused = new WireClient(refusing.url, options());
  t.is((await next<Error>(refused, 'error')).message, 'CONNACK 0x86 (bad user name or password): who are you');
  const dropping = await scriptedBroker(t, 5, (s) => s.send(connackOk()));
  const dropped = new WireClient(dropping.url, options());
  t.teardown(() => dropped.end(true));
  await next(dropped, 'connect');
  const error = next<Error>(dropped, 'error');
  dropping.send(Buffer.from([0xe0, 0x00]));
  t.is((await error).message, 'the broker disconnected: reason 0x00');
});

test('all 65535 packet ids in use: publish and subscribe throw, naming it', async (t) => {
  const broker = await scriptedBroker(t, 5, (s) => s.send(connackOk()));
  const client = new WireClient(broker.url, options());
  t.teardown(() => client.end(true));
  await next(client, 'connect');
  for (let i = 0; i < 65535; i++) client.track(() => {});
  t.throws(() => client.track(() => {}), { message: 'no MQTT packet id free' });
  t.throws(() => client.subscribe(['x'], { qos: 1 }, () => {}), { message: 'no MQTT packet id free' });
  client.untrack(7);
  t.notThrows(() => client.subscribe(['x'], { qos: 1 }, () => {}));
});

test('TLS options: SNI for a host name only; the name check off keeps the chain check; no TLS files with mqtt:// is fine', async (t) => {
  t.is(tlsOptions(parseBrokerUrl('mqtts://broker.test'), {}).servername, 'broker.test');
  t.is(tlsOptions(parseBrokerUrl('mqtts://10.0.0.5'), {}).servername, undefined);
  const lax = tlsOptions(parseBrokerUrl('mqtts://10.0.0.5'), { verifyServerName: false });
  t.true(lax.rejectUnauthorized);
  t.is(lax.checkServerIdentity?.('x', {} as never), undefined);
  t.is(tlsFailure(parseBrokerUrl('mqtts://h'), new Error('odd')).message, 'TLS with h:8883 failed: odd');
  const client = new WireClient('mqtt://127.0.0.1:1', options({ tls: { verifyServerName: true } }));
  const err = await next<Error & { code?: string }>(client, 'error');
  t.is(err.code, 'ECONNREFUSED');
  const tlsClient = new WireClient('mqtts://127.0.0.1:1', options());
  t.is((await next<Error & { code?: string }>(tlsClient, 'error')).code, 'ECONNREFUSED', 'a refused TCP connection is not dressed as a TLS failure');
});
