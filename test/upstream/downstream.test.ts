import test from 'ava';
import { MAX_COMMAND_BYTES, parseCommandMessage } from '../../gateway/src/upstream/downstream.js';
import { Topics } from '../../gateway/src/upstream/topics.js';

const topics = new Topics('');
const bytes = (s: string) => new TextEncoder().encode(s);

test('a JSON command becomes {spot, resource, action, data}', (t) => {
  const parsed = parseCommandMessage(topics, 'to/4711/json/config/update', bytes('{"brain_address":"10.0.0.2"}'), undefined);
  t.deepEqual(parsed, {
    ok: true,
    value: { spot: '4711', resource: 'config', action: 'update', data: { brain_address: '10.0.0.2' }, encoding: 'json' },
  });
});

test('bad payloads are refused with a reason naming the topic', (t) => {
  const cases: Array<[Uint8Array, RegExp]> = [
    [bytes('{"a":'), /payload is not JSON/],
    [bytes('[1,2]'), /not a JSON object/],
    [bytes('null'), /not a JSON object/],
    [bytes('"x"'), /not a JSON object/],
    [new Uint8Array([0x7b, 0xff, 0x7d]), /not UTF-8/],
    [new Uint8Array(MAX_COMMAND_BYTES + 1).fill(0x20), /over 65536 bytes/],
  ];
  for (const [payload, reason] of cases) {
    const parsed = parseCommandMessage(topics, 'to/4711/json/config/update', payload, undefined);
    t.false(parsed.ok);
    if (!parsed.ok) {
      t.regex(parsed.reason, reason);
      t.true(parsed.reason.startsWith('to/4711/json/config/update: '));
    }
  }
});

test('a PB command needs the decoder, and carries its bytes', (t) => {
  const frame = new Uint8Array([0x22, 0x00]);
  const none = parseCommandMessage(topics, 'to/4711/pb', frame, undefined);
  t.false(none.ok);
  if (!none.ok) t.regex(none.reason, /no PB decoder/);
  const ok = parseCommandMessage(topics, 'to/4711/pb', frame, () => ({
    ok: true,
    value: { resource: 'config', action: 'update', data: { reset: true } },
  }));
  t.deepEqual(ok, {
    ok: true,
    value: { spot: '4711', resource: 'config', action: 'update', data: { reset: true }, encoding: 'pb', pb: frame },
  });
  const refused = parseCommandMessage(topics, 'to/4711/pb', frame, () => ({ ok: false, reason: 'truncated frame' }));
  t.deepEqual(refused, { ok: false, reason: 'to/4711/pb: truncated frame' });
  const throws = parseCommandMessage(topics, 'to/4711/pb', frame, () => {
    throw new Error('boom');
  });
  t.deepEqual(throws, { ok: false, reason: 'to/4711/pb: boom' });
});

test('a bad topic is refused before the payload is looked at', (t) => {
  const parsed = parseCommandMessage(topics, 'to/x/json/config/update', bytes('{}'), undefined);
  t.false(parsed.ok);
  if (!parsed.ok) t.regex(parsed.reason, /serial "x"/);
});
