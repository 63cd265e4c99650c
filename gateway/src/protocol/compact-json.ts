// The event object's compact JSON text taken straight from the message, when the spot already
// sent it compact: re-serialising the parsed object (JSON.stringify) cost ~4 % of the gateway's
// CPU at one event per chunk. The scanner (json-decoder.ts) rules out every text that
// JSON.stringify(JSON.parse(text)) would change; this module checks the rest and cuts the slice.

/**
 * What the scanner saw outside strings in one message. `compact` stays true only when the text
 * is, byte for byte, what JSON.stringify would print for the parsed value: no whitespace between
 * tokens, no escape in any string, no number that prints differently (a fraction or exponent,
 * -0, 16 digits or more). `keys` counts colons, one per object key in the text.
 */
export interface ScanFacts {
  compact: boolean;
  keys: number;
}

/** Not a key count: a key JSON.stringify would print elsewhere than the text has it. */
const REORDERED = -1e9;

/**
 * Object keys in a parsed JSON value, nested ones included (JSON.parse merges a key given twice
 * into one). A key starting with a digit makes the count negative: integer-like keys come first
 * in a JavaScript object, so JSON.stringify would print them out of the text's order.
 */
function countKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (const v of value) n += countKeys(v);
    return n;
  }
  for (const k in value) {
    const c = k.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) return REORDERED;
    n += 1 + countKeys((value as Record<string, unknown>)[k]);
  }
  return n;
}

/**
 * The data's text in `["<resource>","<action>",<data>]`, or null when JSON.stringify(data) could
 * differ from it (then the caller serialises the parsed object). `text` parsed to that triple.
 */
export function compactDataText(text: string, resource: string, action: string, data: object, facts: ScanFacts): string | null {
  if (!facts.compact) return null;
  // Compact and without escapes, the message is exactly [ "r" , "a" , data ].
  const start = resource.length + action.length + 7;
  if (text.charCodeAt(start) !== 0x7b || text.charCodeAt(text.length - 1) !== 0x5d) return null;
  // A key given twice: JSON.parse keeps one, the text has both.
  if (countKeys(data) !== facts.keys) return null;
  return text.slice(start, text.length - 1);
}
