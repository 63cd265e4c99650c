// JSON spot-protocol encoder: compact triple, then an empty line.
import type { SpotEventBody, StreamEncoder } from './types.js';

const utf8 = new TextEncoder();

/** One event as the vendor frames it: `[resource,action,{...}]` + "\n\n". */
export function encodeJsonEvent(event: SpotEventBody): Uint8Array {
  return utf8.encode(`${JSON.stringify([event.resource, event.action, event.data])}\n\n`);
}

/** JSON streams carry no per-stream state; numbering is not part of the JSON text. */
export function createJsonEncoder(): StreamEncoder {
  return { encode: (event) => encodeJsonEvent(event) };
}
