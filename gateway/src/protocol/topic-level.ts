// Which strings can be one level of an MQTT topic: the rule shared by ingest, config and the forwarder.

/**
 * Longest resource or action in UTF-8 bytes. With the prefix (1024) and the gateway id (256) bounded at
 * config load, every topic stays far below MQTT's 65535 bytes; real names are a word or two.
 */
export const MAX_TOPIC_LEVEL_BYTES = 256;

/** Longest topic prefix (all its levels) in UTF-8 bytes. */
export const MAX_TOPIC_PREFIX_BYTES = 1024;

function codePointName(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why code point `cp` cannot be in a topic, or null; MQTT 5 section 1.5.4 lets a receiver close the connection for these. */
function codePointFault(cp: number): string | null {
  if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return `holds ${codePointName(cp)}, a control character MQTT brokers refuse in a topic`;
  if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) {
    return `holds ${codePointName(cp)}, a Unicode noncharacter MQTT brokers refuse in a topic`;
  }
  if (cp >= 0xd800 && cp <= 0xdfff) return `holds ${codePointName(cp)}, an unpaired surrogate, which has no UTF-8 form`;
  return null;
}

/**
 * Why `text` cannot be one level of an MQTT topic, or null when it can. Refused: empty, `/`, `+`, `#`,
 * unpaired surrogates, C0 and C1 controls, DEL, Unicode noncharacters, more than `maxBytes` UTF-8 bytes.
 * The reason reads after the field's name: `resource holds U+0001, a control character ...`.
 */
export function topicLevelFault(text: string, maxBytes = MAX_TOPIC_LEVEL_BYTES): string | null {
  if (text.length === 0) return 'is empty';
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Printable ASCII other than / + # is the common case: one comparison chain, no code point work.
    if (c >= 0x20 && c < 0x7f) {
      if (c === 0x2f) return 'holds "/", the MQTT topic level separator';
      if (c === 0x2b || c === 0x23) return `holds "${String.fromCharCode(c)}", an MQTT wildcard`;
      bytes += 1;
      continue;
    }
    let cp = c;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    const fault = codePointFault(cp);
    if (fault !== null) return fault;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  if (bytes > maxBytes) return `is ${bytes} bytes long, over the ${maxBytes} a topic level may take here`;
  return null;
}

/** Why `prefix` (levels joined by `/`, a trailing `/` ignored, '' for none) cannot start every topic, or null. */
export function topicPrefixFault(prefix: string): string | null {
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (trimmed === '') return null;
  for (const level of trimmed.split('/')) {
    const fault = topicLevelFault(level, Infinity);
    if (fault !== null) return `level ${JSON.stringify(level.slice(0, 40))} ${fault}`;
  }
  const bytes = new TextEncoder().encode(trimmed).length;
  if (bytes > MAX_TOPIC_PREFIX_BYTES) return `is ${bytes} bytes long, over the ${MAX_TOPIC_PREFIX_BYTES} a topic prefix may take`;
  return null;
}
