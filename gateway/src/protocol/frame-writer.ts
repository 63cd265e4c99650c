// JSON event -> PB Frame bytes, driven by the schema tables; optionally with the send-layer tricks.
import { splitObject, normalizeJsonValue } from './canonical.js';
import {
  eventKind,
  FRAME_BOOT_FIELD,
  FRAME_SEQ_FIELD,
  GENERIC_FRAME_TAG,
  GENERIC_MESSAGE,
  ITEM_TABLE_SIZE,
  TIMESTAMP_FIELD,
  varintBytes,
  type FieldSpec,
  type MessageSpec,
} from './schema.js';
import { unixMsFromIso } from './time.js';
import { Writer } from './wire.js';
import type { SpotEventBody } from './types.js';

/** What the sender of one stream remembers for the send-layer tricks. */
export interface SendState {
  previousTime: number;
  /** Item code -> its 1-based index in the stream's item table. */
  items: Map<string, number>;
}

export function newSendState(): SendState {
  return { previousTime: 0, items: new Map() };
}

export interface NumberedEvent extends SpotEventBody {
  boot?: number;
  seq?: number;
}

const BOOT_TAG = varintBytes(FRAME_BOOT_FIELD * 8);
const SEQ_TAG = varintBytes(FRAME_SEQ_FIELD * 8);

function writeScalar(w: Writer, field: FieldSpec, value: unknown): void {
  switch (field.kind) {
    case 'int32':
      w.int32(value as number);
      return;
    case 'enum':
      w.int32(field.enumNumbers!.get(value as string)!);
      return;
    case 'uint32':
    case 'uint64':
      w.varint(value as number);
      return;
    case 'bool':
      w.varint(value ? 1 : 0);
      return;
    case 'sint32':
      w.sint32(value as number);
      return;
    case 'sint64':
      w.sint64(field.isTime ? unixMsFromIso(value as string)! : (value as number));
      return;
    case 'double':
      w.double(value as number);
      return;
    case 'string':
      w.string(value as string);
      return;
  }
}

const packedScratch = new Writer();

function writeField(w: Writer, field: FieldSpec, value: unknown): void {
  if (field.isNestedJson) {
    w.bytes(field.tag);
    w.string(JSON.stringify(value));
    return;
  }
  if (!field.repeated) {
    w.bytes(field.tag);
    writeScalar(w, field, value);
    return;
  }
  const list = value as unknown[];
  if (field.kind === 'string') {
    for (const item of list) {
      w.bytes(field.tag);
      w.string(item as string);
    }
    return;
  }
  const packed = packedScratch.reset();
  for (const item of list) writeScalar(packed, field, item);
  w.bytes(field.tag);
  w.lengthDelimited(packed.buf.subarray(0, packed.pos));
}

/** Writes an event object as the fields of `spec`, in field-number order. */
function writeMessage(w: Writer, spec: MessageSpec, data: Record<string, unknown>, state: SendState | undefined): void {
  const { known, extra } = splitObject(spec, data);
  let itemRef = 0;
  if (state && spec.itemCode) {
    const code = known[spec.itemCode.position];
    if (typeof code === 'string') {
      const index = state.items.get(code);
      if (index !== undefined) itemRef = index;
      else if (state.items.size < ITEM_TABLE_SIZE) state.items.set(code, state.items.size + 1);
    }
  }
  for (const field of spec.all) {
    if (field.position >= 0) {
      const value = known[field.position];
      if (value === undefined || (itemRef && field === spec.itemCode)) continue;
      if (state && field.number === TIMESTAMP_FIELD) {
        const ms = unixMsFromIso(value as string)!;
        w.bytes(field.tag);
        w.sint64(ms - state.previousTime);
        state.previousTime = ms;
        continue;
      }
      writeField(w, field, value);
    } else if (field === spec.itemRef) {
      if (itemRef) {
        w.bytes(field.tag);
        w.varint(itemRef);
      }
    } else if (field === spec.extraJson && extra.length > 0) {
      w.bytes(field.tag);
      w.string(JSON.stringify(Object.fromEntries(extra)));
    }
  }
}

function writeGeneric(w: Writer, event: SpotEventBody): void {
  const [resource, action, json] = GENERIC_MESSAGE.all;
  // proto3 implicit-presence fields: empty strings are not written.
  if (event.resource) {
    w.bytes(resource!.tag);
    w.string(event.resource);
  }
  if (event.action) {
    w.bytes(action!.tag);
    w.string(event.action);
  }
  w.bytes(json!.tag);
  w.string(JSON.stringify(normalizeJsonValue(event.data)));
}

const inner = new Writer();

function checkNumbering(event: NumberedEvent): void {
  if (event.boot !== undefined && (!Number.isInteger(event.boot) || event.boot < 0 || event.boot > 0xffffffff)) {
    throw new RangeError(`boot ${event.boot} is not a uint32`);
  }
  if (event.seq !== undefined && (!Number.isSafeInteger(event.seq) || event.seq < 0)) {
    throw new RangeError(`seq ${event.seq} is not a safe non-negative integer`);
  }
}

/**
 * Appends one Frame (no length prefix) to `w`. Throws RangeError for numbering out of range
 * or values JSON.stringify cannot write; the send state is then left as it was, so the
 * stream stays in step with its receiver.
 */
export function writeFrame(w: Writer, event: NumberedEvent, state?: SendState): void {
  checkNumbering(event);
  const kind = eventKind(event.resource, event.action);
  const body = inner.reset();
  const previousTime = state?.previousTime ?? 0;
  const knownItems = state?.items.size ?? 0;
  try {
    if (kind) writeMessage(body, kind.message, event.data, state);
    else writeGeneric(body, event);
  } catch (err) {
    if (state) {
      state.previousTime = previousTime;
      // At most one code was added, last (a Map keeps insertion order).
      if (state.items.size > knownItems) state.items.delete([...state.items.keys()].pop()!);
    }
    throw err;
  }
  w.bytes(kind ? kind.frameTag : GENERIC_FRAME_TAG);
  w.lengthDelimited(body.buf.subarray(0, body.pos));
  if (event.boot !== undefined) {
    w.bytes(BOOT_TAG);
    w.varint(event.boot);
  }
  if (event.seq !== undefined) {
    w.bytes(SEQ_TAG);
    w.varint(event.seq);
  }
}

const frameWriter = new Writer(1024);

/** One Frame, no length prefix, no send-layer tricks: what MQTT `from/<serial>/pb` carries. */
export function encodeFrame(event: NumberedEvent): Uint8Array {
  const w = frameWriter.reset();
  writeFrame(w, event);
  return w.finish();
}
