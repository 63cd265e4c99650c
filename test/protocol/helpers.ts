// Shared by the protocol tests: decoding whole streams or in pieces, and summaries to compare.
import type { DecodedItem, StreamDecoder } from '../../gateway/src/protocol/index.js';

export { concatBytes as concat } from '../../gateway/src/protocol/index.js';

/** Feeds `bytes` cut at the given positions (each piece a fresh copy), then ends the stream. */
export function decodeInPieces(decoder: StreamDecoder, bytes: Uint8Array, cuts: number[] = []): DecodedItem[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: DecodedItem[] = [];
  let from = 0;
  for (const cut of [...points, bytes.length]) {
    out.push(...decoder.push(bytes.slice(from, cut)));
    from = cut;
  }
  out.push(...decoder.end());
  return out;
}

/** A comparable text for each item (events: kind, position, object; rejects: position, reason). */
export function summary(items: DecodedItem[]): string[] {
  return items.map((item) =>
    item.kind === 'event'
      ? `event #${item.event.index} @${item.event.offset} ${item.event.resource} ${item.event.action} ${JSON.stringify(item.event.data)}` +
        (item.event.boot !== undefined ? ` boot=${item.event.boot}` : '') +
        (item.event.seq !== undefined ? ` seq=${item.event.seq}` : '') +
        (item.event.pb ? ` pb=${Buffer.from(item.event.pb).toString('hex')}` : '')
      : `rejected #${item.rejected.index} @${item.rejected.offset} +${item.rejected.length} ${item.rejected.reason} raw=${Buffer.from(item.rejected.raw).toString('hex')}`,
  );
}

/** The plan with each run of bad entries in a row as one entry: what a decoder reports for it. */
export function runsOf<T>(plan: T[], isBad: (p: T) => boolean): { first: T; messages: number }[] {
  const out: { first: T; messages: number }[] = [];
  plan.forEach((p, i) => {
    if (isBad(p) && i > 0 && isBad(plan[i - 1]!)) out[out.length - 1]!.messages++;
    else out.push({ first: p, messages: 1 });
  });
  return out;
}

/** Invariants every decoder output keeps, whatever the input: returns what is violated. */
export function invariantViolations(items: DecodedItem[], streamLength: number): string[] {
  const problems: string[] = [];
  let lastOffset = -1;
  let nextIndex = 0;
  items.forEach((item, i) => {
    const at = item.kind === 'event' ? item.event : item.rejected;
    if (at.index !== nextIndex) problems.push(`item ${i} has index ${at.index}, expected ${nextIndex}`);
    nextIndex += item.kind === 'event' ? 1 : item.rejected.messages;
    if (item.kind === 'rejected' && items[i - 1]?.kind === 'rejected') problems.push(`item ${i}: two rejects in a row (a run is one reject)`);
    if (item.kind === 'rejected' && !(item.rejected.messages >= 1)) problems.push(`item ${i} stands for ${item.rejected.messages} messages`);
    if (at.offset < lastOffset) problems.push(`item ${i} offset ${at.offset} before ${lastOffset}`);
    if (at.offset < 0 || at.offset >= streamLength) problems.push(`item ${i} offset ${at.offset} outside the stream`);
    lastOffset = at.offset;
    if (item.kind === 'rejected') {
      if (item.rejected.raw.length > 1024) problems.push(`item ${i} raw of ${item.rejected.raw.length} bytes`);
      if (item.rejected.reason.length === 0) problems.push(`item ${i} without reason`);
      if (item.rejected.length < 0 || item.rejected.offset + item.rejected.length > streamLength) {
        problems.push(`item ${i} length ${item.rejected.length} past the stream`);
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- checks the decoder's output at run time, whatever its type says
    } else if (typeof item.event.data !== 'object' || item.event.data === null) {
      problems.push(`item ${i} without object`);
    }
  });
  return problems;
}
