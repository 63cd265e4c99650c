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
export function cannotBeEvent(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n < 12 || bytes[0] !== 0x5b || bytes[n - 1] !== 0x5d) return true;
  let i = 1;
  while (i < n && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i] !== 0x22;
}
