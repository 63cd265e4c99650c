// What the gateway relies on in mqtt-packet (pinned to an exact version in package.json): the bytes
// generate() gives for every packet the connection sends, and the parser's packet objects for every
// packet it reads. The expected bytes are written out by hand from the specs (MQTT 5.0 OASIS
// standard, section 3; MQTT 3.1.1, section 3), not taken from the library: an upgrade that changes
// either side fails here.
import { createRequire } from 'node:module';
import test from 'ava';
import mqttPacket, { type Packet } from 'mqtt-packet';
import {
  connectPacket,
  DISCONNECT,
  encode,
  PINGREQ,
  pubackPacket,
  publishPacket,
  subscribePacket,
  type ConnectFields,
} from '../../gateway/src/upstream/mqtt-wire/packets.js';

const require = createRequire(import.meta.url);
const numbers = require('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> };

const hex = (s: string): string => s.replace(/\s+/g, '');
const ascii = (s: string): string => Buffer.from(s).toString('hex');

const connectFields = (version: 4 | 5, credentials = false): ConnectFields => ({
  protocolVersion: version,
  clientId: 'c',
  clean: false,
  keepaliveSeconds: 30,
  will: { topic: 'w', payload: Buffer.from('x'), retain: true },
  sessionExpirySeconds: 3600,
  maximumPacketSize: 73728,
  ...(credentials ? { username: 'u', password: 'p' } : {}),
});

const sent: Array<[string, 4 | 5, Packet, string]> = [
  [
    // 3.1: flags 0x2c = will retain (0x20) | will QoS 1 (0x08) | will flag (0x04), clean start 0;
    // properties: 0x11 session expiry interval (4 bytes), 0x27 maximum packet size (4 bytes); 3.1.3.2: empty will properties.
    'CONNECT, MQTT 5',
    5,
    connectPacket(connectFields(5)),
    `10 1f  0004 ${ascii('MQTT')} 05 2c 001e  0a 11 00000e10 27 00012000  0001 ${ascii('c')} 00 0001 ${ascii('w')} 0001 ${ascii('x')}`,
  ],
  [
    'CONNECT, MQTT 5, user name and password from the URL',
    5,
    connectPacket(connectFields(5, true)),
    `10 25  0004 ${ascii('MQTT')} 05 ec 001e  0a 11 00000e10 27 00012000  0001 ${ascii('c')} 00 0001 ${ascii('w')} 0001 ${ascii('x')} 0001 ${ascii('u')} 0001 ${ascii('p')}`,
  ],
  ['CONNECT, MQTT 3.1.1', 4, connectPacket(connectFields(4)), `10 13  0004 ${ascii('MQTT')} 04 2c 001e  0001 ${ascii('c')} 0001 ${ascii('w')} 0001 ${ascii('x')}`],
  // 3.8: fixed header 0x82; packet id; properties length 0; filter; options byte = QoS 1.
  ['SUBSCRIBE, MQTT 5', 5, subscribePacket(1, ['a/+', 'b']), `82 0d 0001 00 0003 ${ascii('a/+')} 01 0001 ${ascii('b')} 01`],
  ['SUBSCRIBE, MQTT 3.1.1', 4, subscribePacket(1, ['a/+']), `82 08 0001 0003 ${ascii('a/+')} 01`],
  // 3.4.2.1: a success PUBACK may omit reason code and properties; mqtt-packet writes both (0x00, length 0).
  ['PUBACK, MQTT 5', 5, pubackPacket(258), '40 04 0102 00 00'],
  ['PUBACK, MQTT 3.1.1', 4, pubackPacket(258), '40 02 0102'],
  ['PINGREQ', 5, PINGREQ, 'c0 00'],
  // 3.14.2.1: normal disconnection 0x00 (the broker drops the will), properties length 0.
  ['DISCONNECT, MQTT 5', 5, DISCONNECT, 'e0 02 00 00'],
  ['DISCONNECT, MQTT 3.1.1', 4, DISCONNECT, 'e0 00'],
  // 3.3.1: 0x33 = PUBLISH | QoS 1 (0x02) | RETAIN (0x01): the gateway's retained state message.
  ['PUBLISH QoS 1 retained, MQTT 5', 5, publishPacket('t', 'on', 7, true), `33 08 0001 ${ascii('t')} 0007 00 ${ascii('on')}`],
  ['PUBLISH QoS 1 retained, MQTT 3.1.1', 4, publishPacket('t', 'on', 7, true), `33 07 0001 ${ascii('t')} 0007 ${ascii('on')}`],
  [
    // 3.3.2.3: 0x26 user property (two strings), 0x03 content type; in the order the object gives them.
    'PUBLISH QoS 1 with event_id and content type, MQTT 5',
    5,
    publishPacket('t', Buffer.from('on'), 7, false, { userProperties: { event_id: 'i:1' }, contentType: 'a/j' }),
    `32 1e 0001 ${ascii('t')} 0007 16  26 0008 ${ascii('event_id')} 0003 ${ascii('i:1')}  03 0003 ${ascii('a/j')}  ${ascii('on')}`,
  ],
];

for (const [name, version, packet, expected] of sent) {
  test(`generate: ${name}`, (t) => {
    t.is(encode(packet, version).toString('hex'), hex(expected));
  });
}

test('generate never builds the 6.5 MB packet-id cache (cacheNumbers off)', (t) => {
  encode(pubackPacket(1), 5);
  encode(subscribePacket(2, ['x']), 4);
  t.false(mqttPacket.writeToStream.cacheNumbers);
  t.is(Object.keys(numbers.cache).length, 0);
});

function parse(bytes: string, version: 4 | 5): { packets: Packet[]; errors: string[] } {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const packets: Packet[] = [];
  const errors: string[] = [];
  parser.on('packet', (p: Packet) => packets.push(p));
  parser.on('error', (e: Error) => errors.push(e.message));
  parser.parse(Buffer.from(hex(bytes), 'hex'));
  return { packets, errors };
}

/** The fields the client reads, and nothing else. */
function fields(p: Packet): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  const publish = ['topic', 'qos', 'retain', 'dup'];
  for (const key of ['cmd', 'sessionPresent', 'reasonCode', 'returnCode', 'properties', 'messageId', 'granted', ...(p.cmd === 'publish' ? publish : [])]) {
    const value = (p as unknown as Record<string, unknown>)[key];
    if (value !== undefined) picked[key] = value;
  }
  if (p.cmd === 'publish') picked.payload = Buffer.from(p.payload).toString('hex');
  return picked;
}

const received: Array<[string, 4 | 5, string, Record<string, unknown>]> = [
  // 3.2.2.3.3 receive maximum 0x21 (2 bytes), 3.2.2.3.6 maximum packet size 0x27 (4 bytes).
  ['CONNACK, MQTT 5, Receive Maximum and Maximum Packet Size', 5, '20 0b 00 00 08 21 0005 27 00001000', { cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 5, maximumPacketSize: 4096 } }],
  ['CONNACK, MQTT 5, refused with a reason string', 5, `20 08 00 87 05 1f 0002 ${ascii('no')}`, { cmd: 'connack', sessionPresent: false, reasonCode: 0x87, properties: { reasonString: 'no' } }],
  // A 3.1.1 broker's answer to an MQTT 5 CONNECT (return code 1), read by the MQTT 5 parser: the fallback's trigger.
  ['CONNACK of a 3.1.1 broker read as MQTT 5', 5, '20 02 00 01', { cmd: 'connack', sessionPresent: false, reasonCode: 1 }],
  ['CONNACK, MQTT 3.1.1, session present', 4, '20 02 01 00', { cmd: 'connack', sessionPresent: true, returnCode: 0 }],
  ['SUBACK, MQTT 5, one filter refused', 5, '90 05 0001 00 01 87', { cmd: 'suback', messageId: 1, granted: [1, 0x87] }],
  ['SUBACK, MQTT 3.1.1, one filter refused', 4, '90 04 0001 01 80', { cmd: 'suback', messageId: 1, granted: [1, 0x80] }],
  ['PUBLISH QoS 1, MQTT 5 (a command)', 5, `32 0a 0003 ${ascii('a/b')} 0005 00 ${ascii('{}')}`, { cmd: 'publish', topic: 'a/b', messageId: 5, qos: 1, retain: false, dup: false, payload: ascii('{}') }],
  ['PUBLISH QoS 1 retained, duplicate, MQTT 3.1.1', 4, `3b 09 0003 ${ascii('a/b')} 0005 ${ascii('{}')}`, { cmd: 'publish', topic: 'a/b', messageId: 5, qos: 1, retain: true, dup: true, payload: ascii('{}') }],
  ['PUBLISH QoS 0', 4, `30 07 0003 ${ascii('a/b')} ${ascii('{}')}`, { cmd: 'publish', topic: 'a/b', qos: 0, retain: false, dup: false, payload: ascii('{}') }],
  ['PUBACK, MQTT 5, reason code', 5, '40 03 0102 87', { cmd: 'puback', messageId: 258, reasonCode: 0x87 }],
  ['PINGRESP', 5, 'd0 00', { cmd: 'pingresp' }],
  ['DISCONNECT, MQTT 5, session taken over, reason string', 5, `e0 07 8e 05 1f 0002 ${ascii('no')}`, { cmd: 'disconnect', reasonCode: 0x8e, properties: { reasonString: 'no' } }],
];

for (const [name, version, bytes, expected] of received) {
  test(`parser: ${name}`, (t) => {
    const { packets, errors } = parse(bytes, version);
    t.deepEqual(errors, []);
    t.is(packets.length, 1);
    t.deepEqual(fields(packets[0]!), expected);
  });
}

test('parser: a malformed packet is an error event, and a packet cut short waits for the rest', (t) => {
  t.deepEqual(parse('20 02 ff 00', 5).errors, ['Invalid connack flags, bits 7-1 must be set to 0']);
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const packets: Packet[] = [];
  parser.on('packet', (p: Packet) => packets.push(p));
  const bytes = Buffer.from(hex('90 05 0001 00 01 87 d0 00'), 'hex');
  for (const b of bytes) parser.parse(Buffer.from([b]));
  t.deepEqual(packets.map((p) => p.cmd), ['suback', 'pingresp']);
});
