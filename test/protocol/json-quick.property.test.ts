// The JSON decoder judges garbage in a run without JSON.parse: its grammar check must agree with JSON.parse.
import test from 'ava';
import fc from 'fast-check';
import { isJsonText } from '../../gateway/src/protocol/json-quick.js';

const utf8 = new TextEncoder();

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

test('every JSON text JSON.stringify prints, compact or indented with tabs, passes', (t) => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (value, pretty) => {
      const text = pretty ? JSON.stringify(value, null, '\t') : JSON.stringify(value);
      t.true(isJsonText(utf8.encode(text)), text);
    }),
    { numRuns: 2000 },
  );
});

const jsonish = fc.constantFrom(...'[]{}",:\\/ \t\r\n0123456789+-.eEtrufalsnbu abcüAF\u0001'.split(''));

test('on JSON-like noise the grammar check says what JSON.parse says', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: jsonish, maxLength: 30 }), (text) => {
      t.is(isJsonText(utf8.encode(text)), parses(text), JSON.stringify(text));
    }),
    { numRuns: 20000 },
  );
});

test('on mutations of valid JSON the grammar check says what JSON.parse says', (t) => {
  fc.assert(
    fc.property(
      fc.jsonValue({ maxDepth: 3 }),
      fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constant(''), fc.string({ unit: jsonish, maxLength: 3 }))), { minLength: 1, maxLength: 4 }),
      (value, edits) => {
        let text = JSON.stringify(value);
        for (const [pos, insert] of edits) {
          const i = pos % (text.length + 1);
          text = insert === '' ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + insert + text.slice(i);
        }
        t.is(isJsonText(utf8.encode(text)), parses(text), JSON.stringify(text));
      },
    ),
    { numRuns: 5000 },
  );
});
