// The canonical event object and lossless JSON <-> PB conversion.
import test from 'ava';
import fc from 'fast-check';
import { canonicalize, decodeFrame, encodeFrame, topicLevelFault } from '../../gateway/src/protocol/index.js';
import { EVENT_KINDS } from '../../gateway/src/protocol/schema.js';

const json = (v: unknown): string => JSON.stringify(v);

test('drifted types take the schema type when they read as it without loss', (t) => {
  const data = canonicalize('spot', 'create', { spot_id: '201', online: 'false', version: 231, rfid_swr: ['1.5', 2], time: 1772352000000 });
  t.is(json(data), json({ spot_id: 201, version: '231', online: false, rfid_swr: [1.5, 2], time: '2026-03-01T08:00:00.000Z' }));
});

test('values that do not read as their type stay as sent, after the schema fields', (t) => {
  const data = canonicalize('presence', 'create', { proximity: 'NEAR', item_code: 'ab', hold_delay_s: -1, time_last: '2026-02-30T00:00:00Z', x: 1 });
  t.is(json(data), json({ item_code: 'ab', proximity: 'NEAR', hold_delay_s: -1, time_last: '2026-02-30T00:00:00Z', x: 1 }));
});

test('integer text must be plain decimal and in range for its field', (t) => {
  const data = canonicalize('test_ping', 'create', { id: '007' });
  t.is(data['id'], '007');
  t.is(canonicalize('test_ping', 'create', { id: '4294967296' })['id'], '4294967296');
  t.is(canonicalize('test_ping', 'create', { id: '4294967295' })['id'], 4294967295);
  t.is(canonicalize('test_ping', 'create', { id: 1.5 })['id'], 1.5);
});

test('times become UTC with milliseconds; zones are applied; more than ms precision is kept as sent', (t) => {
  const c = (time: unknown): unknown => canonicalize('sense', 'update', { time })['time'];
  t.is(c('2026-03-01T10:00:00+02:00'), '2026-03-01T08:00:00.000Z');
  t.is(c('2026-03-01T08:00:00.5Z'), '2026-03-01T08:00:00.500Z');
  t.is(c('2026-03-01T08:00:00.123456Z'), '2026-03-01T08:00:00.123456Z');
  t.is(c('2026-03-01 08:00:00Z'), '2026-03-01 08:00:00Z');
  t.is(c(-1), '1969-12-31T23:59:59.999Z');
  t.is(c(1e16), 1e16);
  t.is(c('10000-01-01T00:00:00Z'), '10000-01-01T00:00:00Z');
});

test('the key __proto__, -0 and strings without a UTF-8 form survive JSON -> PB -> JSON', (t) => {
  const data = JSON.parse('{"__proto__":{"a":-0},"text":"\\ud800","code":-0}') as Record<string, unknown>;
  const canonical = canonicalize('log', 'create', data);
  t.true(Object.prototype.hasOwnProperty.call(canonical, '__proto__'));
  t.is(json(canonical), '{"code":0,"__proto__":{"a":0},"text":"\\ud800"}');
  const back = decodeFrame(encodeFrame({ resource: 'log', action: 'create', data }));
  t.true(back.ok);
  if (back.ok) t.is(json(back.event.data), json(canonical));
});

test('an empty list has no PB form and travels in extra_json', (t) => {
  const data = { added: [], removed: ['x'] };
  const back = decodeFrame(encodeFrame({ resource: 'item_set', action: 'update', data }));
  t.true(back.ok && json(back.event.data) === json({ removed: ['x'], added: [] }));
});

const schemaKeys = [...new Set(EVENT_KINDS.flatMap((k) => k.message.fields.map((f) => f.jsonKey)))];
const oddValues = fc.oneof(
  fc.constantFrom(-0, '\ud800', 'true', 'false', '12', '-5', '1.5', 'near', 'EPC Gen2', 'Bluetooth LE', '2026-03-01T08:00:00Z', 2 ** 53 - 1, -(2 ** 31), 2 ** 32, null, [], {}),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string()), { maxLength: 3 }),
);
const eventObject = fc.dictionary(fc.oneof(fc.constantFrom(...schemaKeys, '__proto__', 'item_ref', 'extra_json'), fc.string({ unit: 'binary' })), oddValues, { maxKeys: 8 });
const kindOf = fc.oneof(
  fc.constantFrom(...EVENT_KINDS.map((k) => [k.resource, k.action] as const)),
  // Any names that can be MQTT topic levels; the others are refused at decoding (test/protocol/topic-level.test.ts).
  fc
    .tuple(fc.string({ minLength: 1, unit: 'binary-ascii' }), fc.string({ minLength: 1, unit: 'grapheme' }))
    .filter(([resource, action]) => topicLevelFault(resource) === null && topicLevelFault(action) === null),
);

test('JSON -> PB -> JSON returns the canonical object exactly, for any object of any kind', (t) => {
  fc.assert(
    fc.property(kindOf, eventObject, ([resource, action], data) => {
      const canonical = canonicalize(resource, action, data);
      t.is(json(canonicalize(resource, action, canonical)), json(canonical), 'canonical is a fixed point');
      const frame = encodeFrame({ resource, action, data });
      t.is(Buffer.from(encodeFrame({ resource, action, data: canonical })).toString('hex'), Buffer.from(frame).toString('hex'));
      const back = decodeFrame(frame);
      if (!back.ok) return t.fail(back.reason);
      t.is(back.event.resource, resource);
      t.is(back.event.action, action);
      t.is(json(back.event.data), json(canonical));
    }),
    { numRuns: 1000 },
  );
});

test('nesting is limited to 64 levels on every way in, so nothing downstream overflows its stack', async (t) => {
  const { createJsonDecoder, validateCommand } = await import('../../gateway/src/protocol/index.js');
  const nested = (levels: number): string => `${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}`;
  const decode = (levels: number) => {
    const d = createJsonDecoder({ maxMessageBytes: 1 << 20 });
    return [...d.push(new TextEncoder().encode(`["door","open",{"x":${nested(levels)}}]\n\n`)), ...d.end()][0];
  };
  const ok = decode(64);
  t.is(ok?.kind, 'event');
  if (ok?.kind === 'event') {
    for (const [resource, action] of [['door', 'open'], ['log', 'create']]) {
      const back = decodeFrame(encodeFrame({ resource: resource!, action: action!, data: ok.event.data }));
      t.true(back.ok && json(back.event.data) === json(ok.event.data), `${resource} ${action} at 64 levels`);
    }
  }
  const deep = decode(65);
  t.is(deep?.kind === 'rejected' && deep.rejected.reason, 'nested deeper than 64 levels');
  t.is(decode(100000)?.kind, 'rejected');
  const tooDeep = { x: JSON.parse(nested(65)) as unknown };
  t.deepEqual(decodeFrame(encodeFrame({ resource: 'door', action: 'open', data: tooDeep })), { ok: false, reason: 'malformed frame: generic event json nests deeper than 64 levels' });
  t.deepEqual(decodeFrame(encodeFrame({ resource: 'log', action: 'create', data: tooDeep })), { ok: false, reason: 'malformed frame: field extra_json nests deeper than 64 levels' });
  const command = validateCommand('config', 'update', { control_schema: JSON.parse(`{"a":${nested(70)}}`) });
  t.deepEqual(command, { ok: false, errors: [{ key: '', reason: 'command data nests deeper than 64 levels' }] });
});
