// Cheap judgements for the JSON decoder's garbage path: a stream of junk fails one per message.

/** JSON.parse whose SyntaxError skips the stack trace (capturing it cost more than the parse). */
export function parseQuietly(text: string): unknown {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return JSON.parse(text);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** True when the message text cannot be an event: it does not start `[`, whitespace, `"`, or does not end `]`. */
export function cannotBeEvent(msg: { keptLength: number; byteAt(i: number): number }): boolean {
  const n = msg.keptLength;
  if (n < 12 || msg.byteAt(0) !== 0x5b || msg.byteAt(n - 1) !== 0x5d) return true;
  let i = 1;
  let b = msg.byteAt(i);
  while (i < n - 1 && (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d)) b = msg.byteAt(++i);
  return b !== 0x22;
}

// A JSON grammar check on bytes that never throws: JSON.parse's SyntaxError cost ~5 us a message.
const NO_TEXT = new Uint8Array(0);
let text: Uint8Array = NO_TEXT;
let at = 0;

function skipWhitespace(): void {
  for (let c = text[at]; c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text[++at]);
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined): boolean => c !== undefined && (isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
/** The escapes JSON allows after a backslash besides u: " \ / b f n r t. */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function stringValue(): boolean {
  at++;
  while (at < text.length) {
    const c = text[at++]!;
    if (c === 0x22) return true;
    if (c < 0x20) return false;
    if (c !== 0x5c) continue;
    const e = text[at++];
    if (e === 0x75) {
      if (!(isHex(text[at]) && isHex(text[at + 1]) && isHex(text[at + 2]) && isHex(text[at + 3]))) return false;
      at += 4;
    } else if (e === undefined || !SIMPLE_ESCAPES.has(e)) {
      return false;
    }
  }
  return false;
}

function numberValue(): boolean {
  if (text[at] === 0x2d) at++;
  if (text[at] === 0x30) at++;
  else if (isDigit(text[at])) while (isDigit(text[at])) at++;
  else return false;
  if (text[at] === 0x2e) {
    at++;
    if (!isDigit(text[at])) return false;
    while (isDigit(text[at])) at++;
  }
  if (text[at] === 0x65 || text[at] === 0x45) {
    at++;
    if (text[at] === 0x2b || text[at] === 0x2d) at++;
    if (!isDigit(text[at])) return false;
    while (isDigit(text[at])) at++;
  }
  return true;
}

function literal(word: string): boolean {
  for (let i = 0; i < word.length; i++) if (text[at + i] !== word.charCodeAt(i)) return false;
  at += word.length;
  return true;
}

/** Nesting past this many levels is not checked: isJsonText cannot tell, and says true. */
const DEPTH_LIMIT = 80;
let depth = 0;
let tooDeep = false;

/** Members of an array (close 0x5d) or object (close 0x7d) after its opening byte. */
function members(close: number): boolean {
  if (depth >= DEPTH_LIMIT) {
    tooDeep = true;
    return false;
  }
  depth++;
  const ok = membersOf(close);
  depth--;
  return ok;
}

function membersOf(close: number): boolean {
  at++;
  skipWhitespace();
  if (text[at] === close) {
    at++;
    return true;
  }
  for (;;) {
    if (close === 0x7d) {
      skipWhitespace();
      if (text[at] !== 0x22 || !stringValue()) return false;
      skipWhitespace();
      if (text[at++] !== 0x3a) return false;
    }
    if (!jsonValue()) return false;
    skipWhitespace();
    const c = text[at++];
    if (c === close) return true;
    if (c !== 0x2c) return false;
  }
}

function jsonValue(): boolean {
  skipWhitespace();
  const c = text[at];
  if (c === 0x5b) return members(0x5d);
  if (c === 0x7b) return members(0x7d);
  if (c === 0x22) return stringValue();
  if (c === 0x2d || isDigit(c)) return numberValue();
  if (c === 0x74) return literal('true');
  if (c === 0x66) return literal('false');
  if (c === 0x6e) return literal('null');
  return false;
}

/**
 * False only when JSON.parse would throw on the text of these bytes (the bytes being valid
 * UTF-8). True when it cannot tell: text nesting deeper than DEPTH_LIMIT levels.
 */
export function isJsonText(bytes: Uint8Array): boolean {
  text = bytes;
  at = 0;
  depth = 0;
  tooDeep = false;
  const ok = jsonValue();
  skipWhitespace();
  text = NO_TEXT;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- jsonValue() sets tooDeep
  return tooDeep || (ok && at === bytes.length);
}
