// PB Frame bytes -> event in its canonical JSON form, table-driven; optionally undoing the tricks.
import { setOwn } from './canonical.js';
import {
  eventKindByFrameField,
  FRAME_BOOT_FIELD,
  FRAME_SEQ_FIELD,
  GENERIC_FRAME_FIELD,
  ITEM_TABLE_SIZE,
  TIMESTAMP_FIELD,
  type FieldSpec,
  type MessageSpec,
} from './schema.js';
import { isoFromUnixMs } from './time.js';
import { MAX_JSON_DEPTH, textNestsDeeper } from './json-depth.js';
import { topicLevelFault } from './topic-level.js';
import { untrickedBytes, type Splice } from './untricked-bytes.js';
import { Reader, ValueError, WireError, copyBytes } from './wire.js';
import { parseQuietly } from './json-quick.js';
import { fail, failed, failure } from './frame-failure.js';

/** What the receiver of one stream remembers to undo the send-layer tricks. */
export interface ReceiveState {
  previousTime: number;
  /** The stream's item table: code text and its `item_code` field bytes (tag, length, text). */
  codes: string[];
  codeFields: Uint8Array[];
  known: Set<string>;
}

export function newReceiveState(): ReceiveState {
  return { previousTime: 0, codes: [], codeFields: [], known: new Set() };
}

export interface FrameContent {
  resource: string;
  action: string;
  data: Record<string, unknown>;
  boot?: number;
  seq?: number;
}


function valueOf(r: Reader, field: FieldSpec): unknown {
  switch (field.kind) {
    case 'int32':
      r.varint();
      return r.lo | 0;
    case 'uint32':
      r.varint();
      return r.lo;
    case 'sint32':
      r.varint();
      return (r.lo >>> 1) ^ -(r.lo & 1);
    case 'uint64':
      return r.uint();
    case 'sint64': {
      const n = r.sint64();
      return field.isTime ? (isoFromUnixMs(n) ?? n) : n;
    }
    case 'bool':
      r.varint();
      return r.lo !== 0 || r.hi !== 0;
    case 'enum': {
      r.varint();
      const n = r.lo | 0;
      return field.enumNames!.get(n) ?? n;
    }
    case 'double': {
      const d = r.double();
      return Number.isFinite(d) ? d : String(d);
    }
    case 'string':
      return r.string();
  }
}

/** JSON text of a field (undefined: failed); `maxDepth`: levels the text may nest so the event stays within MAX_JSON_DEPTH. */
function parseJson(text: string, field: FieldSpec, maxDepth: number): unknown {
  if (!textNestsDeeper(text, maxDepth)) {
    try {
      return parseQuietly(text);
    } catch {
      fail(`field ${field.name} does not hold valid JSON`);
      return undefined;
    }
  }
  fail(`field ${field.name} nests deeper than ${MAX_JSON_DEPTH} levels`);
  return undefined;
}

type ObjectBuilder = (values: unknown[]) => Record<string, unknown>;
/** By MessageSpec.id: the message's object builder, and the field values of the frame being read. */
const builders: ObjectBuilder[] = [];
const scratchValues: unknown[][] = [];

/**
 * A function that builds the JSON object from field values in field-number order. Generated
 * once per message from the schema tables: stores to literal keys are much faster than keyed
 * stores in a loop, and this runs for every decoded event.
 */
function objectBuilder(spec: MessageSpec): ObjectBuilder {
  let build = builders[spec.id];
  if (build) return build;
  const lines = spec.fields.map(
    (f, i) => `if (v[${i}] !== undefined) o[${JSON.stringify(f.jsonKey)}] = v[${i}];`,
  );
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a builder compiled per message type from its own field list, no outside text
  build = new Function('v', `const o = {};\n${lines.join('\n')}\nreturn o;`) as ObjectBuilder;
  builders[spec.id] = build;
  return build;
}

/** The message's values array, emptied: one frame is read at a time, so it is reused. */
function emptyValues(spec: MessageSpec): unknown[] {
  let values = scratchValues[spec.id];
  if (values === undefined) {
    values = new Array<unknown>(spec.fields.length).fill(undefined);
    scratchValues[spec.id] = values;
    return values;
  }
  for (let i = 0; i < values.length; i++) values[i] = undefined;
  return values;
}

/** Reads one repeated-field occurrence (packed or not) into `list`. */
function readRepeated(r: Reader, field: FieldSpec, wireType: number, list: unknown[]): void {
  if (field.kind !== 'string' && wireType === 2) {
    const valueEnd = r.delimitedEnd();
    const outerEnd = r.end;
    r.end = valueEnd;
    while (r.pos < valueEnd) list.push(valueOf(r, field));
    r.end = outerEnd;
    return;
  }
  list.push(valueOf(r, field));
}

function expectedWireType(field: FieldSpec): number {
  if (field.kind === 'string') return 2;
  return field.kind === 'double' ? 1 : 0;
}

/**
 * Reads the event message in r[pos..end) as `spec`. With `state`, field 9 is an offset and
 * item_ref a table index (both undone, positions recorded in `splice`).
 */
function readMessage(r: Reader, spec: MessageSpec, state: ReceiveState | undefined, splice: Splice): Record<string, unknown> | null {
  const out = readFields(r, spec, state, splice);
  currentField = undefined;
  return out;
}

/** The field readFields is reading when it throws: failureReason names it (not caught and thrown again here). */
let currentField: FieldSpec | undefined;

/** Why a frame could not be read, naming the field when the reader's own reason does not ("truncated varint"). */
export function failureReason(err: unknown): string {
  if (err instanceof ValueError && currentField) return `malformed frame: field ${currentField.name}: ${err.message}`;
  if (err instanceof WireError) return `malformed frame: ${err.message}`;
  return `decoder error: ${(err as Error).message}`;
}

function readFields(r: Reader, spec: MessageSpec, state: ReceiveState | undefined, splice: Splice): Record<string, unknown> | null {
  const values = emptyValues(spec);
  let extraText: string | undefined;
  let sawTime = false;
  let sawCode = false;
  while (r.pos < r.end) {
    const fieldStart = r.pos;
    currentField = undefined;
    r.varint();
    const tag = r.lo;
    if (r.hi !== 0) return fail('field number out of range');
    const number = tag >>> 3;
    const wireType = tag & 7;
    const field = spec.byNumber[number];
    currentField = field;
    if (field === undefined) {
      r.skip(wireType);
      continue;
    }
    if (field.repeated) {
      if (wireType !== 2 && wireType !== expectedWireType(field)) {
        return fail(`field ${field.name}: wire type ${wireType}, expected ${field.wireType}`);
      }
      const list = (values[field.position] as unknown[] | undefined) ?? [];
      readRepeated(r, field, wireType, list);
      values[field.position] = list;
      continue;
    }
    if (wireType !== field.wireType) return fail(`field ${field.name}: wire type ${wireType}, expected ${field.wireType}`);
    if (field === spec.extraJson) {
      extraText = r.string();
    } else if (field === spec.itemRef) {
      const ref = r.uint();
      if (!state) return fail('item_ref outside a stream');
      const code = state.codes[ref - 1];
      if (code === undefined) return fail(`unknown item reference ${ref}`);
      if (splice.refStart >= 0) return fail('item_ref appears twice');
      if (sawCode) return fail('both item_code and item_ref');
      splice.refStart = fieldStart;
      splice.refEnd = r.pos;
      splice.ref = ref;
      values[spec.itemCode!.position] = code;
    } else if (field.number === TIMESTAMP_FIELD && field.isTime) {
      if (sawTime) return fail(`field ${field.name} appears twice`);
      sawTime = true;
      let ms = r.sint64();
      if (state) {
        splice.timeOffset = ms;
        ms += state.previousTime;
        state.previousTime = ms;
        splice.timeStart = fieldStart;
        splice.timeEnd = r.pos;
        splice.time = ms;
      }
      values[field.position] = isoFromUnixMs(ms) ?? ms;
    } else if (field.isNestedJson) {
      const value = parseJson(r.string(), field, MAX_JSON_DEPTH - 1);
      if (value === undefined) return null;
      values[field.position] = value;
    } else {
      values[field.position] = valueOf(r, field);
      if (state && field === spec.itemCode) {
        if (splice.refStart >= 0) return fail('both item_code and item_ref');
        sawCode = true;
        const code = values[field.position] as string;
        if (state.codes.length < ITEM_TABLE_SIZE && !state.known.has(code)) {
          state.codes.push(code);
          state.known.add(code);
          state.codeFields.push(copyBytes(r.buf, fieldStart, r.pos));
        }
      }
    }
  }
  const out = objectBuilder(spec)(values);
  if (extraText !== undefined) {
    const extra = parseJson(extraText, spec.extraJson!, MAX_JSON_DEPTH);
    if (extra === undefined) return null;
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
      return fail('extra_json is not a JSON object');
    }
    for (const key of Object.keys(extra)) {
      if (!Object.prototype.hasOwnProperty.call(out, key)) setOwn(out, key, (extra as Record<string, unknown>)[key]);
    }
  }
  return out;
}

function readGeneric(r: Reader, into: FrameRecord): boolean {
  let resource = '';
  let action = '';
  let json = '';
  while (r.pos < r.end) {
    r.varint();
    const number = r.lo >>> 3;
    const wireType = r.lo & 7;
    if (number >= 1 && number <= 3 && wireType === 2) {
      const s = r.string();
      if (number === 1) resource = s;
      else if (number === 2) action = s;
      else json = s;
    } else {
      r.skip(wireType);
    }
  }
  if (!resource || !action) return failed('generic event without resource or action');
  // Resource and action become MQTT topic levels: refused here rather than by the broker, forever.
  const resourceFault = topicLevelFault(resource);
  if (resourceFault !== null) return failed(`resource ${resourceFault}`);
  const actionFault = topicLevelFault(action);
  if (actionFault !== null) return failed(`action ${actionFault}`);
  if (textNestsDeeper(json, MAX_JSON_DEPTH)) return failed(`generic event json nests deeper than ${MAX_JSON_DEPTH} levels`);
  let data: unknown;
  try {
    data = parseQuietly(json);
  } catch {
    return failed('generic event json is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return failed('generic event json is not an object');
  into.resource = resource;
  into.action = action;
  into.data = data as Record<string, unknown>;
  return true;
}

// One frame is read at a time: the readers and the splice record are reused.
const frameReader = new Reader(new Uint8Array(0), 0, 0);
const innerReader = new Reader(new Uint8Array(0), 0, 0);
const splice: Splice = { bodyStart: -1, lengthStart: 0, innerStart: 0, innerEnd: 0, timeStart: -1, timeEnd: 0, time: 0, timeOffset: 0, refStart: -1, refEnd: 0, ref: 0 };

function resetSplice(): void {
  splice.bodyStart = -1;
  splice.timeStart = -1;
  splice.refStart = -1;
  splice.timeOffset = 0;
  splice.time = 0;
}

export interface ReadFrameResult extends FrameContent {
  /** The frame bytes with the tricks undone (a copy); only when reading with a state. */
  pb?: Uint8Array;
}

/** A frame's content as readFrameInto leaves it: every key always set, so one object shape. */
export interface FrameRecord {
  resource: string;
  action: string;
  data: Record<string, unknown>;
  boot: number | undefined;
  seq: number | undefined;
  /** The frame bytes with the tricks undone (a copy); only when reading with a state. */
  pb: Uint8Array | undefined;
}

export function newFrameRecord(): FrameRecord {
  return { resource: '', action: '', data: {}, boot: undefined, seq: undefined, pb: undefined };
}

/**
 * Reads the Frame in buf[start..end) into `into` (a stream decoder reuses one record rather
 * than allocate a result per frame). Returns false when it is malformed (lastFailure() says
 * why); throws ValueError (failureReason() names the field) when a value cannot be read.
 */
export function readFrameInto(buf: Uint8Array, start: number, end: number, state: ReceiveState | undefined, into: FrameRecord): boolean {
  const r = frameReader.reset(buf, start, end);
  currentField = undefined;
  resetSplice();
  let found = false;
  let boot: number | undefined;
  let seq: number | undefined;
  while (r.pos < end) {
    const fieldStart = r.pos;
    r.varint();
    if (r.hi !== 0) return failed('field number out of range');
    const number = r.lo >>> 3;
    const wireType = r.lo & 7;
    if (number === FRAME_BOOT_FIELD && wireType === 0) {
      r.varint();
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- r.varint() sets r.hi: not the value checked above
      if (r.hi !== 0) return failed('boot over 32 bits');
      boot = r.lo;
      continue;
    }
    if (number === FRAME_SEQ_FIELD && wireType === 0) {
      r.varint();
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- r.varint() sets r.hi: not the value checked above
      if (r.hi >= 0x200000) return failed('seq over 2^53');
      seq = r.hi * 4294967296 + r.lo;
      continue;
    }
    const kind = wireType === 2 ? eventKindByFrameField(number) : undefined;
    if (kind === undefined && !(number === GENERIC_FRAME_FIELD && wireType === 2)) {
      r.skip(wireType);
      continue;
    }
    if (found) return failed('more than one event in a frame');
    found = true;
    splice.bodyStart = fieldStart;
    splice.lengthStart = r.pos;
    const innerEnd = r.delimitedEnd();
    splice.innerStart = r.pos;
    splice.innerEnd = innerEnd;
    const inner = innerReader.reset(buf, r.pos, innerEnd);
    if (kind) {
      into.resource = kind.resource;
      into.action = kind.action;
      const data = readMessage(inner, kind.message, state, splice);
      if (data === null) return false;
      into.data = data;
    } else if (!readGeneric(inner, into)) {
      return false;
    }
    r.pos = innerEnd;
  }
  if (!found) return failed('frame holds no event');
  into.boot = boot;
  into.seq = seq;
  into.pb = state ? untrickedBytes(buf, start, end, splice, splice.refStart >= 0 ? state.codeFields[splice.ref - 1] : undefined) : undefined;
  return true;
}

const record = newFrameRecord();

/** Reads the Frame in buf[start..end). Throws WireError with the reason when malformed. */
export function readFrame(buf: Uint8Array, start: number, end: number, state?: ReceiveState): ReadFrameResult {
  if (!readFrameInto(buf, start, end, state, record)) throw new WireError(failure());
  const result: ReadFrameResult = { resource: record.resource, action: record.action, data: record.data };
  if (record.boot !== undefined) result.boot = record.boot;
  if (record.seq !== undefined) result.seq = record.seq;
  if (record.pb !== undefined) result.pb = record.pb;
  return result;
}
